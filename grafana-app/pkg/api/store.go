package api

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// store runs compiled queries on Loki (or the embedded store). Every error
// it returns is an upstreamError, so that the handlers answer 502 (or 504
// for a timeout) with Loki's own message.
type store struct {
	client *loki.Client
}

// upstreamError is a failure of Loki or of the way to it.
type upstreamError struct{ err error }

func (e *upstreamError) Error() string { return e.err.Error() }
func (e *upstreamError) Unwrap() error { return e.err }

func upstream(err error) error {
	if err == nil {
		return nil
	}
	return &upstreamError{err}
}

// entry is a record with its id.
type entry struct {
	id  uint64
	rec *record.Record
}

// logs runs a log query (kind Range) and returns its records in the
// query's direction, ties by id, each with its id. The records come from a
// pool: call release once done with them.
func (s store) logs(ctx context.Context, req logql.Request) (_ []entry, release func(), _ error) {
	pooled := recordPool.Get().(*[]record.Record)
	recs, err := s.decodeInto(ctx, req, false, *pooled)
	if err != nil {
		recordPool.Put(pooled)
		return nil, nil, err
	}
	release = func() {
		if cap(recs) <= maxPooledRecords {
			*pooled = recs
			recordPool.Put(pooled)
		}
	}
	ptrs := make([]*record.Record, len(recs))
	for i := range recs {
		ptrs[i] = &recs[i]
	}
	ids := recordIDs(ptrs)
	out := make([]entry, len(recs))
	for i := range recs {
		out[i] = entry{id: ids[i], rec: &recs[i]}
	}
	// Pointers are sorted: records are large to move.
	sortByTime(out, func(e *entry) (int64, uint64) { return e.rec.Time, e.id }, req.Direction == logql.Forward)
	return out, release, nil
}

// Record slices of the events answers are reused (no clearing of a large
// allocation each time), up to a page's worth.
const maxPooledRecords = MaxLimit + 64

var recordPool = sync.Pool{New: func() any { return new([]record.Record) }}

// decodeInto runs a log query and decodes its entries into dst's room:
// in Loki's order, or, when sorted, by time in the query's direction, ties
// in Loki's order (each record is decoded in its place: records are large
// to move).
func (s store) decodeInto(ctx context.Context, req logql.Request, sorted bool, dst []record.Record) ([]record.Record, error) {
	logs, err := s.client.QueryLogs(ctx, loki.RangeQuery{
		Query: req.Query, Start: req.Start, End: req.End, Limit: req.Limit, Direction: loki.Direction(req.Direction), Categorize: true,
	})
	if err != nil {
		return nil, upstream(err)
	}
	entries := logs.Entries
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	if sorted {
		slices.SortStableFunc(order, func(a, b int) int {
			if req.Direction == logql.Forward {
				return cmp.Compare(entries[a].Time, entries[b].Time)
			}
			return cmp.Compare(entries[b].Time, entries[a].Time)
		})
	}
	recs := slices.Grow(dst[:0], len(entries))[:len(entries)]
	for i, k := range order {
		e := &entries[k]
		if err := record.DecodeLogEntry(e, &recs[i]); err != nil {
			return nil, upstream(fmt.Errorf("query loki: decode entry at %d: %w", e.Time, err))
		}
	}
	return recs, nil
}

// Records makes store a trace.Querier: the records in the query's
// direction, ties in Loki's order (as record.FromStreams orders them).
func (s store) Records(ctx context.Context, req logql.Request) ([]record.Record, error) {
	return s.decodeInto(ctx, req, true, nil)
}

// permute puts items[order[i]] at i, in place, moving each item once
// (records are large). It spends order.
func permute[T any](items []T, order []int) {
	for i := range order {
		if order[i] < 0 {
			continue // moved with an earlier cycle
		}
		tmp := items[i]
		for j := i; ; {
			k := order[j]
			order[j] = -1
			if k == i {
				items[j] = tmp
				break
			}
			items[j] = items[k]
			j = k
		}
	}
}

// vector runs an instant metric query.
func (s store) vector(ctx context.Context, req logql.Request) ([]loki.Sample, error) {
	resp, err := s.client.Query(ctx, loki.InstantQuery{Query: req.Query, Time: req.Time})
	if err != nil {
		return nil, upstream(err)
	}
	if t := resp.Data.ResultType; t != loki.ResultTypeVector {
		return nil, upstream(fmt.Errorf("query loki: got a %s result, want a vector", t))
	}
	return resp.Data.Vector, nil
}

