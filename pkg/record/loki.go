package record

import (
	"cmp"
	"fmt"
	"slices"

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
