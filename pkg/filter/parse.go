package filter

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/activityaudit/activityaudit/pkg/field"
)

// Limits on what a filter may hold.
const (
	MaxValueLen = 4096 // bytes in one value
	MaxTerms    = 256
	MaxNameLen  = 64
)

// Error is an invalid filter: what is wrong, and where.
type Error struct {
	// Offset is the byte offset of the problem in the filter text.
	Offset int
	// Column is the 1-based character position of the problem.
	Column int
	// Msg says what is wrong.
	Msg string
	// Suggestion is the closest known attribute, for an unknown one.
	Suggestion string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid filter at column %d: %s", e.Column, e.Msg)
}

// Parse reads a filter. An error is an *Error naming the position.
func Parse(text string) (Filter, error) {
	p := parser{text: text}
	f, err := p.parse()
	if err != nil {
		return Filter{}, err
	}
	return f, nil
}

// MustParse is Parse for filters known to be valid; it panics on error.
func MustParse(text string) Filter {
	f, err := Parse(text)
	if err != nil {
		panic(err)
	}
	return f
}

type parser struct {
	text string
	pos  int
}

func (p *parser) errorf(offset int, format string, args ...any) *Error {
	return &Error{
		Offset: offset,
		Column: utf8.RuneCountInString(p.text[:offset]) + 1,
		Msg:    fmt.Sprintf(format, args...),
	}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.text) {
		switch p.text[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) parse() (Filter, error) {
	var f Filter
	for {
		p.skipSpace()
		if p.pos >= len(p.text) {
			return f, nil
		}
		if len(f.Terms) == MaxTerms {
			return Filter{}, p.errorf(p.pos, "too many terms (at most %d)", MaxTerms)
		}
		t, err := p.term()
		if err != nil {
			return Filter{}, err
		}
		f.Terms = append(f.Terms, t)
		if p.pos < len(p.text) && !isSpace(p.text[p.pos]) {
			return Filter{}, p.errorf(p.pos, "expected white space after the value of %s", t.Field)
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isNameChar(c byte) bool {
	return c == '_' || c == '.' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isOpChar(c byte) bool { return c == '=' || c == '!' || c == '~' || c == '<' || c == '>' }

func (p *parser) term() (Term, error) {
	start := p.pos
	for p.pos < len(p.text) && isNameChar(p.text[p.pos]) {
		p.pos++
	}
	name := p.text[start:p.pos]
	if name == "" {
		c, _ := utf8.DecodeRuneInString(p.text[p.pos:])
		return Term{}, p.errorf(start, "expected an attribute name, found %q", c)
	}
	fd, err := p.lookup(name, start)
	if err != nil {
		return Term{}, err
	}

	p.skipSpace() // comm = "x" is read as comm="x"
	opStart := p.pos
	for p.pos < len(p.text) && isOpChar(p.text[p.pos]) {
		p.pos++
	}
	var op Op
	switch opTok := p.text[opStart:p.pos]; opTok {
	case "=":
		op = Eq
	case "!=":
		op = Neq
	case "=~":
		op = Re
	case "!~":
		op = Nre
	case "":
		return Term{}, p.errorf(opStart, "expected an operator (= != =~ !~) after %s", name)
	default:
		return Term{}, p.errorf(opStart, "unknown operator %q: use = != =~ or !~", opTok)
	}

	p.skipSpace()
	valStart := p.pos
	value, err := p.value(name, op)
	if err != nil {
		return Term{}, err
	}
	value, err = p.check(fd, op, value, valStart)
	if err != nil {
		return Term{}, err
	}
	return Term{Field: name, Op: op, Value: value, Offset: start}, nil
}

func (p *parser) lookup(name string, at int) (field.Field, error) {
	if len(name) > MaxNameLen {
		return field.Field{}, p.errorf(at, "attribute name too long (at most %d characters)", MaxNameLen)
	}
	fd, ok := field.Lookup(name)
	if !ok {
		e := p.errorf(at, "unknown attribute %q", name)
		if s := field.Closest(name); s != "" {
			e.Suggestion = s
			e.Msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return field.Field{}, e
	}
	if !fd.Filterable() {
		return field.Field{}, p.errorf(at, "%s cannot be filtered on: choose the time range instead", name)
	}
	return fd, nil
}

// value reads a double-quoted value.
func (p *parser) value(name string, op Op) (string, error) {
	if p.pos >= len(p.text) {
		return "", p.errorf(p.pos, "expected a double-quoted value after %s%s", name, op)
	}
	if p.text[p.pos] != '"' {
		return "", p.errorf(p.pos, "expected a double-quoted value after %s%s", name, op)
	}
	open := p.pos
	p.pos++
	var b strings.Builder
	seg := p.pos
	for p.pos < len(p.text) {
		switch c := p.text[p.pos]; c {
		case '"':
			b.WriteString(p.text[seg:p.pos])
			p.pos++
			if b.Len() > MaxValueLen {
				return "", p.errorf(open, "value too long (%d bytes, at most %d)", b.Len(), MaxValueLen)
			}
			return b.String(), nil
		case '\\':
			if p.pos+1 >= len(p.text) {
				return "", p.errorf(open, "unterminated value: missing closing \"")
			}
			if e := p.text[p.pos+1]; e != '"' && e != '\\' {
				r, _ := utf8.DecodeRuneInString(p.text[p.pos+1:])
				return "", p.errorf(p.pos, `unknown escape \%c: only \" and \\ are escapes (write \\ for a backslash)`, r)
			}
			b.WriteString(p.text[seg:p.pos])
			b.WriteByte(p.text[p.pos+1])
			p.pos += 2
			seg = p.pos
		default:
			p.pos++
		}
		if p.pos-open > MaxValueLen*2+2 {
			return "", p.errorf(open, "value too long (at most %d bytes)", MaxValueLen)
		}
	}
	return "", p.errorf(open, "unterminated value: missing closing \"")
}

// check validates a value against its field and operator, and returns it in
// canonical form (numbers without leading zeros).
func (p *parser) check(fd field.Field, op Op, v string, at int) (string, error) {
	if op.Regex() {
		// A valid expression stays valid inside anchor's group, so the user's
		// own text is checked, and the error quotes it.
		if _, err := regexp.Compile(v); err != nil {
			msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
			return "", p.errorf(at, "invalid regular expression: %s", msg)
		}
		return v, nil
	}
	if v == "" {
		return v, nil // the empty value matches an absent field
	}
	switch {
	case fd.Name == "source":
		if _, ok := field.ParseSource(v); !ok {
			return "", p.errorf(at, "unknown source %q: use cmd, net or kube_exec", v)
		}
	case fd.Type == field.Uint:
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return "", p.errorf(at, "%s is a number: %q is not an unsigned integer", fd.Name, v)
		}
		return strconv.FormatUint(n, 10), nil
	case fd.Type == field.Bool:
		if v != "true" && v != "false" {
			return "", p.errorf(at, "%s is true or false, not %q", fd.Name, v)
		}
	}
	return v, nil
}

// anchor makes a regex match the whole value, with . matching newlines, as
// Loki's (Prometheus') matchers do.
func anchor(re string) string { return "^(?s:" + re + ")$" }
