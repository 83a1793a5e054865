package kubeaudit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/activityaudit/activityaudit/pkg/record"
)

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// execEvent is a kubectl exec event of auditID id at stage, stamped t0+at.
func execEvent(id string, stage auditv1.Stage, at time.Duration, code int32) auditv1.Event {
	e := auditv1.Event{
		TypeMeta:                 metav1.TypeMeta{Kind: "Event", APIVersion: "audit.k8s.io/v1"},
		Level:                    auditv1.LevelMetadata,
		AuditID:                  types.UID(id),
		Stage:                    stage,
		RequestURI:               "/api/v1/namespaces/ns/pods/web-0/exec?command=ls&command=-l&container=app&stdout=true",
		Verb:                     "create",
		User:                     authnv1.UserInfo{Username: "bob", Groups: []string{"ops"}},
		SourceIPs:                []string{"192.0.2.1"},
		UserAgent:                "kubectl/v1.29.0",
		ObjectRef:                &auditv1.ObjectReference{Resource: "pods", Namespace: "ns", Name: "web-0", APIVersion: "v1", Subresource: "exec"},
		RequestReceivedTimestamp: metav1.NewMicroTime(t0),
		StageTimestamp:           metav1.NewMicroTime(t0.Add(at)),
	}
	if code != 0 {
		e.ResponseStatus = &metav1.Status{Code: code}
	}
	return e
}

func started(id string) auditv1.Event {
	return execEvent(id, auditv1.StageResponseStarted, 10*time.Millisecond, 101)
}

func completed(id string) auditv1.Event {
	return execEvent(id, auditv1.StageResponseComplete, 3*time.Second, 101)
}

// procHarness drives a Processor on a fake clock.
type procHarness struct {
	t    *testing.T
	p    *Processor
	clk  *fakeClock
	sink *recSink
}

func newHarness(t *testing.T, cfg Config) *procHarness {
	sink := newRecSink()
	p, clk, _ := newTestProcessor(t, cfg, sink, nil)
	return &procHarness{t: t, p: p, clk: clk, sink: sink}
}

func (h *procHarness) process(events ...auditv1.Event) {
	h.t.Helper()
	if err := h.p.Process(context.Background(), ViaWebhook, events); err != nil {
		h.t.Fatal(err)
	}
}

func (h *procHarness) release() {
	h.t.Helper()
	if err := h.p.releaseHeld(context.Background(), false); err != nil {
		h.t.Fatal(err)
	}
}

// ids are the auditIDs of the records so far, with "+end" when ended.
func (h *procHarness) ids() string {
	var s []string
	for _, r := range h.sink.records() {
		id := r.AuditID
		if r.EndTime != 0 {
			id += "+end"
		}
		s = append(s, id)
	}
	return strings.Join(s, " ")
}

func (h *procHarness) expect(step, want string, late, dups float64) {
	h.t.Helper()
	if got := h.ids(); got != want {
		h.t.Errorf("%s: records %q, want %q", step, got, want)
	}
	if got := counter(h.p.m.lateEnds); got != late {
		h.t.Errorf("%s: late ends = %v, want %v", step, got, late)
	}
	if got := counter(h.p.m.duplicates); got != dups {
		h.t.Errorf("%s: duplicates = %v, want %v", step, got, dups)
	}
}

