package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/timerange"
)

// params are the parameters every query resource takes.
type params struct {
	// From (inclusive) and To (exclusive), whole milliseconds, as Grafana
	// and the links carry them.
	From, To time.Time
	Scope    logql.Scope
}

// readParams reads from, to (default the last span before now), sources
// and filter.
func (a *API) readParams(r *http.Request, span time.Duration) (params, error) {
	q := r.URL.Query()
	now := a.cfg.Now()
	from, err := timeParam(q.Get("from"), "from", now.Add(-span), now)
	if err != nil {
		return params{}, err
	}
	to, err := timeParam(q.Get("to"), "to", now, now)
	if err != nil {
		return params{}, err
	}
	if !from.Before(to) {
		return params{}, badParam("from", "the time range is empty: from (%s) must be before to (%s)", from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano))
	}
	sources, err := sourcesParam(q.Get("sources"))
	if err != nil {
		return params{}, err
	}
	flt, err := filter.Parse(q.Get("filter"))
	if err != nil {
		return params{}, err
	}
	return params{From: from, To: to, Scope: logql.Scope{Sources: sources, Filter: flt}}, nil
}

func timeParam(s, name string, def, now time.Time) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return def.Truncate(time.Millisecond), nil
	}
	t, err := timerange.Parse(s, now)
	if err != nil {
		return time.Time{}, badParam(name, "%q is not a time: use Unix milliseconds, RFC 3339 (2026-11-26T10:00:00Z) or now-1h", s)
	}
	return t.Truncate(time.Millisecond), nil
}

// sourcesParam reads a comma-separated list of sources; none means all.
func sourcesParam(s string) ([]field.Source, error) {
	var out []field.Source
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		src, ok := field.ParseSource(part)
		if !ok {
			return nil, badParam("sources", "unknown source %q: use cmd, net or kube_exec", part)
		}
		out = append(out, src)
	}
	return out, nil
}

// intParam reads an integer in [lo, hi], def when absent.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badParam(name, "%q: want a whole number from %d to %d", s, lo, hi)
	}
	return n, nil
}

// selected is the sources a scope selects, in display order.
func selected(sources []field.Source) []field.Source {
	if len(sources) == 0 {
		return field.Sources
	}
	var out []field.Source
	for _, s := range field.Sources {
		for _, t := range sources {
			if s == t {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// ms is a time as Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }
