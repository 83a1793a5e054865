package api

import (
	"encoding/json"
	"strconv"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/jsonscan"
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
	for _, f := range field.All() {
		if f.Role == field.Timestamp {
			continue
		}
		v, _ := r.Text(f.Name)
		if v == "" {
			continue
		}
		b = append(b, ',')
		b = jsonscan.AppendString(b, f.Name)
		b = append(b, ':')
		b = jsonscan.AppendString(b, v)
	}
	return append(b, '}')
}

func appendID(b []byte, id uint64) []byte {
	const hexdigits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, hexdigits[(id>>uint(shift))&0xf])
	}
	return b
}

// recordJSON is one record as a json.RawMessage, for answers built with
// encoding/json.
func recordJSON(id uint64, r *record.Record) json.RawMessage {
	return appendRecord(make([]byte, 0, 512), id, r)
}

// recordOf is recordJSON with the record's own id.
func recordOf(r *record.Record) json.RawMessage {
	id, _ := recordID(r, nil)
	return recordJSON(id, r)
}

// recordsJSON is records as JSON objects.
func recordsJSON(rs []record.Record) []json.RawMessage {
	out := make([]json.RawMessage, len(rs))
	for i := range rs {
		out[i] = recordOf(&rs[i])
	}
	return out
}
