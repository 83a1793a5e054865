package syntax

import (
	"errors"
	"strings"
	"testing"
)

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		line, col int
		msg       string
	}{
		{"unclosed selector", `{job="a"`, 1, 9, "syntax error: unexpected $end, expecting } or ,"},
		{"pipe inside selector", `{job="a" | json`, 1, 10, "syntax error: unexpected |, expecting } or ,"},
		{"trailing comma in selector", `{job="a",}`, 1, 10, "syntax error: unexpected }, expecting IDENTIFIER"},
		{"matcher without operator", `{job}`, 1, 5, "syntax error: unexpected }, expecting = or =~ or !~ or !="},
		{"unquoted value", `{job=a}`, 1, 6, "syntax error: unexpected IDENTIFIER, expecting STRING"},
		{"single quotes", `{job='a'}`, 1, 6, "syntax error: unexpected IDENTIFIER, expecting STRING"},
		{"keyword as label", `{json="a"}`, 1, 2, "syntax error: unexpected json, expecting IDENTIFIER or }"},
		{"line filter without string", `{job="a"} |= x`, 1, 14, "syntax error: unexpected IDENTIFIER, expecting STRING or ip"},
		{"json field expression unquoted", `{job="a"} | json a=b`, 1, 20, "syntax error: unexpected IDENTIFIER, expecting STRING"},
		{"dangling pipe", `{job="a"} | json |`, 1, 19, "syntax error: unexpected $end"},
		{"dangling and", `{job="a"} | a="1" and`, 1, 22, "syntax error: unexpected $end, expecting IDENTIFIER or ("},
		{"string compared with >", `{job="a"} | a > "1"`, 1, 17, "syntax error: unexpected STRING"},
		{"range on a log query", `{job="a"} [5m]`, 1, 11, "syntax error: unexpected RANGE"},
		{"missing range", `count_over_time({job="a"})`, 1, 26, "syntax error: unexpected )"},
		{"range function of an identifier", `count_over_time(x)`, 1, 17, "syntax error: unexpected IDENTIFIER, expecting NUMBER or { or ("},
		{"unclosed range aggregation", `rate({job="a"}[5m]`, 1, 19, "syntax error: unexpected $end, expecting )"},
		{"unknown function", `sum(bogus_over_time({job="a"}[1m]))`, 1, 5, "syntax error: unexpected IDENTIFIER"},
		{"log query in aggregation", `sum({job="a"})`, 1, 5, "syntax error: unexpected {"},
		{"trailing comma in grouping", `sum by (a,) (vector(1))`, 1, 11, "syntax error: unexpected ), expecting IDENTIFIER"},
		{"grouping without labels", `sum(vector(1)) by`, 1, 18, "syntax error: unexpected $end, expecting ("},
		{"two groupings", `sum by (a) (vector(1)) by (b)`, 1, 24, "syntax error: unexpected by"},
		{"vector of an identifier", `vector(x)`, 1, 8, "syntax error: unexpected IDENTIFIER, expecting NUMBER"},
		{"dangling operator", `1 +`, 1, 4, "syntax error: unexpected $end"},
		{"columns count characters", `{job="é"} | x`, 1, 14, "syntax error: unexpected $end"},
		{"second line", "{job=\"a\"}\n| json\n| a=", 3, 5, "syntax error: unexpected $end"},
		{"offset without duration", `rate({job="a"}[5m] offset x)`, 1, 27, "syntax error: unexpected IDENTIFIER, expecting DURATION"},
		{"empty query", ``, 1, 1, "syntax error: unexpected $end"},
		{"illegal character", `{job="a"} @`, 1, 11, "syntax error: unexpected IDENTIFIER"},
		{"illegal character as a name", `{@="a"}`, 1, 2, `syntax error: unexpected character "@", expecting IDENTIFIER or }`},
		// Lexical errors.
		{"unterminated string", `{job="a"} |= "x`, 1, 14, "literal not terminated"},
		{"bad escape", `{job="\d"}`, 1, 6, "invalid char escape"},
		{"short unicode escape", `{job="\u00"}`, 1, 6, "invalid char escape"},
		{"escape out of range", `{job="\400"}`, 1, 6, "invalid syntax"},
		{"range unit", `rate({job="a"}[5M])`, 1, 15, `unknown unit "M" in duration "5M"`},
		{"range with blanks", `rate({job="a"}[ 5m ])`, 1, 15, `not a valid duration string: " 5m "`},
		{"range with fraction", `rate({job="a"}[1.5h])`, 1, 15, `unknown unit "." in duration "1.5h"`},
		{"range units out of order", `rate({job="a"}[30m1h])`, 1, 15, `not a valid duration string: "30m1h"`},
		{"range not closed", `rate({job="a"}[5m)`, 1, 15, "missing closing ']' in duration"},
		{"octal literal", `topk(08, vector(1))`, 1, 6, "invalid digit '8' in octal literal"},
		{"exponent", `vector(1e)`, 1, 8, "exponent has no digits"},
		{"comment not terminated", `{job="a"} /* x`, 1, 11, "comment not terminated"},
		{"invalid UTF-8", "{job=\"a\xff\"}", 1, 6, "invalid UTF-8 encoding"},
		// An earlier syntax error wins over a later lexical one, as in Loki.
		{"syntax error before bad escape", `{job="a" |= "\d"`, 1, 10, "syntax error: unexpected |=, expecting } or ,"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.query)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v (%T), want a *ParseError", tc.query, err, err)
			}
			if pe.Line != tc.line || pe.Col != tc.col || pe.Msg != tc.msg {
				t.Fatalf("Parse(%q) = line %d col %d %q\nwant line %d col %d %q",
					tc.query, pe.Line, pe.Col, pe.Msg, tc.line, tc.col, tc.msg)
			}
		})
	}
}

