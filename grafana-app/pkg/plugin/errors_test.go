package plugin_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/grafana-app/pkg/api"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func decodeError(t *testing.T, body []byte) api.ErrorBody {
	t.Helper()
	var e api.ErrorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error answer is not JSON: %v\n%s", err, body)
	}
	return e
}

func TestBadRequestsAnswer400(t *testing.T) {
	in := newInstance(t, datasetStore(t), nil)
	type want struct {
		kind, param, msg string
		column           int
		suggestion       string
	}
	tests := []struct {
		name, path string
		want       want
	}{
		{"unknown attribute", q("/events", "filter", `comm="grep" namespce="shop"`), want{api.KindFilter, "filter", `unknown attribute "namespce"; did you mean "namespace"?`, 13, "namespace"}},
		{"unterminated value", q("/groups", "filter", `comm="grep`), want{api.KindFilter, "filter", "unterminated value", 6, ""}},
		{"bad operator", q("/frequency", "filter", `comm=="x"`), want{api.KindFilter, "filter", `unknown operator "=="`, 5, ""}},
		{"bad regex", q("/values/comm", "filter", `cmdline=~"(curl"`), want{api.KindFilter, "filter", "invalid regular expression", 10, ""}},
		{"column counts characters", q("/events", "filter", `cmdline="é" nope="x"`), want{api.KindFilter, "filter", `unknown attribute "nope"`, 13, ""}},
		{"bad source", q("/events", "sources", "cmd,disk"), want{api.KindParam, "sources", `unknown source "disk"`, 0, ""}},
		{"bad time", q("/groups", "from", "yesterday"), want{api.KindParam, "from", `"yesterday" is not a time`, 0, ""}},
		{"empty range", q("/events", "from", at1020, "to", at1000), want{api.KindParam, "from", "the time range is empty", 0, ""}},
		{"bad limit", q("/events", "limit", "0"), want{api.KindParam, "limit", "from 1 to 1000", 0, ""}},
		{"forged cursor", q("/events", "cursor", "not-a-cursor"), want{api.KindParam, "cursor", "not a cursor", 0, ""}},
		// A cursor at 2026-11-26T13:33:20Z, after to.
		{"cursor of another range", q("/events", "from", at1000, "to", at1020, "cursor", "MTc5NTcwMDAwMDAwMDAwMDAwMA"), want{api.KindParam, "cursor", "outside the time range", 0, ""}},
		{"step too small", q("/frequency", "step", "10ms"), want{api.KindParam, "step", "at least 1s", 0, ""}},
		{"too many buckets", q("/frequency", "from", "now-30d", "step", "1s"), want{api.KindParam, "step", "more than 11000", 0, ""}},
		{"bad grouping", q("/groups", "by", "namespace,colour"), want{api.KindParam, "by", `"colour" is not a field`, 0, ""}},
		{"who without session", q("/who"), want{api.KindParam, "session", "give the session", 0, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := in.call(t, "Editor", tt.path)
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", status, body)
			}
			e := decodeError(t, body)
			if e.Kind != tt.want.kind || e.Param != tt.want.param || !strings.Contains(e.Message, tt.want.msg) ||
				e.Column != tt.want.column || e.Suggestion != tt.want.suggestion {
				t.Errorf("got %+v\nwant %+v", e, tt.want)
			}
			if tt.want.kind == api.KindFilter && (e.Offset == nil || !strings.Contains(e.Message, "column")) {
				t.Errorf("a filter error names no position: %s", body)
			}
		})
	}
	t.Run("unknown field and resource", func(t *testing.T) {
		for _, path := range []string{"/values/comand", "/nothing"} {
			status, body := in.call(t, "Editor", path)
			if status != http.StatusNotFound || decodeError(t, body).Kind != api.KindNotFound {
				t.Errorf("%s: %d %s", path, status, body)
			}
		}
	})
}

