package record

import "testing"

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
