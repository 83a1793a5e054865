package trace

import (
	"cmp"
	"slices"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// Window bounds how far a session's entry process may start from its kube
// exec request's ResponseStarted (the kube_exec record's time): the API
// server and the node have their own clocks, and the runtime starts the
// process around the moment the stream is upgraded.
type Window struct {
	Before, After time.Duration
}

// DefaultWindow is the window Correlate uses when given none.
var DefaultWindow = Window{Before: 10 * time.Second, After: 10 * time.Second}

// Kubectl's shell wrapper (`kubectl exec -it POD -- sh -c "command -v bash
// >/dev/null && exec bash || exec sh"`, what `kubectl debug` and many
// tools run) is one session: the process keeps its exec_id when it execs the
// shell, so its entry record carries the wrapper's argv and matches as any
// other command does.

// Match is the outcome of correlating one kube exec request.
type Match struct {
	// KubeExec is the request.
	KubeExec record.Record
	// Session is the session it opened; "" when none was found, or when
	// several fit (Ambiguous).
	Session string
	// Exact is true when the session's entry process carried the request's
	// audit id (KUBERNETES_EXEC_AUDIT_ID, KEP-6035): no guess at all.
	Exact bool
	// Candidates are the sessions that fit when more than one did: the
	// match is never guessed.
	Candidates []string
	// Reason says why there is no session: "denied" (the API server refused
	// the request), "no process" (attach and kubectl debug start none: they
	// join a running container), "not found" (no session fits).
	Reason string
}

// Ambiguous reports whether several sessions fit the request.
func (m *Match) Ambiguous() bool { return len(m.Candidates) > 1 }

// Why no session, in Match.Reason.
const (
	ReasonDenied    = "denied"
	ReasonNoProcess = "no process"
	ReasonNotFound  = "not found"
	ReasonAmbiguous = "ambiguous"
)

// Correlate ties kube exec requests to the sessions they opened, from the
// kube_exec records and the cmd records of session entry processes
// (session_entry=true) of the same pods around the same times; records of
// other kinds are ignored. A session fits a request when its entry process
// ran in the request's container (container id, else namespace, pod and
// container name), started within the window around the request, with the
// argv the request asked for, and was not started by a kubelet probe. An
// entry that carried a request's audit id matches it exactly and fits no
// other request. Matches come in the order of kubeExecs.
func Correlate(kubeExecs, entries []record.Record, w Window) []Match {
	if w == (Window{}) {
		w = DefaultWindow
	}
	// One candidate per session: its entry's first program (the argv the
	// request asked for; a later program of the entry process, after an
	// exec, is not), a probe if any of its records says so.
	byAudit := map[string]string{} // audit id → session, from entries that carry one
	first := map[string]int{}      // session → index in cands
	var cands []record.Record
	probe := map[string]bool{}
	for i := range entries {
		e := &entries[i]
		if e.Source != field.Cmd || !e.SessionEntry || e.Session == "" {
			continue
		}
		if e.AuditID != "" {
			byAudit[e.AuditID] = e.Session
		}
		probe[e.Session] = probe[e.Session] || e.Probe
		j, ok := first[e.Session]
		switch {
		case !ok:
			first[e.Session] = len(cands)
			cands = append(cands, *e)
		case e.Time < cands[j].Time:
			cands[j] = *e
		}
	}
	cands = slices.DeleteFunc(cands, func(e record.Record) bool { return probe[e.Session] })
	claimed := map[string]bool{} // sessions matched exactly
	for _, s := range byAudit {
		claimed[s] = true
	}
	out := make([]Match, 0, len(kubeExecs))
	for _, k := range kubeExecs {
		if k.Source != field.KubeExec {
			continue
		}
		m := Match{KubeExec: k}
		switch {
		case k.ResponseCode >= 400:
			m.Reason = ReasonDenied
		case k.Subresource != "exec":
			m.Reason = ReasonNoProcess
		default:
			if s, ok := byAudit[k.AuditID]; ok && k.AuditID != "" {
				m.Session, m.Exact = s, true
				break
			}
			var fit []string
			for i := range cands {
				e := &cands[i]
				if claimed[e.Session] || !fits(&k, e, w) {
					continue
				}
				fit = append(fit, e.Session)
			}
			switch len(fit) {
			case 0:
				m.Reason = ReasonNotFound
			case 1:
				m.Session = fit[0]
			default:
				slices.Sort(fit)
				m.Candidates, m.Reason = fit, ReasonAmbiguous
			}
		}
		out = append(out, m)
	}
	return out
}

// fits tells whether entry e could be the process request k started.
func fits(k, e *record.Record, w Window) bool {
	if k.ContainerID != "" && e.ContainerID != "" {
		if k.ContainerID != e.ContainerID {
			return false
		}
	} else if k.Namespace == "" || k.Namespace != e.Namespace || podOf(k) != e.Pod ||
		(k.Container != "" && e.Container != "" && k.Container != e.Container) {
		return false
	}
	if e.Time < k.Time-int64(w.Before) || e.Time > k.Time+int64(w.After) {
		return false
	}
	return k.Command == e.Cmdline
}

// podOf is the pod a request targets: its pod field, else the object name.
func podOf(k *record.Record) string {
	if k.Pod != "" {
		return k.Pod
	}
	return k.Name
}

// KubeExecOf finds the request that opened session among matches: the
// reverse of Correlate, for "who ran this?" from any record of a session.
func KubeExecOf(session string, matches []Match) (Match, bool) {
	for _, m := range matches {
		if m.Session == session {
			return m, true
		}
	}
	return Match{}, false
}

// CandidatesOf lists the requests whose ambiguous matches name session.
func CandidatesOf(session string, matches []Match) []Match {
	var out []Match
	for _, m := range matches {
		if slices.Contains(m.Candidates, session) {
			out = append(out, m)
		}
	}
	slices.SortStableFunc(out, func(a, b Match) int { return cmp.Compare(a.KubeExec.Time, b.KubeExec.Time) })
	return out
}
