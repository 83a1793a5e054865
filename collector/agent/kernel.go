package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/activityaudit/activityaudit/collector/container"
	"github.com/activityaudit/activityaudit/collector/event"
	"github.com/activityaudit/activityaudit/collector/kernel"
	"github.com/activityaudit/activityaudit/collector/kube"
	"github.com/activityaudit/activityaudit/collector/pipeline"
	"github.com/activityaudit/activityaudit/collector/proctable"
	"github.com/activityaudit/activityaudit/collector/ship"
)

// KernelSource captures this node's commands and connections with eBPF.
type KernelSource struct {
	Pipeline pipeline.Config
	Kernel   kernel.Options
	Log      *slog.Logger
	// Pods, when set, enriches records with their pod and workload
	// (holding a container's first records until its pod status is known).
	Pods kube.Lookup

	table      *proctable.Table
	kc         *kernel.Collector
	containers *container.Resolver
	reg        prometheus.Registerer
	p          atomic.Pointer[pipeline.Pipeline]
}

// OpenKernel loads the eBPF programs and reads the running processes.
func OpenKernel(cfg pipeline.Config, kopts kernel.Options, log *slog.Logger) (*KernelSource, error) {
	containers := container.NewResolver("")
	table, err := proctable.New(proctable.Config{Node: cfg.Host.Host, Containers: containers})
	if err != nil {
		return nil, err
	}
	if err := table.Bootstrap(); err != nil {
		return nil, fmt.Errorf("read running processes: %w", err)
	}
	// Reading /proc made garbage in proportion to the processes running
	// (megabytes with tens of thousands): give its pages back now rather
	// than hold them as heap headroom.
	debug.FreeOSMemory()
	kc, err := kernel.Open(kopts)
	if err != nil {
		return nil, err
	}
	return &KernelSource{Pipeline: cfg, Kernel: kopts, Log: log, table: table, kc: kc, containers: containers}, nil
}

// Run captures into w until ctx ends, then closes the eBPF programs.
func (k *KernelSource) Run(ctx context.Context, w *ship.Writer) error {
	return k.Capture(ctx, w)
}

// Capture captures into out (`collector run --sink stdout` gives NDJSON)
// until ctx ends, then closes the eBPF programs. A Flusher out is flushed
// whenever no event waits.
func (k *KernelSource) Capture(ctx context.Context, out pipeline.Sink) error {
	defer k.kc.Close()
	sink := out
	var enrich *kube.Enricher
	if k.Pods != nil {
		enrich = kube.NewEnricher(k.Pods, out, kube.EnricherOptions{})
		if k.reg != nil {
			if err := enrich.Register(k.reg); err != nil {
				return fmt.Errorf("register enrichment metrics: %w", err)
			}
		}
		sink = enrich
	}
	p, err := pipeline.New(k.Pipeline, k.table, k.containers, sink)
	if err != nil {
		return err
	}
	k.p.Store(p)
	k.Log.Info("capturing", "host", k.Pipeline.Host.Host, "processes", k.table.Len(), "kubernetes", k.Pods != nil)
	if enrich == nil {
		// The events still in the ring buffer when ctx ends are handled and
		// written before RunSource returns.
		return p.RunSource(ctx, k.kc)
	}
	// The enricher outlives the pipeline: once capture has stopped it
	// releases what it still holds and flushes.
	ectx, stopEnrich := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEnrich()
	edone := make(chan error, 1)
	go func() { edone <- enrich.Run(ectx) }()
	err = p.RunSource(ctx, k.kc)
	stopEnrich()
	return errors.Join(err, <-edone)
}

// Register exports the capture counters.
func (k *KernelSource) Register(reg prometheus.Registerer) error {
	k.reg = reg
	return reg.Register(&captureCollector{k: k})
}

const helpCaptured = "Records captured and kept (after the include/exclude filters), by source."

var (
	descCaptured = prometheus.NewDesc("activityaudit_collector_records_captured_total",
		helpCaptured, []string{"source"}, nil)
	descFiltered = prometheus.NewDesc("activityaudit_collector_records_filtered_total",
		"Records dropped by the include/exclude filters.", nil, nil)
	descRedacted = prometheus.NewDesc("activityaudit_collector_records_redacted_total",
		"Command lines in which secrets were masked.", nil, nil)
	descDrops = prometheus.NewDesc("activityaudit_collector_kernel_drops_total",
		"Kernel events lost because the ring buffer was full, by kind.", []string{"kind"}, nil)
	descProcesses = prometheus.NewDesc("activityaudit_collector_processes",
		"Processes in the process table.", nil, nil)
)

type captureCollector struct{ k *KernelSource }

func (c *captureCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCaptured, descFiltered, descRedacted, descDrops, descProcesses} {
		ch <- d
	}
}

var kindNames = map[event.Kind]string{event.KindExec: "exec", event.KindFork: "fork", event.KindExit: "exit", event.KindConn: "conn"}

func (c *captureCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descProcesses, prometheus.GaugeValue, float64(c.k.table.Len()))
	if drops, err := c.k.kc.Drops(); err == nil {
		for kind, name := range kindNames {
			ch <- prometheus.MustNewConstMetric(descDrops, prometheus.CounterValue, float64(drops.RingFull[kind]), name)
		}
	}
	p := c.k.p.Load()
	if p == nil {
		return
	}
	st := p.Stats()
	for src, n := range st.Captured {
		ch <- prometheus.MustNewConstMetric(descCaptured, prometheus.CounterValue, float64(n), string(src))
	}
	ch <- prometheus.MustNewConstMetric(descFiltered, prometheus.CounterValue, float64(st.Filtered))
	ch <- prometheus.MustNewConstMetric(descRedacted, prometheus.CounterValue, float64(st.Redacted))
}
