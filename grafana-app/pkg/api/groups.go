package api

import (
	"cmp"
	"context"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
)

// MaxGroupDepth bounds the fields of one grouping.
const MaxGroupDepth = 4

// GroupsAnswer is the answer of /groups.
type GroupsAnswer struct {
	By     []string `json:"by"`
	Total  int64    `json:"total"`
	Groups []*Group `json:"groups"`
}

// Group is one node of the grouping tree.
type Group struct {
	Field string `json:"field"`
	// Value is "" for records without the field (host records have no
	// namespace).
	Value string `json:"value"`
	Count int64  `json:"count"`
	// Term is the filter term of this node alone (pod="web-1"); Filter the
	// terms of the path down to it (namespace="shop" workload="web"
	// pod="web-1"): AND it to the filter to scope to the node.
	Term   string   `json:"term"`
	Filter string   `json:"filter"`
	Groups []*Group `json:"groups,omitempty"`

	index map[string]*Group
	terms filter.Filter
}

// groups counts records over the range by a hierarchy of fields:
//
//	GET /groups?from&to&sources&filter&by=namespace,workload,pod
//
// by defaults to namespace,workload,pod; by=host,container_id groups by
// node and container. Each level is sorted by count, largest first (then
// by value, empty last).
func (a *API) groups(ctx context.Context, r *http.Request) (any, error) {
	p, err := a.readParams(r, time.Hour)
	if err != nil {
		return nil, err
	}
	by, err := byParam(r.URL.Query().Get("by"))
	if err != nil {
		return nil, err
	}
	req, err := logql.Groups(p.Scope, by, p.From, p.To)
	if err != nil {
		return nil, badParam("by", "%v", err)
	}
	// An instant query counts (t-range, t]: at to-1ns it counts [from, to).
	req.Time = p.To.Add(-time.Nanosecond)
	samples, err := a.store.vector(ctx, req)
	if err != nil {
		return nil, err
	}
	root := groupTree(samples, by)
	return GroupsAnswer{By: by, Total: root.Count, Groups: orEmpty(root.Groups)}, nil
}

func byParam(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return logql.ByWorkload, nil
	}
	var by []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		f, ok := field.Lookup(name)
		switch {
		case name == "":
			continue
		case !ok || !f.Filterable():
			return nil, badParam("by", "%q is not a field to group by", name)
		case slices.Contains(by, name):
			return nil, badParam("by", "%s is there twice", name)
		}
		by = append(by, name)
	}
	if len(by) > MaxGroupDepth {
		return nil, badParam("by", "at most %d fields", MaxGroupDepth)
	}
	return by, nil
}

// groupTree nests the counts by the fields.
func groupTree(samples []loki.Sample, by []string) *Group {
	root := &Group{}
	for _, s := range samples {
		n := int64(math.Round(s.Value.Value))
		if n <= 0 {
			continue
		}
		root.Count += n
		g := root
		for _, name := range by {
			g = g.child(name, s.Metric[name])
			g.Count += n
		}
	}
	sortGroups(root.Groups)
	return root
}

func (g *Group) child(name, value string) *Group {
	if c, ok := g.index[value]; ok {
		return c
	}
	if g.index == nil {
		g.index = map[string]*Group{}
	}
	t := filter.Term{Field: name, Op: filter.Eq, Value: value, Offset: -1}
	c := &Group{Field: name, Value: value, Term: t.String()}
	c.terms = filter.Filter{Terms: append(slices.Clip(g.terms.Terms), t)}
	c.Filter = c.terms.String()
	g.index[value] = c
	g.Groups = append(g.Groups, c)
	return c
}

func sortGroups(gs []*Group) {
	slices.SortFunc(gs, func(a, b *Group) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		if (a.Value == "") != (b.Value == "") {
			return cmp.Compare(b.Value, a.Value) // "" last
		}
		return cmp.Compare(a.Value, b.Value)
	})
	for _, g := range gs {
		sortGroups(g.Groups)
	}
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
