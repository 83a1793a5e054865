package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
)

// frames holds the encoded frames of one Append call.
type frames struct {
	b    []byte
	ends []int // end offset of each frame in b
}

var framesPool = sync.Pool{New: func() any { return new(frames) }}

// maxPooled bounds the buffers kept for reuse.
const maxPooled = 4 << 20

// Append writes entries, in order, to the spool: one write(2) per call
// where they fit in the active segment. On return they are in the page
// cache, so they survive a kill -9 of the process (a power loss may take
// those of the last SyncInterval).
//
// When the spool is full: DropOldest deletes the oldest segments, read or
// not, and counts their unacknowledged entries in Stats.DroppedFull;
// DropNewest writes the entries that fit and refuses the rest, counted,
// with an error wrapping ErrFull; Block waits for the reader's
// acknowledgements to make room, until ctx is done (the entries not
// written by then are not counted as dropped: the error says so).
//
// An entry larger than a segment (SegmentBytes less 8 bytes of framing)
// is skipped and counted in Stats.Rejected, with an error wrapping
// ErrTooLarge; the other entries are written.
func (s *Spool) Append(ctx context.Context, entries ...[]byte) error {
	if len(entries) == 0 {
		return nil
	}
	maxPayload := s.opts.SegmentBytes - frameHeader
	fr := framesPool.Get().(*frames)
	defer func() {
		if cap(fr.b) <= maxPooled {
			fr.b, fr.ends = fr.b[:0], fr.ends[:0]
			framesPool.Put(fr)
		}
	}()
	size, rejected := 0, 0
	for _, e := range entries {
		if int64(len(e)) > maxPayload {
			rejected++
			continue
		}
		size += frameHeader + len(e)
	}
	fr.b = growLen(fr.b[:0], size)[:0]
	for _, e := range entries {
		if int64(len(e)) <= maxPayload {
			fr.b = appendFrame(fr.b, e)
			fr.ends = append(fr.ends, len(fr.b))
		}
	}

	s.mu.Lock()
	s.st.Rejected += uint64(rejected)
	err := s.appendLocked(ctx, fr)
	s.mu.Unlock()
	if rejected > 0 {
		err = errors.Join(err, fmt.Errorf("append entries: %d of %d larger than %d bytes: %w", rejected, len(entries), maxPayload, ErrTooLarge))
	}
	return err
}

// appendLocked writes the frames in groups, one group per segment; the
// caller holds mu, which it releases while waiting for room.
func (s *Spool) appendLocked(ctx context.Context, fr *frames) error {
	n := len(fr.ends)
	i, start := 0, 0 // next frame, and its offset in fr.b
	for i < n {
		if s.closed {
			return fmt.Errorf("append entries: %w", ErrClosed)
		}
		act := &s.segs[len(s.segs)-1]
		if act.size > 0 && act.size+int64(fr.ends[i]-start) > s.opts.SegmentBytes {
			if err := s.rotate(); err != nil {
				return err
			}
			// The old segment may be acknowledged already.
			if deleted := s.advanceAck(s.ack); len(deleted) > 0 {
				s.roomFreed()
				if err := s.deleteSegments(deleted); err != nil {
					return err
				}
			}
			act = &s.segs[len(s.segs)-1]
		}
		// The frames from i that fit in the active segment.
		j := i + 1
		for j < n && act.size+int64(fr.ends[j]-start) <= s.opts.SegmentBytes {
			j++
		}
		if s.bytes+int64(fr.ends[j-1]-start) > s.opts.MaxBytes {
			if s.opts.Full == DropOldest {
				for s.bytes+int64(fr.ends[j-1]-start) > s.opts.MaxBytes && len(s.segs) > 1 {
					if err := s.evictOldest(); err != nil {
						return err
					}
				}
				act = &s.segs[len(s.segs)-1]
			} else {
				for j > i && s.bytes+int64(fr.ends[j-1]-start) > s.opts.MaxBytes {
					j--
				}
			}
		}
		if j == i {
			if s.opts.Full == DropNewest {
				s.st.DroppedFull += uint64(n - i)
				return fmt.Errorf("append entries: %d of %d refused: %w", n-i, n, ErrFull)
			}
			if err := s.waitRoom(ctx); err != nil {
				return fmt.Errorf("append entries: %d of %d not written: %w", n-i, n, err)
			}
			continue
		}
		end := fr.ends[j-1]
		if _, err := s.active.WriteAt(fr.b[start:end], act.size); err != nil {
			_ = s.active.Truncate(act.size) // drop a partial frame
			return fmt.Errorf("write segment: %w", err)
		}
		w := int64(end - start)
		act.size += w
		act.frames += int64(j - i)
		s.bytes += w
		s.frames += int64(j - i)
		s.st.Appended += uint64(j - i)
		s.st.BytesWritten += uint64(w)
		s.dirty = true
		if s.dataWait != nil {
			close(s.dataWait)
			s.dataWait = nil
		}
		i, start = j, end
	}
	return nil
}

// waitRoom waits, with mu released, until acknowledgements free room, ctx
// is done or the spool closes.
func (s *Spool) waitRoom(ctx context.Context) error {
	if s.spaceWait == nil {
		s.spaceWait = make(chan struct{})
	}
	ch := s.spaceWait
	s.mu.Unlock()
	defer s.mu.Lock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-s.closing:
		return ErrClosed
	}
}

// rotate starts a new active segment; the caller holds mu.
func (s *Spool) rotate() error {
	seq := s.segs[len(s.segs)-1].seq + 1
	f, err := os.OpenFile(segPath(s.opts.Dir, seq), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	old := s.active
	s.active = f
	s.segs = append(s.segs, segment{seq: seq})
	if s.opts.SyncInterval > 0 {
		s.toSync = append(s.toSync, old) // the syncer fsyncs and closes it
		s.dirty = false
	} else {
		old.Close()
	}
	return nil
}

// evictOldest deletes the oldest segment, which is not the active one,
// counting its unacknowledged entries as dropped; the caller holds mu.
func (s *Spool) evictOldest() error {
	first := s.segs[0]
	before := s.unacked()
	s.dropFirst()
	s.ack = pos{seq: s.segs[0].seq}
	if s.read.less(s.ack) {
		s.read = s.ack
	}
	s.st.DroppedFull += uint64(before - s.unacked())
	if err := os.Remove(segPath(s.opts.Dir, first.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("evict segment: %w", err)
	}
	return nil
}
