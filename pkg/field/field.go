// Package field is the registry of Activity Audit's record fields: every field
// is defined once here, with its type, description, the sources it applies to
// and where it lives in Loki. The record type, the filter vocabulary, the LogQL
// compiler, the Falco field table, the README field table and the UI's
// attribute lists all derive from this table.
package field

//go:generate go run ./internal/fielddoc -o ../../docs/fields.md

import (
	"slices"
	"strings"
)

// Type is the value type of a field.
type Type string

// Field types.
const (
	String Type = "string"
	Uint   Type = "uint"
	Bool   Type = "bool"
	Time   Type = "time"
)

// Role says where a field lives in a Loki entry.
type Role string

// Loki roles.
const (
	// Timestamp is the Loki entry's own timestamp.
	Timestamp Role = "timestamp"
	// Label is a stream label (low cardinality only).
	Label Role = "label"
	// Metadata is structured metadata: filterable and groupable without a parser.
	Metadata Role = "metadata"
	// Body is a key of the JSON line body.
	Body Role = "body"
)

// Source is a kind of activity.
type Source string

// Sources, in display order.
const (
	Cmd      Source = "cmd"
	Net      Source = "net"
	KubeExec Source = "kube_exec"
)

// Sources lists every source in display order.
var Sources = []Source{Cmd, Net, KubeExec}

// ParseSource returns the source named s.
func ParseSource(s string) (Source, bool) {
	for _, src := range Sources {
		if string(src) == s {
			return src, true
		}
	}
	return "", false
}

// SourceTitle is the human name of a source, as the UI shows it.
func SourceTitle(s Source) string {
	switch s {
	case Cmd:
		return "User commands"
	case Net:
		return "Network connections"
	case KubeExec:
		return "Kube exec"
	}
	return string(s)
}

// Job is the value of the `job` stream label on every Activity Audit entry.
const Job = "activity-audit"

// Field is one record field.
type Field struct {
	// Name is the snake_case name users type in filters.
	Name string
	// Type is the value type.
	Type Type
	// Role says where the field lives in Loki.
	Role Role
	// Sources the field applies to.
	Sources []Source
	// Description is one line for docs, the Falco field table and the UI.
	Description string
}

// AppliesTo reports whether the field is part of records of source s.
func (f Field) AppliesTo(s Source) bool { return slices.Contains(f.Sources, s) }

// Filterable reports whether the field can be used in a filter term.
func (f Field) Filterable() bool { return f.Role != Timestamp }

var all = []Source{Cmd, Net, KubeExec}

