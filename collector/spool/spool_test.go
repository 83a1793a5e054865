package spool

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestParseFullPolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    FullPolicy
		wantErr bool
	}{
		{"", DropOldest, false},
		{"drop-oldest", DropOldest, false},
		{"drop-newest", DropNewest, false},
		{"block", Block, false},
		{"Block", "", true},
		{"drop", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFullPolicy(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseFullPolicy(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil {
				for _, p := range Policies {
					if !bytes.Contains([]byte(err.Error()), []byte(p)) {
						t.Errorf("error %q does not name %q", err, p)
					}
				}
			}
		})
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string // substring; "" for success
		want    Options
	}{
		{name: "defaults", opts: Options{Dir: "d"},
			want: Options{Dir: "d", MaxBytes: 1 << 30, SegmentBytes: 16 << 20, Full: DropOldest, SyncInterval: time.Second}},
		{name: "segment clamped to a quarter", opts: Options{Dir: "d", MaxBytes: 8 << 20},
			want: Options{Dir: "d", MaxBytes: 8 << 20, SegmentBytes: 2 << 20, Full: DropOldest, SyncInterval: time.Second}},
		{name: "explicit", opts: Options{Dir: "d", MaxBytes: 4 << 10, SegmentBytes: 1 << 10, Full: Block, SyncInterval: -1},
			want: Options{Dir: "d", MaxBytes: 4 << 10, SegmentBytes: 1 << 10, Full: Block, SyncInterval: -1}},
		{name: "no dir", opts: Options{}, wantErr: "no dir"},
		{name: "negative max", opts: Options{Dir: "d", MaxBytes: -1}, wantErr: "negative max bytes"},
		{name: "max too small", opts: Options{Dir: "d", MaxBytes: 100}, wantErr: "below the minimum"},
		{name: "negative segment", opts: Options{Dir: "d", SegmentBytes: -1}, wantErr: "negative segment bytes"},
		{name: "segment too small", opts: Options{Dir: "d", SegmentBytes: 10}, wantErr: "below the minimum"},
		{name: "segment above a quarter", opts: Options{Dir: "d", MaxBytes: 8 << 20, SegmentBytes: 4 << 20}, wantErr: "above a quarter"},
		{name: "bad policy", opts: Options{Dir: "d", Full: "drop-all"}, wantErr: "not one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.opts.withDefaults()
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.wantErr)) || !errors.Is(err, errOptions) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
			if tt.opts.Dir != "" {
				tt.opts.Dir = filepath.Join(t.TempDir(), "spool")
			}
			if _, err := Open(tt.opts); err == nil {
				t.Fatal("Open succeeded")
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name        string
		n, size     int
		perAppend   int
		maxEntries  int
		maxBytes    int
		minSegments int // seen before draining
	}{
		{name: "one segment", n: 5, size: 100, perAppend: 1, maxEntries: 2, maxBytes: 1 << 20, minSegments: 1},
		{name: "across segments one by one", n: 200, size: 100, perAppend: 1, maxEntries: 7, maxBytes: 1 << 20, minSegments: 10},
		{name: "across segments in big appends", n: 300, size: 50, perAppend: 64, maxEntries: 1000, maxBytes: 1 << 20, minSegments: 10},
		{name: "batches bounded by bytes", n: 100, size: 120, perAppend: 10, maxEntries: 1000, maxBytes: 500, minSegments: 5},
		{name: "entries of a whole segment", n: 10, size: 1<<10 - frameHeader, perAppend: 3, maxEntries: 1, maxBytes: 1, minSegments: 10},
		{name: "empty entries", n: 50, size: 0, perAppend: 5, maxEntries: 10, maxBytes: 100, minSegments: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Dir: t.TempDir(), SegmentBytes: 1 << 10, MaxBytes: 1 << 20}
			s := open(t, o)
			var want [][]byte
			for i := 0; i < tt.n; i += tt.perAppend {
				var es [][]byte
				for j := i; j < min(i+tt.perAppend, tt.n); j++ {
					e := entry(j, tt.size)[:tt.size]
					es = append(es, e)
					want = append(want, e)
				}
				if err := s.Append(context.Background(), es...); err != nil {
					t.Fatal(err)
				}
			}
			st := s.Stats()
			if st.Entries != int64(tt.n) || st.Appended != uint64(tt.n) || st.Segments < tt.minSegments {
				t.Fatalf("after append: %+v", st)
			}
			checkDisk(t, s)
			var got [][]byte
			for {
				b, err := s.Read(context.Background(), tt.maxEntries, tt.maxBytes, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(b.Entries) == 0 {
					break
				}
				size := 0
				for _, e := range b.Entries {
					size += len(e)
				}
				if len(b.Entries) > tt.maxEntries || len(b.Entries) > 1 && size > tt.maxBytes {
					t.Fatalf("batch of %d entries, %d bytes; limits %d, %d", len(b.Entries), size, tt.maxEntries, tt.maxBytes)
				}
				got = append(got, b.Entries...)
				if err := s.Ack(b); err != nil {
					t.Fatal(err)
				}
				checkDisk(t, s)
			}
			if !slices.EqualFunc(got, want, bytes.Equal) {
				t.Fatalf("read %d entries, want %d, or in another order", len(got), len(want))
			}
			st = s.Stats()
			if st.Entries != 0 || st.Acked != uint64(tt.n) || st.Segments != 1 {
				t.Fatalf("after ack: %+v", st)
			}
			checkDisk(t, s)
		})
	}
}

