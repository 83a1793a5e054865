// Package timerange reads the times users and links give: RFC 3339
// (2026-11-26T10:00:00Z), Unix milliseconds (as Grafana's links carry them)
// and times relative to now (now, now-1h, now-7d), as Grafana writes them.
package timerange

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Range is a time range: From inclusive, To exclusive.
type Range struct {
	From, To time.Time
}

// Parse reads one time, relative to now.
func Parse(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, errors.New("parse time: empty")
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "now-") || strings.HasPrefix(s, "now+"):
		d, err := ParseDuration(s[4:])
		if err != nil {
			return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
		}
		if s[3] == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: want RFC 3339 (2026-11-26T10:00:00Z), Unix milliseconds or now-1h", s)
	}
	return t, nil
}

// ParseDuration reads a duration as Grafana and Prometheus write them: Go
// durations (90s, 1h30m) plus days (d) and weeks (w).
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		var unit time.Duration
		switch rest[i:j] {
		case "ms":
			unit = time.Millisecond
		case "s":
			unit = time.Second
		case "m":
			unit = time.Minute
		case "h":
			unit = time.Hour
		case "d":
			unit = 24 * time.Hour
		case "w":
			unit = 7 * 24 * time.Hour
		default:
			return 0, fmt.Errorf("bad duration %q: unknown unit %q", s, rest[i:j])
		}
		if n > int64(1<<62)/int64(unit) {
			return 0, fmt.Errorf("bad duration %q: too long", s)
		}
		total += time.Duration(n) * unit
		if total < 0 {
			return 0, fmt.Errorf("bad duration %q: too long", s)
		}
		rest = rest[j:]
	}
	return total, nil
}

// FromFlags resolves a range from command-line values: since (a duration,
// meaning from now-since to now) or from and to (to defaults to now); with
// none, the last hour.
func FromFlags(since, from, to string, now time.Time) (Range, error) {
	if since != "" {
		if from != "" || to != "" {
			return Range{}, errors.New("give --since or --from/--to, not both")
		}
		d, err := ParseDuration(since)
		if err != nil {
			return Range{}, fmt.Errorf("parse --since: %w", err)
		}
		return check(Range{From: now.Add(-d), To: now})
	}
	if from == "" {
		from = "now-1h"
	}
	if to == "" {
		to = "now"
	}
	f, err := Parse(from, now)
	if err != nil {
		return Range{}, err
	}
	t, err := Parse(to, now)
	if err != nil {
		return Range{}, err
	}
	return check(Range{From: f, To: t})
}

func check(r Range) (Range, error) {
	if !r.From.Before(r.To) {
		return Range{}, fmt.Errorf("the time range is empty: %s is not before %s", r.From.Format(time.RFC3339Nano), r.To.Format(time.RFC3339Nano))
	}
	return r, nil
}
