package record

import (
	"encoding/json"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/jsonscan"
	"github.com/activityaudit/activityaudit/pkg/loki"
)

// FuzzDecode: any line decodes or fails cleanly; what decodes re-encodes to a
// line that decodes to the same record.
func FuzzDecode(f *testing.F) {
	for _, r := range []Record{sampleCmd(), sampleNet(), sampleKubeExec()} {
		f.Add(Encode(&r).Line)
	}
	f.Add(`{"comm":"a\u00e9\ud83d\ude42\ud800x","pid":"12","probe":"true","x":[{"y":"}"}]}`)
	f.Add(`{"pid":1e3}`)
	f.Fuzz(func(t *testing.T, line string) {
		r, err := Decode(0, nil, nil, line)
		q := jsonscan.AppendString(nil, line)
		var inPlace Record
		errInPlace := DecodeLogEntry(&loki.LogEntry{Quoted: string(q[1 : len(q)-1])}, &inPlace)
		if (err == nil) != (errInPlace == nil) || (err == nil && inPlace != r) {
			t.Fatalf("from the quoted line: %+v, %v\nfrom the line: %+v, %v", inPlace, errInPlace, r, err)
		}
		if err != nil {
			return
		}
		e := Encode(&r)
		r2, err := Decode(0, nil, nil, e.Line)
		if err != nil {
			t.Fatalf("re-encoded line %q does not decode: %v", e.Line, err)
		}
		if r2 != r {
			t.Fatalf("re-encode changed the record:\n%+v\n%+v", r, r2)
		}
		if !json.Valid([]byte(e.Line)) {
			t.Fatalf("encoded line is not valid JSON: %q", e.Line)
		}
	})
}

// FuzzStringField: any string survives encode and decode exactly as
// encoding/json would carry it.
func FuzzStringField(f *testing.F) {
	f.Add("bash -c \"echo hi\"")
	f.Add("\x00\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		r := Record{Source: "cmd", Cmdline: s}
		e := Encode(&r)
		var want struct {
			Cmdline string `json:"cmdline"`
		}
		if err := json.Unmarshal([]byte(e.Line), &want); err != nil {
			t.Fatalf("invalid JSON %q: %v", e.Line, err)
		}
		got, err := Decode(0, nil, nil, e.Line)
		if err != nil {
			t.Fatal(err)
		}
		if got.Cmdline != want.Cmdline {
			t.Fatalf("decoded %q, encoding/json reads %q", got.Cmdline, want.Cmdline)
		}
	})
}
