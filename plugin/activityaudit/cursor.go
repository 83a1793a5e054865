package activityaudit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// Cursor is a position in the stream of records: every record before Time
// has been read, and so have the records at Time whose keys are in Seen.
//
// Several records may share one timestamp (across streams, or in one
// stream with different lines) and a page of results may end between them,
// so a time alone cannot say where reading stopped. The next query starts
// at Time, inclusive, and skips the records in Seen: no gap and no repeat.
type Cursor struct {
	// Time is in Unix nanoseconds.
	Time int64
	// Seen are the keys (RecordKey) of the records at Time already read.
	Seen []uint64
}

// RecordKey identifies a record among those of one timestamp: a hash of its
// payload, which holds every field. Two records with the same key and time
// are the same record (Loki keeps only one of two equal entries).
func RecordKey(payload []byte) uint64 {
	// FNV-1a, 64 bits: stable across processes, so keys survive in the cursor file.
	h := uint64(14695981039346656037)
	for _, c := range payload {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// Has reports whether the record at ts with key was read.
func (c *Cursor) Has(ts int64, key uint64) bool {
	return ts < c.Time || ts == c.Time && slices.Contains(c.Seen, key)
}

// Advance marks the record at ts with key as read. Records must be given in
// time order (ts >= c.Time).
func (c *Cursor) Advance(ts int64, key uint64) {
	if ts > c.Time {
		c.Time = ts
		c.Seen = append(c.Seen[:0], key)
		return
	}
	c.Seen = append(c.Seen, key)
}

// Clone returns a copy that shares nothing with c.
func (c Cursor) Clone() Cursor {
	return Cursor{Time: c.Time, Seen: slices.Clone(c.Seen)}
}

// cursorVersion is the version of the cursor file format.
const cursorVersion = 1

// maxSeen bounds the keys a cursor file may hold (records of one nanosecond).
const maxSeen = 1 << 16

// cursorJSON is the cursor file: {"version":1,"time":"<ns>","seen":["<16 hex>",...]}.
// The time is a string so that no JSON reader rounds it.
type cursorJSON struct {
	Version int      `json:"version"`
	Time    string   `json:"time"`
	Seen    []string `json:"seen"`
}

// MarshalCursor encodes c as the cursor file holds it.
func MarshalCursor(c Cursor) []byte {
	j := cursorJSON{Version: cursorVersion, Time: strconv.FormatInt(c.Time, 10), Seen: make([]string, len(c.Seen))}
	for i, k := range c.Seen {
		j.Seen[i] = fmt.Sprintf("%016x", k)
	}
	b, _ := json.Marshal(j) // strings and an int: cannot fail
	return append(b, '\n')
}

// ParseCursor decodes a cursor file.
func ParseCursor(data []byte) (Cursor, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j cursorJSON
	if err := dec.Decode(&j); err != nil {
		return Cursor{}, fmt.Errorf("parse cursor: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Cursor{}, errors.New("parse cursor: text after the JSON object")
	}
	if j.Version != cursorVersion {
		return Cursor{}, fmt.Errorf("parse cursor: version %d, want %d", j.Version, cursorVersion)
	}
	ts, err := strconv.ParseInt(j.Time, 10, 64)
	if err != nil || ts < 0 {
		return Cursor{}, fmt.Errorf("parse cursor: time %q is not Unix nanoseconds", j.Time)
	}
	if len(j.Seen) > maxSeen {
		return Cursor{}, fmt.Errorf("parse cursor: %d seen keys, at most %d", len(j.Seen), maxSeen)
	}
	c := Cursor{Time: ts, Seen: make([]uint64, 0, len(j.Seen))}
	for _, s := range j.Seen {
		if len(s) != 16 {
			return Cursor{}, fmt.Errorf("parse cursor: key %q is not 16 hex digits", s)
		}
		k, err := strconv.ParseUint(s, 16, 64)
		if err != nil {
			return Cursor{}, fmt.Errorf("parse cursor: key %q is not 16 hex digits", s)
		}
		if !slices.Contains(c.Seen, k) {
			c.Seen = append(c.Seen, k)
		}
	}
	return c, nil
}

// LoadCursor reads a cursor file; ok is false when there is none.
func LoadCursor(path string) (c Cursor, ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Cursor{}, false, nil
	}
	if err != nil {
		return Cursor{}, false, fmt.Errorf("read cursor file: %w", err)
	}
	c, err = ParseCursor(data)
	if err != nil {
		return Cursor{}, false, fmt.Errorf("read cursor file %s: %w (remove it to start from the configured start)", path, err)
	}
	return c, true, nil
}

// SaveCursor writes a cursor file atomically: a crash leaves the old or the
// new cursor, never a torn one.
func SaveCursor(path string, c Cursor) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(MarshalCursor(c))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("save cursor: %w", err)
	}
	return nil
}