// TestHold: the hold, late ends and duplicates, one step at a time on an
// injected clock.
func TestHold(t *testing.T) {
	type step struct {
		do   func(h *procHarness)
		want string // records so far
		late float64
		dups float64
	}
	advance := func(d time.Duration) func(h *procHarness) {
		return func(h *procHarness) { h.clk.Advance(d); h.release() }
	}
	send := func(events ...auditv1.Event) func(h *procHarness) {
		return func(h *procHarness) { h.process(events...) }
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"short exec ends within the hold: one record with end_time", []step{
			{send(execEvent("a", auditv1.StageRequestReceived, 0, 0)), "", 0, 0},
			{send(started("a")), "", 0, 0},
			{advance(DefaultHold - time.Nanosecond), "", 0, 0},
			{send(completed("a")), "a+end", 0, 0},
			{advance(time.Hour), "a+end", 0, 0},
		}},
		{"hold expires: emitted without end_time, then its end is a late end", []step{
			{send(started("a")), "", 0, 0},
			{advance(DefaultHold - time.Nanosecond), "", 0, 0},
			{advance(time.Nanosecond), "a", 0, 0},
			{send(completed("a")), "a", 1, 0},
			{send(completed("a")), "a", 1, 1}, // the late end redelivered
		}},
		{"end only (denied): at once, with end_time", []step{
			{send(execEvent("d", auditv1.StageResponseComplete, time.Millisecond, 403)), "d+end", 0, 0},
		}},
		{"redelivered batch: duplicates dropped", []step{
			{send(started("a"), completed("a"), started("b")), "a+end", 0, 0},
			{send(started("a"), completed("a"), started("b")), "a+end", 0, 3},
			{advance(DefaultHold), "a+end b", 0, 3},
			{send(started("b")), "a+end b", 0, 4},
		}},
		{"end before start (batches out of order)", []step{
			{send(completed("a")), "a+end", 0, 0},
			{send(started("a")), "a+end", 0, 1},
			{advance(DefaultHold), "a+end", 0, 1},
		}},
		{"panic ends an exec", []step{
			{send(started("a")), "", 0, 0},
			{send(execEvent("a", auditv1.StagePanic, time.Second, 500)), "a+end", 0, 0},
		}},
		{"holds expire in order", []step{
			{send(started("a")), "", 0, 0},
			{advance(time.Second), "", 0, 0},
			{send(started("b")), "", 0, 0},
			{advance(DefaultHold - time.Second), "a", 0, 0},
			{advance(time.Second), "a b", 0, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			for i, s := range tc.steps {
				s.do(h)
				h.expect("step "+string(rune('1'+i)), s.want, s.late, s.dups)
			}
		})
	}
}

// TestHoldRecordFields: a held record takes its end and final code from
// ResponseComplete, its time from ResponseStarted; an end-only record its
// time from requestReceivedTimestamp.
func TestHoldRecordFields(t *testing.T) {
	h := newHarness(t, Config{Cluster: "c1"})
	end := execEvent("a", auditv1.StageResponseComplete, 3*time.Second, 200)
	h.process(started("a"), end, execEvent("d", auditv1.StageResponseComplete, 5*time.Millisecond, 403))
	recs := h.sink.records()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	want := record.Record{
		Time: t0.Add(10 * time.Millisecond).UnixNano(), EndTime: uint64(t0.Add(3 * time.Second).UnixNano()),
		Source: "kube_exec", Cluster: "c1", Namespace: "ns", Pod: "web-0", Container: "app",
		Resource: "pods", Name: "web-0", Subresource: "exec", Command: "ls -l",
		K8sUser: "bob", K8sGroups: "ops", UserAgent: "kubectl/v1.29.0", SourceAddresses: "192.0.2.1",
		AuditID: "a", ResponseCode: 200,
	}
	if d := diffRecords(recs[0], &want); len(d) > 0 {
		t.Errorf("started+ended record: %s", strings.Join(d, "; "))
	}
	want.Time, want.EndTime, want.AuditID, want.ResponseCode = t0.UnixNano(), uint64(t0.Add(5*time.Millisecond).UnixNano()), "d", 403
	if d := diffRecords(recs[1], &want); len(d) > 0 {
		t.Errorf("end-only record: %s", strings.Join(d, "; "))
	}
}

// TestIgnored: events that are not kube exec make nothing.
func TestIgnored(t *testing.T) {
	h := newHarness(t, Config{})
	e := func(verb, resource, sub, group string) auditv1.Event {
		ev := completed(verb + resource + sub + group)
		ev.Verb = verb
		ev.ObjectRef.Resource, ev.ObjectRef.Subresource, ev.ObjectRef.APIGroup = resource, sub, group
		return ev
	}
	h.process(
		e("list", "pods", "exec", ""),               // not a verb of exec
		e("get", "pods", "log", ""),                 // pod logs
		e("get", "pods", "ephemeralcontainers", ""), // reading, not adding
		e("create", "pods", "portforward", ""),
		e("create", "deployments", "exec", "apps"),
		e("create", "pods", "exec", "example.com"), // a CRD named pods
	)
	h.release()
	if got := h.ids(); got != "" {
		t.Errorf("records %q from events that are not kube exec", got)
	}
	if got := counter(h.p.m.received.WithLabelValues("webhook")); got != 6 {
		t.Errorf("received = %v, want 6", got)
	}
}

