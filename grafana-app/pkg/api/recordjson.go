package api

import (
	"strconv"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// A record in an answer is one flat JSON object: "id" (the record's Loki
// entry identity, 16 hex digits, recordID), "time" (Unix nanoseconds as a decimal string:
// JavaScript numbers cannot hold them) and every field with a value, in
// registry order, as text exactly as a filter term compares it
// (`pid="4014"`, `probe="true"`). Absent fields are left out.
//
//	{"id":"5f0c…","time":"1795687500500000000","source":"cmd","cluster":"demo",…,"comm":"bash","pid":"9001",…}

// appendRecord appends r's JSON object to b.
func appendRecord(b []byte, id uint64, r *record.Record) []byte {
	b = append(b, `{"id":"`...)
	b = appendID(b, id)
	b = append(b, `","time":"`...)
	b = strconv.AppendInt(b, r.Time, 10)
	b = append(b, '"')
	b = r.AppendTexts(b)
	return append(b, '}')
}

func appendID(b []byte, id uint64) []byte {
	const hexdigits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, hexdigits[(id>>uint(shift))&0xf])
	}
	return b
}

// AnswerRecord is a record in an answer with its id: it is written as
// above, straight into the answer (MarshalJSON writes the same). Readers
// decode such a record as a map[string]string: every value is text.
type AnswerRecord struct {
	id  uint64
	rec *record.Record
}

// MarshalJSON writes the record's JSON object.
func (a AnswerRecord) MarshalJSON() ([]byte, error) { return appendRecord(nil, a.id, a.rec), nil }

// answerRecordOf is r in an answer, with its own id.
func answerRecordOf(r *record.Record) AnswerRecord {
	id, _ := recordID(r, nil)
	return AnswerRecord{id, r}
}

// idBatch gives the records of one answer their ids together (recordIDs).
type idBatch struct {
	dsts []*AnswerRecord
}

// one is r in the answer; its id is set by setIDs.
func (b *idBatch) one(r *record.Record) *AnswerRecord {
	a := &AnswerRecord{rec: r}
	b.dsts = append(b.dsts, a)
	return a
}

// all is rs in the answer; their ids are set by setIDs.
func (b *idBatch) all(rs []record.Record) []AnswerRecord {
	out := make([]AnswerRecord, len(rs))
	for i := range rs {
		out[i].rec = &rs[i]
		b.dsts = append(b.dsts, &out[i])
	}
	return out
}

// setIDs sets the id of every record of the batch.
func (b *idBatch) setIDs() {
	recs := make([]*record.Record, len(b.dsts))
	for i, a := range b.dsts {
		recs[i] = a.rec
	}
	for i, id := range recordIDs(recs) {
		b.dsts[i].id = id
	}
}
