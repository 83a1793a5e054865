package spool

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestFullDropOldest(t *testing.T) {
	tests := []struct {
		name      string
		perAppend int
		readFirst int // entries read (not acked) before filling
		ackFirst  int // of which acked
	}{
		{name: "one by one", perAppend: 1},
		{name: "in batches", perAppend: 25},
		{name: "with a batch read while evicted", perAppend: 5, readFirst: 20, ackFirst: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 300
			o := small(t.TempDir())
			s := open(t, o)
			var pending Batch
			if tt.readFirst > 0 {
				appendN(t, s, 0, tt.readFirst, 100, tt.perAppend)
				if tt.ackFirst > 0 {
					if err := s.Ack(read(t, s, tt.ackFirst)); err != nil {
						t.Fatal(err)
					}
				}
				pending = read(t, s, tt.readFirst-tt.ackFirst)
			}
			for i := tt.readFirst; i < n; i += tt.perAppend {
				appendN(t, s, i, min(i+tt.perAppend, n), 100, tt.perAppend)
				if st := s.Stats(); st.Bytes > o.MaxBytes {
					t.Fatalf("%d bytes on disk, bound %d", st.Bytes, o.MaxBytes)
				}
				checkDisk(t, s)
			}
			// The batch read before the eviction can still be acknowledged.
			if err := s.Ack(pending); err != nil {
				t.Fatalf("ack of an evicted batch: %v", err)
			}
			st := s.Stats()
			if st.DroppedFull == 0 || st.Appended != n || uint64(st.Entries)+st.DroppedFull+uint64(tt.ackFirst) != n {
				t.Fatalf("stats %+v", st)
			}
			got := numbers(t, drain(t, s, 50, 1<<20))
			if want := seq(n-int(st.Entries), n); !slices.Equal(got, want) {
				t.Fatalf("kept %v, want %v", got, want)
			}
		})
	}
}

