// Package pipeline turns kernel events into activity records: it keeps the
// process table, builds command and connection records with their process,
// container and session, masks secrets, applies the include/exclude
// filters and hands the records to a sink.
package pipeline

import (
	"context"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/activityaudit/activityaudit/collector/event"
	"github.com/activityaudit/activityaudit/collector/hostinfo"
	"github.com/activityaudit/activityaudit/collector/proctable"
	"github.com/activityaudit/activityaudit/collector/redact"
	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// Sink receives finished records.
type Sink interface {
	Write(ctx context.Context, r *record.Record) error
}

// Flusher is a Sink that buffers: Run calls Flush whenever no event is
// waiting, so records are batched under load and never wait when idle.
type Flusher interface {
	Flush(ctx context.Context) error
}

// Config configures a pipeline.
type Config struct {
	Cluster string
	Host    hostinfo.Info
	// Include keeps only records matching at least one of these filters (none: all).
	Include []filter.Filter
	// Exclude drops records matching any of these filters.
	Exclude []filter.Filter
	// Redaction rules for command lines (nil: redact.DefaultRules).
	Redaction []redact.Rule
	// ProcRoot is where processes' files are read (default /proc).
	ProcRoot string
}

// Stats are the pipeline's counters.
type Stats struct {
	Captured map[field.Source]uint64
	Filtered uint64
	Redacted uint64
}

// Pipeline processes events in order; Handle and Run are for one goroutine.
type Pipeline struct {
	cfg        Config
	table      *proctable.Table
	containers Containers
	sink       Sink
	redactor   *redact.Redactor
	include    []*filter.Matcher
	exclude    []*filter.Matcher
	clock      clock
	users      *users

	captured [3]atomic.Uint64
	filtered atomic.Uint64
	redacted atomic.Uint64
}

// New makes a pipeline over a process table, a container resolver (may be
// nil) and a sink.
func New(cfg Config, table *proctable.Table, containers Containers, sink Sink) (*Pipeline, error) {
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	rules := cfg.Redaction
	if rules == nil {
		rules = redact.DefaultRules
	}
	red, err := redact.New(rules)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, table: table, containers: containers, sink: sink, redactor: red, users: newUsers(cfg.ProcRoot)}
	for _, f := range cfg.Include {
		m, err := f.Matcher()
		if err != nil {
			return nil, fmt.Errorf("compile include filter %q: %w", f, err)
		}
		p.include = append(p.include, m)
	}
	for _, f := range cfg.Exclude {
		m, err := f.Matcher()
		if err != nil {
			return nil, fmt.Errorf("compile exclude filter %q: %w", f, err)
		}
		p.exclude = append(p.exclude, m)
	}
	if p.clock, err = newClock(); err != nil {
		return nil, err
	}
	return p, nil
}

