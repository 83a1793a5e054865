// Command storebench measures the embedded store as users run it: it starts
// `collector store` as a child process, pushes N realistic activity records
// spanning 24 hours (50 pods) in ~1 MiB snappy-protobuf batches over HTTP,
// then times the queries the app makes, and reports ingest rate, query
// latencies, the child's peak RSS and bytes on disk per record.
//
//	go run ./bench/storebench -records 1000000
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	lokipush "github.com/grafana/loki/pkg/push"

	"github.com/activityaudit/activityaudit/bench/activitygen"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/record"
)

func main() {
	n := flag.Int("records", 1_000_000, "records to store")
	listen := flag.String("listen", "127.0.0.1:3190", "address for the store under test")
	ingestProcs := flag.Int("ingest-procs", 1, "GOMAXPROCS of the store while ingesting (one core by default)")
	runs := flag.Int("runs", 7, "timed runs per query")
	flag.Parse()
	if err := run(*n, *listen, *ingestProcs, *runs); err != nil {
		log.Fatal(err)
	}
}

func run(n int, listen string, ingestProcs, runs int) error {
	dir, err := os.MkdirTemp("", "storebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "collector")
	if out, err := exec.Command("go", "build", "-o", bin, "./collector").CombinedOutput(); err != nil {
		return fmt.Errorf("build collector: %v: %s", err, out)
	}
	data := filepath.Join(dir, "data")
	end := time.Now().Truncate(time.Minute)
	start := end.Add(-24 * time.Hour)
	recs := activitygen.Generate(n, start, end)

	// Ingest with the store on one core.
	child, err := startStore(bin, data, listen, ingestProcs)
	if err != nil {
		return err
	}
	base := "http://" + listen
	t0 := time.Now()
	batches, err := pushAll(base, recs)
	if err != nil {
		child.Process.Kill()
		return err
	}
	ingest := time.Since(t0)
	fmt.Printf("ingest: %d records in %d batches (~1 MiB) in %v: %.0f records/s (store GOMAXPROCS=%d)\n",
		n, batches, ingest.Round(time.Millisecond), float64(n)/ingest.Seconds(), ingestProcs)
	hwm, _ := memory(child.Process.Pid)
	fmt.Printf("store peak RSS while ingesting: %s\n", hwm)
	stopStore(child)

	// Query on the default cores, after a restart (as users would find it).
	child, err = startStore(bin, data, listen, 0)
	if err != nil {
		return err
	}
	defer stopStore(child)
	fmt.Printf("disk: %.0f bytes per record (%s)\n", float64(dirSize(data))/float64(n), mib(dirSize(data)))
	client, err := loki.New(loki.Config{URL: base, Timeout: time.Minute})
	if err != nil {
		return err
	}
	session := recs[len(recs)/2].Session
	for i := len(recs) / 2; session == ""; i++ {
		session = recs[i].Session
	}
	all := logql.Scope{}
	notBash := logql.Scope{Filter: filter.MustParse(`comm!="bash"`)}
	must := func(r logql.Request, err error) logql.Request {
		if err != nil {
			log.Fatal(err)
		}
		return r
	}
	queries := []struct {
		name, goal string
		req        logql.Request
	}{
		{"groups namespace>workload>pod, 24 h", "250ms", must(logql.Groups(all, logql.ByWorkload, start, end))},
		{"groups with comm!=\"bash\", 24 h", "1s", must(logql.Groups(notBash, logql.ByWorkload, start, end))},
		{"frequency by source, 5 min steps, 24 h", "250ms", must(logql.Frequency(all, start, end, 5*time.Minute))},
		{"first page (100) with comm!=\"bash\"", "100ms", must(logql.Events(notBash, start, end, 100))},
		{"trace of one session, 24 h", "50ms", must(logql.Trace(session, start, end))},
	}
	fmt.Printf("\n| query | median | max | goal | LogQL |\n|---|---|---|---|---|\n")
	for _, q := range queries {
		var times []time.Duration
		var results int
		for range runs {
			t := time.Now()
			results, err = execute(client, q.req)
			if err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			times = append(times, time.Since(t))
		}
		slices.Sort(times)
		fmt.Printf("| %s | %v | %v | ≤ %s | `%s` (%d results) |\n", q.name, times[len(times)/2].Round(100*time.Microsecond),
			times[len(times)-1].Round(100*time.Microsecond), q.goal, q.req.Query, results)
	}
	hwm, rss := memory(child.Process.Pid)
	fmt.Printf("\nstore memory after the queries: peak RSS %s, RSS %s\n", hwm, rss)
	return nil
}

func execute(c *loki.Client, r logql.Request) (int, error) {
	ctx := context.Background()
	if r.Kind == logql.Instant {
		resp, err := c.Query(ctx, loki.InstantQuery{Query: r.Query, Time: r.Time})
		if err != nil {
			return 0, err
		}
		return len(resp.Data.Vector), nil
	}
	resp, err := c.QueryRange(ctx, loki.RangeQuery{Query: r.Query, Start: r.Start, End: r.End, Step: r.Step, Limit: r.Limit,
		Direction: loki.Direction(r.Direction), Categorize: true})
	if err != nil {
		return 0, err
	}
	n := len(resp.Data.Matrix)
	for _, s := range resp.Data.Streams {
		n += len(s.Entries)
	}
	return n, nil
}

// pushAll sends the records in ~1 MiB snappy-protobuf batches.
func pushAll(base string, recs []record.Record) (int, error) {
	batches := 0
	var req lokipush.PushRequest
	streams := map[string]int{}
	size := 0
	flush := func() error {
		if size == 0 {
			return nil
		}
		b, err := proto.Marshal(&req)
		if err != nil {
			return err
		}
		resp, err := http.Post(base+"/loki/api/v1/push", "application/x-protobuf", bytes.NewReader(snappy.Encode(nil, b)))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("push: %s", resp.Status)
		}
		batches++
		req, streams, size = lokipush.PushRequest{}, map[string]int{}, 0
		return nil
	}
	for i := range recs {
		e := record.Encode(&recs[i])
		ls := record.LabelString(e.Labels)
		j, ok := streams[ls]
		if !ok {
			j = len(req.Streams)
			streams[ls] = j
			req.Streams = append(req.Streams, lokipush.Stream{Labels: ls})
		}
		md := make(lokipush.LabelsAdapter, len(e.Metadata))
		for k, p := range e.Metadata {
			md[k] = lokipush.LabelAdapter{Name: p.Name, Value: p.Value}
			size += len(p.Name) + len(p.Value)
		}
		req.Streams[j].Entries = append(req.Streams[j].Entries, lokipush.Entry{Timestamp: time.Unix(0, e.Time), Line: e.Line, StructuredMetadata: md})
		size += len(e.Line) + 16
		if size >= 1<<20 {
			if err := flush(); err != nil {
				return batches, err
			}
		}
	}
	return batches, flush()
}

func startStore(bin, data, listen string, procs int) (*exec.Cmd, error) {
	cmd := exec.Command(bin, "store", "--data-dir", data, "--listen", listen, "--retention", "0", "--max-disk", "0")
	cmd.Env = os.Environ()
	if procs > 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("GOMAXPROCS=%d", procs))
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + listen + "/ready"); err == nil {
			resp.Body.Close()
			return cmd, nil
		}
	}
	cmd.Process.Kill()
	return nil, fmt.Errorf("store did not become ready")
}

func stopStore(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

func memory(pid int) (hwm, rss string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?", "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "VmHWM:" {
			hwm = f[1] + " kB"
		}
		if len(f) >= 2 && f[0] == "VmRSS:" {
			rss = f[1] + " kB"
		}
	}
	return hwm, rss
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
