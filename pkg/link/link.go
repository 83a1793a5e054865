// Package link builds the links into the Grafana app (ARCHITECTURE.md,
// "Links"), so that the CLI, the app's backend and the Falco plugin write the
// same URLs:
//
//	audit view  <grafana>/a/activityaudit-app/audit?from=<ms>&to=<ms>&filter=<url-encoded filter>
//	trace view  <grafana>/a/activityaudit-app/trace/<session or audit id>?from=<ms>&to=<ms>
//
// Times are Unix milliseconds. A base URL may carry a path prefix (Grafana
// served under /grafana); a trailing slash is ignored.
package link

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// AppPath is the app's path below the Grafana base URL.
const AppPath = "/a/activityaudit-app"

// AuditURL opens the audit view on a time range and filter. Selected sources
// become source terms in front of the filter; none or all selected add none.
func AuditURL(base string, from, to time.Time, sources []field.Source, flt filter.Filter) string {
	if len(sources) > 0 && len(sources) < len(field.Sources) {
		var terms filter.Filter
		for _, s := range sources {
			terms.Terms = append(terms.Terms, filter.Term{Field: "source", Op: filter.Eq, Value: string(s), Offset: -1})
		}
		flt = terms.And(flt)
	}
	var text [256]byte // the filter's text, escaped into the link
	return auditURL(base, from, to, flt.AppendText(text[:0]))
}

// AuditURLText is AuditURL for a filter given as its text (Filter.String),
// for a caller that shows the text too.
func AuditURLText(base string, from, to time.Time, filterText string) string {
	var text [256]byte
	return auditURL(base, from, to, append(text[:0], filterText...))
}

func auditURL(base string, from, to time.Time, t []byte) string {
	base = strings.TrimRight(base, "/")
	var buf [512]byte // most links: one allocation, the string's
	b := buf[:0]
	if n := len(base) + len(AppPath) + len("/audit?from=&to=&filter=") + 2*20 + 3*len(t); n > len(buf) {
		b = make([]byte, 0, n)
	}
	b = append(b, base...)
	b = append(b, AppPath...)
	b = append(b, "/audit?from="...)
	b = strconv.AppendInt(b, from.UnixMilli(), 10)
	b = append(b, "&to="...)
	b = strconv.AppendInt(b, to.UnixMilli(), 10)
	if len(t) > 0 {
		b = append(b, "&filter="...)
		b = appendQueryEscape(b, t)
	}
	return string(b)
}

// TraceURL opens the trace view of a session (an exec_id) or of a kube exec
// request (its audit id).
func TraceURL(base, id string, from, to time.Time) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(base, "/"))
	b.WriteString(AppPath)
	b.WriteString("/trace/")
	b.WriteString(url.PathEscape(id))
	b.WriteByte('?')
	writeRange(&b, from, to)
	return b.String()
}

func writeRange(b *strings.Builder, from, to time.Time) {
	b.WriteString("from=")
	b.WriteString(strconv.FormatInt(from.UnixMilli(), 10))
	b.WriteString("&to=")
	b.WriteString(strconv.FormatInt(to.UnixMilli(), 10))
}

// appendQueryEscape appends a query parameter value escaped as
// url.QueryEscape does but for spaces, written %20 (a "+" reads as a plus
// sign to some parsers): every byte but A-Z a-z 0-9 - _ . ~ as %XX.
func appendQueryEscape(b, s []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range s {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}

// Window is how far a link's time range reaches before the start and after
// the end of what it points at.
type Window struct {
	Before, After time.Duration
}

// DefaultWindow reaches back an hour, so that the trace of a long session
// still holds its entry process, and a quarter of an hour ahead, for what
// followed.
var DefaultWindow = Window{Before: time.Hour, After: 15 * time.Minute}

// Range is the time range from start-Before to end+After (end before start
// counts as start).
func (w Window) Range(start, end time.Time) (from, to time.Time) {
	if end.Before(start) {
		end = start
	}
	return start.Add(-w.Before), end.Add(w.After)
}

// Scope is the filter that selects what a record belongs to: its exec
// session; else, for a kube exec request, the pod it targeted (or its audit
// id); else its container, its pod, or its host.
func Scope(r *record.Record) filter.Filter {
	var f filter.Filter
	add := func(name, value string) {
		f.Terms = append(f.Terms, filter.Term{Field: name, Op: filter.Eq, Value: value, Offset: -1})
	}
	switch {
	case r.Session != "":
		add("session", r.Session)
	case r.Source == field.KubeExec && podOf(r) != "":
		add("namespace", r.Namespace)
		add("pod", podOf(r))
	case r.Source == field.KubeExec && r.AuditID != "":
		add("audit_id", r.AuditID)
	case r.ContainerID != "":
		add("container_id", r.ContainerID)
	case r.Pod != "":
		add("namespace", r.Namespace)
		add("pod", r.Pod)
	case r.Host != "":
		add("host", r.Host)
	}
	return f
}

// podOf is a kube exec request's target pod: its pod, else the object name.
func podOf(r *record.Record) string {
	if r.Pod != "" {
		return r.Pod
	}
	return r.Name
}

// Record returns the links of a record: the audit view of its scope (Scope)
// around it, and the trace of its session — or, for a kube exec request
// without a known session, of its audit id. trace is "" when the record
// belongs to no session. A kube exec request's range runs to its end_time
// when known.
func Record(base string, r *record.Record, w Window) (audit, trace string) {
	start := time.Unix(0, r.Time)
	end := start
	if r.Source == field.KubeExec && r.EndTime != 0 {
		end = time.Unix(0, int64(r.EndTime))
	}
	from, to := w.Range(start, end)
	audit = AuditURL(base, from, to, nil, Scope(r))
	switch {
	case r.Session != "":
		trace = TraceURL(base, r.Session, from, to)
	case r.Source == field.KubeExec && r.AuditID != "":
		trace = TraceURL(base, r.AuditID, from, to)
	}
	return audit, trace
}

// KubeExec is a kube exec or attach request as the Kubernetes audit log
// tells it (Falco's k8s_audit events).
type KubeExec struct {
	// AuditID is the request's audit id.
	AuditID string
	// Namespace and Pod are the target.
	Namespace, Pod string
	// Start is when the API server received the request; End when it
	// finished, or Start while it runs.
	Start, End time.Time
}

// KubeExecLinks returns the links of a kube exec request: the audit view of
// the target pod over the request (plus the window), and the trace of the
// request by its audit id (the app finds the session it opened).
func KubeExecLinks(base string, k KubeExec, w Window) (audit, trace string) {
	from, to := w.Range(k.Start, k.End)
	r := record.Record{Source: field.KubeExec, Namespace: k.Namespace, Pod: k.Pod, AuditID: k.AuditID}
	audit = AuditURL(base, from, to, nil, Scope(&r))
	if k.AuditID != "" {
		trace = TraceURL(base, k.AuditID, from, to)
	}
	return audit, trace
}
