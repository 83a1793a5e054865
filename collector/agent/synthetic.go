package agent

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/activityaudit/activityaudit/bench/activitygen"
	"github.com/activityaudit/activityaudit/collector/ship"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// SyntheticSource makes realistic records at a steady rate instead of
// capturing: for load tests, benchmarks and trying the system without
// root. Every record gets a unique exec_id ("synthetic:<start>:<n>").
type SyntheticSource struct {
	// Rate is records per second (> 0).
	Rate int
	// Ledger, when set, is a file each record's exec_id is appended to
	// once the record is in the spool.
	Ledger string
	// Count stops after this many records (0: no limit).
	Count int64

	made atomic.Uint64
}

// Run generates records until ctx ends (or Count is reached).
func (s *SyntheticSource) Run(ctx context.Context, w *ship.Writer) error {
	if s.Rate <= 0 {
		return fmt.Errorf("synthetic source: rate must be positive, got %d", s.Rate)
	}
	if s.Ledger != "" {
		f, err := os.OpenFile(s.Ledger, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("open ledger: %w", err)
		}
		defer f.Close()
		bw := bufio.NewWriter(f)
		w.Written = func(rs []*record.Record) {
			for _, r := range rs {
				bw.WriteString(r.ExecID)
				bw.WriteByte('\n')
			}
			_ = bw.Flush()
		}
	}
	now := time.Now()
	templates := activitygen.Generate(1000, now.Add(-time.Hour), now)
	prefix := "synthetic:" + strconv.FormatInt(now.UnixNano(), 10) + ":"
	const tick = 10 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	var n int64
	for {
		select {
		case <-ctx.Done():
			return w.Flush(context.WithoutCancel(ctx))
		case <-t.C:
		}
		due := int64(time.Since(start).Seconds() * float64(s.Rate))
		if s.Count > 0 {
			due = min(due, s.Count)
		}
		ts := time.Now().UnixNano()
		for ; n < due; n++ {
			r := templates[n%int64(len(templates))]
			r.Time = ts + n%1000 // distinct times: Loki dedupes equal time and line
			r.ExecID = prefix + strconv.FormatInt(n, 10)
			if err := w.Write(ctx, &r); err != nil {
				return err
			}
			s.made.Add(1)
		}
		if err := w.Flush(ctx); err != nil {
			return err
		}
		if s.Count > 0 && n >= s.Count {
			<-ctx.Done()
			return nil
		}
	}
}

// Register exports how many records were made, as captured records of
// source "synthetic".
func (s *SyntheticSource) Register(reg prometheus.Registerer) error {
	return reg.Register(syntheticCollector{s})
}

type syntheticCollector struct{ s *SyntheticSource }

// Describe sends nothing: the collector is unchecked, so that its sample
// of activityaudit_collector_records_captured_total{source="synthetic"}
// can sit beside the kernel source's samples of the same metric.
func (c syntheticCollector) Describe(chan<- *prometheus.Desc) {}

func (c syntheticCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descCaptured, prometheus.CounterValue, float64(c.s.made.Load()), "synthetic")
}
