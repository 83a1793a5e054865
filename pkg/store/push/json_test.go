package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeMalformedJSON(t *testing.T) {
	stream := func(values string) string {
		return `{"streams":[{"stream":{"a":"b"},"values":` + values + `}]}`
	}
	tests := []struct {
		name, body string
		want       string // the message contains it
	}{
		{"empty-body", ``, `offset 0: unexpected end of input, expected '{' to open the push request`},
		{"not-json", `hello`, `offset 0: unexpected 'h', expected '{' to open the push request`},
		{"top-level-array", `[]`, `expected '{' to open the push request`},
		{"truncated", `{"streams":[`, `offset 12: unexpected end of input, expected '{' to open a stream`},
		{"truncated-in-value", stream(`[["1","x"`)[:40], `unexpected end of input`},
		{"trailing-data", `{} {}`, `offset 3: unexpected data after the push request`},
		{"trailing-comma", `{"streams":[],}`, `offset 14: unexpected '}', expected a key string`},
		{"missing-colon", `{"streams" []}`, `offset 11: unexpected '[', expected ":"`},
		{"unquoted-key", `{streams:[]}`, `expected a key string`},
		{"streams-object", `{"streams":{}}`, `expected '[' to open "streams"`},
		{"stream-number", `{"streams":[1]}`, `expected '{' to open a stream`},
		{"stream-null", `{"streams":[null]}`, `expected '{' to open a stream`},
		{"duplicate-streams", `{"streams":[],"streams":[]}`, `duplicate key "streams"`},
		{"duplicate-stream", `{"streams":[{"stream":{"a":"b"},"stream":{"a":"b"}}]}`, `duplicate key "stream"`},
		{"duplicate-values", `{"streams":[{"values":[],"values":[]}]}`, `duplicate key "values"`},
		{"labels-array", `{"streams":[{"stream":["a"]}]}`, `expected '{' to open "stream"`},
		{"label-value-number", `{"streams":[{"stream":{"a":1}}]}`, `"stream": the value of "a" must be a string`},
		{"label-value-null", `{"streams":[{"stream":{"a":null}}]}`, `"stream": the value of "a" must be a string`},
		{"values-object", stream(`{}`), `expected '[' to open "values"`},
		{"value-not-array", stream(`["1","x"]`), `expected '[' to open a value`},
		{"value-empty", stream(`[[]]`), `a value must be an array of 2 or 3 elements`},
		{"value-one-element", stream(`[["1"]]`), `a value must be an array of 2 or 3 elements`},
		{"value-four-elements", stream(`[["1","x",{},"y"]]`), `a value must be an array of 2 or 3 elements`},
		{"value-third-string", stream(`[["1","x","y"]]`), `structured metadata must be an object of strings`},
		{"value-third-null", stream(`[["1","x",null]]`), `structured metadata must be an object of strings`},
		{"timestamp-number", stream(`[[1,"x"]]`), `a timestamp must be a string of Unix nanoseconds`},
		{"timestamp-letters", stream(`[["abc","x"]]`), `invalid timestamp "abc": want a string of Unix nanoseconds`},
		{"timestamp-fraction", stream(`[["1.5","x"]]`), `invalid timestamp "1.5"`},
		{"timestamp-empty", stream(`[["","x"]]`), `invalid timestamp ""`},
		{"timestamp-plus", stream(`[["+1","x"]]`), `invalid timestamp "+1"`},
		{"timestamp-minus-only", stream(`[["-","x"]]`), `invalid timestamp "-"`},
		{"timestamp-exponent", stream(`[["1e9","x"]]`), `invalid timestamp "1e9"`},
		{"timestamp-space", stream(`[[" 1","x"]]`), `invalid timestamp " 1"`},
		{"timestamp-rfc3339", stream(`[["2026-11-26T10:00:00Z","x"]]`), `invalid timestamp "2026-11-26T10:00:00Z"`},
		{"timestamp-overflow", stream(`[["9223372036854775808","x"]]`), `invalid timestamp "9223372036854775808"`},
		{"timestamp-underflow", stream(`[["-9223372036854775809","x"]]`), `invalid timestamp "-9223372036854775809"`},
		{"timestamp-huge", stream(`[["99999999999999999999999","x"]]`), `invalid timestamp`},
		{"line-number", stream(`[["1",5]]`), `a log line must be a string`},
		{"line-null", stream(`[["1",null]]`), `a log line must be a string`},
		{"metadata-value-number", stream(`[["1","x",{"k":1}]]`), `structured metadata: the value of "k" must be a string`},
		{"metadata-value-object", stream(`[["1","x",{"k":{}}]]`), `structured metadata: the value of "k" must be a string`},
		{"invalid-escape", stream(`[["1","\q"]]`), `invalid escape "\\q" in string`},
		{"short-unicode-escape", stream(`[["1","\u12"]]`), `invalid \u escape`},
		{"backslash-at-end", `{"x":"\`, `unterminated string`},
		{"control-character", stream("[[\"1\",\"a\nb\"]]"), `control character '\n' in string`},
		{"control-character-after-escape", stream("[[\"1\",\"\\n\tb\"]]"), `control character '\t' in string`},
		{"unterminated-string", `{"streams`, `unterminated string`},
		{"unterminated-escaped-string", `{"str\"eams`, `unterminated string`},
		{"bad-literal", `{"x":tru}`, `expected a value`},
		{"bad-number-leading-zero", `{"x":01}`, `unexpected '1', expected ',' or '}'`},
		{"bad-number-minus", `{"x":-}`, `expected a value`},
		{"bad-number-dot", `{"x":1.}`, `expected a digit`},
		{"bad-number-exponent", `{"x":1e+}`, `expected a digit`},
		{"bad-value-in-unknown", `{"x":[1,}]}`, `expected a value`},
		{"nested-too-deep", `{"x":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`, `values nested too deeply`},
		{"single-quotes", `{'streams':[]}`, `expected a key string`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(strings.NewReader(tc.body), ctJSON, "", DefaultLimits(), validationNow)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, %v; want a ValidationError", got, err)
			}
			if !strings.HasPrefix(ve.Msg, "invalid JSON push request at offset ") || !strings.Contains(ve.Msg, tc.want) {
				t.Fatalf("message %q, want one containing %q", ve.Msg, tc.want)
			}
		})
	}
}