// TestBounds: past MaxPending the oldest hold is emitted early; past
// MaxRemembered the oldest ended auditID is forgotten first; Remember and
// RememberOpen age them out.
func TestBounds(t *testing.T) {
	t.Run("max pending", func(t *testing.T) {
		h := newHarness(t, Config{MaxPending: 2})
		h.process(started("a"), started("b"), started("c"))
		h.expect("3 started", "a", 0, 0)
		if got := counter(h.p.m.evicted.WithLabelValues("pending")); got != 1 {
			t.Errorf("evicted{pending} = %v, want 1", got)
		}
		h.process(completed("a"), completed("b"))
		h.expect("ends", "a b+end", 1, 0)
		if got := counter(h.p.m.held); got != 1 {
			t.Errorf("held gauge = %v, want 1", got)
		}
	})
	t.Run("max remembered forgets ended ones first", func(t *testing.T) {
		h := newHarness(t, Config{MaxRemembered: 2})
		h.process(started("open"))
		h.clk.Advance(DefaultHold)
		h.release() // "open" remembered without its end
		h.process(completed("x"), completed("y"))
		if got := counter(h.p.m.evicted.WithLabelValues("remembered")); got != 1 {
			t.Errorf("evicted{remembered} = %v, want 1", got)
		}
		h.process(completed("open")) // still known: a late end
		h.process(completed("y"))    // still known: a duplicate
		h.expect("after", "open x+end y+end", 1, 1)
		h.process(completed("x")) // forgotten: a second record (the bound's price)
		h.expect("x again", "open x+end y+end x+end", 1, 1)
	})
	t.Run("remember windows", func(t *testing.T) {
		h := newHarness(t, Config{Remember: time.Minute, RememberOpen: time.Hour})
		h.process(started("open"), completed("done"))
		h.clk.Advance(DefaultHold)
		h.release()
		h.clk.Advance(time.Minute)
		h.release() // prunes "done"
		h.process(completed("done"))
		h.expect("done forgotten after Remember", "done+end open done+end", 0, 0)
		h.clk.Advance(50 * time.Minute)
		h.release()
		h.process(completed("open"))
		h.expect("open remembered within RememberOpen", "done+end open done+end", 1, 0)
	})
}

// failSink fails Write while fail is set.
type failSink struct {
	*recSink
	fail bool
}

func (s *failSink) Write(ctx context.Context, r *record.Record) error {
	if s.fail {
		return errors.New("disk full")
	}
	return s.recSink.Write(ctx, r)
}

// TestRollback: a batch the sink refused leaves no trace, so its
// redelivery gives the same records, and nothing is counted twice.
func TestRollback(t *testing.T) {
	sink := &failSink{recSink: newRecSink()}
	p, clk, _ := newTestProcessor(t, Config{}, sink, nil)
	ctx := context.Background()
	if err := p.Process(ctx, ViaLog, []auditv1.Event{started("held"), started("ended")}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(DefaultHold)
	sink.fail = true
	batch := []auditv1.Event{completed("ended"), started("new"), completed("new"), completed("denied"), completed("ended")}
	if err := p.Process(ctx, ViaLog, batch); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Process with a failing sink: %v", err)
	}
	if err := p.releaseHeld(ctx, false); err == nil {
		t.Fatal("releaseHeld with a failing sink: no error")
	}
	if got := counter(p.m.duplicates); got != 0 {
		t.Errorf("duplicates = %v after a failed batch, want 0", got)
	}
	sink.fail = false
	if err := p.Process(ctx, ViaLog, batch); err != nil {
		t.Fatal(err)
	}
	if err := p.releaseHeld(ctx, false); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range sink.records() {
		got = append(got, r.AuditID)
	}
	if strings.Join(got, " ") != "ended new denied held" {
		t.Errorf("records %v, want ended new denied held", got)
	}
	if got := counter(p.m.duplicates); got != 1 {
		t.Errorf("duplicates = %v, want 1 (the repeated end in the batch)", got)
	}
	if got := counter(p.m.sinkErrors); got != 2 {
		t.Errorf("sink errors = %v, want 2", got)
	}
}

