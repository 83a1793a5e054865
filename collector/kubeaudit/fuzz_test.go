package kubeaudit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/activityaudit/activityaudit/pkg/field"
)

// FuzzDecode feeds arbitrary bytes to the decoder as a webhook body and as
// a log line, and what it accepts to a Processor: nothing panics, every
// refusal is a *DecodeError with a known reason, every accepted event is
// valid, and every record is a kube_exec record of an accepted event.
// Seeds: testdata/fuzz/FuzzDecode (the fixtures, malformed bodies, edge
// cases).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var events []auditv1.Event
		batch, err := DecodeEventList(data)
		if err != nil {
			checkDecodeError(t, err)
			if batch != nil {
				t.Fatalf("refused body returned a batch")
			}
		} else {
			events = batch.Events
			if want := min(batch.SkippedTotal(), maxItemErrors); len(batch.Errors) != want {
				t.Fatalf("%d item errors kept of %d skipped, want %d", len(batch.Errors), batch.SkippedTotal(), want)
			}
			for _, b := range batch.Errors {
				var ie *ItemError
				if !errors.As(b, &ie) {
					t.Fatalf("item error %T %v is not an *ItemError", b, b)
				}
				checkDecodeError(t, ie.Err)
				if batch.Skipped[reasonOf(ie)] == 0 {
					t.Fatalf("item error %v not counted in Skipped %v", ie, batch.Skipped)
				}
			}
		}
		if e, err := DecodeEvent(data); err != nil {
			checkDecodeError(t, err)
		} else {
			events = append(events, e)
		}
		ids := map[string]bool{}
		for i := range events {
			if err := validate(&events[i]); err != nil {
				t.Fatalf("accepted event fails validation: %v", err)
			}
			ids[string(events[i].AuditID)] = true
		}

		sink := newRecSink()
		p, clk, _ := newTestProcessor(t, Config{}, sink, StaticScoper{})
		if err := p.Process(context.Background(), ViaWebhook, events); err != nil {
			t.Fatal(err)
		}
		clk.Advance(DefaultHold)
		if err := p.releaseHeld(context.Background(), false); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range sink.records() {
			if r.Source != field.KubeExec || !ids[r.AuditID] || r.Pod == "" || r.Namespace == "" {
				t.Fatalf("record %+v is not a kube_exec record of an accepted event", *r)
			}
			if seen[r.AuditID] {
				t.Fatalf("two records for auditID %q", r.AuditID)
			}
			seen[r.AuditID] = true
		}
	})
}

func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %T %v is not a *DecodeError", err, err)
	}
	switch de.Reason {
	case ReasonEmpty, ReasonJSON, ReasonKind, ReasonInvalid:
	default:
		t.Fatalf("unknown reason %q in %v", de.Reason, err)
	}
	if de.Error() == "" {
		t.Fatal("empty error message")
	}
}

