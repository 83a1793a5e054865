// Package policy reads the Falco alerts Falcosidekick writes to Loki, in
// both of its line formats, and tells where each happened, so that the app
// can link an alert to the activity around it.
//
// What Falcosidekick writes (recorded in testdata/falcosidekick/): stream
// labels rule, source, priority, hostname, tags (sorted, comma-joined) and,
// only when the alert's output fields hold them as strings, k8s_ns_name and
// k8s_pod_name (syscall alerts; k8s_audit alerts name their pod in
// ka.target.namespace and ka.target.name inside the line); plus any extra
// labels configured (LOKI_EXTRALABELS: container_id, ka_target_name, ...).
// The line is Falco's output text (LOKI_FORMAT=text, the default) or a JSON
// object with uuid, output, priority, rule, time, output_fields, source,
// tags and hostname (LOKI_FORMAT=json). The entry time is the alert's own.
// Falco's container.id is the 12-character short id; "host" means a
// process of the node itself.
package policy

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/activityaudit/activityaudit/pkg/filter"
	"github.com/activityaudit/activityaudit/pkg/loki"
)

// Line formats.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// Alert is one Falco alert as read from Loki.
type Alert struct {
	// Time is the alert's time, Unix ns (the Loki entry's timestamp).
	Time     int64
	Rule     string
	Priority string
	// Source is Falco's event source: syscall, k8s_audit, a plugin's.
	Source   string
	Hostname string
	Tags     []string
	// Output is Falco's output text.
	Output string
	// Format is the line format: FormatText or FormatJSON.
	Format string
	// UUID is Falcosidekick's id of the alert (json format only; it is
	// not Falco's).
	UUID string
	// Fields are Falco's output_fields, every value as text, numbers with
	// all their digits (json format only).
	Fields map[string]string

	// Where it happened, as far as the alert tells.
	Namespace, Pod string
	// ContainerID is Falco's container id: usually the 12-character short
	// id; "" for a node process or when the alert names none.
	ContainerID   string
	ContainerName string
	// OnHost is true when the alert names a process of the node itself.
	OnHost bool
	// K8sUser is the Kubernetes user of a k8s_audit alert.
	K8sUser string
	// AuditID is the Kubernetes audit id, when the alert carries it.
	AuditID string
}

// Read makes an alert from one Loki entry of Falcosidekick's streams:
// stream labels, entry time and line. Should a label name repeat, the last
// one counts.
func Read(stream []loki.Label, ts int64, line string) Alert {
	labels := streamLabels(stream)
	a := Alert{
		Time:     ts,
		Rule:     labels.get("rule"),
		Priority: labels.get("priority"),
		Source:   labels.get("source"),
		Hostname: labels.get("hostname"),
		Output:   line,
		Format:   FormatText,
	}
	if t := labels.get("tags"); t != "" {
		a.Tags = strings.Split(t, ",")
	}
	if j, ok := readJSON(line); ok {
		a.Format, a.Output, a.UUID, a.Fields = FormatJSON, j.Output, j.UUID, j.fields()
		a.Rule = first(a.Rule, j.Rule)
		a.Priority = first(a.Priority, j.Priority)
		a.Source = first(a.Source, j.Source)
		a.Hostname = first(a.Hostname, j.Hostname)
		if a.Tags == nil {
			a.Tags = j.Tags
		}
	}
	text := outputFields(a.Output)
	f := a.Fields
	a.Namespace = first(labels.get("k8s_ns_name"), labels.get("ka_target_namespace"), f["k8s.ns.name"], f["ka.target.namespace"], f["activity.namespace"], text.k8sNsName)
	a.Pod = first(labels.get("k8s_pod_name"), labels.get("ka_target_name"), f["k8s.pod.name"], f["ka.target.name"], f["activity.pod"], text.k8sPodName)
	if a.Source == "k8s_audit" {
		a.Namespace = first(a.Namespace, text.ns)
		a.Pod = first(a.Pod, text.pod)
		a.K8sUser = first(labels.get("ka_user_name"), f["ka.user.name"], text.user)
	}
	a.AuditID = first(f["ka.auditid"], f["activity.audit_id"])
	a.ContainerID = first(labels.get("container_id"), f["container.id"], f["activity.container_id"], text.containerID)
	a.ContainerName = first(labels.get("container_name"), f["container.name"], f["activity.container"], text.containerName)
	if a.ContainerID == "host" {
		a.ContainerID, a.OnHost = "", true
	}
	return a
}

// streamLabels looks stream labels up by name.
type streamLabels []loki.Label

func (ls streamLabels) get(name string) string {
	for i := len(ls) - 1; i >= 0; i-- {
		if ls[i].Name == name {
			return ls[i].Value
		}
	}
	return ""
}

