package storage

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

func TestEnforceRetention(t *testing.T) {
	h := int64(time.Hour)
	tests := []struct {
		name      string
		now       int64
		retention time.Duration
	}{
		{"keep forever", datasetStart + 10*h, 0},
		{"cutoff inside a bucket", datasetStart + 10*h + 17*int64(time.Minute), 2 * time.Hour},
		{"cutoff on a bucket boundary", datasetStart + 10*h, 2 * time.Hour},
		{"nothing old enough", datasetStart + 10*h, 24 * time.Hour},
		{"everything", datasetStart + 10*h, time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			o := testMeta
			o.Dir, o.Retention = dir, tt.retention
			db, err := Open(o)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { db.Close() }()
			now := tt.now
			// Around the cutoff, in two buckets and three streams; b only old.
			aTimes := []int64{now - 5*h, now - 2*h - 1, now - 2*h, now - 2*h + 1, now - 90*int64(time.Minute), now - 1}
			var as []stream.Entry
			for i, ts := range aTimes {
				as = append(as, ent(ts, "a"+string(rune('0'+i)), "session", "s", "pod", "p"))
			}
			mustAppend(t, db,
				stream.Stream{Labels: lblA, Entries: as},
				stream.Stream{Labels: lblB, Entries: []stream.Entry{ent(now-3*h, "b0", "session", "s")}},
				stream.Stream{Labels: lblC, Entries: []stream.Entry{ent(now-2*h-5, "c0"), ent(now-30*int64(time.Minute), "c1")}},
			)
			all := scanAll(t, db, ScanQuery{From: 0, Through: 1 << 62})
			cutoff := now - int64(tt.retention)
			var want []rec
			for _, r := range all {
				if tt.retention == 0 || r.Time >= cutoff {
					want = append(want, r)
				}
			}
			st, err := db.Enforce(time.Unix(0, now))
			if err != nil {
				t.Fatal(err)
			}
			if d := int64(len(all) - len(want)); st.RetentionDeleted != d || st.DiskCapDeleted != 0 {
				t.Errorf("Enforce = %+v, want %d deleted for retention", st, d)
			}
			check := func(db *DB, when string) {
				if got := scanAll(t, db, ScanQuery{From: 0, Through: 1 << 62}); !slices.Equal(got, want) {
					t.Errorf("%s: Scan %q, want %q", when, lines(got), lines(want))
				}
				if got := scanAll(t, db, ScanQuery{From: 0, Through: 1 << 62, Backward: true}); len(got) != len(want) {
					t.Errorf("%s: backward Scan %d hits, want %d", when, len(got), len(want))
				}
				var wantSess []string
				for _, r := range want {
					if r.Stream != 3 {
						wantSess = append(wantSess, r.Line)
					}
				}
				if got := lines(scanAll(t, db, ScanQuery{From: 0, Through: 1 << 62, Metadata: &stream.Label{Name: "session", Value: "s"}})); !slices.Equal(got, wantSess) {
					t.Errorf("%s: session Scan %q, want %q", when, got, wantSess)
				}
				n := 0
				db.Points(0, 1<<62, func(uint32, uint32, int64, uint32) { n++ })
				if n != len(want) || db.Stats().Entries != int64(len(want)) {
					t.Errorf("%s: %d points, %d entries, want %d", when, n, db.Stats().Entries, len(want))
				}
				streams := map[uint32]StreamInfo{}
				for _, s := range db.Streams() {
					streams[s.ID] = s
				}
				wantStreams := map[uint32]StreamInfo{}
				for _, r := range want {
					s := wantStreams[r.Stream]
					if s.Entries == 0 {
						s.MinTime = r.Time
					}
					s.ID, s.Entries, s.MaxTime, s.Bytes = r.Stream, s.Entries+1, r.Time, s.Bytes+int64(len(r.Line))
					wantStreams[r.Stream] = s
				}
				for id, w := range wantStreams {
					g := streams[id]
					if g.Entries != w.Entries || g.MinTime != w.MinTime || g.MaxTime != w.MaxTime || g.Bytes != w.Bytes {
						t.Errorf("%s: stream %d = %+v, want %+v", when, id, g, w)
					}
				}
				if len(streams) != len(wantStreams) {
					t.Errorf("%s: %d streams, want %d", when, len(streams), len(wantStreams))
				}
			}
			check(db, "after Enforce")
			if got := db.Stats().RetentionDeleted; got != st.RetentionDeleted {
				t.Errorf("Stats.RetentionDeleted = %d, want %d", got, st.RetentionDeleted)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if db, err = Open(o); err != nil {
				t.Fatal(err)
			}
			check(db, "after reopen")
			// A deleted entry's index key may outlive it: a new entry at
			// its place must not show up under the old session.
			if tt.retention != 0 && tt.retention < 3*time.Hour {
				mustAppend(t, db, stream.Stream{Labels: lblA, Entries: []stream.Entry{ent(now-2*h-1, "new", "session", "other")}})
				if got := lines(scanAll(t, db, ScanQuery{From: 0, Through: 1 << 62, Metadata: &stream.Label{Name: "session", Value: "s"}})); slices.Contains(got, "new") {
					t.Errorf("stale index key: session s finds %q", got)
				}
			}
		})
	}
}

