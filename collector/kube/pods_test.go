package kube

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
)

func TestPodsWorkload(t *testing.T) {
	const ns = "shop"
	tests := []struct {
		name     string
		objs     []runtime.Object // owners in the API
		pod      *corev1.Pod
		workload string
		kind     string
	}{
		{
			name:     "deployment via replicaset",
			objs:     []runtime.Object{replicaSet(ns, "web-6877958", owner(KindDeployment, "web"))},
			pod:      newPod(ns, "web-6877958-x1", thisNode, ownedBy(owner(KindReplicaSet, "web-6877958"))),
			workload: "web", kind: KindDeployment,
		},
		{
			name:     "replicaset without deployment",
			objs:     []runtime.Object{replicaSet(ns, "solo-rs")},
			pod:      newPod(ns, "solo-rs-x1", thisNode, ownedBy(owner(KindReplicaSet, "solo-rs"))),
			workload: "solo-rs", kind: KindReplicaSet,
		},
		{
			name:     "replicaset gone",
			pod:      newPod(ns, "gone-rs-x1", thisNode, ownedBy(owner(KindReplicaSet, "gone-rs"))),
			workload: "gone-rs", kind: KindReplicaSet,
		},
		{
			name:     "statefulset",
			pod:      newPod(ns, "db-0", thisNode, ownedBy(owner(KindStatefulSet, "db"))),
			workload: "db", kind: KindStatefulSet,
		},
		{
			name:     "daemonset",
			pod:      newPod(ns, "agent-q7", thisNode, ownedBy(owner(KindDaemonSet, "agent"))),
			workload: "agent", kind: KindDaemonSet,
		},
		{
			name:     "job",
			objs:     []runtime.Object{job(ns, "migrate")},
			pod:      newPod(ns, "migrate-k2", thisNode, ownedBy(owner(KindJob, "migrate"))),
			workload: "migrate", kind: KindJob,
		},
		{
			name:     "cronjob via job",
			objs:     []runtime.Object{job(ns, "backup-2891", owner(KindCronJob, "backup"))},
			pod:      newPod(ns, "backup-2891-z", thisNode, ownedBy(owner(KindJob, "backup-2891"))),
			workload: "backup", kind: KindCronJob,
		},
		{
			name: "bare pod",
			pod:  newPod(ns, "debug", thisNode),
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Each runtime's id form in turn.
			runtimes := []string{"containerd://", "docker://", "cri-o://"}
			id := cid(tc.name)
			withContainer("app", "shop/app:1.2", runtimes[i%len(runtimes)]+id)(tc.pod)
			p, _, _ := testPods(t, append(tc.objs, tc.pod)...)

			got, ok := p.Container(id)
			if !ok {
				t.Fatalf("container %s not indexed", id)
			}
			want := Scope{Namespace: ns, Workload: tc.workload, WorkloadKind: tc.kind, Pod: tc.pod.Name,
				Container: "app", ContainerID: id, Image: "shop/app:1.2", Host: thisNode}
			if got.Namespace != want.Namespace || got.Workload != want.Workload || got.WorkloadKind != want.WorkloadKind ||
				got.Pod != want.Pod || got.Container != want.Container || got.ContainerID != want.ContainerID ||
				got.Image != want.Image || got.Host != want.Host {
				t.Errorf("scope = %+v, want %+v", got, want)
			}
		})
	}
}

func TestPodsContainers(t *testing.T) {
	idApp, idInit, idDebug, idOld, idOther := cid("app"), cid("init"), cid("debug"), cid("old-app"), cid("other")
	withRestart := func(p *corev1.Pod) {
		p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ContainerID: "containerd://" + idOld}
	}
	pod := newPod("ns1", "web-1", thisNode,
		withContainer("app", "app:1", "containerd://"+idApp), withRestart,
		withInit("setup", "setup:1", "containerd://"+idInit),
		withEphemeral("debugger", "busybox:1.36", "containerd://"+idDebug),
		withContainer("waiting", "side:1", ""))
	elsewhere := newPod("ns1", "web-2", otherNode, withContainer("app", "app:1", "containerd://"+idOther))
	p, _, _ := testPods(t, pod, elsewhere)

	tests := []struct {
		name      string
		id        string
		container string // "" when the id must not be known
	}{
		{"regular", idApp, "app"},
		{"previous run of a restarted container", idOld, "app"},
		{"init", idInit, "setup"},
		{"ephemeral", idDebug, "debugger"},
		{"pod on another node", idOther, ""},
		{"never seen", cid("nope"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, ok := p.Container(tc.id)
			if tc.container == "" {
				if ok {
					t.Fatalf("Container(%s) = %+v, want unknown", tc.id, sc)
				}
				return
			}
			if !ok || sc.Container != tc.container || sc.Pod != "web-1" || sc.ContainerID != tc.id {
				t.Fatalf("Container(%s) = %+v, %v; want container %q of web-1", tc.id, sc, ok, tc.container)
			}
		})
	}
	if got := testutil.ToFloat64(p.metrics.pods); got != 1 {
		t.Errorf("pods gauge = %v, want 1", got)
	}
	if got := testutil.ToFloat64(p.metrics.containers); got != 4 {
		t.Errorf("containers gauge = %v, want 4 (app, its previous run, init, ephemeral)", got)
	}
}

