package ship

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/loki-client-go/pkg/labelutil"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/activityaudit/activityaudit/bench/activitygen"
	"github.com/activityaudit/activityaudit/collector/spool"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/pkg/store"
	"github.com/activityaudit/activityaudit/pkg/store/push"
)

// startStore runs the embedded store on a loopback port.
func startStore(t *testing.T, lim push.Limits) string {
	t.Helper()
	s, err := store.Open(store.Options{Dir: t.TempDir(), Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done; s.Close() })
	return "http://" + ln.Addr().String()
}

// stored returns the exec_ids the store holds, with their counts.
func stored(t *testing.T, base string, tenant string) map[string]int {
	t.Helper()
	c, err := loki.New(loki.Config{URL: base, Tenant: tenant})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	resp, err := c.QueryRange(context.Background(), loki.RangeQuery{Query: `{job="activity-audit"}`,
		Start: now.Add(-48 * time.Hour), End: now.Add(time.Hour), Limit: 100000, Direction: loki.Backward})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := record.FromStreams(resp.Data.Streams, loki.Backward)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, r := range recs {
		ids[r.ExecID]++
	}
	return ids
}

type harness struct {
	sp     *spool.Spool
	sh     *Shipper
	m      *Metrics
	dead   string
	cancel context.CancelFunc
	done   chan error
}

func newHarness(t *testing.T, url string, mutate func(*Config)) *harness {
	t.Helper()
	dir := t.TempDir()
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(dir, "spool"), SyncInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{DeadLetter: filepath.Join(dir, "dead.ndjson"), Metrics: NewMetrics(nil)}
	if err := cfg.Loki.URL.Set(url); err != nil {
		t.Fatal(err)
	}
	cfg.Loki.BatchWait = 20 * time.Millisecond
	cfg.Loki.BackoffConfig.MinBackoff = time.Millisecond
	cfg.Loki.BackoffConfig.MaxBackoff = 5 * time.Millisecond
	if mutate != nil {
		mutate(&cfg)
	}
	sh, err := New(cfg, sp)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{sp: sp, sh: sh, m: cfg.Metrics, dead: cfg.DeadLetter, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- sh.Run(ctx) }()
	t.Cleanup(func() { h.stop(t); sp.Close() })
	return h
}

func (h *harness) stop(t *testing.T) {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	if err := <-h.done; err != nil {
		t.Errorf("shipper: %v", err)
	}
}

