package syntax

import "testing"

func BenchmarkParseLongestGolden(b *testing.B) {
	var longest string
	for _, g := range goldenQueries(b) {
		if len(g.query) > len(longest) {
			longest = g.query
		}
	}
	b.SetBytes(int64(len(longest)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(longest); err != nil {
			b.Fatal(err)
		}
	}
}