func TestLokiFailuresAnswer502And504(t *testing.T) {
	base, stop := stoppableStore(t)
	pushFile(t, base, datasetPath)
	running := newInstance(t, base, nil)
	if status, body := running.call(t, "Editor", q("/groups", "from", at1000, "to", at1020)); status != http.StatusOK {
		t.Fatalf("before the stop: %d %s", status, body)
	}
	failing := newInstance(t, base, map[string]any{"policySelector": `{rule=~"(unclosed"}`})

	hung, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	slow := newInstance(t, "http://"+hung.Addr().String(), map[string]any{"queryTimeout": "300ms"})

	t.Run("Loki's own message", func(t *testing.T) {
		status, body := failing.call(t, "Editor", q("/policy-events", "from", at1000, "to", at1600))
		e := decodeError(t, body)
		if status != http.StatusBadGateway || e.Kind != api.KindLoki || e.LokiStatus != http.StatusBadRequest || !strings.Contains(e.Message, "Loki answered 400 Bad Request: ") || !strings.Contains(e.Message, "parse error") {
			t.Errorf("%d %s", status, body)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		status, body := slow.call(t, "Editor", q("/events", "from", at1000, "to", at1020))
		if e := decodeError(t, body); status != http.StatusGatewayTimeout || e.Kind != api.KindTimeout || !strings.Contains(e.Message, "longer than 300ms") {
			t.Errorf("%d %s", status, body)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("answered after %s", d)
		}
	})

	stop()
	for _, path := range []string{
		q("/events", "from", at1000, "to", at1020),
		q("/frequency", "from", at1000, "to", at1020),
		q("/groups", "from", at1000, "to", at1020),
		q("/trace/"+fixtureSession, "from", at1000, "to", at1020),
		q("/who", "session", fixtureSession, "from", at1000, "to", at1020),
		q("/values/comm", "from", at1000, "to", at1020),
		q("/policy-events", "from", at1000, "to", at1600),
	} {
		t.Run("stopped store "+strings.SplitN(path, "?", 2)[0], func(t *testing.T) {
			status, body := running.call(t, "Editor", path)
			e := decodeError(t, body)
			if status != http.StatusBadGateway || e.Kind != api.KindLoki || !strings.Contains(e.Message, "connection refused") {
				t.Errorf("%d %s", status, body)
			}
		})
	}
	t.Run("fields need no Loki", func(t *testing.T) {
		if status, _ := running.call(t, "Editor", "/fields"); status != http.StatusOK {
			t.Errorf("status %d", status)
		}
	})
}

func TestAccessNeedsTheMinimumRole(t *testing.T) {
	base := datasetStore(t)
	tests := []struct {
		name    string
		minRole string // setting; "" is the default (Editor)
		role    string
		want    int
	}{
		{"viewer refused by default", "", "Viewer", http.StatusForbidden},
		{"no role refused", "", "None", http.StatusForbidden},
		{"no user refused", "", "", http.StatusForbidden},
		{"editor by default", "", "Editor", http.StatusOK},
		{"admin by default", "", "Admin", http.StatusOK},
		{"viewer when configured", "Viewer", "Viewer", http.StatusOK},
		{"editor refused when admin required", "Admin", "Editor", http.StatusForbidden},
		{"admin when admin required", "Admin", "Admin", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var settings map[string]any
			if tt.minRole != "" {
				settings = map[string]any{"minRole": tt.minRole}
			}
			in := newInstance(t, base, settings)
			for _, path := range []string{"/events", "/fields", "/trace/" + fixtureSession, "/policy-events"} {
				status, body := in.call(t, tt.role, q(path, "from", at1000, "to", at1600))
				if status != tt.want {
					t.Errorf("%s as %q: %d, want %d: %s", path, tt.role, status, tt.want, body)
				}
				if status == http.StatusForbidden && strings.Contains(string(body), "johndoe") {
					t.Errorf("a refusal leaks data: %s", body)
				}
			}
			refused := 0.0
			if tt.want == http.StatusForbidden {
				refused = 4
			}
			if got := testutil.ToFloat64(in.metrics.Refused); got != refused {
				t.Errorf("refusals counted %v, want %v", got, refused)
			}
		})
	}
}
