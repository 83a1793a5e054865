package api

import (
	"cmp"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/logql"
)

// FieldsAnswer is the answer of /fields: the registry (pkg/field) as the
// UI needs it.
type FieldsAnswer struct {
	Fields    []FieldInfo  `json:"fields"`
	Sources   []SourceInfo `json:"sources"`
	Groupings []Grouping   `json:"groupings"`
}

// FieldInfo is one field.
type FieldInfo struct {
	Name        string         `json:"name"`
	Type        field.Type     `json:"type"`
	Role        field.Role     `json:"role"`
	Description string         `json:"description"`
	Sources     []field.Source `json:"sources"`
	Filterable  bool           `json:"filterable"`
}

// SourceInfo is one data source.
type SourceInfo struct {
	Name  field.Source `json:"name"`
	Title string       `json:"title"`
}

// Grouping is a hierarchy /groups takes as by.
type Grouping struct {
	Name string   `json:"name"`
	By   []string `json:"by"`
}

var fieldsJSON = func() rawJSON {
	var ans FieldsAnswer
	for _, f := range field.All() {
		ans.Fields = append(ans.Fields, FieldInfo{f.Name, f.Type, f.Role, f.Description, f.Sources, f.Filterable()})
	}
	for _, s := range field.Sources {
		ans.Sources = append(ans.Sources, SourceInfo{s, field.SourceTitle(s)})
	}
	ans.Groupings = []Grouping{{"workload", logql.ByWorkload}, {"container", logql.ByContainer}}
	b, err := json.Marshal(ans)
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}()

// fields answers GET /fields.
func (a *API) fields(context.Context, *http.Request) (any, error) { return fieldsJSON, nil }

// Limits of /values.
const (
	DefaultValues = 20
	MaxValues     = 100
)

// ValuesAnswer is the answer of /values/{field}.
type ValuesAnswer struct {
	Field  string  `json:"field"`
	Values []Value `json:"values"`
}

// Value is one value of a field with how many records in scope have it.
type Value struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
	// Term is the filter term that selects it (the + button's).
	Term string `json:"term"`
}

// values lists a field's most frequent values within the scope and range,
// for autocompletion:
//
//	GET /values/{field}?from&to&sources&filter&limit=20&prefix=
//
// prefix keeps the values that start with it (compared in Loki, escaped).
func (a *API) values(ctx context.Context, r *http.Request) (any, error) {
	p, err := a.readParams(r, time.Hour)
	if err != nil {
		return nil, err
	}
	name := r.PathValue("field")
	if f, ok := field.Lookup(name); !ok || !f.Filterable() {
		if s := field.Closest(name); s != "" {
			return nil, notFound("unknown field %q; did you mean %q?", name, s)
		}
		return nil, notFound("unknown field %q", name)
	}
	n, err := intParam(r, "limit", DefaultValues, 1, MaxValues)
	if err != nil {
		return nil, err
	}
	scope := p.Scope
	if prefix := r.URL.Query().Get("prefix"); prefix != "" {
		if len(prefix) > filter.MaxValueLen {
			return nil, badParam("prefix", "longer than %d bytes", filter.MaxValueLen)
		}
		t := filter.Term{Field: name, Op: filter.Re, Value: regexp.QuoteMeta(prefix) + ".*", Offset: -1}
		scope.Filter = scope.Filter.And(filter.Filter{Terms: []filter.Term{t}})
	}
	// One more than asked: the records without the field are a value of their own.
	req, err := logql.Values(scope, name, n+1, p.From, p.To)
	if err != nil {
		return nil, err
	}
	req.Time = p.To.Add(-time.Nanosecond) // [from, to), as /groups
	samples, err := a.store.vector(ctx, req)
	if err != nil {
		return nil, err
	}
	ans := ValuesAnswer{Field: name, Values: []Value{}}
	for _, s := range samples {
		v := s.Metric[name]
		c := int64(math.Round(s.Value.Value))
		if v == "" || c <= 0 {
			continue // records without the field
		}
		ans.Values = append(ans.Values, Value{Value: v, Count: c, Term: filter.Term{Field: name, Op: filter.Eq, Value: v}.String()})
	}
	slices.SortFunc(ans.Values, func(x, y Value) int {
		if c := cmp.Compare(y.Count, x.Count); c != 0 {
			return c
		}
		return cmp.Compare(x.Value, y.Value)
	})
	if len(ans.Values) > n {
		ans.Values = ans.Values[:n]
	}
	return ans, nil
}
