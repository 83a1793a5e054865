package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/activityaudit/activityaudit/collector/pipeline"
	"github.com/activityaudit/activityaudit/pkg/logql"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/pkg/trace"
)

// runTrace shows an exec session: its kube exec and its process tree with
// connections.
func runTrace(ctx context.Context, args []string, stdio IO) error {
	fs := newFlagSet("trace", "SESSION", stdio.Err)
	var conn connFlags
	conn.register(fs, false)
	var rf rangeFlags
	rf.register(fs, "now-24h")
	var view viewFlags
	view.register(fs, "print the session as one JSON document: its kube execs and its process tree", "print the Grafana trace link at the end (on stderr with --json)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" {
		return usageError("one SESSION argument (the session field of a record, e.g. node-a:123456789:4242, or a kube exec's audit id), got %d", len(pos))
	}
	id := pos[0]
	rng, err := rf.resolve(time.Now())
	if err != nil {
		return err
	}
	if _, err := logql.Trace(id, rng.From, rng.To); err != nil {
		return usageError("%v", err)
	}
	client, err := conn.queryClient()
	if err != nil {
		return err
	}
	c := newClock(view.local)
	found, err := trace.Find(ctx, trace.Loki{Client: client}, id, rng.From, rng.To, trace.Window{})
	switch {
	case errors.Is(err, trace.ErrNotFound):
		what := "session"
		if trace.IsAuditID(id) {
			what = "kube exec"
		}
		return fmt.Errorf("%s %q: no records between %s and %s (check the id, or widen --since or --from/--to)",
			what, id, c.full(rng.From.UnixNano()), c.full(rng.To.UnixNano()))
	case err != nil:
		return connHint(err, &conn)
	}
	out := bufio.NewWriter(stdio.Out)
	s := found.Session
	if s == nil {
		// A kube exec request that opened no session that can be named.
		m := found.Match
		if view.json {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			if err := enc.Encode(matchJSON(m)); err != nil {
				return err
			}
		} else {
			writeMatch(out, m, c, termWidth(stdio.Out))
		}
		return out.Flush()
	}
	if view.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(traceJSON(s)); err != nil {
			return err
		}
	} else {
		writeTrace(out, s, c, termWidth(stdio.Out))
	}
	link := traceLink(view.grafanaURL, id, rng.From, rng.To)
	if view.link && !view.json {
		fmt.Fprintln(out, link)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if n, _ := s.Counts(); n+len(s.KubeExecs) >= logql.MaxTrace {
		fmt.Fprintf(stdio.Err, "the trace stops at %d records: narrow --from/--to to see the rest\n", logql.MaxTrace)
	}
	if view.link && view.json {
		fmt.Fprintln(stdio.Err, link)
	}
	return nil
}

// writeMatch prints a kube exec request that opened no session: why, and
// for an ambiguous one the sessions that fit.
func writeMatch(w io.Writer, m *trace.Match, c clock, width int) {
	line := func(format string, args ...any) {
		l := fmt.Sprintf(format, args...)
		if width > 0 {
			l = cut(l, width)
		}
		fmt.Fprintln(w, l)
	}
	writeKubeExec(line, &m.KubeExec, c)
	switch m.Reason {
	case trace.ReasonDenied:
		line("session    none: the API server refused the request")
	case trace.ReasonNoProcess:
		line("session    none: %s joins the container's running processes", printable(m.KubeExec.Subresource))
	case trace.ReasonAmbiguous:
		line("session    ambiguous: %d sessions fit (same pod, container, command and time); not guessed:", len(m.Candidates))
		for _, s := range m.Candidates {
			line("             %s", printable(s))
		}
	default:
		line("session    none found: no process of the pod ran %q around that time", printable(m.KubeExec.Command))
	}
}

// writeKubeExec prints a kube exec request's two lines.
func writeKubeExec(line func(string, ...any), k *record.Record, c clock) {
	const pad = "           "
	what := k.Subresource + " " + podPath(k)
	if k.Command != "" {
		what += ": " + k.Command
	}
	line("kube exec  %s  %s  %s", c.full(k.Time), printable(orDash(k.K8sUser)), printable(what))
	if d := kubeDetails(k); d != "" {
		line("%s%s", pad, printable(d))
	}
}

// writeTrace prints the header (session, kube exec, where, span) and the
// process tree, each process with its connections under it. With width > 0
// lines are cut to it.
func writeTrace(w io.Writer, s *trace.Session, c clock, width int) {
	line := func(format string, args ...any) {
		l := fmt.Sprintf(format, args...)
		if width > 0 {
			l = cut(l, width)
		}
		fmt.Fprintln(w, l)
	}
	line("session    %s", printable(s.ID))
	for i := range s.KubeExecs {
		writeKubeExec(line, &s.KubeExecs[i], c)
	}
	if s.Exact {
		line("           matched by the audit id its entry process carried")
	}
	if len(s.KubeExecs) == 0 && len(s.Ambiguous) > 0 {
		line("kube exec  ambiguous: %d requests fit this session and others; not guessed:", len(s.Ambiguous))
		for i := range s.Ambiguous {
			k := &s.Ambiguous[i]
			line("             %s  %s  audit id %s", c.full(k.Time), printable(orDash(k.K8sUser)), printable(k.AuditID))
		}
	}
	if len(s.KubeExecs) == 0 && len(s.Ambiguous) == 0 {
		line("kube exec  none recorded for this session")
		if u := sessionUser(s); u != "" {
			line("k8s user   %s", printable(u))
		}
	}
	if s.Probe {
		line("started by a kubelet exec probe")
	}
	if r := whereRecord(s); r != nil {
		where := r.Host
		if sc := scope(r); sc != "host" {
			where += "  " + sc
			if r.Container != "" && r.Pod != "" {
				where += "/" + r.Container
			}
		}
		line("where      %s", printable(where))
	}
	procs, conns := s.Counts()
	line("span       %s to %s: %s, %s", c.full(s.Start), c.full(s.End), plural(procs, "process", "processes"), plural(conns, "connection", "connections"))
	if procs == 0 && len(s.Unattributed) == 0 {
		return
	}
	line("")
	for _, it := range s.Flatten() {
		p := it.Process
		r := p.Record
		cmdline := r.Cmdline
		if p.Inferred || cmdline == "" {
			cmdline = r.Comm
			if r.Exe != "" && r.Exe != r.Comm {
				cmdline += " (" + r.Exe + ")"
			}
		}
		if p.Exec {
			cmdline = "[exec] " + cmdline
		}
		var notes string
		switch {
		case p.Orphan && r.ParentExecID != "":
			notes = "  [orphan: parent " + r.ParentExecID + " not in the trace]"
		case p.Orphan:
			notes = "  [orphan: parent unknown]"
		}
		if p.Inferred {
			notes += "  [no exec record: known from its connections]"
		}
		user := userOf(r)
		if p.Inferred {
			user = "?"
		}
		line("%s%s  %s  %s  %s%s", it.Branch(), c.short(r.Time, s.Start), orDash(pidOf(r)), printable(orDash(user)), printable(cmdline), printable(notes))
		for i := range p.Conns {
			line("%s%s", it.Stem(), connText(&p.Conns[i], c, s.Start))
		}
	}
	if len(s.Unattributed) > 0 {
		line("")
		line("connections of no known process:")
		for i := range s.Unattributed {
			n := &s.Unattributed[i]
			line("   %s  pid %s %s", connText(n, c, s.Start), orDash(pidOf(n)), printable(n.Comm))
		}
	}
}

// connText is "10:00:05.120  → tcp 10.0.0.5:44312 → 10.0.0.9:8080 (refused)";
// the leading arrow is the direction (→ out, ← in).
func connText(n *record.Record, c clock, ref int64) string {
	arrow := "→"
	if n.Direction == "in" {
		arrow = "←"
	}
	s := c.short(n.Time, ref) + "  " + arrow + " " + n.L4Proto + " " + endpoints(n)
	if n.Result != "" {
		s += " (" + resultText(n.Result) + ")"
	}
	return printable(s)
}

// kubeDetails is the second line of a kube exec: who, from where, how.
func kubeDetails(k *record.Record) string {
	var parts []string
	if k.K8sGroups != "" {
		parts = append(parts, "groups "+k.K8sGroups)
	}
	if k.SourceAddresses != "" {
		parts = append(parts, "from "+k.SourceAddresses)
	}
	if k.UserAgent != "" {
		parts = append(parts, k.UserAgent)
	}
	var flags []string
	if k.ExecStdin {
		flags = append(flags, "stdin")
	}
	if k.ExecTTY {
		flags = append(flags, "tty")
	}
	if len(flags) > 0 {
		parts = append(parts, strings.Join(flags, "+"))
	}
	if k.ResponseCode != 0 {
		parts = append(parts, "response "+strconv.FormatUint(k.ResponseCode, 10))
	}
	if k.AuditID != "" {
		parts = append(parts, "audit id "+k.AuditID)
	}
	return strings.Join(parts, "; ")
}

// sessionUser is the Kubernetes user the session's records carry, when
// its kube exec record is not among them.
func sessionUser(s *trace.Session) string {
	u := ""
	s.Walk(func(p *trace.Process, _ int) bool {
		if u == "" {
			u = p.Record.K8sUser
		}
		return u == ""
	})
	return u
}

// whereRecord is the record that says where the session ran: the entry's,
// else the first process's.
func whereRecord(s *trace.Session) *record.Record {
	if s.Entry != nil {
		return s.Entry.Record
	}
	if len(s.Roots) > 0 {
		return s.Roots[0].Record
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// JSON form of a trace: records as the NDJSON output writes them.
type (
	jsonTrace struct {
		Session      string            `json:"session"`
		Start        string            `json:"start"`
		End          string            `json:"end"`
		Probe        bool              `json:"probe,omitempty"`
		KubeExecs    []json.RawMessage `json:"kube_execs"`
		Exact        bool              `json:"exact,omitempty"`
		Ambiguous    []json.RawMessage `json:"ambiguous_kube_execs,omitempty"`
		Processes    []*jsonProcess    `json:"processes"`
		Unattributed []json.RawMessage `json:"unattributed,omitempty"`
	}
	jsonProcess struct {
		Record      json.RawMessage   `json:"record"`
		Entry       bool              `json:"entry,omitempty"`
		Orphan      bool              `json:"orphan,omitempty"`
		Exec        bool              `json:"exec,omitempty"`
		Inferred    bool              `json:"inferred,omitempty"`
		Connections []json.RawMessage `json:"connections,omitempty"`
		Children    []*jsonProcess    `json:"children,omitempty"`
	}
)

func traceJSON(s *trace.Session) jsonTrace {
	c := newClock(false)
	t := jsonTrace{
		Session:      s.ID,
		Start:        c.full(s.Start),
		End:          c.full(s.End),
		Probe:        s.Probe,
		KubeExecs:    rawRecords(s.KubeExecs),
		Exact:        s.Exact,
		Ambiguous:    rawRecords(s.Ambiguous),
		Unattributed: rawRecords(s.Unattributed),
		Processes:    []*jsonProcess{},
	}
	if t.KubeExecs == nil {
		t.KubeExecs = []json.RawMessage{}
	}
	var conv func(p *trace.Process) *jsonProcess
	conv = func(p *trace.Process) *jsonProcess {
		j := &jsonProcess{
			Record: rawRecord(p.Record), Entry: p.Entry, Orphan: p.Orphan, Exec: p.Exec, Inferred: p.Inferred,
			Connections: rawRecords(p.Conns),
		}
		for _, ch := range p.Children {
			j.Children = append(j.Children, conv(ch))
		}
		return j
	}
	for _, p := range s.Roots {
		t.Processes = append(t.Processes, conv(p))
	}
	return t
}

// jsonMatch is a kube exec request without a session.
type jsonMatch struct {
	KubeExec   json.RawMessage `json:"kube_exec"`
	Session    string          `json:"session"`
	Reason     string          `json:"reason"`
	Candidates []string        `json:"candidates,omitempty"`
}

func matchJSON(m *trace.Match) jsonMatch {
	return jsonMatch{KubeExec: rawRecord(&m.KubeExec), Session: m.Session, Reason: m.Reason, Candidates: m.Candidates}
}

func rawRecord(r *record.Record) json.RawMessage { return pipeline.AppendJSON(nil, r) }

func rawRecords(rs []record.Record) []json.RawMessage {
	var out []json.RawMessage
	for i := range rs {
		out = append(out, rawRecord(&rs[i]))
	}
	return out
}
