package push

import (
	"bytes"
	"testing"
	"time"

	"github.com/golang/snappy"
	lokipush "github.com/grafana/loki/pkg/push"

	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// benchBatch returns a batch of about size bytes (uncompressed protobuf):
// dataset.json's records repeated over its 9 streams, each copy with its
// own timestamps (1 ms apart) and exec_id, as a collector would ship them.
func benchBatch(tb testing.TB, size int) ([]stream.Stream, int) {
	base := referenceJSON(tb, readDataset(tb))
	out := make([]stream.Stream, len(base))
	for i, s := range base {
		out[i].Labels = s.Labels
	}
	ts := datasetNow.Add(-time.Hour).UnixNano()
	records, bytes := 0, 0
	for round := 0; bytes < size; round++ {
		for i, s := range base {
			for _, e := range s.Entries {
				md := make(stream.Labels, len(e.Metadata))
				copy(md, e.Metadata)
				for j := range md {
					if md[j].Name == "exec_id" {
						md[j].Value = md[j].Value + ":" + string(rune('a'+round%26))
					}
				}
				ts += int64(time.Millisecond) + int64(round%1000)
				out[i].Entries = append(out[i].Entries, stream.Entry{Time: ts, Line: e.Line, Metadata: md})
				records++
				bytes += len(e.Line) + 30
				for _, m := range md {
					bytes += len(m.Name) + len(m.Value) + 6
				}
			}
		}
	}
	return out, records
}

func BenchmarkDecodeProtobuf(b *testing.B) {
	streams, records := benchBatch(b, 1<<20)
	raw, err := toPushRequest(streams).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	body := snappy.Encode(nil, raw)
	b.Logf("%d records, %d bytes of protobuf, %d bytes snappy-compressed", records, len(raw), len(body))
	benchmarkDecode(b, body, ctProto, "", records)
}

func BenchmarkDecodeJSON(b *testing.B) {
	streams, records := benchBatch(b, 1<<20)
	body := encodeJSON(b, streams)
	b.Logf("%d records, %d bytes of JSON", records, len(body))
	benchmarkDecode(b, body, ctJSON, "", records)
}

func BenchmarkDecodeJSONGzip(b *testing.B) {
	streams, records := benchBatch(b, 1<<20)
	body := gzipBytes(b, encodeJSON(b, streams))
	benchmarkDecode(b, body, ctJSON, "gzip", records)
}

func benchmarkDecode(b *testing.B, body []byte, contentType, contentEncoding string, records int) {
	lim := DefaultLimits()
	r := bytes.NewReader(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(body)
		got, err := Decode(r, contentType, contentEncoding, lim, datasetNow)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 9 {
			b.Fatalf("%d streams", len(got))
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
		r.Reset(body)
		Decode(r, contentType, contentEncoding, lim, datasetNow)
	}))/float64(records), "allocs/record")
}

// BenchmarkBaselineLokiUnmarshal measures what decoding the same batch with
// Loki's generated code costs (snappy and Unmarshal only, without
// validation or conversion), for comparison with BenchmarkDecodeProtobuf.
func BenchmarkBaselineLokiUnmarshal(b *testing.B) {
	streams, records := benchBatch(b, 1<<20)
	raw, err := toPushRequest(streams).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	body := snappy.Encode(nil, raw)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		dec, err := snappy.Decode(nil, body)
		if err != nil {
			b.Fatal(err)
		}
		var req lokipush.PushRequest
		if err := req.Unmarshal(dec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
