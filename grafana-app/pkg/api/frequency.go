package api

import (
	"context"
	"math"
	"net/http"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/timerange"
	"golang.org/x/sync/errgroup"
)

// MaxBuckets bounds the buckets of one frequency answer (Loki's own limit
// on the points of a range query is 11,000).
const MaxBuckets = 11000

// FrequencyAnswer is the answer of /frequency.
type FrequencyAnswer struct {
	// From and To are the range, Unix ms; Step the bucket width, ms.
	From int64 `json:"from"`
	To   int64 `json:"to"`
	Step int64 `json:"step"`
	// Times are the buckets' starts, Unix ms: bucket i holds the records
	// in [Times[i], Times[i]+Step), the last one cut at To.
	Times []int64 `json:"times"`
	// Series has one entry per selected source, in display order.
	Series []FrequencySeries `json:"series"`
	// Total counts every record in the range.
	Total int64 `json:"total"`
}

// FrequencySeries is one source's counts.
type FrequencySeries struct {
	Source field.Source `json:"source"`
	Title  string       `json:"title"`
	Counts []int64      `json:"counts"`
	Total  int64        `json:"total"`
}

// frequency counts records per source in buckets:
//
//	GET /frequency?from&to&sources&filter&step=5m
//
// The step is the smallest round step giving at most 300 buckets unless
// step overrides it (at least 1s). Buckets start at from and partition
// [from, to) exactly, so the totals equal what /events would list.
func (a *API) frequency(ctx context.Context, r *http.Request) (any, error) {
	p, err := a.readParams(r, time.Hour)
	if err != nil {
		return nil, err
	}
	span := p.To.Sub(p.From)
	step := logql.Step(p.From, p.To)
	if s := r.URL.Query().Get("step"); s != "" {
		step, err = timerange.ParseDuration(s)
		if err != nil || step < time.Second {
			return nil, badParam("step", "%q: want a duration of at least 1s, like 30s, 5m or 1h", s)
		}
	}
	step = min(step, span)
	n := int((span + step - 1) / step)
	if n > MaxBuckets {
		return nil, badParam("step", "%s makes %d buckets over the range, more than %d: choose a longer step", logql.Duration(step), n, MaxBuckets)
	}
	full := int(span / step) // buckets of a whole step; the last may be cut at to

	sources := selected(p.Scope.Sources)
	counts := make(map[field.Source][]int64, len(sources))
	for _, s := range sources {
		counts[s] = make([]int64, n)
	}
	var partial []loki.Sample
	g, gctx := errgroup.WithContext(ctx)
	var matrix []loki.Series
	if full > 0 {
		// Loki counts (t-step, t] at t = start + k*step: evaluating at
		// from + (k+1)*step - 1ns counts [from + k*step, from + (k+1)*step).
		req, err := logql.Frequency(p.Scope, p.From, p.To, step)
		if err != nil {
			return nil, err
		}
		req.Start = p.From.Add(step - time.Nanosecond)
		req.End = p.From.Add(time.Duration(full)*step - time.Nanosecond)
		g.Go(func() (err error) {
			matrix, err = a.store.matrix(gctx, req)
			return err
		})
	}
	if full < n {
		lastStart := p.From.Add(time.Duration(full) * step)
		req, err := logql.Groups(p.Scope, []string{"source"}, lastStart, p.To)
		if err != nil {
			return nil, err
		}
		req.Time = p.To.Add(-time.Nanosecond) // [lastStart, to)
		g.Go(func() (err error) {
			partial, err = a.store.vector(gctx, req)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, s := range matrix {
		c := counts[field.Source(s.Metric["source"])]
		if c == nil {
			continue
		}
		for _, pt := range s.Values {
			// Points come in whole ms: t_k truncated is from + (k+1)*step - 1ms,
			// from and step being whole ms.
			d := pt.Time*int64(time.Millisecond) - p.From.UnixNano()
			if k := int(d / int64(step)); d >= 0 && k < full {
				c[k] += int64(math.Round(pt.Value))
			}
		}
	}
	for _, s := range partial {
		if c := counts[field.Source(s.Metric["source"])]; c != nil {
			c[n-1] += int64(math.Round(s.Value.Value))
		}
	}

	ans := FrequencyAnswer{From: ms(p.From), To: ms(p.To), Step: step.Milliseconds(), Times: make([]int64, n)}
	for i := range ans.Times {
		ans.Times[i] = ms(p.From.Add(time.Duration(i) * step))
	}
	for _, s := range sources {
		fs := FrequencySeries{Source: s, Title: field.SourceTitle(s), Counts: counts[s]}
		for _, v := range fs.Counts {
			fs.Total += v
		}
		ans.Total += fs.Total
		ans.Series = append(ans.Series, fs)
	}
	return ans, nil
}
