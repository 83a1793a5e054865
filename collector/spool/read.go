package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// Batch is a run of entries handed out by Read, to be acknowledged with
// Ack once delivered.
type Batch struct {
	Entries [][]byte
	end     pos    // position after the batch
	id      uint64 // 1, 2, ... in read order; 0 for an empty batch
	epoch   uint64 // the Rewind count when it was read
}

// errOrder is wrapped by Ack's errors for batches acknowledged out of
// order or read before a Rewind.
var errOrder = errors.New("batch out of order")

// readChunkMax bounds one read(2) of a batch.
const readChunkMax = 64 << 20

// Read returns the entries after those already handed out (not after the
// acknowledged ones): at most maxEntries, of at most maxBytes of payload
// in total, but at least one entry however big. It waits until there is
// at least one, ctx is done, or wait elapsed (then it returns an empty
// batch and no error; wait <= 0 does not wait). One reader only. The
// entries' bytes are the caller's: they stay valid after Ack.
func (s *Spool) Read(ctx context.Context, maxEntries, maxBytes int, wait time.Duration) (Batch, error) {
	maxEntries = max(maxEntries, 1)
	s.rmu.Lock()
	defer s.rmu.Unlock()
	var timeout <-chan time.Time
	for {
		b, more, err := s.readSome(maxEntries, maxBytes)
		if err != nil || len(b.Entries) > 0 {
			return b, err
		}
		if ctx.Err() != nil {
			return Batch{}, fmt.Errorf("read spool: %w", context.Cause(ctx))
		}
		if wait <= 0 {
			return Batch{}, nil
		}
		if timeout == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-more:
		case <-ctx.Done():
			return Batch{}, fmt.Errorf("read spool: %w", context.Cause(ctx))
		case <-timeout:
			return Batch{}, nil
		case <-s.closing:
			return Batch{}, fmt.Errorf("read spool: %w", ErrClosed)
		}
	}
}

// readSome reads what is available now, without waiting; with no entry it
// returns a channel closed at the next append. The caller holds rmu.
func (s *Spool) readSome(maxEntries, maxBytes int) (Batch, <-chan struct{}, error) {
	var b Batch
	nbytes := 0
	for len(b.Entries) < maxEntries && (len(b.Entries) == 0 || nbytes < maxBytes) {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return Batch{}, nil, fmt.Errorf("read spool: %w", ErrClosed)
		}
		s.normalizeRead()
		seg := s.segs[s.segIndex(s.read.seq)]
		from := s.read
		if from.off >= seg.size {
			var more chan struct{}
			if len(b.Entries) == 0 {
				if s.dataWait == nil {
					s.dataWait = make(chan struct{})
				}
				more = s.dataWait
			}
			s.mu.Unlock()
			return s.finish(b), more, nil
		}
		s.mu.Unlock()

		c, err := s.readChunk(from, seg, maxEntries-len(b.Entries), maxBytes-nbytes, len(b.Entries) == 0)

		s.mu.Lock()
		if from.seq < s.segs[0].seq {
			// Evicted (DropOldest) while we read: start again from the
			// oldest entry left.
			s.mu.Unlock()
			b, nbytes = Batch{}, 0
			continue
		}
		if err != nil {
			s.mu.Unlock()
			return Batch{}, nil, err
		}
		if c.bad > 0 {
			s.st.Corrupt++
			s.st.CorruptBytes += uint64(c.bad)
		}
		s.read = c.next
		s.mu.Unlock()
		if len(c.entries) == 0 && c.bad == 0 {
			break // the next entry would exceed maxBytes
		}
		b.end = c.next
		for _, e := range c.entries {
			nbytes += len(e)
		}
		b.Entries = append(b.Entries, c.entries...)
	}
	return s.finish(b), nil, nil
}

// finish numbers a batch with entries; the caller holds rmu.
func (s *Spool) finish(b Batch) Batch {
	if len(b.Entries) == 0 {
		return Batch{}
	}
	b.id, b.epoch = s.nextID, s.epoch
	s.nextID++
	return b
}

// normalizeRead moves the read position to an existing segment, past the
// end of segments that will not grow; the caller holds mu.
func (s *Spool) normalizeRead() {
	if s.read.less(s.ack) {
		s.read = s.ack
	}
	for {
		i := s.segIndex(s.read.seq)
		if s.segs[i].seq != s.read.seq {
			s.read = pos{seq: s.segs[i].seq}
		}
		if s.read.off < s.segs[i].size || i == len(s.segs)-1 {
			return
		}
		s.read = pos{seq: s.segs[i+1].seq}
	}
}

// segIndex returns the index of segment seq, or of the first one after
// it (the last if none); the caller holds mu.
func (s *Spool) segIndex(seq uint64) int {
	i, _ := slices.BinarySearchFunc(s.segs, seq, func(g segment, seq uint64) int {
		switch {
		case g.seq < seq:
			return -1
		case g.seq > seq:
			return 1
		}
		return 0
	})
	return min(i, len(s.segs)-1)
}

