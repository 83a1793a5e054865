package push

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	lokipush "github.com/grafana/loki/pkg/push"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// referenceProto decodes a raw (uncompressed) PushRequest with Loki's own
// gogo-generated Unmarshal and applies the package's normalisation (labels
// parsed, empty values dropped, sorted, merged; metadata sorted), without
// validation.
func referenceProto(raw []byte) ([]stream.Stream, error) {
	var req lokipush.PushRequest
	if err := req.Unmarshal(raw); err != nil {
		return nil, err
	}
	var out []stream.Stream
	for _, s := range req.Streams {
		if len(s.Entries) == 0 {
			continue
		}
		parsed, err := parseLabelString(s.Labels, nil)
		if err != nil {
			return nil, err
		}
		var ls stream.Labels
		for _, l := range parsed {
			if l.Value != "" {
				ls = append(ls, l)
			}
		}
		ls.Sort()
		i := 0
		for i < len(out) && !out[i].Labels.Equal(ls) {
			i++
		}
		if i == len(out) {
			out = append(out, stream.Stream{Labels: ls})
		}
		for _, e := range s.Entries {
			var md stream.Labels
			for _, m := range e.StructuredMetadata {
				md = append(md, stream.Label{Name: m.Name, Value: m.Value})
			}
			md.Sort()
			ts := e.Timestamp.Unix()*1e9 + int64(e.Timestamp.Nanosecond())
			out[i].Entries = append(out[i].Entries, stream.Entry{Time: ts, Line: e.Line, Metadata: md})
		}
	}
	return out, nil
}

// nonMinimal encodes v as a varint one byte longer than needed.
func nonMinimal(v uint64) []byte {
	b := appendVarint(nil, v)
	b[len(b)-1] |= 0x80
	return append(b, 0)
}

