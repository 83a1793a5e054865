// Package logql compiles Activity Audit's questions — a list of events, a
// frequency graph, grouping counts, a session's trace, the top values of a
// field — into the LogQL queries Loki (or the embedded store) answers.
//
// Label fields go into the stream selector, structured metadata straight into
// label filters, body fields after a `| json` that extracts only the fields
// used. Every value is a quoted string literal: user text never changes the
// shape of a query.
package logql

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
)

// Scope is what a query is about: the selected sources and the filter.
type Scope struct {
	// Sources selected; none means all.
	Sources []field.Source
	Filter  filter.Filter
}

// Kind of Loki query endpoint.
type Kind string

// Query kinds.
const (
	Range   Kind = "query_range"
	Instant Kind = "query"
)

// Direction of a log query.
type Direction string

// Directions.
const (
	Backward Direction = "backward"
	Forward  Direction = "forward"
)

// Request is a compiled query with the parameters to send with it.
type Request struct {
	Kind  Kind
	Query string
	// Start (inclusive) and End (exclusive) of a range query.
	Start, End time.Time
	// Time of an instant query.
	Time time.Time
	// Step of a metric range query.
	Step time.Duration
	// Limit and Direction of a log query.
	Limit     int
	Direction Direction
}

// Stream returns the log query for the scope, with the body fields in extra
// extracted too: `{selector} | metadata filters | json fields | body filters`.
func Stream(s Scope, extra ...string) string {
	var b strings.Builder
	writeStream(&b, s, extra)
	return b.String()
}

func writeStream(b *strings.Builder, s Scope, extra []string) {
	groups := s.Filter.Groups()
	b.WriteString(`{job=`)
	b.WriteString(strconv.Quote(field.Job))
	if m := sourceMatcher(s.Sources); m != "" {
		b.WriteString(", ")
		b.WriteString(m)
	}
	for _, g := range groups {
		if g.Field.Role == field.Label {
			writeSelectorGroup(b, g)
		}
	}
	b.WriteByte('}')
	for _, g := range groups {
		if g.Field.Role == field.Metadata {
			writeFilterGroup(b, g)
		}
	}
	var parse []string
	for _, f := range field.All() {
		if f.Role != field.Body {
			continue
		}
		used := slices.Contains(extra, f.Name) || slices.ContainsFunc(groups, func(g filter.Group) bool { return g.Field.Name == f.Name })
		if used {
			parse = append(parse, f.Name)
		}
	}
	if len(parse) > 0 {
		b.WriteString(" | json ")
		b.WriteString(strings.Join(parse, ", "))
	}
	for _, g := range groups {
		if g.Field.Role == field.Body {
			writeFilterGroup(b, g)
		}
	}
}

// sourceMatcher selects the sources; all (or none) selected needs no matcher.
func sourceMatcher(sources []field.Source) string {
	var sel []string
	for _, s := range field.Sources {
		if slices.Contains(sources, s) {
			sel = append(sel, string(s))
		}
	}
	switch len(sel) {
	case 0, len(field.Sources):
		return ""
	case 1:
		return "source=" + strconv.Quote(sel[0])
	}
	return "source=~" + strconv.Quote(strings.Join(sel, "|"))
}

// writeSelectorGroup writes a label field's terms as stream matchers: the
// includes as one matcher (an alternation when there are several), each
// exclude as its own.
func writeSelectorGroup(b *strings.Builder, g filter.Group) {
	name := g.Field.Name
	switch len(g.Include) {
	case 0:
	case 1:
		op, v := g.Include[0].Predicate()
		writeMatcher(b, ", ", name, op, v)
	default:
		alts := make([]string, len(g.Include))
		for i, t := range g.Include {
			op, v := t.Predicate()
			if op == filter.Re {
				alts[i] = "(?:" + v + ")"
			} else {
				alts[i] = regexp.QuoteMeta(v)
			}
		}
		writeMatcher(b, ", ", name, filter.Re, strings.Join(alts, "|"))
	}
	for _, t := range g.Exclude {
		op, v := t.Predicate()
		writeMatcher(b, ", ", name, op, v)
	}
}

// writeFilterGroup writes a field's terms as label filter stages: includes
// OR-ed in one stage, each exclude a stage of its own.
func writeFilterGroup(b *strings.Builder, g filter.Group) {
	for i, t := range g.Include {
		sep := " or "
		if i == 0 {
			sep = " | "
		}
		op, v := t.Predicate()
		writeMatcher(b, sep, g.Field.Name, op, v)
	}
	for _, t := range g.Exclude {
		op, v := t.Predicate()
		writeMatcher(b, " | ", g.Field.Name, op, v)
	}
}

func writeMatcher(b *strings.Builder, sep, name string, op filter.Op, v string) {
	b.WriteString(sep)
	b.WriteString(name)
	b.WriteString(op.String())
	b.WriteString(strconv.Quote(v))
}

// Duration formats d as a LogQL duration in the largest unit that divides it
// exactly: 5m, 24h, 90s, 1500ms.
func Duration(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if d%u.d == 0 {
			return fmt.Sprintf("%d%s", d/u.d, u.name)
		}
	}
	return fmt.Sprintf("%dms", max(1, d.Milliseconds()))
}
