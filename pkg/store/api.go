package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/store/engine"
	"github.com/activityaudit/activityaudit/pkg/store/push"
	"github.com/activityaudit/activityaudit/pkg/timerange"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Version is what /loki/api/v1/status/buildinfo reports.
const Version = "activity-audit-embedded"

func (s *Store) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /loki/api/v1/push", s.push)
	mux.HandleFunc("/loki/api/v1/query_range", s.queryRange)
	mux.HandleFunc("/loki/api/v1/query", s.query)
	mux.HandleFunc("/loki/api/v1/labels", s.labels)
	mux.HandleFunc("/loki/api/v1/label", s.labels)
	mux.HandleFunc("/loki/api/v1/label/{name}/values", s.labelValues)
	mux.HandleFunc("/loki/api/v1/series", s.series)
	mux.HandleFunc("/loki/api/v1/index/volume", s.volume)
	mux.HandleFunc("/loki/api/v1/index/stats", s.stats)
	mux.HandleFunc("GET /loki/api/v1/status/buildinfo", s.buildinfo)
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ready")
	})
	if s.gather != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{}))
	}
	return s.instrument(mux)
}

// instrument counts requests by route and status.
func (s *Store) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r)
		route := r.URL.Path
		if strings.HasPrefix(route, "/loki/api/v1/label/") {
			route = "/loki/api/v1/label/values"
		}
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		s.metrics.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// fail answers an error as Loki does: plain text, 400 for the caller's
// mistakes, 500 otherwise.
func (s *Store) fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	var tl *push.ValidationError
	switch {
	case engine.IsBadRequest(err), errors.As(err, &tl), errors.Is(err, errParam):
		code = http.StatusBadRequest
	case errors.Is(err, push.ErrTooLarge):
		code = http.StatusRequestEntityTooLarge
	case errors.Is(err, context.DeadlineExceeded):
		code = http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		code = 499
	}
	if code >= 500 {
		s.log.Error("store request failed", "err", err)
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, errParam.Error()+": ")
	http.Error(w, msg, code)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(b)
}

type listResponse struct {
	Status string `json:"status"`
	Data   any    `json:"data"`
}

