package syntax

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// checkRoundTrip checks that e.String() parses back to an equal AST that
// prints the same.
func checkRoundTrip(t *testing.T, e Expr) {
	t.Helper()
	s := e.String()
	back, err := Parse(s)
	if err != nil {
		t.Fatalf("String() %q does not parse: %v", s, err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("String() %q parses to a different AST:\n got %#v\nwant %#v", s, back, e)
	}
	if back.String() != s {
		t.Fatalf("String() not stable: %q then %q", s, back.String())
	}
}

func TestParseGoldenQueries(t *testing.T) {
	for _, g := range goldenQueries(t) {
		t.Run(g.name, func(t *testing.T) {
			e, err := Parse(g.query)
			if err != nil {
				t.Fatalf("Parse(%q): %v", g.query, err)
			}
			checkRoundTrip(t, e)
		})
	}
}

func TestParseLokiCases(t *testing.T) {
	for _, c := range lokiCases(t) {
		t.Run(c.name, func(t *testing.T) {
			e, err := Parse(c.query)
			switch {
			case c.status == 200:
				if err != nil {
					t.Fatalf("Loki answered 200 to %q, Parse: %v", c.query, err)
				}
				checkRoundTrip(t, e)
			case strings.HasPrefix(c.body, "parse error"):
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("Loki answered %q to %q; Parse: %v (%T)", c.body, c.query, err, err)
				}
				// Our messages are Loki's, positions included.
				if err.Error() != c.body {
					t.Fatalf("Parse(%q) error\n got %q\nwant %q", c.query, err.Error(), c.body)
				}
			default:
				// A semantic refusal that is not a parse error (a log
				// query sent as an instant query): the query itself parses.
				if err != nil {
					t.Fatalf("Loki answered %q to %q, Parse: %v", c.body, c.query, err)
				}
			}
		})
	}
}

func TestParsePositionsOfLokiErrors(t *testing.T) {
	for _, c := range lokiCases(t) {
		if !strings.HasPrefix(c.body, "parse error at line ") {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			var line, col int
			rest := strings.TrimPrefix(c.body, "parse error at line ")
			if _, err := fmt.Sscanf(rest, "%d, col %d:", &line, &col); err != nil {
				t.Fatal(err)
			}
			_, err := Parse(c.query)
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != line || pe.Col != col {
				t.Fatalf("Parse(%q) = %v; want line %d col %d", c.query, err, line, col)
			}
		})
	}
}

func mustMatcher(t MatchType, name, value string) *Matcher {
	m, err := NewMatcher(t, name, value)
	if err != nil {
		panic(err)
	}
	return m
}

func mustLineFilter(t LineFilterType, value string) *LineFilter {
	f, err := NewLineFilter(t, value)
	if err != nil {
		panic(err)
	}
	return f
}

func str(t MatchType, name, value string) Pred {
	return &StringPred{Matcher: mustMatcher(t, name, value)}
}

func sel(ms ...*Matcher) *LogExpr { return &LogExpr{Matchers: ms} }

