// Command shipbench measures the collector's shipping: throughput to a store
// in another process (records/s per core of the collector), throughput in
// embedded mode, and freshness (a command's exec to the moment `query` can
// see it) under background load. It builds and runs the real collector
// binary; freshness needs root (kernel capture).
//
//	go run ./bench/shipbench -mode throughput -rate 60000 -duration 30s
//	go run ./bench/shipbench -mode embedded -rate 60000 -duration 30s
//	sudo go run ./bench/shipbench -mode freshness -rate 5000 -execs 300
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/record"
)

func main() {
	mode := flag.String("mode", "throughput", "throughput, embedded or freshness")
	rate := flag.Int("rate", 60000, "synthetic records per second (background load for freshness)")
	duration := flag.Duration("duration", 30*time.Second, "how long to measure (throughput, embedded)")
	execs := flag.Int("execs", 300, "freshness: marked commands to time")
	batchWait := flag.Duration("batch-wait", time.Second, "the collector's --batch-wait")
	flag.Parse()
	if err := run(*mode, *rate, *duration, *execs, *batchWait); err != nil {
		fmt.Fprintln(os.Stderr, "shipbench:", err)
		os.Exit(1)
	}
}

func run(mode string, rate int, duration time.Duration, execs int, batchWait time.Duration) (err error) {
	dir, err := os.MkdirTemp("", "shipbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	defer func() {
		if err != nil { // show what the processes said
			for _, name := range []string{"store.log", "collector.log"} {
				if b, rerr := os.ReadFile(filepath.Join(dir, name)); rerr == nil {
					fmt.Fprintf(os.Stderr, "--- %s\n%s", name, b)
				}
			}
		}
	}()
	bin := filepath.Join(dir, "collector.bin")
	if out, err := exec.Command("go", "build", "-o", bin, "./collector").CombinedOutput(); err != nil {
		return fmt.Errorf("build collector: %v\n%s", err, out)
	}
	storeAddr, metricsAddr := freePort(), freePort()
	base := "http://" + storeAddr
	common := []string{"--data-dir", filepath.Join(dir, "collector"), "--metrics-listen", metricsAddr,
		"--batch-wait", batchWait.String()}
	switch mode {
	case "throughput":
		st, err := startProc(bin, dir, "store.log", "store", "--data-dir", filepath.Join(dir, "store"), "--listen", storeAddr)
		if err != nil {
			return err
		}
		defer st.stop()
		if err := waitReady(base); err != nil {
			return err
		}
		col, err := startProc(bin, dir, "collector.log", append([]string{"run", "--capture", "synthetic",
			"--synthetic-rate", strconv.Itoa(rate), "--loki-url", base}, common...)...)
		if err != nil {
			return err
		}
		defer col.stop()
		return measureThroughput("store in another process", col, metricsAddr, rate, duration)
	case "embedded":
		col, err := startProc(bin, dir, "collector.log", append([]string{"run", "--capture", "synthetic",
			"--synthetic-rate", strconv.Itoa(rate), "--listen", storeAddr}, common...)...)
		if err != nil {
			return err
		}
		defer col.stop()
		if err := waitReady(base); err != nil {
			return err
		}
		return measureThroughput("embedded store in the same process", col, metricsAddr, rate, duration)
	case "freshness":
		col, err := startProc(bin, dir, "collector.log", append([]string{"run", "--capture", "kernel,synthetic",
			"--synthetic-rate", strconv.Itoa(rate), "--listen", storeAddr}, common...)...)
		if err != nil {
			return err
		}
		defer col.stop()
		if err := waitReady(base); err != nil {
			return err
		}
		return measureFreshness(base, metricsAddr, rate, execs, batchWait)
	}
	return fmt.Errorf("unknown mode %q", mode)
}

type proc struct{ cmd *exec.Cmd }

func startProc(bin, dir, logName string, args ...string) (*proc, error) {
	f, err := os.Create(filepath.Join(dir, logName))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", args[0], err)
	}
	return &proc{cmd}, nil
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// cpuSeconds is the process's user+system CPU time.
func (p *proc) cpuSeconds() (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(fields[11], 64)
	st, _ := strconv.ParseFloat(fields[12], 64)
	return (ut + st) / 100, nil // USER_HZ is 100 on Linux
}

func (p *proc) rssMiB() float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("store not ready after 30s")
}

// metrics reads the sums of the named samples from /metrics.
func metrics(addr string, names ...string) (map[string]float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		for _, n := range names {
			if strings.HasPrefix(line, n) && len(line) > len(n) && (line[len(n)] == ' ' || line[len(n)] == '{') {
				v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
				if err == nil {
					out[n] += v
				}
			}
		}
	}
	return out, sc.Err()
}