// matrix runs a metric range query.
func (s store) matrix(ctx context.Context, req logql.Request) ([]loki.Series, error) {
	resp, err := s.client.QueryRange(ctx, loki.RangeQuery{Query: req.Query, Start: req.Start, End: req.End, Step: req.Step})
	if err != nil {
		return nil, upstream(err)
	}
	if t := resp.Data.ResultType; t != loki.ResultTypeMatrix {
		return nil, upstream(fmt.Errorf("query loki: got a %s result, want a matrix", t))
	}
	return resp.Data.Matrix, nil
}

// recordID identifies a record by its Loki entry — time, stream labels,
// structured metadata and line — the same whichever Loki (or embedded
// store) answered and whichever query found it. Loki keeps one entry per
// (stream, time, line), so distinct entries have distinct ids (up to
// 64-bit hash collisions). buf is scratch space, returned for reuse.
func recordID(r *record.Record, buf []byte) (uint64, []byte) {
	buf = appendIdentity(buf[:0], r)
	return fnv1a(buf), buf
}

// appendIdentity appends what recordID hashes: the time (8 bytes, little
// endian), each stream-label and structured-metadata value in registry
// order followed by 0xff (which no value holds), and the line as the
// record encodes it.
func appendIdentity(b []byte, r *record.Record) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(r.Time))
	for _, v := range r.LokiLabelValues() {
		b = append(b, v...)
		b = append(b, 0xff)
	}
	return r.AppendLine(b)
}

// recordIDs is recordID of each record.
func recordIDs(rs []*record.Record) []uint64 {
	return hashAll(len(rs), func(b []byte, i int) []byte { return appendIdentity(b, rs[i]) })
}

// hashAll returns the FNV-1a hashes of n byte strings, the i-th appended
// to b by item. They are hashed four at a time, interleaved: FNV-1a is a
// chain of dependent multiplications, which the CPU overlaps when there
// are several chains.
func hashAll(n int, item func(b []byte, i int) []byte) []uint64 {
	hs := make([]uint64, n)
	buf := make([]byte, 0, 4096)
	var ends [5]int
	for i := 0; i < n; i += 4 {
		m := min(4, n-i)
		buf = buf[:0]
		for j := range m {
			buf = item(buf, i+j)
			ends[j+1] = len(buf)
		}
		var parts [4][]byte
		for j := range m {
			parts[j] = buf[ends[j]:ends[j+1]]
		}
		h := fnv1a4(parts)
		copy(hs[i:i+m], h[:m])
	}
	return hs
}

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnv1a(b []byte) uint64 { return fnvMore(fnvOffset, b) }

func fnvMore(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

// fnv1a4 is fnv1a of four byte strings, interleaved over their common
// length.
func fnv1a4(p [4][]byte) [4]uint64 {
	n := min(len(p[0]), len(p[1]), len(p[2]), len(p[3]))
	a, b, c, d := p[0][:n], p[1][:n], p[2][:n], p[3][:n]
	ha, hb, hc, hd := uint64(fnvOffset), uint64(fnvOffset), uint64(fnvOffset), uint64(fnvOffset)
	for i := range a {
		ha = (ha ^ uint64(a[i])) * fnvPrime
		hb = (hb ^ uint64(b[i])) * fnvPrime
		hc = (hc ^ uint64(c[i])) * fnvPrime
		hd = (hd ^ uint64(d[i])) * fnvPrime
	}
	return [4]uint64{fnvMore(ha, p[0][n:]), fnvMore(hb, p[1][n:]), fnvMore(hc, p[2][n:]), fnvMore(hd, p[3][n:])}
}

// sortByTime orders items by time, oldest first when forward, else newest
// first; ties by id, so that an answer does not depend on the order of
// Loki's streams. The keys are sorted apart and the items moved once, in
// place.
func sortByTime[T any](items []T, key func(*T) (int64, uint64), forward bool) {
	keys := make([]sortKey, len(items))
	for i := range items {
		t, id := key(&items[i])
		keys[i] = sortKey{time: t, id: id, index: i}
	}
	if forward {
		slices.SortFunc(keys, compareForward)
	} else {
		slices.SortFunc(keys, compareBackward)
	}
	order := make([]int, len(keys))
	for i, k := range keys {
		order[i] = k.index
	}
	permute(items, order)
}

type sortKey struct {
	time  int64
	id    uint64
	index int
}

func compareForward(a, b sortKey) int {
	if c := cmp.Compare(a.time, b.time); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

func compareBackward(a, b sortKey) int {
	if c := cmp.Compare(b.time, a.time); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}
