package api

import (
	"context"
	"encoding/binary"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/policy"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/link"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
)

// PolicyWindow is how far around an alert its activity link reaches.
var PolicyWindow = link.Window{Before: 5 * time.Minute, After: 5 * time.Minute}

// PolicyEventsAnswer is the answer of /policy-events.
type PolicyEventsAnswer struct {
	Events []PolicyEvent `json:"events"`
	Next   string        `json:"next,omitempty"`
}

// PolicyEvent is one Falco alert with the way to its activity.
type PolicyEvent struct {
	ID string `json:"id"`
	// Time is the alert's time, Unix ns as a decimal string.
	Time     string            `json:"time"`
	Rule     string            `json:"rule"`
	Priority string            `json:"priority"`
	Source   string            `json:"source"`
	Hostname string            `json:"hostname,omitempty"`
	Tags     []string          `json:"tags,omitempty"`
	Output   string            `json:"output"`
	Format   string            `json:"format"`
	UUID     string            `json:"uuid,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`

	Namespace     string `json:"namespace,omitempty"`
	Pod           string `json:"pod,omitempty"`
	ContainerID   string `json:"container_id,omitempty"`
	ContainerName string `json:"container_name,omitempty"`
	K8sUser       string `json:"k8s_user,omitempty"`

	// Activity opens the audit view on the alert's pod or container, ±5
	// minutes: Filter and From/To (Unix ms) are its parts, Path the link
	// inside Grafana, Link the absolute link (with the Grafana URL
	// setting). All empty when the alert names no place.
	Activity *ActivityLink `json:"activity,omitempty"`
	// Trace opens the trace of a kube exec alert that carries its audit id.
	Trace string `json:"trace,omitempty"`
}

// ActivityLink is where a policy event leads.
type ActivityLink struct {
	Filter string `json:"filter"`
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Path   string `json:"path"`
	Link   string `json:"link"`
}

type alertEntry struct {
	id uint64
	a  policy.Alert
}

// policyEvents lists Falco alerts newest first, each with its link:
//
//	GET /policy-events?from&to&limit=100&cursor=
//
// The alerts are the streams of the policy selector setting (Falcosidekick's
// rule label by default); sources and filter do not apply.
func (a *API) policyEvents(ctx context.Context, r *http.Request) (any, error) {
	p, err := a.readParams(r, time.Hour)
	if err != nil {
		return nil, err
	}
	limit, err := intParam(r, "limit", DefaultLimit, 1, MaxLimit)
	if err != nil {
		return nil, err
	}
	cur, err := parseCursor(r.URL.Query().Get("cursor"), p.From, p.To)
	if err != nil {
		return nil, err
	}
	alerts, err := a.alerts(ctx, p.From, cur.end(p.To), limit+cur.extra()+1, cur)
	if err != nil {
		return nil, err
	}
	key := func(e *alertEntry) (int64, uint64) { return e.a.Time, e.id }
	sortByTime(alerts, key, false)
	alerts, next := page(alerts, key, cur, limit)

	full, err := a.containerIDs(ctx, alerts)
	if err != nil {
		return nil, err
	}
	ans := PolicyEventsAnswer{Events: make([]PolicyEvent, len(alerts))}
	if next != nil {
		ans.Next = next.String()
	}
	links := make([]ActivityLink, len(alerts))
	for i := range alerts {
		ans.Events[i] = a.policyEvent(&alerts[i], full, &links[i])
	}
	return pooledJSON(append(ans.appendJSON(answerBuffer(1280*len(alerts))), '\n')), nil
}

// alerts reads the alerts between from and to (at most limit, newest
// first), leaving out those the cursor has seen.
func (a *API) alerts(ctx context.Context, from, to time.Time, limit int, cur *cursor) ([]alertEntry, error) {
	logs, err := a.store.client.QueryLogs(ctx, loki.RangeQuery{
		Query: a.cfg.PolicySelector, Start: from, End: to, Limit: limit, Direction: loki.Backward, Categorize: true,
	})
	if err != nil {
		return nil, upstream(err)
	}
	alerts := make([]alertEntry, 0, len(logs.Entries))
	var identity []byte
	for i := range logs.Entries {
		e := &logs.Entries[i]
		labels, line := sortedLabels(e.Stream), e.Line()
		identity = alertIdentity(identity[:0], e.Time, labels, line)
		if id := xxhash.Sum64(identity); !cur.skip(e.Time, id) {
			alerts = append(alerts, alertEntry{id, policy.Read(labels, e.Time, line)})
		}
	}
	return alerts, nil
}

// sortedLabels returns labels sorted by name, a repeated name once with
// its last value (as a map of them would hold). Loki sends them so.
func sortedLabels(ls []loki.Label) []loki.Label {
	if strictlySorted(ls) {
		return ls
	}
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	out := make([]loki.Label, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, loki.Label{Name: k, Value: m[k]})
	}
	return out
}

