package pipeline

import (
	"context"
	"sync/atomic"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// Discard is a sink that counts records and keeps none: for benchmarks
// and for measuring capture alone.
type Discard struct {
	n atomic.Uint64
}

var _ Sink = (*Discard)(nil)

// Write counts r.
func (d *Discard) Write(context.Context, *record.Record) error {
	d.n.Add(1)
	return nil
}

// Records is how many records were written.
func (d *Discard) Records() uint64 { return d.n.Load() }
