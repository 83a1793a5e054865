package push

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// parseLabelString parses the label string of a protobuf stream,
// {name="value", name2="value2"}, appending its labels to dst in the order
// written. Values are Go-quoted ("double-quoted" with escapes, or `raw`);
// names match [a-zA-Z_][a-zA-Z0-9_]*; white space may surround the tokens
// and one comma may trail the last pair, as in a LogQL selector. It checks
// syntax only: duplicates, empty values and limits are left to resolve.
func parseLabelString(s string, dst stream.Labels) (stream.Labels, error) {
	p := labelParser{s: s}
	p.space()
	if !p.consume('{') {
		return dst, p.errorf(`expected "{"`)
	}
	for {
		p.space()
		if p.consume('}') {
			break
		}
		name, err := p.name()
		if err != nil {
			return dst, err
		}
		p.space()
		if !p.consume('=') {
			return dst, p.errorf(`expected "=" after label name %q`, name)
		}
		p.space()
		value, err := p.value()
		if err != nil {
			return dst, err
		}
		dst = append(dst, stream.Label{Name: name, Value: value})
		p.space()
		if p.consume(',') {
			continue
		}
		if p.consume('}') {
			break
		}
		return dst, p.errorf(`expected "," or "}"`)
	}
	p.space()
	if p.i < len(p.s) {
		return dst, p.errorf("unexpected text after the closing brace")
	}
	return dst, nil
}

// labelParser reads a label string.
type labelParser struct {
	s string
	i int
}

// errorf describes a syntax error at the current position.
func (p *labelParser) errorf(format string, args ...any) error {
	return fmt.Errorf("parse error at position %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func (p *labelParser) space() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// consume skips c if it is next.
func (p *labelParser) consume(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// name reads a label name.
func (p *labelParser) name() (string, error) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || p.i > start && '0' <= c && c <= '9' {
			p.i++
			continue
		}
		break
	}
	if p.i == start {
		if p.i == len(p.s) {
			return "", p.errorf("unexpected end of labels, expected a label name")
		}
		return "", p.errorf("expected a label name, found %q", p.rune())
	}
	return p.s[start:p.i], nil
}

// rune returns the character at the current position.
func (p *labelParser) rune() rune {
	r, _ := utf8.DecodeRuneInString(p.s[p.i:])
	return r
}

// value reads a quoted label value.
func (p *labelParser) value() (string, error) {
	if p.i == len(p.s) {
		return "", p.errorf("unexpected end of labels, expected a quoted value")
	}
	start := p.i
	switch p.s[p.i] {
	case '"':
		p.i++
		for {
			if p.i >= len(p.s) {
				p.i = start
				return "", p.errorf("unterminated quoted value")
			}
			c := p.s[p.i]
			if c == '"' {
				break
			}
			if c == '\n' {
				return "", p.errorf("newline in quoted value")
			}
			if c == '\\' {
				p.i++
			}
			p.i++
		}
		p.i++
	case '`':
		p.i++
		for p.i < len(p.s) && p.s[p.i] != '`' {
			p.i++
		}
		if p.i >= len(p.s) {
			p.i = start
			return "", p.errorf("unterminated raw value")
		}
		p.i++
	default:
		return "", p.errorf("expected a quoted value, found %q", p.rune())
	}
	quoted := p.s[start:p.i]
	if !utf8.ValidString(quoted) {
		p.i = start
		return "", p.errorf("invalid UTF-8 in value")
	}
	v, err := strconv.Unquote(quoted)
	if err != nil {
		p.i = start
		return "", p.errorf("invalid quoted value %s", clip(quoted, maxQuotedInMsg))
	}
	if !utf8.ValidString(v) {
		p.i = start
		return "", p.errorf("invalid UTF-8 in value")
	}
	return v, nil
}
