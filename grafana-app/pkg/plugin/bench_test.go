package plugin_test

// Benchmarks: every resource over a large embedded store (default
// 1,000,000 records over 24 hours from bench/activitygen, plus 2,000 Falco
// alerts), through CallResource (backend-ms), against the store queries
// the resource sends, replayed over HTTP with the answers read in full
// (store-ms); overhead-% compares the medians, paired-% is the median of
// each pair's own overhead.
//
//	go test ./grafana-app/pkg/plugin -run '^$' -bench . -benchtime 31x
//
// ACTIVITYAUDIT_BENCH_RECORDS sets the size. The store is built once in
// $TMPDIR/activityaudit-app-bench-v2-<records> and reused by later runs
// (v2: container ids of 64 random hex digits).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/bench/activitygen"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/pkg/store"
	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// The bench store covers the 24 hours before benchEnd.
var benchEnd = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

var (
	benchOnce    sync.Once
	benchURL     string
	benchSession string
	benchErr     error
)

func benchRecords() int {
	if n, err := strconv.Atoi(os.Getenv("ACTIVITYAUDIT_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// benchStore opens (building it the first time) the bench store and serves
// it over HTTP for the rest of the process.
func benchStore(b *testing.B) string {
	benchOnce.Do(func() { benchURL, benchErr = openBenchStore(benchRecords()) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchURL
}

func openBenchStore(n int) (string, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("activityaudit-app-bench-v2-%d", n))
	marker := filepath.Join(dir, "complete")
	_, err := os.Stat(marker)
	build := err != nil
	if build {
		if err := os.RemoveAll(dir); err != nil {
			return "", err
		}
	}
	s, err := store.Open(store.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return "", err
	}
	start := benchEnd.Add(-24 * time.Hour)
	// Ten chunks of consecutive time spans keep memory low; activitygen's
	// seed gives every chunk the same 50 pods.
	const chunks = 10
	span := 24 * time.Hour / chunks
	for c := range chunks {
		recs := activitygen.Generate(n/chunks, start.Add(time.Duration(c)*span), start.Add(time.Duration(c+1)*span))
		for i := range recs {
			if recs[i].Session != "" && benchSession == "" && c == chunks/2 {
				benchSession = recs[i].Session
			}
		}
		if !build {
			continue
		}
		for i := 0; i < len(recs); i += 5000 {
			if _, err := s.DB().Append(toStreams(recs[i:min(i+5000, len(recs))])); err != nil {
				return "", err
			}
		}
	}
	if build {
		if err := appendAlerts(s, start, 2000); err != nil {
			return "", err
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return "", err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() { _ = s.Serve(context.Background(), ln) }()
	return "http://" + ln.Addr().String(), nil
}

// appendAlerts adds Falcosidekick-like alerts (text format) about the
// generated pods, evenly over the day.
func appendAlerts(s *store.Store, start time.Time, n int) error {
	pods := activitygen.Generate(200, start, start.Add(time.Minute)) // same pods
	var st []stream.Stream
	for i := range n {
		p := pods[i%len(pods)]
		ts := start.Add(time.Duration(i) * 24 * time.Hour / time.Duration(n))
		labels := stream.FromMap(map[string]string{
			"rule": "Terminal shell in container", "source": "syscall", "priority": "Notice", "hostname": p.Host,
			"k8s_ns_name": p.Namespace, "k8s_pod_name": p.Pod, "tags": "T1059,container,shell",
		})
		line := fmt.Sprintf("%s: Notice A shell was spawned in a container with an attached terminal | evt_type=execve user=root process=bash container_id=%s container_name=%s k8s_pod_name=%s k8s_ns_name=%s",
			ts.UTC().Format("15:04:05.000000000"), p.ContainerID[:12], p.Container, p.Pod, p.Namespace)
		st = append(st, stream.Stream{Labels: labels, Entries: []stream.Entry{{Time: ts.UnixNano(), Line: line}}})
	}
	_, err := s.DB().Append(st)
	return err
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// toStreams groups records into pushed streams.
func toStreams(recs []record.Record) []stream.Stream {
	idx := map[string]int{}
	var out []stream.Stream
	for i := range recs {
		e := record.Encode(&recs[i])
		ls := make(stream.Labels, len(e.Labels))
		for j, p := range e.Labels {
			ls[j] = stream.Label{Name: p.Name, Value: p.Value}
		}
		md := make(stream.Labels, len(e.Metadata))
		for j, p := range e.Metadata {
			md[j] = stream.Label{Name: p.Name, Value: p.Value}
		}
		md.Sort()
		k := ls.String()
		j, ok := idx[k]
		if !ok {
			j = len(out)
			idx[k] = j
			out = append(out, stream.Stream{Labels: ls})
		}
		out[j].Entries = append(out[j].Entries, stream.Entry{Time: e.Time, Line: e.Line, Metadata: md})
	}
	return out
}

// raw sends the recorded requests to the store, in order, reading every
// answer in full: what the store itself costs for what the resource asks.
func raw(b *testing.B, target string, reqs []*http.Request) int64 {
	var n int64
	for _, r := range reqs {
		u := target + r.URL.RequestURI()
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		m, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("raw %s: %d", r.URL, resp.StatusCode)
		}
		n += m
	}
	return n
}

// benchCase is a resource call of the benchmarks.
type benchCase struct {
	name string
	path string
}

// benchCases are the calls the benchmarks time, over the bench store at
// base (app answers from it: the second page needs the first's cursor).
func benchCases(b *testing.B, app *instance) []benchCase {
	from, to := strconv.FormatInt(benchEnd.Add(-24*time.Hour).UnixMilli(), 10), strconv.FormatInt(benchEnd.UnixMilli(), 10)
	rng := []string{"from", from, "to", to}
	with := func(kv ...string) []string { return append(append([]string{}, rng...), kv...) }

	var all struct{ Total int }
	if status, body := app.call(b, "Editor", q("/groups", rng...)); status != 200 || json.Unmarshal(body, &all) != nil {
		b.Fatalf("groups: %d %s", status, body)
	}
	b.Logf("bench store: %d records over 24 h; trace of session %s", all.Total, benchSession)

	var first struct{ Next string }
	if status, body := app.call(b, "Editor", q("/events", with("limit", "100")...)); status != 200 || json.Unmarshal(body, &first) != nil {
		b.Fatalf("first page: %d %s", status, body)
	}
	return []benchCase{
		{"events", q("/events", with("limit", "100")...)},
		{"events_next_page", q("/events", with("limit", "100", "cursor", first.Next)...)},
		{"events_body_filter", q("/events", with("limit", "100", "filter", `comm!="bash"`)...)},
		{"frequency", q("/frequency", rng...)},
		{"groups", q("/groups", rng...)},
		{"groups_body_filter", q("/groups", with("filter", `comm!="bash"`)...)},
		{"groups_by_container", q("/groups", with("by", "host,container_id")...)},
		{"trace", q("/trace/"+benchSession, rng...)},
		{"who", q("/who", with("session", benchSession)...)},
		{"values_body_field", q("/values/comm", rng...)},
		{"values_metadata", q("/values/pod", rng...)},
		{"policy_events", q("/policy-events", with("limit", "100")...)},
		{"fields", "/fields"},
	}
}

func BenchmarkResources(b *testing.B) {
	base := benchStore(b)
	app := newInstance(b, base, map[string]any{"queryTimeout": "2m"})
	rec := newRecorder(b, base, false)
	recording := newInstance(b, rec.url, map[string]any{"queryTimeout": "2m"})
	for _, c := range benchCases(b, app) {
		reqs := rec.requests(b, recording, c.name, c.path)
		// Each iteration times the resource through CallResource, then the
		// same store queries sent directly: interleaved pairs, so that the
		// other load of a shared machine hits both alike. The medians are
		// reported; ns/op is the pair's.
		b.Run(c.name, func(b *testing.B) {
			var backend, direct []time.Duration
			var size int
			var stored int64
			for b.Loop() {
				t0 := time.Now()
				status, body := app.call(b, "Editor", c.path)
				t1 := time.Now()
				if status != 200 {
					b.Fatalf("%d %s", status, body)
				}
				size = len(body)
				backend = append(backend, t1.Sub(t0))
				if len(reqs) > 0 {
					t2 := time.Now()
					stored = raw(b, base, reqs)
					direct = append(direct, time.Since(t2))
				}
			}
			bm := median(backend)
			b.ReportMetric(float64(bm.Microseconds())/1000, "backend-ms")
			b.ReportMetric(float64(size), "answer-bytes")
			if len(direct) > 0 {
				rm := median(direct)
				b.ReportMetric(float64(rm.Microseconds())/1000, "store-ms")
				b.ReportMetric(100*(float64(bm)-float64(rm))/float64(rm), "overhead-%")
				// The median of each pair's own overhead: a pair's two
				// halves run a moment apart, so a machine that slows down
				// or speeds up between pairs moves both alike.
				pairs := make([]float64, len(direct))
				for i := range direct {
					pairs[i] = 100 * (float64(backend[i]) - float64(direct[i])) / float64(direct[i])
				}
				slices.Sort(pairs)
				b.ReportMetric(pairs[len(pairs)/2], "paired-%")
				b.ReportMetric(float64(len(reqs)), "store-queries")
				b.ReportMetric(float64(stored), "store-bytes")
			}
		})
	}
}

// BenchmarkBackendWork times what the backend itself does for each
// resource: the store's answers are recorded once and served again from
// memory, so that backend-us less canned-us (the same requests sent
// directly to the canned answers) is the backend's own work — decoding,
// correlating, writing the answer — free of the store's time and its
// noise.
//
//	go test ./grafana-app/pkg/plugin -run '^$' -bench BackendWork -benchtime 1001x
func BenchmarkBackendWork(b *testing.B) {
	base := benchStore(b)
	canned := newRecorder(b, base, true)
	app := newInstance(b, canned.url, map[string]any{"queryTimeout": "2m"})
	for _, c := range benchCases(b, newInstance(b, base, map[string]any{"queryTimeout": "2m"})) {
		reqs := canned.requests(b, app, c.name, c.path)
		b.Run(c.name, func(b *testing.B) {
			var backend, direct []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if status, body := app.call(b, "Editor", c.path); status != 200 {
					b.Fatalf("%d %s", status, body)
				}
				backend = append(backend, time.Since(t0))
				t1 := time.Now()
				raw(b, canned.url, reqs)
				direct = append(direct, time.Since(t1))
			}
			bm, dm := median(backend), median(direct)
			b.ReportMetric(float64(bm.Nanoseconds())/1000, "backend-us")
			b.ReportMetric(float64(dm.Nanoseconds())/1000, "canned-us")
			b.ReportMetric(float64(bm-dm)/1000, "work-us")
		})
	}
}