func (s *Store) push(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > s.opts.Limits.MaxBodyBytes {
		s.metrics.pushRejected.WithLabelValues("too_large").Inc()
		s.fail(w, push.ErrTooLarge)
		return
	}
	streams, err := push.Decode(r.Body, r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"), s.opts.Limits, time.Now())
	if err != nil {
		reason := "invalid"
		if errors.Is(err, push.ErrTooLarge) {
			reason = "too_large"
		}
		s.metrics.pushRejected.WithLabelValues(reason).Inc()
		s.fail(w, err)
		return
	}
	n := 0
	for _, st := range streams {
		n += len(st.Entries)
	}
	stored, err := s.db.Append(streams)
	if err != nil {
		s.fail(w, fmt.Errorf("store pushed entries: %w", err))
		return
	}
	s.metrics.pushed.Add(float64(stored))
	s.metrics.duplicates.Add(float64(n - stored))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Store) queryRange(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil {
			q = r.Form
		}
	}
	now := time.Now()
	end, err := parseTime(q.Get("end"), now)
	if err != nil {
		s.fail(w, err)
		return
	}
	start, err := parseTime(q.Get("start"), end.Add(-time.Hour))
	if err != nil {
		s.fail(w, err)
		return
	}
	step, err := parseStep(q.Get("step"), start, end)
	if err != nil {
		s.fail(w, err)
		return
	}
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		s.fail(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.QueryTimeout)
	defer cancel()
	data, err := s.engine.QueryRange(ctx, engine.RangeParams{
		Query: q.Get("query"), Start: start, End: end, Step: step, Limit: limit,
		Direction: loki.Direction(q.Get("direction")), Categorize: categorize(r),
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, loki.QueryResponse{Status: "success", Data: *data})
}

func (s *Store) query(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil {
			q = r.Form
		}
	}
	t, err := parseTime(q.Get("time"), time.Now())
	if err != nil {
		s.fail(w, err)
		return
	}
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		s.fail(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.QueryTimeout)
	defer cancel()
	data, err := s.engine.Query(ctx, engine.InstantParams{
		Query: q.Get("query"), Time: t, Limit: limit, Direction: loki.Direction(q.Get("direction")), Categorize: categorize(r),
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, loki.QueryResponse{Status: "success", Data: *data})
}

func categorize(r *http.Request) bool {
	for _, v := range r.Header.Values("X-Loki-Response-Encoding-Flags") {
		for _, f := range strings.Split(v, ",") {
			if strings.TrimSpace(f) == loki.EncodingFlagCategorizeLabels {
				return true
			}
		}
	}
	return false
}

// rangeParams reads start and end of the metadata endpoints (default: the last 6 hours, as Loki).
func rangeParams(r *http.Request) (time.Time, time.Time, error) {
	q := r.URL.Query()
	end, err := parseTime(q.Get("end"), time.Now())
	if err != nil {
		return end, end, err
	}
	if since := q.Get("since"); since != "" && q.Get("start") == "" {
		d, err := timerange.ParseDuration(since)
		if err != nil {
			return end, end, fmt.Errorf("%w: invalid since: %v", errParam, err)
		}
		return end.Add(-d), end, nil
	}
	start, err := parseTime(q.Get("start"), end.Add(-6*time.Hour))
	return start, end, err
}

func (s *Store) labels(w http.ResponseWriter, r *http.Request) {
	start, end, err := rangeParams(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	names, err := s.engine.LabelNames(r.URL.Query().Get("query"), start, end)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, listResponse{Status: "success", Data: names})
}

func (s *Store) labelValues(w http.ResponseWriter, r *http.Request) {
	start, end, err := rangeParams(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	values, err := s.engine.LabelValues(r.PathValue("name"), r.URL.Query().Get("query"), start, end)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, listResponse{Status: "success", Data: values})
}

func (s *Store) series(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, fmt.Errorf("%w: %v", errParam, err))
		return
	}
	start, end, err := rangeParams(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	series, err := s.engine.Series(r.Form["match[]"], start, end)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, listResponse{Status: "success", Data: series})
}

func (s *Store) volume(w http.ResponseWriter, r *http.Request) {
	start, end, err := rangeParams(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	q := r.URL.Query()
	var targets []string
	for _, t := range strings.Split(q.Get("targetLabels"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			targets = append(targets, t)
		}
	}
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		s.fail(w, err)
		return
	}
	data, err := s.engine.Volume(r.Context(), q.Get("query"), start, end, targets, limit)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, loki.QueryResponse{Status: "success", Data: *data})
}

func (s *Store) stats(w http.ResponseWriter, r *http.Request) {
	start, end, err := rangeParams(r)
	if err != nil {
		s.fail(w, err)
		return
	}
	st, err := s.engine.Stats(r.URL.Query().Get("query"), start, end)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, st)
}

func (s *Store) buildinfo(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]string{
		"version": Version, "revision": "", "branch": "", "buildUser": "", "buildDate": "", "goVersion": "",
	})
}

// errParam marks a bad request parameter.
var errParam = errors.New("bad parameter")

// parseTime reads a time as Loki does: Unix nanoseconds, Unix seconds (10
// digits or fewer), fractional seconds, or RFC 3339.
func parseTime(v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	if strings.Contains(v, ".") {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(math.Round(frac*1e9))), nil
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t, terr := time.Parse(time.RFC3339Nano, v)
		if terr != nil {
			return time.Time{}, fmt.Errorf("%w: cannot parse %q to a valid timestamp", errParam, v)
		}
		return t, nil
	}
	if len(v) <= 10 {
		return time.Unix(n, 0), nil
	}
	return time.Unix(0, n), nil
}

// parseStep reads a step in seconds (possibly fractional) or as a duration;
// the default fits about 250 points, as Loki's.
func parseStep(v string, start, end time.Time) (time.Duration, error) {
	if v == "" {
		return max(time.Duration(end.Sub(start).Seconds()/250)*time.Second, time.Second), nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := timerange.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%w: cannot parse %q to a valid duration", errParam, v)
	}
	return d, nil
}

func parseLimit(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: limit must be a positive value", errParam)
	}
	return n, nil
}
