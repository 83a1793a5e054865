package api

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
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
// query's direction, ties by id, each with its id.
func (s store) logs(ctx context.Context, req logql.Request) ([]entry, error) {
	recs, err := s.decode(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]entry, len(recs))
	var buf []byte
	for i := range recs {
		var id uint64
		id, buf = recordID(&recs[i], buf)
		out[i] = entry{id: id, rec: &recs[i]}
	}
	// Pointers are sorted: records are large to move.
	sortByTime(out, func(e *entry) (int64, uint64) { return e.rec.Time, e.id }, req.Direction == logql.Forward)
	return out, nil
}

// decode runs a log query and decodes its entries, in Loki's order.
func (s store) decode(ctx context.Context, req logql.Request) ([]record.Record, error) {
	streams, err := s.streams(ctx, req.Query, req.Start, req.End, req.Limit, loki.Direction(req.Direction))
	if err != nil {
		return nil, err
	}
	n := 0
	for _, st := range streams {
		n += len(st.Entries)
	}
	recs := make([]record.Record, 0, n)
	for _, st := range streams {
		for _, e := range st.Entries {
			r, err := record.Decode(e.Time, st.Labels, e.StructuredMetadata, e.Line)
			if err != nil {
				return nil, upstream(fmt.Errorf("query loki: decode entry at %d: %w", e.Time, err))
			}
			recs = append(recs, r)
		}
	}
	return recs, nil
}

// streams runs a log query and returns Loki's streams (categorized form:
// stream labels apart from each entry's structured metadata).
func (s store) streams(ctx context.Context, query string, start, end time.Time, limit int, dir loki.Direction) ([]loki.Stream, error) {
	resp, err := s.client.QueryRange(ctx, loki.RangeQuery{
		Query: query, Start: start, End: end, Limit: limit, Direction: dir, Categorize: true,
	})
	if err != nil {
		return nil, upstream(err)
	}
	if t := resp.Data.ResultType; t != loki.ResultTypeStreams {
		return nil, upstream(fmt.Errorf("query loki: got a %s result, want streams", t))
	}
	return resp.Data.Streams, nil
}

// Records makes store a trace.Querier: the records in the query's
// direction, ties in Loki's order (as record.FromStreams orders them).
func (s store) Records(ctx context.Context, req logql.Request) ([]record.Record, error) {
	recs, err := s.decode(ctx, req)
	if err != nil {
		return nil, err
	}
	order := make([]*record.Record, len(recs))
	for i := range recs {
		order[i] = &recs[i]
	}
	slices.SortStableFunc(order, func(a, b *record.Record) int {
		if req.Direction == logql.Forward {
			return cmp.Compare(a.Time, b.Time)
		}
		return cmp.Compare(b.Time, a.Time)
	})
	out := make([]record.Record, len(order))
	for i, r := range order {
		out[i] = *r
	}
	return out, nil
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
	h := uint64(fnvOffset)
	for i := range 8 {
		h = (h ^ uint64(byte(r.Time>>(8*i)))) * fnvPrime
	}
	for _, f := range idFields {
		v, _ := r.Text(f)
		h = fnvString(h, v)
		h = (h ^ 0xff) * fnvPrime // separator: no value holds 0xff
	}
	buf = r.AppendLine(buf[:0])
	for _, c := range buf {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h, buf
}

// idFields are the fields outside the line: stream labels and structured
// metadata (strings all).
var idFields = func() []string {
	var names []string
	for _, f := range field.All() {
		if f.Role == field.Label || f.Role == field.Metadata {
			names = append(names, f.Name)
		}
	}
	return names
}()

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// sortByTime orders items by time, oldest first when forward, else newest
// first; ties by id, so that an answer does not depend on the order of
// Loki's streams.
func sortByTime[T any](items []T, key func(*T) (int64, uint64), forward bool) {
	slices.SortFunc(items, func(a, b T) int {
		ta, ia := key(&a)
		tb, ib := key(&b)
		if c := cmp.Compare(ta, tb); c != 0 {
			if forward {
				return c
			}
			return -c
		}
		return cmp.Compare(ia, ib)
	})
}
