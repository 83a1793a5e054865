// Package storetest runs the embedded store over real HTTP for tests of
// the parts that query it (the CLI, trace correlation, the plugin, the
// app's backend), seeded through its push API as a collector would.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/pkg/store"
)

// Start runs the store on a free loopback port until the test ends, seeded
// with recs, and returns its base URL.
func Start(t testing.TB, recs []record.Record) string {
	t.Helper()
	s, err := store.Open(store.Options{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		s.Close()
	})
	base := "http://" + ln.Addr().String()
	if len(recs) > 0 {
		Push(t, base, recs)
	}
	return base
}

// Push sends records to a Loki push API as JSON: stream labels, line and
// structured metadata as record.Encode makes them.
func Push(t testing.TB, base string, recs []record.Record) {
	t.Helper()
	type stream struct {
		Stream map[string]string `json:"stream"`
		Values [][]any           `json:"values"`
	}
	var streams []*stream
	index := map[string]*stream{}
	for i := range recs {
		e := record.Encode(&recs[i])
		key := record.LabelString(e.Labels)
		s := index[key]
		if s == nil {
			s = &stream{Stream: map[string]string{}}
			for _, l := range e.Labels {
				s.Stream[l.Name] = l.Value
			}
			index[key] = s
			streams = append(streams, s)
		}
		md := map[string]string{}
		for _, m := range e.Metadata {
			md[m.Name] = m.Value
		}
		s.Values = append(s.Values, []any{strconv.FormatInt(e.Time, 10), e.Line, md})
	}
	body, err := json.Marshal(map[string]any{"streams": streams})
	if err != nil {
		t.Fatal(err)
	}
	PushJSON(t, base, body)
}

// PushJSON sends a push request in Loki's JSON form (a fixture's, or
// Falcosidekick's) to the store at base and fails t unless it is stored.
func PushJSON(t testing.TB, base string, body []byte) {
	t.Helper()
	resp, err := http.Post(base+"/loki/api/v1/push", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("push: %d %s", resp.StatusCode, msg)
	}
}

// Entry is one entry of a push request, read without the code under test
// (tests count their expectations from it): its time (ns), stream labels,
// structured metadata and the fields of its JSON line, as text.
type Entry struct {
	Time                   int64
	Labels, Metadata, Body map[string]string
}

// Get returns a field of the entry: a label, else structured metadata,
// else a field of the line ("" when it has none).
func (e Entry) Get(name string) string {
	if v, ok := e.Labels[name]; ok {
		return v
	}
	if v, ok := e.Metadata[name]; ok {
		return v
	}
	return e.Body[name]
}

// ReadPushJSON reads the entries of a push request in Loki's JSON form
// (testdata/loki/dataset.json), whose lines are JSON objects.
func ReadPushJSON(t testing.TB, body []byte) []Entry {
	t.Helper()
	var push struct {
		Streams []struct {
			Stream map[string]string `json:"stream"`
			Values [][]json.RawMessage
		} `json:"streams"`
	}
	if err := json.Unmarshal(body, &push); err != nil {
		t.Fatal(err)
	}
	var out []Entry
	for _, s := range push.Streams {
		for _, v := range s.Values {
			var ts, line string
			if err := json.Unmarshal(v[0], &ts); err != nil {
				t.Fatal(err)
			}
			n, err := strconv.ParseInt(ts, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(v[1], &line); err != nil {
				t.Fatal(err)
			}
			// Numbers as written (4294967295, not 4.294967295e+09).
			dec := json.NewDecoder(strings.NewReader(line))
			dec.UseNumber()
			var fields map[string]any
			if err := dec.Decode(&fields); err != nil {
				t.Fatal(err)
			}
			e := Entry{Time: n, Labels: s.Stream, Metadata: map[string]string{}, Body: map[string]string{}}
			for k, v := range fields {
				e.Body[k] = fmt.Sprint(v)
			}
			if len(v) > 2 {
				if err := json.Unmarshal(v[2], &e.Metadata); err != nil {
					t.Fatal(err)
				}
			}
			out = append(out, e)
		}
	}
	return out
}

// SidekickBodies are the push request bodies a recording of Falcosidekick's
// Loki output holds (testdata/falcosidekick/loki-*.json), in the order it
// sent them.
func SidekickBodies(t testing.TB, path string) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Bodies []json.RawMessage `json:"falcosidekick_push_bodies"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(rec.Bodies) == 0 {
		t.Fatalf("%s: no push bodies", path)
	}
	return rec.Bodies
}

// PushSidekick pushes what a recording of Falcosidekick's Loki output
// holds (SidekickBodies) to the store at base, in the order it was sent.
func PushSidekick(t testing.TB, base, path string) {
	t.Helper()
	for _, body := range SidekickBodies(t, path) {
		PushJSON(t, base, body)
	}
}
