package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

const (
	thisNode  = "node-a"
	otherNode = "node-b"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// cid makes a 64-hex container id from a short tag.
func cid(tag string) string {
	h := fmt.Sprintf("%x", tag)
	return h + strings.Repeat("0", 64-len(h))
}

// owner is an owner reference marked controller.
func owner(kind, name string) metav1.OwnerReference {
	yes := true
	api := "apps/v1"
	if kind == KindJob || kind == KindCronJob {
		api = "batch/v1"
	}
	return metav1.OwnerReference{APIVersion: api, Kind: kind, Name: name, UID: types.UID(kind + "-" + name), Controller: &yes}
}

// podOpt shapes a test pod.
type podOpt func(*corev1.Pod)

// newPod is a running pod on node with one container "app" (id absent
// unless withContainer gives it).
func newPod(ns, name, node string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name)},
		Spec:       corev1.PodSpec{NodeName: node},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func ownedBy(refs ...metav1.OwnerReference) podOpt {
	return func(p *corev1.Pod) { p.OwnerReferences = refs }
}

// withContainer adds a regular container; id "" means not started yet.
func withContainer(name, image, id string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: name, Image: image})
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: name, Image: "docker.io/library/" + image, ContainerID: id})
	}
}

func withInit(name, image, id string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: name, Image: image})
		p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, corev1.ContainerStatus{Name: name, ContainerID: id})
	}
}

func withEphemeral(name, image, id string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: name, Image: image}})
		p.Status.EphemeralContainerStatuses = append(p.Status.EphemeralContainerStatuses, corev1.ContainerStatus{Name: name, ContainerID: id})
	}
}

func withAnnotation(k, v string) podOpt {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[k] = v
	}
}

func replicaSet(ns, name string, refs ...metav1.OwnerReference) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, OwnerReferences: refs}}
}

func job(ns, name string, refs ...metav1.OwnerReference) *batchv1.Job {
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, OwnerReferences: refs}}
}

// testPods runs Pods for thisNode over a fake clientset holding objs,
// until the test ends, and waits for its first sync.
func testPods(t *testing.T, objs ...runtime.Object) (*Pods, *fake.Clientset, *clocktesting.FakeClock) {
	t.Helper()
	cs := fake.NewClientset(objs...)
	clk := clocktesting.NewFakeClock(t0)
	p, err := NewPods(cs, PodsOptions{Node: thisNode, Clock: clk, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := p.WaitSynced(wctx); err != nil {
		t.Fatal(err)
	}
	return p, cs, clk
}

// eventually fails the test when cond has not become true within 10 s
// (a deadline for asynchronous informer delivery, not a timing assertion).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type fakeClientset = fake.Clientset

func newFakeClientset(objs ...runtime.Object) *fakeClientset { return fake.NewClientset(objs...) }

var quiet = slog.New(slog.DiscardHandler)

var errAPIDown = errors.New("api server down")

// waitClosed waits for ch to be closed (deadline 10 s).
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// sink records what the enricher writes, and signals each write.
type sink struct {
	mu      sync.Mutex
	records []record.Record
	flushes int
	written chan struct{}
	err     error
}

func newSink() *sink { return &sink{written: make(chan struct{}, 1<<16)} }

func (s *sink) Write(_ context.Context, r *record.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.records = append(s.records, *r)
	s.written <- struct{}{}
	return nil
}

func (s *sink) Flush(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes++
	return nil
}

func (s *sink) got() []record.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]record.Record(nil), s.records...)
}

// wait waits for n more writes (deadline 10 s).
func (s *sink) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-s.written:
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out waiting for a record to be written (have %d)", len(s.got()))
		}
	}
}

// cmd is a command record in a container.
func cmd(containerID, comm string) *record.Record {
	return &record.Record{Source: field.Cmd, Host: thisNode, ContainerID: containerID, Comm: comm, Cmdline: comm}
}