// TestRunDrains: when Run stops, held execs are emitted.
func TestRunDrains(t *testing.T) {
	h := newHarness(t, Config{Hold: time.Hour})
	h.process(started("a"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.p.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.expect("after Run", "a", 0, 0)
}

// TestScopeFailure: a pod the Scoper cannot find is counted; the record is
// still emitted with the event's scope.
func TestScopeFailure(t *testing.T) {
	sink := newRecSink()
	p, _, _ := newTestProcessor(t, Config{}, sink, StaticScoper{})
	if err := p.Process(context.Background(), ViaWebhook, []auditv1.Event{completed("a")}); err != nil {
		t.Fatal(err)
	}
	recs := sink.records()
	if len(recs) != 1 || recs[0].Namespace != "ns" || recs[0].Pod != "web-0" || recs[0].Container != "app" {
		t.Fatalf("records %+v, want one for ns/web-0 container app", recs)
	}
	if got := counter(p.m.scopeFailures); got != 1 {
		t.Errorf("scope failures = %v, want 1", got)
	}
}

// TestStaticScoper: the default container rules the interface states.
func TestStaticScoper(t *testing.T) {
	s := StaticScoper{
		"ns/one":   {Workload: "w", WorkloadKind: "Deployment", Node: "n1", Containers: []ContainerScope{{Name: "only", ID: "id1", Image: "i1"}}},
		"ns/two":   {Node: "n2", DefaultContainer: "b", Containers: []ContainerScope{{Name: "a", ID: "ida"}, {Name: "b", ID: "idb", Image: "ib"}}},
		"ns/multi": {Node: "n3", Containers: []ContainerScope{{Name: "a"}, {Name: "b"}}},
	}
	for _, tc := range []struct {
		pod, container        string
		wantContainer, wantID string
	}{
		{"one", "", "only", "id1"},
		{"two", "", "b", "idb"},
		{"two", "a", "a", "ida"},
		{"multi", "", "", ""},
	} {
		var r record.Record
		if err := s.ScopePod(context.Background(), "ns", tc.pod, tc.container, &r); err != nil {
			t.Fatal(err)
		}
		if r.Container != tc.wantContainer || r.ContainerID != tc.wantID {
			t.Errorf("%s %q: container %q id %q, want %q %q", tc.pod, tc.container, r.Container, r.ContainerID, tc.wantContainer, tc.wantID)
		}
	}
	var r record.Record
	if err := s.ScopePod(context.Background(), "ns", "gone", "", &r); !errors.Is(err, ErrPodNotFound) {
		t.Errorf("unknown pod: %v, want ErrPodNotFound", err)
	}
}

// TestMetrics: every metric is registered under the package prefix and
// passes the Prometheus linter; registering twice is an error, not a panic.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	if _, err := NewProcessor(Config{}, newRecSink(), nil, reg); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"events_received_total", "kube_exec_records_total", "malformed_total", "unauthenticated_requests_total",
		"scope_lookup_failures_total", "late_ends_total", "duplicates_dropped_total", "state_evictions_total",
		"sink_errors_total", "held_execs", "log_rotations_total"}
	got := map[string]bool{}
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, "activityaudit_collector_audit_") {
			t.Errorf("metric %s lacks the prefix", name)
		}
		got[strings.TrimPrefix(name, "activityaudit_collector_audit_")] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("metric %s not exported", w)
		}
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
	if _, err := NewProcessor(Config{}, newRecSink(), nil, reg); err == nil {
		t.Error("second registration: no error")
	}
}
