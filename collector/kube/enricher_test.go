package kube

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

var webScope = Scope{Namespace: "shop", Workload: "web", WorkloadKind: KindDeployment, Pod: "web-abc-1",
	Container: "app", ContainerID: cid("web"), Image: "shop/web:3", Host: thisNode}

// scoped is r with sc's scope, as the enricher writes it.
func scoped(r record.Record, sc Scope) record.Record {
	r.Namespace, r.Workload, r.WorkloadKind, r.Pod, r.Container, r.Image = sc.Namespace, sc.Workload, sc.WorkloadKind, sc.Pod, sc.Container, sc.Image
	return r
}

func unattributed(e *Enricher, reason string) float64 {
	return testutil.ToFloat64(e.metrics.unattributed.WithLabelValues(reason))
}

func newTestEnricher(lookup Lookup, next Sink, opts EnricherOptions) (*Enricher, *clocktesting.FakeClock) {
	clk := clocktesting.NewFakeClock(t0)
	opts.Clock = clk
	return NewEnricher(lookup, next, opts), clk
}

func TestEnricherWrite(t *testing.T) {
	f := NewFake()
	f.AddContainer(webScope)
	host := record.Record{Source: field.Net, Host: thisNode, Comm: "sshd", ServerPort: 22}
	tests := []struct {
		name string
		in   record.Record
		want record.Record
		hit  float64
	}{
		{"host process passes through", host, host, 0},
		{"known container gets its scope", *cmd(webScope.ContainerID, "ls"), scoped(*cmd(webScope.ContainerID, "ls"), webScope), 1},
		{
			"scope replaces what the record had",
			func() record.Record {
				r := *cmd(webScope.ContainerID, "ps")
				r.Pod, r.Namespace = "stale", "stale"
				return r
			}(),
			scoped(*cmd(webScope.ContainerID, "ps"), webScope), 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink()
			e, _ := newTestEnricher(f, s, EnricherOptions{})
			r := tc.in
			if err := e.Write(context.Background(), &r); err != nil {
				t.Fatal(err)
			}
			got := s.got()
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("wrote %+v\nwant %+v", got, tc.want)
			}
			if h := testutil.ToFloat64(e.metrics.lookupHit); h != tc.hit {
				t.Errorf("lookup hits = %v, want %v", h, tc.hit)
			}
		})
	}
}

