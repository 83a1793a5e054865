package storage

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

const (
	datasetRecords = 1_000_000
	datasetBatch   = 2000
)

var datasetStart = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC).UnixNano()

// dataset is the 1,000,000-record store the benchmarks share, built once
// per process in a temporary directory.
var dataset struct {
	once          sync.Once
	err           error
	dir           string
	db            *DB
	ingestPerSec  float64
	bytesPerEntry float64
	heapMiB       float64
	rssMiB        float64
	peakRSSMiB    float64
	openSeconds   float64
	session       string // the session with the most entries
	sessionN      int
	mysql         []uint32 // streams of workload mysql
}

func cleanupDataset() {
	if dataset.db != nil {
		_ = dataset.db.Close()
	}
	if dataset.dir != "" {
		_ = os.RemoveAll(dataset.dir)
	}
}

// loadDataset returns the shared 1M-record store, building it first: 500
// batches of 2,000 records over 24 h, appended, then flushed and compacted
// (to measure bytes on disk per record) and reopened (to measure the
// rebuild of the in-memory state).
func loadDataset(tb testing.TB) *DB {
	dataset.once.Do(func() { dataset.err = buildDataset() })
	if dataset.err != nil {
		tb.Fatalf("build dataset: %v", dataset.err)
	}
	return dataset.db
}

