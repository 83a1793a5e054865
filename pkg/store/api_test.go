package store

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	lokipush "github.com/grafana/loki/pkg/push"

	"github.com/activityaudit/activityaudit/pkg/store/push"
)

func post(t *testing.T, u, contentType, encoding string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func protoBody(t *testing.T, labels, line string, ts time.Time) []byte {
	t.Helper()
	req := lokipush.PushRequest{Streams: []lokipush.Stream{{
		Labels:  labels,
		Entries: []lokipush.Entry{{Timestamp: ts, Line: line, StructuredMetadata: lokipush.LabelsAdapter{{Name: "pod", Value: "web-1"}}}},
	}}}
	b, err := proto.Marshal(&req)
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, b)
}

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestPush(t *testing.T) {
	now := time.Now()
	jsonBody := fmt.Sprintf(`{"streams":[{"stream":{"job":"t"},"values":[["%d","hello",{"pod":"web-1"}]]}]}`, now.UnixNano())
	tests := []struct {
		name, contentType, encoding string
		body                        []byte
		status                      int
		msg                         string
	}{
		{"json", "application/json", "", []byte(jsonBody), 204, ""},
		{"json gzip", "application/json", "gzip", gzipped(t, []byte(jsonBody)), 204, ""},
		{"protobuf", "application/x-protobuf", "", protoBody(t, `{job="t"}`, "proto line", now), 204, ""},
		{"protobuf without content type", "", "", protoBody(t, `{job="t"}`, "bare", now), 204, ""},
		{"no labels", "application/json", "", []byte(`{"streams":[{"stream":{},"values":[["1","x"]]}]}`), 400, "label"},
		{"bad label name", "application/x-protobuf", "", protoBody(t, `{"1x"="t"}`, "x", now), 400, ""},
		{"line too long", "application/json", "", []byte(fmt.Sprintf(`{"streams":[{"stream":{"job":"t"},"values":[["%d","%s"]]}]}`, now.UnixNano(), strings.Repeat("x", 300<<10))), 400, "exceeded"},
		{"too far in the future", "application/json", "", []byte(fmt.Sprintf(`{"streams":[{"stream":{"job":"t"},"values":[["%d","x"]]}]}`, now.Add(time.Hour).UnixNano())), 400, "too new"},
		{"not json", "application/json", "", []byte(`{"streams":`), 400, ""},
		{"bad snappy", "application/x-protobuf", "", []byte("nope"), 400, ""},
	}
	_, srv := newTestStore(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, msg := post(t, srv.URL+"/loki/api/v1/push", tt.contentType, tt.encoding, tt.body)
			if status != tt.status {
				t.Fatalf("status %d (%s), want %d", status, msg, tt.status)
			}
			if !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q does not contain %q", msg, tt.msg)
			}
		})
	}
	// What was accepted is there, once, with its metadata.
	q := url.Values{"query": {`{job="t"}`}, "start": {fmt.Sprint(now.Add(-time.Minute).UnixNano())}, "end": {fmt.Sprint(now.Add(time.Minute).UnixNano())}}
	status, body := get(t, srv.URL+"/loki/api/v1/query_range?"+q.Encode())
	if status != 200 {
		t.Fatalf("query: %d %s", status, body)
	}
	for _, want := range []string{`"hello"`, `"proto line"`, `"bare"`, `"pod":"web-1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("answer lacks %s: %s", want, body)
		}
	}
	if strings.Count(body, `"hello"`) != 1 {
		t.Errorf("the JSON and gzip pushes of one entry must store it once: %s", body)
	}
}

func TestPushTooLargeRefusedUnread(t *testing.T) {
	_, srv := newTestStore(t, Options{Limits: pushLimits(1 << 10)})
	status, _ := post(t, srv.URL+"/loki/api/v1/push", "application/json", "", bytes.Repeat([]byte("x"), 4<<10))
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", status)
	}
}

func pushLimits(maxBody int64) push.Limits {
	l := push.DefaultLimits()
	l.MaxBodyBytes = maxBody
	return l
}

func TestEndpoints(t *testing.T) {
	_, srv := newTestStore(t, Options{})
	pushFile(t, srv.URL, "../../testdata/loki/dataset.json")
	tests := []struct {
		name   string
		path   string
		status int
		want   string
	}{
		{"ready", "/ready", 200, "ready"},
		{"buildinfo", "/loki/api/v1/status/buildinfo", 200, `"version"`},
		{"metrics count the push", "/metrics", 200, "activityaudit_store_entries_pushed_total 95"},
		{"metrics count entries", "/metrics", 200, "activityaudit_store_entries 95"},
		{"index stats", "/loki/api/v1/index/stats?query=" + url.QueryEscape(`{namespace="shop"}`) + "&start=1795687140000000000&end=1795688100000000000", 200, `"entries":72`},
		{"unsupported construct", "/loki/api/v1/query_range?query=" + url.QueryEscape(`{job="x"} | logfmt`), 400, "logfmt"},
		{"bad time", "/loki/api/v1/query_range?query=" + url.QueryEscape(`{job="x"}`) + "&start=yesterday", 400, "timestamp"},
		{"bad limit", "/loki/api/v1/query_range?query=" + url.QueryEscape(`{job="x"}`) + "&limit=-1", 400, "limit"},
		{"series needs match", "/loki/api/v1/series", 400, "match[]"},
		{"unknown path", "/nope", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, srv.URL+tt.path)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("%d %.300s; want %d containing %q", status, body, tt.status, tt.want)
			}
		})
	}
}

func TestSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() (*Store, *httptest.Server) {
		s, err := Open(Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return s, httptest.NewServer(s.Handler())
	}
	s, srv := open()
	pushFile(t, srv.URL, "../../testdata/loki/dataset.json")
	srv.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, srv = open()
	defer func() { srv.Close(); s.Close() }()
	for _, c := range loadCases(t) {
		if c.Name != "count-by-source-instant" && c.Name != "trace-session" {
			continue
		}
		status, body := replay(t, srv.URL, c)
		if status != 200 || normalize(t, body) != normalize(t, c.Response.Body) {
			t.Errorf("%s after restart: %d %s", c.Name, status, body)
		}
	}
}
