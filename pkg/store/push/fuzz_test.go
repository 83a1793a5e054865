package push

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/golang/snappy"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// Run the fuzzers with, for example:
//
//	go test -run '^$' -fuzz '^FuzzDecodeJSON$' -fuzztime 30s -fuzzminimizetime 1s ./pkg/store/push/
//
// (a short -fuzzminimizetime: minimising a mutated dataset.json takes the
// default minute per new input, during which no inputs are run).
// testdata/fuzz holds inputs found that way.

// fuzzLimits are small enough for the fuzzer to reach, and large enough
// for dataset.json.
var fuzzLimits = Limits{
	MaxBodyBytes:       1 << 20,
	MaxLineBytes:       400,
	MaxLabelNameLen:    16,
	MaxLabelValueLen:   32,
	MaxLabelsPerStream: 8,
}

// FuzzDecodeJSON: any body decodes without panicking to a result that keeps
// every promise, or to a ValidationError or ErrTooLarge. An accepted body is
// valid JSON, and the result, written back as JSON, decodes to itself.
func FuzzDecodeJSON(f *testing.F) {
	f.Add(readDataset(f))
	for _, s := range []string{
		`{"streams":[{"stream":{"a":"b"},"values":[["1","x"],["2","y",{"k":"v"}]]}]}`,
		`{"streams":[{"values":[["-5","\u00e9\ud83d\ude00\n"]],"stream":{"b":"1","a":""}},{"stream":{"a":"","b":"1"},"values":[["0",""]]}]}`,
		`{"x":[1,-2.5e3,{"y":null},true,false],"streams":null}`,
		`{"streams":[{"stream":{"a":"b","a":"c"},"values":[["1","x",{"k":"1","k":"2"}]]}]}`,
		`{"streams":[{"stream":{"service_name":"s","a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8"},"values":[["9999999999999999999","x"]]}]}`,
		`{}`, `[]`, `{"streams":[{}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := bytes.Clone(data)
		got, err := Decode(bytes.NewReader(data), ctJSON, "", fuzzLimits, datasetNow)
		if !bytes.Equal(in, data) {
			t.Fatal("Decode changed its input")
		}
		checkErrorKind(t, err)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON")
		}
		checkInvariants(t, got, fuzzLimits, datasetNow)

		// Round trip, where encoding/json can write the strings unchanged.
		for _, s := range got {
			for _, e := range s.Entries {
				if !utf8.ValidString(e.Line) || !validUTF8Labels(e.Metadata) {
					return
				}
			}
		}
		again, err := Decode(bytes.NewReader(encodeJSON(t, got)), ctJSON, "", fuzzLimits, datasetNow)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip: got %#v, want %#v", again, got)
		}
	})
}

func validUTF8Labels(ls stream.Labels) bool {
	for _, l := range ls {
		if !utf8.ValidString(l.Value) {
			return false
		}
	}
	return true
}

// encodeJSON writes streams in Loki's JSON push format.
func encodeJSON(tb testing.TB, streams []stream.Stream) []byte {
	type jsonStream struct {
		Stream map[string]string `json:"stream"`
		Values [][]any           `json:"values"`
	}
	var req struct {
		Streams []jsonStream `json:"streams"`
	}
	for _, s := range streams {
		js := jsonStream{Stream: s.Labels.Map()}
		for _, e := range s.Entries {
			v := []any{strconv.FormatInt(e.Time, 10), e.Line}
			if len(e.Metadata) > 0 {
				v = append(v, e.Metadata.Map())
			}
			js.Values = append(js.Values, v)
		}
		req.Streams = append(req.Streams, js)
	}
	b, err := json.Marshal(req)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzDecodeProtobuf: data is an uncompressed PushRequest, sent snappy
// compressed, and also a snappy body as is. Neither panics; errors are
// ValidationErrors or ErrTooLarge; an accepted request is one Loki's
// generated Unmarshal accepts too, decoded to the same values.
func FuzzDecodeProtobuf(f *testing.F) {
	raw, err := toPushRequest(referenceJSON(f, readDataset(f))).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(wireRequest(wireStream(`{a="b", c=""}`, wireEntry(1, "x", "k", "v", "j", "")), wireStream(`{ c = "", a = "b", }`, wireEntry(2, "y"))))
	f.Add(wireRequest(wireStream("{a=`raw\\`, b=\"\\u00e9\\n\"}", wireEntry(-1, ""))))
	f.Add(append(appendString(nil, 2, "loki"), appendBytes(nil, 15, nil)...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// As a snappy body, unchanged.
		_, err := Decode(bytes.NewReader(data), ctProto, "", fuzzLimits, datasetNow)
		checkErrorKind(t, err)

		// As a protobuf message.
		got, err := Decode(bytes.NewReader(snappy.Encode(nil, data)), ctProto, "", fuzzLimits, datasetNow)
		checkErrorKind(t, err)
		if err != nil {
			return
		}
		checkInvariants(t, got, fuzzLimits, datasetNow)
		want, refErr := referenceProto(data)
		if refErr != nil {
			t.Fatalf("accepted what Loki's Unmarshal refuses: %v", refErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %#v\nwant %#v", got, want)
		}
	})
}
