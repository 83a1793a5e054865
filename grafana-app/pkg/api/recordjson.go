package api

import (
	"strconv"

	"github.com/cespare/xxhash/v2"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// A record in an answer is one flat JSON object: "id" (16 hex digits,
// recordID), "time" (Unix nanoseconds as a decimal string: JavaScript
// numbers cannot hold them) and every field with a value, in registry
// order, as text exactly as a filter term compares it (`pid="4014"`,
// `probe="true"`). Absent fields are left out.
//
//	{"id":"5f0c…","time":"1795687500500000000","source":"cmd","cluster":"demo",…,"comm":"bash","pid":"9001",…}

// idStart and idEnd bound the id's digits in a record's object; what
// follows them (up to the closing brace) is what the id hashes.
const (
	idStart = len(`{"id":"`)
	idEnd   = idStart + 16
)

// appendRecord appends r's JSON object to b, and returns its id: the
// xxHash64 of the object's text after the id — the time and every field,
// as written — so that the record is written once and hashed where it
// lies.
func appendRecord(b []byte, r *record.Record) ([]byte, uint64) {
	start := len(b)
	b = append(b, `{"id":"0123456789abcdef","time":"`...)
	b = strconv.AppendInt(b, r.Time, 10)
	b = append(b, '"')
	b = r.AppendTexts(b)
	id := xxhash.Sum64(b[start+idEnd+1:])
	putID(b[start+idStart:start+idEnd], id)
	return append(b, '}'), id
}

// recordID identifies a record by its Loki entry — time, stream labels,
// structured metadata and line, all of which the record's fields hold —
// the same whichever Loki (or embedded store) answered and whichever query
// found it. Loki keeps one entry per (stream, time, line), so distinct
// entries have distinct ids (up to 64-bit hash collisions). buf is scratch
// space, returned for reuse.
func recordID(r *record.Record, buf []byte) (uint64, []byte) {
	buf, id := appendRecord(buf[:0], r)
	return id, buf
}

func appendID(b []byte, id uint64) []byte {
	var digits [16]byte
	putID(digits[:], id)
	return append(b, digits[:]...)
}

// putID writes id as 16 hex digits into d.
func putID(d []byte, id uint64) {
	const hexdigits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		d[i] = hexdigits[id&0xf]
		id >>= 4
	}
}

// AnswerRecord is a record in an answer: it is written as above, straight
// into the answer (MarshalJSON writes the same). Readers decode such a
// record as a map[string]string: every value is text.
type AnswerRecord struct {
	rec *record.Record
}

// MarshalJSON writes the record's JSON object.
func (a AnswerRecord) MarshalJSON() ([]byte, error) {
	b, _ := appendRecord(nil, a.rec)
	return b, nil
}

// answerRecords is rs in an answer.
func answerRecords(rs []record.Record) []AnswerRecord {
	out := make([]AnswerRecord, len(rs))
	for i := range rs {
		out[i].rec = &rs[i]
	}
	return out
}
