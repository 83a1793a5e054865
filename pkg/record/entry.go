package record

import (
	"fmt"
	"github.com/activityaudit/activityaudit/pkg/jsonscan"
	"strconv"
	"strings"
)

// Pair is one label or structured-metadata name and value.
type Pair struct {
	Name  string
	Value string
}

// Entry is a record as a Loki log entry.
type Entry struct {
	// Time is the entry timestamp, Unix nanoseconds.
	Time int64
	// Labels are the stream labels, sorted by name; job is always there.
	Labels []Pair
	// Metadata is the entry's structured metadata, in registry order.
	Metadata []Pair
	// Line is the JSON body: every field that is neither label nor metadata.
	Line string
}

// Encode turns a record into its Loki entry.
func Encode(r *Record) Entry {
	pairs := make([]Pair, 0, 12)
	pairs = r.appendLabels(pairs)
	n := len(pairs)
	pairs = r.appendMetadata(pairs)
	return Entry{
		Time:     r.Time,
		Labels:   pairs[:n:n],
		Metadata: pairs[n:],
		Line:     string(r.AppendLine(make([]byte, 0, 256))),
	}
}

// AppendLine appends the record's JSON line body to b.
func (r *Record) AppendLine(b []byte) []byte { return r.appendBody(b) }

// LabelString formats labels as a Loki stream selector, e.g.
// {cluster="demo", job="activity-audit"}: the form Loki's push API takes.
func LabelString(labels []Pair) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range labels {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// Decode rebuilds a record from a Loki entry: its timestamp, its stream labels,
// its structured metadata and its line. In Loki's merged answer form, labels
// hold the structured metadata and parsed fields too: both are accepted, as
// are labels Loki adds itself (service_name, detected_level), which are
// ignored. Body values win over parsed labels of the same name.
func Decode(ts int64, labels, metadata map[string]string, line string) (Record, error) {
	r := Record{Time: ts}
	for k, v := range labels {
		r.setLabel(k, v)
	}
	for k, v := range metadata {
		r.setLabel(k, v)
	}
	if err := r.decodeBody(line); err != nil {
		return r, err
	}
	return r, nil
}

// decodeBody sets the body fields from a JSON line.
func (r *Record) decodeBody(line string) error {
	var sc jsonscan.Scanner
	sc.Reset(line)
	if err := sc.Object(r.setBody); err != nil {
		return fmt.Errorf("decode record body: %w", err)
	}
	return nil
}
