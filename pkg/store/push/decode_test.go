package push

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	lokipush "github.com/grafana/loki/pkg/push"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

func TestDecodeDataset(t *testing.T) {
	data := readDataset(t)
	want := referenceJSON(t, data)
	proto := protoBody(t, toPushRequest(want))

	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestSpeed)
	fw.Write(data)
	fw.Close()

	tests := []struct {
		name                      string
		body                      []byte
		contentType, contentCoded string
	}{
		{"json", data, ctJSON, ""},
		{"json-charset", data, "application/json; charset=utf-8", ""},
		{"json-gzip", gzipBytes(t, data), ctJSON, "gzip"},
		{"json-deflate", deflated.Bytes(), ctJSON, "deflate"},
		{"protobuf", proto, ctProto, ""},
		{"protobuf-empty-content-type", proto, "", ""},
		{"protobuf-snappy-encoding", proto, ctProto, "snappy"},
		{"protobuf-gzip", gzipBytes(t, proto), ctProto, "gzip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(tc.body), tc.contentType, tc.contentCoded, DefaultLimits(), datasetNow)
			if err != nil {
				t.Fatal(err)
			}
			entries := 0
			for _, s := range got {
				entries += len(s.Entries)
			}
			if len(got) != 9 || entries != 95 {
				t.Fatalf("got %d streams, %d entries; want 9, 95\n%s", len(got), entries, describe(got))
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("result differs from encoding/json's reading of the body")
			}
			checkInvariants(t, got, DefaultLimits(), datasetNow)

			// Metadata intact: the kube exec session's entry.
			var exec *stream.Stream
			for i := range got {
				if got[i].Labels.Get("source") == "kube_exec" {
					exec = &got[i]
				}
			}
			if exec == nil || len(exec.Entries) != 1 {
				t.Fatalf("no kube_exec stream of one entry")
			}
			md := exec.Entries[0].Metadata
			if md.Get("session") != "node-a:1795687500000000000:9001" || md.Get("pod") != "woocommerce-6877958-x2b4q" {
				t.Fatalf("kube_exec metadata = %v", md)
			}
			for _, s := range got {
				for _, e := range s.Entries {
					if len(e.Metadata) < 4 || e.Metadata.Get("container_id") == "" {
						t.Fatalf("entry at %d of %s has metadata %v", e.Time, s.Labels, e.Metadata)
					}
				}
			}
		})
	}
}

