package storage

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

var (
	lblA = labels("app", "a", "env", "test")
	lblB = labels("app", "b", "env", "test")
	lblC = labels("app", "c", "env", "test")
)

func ent(ts int64, line string, md ...string) stream.Entry {
	return stream.Entry{Time: ts, Line: line, Metadata: labels(md...)}
}

// fixture stores entries with ties within and across streams, in two
// calls, and returns the DB; streams a, b, c get ids 1, 2, 3.
func fixture(t *testing.T) *DB {
	t.Helper()
	db := openTest(t, t.TempDir())
	t.Cleanup(func() { db.Close() })
	mustAppend(t, db,
		stream.Stream{Labels: lblA, Entries: []stream.Entry{
			ent(10, "a1", "session", "s1", "pod", "p1", "container", "c1"),
			ent(20, "a2"),
			ent(20, "a2b", "exec_id", "e9"),
			ent(30, "a3", "exec_id", "e1", "pod", "p1", "container", "c1"),
		}},
		stream.Stream{Labels: lblB, Entries: []stream.Entry{
			ent(20, "b1"),
			ent(25, "b2", "session", "s1", "pod", "p2"),
			ent(40, "b3", "pod", "p2", "container", "c", "container_id", "abc"),
		}},
	)
	mustAppend(t, db,
		stream.Stream{Labels: lblC, Entries: []stream.Entry{ent(5, "c1"), ent(20, "c2", "session", "s2")}},
		stream.Stream{Labels: lblA, Entries: []stream.Entry{ent(20, "a2c", "session", "s1")}},
	)
	return db
}

func lines(rs []rec) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Line
	}
	return out
}

