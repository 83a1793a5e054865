package spool

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkAppend appends 600-byte entries in calls of 1 and of 100 while
// a shipper reads and acknowledges them in batches of up to 1000. It
// reports the append throughput and the write amplification: bytes
// written to disk (frames and position file) per payload byte, through
// append, read and ack.
func BenchmarkAppend(b *testing.B) {
	const size = 600
	for _, perCall := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", perCall), func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir(), MaxBytes: 256 << 20, Full: Block})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			target := make(chan uint64, 1)
			shipped := make(chan error, 1)
			go func() { shipped <- ship(s, target) }()

			es := make([][]byte, perCall)
			for i := range es {
				es[i] = entry(i, size)
			}
			b.SetBytes(int64(size * perCall))
			for b.Loop() {
				if err := s.Append(context.Background(), es...); err != nil {
					b.Fatal(err)
				}
			}
			target <- s.Stats().Appended
			if err := <-shipped; err != nil {
				b.Fatal(err)
			}
			st := s.Stats()
			b.ReportMetric(float64(st.BytesWritten)/float64(st.Acked*size), "write-amp")
		})
	}
}

// ship reads batches of up to 1000 entries and acknowledges them until it
// acknowledged as many as it is told on target.
func ship(s *Spool, target <-chan uint64) error {
	want := ^uint64(0)
	for s.Stats().Acked < want {
		select {
		case want = <-target:
		default:
		}
		batch, err := s.Read(context.Background(), 1000, 1<<30, 10*time.Millisecond)
		if err != nil {
			return err
		}
		if err := s.Ack(batch); err != nil {
			return err
		}
	}
	return nil
}