// Run handles batches of events, in order, until the channel is closed.
// A sink that is a Flusher is flushed whenever no batch is waiting, and at
// the end: records are written in batches under load and never wait when
// idle. When ctx is done Run goes on until the channel is closed, with
// ctx's values but not its cancellation (from the next batch or flush
// on), so that what the sender still sends (a Source sends what it had
// captured) is kept: the sender must close the channel.
func (p *Pipeline) Run(ctx context.Context, batches <-chan []event.Event) error {
	flusher, _ := p.sink.(Flusher)
	flush := func() error {
		if flusher == nil {
			return nil
		}
		if err := flusher.Flush(ctx); err != nil {
			return fmt.Errorf("flush records: %w", err)
		}
		return nil
	}
	done := ctx.Done()
	keep := func() { // once ctx is done: keep what was captured
		if done != nil && ctx.Err() != nil {
			ctx, done = context.WithoutCancel(ctx), nil
		}
	}
	for {
		var batch []event.Event
		var ok bool
		select {
		case <-done:
			keep()
			continue
		case batch, ok = <-batches:
		}
		keep()
		if !ok {
			return flush()
		}
		for _, ev := range batch {
			if err := p.Handle(ctx, ev); err != nil {
				return err
			}
		}
		if len(batches) == 0 {
			keep()
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// Source sends events in batches (collector/kernel.Collector): Run sends
// them to out until ctx is done, then sends what it still holds, closes
// out and returns.
type Source interface {
	Run(ctx context.Context, out chan<- []event.Event) error
}

// sourceBatches is how many batches wait between a Source and Run.
const sourceBatches = 16

// RunSource runs src into the pipeline until ctx is done and src has sent
// its last batch, which the pipeline handles and flushes. It returns the
// first error of either; when the pipeline fails first, src is stopped
// and what it still sends is discarded.
func (p *Pipeline) RunSource(ctx context.Context, src Source) error {
	batches := make(chan []event.Event, sourceBatches)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
	g.Go(func() error {
		err := src.Run(ctx, batches)
		if err != nil {
			cancel()
		}
		return err
	})
	g.Go(func() error {
		err := p.Run(ctx, batches)
		cancel()
		for range batches { // src returns only once its last batch is taken
		}
		return err
	})
	return g.Wait()
}

// Handle processes one event.
func (p *Pipeline) Handle(ctx context.Context, ev event.Event) error {
	switch ev.Kind {
	case event.KindFork:
		p.table.Fork(ev.Fork)
	case event.KindExit:
		p.table.Exit(ev.Exit)
	case event.KindExec:
		proc := p.table.Exec(ev.Exec)
		r := p.cmdRecord(ev.Exec, proc)
		return p.emit(ctx, &r)
	case event.KindConn:
		r := p.netRecord(ev.Conn)
		return p.emit(ctx, &r)
	}
	return nil
}

func (p *Pipeline) emit(ctx context.Context, r *record.Record) error {
	if r.Cmdline != "" {
		if masked, changed := p.redactor.Redact(r.Cmdline); changed {
			r.Cmdline = masked
			p.redacted.Add(1)
		}
	}
	if !p.keep(r) {
		p.filtered.Add(1)
		return nil
	}
	switch r.Source {
	case field.Cmd:
		p.captured[0].Add(1)
	case field.Net:
		p.captured[1].Add(1)
	case field.KubeExec:
		p.captured[2].Add(1)
	}
	if err := p.sink.Write(ctx, r); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	return nil
}

func (p *Pipeline) keep(r *record.Record) bool {
	for _, m := range p.exclude {
		if m.Match(r) {
			return false
		}
	}
	if len(p.include) == 0 {
		return true
	}
	for _, m := range p.include {
		if m.Match(r) {
			return true
		}
	}
	return false
}

// Stats returns the counters.
func (p *Pipeline) Stats() Stats {
	return Stats{
		Captured: map[field.Source]uint64{field.Cmd: p.captured[0].Load(), field.Net: p.captured[1].Load(), field.KubeExec: p.captured[2].Load()},
		Filtered: p.filtered.Load(),
		Redacted: p.redacted.Load(),
	}
}

// RedactionCounts are the secrets masked, by rule.
func (p *Pipeline) RedactionCounts() map[string]uint64 { return p.redactor.Counts() }

// clock converts boot-time nanoseconds (what the kernel reports) to wall
// time: the offset between CLOCK_REALTIME and CLOCK_BOOTTIME, read once.
type clock struct{ offset int64 }

func newClock() (clock, error) {
	var rt, bt unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_REALTIME, &rt); err != nil {
		return clock{}, fmt.Errorf("read realtime clock: %w", err)
	}
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &bt); err != nil {
		return clock{}, fmt.Errorf("read boot clock: %w", err)
	}
	return clock{offset: rt.Nano() - bt.Nano()}, nil
}

func (c clock) wall(bootNs uint64) int64 { return int64(bootNs) + c.offset }

// errnoName names a negative errno (-111 → ECONNREFUSED).
func errnoName(r int32) string {
	if r >= 0 {
		return ""
	}
	if name := unix.ErrnoName(unix.Errno(-r)); name != "" {
		return name
	}
	return fmt.Sprintf("errno %d", -r)
}
