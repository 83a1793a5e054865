package activityaudit

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/plugin/internal/storetest"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/plugins/source"
)

func eventWriters(t testing.TB, n int) sdk.EventWriters {
	t.Helper()
	w, err := sdk.NewEventWriters(int64(n), 4096)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Free)
	return w
}

// pageOf makes a page of records, as the reader hands them over.
func pageOf(recs ...record.Record) *page {
	f := &follower{maxPayload: maxEventSize, log: quiet}
	return f.apply(recs)
}

func TestNextBatchTimesOut(t *testing.T) {
	inst := newInstance("", Cursor{}, quiet, 30*time.Millisecond)
	evts := eventWriters(t, 8)
	start := time.Now()
	n, err := inst.NextBatch(nil, evts)
	took := time.Since(start)
	if n != 0 || !errors.Is(err, sdk.ErrTimeout) {
		t.Errorf("NextBatch with nothing to read = %d, %v; want 0, timeout", n, err)
	}
	if took < 30*time.Millisecond || took > 2*time.Second {
		t.Errorf("NextBatch waited %s, want about the 30ms timeout", took)
	}
}

func TestNextBatchFillsFromPages(t *testing.T) {
	inst := newInstance("", Cursor{}, quiet, 30*time.Millisecond)
	recs := storetest.Records(time.Unix(100, 0), 5)
	inst.pages <- pageOf(recs[:3]...)
	inst.pages <- pageOf(recs[3:]...)
	evts := eventWriters(t, 2)
	var got []int
	for range 4 {
		n, err := inst.NextBatch(nil, evts)
		if err != nil && !errors.Is(err, sdk.ErrTimeout) {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if want := []int{2, 2, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("batch sizes = %v, want %v", got, want)
	}
	last := recs[4]
	if inst.delivered.Time != last.Time || !inst.delivered.Has(last.Time, RecordKey(appendPayload(nil, &last))) {
		t.Errorf("delivered = %+v, want through the last record", inst.delivered)
	}
}

// The cursor file holds what Falco has processed: the events of a batch
// count once Falco asks for the next one, or closes.
func TestCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cursor")
	inst := newInstance(path, Cursor{Time: 50}, quiet, 10*time.Millisecond)
	recs := storetest.Records(time.Unix(100, 0), 3)
	inst.pages <- pageOf(recs...)
	evts := eventWriters(t, 8)
	if n, err := inst.NextBatch(nil, evts); n != 3 || err != nil {
		t.Fatalf("NextBatch = %d, %v", n, err)
	}
	c, ok, err := LoadCursor(path)
	if err != nil || !ok || c.Time != 50 {
		t.Fatalf("cursor during the first batch = %+v, %v, %v; want the start (50)", c, ok, err)
	}
	inst.cancel = func() {}
	close(inst.done)
	inst.Close()
	c, _, err = LoadCursor(path)
	if err != nil || c.Time != recs[2].Time {
		t.Errorf("cursor after close = %+v, %v; want at %d", c, err, recs[2].Time)
	}
}

func openTestPlugin(t *testing.T, config string) (*Plugin, source.Instance) {
	t.Helper()
	p := testPlugin(config)
	inst, err := p.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inst.(*instance).Close)
	return p, inst
}

// readN calls NextBatch until n events came or the deadline passed.
func readN(t *testing.T, inst source.Instance, n int, deadline time.Duration) int {
	t.Helper()
	got := 0
	end := time.Now().Add(deadline)
	for got < n && time.Now().Before(end) {
		k, err := inst.NextBatch(nil, inst.Events())
		if err != nil && !errors.Is(err, sdk.ErrTimeout) {
			t.Fatal(err)
		}
		got += k
	}
	return got
}

// While Loki is down the reader backs off instead of spinning, NextBatch
// keeps answering timeouts, and when Loki is back nothing is lost.
func TestReadRetriesWhileDown(t *testing.T) {
	st := storetest.Start(t)
	t0 := time.Now().Add(-time.Minute)
	recs := storetest.Records(t0, 10)
	st.Push(t, recs[:5]...)
	_, inst := openTestPlugin(t, `{"lokiURL":"`+st.URL+`","start":"`+t0.Format(time.RFC3339Nano)+`","delay":"0s","pollInterval":"20ms"}`)
	if got := readN(t, inst, 5, 5*time.Second); got != 5 {
		t.Fatalf("read %d of 5 records", got)
	}
	st.SetDown(true)
	before := st.Queries()
	st.Push(t, recs[5:]...)
	if got := readN(t, inst, 1, 1500*time.Millisecond); got != 0 {
		t.Fatalf("read %d records while the store was down", got)
	}
	// 1.5s of backoff from 250ms doubling: about 3 attempts, a busy loop thousands.
	if q := st.Queries() - before; q > 8 {
		t.Errorf("%d queries in 1.5s while down: no backoff", q)
	}
	st.SetDown(false)
	if got := readN(t, inst, 5, 10*time.Second); got != 5 {
		t.Errorf("read %d of the 5 records pushed while down", got)
	}
	if got := readN(t, inst, 1, 200*time.Millisecond); got != 0 {
		t.Errorf("read %d records more than were pushed", got)
	}
}

// A request Loki refuses (here 401) before anything was read is a
// configuration error: NextBatch fails with it instead of retrying forever.
func TestRefusedRequestFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no org id", http.StatusUnauthorized)
	}))
	defer srv.Close()
	_, inst := openTestPlugin(t, `{"lokiURL":"`+srv.URL+`","start":"now-1m","delay":"0s"}`)
	var err error
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
		if _, err = inst.NextBatch(nil, inst.Events()); err != nil && !errors.Is(err, sdk.ErrTimeout) {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "no org id") {
		t.Errorf("NextBatch against a refusing Loki = %v, want the 401", err)
	}
}

func TestOpenStart(t *testing.T) {
	dir := t.TempDir()
	p := testPlugin(`{"cursorFile":"` + filepath.Join(dir, "c") + `","start":"now-1h"}`)
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	c, err := p.startCursor("", now)
	if err != nil || c.Time != now.Add(-time.Hour).UnixNano() {
		t.Errorf("start without a cursor file = %+v, %v", c, err)
	}
	if err := SaveCursor(filepath.Join(dir, "c"), Cursor{Time: 7, Seen: []uint64{9}}); err != nil {
		t.Fatal(err)
	}
	if c, err := p.startCursor("", now); err != nil || c.Time != 7 || len(c.Seen) != 1 {
		t.Errorf("start with a cursor file = %+v, %v", c, err)
	}
	if c, err := p.startCursor("now", now); err != nil || c.Time != now.UnixNano() {
		t.Errorf("open params override the cursor file: %+v, %v", c, err)
	}
	if _, err := p.startCursor("last tuesday", now); err == nil {
		t.Error("a bad start in the open params was accepted")
	}
	if _, err := New().Open(""); err == nil {
		t.Error("Open before Init succeeded")
	}
}
