package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/activityaudit/activityaudit/pkg/jsonscan"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// NDJSON is a sink writing one JSON object per record: its time (RFC 3339)
// and every field it has — labels, structured metadata and body — flat.
type NDJSON struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf []byte
}

var _ Flusher = (*NDJSON)(nil)

// NewNDJSON writes to w.
func NewNDJSON(w io.Writer) *NDJSON { return &NDJSON{w: bufio.NewWriterSize(w, 64<<10)} }

// Write buffers one record. Run flushes whenever no event waits: a
// reader sees each record at once when they are few, and under load they
// are written in batches rather than one write(2) each.
func (s *NDJSON) Write(_ context.Context, r *record.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = AppendJSON(s.buf[:0], r)
	s.buf = append(s.buf, '\n')
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	return nil
}

// Flush writes the buffered records.
func (s *NDJSON) Flush(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write records: %w", err)
	}
	return nil
}

// AppendJSON appends a record as one flat JSON object.
func AppendJSON(b []byte, r *record.Record) []byte {
	e := record.Encode(r)
	b = append(b, `{"time":`...)
	b = strconv.AppendQuote(b, time.Unix(0, r.Time).UTC().Format(time.RFC3339Nano))
	for _, ps := range [][]record.Pair{e.Labels, e.Metadata} {
		for _, p := range ps {
			if p.Name == "job" {
				continue
			}
			b = append(b, ',')
			b = jsonscan.AppendString(b, p.Name)
			b = append(b, ':')
			b = jsonscan.AppendString(b, p.Value)
		}
	}
	if len(e.Line) > 2 {
		b = append(b, ',')
		b = append(b, e.Line[1:len(e.Line)-1]...)
	}
	return append(b, '}')
}
