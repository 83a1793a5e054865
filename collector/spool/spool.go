package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

var (
	// ErrFull is returned (wrapped) by Append under DropNewest for the
	// entries that did not fit.
	ErrFull = errors.New("spool full")
	// ErrClosed is returned by the methods of a closed spool.
	ErrClosed = errors.New("spool closed")
	// ErrTooLarge is returned (wrapped) by Append for entries that cannot
	// fit in a segment.
	ErrTooLarge = errors.New("entry too large")
)

// segment is one segment file.
type segment struct {
	seq    uint64
	size   int64 // bytes of good frames (the file's size)
	frames int64
}

// pos is a position in the spool: a frame boundary in a segment.
type pos struct {
	seq uint64
	off int64
	idx int64 // frames before off in the segment
}

func (p pos) less(q pos) bool {
	return p.seq < q.seq || p.seq == q.seq && p.off < q.off
}

// Spool is a durable, bounded queue of entries on disk. Append is safe
// for concurrent use; Read, Ack and Rewind are for one reader; Stats and
// Close may be called from anywhere.
type Spool struct {
	opts    Options
	lock    *os.File
	closing chan struct{} // closed by Close
	syncWG  sync.WaitGroup

	// rmu is held by the reader (Read, Ack, Rewind) and by Close; it is
	// taken before mu.
	rmu     sync.Mutex
	rf      *os.File // the reader's file, of segment rseq
	rseq    uint64
	saved   pos    // the ack position last written to the position file
	epoch   uint64 // bumped by Rewind
	nextID  uint64 // id of the next batch read
	ackedID uint64 // id of the last batch acked
	// avgFrame is the average frame size read lately, to size reads.
	avgFrame int64

	mu     sync.Mutex
	closed bool
	segs   []segment // oldest first; never empty; the last is active
	active *os.File  // the last segment, for writing
	bytes  int64     // sum of segs' sizes
	frames int64     // sum of segs' frames
	// ack: everything before is acknowledged; ack.seq is segs[0].seq.
	// read: where the next Read starts; never before ack.
	ack, read pos
	dataWait  chan struct{}
	spaceWait chan struct{}
	dirty     bool       // active written since its last fsync
	posDirty  bool       // position file written since its last fsync
	toSync    []*os.File // segments rotated out, to fsync and close
	st        Stats      // counters; Entries, Bytes, Segments computed
}

// Open opens the spool in opts.Dir, creating it if needed. It checks
// every segment, truncating torn or corrupt frames (counted in
// Stats.Corrupt), and positions the reader at the last acknowledged
// position. It fails if another spool has the directory open.
func Open(opts Options) (*Spool, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	lock, err := lockDir(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	s := &Spool{opts: o, lock: lock, closing: make(chan struct{})}
	if err := s.load(); err != nil {
		if s.active != nil {
			s.active.Close()
		}
		lock.Close()
		return nil, fmt.Errorf("open spool: %w", err)
	}
	s.nextID = 1
	s.avgFrame = 1 << 10
	if o.SyncInterval > 0 {
		s.syncWG.Add(1)
		go s.syncLoop(o.SyncInterval)
	}
	return s, nil
}

// load scans the directory: segments, position, and opens the active
// segment.
func (s *Spool) load() error {
	dir := s.opts.Dir
	des, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list dir: %w", err)
	}
	var seqs []uint64
	for _, de := range des {
		if seq, ok := parseSegName(de.Name()); ok && de.Type().IsRegular() {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	_ = os.Remove(filepath.Join(dir, positionTemp))
	pseq, poff, pok, err := readPosition(dir)
	if err != nil {
		return err
	}
	if pok && len(seqs) > 0 && pseq > seqs[len(seqs)-1] {
		pok = false // beyond every segment: not ours to trust
	}
	if !pok {
		pseq, poff = 0, 0 // replay everything
	}
	var last uint64
	var ack pos
	ackSet := false
	for i, seq := range seqs {
		last = seq
		path := segPath(dir, seq)
		if seq < pseq {
			// Acknowledged; its deletion was cut short.
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("delete segment: %w", err)
			}
			continue
		}
		at := int64(0)
		if seq == pseq {
			at = poff
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("open segment: %w", err)
		}
		sc, err := scanSegment(f, at)
		if err == nil && sc.end < sc.size {
			s.st.Corrupt++
			s.st.CorruptBytes += uint64(sc.size - sc.end)
			if err = f.Truncate(sc.end); err != nil {
				err = fmt.Errorf("truncate segment: %w", err)
			}
		}
		isLast := i == len(seqs)-1
		if err != nil || !isLast {
			f.Close()
		}
		if err != nil {
			return fmt.Errorf("load segment %s: %w", segName(seq), err)
		}
		if sc.frames == 0 && !isLast {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("delete segment: %w", err)
			}
			continue
		}
		if !ackSet {
			ack, ackSet = pos{seq: seq}, true
			if seq == pseq {
				ack.off, ack.idx = sc.at, sc.idx
			}
		}
		s.segs = append(s.segs, segment{seq: seq, size: sc.end, frames: sc.frames})
		s.bytes += sc.end
		s.frames += sc.frames
		if isLast {
			s.active = f
		}
	}
	if s.active == nil {
		// No segment (or the last one was deleted): start a new one,
		// after every sequence number used so far.
		seq := max(last, pseq) + 1
		if seq == 0 {
			return errors.New("create segment: sequence numbers exhausted")
		}
		f, err := os.OpenFile(segPath(dir, seq), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("create segment: %w", err)
		}
		s.active = f
		s.segs = append(s.segs, segment{seq: seq})
		if !ackSet {
			ack = pos{seq: seq}
		}
	}
	s.ack = pos{seq: s.segs[0].seq}
	deleted := s.advanceAck(ack)
	s.read = s.ack
	s.saved = s.ack
	return s.deleteSegments(deleted)
}

