package loki

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is an httptest handler that remembers the last request and
// answers with a fixed status and body.
type recorder struct {
	mu      sync.Mutex
	method  string
	path    string
	rawPath string
	query   url.Values
	header  http.Header
	count   int

	status int
	body   []byte
	text   bool // answer as text/plain, the way Loki answers errors
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.method, rec.path, rec.rawPath = r.Method, r.URL.Path, r.URL.EscapedPath()
	rec.query = r.URL.Query()
	rec.header = r.Header.Clone()
	rec.count++
	status, body, text := rec.status, rec.body, rec.text
	rec.mu.Unlock()
	if text {
		http.Error(w, string(body), status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (rec *recorder) last() recorder {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return recorder{method: rec.method, path: rec.path, rawPath: rec.rawPath, query: rec.query, header: rec.header, count: rec.count}
}

func newTestClient(t *testing.T, h http.Handler, cfg Config) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if cfg.URL == "" {
		cfg.URL = srv.URL
	} else {
		cfg.URL = srv.URL + cfg.URL // a path prefix
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

// replay makes the client call that reproduces a recorded request and
// returns its result as JSON (the recorded body, or its "data" for the
// label and series endpoints).
func replay(t *testing.T, c *Client, fc *fixtureCase) (result []byte, wantJSON []byte, err error) {
	t.Helper()
	ctx := t.Context()
	start, end := mustNanos(t, fc.param("start")), mustNanos(t, fc.param("end"))
	limit := 0
	if s := fc.param("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil {
			t.Fatalf("limit: %v", err)
		}
	}
	var out any
	switch kindOf(fc.Request.Path) {
	case kindQueryRange:
		q := RangeQuery{
			Query: fc.param("query"), Start: start, End: end, Limit: limit,
			Direction: Direction(fc.param("direction")), Categorize: fc.categorized(),
		}
		if s := fc.param("step"); s != "" {
			f, perr := strconv.ParseFloat(s, 64)
			if perr != nil {
				t.Fatalf("step: %v", perr)
			}
			q.Step = time.Duration(f * float64(time.Second))
		}
		out, err = c.QueryRange(ctx, q)
		wantJSON = fc.Response.Body
	case kindQuery:
		out, err = c.Query(ctx, InstantQuery{
			Query: fc.param("query"), Time: mustNanos(t, fc.param("time")), Limit: limit,
			Direction: Direction(fc.param("direction")),
		})
		wantJSON = fc.Response.Body
	case kindLabels:
		out, err = c.Labels(ctx, start, end)
		wantJSON = dataOf(t, fc.Response.Body)
	case kindLabelValues:
		name := strings.TrimSuffix(strings.TrimPrefix(fc.Request.Path, "/loki/api/v1/label/"), "/values")
		out, err = c.LabelValues(ctx, name, fc.param("query"), start, end)
		wantJSON = dataOf(t, fc.Response.Body)
	case kindSeries:
		out, err = c.Series(ctx, fc.Request.Params["match[]"], start, end)
		wantJSON = dataOf(t, fc.Response.Body)
	default:
		t.Fatalf("no client call for %q", fc.Request.Path)
	}
	if err != nil {
		return nil, nil, err
	}
	result, merr := json.Marshal(out)
	if merr != nil {
		t.Fatalf("encode result: %v", merr)
	}
	return result, wantJSON, nil
}

func dataOf(t *testing.T, body []byte) []byte {
	t.Helper()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("decode body: %v", err)
	}
	return env.Data
}

// TestReplayFixtures serves every recorded answer and checks that the client
// reproduces the recorded request exactly and returns the recorded result.
func TestReplayFixtures(t *testing.T) {
	for _, fc := range loadCases(t) {
		switch kindOf(fc.Request.Path) {
		case kindVolume, kindBuildInfo:
			continue // endpoints the client does not call
		}
		t.Run(fc.Name, func(t *testing.T) {
			rec := &recorder{status: fc.Response.Status, body: fc.Response.Body}
			if fc.Response.Status != 200 {
				rec.body, rec.text = []byte(fc.errorText(t)), true
			}
			c := newTestClient(t, rec, Config{})

			got, want, err := replay(t, c, &fc)

			req := rec.last()
			if req.count != 1 {
				t.Fatalf("requests = %d, want 1", req.count)
			}
			if req.method != fc.Request.Method || req.path != fc.Request.Path {
				t.Errorf("request = %s %s, want %s %s", req.method, req.path, fc.Request.Method, fc.Request.Path)
			}
			wantQuery := url.Values{}
			for k, v := range fc.Request.Params {
				wantQuery[k] = v
			}
			if !reflect.DeepEqual(req.query, wantQuery) {
				t.Errorf("params = %v, want %v", req.query, wantQuery)
			}
			wantFlags := fc.Request.Headers["X-Loki-Response-Encoding-Flags"]
			if got := req.header.Get("X-Loki-Response-Encoding-Flags"); got != wantFlags {
				t.Errorf("encoding flags header = %q, want %q", got, wantFlags)
			}

			if fc.Response.Status != 200 {
				var lerr *Error
				if !errors.As(err, &lerr) {
					t.Fatalf("err = %v (%T), want *Error", err, err)
				}
				if lerr.StatusCode != fc.Response.Status || lerr.Message != fc.errorText(t) {
					t.Errorf("error = %d %q, want %d %q", lerr.StatusCode, lerr.Message, fc.Response.Status, fc.errorText(t))
				}
				if !strings.HasPrefix(err.Error(), "query loki: loki: 400 Bad Request: ") {
					t.Errorf("error text = %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if !jsonEqual(t, got, want) {
				t.Errorf("result differs:\ngot  %s\nwant %s", got, compact(t, want))
			}
		})
	}
}

// TestRequestEncoding covers request shapes the fixtures do not: several
// match[], escaped label names, fractional steps, omitted parameters and a
// base URL with a path prefix.
func TestRequestEncoding(t *testing.T) {
	t0 := time.Unix(0, 1795687140000000001)
	t1 := time.Unix(0, 1795688100000000000)
	labelsBody := []byte(`{"status":"success","data":["a"]}`)
	streamsBody := []byte(`{"status":"success","data":{"resultType":"streams","result":[]}}`)
	tests := []struct {
		name        string
		prefix      string
		body        []byte
		call        func(*Client) error
		wantPath    string
		wantRawPath string
		wantQuery   url.Values
	}{
		{
			name: "series with several matchers",
			body: []byte(`{"status":"success","data":[{"a":"b"}]}`),
			call: func(c *Client) error {
				_, err := c.Series(t.Context(), []string{`{job="a"}`, `{job="b"}`}, t0, t1)
				return err
			},
			wantPath:  "/loki/api/v1/series",
			wantQuery: url.Values{"match[]": {`{job="a"}`, `{job="b"}`}, "start": {"1795687140000000001"}, "end": {"1795688100000000000"}},
		},
		{
			name: "label name is path-escaped",
			body: labelsBody,
			call: func(c *Client) error {
				_, err := c.LabelValues(t.Context(), "a/b c", "", time.Time{}, time.Time{})
				return err
			},
			wantPath:    "/loki/api/v1/label/a/b c/values",
			wantRawPath: "/loki/api/v1/label/a%2Fb%20c/values",
			wantQuery:   url.Values{},
		},
		{
			name: "fractional step, no limit or direction",
			body: []byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`),
			call: func(c *Client) error {
				_, err := c.QueryRange(t.Context(), RangeQuery{Query: "q", Start: t0, End: t1, Step: 500 * time.Millisecond})
				return err
			},
			wantPath:  "/loki/api/v1/query_range",
			wantQuery: url.Values{"query": {"q"}, "start": {"1795687140000000001"}, "end": {"1795688100000000000"}, "step": {"0.5"}},
		},
		{
			name: "zero times omitted",
			body: streamsBody,
			call: func(c *Client) error {
				_, err := c.QueryRange(t.Context(), RangeQuery{Query: "q", Direction: Forward, Limit: 3})
				return err
			},
			wantPath:  "/loki/api/v1/query_range",
			wantQuery: url.Values{"query": {"q"}, "direction": {"forward"}, "limit": {"3"}},
		},
		{
			name: "instant query with limit and direction",
			body: []byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`),
			call: func(c *Client) error {
				_, err := c.Query(t.Context(), InstantQuery{Query: "q", Time: t1, Limit: 7, Direction: Backward})
				return err
			},
			wantPath:  "/loki/api/v1/query",
			wantQuery: url.Values{"query": {"q"}, "time": {"1795688100000000000"}, "limit": {"7"}, "direction": {"backward"}},
		},
		{
			name:   "path prefix kept",
			prefix: "/gateway/loki-a/",
			body:   labelsBody,
			call: func(c *Client) error {
				_, err := c.Labels(t.Context(), time.Time{}, t1)
				return err
			},
			wantPath:  "/gateway/loki-a/loki/api/v1/labels",
			wantQuery: url.Values{"end": {"1795688100000000000"}},
		},
		{
			name:   "ready with prefix",
			prefix: "/gw",
			body:   []byte("ready"),
			call: func(c *Client) error {
				return c.Ready(t.Context())
			},
			wantPath:  "/gw/ready",
			wantQuery: url.Values{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{status: 200, body: tt.body}
			c := newTestClient(t, rec, Config{URL: tt.prefix})
			if err := tt.call(c); err != nil {
				t.Fatalf("call: %v", err)
			}
			req := rec.last()
			if req.path != tt.wantPath {
				t.Errorf("path = %q, want %q", req.path, tt.wantPath)
			}
			if tt.wantRawPath != "" && req.rawPath != tt.wantRawPath {
				t.Errorf("raw path = %q, want %q", req.rawPath, tt.wantRawPath)
			}
			if !reflect.DeepEqual(req.query, tt.wantQuery) {
				t.Errorf("params = %v, want %v", req.query, tt.wantQuery)
			}
		})
	}
}

func TestCallValidation(t *testing.T) {
	rec := &recorder{status: 200, body: []byte(`{}`)}
	c := newTestClient(t, rec, Config{})
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{name: "range query empty", call: func() error { _, err := c.QueryRange(t.Context(), RangeQuery{}); return err }, want: "query loki: empty query"},
		{name: "instant query empty", call: func() error { _, err := c.Query(t.Context(), InstantQuery{}); return err }, want: "query loki: empty query"},
		{name: "label name empty", call: func() error {
			_, err := c.LabelValues(t.Context(), "", "", time.Time{}, time.Time{})
			return err
		}, want: "list label values: empty label name"},
		{name: "series without matcher", call: func() error { _, err := c.Series(t.Context(), nil, time.Time{}, time.Time{}); return err }, want: "list series: no match selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if n := rec.last().count; n != 0 {
		t.Errorf("invalid calls sent %d requests", n)
	}
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		wantTenant string
		wantAuth   string // "" = no Authorization header
		wantBasic  [2]string
		wantUA     string
	}{
		{name: "defaults", wantUA: "activity-audit"},
		{name: "tenant", cfg: Config{Tenant: "team-a"}, wantTenant: "team-a", wantUA: "activity-audit"},
		{name: "basic auth", cfg: Config{Username: "u", Password: "p:w"}, wantAuth: "Basic", wantBasic: [2]string{"u", "p:w"}, wantUA: "activity-audit"},
		{name: "basic auth without password", cfg: Config{Username: "u"}, wantAuth: "Basic", wantBasic: [2]string{"u", ""}, wantUA: "activity-audit"},
		{name: "bearer and tenant", cfg: Config{BearerToken: "tok", Tenant: "t1|t2"}, wantTenant: "t1|t2", wantAuth: "Bearer tok", wantUA: "activity-audit"},
		{name: "user agent", cfg: Config{UserAgent: "aa/1.2"}, wantUA: "aa/1.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{status: 200, body: []byte(`{"status":"success","data":[]}`)}
			c := newTestClient(t, rec, tt.cfg)
			if _, err := c.Labels(t.Context(), time.Time{}, time.Time{}); err != nil {
				t.Fatal(err)
			}
			h := rec.last().header
			if got := h.Get("X-Scope-OrgID"); got != tt.wantTenant {
				t.Errorf("X-Scope-OrgID = %q, want %q", got, tt.wantTenant)
			}
			if got := h.Get("User-Agent"); got != tt.wantUA {
				t.Errorf("User-Agent = %q, want %q", got, tt.wantUA)
			}
			auth := h.Get("Authorization")
			switch tt.wantAuth {
			case "":
				if auth != "" {
					t.Errorf("Authorization = %q, want none", auth)
				}
			case "Basic":
				r := &http.Request{Header: h}
				u, p, ok := r.BasicAuth()
				if !ok || [2]string{u, p} != tt.wantBasic {
					t.Errorf("basic auth = %q %q %v, want %q", u, p, ok, tt.wantBasic)
				}
			default:
				if auth != tt.wantAuth {
					t.Errorf("Authorization = %q, want %q", auth, tt.wantAuth)
				}
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" = valid
	}{
		{name: "http", cfg: Config{URL: "http://127.0.0.1:3100"}},
		{name: "https with prefix", cfg: Config{URL: "https://logs.example.com/loki/"}},
		{name: "ipv6", cfg: Config{URL: "http://[::1]:3100"}},
		{name: "basic", cfg: Config{URL: "http://loki:3100", Username: "u", Password: "p"}},
		{name: "bearer", cfg: Config{URL: "http://loki:3100", BearerToken: "t"}},
		{name: "empty", cfg: Config{}, wantErr: "parse loki url: url is empty"},
		{name: "no scheme", cfg: Config{URL: "127.0.0.1:3100"}, wantErr: "parse loki url: "},
		{name: "host:port without scheme", cfg: Config{URL: "loki:3100"}, wantErr: `parse loki url: scheme "loki" is not http or https`},
		{name: "ftp", cfg: Config{URL: "ftp://loki"}, wantErr: `parse loki url: scheme "ftp" is not http or https`},
		{name: "no host", cfg: Config{URL: "http:///loki"}, wantErr: "parse loki url: url has no host"},
		{name: "port only", cfg: Config{URL: "http://:3100"}, wantErr: "parse loki url: url has no host"},
		{name: "bad escape", cfg: Config{URL: "http://loki/%zz"}, wantErr: "parse loki url: "},
		{name: "query", cfg: Config{URL: "http://loki/?a=b"}, wantErr: "parse loki url: url must not have a query or fragment"},
		{name: "credentials in url", cfg: Config{URL: "http://u:p@loki"}, wantErr: "parse loki url: url must not hold credentials"},
		{name: "basic and bearer", cfg: Config{URL: "http://loki", Username: "u", Password: "p", BearerToken: "t"}, wantErr: "configure loki auth: basic auth and bearer token are mutually exclusive"},
		{name: "password without username", cfg: Config{URL: "http://loki", Password: "p"}, wantErr: "configure loki auth: password set without username"},
		{name: "negative timeout", cfg: Config{URL: "http://loki", Timeout: -time.Second}, wantErr: "configure loki client: negative timeout"},
		{name: "negative body cap", cfg: Config{URL: "http://loki", MaxResponseBytes: -1}, wantErr: "configure loki client: negative max response bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("New = %v, %v", c, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want prefix %q", err, tt.wantErr)
			}
		})
	}
	t.Run("parse error is wrapped", func(t *testing.T) {
		_, err := New(Config{URL: "http://loki/%zz"})
		var uerr *url.Error
		if !errors.As(err, &uerr) {
			t.Errorf("err = %v, want a wrapped *url.Error", err)
		}
	})
}

// blockingHandler blocks until the request's context ends (or the test
// ends), after announcing the request and optionally sending a partial body.
func blockingHandler(t *testing.T, partialBody bool) (http.Handler, <-chan struct{}) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before srv.Close (LIFO)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if partialBody {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"streams","result":[`))
			w.(http.Flusher).Flush()
		}
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	return h, arrived
}

func TestTimeout(t *testing.T) {
	for _, partial := range []bool{false, true} {
		t.Run("partial body "+strconv.FormatBool(partial), func(t *testing.T) {
			h, _ := blockingHandler(t, partial)
			srv := httptest.NewServer(h)
			c, err := New(Config{URL: srv.URL, Timeout: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			_, err = c.QueryRange(t.Context(), RangeQuery{Query: `{job="a"}`})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want context.DeadlineExceeded", err)
			}
			if !strings.Contains(err.Error(), "timed out after 50ms") {
				t.Errorf("err = %q, want it to name the timeout", err)
			}
		})
	}
}

func TestContextCanceled(t *testing.T) {
	t.Run("already canceled", func(t *testing.T) {
		rec := &recorder{status: 200, body: []byte(`{"status":"success","data":[]}`)}
		c := newTestClient(t, rec, Config{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.Labels(ctx, time.Time{}, time.Time{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if !strings.HasPrefix(err.Error(), "list labels: ") {
			t.Errorf("err = %q", err)
		}
	})
	for _, partial := range []bool{false, true} {
		t.Run("while waiting, partial body "+strconv.FormatBool(partial), func(t *testing.T) {
			h, arrived := blockingHandler(t, partial)
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			c, err := New(Config{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				_, err := c.QueryRange(ctx, RangeQuery{Query: `{job="a"}`})
				errc <- err
			}()
			<-arrived
			cancel()
			err = <-errc
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v also claims a timeout", err)
			}
		})
	}
}

func TestResponseSizeLimit(t *testing.T) {
	const limit = 1024
	exact := []byte(`{"status":"success","data":["a"]}`)
	exact = append(exact, []byte(strings.Repeat(" ", limit-len(exact)))...)
	over := append(append([]byte{}, exact...), ' ')
	tests := []struct {
		name    string
		body    []byte
		chunked bool // no Content-Length: the cap must hold while reading
		wantErr bool
	}{
		{name: "at the limit", body: exact},
		{name: "over the limit", body: over, wantErr: true},
		{name: "over the limit chunked", body: over, chunked: true, wantErr: true},
		{name: "far over the limit chunked", body: []byte(strings.Repeat(" ", 1<<20)), chunked: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !tt.chunked {
					w.Header().Set("Content-Length", strconv.Itoa(len(tt.body)))
				}
				for chunk := range slicesChunk(tt.body, 256) {
					_, _ = w.Write(chunk)
					if tt.chunked {
						w.(http.Flusher).Flush()
					}
				}
			})
			c := newTestClient(t, h, Config{MaxResponseBytes: limit})
			got, err := c.Labels(t.Context(), time.Time{}, time.Time{})
			if tt.wantErr {
				if !errors.Is(err, ErrResponseTooLarge) {
					t.Fatalf("err = %v, want ErrResponseTooLarge", err)
				}
				return
			}
			if err != nil || len(got) != 1 {
				t.Fatalf("Labels = %v, %v", got, err)
			}
		})
	}
}

func slicesChunk(b []byte, n int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			k := min(n, len(b))
			if !yield(b[:k]) {
				return
			}
			b = b[k:]
		}
	}
}

func TestErrorAnswers(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		text       bool
		wantStatus int    // 0 = not an *Error
		wantMsg    string // *Error message, or a substring of the error
		wantText   string // full error text, when checked
	}{
		{name: "500 json message", status: 500, body: `{"message":"boom"}`, wantStatus: 500, wantMsg: "boom",
			wantText: "query loki: loki: 500 Internal Server Error: boom"},
		{name: "502 prometheus style error", status: 502, body: `{"status":"error","errorType":"internal","error":"upstream down"}`, wantStatus: 502, wantMsg: "upstream down"},
		{name: "json without message", status: 500, body: `{"code":1}`, wantStatus: 500, wantMsg: `{"code":1}`},
		{name: "503 text", status: 503, body: "too many outstanding requests", text: true, wantStatus: 503, wantMsg: "too many outstanding requests"},
		{name: "429 empty body", status: 429, body: "", wantStatus: 429, wantMsg: "",
			wantText: "query loki: loki: 429 Too Many Requests"},
		{name: "unknown status code", status: 599, body: "x", wantStatus: 599, wantMsg: "x",
			wantText: "query loki: loki: 599: x"},
		{name: "200 error status", status: 200, body: `{"status":"error","errorType":"bad_data","error":"nope"}`,
			wantMsg: `loki answered status "error" (bad_data): nope`},
		{name: "200 not json", status: 200, body: `<html>`, wantMsg: "query loki: decode response: "},
		{name: "200 truncated", status: 200, body: `{"status":"success","data":{"resultType":"streams","result":[`, wantMsg: "query loki: decode response: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{status: tt.status, body: []byte(tt.body), text: tt.text}
			c := newTestClient(t, rec, Config{})
			_, err := c.QueryRange(t.Context(), RangeQuery{Query: "q"})
			if err == nil {
				t.Fatal("want an error")
			}
			var lerr *Error
			isLoki := errors.As(err, &lerr)
			switch {
			case tt.wantStatus == 0 && isLoki:
				t.Errorf("err = %v is an *Error, want a decode error", err)
			case tt.wantStatus == 0 && !strings.Contains(err.Error(), tt.wantMsg):
				t.Errorf("err = %q, want it to contain %q", err, tt.wantMsg)
			case tt.wantStatus != 0 && !isLoki:
				t.Fatalf("err = %v (%T), want *Error", err, err)
			case tt.wantStatus != 0 && (lerr.StatusCode != tt.wantStatus || lerr.Message != tt.wantMsg):
				t.Errorf("error = %d %q, want %d %q", lerr.StatusCode, lerr.Message, tt.wantStatus, tt.wantMsg)
			}
			if tt.wantText != "" && err.Error() != tt.wantText {
				t.Errorf("error text = %q, want %q", err, tt.wantText)
			}
		})
	}
}

func TestReady(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string
	}{
		{name: "ready", status: 200, body: "ready\n"},
		{name: "not ready", status: 503, body: "Ingester not ready: waiting for 15s after being ready\n",
			wantErr: "check loki ready: loki: 503 Service Unavailable: Ingester not ready: waiting for 15s after being ready"},
		{name: "2xx but not 200", status: 204, wantErr: "check loki ready: loki: 204 No Content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{status: tt.status, body: []byte(tt.body), text: tt.status != 200 && tt.status != 204}
			c := newTestClient(t, rec, Config{})
			err := c.Ready(t.Context())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Ready = %v", err)
				}
				return
			}
			var lerr *Error
			if !errors.As(err, &lerr) || lerr.StatusCode != tt.status || err.Error() != tt.wantErr {
				t.Errorf("Ready = %v, want %q", err, tt.wantErr)
			}
			if got := rec.last().path; got != "/ready" {
				t.Errorf("path = %q", got)
			}
		})
	}
}
