package kubeaudit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// recSink records what it is given; fail makes Write or Flush fail.
type recSink struct {
	mu       sync.Mutex
	recs     []*record.Record
	buffered []*record.Record
	flushes  int
	failNext int // fail this many Flush calls
	notify   chan struct{}
}

func newRecSink() *recSink { return &recSink{notify: make(chan struct{}, 1)} }

func (s *recSink) Write(_ context.Context, r *record.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *r
	s.buffered = append(s.buffered, &c)
	return nil
}

func (s *recSink) Flush(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		s.buffered = nil
		return errors.New("spool full")
	}
	s.flushes++
	s.recs = append(s.recs, s.buffered...)
	s.buffered = nil
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return nil
}

func (s *recSink) records() []*record.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs)
}

// waitFor waits until the sink holds n records (or fails the test after a
// generous deadline: a hang, not a timing assertion).
func (s *recSink) waitFor(t *testing.T, n int) []*record.Record {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if recs := s.records(); len(recs) >= n {
			return recs
		}
		select {
		case <-s.notify:
		case <-deadline:
			t.Fatalf("sink has %d records, want %d", len(s.records()), n)
		}
	}
}

// fakeClock is the Processor's injectable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTestProcessor makes a Processor on a fake clock with its own registry.
func newTestProcessor(t *testing.T, cfg Config, sink Sink, scoper Scoper) (*Processor, *fakeClock, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	p, err := NewProcessor(cfg, sink, scoper, reg)
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	p.now = clk.Now
	return p, clk, reg
}

// counter reads one counter of p's metrics.
func counter(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }

// ts is an RFC 3339 time in Unix nanoseconds.
func ts(t *testing.T, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixNano()
}

// diffRecords lists the fields (by registry name) where got differs from want.
func diffRecords(got, want *record.Record) []string {
	var diffs []string
	for _, f := range field.All() {
		g, _ := got.Text(f.Name)
		w, _ := want.Text(f.Name)
		if g != w {
			diffs = append(diffs, fmt.Sprintf("%s = %q, want %q", f.Name, g, w))
		}
	}
	return diffs
}

// assertRecords checks that got holds exactly one record per auditID of
// want, field by field.
func assertRecords(t *testing.T, got []*record.Record, want []fixtureRecord) {
	t.Helper()
	byID := map[string][]*record.Record{}
	for _, r := range got {
		byID[r.AuditID] = append(byID[r.AuditID], r)
	}
	for _, w := range want {
		t.Run(w.name, func(t *testing.T) {
			rs := byID[w.rec.AuditID]
			if len(rs) != 1 {
				t.Fatalf("%d records for auditID %s, want 1", len(rs), w.rec.AuditID)
			}
			if d := diffRecords(rs[0], &w.rec); len(d) > 0 {
				t.Errorf("record %s:\n  %s", w.rec.AuditID, strings.Join(d, "\n  "))
			}
		})
		delete(byID, w.rec.AuditID)
	}
	for id, rs := range byID {
		t.Errorf("unexpected %d record(s) for auditID %s: %+v", len(rs), id, *rs[0])
	}
}

// readFixture reads a file of testdata/k8s-audit.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "k8s-audit", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