// advanceAck moves the ack position to p if p is later, and drops the
// segments (but the active one) wholly acknowledged, returning their
// sequence numbers (the files are still to be deleted).
func (s *Spool) advanceAck(p pos) (deleted []uint64) {
	if s.ack.less(p) {
		s.ack = p
	}
	for len(s.segs) > 1 {
		first := s.segs[0]
		if s.ack.seq == first.seq && s.ack.off < first.size {
			break
		}
		deleted = append(deleted, first.seq)
		s.dropFirst()
		if s.ack.seq <= first.seq {
			s.ack = pos{seq: s.segs[0].seq}
		}
	}
	if s.read.less(s.ack) {
		s.read = s.ack
	}
	return deleted
}

// dropFirst removes the oldest segment from the accounts.
func (s *Spool) dropFirst() {
	first := s.segs[0]
	s.segs = slices.Delete(s.segs, 0, 1)
	s.bytes -= first.size
	s.frames -= first.frames
}

// roomFreed wakes the appenders waiting for room; the caller holds mu.
func (s *Spool) roomFreed() {
	if s.spaceWait != nil {
		close(s.spaceWait)
		s.spaceWait = nil
	}
}

// unacked is the number of entries not acknowledged yet.
func (s *Spool) unacked() int64 { return s.frames - s.ack.idx }

func (s *Spool) deleteSegments(seqs []uint64) error {
	var errs []error
	for _, seq := range seqs {
		if err := os.Remove(segPath(s.opts.Dir, seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("delete segment: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Stats describes the spool's state and counts what happened since Open.
type Stats struct {
	Entries  int64 // entries in the spool not yet acknowledged
	Bytes    int64 // bytes of segment files on disk
	Segments int   // segment files
	Appended uint64
	Acked    uint64
	// DroppedFull counts entries lost to the full policy: evicted unacked
	// by DropOldest or refused by DropNewest.
	DroppedFull uint64
	// Rejected counts entries larger than a segment, refused by Append.
	Rejected uint64
	// Corrupt counts the corrupt regions found by Open (a torn tail, a
	// frame failing its checksum and the rest of its segment) or by Read;
	// CorruptBytes counts their bytes. The entries in them are skipped.
	Corrupt      uint64
	CorruptBytes uint64
	// BytesWritten counts the bytes written since Open (frames and
	// position file), for write amplification.
	BytesWritten uint64
}

// Stats returns the spool's statistics.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.Entries = s.unacked()
	st.Bytes = s.bytes
	st.Segments = len(s.segs)
	return st
}

// Close persists the ack position, fsyncs (unless SyncInterval is
// negative) and closes the files. Safe to call twice.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	s.mu.Unlock()
	s.syncWG.Wait()

	s.rmu.Lock()
	defer s.rmu.Unlock()
	var errs []error
	if s.rf != nil {
		s.rf.Close()
		s.rf = nil
	}
	s.mu.Lock()
	ack := s.ack
	s.mu.Unlock()
	if ack != s.saved {
		errs = append(errs, s.savePosition(ack))
	}
	if s.opts.SyncInterval > 0 {
		errs = append(errs, s.syncOnce())
	}
	s.mu.Lock()
	for _, f := range s.toSync {
		f.Close() // only with SyncInterval < 0
	}
	s.toSync = nil
	if err := s.active.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close segment: %w", err))
	}
	s.mu.Unlock()
	if err := s.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("unlock dir: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close spool: %w", err)
	}
	return nil
}

// savePosition writes the ack position p; the caller holds rmu.
func (s *Spool) savePosition(p pos) error {
	n, err := writePosition(s.opts.Dir, p.seq, p.off)
	if err != nil {
		return err
	}
	s.saved = p
	s.mu.Lock()
	s.st.BytesWritten += uint64(n)
	s.posDirty = true
	s.mu.Unlock()
	return nil
}
