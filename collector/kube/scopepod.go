package kube

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// ErrPodNotFound is returned (wrapped) by ScopePod for a pod the API
// server does not have.
var ErrPodNotFound = errors.New("pod not found")

// ScopePod fills r's Workload, WorkloadKind, Container (when container is ""
// it is the pod's only container, or its kubectl.kubernetes.io/default-container
// annotation), ContainerID, Image and Host (the pod's node). It returns an error
// when the pod cannot be found; r keeps what it had (Namespace, Pod).
//
// Pods of this node come from the informer; others are read from the API
// and cached for PodTTL. With no annotation and several containers, the
// first is taken, as kubectl exec does. A container the pod does not have
// (yet) is named as asked, with no id or image.
func (p *Pods) ScopePod(ctx context.Context, namespace, pod, container string, r *record.Record) error {
	name := types.NamespacedName{Namespace: namespace, Name: pod}
	p.mu.RLock()
	info := p.byName[name]
	p.mu.RUnlock()
	if info == nil {
		var err error
		if info, err = p.remotePod(ctx, name); err != nil {
			return err
		}
	}
	info.fill(container, r)
	return nil
}

// remotePod returns a pod from the cache, or from the API.
func (p *Pods) remotePod(ctx context.Context, name types.NamespacedName) (*podInfo, error) {
	now := p.clock.Now()
	p.remoteMu.Lock()
	c, ok := p.remote[name]
	p.remoteMu.Unlock()
	if ok && now.Sub(c.at) < p.opts.PodTTL {
		return c.info, nil
	}

	pod, err := p.client.CoreV1().Pods(name.Namespace).Get(ctx, name.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		p.metrics.podFetches.WithLabelValues("not_found").Inc()
		return nil, fmt.Errorf("get pod %s: %w", name, ErrPodNotFound)
	case err != nil:
		p.metrics.podFetches.WithLabelValues("error").Inc()
		return nil, fmt.Errorf("get pod %s: %w", name, err)
	}
	p.metrics.podFetches.WithLabelValues("ok").Inc()
	workload, kind, err := p.owners.workload(ctx, pod)
	if err != nil {
		p.log.Warn("find workload of pod", "namespace", pod.Namespace, "pod", pod.Name, "error", err)
	}
	info := newPodInfo(pod, workload, kind)

	p.remoteMu.Lock()
	defer p.remoteMu.Unlock()
	if len(p.remote) >= p.opts.MaxPods {
		for k, old := range p.remote {
			if now.Sub(old.at) >= p.opts.PodTTL {
				delete(p.remote, k)
			}
		}
		for k := range p.remote { // still full: any one goes
			if len(p.remote) < p.opts.MaxPods {
				break
			}
			delete(p.remote, k)
		}
	}
	p.remote[name] = remotePod{info: info, at: now}
	return info, nil
}