func buildDataset() error {
	dir, err := os.MkdirTemp("", "storage-bench-")
	if err != nil {
		return err
	}
	dataset.dir = dir
	o := testMeta
	o.Dir = dir
	db, err := Open(o)
	if err != nil {
		return err
	}
	g := newGen(1)
	step := int64(24*time.Hour) / datasetRecords
	sessions := map[string]int{}
	var appending time.Duration
	for i := 0; i < datasetRecords; i += datasetBatch {
		batch := g.batch(datasetStart+int64(i)*step, step, datasetBatch)
		for _, s := range batch {
			for _, e := range s.Entries {
				if v := e.Metadata.Get("session"); v != "" {
					sessions[v]++
				}
			}
		}
		t0 := time.Now()
		if _, err := db.Append(batch); err != nil {
			return err
		}
		appending += time.Since(t0)
	}
	dataset.ingestPerSec = float64(datasetRecords) / appending.Seconds()
	for s, n := range sessions {
		if n > dataset.sessionN {
			dataset.session, dataset.sessionN = s, n
		}
	}
	if err := db.compactAll(); err != nil {
		return err
	}
	dataset.bytesPerEntry = float64(db.Stats().DiskBytes) / datasetRecords
	if err := db.Close(); err != nil {
		return err
	}
	t0 := time.Now()
	if db, err = Open(o); err != nil {
		return err
	}
	dataset.openSeconds = time.Since(t0).Seconds()
	dataset.db = db
	for _, s := range db.Streams() {
		if s.Labels.Get("workload") == "mysql" {
			dataset.mysql = append(dataset.mysql, s.ID)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	dataset.heapMiB = float64(ms.HeapInuse) / (1 << 20)
	dataset.rssMiB = procStatusMiB("VmRSS:")
	dataset.peakRSSMiB = procStatusMiB("VmHWM:")
	return nil
}

// compactAll flushes the memtable and compacts everything into the bottom
// level, as a long-running store ends up.
func (db *DB) compactAll() error {
	if err := db.pdb.Flush(); err != nil {
		return err
	}
	if err := db.pdb.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
		return err
	}
	for range 400 {
		if db.pdb.Metrics().Table.Local.ObsoleteSize == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// procStatusMiB reads a size from /proc/self/status, such as the resident
// set size (VmRSS) or its peak (VmHWM); 0 where there is none.
func procStatusMiB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkDataset1M reports the figures of the shared 1M-record store:
// ingest rate while building it, bytes on disk per record after
// compaction, Go heap in use and RSS with it open (and the peak RSS of the
// process so far, which includes building it), and the time Open took to
// rebuild the in-memory state.
func BenchmarkDataset1M(b *testing.B) {
	db := loadDataset(b)
	for b.Loop() {
		_ = db.Stats()
	}
	b.ReportMetric(dataset.ingestPerSec, "ingest-records/s")
	b.ReportMetric(dataset.bytesPerEntry, "disk-B/record")
	b.ReportMetric(dataset.heapMiB, "heap-MiB")
	b.ReportMetric(dataset.rssMiB, "rss-MiB")
	b.ReportMetric(dataset.peakRSSMiB, "peak-rss-MiB")
	b.ReportMetric(dataset.openSeconds, "open-s")
	b.ReportMetric(float64(db.idx.memBytes())/datasetRecords, "points-B/record")
}

// BenchmarkAppend appends 2,000-record batches, each fsynced, to a fresh
// store: in time order, and late (each batch older than the one before, so
// that every entry is checked against the stored ones for duplicates).
func BenchmarkAppend(b *testing.B) {
	for _, late := range []bool{false, true} {
		name := "in-order"
		if late {
			name = "late"
		}
		b.Run(name, func(b *testing.B) {
			db := openTest(b, b.TempDir())
			defer db.Close()
			g := newGen(2)
			step := int64(time.Millisecond)
			start := datasetStart
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				batch := g.batch(start, step, datasetBatch)
				if late {
					start -= datasetBatch * step
				} else {
					start += datasetBatch * step
				}
				b.StartTimer()
				n, err := db.Append(batch)
				if err != nil || n != datasetBatch {
					b.Fatalf("Append = %d, %v", n, err)
				}
			}
			b.ReportMetric(float64(b.N*datasetBatch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func datasetEnd() int64 { return datasetStart + int64(24*time.Hour) + 1 }

// BenchmarkScanAll scans every entry in time order with a cheap filter, in
// one goroutine and in two each scanning half of the day.
func BenchmarkScanAll(b *testing.B) {
	db := loadDataset(b)
	filter := func(n *int) func(Hit) bool {
		return func(h Hit) bool {
			if strings.Contains(h.Line, `"comm":"curl"`) {
				*n++
			}
			return true
		}
	}
	b.Run("goroutines=1", func(b *testing.B) {
		for b.Loop() {
			var n int
			if err := db.Scan(context.Background(), ScanQuery{From: datasetStart, Through: datasetEnd()}, filter(&n)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(datasetRecords/(b.Elapsed().Seconds()/float64(b.N)), "records/s")
	})
	b.Run("goroutines=2", func(b *testing.B) {
		mid := datasetStart + int64(12*time.Hour)
		for b.Loop() {
			var wg sync.WaitGroup
			var n [2]int
			for i, r := range [][2]int64{{datasetStart, mid}, {mid, datasetEnd()}} {
				wg.Go(func() {
					if err := db.Scan(context.Background(), ScanQuery{From: r[0], Through: r[1]}, filter(&n[i])); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
		}
		b.ReportMetric(datasetRecords/(b.Elapsed().Seconds()/float64(b.N)), "records/s")
	})
}

// BenchmarkScanNewest100 reads the newest 100 entries of the 15 streams of
// one workload.
func BenchmarkScanNewest100(b *testing.B) {
	db := loadDataset(b)
	q := ScanQuery{Streams: dataset.mysql, From: datasetStart, Through: datasetEnd(), Backward: true}
	for b.Loop() {
		n := 0
		if err := db.Scan(context.Background(), q, func(Hit) bool { n++; return n < 100 }); err != nil || n != 100 {
			b.Fatalf("Scan: %d hits, %v", n, err)
		}
	}
}

// BenchmarkScanSession reads every entry of one kube exec session over the
// day through the secondary index.
func BenchmarkScanSession(b *testing.B) {
	db := loadDataset(b)
	q := ScanQuery{From: datasetStart, Through: datasetEnd(), Metadata: &stream.Label{Name: "session", Value: dataset.session}}
	for b.Loop() {
		n := 0
		if err := db.Scan(context.Background(), q, func(Hit) bool { n++; return true }); err != nil || n != dataset.sessionN {
			b.Fatalf("Scan: %d hits, want %d, %v", n, dataset.sessionN, err)
		}
	}
	b.ReportMetric(float64(dataset.sessionN), "entries")
}

// BenchmarkPoints counts entries per stream and per group (pod/container)
// over the whole day from the point index.
func BenchmarkPoints(b *testing.B) {
	db := loadDataset(b)
	for b.Loop() {
		byStream := map[uint32]int{}
		byGroup := map[uint32]int{}
		var last, lastG uint32
		var ns, ng int
		db.Points(datasetStart, datasetEnd(), func(s, g uint32, _ int64, _ uint32) {
			if s != last {
				byStream[last] += ns
				last, ns = s, 0
			}
			ns++
			if g != lastG {
				byGroup[lastG] += ng
				lastG, ng = g, 0
			}
			ng++
		})
		byStream[last] += ns
		byGroup[lastG] += ng
	}
}
