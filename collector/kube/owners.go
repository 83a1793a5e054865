package kube

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// Workload kinds a pod's owner chain is followed through or ends at.
const (
	KindDeployment  = "Deployment"
	KindReplicaSet  = "ReplicaSet"
	KindStatefulSet = "StatefulSet"
	KindDaemonSet   = "DaemonSet"
	KindCronJob     = "CronJob"
	KindJob         = "Job"
)

// maxOwners bounds the owner cache; past it, expired entries are swept.
const maxOwners = 4096

// owners finds a pod's top workload through its owner references. Only
// ReplicaSets and Jobs are looked through (to their Deployment or
// CronJob): they are fetched from the API when a pod needs them, and what
// owns them is cached for a TTL. Safe for concurrent use.
type owners struct {
	client  kubernetes.Interface
	ttl     time.Duration
	clock   clock.PassiveClock
	fetches fetchCounter

	mu    sync.Mutex
	cache map[ownerKey]ownerEntry
}

// fetchCounter counts API reads by result (ok, not_found, error).
type fetchCounter interface{ inc(result string) }

type ownerKey struct{ kind, namespace, name string }

// ownerEntry is what owns a ReplicaSet or Job ("" when nothing does).
type ownerEntry struct {
	kind, name string
	at         time.Time
}

func newOwners(client kubernetes.Interface, ttl time.Duration, clk clock.PassiveClock, fetches fetchCounter) *owners {
	return &owners{client: client, ttl: ttl, clock: clk, fetches: fetches, cache: make(map[ownerKey]ownerEntry)}
}

// workload returns the pod's top owner: a Deployment for a ReplicaSet's
// pod, a CronJob for a Job's, the direct owner otherwise; "" for a bare
// pod. When an owner cannot be read, the direct owner is returned with the
// error.
func (o *owners) workload(ctx context.Context, pod *corev1.Pod) (name, kind string, err error) {
	ref := controllerRef(pod.OwnerReferences)
	if ref == nil {
		return "", "", nil
	}
	if ref.Kind != KindReplicaSet && ref.Kind != KindJob {
		return ref.Name, ref.Kind, nil
	}
	pkind, pname, err := o.owner(ctx, ref.Kind, pod.Namespace, ref.Name)
	if err != nil || pname == "" {
		return ref.Name, ref.Kind, err
	}
	return pname, pkind, nil
}

// owner returns what owns a ReplicaSet or Job, from the cache or the API.
func (o *owners) owner(ctx context.Context, kind, namespace, name string) (okind, oname string, err error) {
	key := ownerKey{kind, namespace, name}
	now := o.clock.Now()
	o.mu.Lock()
	e, ok := o.cache[key]
	o.mu.Unlock()
	if ok && now.Sub(e.at) < o.ttl {
		return e.kind, e.name, nil
	}

	var obj metav1.Object
	switch kind {
	case KindReplicaSet:
		obj, err = o.client.AppsV1().ReplicaSets(namespace).Get(ctx, name, metav1.GetOptions{})
	case KindJob:
		obj, err = o.client.BatchV1().Jobs(namespace).Get(ctx, name, metav1.GetOptions{})
	}
	switch {
	case apierrors.IsNotFound(err):
		// Gone (its pods are being deleted): the pod's owner is the top.
		o.fetches.inc("not_found")
	case err != nil:
		o.fetches.inc("error")
		return "", "", fmt.Errorf("get %s %s/%s: %w", kind, namespace, name, err)
	default:
		o.fetches.inc("ok")
		if ref := controllerRef(obj.GetOwnerReferences()); ref != nil {
			e.kind, e.name = ref.Kind, ref.Name
		} else {
			e.kind, e.name = "", ""
		}
	}
	e.at = now
	o.mu.Lock()
	if len(o.cache) >= maxOwners {
		for k, old := range o.cache {
			if now.Sub(old.at) >= o.ttl {
				delete(o.cache, k)
			}
		}
		for k := range o.cache { // still full: any one goes
			if len(o.cache) < maxOwners {
				break
			}
			delete(o.cache, k)
		}
	}
	o.cache[key] = e
	o.mu.Unlock()
	return e.kind, e.name, nil
}

// controllerRef is the owner reference marked controller, else the first.
func controllerRef(refs []metav1.OwnerReference) *metav1.OwnerReference {
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			return &refs[i]
		}
	}
	if len(refs) > 0 {
		return &refs[0]
	}
	return nil
}
