package push

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/golang/snappy"
	lokipush "github.com/grafana/loki/pkg/push"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

const (
	ctProto = "application/x-protobuf"
	ctJSON  = "application/json"
)

// datasetNow is a moment after every entry of dataset.json (2026-11-26
// 10:15 UTC; the last entry is at 10:12:23).
var datasetNow = time.Unix(0, 1795688100000000000)

// readDataset returns testdata/loki/dataset.json.
func readDataset(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "loki", "dataset.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// referenceJSON decodes a JSON push body with encoding/json, independently
// of the package's decoder, into the expected result (labels and metadata
// sorted, equal label sets merged in order of first appearance).
func referenceJSON(tb testing.TB, body []byte) []stream.Stream {
	tb.Helper()
	var req struct {
		Streams []struct {
			Stream map[string]string   `json:"stream"`
			Values [][]json.RawMessage `json:"values"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		tb.Fatal(err)
	}
	var out []stream.Stream
	for _, s := range req.Streams {
		ls := stream.FromMap(s.Stream)
		i := slices.IndexFunc(out, func(o stream.Stream) bool { return o.Labels.Equal(ls) })
		if i < 0 {
			out = append(out, stream.Stream{Labels: ls})
			i = len(out) - 1
		}
		for _, v := range s.Values {
			var tsText, line string
			if err := json.Unmarshal(v[0], &tsText); err != nil {
				tb.Fatal(err)
			}
			if err := json.Unmarshal(v[1], &line); err != nil {
				tb.Fatal(err)
			}
			ts, err := strconv.ParseInt(tsText, 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			e := stream.Entry{Time: ts, Line: line}
			if len(v) == 3 {
				var md map[string]string
				if err := json.Unmarshal(v[2], &md); err != nil {
					tb.Fatal(err)
				}
				e.Metadata = stream.FromMap(md)
			}
			out[i].Entries = append(out[i].Entries, e)
		}
	}
	return out
}

// toPushRequest converts streams into Loki's protobuf request type.
func toPushRequest(streams []stream.Stream) *lokipush.PushRequest {
	req := &lokipush.PushRequest{}
	for _, s := range streams {
		ps := lokipush.Stream{Labels: s.Labels.String()}
		for _, e := range s.Entries {
			pe := lokipush.Entry{Timestamp: time.Unix(0, e.Time), Line: e.Line}
			for _, m := range e.Metadata {
				pe.StructuredMetadata = append(pe.StructuredMetadata, lokipush.LabelAdapter{Name: m.Name, Value: m.Value})
			}
			ps.Entries = append(ps.Entries, pe)
		}
		req.Streams = append(req.Streams, ps)
	}
	return req
}

// protoBody returns the snappy-compressed protobuf body of req.
func protoBody(tb testing.TB, req *lokipush.PushRequest) []byte {
	tb.Helper()
	raw, err := req.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	return snappy.Encode(nil, raw)
}

// gzipBytes compresses b.
func gzipBytes(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// checkErrorKind fails unless err is nil, a *ValidationError or wraps
// ErrTooLarge.
func checkErrorKind(tb testing.TB, err error) {
	tb.Helper()
	if err == nil || errors.Is(err, ErrTooLarge) {
		return
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		tb.Fatalf("error %v (%T) is neither a *ValidationError nor ErrTooLarge", err, err)
	}
}

// checkInvariants checks what every decoded result promises.
func checkInvariants(tb testing.TB, streams []stream.Stream, lim Limits, now time.Time) {
	tb.Helper()
	lim = lim.WithDefaults()
	seen := map[string]bool{}
	for _, s := range streams {
		key := s.Labels.String()
		if seen[key] {
			tb.Fatalf("stream %s appears twice", key)
		}
		seen[key] = true
		if len(s.Labels) == 0 || len(s.Entries) == 0 {
			tb.Fatalf("stream %s: %d labels, %d entries", key, len(s.Labels), len(s.Entries))
		}
		if n := len(s.Labels); n > lim.MaxLabelsPerStream && !(n == lim.MaxLabelsPerStream+1 && s.Labels.Has("service_name")) {
			tb.Fatalf("stream %s: %d labels", key, n)
		}
		checkLabelSet(tb, key, s.Labels, false, lim)
		for _, e := range s.Entries {
			if e.Time > now.Add(lim.CreationGracePeriod).UnixNano() {
				tb.Fatalf("stream %s: entry at %d is too new", key, e.Time)
			}
			if len(e.Line) > lim.MaxLineBytes {
				tb.Fatalf("stream %s: line of %d bytes", key, len(e.Line))
			}
			checkLabelSet(tb, key, e.Metadata, true, lim)
		}
	}
}

func checkLabelSet(tb testing.TB, key string, ls stream.Labels, metadata bool, lim Limits) {
	tb.Helper()
	for i, l := range ls {
		if !validName(l.Name) || len(l.Name) > lim.MaxLabelNameLen {
			tb.Fatalf("stream %s: invalid name %q", key, l.Name)
		}
		if i > 0 && ls[i-1].Name >= l.Name {
			tb.Fatalf("stream %s: names out of order or repeated: %q, %q", key, ls[i-1].Name, l.Name)
		}
		if !metadata && (l.Value == "" || len(l.Value) > lim.MaxLabelValueLen) {
			tb.Fatalf("stream %s: bad value %q", key, l.Value)
		}
	}
}

// describe summarises streams for failure messages.
func describe(streams []stream.Stream) string {
	var b bytes.Buffer
	for _, s := range streams {
		fmt.Fprintf(&b, "%s: %d entries\n", s.Labels, len(s.Entries))
	}
	return b.String()
}

// wire helpers, to write protobuf messages by hand.

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendTag(b []byte, num, wt int) []byte { return appendVarint(b, uint64(num)<<3|uint64(wt)) }

func appendBytes(b []byte, num int, v []byte) []byte {
	b = appendTag(b, num, wireBytes)
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendString(b []byte, num int, v string) []byte { return appendBytes(b, num, []byte(v)) }

func appendVarintField(b []byte, num int, v uint64) []byte {
	return appendVarint(appendTag(b, num, wireVarint), v)
}

// wireTimestamp encodes a google.protobuf.Timestamp.
func wireTimestamp(sec int64, nanos int32) []byte {
	var b []byte
	if sec != 0 {
		b = appendVarintField(b, 1, uint64(sec))
	}
	if nanos != 0 {
		b = appendVarintField(b, 2, uint64(int64(nanos)))
	}
	return b
}

// wireEntry encodes an EntryAdapter with a timestamp, line and metadata.
func wireEntry(ns int64, line string, md ...string) []byte {
	b := appendBytes(nil, 1, wireTimestamp(ns/1e9, int32(ns%1e9)))
	b = appendString(b, 2, line)
	for i := 0; i+1 < len(md); i += 2 {
		b = appendBytes(b, 3, appendString(appendString(nil, 1, md[i]), 2, md[i+1]))
	}
	return b
}

// wireStream encodes a StreamAdapter.
func wireStream(labels string, entries ...[]byte) []byte {
	b := appendString(nil, 1, labels)
	for _, e := range entries {
		b = appendBytes(b, 2, e)
	}
	return b
}

// wireRequest encodes a PushRequest.
func wireRequest(streams ...[]byte) []byte {
	var b []byte
	for _, s := range streams {
		b = appendBytes(b, 1, s)
	}
	return b
}