// TestDecode covers the decoder's answers one by one.
func TestDecode(t *testing.T) {
	const (
		list = `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[%s]}`
		ok   = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/namespaces/n/pods/p/exec?command=id","objectRef":{"resource":"pods","namespace":"n","name":"p","subresource":"exec"},"stageTimestamp":"2026-11-26T10:00:00.5Z"}`
	)
	for _, tc := range []struct {
		name   string
		line   string
		reason string // "" when accepted
	}{
		{"exec event", ok, ""},
		{"non-exec event needs no pod", `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"list","requestURI":"/api/v1/pods"}`, ""},
		{"timestamps without fraction", `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","requestReceivedTimestamp":"2026-11-26T10:13:00Z","stageTimestamp":"2026-11-26T10:13:00.2Z"}`, ""},
		{"empty", "  \n", ReasonEmpty},
		{"not JSON", "audit", ReasonJSON},
		{"array", "[]", ReasonJSON},
		{"truncated", ok[:40], ReasonJSON},
		{"bad timestamp", `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","stageTimestamp":"yesterday"}`, ReasonJSON},
		{"wrong kind", `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete"}`, ReasonKind},
		{"v1beta1", `{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","auditID":"a","stage":"ResponseComplete"}`, ReasonKind},
		{"no kind", `{"auditID":"a","stage":"ResponseComplete"}`, ReasonKind},
		{"no auditID", `{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete"}`, ReasonInvalid},
		{"bad stage", `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"Done"}`, ReasonInvalid},
		{"exec without pod name", `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"get","requestURI":"/x","objectRef":{"resource":"pods","namespace":"n","subresource":"exec"},"stageTimestamp":"2026-11-26T10:00:00Z"}`, ReasonInvalid},
		{"exec with bad requestURI", `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"get","requestURI":"%zz%","objectRef":{"resource":"pods","namespace":"n","name":"p","subresource":"exec"},"stageTimestamp":"2026-11-26T10:00:00Z"}`, ReasonInvalid},
		{"exec without stageTimestamp", `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"get","requestURI":"/x","objectRef":{"resource":"pods","namespace":"n","name":"p","subresource":"exec"}}`, ReasonInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeEvent([]byte(tc.line))
			if got := reasonIfErr(err); got != tc.reason {
				t.Errorf("DecodeEvent: %v (reason %q), want reason %q", err, got, tc.reason)
			}
		})
	}
	t.Run("list items may omit kind", func(t *testing.T) {
		item := `{"auditID":"a","stage":"ResponseComplete"}`
		b, err := DecodeEventList(fmt.Appendf(nil, list, item))
		if err != nil || b.SkippedTotal() != 0 || len(b.Events) != 1 {
			t.Fatalf("DecodeEventList = %+v, %v", b, err)
		}
	})
	t.Run("list of wrong kind", func(t *testing.T) {
		_, err := DecodeEventList([]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","items":[]}`))
		if reasonIfErr(err) != ReasonKind {
			t.Errorf("DecodeEventList(Event) = %v, want a kind error", err)
		}
	})
	for _, tc := range []struct{ name, body, reason string }{
		{"kind after items", `{"items":[],"apiVersion":"audit.k8s.io/v1","kind":"EventList","metadata":{"x":[1,{}]}}`, ""},
		{"items null", `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":null}`, ""},
		{"items twice", `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[],"items":[]}`, ReasonJSON},
		{"trailing data", `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]} {}`, ReasonJSON},
		{"unterminated items", `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{}`, ReasonJSON},
		{"items an object", `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":{}}`, ReasonJSON},
	} {
		t.Run("list "+tc.name, func(t *testing.T) {
			_, err := DecodeEventList([]byte(tc.body))
			if got := reasonIfErr(err); got != tc.reason {
				t.Errorf("DecodeEventList: %v (reason %q), want reason %q", err, got, tc.reason)
			}
		})
	}
	t.Run("many malformed items", func(t *testing.T) {
		body := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + strings.Repeat(`{},`, 999) + `42]}`
		b, err := DecodeEventList([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if b.Skipped[ReasonInvalid] != 999 || b.Skipped[ReasonJSON] != 1 || len(b.Errors) != maxItemErrors || len(b.Events) != 0 {
			t.Errorf("skipped %v, %d errors kept, %d events", b.Skipped, len(b.Errors), len(b.Events))
		}
	})
	t.Run("exec command and flags", func(t *testing.T) {
		e, err := DecodeEvent([]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/n/pods/p/exec?command=sh&command=-c&command=echo+%22it%27s%22&stdin=1&tty=false&container=c","objectRef":{"resource":"pods","namespace":"n","name":"p","subresource":"exec"},"stageTimestamp":"2026-11-26T10:00:00Z"}`))
		if err != nil {
			t.Fatal(err)
		}
		r := toRecord(&e)
		if r.Command != `sh -c 'echo "it'\''s"'` || !r.ExecStdin || r.ExecTTY || r.Container != "c" {
			t.Errorf("record command %q stdin %v tty %v container %q", r.Command, r.ExecStdin, r.ExecTTY, r.Container)
		}
	})
}

func reasonIfErr(err error) string {
	if err == nil {
		return ""
	}
	return reasonOf(err)
}
