package push

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
)

// validationNow is the "now" of the validation tests: 2026-11-26 10:00 UTC.
var validationNow = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// jsonPush returns a JSON body of one stream.
func jsonPush(labels, values string) []byte {
	return []byte(`{"streams":[{"stream":` + labels + `,"values":` + values + `}]}`)
}

// protoPush returns a protobuf body of one stream.
func protoPush(labels string, entries ...[]byte) []byte {
	return snappy.Encode(nil, wireRequest(wireStream(labels, entries...)))
}

// manyLabels returns n labels l00="v", l01="v", ... as JSON and as a
// label string.
func manyLabels(n int, extra string) (jsonLabels, labelString string) {
	var j, l []string
	for i := range n {
		j = append(j, fmt.Sprintf(`"l%02d":"v"`, i))
		l = append(l, fmt.Sprintf(`l%02d="v"`, i))
	}
	if extra != "" {
		j = append(j, `"`+extra+`":"v"`)
		l = append(l, extra+`="v"`)
	}
	return "{" + strings.Join(j, ",") + "}", "{" + strings.Join(l, ", ") + "}"
}

func TestDecodeValidation(t *testing.T) {
	ok := int64(1795687200000000000) // 2026-11-26 10:00:00 UTC
	now := strconv.FormatInt(ok, 10)
	grace := strconv.FormatInt(ok+int64(10*time.Minute), 10)
	tooNew := strconv.FormatInt(ok+int64(10*time.Minute)+1, 10)
	longName := strings.Repeat("n", 1025)
	longValue := strings.Repeat("v", 2049)
	longLine := strings.Repeat("x", 256<<10+1)
	fifteen, fifteenString := manyLabels(15, "")
	sixteen, sixteenString := manyLabels(16, "")
	fifteenSvc, fifteenSvcString := manyLabels(15, "service_name")

	tests := []struct {
		name, contentType string
		body              []byte
		want              string // message ("" for success)
	}{
		// Stream labels.
		{name: "json-no-labels", contentType: ctJSON, body: jsonPush(`{}`, `[["1","x"]]`),
			want: "error at least one label pair is required per stream"},
		{name: "json-null-labels", contentType: ctJSON, body: jsonPush(`null`, `[["1","x"]]`),
			want: "error at least one label pair is required per stream"},
		{name: "json-empty-values-only", contentType: ctJSON, body: jsonPush(`{"a":""}`, `[["1","x"]]`),
			want: "error at least one label pair is required per stream"},
		{name: "protobuf-no-labels", contentType: ctProto, body: protoPush(`{}`, wireEntry(1, "x")),
			want: "error at least one label pair is required per stream"},
		{name: "protobuf-empty-label-string", contentType: ctProto, body: protoPush(``, wireEntry(1, "x")),
			want: `error parsing labels '' with error: parse error at position 1: expected "{"`},
		{name: "json-invalid-label-name", contentType: ctJSON, body: jsonPush(`{"foo-bar":"x"}`, `[["1","x"]]`),
			want: `error parsing labels '{foo-bar="x"}' with error: invalid label name "foo-bar"`},
		{name: "json-label-name-starts-with-digit", contentType: ctJSON, body: jsonPush(`{"1a":"x"}`, `[["1","x"]]`),
			want: `error parsing labels '{1a="x"}' with error: invalid label name "1a"`},
		{name: "json-empty-label-name", contentType: ctJSON, body: jsonPush(`{"":"x"}`, `[["1","x"]]`),
			want: `error parsing labels '{="x"}' with error: invalid label name ""`},
		{name: "protobuf-invalid-label-name", contentType: ctProto, body: protoPush(`{foo-bar="x"}`, wireEntry(1, "x")),
			want: `error parsing labels '{foo-bar="x"}' with error: parse error at position 5: expected "=" after label name "foo"`},
		{name: "json-label-value-invalid-utf8", contentType: ctJSON, body: jsonPush("{\"a\":\"\xff\"}", `[["1","x"]]`),
			want: `error parsing labels '{a="\xff"}' with error: invalid UTF-8 in value of label "a"`},
		{name: "protobuf-label-value-invalid-utf8", contentType: ctProto, body: protoPush(`{a="\xff"}`, wireEntry(1, "x")),
			want: `error parsing labels '{a="\xff"}' with error: parse error at position 4: invalid UTF-8 in value`},
		{name: "json-duplicate-label", contentType: ctJSON, body: jsonPush(`{"a":"1","b":"2","a":"3"}`, `[["1","x"]]`),
			want: `stream '{a="1", a="3", b="2"}' has duplicate label name: 'a'`},
		{name: "protobuf-duplicate-label", contentType: ctProto, body: protoPush(`{a="1", a="1"}`, wireEntry(1, "x")),
			want: `stream '{a="1", a="1"}' has duplicate label name: 'a'`},
		{name: "json-label-name-too-long", contentType: ctJSON, body: jsonPush(`{"`+longName+`":"x"}`, `[["1","x"]]`),
			want: `stream '{` + longName[:1023] + `…' has label name too long: '` + longName[:256] + `…'`},
		{name: "protobuf-label-value-too-long", contentType: ctProto, body: protoPush(`{a="`+longValue+`"}`, wireEntry(1, "x")),
			want: `stream '{a="` + longValue[:1020] + `…' has label value too long: '` + longValue[:256] + `…'`},
		{name: "label-name-at-limit", contentType: ctJSON, body: jsonPush(`{"`+longName[1:]+`":"`+longValue[1:]+`"}`, `[["1","x"]]`)},
		{name: "json-too-many-labels", contentType: ctJSON, body: jsonPush(sixteen, `[["1","x"]]`),
			want: fmt.Sprintf("entry for stream '%s' has 16 label names; limit 15", sixteenString)},
		{name: "protobuf-too-many-labels", contentType: ctProto, body: protoPush(sixteenString, wireEntry(1, "x")),
			want: fmt.Sprintf("entry for stream '%s' has 16 label names; limit 15", sixteenString)},
		{name: "fifteen-labels", contentType: ctJSON, body: jsonPush(fifteen, `[["1","x"]]`)},
		{name: "fifteen-labels-and-service-name", contentType: ctProto, body: protoPush(fifteenSvcString, wireEntry(1, "x"))},
		{name: "fifteen-labels-and-service-name-json", contentType: ctJSON, body: jsonPush(fifteenSvc, `[["1","x"]]`)},
		{name: "too-many-labels-after-empty-dropped-ok", contentType: ctProto, body: protoPush(fifteenString[:len(fifteenString)-1]+`, zz=""}`, wireEntry(1, "x"))},

		// Lines.
		{name: "json-line-too-long", contentType: ctJSON, body: jsonPush(`{"a":"b"}`, `[["1","`+longLine+`"]]`),
			want: `max entry size '262144' bytes exceeded for stream '{a="b"}' while adding an entry with length '262145' bytes`},
		{name: "protobuf-line-too-long", contentType: ctProto, body: protoPush(`{a="b"}`, wireEntry(1, "x"), wireEntry(2, longLine)),
			want: `max entry size '262144' bytes exceeded for stream '{a="b"}' while adding an entry with length '262145' bytes`},
		{name: "line-at-limit", contentType: ctProto, body: protoPush(`{a="b"}`, wireEntry(1, longLine[1:]))},
		{name: "json-line-length-after-unescaping", contentType: ctJSON, body: jsonPush(`{"a":"b"}`, `[["1","`+strings.Repeat(`\n`, 256<<10)+`"]]`)},

		// Timestamps.
		{name: "json-timestamp-too-new", contentType: ctJSON, body: jsonPush(`{"a":"b"}`, `[["`+now+`","x"],["`+tooNew+`","y"]]`),
			want: `entry for stream '{a="b"}' has timestamp too new: 2026-11-26T10:10:00Z`},
		{name: "protobuf-timestamp-too-new", contentType: ctProto, body: protoPush(`{a="b"}`, wireEntry(ok+int64(time.Hour), "x")),
			want: `entry for stream '{a="b"}' has timestamp too new: 2026-11-26T11:00:00Z`},
		{name: "timestamp-at-grace", contentType: ctJSON, body: jsonPush(`{"a":"b"}`, `[["`+grace+`","x"]]`)},
		{name: "timestamp-old", contentType: ctJSON, body: jsonPush(`{"a":"b"}`, `[["0","x"],["-1000","y"]]`)},
		{name: "protobuf-no-timestamp", contentType: ctProto, body: protoPush(`{a="b"}`, appendString(nil, 2, "x")),
			want: `entry for stream '{a="b"}' has no timestamp`},
		{name: "protobuf-negative-nanos", contentType: ctProto, body: protoPush(`{a="b"}`, appendBytes(nil, 1, wireTimestamp(5, -1))),
			want: `entry for stream '{a="b"}' has an invalid timestamp: 5 seconds, -1 nanoseconds`},
		{name: "protobuf-nanos-over", contentType: ctProto, body: protoPush(`{a="b"}`, appendBytes(nil, 1, wireTimestamp(5, 1e9))),
			want: `entry for stream '{a="b"}' has an invalid timestamp: 5 seconds, 1000000000 nanoseconds`},
		{name: "protobuf-year-10000", contentType: ctProto, body: protoPush(`{a="b"}`, appendBytes(nil, 1, wireTimestamp(253402300800, 0))),
			want: `entry for stream '{a="b"}' has an invalid timestamp: 253402300800 seconds, 0 nanoseconds`},
		{name: "protobuf-before-1678", contentType: ctProto, body: protoPush(`{a="b"}`, appendBytes(nil, 1, wireTimestamp(-9223372037, 0))),
			want: `entry for stream '{a="b"}' has a timestamp out of range: -9223372037 seconds`},
		{name: "protobuf-after-2262", contentType: ctProto, body: protoPush(`{a="b"}`, appendBytes(nil, 1, wireTimestamp(9223372036, 854775808))),
			want: `entry for stream '{a="b"}' has a timestamp out of range: 9223372036 seconds`},
		{name: "protobuf-empty-timestamp-is-epoch", contentType: ctProto, body: protoPush(`{a="b"}`, appendBytes(nil, 1, nil))},

		// Structured metadata.
		{name: "json-metadata-invalid-name", contentType: ctJSON, body: jsonPush(`{"a":"b"}`, `[["1","x",{"bad-name":"v"}]]`),
			want: `stream '{a="b"}' has invalid structured metadata name: 'bad-name'`},
		{name: "protobuf-metadata-invalid-name", contentType: ctProto, body: protoPush(`{a="b"}`, wireEntry(1, "x", "ok", "1", "9lives", "2")),
			want: `stream '{a="b"}' has invalid structured metadata name: '9lives'`},
		{name: "protobuf-metadata-empty-name", contentType: ctProto, body: protoPush(`{a="b"}`, wireEntry(1, "x", "", "v")),
			want: `stream '{a="b"}' has invalid structured metadata name: ''`},
		{name: "json-metadata-duplicate", contentType: ctJSON, body: jsonPush(`{"a":"b"}`, `[["1","x",{"k":"1","k":"2"}]]`),
			want: `stream '{a="b"}' has duplicate structured metadata name: 'k'`},
		{name: "protobuf-metadata-duplicate", contentType: ctProto, body: protoPush(`{a="b"}`, wireEntry(1, "x", "k", "1", "j", "", "k", "1")),
			want: `stream '{a="b"}' has duplicate structured metadata name: 'k'`},
		{name: "metadata-name-too-long", contentType: ctJSON, body: jsonPush(`{"a":"b"}`, `[["1","x",{"`+longName+`":"v"}]]`),
			want: `stream '{a="b"}' has structured metadata name too long: '` + longName[:256] + `…'`},
		{name: "metadata-empty-values", contentType: ctJSON, body: jsonPush(`{"a":"b"}`, `[["1","x",{"k":"","j":""}],["2","y",{}]]`)},
		{name: "metadata-long-value", contentType: ctProto, body: protoPush(`{a="b"}`, wireEntry(1, "x", "k", longValue))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(tc.body), tc.contentType, "", DefaultLimits(), validationNow)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				checkInvariants(t, got, DefaultLimits(), validationNow)
				if len(got) != 1 {
					t.Fatalf("got %d streams", len(got))
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v (%T), want a *ValidationError", err, err)
			}
			if ve.Msg != tc.want {
				t.Fatalf("message\n%q\nwant\n%q", ve.Msg, tc.want)
			}
		})
	}
}

