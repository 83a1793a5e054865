package kubeaudit

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testToken = "s3cr3t-audit-token"

// testWebhook is a webhook served over real TLS on a loopback port.
type testWebhook struct {
	url  string
	pki  *testPKI
	p    *Processor
	clk  *fakeClock
	sink *recSink
}

type authMode int

const (
	authToken authMode = 1 << iota
	authCert
)

// startWebhook serves a webhook requiring the credentials of mode.
func startWebhook(t *testing.T, mode authMode, scoper Scoper, tune func(*Config)) *testWebhook {
	t.Helper()
	pki := newTestPKI(t)
	cfg := Config{WebhookAddr: "127.0.0.1:0", TLSCert: pki.certFile, TLSKey: pki.keyFile, Cluster: testCluster}
	if mode&authToken != 0 {
		cfg.TokenFile = filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(cfg.TokenFile, []byte(testToken+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if mode&authCert != 0 {
		cfg.ClientCA = pki.caFile
	}
	if tune != nil {
		tune(&cfg)
	}
	sink := newRecSink()
	p, clk, _ := newTestProcessor(t, cfg, sink, scoper)
	w, err := NewWebhook(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &testWebhook{url: "https://" + ln.Addr().String() + "/audit", pki: pki, p: p, clk: clk, sink: sink}
}

// client is a TLS client trusting the test CA, presenting cert if given.
func (tw *testWebhook) client(cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: tw.pki.caPool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
}

// post sends body; it returns the status and the answer's text.
func (tw *testWebhook) post(t *testing.T, c *http.Client, method, token string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, tw.url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, tw.url, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(msg))
}

// TestWebhookFixture posts webhook-eventlist.json over HTTPS (as one batch,
// and one event per request) and checks the records the fixture README
// describes, scoped by a fake Scoper.
func TestWebhookFixture(t *testing.T) {
	body := readFixture(t, "webhook-eventlist.json")
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	oneBatch := [][]byte{body}
	var perEvent [][]byte
	for _, item := range list.Items {
		perEvent = append(perEvent, fmt.Appendf(nil, `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[%s]}`, item))
	}
	for _, tc := range []struct {
		name   string
		bodies [][]byte
	}{{"one batch", oneBatch}, {"one event per request", perEvent}} {
		t.Run(tc.name, func(t *testing.T) {
			tw := startWebhook(t, authToken|authCert, fixtureScoper, nil)
			c := tw.client(&tw.pki.client)
			for _, b := range tc.bodies {
				if code, msg := tw.post(t, c, http.MethodPost, "Bearer "+testToken, b); code != http.StatusOK {
					t.Fatalf("POST = %d %q, want 200", code, msg)
				}
			}
			// Everything but the attach (no ResponseComplete) is out at once.
			if got := len(tw.sink.records()); got != 4 {
				t.Fatalf("%d records before the hold expired, want 4", got)
			}
			tw.clk.Advance(DefaultHold)
			if err := tw.p.releaseHeld(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			assertRecords(t, tw.sink.records(), scopedFixtureRecords(t))
			m := tw.p.m
			if got := counter(m.received.WithLabelValues("webhook")); got != 10 {
				t.Errorf("events received = %v, want 10", got)
			}
			if got := counter(m.scopeFailures); got != fixtureScopeFailures {
				t.Errorf("scope failures = %v, want %v", got, fixtureScopeFailures)
			}
			for sub, want := range map[string]float64{"exec": 3, "attach": 1, "ephemeralcontainers": 1} {
				if got := counter(m.emitted.WithLabelValues(sub)); got != want {
					t.Errorf("records emitted {subresource=%s} = %v, want %v", sub, got, want)
				}
			}
			if got := sumMalformed(m, ViaWebhook); got != 0 {
				t.Errorf("malformed = %v, want 0", got)
			}
		})
	}
}

// TestWebhookNoScoper: outside Kubernetes the records keep the event's scope.
func TestWebhookNoScoper(t *testing.T) {
	tw := startWebhook(t, authToken, nil, nil)
	c := tw.client(nil)
	if code, msg := tw.post(t, c, http.MethodPost, "Bearer "+testToken, readFixture(t, "webhook-eventlist.json")); code != http.StatusOK {
		t.Fatalf("POST = %d %q", code, msg)
	}
	tw.clk.Advance(DefaultHold)
	if err := tw.p.releaseHeld(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	assertRecords(t, tw.sink.records(), fixtureRecords(t))
}

// TestWebhookMalformed: every body of malformed-bodies.json gets a 400 that
// says why and is counted; nothing reaches the sink.
func TestWebhookMalformed(t *testing.T) {
	var bodies []string
	if err := json.Unmarshal(readFixture(t, "malformed-bodies.json"), &bodies); err != nil {
		t.Fatal(err)
	}
	wantReason := []string{ReasonJSON, ReasonJSON, ReasonInvalid, ReasonJSON, ReasonEmpty}
	if len(bodies) != len(wantReason) {
		t.Fatalf("%d malformed bodies, the test knows %d", len(bodies), len(wantReason))
	}
	tw := startWebhook(t, authToken, nil, nil)
	c := tw.client(nil)
	for i, body := range bodies {
		t.Run(fmt.Sprintf("body %d %s", i, wantReason[i]), func(t *testing.T) {
			m := tw.p.m.malformed.WithLabelValues("webhook", wantReason[i])
			before := counter(m)
			code, msg := tw.post(t, c, http.MethodPost, "Bearer "+testToken, []byte(body))
			if code != http.StatusBadRequest {
				t.Errorf("POST = %d %q, want 400", code, msg)
			}
			if !strings.HasPrefix(msg, "malformed audit body: ") {
				t.Errorf("answer %q does not say the body is malformed", msg)
			}
			if got := counter(m) - before; got != 1 {
				t.Errorf("malformed{reason=%s} grew by %v, want 1", wantReason[i], got)
			}
		})
	}
	if n := len(tw.sink.records()); n != 0 {
		t.Errorf("%d records from malformed bodies", n)
	}
	if got := counter(tw.p.m.requests.WithLabelValues("400")); got != float64(len(bodies)) {
		t.Errorf("requests{code=400} = %v, want %d", got, len(bodies))
	}
}

// TestWebhookPartialBatch: a malformed item is counted and skipped; the
// rest of the batch is kept and the answer is 200.
func TestWebhookPartialBatch(t *testing.T) {
	tw := startWebhook(t, authToken, nil, nil)
	body := readFixture(t, "webhook-eventlist.json")
	// Make the 403 exec's auditID empty, and add an item that is not an object.
	body = bytes.Replace(body, []byte(`"auditID": "9a9a9a9a-1234-4567-89ab-222222222222"`), []byte(`"auditID": ""`), 1)
	body = bytes.Replace(body, []byte(`"items": [`), []byte(`"items": [ 42,`), 1)
	code, msg := tw.post(t, tw.client(nil), http.MethodPost, "Bearer "+testToken, body)
	if code != http.StatusOK {
		t.Fatalf("POST = %d %q, want 200", code, msg)
	}
	if !strings.Contains(msg, "skipped 2 malformed") || !strings.Contains(msg, "item 0: event is not a JSON object") || !strings.Contains(msg, "no auditID") {
		t.Errorf("answer %q does not name the skipped items", msg)
	}
	if got := counter(tw.p.m.malformed.WithLabelValues("webhook", ReasonInvalid)); got != 1 {
		t.Errorf("malformed{invalid} = %v, want 1", got)
	}
	if got := counter(tw.p.m.malformed.WithLabelValues("webhook", ReasonJSON)); got != 1 {
		t.Errorf("malformed{json} = %v, want 1", got)
	}
	tw.clk.Advance(DefaultHold)
	if err := tw.p.releaseHeld(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	var want []fixtureRecord
	for _, r := range fixtureRecords(t) {
		if r.rec.AuditID != "9a9a9a9a-1234-4567-89ab-222222222222" {
			want = append(want, r)
		}
	}
	assertRecords(t, tw.sink.records(), want)
}

// TestWebhookUnauthenticated: a request without the required credentials
// is refused 401, counted, and its body never processed.
func TestWebhookUnauthenticated(t *testing.T) {
	body := readFixture(t, "webhook-eventlist.json")
	type attempt struct {
		name  string
		token string
		cert  func(*testPKI) *tls.Certificate
	}
	noCert := func(*testPKI) *tls.Certificate { return nil }
	goodCert := func(p *testPKI) *tls.Certificate { return &p.client }
	for _, tc := range []struct {
		name     string
		mode     authMode
		refused  []attempt
		accepted attempt
	}{
		{"token", authToken, []attempt{
			{"no token", "", noCert},
			{"wrong token", "Bearer not-the-token", noCert},
			{"token prefix", "Bearer " + testToken[:5], noCert},
			{"token as basic auth", "Basic " + testToken, noCert},
			{"right token, no scheme", testToken, noCert},
		}, attempt{"right token", "Bearer " + testToken, noCert}},
		{"client CA", authCert, []attempt{
			{"no client certificate", "", noCert},
			{"certificate of another CA", "", func(p *testPKI) *tls.Certificate { return &p.untrusted }},
			{"certificate not for client auth", "", func(p *testPKI) *tls.Certificate { return &p.serverOnly }},
			{"token instead of certificate", "Bearer " + testToken, noCert},
		}, attempt{"client certificate", "", goodCert}},
		{"token and client CA", authToken | authCert, []attempt{
			{"certificate, no token", "", goodCert},
			{"token, no certificate", "Bearer " + testToken, noCert},
			{"certificate, wrong token", "Bearer nope", goodCert},
		}, attempt{"both", "bearer " + testToken, goodCert}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tw := startWebhook(t, tc.mode, nil, nil)
			for i, a := range tc.refused {
				t.Run(a.name, func(t *testing.T) {
					code, msg := tw.post(t, tw.client(a.cert(tw.pki)), http.MethodPost, a.token, body)
					if code != http.StatusUnauthorized || !strings.HasPrefix(msg, "unauthenticated: ") {
						t.Errorf("POST = %d %q, want 401 unauthenticated", code, msg)
					}
					if got := counter(tw.p.m.unauthenticated); got != float64(i+1) {
						t.Errorf("unauthenticated = %v, want %d", got, i+1)
					}
					if got := counter(tw.p.m.received.WithLabelValues("webhook")); got != 0 {
						t.Errorf("events received = %v from an unauthenticated request", got)
					}
					if n := len(tw.sink.records()); n != 0 {
						t.Errorf("%d records from an unauthenticated request", n)
					}
				})
			}
			// An unauthenticated GET is 401 too, not 405.
			if code, _ := tw.post(t, tw.client(nil), http.MethodGet, "", nil); code != http.StatusUnauthorized {
				t.Errorf("unauthenticated GET = %d, want 401", code)
			}
			if code, msg := tw.post(t, tw.client(tc.accepted.cert(tw.pki)), http.MethodPost, tc.accepted.token, body); code != http.StatusOK {
				t.Errorf("%s: POST = %d %q, want 200", tc.accepted.name, code, msg)
			}
			if n := len(tw.sink.records()); n != 4 {
				t.Errorf("%d records once authenticated, want 4", n)
			}
		})
	}
}

// TestWebhookMethodAndSize: only POST; a body over the bound is 413.
func TestWebhookMethodAndSize(t *testing.T) {
	body := readFixture(t, "webhook-eventlist.json")
	tw := startWebhook(t, authToken, nil, func(c *Config) { c.MaxBodyBytes = int64(len(body)) - 1 })
	c := tw.client(nil)
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		if code, msg := tw.post(t, c, method, "Bearer "+testToken, body); code != http.StatusMethodNotAllowed {
			t.Errorf("%s = %d %q, want 405", method, code, msg)
		}
	}
	code, msg := tw.post(t, c, http.MethodPost, "Bearer "+testToken, body)
	if code != http.StatusRequestEntityTooLarge {
		t.Errorf("POST of %d bytes = %d %q, want 413", len(body), code, msg)
	}
	if got := counter(tw.p.m.malformed.WithLabelValues("webhook", ReasonTooLarge)); got != 1 {
		t.Errorf("malformed{too_large} = %v, want 1", got)
	}
	if n := len(tw.sink.records()); n != 0 {
		t.Errorf("%d records from refused requests", n)
	}
}

// TestWebhookSinkFailure: when the sink fails the answer is 500 (the API
// server retries) and the retried batch gives every record once.
func TestWebhookSinkFailure(t *testing.T) {
	tw := startWebhook(t, authToken, nil, nil)
	tw.sink.failNext = 1
	c := tw.client(nil)
	body := readFixture(t, "webhook-eventlist.json")
	if code, msg := tw.post(t, c, http.MethodPost, "Bearer "+testToken, body); code != http.StatusInternalServerError {
		t.Fatalf("POST with a failing sink = %d %q, want 500", code, msg)
	}
	if got := counter(tw.p.m.sinkErrors); got != 1 {
		t.Errorf("sink errors = %v, want 1", got)
	}
	if code, msg := tw.post(t, c, http.MethodPost, "Bearer "+testToken, body); code != http.StatusOK {
		t.Fatalf("retried POST = %d %q, want 200", code, msg)
	}
	if got := counter(tw.p.m.duplicates); got != 0 {
		t.Errorf("duplicates = %v after a retry of a failed batch, want 0", got)
	}
	// A second redelivery of a stored batch is all duplicates.
	if code, msg := tw.post(t, c, http.MethodPost, "Bearer "+testToken, body); code != http.StatusOK {
		t.Fatalf("redelivered POST = %d %q, want 200", code, msg)
	}
	if got := counter(tw.p.m.duplicates); got != 7 {
		t.Errorf("duplicates = %v after a redelivery, want 7 (the kube exec events but RequestReceived)", got)
	}
	tw.clk.Advance(DefaultHold)
	if err := tw.p.releaseHeld(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	assertRecords(t, tw.sink.records(), fixtureRecords(t))
}

// TestNewWebhookConfig: the webhook refuses to start unauthenticated, in
// plain HTTP, or with unusable files.
func TestNewWebhookConfig(t *testing.T) {
	pki := newTestPKI(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, _, _ := newTestProcessor(t, Config{}, newRecSink(), nil)
	base := Config{WebhookAddr: "127.0.0.1:0", TLSCert: pki.certFile, TLSKey: pki.keyFile, ClientCA: pki.caFile}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no authentication", func(c *Config) { c.ClientCA = "" }, "needs authentication"},
		{"no certificate", func(c *Config) { c.TLSCert = "" }, "HTTPS only"},
		{"missing key file", func(c *Config) { c.TLSKey = filepath.Join(dir, "nope") }, "load audit webhook certificate"},
		{"empty token file", func(c *Config) { c.TokenFile = empty }, "is empty"},
		{"CA file without certificate", func(c *Config) { c.ClientCA = empty }, "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			_, err := NewWebhook(cfg, p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewWebhook: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := NewWebhook(base, p); err != nil {
		t.Errorf("NewWebhook(valid config): %v", err)
	}
}

// sumMalformed is the malformed counter over every reason of via.
func sumMalformed(m *metrics, via Via) float64 {
	var sum float64
	for _, r := range []string{ReasonEmpty, ReasonJSON, ReasonKind, ReasonTooLarge, ReasonInvalid} {
		sum += counter(m.malformed.WithLabelValues(string(via), r))
	}
	return sum
}

// TestWebhookRun: Run listens on the configured address, serves HTTPS
// (plain HTTP is refused), and stops with ctx; a bad address is an error.
func TestWebhookRun(t *testing.T) {
	pki := newTestPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p, _, _ := newTestProcessor(t, Config{}, newRecSink(), nil)
	cfg := Config{WebhookAddr: addr, TLSCert: pki.certFile, TLSKey: pki.keyFile, ClientCA: pki.caFile}
	w, err := NewWebhook(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	tw := &testWebhook{url: "https://" + addr + "/", pki: pki}
	var code int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); { // until the listener is up
		req, _ := http.NewRequest(http.MethodPost, tw.url, strings.NewReader(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}`))
		resp, err := tw.client(&pki.client).Do(req)
		if err == nil {
			code = resp.StatusCode
			resp.Body.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Run: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if code != http.StatusOK {
		t.Errorf("POST over HTTPS = %d, want 200", code)
	}
	if resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader("{}")); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP request answered 200")
		}
		resp.Body.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	cfg.WebhookAddr = "127.0.0.1:-1"
	if w, err = NewWebhook(cfg, p); err != nil {
		t.Fatal(err)
	}
	if err := w.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "listen for audit webhook") {
		t.Errorf("Run on a bad address: %v", err)
	}
}
