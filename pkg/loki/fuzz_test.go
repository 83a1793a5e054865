package loki

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

// FuzzDecodeQueryResponse feeds arbitrary bytes to the query-answer
// decoders. They must never panic; the fast decoder must only accept what
// the encoding/json-based one accepts, with the same result; and whatever
// is accepted must marshal to JSON that decodes and marshals to the very
// same bytes again.
func FuzzDecodeQueryResponse(f *testing.F) {
	for _, fc := range loadCases(f) {
		f.Add([]byte(fc.Response.Body))
	}
	f.Add([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1.5,"NaN"]}}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[{"stream":{},"values":[["1","x\u00e9\ud83d\ude00\\",{}]]}]}}`))
	f.Add([]byte(`{"status":"success","warnings":["w"],"data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[-0.001,"+Inf"]]}],"stats":{"x":[1,{"y":"}"}]}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = decodeQueryResponse(body)
		_, _ = decodeData[[]map[string]string](body)
		_ = errorMessage(body)

		var slow QueryResponse
		slowErr := slow.unmarshalSlow(body)
		if fast, ok := fastQueryResponse(string(body)); ok {
			if slowErr != nil {
				t.Fatalf("fast decoder accepted what encoding/json rejects (%v)", slowErr)
			}
			if !sameResponse(t, &fast, &slow) {
				t.Fatalf("fast and slow decoders disagree on %q", body)
			}
		}
		if logs, ok := fastLogs(string(body)); ok {
			if slowErr != nil || slow.Status != "success" || slow.Data.ResultType != ResultTypeStreams {
				t.Fatalf("fast flat decoder accepted what encoding/json does not read as streams (%v)", slowErr)
			}
			if !sameLogs(logs, &slow) {
				t.Fatalf("fast flat decoder and slow decoder disagree on %q", body)
			}
		}
		if logs, err := decodeLogs(body); err == nil && (slowErr != nil || !sameLogs(logs, &slow)) {
			t.Fatalf("flat decoder and slow decoder disagree on %q (%v)", body, slowErr)
		}
		if slowErr != nil || slow.Data.ResultType == "" {
			return
		}
		first, err := json.Marshal(&slow)
		if err != nil {
			t.Fatalf("marshal decoded answer: %v", err)
		}
		var again QueryResponse
		if err := json.Unmarshal(first, &again); err != nil {
			t.Fatalf("decode own output %s: %v", first, err)
		}
		second, err := json.Marshal(&again)
		if err != nil {
			t.Fatalf("marshal again: %v", err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("unstable encoding:\nfirst  %s\nsecond %s", first, second)
		}
	})
}

// sameResponse compares two decoded answers through their encoding (which
// also makes NaN equal to NaN).
func sameResponse(t *testing.T, a, b *QueryResponse) bool {
	t.Helper()
	if a.Status != b.Status || !slices.Equal(a.Warnings, b.Warnings) || a.Data.ResultType != b.Data.ResultType {
		return false
	}
	if a.Data.ResultType == "" {
		return true
	}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		t.Fatalf("marshal: %v, %v", errA, errB)
	}
	return bytes.Equal(ja, jb)
}

// TestFastDecoderOnFixtures checks that every real Loki query answer takes
// the fast path and decodes as the encoding/json-based path does.
func TestFastDecoderOnFixtures(t *testing.T) {
	for _, fc := range loadCases(t) {
		switch kindOf(fc.Request.Path) {
		case kindQueryRange, kindQuery, kindVolume:
		default:
			continue
		}
		if fc.Response.Status != 200 {
			continue
		}
		t.Run(fc.Name, func(t *testing.T) {
			fast, ok := fastQueryResponse(string(fc.Response.Body))
			if !ok {
				t.Fatal("fast decoder refused a real Loki answer")
			}
			var slow QueryResponse
			if err := slow.unmarshalSlow(fc.Response.Body); err != nil {
				t.Fatalf("slow decode: %v", err)
			}
			if !sameResponse(t, &fast, &slow) {
				t.Error("fast and slow decoders disagree")
			}
		})
	}
}

func TestFastStringUnquote(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "plain", in: `"abc"`},
		{name: "escapes", in: `"a\"b\\c\/d\b\f\n\r\t"`},
		{name: "unicode escapes", in: `"\u00e9\u4e2d\uD83D\uDE00"`},
		{name: "lone high surrogate", in: `"\ud800x"`},
		{name: "high surrogate then non-low escape", in: `"\ud800\u0041"`},
		{name: "lone low surrogate", in: `"\udc00"`},
		{name: "two high surrogates", in: `"\ud800\ud800\udc00"`},
		{name: "raw utf8", in: "\"é中😀\""},
		{name: "invalid utf8", in: "\"a\xffb\xc3\""},
		{name: "utf8 encoded surrogate", in: "\"\xed\xa0\x80\""},
		{name: "escape after non-ascii", in: "\"é\\n\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want string
			if err := json.Unmarshal([]byte(tt.in), &want); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			s := newFastScanner(tt.in)
			got, ok := s.str()
			if !ok || !s.atEnd() {
				t.Fatalf("fast scanner refused %q", tt.in)
			}
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	for _, bad := range []string{`"abc`, `"a\x"`, `"\u12"`, `"\u12g4"`, "\"a\x01\"", `abc`, `"\`} {
		s := newFastScanner(bad)
		if _, ok := s.str(); ok {
			t.Errorf("fast scanner accepted %q", bad)
		}
	}
}