// TestProtobufMatchesLoki decodes wire messages that exercise protobuf's
// corners with the package and with Loki's generated code.
func TestProtobufMatchesLoki(t *testing.T) {
	ts := wireTimestamp(1795687205, 739326803)
	pair := func(name, value string) []byte { return appendString(appendString(nil, 1, name), 2, value) }
	group := func(num int, inner []byte) []byte {
		b := appendTag(nil, num, wireStartGroup)
		b = append(b, inner...)
		return appendTag(b, num, wireEndGroup)
	}
	unknowns := func(b []byte) []byte {
		b = appendVarintField(b, 15, 1<<63)
		b = append(appendTag(b, 16, wireFixed32), 1, 2, 3, 4)
		b = append(appendTag(b, 17, wireFixed64), 1, 2, 3, 4, 5, 6, 7, 8)
		b = appendString(b, 18, "skipped")
		b = append(b, group(19, appendVarintField(group(20, appendString(nil, 1, "x")), 2, 7))...)
		return b
	}
	entry := func(fields ...[]byte) []byte { return bytes.Join(fields, nil) }
	good := wireStream(`{a="b"}`, wireEntry(1, "x"))

	tests := []struct {
		name string
		raw  []byte
	}{
		{"dataset", func() []byte {
			raw, err := toPushRequest(referenceJSON(t, readDataset(t))).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}()},
		{"unknown-fields-everywhere", unknowns(wireRequest(
			unknowns(wireStream(`{a="b"}`,
				entry(appendBytes(nil, 1, unknowns(ts)), appendString(nil, 2, "line"), appendBytes(nil, 3, unknowns(pair("k", "v")))),
			)),
		))},
		{"last-labels-win", wireRequest(append(appendString(nil, 1, `{bad`), wireStream(`{a="b"}`, wireEntry(1, "x"))...))},
		{"last-line-wins", wireRequest(wireStream(`{a="b"}`, entry(appendBytes(nil, 1, ts), appendString(nil, 2, "old"), appendString(nil, 2, "new"))))},
		{"last-timestamp-wins", wireRequest(wireStream(`{a="b"}`, entry(appendBytes(nil, 1, wireTimestamp(1, 2)), appendString(nil, 2, "x"), appendBytes(nil, 1, ts))))},
		{"timestamp-fields-repeated", wireRequest(wireStream(`{a="b"}`, entry(appendBytes(nil, 1, append(wireTimestamp(7, 8), wireTimestamp(9, 10)...)))))},
		{"fields-out-of-order", wireRequest(append(appendBytes(nil, 2, wireEntry(5, "e")), appendString(nil, 1, `{a="b"}`)...))},
		{"parsed-dropped", wireRequest(wireStream(`{a="b"}`, entry(wireEntry(1, "x", "k", "v"), appendBytes(nil, 4, pair("p", "q")))))},
		{"hash-and-format", append(appendString(nil, 2, "otlp"), appendBytes(nil, 1, appendVarintField(wireStream(`{a="b"}`, wireEntry(1, "x")), 3, 12345))...)},
		{"metadata-pair-repeated-fields", wireRequest(wireStream(`{a="b"}`, entry(appendBytes(nil, 1, ts), appendBytes(nil, 3, append(pair("x", "1"), pair("k", "v")...)))))},
		{"metadata-empty-pair-value", wireRequest(wireStream(`{a="b"}`, entry(appendBytes(nil, 1, ts), appendBytes(nil, 3, appendString(nil, 1, "k")))))},
		{"empty-entry-timestamp-message", wireRequest(wireStream(`{a="b"}`, appendBytes(nil, 1, nil)))},
		{"field-number-truncated-to-int32", wireRequest(wireStream(`{a="b"}`, append(appendVarint(appendVarint(nil, (1<<32|1)<<3|wireBytes), uint64(len(ts))), ts...)))},
		{"non-minimal-varints", append(append(nonMinimal(1<<3|wireBytes), nonMinimal(uint64(len(good)))...), good...)},
		{"ten-byte-seconds", wireRequest(wireStream(`{a="b"}`, appendBytes(nil, 1, appendVarintField(nil, 1, uint64(1)<<63|5))))},
		{"negative-seconds", wireRequest(wireStream(`{a="b"}`, wireEntry(-1_500_000_000, "x")))},
		{"merged-streams", wireRequest(wireStream(`{a="b"}`, wireEntry(2, "x")), wireStream(`{c="d"}`, wireEntry(1, "y")), wireStream(`{ a = "b" }`, wireEntry(3, "z")))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, refErr := referenceProto(tc.raw)
			got, err := Decode(bytes.NewReader(snappy.Encode(nil, tc.raw)), ctProto, "", DefaultLimits(), datasetNow)
			if err != nil {
				t.Logf("package: %v", err)
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("error %T", err)
				}
				if refErr == nil && !strings.Contains(ve.Msg, "timestamp") {
					t.Fatalf("refused what Loki decodes (%s)", describe(want))
				}
				return
			}
			if refErr != nil {
				t.Fatalf("accepted what Loki refuses: %v", refErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestDecodeMalformedProtobuf(t *testing.T) {
	good := wireStream(`{a="b"}`, wireEntry(1, "x"))
	tests := []struct {
		name string
		raw  []byte // uncompressed, unless snappyBody is set
		// snappyBody is sent as is (a broken snappy block).
		snappyBody []byte
		want       string
	}{
		{name: "snappy-garbage", snappyBody: []byte("\xff\xff\xff\xff\xff\xff"), want: "decompressing snappy body: snappy: corrupt input"},
		{name: "snappy-empty", snappyBody: []byte{}, want: "decompressing snappy body: snappy: corrupt input"},
		{name: "snappy-short", snappyBody: snappy.Encode(nil, wireRequest(good))[:10], want: "decompressing snappy body: snappy: corrupt input"},
		{name: "snappy-framed", snappyBody: []byte("\xff\x06\x00\x00sNaPpY"), want: "decompressing snappy body: snappy: corrupt input"},
		{name: "truncated-stream", raw: wireRequest(good)[:10], want: "invalid protobuf push request: unexpected end of message"},
		{name: "length-past-end", raw: append(appendTag(nil, 1, wireBytes), 0x7f), want: "invalid protobuf push request: unexpected end of message"},
		{name: "huge-length", raw: append(appendTag(nil, 1, wireBytes), appendVarint(nil, 1<<63)...), want: "invalid protobuf push request: length out of range"},
		{name: "streams-wrong-wire-type", raw: appendVarintField(nil, 1, 5), want: "invalid protobuf push request: wrong wire type 0 for field streams"},
		{name: "format-wrong-wire-type", raw: appendVarintField(nil, 2, 5), want: "invalid protobuf push request: wrong wire type 0 for field format"},
		{name: "labels-wrong-wire-type", raw: wireRequest(appendVarintField(nil, 1, 5)), want: "invalid protobuf push request: wrong wire type 0 for field labels"},
		{name: "hash-wrong-wire-type", raw: wireRequest(appendString(good, 3, "x")), want: "invalid protobuf push request: wrong wire type 2 for field hash"},
		{name: "line-wrong-wire-type", raw: wireRequest(wireStream(`{a="b"}`, appendVarintField(nil, 2, 1))), want: "invalid protobuf push request: wrong wire type 0 for field line"},
		{name: "seconds-wrong-wire-type", raw: wireRequest(wireStream(`{a="b"}`, appendBytes(nil, 1, appendString(nil, 1, "x")))), want: "invalid protobuf push request: wrong wire type 2 for field Timestamp"},
		{name: "metadata-name-wrong-wire-type", raw: wireRequest(wireStream(`{a="b"}`, appendBytes(wireEntry(1, "x"), 3, appendVarintField(nil, 1, 1)))), want: "invalid protobuf push request: wrong wire type 0 for field name"},
		{name: "parsed-broken", raw: wireRequest(wireStream(`{a="b"}`, appendBytes(wireEntry(1, "x"), 4, []byte{0x0a}))), want: "invalid protobuf push request: unexpected end of message"},
		{name: "tag-zero", raw: []byte{0x00, 0x00}, want: "invalid protobuf push request: PushRequest: illegal tag 0 (wire type 0)"},
		{name: "end-group", raw: appendTag(nil, 3, wireEndGroup), want: "invalid protobuf push request: PushRequest: end group for non-group"},
		{name: "unterminated-group", raw: append(appendTag(nil, 3, wireStartGroup), appendVarintField(nil, 1, 1)...), want: "invalid protobuf push request: unexpected end of message"},
		{name: "group-ended-by-other-number", raw: append(appendTag(nil, 3, wireStartGroup), appendTag(nil, 4, wireEndGroup)...), want: ""},
		{name: "wire-type-6", raw: appendTag(nil, 9, 6), want: "invalid protobuf push request: illegal wire type 6"},
		{name: "wire-type-7-in-group", raw: append(appendTag(nil, 9, wireStartGroup), appendTag(nil, 9, 7)...), want: "invalid protobuf push request: illegal wire type 7"},
		{name: "varint-11-bytes", raw: append(appendTag(nil, 9, wireVarint), bytes.Repeat([]byte{0x80}, 10)...), want: "invalid protobuf push request: integer overflow"},
		{name: "tag-11-bytes", raw: bytes.Repeat([]byte{0x80}, 11), want: "invalid protobuf push request: integer overflow"},
		{name: "truncated-fixed64", raw: append(appendTag(nil, 9, wireFixed64), 1, 2, 3), want: "invalid protobuf push request: unexpected end of message"},
		{name: "truncated-fixed32", raw: append(appendTag(nil, 9, wireFixed32), 1, 2, 3), want: "invalid protobuf push request: unexpected end of message"},
		{name: "negative-field-number", raw: appendVarint(nil, uint64(1)<<34|wireBytes), want: "invalid protobuf push request: PushRequest: illegal tag -2147483648 (wire type 2)"},
		{name: "before-1678", raw: wireRequest(wireStream(`{a="b"}`, appendBytes(nil, 1, wireTimestamp(-9223372037, 145224191)))), want: `entry for stream '{a="b"}' has a timestamp out of range: -9223372037 seconds`},
		{name: "bad-labels", raw: wireRequest(wireStream(`{a=b}`, wireEntry(1, "x"))), want: "error parsing labels '{a=b}' with error: parse error at position 4: expected a quoted value, found 'b'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.snappyBody
			if body == nil {
				body = snappy.Encode(nil, tc.raw)
			}
			got, err := Decode(bytes.NewReader(body), ctProto, "", DefaultLimits(), datasetNow)
			if tc.want == "" {
				// gogo does not match a group's end to its start either.
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if _, refErr := referenceProto(tc.raw); refErr != nil {
					t.Fatalf("Loki refuses it: %v", refErr)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Msg != tc.want {
				t.Fatalf("got %v, %v; want ValidationError %q", got, err, tc.want)
			}
			if tc.raw != nil && strings.HasPrefix(tc.want, "invalid protobuf push request") {
				if _, refErr := referenceProto(tc.raw); refErr == nil {
					t.Fatalf("Loki's Unmarshal accepts it")
				}
			}
		})
	}
}

// TestProtobufTimestampConversion checks Unix nanoseconds at the edges
// against time.Time.
func TestProtobufTimestampConversion(t *testing.T) {
	for _, want := range []time.Time{
		time.Unix(0, 0), time.Unix(0, 1), time.Unix(-1, 999999999), time.Unix(1795687205, 739326803),
		time.Unix(0, 1<<63-1), time.Unix(0, -1<<63),
	} {
		raw := wireRequest(wireStream(`{a="b"}`, appendBytes(nil, 1, wireTimestamp(want.Unix(), int32(want.Nanosecond())))))
		lim := DefaultLimits()
		got, err := Decode(bytes.NewReader(snappy.Encode(nil, raw)), ctProto, "", lim, time.Unix(0, 1<<63-1-int64(lim.CreationGracePeriod)))
		if err != nil {
			t.Fatalf("%v: %v", want, err)
		}
		if ns := got[0].Entries[0].Time; ns != want.UnixNano() {
			t.Fatalf("%v: got %d, want %d", want, ns, want.UnixNano())
		}
	}
}
