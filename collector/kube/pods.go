package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of PodsOptions.
const (
	DefaultOwnerTTL    = 5 * time.Minute
	DefaultPodTTL      = 30 * time.Second
	DefaultMaxPods     = 1024
	DefaultDeleteGrace = 10 * time.Second
)

// ownerFetchTimeout bounds one read of a ReplicaSet or Job while a pod
// event is handled.
const ownerFetchTimeout = 10 * time.Second

// PodsOptions configure Pods.
type PodsOptions struct {
	// Node is this node's name, as pods' spec.nodeName has it. Required.
	Node string
	// OwnerTTL is how long what owns a ReplicaSet or Job is cached.
	OwnerTTL time.Duration
	// PodTTL is how long a pod of another node, read for ScopePod, is cached.
	PodTTL time.Duration
	// MaxPods bounds that cache.
	MaxPods int
	// DeleteGrace is how long a deleted pod's containers stay known, so
	// the records still in flight when it went are attributed.
	DeleteGrace time.Duration
	// Clock is the time source (tests: a fake clock).
	Clock clock.WithTicker
	// Log receives warnings (API errors).
	Log *slog.Logger
}

// Pods knows this node's pods from a shared informer (field selector
// spec.nodeName), indexed by container id, each with its top workload. It
// implements Lookup and PodScoper. Run runs the informer; lookups are safe
// for concurrent use at any time (before the first sync they miss).
type Pods struct {
	client   kubernetes.Interface
	opts     PodsOptions
	log      *slog.Logger
	clock    clock.WithTicker
	owners   *owners
	metrics  *podsMetrics
	informer cache.SharedIndexInformer
	handler  cache.ResourceEventHandlerRegistration
	running  atomic.Bool
	runCtx   context.Context // Run's, for owner reads in handlers; set before the informer starts

	mu       sync.RWMutex
	byID     map[string]*containerInfo
	byUID    map[types.UID]*podInfo
	byName   map[types.NamespacedName]*podInfo
	deleting map[types.UID]time.Time // deleted pods in their grace, and when they went
	changed  chan struct{}

	remoteMu sync.Mutex
	remote   map[types.NamespacedName]remotePod
}

// remotePod is a pod read from the API for ScopePod, and when.
type remotePod struct {
	info *podInfo
	at   time.Time
}

// NewPods sets up the informer on node's pods. Nothing is read until Run.
func NewPods(client kubernetes.Interface, opts PodsOptions) (*Pods, error) {
	if opts.Node == "" {
		return nil, errors.New("make pod informer: no node name")
	}
	if opts.OwnerTTL <= 0 {
		opts.OwnerTTL = DefaultOwnerTTL
	}
	if opts.PodTTL <= 0 {
		opts.PodTTL = DefaultPodTTL
	}
	if opts.MaxPods <= 0 {
		opts.MaxPods = DefaultMaxPods
	}
	if opts.DeleteGrace <= 0 {
		opts.DeleteGrace = DefaultDeleteGrace
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	p := &Pods{
		client:   client,
		opts:     opts,
		log:      log.With("component", "kube"),
		clock:    opts.Clock,
		metrics:  newPodsMetrics(),
		byID:     make(map[string]*containerInfo),
		byUID:    make(map[types.UID]*podInfo),
		byName:   make(map[types.NamespacedName]*podInfo),
		deleting: make(map[types.UID]time.Time),
		changed:  make(chan struct{}),
		remote:   make(map[types.NamespacedName]remotePod),
	}
	p.owners = newOwners(client, opts.OwnerTTL, opts.Clock, counterVecInc{p.metrics.ownerFetches})

	selector := fields.OneTermEqualSelector("spec.nodeName", opts.Node).String()
	p.informer = coreinformers.NewFilteredPodInformer(client, metav1.NamespaceAll, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.FieldSelector = selector })
	if err := p.informer.SetTransform(trimPod); err != nil {
		return nil, fmt.Errorf("set pod transform: %w", err)
	}
	if err := p.informer.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		p.log.Warn("watch pods", "node", opts.Node, "error", err)
	}); err != nil {
		return nil, fmt.Errorf("set pod watch error handler: %w", err)
	}
	reg, err := p.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { p.onPod(obj) },
		UpdateFunc: func(_, obj any) { p.onPod(obj) },
		DeleteFunc: p.onDelete,
	})
	if err != nil {
		return nil, fmt.Errorf("add pod event handler: %w", err)
	}
	p.handler = reg
	return p, nil
}

