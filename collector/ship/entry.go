package ship

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// Spool entries are records in their Loki form, encoded compactly:
//
//	varint time | uvarint nlabels | (name, value)* | uvarint nmetadata | (name, value)* | line
//
// where each name and value is a uvarint length and its bytes, and the line
// takes the rest of the entry.

// maxPairs bounds the pairs of one entry (a record has far fewer).
const maxPairs = 256

// AppendEntry appends e's spool encoding to dst.
func AppendEntry(dst []byte, e *record.Entry) []byte {
	dst = binary.AppendVarint(dst, e.Time)
	dst = appendPairs(dst, e.Labels)
	dst = appendPairs(dst, e.Metadata)
	return append(dst, e.Line...)
}

func appendPairs(dst []byte, pairs []record.Pair) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(pairs)))
	for _, p := range pairs {
		dst = binary.AppendUvarint(dst, uint64(len(p.Name)))
		dst = append(dst, p.Name...)
		dst = binary.AppendUvarint(dst, uint64(len(p.Value)))
		dst = append(dst, p.Value...)
	}
	return dst
}

var errShortEntry = errors.New("entry ends early")

// ParseEntry decodes a spool entry. The result's strings are copies.
func ParseEntry(b []byte) (record.Entry, error) {
	var e record.Entry
	ts, n := binary.Varint(b)
	if n <= 0 {
		return e, fmt.Errorf("parse entry time: %w", errShortEntry)
	}
	e.Time = ts
	b = b[n:]
	var err error
	if e.Labels, b, err = parsePairs(b); err != nil {
		return e, fmt.Errorf("parse entry labels: %w", err)
	}
	if e.Metadata, b, err = parsePairs(b); err != nil {
		return e, fmt.Errorf("parse entry metadata: %w", err)
	}
	e.Line = string(b)
	return e, nil
}

func parsePairs(b []byte) ([]record.Pair, []byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, nil, errShortEntry
	}
	if count > maxPairs {
		return nil, nil, fmt.Errorf("%d pairs, at most %d", count, maxPairs)
	}
	b = b[n:]
	pairs := make([]record.Pair, count)
	for i := range pairs {
		var name, value string
		var ok bool
		if name, b, ok = parseString(b); !ok {
			return nil, nil, errShortEntry
		}
		if value, b, ok = parseString(b); !ok {
			return nil, nil, errShortEntry
		}
		pairs[i] = record.Pair{Name: name, Value: value}
	}
	return pairs, b, nil
}

func parseString(b []byte) (string, []byte, bool) {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return "", nil, false
	}
	b = b[n:]
	return string(b[:l]), b[l:], true
}
