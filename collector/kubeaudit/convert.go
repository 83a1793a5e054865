package kubeaudit

import (
	"strconv"
	"strings"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// The pod subresources that are kube exec.
const (
	SubExec                = "exec"
	SubAttach              = "attach"
	SubEphemeralContainers = "ephemeralcontainers"
)

// Subresources lists them (the values of the emitted counter's label).
var Subresources = []string{SubExec, SubAttach, SubEphemeralContainers}

// isKubeExec reports whether e is a request to enter a pod: exec or attach
// (verb create over SPDY, get over WebSocket since kubectl 1.30), or adding
// an ephemeral container (kubectl debug: patch, or update).
func isKubeExec(e *auditv1.Event) bool {
	ref := e.ObjectRef
	if ref == nil || ref.Resource != "pods" || ref.APIGroup != "" {
		return false
	}
	switch ref.Subresource {
	case SubExec, SubAttach:
		return e.Verb == "create" || e.Verb == "get"
	case SubEphemeralContainers:
		return e.Verb == "patch" || e.Verb == "update"
	}
	return false
}

// toRecord makes the kube_exec record of e (a validated kube exec event)
// with time = e's stageTimestamp and no end_time; the caller sets them
// for the stage. Scope beyond namespace and pod is the Scoper's.
func toRecord(e *auditv1.Event) *record.Record {
	r := &record.Record{
		Time:            e.StageTimestamp.UnixNano(),
		Source:          field.KubeExec,
		Namespace:       e.ObjectRef.Namespace,
		Pod:             e.ObjectRef.Name,
		Resource:        e.ObjectRef.Resource,
		Name:            e.ObjectRef.Name,
		Subresource:     e.ObjectRef.Subresource,
		K8sUser:         e.User.Username,
		K8sGroups:       strings.Join(e.User.Groups, ","),
		UserAgent:       e.UserAgent,
		SourceAddresses: strings.Join(e.SourceIPs, ","),
		AuditID:         string(e.AuditID),
		ResponseCode:    responseCode(e),
	}
	q, err := parseQuery(e.RequestURI)
	if err != nil { // validate refused such events; keep what the event has
		return r
	}
	if args := q["command"]; len(args) > 0 {
		r.Command = record.CommandLine(args, false)
	}
	r.Container = q.Get("container")
	r.ExecStdin = queryBool(q.Get("stdin"))
	r.ExecTTY = queryBool(q.Get("tty"))
	return r
}

// responseCode is e's HTTP status (0 when it has none).
func responseCode(e *auditv1.Event) uint64 {
	if e.ResponseStatus == nil || e.ResponseStatus.Code <= 0 {
		return 0
	}
	return uint64(e.ResponseStatus.Code)
}

// queryBool reads a boolean query parameter as the API server does
// (stdin=true, stdin=1).
func queryBool(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

// endTime is the end_time an ending event gives: its stageTimestamp in
// Unix nanoseconds (0 when it has none or it is before 1970).
func endTime(e *auditv1.Event) uint64 {
	if e.StageTimestamp.IsZero() {
		return 0
	}
	ns := e.StageTimestamp.UnixNano()
	if ns < 0 {
		return 0
	}
	return uint64(ns)
}
