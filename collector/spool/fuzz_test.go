package spool

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen opens a spool whose only segment (and maybe position file) is
// arbitrary bytes: Open must not fail or panic, and what Read returns
// must be good frames of the segment, in order.
func FuzzOpen(f *testing.F) {
	var good []byte
	for i := range 5 {
		good = appendFrame(good, entry(i, 20+i))
	}
	f.Add(good, []byte(nil))
	f.Add(good[:len(good)-3], encodePosition(1, 0))
	f.Add(good, encodePosition(1, int64(len(entry(0, 20)))+frameHeader))
	f.Add(append(good[:10:10], make([]byte, 64)...), []byte("garbage"))

	f.Fuzz(func(t *testing.T, seg, position []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(segPath(dir, 1), seg, 0o600); err != nil {
			t.Fatal(err)
		}
		if len(position) > 0 {
			if err := os.WriteFile(filepath.Join(dir, positionFile), position, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		o := Options{Dir: dir, SegmentBytes: 1 << 10, MaxBytes: 64 << 20, SyncInterval: -1}
		s, err := Open(o)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer s.Close()
		st := s.Stats()
		if st.Corrupt > 1 || st.CorruptBytes > uint64(len(seg)) {
			t.Fatalf("stats %+v for %d bytes", st, len(seg))
		}

		got := readAll(t, s)
		if int64(len(got)) != st.Entries {
			t.Fatalf("stats say %d entries, read %d", st.Entries, len(got))
		}
		rest := seg
		for i, e := range got {
			frame := appendFrame(nil, e)
			at := bytes.Index(rest, frame)
			if at < 0 {
				t.Fatalf("entry %d (%q) is not a frame of the segment after the previous one", i, e)
			}
			rest = rest[at+len(frame):]
		}

		// The spool goes on working.
		s.Rewind()
		if err := s.Append(context.Background(), []byte("after"), nil); err != nil {
			t.Fatal(err)
		}
		all := drain(t, s, 3, 100)
		if len(all) != len(got)+2 || string(all[len(got)]) != "after" || len(all[len(got)+1]) != 0 {
			t.Fatalf("after appending read %q", all)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s2, err := Open(o)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer s2.Close()
		if st := s2.Stats(); st.Entries != 0 || st.Corrupt != 0 {
			t.Fatalf("reopen stats %+v", st)
		}
	})
}
