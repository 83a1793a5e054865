package api

import (
	"cmp"
	"context"
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

// entry is a record with its id and its JSON object.
type entry struct {
	id  uint64
	rec *record.Record
	obj []byte // appendRecord's
}

// logs runs a log query (kind Range) and returns its records in the
// query's direction, ties by id, each with its id and its JSON object,
// held until release.
func (s *requestStore) logs(ctx context.Context, req logql.Request) ([]entry, error) {
	recs, err := s.decode(ctx, req, false)
	if err != nil {
		return nil, err
	}
	out := make([]entry, len(recs))
	ends := make([]int, len(recs))
	objs := answerBuffer(len(recs) * recordSizeHint)
	for i := range recs {
		objs, out[i].id = appendRecord(objs, &recs[i])
		ends[i] = len(objs)
	}
	s.objs = append(s.objs, objs)
	start := 0
	for i := range recs {
		out[i].rec, out[i].obj = &recs[i], objs[start:ends[i]:ends[i]]
		start = ends[i]
	}
	// Entries are sorted, not records: records are large to move.
	sortByTime(out, func(e *entry) (int64, uint64) { return e.rec.Time, e.id }, req.Direction == logql.Forward)
	return out, nil
}

// recordSizeHint is about the size of a record's JSON object.
const recordSizeHint = 512

// Record slices of answers are reused (no clearing of a large allocation
// each time), up to a page's worth.
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

// requestStore is store for one request: the records it decodes and the
// record objects it writes come from pools, and go back to them with
// release, once the answer is written.
type requestStore struct {
	store
	records []*[]record.Record
	objs    [][]byte
}

// decode is decodeInto a pooled record slice, held until release.
func (s *requestStore) decode(ctx context.Context, req logql.Request, sorted bool) ([]record.Record, error) {
	pooled := recordPool.Get().(*[]record.Record)
	recs, err := s.decodeInto(ctx, req, sorted, *pooled)
	if err != nil {
		recordPool.Put(pooled)
		return nil, err
	}
	*pooled = recs
	s.records = append(s.records, pooled)
	return recs, nil
}

// Records makes requestStore a trace.Querier: the records in the query's
// direction, ties in Loki's order (as record.FromStreams orders them).
func (s *requestStore) Records(ctx context.Context, req logql.Request) ([]record.Record, error) {
	return s.decode(ctx, req, true)
}

// release gives the records and objects back: nothing may use them after.
func (s *requestStore) release() {
	for _, p := range s.records {
		if cap(*p) <= maxPooledRecords {
			recordPool.Put(p)
		}
	}
	for _, b := range s.objs {
		releaseAnswer(b)
	}
	s.records, s.objs = nil, nil
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
