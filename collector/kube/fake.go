package kube

import (
	"context"
	"fmt"
	"sync"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// Fake is a Lookup and PodScoper whose containers are set by hand, for
// tests of what uses them (the enricher, the kube audit). Safe for
// concurrent use.
type Fake struct {
	mu         sync.Mutex
	containers map[string]Scope
	pods       map[[2]string][]Scope // by namespace, pod: its containers, the default first
	changed    chan struct{}
}

// NewFake makes an empty fake.
func NewFake() *Fake {
	return &Fake{containers: make(map[string]Scope), pods: make(map[[2]string][]Scope), changed: make(chan struct{})}
}

// AddContainer makes a container known (by s.ContainerID) and to its pod
// (s.Namespace, s.Pod); the first container added to a pod is its default.
func (f *Fake) AddContainer(s Scope) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := [2]string{s.Namespace, s.Pod}
	f.pods[key] = append(f.pods[key], s)
	if s.ContainerID == "" {
		return
	}
	f.containers[s.ContainerID] = s
	close(f.changed)
	f.changed = make(chan struct{})
}

// Container implements Lookup.
func (f *Fake) Container(id string) (Scope, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.containers[id]
	return s, ok
}

// Changed implements Lookup.
func (f *Fake) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// ScopePod implements PodScoper as Pods does.
func (f *Fake) ScopePod(_ context.Context, namespace, pod, container string, r *record.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs := f.pods[[2]string{namespace, pod}]
	if len(cs) == 0 {
		return fmt.Errorf("get pod %s/%s: %w", namespace, pod, ErrPodNotFound)
	}
	r.Workload, r.WorkloadKind, r.Host = cs[0].Workload, cs[0].WorkloadKind, cs[0].Host
	r.Container, r.ContainerID, r.Image = container, "", ""
	for i, c := range cs {
		if c.Container == container || (container == "" && i == 0) {
			r.Container, r.ContainerID, r.Image = c.Container, c.ContainerID, c.Image
			break
		}
	}
	return nil
}

var (
	_ Lookup    = (*Fake)(nil)
	_ PodScoper = (*Fake)(nil)
	_ Lookup    = (*Pods)(nil)
	_ PodScoper = (*Pods)(nil)
	_ Sink      = (*Enricher)(nil)
	_ flusher   = (*Enricher)(nil)
)
