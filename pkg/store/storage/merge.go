package storage

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// merge scans the planned buckets with one Pebble iterator per stream,
// merging the streams by (time, stream id) with a heap.
func (s *scanner) merge(plan []bucketPlan) error {
	var cursors []*cursor
	bySid := map[uint32]*cursor{}
	for _, bp := range plan {
		for _, sid := range bp.sids {
			c := bySid[sid]
			if c == nil {
				c = &cursor{sid: sid}
				bySid[sid] = c
				cursors = append(cursors, c)
			}
			c.buckets = append(c.buckets, bp.id)
		}
	}
	defer func() {
		for _, c := range cursors {
			if c.it != nil {
				_ = c.it.Close()
			}
		}
	}()
	h := cursorHeap{backward: s.q.Backward}
	for _, c := range cursors {
		if s.q.Backward {
			for i, j := 0, len(c.buckets)-1; i < j; i, j = i+1, j-1 {
				c.buckets[i], c.buckets[j] = c.buckets[j], c.buckets[i]
			}
		}
		it, err := s.snap.NewIter(nil)
		if err != nil {
			return fmt.Errorf("create iterator: %w", err)
		}
		c.it = it
		ok, err := c.advance(s)
		if err != nil {
			return err
		}
		if ok {
			h.cs = append(h.cs, c)
		}
	}
	h.init()
	for len(h.cs) > 0 {
		if err := s.tick(); err != nil {
			return err
		}
		c := h.cs[0]
		more, err := s.emit(c.sid, c.ts, c.val)
		if err != nil || !more {
			return err
		}
		ok, err := c.advance(s)
		if err != nil {
			return err
		}
		if ok {
			h.down(0)
		} else {
			h.pop()
		}
	}
	return nil
}

// cursor walks the entries of one stream through its buckets.
type cursor struct {
	sid     uint32
	it      *pebble.Iterator
	buckets []int64 // still to visit, in scan order
	inside  bool    // it is positioned within the current bucket
	ts      int64
	val     []byte
	// Backward only: the entries of one time with several sequence
	// numbers, copied, newest last (they are returned oldest first).
	ties   [][2]int
	tieBuf []byte
	lo, hi []byte
}

// setBounds limits the iterator to the cursor's stream in bucket b and to
// the query's time range.
func (c *cursor) setBounds(b int64, q *ScanQuery) {
	c.lo = appendEntryHead(c.lo[:0], b, c.sid)
	c.hi = append(c.hi[:0], c.lo...)
	if bucketOf(q.Through) == b {
		c.hi = appendTimeBound(c.hi, q.Through)
	} else {
		c.hi = prefixEnd(c.hi[:0], c.lo)
	}
	if bucketOf(q.From) == b {
		c.lo = appendTimeBound(c.lo, q.From)
	}
	c.it.SetBounds(c.lo, c.hi)
}

// advance moves to the cursor's next entry in scan order.
func (c *cursor) advance(s *scanner) (bool, error) {
	if s.q.Backward {
		return c.prev(s)
	}
	if c.inside && c.it.Next() {
		return c.load()
	}
	for {
		if err := c.it.Error(); err != nil {
			return false, fmt.Errorf("iterate stream %d: %w", c.sid, err)
		}
		if len(c.buckets) == 0 {
			return false, nil
		}
		c.setBounds(c.buckets[0], &s.q)
		c.buckets = c.buckets[1:]
		if c.inside = c.it.First(); c.inside {
			return c.load()
		}
	}
}

func (c *cursor) load() (bool, error) {
	k := c.it.Key()
	if len(k) < entryKeyLen {
		return false, fmt.Errorf("iterate stream %d: key %x: %w", c.sid, k, errCorrupt)
	}
	c.ts = getTime(k[entryHead:])
	v, err := c.it.ValueAndErr()
	if err != nil {
		return false, fmt.Errorf("read entry of stream %d: %w", c.sid, err)
	}
	c.val = v
	return true, nil
}

// prev moves backward. Entries sharing a time are returned in sequence
// order, so a run of them is copied and replayed.
func (c *cursor) prev(s *scanner) (bool, error) {
	if n := len(c.ties); n > 0 {
		t := c.ties[n-1]
		c.ties = c.ties[:n-1]
		c.val = c.tieBuf[t[0]:t[1]]
		return true, nil
	}
	moved := c.inside && c.it.Prev()
	for !moved {
		if err := c.it.Error(); err != nil {
			return false, fmt.Errorf("iterate stream %d: %w", c.sid, err)
		}
		if len(c.buckets) == 0 {
			return false, nil
		}
		c.setBounds(c.buckets[0], &s.q)
		c.buckets = c.buckets[1:]
		moved = c.it.Last()
		c.inside = moved
	}
	ref, ok := parseEntryKey(c.it.Key())
	if !ok {
		return false, fmt.Errorf("iterate stream %d: key %x: %w", c.sid, c.it.Key(), errCorrupt)
	}
	if ref.seq == 0 {
		return c.load()
	}
	c.ts = ref.ts
	c.tieBuf = c.tieBuf[:0]
	for {
		v, err := c.it.ValueAndErr()
		if err != nil {
			return false, fmt.Errorf("read entry of stream %d: %w", c.sid, err)
		}
		off := len(c.tieBuf)
		c.tieBuf = append(c.tieBuf, v...)
		c.ties = append(c.ties, [2]int{off, len(c.tieBuf)})
		if ref.seq == 0 {
			break
		}
		if !c.it.Prev() {
			c.inside = false
			break
		}
		if ref, ok = parseEntryKey(c.it.Key()); !ok || ref.ts != c.ts {
			c.it.Next()
			break
		}
	}
	return c.prev(s)
}

// cursorHeap orders cursors by time (descending when backward), then by
// stream id ascending.
type cursorHeap struct {
	backward bool
	cs       []*cursor
}

func (h *cursorHeap) less(i, j int) bool {
	a, b := h.cs[i], h.cs[j]
	if a.ts != b.ts {
		return (a.ts < b.ts) != h.backward
	}
	return a.sid < b.sid
}

func (h *cursorHeap) init() {
	for i := len(h.cs)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *cursorHeap) down(i int) {
	n := len(h.cs)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.cs[i], h.cs[m] = h.cs[m], h.cs[i]
		i = m
	}
}

func (h *cursorHeap) pop() {
	n := len(h.cs) - 1
	h.cs[0] = h.cs[n]
	h.cs = h.cs[:n]
	if n > 0 {
		h.down(0)
	}
}
