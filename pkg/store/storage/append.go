package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// writer is the state of the single writer, guarded by DB.wmu.
type writer struct {
	dicts dicts
	tx    dictTx
	// maxTime is, by stream id, at least the newest stored time of the
	// stream (math.MinInt64 when none): newer entries need no duplicate
	// check on disk.
	maxTime []int64
	// indexFloor is the bucket below which Enforce dropped all index keys.
	indexFloor int64

	pending map[pendKey]int32 // newest entry of this call per stream and time
	pend    []pendEntry
	arena   []byte // values of this call's entries
	points  []point
	key     []byte
	enc     []byte
	group   stream.Labels
}

type pendKey struct {
	sid uint32
	ts  int64
}

// pendEntry is an entry of the current call; entries with the same stream
// and time are chained through prev.
type pendEntry struct {
	prev     int32
	seq      uint32
	off, end int // value in arena
}

func (w *writer) init() {
	w.dicts = newDicts()
	w.indexFloor = math.MinInt64
	w.pending = map[pendKey]int32{}
}

// release drops the buffers of an unusually large call.
func (w *writer) release() {
	const keep = 1 << 16
	if len(w.pending) > keep {
		w.pending = map[pendKey]int32{}
	}
	if cap(w.pend) > keep {
		w.pend, w.points = nil, nil
	}
	if cap(w.arena) > 64*keep*8 {
		w.arena = nil
	}
}

func (w *writer) streamMax(sid uint32) int64 {
	if int(sid) < len(w.maxTime) {
		return w.maxTime[sid]
	}
	return math.MinInt64
}

func (w *writer) setStreamMax(sid uint32, ts int64) {
	for int(sid) >= len(w.maxTime) {
		w.maxTime = append(w.maxTime, math.MinInt64)
	}
	w.maxTime[sid] = max(w.maxTime[sid], ts)
}

// Append stores the streams' entries durably: they are in one Pebble batch
// committed with fsync before Append returns. It returns how many entries
// were new. An entry identical to one already stored in the same stream
// (same time, line and metadata) is skipped, as Loki does: also repeats
// within one call and across restarts. Streams without entries are ignored;
// labels and metadata need not be sorted. Safe for concurrent use with
// every other method.
func (db *DB) Append(streams []stream.Stream) (stored int, err error) {
	if err := db.enter(); err != nil {
		return 0, err
	}
	defer db.exit()
	db.wmu.Lock()
	defer db.wmu.Unlock()

	w := &db.w
	defer w.release()
	w.tx.reset(&w.dicts, db.view.Load())
	clear(w.pending)
	w.pend, w.arena, w.points = w.pend[:0], w.arena[:0], w.points[:0]
	b := db.pdb.NewBatch()
	defer b.Close()

	dups := 0
	for si := range streams {
		s := &streams[si]
		if len(s.Entries) == 0 {
			continue
		}
		labels := sortedLabels(s.Labels)
		w.enc = appendLabels(w.enc[:0], labels)
		sid := w.tx.streamID(labels, w.enc)
		for ei := range s.Entries {
			e := &s.Entries[ei]
			md := sortedLabels(e.Metadata)
			off := len(w.arena)
			gid := db.encodeValue(md, e.Line)
			val := w.arena[off:]
			seq, dup, err := db.place(sid, e.Time, off)
			if err != nil {
				return 0, err
			}
			if dup {
				w.arena = w.arena[:off]
				dups++
				continue
			}
			w.key = appendEntryKey(w.key[:0], sid, e.Time, seq)
			if err := b.Set(w.key, val, nil); err != nil {
				return 0, fmt.Errorf("add entry: %w", err)
			}
			ref := entryRef{ts: e.Time, sid: sid, seq: seq}
			for _, l := range md {
				if !db.indexed[l.Name] {
					continue
				}
				w.key = appendIndexPrefix(w.key[:0], bucketOf(e.Time), w.tx.nameID(l.Name), l.Value)
				w.key = appendIndexSuffix(w.key, ref)
				if err := b.Set(w.key, nil, nil); err != nil {
					return 0, fmt.Errorf("add index entry: %w", err)
				}
			}
			w.points = append(w.points, point{ts: e.Time, sid: sid, gid: gid, size: uint32(len(e.Line))})
		}
	}
	db.duplicates.Add(int64(dups))
	if len(w.points) == 0 {
		return 0, nil
	}
	if err := w.tx.persist(func(k, v []byte) error { return b.Set(k, v, nil) }); err != nil {
		return 0, fmt.Errorf("add dictionary entry: %w", err)
	}
	// Publish new ids and mark buckets before the commit, so that a Scan
	// whose snapshot holds the batch knows them.
	if w.tx.changed {
		db.view.Store(w.tx.view)
	}
	db.idx.markPresent(w.points)
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("commit batch: %w", err)
	}
	w.tx.committed()
	db.idx.add(w.points)
	db.statsMu.Lock()
	for _, p := range w.points {
		for int(p.sid) >= len(db.stats) {
			db.stats = append(db.stats, streamStats{})
		}
		db.stats[p.sid].add(p.ts, p.size)
		w.setStreamMax(p.sid, p.ts)
	}
	db.statsMu.Unlock()
	return len(w.points), nil
}

// encodeValue appends the value of an entry with sorted metadata md to the
// arena and returns its group id.
func (db *DB) encodeValue(md stream.Labels, line string) uint32 {
	w := &db.w
	w.group = w.group[:0]
	rest := 0
	for _, l := range md {
		if db.grouped[l.Name] && l.Value != "" {
			w.group = append(w.group, l)
		} else {
			rest++
		}
	}
	var gid uint32
	if len(w.group) > 0 {
		w.enc = appendLabels(w.enc[:0], w.group)
		gid = w.tx.groupID(w.group, w.enc)
	}
	a := binary.AppendUvarint(w.arena, uint64(gid))
	a = binary.AppendUvarint(a, uint64(rest))
	for _, l := range md {
		if db.grouped[l.Name] && l.Value != "" {
			continue
		}
		a = appendPair(a, w.tx.nameID(l.Name), l.Value)
	}
	w.arena = append(a, line...)
	return gid
}

// place decides the sequence number of the entry whose value starts at
// arena[off:], or reports it a duplicate of a stored entry or of an
// earlier one of this call.
func (db *DB) place(sid uint32, ts int64, off int) (seq uint32, dup bool, err error) {
	w := &db.w
	val := w.arena[off:]
	k := pendKey{sid, ts}
	head, inCall := w.pending[k]
	for j := head; inCall && j >= 0; j = w.pend[j].prev {
		p := &w.pend[j]
		if string(w.arena[p.off:p.end]) == string(val) {
			return 0, true, nil
		}
	}
	var onDisk uint32
	if ts <= w.streamMax(sid) {
		for {
			w.key = appendEntryKey(w.key[:0], sid, ts, onDisk)
			v, closer, err := db.pdb.Get(w.key)
			if errors.Is(err, pebble.ErrNotFound) {
				break
			}
			if err != nil {
				return 0, false, fmt.Errorf("get entry: %w", err)
			}
			same := sameEntry(w.tx.view, v, val)
			_ = closer.Close()
			if same {
				return 0, true, nil
			}
			onDisk++
		}
	}
	seq = onDisk
	prev := int32(-1)
	if inCall {
		prev = head
		seq = max(seq, w.pend[head].seq+1)
	}
	w.pend = append(w.pend, pendEntry{prev: prev, seq: seq, off: off, end: len(w.arena)})
	w.pending[k] = int32(len(w.pend) - 1)
	return seq, false, nil
}
