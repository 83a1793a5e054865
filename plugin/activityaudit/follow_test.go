package activityaudit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/plugin/internal/storetest"
)

var quiet = log.New(io.Discard, "", 0)

func testFollower(t *testing.T, url string, pageSize int, c Cursor) *follower {
	t.Helper()
	cfg := DefaultConfig()
	cfg.LokiURL, cfg.PageSize, cfg.Delay = url, pageSize, "0s"
	s, err := cfg.validate()
	if err != nil {
		t.Fatal(err)
	}
	client, err := loki.New(s.loki)
	if err != nil {
		t.Fatal(err)
	}
	return newFollower(client, &s, c, maxEventSize, quiet)
}

// drain fetches until the follower has nothing more, and returns the
// payloads it produced.
func drain(t *testing.T, f *follower) []string {
	t.Helper()
	var out []string
	for range 1000 {
		p, more, err := f.fetch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := range p.events {
			out = append(out, string(p.payload(i)))
		}
		if !more {
			return out
		}
	}
	t.Fatal("the follower never ran out of records")
	return nil
}

// tiedRecords are records of every source where many share a timestamp:
// across streams, and within one stream.
func tiedRecords(t0 time.Time, n int) []record.Record {
	recs := storetest.Records(t0, n)
	// Two more commands in the same stream as record 0, at its time.
	for i := range 2 {
		r := storetest.Command(1000 + i)
		r.Time = recs[0].Time
		recs = append(recs, r)
	}
	return recs
}

// checkOnce checks that got holds every record of want exactly once, in
// time order.
func checkOnce(t *testing.T, got []string, want []record.Record) {
	t.Helper()
	wantPayloads := make([]string, len(want))
	for i := range want {
		wantPayloads[i] = string(appendPayload(nil, &want[i]))
	}
	seen := map[string]int{}
	var last int64
	for i, p := range got {
		seen[p]++
		var ev event
		ev.reset(1, 1, p)
		r := ev.rec()
		if r == nil {
			t.Fatalf("payload %d does not decode: %s", i, p)
		}
		if r.Time < last {
			t.Errorf("record %d at %d after one at %d: out of order", i, r.Time, last)
		}
		last = r.Time
	}
	for p, n := range seen {
		if n > 1 {
			t.Errorf("read %d times: %s", n, p)
		}
		if !slices.Contains(wantPayloads, p) {
			t.Errorf("read a record never pushed: %s", p)
		}
	}
	for _, p := range wantPayloads {
		if seen[p] == 0 {
			t.Errorf("never read: %s", p)
		}
	}
}

func TestFollowerReadsEveryRecordOnce(t *testing.T) {
	st := storetest.Start(t)
	t0 := time.Now().Add(-10 * time.Minute)
	recs := tiedRecords(t0, 60)
	st.Push(t, recs...)
	for _, pageSize := range []int{1, 2, 3, 7, 1000} {
		t.Run(fmt.Sprintf("page size %d", pageSize), func(t *testing.T) {
			f := testFollower(t, st.URL, pageSize, Cursor{Time: t0.UnixNano()})
			checkOnce(t, drain(t, f), recs)
			// Nothing new: nothing more.
			if more := drain(t, f); len(more) != 0 {
				t.Errorf("a second pass read %d records", len(more))
			}
		})
	}
}

// A reader that stops anywhere — between two records of one nanosecond
// included — and starts again from its cursor reads each record once.
func TestFollowerResumesFromCursor(t *testing.T) {
	st := storetest.Start(t)
	t0 := time.Now().Add(-10 * time.Minute)
	recs := tiedRecords(t0, 30)
	st.Push(t, recs...)
	for stop := 1; stop < 12; stop++ {
		f := testFollower(t, st.URL, 3, Cursor{Time: t0.UnixNano()})
		var got []string
		for len(got) < stop {
			p, _, err := f.fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for i := range p.events {
				got = append(got, string(p.payload(i)))
			}
		}
		// Restart from the position after the first stop records, as the
		// instance does with what it delivered.
		var c Cursor
		c.Time = t0.UnixNano()
		for _, p := range got[:stop] {
			var ev event
			ev.reset(1, 1, p)
			c.Advance(ev.rec().Time, RecordKey([]byte(p)))
		}
		g := testFollower(t, st.URL, 3, MustParse(t, MarshalCursor(c)))
		checkOnce(t, append(got[:stop:stop], drain(t, g)...), recs)
	}
}

// MustParse reads back a marshalled cursor, as a restart does from the file.
func MustParse(t *testing.T, data []byte) Cursor {
	t.Helper()
	c, err := ParseCursor(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// More records in one nanosecond than a page holds: the page grows until
// they all fit.
func TestFollowerManyInOneNanosecond(t *testing.T) {
	st := storetest.Start(t)
	ts := time.Now().Add(-time.Minute).UnixNano()
	var recs []record.Record
	for i := range 9 {
		r := storetest.Command(i)
		r.Time = ts
		recs = append(recs, r)
	}
	later := storetest.Connection(99)
	later.Time = ts + 1
	recs = append(recs, later)
	st.Push(t, recs...)
	f := testFollower(t, st.URL, 2, Cursor{Time: ts})
	checkOnce(t, drain(t, f), recs)
	if f.limit != 2 {
		t.Errorf("page size after the crowd = %d, want back to 2", f.limit)
	}
}

// The reader stays delay behind now: a record that reaches Loki late, but
// within the delay, is read in its place.
func TestFollowerDelay(t *testing.T) {
	st := storetest.Start(t)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	at := func(s int) record.Record {
		r := storetest.Command(s)
		r.Time = t0.Add(time.Duration(s) * time.Second).UnixNano()
		return r
	}
	st.Push(t, at(0), at(1), at(2), at(6))
	f := testFollower(t, st.URL, 100, Cursor{Time: t0.UnixNano()})
	f.delay = 3 * time.Second
	now := t0.Add(8 * time.Second)
	f.now = func() time.Time { return now }
	got := drain(t, f) // reads up to now-delay = 5s: records 0, 1, 2
	st.Push(t, at(4))  // late, but not later than the delay
	now = now.Add(10 * time.Second)
	got = append(got, drain(t, f)...)
	checkOnce(t, got, []record.Record{at(0), at(1), at(2), at(4), at(6)})
}

func TestPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&loki.Error{StatusCode: http.StatusBadRequest}, true},
		{fmt.Errorf("query: %w", &loki.Error{StatusCode: http.StatusUnauthorized}), true},
		{&loki.Error{StatusCode: http.StatusTooManyRequests}, false},
		{&loki.Error{StatusCode: http.StatusRequestTimeout}, false},
		{&loki.Error{StatusCode: http.StatusServiceUnavailable}, false},
		{errors.New("connection refused"), false},
	}
	for _, tt := range tests {
		if got := permanent(tt.err); got != tt.want {
			t.Errorf("permanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: time.Second, max: 5 * time.Second}
	var got []time.Duration
	for range 5 {
		got = append(got, b.next())
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}
	b.reset()
	if d := b.next(); d != time.Second {
		t.Errorf("after reset = %v", d)
	}
}
