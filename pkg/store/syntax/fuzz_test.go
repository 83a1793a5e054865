package syntax

import (
	"errors"
	"testing"
)

// fuzzSeeds are queries beyond the golden files and recorded cases that
// reach the less common paths.
var fuzzSeeds = []string{
	`{job="a"} |= "x" != "y" |~ "z+" !~ "w" | json a, b="c.d" | a="1" or b!~"2" and (c > 1.5, d <= -2) e == 3`,
	`count_over_time(({job="a"} | json)[1h30m])`,
	`bytes_rate({job="a"}[1d12h] |= "x")`,
	`sum without (a) (rate({job="a"}[5m])) / 2 ^ 3 ^ 2 - (vector(1) % 4)`,
	`bottomk by (a) (3, avg(bytes_over_time({job=~".+"}[90500ms])))`,
	"{job=`raw\\d`} # comment\n/* block */ |= \"\\u00e9\\x41\\101\"",
	`{job="a"} | logfmt`,
	`count_over_time({job="a"}[5m] offset 1h)`,
	`topk(0, vector(1))`,
	`{job=~"a[b"}`,
	`{}`,
}

func FuzzParse(f *testing.F) {
	for _, g := range goldenQueries(f) {
		f.Add(g.query)
	}
	for _, c := range lokiCases(f) {
		f.Add(c.query)
	}
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		e, err := Parse(q)
		if err != nil {
			var pe *ParseError
			var ue *UnsupportedError
			if !errors.As(err, &pe) && !errors.As(err, &ue) {
				t.Fatalf("Parse(%q) error of type %T: %v", q, err, err)
			}
			if e != nil {
				t.Fatalf("Parse(%q) returned both %v and %v", q, e, err)
			}
			return
		}
		s := e.String()
		back, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", q, s, err)
		}
		if s2 := back.String(); s2 != s {
			t.Fatalf("Parse(%q).String() = %q, reparsed prints %q", q, s, s2)
		}
	})
}