func TestParseShapes(t *testing.T) {
	job := mustMatcher(MatchEqual, "job", "a")
	tests := []struct {
		name  string
		query string
		want  Expr
	}{
		{"selector matchers", `{job="a", ns!="b", app=~"x|y", pod!~"p.*"}`,
			sel(job, mustMatcher(MatchNotEqual, "ns", "b"), mustMatcher(MatchRegexp, "app", "x|y"),
				mustMatcher(MatchNotRegexp, "pod", "p.*"))},
		{"raw string", "{job=`a`}", sel(job)},
		{"escapes", `{job="a\"\\\t\u00e9\x41"}`, sel(mustMatcher(MatchEqual, "job", "a\"\\\t\u00e9A"))},
		{"stage order", `{job="a"} |= "x" | json | c="d" != "y" | json e, f="g.h"`, &LogExpr{
			Matchers: []*Matcher{job},
			Stages: []Stage{
				mustLineFilter(Contains, "x"),
				&JSONStage{},
				&LabelFilterStage{Pred: str(MatchEqual, "c", "d")},
				mustLineFilter(NotContains, "y"),
				&JSONStage{Fields: []JSONField{{"e", "e"}, {"f", "g.h"}}},
			}}},
		{"line filters", `{job="a"} |~ "x" !~ "y"`, &LogExpr{Matchers: []*Matcher{job},
			Stages: []Stage{mustLineFilter(Match, "x"), mustLineFilter(NotMatch, "y")}}},
		{"and binds tighter than or", `{job="a"} | a="1" or b="2" and c="3"`, &LogExpr{Matchers: []*Matcher{job},
			Stages: []Stage{&LabelFilterStage{Pred: &OrPred{
				str(MatchEqual, "a", "1"),
				&AndPred{str(MatchEqual, "b", "2"), str(MatchEqual, "c", "3")}}}}}},
		{"or then and", `{job="a"} | a="1" and b="2" or c="3"`, &LogExpr{Matchers: []*Matcher{job},
			Stages: []Stage{&LabelFilterStage{Pred: &OrPred{
				&AndPred{str(MatchEqual, "a", "1"), str(MatchEqual, "b", "2")},
				str(MatchEqual, "c", "3")}}}}},
		{"parentheses", `{job="a"} | (a="1" or b="2") and c="3"`, &LogExpr{Matchers: []*Matcher{job},
			Stages: []Stage{&LabelFilterStage{Pred: &AndPred{
				&OrPred{str(MatchEqual, "a", "1"), str(MatchEqual, "b", "2")},
				str(MatchEqual, "c", "3")}}}}},
		// Loki's grammar: a comma or blanks take everything to their right.
		{"comma and blanks as Loki", `{job="a"} | foo="bar" buzz!="blip", blop=~"boop" or fuzz==5`,
			&LogExpr{Matchers: []*Matcher{job}, Stages: []Stage{&LabelFilterStage{Pred: &AndPred{
				str(MatchEqual, "foo", "bar"),
				&AndPred{str(MatchNotEqual, "buzz", "blip"), &OrPred{
					str(MatchRegexp, "blop", "boop"), &NumberPred{"fuzz", Eq, 5}}}}}}}},
		{"numeric filters", `{job="a"} | a > 1.5 | b <= -2 | c != 3 | d = 4 | e >= +5e3 | f < .5`,
			&LogExpr{Matchers: []*Matcher{job}, Stages: []Stage{
				&LabelFilterStage{Pred: &NumberPred{"a", Gt, 1.5}},
				&LabelFilterStage{Pred: &NumberPred{"b", Lte, -2}},
				&LabelFilterStage{Pred: &NumberPred{"c", Neq, 3}},
				&LabelFilterStage{Pred: &NumberPred{"d", Eq, 4}},
				&LabelFilterStage{Pred: &NumberPred{"e", Gte, 5000}},
				&LabelFilterStage{Pred: &NumberPred{"f", Lt, 0.5}},
			}}},
		{"__error__ is a label", `{job="a"} | json | __error__=""`, &LogExpr{Matchers: []*Matcher{job},
			Stages: []Stage{&JSONStage{}, &LabelFilterStage{Pred: str(MatchEqual, "__error__", "")}}}},
		{"function names as labels", `{rate="a"} | count > 1 | json sum, vector`, &LogExpr{
			Matchers: []*Matcher{mustMatcher(MatchEqual, "rate", "a")},
			Stages: []Stage{&LabelFilterStage{Pred: &NumberPred{"count", Gt, 1}},
				&JSONStage{Fields: []JSONField{{"sum", "sum"}, {"vector", "vector"}}}}}},
		{"parenthesised log query", `(({job="a"} |= "x"))`, &LogExpr{Matchers: []*Matcher{job},
			Stages: []Stage{mustLineFilter(Contains, "x")}}},
		{"range after selector", `rate({job="a"}[1m])`,
			&RangeAggExpr{Op: "rate", Log: sel(job), Range: time.Minute}},
		{"range after pipeline", `count_over_time({job="a"} | json | c="d" [5m])`,
			&RangeAggExpr{Op: "count_over_time", Range: 5 * time.Minute, Log: &LogExpr{
				Matchers: []*Matcher{job},
				Stages:   []Stage{&JSONStage{}, &LabelFilterStage{Pred: str(MatchEqual, "c", "d")}}}}},
		{"pipeline after range", `bytes_rate({job="a"}[1d12h] |= "x")`,
			&RangeAggExpr{Op: "bytes_rate", Range: 36 * time.Hour, Log: &LogExpr{
				Matchers: []*Matcher{job}, Stages: []Stage{mustLineFilter(Contains, "x")}}}},
		{"parenthesised range", `bytes_over_time(({job="a"} |= "x")[90500ms])`,
			&RangeAggExpr{Op: "bytes_over_time", Range: 90500 * time.Millisecond, Log: &LogExpr{
				Matchers: []*Matcher{job}, Stages: []Stage{mustLineFilter(Contains, "x")}}}},
		{"grouping before", `sum by (a, b) (rate({job="a"}[1m]))`, &VectorAggExpr{Op: "sum",
			Grouping: &Grouping{Labels: []string{"a", "b"}},
			Inner:    &RangeAggExpr{Op: "rate", Log: sel(job), Range: time.Minute}}},
		{"grouping after", `avg(rate({job="a"}[1m])) without (a)`, &VectorAggExpr{Op: "avg",
			Grouping: &Grouping{Without: true, Labels: []string{"a"}},
			Inner:    &RangeAggExpr{Op: "rate", Log: sel(job), Range: time.Minute}}},
		{"empty grouping", `count by () (vector(1))`, &VectorAggExpr{Op: "count",
			Grouping: &Grouping{}, Inner: &VectorExpr{1}}},
		{"upper-case keywords", `SUM BY (a) (COUNT_OVER_TIME({job="a"} | JSON [1m]))`, &VectorAggExpr{Op: "sum",
			Grouping: &Grouping{Labels: []string{"a"}},
			Inner: &RangeAggExpr{Op: "count_over_time", Range: time.Minute,
				Log: &LogExpr{Matchers: []*Matcher{job}, Stages: []Stage{&JSONStage{}}}}}},
		{"topk param", `topk(5, max(vector(2)))`, &VectorAggExpr{Op: "topk", Param: 5,
			Inner: &VectorAggExpr{Op: "max", Inner: &VectorExpr{2}}}},
		{"bottomk grouping first", `bottomk by (a) (3, min(vector(2)))`, &VectorAggExpr{Op: "bottomk", Param: 3,
			Grouping: &Grouping{Labels: []string{"a"}},
			Inner:    &VectorAggExpr{Op: "min", Inner: &VectorExpr{2}}}},
		{"binary precedence", `1 + 2 * 3 - 4 % 5`, &BinaryExpr{"-",
			&BinaryExpr{"+", &NumberExpr{1}, &BinaryExpr{"*", &NumberExpr{2}, &NumberExpr{3}}},
			&BinaryExpr{"%", &NumberExpr{4}, &NumberExpr{5}}}},
		{"power is right-associative", `2 ^ 3 ^ 2 * 2`, &BinaryExpr{"*",
			&BinaryExpr{"^", &NumberExpr{2}, &BinaryExpr{"^", &NumberExpr{3}, &NumberExpr{2}}},
			&NumberExpr{2}}},
		{"parenthesised arithmetic", `(vector(1) + vector(2)) / -2`, &BinaryExpr{"/",
			&BinaryExpr{"+", &VectorExpr{1}, &VectorExpr{2}}, &NumberExpr{-2}}},
		{"comments", "{job=\"a\"} # a comment\n|= \"x\" /* inline */ // end", &LogExpr{
			Matchers: []*Matcher{job}, Stages: []Stage{mustLineFilter(Contains, "x")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.query)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.query, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q)\n got %s\nwant %s", tc.query, got, tc.want)
			}
			checkRoundTrip(t, got)
		})
	}
}

