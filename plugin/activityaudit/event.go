package activityaudit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unsafe"

	"github.com/activityaudit/activityaudit/pkg/jsonscan"
	"github.com/activityaudit/activityaudit/pkg/link"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/falcosecurity/plugin-sdk-go/pkg/ptr"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"
)

// payloadPrefix starts every payload of ours. No Kubernetes audit event
// (audit.k8s.io/v1) has a "time" key, so this tells our events from the
// k8s_audit plugin's without parsing them.
const payloadPrefix = `{"time":`

type eventKind uint8

const (
	kindOther  eventKind = iota
	kindRecord           // one of our records
	kindAudit            // anything else: a k8s_audit event, parsed on demand
)

// event is the event being extracted, decoded once: Falco asks for the
// fields of one event one after another.
type event struct {
	num, ts uint64
	valid   bool
	kind    eventKind
	payload string

	record record.Record
	recOK  bool
	sc     jsonscan.Scanner

	linksDone        bool
	auditURL, trace  string
	kubeDone, kubeOK bool
	kube             link.KubeExec
}

// load decodes evt unless it is the event already loaded.
func (ev *event) load(evt sdk.EventReader) (*event, error) {
	num, ts := evt.EventNum(), evt.Timestamp()
	if ev.valid && ev.num == num && ev.ts == ts {
		return ev, nil
	}
	data, err := payloadOf(evt)
	if err != nil {
		ev.valid = false
		return nil, fmt.Errorf("read event payload: %w", err)
	}
	ev.reset(num, ts, string(data))
	return ev, nil
}

func (ev *event) reset(num, ts uint64, payload string) {
	*ev = event{num: num, ts: ts, valid: true, payload: payload, sc: ev.sc}
	if !strings.HasPrefix(payload, payloadPrefix) {
		ev.kind = kindAudit
		return
	}
	ev.kind = kindRecord
	ev.sc.Reset(payload)
	err := ev.sc.Object(func(key string, v jsonscan.Value) error { return setPayloadField(&ev.record, key, v) })
	ev.recOK = err == nil
}

// payloadOf is the event's payload. The SDK's reader copies byte by byte;
// its memory is read directly when it is the SDK's own buffer.
func payloadOf(evt sdk.EventReader) ([]byte, error) {
	r := evt.Reader()
	if b, ok := r.(ptr.BytesReadWriter); ok {
		if b.Len() == 0 {
			return nil, nil
		}
		return unsafe.Slice((*byte)(b.BufferPtr()), b.Len()), nil
	}
	return io.ReadAll(r)
}

// rec is the event's record; nil for other events (or a payload that does
// not decode, which no field then has a value for).
func (ev *event) rec() *record.Record {
	if ev.kind != kindRecord || !ev.recOK {
		return nil
	}
	return &ev.record
}

// links are the event's audit and trace links ("" when it has none).
func (ev *event) links(p *Plugin) (audit, trace string) {
	if ev.linksDone {
		return ev.auditURL, ev.trace
	}
	ev.linksDone = true
	switch ev.kind {
	case kindRecord:
		if r := ev.rec(); r != nil {
			ev.auditURL, ev.trace = link.Record(p.set.grafanaURL, r, p.set.window)
		}
	case kindAudit:
		if k, ok := ev.kubeExec(); ok {
			ev.auditURL, ev.trace = link.KubeExecLinks(p.set.grafanaURL, k, p.set.window)
		}
	}
	return ev.auditURL, ev.trace
}

func (p *Plugin) extractLink(ev *event, req sdk.ExtractRequest, trace bool) error {
	audit, tr := ev.links(p)
	v := audit
	if trace {
		v = tr
	}
	if v != "" {
		req.SetValue(v)
	}
	return nil
}

// kubeAuditEvent is what the links need of a Kubernetes audit event
// (audit.k8s.io/v1 Event), the payload of a k8s_audit plugin event.
type kubeAuditEvent struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	ObjectRef  *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
	StageTimestamp           time.Time `json:"stageTimestamp"`
}

// kubeExec reads a k8s_audit event as a kube exec request; ok is false for
// any other event (not exec or attach on a pod, or not an audit event).
func (ev *event) kubeExec() (link.KubeExec, bool) {
	if ev.kubeDone {
		return ev.kube, ev.kubeOK
	}
	ev.kubeDone = true
	ev.kube, ev.kubeOK = parseKubeExec(ev.payload)
	return ev.kube, ev.kubeOK
}

// parseKubeExec reads an audit event; ok only for an exec or attach
// request on a pod that carries an audit ID.
func parseKubeExec(payload string) (k link.KubeExec, ok bool) {
	var e kubeAuditEvent
	if err := json.Unmarshal([]byte(payload), &e); err != nil {
		return k, false
	}
	if e.Kind != "Event" || !strings.HasPrefix(e.APIVersion, "audit.k8s.io/") || e.AuditID == "" || e.ObjectRef == nil {
		return k, false
	}
	o := e.ObjectRef
	if o.Resource != "pods" || (o.Subresource != "exec" && o.Subresource != "attach") {
		return k, false
	}
	k = link.KubeExec{AuditID: e.AuditID, Namespace: o.Namespace, Pod: o.Name, Start: e.RequestReceivedTimestamp}
	if k.Start.IsZero() {
		k.Start = e.StageTimestamp
	}
	if e.Stage == "ResponseComplete" || e.Stage == "Panic" {
		k.End = e.StageTimestamp
	}
	return k, true
}
