package cli

import (
	"net"
	"strconv"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/link"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// clock formats record times: UTC by default (records come from many nodes;
// the text is what --from and --to take), or local time.
type clock struct{ loc *time.Location }

func newClock(local bool) clock {
	if local {
		return clock{time.Local}
	}
	return clock{time.UTC}
}

const (
	fullLayout = "2006-01-02T15:04:05.000Z07:00"
	dayLayout  = "15:04:05.000"
)

// full is an RFC 3339 time with milliseconds: 2026-11-26T10:00:05.123Z.
func (c clock) full(ns int64) string { return time.Unix(0, ns).In(c.loc).Format(fullLayout) }

// short is the time of day when ns falls on the same day as ref, else full.
func (c clock) short(ns, ref int64) string {
	t, r := time.Unix(0, ns).In(c.loc), time.Unix(0, ref).In(c.loc)
	if t.YearDay() == r.YearDay() && t.Year() == r.Year() {
		return t.Format(dayLayout)
	}
	return t.Format(fullLayout)
}

// scope is where a record happened: namespace/pod, a container outside
// Kubernetes, or the host.
func scope(r *record.Record) string {
	switch {
	case r.Pod != "" && r.Namespace != "":
		return r.Namespace + "/" + r.Pod
	case r.Pod != "":
		return r.Pod
	case r.Container != "":
		return r.Container
	case r.ContainerID != "":
		return shortID(r.ContainerID)
	}
	return "host"
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// userOf is a command's user name, else its uid.
func userOf(r *record.Record) string {
	if r.User != "" {
		return r.User
	}
	if r.Source == field.Cmd {
		return strconv.FormatUint(r.UID, 10)
	}
	return ""
}

func pidOf(r *record.Record) string {
	if r.PID == 0 {
		return ""
	}
	return strconv.FormatUint(r.PID, 10)
}

// endpoints is "client:port → server:port".
func endpoints(r *record.Record) string {
	return hostPort(r.ClientIP, r.ClientPort) + " → " + hostPort(r.ServerIP, r.ServerPort)
}

func hostPort(ip string, port uint64) string {
	if ip == "" {
		ip = "?"
	}
	return net.JoinHostPort(ip, strconv.FormatUint(port, 10))
}

// resultWords says a connection's failure the way people say it.
var resultWords = map[string]string{
	"ECONNREFUSED": "refused",
	"ETIMEDOUT":    "timed out",
	"ECONNRESET":   "reset",
	"EHOSTUNREACH": "host unreachable",
	"ENETUNREACH":  "network unreachable",
	"ECONNABORTED": "aborted",
	"EACCES":       "denied",
	"EPERM":        "denied",
}

func resultText(result string) string {
	if w, ok := resultWords[result]; ok {
		return w
	}
	return result
}

// podPath is a kube exec's target: namespace/pod/container.
func podPath(r *record.Record) string {
	p := r.Name
	if p == "" {
		p = r.Pod
	}
	if r.Namespace != "" {
		p = r.Namespace + "/" + p
	}
	if r.Container != "" {
		p += "/" + r.Container
	}
	return p
}

// summary is one line saying what a record is, for tables mixing sources.
func summary(r *record.Record) string {
	switch r.Source {
	case field.Cmd:
		return userOf(r) + " " + pidOf(r) + ": " + r.Cmdline
	case field.Net:
		s := r.Comm + " " + pidOf(r) + ": " + r.Direction + " " + r.L4Proto + " " + endpoints(r)
		if r.Result != "" {
			s += " (" + r.Result + ")"
		}
		return s
	case field.KubeExec:
		s := r.K8sUser + ": " + r.Subresource + " " + podPath(r)
		if r.Command != "" {
			s += ": " + r.Command
		}
		if r.ResponseCode != 0 && r.ResponseCode != 101 && r.ResponseCode != 200 {
			s += " (" + strconv.FormatUint(r.ResponseCode, 10) + ")"
		}
		return s
	}
	return string(r.Source)
}

// Links into the Grafana app (ARCHITECTURE.md, "Links"), as the plugin
// and the app's backend make them.
var (
	auditLink = link.AuditURL
	traceLink = link.TraceURL
)