func TestIsLogQuery(t *testing.T) {
	tests := []struct {
		query string
		want  bool
	}{
		{`{job="a"}`, true},
		{`{job="a"} | json`, true},
		{`count_over_time({job="a"}[1m])`, false},
		{`vector(1)`, false},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			e, err := Parse(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := IsLogQuery(e); got != tc.want {
				t.Fatalf("IsLogQuery(%q) = %v", tc.query, got)
			}
		})
	}
}

func TestString(t *testing.T) {
	tests := []struct{ query, want string }{
		{`{job="a"}|json a,b="c"|a="1",b="2"`, `{job="a"} | json a, b="c" | a="1" and b="2"`},
		{`{job="a"} | a="1" b="2" or c="3"`, `{job="a"} | a="1" and (b="2" or c="3")`},
		{`{job="a"} | (a="1" or b="2") or c="3"`, `{job="a"} | a="1" or b="2" or c="3"`},
		{`{job="a"} | a="1" or (b="2" or c="3")`, `{job="a"} | a="1" or (b="2" or c="3")`},
		{`{job="a"} | a = 1 | b == 1e21`, `{job="a"} | a == 1 | b == 1e+21`},
		{"{job=`a\\d`}", `{job="a\\d"}`},
		{`sum(rate({job="a"}[90500ms])) by (x)`, `sum by (x) (rate({job="a"}[1m30s500ms]))`},
		{`rate({job="a"}[0])`, `rate({job="a"}[0s])`},
		{`rate({job="a"}[14d])`, `rate({job="a"}[2w])`},
		{`topk(05, vector(1))`, `topk(5, vector(1))`},
		{`(1 - 2) - (3 - 4)`, `1 - 2 - (3 - 4)`},
		{`(2 ^ 3) ^ 4`, `(2 ^ 3) ^ 4`},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			e, err := Parse(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
			checkRoundTrip(t, e)
		})
	}
}

