package store

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/bench/activitygen"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/pkg/store/engine"
	"github.com/activityaudit/activityaudit/pkg/store/stream"
)

// benchStore is a store with benchRecords records over 24 h, built once per
// process. bench/storebench measures the same through HTTP in its own process.
const benchRecords = 200_000

var (
	benchOnce            sync.Once
	benchS               *Store
	benchStart, benchEnd time.Time
	benchSession         string
)

func openBench(b *testing.B) *Store {
	benchOnce.Do(func() {
		dir, err := benchDir()
		if err != nil {
			b.Fatal(err)
		}
		s, err := Open(Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		benchEnd = time.Now().Truncate(time.Minute)
		benchStart = benchEnd.Add(-24 * time.Hour)
		recs := activitygen.Generate(benchRecords, benchStart, benchEnd)
		for i := range recs {
			if recs[i].Session != "" {
				benchSession = recs[i].Session
			}
		}
		for i := 0; i < len(recs); i += 2000 {
			if _, err := s.DB().Append(toStreams(recs[i:min(i+2000, len(recs))])); err != nil {
				b.Fatal(err)
			}
		}
		benchS = s
	})
	return benchS
}

func benchDir() (string, error) { return os.MkdirTemp("", "store-bench") }

// toStreams groups records into pushed streams.
func toStreams(recs []record.Record) []stream.Stream {
	idx := map[string]int{}
	var out []stream.Stream
	for i := range recs {
		e := record.Encode(&recs[i])
		ls := make(stream.Labels, len(e.Labels))
		for j, p := range e.Labels {
			ls[j] = stream.Label{Name: p.Name, Value: p.Value}
		}
		md := make(stream.Labels, len(e.Metadata))
		for j, p := range e.Metadata {
			md[j] = stream.Label{Name: p.Name, Value: p.Value}
		}
		md.Sort()
		k := ls.String()
		j, ok := idx[k]
		if !ok {
			j = len(out)
			idx[k] = j
			out = append(out, stream.Stream{Labels: ls})
		}
		out[j].Entries = append(out[j].Entries, stream.Entry{Time: e.Time, Line: e.Line, Metadata: md})
	}
	return out
}

func benchQuery(b *testing.B, req logql.Request) {
	s := openBench(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		var err error
		if req.Kind == logql.Instant {
			_, err = s.Engine().Query(ctx, engine.InstantParams{Query: req.Query, Time: req.Time})
		} else {
			_, err = s.Engine().QueryRange(ctx, engine.RangeParams{Query: req.Query, Start: req.Start, End: req.End, Step: req.Step, Limit: req.Limit, Direction: "backward", Categorize: true})
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGroups(b *testing.B) {
	openBench(b)
	req, _ := logql.Groups(logql.Scope{}, logql.ByWorkload, benchStart, benchEnd)
	benchQuery(b, req)
}

func BenchmarkGroupsBodyFilter(b *testing.B) {
	openBench(b)
	req, _ := logql.Groups(logql.Scope{Filter: filter.MustParse(`comm!="bash"`)}, logql.ByWorkload, benchStart, benchEnd)
	benchQuery(b, req)
}

func BenchmarkFrequency(b *testing.B) {
	openBench(b)
	req, _ := logql.Frequency(logql.Scope{}, benchStart, benchEnd, 5*time.Minute)
	benchQuery(b, req)
}

func BenchmarkFirstPageFiltered(b *testing.B) {
	openBench(b)
	req, _ := logql.Events(logql.Scope{Filter: filter.MustParse(`comm!="bash"`)}, benchStart, benchEnd, 100)
	benchQuery(b, req)
}

func BenchmarkTrace(b *testing.B) {
	openBench(b)
	req, _ := logql.Trace(benchSession, benchStart, benchEnd)
	benchQuery(b, req)
}
