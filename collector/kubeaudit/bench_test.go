package kubeaudit

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/record"
)

// discardSink counts records.
type discardSink struct{ n int }

func (s *discardSink) Write(context.Context, *record.Record) error { s.n++; return nil }
func (s *discardSink) Flush(context.Context) error                 { return nil }

// bodyTemplate makes bodies from the fixture whose auditIDs end in a
// 12-digit counter, so each iteration is new kube execs, not duplicates.
type bodyTemplate struct {
	parts [][]byte
	buf   []byte
}

const idMark = "@@@@@@@@@@@@"

func newBodyTemplate(b *testing.B) *bodyTemplate {
	body := readFixture(b, "webhook-eventlist.json")
	for _, id := range []string{"00c8decc-b988-4086-908b-fe8ec37b9380", "5f1d2c3b-0000-4a1b-9c2d-111111111111",
		"9a9a9a9a-1234-4567-89ab-222222222222", "7b7b7b7b-aaaa-bbbb-cccc-333333333333", "6c6c6c6c-dddd-eeee-ffff-444444444444",
		"1d1d1d1d-0000-0000-0000-555555555555", "2e2e2e2e-0000-0000-0000-666666666666"} {
		body = bytes.ReplaceAll(body, []byte(id), []byte(id[:len(id)-12]+idMark))
	}
	return &bodyTemplate{parts: bytes.Split(body, []byte(idMark))}
}

func (t *bodyTemplate) body(n int) []byte {
	t.buf = t.buf[:0]
	var num [12]byte
	s := strconv.AppendInt(num[:0], int64(n), 10)
	pad := bytes.Repeat([]byte("0"), 12-len(s))
	for i, p := range t.parts {
		if i > 0 {
			t.buf = append(append(t.buf, pad...), s...)
		}
		t.buf = append(t.buf, p...)
	}
	return t.buf
}

// nonExecBody is a batch of n Metadata-level events that are not kube exec
// (what the webhook gets when the cluster's one audit policy logs more).
func nonExecBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"2e2e2e2e-0000-0000-0000-%012d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/pods?limit=500","verb":"list","user":{"username":"system:serviceaccount:kube-system:replicaset-controller","groups":["system:serviceaccounts","system:serviceaccounts:kube-system","system:authenticated"]},"sourceIPs":["10.0.0.12"],"userAgent":"kube-controller-manager/v1.33.1 (linux/amd64) kubernetes/8adc0f0/system:serviceaccount:kube-system:replicaset-controller","objectRef":{"resource":"pods","namespace":"shop","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-26T10:13:05.000123Z","stageTimestamp":"2026-11-26T10:13:05.010456Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"system:controller:replicaset-controller\""}}`, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func benchWebhook(b *testing.B) (*Webhook, *Processor) {
	dir := b.TempDir()
	pki := newTestPKI(b)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(testToken), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg := Config{WebhookAddr: "127.0.0.1:0", TLSCert: pki.certFile, TLSKey: pki.keyFile, TokenFile: tokenFile, Cluster: testCluster}
	p, err := NewProcessor(cfg, &discardSink{}, fixtureScoper, nil)
	if err != nil {
		b.Fatal(err)
	}
	w, err := NewWebhook(cfg, p)
	if err != nil {
		b.Fatal(err)
	}
	return w, p
}

// BenchmarkWebhook measures audit events per second through the webhook's
// HTTP handler (authentication, body read, decode, state, scope, sink).
func BenchmarkWebhook(b *testing.B) {
	b.Run("fixture batch, 10 events, 5 kube execs", func(b *testing.B) {
		w, _ := benchWebhook(b)
		h := w.Handler()
		tmpl := newBodyTemplate(b)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			serveBench(b, h, tmpl.body(i))
		}
		b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("400 non-exec events", func(b *testing.B) {
		w, _ := benchWebhook(b)
		h := w.Handler()
		body := nonExecBody(400)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			serveBench(b, h, body)
		}
		b.ReportMetric(float64(b.N*400)/b.Elapsed().Seconds(), "events/s")
	})
}

func serveBench(b *testing.B, h http.Handler, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}
