package storage

import (
	"strings"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// dictView is an immutable snapshot of the id dictionaries, published
// through DB.view. Ids only ever get added: a newer view extends an older
// one, possibly sharing its backing arrays beyond the older one's lengths.
type dictView struct {
	streams []stream.Labels // by stream id; nil where unused
	groups  []stream.Labels // by group id; groups[0] is the empty group
	names   []string        // by name id; names[0] is unused
}

// name returns the metadata name of id nid.
func (v *dictView) name(nid uint32) string {
	if int(nid) < len(v.names) {
		return v.names[nid]
	}
	return ""
}

// nameID returns the id of a metadata name.
func (v *dictView) nameID(name string) (uint32, bool) {
	for i := 1; i < len(v.names); i++ {
		if v.names[i] == name {
			return uint32(i), true
		}
	}
	return 0, false
}

// groupMatcher tells which groups carry one metadata pair, caching the
// answer per group id.
type groupMatcher struct {
	view  *dictView
	pair  stream.Label
	known []uint8 // by group id: 0 unknown, 1 yes, 2 no
}

func (m *groupMatcher) has(gid uint32) bool {
	if int(gid) >= len(m.view.groups) {
		return false
	}
	if int(gid) >= len(m.known) {
		m.known = append(m.known, make([]uint8, len(m.view.groups)-len(m.known))...)
	}
	switch m.known[gid] {
	case 1:
		return true
	case 2:
		return false
	}
	g := m.view.groups[gid]
	ok := g.Has(m.pair.Name) && g.Get(m.pair.Name) == m.pair.Value
	m.known[gid] = 2
	if ok {
		m.known[gid] = 1
	}
	return ok
}

// dicts is the writer's side of the dictionaries: the ids persisted so far.
// Guarded by DB.wmu.
type dicts struct {
	streamIDs map[string]uint32 // by encoded labels
	groupIDs  map[string]uint32 // by encoded labels
	nameIDs   map[string]uint32
}

func newDicts() dicts {
	return dicts{
		streamIDs: map[string]uint32{},
		groupIDs:  map[string]uint32{},
		nameIDs:   map[string]uint32{},
	}
}

// newEntry is a dictionary entry allocated by a pending write.
type newEntry struct {
	kind byte // prefixStream, prefixGroup or prefixName
	id   uint32
	key  string // the dicts map key
}

// dictTx allocates ids for one write, publishing them in a new view before
// the write commits and recording them in dicts after it did.
type dictTx struct {
	d       *dicts
	view    *dictView // the view being extended; copied on first change
	changed bool
	added   []newEntry
	pending map[string]uint32 // allocated by this tx, by kind byte + key
	buf     []byte
}

func (tx *dictTx) reset(d *dicts, view *dictView) {
	tx.d, tx.view, tx.changed = d, view, false
	tx.added = tx.added[:0]
	clear(tx.pending)
	if tx.pending == nil {
		tx.pending = map[string]uint32{}
	}
}

func (tx *dictTx) mutable() {
	if !tx.changed {
		v := *tx.view
		tx.view, tx.changed = &v, true
	}
}

func (tx *dictTx) lookup(kind byte, m map[string]uint32, key []byte) (uint32, bool) {
	if id, ok := m[string(key)]; ok {
		return id, true
	}
	tx.buf = append(append(tx.buf[:0], kind), key...)
	id, ok := tx.pending[string(tx.buf)]
	return id, ok
}

func (tx *dictTx) remember(kind byte, id uint32, key []byte) {
	tx.buf = append(append(tx.buf[:0], kind), key...)
	tx.pending[string(tx.buf)] = id
	tx.added = append(tx.added, newEntry{kind: kind, id: id, key: string(key)})
}

// streamID returns the id of a (sorted) label set, allocating one.
func (tx *dictTx) streamID(labels stream.Labels, enc []byte) uint32 {
	if id, ok := tx.lookup(prefixStream, tx.d.streamIDs, enc); ok {
		return id
	}
	tx.mutable()
	id := uint32(max(len(tx.view.streams), 1))
	for len(tx.view.streams) < int(id) {
		tx.view.streams = append(tx.view.streams, nil)
	}
	tx.view.streams = append(tx.view.streams, cloneLabels(labels))
	tx.remember(prefixStream, id, enc)
	return id
}

// groupID returns the id of a (sorted, non-empty) group label set.
func (tx *dictTx) groupID(labels stream.Labels, enc []byte) uint32 {
	if id, ok := tx.lookup(prefixGroup, tx.d.groupIDs, enc); ok {
		return id
	}
	tx.mutable()
	id := uint32(max(len(tx.view.groups), 1))
	for len(tx.view.groups) < int(id) {
		tx.view.groups = append(tx.view.groups, nil)
	}
	tx.view.groups = append(tx.view.groups, cloneLabels(labels))
	tx.remember(prefixGroup, id, enc)
	return id
}

// nameID returns the id of a metadata name.
func (tx *dictTx) nameID(name string) uint32 {
	if id, ok := tx.d.nameIDs[name]; ok {
		return id
	}
	if id, ok := tx.lookup(prefixName, tx.d.nameIDs, []byte(name)); ok {
		return id
	}
	tx.mutable()
	id := uint32(max(len(tx.view.names), 1))
	for len(tx.view.names) < int(id) {
		tx.view.names = append(tx.view.names, "")
	}
	tx.view.names = append(tx.view.names, strings.Clone(name))
	tx.remember(prefixName, id, []byte(name))
	return id
}

// persist adds the dictionary keys of the allocated ids to a batch.
func (tx *dictTx) persist(set func(k, v []byte) error) error {
	var k []byte
	for _, e := range tx.added {
		k = appendIDKey(k[:0], e.kind, e.id)
		if err := set(k, []byte(e.key)); err != nil {
			return err
		}
	}
	return nil
}

// committed records the allocated ids as persisted.
func (tx *dictTx) committed() {
	for _, e := range tx.added {
		switch e.kind {
		case prefixStream:
			tx.d.streamIDs[e.key] = e.id
		case prefixGroup:
			tx.d.groupIDs[e.key] = e.id
		case prefixName:
			tx.d.nameIDs[e.key] = e.id
		}
	}
	tx.added = tx.added[:0]
}

func cloneLabels(ls stream.Labels) stream.Labels {
	c := make(stream.Labels, len(ls))
	for i, l := range ls {
		c[i] = stream.Label{Name: strings.Clone(l.Name), Value: strings.Clone(l.Value)}
	}
	return c
}
