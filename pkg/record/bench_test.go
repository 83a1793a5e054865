package record

import (
	"testing"

	"github.com/activityaudit/activityaudit/pkg/jsonscan"
	"github.com/activityaudit/activityaudit/pkg/loki"
)

func BenchmarkEncode(b *testing.B) {
	r := sampleCmd()
	b.ReportAllocs()
	for b.Loop() {
		_ = Encode(&r)
	}
}

func BenchmarkAppendLine(b *testing.B) {
	r := sampleCmd()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.AppendLine(buf[:0])
	}
}

func BenchmarkDecode(b *testing.B) {
	r := sampleCmd()
	e := Encode(&r)
	labels, md := pairMap(e.Labels), pairMap(e.Metadata)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(e.Time, labels, md, e.Line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeLogEntry decodes the same record from a flat Loki entry,
// its line read in place.
func BenchmarkDecodeLogEntry(b *testing.B) {
	r := sampleCmd()
	e := Encode(&r)
	q := jsonscan.AppendString(nil, e.Line)
	le := loki.LogEntry{Time: e.Time, Quoted: string(q[1 : len(q)-1])}
	for _, p := range e.Labels {
		le.Stream = append(le.Stream, loki.Label{Name: p.Name, Value: p.Value})
	}
	for _, p := range e.Metadata {
		le.Metadata = append(le.Metadata, loki.Label{Name: p.Name, Value: p.Value})
	}
	var out Record
	b.ReportAllocs()
	for b.Loop() {
		if err := DecodeLogEntry(&le, &out); err != nil {
			b.Fatal(err)
		}
	}
	if out != r {
		b.Fatalf("decoded %+v", out)
	}
}

// BenchmarkAppendTexts writes the record as the app's answers show it.
func BenchmarkAppendTexts(b *testing.B) {
	r := sampleCmd()
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.AppendTexts(buf[:0])
	}
}