func TestSemanticErrors(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		line, col int
		msg       string // prefix
	}{
		{"invalid selector regex", `{job=~"a[b-c"}`, 1, 7, "error parsing regexp: missing closing ]"},
		{"invalid label filter regex", `{job="a"} | x!~"("`, 1, 16, "error parsing regexp: missing closing )"},
		{"invalid line filter regex", `{job="a"} |~ "("`, 1, 14, "error parsing regexp: missing closing )"},
		{"topk zero", `topk(0, count_over_time({job="a"}[5m]))`, 1, 6, "invalid parameter (must be greater than 0) topk(0"},
		{"bottomk negative", `bottomk by (a) (00, vector(1))`, 1, 17, "invalid parameter (must be greater than 0) bottomk(00"},
		{"topk fraction", `topk(1.5, vector(1))`, 1, 6, "invalid parameter topk(1.5,"},
		{"topk without k", `topk(vector(1))`, 1, 1, "parameter required for operation topk"},
		{"sum with a parameter", `sum(5, vector(1))`, 1, 5, "unsupported parameter for operation sum(5,"},
		{"range aggregation with a parameter", `rate(5, {job="a"}[1m])`, 1, 6, "parameter 5 not supported for operation rate"},
		{"grouping on a range aggregation", `count_over_time({job="a"}[1m]) by (x)`, 1, 32, "grouping not allowed for count_over_time aggregation"},
		{"number out of range", `{job="a"} | x > 1e999`, 1, 17, "unable to parse literal as a float: "},
		{"empty selector", `{}`, 0, 0, errEmptyCompatible},
		{"only a match-all regexp", `{job=~".*"}`, 0, 0, errEmptyCompatible},
		{"only a negative matcher", `{job!="a"}`, 0, 0, errEmptyCompatible},
		{"only an empty value", `{job=""} |= "x"`, 0, 0, errEmptyCompatible},
		{"in a metric query", `vector(1) + count_over_time({job=~".*", a!~"x"}[1m])`, 0, 0, errEmptyCompatible},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.query)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v (%T), want a *ParseError", tc.query, err, err)
			}
			if pe.Line != tc.line || pe.Col != tc.col || !strings.HasPrefix(pe.Msg, tc.msg) {
				t.Fatalf("Parse(%q) = line %d col %d %q\nwant line %d col %d %q…",
					tc.query, pe.Line, pe.Col, pe.Msg, tc.line, tc.col, tc.msg)
			}
		})
	}
}

