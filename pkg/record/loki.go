package record

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/activityaudit/activityaudit/pkg/jsonscan"
	"github.com/activityaudit/activityaudit/pkg/loki"
)

// FromStreams decodes every entry of a Loki streams answer — in the merged or
// the categorize-labels form — into records ordered by time in direction dir
// (ties keep Loki's order).
func FromStreams(streams []loki.Stream, dir loki.Direction) ([]Record, error) {
	n := 0
	for _, s := range streams {
		n += len(s.Entries)
	}
	recs := make([]Record, 0, n)
	for _, s := range streams {
		for _, e := range s.Entries {
			r, err := Decode(e.Time, s.Labels, e.StructuredMetadata, e.Line)
			if err != nil {
				return nil, fmt.Errorf("decode entry at %d: %w", e.Time, err)
			}
			recs = append(recs, r)
		}
	}
	slices.SortStableFunc(recs, func(a, b Record) int {
		if dir == loki.Forward {
			return cmp.Compare(a.Time, b.Time)
		}
		return cmp.Compare(b.Time, a.Time)
	})
	return recs, nil
}

// DecodeLogEntry rebuilds a record into r from a flat Loki entry (what
// loki.Client.QueryLogs returns), as Decode does from maps: stream labels,
// then structured metadata, then the line; parsed labels are not read. The
// line is read where it lies in the answer when it can be (see
// jsonscan.ObjectQuoted); the record's strings share memory with the
// entry's.
func DecodeLogEntry(e *loki.LogEntry, r *Record) error {
	*r = Record{Time: e.Time}
	for _, l := range e.Stream {
		r.setLabel(l.Name, l.Value)
	}
	for _, l := range e.Metadata {
		r.setLabel(l.Name, l.Value)
	}
	err := jsonscan.ObjectQuoted(e.Quoted, r.setBody)
	if errors.Is(err, jsonscan.ErrNotInPlace) {
		return r.decodeBody(e.Line()) // sets again the fields already read
	}
	if err != nil {
		return fmt.Errorf("decode record body: %w", err)
	}
	return nil
}
