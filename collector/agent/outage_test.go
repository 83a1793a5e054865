package agent_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/collector/cli"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// The test binary doubles as the collector: with AA_COLLECTOR_MAIN set it
// runs the command line in its arguments, so the tests can run, stop and
// kill real collector and store processes.
func TestMain(m *testing.M) {
	if os.Getenv("AA_COLLECTOR_MAIN") != "" {
		ctx, stop := signalContext()
		code := cli.Main(ctx, os.Args[1:], cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// process is a collector command running as a child process.
type process struct {
	cmd    *exec.Cmd
	done   chan error
	exited bool
}

func start(t *testing.T, logName string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "AA_COLLECTOR_MAIN=1")
	logf, err := os.OpenFile(filepath.Join(logDir(t), logName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill ends the process with SIGKILL and waits.
func (p *process) kill() {
	if !p.exited {
		_ = p.cmd.Process.Kill()
		<-p.done
		p.exited = true
	}
}

// stop ends the process with SIGTERM (a clean shutdown) and waits.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if p.exited {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.exited = true
		if err != nil {
			t.Errorf("%s exited: %v", p.cmd.Args[1], err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop", p.cmd.Args[1])
	}
}

var logDirs = map[string]string{}

func logDir(t *testing.T) string {
	if d, ok := logDirs[t.Name()]; ok {
		return d
	}
	d := t.TempDir()
	logDirs[t.Name()] = d
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range []string{"store.log", "collector.log"} {
				b, _ := os.ReadFile(filepath.Join(d, name))
				t.Logf("%s:\n%s", name, tail(string(b), 4000))
			}
		}
	})
	return d
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// metric reads one sample from a /metrics page (0 when absent).
func metric(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sum := 0.0
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || (len(line) > len(name) && line[len(name)] != ' ' && line[len(name)] != '{') {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// storedIDs counts the records the store holds by exec_id.
func storedIDs(t *testing.T, base string) map[string]int {
	t.Helper()
	c, err := loki.New(loki.Config{URL: base})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	resp, err := c.QueryRange(context.Background(), loki.RangeQuery{Query: `{job="activity-audit"}`,
		Start: now.Add(-time.Hour), End: now.Add(time.Minute), Limit: 1_000_000, Direction: loki.Forward})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := record.FromStreams(resp.Data.Streams, loki.Forward)
	if err != nil {
		t.Fatal(err)
	}
	ids := make(map[string]int, len(recs))
	for _, r := range recs {
		ids[r.ExecID]++
	}
	return ids
}

func readLedger(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// TestOutage: Loki (the embedded store in its own process) goes away under a
// steady 1,000 records/s; the collector is killed with -9 during the outage
// and restarted; once the store is back, every record generated is stored
// exactly once. The 10-minute outage of the acceptance is compressed to
// seconds: what matters is that the spool carries the records across the
// outage and the crash, which does not depend on the duration.
func TestOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes for about 30 s")
	}
	storeAddr := freePort(t)
	metricsAddr := freePort(t)
	storeDir, dataDir := t.TempDir(), t.TempDir()
	ledger := filepath.Join(t.TempDir(), "ledger")
	base := "http://" + storeAddr
	storeArgs := []string{"store", "--data-dir", storeDir, "--listen", storeAddr}
	// 1,000 records/s; under the race detector, which slows the collector
	// and the store several times over, a quarter of that, so that
	// delivery can still outpace generation once the store is back.
	rate := 1000
	if raceEnabled {
		rate = 250
	}
	n := func(records int) float64 { return float64(records * rate / 1000) }
	runArgs := []string{"run", "--capture", "synthetic", "--synthetic-rate", strconv.Itoa(rate), "--synthetic-ledger", ledger,
		"--loki-url", base, "--data-dir", dataDir, "--metrics-listen", metricsAddr,
		"--batch-wait", "200ms", "--min-backoff", "50ms", "--max-backoff", "500ms"}

	st := start(t, "store.log", storeArgs...)
	waitFor(t, "the store", 20*time.Second, func() bool {
		resp, err := http.Get(base + "/ready")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	col := start(t, "collector.log", runArgs...)
	waitFor(t, "records delivered", 20*time.Second, func() bool {
		return metric(t, metricsAddr, "activityaudit_collector_records_shipped_total") >= n(1500)
	})

	// Outage: the store stops; records pile up in the spool.
	st.stop(t)
	waitFor(t, "failed pushes", 20*time.Second, func() bool {
		return metric(t, metricsAddr, "activityaudit_collector_push_retries_total") >= 2 &&
			metric(t, metricsAddr, "activityaudit_collector_spool_entries") >= n(2000)
	})
	if resp, err := http.Get("http://" + metricsAddr + "/healthz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/healthz during the outage: %v %v, want 503", resp.StatusCode, err)
	}
	// kill -9 mid-outage, and restart: the spool keeps what it had, and
	// the new process adds to it.
	before := metric(t, metricsAddr, "activityaudit_collector_spool_entries")
	col.kill()
	col = start(t, "collector.log", runArgs...)
	waitFor(t, "the restarted collector to spool", 20*time.Second, func() bool {
		return metric(t, metricsAddr, "activityaudit_collector_spool_entries") >= before+n(1500)
	})
	// The store returns.
	st = start(t, "store.log", storeArgs...)
	waitFor(t, "the spool to drain", 120*time.Second, func() bool {
		return metric(t, metricsAddr, "activityaudit_collector_spool_entries") < n(500) &&
			metric(t, metricsAddr, "activityaudit_collector_records_shipped_total") >= n(3000)
	})
	col.stop(t) // a clean shutdown flushes the rest

	generated := readLedger(t, ledger)
	ids := storedIDs(t, base)
	if float64(len(generated)) < n(5000) {
		t.Fatalf("only %d records generated", len(generated))
	}
	missing, dup := 0, 0
	for _, id := range generated {
		switch n := ids[id]; {
		case n == 0:
			missing++
			if missing <= 5 {
				t.Errorf("record %s generated but not stored", id)
			}
		case n > 1:
			dup++
			if dup <= 5 {
				t.Errorf("record %s stored %d times", id, n)
			}
		}
	}
	inLedger := make(map[string]bool, len(generated))
	for _, id := range generated {
		inLedger[id] = true
	}
	extra := 0
	for id, n := range ids {
		if n > 1 && !inLedger[id] {
			t.Errorf("record %s stored %d times", id, n)
		}
		if !inLedger[id] {
			extra++ // spooled just before the kill, not yet in the ledger
		}
	}
	t.Logf("generated %d, stored %d distinct, missing %d, duplicated %d, stored but not in the ledger %d", len(generated), len(ids), missing, dup, extra)
	if extra > 1000 {
		t.Errorf("%d stored records were never generated", extra)
	}
	st.stop(t)
}
