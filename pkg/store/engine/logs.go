package engine

import (
	"context"
	"slices"
	"strings"

	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/store/storage"
	"github.com/activityaudit/activityaudit/pkg/store/stream"
	"github.com/activityaudit/activityaudit/pkg/store/syntax"
)

// logs evaluates a log query: the first Limit entries in the direction.
func (e *Engine) logs(ctx context.Context, q *syntax.LogExpr, p RangeParams) (*loki.QueryData, error) {
	from, through := p.Start.UnixNano(), p.End.UnixNano()
	streams := e.selectStreams(q.Matchers, from, through)
	data := &loki.QueryData{ResultType: loki.ResultTypeStreams, Streams: []loki.Stream{}}
	if p.Categorize {
		data.EncodingFlags = []string{loki.EncodingFlagCategorizeLabels}
	}
	if len(streams) == 0 {
		return data, nil
	}
	sq := e.scanQuery(q, streams, from, through)
	sq.Backward = p.Direction == loki.Backward

	pl := newPipeline(q.Stages)
	var l entryLabels
	index := map[string]int{} // result stream key -> position in data.Streams
	n := 0
	err := e.db.Scan(ctx, sq, func(h storage.Hit) bool {
		sl, ok := streams[h.Stream]
		if !ok {
			return true
		}
		l.reset(sl, h.Metadata)
		if !pl.run(h.Line, &l) {
			return true
		}
		entry := loki.Entry{Time: h.Time, Line: strings.Clone(h.Line)}
		var key stream.Labels
		if p.Categorize {
			key = sl
			entry.StructuredMetadata = cloneMap(h.Metadata)
			if parsed := l.parsedLabels(); len(parsed) > 0 {
				entry.Parsed = cloneMap(parsed)
			}
		} else {
			key = cloneLabels(l.all())
		}
		k := key.String()
		i, ok := index[k]
		if !ok {
			i = len(data.Streams)
			index[k] = i
			data.Streams = append(data.Streams, loki.Stream{Labels: key.Map()})
		}
		data.Streams[i].Entries = append(data.Streams[i].Entries, entry)
		n++
		return n < p.Limit
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// scanQuery narrows a scan to the selected streams and, when the pipeline
// starts with an equality on indexed structured metadata, to its index.
func (e *Engine) scanQuery(q *syntax.LogExpr, streams map[uint32]stream.Labels, from, through int64) storage.ScanQuery {
	sq := storage.ScanQuery{From: from, Through: through}
	if len(streams) < len(e.db.Streams()) {
		for id := range streams {
			sq.Streams = append(sq.Streams, id)
		}
		slices.Sort(sq.Streams)
	}
	if m := e.leadingMetadataEq(q, streams); m != nil {
		sq.Metadata = m
	}
	return sq
}

// leadingMetadataEq finds name="value" on an indexed metadata name among the
// label filters before any parser, when no selected stream has that label.
func (e *Engine) leadingMetadataEq(q *syntax.LogExpr, streams map[uint32]stream.Labels) *stream.Label {
	for _, st := range q.Stages {
		switch st := st.(type) {
		case *syntax.LineFilter:
			continue
		case *syntax.LabelFilterStage:
			sp, ok := st.Pred.(*syntax.StringPred)
			if !ok || sp.Matcher.Type != syntax.MatchEqual || sp.Matcher.Value == "" || !slices.Contains(e.indexedMeta, sp.Matcher.Name) {
				continue
			}
			for _, ls := range streams {
				if ls.Has(sp.Matcher.Name) {
					return nil
				}
			}
			return &stream.Label{Name: sp.Matcher.Name, Value: sp.Matcher.Value}
		default:
			return nil
		}
	}
	return nil
}

func cloneLabels(ls stream.Labels) stream.Labels {
	out := make(stream.Labels, len(ls))
	for i, l := range ls {
		out[i] = stream.Label{Name: strings.Clone(l.Name), Value: strings.Clone(l.Value)}
	}
	return out
}

func cloneMap(ls stream.Labels) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[strings.Clone(l.Name)] = strings.Clone(l.Value)
	}
	return m
}
