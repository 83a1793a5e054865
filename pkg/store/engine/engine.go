// Package engine evaluates the embedded store's LogQL subset over its
// storage and answers in Loki's own result types.
package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/store/storage"
	"github.com/activityaudit/activityaudit/pkg/store/stream"
	"github.com/activityaudit/activityaudit/pkg/store/syntax"
)

// Storage is what the engine reads; *storage.DB implements it.
type Storage interface {
	Streams() []storage.StreamInfo
	Scan(ctx context.Context, q storage.ScanQuery, fn func(storage.Hit) bool) error
	Points(from, through int64, fn func(stream, group uint32, time int64, bytes uint32))
	Group(id uint32) stream.Labels
}

// Engine answers queries.
type Engine struct {
	db Storage
	// groupMeta are the metadata names the storage keeps in its point index.
	groupMeta []string
	// indexedMeta are the metadata names the storage indexes for equality.
	indexedMeta []string
	// MaxSeries bounds the series of a metric answer, as Loki's max_query_series.
	MaxSeries int
	// MaxPoints bounds the steps of a range query (Loki: 11,000).
	MaxPoints int
}

// New makes an engine over db.
func New(db Storage, groupMeta, indexedMeta []string) *Engine {
	return &Engine{db: db, groupMeta: groupMeta, indexedMeta: indexedMeta, MaxSeries: 50000, MaxPoints: 11000}
}

// BadRequest is an error in the query or its parameters: an HTTP 400, with
// Loki's wording where Loki has one.
type BadRequest struct{ Msg string }

func (e *BadRequest) Error() string { return e.Msg }

func badRequest(format string, args ...any) error {
	return &BadRequest{Msg: fmt.Sprintf(format, args...)}
}

// IsBadRequest reports whether err is the caller's fault (an HTTP 400).
func IsBadRequest(err error) bool {
	var br *BadRequest
	var pe *syntax.ParseError
	var ue *syntax.UnsupportedError
	return errors.As(err, &br) || errors.As(err, &pe) || errors.As(err, &ue)
}

// RangeParams are the parameters of /loki/api/v1/query_range.
type RangeParams struct {
	Query      string
	Start, End time.Time
	Step       time.Duration
	Limit      int
	Direction  loki.Direction
	Categorize bool
}

// InstantParams are the parameters of /loki/api/v1/query.
type InstantParams struct {
	Query      string
	Time       time.Time
	Limit      int
	Direction  loki.Direction
	Categorize bool
}

// QueryRange evaluates a log or metric query over a range.
func (e *Engine) QueryRange(ctx context.Context, p RangeParams) (*loki.QueryData, error) {
	expr, err := syntax.Parse(p.Query)
	if err != nil {
		return nil, err
	}
	if p.Direction == "" {
		p.Direction = loki.Backward
	}
	if p.Direction != loki.Backward && p.Direction != loki.Forward {
		return nil, badRequest("invalid direction %q", p.Direction)
	}
	if p.Limit < 0 {
		return nil, badRequest("limit must be a positive value")
	}
	if p.End.Before(p.Start) {
		return nil, badRequest("end timestamp must not be before or equal to start time")
	}
	if log, ok := expr.(*syntax.LogExpr); ok {
		if p.Limit == 0 {
			p.Limit = 100
		}
		return e.logs(ctx, log, p)
	}
	if p.Step <= 0 {
		return nil, badRequest("zero or negative query resolution step widths are not accepted. Try a positive integer")
	}
	steps := int(p.End.Sub(p.Start)/p.Step) + 1
	if steps > e.MaxPoints {
		return nil, badRequest("exceeded maximum resolution of %d points per timeseries. Try decreasing the query resolution (?step=XX)", e.MaxPoints)
	}
	grid := stepGrid{start: p.Start.UnixNano(), step: int64(p.Step), n: steps}
	res, err := e.metric(ctx, expr, grid)
	if err != nil {
		return nil, err
	}
	return res.matrix(grid), nil
}

// Query evaluates a metric query at one instant. Log queries are refused, as
// Loki refuses them.
func (e *Engine) Query(ctx context.Context, p InstantParams) (*loki.QueryData, error) {
	expr, err := syntax.Parse(p.Query)
	if err != nil {
		return nil, err
	}
	if syntax.IsLogQuery(expr) {
		return nil, badRequest("log queries are not supported as an instant query type, please change your query to a range query type")
	}
	grid := stepGrid{start: p.Time.UnixNano(), step: 1, n: 1}
	res, err := e.metric(ctx, expr, grid)
	if err != nil {
		return nil, err
	}
	return res.vector(grid), nil
}

// selectStreams returns the streams a selector matches that have data in
// [from, through).
func (e *Engine) selectStreams(ms []*syntax.Matcher, from, through int64) map[uint32]stream.Labels {
	out := map[uint32]stream.Labels{}
	for _, s := range e.db.Streams() {
		if s.MaxTime < from || s.MinTime >= through {
			continue
		}
		if matchesAll(ms, s.Labels) {
			out[s.ID] = s.Labels
		}
	}
	return out
}

func matchesAll(ms []*syntax.Matcher, ls stream.Labels) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}