// chunk is what readChunk read from one segment.
type chunk struct {
	entries [][]byte
	next    pos   // where the next read starts
	bad     int64 // bytes skipped as corrupt (the rest of the segment)
}

// readChunk reads entries of segment seg (as it was when the read
// started) from position from. first says the batch is empty so far: the
// first entry is taken whatever its size. The caller holds rmu.
func (s *Spool) readChunk(from pos, seg segment, maxEntries, maxBytes int, first bool) (chunk, error) {
	c := chunk{next: from}
	f, err := s.readerFile(from.seq)
	if err != nil {
		return c, err
	}
	avail := seg.size - from.off
	// Read about what maxBytes and maxEntries allow, the latter at the
	// frame size seen so far; readSome reads on if it was too little.
	rb := min(int64(max(maxBytes, 0)), readChunkMax)
	want := min(avail, rb+rb/16+4096, int64(maxEntries)*(s.avgFrame+s.avgFrame/4)+4096)
	buf := make([]byte, want)
	if _, err := f.ReadAt(buf, from.off); err != nil {
		if !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("read segment: %w", err)
		}
		// The file is shorter than written: skip the segment.
		c.next, c.bad = pos{seq: seg.seq, off: seg.size, idx: seg.frames}, avail
		return c, nil
	}
	p, nbytes := 0, 0
	for len(c.entries) < maxEntries && p < len(buf) {
		payload, n, err := decodeFrame(buf[p:], avail-int64(p))
		if errors.Is(err, errShortFrame) {
			if len(c.entries) > 0 {
				break
			}
			// The first frame is larger than the buffer: read it whole
			// if it is to be taken.
			if !first && n-frameHeader > maxBytes {
				break
			}
			buf = make([]byte, max(n, len(buf)))
			if _, err := f.ReadAt(buf, from.off); err != nil {
				return c, fmt.Errorf("read segment: %w", err)
			}
			continue
		}
		if err != nil {
			// Corrupt since Open checked it: skip the rest of the segment.
			c.next = pos{seq: seg.seq, off: seg.size, idx: seg.frames}
			c.bad = avail - int64(p)
			return c, nil
		}
		if !(first && len(c.entries) == 0) && nbytes+len(payload) > maxBytes {
			break
		}
		c.entries = append(c.entries, payload)
		nbytes += len(payload)
		p += n
	}
	c.next = pos{seq: from.seq, off: from.off + int64(p), idx: from.idx + int64(len(c.entries))}
	if len(c.entries) > 0 {
		s.avgFrame = (s.avgFrame + int64(p/len(c.entries))) / 2
	}
	return c, nil
}

// readerFile returns the reader's open file of segment seq; the caller
// holds rmu.
func (s *Spool) readerFile(seq uint64) (*os.File, error) {
	if s.rf != nil && s.rseq == seq {
		return s.rf, nil
	}
	if s.rf != nil {
		s.rf.Close()
		s.rf = nil
	}
	f, err := os.Open(segPath(s.opts.Dir, seq))
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	s.rf, s.rseq = f, seq
	return f, nil
}

// Ack acknowledges everything up to the end of b: its entries leave the
// spool. Batches must be acknowledged in the order they were read, and
// not across a Rewind. The ack position is persisted atomically before
// Ack returns (fsynced per SyncInterval); wholly acknowledged segments
// are deleted. Acknowledging an empty batch does nothing.
func (s *Spool) Ack(b Batch) error {
	if b.id == 0 {
		return nil
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	switch {
	case b.epoch != s.epoch:
		return fmt.Errorf("ack batch: read before a rewind: %w", errOrder)
	case b.id != s.ackedID+1:
		return fmt.Errorf("ack batch: batch %d, expected %d: %w", b.id, s.ackedID+1, errOrder)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("ack batch: %w", ErrClosed)
	}
	s.ackedID = b.id
	before := s.unacked()
	deleted := s.advanceAck(b.end)
	s.st.Acked += uint64(before - s.unacked())
	ack := s.ack
	if len(deleted) > 0 {
		s.roomFreed()
	}
	s.mu.Unlock()
	var err error
	if ack != s.saved {
		err = s.savePosition(ack)
	}
	if err := errors.Join(err, s.deleteSegments(deleted)); err != nil {
		return fmt.Errorf("ack batch: %w", err)
	}
	return nil
}

// Rewind makes the next Read start again at the first unacknowledged
// entry; batches read before can no longer be acknowledged.
func (s *Spool) Rewind() {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.epoch++
	s.nextID = s.ackedID + 1
	s.mu.Lock()
	s.read = s.ack
	s.mu.Unlock()
}
