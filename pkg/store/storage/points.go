package storage

import (
	"math"
	"math/bits"
	"slices"
	"sort"
	"sync"
	"unsafe"
)

// point is one entry as the in-memory point index holds it.
type point struct {
	ts   int64
	sid  uint32
	gid  uint32
	size uint32
}

// chunkCap is the number of points per chunk: 20 KiB of columns.
const chunkCap = 1024

// chunk holds up to chunkCap points as columns, in insertion order.
type chunk struct {
	n            int
	minTs, maxTs int64
	ts           [chunkCap]int64
	sid          [chunkCap]uint32
	gid          [chunkCap]uint32
	size         [chunkCap]uint32
}

func (c *chunk) add(p point) {
	if c.n == 0 || p.ts < c.minTs {
		c.minTs = p.ts
	}
	if c.n == 0 || p.ts > c.maxTs {
		c.maxTs = p.ts
	}
	c.ts[c.n], c.sid[c.n], c.gid[c.n], c.size[c.n] = p.ts, p.sid, p.gid, p.size
	c.n++
}

// bucket holds the points of one time bucket.
type bucket struct {
	id     int64
	n      int
	chunks []*chunk
	// present has a bit per stream id, set before a write that adds
	// entries of that stream to the bucket commits: a superset of the
	// streams with entries in the bucket, which Scan uses to skip streams.
	present []uint64
}

func (b *bucket) add(p point) {
	if len(b.chunks) == 0 || b.chunks[len(b.chunks)-1].n == chunkCap {
		b.chunks = append(b.chunks, new(chunk))
	}
	b.chunks[len(b.chunks)-1].add(p)
	b.n++
}

func (b *bucket) mark(sid uint32) {
	w := int(sid / 64)
	if w >= len(b.present) {
		b.present = append(b.present, make([]uint64, w+1-len(b.present))...)
	}
	b.present[w] |= 1 << (sid % 64)
}