func TestScanOrderAndFilters(t *testing.T) {
	db := fixture(t)
	all := []string{"c1", "a1", "a2", "a2b", "a2c", "b1", "c2", "b2", "a3", "b3"}
	pair := func(n, v string) *stream.Label { return &stream.Label{Name: n, Value: v} }
	tests := []struct {
		name string
		q    ScanQuery
		want []string
	}{
		{"forward", ScanQuery{From: 0, Through: 100}, all},
		{"backward", ScanQuery{From: 0, Through: 100, Backward: true},
			[]string{"b3", "a3", "b2", "a2", "a2b", "a2c", "b1", "c2", "a1", "c1"}},
		{"range", ScanQuery{From: 20, Through: 30}, []string{"a2", "a2b", "a2c", "b1", "c2", "b2"}},
		{"range backward", ScanQuery{From: 20, Through: 30, Backward: true}, []string{"b2", "a2", "a2b", "a2c", "b1", "c2"}},
		{"through excludes", ScanQuery{From: 0, Through: 20}, []string{"c1", "a1"}},
		{"empty range", ScanQuery{From: 20, Through: 20}, nil},
		{"streams", ScanQuery{Streams: []uint32{1, 3}, From: 0, Through: 100}, []string{"c1", "a1", "a2", "a2b", "a2c", "c2", "a3"}},
		{"streams backward", ScanQuery{Streams: []uint32{2, 3}, From: 0, Through: 100, Backward: true}, []string{"b3", "b2", "b1", "c2", "c1"}},
		{"no streams", ScanQuery{Streams: []uint32{}, From: 0, Through: 100}, nil},
		{"unknown stream", ScanQuery{Streams: []uint32{99}, From: 0, Through: 100}, nil},
		{"indexed", ScanQuery{From: 0, Through: 100, Metadata: pair("session", "s1")}, []string{"a1", "a2c", "b2"}},
		{"indexed backward", ScanQuery{From: 0, Through: 100, Backward: true, Metadata: pair("session", "s1")}, []string{"b2", "a2c", "a1"}},
		{"indexed ties backward", ScanQuery{From: 0, Through: 100, Backward: true, Metadata: pair("exec_id", "e9")}, []string{"a2b"}},
		{"indexed range", ScanQuery{From: 11, Through: 25, Metadata: pair("session", "s1")}, []string{"a2c"}},
		{"indexed streams", ScanQuery{Streams: []uint32{2}, From: 0, Through: 100, Metadata: pair("session", "s1")}, []string{"b2"}},
		{"indexed absent value", ScanQuery{From: 0, Through: 100, Metadata: pair("session", "nope")}, nil},
		{"filtered group name", ScanQuery{From: 0, Through: 100, Metadata: pair("pod", "p1")}, []string{"a1", "a3"}},
		{"filtered group name backward", ScanQuery{From: 0, Through: 100, Backward: true, Metadata: pair("pod", "p2")}, []string{"b3", "b2"}},
		{"filtered other", ScanQuery{From: 0, Through: 100, Metadata: pair("container_id", "abc")}, []string{"b3"}},
		{"filtered unknown name", ScanQuery{From: 0, Through: 100, Metadata: pair("nothing", "x")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lines(scanAll(t, db, tt.q))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestScanHitContents(t *testing.T) {
	db := fixture(t)
	got := scanAll(t, db, ScanQuery{From: 30, Through: 41})
	want := []rec{
		{1, 30, "a3", `{container="c1", exec_id="e1", pod="p1"}`},
		{2, 40, "b3", `{container="c", container_id="abc", pod="p2"}`},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	st := db.Streams()
	if len(st) != 3 {
		t.Fatalf("Streams: %d, want 3", len(st))
	}
	wantA := StreamInfo{ID: 1, Labels: lblA, MinTime: 10, MaxTime: 30, Entries: 5, Bytes: 2 + 2 + 3 + 3 + 2}
	if a := st[0]; a.ID != wantA.ID || !a.Labels.Equal(wantA.Labels) || a.MinTime != wantA.MinTime ||
		a.MaxTime != wantA.MaxTime || a.Entries != wantA.Entries || a.Bytes != wantA.Bytes {
		t.Errorf("stream a: %+v, want %+v", a, wantA)
	}
}

func TestScanCancelAndStop(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	var es []stream.Entry
	for i := range 3000 {
		es = append(es, ent(int64(i), "line", "session", "s"))
	}
	mustAppend(t, db, stream.Stream{Labels: lblA, Entries: es})
	sess := &stream.Label{Name: "session", Value: "s"}
	tests := []struct {
		name     string
		q        ScanQuery
		cancelAt int // cancel the context at this hit; -1 before the scan
		stopAt   int // return false at this hit
		wantErr  error
		wantMax  int
	}{
		{"cancelled before", ScanQuery{Through: 1e9}, -1, 0, context.Canceled, 0},
		{"cancelled during", ScanQuery{Through: 1e9}, 10, 0, context.Canceled, 10 + 256},
		{"cancelled during backward", ScanQuery{Through: 1e9, Backward: true}, 10, 0, context.Canceled, 10 + 256},
		{"cancelled during index", ScanQuery{Through: 1e9, Metadata: sess}, 10, 0, context.Canceled, 10 + 256},
		{"stop", ScanQuery{Through: 1e9}, 0, 5, nil, 5},
		{"stop backward", ScanQuery{Through: 1e9, Backward: true}, 0, 5, nil, 5},
		{"stop index", ScanQuery{Through: 1e9, Metadata: sess}, 0, 5, nil, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelAt < 0 {
				cancel()
			}
			n := 0
			err := db.Scan(ctx, tt.q, func(Hit) bool {
				n++
				if n == tt.cancelAt {
					cancel()
				}
				return n != tt.stopAt
			})
			if !errors.Is(err, tt.wantErr) || err != nil && tt.wantErr == nil {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if n > tt.wantMax || (tt.wantErr == nil && n != tt.wantMax) {
				t.Errorf("%d hits, want at most %d", n, tt.wantMax)
			}
		})
	}
}

func TestOutOfOrderAppends(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	h := int64(time.Hour)
	base := 100 * h
	calls := [][]stream.Entry{
		{ent(base+3*h, "t3"), ent(base+3*h+1, "t3b")},
		{ent(base+h, "t1"), ent(base+5*h, "t5")},
		{ent(base+2*h+30, "t2"), ent(base-50*h, "t-50"), ent(base+h, "t1b")},
		{ent(base+4*h, "t4"), ent(base, "t0")},
	}
	for _, es := range calls {
		mustAppend(t, db, stream.Stream{Labels: lblA, Entries: es})
	}
	want := []string{"t-50", "t0", "t1", "t1b", "t2", "t3", "t3b", "t4", "t5"}
	if got := lines(scanAll(t, db, ScanQuery{From: -1 << 62, Through: 1 << 62})); !slices.Equal(got, want) {
		t.Errorf("forward %q, want %q", got, want)
	}
	slices.Reverse(want)
	want[5], want[6] = want[6], want[5] // t1 before t1b: same time, append order
	if got := lines(scanAll(t, db, ScanQuery{From: -1 << 62, Through: 1 << 62, Backward: true})); !slices.Equal(got, want) {
		t.Errorf("backward %q, want %q", got, want)
	}
	n := 0
	db.Points(base-50*h, base+5*h, func(uint32, uint32, int64, uint32) { n++ })
	if n != 8 {
		t.Errorf("Points: %d, want 8", n)
	}
}

func TestDuplicates(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	mustAppend(t, db, stream.Stream{Labels: lblA, Entries: []stream.Entry{ent(1, "x", "pod", "p", "session", "s")}})
	tests := []struct {
		name    string
		streams []stream.Stream
		want    int
	}{
		{"repeat of stored", []stream.Stream{{Labels: lblA, Entries: []stream.Entry{ent(1, "x", "pod", "p", "session", "s")}}}, 0},
		{"metadata unsorted", []stream.Stream{{Labels: lblA, Entries: []stream.Entry{{Time: 1, Line: "x", Metadata: stream.Labels{{Name: "session", Value: "s"}, {Name: "pod", Value: "p"}}}}}}, 0},
		{"labels unsorted", []stream.Stream{{Labels: stream.Labels{{Name: "env", Value: "test"}, {Name: "app", Value: "a"}}, Entries: []stream.Entry{ent(1, "x", "pod", "p", "session", "s")}}}, 0},
		{"other line", []stream.Stream{{Labels: lblA, Entries: []stream.Entry{ent(1, "y", "pod", "p", "session", "s")}}}, 1},
		{"other metadata", []stream.Stream{{Labels: lblA, Entries: []stream.Entry{ent(1, "x", "pod", "q", "session", "s")}}}, 1},
		{"no metadata", []stream.Stream{{Labels: lblA, Entries: []stream.Entry{ent(1, "x")}}}, 1},
		{"other stream", []stream.Stream{{Labels: lblB, Entries: []stream.Entry{ent(1, "x", "pod", "p", "session", "s")}}}, 1},
		{"within a call", []stream.Stream{{Labels: lblA, Entries: []stream.Entry{ent(2, "z"), ent(2, "z"), ent(2, "z2"), ent(2, "z")}}}, 2},
		{"across streams of a call", []stream.Stream{
			{Labels: lblC, Entries: []stream.Entry{ent(3, "w")}},
			{Labels: lblC, Entries: []stream.Entry{ent(3, "w"), ent(3, "w2")}},
		}, 2},
		{"older than newest", []stream.Stream{{Labels: lblA, Entries: []stream.Entry{ent(0, "old"), ent(2, "z2")}}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustAppend(t, db, tt.streams...); got != tt.want {
				t.Errorf("stored %d, want %d", got, tt.want)
			}
		})
	}
	before := scanAll(t, db, ScanQuery{From: -10, Through: 10})
	if got, want := db.Stats().Duplicates, int64(3+2+1+1); got != want {
		t.Errorf("Stats.Duplicates = %d, want %d", got, want)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	defer db.Close()
	for _, tt := range tests {
		if got := mustAppend(t, db, tt.streams...); got != 0 {
			t.Errorf("after reopen, %s: stored %d, want 0", tt.name, got)
		}
	}
	// A new entry at a time with several stored ones gets the next sequence.
	mustAppend(t, db, stream.Stream{Labels: lblA, Entries: []stream.Entry{ent(2, "z3")}})
	after := scanAll(t, db, ScanQuery{From: -10, Through: 10})
	if len(after) != len(before)+1 {
		t.Errorf("after reopen: %q", lines(after))
	}
	if got := lines(scanAll(t, db, ScanQuery{Streams: []uint32{1}, From: 2, Through: 3})); !slices.Equal(got, []string{"z", "z2", "z3"}) {
		t.Errorf("ties of stream a at 2: %q", got)
	}
}

// pointsOf collects the point index as sorted strings.
func pointsOf(db *DB) []string {
	var out []string
	db.Points(-1<<63, 1<<63-1, func(s, g uint32, ts int64, n uint32) {
		out = append(out, strings.Join([]string{
			time.Unix(0, ts).UTC().Format(time.RFC3339Nano), db.view.Load().streams[s].String(), db.Group(g).String(), strconv.Itoa(int(n)),
		}, " "))
	})
	slices.Sort(out)
	return out
}

func TestReopenRebuilds(t *testing.T) {
	tests := []struct {
		name   string
		reopen Options
	}{
		{"same settings", testMeta},
		{"other group names", Options{IndexedMetadata: testMeta.IndexedMetadata, GroupMetadata: []string{"pod"}}},
		{"other indexed names", Options{IndexedMetadata: []string{"pod", "exec_id"}, GroupMetadata: testMeta.GroupMetadata}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := openTest(t, dir)
			g := newGen(7)
			start := datasetStart
			for i := range 4 {
				step := int64(time.Second)
				if i == 2 {
					start -= 3000 * step // out of order, across hours
				}
				mustAppend(t, db, g.batch(start, step, 700)...)
				start += 700 * step
			}
			wantStreams := db.Streams()
			wantPoints := pointsOf(db)
			wantScan := scanAll(t, db, ScanQuery{From: -1 << 62, Through: 1 << 62})
			pod := wantScan[100].Meta
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			o := tt.reopen
			o.Dir = dir
			db, err := Open(o)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := db.Streams(); !slices.EqualFunc(got, wantStreams, func(a, b StreamInfo) bool {
				return a.ID == b.ID && a.Labels.Equal(b.Labels) && a.MinTime == b.MinTime && a.MaxTime == b.MaxTime && a.Entries == b.Entries && a.Bytes == b.Bytes
			}) {
				t.Errorf("Streams differ after reopen:\n%+v\nwant\n%+v", got, wantStreams)
			}
			gotPoints := pointsOf(db)
			if len(o.GroupMetadata) == 1 {
				for i, p := range wantPoints { // only the pod stays in the group
					f := strings.SplitN(p, " {", 3)
					wantPoints[i] = f[0] + " {" + f[1] + " {pod=" + strings.SplitN(f[2], "pod=", 2)[1]
				}
				slices.Sort(wantPoints)
			}
			if !slices.Equal(gotPoints, wantPoints) {
				t.Errorf("Points differ after reopen: %d vs %d; first %q vs %q", len(gotPoints), len(wantPoints), gotPoints[0], wantPoints[0])
			}
			if got := scanAll(t, db, ScanQuery{From: -1 << 62, Through: 1 << 62}); !slices.Equal(got, wantScan) {
				t.Errorf("Scan differs after reopen")
			}
			// Every metadata filter agrees with filtering the full scan,
			// whether served by the index or not.
			var md stream.Labels
			for _, part := range strings.Split(strings.Trim(pod, "{}"), ", ") {
				kv := strings.SplitN(part, "=", 2)
				md = append(md, stream.Label{Name: kv[0], Value: strings.Trim(kv[1], `"`)})
			}
			for _, l := range md {
				var want []rec
				for _, r := range wantScan {
					if strings.Contains(r.Meta, l.Name+`="`+l.Value+`"`) {
						want = append(want, r)
					}
				}
				got := scanAll(t, db, ScanQuery{From: -1 << 62, Through: 1 << 62, Metadata: &l})
				if !slices.Equal(got, want) {
					t.Errorf("filter %s: %d hits, want %d", l, len(got), len(want))
				}
			}
		})
	}
}

func TestUseAfterClose(t *testing.T) {
	db := openTest(t, t.TempDir())
	mustAppend(t, db, stream.Stream{Labels: lblA, Entries: []stream.Entry{ent(1, "x")}})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := db.Append([]stream.Stream{{Labels: lblA, Entries: []stream.Entry{ent(2, "y")}}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if err := db.Scan(context.Background(), ScanQuery{Through: 10}, func(Hit) bool { return true }); !errors.Is(err, ErrClosed) {
		t.Errorf("Scan after Close: %v", err)
	}
	if _, err := db.Enforce(time.Now()); !errors.Is(err, ErrClosed) {
		t.Errorf("Enforce after Close: %v", err)
	}
	if st := db.Stats(); st.Entries != 1 {
		t.Errorf("Stats after Close: %+v", st)
	}
}