const (
	mShipped = "activityaudit_collector_records_shipped_total"
	mSpooled = "activityaudit_collector_spool_entries"
	mWritten = "activityaudit_collector_spool_written_bytes_total"
	mAppend  = "activityaudit_collector_spool_appended_total"
	mDropped = "activityaudit_collector_spool_dropped_total"
)

func measureThroughput(what string, col *proc, metricsAddr string, rate int, d time.Duration) error {
	if err := waitMetrics(metricsAddr); err != nil {
		return err
	}
	time.Sleep(3 * time.Second) // warm up
	m0, err := metrics(metricsAddr, mShipped, mWritten, mAppend)
	if err != nil {
		return err
	}
	c0, _ := col.cpuSeconds()
	t0 := time.Now()
	time.Sleep(d)
	m1, err := metrics(metricsAddr, mShipped, mSpooled, mWritten, mAppend, mDropped)
	if err != nil {
		return err
	}
	c1, _ := col.cpuSeconds()
	wall := time.Since(t0).Seconds()
	shipped := (m1[mShipped] - m0[mShipped]) / wall
	cpu := (c1 - c0) / wall
	fmt.Printf("shipping, %s, synthetic load %d records/s, %s:\n", what, rate, d)
	fmt.Printf("  delivered %.0f records/s; collector CPU %.2f cores; %.0f records/s per core; spool backlog at the end %.0f; dropped %.0f; peak RSS %.0f MiB\n",
		shipped, cpu, shipped/cpu, m1[mSpooled], m1[mDropped], col.rssMiB())
	if n := m1[mAppend] - m0[mAppend]; n > 0 {
		fmt.Printf("  spool: %.0f bytes written per record appended\n", (m1[mWritten]-m0[mWritten])/n)
	}
	return nil
}

func waitMetrics(addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := metrics(addr, mShipped); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("collector metrics not up after 30s")
}

// measureFreshness runs marked commands one by one and times how long each
// takes to be returned by a query.
func measureFreshness(base, metricsAddr string, rate, n int, batchWait time.Duration) error {
	if err := waitMetrics(metricsAddr); err != nil {
		return err
	}
	time.Sleep(3 * time.Second)
	c, err := loki.New(loki.Config{URL: base})
	if err != nil {
		return err
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	started := make(map[string]time.Time, n)
	seen := make(map[string]time.Duration, n)
	next := time.Now()
	ctx := context.Background()
	deadline := time.Now().Add(time.Duration(n)*50*time.Millisecond + 60*time.Second)
	for len(seen) < n && time.Now().Before(deadline) {
		if len(started) < n && time.Now().After(next) {
			marker := fmt.Sprintf("aa-fresh-%s-%d", run, len(started))
			started[marker] = time.Now()
			if err := exec.Command("/bin/sh", "-c", ":", marker).Run(); err != nil {
				return err
			}
			next = time.Now().Add(50 * time.Millisecond)
		}
		now := time.Now()
		resp, err := c.QueryRange(ctx, loki.RangeQuery{
			Query: `{job="activity-audit", source="cmd"} | json cmdline | cmdline=~".*aa-fresh-` + run + `-.*"`,
			Start: now.Add(-5 * time.Minute), End: now.Add(time.Second), Limit: n + 10, Direction: loki.Backward})
		if err != nil {
			return err
		}
		recs, err := record.FromStreams(resp.Data.Streams, loki.Backward)
		if err != nil {
			return err
		}
		for _, r := range recs {
			f := strings.Fields(r.Cmdline)
			marker := f[len(f)-1]
			if _, ok := seen[marker]; !ok {
				if t, ok := started[marker]; ok {
					seen[marker] = now.Sub(t)
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	lat := make([]time.Duration, 0, len(seen))
	for _, d := range seen {
		lat = append(lat, d)
	}
	slices.Sort(lat)
	if len(lat) == 0 {
		return errors.New("no marked command became visible")
	}
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	m, _ := metrics(metricsAddr, mShipped, mDropped)
	fmt.Printf("freshness, kernel capture + %d synthetic records/s background, batch wait %s, embedded store:\n", rate, batchWait)
	fmt.Printf("  %d of %d commands seen; exec→queryable p50 %s, p90 %s, p99 %s, max %s (query polled every ~20 ms); shipped %.0f, dropped %.0f\n",
		len(lat), n, q(0.5).Round(time.Millisecond), q(0.9).Round(time.Millisecond), q(0.99).Round(time.Millisecond),
		lat[len(lat)-1].Round(time.Millisecond), m[mShipped], m[mDropped])
	return nil
}
