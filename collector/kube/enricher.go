package kube

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// Sink receives records: the pipeline's Sink, e.g. a ship.Writer.
type Sink interface {
	Write(ctx context.Context, r *record.Record) error
}

// flusher is a Sink that buffers (the pipeline's Flusher).
type flusher interface {
	Flush(ctx context.Context) error
}

// Defaults of EnricherOptions.
const (
	DefaultHoldTimeout          = 3 * time.Second
	DefaultMaxHeld              = 10000
	DefaultMaxProbeSessions     = 16384
	DefaultMaxUnknownContainers = 4096
)

// EnricherOptions configure an Enricher.
type EnricherOptions struct {
	// HoldTimeout is how long a record of a container not yet known is
	// held before it goes out without its scope.
	HoldTimeout time.Duration
	// MaxHeld bounds the records held; past it the oldest go out.
	MaxHeld int
	// MaxProbeSessions bounds the probe sessions remembered.
	MaxProbeSessions int
	// MaxUnknownContainers bounds the containers remembered as given up on.
	MaxUnknownContainers int
	// Clock is the time source (tests: a fake clock).
	Clock clock.Clock
}

// Enricher is a sink in front of another: records with a container id get
// their Kubernetes scope (namespace, workload, workload_kind, pod,
// container, image) from a Lookup, and command records of kubelet exec
// probe sessions get probe=true.
//
// A record whose container is not known yet (it runs before the informer
// has its status) is held, in order per container, until the container is
// known — then it goes out with its scope — or for at most HoldTimeout,
// then it goes out without and is counted unattributed; its container is
// then given up on and its next records are not held. Held records are
// released by Write, Flush and Run (which wakes when the lookup learns
// containers). Records without a container id (host processes) pass
// straight through.
//
// Write, Flush and Run may be called from different goroutines; calls to
// next are serialized.
type Enricher struct {
	lookup  Lookup
	opts    EnricherOptions
	clock   clock.Clock
	metrics *enricherMetrics
	kick    chan struct{} // a first record was held: Run re-arms its timer

	mu       sync.Mutex // guards what follows, and calls to next
	next     Sink
	held     map[string][]*heldRecord // by container id, oldest first
	order    list.List                // every held record, oldest first
	released uint64                   // held records written to next
	stopped  bool                     // Run ended: nothing is held anymore
	probes   boundedSet               // sessions started by exec probes
	entries  boundedSet               // sessions whose entry's first program was seen
	unknown  boundedSet               // containers given up on
}

type heldRecord struct {
	r    record.Record // a copy: the caller may reuse its record
	at   time.Time
	elem *list.Element
}

