package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/store/storage"
	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// testEngine stores a small, known data set in a real storage engine:
// two streams, lines at t0+1s, +2s, ... with structured metadata.
func testEngine(t *testing.T) *Engine {
	t.Helper()
	db, err := storage.Open(storage.Options{Dir: t.TempDir(), IndexedMetadata: []string{"session"}, GroupMetadata: []string{"pod"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	at := func(s int) int64 { return t0.Add(time.Duration(s) * time.Second).UnixNano() }
	md := func(pod, session string) stream.Labels {
		ls := stream.Labels{{Name: "pod", Value: pod}}
		if session != "" {
			ls = append(ls, stream.Label{Name: "session", Value: session})
		}
		ls.Sort()
		return ls
	}
	_, err = db.Append([]stream.Stream{
		{Labels: stream.Labels{{Name: "app", Value: "web"}, {Name: "job", Value: "t"}}, Entries: []stream.Entry{
			{Time: at(1), Line: `{"comm":"bash","port":80,"nested":{"a":"x","b":{"c":1}},"list":[1],"app":"dup"}`, Metadata: md("web-1", "s1")},
			{Time: at(2), Line: `{"comm":"curl","port":443}`, Metadata: md("web-1", "s1")},
			{Time: at(3), Line: `not json at all`, Metadata: md("web-2", "")},
			{Time: at(61), Line: `{"comm":"bash","port":"eighty"}`, Metadata: md("web-2", "")},
		}},
		{Labels: stream.Labels{{Name: "app", Value: "db"}, {Name: "job", Value: "t"}}, Entries: []stream.Entry{
			{Time: at(4), Line: `{"comm":"mysqld","port":3306}`, Metadata: md("db-0", "")},
			{Time: at(5), Line: `{"comm":"bash","port":3306}`, Metadata: md("db-0", "s2")},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return New(db, []string{"pod"}, []string{"session"})
}

// lines runs a log query over the whole data set and returns "line" per
// entry in order, with its merged labels when withLabels.
func lines(t *testing.T, e *Engine, q string, withLabels bool) []string {
	t.Helper()
	d, err := e.QueryRange(context.Background(), RangeParams{Query: q, Start: t0, End: t0.Add(time.Hour), Direction: loki.Forward, Limit: 100})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	type ent struct {
		ts  int64
		out string
	}
	var all []ent
	for _, s := range d.Streams {
		for _, en := range s.Entries {
			out := en.Line
			if withLabels {
				out += " " + stream.FromMap(s.Labels).String()
			}
			all = append(all, ent{en.Time, out})
		}
	}
	slices.SortStableFunc(all, func(a, b ent) int { return int(a.ts - b.ts) })
	var out []string
	for _, x := range all {
		out = append(out, x.out)
	}
	return out
}

func TestLogQueries(t *testing.T) {
	e := testEngine(t)
	tests := []struct {
		name, query string
		want        []string // line prefixes, in time order
	}{
		{"selector", `{app="db"}`, []string{`{"comm":"mysqld"`, `{"comm":"bash"`}},
		{"regex selector anchored", `{app=~"w"}`, nil},
		{"line contains", `{job="t"} |= "bash"`, []string{`{"comm":"bash","port":80`, `{"comm":"bash","port":3306`, `{"comm":"bash","port":"eighty"`}},
		{"line regex unanchored", `{job="t"} |~ "my.q"`, []string{`{"comm":"mysqld"`}},
		{"line not contains", `{app="web"} != "comm"`, []string{`not json`}},
		{"metadata filter", `{job="t"} | pod="web-2"`, []string{`not json`, `{"comm":"bash","port":"eighty"`}},
		{"indexed metadata", `{job="t"} | session="s1"`, []string{`{"comm":"bash","port":80`, `{"comm":"curl"`}},
		{"json field filter", `{job="t"} | json comm | comm="bash"`, []string{`{"comm":"bash","port":80`, `{"comm":"bash","port":3306`, `{"comm":"bash","port":"eighty"`}},
		{"or and precedence", `{job="t"} | json | comm="curl" or comm="mysqld" and port=3306`, []string{`{"comm":"curl"`, `{"comm":"mysqld"`}},
		{"numeric compare", `{job="t"} | json | port > 100 | port < 1000`, []string{`{"comm":"curl"`, `not json`, `{"comm":"bash","port":"eighty"`}}, // as in Loki, entries whose value is no number are kept, marked
		{"nested flattened", `{job="t"} | json | nested_b_c="1"`, []string{`{"comm":"bash","port":80`}},
		{"json path", `{job="t"} | json x="nested.a" | x="x"`, []string{`{"comm":"bash","port":80`}},
		{"collision renamed", `{job="t"} | json | app_extracted="dup"`, []string{`{"comm":"bash","port":80`}},
		{"parse error kept and marked", `{job="t"} | json | __error__="JSONParserErr"`, []string{`not json`}},
		{"errors filtered out", `{app="web"} | json | __error__=""`, []string{`{"comm":"bash","port":80`, `{"comm":"curl"`, `{"comm":"bash","port":"eighty"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lines(t, e, tt.query, false)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines %q, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("line %d = %s, want prefix %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestNumericFilterOnTextIsMarked(t *testing.T) {
	e := testEngine(t)
	got := lines(t, e, `{app="web"} | json | port > 100`, true)
	var marked []string
	for _, l := range got {
		if strings.Contains(l, `__error__="LabelFilterErr"`) {
			marked = append(marked, l)
		}
	}
	// "eighty" cannot compare; Loki keeps such entries, marked. The parse
	// error line is kept too (JSONParserErr, then no port).
	if len(marked) != 1 && len(marked) != 2 {
		t.Errorf("marked entries: %q (all: %q)", marked, got)
	}
}

func TestLimitAndDirection(t *testing.T) {
	e := testEngine(t)
	for _, tt := range []struct {
		dir   loki.Direction
		limit int
		want  []int64
	}{
		{loki.Forward, 2, []int64{1, 2}},
		{loki.Backward, 2, []int64{61, 5}},
		{loki.Backward, 100, []int64{61, 5, 4, 3, 2, 1}},
	} {
		t.Run(fmt.Sprint(tt.dir, tt.limit), func(t *testing.T) {
			d, err := e.QueryRange(context.Background(), RangeParams{Query: `{job="t"}`, Start: t0, End: t0.Add(time.Hour), Direction: tt.dir, Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, s := range d.Streams {
				for _, en := range s.Entries {
					got = append(got, (en.Time-t0.UnixNano())/1e9)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got seconds %v, want %v", got, want)
			}
		})
	}
}

// vec runs an instant query at t0+2m and returns "labels=value" sorted.
func vec(t *testing.T, e *Engine, q string) []string {
	t.Helper()
	d, err := e.Query(context.Background(), InstantParams{Query: q, Time: t0.Add(2 * time.Minute)})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out []string
	if d.ResultType == loki.ResultTypeScalar {
		return []string{fmt.Sprint("scalar=", d.Scalar.Value)}
	}
	for _, s := range d.Vector {
		out = append(out, fmt.Sprintf("%s=%g", stream.FromMap(s.Metric), s.Value.Value))
	}
	slices.Sort(out)
	return out
}

func TestMetricQueries(t *testing.T) {
	e := testEngine(t)
	tests := []struct {
		name, query string
		want        []string
	}{
		{"sum by stream label", `sum by (app) (count_over_time({job="t"}[5m]))`, []string{`{app="db"}=2`, `{app="web"}=4`}},
		{"sum by metadata (point index)", `sum by (pod) (count_over_time({job="t"}[5m]))`, []string{`{pod="db-0"}=2`, `{pod="web-1"}=2`, `{pod="web-2"}=2`}},
		{"sum by indexed metadata (scan)", `sum by (session) (count_over_time({job="t"}[5m]))`, []string{`{session="s1"}=2`, `{session="s2"}=1`, `{}=3`}},
		{"sum by parsed field", `sum by (comm) (count_over_time({job="t"} | json comm [5m]))`, []string{`{comm="bash"}=3`, `{comm="curl"}=1`, `{comm="mysqld"}=1`, `{}=1`}},
		{"sum without", `sum without (pod, session) (count_over_time({job="t"}[5m]))`, []string{`{app="db", job="t"}=2`, `{app="web", job="t"}=4`}},
		{"window excludes older", `sum(count_over_time({job="t"}[1m]))`, []string{`{}=1`}},
		{"count of series", `count(sum by (pod) (count_over_time({job="t"}[5m])))`, []string{`{}=3`}},
		{"max and min", `max(sum by (pod) (count_over_time({job="t"}[5m]))) + min(sum by (app) (count_over_time({job="t"}[5m])))`, []string{`{}=4`}},
		{"avg", `avg(sum by (app) (count_over_time({job="t"}[5m])))`, []string{`{}=3`}},
		{"topk", `topk(1, sum by (app) (count_over_time({job="t"}[5m])))`, []string{`{app="web"}=4`}},
		{"bottomk", `bottomk(1, sum by (app) (count_over_time({job="t"}[5m])))`, []string{`{app="db"}=2`}},
		{"topk by group", `topk by (app) (1, sum by (app, pod) (count_over_time({job="t"}[5m])))`, []string{`{app="db", pod="db-0"}=2`, `{app="web", pod="web-1"}=2`}},
		{"rate", `sum(rate({job="t"}[5m]))`, []string{`{}=0.02`}},
		{"bytes_over_time", `sum(bytes_over_time({app="db"}[5m]))`, []string{`{}=56`}},
		{"bytes_rate", `sum(bytes_rate({app="db"}[5m]))`, []string{`{}=0.18666666666666665`}},
		{"vector arithmetic", `vector(1)+vector(1)`, []string{`{}=2`}},
		{"scalar arithmetic", `2 * 3 ^ 2`, []string{`scalar=18`}},
		{"vector times scalar", `sum by (app) (count_over_time({job="t"}[5m])) * 10`, []string{`{app="db"}=20`, `{app="web"}=40`}},
		{"vector matching", `sum by (app) (count_over_time({job="t"}[5m])) / sum by (app) (count_over_time({job="t"} |= "bash" [5m]))`, []string{`{app="db"}=2`, `{app="web"}=2`}},
		{"nothing selected", `sum(count_over_time({job="none"}[5m]))`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := vec(t, e, tt.query)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRangeSteps(t *testing.T) {
	e := testEngine(t)
	d, err := e.QueryRange(context.Background(), RangeParams{Query: `sum by (app) (count_over_time({job="t"}[1m]))`, Start: t0, End: t0.Add(2 * time.Minute), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range d.Matrix {
		for _, p := range s.Values {
			got = append(got, fmt.Sprintf("%s@%d=%g", s.Metric["app"], (p.Time-t0.UnixMilli())/1000, p.Value))
		}
	}
	slices.Sort(got)
	// Windows (t-1m, t]: at 60s the entries at 1..5s; at 120s the one at 61s. No zero points.
	want := []string{"db@60=2", "web@120=1", "web@60=3"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestErrors(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"instant log query", func() error {
			_, err := e.Query(ctx, InstantParams{Query: `{job="t"}`, Time: t0})
			return err
		}, "log queries are not supported as an instant query"},
		{"zero step", func() error {
			_, err := e.QueryRange(ctx, RangeParams{Query: `sum(count_over_time({job="t"}[1m]))`, Start: t0, End: t0.Add(time.Hour)})
			return err
		}, "zero or negative query resolution step"},
		{"too many points", func() error {
			_, err := e.QueryRange(ctx, RangeParams{Query: `sum(count_over_time({job="t"}[1m]))`, Start: t0, End: t0.Add(24 * time.Hour), Step: time.Second})
			return err
		}, "exceeded maximum resolution"},
		{"bad direction", func() error {
			_, err := e.QueryRange(ctx, RangeParams{Query: `{job="t"}`, Start: t0, End: t0.Add(time.Hour), Direction: "sideways"})
			return err
		}, "invalid direction"},
		{"end before start", func() error {
			_, err := e.QueryRange(ctx, RangeParams{Query: `{job="t"}`, Start: t0.Add(time.Hour), End: t0})
			return err
		}, "end timestamp"},
		{"syntax", func() error {
			_, err := e.QueryRange(ctx, RangeParams{Query: `{job="t"`, Start: t0, End: t0.Add(time.Hour)})
			return err
		}, "parse error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.want) || !IsBadRequest(err) {
				t.Errorf("error %v, want a bad request containing %q", err, tt.want)
			}
		})
	}
}

func TestMetadataEndpoints(t *testing.T) {
	e := testEngine(t)
	from, to := t0, t0.Add(time.Hour)
	names, _ := e.LabelNames("", from, to)
	if !slices.Equal(names, []string{"app", "job"}) {
		t.Errorf("label names %v", names)
	}
	values, _ := e.LabelValues("app", `{job="t"}`, from, to)
	if !slices.Equal(values, []string{"db", "web"}) {
		t.Errorf("values %v", values)
	}
	values, _ = e.LabelValues("app", `{app=~"d.*"}`, from, to)
	if !slices.Equal(values, []string{"db"}) {
		t.Errorf("values with query %v", values)
	}
	series, _ := e.Series([]string{`{app="web"}`, `{app=~".+"}`}, from, to)
	if len(series) != 2 {
		t.Errorf("series %v", series)
	}
	if names, _ := e.LabelNames("", t0.Add(2*time.Hour), t0.Add(3*time.Hour)); len(names) != 0 {
		t.Errorf("label names outside the data: %v", names)
	}
	st, _ := e.Stats(`{app="db"}`, from, to)
	if st.Entries != 2 || st.Streams != 1 || st.Bytes != 56 {
		t.Errorf("stats %+v", st)
	}
}