func TestPodsStartAndDelete(t *testing.T) {
	ctx := context.Background()
	id := cid("late")
	pod := newPod("ns1", "late-1", thisNode, withContainer("app", "app:1", ""))
	p, cs, clk := testPods(t, pod)

	if _, ok := p.Container(id); ok {
		t.Fatal("container known before its status has an id")
	}
	changed := p.Changed()
	started := pod.DeepCopy()
	started.Status.ContainerStatuses[0].ContainerID = "containerd://" + id
	if _, err := cs.CoreV1().Pods("ns1").UpdateStatus(ctx, started, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, changed, "the started container") // closed when its id is indexed
	if sc, ok := p.Container(id); !ok || sc.Pod != "late-1" {
		t.Fatalf("after start: %+v, %v", sc, ok)
	}

	// An update bringing no new container id announces nothing.
	unchanged := p.Changed()
	probed := started.DeepCopy()
	probed.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
	if _, err := cs.CoreV1().Pods("ns1").Update(ctx, probed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the update", func() bool { sc, _ := p.Container(id); return len(sc.Probes) == 1 })
	select {
	case <-unchanged:
		t.Error("Changed closed by an update with no new container")
	default:
	}

	if err := cs.CoreV1().Pods("ns1").Delete(ctx, "late-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion", func() bool { return testutil.ToFloat64(p.metrics.pods) == 0 })
	p.sweep()
	if _, ok := p.Container(id); !ok {
		t.Fatal("container of a just-deleted pod forgotten before its grace")
	}
	clk.Step(DefaultDeleteGrace - 1)
	p.sweep()
	if _, ok := p.Container(id); !ok {
		t.Fatal("container forgotten before the grace ended")
	}
	clk.Step(1)
	p.sweep()
	if _, ok := p.Container(id); ok {
		t.Fatal("container of a deleted pod still known after its grace")
	}
	if got := testutil.ToFloat64(p.metrics.containers); got != 0 {
		t.Errorf("containers gauge = %v, want 0", got)
	}
}

func TestPodsOwnerCache(t *testing.T) {
	rs := replicaSet("ns1", "web-abc", owner(KindDeployment, "web"))
	pod1 := newPod("ns1", "web-abc-1", thisNode, ownedBy(owner(KindReplicaSet, "web-abc")), withContainer("app", "app:1", "containerd://"+cid("w1")))
	pod2 := newPod("ns1", "web-abc-2", thisNode, ownedBy(owner(KindReplicaSet, "web-abc")), withContainer("app", "app:1", "containerd://"+cid("w2")))
	p, cs, clk := testPods(t, rs, pod1, pod2)

	gets := func() int {
		n := 0
		for _, a := range cs.Actions() {
			if a.GetVerb() == "get" && a.GetResource().Resource == "replicasets" {
				n++
			}
		}
		return n
	}
	if n := gets(); n != 1 {
		t.Errorf("replicaset read %d times for two pods, want 1 (cached)", n)
	}
	clk.Step(DefaultOwnerTTL)
	pod3 := newPod("ns1", "web-abc-3", thisNode, ownedBy(owner(KindReplicaSet, "web-abc")), withContainer("app", "app:1", "containerd://"+cid("w3")))
	changed := p.Changed()
	if _, err := cs.CoreV1().Pods("ns1").Create(context.Background(), pod3, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, changed, "the new pod")
	if n := gets(); n != 2 {
		t.Errorf("replicaset read %d times after the TTL, want 2", n)
	}
	if sc, _ := p.Container(cid("w3")); sc.Workload != "web" {
		t.Errorf("workload = %q, want web", sc.Workload)
	}
	if got := testutil.ToFloat64(p.metrics.ownerFetches.WithLabelValues("ok")); got != 2 {
		t.Errorf("owner fetches ok = %v, want 2", got)
	}
}

func TestPodsOwnerError(t *testing.T) {
	pod := newPod("ns1", "web-abc-1", thisNode, ownedBy(owner(KindReplicaSet, "web-abc")), withContainer("app", "app:1", "containerd://"+cid("e1")))
	cs := newFailingClientset(pod)
	p, err := NewPods(cs, PodsOptions{Node: thisNode, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	p.onPod(pod)
	sc, ok := p.Container(cid("e1"))
	if !ok || sc.Workload != "web-abc" || sc.WorkloadKind != KindReplicaSet {
		t.Errorf("scope = %+v, %v; want the direct owner when the owner cannot be read", sc, ok)
	}
	if got := testutil.ToFloat64(p.metrics.ownerFetches.WithLabelValues("error")); got != 1 {
		t.Errorf("owner fetch errors = %v, want 1", got)
	}
}

func TestNewPodsNeedsNode(t *testing.T) {
	if _, err := NewPods(newFailingClientset(), PodsOptions{}); err == nil {
		t.Fatal("NewPods without a node name: no error")
	}
}

func TestParseContainerID(t *testing.T) {
	id := cid("x")
	tests := []struct {
		in   string
		want string
	}{
		{"containerd://" + id, id},
		{"docker://" + id, id},
		{"cri-o://" + id, id},
		{"", ""},
		{id, ""},                        // no runtime
		{"containerd://" + id[:63], ""}, // short
		{"containerd://" + id[:63] + "G", ""},
	}
	for _, tc := range tests {
		got, ok := parseContainerID(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("parseContainerID(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

// newFailingClientset is a fake clientset whose replicaset and job reads fail.
func newFailingClientset(objs ...runtime.Object) *fakeClientset {
	cs := newFakeClientset(objs...)
	cs.PrependReactor("get", "replicasets", failReaction)
	return cs
}

func failReaction(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, errAPIDown }
