package loki

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/activityaudit/activityaudit/pkg/jsonscan"
)

// Label is one name and value: a stream label, a structured-metadata label
// or a parsed label.
type Label struct {
	Name, Value string
}

// LogEntry is one entry of a log query's answer with its stream's labels:
// the flat form QueryLogs returns.
type LogEntry struct {
	// Time is the timestamp in Unix nanoseconds.
	Time int64
	// Quoted is the log line as the answer holds it: the contents of its
	// JSON string, still escaped (Line unescapes it; jsonscan.ObjectQuoted
	// reads a JSON line in place).
	Quoted string
	// Stream are the labels of the entry's stream, shared with the other
	// entries of the stream (do not modify them). In the merged
	// (uncategorized) form they also hold structured metadata and parsed
	// labels.
	Stream []Label
	// Metadata and Parsed are the entry's structured metadata and parsed
	// labels (categorize-labels form only).
	Metadata, Parsed []Label
}

// Line returns the log line: Quoted unescaped. A line without escapes is
// Quoted itself; another takes an allocation.
func (e *LogEntry) Line() string {
	line, _ := jsonscan.Unquote(e.Quoted) // checked when decoded
	return line
}

// Logs is a log query's answer in flat form.
//
// Labels keep the answer's order. Should an answer name a label twice in one
// object, both are kept, the last one being the one QueryRange's maps hold.
type Logs struct {
	// Warnings are query warnings Loki may add.
	Warnings []string
	// Entries are the entries stream after stream, each stream's in the
	// query's direction, as Loki sent them.
	Entries []LogEntry
}

// QueryLogs runs a log query (GET /loki/api/v1/query_range) like
// QueryRange and returns its entries flat: no map per stream or entry, and
// the strings are substrings of the answer's text (keeping one keeps it
// all). A result other than streams is an error.
func (c *Client) QueryLogs(ctx context.Context, q RangeQuery) (*Logs, error) {
	params, header, err := q.request()
	if err != nil {
		return nil, err
	}
	var logs *Logs
	_, err = c.get(ctx, endpointQueryRange, params, header, func(body []byte) error {
		var decodeErr error
		logs, decodeErr = decodeLogs(body)
		return decodeErr
	})
	if err != nil {
		return nil, fmt.Errorf("query loki: %w", err)
	}
	return logs, nil
}

// decodeLogs decodes a 2xx answer to a log query.
func decodeLogs(body []byte) (*Logs, error) {
	if logs, ok := fastLogs(string(body)); ok {
		return logs, nil
	}
	resp, err := decodeQueryResponse(body)
	if err != nil {
		return nil, err
	}
	if t := resp.Data.ResultType; t != ResultTypeStreams {
		return nil, fmt.Errorf("decode response: got a %s result, want streams", t)
	}
	return flatten(resp), nil
}

// flatten turns a decoded streams answer into Logs, labels sorted by name.
func flatten(resp *QueryResponse) *Logs {
	logs := &Logs{Warnings: resp.Warnings}
	for _, st := range resp.Data.Streams {
		labels := sortedLabels(st.Labels)
		for _, e := range st.Entries {
			logs.Entries = append(logs.Entries, LogEntry{
				Time: e.Time, Quoted: quote(e.Line), Stream: labels,
				Metadata: sortedLabels(e.StructuredMetadata), Parsed: sortedLabels(e.Parsed),
			})
		}
	}
	return logs
}

// quote is s as the contents of a JSON string.
func quote(s string) string {
	q := jsonscan.AppendString(nil, s)
	return string(q[1 : len(q)-1])
}

func sortedLabels(m map[string]string) []Label {
	if m == nil {
		return nil
	}
	out := make([]Label, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Label{k, m[k]})
	}
	return out
}

// span is a range of logsBuilder.labels.
type span struct{ from, to int }

// logsBuilder collects a streams result: labels go to one slice, which the
// entries index until the end (it moves while it grows).
type logsBuilder struct {
	entries []LogEntry
	spans   []entrySpans
	streams []span
	labels  []Label
}

type entrySpans struct {
	stream                 int // index in streams
	metadata, parsedLabels span
}

func (b *logsBuilder) add(l Label) { b.labels = append(b.labels, l) }

func (b *logsBuilder) mark() int { return len(b.labels) }

func (b *logsBuilder) since(from int) span { return span{from, b.mark()} }

func (b *logsBuilder) slice(sp span) []Label {
	if sp.from == sp.to {
		return nil
	}
	return b.labels[sp.from:sp.to:sp.to]
}

// logs resolves the entries' labels.
func (b *logsBuilder) logs() []LogEntry {
	for i := range b.entries {
		sp := &b.spans[i]
		e := &b.entries[i]
		e.Stream = b.slice(b.streams[sp.stream])
		e.Metadata = b.slice(sp.metadata)
		e.Parsed = b.slice(sp.parsedLabels)
	}
	return b.entries
}

// fastLogs decodes a successful streams answer written the way Loki writes
// it; anything else (another status or result type included) is left to
// decodeLogs's general path.
func fastLogs(text string) (*Logs, bool) {
	s := newFastScanner(text)
	// Sized for a typical answer: an entry per 500 bytes with 5 structured
	// metadata labels, and a stream per 2 entries with 6 labels.
	n := len(text)/500 + 1
	b := logsBuilder{entries: make([]LogEntry, 0, n), spans: make([]entrySpans, 0, n), labels: make([]Label, 0, 8*n)}
	var r QueryResponse
	ok := s.response(&r, func() bool {
		return s.queryData(&r.Data, func(d *QueryData) bool {
			return d.ResultType == ResultTypeStreams && s.list(func() bool { return s.flatStream(&b) })
		})
	})
	if !ok || r.Status != "success" || r.Data.ResultType != ResultTypeStreams {
		return nil, false
	}
	return &Logs{Warnings: r.Warnings, Entries: b.logs()}, true
}

// flatStream reads one stream into b.
func (s *fastScanner) flatStream(b *logsBuilder) bool {
	index := len(b.streams)
	b.streams = append(b.streams, span{})
	return s.fields(func(key string) bool {
		switch key {
		case "stream":
			from := b.mark()
			ok := s.pairs(func(k, v string) { b.add(Label{k, v}) })
			b.streams[index] = b.since(from)
			return ok
		case "values":
			return s.list(func() bool { return s.flatEntry(b, index) })
		}
		return false
	})
}

// flatEntry reads one entry of stream index into b.
func (s *fastScanner) flatEntry(b *logsBuilder, stream int) bool {
	sp := entrySpans{stream: stream}
	ok := s.entryWith(func(t int64) bool {
		quoted, ok := s.quotedStr()
		b.entries = append(b.entries, LogEntry{Time: t, Quoted: quoted})
		return ok
	}, func(key string) bool {
		if key != "structuredMetadata" && key != "parsed" {
			return false
		}
		from := b.mark()
		ok := s.pairs(func(k, v string) { b.add(Label{k, v}) })
		if key == "parsed" {
			sp.parsedLabels = b.since(from)
		} else {
			sp.metadata = b.since(from)
		}
		return ok
	})
	b.spans = append(b.spans, sp)
	return ok
}
