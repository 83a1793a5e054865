package e2e

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/activityaudit/activityaudit/plugin/internal/falcoapi"
)

// This file evaluates the subset of Falco's condition language our rules
// use, so a test can check that each rule fires on the records it is meant
// for and not on others, with values the built plugin extracts. It is no
// substitute for Falco (none can be installed here): it follows Falco's
// documented semantics — a comparison on a field without a value is false,
// `in` takes literals and lists, glob is a shell pattern, regex is RE2.

type ruleSet struct {
	macros map[string]string
	lists  map[string][]string
}

// cond is a parsed condition over field values as text (bool as true or
// false, numbers in decimal); a field without a value is not in the map.
type cond func(values map[string]string) bool

type parser struct {
	toks []string
	pos  int
	rs   *ruleSet
	// fields names every field a condition reads.
	fields map[string]bool
	depth  int
}

// tokenize splits a condition into words, strings, parentheses and commas.
func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case unicode.IsSpace(rune(c)):
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, string(c))
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && !strings.ContainsRune("(),=!<>\"", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func (rs *ruleSet) compile(condition string, fields map[string]bool) (cond, error) {
	toks, err := tokenize(condition)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, rs: rs, fields: fields}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return c, nil
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) next() string { t := p.peek(); p.pos++; return t }

func (p *parser) or() (cond, error) {
	l, err := p.and()
	for err == nil && p.peek() == "or" {
		p.next()
		var r cond
		if r, err = p.and(); err == nil {
			a, b := l, r
			l = func(v map[string]string) bool { return a(v) || b(v) }
		}
	}
	return l, err
}

func (p *parser) and() (cond, error) {
	l, err := p.not()
	for err == nil && p.peek() == "and" {
		p.next()
		var r cond
		if r, err = p.not(); err == nil {
			a, b := l, r
			l = func(v map[string]string) bool { return a(v) && b(v) }
		}
	}
	return l, err
}

func (p *parser) not() (cond, error) {
	if p.peek() == "not" {
		p.next()
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return func(v map[string]string) bool { return !c(v) }, nil
	}
	return p.primary()
}

func (p *parser) primary() (cond, error) {
	t := p.next()
	switch {
	case t == "(":
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		return c, nil
	case p.rs.macros[t] != "":
		if p.depth > 20 {
			return nil, fmt.Errorf("macro %s nests too deep", t)
		}
		sub := &parser{rs: p.rs, fields: p.fields, depth: p.depth + 1}
		toks, err := tokenize(p.rs.macros[t])
		if err != nil {
			return nil, err
		}
		sub.toks = toks
		c, err := sub.or()
		if err == nil && sub.pos != len(sub.toks) {
			err = fmt.Errorf("macro %s: unexpected %q", t, sub.toks[sub.pos])
		}
		return c, err
	case strings.Contains(t, "."):
		return p.comparison(t)
	}
	return nil, fmt.Errorf("unexpected %q", t)
}

func (p *parser) comparison(fieldName string) (cond, error) {
	p.fields[fieldName] = true
	op := p.next()
	if op == "in" {
		if p.next() != "(" {
			return nil, fmt.Errorf("%s in: missing (", fieldName)
		}
		var set []string
		for {
			t := p.next()
			if t == ")" {
				break
			}
			if t == "," {
				continue
			}
			if items, ok := p.rs.lists[t]; ok {
				set = append(set, items...)
			} else {
				set = append(set, unquote(t))
			}
		}
		return func(v map[string]string) bool {
			x, ok := v[fieldName]
			if !ok {
				return false
			}
			for _, s := range set {
				if x == s {
					return true
				}
			}
			return false
		}, nil
	}
	rhs := unquote(p.next())
	var match func(string) bool
	switch op {
	case "=":
		match = func(x string) bool { return x == rhs }
	case "!=":
		match = func(x string) bool { return x != rhs }
	case "contains":
		match = func(x string) bool { return strings.Contains(x, rhs) }
	case "icontains":
		match = func(x string) bool { return strings.Contains(strings.ToLower(x), strings.ToLower(rhs)) }
	case "startswith":
		match = func(x string) bool { return strings.HasPrefix(x, rhs) }
	case "endswith":
		match = func(x string) bool { return strings.HasSuffix(x, rhs) }
	case "glob":
		match = func(x string) bool { ok, _ := path.Match(rhs, x); return ok }
	case "regex":
		re, err := regexp.Compile(rhs)
		if err != nil {
			return nil, fmt.Errorf("%s regex: %w", fieldName, err)
		}
		match = re.MatchString
	default:
		return nil, fmt.Errorf("%s: unknown operator %q", fieldName, op)
	}
	return func(v map[string]string) bool {
		x, ok := v[fieldName]
		return ok && match(x)
	}, nil
}

// texts turns extracted values into the text a condition compares.
func texts(fields []falcoapi.Field, values []falcoapi.Value) map[string]string {
	m := map[string]string{}
	for i, f := range fields {
		v := values[i]
		if !v.Present {
			continue
		}
		switch f.Type {
		case falcoapi.TypeString:
			m[f.Name] = v.Str
		case falcoapi.TypeUint64:
			m[f.Name] = strconv.FormatUint(v.U64, 10)
		case falcoapi.TypeBool:
			m[f.Name] = strconv.FormatBool(v.Bool)
		}
	}
	return m
}

func unquote(t string) string {
	if len(t) >= 2 && t[0] == '"' {
		if s, err := strconv.Unquote(t); err == nil {
			return s
		}
		return t[1 : len(t)-1]
	}
	return t
}