// write spools records through the pipeline's sink.
func (h *harness) write(t *testing.T, recs []record.Record) {
	t.Helper()
	w := NewWriter(h.sp)
	for i := range recs {
		if err := w.Write(context.Background(), &recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// waitAcked waits until the spool has no unacknowledged entries.
func (h *harness) waitAcked(t *testing.T, n uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for h.sp.Stats().Acked < n {
		if time.Now().After(deadline) {
			t.Fatalf("acked %d of %d records", h.sp.Stats().Acked, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func recentRecords(n int) []record.Record {
	now := time.Now()
	recs := activitygen.Generate(n, now.Add(-time.Minute), now)
	for i := range recs {
		recs[i].ExecID = fmt.Sprintf("rec-%d", i)
	}
	return recs
}

func TestShipperDeliversEveryRecordOnce(t *testing.T) {
	url := startStore(t, push.Limits{})
	h := newHarness(t, url, nil)
	recs := recentRecords(2500)
	h.write(t, recs)
	h.waitAcked(t, uint64(len(recs)))
	ids := stored(t, url, "")
	for _, r := range recs {
		if ids[r.ExecID] != 1 {
			t.Fatalf("exec_id %s stored %d times", r.ExecID, ids[r.ExecID])
		}
	}
	if got := testutil.ToFloat64(h.m.shipped); got != float64(len(recs)) {
		t.Errorf("records_shipped_total = %v, want %d", got, len(recs))
	}
	if st := h.sp.Stats(); st.Entries != 0 {
		t.Errorf("spool still holds %d entries", st.Entries)
	}
}

func TestShipperDeadLettersRefusedRecords(t *testing.T) {
	url := startStore(t, push.Limits{MaxLineBytes: 2048})
	h := newHarness(t, url, nil)
	recs := recentRecords(200)
	recs[17].Cmdline = strings.Repeat("x", 4096)              // line too long
	recs[150].Time = time.Now().Add(2 * time.Hour).UnixNano() // too far in the future
	h.write(t, recs)
	h.waitAcked(t, uint64(len(recs)))
	ids := stored(t, url, "")
	for i, r := range recs {
		want := 1
		if i == 17 || i == 150 {
			want = 0
		}
		if ids[r.ExecID] != want {
			t.Errorf("record %d (%s) stored %d times, want %d", i, r.ExecID, ids[r.ExecID], want)
		}
	}
	if got := testutil.ToFloat64(h.m.deadLetters); got != 2 {
		t.Errorf("dead_letters_total = %v, want 2", got)
	}
	h.stop(t)
	letters := readDeadLetters(t, h.dead)
	if len(letters) != 2 {
		t.Fatalf("dead-letter file has %d lines, want 2", len(letters))
	}
	byID := map[string]DeadLetter{}
	for _, l := range letters {
		byID[l.Metadata["exec_id"]] = l
	}
	tests := []struct {
		name, execID, reason string
	}{
		{"line too long", recs[17].ExecID, "max entry size"},
		{"too new", recs[150].ExecID, "timestamp too new"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, ok := byID[tc.execID]
			if !ok {
				t.Fatalf("no dead letter for %s", tc.execID)
			}
			if l.Status != http.StatusBadRequest || !strings.Contains(l.Reason, tc.reason) {
				t.Errorf("status %d reason %q, want 400 and %q", l.Status, l.Reason, tc.reason)
			}
			if l.Line == "" || l.Labels["job"] != "activity-audit" {
				t.Errorf("dead letter lacks the record: %+v", l)
			}
		})
	}
}

func readDeadLetters(t *testing.T, path string) []DeadLetter {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []DeadLetter
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l DeadLetter
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("dead letter %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// flakyProxy passes requests to the store after failing the first ones as
// scripted: "503", "429", "500", "401" or "drop" (connection closed).
type flakyProxy struct {
	mu      sync.Mutex
	script  []string
	headers []http.Header
	next    http.Handler
}

func (p *flakyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.headers = append(p.headers, r.Header.Clone())
	var step string
	if len(p.script) > 0 {
		step, p.script = p.script[0], p.script[1:]
	}
	p.mu.Unlock()
	switch step {
	case "":
		p.next.ServeHTTP(w, r)
	case "drop":
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	case "503":
		http.Error(w, "ingester unavailable", http.StatusServiceUnavailable)
	case "500":
		http.Error(w, "internal", http.StatusInternalServerError)
	case "429":
		http.Error(w, "Ingestion rate limit exceeded", http.StatusTooManyRequests)
	case "401":
		http.Error(w, "no org id", http.StatusUnauthorized)
	}
}

func TestShipperRetriesUntilDelivered(t *testing.T) {
	storeURL := startStore(t, push.Limits{})
	target, _ := url.Parse(storeURL)
	proxy := &flakyProxy{script: []string{"503", "429", "drop", "500", "401"}, next: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	h := newHarness(t, srv.URL, func(c *Config) {
		c.Loki.TenantID = "team-a"
		c.Loki.ExternalLabels = externalLabels(t, "env=test")
	})
	recs := recentRecords(300)
	h.write(t, recs)
	h.waitAcked(t, uint64(len(recs)))
	ids := stored(t, storeURL, "")
	if len(ids) != len(recs) {
		t.Fatalf("stored %d distinct records, want %d", len(ids), len(recs))
	}
	for _, reason := range []struct {
		label string
		want  float64
	}{{"network", 1}, {"status_429", 1}, {"status_5xx", 2}, {"status_4xx", 1}} {
		if got := testutil.ToFloat64(h.m.retries.WithLabelValues(reason.label)); got != reason.want {
			t.Errorf("push_retries_total{reason=%q} = %v, want %v", reason.label, got, reason.want)
		}
	}
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	for _, hd := range proxy.headers {
		if hd.Get("X-Scope-OrgID") != "team-a" || hd.Get("Content-Type") != "application/x-protobuf" {
			t.Fatalf("push headers %v", hd)
		}
	}
	// External labels are stream labels.
	c, _ := loki.New(loki.Config{URL: storeURL})
	now := time.Now()
	resp, err := c.QueryRange(context.Background(), loki.RangeQuery{Query: `{env="test"}`, Start: now.Add(-time.Hour), End: now.Add(time.Minute), Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range resp.Data.Streams {
		n += len(s.Entries)
	}
	if n != len(recs) {
		t.Errorf("%d records carry env=test, want %d", n, len(recs))
	}
}

func externalLabels(t *testing.T, s string) (ls labelutil.LabelSet) {
	t.Helper()
	if err := ls.Set(s); err != nil {
		t.Fatal(err)
	}
	return ls
}

// TestShipperKeepsRecordsWhileLokiIsDown: the spool holds everything while
// pushes fail, and delivery resumes when Loki is back.
func TestShipperKeepsRecordsWhileLokiIsDown(t *testing.T) {
	storeURL := startStore(t, push.Limits{})
	target, _ := url.Parse(storeURL)
	var down atomic.Bool
	down.Store(true)
	next := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		next.ServeHTTP(w, r)
	}))
	defer srv.Close()
	h := newHarness(t, srv.URL, nil)
	recs := recentRecords(500)
	h.write(t, recs)
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(h.m.retries.WithLabelValues("status_5xx")) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no retries while down")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if h.sh.Healthy() {
		t.Error("Healthy() while every push fails")
	}
	if st := h.sp.Stats(); st.Entries != int64(len(recs)) {
		t.Errorf("spool holds %d entries while down, want %d", st.Entries, len(recs))
	}
	down.Store(false)
	h.waitAcked(t, uint64(len(recs)))
	if !h.sh.Healthy() {
		t.Error("not Healthy() after delivery resumed")
	}
	if ids := stored(t, storeURL, ""); len(ids) != len(recs) {
		t.Errorf("stored %d, want %d", len(ids), len(recs))
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	sp, err := spool.Open(spool.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if _, err := New(Config{DeadLetter: filepath.Join(t.TempDir(), "d")}, sp); err == nil {
		t.Error("New without a URL succeeded")
	}
	var cfg Config
	_ = cfg.Loki.URL.Set("http://127.0.0.1:1")
	if _, err := New(cfg, sp); err == nil {
		t.Error("New without a dead-letter file succeeded")
	}
}