func TestEnforceDiskCap(t *testing.T) {
	const limit = 256 << 10
	o := testMeta
	o.Dir, o.MaxDiskBytes = t.TempDir(), limit
	db, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := newGen(3)
	var times []int64
	start := datasetStart
	for range 16 {
		batch := g.batch(start, int64(time.Second), 500)
		start += 500 * int64(time.Second)
		for _, s := range batch {
			for _, e := range s.Entries {
				times = append(times, e.Time)
			}
		}
		mustAppend(t, db, batch...)
	}
	if err := db.compactAll(); err != nil {
		t.Fatal(err)
	}
	used := db.Stats().DiskBytes
	if used <= limit {
		t.Fatalf("filled only %d bytes, cap %d", used, limit)
	}
	st, err := db.Enforce(time.Unix(0, start))
	if err != nil {
		t.Fatal(err)
	}
	stats := db.Stats()
	t.Logf("%d entries in %d bytes; Enforce deleted %d, leaving %d in %d bytes", len(times), used, st.DiskCapDeleted, stats.Entries, stats.DiskBytes)
	if st.DiskCapDeleted == 0 || st.RetentionDeleted != 0 || stats.DiskCapDeleted != st.DiskCapDeleted {
		t.Errorf("Enforce = %+v, Stats = %+v", st, stats)
	}
	if stats.DiskBytes > limit {
		t.Errorf("uses %d bytes after Enforce, cap %d", stats.DiskBytes, limit)
	}
	if stats.Entries+st.DiskCapDeleted != int64(len(times)) {
		t.Errorf("%d entries + %d deleted, appended %d", stats.Entries, st.DiskCapDeleted, len(times))
	}
	slices.Sort(times)
	var got []int64
	for _, r := range scanAll(t, db, ScanQuery{From: 0, Through: 1 << 62}) {
		got = append(got, r.Time)
	}
	if want := times[len(times)-len(got):]; !slices.Equal(got, want) {
		t.Errorf("survivors are not the newest %d entries", len(got))
	}
	if st, err := db.Enforce(time.Unix(0, start)); err != nil || st.DiskCapDeleted != 0 {
		t.Errorf("second Enforce = %+v, %v; want nothing deleted", st, err)
	}
}

func TestRunEnforces(t *testing.T) {
	o := testMeta
	o.Dir, o.Retention, o.EnforceInterval = t.TempDir(), time.Hour, 5*time.Millisecond
	db, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.Run(ctx) }()
	old := time.Now().Add(-2 * time.Hour).UnixNano()
	mustAppend(t, db, stream.Stream{Labels: lblA, Entries: []stream.Entry{ent(old, "old"), ent(time.Now().UnixNano(), "new")}})
	deadline := time.Now().Add(20 * time.Second)
	for db.Stats().RetentionDeleted == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if st := db.Stats(); st.RetentionDeleted != 1 || st.Entries != 1 {
		t.Errorf("Stats = %+v, want 1 deleted and 1 left", st)
	}
}

// TestEnforceDropsStaleIndexKeys empties a bucket by partial deletions,
// which leave its index keys, and checks that a later deletion drops them.
func TestEnforceDropsStaleIndexKeys(t *testing.T) {
	o := testMeta
	o.Dir, o.Retention = t.TempDir(), time.Hour
	db, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := int64(time.Hour)
	base := datasetStart + 5*h
	mustAppend(t, db, stream.Stream{Labels: lblA, Entries: []stream.Entry{
		ent(base+10, "a", "session", "s"), ent(base+20, "b", "session", "s"), ent(base+3*h, "c", "session", "s"),
	}})
	indexKeys := func() int {
		it, err := db.pdb.NewIter(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		it.SetBounds([]byte{prefixIndex}, []byte{prefixIndex + 1})
		n := 0
		for ok := it.First(); ok; ok = it.Next() {
			n++
		}
		return n
	}
	steps := []struct {
		now       int64
		deleted   int64
		indexKeys int
	}{
		{base + h + 15, 1, 3},  // partial: index key of "a" stays
		{base + h + 30, 1, 3},  // bucket emptied; "b"'s key stays too
		{base + 2*h + 5, 0, 1}, // the cutoff's next bucket: drops them
		{base + 3*h + 30, 0, 1},
		{base + 4*h + 30, 1, 1}, // deletes "c", drops every older bucket
		{base + 5*h + 30, 0, 0}, // drops "c"'s bucket
	}
	for i, s := range steps {
		st, err := db.Enforce(time.Unix(0, s.now))
		if err != nil {
			t.Fatal(err)
		}
		if st.RetentionDeleted != s.deleted || indexKeys() != s.indexKeys {
			t.Errorf("step %d: deleted %d, %d index keys; want %d, %d", i, st.RetentionDeleted, indexKeys(), s.deleted, s.indexKeys)
		}
	}
}