func TestDecodeFormatsAgree(t *testing.T) {
	// The same content, written with escapes, odd spacing and key order in
	// JSON, and as protobuf, decodes the same.
	jsonBody := `  {"other": [1, -2.5e3, {"x": null}, true, false, "s"],
	  "streams" : [
	    {"values": [["1000", "line \"one\"\n\t\u00e9\ud83d\ude00", {"b": "", "a": "\u0041"}],
	                ["2000", "two"]],
	     "stream": {"job": "x", "empty": "", "host": "h\u00e9"}},
	    {"stream": {"host": "hé", "job": "x"}, "values": [["-5", ""]], "extra": {}}
	  ]}  `
	want := []stream.Stream{{
		Labels: stream.Labels{{Name: "host", Value: "hé"}, {Name: "job", Value: "x"}},
		Entries: []stream.Entry{
			{Time: 1000, Line: "line \"one\"\n\té😀", Metadata: stream.Labels{{Name: "a", Value: "A"}, {Name: "b", Value: ""}}},
			{Time: 2000, Line: "two"},
			{Time: -5, Line: ""},
		},
	}}
	req := &lokipush.PushRequest{Streams: []lokipush.Stream{
		{Labels: `{job="x", empty="", host="h\u00e9"}`, Entries: []lokipush.Entry{
			{Timestamp: time.Unix(0, 1000), Line: "line \"one\"\n\té😀", StructuredMetadata: lokipush.LabelsAdapter{{Name: "b"}, {Name: "a", Value: "A"}}},
			{Timestamp: time.Unix(0, 2000), Line: "two"},
		}},
		{Labels: "{ host = `hé` , job=\"x\", }", Entries: []lokipush.Entry{{Timestamp: time.Unix(0, -5)}}},
	}}
	for _, tc := range []struct {
		name, contentType string
		body              []byte
	}{
		{"json", ctJSON, []byte(jsonBody)},
		{"protobuf", ctProto, protoBody(t, req)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(tc.body), tc.contentType, "", DefaultLimits(), time.Unix(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestDecodeMerge(t *testing.T) {
	tests := []struct {
		name, contentType string
		body              []byte
		want              []stream.Stream
	}{
		{
			name:        "json",
			contentType: ctJSON,
			body: []byte(`{"streams":[
				{"stream":{"a":"1"},"values":[["1","a1"],["3","a3"]]},
				{"stream":{"b":"2"},"values":[["2","b2"]]},
				{"stream":{"a":"1","c":""},"values":[["0","a0"]]},
				{"stream":{"z":"9"},"values":[]}]}`),
			want: []stream.Stream{
				{Labels: stream.Labels{{Name: "a", Value: "1"}}, Entries: []stream.Entry{{Time: 1, Line: "a1"}, {Time: 3, Line: "a3"}, {Time: 0, Line: "a0"}}},
				{Labels: stream.Labels{{Name: "b", Value: "2"}}, Entries: []stream.Entry{{Time: 2, Line: "b2"}}},
			},
		},
		{
			name:        "protobuf",
			contentType: ctProto,
			body: snappy.Encode(nil, wireRequest(
				wireStream(`{x="1", y="2"}`, wireEntry(5, "first")),
				wireStream(`{y="2",x="1"}`, wireEntry(4, "second")),
				wireStream(`{x="1"}`, wireEntry(3, "third")),
				wireStream(`{x="1", y="2", z=""}`, wireEntry(2, "fourth")),
				wireStream(`{not valid`), // no entries: ignored, as in Loki
			)),
			want: []stream.Stream{
				{Labels: stream.Labels{{Name: "x", Value: "1"}, {Name: "y", Value: "2"}}, Entries: []stream.Entry{{Time: 5, Line: "first"}, {Time: 4, Line: "second"}, {Time: 2, Line: "fourth"}}},
				{Labels: stream.Labels{{Name: "x", Value: "1"}}, Entries: []stream.Entry{{Time: 3, Line: "third"}}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(tc.body), tc.contentType, "", DefaultLimits(), time.Unix(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestDecodeEmpty(t *testing.T) {
	tests := []struct {
		name, contentType string
		body              []byte
	}{
		{"json-no-streams", ctJSON, []byte(`{"streams":[]}`)},
		{"json-null-streams", ctJSON, []byte(`{"streams":null}`)},
		{"json-no-key", ctJSON, []byte(` {} `)},
		{"json-streams-without-entries", ctJSON, []byte(`{"streams":[{"stream":{"a":"b"},"values":[]},{"stream":{},"values":null},{}]}`)},
		{"protobuf-no-streams", ctProto, snappy.Encode(nil, nil)},
		{"protobuf-format-only", ctProto, snappy.Encode(nil, appendString(nil, 2, "loki"))},
		{"protobuf-stream-without-entries", ctProto, snappy.Encode(nil, wireRequest(wireStream(`{a="b"}`), wireStream(``)))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(tc.body), tc.contentType, "", DefaultLimits(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Fatalf("got %d streams, want none", len(got))
			}
		})
	}
}

func TestDecodeContentHeaders(t *testing.T) {
	json := []byte(`{"streams":[{"stream":{"a":"b"},"values":[["1","x"]]}]}`)
	proto := snappy.Encode(nil, wireRequest(wireStream(`{a="b"}`, wireEntry(1, "x"))))
	tests := []struct {
		name, contentType, contentEncoding string
		body                               []byte
		wantErr                            string // "" for success
	}{
		{"json", "application/json", "", json, ""},
		{"json-upper-case", "Application/JSON", "", json, ""},
		{"json-params", "application/json; charset=utf-8", "identity", json, ""},
		{"protobuf-params", "application/x-protobuf; proto=logproto.PushRequest", "", proto, ""},
		{"encoding-case", ctJSON, " GZIP ", gzipBytes(t, json), ""},
		{"text-plain", "text/plain", "", json, "unsupported Content-Type"},
		{"bad-media-type", "application/json;;", "", json, "invalid Content-Type"},
		{"brotli", ctJSON, "br", json, `Content-Encoding "br" not supported`},
		{"snappy-json", ctJSON, "snappy", json, `Content-Encoding "snappy" not supported`},
		{"json-as-protobuf", ctProto, "", json, "decompressing snappy body"},
		{"protobuf-as-json", ctJSON, "", proto, "invalid JSON push request"},
		{"not-gzip", ctJSON, "gzip", json, "decompressing request body"},
		{"truncated-gzip", ctJSON, "gzip", gzipBytes(t, json)[:20], "decompressing request body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(tc.body), tc.contentType, tc.contentEncoding, DefaultLimits(), time.Now())
			if tc.wantErr == "" {
				if err != nil || len(got) != 1 {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(ve.Msg, tc.wantErr) {
				t.Fatalf("error %v, want a ValidationError containing %q", err, tc.wantErr)
			}
		})
	}
}

// guardedReader serves src, failing the test if more than max bytes are
// read from it.
type guardedReader struct {
	t    *testing.T
	src  io.Reader
	max  int64
	read int64
}

func (g *guardedReader) Read(p []byte) (int, error) {
	n, err := g.src.Read(p)
	g.read += int64(n)
	if g.read > g.max {
		g.t.Errorf("read %d bytes, past the limit and its slack (%d)", g.read, g.max)
		return n, errors.New("read past the limit")
	}
	return n, err
}

// repeatReader yields its pattern forever.
type repeatReader struct {
	pattern []byte
	off     int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.pattern[r.off]
		r.off = (r.off + 1) % len(r.pattern)
	}
	return len(p), nil
}

func TestDecodeTooLarge(t *testing.T) {
	const limit = 64 << 10
	const slack = 1 // the one byte that tells the body is over the limit
	lim := DefaultLimits()
	lim.MaxBodyBytes = limit

	// A gzip bomb: 64 MiB of zeros in ~64 KB.
	bomb := gzipBytes(t, make([]byte, 64<<20))
	// An endless gzip stream of incompressible bytes.
	endless, stop := endlessGzip()
	defer stop()
	// A snappy block claiming 1 GiB.
	hugeSnappy := appendVarint(nil, 1<<30)
	hugeSnappy = append(hugeSnappy, make([]byte, 100)...)
	// A real snappy body just over the limit once decoded.
	overSnappy := snappy.Encode(nil, bytes.Repeat([]byte{0}, limit+1))

	tests := []struct {
		name, contentType, contentEncoding string
		src                                io.Reader
		maxRead                            int64
	}{
		{"json-endless", ctJSON, "", &repeatReader{pattern: []byte(`{"streams":[ `)}, limit + slack},
		{"protobuf-endless", ctProto, "", &repeatReader{pattern: []byte{0xff}}, limit + slack},
		{"json-just-over", ctJSON, "", bytes.NewReader(make([]byte, limit+1)), limit + slack},
		{"gzip-endless", ctJSON, "gzip", endless, limit + slack},
		{"gzip-bomb", ctJSON, "gzip", bytes.NewReader(bomb), 16 << 10},
		{"snappy-claims-1GiB", ctProto, "", bytes.NewReader(hugeSnappy), int64(len(hugeSnappy))},
		{"snappy-decodes-over", ctProto, "", bytes.NewReader(overSnappy), int64(len(overSnappy))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &guardedReader{t: t, src: tc.src, max: tc.maxRead}
			_, err := Decode(g, tc.contentType, tc.contentEncoding, lim, time.Now())
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v, want ErrTooLarge", err)
			}
			t.Logf("%v after reading %d bytes", err, g.read)
		})
	}

	// At the limit exactly, the body is read.
	t.Run("at-limit", func(t *testing.T) {
		body := []byte(`{"streams":[{"stream":{"a":"b"},"values":[["1","x"]]}]}`)
		body = append(body, bytes.Repeat([]byte(" "), limit-len(body))...)
		got, err := Decode(bytes.NewReader(body), ctJSON, "", lim, time.Now())
		if err != nil || len(got) != 1 {
			t.Fatalf("got %v, %v", got, err)
		}
	})
}

// endlessGzip returns a reader of a gzip stream of random bytes that goes
// on until stop is called.
func endlessGzip() (r io.Reader, stop func()) {
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		rng := rand.NewChaCha8([32]byte{1})
		chunk := make([]byte, 32<<10)
		for {
			rng.Read(chunk)
			if _, err := zw.Write(chunk); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr, func() { pr.Close() }
}

// failingReader fails after its data.
type failingReader struct{ data []byte }

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, io.ErrClosedPipe
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestDecodeReadError(t *testing.T) {
	body := []byte(`{"streams":[{"stream":{"a":"b"},"values":[["1","x"]]}]}`)
	for _, enc := range []string{"", "gzip"} {
		t.Run("encoding="+enc, func(t *testing.T) {
			data := body[:20]
			if enc == "gzip" {
				data = gzipBytes(t, body)[:20]
			}
			_, err := Decode(&failingReader{data: data}, ctJSON, enc, DefaultLimits(), time.Now())
			if !errors.Is(err, io.ErrClosedPipe) {
				t.Fatalf("error %v, want the reader's", err)
			}
			var ve *ValidationError
			if errors.As(err, &ve) || errors.Is(err, ErrTooLarge) {
				t.Fatalf("a reader's error became %T", err)
			}
		})
	}
}

func TestDefaultLimits(t *testing.T) {
	want := Limits{
		MaxBodyBytes:        16 << 20,
		MaxLineBytes:        256 << 10,
		MaxLabelNameLen:     1024,
		MaxLabelValueLen:    2048,
		MaxLabelsPerStream:  15,
		CreationGracePeriod: 10 * time.Minute,
	}
	if got := DefaultLimits(); got != want {
		t.Fatalf("DefaultLimits() = %+v", got)
	}
	if got := (Limits{}).WithDefaults(); got != want {
		t.Fatalf("zero Limits take %+v", got)
	}
	custom := Limits{MaxBodyBytes: 1, MaxLineBytes: 2, MaxLabelNameLen: 3, MaxLabelValueLen: 4, MaxLabelsPerStream: 5, CreationGracePeriod: 6}
	if got := custom.WithDefaults(); got != custom {
		t.Fatalf("set Limits became %+v", got)
	}
}

// TestDecodeConcurrent decodes from several goroutines at once (pooled
// buffers must not leak between requests; run with -race).
func TestDecodeConcurrent(t *testing.T) {
	data := readDataset(t)
	want := referenceJSON(t, data)
	proto := protoBody(t, toPushRequest(want))
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 20 {
				body, ct := data, ctJSON
				if (g+i)%2 == 1 {
					body, ct = proto, ctProto
				}
				got, err := Decode(bytes.NewReader(body), ct, "", DefaultLimits(), datasetNow)
				if err == nil && !reflect.DeepEqual(got, want) {
					err = fmt.Errorf("goroutine %d, run %d: wrong result", g, i)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