func TestRanges(t *testing.T) {
	tests := []struct {
		in    string
		want  time.Duration
		print string
	}{
		{"5m", 5 * time.Minute, "5m"},
		{"90500ms", 90500 * time.Millisecond, "1m30s500ms"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"1d12h", 36 * time.Hour, "1d12h"},
		{"1w", 7 * 24 * time.Hour, "1w"},
		{"1w1d", 8 * 24 * time.Hour, "8d"},
		{"365d", 365 * 24 * time.Hour, "1y"},
		{"1y2w3d4h5m6s7ms", (365+14+3)*24*time.Hour + 4*time.Hour + 5*time.Minute + 6*time.Second + 7*time.Millisecond, "382d4h5m6s7ms"},
		{"0s", 0, "0s"},
		{"0", 0, "0s"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			e, err := Parse(`rate({job="a"}[` + tc.in + `])`)
			if err != nil {
				t.Fatal(err)
			}
			r := e.(*RangeAggExpr)
			if r.Range != tc.want {
				t.Fatalf("range %s = %v, want %v", tc.in, r.Range, tc.want)
			}
			if got := formatRange(r.Range); got != tc.print {
				t.Fatalf("formatRange(%v) = %q, want %q", r.Range, got, tc.print)
			}
			checkRoundTrip(t, e)
		})
	}
	for _, bad := range []string{"", "5", "5M", "1h 30m", "30m1h", "5m5m", "500us", "-5m", "300y"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			var pe *ParseError
			if _, err := Parse(`rate({job="a"}[` + bad + `])`); !errors.As(err, &pe) || pe.Col != 15 {
				t.Fatalf("range %q: %v, want a parse error at col 15", bad, err)
			}
		})
	}
}
