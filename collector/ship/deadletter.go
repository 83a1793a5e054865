package ship

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// errDeadLetterFull is returned once the dead-letter file reached its cap.
var errDeadLetterFull = errors.New("dead-letter file full")

// deadLetters appends refused records to an NDJSON file, one object a
// line: when, the HTTP status, Loki's reason, and the record as Loki would
// have stored it (labels, structured metadata, line).
type deadLetters struct {
	mu   sync.Mutex
	f    *os.File
	size int64
	max  int64
}

// DeadLetter is one line of the dead-letter file.
type DeadLetter struct {
	Time     time.Time         `json:"time"`
	Status   int               `json:"status,omitempty"`
	Reason   string            `json:"reason"`
	Entry    time.Time         `json:"entry_time,omitzero"`
	Labels   map[string]string `json:"labels,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Line     string            `json:"line"`
}

func openDeadLetters(path string, maxBytes int64) (*deadLetters, error) {
	if maxBytes <= 0 {
		maxBytes = 100 << 20
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open dead-letter file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open dead-letter file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open dead-letter file: %w", err)
	}
	return &deadLetters{f: f, size: st.Size(), max: maxBytes}, nil
}

func (d *deadLetters) Write(e *record.Entry, raw string, status int, reason string) error {
	dl := DeadLetter{Time: time.Now().UTC(), Status: status, Reason: reason, Line: raw}
	if e != nil {
		dl.Entry = timeOf(e.Time)
		dl.Labels = pairMap(e.Labels)
		dl.Metadata = pairMap(e.Metadata)
		dl.Line = e.Line
	}
	b, err := json.Marshal(dl)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	b = append(b, '\n')
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return errors.New("write dead letter: closed")
	}
	if d.size+int64(len(b)) > d.max {
		return errDeadLetterFull
	}
	n, err := d.f.Write(b)
	d.size += int64(n)
	if err != nil {
		return fmt.Errorf("write dead letter: %w", err)
	}
	return nil
}

func (d *deadLetters) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

func pairMap(ps []record.Pair) map[string]string {
	if len(ps) == 0 {
		return nil
	}
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p.Name] = p.Value
	}
	return m
}

func sortPairs(ps []record.Pair) {
	slices.SortFunc(ps, func(a, b record.Pair) int { return strings.Compare(a.Name, b.Name) })
}
