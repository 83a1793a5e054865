package pipeline

import (
	"bufio"
	"context"
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

// NewNDJSON writes to w.
func NewNDJSON(w io.Writer) *NDJSON { return &NDJSON{w: bufio.NewWriter(w)} }

// Write writes one record and flushes it (records are few per second; a
// reader sees each at once).
func (s *NDJSON) Write(_ context.Context, r *record.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = AppendJSON(s.buf[:0], r)
	s.buf = append(s.buf, '\n')
	if _, err := s.w.Write(s.buf); err != nil {
		return err
	}
	return s.w.Flush()
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
