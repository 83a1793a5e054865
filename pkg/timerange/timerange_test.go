package timerange

import (
	"testing"
	"time"
)

var now = time.Date(2026, 11, 26, 10, 16, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Time
	}{
		{"now", "now", now},
		{"relative hours", "now-1h", now.Add(-time.Hour)},
		{"relative days", "now-7d", now.Add(-7 * 24 * time.Hour)},
		{"relative compound", "now-1h30m", now.Add(-90 * time.Minute)},
		{"relative future", "now+5m", now.Add(5 * time.Minute)},
		{"unix ms", "1795687140000", time.Date(2026, 11, 26, 9, 59, 0, 0, time.UTC)},
		{"rfc3339", "2026-11-26T10:00:00Z", time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)},
		{"rfc3339 nano offset", "2026-11-26T11:00:00.5+01:00", time.Date(2026, 11, 26, 10, 0, 0, 5e8, time.UTC)},
		{"spaces", " now ", now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in, now)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"", "yesterday", "now-", "now-1x", "now-h", "2026-13-01T00:00:00Z", "now-99999999999999w"} {
		t.Run(in, func(t *testing.T) {
			if _, err := Parse(in, now); err == nil {
				t.Errorf("Parse(%q) gave no error", in)
			}
		})
	}
}

func TestFromFlags(t *testing.T) {
	tests := []struct {
		name            string
		since, from, to string
		want            Range
		wantErr         bool
	}{
		{"default last hour", "", "", "", Range{now.Add(-time.Hour), now}, false},
		{"since", "10m", "", "", Range{now.Add(-10 * time.Minute), now}, false},
		{"from to", "", "2026-11-26T10:00:00Z", "1795688100000", Range{time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 10, 15, 0, 0, time.UTC)}, false},
		{"from only", "", "now-2h", "", Range{now.Add(-2 * time.Hour), now}, false},
		{"since and from", "1h", "now-2h", "", Range{}, true},
		{"inverted", "", "now", "now-1h", Range{}, true},
		{"bad since", "soon", "", "", Range{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromFlags(tt.since, tt.from, tt.to, now)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			if !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
