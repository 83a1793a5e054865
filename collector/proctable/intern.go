package proctable

import "strings"

// interner makes equal strings share one copy: exe paths, comms and working
// directories repeat across processes. It is bounded: when full it starts
// afresh (strings already handed out stay valid).
type interner struct {
	m   map[string]string
	max int
}

func newInterner(max int) interner {
	return interner{m: make(map[string]string), max: max}
}

func (in *interner) get(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.m[s]; ok {
		return v
	}
	if len(in.m) >= in.max {
		clear(in.m)
	}
	// A copy: s may be a slice of a larger buffer the table should not keep.
	s = strings.Clone(s)
	in.m[s] = s
	return s
}
