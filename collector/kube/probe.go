package kube

import (
	"slices"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// markProbe sets Probe on a command of a probe session: its entry, whose
// command line is one of its container's exec probes (the kubelet runs the
// probe's argv as the session's entry process), and every later command
// of that session. Only the entry's first program counts: a session whose
// shell ends by exec'ing a program that happens to be a probe's command
// (`sh -c '...; cat /tmp/ready'`) is not a probe.
func (e *Enricher) markProbe(r *record.Record, sc *Scope) {
	if r.Source != field.Cmd || r.Session == "" {
		return
	}
	first := false
	if r.SessionEntry && !e.entries.has(r.Session) {
		e.entries.add(r.Session)
		first = true
	}
	if first && sc != nil && slices.Contains(sc.Probes, r.Cmdline) {
		if e.probes.add(r.Session) {
			e.metrics.probeForgotten.Inc()
		}
	}
	if e.probes.has(r.Session) {
		r.Probe = true
		e.metrics.probeRecords.Inc()
	}
}

// boundedSet is a set of strings that forgets its oldest past a bound.
type boundedSet struct {
	m    map[string]struct{}
	ring []string
	next int
}

func newBoundedSet(n int) boundedSet {
	return boundedSet{m: make(map[string]struct{}), ring: make([]string, 0, n)}
}

func (s *boundedSet) has(k string) bool {
	_, ok := s.m[k]
	return ok
}

// add puts k in the set; forgot is true when that took the oldest out.
func (s *boundedSet) add(k string) (forgot bool) {
	if s.has(k) {
		return false
	}
	s.m[k] = struct{}{}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, k)
		return false
	}
	delete(s.m, s.ring[s.next])
	s.ring[s.next] = k
	s.next = (s.next + 1) % len(s.ring)
	return true
}