// registry is the single definition of every record field, in display order.
var registry = []Field{
	{"time", Time, Timestamp, all, "Event time, nanosecond precision (the Loki entry timestamp)"},
	{"source", String, Label, all, "Data source: cmd (user commands), net (network connections), kube_exec (kube exec requests)"},
	{"cluster", String, Label, all, "Cluster name (collector configuration)"},
	{"host", String, Label, all, "Node hostname"},
	{"host_mac", String, Body, all, "MAC address of the node's primary interface"},
	{"namespace", String, Label, all, "Kubernetes namespace"},
	{"workload", String, Label, all, "Top owner of the pod (Deployment, StatefulSet, DaemonSet, CronJob, Job)"},
	{"workload_kind", String, Body, all, "Kind of the workload"},
	{"pod", String, Metadata, all, "Pod name"},
	{"container", String, Metadata, all, "Container name"},
	{"container_id", String, Metadata, all, "Container id (64 hex characters)"},
	{"image", String, Body, all, "Container image"},
	{"comm", String, Body, []Source{Cmd, Net}, "Process name"},
	{"exe", String, Body, []Source{Cmd, Net}, "Executable path"},
	{"cmdline", String, Body, []Source{Cmd}, "Full command line (bounded; marked when cut)"},
	{"cwd", String, Body, []Source{Cmd}, "Working directory"},
	{"pid", Uint, Body, []Source{Cmd, Net}, "Process id (host pid namespace)"},
	{"ppid", Uint, Body, []Source{Cmd, Net}, "Parent process id (host pid namespace)"},
	{"uid", Uint, Body, []Source{Cmd}, "User id"},
	{"gid", Uint, Body, []Source{Cmd}, "Group id"},
	{"user", String, Body, []Source{Cmd}, "Unix user name, when resolvable"},
	{"login_uid", Uint, Body, []Source{Cmd}, "Login (audit) user id; 4294967295 when unset"},
	{"tty", String, Body, []Source{Cmd}, "Terminal (pts/0); empty when none"},
	{"shell_id", Uint, Body, []Source{Cmd}, "Pid of the oldest shell ancestor (Shell ID)"},
	{"shell_distance", Uint, Body, []Source{Cmd}, "Generations from the process to its shell ancestor"},
	{"exec_id", String, Metadata, []Source{Cmd, Net}, "Unique process execution id (node:boot-relative start ns:pid)"},
	{"parent_exec_id", String, Body, []Source{Cmd, Net}, "exec_id of the parent process"},
	{"session", String, Metadata, []Source{Cmd, Net, KubeExec}, "Exec session: the exec_id of the session's entry process; empty outside a session"},
	{"session_entry", Bool, Body, []Source{Cmd}, "True on the record of the session's entry process"},
	{"probe", Bool, Body, []Source{Cmd}, "True when the session was started by a kubelet exec probe"},
	{"direction", String, Body, []Source{Net}, "Connection direction: in or out"},
	{"l4proto", String, Body, []Source{Net}, "Transport protocol: tcp or udp"},
	{"client_ip", String, Body, []Source{Net}, "Client address (IPv4 or IPv6)"},
	{"client_port", Uint, Body, []Source{Net}, "Client port"},
	{"server_ip", String, Body, []Source{Net}, "Server address (IPv4 or IPv6)"},
	{"server_port", Uint, Body, []Source{Net}, "Server port"},
	{"result", String, Body, []Source{Net}, "Why a connection failed (ECONNREFUSED, ETIMEDOUT, ...); empty when it succeeded"},
	{"resource", String, Body, []Source{KubeExec}, "Kubernetes resource of the request (pods)"},
	{"name", String, Body, []Source{KubeExec}, "Name of the object (the pod name)"},
	{"subresource", String, Body, []Source{KubeExec}, "Subresource: exec, attach or ephemeralcontainers"},
	{"command", String, Body, []Source{KubeExec}, "Command requested (the command= parameters, in order)"},
	{"k8s_user", String, Body, []Source{KubeExec, Cmd, Net}, "Kubernetes user behind the request or session"},
	{"k8s_groups", String, Body, []Source{KubeExec, Cmd, Net}, "Kubernetes groups of that user, comma-separated"},
	{"user_agent", String, Body, []Source{KubeExec}, "User agent of the request"},
	{"source_addresses", String, Body, []Source{KubeExec}, "Source IPs of the request, comma-separated"},
	{"audit_id", String, Body, []Source{KubeExec, Cmd}, "Kubernetes audit ID; on a command, the KUBERNETES_EXEC_AUDIT_ID its exec session's entry process carried"},
	{"end_time", Uint, Body, []Source{KubeExec}, "When the exec ended (its ResponseComplete), Unix nanoseconds; 0 while it runs or when its end was not seen"},
	{"response_code", Uint, Body, []Source{KubeExec}, "HTTP status of the response (101 for an upgraded exec, 403 when denied)"},
	{"exec_stdin", Bool, Body, []Source{KubeExec}, "Whether stdin was attached (stdin=true)"},
	{"exec_tty", Bool, Body, []Source{KubeExec}, "Whether a TTY was requested (tty=true)"},
}

// All returns every field in display order. The slice is shared: do not modify it.
func All() []Field { return registry }

// Lookup returns the field named name.
func Lookup(name string) (Field, bool) {
	for _, f := range registry {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Index returns the position of the field named name in All, or -1.
func Index(name string) int {
	for i, f := range registry {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// Closest returns the filterable field name nearest to name by edit distance,
// or "" when none is near enough to be a plausible typo.
func Closest(name string) string {
	if len(name) > maxSuggestLen {
		return ""
	}
	best, bestDist := "", -1
	norm := strings.ToLower(name)
	for _, f := range registry {
		if !f.Filterable() {
			continue
		}
		d := distance(norm, f.Name)
		if strings.ReplaceAll(f.Name, "_", "") == strings.ReplaceAll(norm, "_", "") {
			d = 0
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = f.Name, d
		}
	}
	limit := max(1, len(name)/3)
	if bestDist > limit {
		return ""
	}
	return best
}

// maxSuggestLen bounds the names Closest compares, so a huge typo costs nothing.
const maxSuggestLen = 64

// distance is the Levenshtein distance between a and b (bytes).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
