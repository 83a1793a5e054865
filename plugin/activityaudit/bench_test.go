package activityaudit

import (
	"context"
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/plugin/internal/storetest"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"
)

// benchFields are the five fields the benchmarks extract per event: what a
// typical rule condition and output read.
var benchFields = []string{"activity.source", "activity.comm", "activity.cmdline", "activity.pid", "activity.session"}

// eventInput mirrors ss_plugin_event_input, so that an event the SDK wrote
// in C memory can be read back through sdk.NewEventReader without cgo.
type eventInput struct {
	evt    unsafe.Pointer
	evtnum uint64
	evtsrc unsafe.Pointer
}

// BenchmarkNextBatchExtract5 is the plugin's work per event on Falco's
// thread: NextBatch writes the event, then five fields are extracted from
// it (reading the payload back from the event's C memory, as Falco hands
// it over). Records come from pages already read, so Loki is not measured
// here (see BenchmarkFetch and the e2e benchmark).
func BenchmarkNextBatchExtract5(b *testing.B) {
	p := testPlugin("")
	recs := storetest.Records(time.Now(), 1024)
	pg := pageOf(recs...)
	inst := newInstance("", Cursor{}, quiet, time.Millisecond)
	evts, err := sdk.NewEventWriters(batchSize, maxEventSize)
	if err != nil {
		b.Fatal(err)
	}
	defer evts.Free()
	reqs := make([]*fakeRequest, len(benchFields))
	for i, name := range benchFields {
		reqs[i] = requestFor(name)
	}
	ptrs := (*[batchSize]unsafe.Pointer)(evts.ArrayPtr())
	var in eventInput
	num := uint64(0)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		if inst.cur == nil && len(inst.pages) == 0 {
			inst.pages <- pg
		}
		n, err := inst.NextBatch(nil, evts)
		if err != nil && !errors.Is(err, sdk.ErrTimeout) {
			b.Fatal(err)
		}
		for i := range n {
			num++
			in.evt, in.evtnum = ptrs[i], num
			evt := sdk.NewEventReader(unsafe.Pointer(&in))
			for _, req := range reqs {
				req.reset()
				if err := p.Extract(req, evt); err != nil {
					b.Fatal(err)
				}
			}
		}
		done += n
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkExtract is the cost of one extraction of a field from an event
// already decoded (Falco reads several fields per event), and of decoding
// an event (the first extraction of each event).
func BenchmarkExtract(b *testing.B) {
	p := testPlugin("")
	r := storetest.Command(1)
	r.Time = time.Now().UnixNano()
	ev, in := sdkEvent(b, appendPayload(nil, &r))
	for _, name := range append(benchFields, "activity.time", "activity.session_entry", LinkField) {
		req := requestFor(name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req.reset()
				if err := p.Extract(req, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("decode", func(b *testing.B) {
		req := requestFor("activity.comm")
		num := uint64(1)
		b.ReportAllocs()
		for b.Loop() {
			num++
			in.evtnum = num
			if err := p.Extract(req, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// sdkEvent writes payload into an event in C memory, as NextBatch does,
// and returns a reader of it as Falco hands it to extraction.
func sdkEvent(b *testing.B, payload []byte) (sdk.EventReader, *eventInput) {
	evts, err := sdk.NewEventWriters(1, int64(len(payload)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(evts.Free)
	w := evts.Get(0)
	if _, err := w.Writer().Write(payload); err != nil {
		b.Fatal(err)
	}
	in := &eventInput{evt: (*[1]unsafe.Pointer)(evts.ArrayPtr())[0], evtnum: 1}
	return sdk.NewEventReader(unsafe.Pointer(in)), in
}

// BenchmarkFetch is the reader's side: records a second from the embedded
// store over HTTP into event payloads (query, Loki JSON, records, payloads).
func BenchmarkFetch(b *testing.B) {
	st := storetest.Start(b)
	t0 := time.Now().Add(-10 * time.Minute)
	const n = 20000
	recs := storetest.Records(t0, n)
	for i := 0; i < n; i += 2000 {
		st.Push(b, recs[i:i+2000]...)
	}
	cfg := DefaultConfig()
	cfg.LokiURL, cfg.PageSize, cfg.Delay = st.URL, MaxPageSize, "0s"
	s, err := cfg.validate()
	if err != nil {
		b.Fatal(err)
	}
	client, err := loki.New(s.loki)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	read := 0
	for read < b.N {
		f := newFollower(client, &s, Cursor{Time: t0.UnixNano()}, maxEventSize, quiet)
		for read < b.N {
			p, more, err := f.fetch(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			read += len(p.events)
			if !more {
				break
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "records/s")
}
