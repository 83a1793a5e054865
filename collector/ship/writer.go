package ship

import (
	"context"
	"errors"
	"fmt"

	"github.com/activityaudit/activityaudit/collector/spool"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// maxBuffered is how many records a Writer holds before it appends them
// to the spool without waiting for a Flush.
const maxBuffered = 512

// Writer is the pipeline's sink: it encodes records into spool entries
// and appends them to the spool in batches (one write per Flush). Not safe
// for concurrent use.
type Writer struct {
	spool   *spool.Spool
	buf     []byte
	ends    []int
	entries [][]byte
	// Written is called after each successful append with the records
	// it held (e.g. to keep a ledger in load tests); may be nil.
	Written func(records []*record.Record)
	pending []*record.Record
}

// NewWriter makes a sink appending to sp.
func NewWriter(sp *spool.Spool) *Writer { return &Writer{spool: sp} }

// Write encodes r and buffers it.
func (w *Writer) Write(ctx context.Context, r *record.Record) error {
	e := record.Encode(r)
	w.buf = AppendEntry(w.buf, &e)
	w.ends = append(w.ends, len(w.buf))
	if w.Written != nil {
		w.pending = append(w.pending, r)
	}
	if len(w.ends) >= maxBuffered {
		return w.Flush(ctx)
	}
	return nil
}

// Flush appends the buffered entries to the spool.
func (w *Writer) Flush(ctx context.Context) error {
	if len(w.ends) == 0 {
		return nil
	}
	w.entries = w.entries[:0]
	start := 0
	for _, end := range w.ends {
		w.entries = append(w.entries, w.buf[start:end])
		start = end
	}
	err := w.spool.Append(ctx, w.entries...)
	w.buf, w.ends = w.buf[:0], w.ends[:0]
	if w.Written != nil {
		if err == nil {
			w.Written(w.pending)
		}
		clear(w.pending)
		w.pending = w.pending[:0]
	}
	if err != nil && !counted(err) {
		return fmt.Errorf("append to spool: %w", err)
	}
	return nil
}

// counted reports whether every error in err is one the spool counts in
// its stats (ErrFull under drop-newest, ErrTooLarge): the agent reports
// those, and the pipeline goes on.
func counted(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if e != nil && !counted(e) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, spool.ErrFull) || errors.Is(err, spool.ErrTooLarge)
}
