package trace

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// Querier runs a log query (logql.Request of kind Range) and returns its
// records; the CLI and the app's backend query Loki, tests a store.
type Querier interface {
	Records(ctx context.Context, req logql.Request) ([]record.Record, error)
}

// maxCandidates bounds the kube exec requests and entry processes read to
// correlate one session.
const maxCandidates = 1000

// ErrNotFound is returned by Find when nothing carries the id.
var ErrNotFound = errors.New("not found")

// Found is what Find returns.
type Found struct {
	// Session is the trace; nil when the id is a kube exec request that
	// opened no session (denied, attach, ambiguous, or no process found).
	Session *Session
	// Match is the kube exec request's correlation, when there is one:
	// always for an audit id, for a session when a request fits it.
	Match *Match
}

// IsAuditID tells an audit id (a UUID) from a session id (an exec_id,
// node:start:pid, which holds colons).
func IsAuditID(id string) bool { return id != "" && !strings.Contains(id, ":") }

// Find builds the trace of id — a session (an exec_id) or a kube exec
// request (its audit id) — between from and to, and correlates it: a
// session gets the kube exec request that opened it (Session.KubeExecs,
// with Exact when the entry process carried its audit id) or, when several
// requests fit, those as Session.Ambiguous; a request gets its session.
func Find(ctx context.Context, q Querier, id string, from, to time.Time, w Window) (Found, error) {
	if w == (Window{}) {
		w = DefaultWindow
	}
	if IsAuditID(id) {
		return findAudit(ctx, q, id, from, to, w)
	}
	s, err := session(ctx, q, id, from, to)
	if err != nil {
		return Found{}, err
	}
	if len(s.KubeExecs) > 0 || s.Entry == nil || s.Probe {
		return Found{Session: s}, nil
	}
	e := s.Entry.Record
	var kubeExecs []record.Record
	if e.AuditID != "" {
		kubeExecs, err = events(ctx, q, from, to, field.KubeExec, filter.Term{Field: "audit_id", Value: e.AuditID})
	} else if e.Pod != "" {
		kubeExecs, err = events(ctx, q, time.Unix(0, e.Time).Add(-w.After), time.Unix(0, e.Time).Add(w.Before+time.Millisecond),
			field.KubeExec, podTerms(e.Namespace, e.Pod)...)
	}
	if err != nil || len(kubeExecs) == 0 {
		return Found{Session: s}, err
	}
	entries, err := entriesNear(ctx, q, kubeExecs, w)
	if err != nil {
		return Found{}, err
	}
	matches := Correlate(kubeExecs, entries, w)
	if m, ok := KubeExecOf(s.ID, matches); ok {
		s.KubeExecs, s.Exact = []record.Record{m.KubeExec}, m.Exact
		return Found{Session: s, Match: &m}, nil
	}
	for _, m := range CandidatesOf(s.ID, matches) {
		s.Ambiguous = append(s.Ambiguous, m.KubeExec)
	}
	return Found{Session: s}, nil
}

func findAudit(ctx context.Context, q Querier, id string, from, to time.Time, w Window) (Found, error) {
	kubeExecs, err := events(ctx, q, from, to, field.KubeExec, filter.Term{Field: "audit_id", Value: id})
	if err != nil {
		return Found{}, err
	}
	if len(kubeExecs) == 0 {
		return Found{}, fmt.Errorf("kube exec %q: %w", id, ErrNotFound)
	}
	k := kubeExecs[len(kubeExecs)-1] // the oldest (events are newest first)
	if k.Session != "" {
		// A request whose record already names its session (written by a
		// correlating writer) needs no correlation.
		s, err := session(ctx, q, k.Session, time.Unix(0, k.Time).Add(-w.Before), to)
		if err != nil {
			return Found{}, err
		}
		m := Match{KubeExec: k, Session: k.Session}
		if len(s.KubeExecs) == 0 {
			s.KubeExecs = []record.Record{k}
		}
		return Found{Session: s, Match: &m}, nil
	}
	entries, err := entriesNear(ctx, q, []record.Record{k}, w)
	if err != nil {
		return Found{}, err
	}
	// Entries that carried their own audit id belong to their own request:
	// Correlate leaves them out of this one's candidates.
	m := Correlate([]record.Record{k}, entries, w)[0]
	if m.Session == "" {
		return Found{Match: &m}, nil
	}
	s, err := session(ctx, q, m.Session, time.Unix(0, k.Time).Add(-w.Before), to)
	if err != nil {
		return Found{}, err
	}
	s.KubeExecs, s.Exact = []record.Record{k}, m.Exact
	return Found{Session: s, Match: &m}, nil
}

// session reads and builds one session's trace.
func session(ctx context.Context, q Querier, id string, from, to time.Time) (*Session, error) {
	req, err := logql.Trace(id, from, to)
	if err != nil {
		return nil, err
	}
	recs, err := q.Records(ctx, req)
	if err != nil {
		return nil, err
	}
	s := Build(recs)
	if s.Empty() {
		return nil, fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	s.ID = id
	return s, nil
}

// entriesNear reads the entry processes of the pods of kubeExecs around
// their times.
func entriesNear(ctx context.Context, q Querier, kubeExecs []record.Record, w Window) ([]record.Record, error) {
	var out []record.Record
	type pod struct{ ns, name string }
	done := map[pod]bool{}
	for i := range kubeExecs {
		k := &kubeExecs[i]
		p := pod{k.Namespace, podOf(k)}
		if p.ns == "" || p.name == "" || done[p] {
			continue
		}
		done[p] = true
		lo, hi := k.Time, k.Time
		for j := range kubeExecs {
			if o := &kubeExecs[j]; o.Namespace == p.ns && podOf(o) == p.name {
				lo, hi = min(lo, o.Time), max(hi, o.Time)
			}
		}
		terms := append(podTerms(p.ns, p.name), filter.Term{Field: "session_entry", Value: "true"})
		recs, err := events(ctx, q, time.Unix(0, lo).Add(-w.Before), time.Unix(0, hi).Add(w.After+time.Millisecond), field.Cmd, terms...)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

func podTerms(namespace, pod string) []filter.Term {
	return []filter.Term{{Field: "namespace", Value: namespace}, {Field: "pod", Value: pod}}
}

// events reads the records of one source matching terms (all with =).
func events(ctx context.Context, q Querier, from, to time.Time, src field.Source, terms ...filter.Term) ([]record.Record, error) {
	for i := range terms {
		terms[i].Op = filter.Eq
	}
	req, err := logql.Events(logql.Scope{Sources: []field.Source{src}, Filter: filter.Filter{Terms: terms}}, from, to, maxCandidates)
	if err != nil {
		return nil, err
	}
	return q.Records(ctx, req)
}

// Loki is a Querier over a Loki query client.
type Loki struct{ Client *loki.Client }

// Records runs req as a query_range and decodes its streams.
func (l Loki) Records(ctx context.Context, req logql.Request) ([]record.Record, error) {
	dir := loki.Direction(req.Direction)
	resp, err := l.Client.QueryRange(ctx, loki.RangeQuery{Query: req.Query, Start: req.Start, End: req.End, Limit: req.Limit, Direction: dir})
	if err != nil {
		return nil, err
	}
	if t := resp.Data.ResultType; t != loki.ResultTypeStreams {
		return nil, fmt.Errorf("query loki: got a %s result, want streams", t)
	}
	recs, err := record.FromStreams(resp.Data.Streams, dir)
	if err != nil {
		return nil, fmt.Errorf("query loki: %w", err)
	}
	return recs, nil
}