func TestEmptyCompatibleAccepted(t *testing.T) {
	for _, q := range []string{
		`{job!=""}`,
		`{job=~".+"}`,
		`{job!~".*"}`,
		`{a=~".*", b="x"}`,
		`{a="", b!="c", d=~"e"}`,
	} {
		t.Run(q, func(t *testing.T) {
			if _, err := Parse(q); err != nil {
				t.Fatalf("Parse(%q): %v", q, err)
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	tests := []struct {
		query     string
		col       int
		construct string
	}{
		{`{job="a"} | logfmt`, 13, "logfmt"},
		{`{job="a"} | regexp "(?P<x>.*)"`, 13, "regexp"},
		{`{job="a"} | pattern "<x> <_>"`, 13, "pattern"},
		{`{job="a"} | unpack`, 13, "unpack"},
		{`{job="a"} | line_format "{{.x}}"`, 13, "line_format"},
		{`{job="a"} | label_format a=b`, 13, "label_format"},
		{`{job="a"} | drop a`, 13, "drop"},
		{`{job="a"} | keep a`, 13, "keep"},
		{`{job="a"} | decolorize`, 13, "decolorize"},
		{`count_over_time({job="a"} | unwrap x [5m])`, 29, "unwrap"},
		{`sum_over_time({job="a"} | unwrap x [5m])`, 1, "sum_over_time"},
		{`avg_over_time({job="a"} | unwrap x [5m])`, 1, "avg_over_time"},
		{`max_over_time({job="a"} | unwrap x [5m])`, 1, "max_over_time"},
		{`quantile_over_time(0.99, {job="a"} | unwrap x [5m])`, 1, "quantile_over_time"},
		{`absent_over_time({job="a"}[5m])`, 1, "absent_over_time"},
		{`first_over_time({job="a"} | unwrap x [5m])`, 1, "first_over_time"},
		{`last_over_time({job="a"} | unwrap x [5m])`, 1, "last_over_time"},
		{`rate_counter({job="a"} | unwrap x [5m])`, 1, "rate_counter"},
		{`label_replace(vector(1), "a", "b", "c", "d")`, 1, "label_replace"},
		{`sort(vector(1))`, 1, "sort"},
		{`sort_desc(vector(1))`, 1, "sort_desc"},
		{`stddev(vector(1))`, 1, "stddev"},
		{`sum(approx_topk(1, vector(1)))`, 5, "approx_topk"},
		{`count_over_time({job="a"}[5m] offset 1h)`, 31, "offset"},
		{`count_over_time({job="a"} | json [5m] offset -1.5h)`, 39, "offset"},
		{`{job="a"} |> "<_> x"`, 11, "pattern line filter |>"},
		{`{job="a"} |= ip("10.0.0.1")`, 14, "ip() line filter"},
		{`{job="a"} |= "x" or "y"`, 18, "or between line filter strings"},
		{`{job="a"} | d > 250ms`, 17, "duration label filter"},
		{`{job="a"} | s >= 10KB`, 18, "bytes label filter"},
		{`{job="a"} | addr = ip("10.0.0.0/8")`, 20, "ip() label filter"},
		{`vector(1) > 0`, 11, "comparison operator >"},
		{`vector(1) == bool 0`, 11, "comparison operator =="},
		{`sum(rate({job="a"}[1m])) or vector(0)`, 26, "set operator or"},
		{`vector(1) unless vector(0)`, 11, "set operator unless"},
		{`vector(1) + bool vector(1)`, 13, "bool modifier"},
		{`vector(1) / on(a) vector(1)`, 13, "on() vector matching"},
		{`vector(1) / ignoring(a) vector(1)`, 13, "ignoring() vector matching"},
		{`variants(count_over_time({job="a"}[1m])) of ({job="a"}[1m])`, 1, "variants"},
	}
	for _, tc := range tests {
		t.Run(tc.construct, func(t *testing.T) {
			_, err := Parse(tc.query)
			var ue *UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("Parse(%q) = %v (%T), want an *UnsupportedError", tc.query, err, err)
			}
			if ue.Construct != tc.construct || ue.Line != 1 || ue.Col != tc.col {
				t.Fatalf("Parse(%q) = %q at line %d col %d, want %q at col %d",
					tc.query, ue.Construct, ue.Line, ue.Col, tc.construct, tc.col)
			}
		})
	}
}

func TestErrorStrings(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"positioned", &ParseError{Line: 1, Col: 23, Msg: "syntax error: unexpected |, expecting } or ,"},
			"parse error at line 1, col 23: syntax error: unexpected |, expecting } or ,"},
		{"unpositioned", &ParseError{Msg: "queries require x"}, "parse error : queries require x"},
		{"unsupported", &UnsupportedError{Line: 2, Col: 3, Construct: "logfmt"},
			"unsupported LogQL: logfmt is not supported by the embedded store (line 2, col 3)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Fatalf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}
