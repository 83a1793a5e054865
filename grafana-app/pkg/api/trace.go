package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/link"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/trace"
)

// Who-ran-it status of a trace: what is known of the kube exec behind it.
const (
	// StatusKnown: the kube exec that opened the session was found (Exact
	// tells whether by the audit id its entry process carried).
	StatusKnown = "known"
	// StatusUnknown: no kube exec fits (none recorded, or the session did
	// not come from one).
	StatusUnknown = "unknown"
	// StatusAmbiguous: several requests and sessions fit; none is guessed.
	StatusAmbiguous = "ambiguous"
	// StatusProbe: a kubelet exec probe started the session, not a person.
	StatusProbe = "probe"
	// StatusDenied: the API server refused the request (an audit id's trace).
	StatusDenied = "denied"
	// StatusNoProcess: attach and kubectl debug start no process.
	StatusNoProcess = "no process"
)

// TraceAnswer is the answer of /trace/{id}.
type TraceAnswer struct {
	// ID is what was asked: a session or an audit id.
	ID string `json:"id"`
	// Session is the session's id; "" when the kube exec opened none.
	Session string `json:"session"`
	Status  string `json:"status"`
	// Exact: found by the audit id the entry process carried.
	Exact bool `json:"exact,omitempty"`
	// KubeExec is the request that opened the session; null when unknown.
	KubeExec *AnswerRecord `json:"kube_exec"`
	// Ambiguous are the requests that fit this session and others.
	Ambiguous []AnswerRecord `json:"ambiguous,omitempty"`
	// Candidates are the sessions that fit an ambiguous kube exec.
	Candidates []string `json:"candidates,omitempty"`
	// User is the Kubernetes user: the kube exec's, else the one the
	// session's records carry.
	User string `json:"user,omitempty"`
	// Start and End are the first and last record's time, Unix ns (as
	// decimal strings).
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
	// Processes is the tree: the entry process first, then orphans.
	Processes []*TraceProcess `json:"processes"`
	// Unattributed are connections of no known process.
	Unattributed []AnswerRecord `json:"unattributed,omitempty"`
	Commands     int            `json:"commands"`
	Connections  int            `json:"connections"`
	// Truncated: the session has more records than one trace reads.
	Truncated bool `json:"truncated,omitempty"`
	// Audit links the audit view of the session; Link is this trace's link.
	Audit string `json:"audit,omitempty"`
	Link  string `json:"link,omitempty"`
}

// TraceProcess is one program of the session.
type TraceProcess struct {
	Record      AnswerRecord    `json:"record"`
	Entry       bool            `json:"entry,omitempty"`
	Orphan      bool            `json:"orphan,omitempty"`
	Exec        bool            `json:"exec,omitempty"`
	Inferred    bool            `json:"inferred,omitempty"`
	Connections []AnswerRecord  `json:"connections,omitempty"`
	Children    []*TraceProcess `json:"children,omitempty"`
}

