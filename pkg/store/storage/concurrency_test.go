package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// TestConcurrentUse runs appends, scans, points, stream listings and
// Enforce at once (run it with -race). Every batch carries a tag in its
// metadata: a scan must see each batch whole or not at all, in order.
func TestConcurrentUse(t *testing.T) {
	o := testMeta
	o.Dir, o.Retention = t.TempDir(), 365*24*time.Hour
	db, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const (
		writers   = 3
		batches   = 30
		batchSize = 120
	)
	var written atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				tag := fmt.Sprintf("w%d-b%d", w, b)
				var ss []stream.Stream
				for s := range 4 {
					st := stream.Stream{Labels: labels("writer", strconv.Itoa(w), "s", strconv.Itoa((s+b)%6))}
					for i := range batchSize / 4 {
						ts := datasetStart + int64(b*1000+i)*int64(time.Second) + int64(w) // interleaved writers
						st.Entries = append(st.Entries, ent(ts, tag+" "+strconv.Itoa(s*1000+i), "batch", tag, "session", "w"+strconv.Itoa(w), "pod", "p"+strconv.Itoa(i%3)))
					}
					ss = append(ss, st)
				}
				n, err := db.Append(ss)
				if err != nil || n != batchSize {
					t.Errorf("Append %s = %d, %v", tag, n, err)
				}
				written.Add(int64(n))
			}
		})
	}
	var readers sync.WaitGroup
	check := func(name string, q ScanQuery, perBatch int) {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				counts := map[string]int{}
				var last Hit
				first := true
				err := db.Scan(context.Background(), q, func(h Hit) bool {
					if !first && (q.Backward && h.Time > last.Time || !q.Backward && h.Time < last.Time ||
						h.Time == last.Time && h.Stream < last.Stream) {
						t.Errorf("%s: out of order: %d/%d after %d/%d", name, h.Time, h.Stream, last.Time, last.Stream)
					}
					first, last = false, Hit{Stream: h.Stream, Time: h.Time}
					counts[strings.Clone(h.Metadata.Get("batch"))]++ // Metadata aliases Pebble's buffers
					return true
				})
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
				for tag, n := range counts {
					if perBatch > 0 && n != perBatch {
						t.Errorf("%s: batch %s seen with %d of %d entries", name, tag, n, perBatch)
					}
				}
			}
		})
	}
	all := ScanQuery{From: 0, Through: 1 << 62}
	check("forward", all, batchSize)
	back := all
	back.Backward = true
	check("backward", back, batchSize)
	sess := all
	sess.Metadata = &stream.Label{Name: "session", Value: "w1"}
	check("index", sess, batchSize)
	pod := back
	pod.Metadata = &stream.Label{Name: "pod", Value: "p0"}
	check("filter", pod, batchSize/3)
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			n := 0
			db.Points(0, 1<<62, func(s, g uint32, _ int64, _ uint32) {
				n++
				if len(db.Group(g)) != 1 {
					t.Errorf("group %d = %v", g, db.Group(g))
				}
			})
			var entries int64
			for _, s := range db.Streams() {
				entries += s.Entries
			}
			_ = db.Stats()
			if _, err := db.Enforce(time.Unix(0, datasetStart)); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	total := written.Load()
	if st := db.Stats(); st.Entries != total || st.Duplicates != 0 {
		t.Errorf("Stats = %+v, want %d entries", st, total)
	}
	if got := int64(len(scanAll(t, db, all))); got != total {
		t.Errorf("Scan found %d, want %d", got, total)
	}
	n := int64(0)
	db.Points(0, 1<<62, func(uint32, uint32, int64, uint32) { n++ })
	if n != total {
		t.Errorf("Points found %d, want %d", n, total)
	}
}
