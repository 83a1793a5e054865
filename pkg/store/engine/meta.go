package engine

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/store/storage"
	"github.com/activityaudit/activityaudit/pkg/store/stream"
	"github.com/activityaudit/activityaudit/pkg/store/syntax"
)

// selector parses a stream selector (a log query without stages).
func selector(q string) ([]*syntax.Matcher, error) {
	expr, err := syntax.Parse(q)
	if err != nil {
		return nil, err
	}
	log, ok := expr.(*syntax.LogExpr)
	if !ok {
		return nil, badRequest("parse error : only stream selectors are accepted here, got %s", q)
	}
	return log.Matchers, nil
}

// streamsIn returns the label sets of streams with data in [from, through)
// that match query (a selector; "" for all).
func (e *Engine) streamsIn(query string, from, through time.Time) ([]storage.StreamInfo, error) {
	var ms []*syntax.Matcher
	if query != "" {
		var err error
		if ms, err = selector(query); err != nil {
			return nil, err
		}
	}
	var out []storage.StreamInfo
	f, t := from.UnixNano(), through.UnixNano()
	for _, s := range e.db.Streams() {
		if s.MaxTime < f || s.MinTime >= t || !matchesAll(ms, s.Labels) {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// LabelNames is /loki/api/v1/labels: the stream label names in the range.
func (e *Engine) LabelNames(query string, from, through time.Time) ([]string, error) {
	ss, err := e.streamsIn(query, from, through)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range ss {
		for _, l := range s.Labels {
			if !slices.Contains(names, l.Name) {
				names = append(names, l.Name)
			}
		}
	}
	sort.Strings(names)
	return nonNil(names), nil
}

// LabelValues is /loki/api/v1/label/<name>/values.
func (e *Engine) LabelValues(name, query string, from, through time.Time) ([]string, error) {
	ss, err := e.streamsIn(query, from, through)
	if err != nil {
		return nil, err
	}
	var values []string
	for _, s := range ss {
		if v := s.Labels.Get(name); v != "" && !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	sort.Strings(values)
	return nonNil(values), nil
}

// Series is /loki/api/v1/series: the label sets matching any of the selectors.
func (e *Engine) Series(match []string, from, through time.Time) ([]map[string]string, error) {
	if len(match) == 0 {
		return nil, badRequest("at least one match[] argument must be provided")
	}
	seen := map[string]bool{}
	var out []stream.Labels
	for _, m := range match {
		ss, err := e.streamsIn(m, from, through)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			if k := s.Labels.String(); !seen[k] {
				seen[k] = true
				out = append(out, s.Labels)
			}
		}
	}
	slices.SortFunc(out, func(a, b stream.Labels) int {
		switch x, y := a.String(), b.String(); {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	res := make([]map[string]string, len(out))
	for i, ls := range out {
		res[i] = ls.Map()
	}
	return res, nil
}

// Volume is /loki/api/v1/index/volume: bytes per value of the target labels
// (or per whole stream), largest first, at most limit.
//
// Bytes are counted as Loki's chunks count them, so that the answers equal a
// stock Loki's: the lines, plus the structured metadata as a chunk's symbol
// table stores it — each distinct name and value once per chunk, 8 bytes of
// references per pair — including the detected_level="unknown" pair a stock
// Loki adds to every entry. A chunk is taken as one stream's entries of one
// chunkSpan (Loki's default max chunk age).
func (e *Engine) Volume(ctx context.Context, query string, from, through time.Time, targets []string, limit int) (*loki.QueryData, error) {
	ms, err := selector(query)
	if err != nil {
		return nil, err
	}
	f, t := from.UnixNano(), through.UnixNano()
	streams := e.selectStreams(ms, f, t)
	sums := map[string]float64{}
	labels := map[string]stream.Labels{}
	keyOf := map[uint32]string{}
	names := targets
	if len(names) == 0 {
		names = matcherNames(ms)
	}
	for id, ls := range streams {
		proj := project(ls, names)
		k := proj.String()
		keyOf[id] = k
		labels[k] = proj
	}
	type chunk struct {
		stream uint32
		span   int64
	}
	symbols := map[chunk]map[string]bool{}
	err = e.db.Scan(ctx, storage.ScanQuery{From: f, Through: t}, func(h storage.Hit) bool {
		k, ok := keyOf[h.Stream]
		if !ok {
			return true
		}
		c := chunk{h.Stream, h.Time / int64(chunkSpan)}
		syms := symbols[c]
		if syms == nil {
			syms = map[string]bool{}
			symbols[c] = syms
		}
		size := len(h.Line)
		md := h.Metadata
		if !md.Has(detectedLevel) {
			md = append(slices.Clip(md), stream.Label{Name: detectedLevel, Value: "unknown"})
		}
		for _, l := range md {
			size += 8
			for _, sym := range [2]string{l.Name, l.Value} {
				if !syms[sym] {
					syms[strings.Clone(sym)] = true
					size += len(sym)
				}
			}
		}
		sums[k] += float64(size)
		return true
	})
	if err != nil {
		return nil, err
	}
	d := &loki.QueryData{ResultType: loki.ResultTypeVector, Vector: []loki.Sample{}}
	for k, v := range sums {
		d.Vector = append(d.Vector, loki.Sample{Metric: labels[k].Map(), Value: loki.Point{Time: through.UnixMilli(), Value: v}})
	}
	slices.SortFunc(d.Vector, func(a, b loki.Sample) int { return cmpFloat(b.Value.Value, a.Value.Value) })
	if limit > 0 && len(d.Vector) > limit {
		d.Vector = d.Vector[:limit]
	}
	return d, nil
}

const (
	chunkSpan     = 2 * time.Hour
	detectedLevel = "detected_level"
)

func matcherNames(ms []*syntax.Matcher) []string {
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	return names
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// IndexStats is the answer of /loki/api/v1/index/stats.
type IndexStats struct {
	Streams int64 `json:"streams"`
	Chunks  int64 `json:"chunks"`
	Entries int64 `json:"entries"`
	Bytes   int64 `json:"bytes"`
}

// Stats is /loki/api/v1/index/stats for a selector and range.
func (e *Engine) Stats(query string, from, through time.Time) (IndexStats, error) {
	ms, err := selector(query)
	if err != nil {
		return IndexStats{}, err
	}
	f, t := from.UnixNano(), through.UnixNano()
	streams := e.selectStreams(ms, f, t)
	var st IndexStats
	seen := map[uint32]bool{}
	e.db.Points(f, t, func(sid, _ uint32, _ int64, size uint32) {
		if _, ok := streams[sid]; ok {
			st.Entries++
			st.Bytes += int64(size)
			seen[sid] = true
		}
	})
	st.Streams = int64(len(seen))
	st.Chunks = st.Streams
	return st, nil
}