// TestEnricherPodStartRace: a container's first commands run before the
// informer has its id; they are held, then written with their scope when
// the pod's status brings the id — and the held entry of a probe session
// is marked probe once its container's probes are known.
func TestEnricherPodStartRace(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	id := cid("race")
	probe := []string{"/bin/sh", "-c", "pg_isready -U postgres"}
	pod := newPod("db", "pg-0", thisNode, ownedBy(owner(KindStatefulSet, "pg")), withContainer("postgres", "postgres:16", ""),
		func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: probe}}}
		})
	pods, cs, _ := testPods(t, pod)
	s := newSink()
	// Real clock, and a hold timeout that cannot be what releases them.
	e := NewEnricher(pods, s, EnricherOptions{HoldTimeout: time.Hour})
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()

	first := cmd(id, "initdb")
	entry := cmd(id, "")
	entry.Cmdline, entry.Session, entry.SessionEntry, entry.ExecID = record.CommandLine(probe, false), "s-probe", true, "s-probe"
	child := cmd(id, "pg_isready")
	child.Session = "s-probe"
	for _, r := range []*record.Record{first, entry, child} {
		if err := e.Write(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.got(); len(got) != 0 {
		t.Fatalf("records of an unknown container written before it is known: %+v", got)
	}
	if got := testutil.ToFloat64(e.metrics.held); got != 3 {
		t.Errorf("held gauge = %v, want 3", got)
	}

	started := pod.DeepCopy()
	started.Status.ContainerStatuses[0].ContainerID = "containerd://" + id
	if _, err := cs.CoreV1().Pods("db").UpdateStatus(ctx, started, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	s.wait(t, 3)
	got := s.got()
	wantComms := []string{"initdb", "", "pg_isready"}
	for i, r := range got {
		if r.Comm != wantComms[i] {
			t.Errorf("record %d: comm %q, want %q (order kept)", i, r.Comm, wantComms[i])
		}
		if r.Pod != "pg-0" || r.Namespace != "db" || r.Workload != "pg" || r.WorkloadKind != KindStatefulSet || r.Container != "postgres" || r.Image != "postgres:16" {
			t.Errorf("record %d released without its scope: %+v", i, r)
		}
		if wantProbe := i > 0; r.Probe != wantProbe {
			t.Errorf("record %d: probe = %v, want %v", i, r.Probe, wantProbe)
		}
	}
	for _, reason := range []string{ReasonTimeout, ReasonBound, ReasonUnknown, ReasonStopped} {
		if n := unattributed(e, reason); n != 0 {
			t.Errorf("unattributed{%s} = %v, want 0", reason, n)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s.flushes == 0 {
		t.Error("next never flushed after released records")
	}
}

func TestEnricherHoldTimeout(t *testing.T) {
	ctx := context.Background()
	idA, idB := cid("a"), cid("b")
	scopeB := webScope
	scopeB.ContainerID, scopeB.Pod = idB, "b-1"

	tests := []struct {
		name string
		// step runs after the record of A (and one of B) was held and the
		// clock moved by `after`; it releases what is due.
		after     time.Duration
		learnB    bool // B becomes known before the release
		release   func(e *Enricher) error
		wantA     bool // A's record went out (bare)
		wantB     string
		timeouts  float64
		stillHeld float64
	}{
		{"before the timeout nothing goes", DefaultHoldTimeout - time.Millisecond, false,
			func(e *Enricher) error { return e.Flush(ctx) }, false, "", 0, 2},
		{"at the timeout by Flush: bare, counted", DefaultHoldTimeout, false,
			func(e *Enricher) error { return e.Flush(ctx) }, true, "bare", 2, 0},
		{"at the timeout by a host record's Write", DefaultHoldTimeout, false,
			func(e *Enricher) error { return e.Write(ctx, &record.Record{Source: field.Net}) }, true, "bare", 2, 0},
		{"known at the last moment: with its scope", DefaultHoldTimeout, true,
			func(e *Enricher) error { return e.Flush(ctx) }, true, "scoped", 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFake()
			s := newSink()
			e, clk := newTestEnricher(f, s, EnricherOptions{})
			if err := e.Write(ctx, cmd(idA, "a1")); err != nil {
				t.Fatal(err)
			}
			if err := e.Write(ctx, cmd(idB, "b1")); err != nil {
				t.Fatal(err)
			}
			clk.Step(tc.after)
			if tc.learnB {
				f.AddContainer(scopeB)
			}
			if err := tc.release(e); err != nil {
				t.Fatal(err)
			}
			var gotA, gotB *record.Record
			for _, r := range s.got() {
				switch r.ContainerID {
				case idA:
					gotA = &r
				case idB:
					gotB = &r
				}
			}
			if (gotA != nil) != tc.wantA {
				t.Errorf("A written = %v, want %v", gotA != nil, tc.wantA)
			}
			if gotA != nil && gotA.Pod != "" {
				t.Errorf("A has a scope: %+v", gotA)
			}
			switch {
			case tc.wantB == "" && gotB != nil:
				t.Errorf("B written early: %+v", gotB)
			case tc.wantB == "bare" && (gotB == nil || gotB.Pod != ""):
				t.Errorf("B = %+v, want it bare", gotB)
			case tc.wantB == "scoped" && (gotB == nil || gotB.Pod != "b-1"):
				t.Errorf("B = %+v, want it with its scope", gotB)
			}
			if n := unattributed(e, ReasonTimeout); n != tc.timeouts {
				t.Errorf("unattributed{timeout} = %v, want %v", n, tc.timeouts)
			}
			if n := testutil.ToFloat64(e.metrics.held); n != tc.stillHeld {
				t.Errorf("held = %v, want %v", n, tc.stillHeld)
			}
		})
	}

	t.Run("a container given up on is not held again", func(t *testing.T) {
		s := newSink()
		e, clk := newTestEnricher(NewFake(), s, EnricherOptions{})
		if err := e.Write(ctx, cmd(idA, "a1")); err != nil {
			t.Fatal(err)
		}
		clk.Step(DefaultHoldTimeout)
		if err := e.Write(ctx, cmd(idA, "a2")); err != nil {
			t.Fatal(err)
		}
		got := s.got()
		if len(got) != 2 || got[0].Comm != "a1" || got[1].Comm != "a2" {
			t.Fatalf("wrote %+v, want a1 then a2 at once", got)
		}
		if unattributed(e, ReasonTimeout) != 1 || unattributed(e, ReasonUnknown) != 1 {
			t.Errorf("unattributed timeout=%v unknown_container=%v, want 1 and 1", unattributed(e, ReasonTimeout), unattributed(e, ReasonUnknown))
		}
	})
}

// TestEnricherRunReleasesOnTimeout: Run's own timer releases a held
// record when its time is up, with no other call.
func TestEnricherRunReleasesOnTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newSink()
	e, clk := newTestEnricher(NewFake(), s, EnricherOptions{HoldTimeout: time.Second})
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	if err := e.Write(ctx, cmd(cid("x"), "x1")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Run to arm its timer", func() bool { return clk.HasWaiters() })
	clk.Step(time.Second)
	s.wait(t, 1)
	if got := s.got(); got[0].Comm != "x1" || got[0].Pod != "" {
		t.Errorf("wrote %+v, want x1 bare", got[0])
	}
	if n := unattributed(e, ReasonTimeout); n != 1 {
		t.Errorf("unattributed{timeout} = %v, want 1", n)
	}

	// Now Run waits with nothing held; a new held record re-arms its timer.
	if err := e.Write(ctx, cmd(cid("y"), "y1")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Run to arm its timer again", func() bool { return clk.HasWaiters() })
	clk.Step(time.Second)
	s.wait(t, 1)
	if got := s.got(); len(got) != 2 || got[1].Comm != "y1" {
		t.Errorf("wrote %+v, want x1 then y1", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestEnricherHoldBound(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	s := newSink()
	e, _ := newTestEnricher(f, s, EnricherOptions{MaxHeld: 3})
	for _, w := range []struct{ id, comm string }{{"a", "a1"}, {"a", "a2"}, {"b", "b1"}, {"c", "c1"}, {"d", "d1"}} {
		if err := e.Write(ctx, cmd(cid(w.id), w.comm)); err != nil {
			t.Fatal(err)
		}
	}
	got := s.got()
	if len(got) != 2 || got[0].Comm != "a1" || got[1].Comm != "a2" {
		t.Fatalf("past the bound wrote %+v, want the oldest two (a1, a2)", got)
	}
	if n := unattributed(e, ReasonBound); n != 2 {
		t.Errorf("unattributed{bound} = %v, want 2", n)
	}
	if n := testutil.ToFloat64(e.metrics.held); n != 3 {
		t.Errorf("held = %v, want 3", n)
	}
	sc := webScope
	sc.ContainerID = cid("c")
	f.AddContainer(sc)
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got = s.got()
	if len(got) != 3 || got[2].Comm != "c1" || got[2].Pod != sc.Pod {
		t.Fatalf("after c is known wrote %+v, want c1 with its scope", got)
	}
}

func TestEnricherKeepsContainerOrder(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	s := newSink()
	e, _ := newTestEnricher(f, s, EnricherOptions{})
	id := webScope.ContainerID
	for _, c := range []string{"c1", "c2"} {
		if err := e.Write(ctx, cmd(id, c)); err != nil {
			t.Fatal(err)
		}
	}
	f.AddContainer(webScope)
	if err := e.Write(ctx, cmd(id, "c3")); err != nil {
		t.Fatal(err)
	}
	got := s.got()
	if len(got) != 3 {
		t.Fatalf("wrote %d records, want 3", len(got))
	}
	for i, want := range []string{"c1", "c2", "c3"} {
		if got[i].Comm != want || got[i].Pod != webScope.Pod {
			t.Errorf("record %d = %s (pod %q), want %s with its scope", i, got[i].Comm, got[i].Pod, want)
		}
	}
}

func TestEnricherStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := NewFake()
	s := newSink()
	e, _ := newTestEnricher(f, s, EnricherOptions{})
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	known := webScope
	f.AddContainer(known)
	if err := e.Write(ctx, cmd(cid("unknown"), "u1")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := s.got()
	if len(got) != 1 || got[0].Comm != "u1" {
		t.Fatalf("at stop wrote %+v, want u1", got)
	}
	if s.flushes == 0 {
		t.Error("next not flushed at stop")
	}
	// After Run: nothing is held.
	if err := e.Write(context.Background(), cmd(cid("unknown2"), "u2")); err != nil {
		t.Fatal(err)
	}
	if got := s.got(); len(got) != 2 {
		t.Fatalf("after stop a record was held: %+v", got)
	}
	if n := unattributed(e, ReasonStopped); n != 2 {
		t.Errorf("unattributed{stopped} = %v, want 2", n)
	}
}

func TestEnricherWriteError(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	s := newSink()
	e, _ := newTestEnricher(f, s, EnricherOptions{})
	for _, c := range []string{"c1", "c2"} {
		if err := e.Write(ctx, cmd(webScope.ContainerID, c)); err != nil {
			t.Fatal(err)
		}
	}
	f.AddContainer(webScope)
	s.err = errors.New("spool broken")
	if err := e.Flush(ctx); !errors.Is(err, s.err) {
		t.Fatalf("Flush error = %v, want the sink's", err)
	}
	// c1 was handed to next (which failed it, as a Write's record would
	// be); c2 was not: it stays held, in order.
	if n := testutil.ToFloat64(e.metrics.held); n != 1 {
		t.Errorf("held = %v, want 1 (c2)", n)
	}
	s.err = nil
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.got(); len(got) != 1 || got[0].Comm != "c2" || got[0].Pod != webScope.Pod {
		t.Errorf("wrote %+v, want c2 with its scope after the sink recovered", got)
	}
}

func TestRegisterMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	pods, err := NewPods(newFakeClientset(), PodsOptions{Node: thisNode})
	if err != nil {
		t.Fatal(err)
	}
	if err := pods.Register(reg); err != nil {
		t.Fatal(err)
	}
	e := NewEnricher(pods, newSink(), EnricherOptions{})
	if err := e.Register(reg); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"activityaudit_collector_kube_pods", "activityaudit_collector_kube_containers",
		"activityaudit_collector_kube_owner_fetches_total", "activityaudit_collector_kube_held_records",
		"activityaudit_collector_kube_lookups_total", "activityaudit_collector_records_unattributed_total",
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	for _, name := range want {
		if !have[name] {
			t.Errorf("metric %s not registered", name)
		}
	}
	if err := e.Register(reg); err == nil {
		t.Error("registering twice: no error")
	}
}