// TestJSONAcceptsWhatEncodingJSONDoes decodes valid JSON of odd shapes.
func TestJSONAcceptsWhatEncodingJSONDoes(t *testing.T) {
	tests := []struct {
		name, body string
		streams    int
	}{
		{"whitespace-everywhere", " \n\t{ \"streams\" :\r [ { \"stream\" : { \"a\" : \"b\" } , \"values\" : [ [ \"1\" , \"x\" , { } ] ] } ] } \n", 1},
		{"unknown-values", `{"a":[true,false,null,0,-0,1.5e-3,-2E+10,"s",{"n":{"m":[]}}],"streams":[{"x":1,"stream":{"a":"b"},"values":[["1","x"]]}],"z":{}}`, 1},
		{"escaped-keys", `{"str\u0065ams":[{"\u0073tream":{"\u0061":"b"},"values":[["\u0031","x",{"k\u0031":"v"}]]}]}`, 1},
		{"null-values", `{"streams":[{"stream":{"a":"b"},"values":null}]}`, 0},
		{"nested-at-limit", `{"x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !json.Valid([]byte(tc.body)) {
				t.Fatal("test body is not valid JSON")
			}
			got, err := Decode(strings.NewReader(tc.body), ctJSON, "", DefaultLimits(), validationNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.streams {
				t.Fatalf("got %d streams, want %d", len(got), tc.streams)
			}
			if tc.name == "escaped-keys" && (got[0].Labels.Get("a") != "b" || got[0].Entries[0].Time != 1 || got[0].Entries[0].Metadata.Get("k1") != "v") {
				t.Fatalf("got %#v", got)
			}
		})
	}
}

// TestJSONStringEscapes compares unescaping with encoding/json's.
func TestJSONStringEscapes(t *testing.T) {
	for _, lit := range []string{
		`""`, `"plain"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u0000"`, `"\u001f"`,
		`"\u00e9"`, `"\u00E9"`, `"é"`, `"日本語"`, `"\u65e5\u672c"`,
		`"\ud83d\ude00"`, `"😀"`, `"\uD83D\uDE00"`, `"\ud83d"`, `"\ude00"`, `"\ud83dx"`,
		`"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`, `"\ude00\ud83d"`, `"a\ud83d"`, `"\ud83d\\"`,
		`"\u2028\u2029"`, `"\ufffd"`, `"x\"y\\z\u0041"`, `"` + strings.Repeat(`\"`, 100) + `"`,
		`"{\"workload_kind\":\"StatefulSet\",\"comm\":\"php\"}"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		body := `{"streams":[{"stream":{"a":"b"},"values":[["1",` + lit + `,{"k":` + lit + `}]]}]}`
		got, err := Decode(strings.NewReader(body), ctJSON, "", DefaultLimits(), validationNow)
		if err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		e := got[0].Entries[0]
		if e.Line != want || e.Metadata.Get("k") != want {
			t.Fatalf("%s: got %q and %q, want %q", lit, e.Line, e.Metadata.Get("k"), want)
		}
	}
}

// TestJSONInvalidUTF8Kept: bytes of lines are kept as sent (Loki does not
// check lines).
func TestJSONInvalidUTF8Kept(t *testing.T) {
	body := []byte("{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"1\",\"\xff\xfe\"]]}]}")
	got, err := Decode(bytes.NewReader(body), ctJSON, "", DefaultLimits(), validationNow)
	if err != nil || got[0].Entries[0].Line != "\xff\xfe" {
		t.Fatalf("got %v, %v", got, err)
	}
}
