package syntax

import (
	"regexp"
	"testing"
)

func TestMatcherMatches(t *testing.T) {
	tests := []struct {
		name string
		m    *Matcher
		v    string
		want bool
	}{
		{"equal", mustMatcher(MatchEqual, "a", "x"), "x", true},
		{"equal other", mustMatcher(MatchEqual, "a", "x"), "xy", false},
		{"equal empty absent", mustMatcher(MatchEqual, "a", ""), "", true},
		{"not equal", mustMatcher(MatchNotEqual, "a", "x"), "y", true},
		{"not equal same", mustMatcher(MatchNotEqual, "a", "x"), "x", false},
		{"regexp whole value", mustMatcher(MatchRegexp, "a", "ab"), "ab", true},
		{"regexp anchored at start", mustMatcher(MatchRegexp, "a", "ab"), "xab", false},
		{"regexp anchored at end", mustMatcher(MatchRegexp, "a", "ab"), "abx", false},
		{"alternation anchored as a group", mustMatcher(MatchRegexp, "a", "cmd|net"), "cmdnet", false},
		{"alternation second branch", mustMatcher(MatchRegexp, "a", "cmd|net"), "net", true},
		{"dot matches newline", mustMatcher(MatchRegexp, "a", "a.b"), "a\nb", true},
		{"match-all matches empty", mustMatcher(MatchRegexp, "a", ".*"), "", true},
		{"not regexp", mustMatcher(MatchNotRegexp, "a", "ba?sh"), "zsh", true},
		{"not regexp matching", mustMatcher(MatchNotRegexp, "a", "ba?sh"), "bsh", false},
		{"not regexp is anchored", mustMatcher(MatchNotRegexp, "a", "sh"), "bash", true},
		{"prefix", mustMatcher(MatchRegexp, "a", "c5976.*"), "c59764735cd5", true},
		{"prefix alone", mustMatcher(MatchRegexp, "a", "c5976.*"), "c5976", true},
		{"prefix other", mustMatcher(MatchRegexp, "a", "c5976.*"), "c5977", false},
		{"prefix not at start", mustMatcher(MatchRegexp, "a", "c5976.*"), "xc5976", false},
		{"prefix then newline", mustMatcher(MatchRegexp, "a", "ab.*"), "ab\ncd", true},
		{"prefix non-greedy", mustMatcher(MatchRegexp, "a", "ab.*?"), "abc", true},
		{"prefix case-folded is a regexp", mustMatcher(MatchRegexp, "a", "(?i)ab.*"), "ABc", true},
		{"prefix escaped dot", mustMatcher(MatchRegexp, "a", `a\..*`), "a.b", true},
		{"prefix escaped dot other", mustMatcher(MatchRegexp, "a", `a\..*`), "axb", false},
		{"not prefix", mustMatcher(MatchNotRegexp, "a", "ab.*"), "abc", false},
		{"not prefix other", mustMatcher(MatchNotRegexp, "a", "ab.*"), "ba", true},
		{"literal matcher compiles", &Matcher{Name: "a", Type: MatchRegexp, Value: "b+"}, "bbb", true},
		{"literal invalid regexp", &Matcher{Name: "a", Type: MatchRegexp, Value: "("}, "(", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.m.Matches(tc.v); got != tc.want {
				t.Fatalf("%s.Matches(%q) = %v", tc.m, tc.v, got)
			}
		})
	}
}

