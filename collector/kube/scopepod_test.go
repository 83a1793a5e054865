package kube

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/activityaudit/activityaudit/pkg/record"
)

func TestScopePod(t *testing.T) {
	idApp, idSide, idRemote, idOnly := cid("app"), cid("side"), cid("remote"), cid("only")
	local := newPod("shop", "web-abc-1", thisNode, ownedBy(owner(KindReplicaSet, "web-abc")),
		withContainer("app", "app:1", "containerd://"+idApp),
		withContainer("sidecar", "envoy:1", "containerd://"+idSide),
		withAnnotation(defaultContainerAnnotation, "sidecar"))
	noAnnotation := newPod("shop", "two-1", thisNode,
		withContainer("first", "a:1", "containerd://"+cid("first")),
		withContainer("second", "b:1", "containerd://"+cid("second")))
	badAnnotation := newPod("shop", "bad-1", thisNode,
		withContainer("only", "o:1", "containerd://"+idOnly),
		withAnnotation(defaultContainerAnnotation, "missing"))
	remote := newPod("batch", "backup-2891-z", otherNode, ownedBy(owner(KindJob, "backup-2891")),
		withContainer("dump", "pgdump:16", "cri-o://"+idRemote))
	p, cs, clk := testPods(t, replicaSet("shop", "web-abc", owner(KindDeployment, "web")),
		job("batch", "backup-2891", owner(KindCronJob, "backup")),
		local, noAnnotation, badAnnotation, remote)

	tests := []struct {
		name           string
		ns, pod, ctr   string
		want           record.Record // Workload, WorkloadKind, Container, ContainerID, Image, Host
		wantPodGets    int           // API reads of pods this call makes
		wantNotFound   bool
		wantOtherError bool
	}{
		{
			name: "this node, named container", ns: "shop", pod: "web-abc-1", ctr: "app",
			want: record.Record{Workload: "web", WorkloadKind: KindDeployment, Container: "app", ContainerID: idApp, Image: "app:1", Host: thisNode},
		},
		{
			name: "this node, default-container annotation", ns: "shop", pod: "web-abc-1",
			want: record.Record{Workload: "web", WorkloadKind: KindDeployment, Container: "sidecar", ContainerID: idSide, Image: "envoy:1", Host: thisNode},
		},
		{
			name: "this node, no annotation: the first, as kubectl", ns: "shop", pod: "two-1",
			want: record.Record{Container: "first", ContainerID: cid("first"), Image: "a:1", Host: thisNode},
		},
		{
			name: "annotation naming no container: the only one", ns: "shop", pod: "bad-1",
			want: record.Record{Container: "only", ContainerID: idOnly, Image: "o:1", Host: thisNode},
		},
		{
			name: "this node, container the pod does not have", ns: "shop", pod: "web-abc-1", ctr: "nope",
			want: record.Record{Workload: "web", WorkloadKind: KindDeployment, Container: "nope", Host: thisNode},
		},
		{
			name: "another node, read from the API", ns: "batch", pod: "backup-2891-z",
			want:        record.Record{Workload: "backup", WorkloadKind: KindCronJob, Container: "dump", ContainerID: idRemote, Image: "pgdump:16", Host: otherNode},
			wantPodGets: 1,
		},
		{
			name: "another node again: cached", ns: "batch", pod: "backup-2891-z", ctr: "dump",
			want: record.Record{Workload: "backup", WorkloadKind: KindCronJob, Container: "dump", ContainerID: idRemote, Image: "pgdump:16", Host: otherNode},
		},
		{
			name: "unknown pod", ns: "shop", pod: "ghost", wantPodGets: 1, wantNotFound: true,
		},
	}
	podGets := func() int {
		n := 0
		for _, a := range cs.Actions() {
			if a.GetVerb() == "get" && a.GetResource().Resource == "pods" {
				n++
			}
		}
		return n
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := podGets()
			r := record.Record{Namespace: tc.ns, Pod: tc.pod, Container: "keep", Host: "keep"}
			err := p.ScopePod(context.Background(), tc.ns, tc.pod, tc.ctr, &r)
			if got := podGets() - before; got != tc.wantPodGets {
				t.Errorf("pod reads = %d, want %d", got, tc.wantPodGets)
			}
			if tc.wantNotFound {
				if !errors.Is(err, ErrPodNotFound) {
					t.Fatalf("err = %v, want ErrPodNotFound", err)
				}
				if r != (record.Record{Namespace: tc.ns, Pod: tc.pod, Container: "keep", Host: "keep"}) {
					t.Errorf("record changed on error: %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Namespace, want.Pod = tc.ns, tc.pod
			if r != want {
				t.Errorf("record = %+v\nwant %+v", r, want)
			}
		})
	}

	t.Run("another node after the TTL: read again", func(t *testing.T) {
		clk.Step(DefaultPodTTL)
		before := podGets()
		var r record.Record
		if err := p.ScopePod(context.Background(), "batch", "backup-2891-z", "", &r); err != nil {
			t.Fatal(err)
		}
		if got := podGets() - before; got != 1 {
			t.Errorf("pod reads = %d, want 1", got)
		}
		if got := testutil.ToFloat64(p.metrics.podFetches.WithLabelValues("ok")); got != 2 {
			t.Errorf("pod fetches ok = %v, want 2", got)
		}
	})
}

func TestScopePodAPIError(t *testing.T) {
	cs := newFakeClientset()
	cs.PrependReactor("get", "pods", failReaction)
	p, err := NewPods(cs, PodsOptions{Node: thisNode})
	if err != nil {
		t.Fatal(err)
	}
	var r record.Record
	err = p.ScopePod(context.Background(), "ns", "pod", "", &r)
	if !errors.Is(err, errAPIDown) || errors.Is(err, ErrPodNotFound) {
		t.Fatalf("err = %v, want the API error", err)
	}
}

func TestFakeScopePod(t *testing.T) {
	f := NewFake()
	f.AddContainer(Scope{Namespace: "ns", Pod: "p", Container: "main", ContainerID: cid("m"), Image: "m:1", Workload: "w", WorkloadKind: KindDeployment, Host: otherNode})
	f.AddContainer(Scope{Namespace: "ns", Pod: "p", Container: "side", ContainerID: cid("s"), Image: "s:1", Workload: "w", WorkloadKind: KindDeployment, Host: otherNode})
	var r record.Record
	if err := f.ScopePod(context.Background(), "ns", "p", "", &r); err != nil {
		t.Fatal(err)
	}
	if r.Container != "main" || r.ContainerID != cid("m") || r.Host != otherNode || r.Workload != "w" {
		t.Errorf("default container: %+v", r)
	}
	if err := f.ScopePod(context.Background(), "ns", "gone", "", &r); !errors.Is(err, ErrPodNotFound) {
		t.Errorf("unknown pod: err = %v", err)
	}
}
