package logql

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
)

// ErrRange is returned for an empty or inverted time range.
var ErrRange = errors.New("the time range is empty: from must be before to")

func checkRange(from, to time.Time) error {
	if !from.Before(to) {
		return ErrRange
	}
	return nil
}

// Events is the event list: the newest records first, at most limit.
func Events(s Scope, from, to time.Time, limit int) (Request, error) {
	if err := checkRange(from, to); err != nil {
		return Request{}, err
	}
	return Request{Kind: Range, Query: Stream(s), Start: from, End: to, Limit: limit, Direction: Backward}, nil
}

// MaxPoints bounds the points of a frequency series when the step is chosen.
const MaxPoints = 300

var steps = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// Step is the step that fits a range: the smallest round step giving at most
// MaxPoints points.
func Step(from, to time.Time) time.Duration {
	span := to.Sub(from)
	for _, s := range steps {
		if span/s <= MaxPoints {
			return s
		}
	}
	return (span/MaxPoints + time.Hour - 1).Truncate(time.Hour)
}

// Frequency counts records per source in buckets of step (0 = Step(from, to)).
func Frequency(s Scope, from, to time.Time, step time.Duration) (Request, error) {
	if err := checkRange(from, to); err != nil {
		return Request{}, err
	}
	if step <= 0 {
		step = Step(from, to)
	}
	q := fmt.Sprintf("sum by (source) (count_over_time(%s [%s]))", Stream(s), Duration(step))
	return Request{Kind: Range, Query: q, Start: from, End: to, Step: step}, nil
}

// Grouping names the fields of a grouping hierarchy.
var (
	ByWorkload  = []string{"namespace", "workload", "pod"}
	ByContainer = []string{"host", "container_id"}
)

// Groups counts records over the whole range by the given fields (an instant
// query at to).
func Groups(s Scope, by []string, from, to time.Time) (Request, error) {
	if err := checkRange(from, to); err != nil {
		return Request{}, err
	}
	if len(by) == 0 {
		return Request{}, errors.New("group by: no fields")
	}
	var extra []string
	for _, name := range by {
		f, ok := field.Lookup(name)
		if !ok || !f.Filterable() {
			return Request{}, fmt.Errorf("group by %q: not a field", name)
		}
		if f.Role == field.Body {
			extra = append(extra, name)
		}
	}
	q := fmt.Sprintf("sum by (%s) (count_over_time(%s [%s]))", strings.Join(by, ", "), Stream(s, extra...), Duration(to.Sub(from)))
	return Request{Kind: Instant, Query: q, Time: to}, nil
}

// MaxTrace bounds the records of one trace.
const MaxTrace = 5000

// Trace is every record of an exec session, oldest first: its kube exec, its
// commands and its connections.
func Trace(session string, from, to time.Time) (Request, error) {
	if err := checkRange(from, to); err != nil {
		return Request{}, err
	}
	if session == "" {
		return Request{}, errors.New("trace: empty session")
	}
	q := `{job=` + strconv.Quote(field.Job) + `} | session=` + strconv.Quote(session)
	return Request{Kind: Range, Query: q, Start: from, End: to, Limit: MaxTrace, Direction: Forward}, nil
}

// Values is the n most frequent values of a field within the scope and range,
// for autocompletion.
func Values(s Scope, name string, n int, from, to time.Time) (Request, error) {
	if err := checkRange(from, to); err != nil {
		return Request{}, err
	}
	f, ok := field.Lookup(name)
	if !ok || !f.Filterable() {
		return Request{}, fmt.Errorf("values of %q: not a field", name)
	}
	if n <= 0 {
		return Request{}, fmt.Errorf("values of %s: limit must be positive", name)
	}
	var extra []string
	if f.Role == field.Body {
		extra = []string{name}
	}
	q := fmt.Sprintf("topk(%d, sum by (%s) (count_over_time(%s [%s])))", n, name, Stream(s, extra...), Duration(to.Sub(from)))
	return Request{Kind: Instant, Query: q, Time: to}, nil
}
