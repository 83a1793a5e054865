package loki

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// TestRoundTripFixtures checks Marshal(Unmarshal(body)) against every
// recorded query answer: equal as JSON values, and byte-identical to the
// compacted recording (same field order, sorted labels, same number forms).
func TestRoundTripFixtures(t *testing.T) {
	n := 0
	for _, fc := range loadCases(t) {
		switch kindOf(fc.Request.Path) {
		case kindQueryRange, kindQuery, kindVolume:
		default:
			continue
		}
		if fc.Response.Status != 200 {
			continue
		}
		n++
		t.Run(fc.Name, func(t *testing.T) {
			var r QueryResponse
			if err := json.Unmarshal(fc.Response.Body, &r); err != nil {
				t.Fatalf("decode: %v", err)
			}
			got, err := json.Marshal(&r)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !jsonEqual(t, got, fc.Response.Body) {
				t.Fatalf("round trip differs:\ngot  %s\nwant %s", got, compact(t, fc.Response.Body))
			}
			if want := compact(t, fc.Response.Body); !bytes.Equal(got, want) {
				t.Errorf("round trip not byte-identical:\ngot  %s\nwant %s", got, want)
			}
		})
	}
	if n < 30 {
		t.Errorf("only %d query answers round-tripped", n)
	}
}

func TestMarshalPoint(t *testing.T) {
	tests := []struct {
		name string
		p    Point
		want string
	}{
		{name: "whole seconds", p: Point{1795687260000, 11}, want: `[1795687260,"11"]`},
		{name: "half second", p: Point{1795687260500, 11}, want: `[1795687260.5,"11"]`},
		{name: "millisecond", p: Point{1795687260001, 1}, want: `[1795687260.001,"1"]`},
		{name: "trailing zero trimmed", p: Point{1795687260120, 1}, want: `[1795687260.12,"1"]`},
		{name: "negative", p: Point{-1500, 1}, want: `[-1.5,"1"]`},
		{name: "negative below one", p: Point{-5, 1}, want: `[-0.005,"1"]`},
		{name: "min int64", p: Point{math.MinInt64, 0}, want: `[-9223372036854775.808,"0"]`},
		{name: "fraction value", p: Point{0, 0.09333333333333334}, want: `[0,"0.09333333333333334"]`},
		{name: "large value without exponent", p: Point{0, 1e21}, want: `[0,"1000000000000000000000"]`},
		{name: "tiny value without exponent", p: Point{0, 1e-7}, want: `[0,"0.0000001"]`},
		{name: "negative zero", p: Point{0, math.Copysign(0, -1)}, want: `[0,"-0"]`},
		{name: "NaN", p: Point{0, math.NaN()}, want: `[0,"NaN"]`},
		{name: "+Inf", p: Point{0, math.Inf(1)}, want: `[0,"+Inf"]`},
		{name: "-Inf", p: Point{0, math.Inf(-1)}, want: `[0,"-Inf"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			var back Point
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("decode back: %v", err)
			}
			if back.Time != tt.p.Time || math.Float64bits(back.Value) != math.Float64bits(tt.p.Value) && !math.IsNaN(tt.p.Value) {
				t.Errorf("decoded back %+v, want %+v", back, tt.p)
			}
		})
	}
}

func TestMarshalEntry(t *testing.T) {
	sm := map[string]string{"pod": "mysql-0", "container": "mysql"}
	parsed := map[string]string{"comm": "bash"}
	tests := []struct {
		name string
		e    Entry
		want string
	}{
		{name: "plain", e: Entry{Time: 1795687473890672038, Line: "x"}, want: `["1795687473890672038","x"]`},
		{name: "empty maps are plain", e: Entry{Time: 1, Line: "x", StructuredMetadata: map[string]string{}, Parsed: map[string]string{}}, want: `["1","x"]`},
		{name: "structured metadata only", e: Entry{Time: 1, Line: "x", StructuredMetadata: sm}, want: `["1","x",{"structuredMetadata":{"container":"mysql","pod":"mysql-0"}}]`},
		{name: "parsed only", e: Entry{Time: 1, Line: "x", Parsed: parsed}, want: `["1","x",{"parsed":{"comm":"bash"}}]`},
		{name: "both", e: Entry{Time: 1, Line: "x", StructuredMetadata: sm, Parsed: parsed}, want: `["1","x",{"structuredMetadata":{"container":"mysql","pod":"mysql-0"},"parsed":{"comm":"bash"}}]`},
		{name: "escaping", e: Entry{Time: -1, Line: "a\"b\\c\n\t<&>\x01\u2028\xff é"}, want: `["-1","a\"b\\c\n\t\u003c\u0026\u003e\u0001\u2028\ufffd é"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.e)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			// Our string escaping must agree with encoding/json's.
			line, _ := json.Marshal(tt.e.Line)
			if !bytes.Contains(got, line) {
				t.Errorf("line encoded as %s, encoding/json gives %s", got, line)
			}
		})
	}
}

func TestMarshalQueryData(t *testing.T) {
	stream := Stream{Labels: map[string]string{"job": "a"}, Entries: []Entry{{Time: 2, Line: "y"}}}
	tests := []struct {
		name string
		d    QueryData
		want string
	}{
		{
			// Loki always writes the third element in the categorized form.
			name: "categorized entry without labels",
			d:    QueryData{ResultType: ResultTypeStreams, EncodingFlags: []string{EncodingFlagCategorizeLabels}, Streams: []Stream{stream}},
			want: `{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[{"stream":{"job":"a"},"values":[["2","y",{}]]}]}`,
		},
		{
			name: "merged form",
			d:    QueryData{ResultType: ResultTypeStreams, Streams: []Stream{stream}},
			want: `{"resultType":"streams","result":[{"stream":{"job":"a"},"values":[["2","y"]]}]}`,
		},
		{
			name: "empty streams",
			d:    QueryData{ResultType: ResultTypeStreams},
			want: `{"resultType":"streams","result":[]}`,
		},
		{
			name: "nil labels",
			d:    QueryData{ResultType: ResultTypeMatrix, Matrix: []Series{{}}},
			want: `{"resultType":"matrix","result":[{"metric":{},"values":[]}]}`,
		},
		{
			name: "vector",
			d:    QueryData{ResultType: ResultTypeVector, Vector: []Sample{{Value: Point{1795688100000, 2}}}},
			want: `{"resultType":"vector","result":[{"metric":{},"value":[1795688100,"2"]}]}`,
		},
		{
			name: "scalar with stats",
			d:    QueryData{ResultType: ResultTypeScalar, Scalar: &Point{1500, 3}, Stats: json.RawMessage(`{"summary": {}}`)},
			want: `{"resultType":"scalar","result":[1.5,"3"],"stats":{"summary":{}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	t.Run("unknown result type", func(t *testing.T) {
		if _, err := json.Marshal(QueryData{ResultType: "table"}); err == nil {
			t.Error("want an error")
		}
	})
}
