// Package kube gives records their Kubernetes scope: which namespace,
// workload, pod and container a container id belongs to (from an informer
// on this node's pods), which exec sessions are kubelet probes, and the
// scope of any pod in the cluster for the kube exec audit.
package kube

import (
	"context"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// Scope is where a container runs.
type Scope struct {
	Namespace    string
	Workload     string // top owner: Deployment, StatefulSet, DaemonSet, CronJob, Job; "" for a bare pod
	WorkloadKind string
	Pod          string
	Container    string
	ContainerID  string // 64 hex
	Image        string
	Host         string // the pod's node
	// Probes are the container's exec probe commands (liveness, readiness,
	// startup), each rendered as record.CommandLine renders argv.
	// Shared: read only.
	Probes []string
}

// Lookup finds the containers of this node's pods by id. Pods implements
// it from an informer; Fake is one set by hand.
type Lookup interface {
	// Container returns the scope of the container with this id.
	Container(id string) (Scope, bool)
	// Changed returns a channel that is closed when containers are next
	// added, so a caller holding records for unknown containers can retry.
	Changed() <-chan struct{}
}

// PodScoper fills a record's scope from a pod's namespace and name (what the
// kube exec audit knows). Pods and Fake implement it.
type PodScoper interface {
	ScopePod(ctx context.Context, namespace, pod, container string, r *record.Record) error
}

// defaultContainerAnnotation names the container kubectl exec, logs and
// attach use when none is given.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// podInfo is what is kept of a pod: immutable once built (an update builds
// a new one), so scopes are read without copying it.
type podInfo struct {
	uid          types.UID
	namespace    string
	name         string
	node         string
	workload     string
	workloadKind string
	// defaultContainer is the container `kubectl exec` without -c enters.
	defaultContainer string
	containers       []*containerInfo // regular, init, ephemeral
}

// containerInfo is one container of a pod. id is empty until it started.
type containerInfo struct {
	pod    *podInfo
	name   string
	id     string
	image  string
	probes []string
	// oldIDs are ids of its previous runs (lastState), still attributed so
	// late records of a restarted container keep their scope.
	oldIDs []string
}

func (c *containerInfo) scope(id string) Scope {
	return Scope{
		Namespace:    c.pod.namespace,
		Workload:     c.pod.workload,
		WorkloadKind: c.pod.workloadKind,
		Pod:          c.pod.name,
		Container:    c.name,
		ContainerID:  id,
		Image:        c.image,
		Host:         c.pod.node,
		Probes:       c.probes,
	}
}

// container finds a container by name; "" is the default container.
func (p *podInfo) container(name string) *containerInfo {
	if name == "" {
		name = p.defaultContainer
	}
	for _, c := range p.containers {
		if c.name == name {
			return c
		}
	}
	return nil
}

// fill writes the pod's scope and the named container's into r.
func (p *podInfo) fill(container string, r *record.Record) {
	r.Workload, r.WorkloadKind, r.Host = p.workload, p.workloadKind, p.node
	c := p.container(container)
	if c == nil {
		// Not in the spec (yet): name it as asked, nothing else is known.
		r.Container, r.ContainerID, r.Image = container, "", ""
		return
	}
	r.Container, r.ContainerID, r.Image = c.name, c.id, c.image
}

// newPodInfo builds what is kept of a pod, its workload already resolved.
func newPodInfo(pod *corev1.Pod, workload, kind string) *podInfo {
	p := &podInfo{
		uid:          pod.UID,
		namespace:    pod.Namespace,
		name:         pod.Name,
		node:         pod.Spec.NodeName,
		workload:     workload,
		workloadKind: kind,
	}
	statuses := make(map[string]*corev1.ContainerStatus)
	for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses, pod.Status.EphemeralContainerStatuses} {
		for i := range list {
			statuses[list[i].Name] = &list[i]
		}
	}
	add := func(name, image string, probes ...*corev1.Probe) {
		c := &containerInfo{pod: p, name: name, image: image, probes: probeCommands(probes...)}
		if st := statuses[name]; st != nil {
			c.id, _ = parseContainerID(st.ContainerID)
			if t := st.LastTerminationState.Terminated; t != nil {
				if old, ok := parseContainerID(t.ContainerID); ok && old != c.id {
					c.oldIDs = append(c.oldIDs, old)
				}
			}
			if c.image == "" {
				c.image = st.Image
			}
		}
		p.containers = append(p.containers, c)
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		add(c.Name, c.Image, c.LivenessProbe, c.ReadinessProbe, c.StartupProbe)
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		add(c.Name, c.Image, c.LivenessProbe, c.ReadinessProbe, c.StartupProbe) // sidecars may have probes
	}
	for i := range pod.Spec.EphemeralContainers {
		c := &pod.Spec.EphemeralContainers[i]
		add(c.Name, c.Image) // ephemeral containers may not have probes
	}
	p.defaultContainer = defaultContainer(pod)
	return p
}

// defaultContainer is the container `kubectl exec` without -c enters: the
// annotated one when it exists, else the first (the only one, usually).
func defaultContainer(pod *corev1.Pod) string {
	if name := pod.Annotations[defaultContainerAnnotation]; name != "" {
		for _, c := range pod.Spec.Containers {
			if c.Name == name {
				return name
			}
		}
	}
	if len(pod.Spec.Containers) > 0 {
		return pod.Spec.Containers[0].Name
	}
	return ""
}

// probeCommands renders the exec probes' argv as the records' cmdline is.
func probeCommands(probes ...*corev1.Probe) []string {
	var out []string
	for _, p := range probes {
		if p == nil || p.Exec == nil || len(p.Exec.Command) == 0 {
			continue
		}
		line := record.CommandLine(p.Exec.Command, false)
		if !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	return out
}

// idLen is a container id's length: 32 bytes in hex.
const idLen = 64

// parseContainerID reads a status containerID, "<runtime>://<64 hex>"
// (containerd, docker, cri-o). ok is false for an empty or other id.
func parseContainerID(s string) (id string, ok bool) {
	i := strings.Index(s, "://")
	if i < 0 {
		return "", false
	}
	id = s[i+3:]
	if len(id) != idLen {
		return "", false
	}
	for j := 0; j < len(id); j++ {
		c := id[j]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", false
		}
	}
	return id, true
}