// TestDecodeFirstError: the whole request is refused with its first
// problem, even when later streams are valid.
func TestDecodeFirstError(t *testing.T) {
	body := []byte(`{"streams":[
		{"stream":{"a":"ok"},"values":[["1","x"]]},
		{"stream":{"a":"b"},"values":[["1","x",{"-":"1"}]]},
		{"stream":{},"values":[["1","x"]]}]}`)
	got, err := Decode(bytes.NewReader(body), ctJSON, "", DefaultLimits(), validationNow)
	var ve *ValidationError
	if got != nil || !errors.As(err, &ve) || !strings.Contains(ve.Msg, "invalid structured metadata name: '-'") {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestDecodeCustomLimits(t *testing.T) {
	lim := Limits{MaxLineBytes: 3, MaxLabelNameLen: 2, MaxLabelValueLen: 2, MaxLabelsPerStream: 1, CreationGracePeriod: time.Nanosecond}
	nowNS := validationNow.UnixNano()
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"ok", protoPush(`{ab="cd"}`, wireEntry(nowNS+1, "xyz", "mn", "long metadata value")), ""},
		{"line", protoPush(`{a="b"}`, wireEntry(1, "wxyz")), `max entry size '3' bytes exceeded for stream '{a="b"}' while adding an entry with length '4' bytes`},
		{"name", protoPush(`{abc="b"}`, wireEntry(1, "x")), `stream '{abc="b"}' has label name too long: 'abc'`},
		{"value", protoPush(`{a="bcd"}`, wireEntry(1, "x")), `stream '{a="bcd"}' has label value too long: 'bcd'`},
		{"count", protoPush(`{a="b", c="d"}`, wireEntry(1, "x")), `entry for stream '{a="b", c="d"}' has 2 label names; limit 1`},
		{"metadata-name", protoPush(`{a="b"}`, wireEntry(1, "x", "abc", "")), `stream '{a="b"}' has structured metadata name too long: 'abc'`},
		{"grace", protoPush(`{a="b"}`, wireEntry(nowNS+2, "x")), `entry for stream '{a="b"}' has timestamp too new: 2026-11-26T10:00:00Z`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(tc.body), ctProto, "", lim, validationNow)
			if tc.want == "" {
				if err != nil || len(got) != 1 {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Msg != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