// trace answers a session (an exec_id) or a kube exec (its audit id):
//
//	GET /trace/{id}?from&to     (default: the last 24 hours)
func (a *API) trace(ctx context.Context, r *http.Request) (any, error) {
	p, err := a.readParams(r, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	if strings.TrimSpace(id) == "" {
		return nil, badParam("id", "give a session or an audit id")
	}
	q := &requestStore{store: a.store}
	defer q.release() // the answer is written out below
	found, err := trace.Find(ctx, q, id, p.From, p.To, trace.Window{})
	if errors.Is(err, trace.ErrNotFound) {
		what := "session"
		if trace.IsAuditID(id) {
			what = "kube exec"
		}
		return nil, notFound("%s %q: no records between %s and %s", what, id, p.From.UTC().Format(time.RFC3339), p.To.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return nil, err
	}
	if m := found.Match; found.Session == nil && m != nil && m.KubeExec.Session != "" {
		// The kube exec record names its session itself (the collector
		// writes it when it knows): trace.Find correlates only by entry
		// processes, so follow the record's own word.
		byRecord, err := trace.Find(ctx, q, m.KubeExec.Session, p.From, p.To, trace.Window{})
		if err != nil && !errors.Is(err, trace.ErrNotFound) {
			return nil, err
		}
		if err == nil {
			found = byRecord
		}
	}
	ans := traceAnswer(id, found)
	ans.Link = link.TraceURL(a.cfg.GrafanaURL, id, p.From, p.To)
	if ans.Session != "" {
		ans.Audit = link.AuditURL(a.cfg.GrafanaURL, p.From, p.To, nil, sessionFilter(ans.Session))
	}
	return pooledJSON(append(ans.appendJSON(answerBuffer(4096)), '\n')), nil
}

// traceAnswer answers what Find found.
func traceAnswer(id string, f trace.Found) *TraceAnswer {
	ans := &TraceAnswer{ID: id, Processes: []*TraceProcess{}}
	if f.Session == nil {
		ans.setMatch(f.Match)
	} else {
		ans.setSession(f.Session)
	}
	return ans
}

// setMatch answers a kube exec that opened no session.
func (ans *TraceAnswer) setMatch(m *trace.Match) {
	ans.KubeExec = &AnswerRecord{&m.KubeExec}
	ans.User = m.KubeExec.K8sUser
	ans.Candidates = m.Candidates
	switch m.Reason {
	case trace.ReasonDenied:
		ans.Status = StatusDenied
	case trace.ReasonNoProcess:
		ans.Status = StatusNoProcess
	case trace.ReasonAmbiguous:
		ans.Status = StatusAmbiguous
	default:
		ans.Status = StatusUnknown
	}
}

// setSession answers a session.
func (ans *TraceAnswer) setSession(s *trace.Session) {
	ans.Session = s.ID
	ans.Status, ans.Exact = whoStatus(s)
	if k := s.KubeExec(); k != nil {
		ans.KubeExec = &AnswerRecord{k}
	}
	if len(s.KubeExecs) == 0 {
		ans.Ambiguous = answerRecords(s.Ambiguous)
	}
	ans.User = sessionUser(s)
	if s.Start != 0 {
		ans.Start = formatNs(s.Start)
		ans.End = formatNs(s.End)
	}
	var conv func(p *trace.Process) *TraceProcess
	conv = func(p *trace.Process) *TraceProcess {
		tp := &TraceProcess{Record: AnswerRecord{p.Record}, Entry: p.Entry, Orphan: p.Orphan, Exec: p.Exec, Inferred: p.Inferred}
		if len(p.Conns) > 0 {
			tp.Connections = answerRecords(p.Conns)
		}
		for _, c := range p.Children {
			tp.Children = append(tp.Children, conv(c))
		}
		return tp
	}
	for _, p := range s.Roots {
		ans.Processes = append(ans.Processes, conv(p))
	}
	if len(s.Unattributed) > 0 {
		ans.Unattributed = answerRecords(s.Unattributed)
	}
	s.Walk(func(p *trace.Process, _ int) bool {
		if !p.Inferred {
			ans.Commands++
		}
		ans.Connections += len(p.Conns)
		return true
	})
	ans.Connections += len(s.Unattributed)
	procs, conns := s.Counts()
	ans.Truncated = procs+conns+len(s.KubeExecs) >= logql.MaxTrace
}

// whoStatus says what is known of the kube exec behind a session.
func whoStatus(s *trace.Session) (status string, exact bool) {
	switch {
	case s.Probe:
		return StatusProbe, false
	case len(s.KubeExecs) > 0:
		return StatusKnown, s.Exact
	case len(s.Ambiguous) > 0:
		return StatusAmbiguous, false
	}
	return StatusUnknown, false
}

// sessionUser is the kube exec's user, else the first the session's
// records carry.
func sessionUser(s *trace.Session) string {
	if k := s.KubeExec(); k != nil && k.K8sUser != "" {
		return k.K8sUser
	}
	u := ""
	s.Walk(func(p *trace.Process, _ int) bool {
		if u == "" {
			u = p.Record.K8sUser
		}
		return u == ""
	})
	return u
}

// WhoAnswer is the answer of /who.
type WhoAnswer struct {
	Session   string         `json:"session"`
	Status    string         `json:"status"`
	Exact     bool           `json:"exact,omitempty"`
	KubeExec  *AnswerRecord  `json:"kube_exec"`
	Ambiguous []AnswerRecord `json:"ambiguous,omitempty"`
	User      string         `json:"user,omitempty"`
	// Trace is the link to the session's trace.
	Trace string `json:"trace"`
}

// WhoLookback is how far before from /who reads, so that a session that
// began before the range still has its entry process and kube exec.
const WhoLookback = time.Hour

// who answers who is behind the session a record belongs to:
//
//	GET /who?session=<session>&from&to
func (a *API) who(ctx context.Context, r *http.Request) (any, error) {
	p, err := a.readParams(r, time.Hour)
	if err != nil {
		return nil, err
	}
	session := r.URL.Query().Get("session")
	if strings.TrimSpace(session) == "" || trace.IsAuditID(session) {
		return nil, badParam("session", "give the session of a record (an exec_id such as node-a:1795687500000000000:9001)")
	}
	from := p.From.Add(-WhoLookback)
	q := &requestStore{store: a.store}
	defer q.release() // the answer is written out below
	found, err := trace.Find(ctx, q, session, from, p.To, trace.Window{})
	if errors.Is(err, trace.ErrNotFound) {
		return nil, notFound("session %q: no records between %s and %s", session, from.UTC().Format(time.RFC3339), p.To.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return nil, err
	}
	s := found.Session
	ans := WhoAnswer{Session: s.ID, User: sessionUser(s)}
	ans.Status, ans.Exact = whoStatus(s)
	if k := s.KubeExec(); k != nil {
		ans.KubeExec = &AnswerRecord{k}
	}
	if len(s.KubeExecs) == 0 {
		ans.Ambiguous = answerRecords(s.Ambiguous)
	}
	ans.Trace = link.TraceURL(a.cfg.GrafanaURL, s.ID, from, p.To)
	return pooledJSON(append(ans.appendJSON(answerBuffer(512)), '\n')), nil
}

func formatNs(ns int64) string { return strconv.FormatInt(ns, 10) }

// sessionFilter scopes to one session.
func sessionFilter(session string) filter.Filter {
	return filter.Filter{Terms: []filter.Term{{Field: "session", Op: filter.Eq, Value: session, Offset: -1}}}
}
