package spool

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// entry makes entry number i, size bytes long (at least 8): the number
// then padding.
func entry(i, size int) []byte {
	b := fmt.Appendf(nil, "%08d", i)
	for len(b) < size {
		b = append(b, byte('a'+(len(b)+i)%26))
	}
	return b
}

// number returns the number of an entry made by entry.
func number(t testing.TB, e []byte) int {
	t.Helper()
	if len(e) < 8 {
		t.Fatalf("entry %q too short", e)
	}
	n, err := strconv.Atoi(string(e[:8]))
	if err != nil {
		t.Fatalf("entry %q: %v", e, err)
	}
	return n
}

func numbers(t testing.TB, es [][]byte) []int {
	t.Helper()
	ns := make([]int, len(es))
	for i, e := range es {
		ns[i] = number(t, e)
	}
	return ns
}

func seq(from, to int) []int { // [from, to)
	var ns []int
	for i := from; i < to; i++ {
		ns = append(ns, i)
	}
	return ns
}

func open(t testing.TB, o Options) *Spool {
	t.Helper()
	if o.SyncInterval == 0 {
		o.SyncInterval = -1
	}
	s, err := Open(o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// small is a spool of 1 KiB segments, 4 KiB in all.
func small(dir string) Options {
	return Options{Dir: dir, SegmentBytes: 1 << 10, MaxBytes: 4 << 10, SyncInterval: -1}
}

func appendN(t testing.TB, s *Spool, from, to, size, perCall int) {
	t.Helper()
	for i := from; i < to; i += perCall {
		var es [][]byte
		for j := i; j < min(i+perCall, to); j++ {
			es = append(es, entry(j, size))
		}
		if err := s.Append(context.Background(), es...); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

// drain reads (without waiting) and acknowledges everything.
func drain(t testing.TB, s *Spool, maxEntries, maxBytes int) [][]byte {
	t.Helper()
	var all [][]byte
	for {
		b, err := s.Read(context.Background(), maxEntries, maxBytes, 0)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(b.Entries) == 0 {
			return all
		}
		all = append(all, b.Entries...)
		if err := s.Ack(b); err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
}

// readAll reads everything without acknowledging it.
func readAll(t testing.TB, s *Spool) [][]byte {
	t.Helper()
	var all [][]byte
	for {
		b, err := s.Read(context.Background(), 1000, 1<<20, 0)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(b.Entries) == 0 {
			return all
		}
		all = append(all, b.Entries...)
	}
}

// segFiles lists the segment files of dir and their total size.
func segFiles(t testing.TB, dir string) ([]string, int64) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var size int64
	for _, de := range des {
		if _, ok := parseSegName(de.Name()); ok {
			fi, err := de.Info()
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, de.Name())
			size += fi.Size()
		}
	}
	return names, size
}

func checkDisk(t testing.TB, s *Spool) {
	t.Helper()
	st := s.Stats()
	names, size := segFiles(t, s.opts.Dir)
	if st.Segments != len(names) || st.Bytes != size {
		t.Errorf("stats say %d segments of %d bytes, the disk %d of %d", st.Segments, st.Bytes, len(names), size)
	}
}

func read(t *testing.T, s *Spool, n int) Batch {
	t.Helper()
	b, err := s.Read(context.Background(), n, 1<<20, 0)
	if err != nil || len(b.Entries) != n {
		t.Fatalf("read %d entries, %v; want %d", len(b.Entries), err, n)
	}
	return b
}