func TestFullDropNewest(t *testing.T) {
	tests := []struct {
		name      string
		perAppend int
	}{
		{name: "one by one", perAppend: 1},
		{name: "in batches", perAppend: 25},
		{name: "all at once", perAppend: 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 300
			o := small(t.TempDir())
			o.Full = DropNewest
			s := open(t, o)
			refused := 0
			for i := 0; i < n; i += tt.perAppend {
				var es [][]byte
				for j := i; j < min(i+tt.perAppend, n); j++ {
					es = append(es, entry(j, 100))
				}
				before := s.Stats().DroppedFull
				err := s.Append(context.Background(), es...)
				dropped := int(s.Stats().DroppedFull - before)
				if (err != nil) != (dropped > 0) || err != nil && !errors.Is(err, ErrFull) {
					t.Fatalf("append %d: %v, %d dropped", i, err, dropped)
				}
				refused += dropped
			}
			st := s.Stats()
			if refused == 0 || st.DroppedFull != uint64(refused) || st.Appended+st.DroppedFull != n || st.Bytes > o.MaxBytes {
				t.Fatalf("stats %+v, %d refused", st, refused)
			}
			if got := numbers(t, drain(t, s, 50, 1<<20)); !slices.Equal(got, seq(0, int(st.Appended))) {
				t.Fatalf("kept %v", got)
			}
			// Once acknowledged, there is room again.
			if err := s.Append(context.Background(), entry(n, 100)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// fillBlocking appends until the spool has no room (found with a
// cancelled context, which Block honours only when it has to wait) and
// returns how many entries went in.
func fillBlocking(t *testing.T, s *Spool) int {
	t.Helper()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; ; i++ {
		err := s.Append(cancelled, entry(i, 100))
		if errors.Is(err, context.Canceled) {
			return i
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestFullBlock(t *testing.T) {
	o := small("")
	o.Full = Block

	t.Run("waits for an ack", func(t *testing.T) {
		o.Dir = t.TempDir()
		s := open(t, o)
		n := fillBlocking(t, s)
		if st := s.Stats(); st.DroppedFull != 0 || st.Appended != uint64(n) || st.Bytes > o.MaxBytes {
			t.Fatalf("stats %+v", st)
		}
		done := make(chan error)
		go func() { done <- s.Append(context.Background(), entry(n, 100), entry(n+1, 100)) }()
		select {
		case err := <-done:
			t.Fatalf("append into a full spool returned %v", err)
		default:
		}
		// Acknowledge less than a segment: no room yet.
		if err := s.Ack(read(t, s, 3)); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			t.Fatalf("append returned %v with no segment freed", err)
		default:
		}
		if err := s.Ack(read(t, s, 20)); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := numbers(t, drain(t, s, 100, 1<<20)); !slices.Equal(got, seq(23, n+2)) {
			t.Fatalf("read %v", got)
		}
		if st := s.Stats(); st.DroppedFull != 0 || st.Appended != uint64(n+2) {
			t.Fatalf("stats %+v", st)
		}
	})

	t.Run("honours ctx", func(t *testing.T) {
		o.Dir = t.TempDir()
		s := open(t, o)
		n := fillBlocking(t, s)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Append(ctx, entry(n, 100)) }()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("append: %v", err)
		}
		if st := s.Stats(); st.Appended != uint64(n) || st.DroppedFull != 0 {
			t.Fatalf("stats %+v", st)
		}
	})

	t.Run("close wakes it", func(t *testing.T) {
		o.Dir = t.TempDir()
		s := open(t, o)
		n := fillBlocking(t, s)
		done := make(chan error)
		go func() { done <- s.Append(context.Background(), entry(n, 100)) }()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Fatalf("append: %v", err)
		}
	})
}

func TestTooLarge(t *testing.T) {
	s := open(t, small(t.TempDir()))
	err := s.Append(context.Background(), entry(0, 10), entry(1, 1<<10-frameHeader+1), entry(2, 1<<10-frameHeader))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("append: %v", err)
	}
	if st := s.Stats(); st.Rejected != 1 || st.Appended != 2 {
		t.Fatalf("stats %+v", st)
	}
	if got := numbers(t, drain(t, s, 10, 1<<20)); !slices.Equal(got, []int{0, 2}) {
		t.Fatalf("read %v", got)
	}
}

// TestConcurrent appends from several goroutines while the reader reads
// and acknowledges: every entry arrives once, each writer's in order.
func TestConcurrent(t *testing.T) {
	tests := []struct {
		name string
		full FullPolicy
	}{
		{"block", Block},
		{"drop-oldest", DropOldest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const writers, per = 4, 500
			o := Options{Dir: t.TempDir(), SegmentBytes: 4 << 10, MaxBytes: 16 << 10, Full: tt.full, SyncInterval: time.Millisecond}
			s := open(t, o)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := 0; i < per; i += 5 {
						var es [][]byte
						for j := i; j < i+5; j++ {
							es = append(es, entry(w*per+j, 80))
						}
						if err := s.Append(context.Background(), es...); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			appended := make(chan struct{})
			go func() { wg.Wait(); close(appended) }()

			last := make([]int, writers)
			for i := range last {
				last[i] = -1
			}
			seen := 0
			for {
				b, err := s.Read(context.Background(), 50, 4000, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(b.Entries) == 0 {
					select {
					case <-appended:
						if s.Stats().Entries == 0 {
							goto done
						}
					default:
					}
					if b, err = s.Read(context.Background(), 50, 4000, time.Millisecond); err != nil {
						t.Fatal(err)
					}
				}
				for _, e := range b.Entries {
					n := number(t, e)
					w := n / per
					if n <= last[w] {
						t.Fatalf("writer %d: %d after %d", w, n, last[w])
					}
					if tt.full == Block && n != last[w]+1 && n%per != 0 {
						t.Fatalf("writer %d: %d after %d", w, n, last[w])
					}
					last[w] = n
					seen++
				}
				if err := s.Ack(b); err != nil {
					t.Fatal(err)
				}
			}
		done:
			// Under drop-oldest, entries read then evicted before their ack
			// count as dropped, not acked.
			st := s.Stats()
			if uint64(seen) < st.Acked || seen > writers*per || st.Acked+st.DroppedFull != writers*per || st.Appended != writers*per {
				t.Fatalf("saw %d, stats %+v", seen, st)
			}
			if tt.full == Block && seen != writers*per {
				t.Fatalf("saw %d of %d", seen, writers*per)
			}
		})
	}
}
