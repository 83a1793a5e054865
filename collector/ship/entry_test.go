package ship

import (
	"reflect"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/bench/activitygen"
	"github.com/activityaudit/activityaudit/pkg/record"
)

func TestEntryRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	recs := activitygen.Generate(300, now.Add(-time.Hour), now)
	recs = append(recs, record.Record{}) // an empty record: only job
	for i := range recs {
		want := record.Encode(&recs[i])
		got, err := ParseEntry(AppendEntry(nil, &want))
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(want)) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

func normalize(e record.Entry) record.Entry {
	if len(e.Labels) == 0 {
		e.Labels = nil
	}
	if len(e.Metadata) == 0 {
		e.Metadata = nil
	}
	return e
}

func TestParseEntryErrors(t *testing.T) {
	valid := AppendEntry(nil, &record.Entry{Time: 5, Labels: []record.Pair{{Name: "job", Value: "activity-audit"}}, Line: "{}"})
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"time only", valid[:1]},
		{"cut inside labels", valid[:4]},
		{"label length beyond the end", append([]byte{10, 1, 200, 1}, "job"...)},
		{"too many pairs", []byte{10, 0xff, 0x7f}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseEntry(tc.in); err == nil {
				t.Fatalf("ParseEntry(%q) succeeded", tc.in)
			}
		})
	}
}

func FuzzParseEntry(f *testing.F) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for _, r := range activitygen.Generate(5, now.Add(-time.Hour), now) {
		e := record.Encode(&r)
		f.Add(AppendEntry(nil, &e))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEntry(b)
		if err != nil {
			return
		}
		again, err := ParseEntry(AppendEntry(nil, &e))
		if err != nil {
			t.Fatalf("re-encoded entry does not parse: %v", err)
		}
		if !reflect.DeepEqual(normalize(again), normalize(e)) {
			t.Fatalf("round trip changed the entry:\n%+v\n%+v", e, again)
		}
	})
}

func TestMergeLabels(t *testing.T) {
	p := func(kv ...string) []record.Pair {
		var out []record.Pair
		for i := 0; i < len(kv); i += 2 {
			out = append(out, record.Pair{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name             string
		labels, external []record.Pair
		want             []record.Pair
	}{
		{"no external", p("host", "a", "job", "activity-audit"), nil, p("host", "a", "job", "activity-audit")},
		{"interleaved", p("host", "a", "job", "j"), p("env", "prod", "region", "eu"), p("env", "prod", "host", "a", "job", "j", "region", "eu")},
		{"record label wins", p("host", "a", "job", "j"), p("job", "other"), p("host", "a", "job", "j")},
		{"only external", nil, p("env", "prod"), p("env", "prod")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mergeLabels(nil, tc.labels, tc.external)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
