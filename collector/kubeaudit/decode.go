package kubeaudit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// What the decoder accepts.
const (
	apiVersion    = "audit.k8s.io/v1"
	kindEventList = "EventList"
	kindEvent     = "Event"
)

// Reasons a body, line or item is refused; the `reason` label of the
// malformed counter.
const (
	ReasonEmpty    = "empty"     // nothing but white space
	ReasonJSON     = "json"      // not JSON, or JSON of the wrong shape
	ReasonKind     = "kind"      // not an audit.k8s.io/v1 EventList (body) or Event (line, item)
	ReasonTooLarge = "too_large" // over Config.MaxBodyBytes
	ReasonInvalid  = "invalid"   // an event missing what it must have (auditID, stage, a kube exec's pod)
)

// DecodeError is why a body, a line or an item was refused.
type DecodeError struct {
	// Reason is one of the Reason constants.
	Reason string
	// Err says what was wrong.
	Err error
}

func (e *DecodeError) Error() string { return e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// reasonOf returns the Reason of err (ReasonInvalid when err is not a
// DecodeError).
func reasonOf(err error) string {
	if de, ok := errors.AsType[*DecodeError](err); ok {
		return de.Reason
	}
	return ReasonInvalid
}

func decodeErr(reason string, format string, args ...any) *DecodeError {
	return &DecodeError{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// ItemError is a malformed item of an EventList: it was skipped, the other
// items were kept.
type ItemError struct {
	// Index is the item's position in the list.
	Index int
	// Err is a *DecodeError.
	Err error
}

func (e *ItemError) Error() string { return fmt.Sprintf("item %d: %v", e.Index, e.Err) }
func (e *ItemError) Unwrap() error { return e.Err }

// eventWire is an Event whose timestamps accept any RFC 3339 time: the
// apiserver writes six fractional digits, but its own MicroTime refuses
// anything else ("10:13:00Z"), which other writers produce. The outer
// fields shadow the embedded Event's.
type eventWire struct {
	auditv1.Event
	RequestReceivedTimestamp rfc3339Time `json:"requestReceivedTimestamp"`
	StageTimestamp           rfc3339Time `json:"stageTimestamp"`
}

type rfc3339Time struct{ time.Time }

func (t *rfc3339Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	pt, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	t.Time = pt
	return nil
}

// maxItemErrors is how many item errors a Batch keeps for the answer.
const maxItemErrors = 10

// Batch is a decoded webhook body.
type Batch struct {
	// Events are the well-formed items, in order.
	Events []auditv1.Event
	// Skipped counts the malformed items, by reason.
	Skipped map[string]int
	// Errors are the first malformed items' errors (*ItemError), to say
	// what was wrong.
	Errors []error
}

// SkippedTotal is how many items were skipped.
func (b *Batch) SkippedTotal() int {
	n := 0
	for _, c := range b.Skipped {
		n += c
	}
	return n
}

// DecodeEventList decodes a webhook body: an audit.k8s.io/v1 EventList.
// Items are decoded one at a time: a malformed item is skipped (counted in
// Skipped), the others kept. The error (a *DecodeError) is for a body that
// is unusable as a whole: empty, not JSON, not an EventList.
func DecodeEventList(body []byte) (*Batch, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, decodeErr(ReasonEmpty, "empty body: want an %s %s", apiVersion, kindEventList)
	}
	if trimmed[0] != '{' {
		return nil, decodeErr(ReasonJSON, "body is not a JSON object: want an %s %s", apiVersion, kindEventList)
	}
	b := &Batch{}
	var kind, version string
	seenItems := false
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if _, err := dec.Token(); err != nil { // {
		return nil, decodeErr(ReasonJSON, "decode %s: %v", kindEventList, err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, decodeErr(ReasonJSON, "decode %s: %v", kindEventList, err)
		}
		key, _ := tok.(string)
		switch key {
		case "kind":
			err = dec.Decode(&kind)
		case "apiVersion":
			err = dec.Decode(&version)
		case "items":
			if seenItems {
				return nil, decodeErr(ReasonJSON, "decode %s: items given twice", kindEventList)
			}
			seenItems = true
			err = b.decodeItems(dec)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, decodeErr(ReasonJSON, "decode %s field %q: %v", kindEventList, key, err)
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return nil, decodeErr(ReasonJSON, "decode %s: %v", kindEventList, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, decodeErr(ReasonJSON, "decode %s: data after the object", kindEventList)
	}
	if kind != kindEventList || version != apiVersion {
		return nil, decodeErr(ReasonKind, "body is kind %q apiVersion %q: want kind %q apiVersion %q", kind, version, kindEventList, apiVersion)
	}
	return b, nil
}

// decodeItems decodes the items array, one event at a time.
func (b *Batch) decodeItems(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil { // "items": null
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("items is %v, not a list", tok)
	}
	var raw json.RawMessage
	for i := 0; dec.More(); i++ {
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		e, err := decodeEvent(raw, true)
		if err != nil {
			if b.Skipped == nil {
				b.Skipped = make(map[string]int)
			}
			b.Skipped[reasonOf(err)]++
			if len(b.Errors) < maxItemErrors {
				b.Errors = append(b.Errors, &ItemError{Index: i, Err: err})
			}
			continue
		}
		b.Events = append(b.Events, e)
	}
	_, err = dec.Token() // ]
	return err
}

// DecodeEvent decodes one audit log line: an audit.k8s.io/v1 Event. The
// error is a *DecodeError.
func DecodeEvent(line []byte) (auditv1.Event, error) {
	return decodeEvent(line, false)
}

// decodeEvent decodes and checks one event. An item of an EventList may
// leave kind and apiVersion out (the list names them).
func decodeEvent(b []byte, inList bool) (auditv1.Event, error) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return auditv1.Event{}, decodeErr(ReasonEmpty, "empty event")
	}
	if trimmed[0] != '{' {
		return auditv1.Event{}, decodeErr(ReasonJSON, "event is not a JSON object")
	}
	var w eventWire
	if err := json.Unmarshal(trimmed, &w); err != nil {
		return auditv1.Event{}, decodeErr(ReasonJSON, "decode %s: %v", kindEvent, err)
	}
	e := w.Event
	e.RequestReceivedTimestamp = metav1.NewMicroTime(w.RequestReceivedTimestamp.Time)
	e.StageTimestamp = metav1.NewMicroTime(w.StageTimestamp.Time)
	if !(inList && e.Kind == "" && e.APIVersion == "") && (e.Kind != kindEvent || e.APIVersion != apiVersion) {
		return auditv1.Event{}, decodeErr(ReasonKind, "event is kind %q apiVersion %q: want kind %q apiVersion %q", e.Kind, e.APIVersion, kindEvent, apiVersion)
	}
	if err := validate(&e); err != nil {
		return auditv1.Event{}, &DecodeError{Reason: ReasonInvalid, Err: err}
	}
	return e, nil
}

// validate checks what every event must have, and what a kube exec event
// needs to become a record.
func validate(e *auditv1.Event) error {
	if e.AuditID == "" {
		return errors.New("event has no auditID")
	}
	switch e.Stage {
	case auditv1.StageRequestReceived, auditv1.StageResponseStarted, auditv1.StageResponseComplete, auditv1.StagePanic:
	default:
		return fmt.Errorf("event %s has stage %q: want RequestReceived, ResponseStarted, ResponseComplete or Panic", e.AuditID, e.Stage)
	}
	if !isKubeExec(e) {
		return nil
	}
	if e.ObjectRef.Namespace == "" || e.ObjectRef.Name == "" {
		return fmt.Errorf("kube exec event %s names no pod (objectRef namespace %q, name %q)", e.AuditID, e.ObjectRef.Namespace, e.ObjectRef.Name)
	}
	if e.StageTimestamp.IsZero() {
		return fmt.Errorf("kube exec event %s has no stageTimestamp", e.AuditID)
	}
	if _, err := parseQuery(e.RequestURI); err != nil {
		return fmt.Errorf("kube exec event %s: %w", e.AuditID, err)
	}
	return nil
}

// parseQuery returns the query parameters of a request URI.
func parseQuery(requestURI string) (url.Values, error) {
	u, err := url.ParseRequestURI(requestURI)
	if err != nil {
		return nil, fmt.Errorf("parse requestURI %q: %w", requestURI, err)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("parse requestURI %q query: %w", requestURI, err)
	}
	return q, nil
}
