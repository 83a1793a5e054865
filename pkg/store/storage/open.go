package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// formatVersion is stored with the settings; Open refuses other versions.
const formatVersion = 1

// settings are the options the stored data depends on.
type settings struct {
	group, index []string
}

func (s settings) encode() []byte {
	var ls stream.Labels
	for _, n := range s.group {
		ls = append(ls, stream.Label{Name: "group", Value: n})
	}
	for _, n := range s.index {
		ls = append(ls, stream.Label{Name: "index", Value: n})
	}
	return appendLabels(binary.AppendUvarint(nil, formatVersion), ls)
}

func decodeSettings(v []byte) (settings, error) {
	ver, v, ok := uvarint(v)
	if !ok {
		return settings{}, errCorrupt
	}
	if ver != formatVersion {
		return settings{}, fmt.Errorf("unknown format version %d", ver)
	}
	ls, err := decodeLabels(v)
	if err != nil {
		return settings{}, err
	}
	var s settings
	for _, l := range ls {
		if l.Name == "group" {
			s.group = append(s.group, l.Value)
		} else {
			s.index = append(s.index, l.Value)
		}
	}
	return s, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// load reads the dictionaries and rebuilds the point index and stream
// statistics from the entries. When the grouped or indexed metadata names
// changed since the last Open, it recomputes the groups of the point index
// and rewrites the secondary index in the same pass.
func (db *DB) load() error {
	view := &dictView{groups: []stream.Labels{nil}, names: []string{""}}
	if err := db.loadDicts(view); err != nil {
		return err
	}
	cur := settings{group: db.opts.GroupMetadata, index: db.opts.IndexedMetadata}
	old := cur
	v, closer, err := db.pdb.Get([]byte{prefixMeta})
	switch {
	case err == nil:
		old, err = decodeSettings(v)
		_ = closer.Close()
		if err != nil {
			return fmt.Errorf("read settings: %w", err)
		}
	case !errors.Is(err, pebble.ErrNotFound):
		return fmt.Errorf("read settings: %w", err)
	}
	regroup := !sameSet(old.group, cur.group)
	reindex := !sameSet(old.index, cur.index)
	if err := db.rebuild(view, regroup, reindex); err != nil {
		return err
	}
	if err := db.pdb.Set([]byte{prefixMeta}, cur.encode(), pebble.Sync); err != nil {
		return fmt.Errorf("write settings: %w", err)
	}
	return nil
}

// loadDicts reads the stream, group and name dictionaries.
func (db *DB) loadDicts(view *dictView) error {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixGroup}, UpperBound: []byte{prefixStream + 1}})
	if err != nil {
		return fmt.Errorf("create iterator: %w", err)
	}
	defer it.Close()
	for _, p := range []byte{prefixGroup, prefixName, prefixStream} {
		it.SetBounds([]byte{p}, []byte{p + 1})
		for ok := it.First(); ok; ok = it.Next() {
			k, v := it.Key(), it.Value()
			if len(k) != 5 {
				return fmt.Errorf("read dictionary key %x: %w", k, errCorrupt)
			}
			id := int(binary.BigEndian.Uint32(k[1:]))
			switch p {
			case prefixStream:
				ls, err := decodeLabels(v)
				if err != nil {
					return fmt.Errorf("read stream %d: %w", id, err)
				}
				view.streams = slices.Grow(view.streams, id+1-len(view.streams))[:max(len(view.streams), id+1)]
				view.streams[id] = ls
				db.w.dicts.streamIDs[string(v)] = uint32(id)
			case prefixGroup:
				ls, err := decodeLabels(v)
				if err != nil {
					return fmt.Errorf("read group %d: %w", id, err)
				}
				view.groups = slices.Grow(view.groups, id+1-len(view.groups))[:max(len(view.groups), id+1)]
				view.groups[id] = ls
				db.w.dicts.groupIDs[string(v)] = uint32(id)
			case prefixName:
				view.names = slices.Grow(view.names, id+1-len(view.names))[:max(len(view.names), id+1)]
				view.names[id] = string(v)
				db.w.dicts.nameIDs[string(v)] = uint32(id)
			}
		}
		if err := it.Error(); err != nil {
			return fmt.Errorf("read dictionary: %w", err)
		}
	}
	return nil
}

// rebuild reads every entry once.
func (db *DB) rebuild(view *dictView, regroup, reindex bool) error {
	tx := &db.w.tx
	tx.reset(&db.w.dicts, view)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixEntry}, UpperBound: []byte{prefixEntry + 1}})
	if err != nil {
		return fmt.Errorf("create iterator: %w", err)
	}
	defer it.Close()
	var b *pebble.Batch
	if reindex {
		b = db.pdb.NewBatch()
		if err := b.DeleteRange([]byte{prefixIndex}, []byte{prefixIndex + 1}, nil); err != nil {
			return fmt.Errorf("drop index: %w", err)
		}
	}
	var (
		pairs []pairRef
		md    stream.Labels
		group stream.Labels
		enc   []byte
		key   []byte
		pts   = make([]point, 0, 4096)
	)
	flush := func() {
		db.idx.markPresent(pts)
		db.idx.add(pts)
		pts = pts[:0]
	}
	for ok := it.First(); ok; ok = it.Next() {
		ref, ok := parseEntryKey(it.Key())
		if !ok {
			return fmt.Errorf("read entry key %x: %w", it.Key(), errCorrupt)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("read entry: %w", err)
		}
		rv, ok := parseValue(v, pairs)
		if !ok || int(rv.gid) >= len(tx.view.groups) {
			return fmt.Errorf("read entry of stream %d at %d: %w", ref.sid, ref.ts, errCorrupt)
		}
		pairs = rv.pairs
		gid := rv.gid
		if regroup || reindex {
			md = rv.metadata(tx.view, md)
		}
		if regroup {
			group = group[:0]
			for _, l := range md {
				if db.grouped[l.Name] && l.Value != "" {
					group = append(group, l)
				}
			}
			gid = 0
			if len(group) > 0 {
				enc = appendLabels(enc[:0], group)
				gid = tx.groupID(group, enc)
			}
		}
		if reindex {
			for _, l := range md {
				if db.indexed[l.Name] {
					key = appendIndexPrefix(key[:0], bucketOf(ref.ts), tx.nameID(l.Name), l.Value)
					key = appendIndexSuffix(key, ref)
					if err := b.Set(key, nil, nil); err != nil {
						return fmt.Errorf("add index entry: %w", err)
					}
				}
			}
			if b.Len() > 4<<20 {
				if err := b.Commit(pebble.NoSync); err != nil {
					return fmt.Errorf("write index: %w", err)
				}
				b = db.pdb.NewBatch()
			}
		}
		pts = append(pts, point{ts: ref.ts, sid: ref.sid, gid: gid, size: uint32(len(rv.line))})
		if len(pts) == cap(pts) {
			flush()
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("read entries: %w", err)
	}
	flush()
	if b == nil && len(tx.added) > 0 {
		b = db.pdb.NewBatch()
	}
	if b != nil {
		if err := tx.persist(func(k, v []byte) error { return b.Set(k, v, nil) }); err != nil {
			return fmt.Errorf("add dictionary entry: %w", err)
		}
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("write index: %w", err)
		}
		tx.committed()
	}
	db.view.Store(tx.view)
	db.stats = db.idx.stats()
	for sid, s := range db.stats {
		if s.entries > 0 {
			db.w.setStreamMax(uint32(sid), s.max)
		}
	}
	return nil
}
