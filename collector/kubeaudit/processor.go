package kubeaudit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// Sink receives kube_exec records: the method set of collector/pipeline.Sink,
// so collector/ship.Writer fits. If it also has Flush(ctx) error, Flush is
// called after each batch. The Processor never calls it concurrently.
type Sink interface {
	Write(ctx context.Context, r *record.Record) error
}

// flusher is a Sink that buffers.
type flusher interface {
	Flush(ctx context.Context) error
}

// drainTimeout bounds handing the held records to the sink at shutdown.
const drainTimeout = 10 * time.Second

// Processor turns audit events into kube_exec records: one per auditID,
// scoped, handed to the sink batch by batch. Process is safe for concurrent
// use (webhook requests and the log tailer share one Processor).
type Processor struct {
	cfg    Config
	sink   Sink
	scoper Scoper
	m      *metrics
	log    *slog.Logger
	now    func() time.Time // the clock: injectable for tests

	mu    sync.Mutex // guards state
	state *tracker

	sinkMu sync.Mutex // serializes the sink
}

// NewProcessor makes a Processor writing to sink. scoper may be nil (outside
// Kubernetes: records keep the scope the audit event gives). Its metrics are
// registered with reg (nil: not registered).
func NewProcessor(cfg Config, sink Sink, scoper Scoper, reg prometheus.Registerer) (*Processor, error) {
	if sink == nil {
		return nil, fmt.Errorf("make kube exec processor: no sink")
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Processor{cfg: cfg, sink: sink, scoper: scoper, m: m, log: cfg.Logger, now: time.Now, state: newTracker(cfg)}, nil
}

// Process takes a batch of well-formed events (as DecodeEventList and
// DecodeEvent return them) that came through via. It returns once the
// batch's records are handed to the sink (and flushed); on an error nothing
// of the batch counts as seen, so delivering the batch again is safe.
func (p *Processor) Process(ctx context.Context, via Via, events []auditv1.Event) error {
	p.m.received.WithLabelValues(string(via)).Add(float64(len(events)))
	now := p.now()
	var x tx
	p.withState(func(t *tracker) {
		for i := range events {
			t.apply(&x, &events[i], now)
		}
	})
	return p.finish(ctx, &x)
}

// Run releases held execs whose hold expired, until ctx is done; then it
// releases every held exec (without end_time) and returns. Stop the inputs
// first: what they deliver after Run returned is held until the next Run.
func (p *Processor) Run(ctx context.Context) error {
	tick := min(max(p.cfg.Hold/5, 10*time.Millisecond), time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
			defer cancel()
			return p.releaseHeld(dctx, true)
		case <-t.C:
			if err := p.releaseHeld(ctx, false); err != nil {
				p.log.Warn("kube exec: emit held records (retried)", "err", err)
			}
		}
	}
}

// releaseHeld emits the holds that expired (all of them when all is set) and
// forgets the auditIDs remembered past their window. Records the sink
// refused stay held and are retried on the next call.
func (p *Processor) releaseHeld(ctx context.Context, all bool) error {
	now := p.now()
	var x tx
	p.withState(func(t *tracker) {
		t.prune(now)
		t.release(&x, now, all)
	})
	if len(x.out) == 0 {
		return nil
	}
	if err := p.finish(ctx, &x); err != nil {
		return fmt.Errorf("emit held kube exec records: %w", err)
	}
	return nil
}

// finish hands x's records to the sink; it commits x's counters, or rolls
// x back when the sink fails.
func (p *Processor) finish(ctx context.Context, x *tx) error {
	err := p.emit(ctx, x.out)
	var held int
	p.withState(func(t *tracker) {
		if err != nil {
			t.rollback(x)
		}
		held = len(t.pending)
	})
	p.m.held.Set(float64(held))
	if err != nil {
		p.m.sinkErrors.Inc()
		return err
	}
	p.m.duplicates.Add(float64(x.duplicates))
	p.m.lateEnds.Add(float64(x.lateEnds))
	p.m.evicted.WithLabelValues("pending").Add(float64(x.evictedPending))
	p.m.evicted.WithLabelValues("remembered").Add(float64(x.evictedMemos))
	for _, r := range x.out {
		p.m.emitted.WithLabelValues(r.Subresource).Inc()
	}
	return nil
}

// withState runs f with the state locked.
func (p *Processor) withState(f func(t *tracker)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p.state)
}

// emit scopes records and writes them to the sink, then flushes it.
func (p *Processor) emit(ctx context.Context, recs []*record.Record) error {
	if len(recs) == 0 {
		return nil
	}
	for _, r := range recs {
		p.scope(ctx, r)
	}
	p.sinkMu.Lock()
	defer p.sinkMu.Unlock()
	for _, r := range recs {
		if err := p.sink.Write(ctx, r); err != nil {
			return fmt.Errorf("write kube_exec record %s: %w", r.AuditID, err)
		}
	}
	if f, ok := p.sink.(flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return fmt.Errorf("flush kube_exec records: %w", err)
		}
	}
	return nil
}

// scope sets the cluster and, with a Scoper, the pod's scope.
func (p *Processor) scope(ctx context.Context, r *record.Record) {
	r.Cluster = p.cfg.Cluster
	if p.scoper == nil {
		return
	}
	if err := p.scoper.ScopePod(ctx, r.Namespace, r.Pod, r.Container, r); err != nil {
		p.m.scopeFailures.Inc()
		p.log.Debug("kube exec: scope pod", "namespace", r.Namespace, "pod", r.Pod, "err", err)
	}
	if r.Subresource == SubEphemeralContainers {
		// kubectl debug adds a container named in the request body, which a
		// Metadata-level policy does not log: claim no container.
		r.Container, r.ContainerID, r.Image = "", "", ""
	}
}