func TestReadWaits(t *testing.T) {
	s := open(t, small(t.TempDir()))
	ctx := context.Background()

	b, err := s.Read(ctx, 10, 1000, time.Millisecond)
	if err != nil || len(b.Entries) != 0 {
		t.Fatalf("read of an empty spool with a wait: %d entries, %v", len(b.Entries), err)
	}

	got := make(chan Batch)
	go func() {
		b, err := s.Read(ctx, 10, 1000, time.Hour)
		if err != nil {
			t.Error(err)
		}
		got <- b
	}()
	appendN(t, s, 0, 3, 100, 3)
	if b := <-got; !slices.Equal(numbers(t, b.Entries), []int{0, 1, 2}) {
		t.Fatalf("read %v", numbers(t, b.Entries))
	}

	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error)
	go func() {
		_, err := s.Read(cctx, 10, 1000, time.Hour)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("read with a cancelled context: %v", err)
	}

	go func() {
		_, err := s.Read(ctx, 10, 1000, time.Hour)
		errc <- err
	}()
	s.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("read during close: %v", err)
	}
}

func TestAckOrder(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, s *Spool) error
	}{
		{"out of order", func(t *testing.T, s *Spool) error {
			_ = read(t, s, 2)
			b2 := read(t, s, 2)
			return s.Ack(b2)
		}},
		{"twice", func(t *testing.T, s *Spool) error {
			b1 := read(t, s, 2)
			if err := s.Ack(b1); err != nil {
				t.Fatal(err)
			}
			return s.Ack(b1)
		}},
		{"read before rewind", func(t *testing.T, s *Spool) error {
			b1 := read(t, s, 2)
			s.Rewind()
			return s.Ack(b1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, small(t.TempDir()))
			appendN(t, s, 0, 10, 50, 1)
			if err := tt.run(t, s); !errors.Is(err, errOrder) {
				t.Fatalf("ack: %v, want an order error", err)
			}
			if st := s.Stats(); st.Acked != 0 && tt.name != "twice" || st.Acked > 2 {
				t.Fatalf("acked %d", st.Acked)
			}
		})
	}
	t.Run("empty batch", func(t *testing.T) {
		s := open(t, small(t.TempDir()))
		if err := s.Ack(Batch{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("rewind then read again", func(t *testing.T) {
		s := open(t, small(t.TempDir()))
		appendN(t, s, 0, 6, 50, 1)
		b := read(t, s, 2)
		if err := s.Ack(b); err != nil {
			t.Fatal(err)
		}
		_ = read(t, s, 2)
		s.Rewind()
		if got := numbers(t, drain(t, s, 3, 1<<20)); !slices.Equal(got, seq(2, 6)) {
			t.Fatalf("after rewind read %v", got)
		}
	})
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(small(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(small(dir)); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(small(dir))
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	s2.Close()
}

func TestClosed(t *testing.T) {
	s := open(t, small(t.TempDir()))
	appendN(t, s, 0, 3, 10, 1)
	b := read(t, s, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(context.Background(), entry(9, 10)); !errors.Is(err, ErrClosed) {
		t.Errorf("append: %v", err)
	}
	if _, err := s.Read(context.Background(), 1, 1, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("read: %v", err)
	}
	if err := s.Ack(b); !errors.Is(err, ErrClosed) {
		t.Errorf("ack: %v", err)
	}
	if st := s.Stats(); st.Entries != 3 {
		t.Errorf("stats %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}
