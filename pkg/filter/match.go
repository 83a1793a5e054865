package filter

import (
	"fmt"
	"regexp"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// Matcher evaluates a filter on records in memory, with exactly the semantics
// of the LogQL the filter compiles to.
type Matcher struct {
	groups []matchGroup
}

type matchGroup struct {
	name     string
	include  []predicate
	excludes []predicate
}

type predicate struct {
	op    Op
	value string
	re    *regexp.Regexp
}

func (p predicate) holds(text string) bool {
	switch p.op {
	case Eq:
		return text == p.value
	case Neq:
		return text != p.value
	case Re:
		return p.re.MatchString(text)
	default:
		return !p.re.MatchString(text)
	}
}

// Matcher compiles the filter for in-memory evaluation.
func (f Filter) Matcher() (*Matcher, error) {
	m := &Matcher{}
	for _, g := range f.Groups() {
		mg := matchGroup{name: g.Field.Name}
		for _, ts := range [2][]Term{g.Include, g.Exclude} {
			for _, t := range ts {
				op, v := t.Predicate()
				pr := predicate{op: op, value: v}
				if op.Regex() {
					re, err := regexp.Compile(anchor(v))
					if err != nil {
						return nil, fmt.Errorf("compile regex of %s: %w", t.Field, err)
					}
					pr.re = re
				}
				if t.Op.Include() {
					mg.include = append(mg.include, pr)
				} else {
					mg.excludes = append(mg.excludes, pr)
				}
			}
		}
		m.groups = append(m.groups, mg)
	}
	return m, nil
}

// Match reports whether the record passes the filter.
func (m *Matcher) Match(r *record.Record) bool {
	for _, g := range m.groups {
		text, _ := r.Text(g.name)
		if len(g.include) > 0 {
			any := false
			for _, p := range g.include {
				if p.holds(text) {
					any = true
					break
				}
			}
			if !any {
				return false
			}
		}
		for _, p := range g.excludes {
			if !p.holds(text) {
				return false
			}
		}
	}
	return true
}
