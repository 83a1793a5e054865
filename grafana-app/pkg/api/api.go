// Package api is the Activity Audit app's resource API: the questions the
// frontend asks, answered over Loki (or the embedded store) with the
// shared query compiler (pkg/logql), record decoding and trace correlation.
//
//	GET /events            records, newest first, limit + cursor paging
//	GET /frequency         counts per source in time buckets
//	GET /groups            counts by namespace > workload > pod (or by=...)
//	GET /trace/{id}        a session (or a kube exec by audit id): kube exec + process tree
//	GET /who               the kube exec behind a session
//	GET /fields            the field registry
//	GET /values/{field}    top values of a field, for autocompletion
//	GET /policy-events     Falco alerts written by Falcosidekick, with links
//
// Every query resource takes from, to (Unix ms, RFC 3339 or now-1h),
// sources (cmd,net,kube_exec) and filter (the filter language). Answers are
// JSON; errors are JSON too, {"kind", "message", ...}: 400 for a bad filter
// (with its position) or parameter, 404 for an unknown session, 502 with
// Loki's message when Loki fails, 504 when the request timed out.
package api

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

// Config is what the API needs.
type Config struct {
	// Client queries Loki.
	Client *loki.Client
	// GrafanaURL is the base of absolute links; "" makes them relative.
	GrafanaURL string
	// PolicySelector is the stream selector of Falcosidekick's alerts.
	PolicySelector string
	// Timeout bounds one request (default 30 s).
	Timeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per failed request: resource, status and
	// kind, never parameters or Loki's message (they may hold user data).
	Logger log.Logger
}

// API serves the resources.
type API struct {
	cfg   Config
	store store
	mux   *http.ServeMux
}

// New returns the API's handler.
func New(cfg Config) *API {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &API{cfg: cfg, store: store{client: cfg.Client}, mux: http.NewServeMux()}
	a.handle("GET /events", a.events)
	a.handle("GET /frequency", a.frequency)
	a.handle("GET /groups", a.groups)
	a.handle("GET /trace/{id}", a.trace)
	a.handle("GET /who", a.who)
	a.handle("GET /fields", a.fields)
	a.handle("GET /values/{field}", a.values)
	a.handle("GET /policy-events", a.policyEvents)
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, notFound("no resource %s %s", r.Method, r.URL.Path))
	})
	return a
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// handler answers a request with a value to encode as JSON, or an error.
type handler func(ctx context.Context, r *http.Request) (any, error)

func (a *API) handle(pattern string, h handler) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
		defer cancel()
		start := time.Now()
		v, err := h(ctx, r)
		if err != nil {
			if ctx.Err() == context.DeadlineExceeded && r.Context().Err() == nil {
				err = timeoutError{a.cfg.Timeout, err}
			}
			status, kind := writeError(w, err)
			if a.cfg.Logger != nil && r.Context().Err() == nil {
				a.cfg.Logger.Warn("Activity Audit request failed", "pattern", pattern, "status", status, "kind", kind, "duration", time.Since(start))
			}
			return
		}
		writeJSON(w, http.StatusOK, v)
		if b, ok := v.(pooledJSON); ok {
			releaseAnswer(b)
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	switch raw := v.(type) {
	case rawJSON:
		_, _ = w.Write(raw)
		return
	case pooledJSON:
		_, _ = w.Write(raw)
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// rawJSON is an answer already encoded.
type rawJSON []byte

// pooledJSON is an answer encoded into a buffer from answerBuffer, which
// goes back to the pool once written out.
type pooledJSON []byte

// Answers are written into pooled buffers, released once written out (a
// ResponseWriter does not keep what it is given); buffers grown past
// maxPooledAnswer are left to the garbage collector.
const maxPooledAnswer = 1 << 20

var answers sync.Pool

// answerBuffer returns an empty buffer, of at least size bytes when new.
func answerBuffer(size int) []byte {
	if p, ok := answers.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, size)
}

func releaseAnswer(b []byte) {
	if cap(b) <= maxPooledAnswer {
		answers.Put(&b)
	}
}
