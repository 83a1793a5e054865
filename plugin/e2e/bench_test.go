package e2e

import (
	"strconv"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/plugin/internal/falcoapi"
	"github.com/activityaudit/activityaudit/plugin/internal/storetest"
)

// BenchmarkNextBatchExtract5 reads events through the built plugin as Falco
// does — plugin_next_batch, then plugin_extract_fields once per field for
// five fields — from the embedded store over HTTP. Everything runs in this
// process: pin it to one core (taskset -c 0) to measure one core.
//
//   - store: the whole way, the store answering the queries included (in
//     production Loki does that on its own machines);
//   - prefetched: only Falco's side, once the plugin's reader has the
//     records (the timer stops while it reads them from the store).
func BenchmarkNextBatchExtract5(b *testing.B) {
	const n = 20000 // four pages: what the reader buffers ahead of Falco
	st := storetest.Start(b)
	t0 := time.Now().Add(-10 * time.Minute)
	recs := storetest.Records(t0, n)
	for i := 0; i < n; i += 2000 {
		st.Push(b, recs[i:i+2000]...)
	}
	p, fields := plugin(b, config(st, `"start":"`+t0.Format(time.RFC3339Nano)+`","pageSize":5000,"pollInterval":"10ms"`))
	var xs []*falcoapi.Extractor
	for _, f := range fields {
		switch f.Name {
		case "activity.source", "activity.comm", "activity.cmdline", "activity.pid", "activity.session":
			x := p.NewExtractor("activityaudit", []falcoapi.Field{f})
			b.Cleanup(x.Free)
			xs = append(xs, x)
		}
	}
	num := uint64(0)
	// readAll opens the source and reads all n records, extracting five
	// fields from each; prefetch waits (timer stopped) until the reader
	// has them all.
	readAll := func(b *testing.B, prefetch bool) {
		b.StopTimer()
		inst, err := p.Open("")
		if err != nil {
			b.Fatal(err)
		}
		defer inst.Close()
		if prefetch {
			time.Sleep(2 * time.Second)
		}
		b.StartTimer()
		for read := 0; read < n; {
			batch, _, err := inst.NextBatch()
			if err != nil {
				b.Fatal(err)
			}
			for i := range batch.Len() {
				num++
				for _, x := range xs {
					if _, err := x.ExtractBatch(batch, i, num); err != nil {
						b.Fatal(err)
					}
				}
			}
			read += batch.Len()
		}
		b.StopTimer()
	}
	for _, prefetch := range []bool{false, true} {
		name := map[bool]string{false: "store", true: "prefetched"}[prefetch]
		b.Run(name, func(b *testing.B) {
			events := 0
			for events < b.N {
				readAll(b, prefetch)
				events += n
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
		})
	}
}

// BenchmarkExtractOneField is one plugin_extract_fields call for one field
// of an event already decoded: the cost of an extraction as Falco pays it,
// the C to Go call included.
func BenchmarkExtractOneField(b *testing.B) {
	p, fields := plugin(b, `{}`)
	r := storetest.Command(1)
	r.Time = time.Now().UnixNano()
	payload := `{"time":` + itoa(r.Time) + `,"source":"cmd","comm":"bash","cmdline":"bash -i","pid":42,"session":"n:1:2"}`
	e := falcoapi.NewEvent(999, uint64(r.Time), []byte(payload))
	for _, f := range fields {
		if f.Name != "activity.comm" && f.Name != "activity.pid" {
			continue
		}
		b.Run(f.Name, func(b *testing.B) {
			x := p.NewExtractor("activityaudit", []falcoapi.Field{f})
			defer x.Free()
			if _, err := x.Extract(e, 1); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := x.Extract(e, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
