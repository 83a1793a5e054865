package syntax

import (
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
)

// MatchType is the operator of a Matcher.
type MatchType int

// Matcher operators.
const (
	MatchEqual     MatchType = iota // =
	MatchNotEqual                   // !=
	MatchRegexp                     // =~
	MatchNotRegexp                  // !~
)

// String returns the operator as written in LogQL.
func (t MatchType) String() string {
	switch t {
	case MatchEqual:
		return "="
	case MatchNotEqual:
		return "!="
	case MatchRegexp:
		return "=~"
	case MatchNotRegexp:
		return "!~"
	}
	return "MatchType(" + strconv.Itoa(int(t)) + ")"
}

// Matcher is `name op "value"`, in a stream selector or a label filter.
type Matcher struct {
	Name  string
	Type  MatchType
	Value string
	re    *regexp.Regexp // ^(?s:Value)$ for =~ and !~, compiled once
	// prefix is set when Value is a literal followed by .* (the way a
	// short container id is looked up): the regexp matches exactly the
	// values that start with it, which is checked without the regexp, as
	// Loki simplifies such expressions.
	prefix   string
	isPrefix bool
}

// NewMatcher returns a matcher with its regular expression (for =~ and !~)
// compiled, anchored at both ends as Loki and Prometheus anchor it.
func NewMatcher(t MatchType, name, value string) (*Matcher, error) {
	m := &Matcher{Name: name, Type: t, Value: value}
	if t == MatchRegexp || t == MatchNotRegexp {
		re, err := compileAnchored(value)
		if err != nil {
			return nil, err
		}
		m.re = re
		m.prefix, m.isPrefix = literalPrefix(value)
	}
	return m, nil
}

// literalPrefix returns p when ^(?s:v)$ is p followed by .*.
func literalPrefix(v string) (string, bool) {
	re, err := syntax.Parse("(?s:"+v+")", syntax.Perl)
	if err != nil {
		return "", false
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) != 2 {
		return "", false
	}
	lit, rest := re.Sub[0], re.Sub[1]
	if lit.Op != syntax.OpLiteral || lit.Flags&syntax.FoldCase != 0 ||
		rest.Op != syntax.OpStar || rest.Sub[0].Op != syntax.OpAnyChar {
		return "", false
	}
	return string(lit.Rune), true
}

func compileAnchored(v string) (*regexp.Regexp, error) {
	return regexp.Compile("^(?s:" + v + ")$")
}

// Matches reports whether a label value v satisfies the matcher. An absent
// label has the value "". A regular expression must match the whole value;
// `.` matches newlines too. Matchers from Parse and NewMatcher use the
// expression compiled once; a Matcher built as a literal compiles it on
// every call (and an invalid one matches nothing).
func (m *Matcher) Matches(v string) bool {
	switch m.Type {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	}
	if m.isPrefix {
		return strings.HasPrefix(v, m.prefix) == (m.Type == MatchRegexp)
	}
	re := m.re
	if re == nil {
		var err error
		if re, err = compileAnchored(m.Value); err != nil {
			return false
		}
	}
	return re.MatchString(v) == (m.Type == MatchRegexp)
}

// String prints the matcher, e.g. `job="a"`.
func (m *Matcher) String() string {
	return m.Name + m.Type.String() + strconv.Quote(m.Value)
}

// LineFilterType is the operator of a LineFilter.
type LineFilterType int

// Line filter operators.
const (
	Contains    LineFilterType = iota // |=
	NotContains                       // !=
	Match                             // |~
	NotMatch                          // !~
)

// String returns the operator as written in LogQL.
func (t LineFilterType) String() string {
	switch t {
	case Contains:
		return "|="
	case NotContains:
		return "!="
	case Match:
		return "|~"
	case NotMatch:
		return "!~"
	}
	return "LineFilterType(" + strconv.Itoa(int(t)) + ")"
}

// LineFilter is a line filter stage: `|= "x"`, `!= "x"`, `|~ "re"` or
// `!~ "re"`.
type LineFilter struct {
	Type  LineFilterType
	Value string
	re    *regexp.Regexp // Value for |~ and !~, compiled once
}

// NewLineFilter returns a line filter with its regular expression (for |~
// and !~) compiled.
func NewLineFilter(t LineFilterType, value string) (*LineFilter, error) {
	f := &LineFilter{Type: t, Value: value}
	if t == Match || t == NotMatch {
		re, err := regexp.Compile(value)
		if err != nil {
			return nil, err
		}
		f.re = re
	}
	return f, nil
}

// Matches reports whether a log line passes the filter. A regular
// expression is not anchored: it may match anywhere in the line, as in
// Loki. Filters from Parse and NewLineFilter use the expression compiled
// once; a LineFilter built as a literal compiles it on every call (and an
// invalid one matches nothing).
func (f *LineFilter) Matches(line string) bool {
	switch f.Type {
	case Contains:
		return strings.Contains(line, f.Value)
	case NotContains:
		return !strings.Contains(line, f.Value)
	}
	re := f.re
	if re == nil {
		var err error
		if re, err = regexp.Compile(f.Value); err != nil {
			return false
		}
	}
	return re.MatchString(line) == (f.Type == Match)
}

// String prints the filter, e.g. `|= "x"`.
func (f *LineFilter) String() string {
	return f.Type.String() + " " + strconv.Quote(f.Value)
}
