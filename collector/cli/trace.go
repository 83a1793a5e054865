package cli

import (
	"bufio"
	"context"
	"encoding/json"
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
		return usageError("one SESSION argument (the session field of a record, e.g. node-a:123456789:4242), got %d", len(pos))
	}
	id := pos[0]
	rng, err := rf.resolve(time.Now())
	if err != nil {
		return err
	}
	req, err := logql.Trace(id, rng.From, rng.To)
	if err != nil {
		return usageError("%v", err)
	}
	client, err := conn.queryClient()
	if err != nil {
		return err
	}
	recs, err := logRecords(ctx, client, req)
	if err != nil {
		return connHint(err, &conn)
	}
	c := newClock(view.local)
	s := trace.Build(recs)
	if s.Empty() {
		return fmt.Errorf("session %q: no records between %s and %s (check the id, or widen --since or --from/--to)",
			id, c.full(rng.From.UnixNano()), c.full(rng.To.UnixNano()))
	}
	s.ID = id
	out := bufio.NewWriter(stdio.Out)
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
	if len(recs) >= req.Limit {
		fmt.Fprintf(stdio.Err, "the trace stops at %d records: narrow --from/--to to see the rest\n", len(recs))
	}
	if view.link && view.json {
		fmt.Fprintln(stdio.Err, link)
	}
	return nil
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
	const pad = "           "
	line("session    %s", printable(s.ID))
	for i := range s.KubeExecs {
		k := &s.KubeExecs[i]
		what := k.Subresource + " " + podPath(k)
		if k.Command != "" {
			what += ": " + k.Command
		}
		line("kube exec  %s  %s  %s", c.full(k.Time), printable(orDash(k.K8sUser)), printable(what))
		if d := kubeDetails(k); d != "" {
			line("%s%s", pad, printable(d))
		}
	}
	if len(s.KubeExecs) == 0 {
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
		r := &p.Record
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
		return &s.Entry.Record
	}
	if len(s.Roots) > 0 {
		return &s.Roots[0].Record
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
		Unattributed: rawRecords(s.Unattributed),
		Processes:    []*jsonProcess{},
	}
	if t.KubeExecs == nil {
		t.KubeExecs = []json.RawMessage{}
	}
	var conv func(p *trace.Process) *jsonProcess
	conv = func(p *trace.Process) *jsonProcess {
		j := &jsonProcess{
			Record: rawRecord(&p.Record), Entry: p.Entry, Orphan: p.Orphan, Exec: p.Exec, Inferred: p.Inferred,
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

func rawRecord(r *record.Record) json.RawMessage { return pipeline.AppendJSON(nil, r) }

func rawRecords(rs []record.Record) []json.RawMessage {
	var out []json.RawMessage
	for i := range rs {
		out = append(out, rawRecord(&rs[i]))
	}
	return out
}
