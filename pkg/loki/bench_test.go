package loki

import (
	"encoding/json"
	"testing"
)

// BenchmarkDecodeStreams decodes the largest recorded streams answer.
func BenchmarkDecodeStreams(b *testing.B) {
	body := largestStreamsBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeQueryResponse(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeStreams marshals the largest recorded streams answer.
func BenchmarkEncodeStreams(b *testing.B) {
	r, err := decodeQueryResponse(largestStreamsBody(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeLogs decodes the same answer flat, as QueryLogs does.
func BenchmarkDecodeLogs(b *testing.B) {
	body := largestStreamsBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeLogs(body); err != nil {
			b.Fatal(err)
		}
	}
}