// falcoJSON is Falcosidekick's json line.
type falcoJSON struct {
	UUID         string                     `json:"uuid"`
	Output       string                     `json:"output"`
	Priority     string                     `json:"priority"`
	Rule         string                     `json:"rule"`
	Time         string                     `json:"time"`
	OutputFields map[string]json.RawMessage `json:"output_fields"`
	Source       string                     `json:"source"`
	Tags         []string                   `json:"tags"`
	Hostname     string                     `json:"hostname"`
}

func readJSON(line string) (falcoJSON, bool) {
	var j falcoJSON
	if !strings.HasPrefix(strings.TrimSpace(line), "{") {
		return j, false
	}
	if err := json.Unmarshal([]byte(line), &j); err != nil || j.Rule == "" && j.Output == "" {
		return falcoJSON{}, false
	}
	return j, true
}

// fields are the output fields as text: strings unquoted, everything else
// (numbers, booleans, lists) as written.
func (j falcoJSON) fields() map[string]string {
	if len(j.OutputFields) == 0 {
		return nil
	}
	out := make(map[string]string, len(j.OutputFields))
	for k, raw := range j.OutputFields {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out[k] = s
			continue
		}
		if string(raw) != "null" {
			out[k] = string(raw)
		}
	}
	return out
}

// textFields are the key=value pairs read from an output text: the ones
// the container plugin's suggested output fields and the k8s_audit rules
// write.
type textFields struct {
	k8sNsName, k8sPodName, containerID, containerName, ns, pod, user string
}

// field is where key's value goes, or nil for another key.
func (t *textFields) field(key string) *string {
	switch key {
	case "k8s_ns_name":
		return &t.k8sNsName
	case "k8s_pod_name":
		return &t.k8sPodName
	case "container_id":
		return &t.containerID
	case "container_name":
		return &t.containerName
	case "ns":
		return &t.ns
	case "pod":
		return &t.pod
	case "user":
		return &t.user
	}
	return nil
}

// outputFields reads the first key=value of each known key from an output
// text; a value ends at white space, a comma or a closing parenthesis. A
// key=value is a word (split at white space, as by strings.Fields) with an
// "=", less its leading "(": only the words holding an "=" are looked at.
func outputFields(output string) textFields {
	var out textFields
	for rest := output; ; {
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			return out
		}
		start, end := wordStart(rest[:eq]), eq+wordEnd(rest[eq:])
		// The word's first "=" is at eq: none is before it in rest.
		k, v := strings.TrimLeft(rest[start:eq], "("), rest[eq+1:end]
		rest = rest[end:]
		dst := out.field(k)
		if dst == nil {
			continue
		}
		v = strings.TrimRight(v, "),")
		if *dst == "" && v != "" && v != "<NA>" {
			*dst = v
		}
	}
}

// wordStart is where the last word of s begins: after its last white space.
func wordStart(s string) int {
	for i := len(s); i > 0; {
		c := s[i-1]
		if c > ' ' && c < utf8.RuneSelf { // the usual byte: no space
			i--
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeLastRuneInString(s[:i])
		}
		if isSpace(r) {
			return i
		}
		i -= size
	}
	return 0
}

// isSpace is unicode.IsSpace, by table for ASCII.
func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiSpace[r]
	}
	return unicode.IsSpace(r)
}

var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// wordEnd is where the first word of s ends: at its first white space.
func wordEnd(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c > ' ' && c < utf8.RuneSelf { // the usual byte: no space
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if isSpace(r) {
			return i
		}
		i += size
	}
	return len(s)
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// ContainerPrefix is the alert's container id when it is one (1 to 64
// hex digits, any case): what the full 64-hex container_id of our records
// starts with, in lower case.
func (a *Alert) ContainerPrefix() string {
	id := a.ContainerID
	if id == "" || len(id) > 64 {
		return ""
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return ""
		}
	}
	return strings.ToLower(id)
}

// Scope is the filter that selects the activity the alert is about: its
// pod (namespace and pod) and its container — the full id when resolved
// (fullID), else every container whose id starts with the alert's; for a
// node process, the node. Empty when the alert names no place.
func (a *Alert) Scope(fullID string) filter.Filter {
	f := filter.Filter{Terms: make([]filter.Term, 0, 3)}
	add := func(name string, op filter.Op, value string) {
		f.Terms = append(f.Terms, filter.Term{Field: name, Op: op, Value: value, Offset: -1})
	}
	if a.Namespace != "" && a.Pod != "" {
		add("namespace", filter.Eq, a.Namespace)
		add("pod", filter.Eq, a.Pod)
	}
	switch p := a.ContainerPrefix(); {
	case fullID != "":
		add("container_id", filter.Eq, fullID)
	case len(p) == 64:
		add("container_id", filter.Eq, p)
	case p != "":
		add("container_id", filter.Re, p+".*")
	}
	if len(f.Terms) == 0 && a.OnHost && a.Hostname != "" {
		add("host", filter.Eq, a.Hostname)
	}
	return f
}