// streams appends the ids of the streams marked present.
func (b *bucket) streams(dst []uint32) []uint32 {
	for w, word := range b.present {
		for word != 0 {
			dst = append(dst, uint32(w*64+bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
	return dst
}

// pointIndex is the in-memory index of every stored entry: time, stream,
// group and line length, 20 bytes per entry in chunks of columns per hour.
type pointIndex struct {
	mu      sync.RWMutex
	buckets []*bucket // sorted by id
	n       int
}

// bucketLocked returns bucket id, creating it.
func (x *pointIndex) bucketLocked(id int64) *bucket {
	i := sort.Search(len(x.buckets), func(i int) bool { return x.buckets[i].id >= id })
	if i < len(x.buckets) && x.buckets[i].id == id {
		return x.buckets[i]
	}
	b := &bucket{id: id}
	x.buckets = slices.Insert(x.buckets, i, b)
	return b
}

// markPresent records that the points' streams have entries in their
// buckets. It is called before the write adding them commits.
func (x *pointIndex) markPresent(ps []point) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var b *bucket
	for _, p := range ps {
		if id := bucketOf(p.ts); b == nil || b.id != id {
			b = x.bucketLocked(id)
		}
		b.mark(p.sid)
	}
}

// add adds points; their buckets are marked present already.
func (x *pointIndex) add(ps []point) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.addLocked(ps)
}

func (x *pointIndex) addLocked(ps []point) {
	var b *bucket
	for _, p := range ps {
		if id := bucketOf(p.ts); b == nil || b.id != id {
			b = x.bucketLocked(id)
		}
		b.add(p)
	}
	x.n += len(ps)
}

// each calls fn for every point with from <= ts < through.
func (x *pointIndex) each(from, through int64, fn func(sid, gid uint32, ts int64, size uint32)) {
	if from >= through {
		return
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	lo, hi := bucketOf(from), bucketOf(through-1)
	i := sort.Search(len(x.buckets), func(i int) bool { return x.buckets[i].id >= lo })
	for ; i < len(x.buckets) && x.buckets[i].id <= hi; i++ {
		for _, c := range x.buckets[i].chunks {
			n := c.n
			if c.minTs >= from && c.maxTs < through {
				for j := range n {
					fn(c.sid[j], c.gid[j], c.ts[j], c.size[j])
				}
				continue
			}
			for j := range n {
				if ts := c.ts[j]; ts >= from && ts < through {
					fn(c.sid[j], c.gid[j], ts, c.size[j])
				}
			}
		}
	}
}

// bucketPlan lists the streams that may have entries in one bucket.
type bucketPlan struct {
	id   int64
	sids []uint32
}

// plan returns, ascending, the buckets overlapping [from, through) with the
// streams that may have entries in each, restricted to want (nil = all).
func (x *pointIndex) plan(from, through int64, want func(uint32) bool) []bucketPlan {
	if from >= through {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	lo, hi := bucketOf(from), bucketOf(through-1)
	var out []bucketPlan
	i := sort.Search(len(x.buckets), func(i int) bool { return x.buckets[i].id >= lo })
	for ; i < len(x.buckets) && x.buckets[i].id <= hi; i++ {
		sids := x.buckets[i].streams(nil)
		if want != nil {
			sids = slices.DeleteFunc(sids, func(s uint32) bool { return !want(s) })
		}
		if len(sids) > 0 {
			out = append(out, bucketPlan{id: x.buckets[i].id, sids: sids})
		}
	}
	return out
}

// firstBucket returns the oldest bucket id.
func (x *pointIndex) firstBucket() (int64, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(x.buckets) == 0 {
		return 0, false
	}
	return x.buckets[0].id, true
}

// deleteBefore drops the points with ts < cutoff and returns how many.
func (x *pointIndex) deleteBefore(cutoff int64) int64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	cb := bucketOf(cutoff)
	var deleted int64
	i := 0
	for ; i < len(x.buckets) && x.buckets[i].id < cb; i++ {
		deleted += int64(x.buckets[i].n)
	}
	clear(x.buckets[:i])
	x.buckets = slices.Delete(x.buckets, 0, i)
	if len(x.buckets) > 0 && x.buckets[0].id == cb {
		b := x.buckets[0]
		kept := &bucket{id: b.id, present: b.present}
		for _, c := range b.chunks {
			if c.minTs >= cutoff {
				kept.chunks = append(kept.chunks, c) // keeps order of full chunks
				kept.n += c.n
				continue
			}
			for j := range c.n {
				if c.ts[j] >= cutoff {
					kept.add(point{ts: c.ts[j], sid: c.sid[j], gid: c.gid[j], size: c.size[j]})
				}
			}
		}
		deleted += int64(b.n - kept.n)
		if kept.n == 0 {
			x.buckets = slices.Delete(x.buckets, 0, 1)
		} else {
			x.buckets[0] = kept
		}
	}
	x.n -= int(deleted)
	return deleted
}

// timeAtRank returns the time of the point of rank k (0-based) in time
// order.
func (x *pointIndex) timeAtRank(k int) (int64, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, b := range x.buckets {
		if k >= b.n {
			k -= b.n
			continue
		}
		ts := make([]int64, 0, b.n)
		for _, c := range b.chunks {
			ts = append(ts, c.ts[:c.n]...)
		}
		slices.Sort(ts)
		return ts[k], true
	}
	return 0, false
}

// streamStats is what Streams reports about one stream.
type streamStats struct {
	entries, bytes int64
	min, max       int64
}

// stats computes the per-stream statistics of all points, by stream id.
func (x *pointIndex) stats() []streamStats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var st []streamStats
	for _, b := range x.buckets {
		for _, c := range b.chunks {
			for j := range c.n {
				sid := int(c.sid[j])
				if sid >= len(st) {
					st = append(st, make([]streamStats, sid+1-len(st))...)
				}
				s := &st[sid]
				s.add(c.ts[j], c.size[j])
			}
		}
	}
	return st
}

func (s *streamStats) add(ts int64, size uint32) {
	if s.entries == 0 {
		s.min, s.max = math.MaxInt64, math.MinInt64
	}
	s.entries++
	s.bytes += int64(size)
	s.min = min(s.min, ts)
	s.max = max(s.max, ts)
}

// memBytes is the memory held by the chunks.
func (x *pointIndex) memBytes() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var n int64
	for _, b := range x.buckets {
		n += int64(len(b.chunks)) * int64(unsafe.Sizeof(chunk{}))
	}
	return n
}

// count returns the number of points.
func (x *pointIndex) count() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

// present returns the streams marked present in bucket id.
func (x *pointIndex) present(id int64) []uint32 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	i := sort.Search(len(x.buckets), func(i int) bool { return x.buckets[i].id >= id })
	if i < len(x.buckets) && x.buckets[i].id == id {
		return x.buckets[i].streams(nil)
	}
	return nil
}

// clear drops every point and returns how many there were.
func (x *pointIndex) clear() int64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := int64(x.n)
	x.buckets, x.n = nil, 0
	return n
}

// Points calls fn for every stored entry with from <= time < through, in no
// particular order, from the in-memory point index, without touching disk:
// its stream id, group (the id of its GroupMetadata values, 0 when it has
// none of them; see Group), time and line length. fn runs under the point
// index's read lock: it must not call Append or Enforce.
func (db *DB) Points(from, through int64, fn func(stream uint32, group uint32, time int64, bytes uint32)) {
	db.idx.each(from, through, fn)
}
