package storage

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// Hit is one entry found by Scan.
type Hit struct {
	Stream uint32
	// Time is the entry's time in Unix nanoseconds.
	Time int64
	// Line and Metadata are valid only during the callback: they may alias
	// Pebble's buffers. Copy what you keep.
	Line     string
	Metadata stream.Labels
}

// ScanQuery selects entries for Scan.
type ScanQuery struct {
	// Streams are the stream ids to include, sorted ascending; nil means
	// all streams (an empty non-nil slice matches nothing).
	Streams []uint32
	// From and Through bound the entries' times: From <= time < Through,
	// in Unix nanoseconds.
	From, Through int64
	// Backward returns the newest entries first.
	Backward bool
	// Metadata, when set, keeps only entries carrying this metadata pair.
	// It is served by the secondary index when the name is one of
	// Options.IndexedMetadata, else by filtering.
	Metadata *stream.Label
}

// Scan calls fn for the matching entries in time order (newest first when
// q.Backward) until fn returns false or ctx is done, when it returns
// ctx.Err(). In both directions, entries with equal times come by stream id
// ascending, then in the order they were appended. Hit.Line and
// Hit.Metadata are valid only during fn. Scan reads a consistent snapshot
// and is safe for concurrent use; fn must not call Close.
func (db *DB) Scan(ctx context.Context, q ScanQuery, fn func(Hit) bool) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.exit()
	if err := ctx.Err(); err != nil {
		return err
	}
	if q.From >= q.Through || (q.Streams != nil && len(q.Streams) == 0) {
		return nil
	}
	// Snapshot first: the point index's bucket marks and the dictionaries,
	// read after, cover everything the snapshot holds.
	snap := db.pdb.NewSnapshot()
	defer snap.Close()
	s := &scanner{ctx: ctx, q: q, snap: snap, view: db.view.Load(), fn: fn}
	var want func(uint32) bool
	if q.Streams != nil {
		want = sidSet(nil).with(q.Streams).has
		s.want = want
	}
	plan := db.idx.plan(q.From, q.Through, want)
	if len(plan) == 0 {
		return nil
	}
	if md := q.Metadata; md != nil {
		nid, known := s.view.nameID(md.Name)
		if !known {
			nid = 0 // matches no pair
		}
		gm := &groupMatcher{view: s.view, pair: *md}
		s.match = func(rv *rawValue) bool { return rv.has(nid, md.Value, gm.has) }
		if db.indexed[md.Name] {
			if !known {
				return nil // never stored, so never indexed
			}
			return s.byIndex(plan, nid, md.Value)
		}
	}
	return s.merge(plan)
}

// sidSet is a bitset of stream ids.
type sidSet []uint64

func (s sidSet) with(ids []uint32) sidSet {
	for _, id := range ids {
		w := int(id / 64)
		for w >= len(s) {
			s = append(s, 0)
		}
		s[w] |= 1 << (id % 64)
	}
	return s
}

func (s sidSet) has(id uint32) bool {
	w := int(id / 64)
	return w < len(s) && s[w]&(1<<(id%64)) != 0
}

// scanner is the state of one Scan.
type scanner struct {
	ctx   context.Context
	q     ScanQuery
	snap  *pebble.Snapshot
	view  *dictView
	fn    func(Hit) bool
	want  func(uint32) bool
	match func(*rawValue) bool
	n     int
	pairs []pairRef
	md    stream.Labels
}

// tick counts a visited entry and checks ctx now and then.
func (s *scanner) tick() error {
	s.n++
	if s.n&255 == 0 {
		return s.ctx.Err()
	}
	return nil
}

// emit decodes an entry and passes it to fn if it matches; it reports
// whether to go on.
func (s *scanner) emit(sid uint32, ts int64, val []byte) (bool, error) {
	rv, ok := parseValue(val, s.pairs)
	if !ok {
		return false, fmt.Errorf("decode entry of stream %d at %d: %w", sid, ts, errCorrupt)
	}
	s.pairs = rv.pairs
	if s.match != nil && !s.match(&rv) {
		return true, nil
	}
	s.md = rv.metadata(s.view, s.md)
	return s.fn(Hit{Stream: sid, Time: ts, Line: bytesString(rv.line), Metadata: s.md}), nil
}
