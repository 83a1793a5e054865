// Package stream holds the embedded store's data model, shared by the push
// decoders, the storage engine and the query engine: label sets, entries and
// streams, as Loki defines them.
package stream

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Label is one label (or structured-metadata) name and value.
type Label struct {
	Name, Value string
}

// Labels is a label set sorted by name, without duplicate names.
type Labels []Label

// FromMap builds a sorted label set from a map.
func FromMap(m map[string]string) Labels {
	ls := make(Labels, 0, len(m))
	for k, v := range m {
		ls = append(ls, Label{k, v})
	}
	ls.Sort()
	return ls
}

// Sort sorts the labels by name.
func (ls Labels) Sort() {
	slices.SortFunc(ls, func(a, b Label) int { return cmp.Compare(a.Name, b.Name) })
}

// Get returns the value of name, or "" when it is absent.
func (ls Labels) Get(name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Has reports whether the set holds name.
func (ls Labels) Has(name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}

// Map returns the labels as a map.
func (ls Labels) Map() map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

// String formats the set as Loki does: {a="1", b="2"}.
func (ls Labels) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// Equal reports whether two sets hold the same labels.
func (ls Labels) Equal(o Labels) bool { return slices.Equal(ls, o) }

// Entry is one log entry.
type Entry struct {
	// Time is the timestamp in Unix nanoseconds.
	Time int64
	Line string
	// Metadata is the entry's structured metadata, sorted by name.
	Metadata Labels
}

// Stream is a label set and entries pushed to it.
type Stream struct {
	Labels  Labels
	Entries []Entry
}