// NewEnricher makes an enricher writing to next.
func NewEnricher(lookup Lookup, next Sink, opts EnricherOptions) *Enricher {
	if opts.HoldTimeout <= 0 {
		opts.HoldTimeout = DefaultHoldTimeout
	}
	if opts.MaxHeld <= 0 {
		opts.MaxHeld = DefaultMaxHeld
	}
	if opts.MaxProbeSessions <= 0 {
		opts.MaxProbeSessions = DefaultMaxProbeSessions
	}
	if opts.MaxUnknownContainers <= 0 {
		opts.MaxUnknownContainers = DefaultMaxUnknownContainers
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Enricher{
		lookup:  lookup,
		opts:    opts,
		clock:   opts.Clock,
		metrics: newEnricherMetrics(),
		kick:    make(chan struct{}, 1),
		next:    next,
		held:    make(map[string][]*heldRecord),
		probes:  newBoundedSet(opts.MaxProbeSessions),
		entries: newBoundedSet(opts.MaxProbeSessions),
		unknown: newBoundedSet(opts.MaxUnknownContainers),
	}
}

// Register adds the metrics to reg.
func (e *Enricher) Register(reg prometheus.Registerer) error {
	return register(reg, e.metrics.collectors())
}

// Write enriches r and writes it to next, or holds it while its container
// is not known. r is modified in place; a held record is copied.
func (e *Enricher) Write(ctx context.Context, r *record.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.expire(ctx, e.clock.Now()); err != nil {
		return err
	}
	id := r.ContainerID
	if id == "" {
		return e.next.Write(ctx, r)
	}
	sc, ok := e.lookup.Container(id)
	if ok {
		e.metrics.lookupHit.Inc()
	} else {
		e.metrics.lookupMiss.Inc()
	}
	if len(e.held[id]) > 0 { // keep the container's order
		if !ok {
			return e.hold(ctx, r)
		}
		if err := e.releaseContainer(ctx, id, &sc, ""); err != nil {
			return err
		}
	}
	switch {
	case ok:
		e.enrich(r, &sc)
		return e.next.Write(ctx, r)
	case e.stopped:
		return e.writeBare(ctx, r, ReasonStopped)
	case e.unknown.has(id):
		return e.writeBare(ctx, r, ReasonUnknown)
	}
	return e.hold(ctx, r)
}

// Flush releases the held records whose container is now known (or whose
// time is up) and flushes next.
func (e *Enricher) Flush(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.release(ctx); err != nil {
		return err
	}
	return e.flushNext(ctx)
}

// Run releases held records as soon as their container is known, or when
// their time is up, until ctx is done; then it releases every held record
// (with its scope when known) and flushes next. Records written after Run
// ended are not held.
func (e *Enricher) Run(ctx context.Context) error {
	for {
		e.mu.Lock()
		var changed <-chan struct{}
		if e.order.Len() > 0 {
			changed = e.lookup.Changed() // before the lookups: a change after them wakes us
		}
		before := e.released
		err := e.release(ctx)
		if err == nil && e.released != before {
			err = e.flushNext(ctx)
		}
		wait := time.Duration(-1)
		if front := e.order.Front(); front != nil {
			wait = max(front.Value.(*heldRecord).at.Add(e.opts.HoldTimeout).Sub(e.clock.Now()), 0)
		}
		e.mu.Unlock()
		if err != nil {
			return fmt.Errorf("release held records: %w", err)
		}

		var timer clock.Timer
		var expired <-chan time.Time
		if wait >= 0 {
			timer = e.clock.NewTimer(wait)
			expired = timer.C()
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-expired:
		case <-e.kick:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return e.stop(context.WithoutCancel(ctx))
		}
	}
}

// stop releases everything held and stops holding.
func (e *Enricher) stop(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopped = true
	for e.order.Len() > 0 {
		id := e.order.Front().Value.(*heldRecord).r.ContainerID
		var err error
		if sc, ok := e.lookup.Container(id); ok {
			err = e.releaseContainer(ctx, id, &sc, "")
		} else {
			err = e.releaseContainer(ctx, id, nil, ReasonStopped)
		}
		if err != nil {
			return fmt.Errorf("release held records: %w", err)
		}
	}
	if err := e.flushNext(ctx); err != nil {
		return fmt.Errorf("release held records: %w", err)
	}
	return nil
}

// release writes the held records whose container is now known, and those
// whose time is up.
func (e *Enricher) release(ctx context.Context) error {
	if e.order.Len() == 0 {
		return nil
	}
	for id := range e.held {
		if sc, ok := e.lookup.Container(id); ok {
			if err := e.releaseContainer(ctx, id, &sc, ""); err != nil {
				return err
			}
		}
	}
	return e.expire(ctx, e.clock.Now())
}

// expire releases the containers whose oldest held record's time is up:
// with their scope if known by now, else without, and gives them up.
func (e *Enricher) expire(ctx context.Context, now time.Time) error {
	for front := e.order.Front(); front != nil; front = e.order.Front() {
		h := front.Value.(*heldRecord)
		if now.Sub(h.at) < e.opts.HoldTimeout {
			return nil
		}
		id := h.r.ContainerID
		if sc, ok := e.lookup.Container(id); ok {
			if err := e.releaseContainer(ctx, id, &sc, ""); err != nil {
				return err
			}
			continue
		}
		if e.unknown.add(id) {
			e.metrics.unknownForgotten.Inc()
		}
		if err := e.releaseContainer(ctx, id, nil, ReasonTimeout); err != nil {
			return err
		}
	}
	return nil
}

// hold keeps a copy of r; past MaxHeld the oldest held record goes out.
func (e *Enricher) hold(ctx context.Context, r *record.Record) error {
	h := &heldRecord{r: *r, at: e.clock.Now()}
	h.elem = e.order.PushBack(h)
	e.held[r.ContainerID] = append(e.held[r.ContainerID], h)
	if e.order.Len() == 1 {
		select {
		case e.kick <- struct{}{}:
		default:
		}
	}
	var err error
	if e.order.Len() > e.opts.MaxHeld {
		err = e.releaseOldest(ctx)
	}
	e.metrics.held.Set(float64(e.order.Len()))
	return err
}

// releaseOldest writes the oldest held record without its scope (it is
// the first of its container's, so the container's order is kept).
func (e *Enricher) releaseOldest(ctx context.Context) error {
	h := e.order.Remove(e.order.Front()).(*heldRecord)
	id := h.r.ContainerID
	if q := e.held[id][1:]; len(q) > 0 {
		e.held[id] = q
	} else {
		delete(e.held, id)
	}
	e.released++
	return e.writeBare(ctx, &h.r, ReasonBound)
}

// releaseContainer writes a container's held records in order: with sc,
// or (sc nil) without a scope, counted unattributed for reason. When next
// fails a record, that record is next's (as a Write's record would be) and
// the error is returned; the records after it stay held, in order.
func (e *Enricher) releaseContainer(ctx context.Context, id string, sc *Scope, reason string) error {
	q := e.held[id]
	delete(e.held, id)
	defer func() { e.metrics.held.Set(float64(e.order.Len())) }()
	for i, h := range q {
		e.order.Remove(h.elem)
		e.released++
		var err error
		if sc != nil {
			e.enrich(&h.r, sc)
			err = e.next.Write(ctx, &h.r)
		} else {
			err = e.writeBare(ctx, &h.r, reason)
		}
		if err != nil {
			if rest := q[i+1:]; len(rest) > 0 { // still held, in order
				e.held[id] = rest
			}
			return err
		}
	}
	return nil
}

// writeBare writes a record whose container is not known, counted.
func (e *Enricher) writeBare(ctx context.Context, r *record.Record, reason string) error {
	e.metrics.unattributed.WithLabelValues(reason).Inc()
	e.markProbe(r, nil)
	return e.next.Write(ctx, r)
}

func (e *Enricher) flushNext(ctx context.Context) error {
	if f, ok := e.next.(flusher); ok {
		return f.Flush(ctx)
	}
	return nil
}

// enrich writes the container's scope into r and marks probe sessions.
func (e *Enricher) enrich(r *record.Record, sc *Scope) {
	r.Namespace = sc.Namespace
	r.Workload = sc.Workload
	r.WorkloadKind = sc.WorkloadKind
	r.Pod = sc.Pod
	r.Container = sc.Container
	r.Image = sc.Image
	e.markProbe(r, sc)
}