// trimPod drops what is never read (managed fields are often half a pod).
func trimPod(obj any) (any, error) {
	if pod, ok := obj.(*corev1.Pod); ok {
		pod.ManagedFields = nil
	}
	return obj, nil
}

// Run runs the informer and expires deleted pods until ctx is done.
func (p *Pods) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("run pod informer: already running")
	}
	p.runCtx = ctx
	var wg sync.WaitGroup
	wg.Go(func() { p.informer.RunWithContext(ctx) })
	defer wg.Wait()
	tick := p.clock.NewTicker(max(p.opts.DeleteGrace/2, 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C():
			p.sweep()
		}
	}
}

// WaitSynced waits until the informer's first list has been indexed.
func (p *Pods) WaitSynced(ctx context.Context) error {
	select {
	case <-p.handler.HasSyncedChecker().Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for pods of node %s: %w", p.opts.Node, context.Cause(ctx))
	}
}

// Synced reports whether the informer's first list has been indexed.
func (p *Pods) Synced() bool { return p.handler.HasSynced() }

// Register adds the metrics to reg.
func (p *Pods) Register(reg prometheus.Registerer) error {
	return register(reg, p.metrics.collectors())
}

// Container returns the scope of a container of this node's pods.
func (p *Pods) Container(id string) (Scope, bool) {
	p.mu.RLock()
	c := p.byID[id]
	p.mu.RUnlock()
	if c == nil {
		return Scope{}, false
	}
	return c.scope(id), true
}

// Changed returns a channel closed when containers are next added.
func (p *Pods) Changed() <-chan struct{} {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.changed
}

// onPod indexes an added or updated pod. The fake clientset does not
// apply field selectors, and a relist may bring anything: pods of other
// nodes are ignored here too.
func (p *Pods) onPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName != p.opts.Node {
		return
	}
	ctx := p.runCtx
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, ownerFetchTimeout)
	defer cancel()
	name, kind, err := p.owners.workload(ctx, pod)
	if err != nil {
		p.log.Warn("find workload of pod", "namespace", pod.Namespace, "pod", pod.Name, "error", err)
	}
	p.index(newPodInfo(pod, name, kind))
}

// index puts a pod in the index, in place of its previous version.
func (p *Pods) index(info *podInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	added := false // ids not known before: what Changed announces
	for _, c := range info.containers {
		for _, id := range c.ids() {
			if _, known := p.byID[id]; !known {
				added = true
			}
		}
	}
	if old := p.byUID[info.uid]; old != nil {
		p.unindexContainers(old)
	}
	for _, c := range info.containers {
		for _, id := range c.ids() {
			p.byID[id] = c
		}
	}
	p.byUID[info.uid] = info
	p.byName[types.NamespacedName{Namespace: info.namespace, Name: info.name}] = info
	delete(p.deleting, info.uid)
	if added {
		close(p.changed)
		p.changed = make(chan struct{})
	}
	p.updateGauges()
}

// unindexContainers removes a pod version's container ids (those that
// still point to it).
func (p *Pods) unindexContainers(info *podInfo) {
	for _, c := range info.containers {
		for _, id := range c.ids() {
			if p.byID[id] == c {
				delete(p.byID, id)
			}
		}
	}
}

func (c *containerInfo) ids() []string {
	if c.id == "" {
		return c.oldIDs
	}
	if len(c.oldIDs) == 0 {
		return []string{c.id}
	}
	return append([]string{c.id}, c.oldIDs...)
}

// onDelete starts a deleted pod's grace: its containers stay known until
// sweep finds the grace over.
func (p *Pods) onDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.byUID[pod.UID]; ok {
		p.deleting[pod.UID] = p.clock.Now()
		p.updateGauges()
	}
}

// sweep forgets deleted pods whose grace is over.
func (p *Pods) sweep() {
	now := p.clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for uid, at := range p.deleting {
		if now.Sub(at) < p.opts.DeleteGrace {
			continue
		}
		info := p.byUID[uid]
		p.unindexContainers(info)
		name := types.NamespacedName{Namespace: info.namespace, Name: info.name}
		if p.byName[name] == info { // not a new pod of the same name
			delete(p.byName, name)
		}
		delete(p.byUID, uid)
		delete(p.deleting, uid)
	}
	p.updateGauges()
}

func (p *Pods) updateGauges() {
	p.metrics.pods.Set(float64(len(p.byUID) - len(p.deleting)))
	p.metrics.containers.Set(float64(len(p.byID)))
}
