package syntax

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// durationUnit is one unit of a Prometheus duration; rank orders the units
// from the largest, which must come first.
type durationUnit struct {
	name string
	rank int
	size time.Duration
}

const (
	day  = 24 * time.Hour
	week = 7 * day
	year = 365 * day
)

var durationUnits = []durationUnit{
	{"y", 1, year},
	{"w", 2, week},
	{"d", 3, day},
	{"h", 4, time.Hour},
	{"m", 5, time.Minute},
	{"s", 6, time.Second},
	{"ms", 7, time.Millisecond},
}

func lookupUnit(name string) (durationUnit, bool) {
	for _, u := range durationUnits {
		if u.name == name {
			return u, true
		}
	}
	return durationUnit{}, false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseRange parses the text between the brackets of a range as Loki does
// (Prometheus durations): whole numbers with units y w d h m s ms, largest
// first, no blanks, or a bare "0".
func parseRange(s string) (time.Duration, error) {
	switch s {
	case "0":
		return 0, nil
	case "":
		return 0, errors.New("empty duration string")
	}
	orig := s
	var total uint64
	lastRank := 0
	for s != "" {
		if !isDigit(s[0]) {
			return 0, fmt.Errorf("not a valid duration string: %q", orig)
		}
		i := 0
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		v, err := strconv.ParseUint(s[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("not a valid duration string: %q", orig)
		}
		s = s[i:]
		i = 0
		for i < len(s) && !isDigit(s[i]) {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("not a valid duration string: %q", orig)
		}
		u, ok := lookupUnit(s[:i])
		if !ok {
			return 0, fmt.Errorf("unknown unit %q in duration %q", s[:i], orig)
		}
		s = s[i:]
		if u.rank <= lastRank {
			return 0, fmt.Errorf("not a valid duration string: %q", orig)
		}
		lastRank = u.rank
		if v > (1<<63-1)/uint64(u.size) {
			return 0, errors.New("duration out of range")
		}
		total += v * uint64(u.size)
		if total > 1<<63-1 {
			return 0, errors.New("duration out of range")
		}
	}
	return time.Duration(total), nil
}

// parseDurationToken parses a duration written outside brackets (after
// `offset`), as Loki does: a Prometheus duration, else a Go duration such
// as "1.5h" or "-5m".
func parseDurationToken(s string) (time.Duration, bool) {
	if d, err := parseRange(s); err == nil {
		return d, true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

// formatRange writes a range the way Prometheus prints durations: years and
// weeks only when exact, then days, hours, minutes, seconds, milliseconds.
func formatRange(d time.Duration) string {
	if d < time.Millisecond {
		return "0s"
	}
	var b strings.Builder
	for _, u := range durationUnits {
		if (u.name == "y" || u.name == "w") && d%u.size != 0 {
			continue
		}
		if n := d / u.size; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
			d -= n * u.size
		}
	}
	return b.String()
}

// byteUnits are the units Loki's lexer reads after a number as a byte size
// (go-humanize's names, matched without regard to case).
var byteUnits = map[string]bool{
	"b": true, "k": true, "ki": true, "kb": true, "kib": true,
	"m": true, "mi": true, "mb": true, "mib": true,
	"g": true, "gi": true, "gb": true, "gib": true,
	"t": true, "ti": true, "tb": true, "tib": true,
	"p": true, "pi": true, "pb": true, "pib": true,
}

// isBytes reports whether s is a number followed by a byte unit, e.g. "10KB".
func isBytes(s string) bool {
	i := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
		i++
	}
	if i == 0 || i == len(s) {
		return false
	}
	if _, err := strconv.ParseFloat(s[:i], 64); err != nil {
		return false
	}
	return byteUnits[strings.ToLower(s[i:])]
}
