// Package filter is Activity Audit's filter language: what users type in the
// filter box, what the +/- buttons write and what links carry.
//
//	comm="grep"          include
//	comm!="grep"         exclude
//	cmdline=~"curl .*"   regex include
//	comm!~"ba?sh"        regex exclude
//
// Terms are separated by white space. Terms on different attributes AND
// together; include terms (= and =~) on the same attribute OR together;
// exclude terms (!= and !~) always AND. Values are double-quoted, with \" and
// \\ as the only escapes. Regular expressions are RE2 and match the whole
// value, as in Loki.
package filter

import (
	"slices"

	"github.com/activityaudit/activityaudit/pkg/field"
)

// Op is a term's operator.
type Op uint8

// Operators.
const (
	Eq  Op = iota // =
	Neq           // !=
	Re            // =~
	Nre           // !~
)

var opText = [...]string{Eq: "=", Neq: "!=", Re: "=~", Nre: "!~"}

func (o Op) String() string { return opText[o] }

// Include reports whether the operator selects records (= and =~), as
// opposed to excluding them.
func (o Op) Include() bool { return o == Eq || o == Re }

// Regex reports whether the value is a regular expression.
func (o Op) Regex() bool { return o == Re || o == Nre }

// Term is one attribute comparison.
type Term struct {
	Field string
	Op    Op
	Value string
	// Offset is the byte offset of the term in the text it was parsed from.
	Offset int
}

// String prints the term canonically: name, operator, quoted value.
func (t Term) String() string {
	return string(t.appendTo(make([]byte, 0, len(t.Field)+len(t.Value)+6)))
}

func (t Term) appendTo(b []byte) []byte {
	b = append(b, t.Field...)
	b = append(b, t.Op.String()...)
	return AppendQuote(b, t.Value)
}

// same reports whether two terms are the same comparison.
func (t Term) same(u Term) bool { return t.Field == u.Field && t.Op == u.Op && t.Value == u.Value }

// Predicate is the comparison the term makes on a field's text as Loki sees
// it. It differs from the term only for booleans, which are stored only when
// true: bool="false" means bool!="true".
func (t Term) Predicate() (Op, string) {
	if f, ok := field.Lookup(t.Field); ok && f.Type == field.Bool && t.Value == "false" {
		switch t.Op {
		case Eq:
			return Neq, "true"
		case Neq:
			return Eq, "true"
		}
	}
	return t.Op, t.Value
}

// Quote writes a value as the filter language quotes it.
func Quote(v string) string {
	return string(AppendQuote(make([]byte, 0, len(v)+2), v))
}

// AppendQuote appends a value as the filter language quotes it.
func AppendQuote(b []byte, v string) []byte {
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, v[i])
	}
	return append(b, '"')
}

// Filter is a parsed filter. The zero value matches everything.
type Filter struct {
	Terms []Term
}

// String prints the filter canonically: terms in their order, separated by
// one space, without repeats.
func (f Filter) String() string {
	if len(f.Terms) == 0 {
		return ""
	}
	var buf [256]byte // most filters' text: one allocation, the string's
	b := buf[:0]
	if n := f.textSize(); n > len(buf) {
		b = make([]byte, 0, n)
	}
	return string(f.AppendText(b))
}

// AppendText appends the filter's canonical text (as String prints it).
func (f Filter) AppendText(b []byte) []byte {
	start := len(b)
	for i, t := range f.Terms {
		if slices.ContainsFunc(f.Terms[:i], t.same) {
			continue
		}
		if len(b) > start {
			b = append(b, ' ')
		}
		b = t.appendTo(b)
	}
	return b
}

// textSize is about the length of the filter's text: room enough unless
// values hold many quotes or backslashes.
func (f Filter) textSize() int {
	n := 0
	for _, t := range f.Terms {
		n += len(t.Field) + len(t.Value) + 6
	}
	return n
}

// Include returns the filter with field="value" added (the + button). An
// exclusion of the same value is replaced.
func (f Filter) Include(name, value string) Filter {
	return f.with(Term{Field: name, Op: Eq, Value: value}, Neq)
}

// Exclude returns the filter with field!="value" added (the - button). An
// inclusion of the same value is replaced.
func (f Filter) Exclude(name, value string) Filter {
	return f.with(Term{Field: name, Op: Neq, Value: value}, Eq)
}

func (f Filter) with(t Term, opposite Op) Filter {
	out := Filter{Terms: make([]Term, 0, len(f.Terms)+1)}
	for _, u := range f.Terms {
		if u.same(t) || u.same(Term{Field: t.Field, Op: opposite, Value: t.Value}) {
			continue
		}
		out.Terms = append(out.Terms, u)
	}
	t.Offset = -1
	out.Terms = append(out.Terms, t)
	return out
}

// And returns the terms of both filters, f's first.
func (f Filter) And(g Filter) Filter {
	return Filter{Terms: append(slices.Clip(f.Terms), g.Terms...)}
}

// Group is the terms of one field.
type Group struct {
	Field   field.Field
	Include []Term // OR together
	Exclude []Term // AND together
}

// Groups returns the terms by field, in registry order, without repeats.
func (f Filter) Groups() []Group {
	var groups []Group
	for _, fd := range field.All() {
		var g Group
		for i, t := range f.Terms {
			if t.Field != fd.Name || slices.ContainsFunc(f.Terms[:i], t.same) {
				continue
			}
			if t.Op.Include() {
				g.Include = append(g.Include, t)
			} else {
				g.Exclude = append(g.Exclude, t)
			}
		}
		if g.Include != nil || g.Exclude != nil {
			g.Field = fd
			groups = append(groups, g)
		}
	}
	return groups
}