// A literal followed by .* is checked as a prefix; every other expression
// by the regexp. Both must agree with the regexp on every value.
func TestMatcherPrefixAgreesWithRegexp(t *testing.T) {
	values := []string{"", "a", "ab", "abc", "ABC", "a.b", "axb", "ab\n", "\nab", "é", "éa", "abé", "ba"}
	for _, v := range []string{"ab.*", "ab.*?", "a\\..*", "(?i)ab.*", "ab(.*)", "ab.+", "é.*", ".*", "ab", "a.*b", "(?:ab).*", "ab[\\s\\S]*"} {
		m := mustMatcher(MatchRegexp, "f", v)
		re := regexp.MustCompile("^(?s:" + v + ")$")
		for _, x := range values {
			if got, want := m.Matches(x), re.MatchString(x); got != want {
				t.Errorf("%s (prefix %q %v).Matches(%q) = %v, want %v", m, m.prefix, m.isPrefix, x, got, want)
			}
		}
	}
	if m := mustMatcher(MatchRegexp, "f", "c59764735cd5.*"); !m.isPrefix || m.prefix != "c59764735cd5" {
		t.Errorf("a short container id's lookup is not a prefix: %q %v", m.prefix, m.isPrefix)
	}
}

func TestMatcherFromParse(t *testing.T) {
	e, err := Parse(`{job=~"cmd|net"} | comm=~"ba?sh"`)
	if err != nil {
		t.Fatal(err)
	}
	le := e.(*LogExpr)
	if m := le.Matchers[0]; m.re == nil || !m.Matches("net") || m.Matches("cmdnet") {
		t.Fatalf("selector matcher %s not compiled or not anchored", m)
	}
	if m := le.Stages[0].(*LabelFilterStage).Pred.(*StringPred).Matcher; m.re == nil || !m.Matches("bash") || m.Matches("bashx") {
		t.Fatalf("label filter matcher %s not compiled or not anchored", m)
	}
}

func TestLineFilterMatches(t *testing.T) {
	tests := []struct {
		name string
		f    *LineFilter
		line string
		want bool
	}{
		{"contains", mustLineFilter(Contains, "apache2"), `{"comm":"apache2"}`, true},
		{"contains not", mustLineFilter(Contains, "nginx"), `{"comm":"apache2"}`, false},
		{"contains empty", mustLineFilter(Contains, ""), "x", true},
		{"not contains", mustLineFilter(NotContains, "Foo"), "bar", true},
		{"not contains present", mustLineFilter(NotContains, "Foo"), "aFoob", false},
		{"regexp searches", mustLineFilter(Match, "o+b"), "foobar", true},
		{"regexp not anchored", mustLineFilter(Match, "bar"), "foobarbaz", true},
		{"regexp explicit anchor", mustLineFilter(Match, "^bar"), "foobar", false},
		{"not regexp", mustLineFilter(NotMatch, "ba?sh"), "zsh -c", true},
		{"not regexp found", mustLineFilter(NotMatch, "ba?sh"), "/bin/bash -c", false},
		{"literal filter compiles", &LineFilter{Type: Match, Value: "a+"}, "baa", true},
		{"literal invalid regexp", &LineFilter{Type: Match, Value: "("}, "(", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.Matches(tc.line); got != tc.want {
				t.Fatalf("%s.Matches(%q) = %v", tc.f, tc.line, got)
			}
		})
	}
}

func TestLineFilterFromParse(t *testing.T) {
	e, err := Parse(`{job="a"} |~ "o+b" !~ "x$"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range e.(*LogExpr).Stages {
		if f := s.(*LineFilter); f.re == nil {
			t.Fatalf("line filter %s not compiled", f)
		}
	}
}

func TestNewMatcherInvalid(t *testing.T) {
	if _, err := NewMatcher(MatchRegexp, "a", "("); err == nil {
		t.Fatal("NewMatcher accepted an invalid regexp")
	}
	if _, err := NewLineFilter(NotMatch, "["); err == nil {
		t.Fatal("NewLineFilter accepted an invalid regexp")
	}
}

func TestOperatorStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{MatchEqual.String(), "="}, {MatchNotEqual.String(), "!="},
		{MatchRegexp.String(), "=~"}, {MatchNotRegexp.String(), "!~"},
		{Contains.String(), "|="}, {NotContains.String(), "!="},
		{Match.String(), "|~"}, {NotMatch.String(), "!~"},
		{Eq.String(), "=="}, {Neq.String(), "!="}, {Lt.String(), "<"},
		{Lte.String(), "<="}, {Gt.String(), ">"}, {Gte.String(), ">="},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}
