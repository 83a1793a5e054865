package kubeaudit

import (
	"context"
	"errors"
	"fmt"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// Scoper fills a record's Kubernetes scope from the pod it targets.
type Scoper interface {
	// ScopePod fills r's Workload, WorkloadKind, Container (when container is ""
	// it is the pod's only container, or its kubectl.kubernetes.io/default-container
	// annotation), ContainerID, Image and Host (the pod's node). It returns an error
	// when the pod cannot be found; r keeps what it had (Namespace, Pod).
	ScopePod(ctx context.Context, namespace, pod, container string, r *record.Record) error
}

// ErrPodNotFound is what StaticScoper returns for a pod it does not know.
var ErrPodNotFound = errors.New("pod not found")

// PodScope is what StaticScoper knows of a pod.
type PodScope struct {
	Workload, WorkloadKind string
	// Node is the pod's node (the record's host).
	Node string
	// DefaultContainer is the kubectl.kubernetes.io/default-container
	// annotation.
	DefaultContainer string
	Containers       []ContainerScope
}

// ContainerScope is one container of a PodScope.
type ContainerScope struct {
	Name, ID, Image string
}

// StaticScoper is a Scoper over a fixed set of pods keyed "namespace/pod":
// the fake for tests, and a stand-in where no API server is reachable.
type StaticScoper map[string]PodScope

var _ Scoper = StaticScoper(nil)

// ScopePod implements Scoper.
func (s StaticScoper) ScopePod(_ context.Context, namespace, pod, container string, r *record.Record) error {
	p, ok := s[namespace+"/"+pod]
	if !ok {
		return fmt.Errorf("scope pod %s/%s: %w", namespace, pod, ErrPodNotFound)
	}
	r.Workload, r.WorkloadKind, r.Host = p.Workload, p.WorkloadKind, p.Node
	if container == "" {
		switch {
		case p.DefaultContainer != "":
			container = p.DefaultContainer
		case len(p.Containers) == 1:
			container = p.Containers[0].Name
		}
	}
	r.Container = container
	for _, c := range p.Containers {
		if c.Name == container {
			r.ContainerID, r.Image = c.ID, c.Image
		}
	}
	return nil
}