func strictlySorted(ls []loki.Label) bool {
	for i := 1; i < len(ls); i++ {
		if ls[i-1].Name >= ls[i].Name {
			return false
		}
	}
	return true
}

// alertIdentity appends what identifies an alert's Loki entry, for its id:
// the time (8 bytes, little endian), the stream labels sorted by name,
// each name and value followed by 0xff, and the line.
func alertIdentity(b []byte, t int64, labels []loki.Label, line string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(t))
	for _, l := range labels {
		b = append(append(b, l.Name...), 0xff)
		b = append(append(b, l.Value...), 0xff)
	}
	return append(b, line...)
}

// policyEvent answers an alert; its activity link, when it has one, is
// written into room.
func (a *API) policyEvent(e *alertEntry, full map[string]string, room *ActivityLink) PolicyEvent {
	al := &e.a
	var id [16]byte
	putID(id[:], e.id)
	ev := PolicyEvent{
		ID: string(id[:]), Time: strconv.FormatInt(al.Time, 10),
		Rule: al.Rule, Priority: al.Priority, Source: al.Source, Hostname: al.Hostname, Tags: al.Tags,
		Output: al.Output, Format: al.Format, UUID: al.UUID, Fields: al.Fields,
		Namespace: al.Namespace, Pod: al.Pod, ContainerID: al.ContainerID, ContainerName: al.ContainerName, K8sUser: al.K8sUser,
	}
	t := time.Unix(0, al.Time)
	if scope := al.Scope(full[al.ContainerPrefix()]); len(scope.Terms) > 0 {
		from, to := PolicyWindow.Range(t, t)
		from, to = from.Truncate(time.Millisecond), to.Truncate(time.Millisecond)
		// AuditURL with a base is the base (less a trailing slash) and
		// the path: the path is the link's tail.
		text := scope.String()
		abs := link.AuditURLText(a.cfg.GrafanaURL, from, to, text)
		*room = ActivityLink{
			Filter: text, From: ms(from), To: ms(to),
			Path: abs[len(strings.TrimRight(a.cfg.GrafanaURL, "/")):], Link: abs,
		}
		ev.Activity = room
	}
	if al.AuditID != "" {
		from, to := link.DefaultWindow.Range(t, t)
		ev.Trace = link.TraceURL(a.cfg.GrafanaURL, al.AuditID, from, to)
	}
	return ev
}

// containerIDs resolves the alerts' short container ids to the full ids
// of the activity around them: one count query over the page's window,
// grouped by container_id. A short id that is the prefix of no container,
// or of several, stays unresolved.
func (a *API) containerIDs(ctx context.Context, alerts []alertEntry) (map[string]string, error) {
	var terms filter.Filter
	var lo, hi int64 = math.MaxInt64, math.MinInt64
	seen := map[string]bool{}
	// The alerts' namespaces narrow the query to their streams when every
	// alert to resolve names one (syscall alerts do).
	namespaces, everyNamespace := map[string]bool{}, true
	for i := range alerts {
		a := &alerts[i].a
		p := a.ContainerPrefix()
		if p == "" || len(p) == 64 {
			continue
		}
		if a.Namespace == "" {
			everyNamespace = false
		} else if !namespaces[a.Namespace] {
			namespaces[a.Namespace] = true
		}
		lo, hi = min(lo, a.Time), max(hi, a.Time)
		if !seen[p] {
			seen[p] = true
			terms.Terms = append(terms.Terms, filter.Term{Field: "container_id", Op: filter.Re, Value: p + ".*", Offset: -1})
		}
	}
	if len(terms.Terms) == 0 {
		return nil, nil
	}
	if everyNamespace {
		for _, ns := range slices.Sorted(maps.Keys(namespaces)) {
			terms.Terms = append(terms.Terms, filter.Term{Field: "namespace", Op: filter.Eq, Value: ns, Offset: -1})
		}
	}
	from, to := PolicyWindow.Range(time.Unix(0, lo), time.Unix(0, hi))
	req, err := logql.Groups(logql.Scope{Filter: terms}, []string{"container_id"}, from, to)
	if err != nil {
		return nil, err
	}
	samples, err := a.store.vector(ctx, req)
	if err != nil {
		return nil, err
	}
	full := map[string]string{}
	ambiguous := map[string]bool{}
	for _, s := range samples {
		id := s.Metric["container_id"]
		for p := range seen {
			if !strings.HasPrefix(id, p) {
				continue
			}
			if full[p] != "" && full[p] != id {
				ambiguous[p] = true
			}
			full[p] = id
		}
	}
	for p := range ambiguous {
		delete(full, p)
	}
	return full, nil
}
