package trace

import (
	"slices"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

const (
	sec     = int64(time.Second)
	t0      = int64(1_800_000_000) * sec
	wrapper = `sh -c 'command -v bash >/dev/null && exec bash || exec sh'`
	ctrWeb  = "aaaa000000000000000000000000000000000000000000000000000000000001"
	ctrSide = "aaaa000000000000000000000000000000000000000000000000000000000002"
)

type kx struct {
	at      int64 // seconds after t0
	audit   string
	command string
	sub     string
	code    uint64
	ctr     string // container id ("" → scoped by pod only)
}

func (k kx) record() record.Record {
	sub := k.sub
	if sub == "" {
		sub = "exec"
	}
	code := k.code
	if code == 0 {
		code = 101
	}
	return record.Record{Time: t0 + k.at*sec, Source: field.KubeExec, Namespace: "shop", Pod: "web-1", Name: "web-1",
		Container: "web", ContainerID: k.ctr, Resource: "pods", Subresource: sub, Command: k.command,
		AuditID: k.audit, ResponseCode: code, K8sUser: "alice"}
}

type en struct {
	at      int64 // seconds (may be fractional through ms)
	ms      int64
	session string
	cmdline string
	ctr     string
	pod     string
	audit   string
	probe   bool
}

func (e en) record() record.Record {
	pod := e.pod
	if pod == "" {
		pod = "web-1"
	}
	ctr := e.ctr
	if ctr == "" {
		ctr = ctrWeb
	}
	return record.Record{Time: t0 + e.at*sec + e.ms*int64(time.Millisecond), Source: field.Cmd, Namespace: "shop", Pod: pod,
		Container: "web", ContainerID: ctr, Cmdline: e.cmdline, ExecID: e.session, Session: e.session,
		SessionEntry: true, AuditID: e.audit, Probe: e.probe}
}

func TestCorrelate(t *testing.T) {
	type want struct {
		session    string
		exact      bool
		candidates []string
		reason     string
	}
	tests := []struct {
		name    string
		execs   []kx
		entries []en
		want    []want
	}{
		{
			name:    "one request, one session",
			execs:   []kx{{at: 0, command: "bash"}},
			entries: []en{{ms: 300, session: "s1", cmdline: "bash"}},
			want:    []want{{session: "s1"}},
		},
		{
			name:    "matched by container id when the request is scoped",
			execs:   []kx{{at: 0, command: "bash", ctr: ctrWeb}},
			entries: []en{{ms: 300, session: "s1", cmdline: "bash", ctr: ctrSide}, {ms: 400, session: "s2", cmdline: "bash"}},
			want:    []want{{session: "s2"}},
		},
		{
			name:    "kubectl's shell wrapper is one session",
			execs:   []kx{{at: 0, command: wrapper}},
			entries: []en{{ms: 200, session: "s1", cmdline: wrapper}},
			want:    []want{{session: "s1"}},
		},
		{
			name:    "argv must be equal",
			execs:   []kx{{at: 0, command: "ls /"}},
			entries: []en{{ms: 200, session: "s1", cmdline: "ls /tmp"}},
			want:    []want{{reason: ReasonNotFound}},
		},
		{
			name:    "outside the window",
			execs:   []kx{{at: 0, command: "bash"}},
			entries: []en{{at: 11, session: "late", cmdline: "bash"}, {at: -11, session: "early", cmdline: "bash"}},
			want:    []want{{reason: ReasonNotFound}},
		},
		{
			name:    "another pod",
			execs:   []kx{{at: 0, command: "bash"}},
			entries: []en{{ms: 100, session: "s1", cmdline: "bash", pod: "web-2", ctr: ctrSide}},
			want:    []want{{reason: ReasonNotFound}},
		},
		{
			name:    "two identical concurrent execs are ambiguous, never guessed",
			execs:   []kx{{at: 0, command: "bash"}, {at: 0, command: "bash"}},
			entries: []en{{ms: 100, session: "s1", cmdline: "bash"}, {ms: 150, session: "s2", cmdline: "bash"}},
			want: []want{
				{candidates: []string{"s1", "s2"}, reason: ReasonAmbiguous},
				{candidates: []string{"s1", "s2"}, reason: ReasonAmbiguous},
			},
		},
		{
			name:  "the audit id resolves concurrent execs exactly",
			execs: []kx{{at: 0, command: "bash", audit: "a1"}, {at: 0, command: "bash", audit: "a2"}},
			entries: []en{{ms: 100, session: "s1", cmdline: "bash", audit: "a2"},
				{ms: 150, session: "s2", cmdline: "bash", audit: "a1"}},
			want: []want{{session: "s2", exact: true}, {session: "s1", exact: true}},
		},
		{
			name:  "an entry claimed by its audit id fits no other request",
			execs: []kx{{at: 0, command: "bash", audit: "a1"}, {at: 0, command: "bash"}},
			entries: []en{{ms: 100, session: "s1", cmdline: "bash", audit: "a1"},
				{ms: 150, session: "s2", cmdline: "bash"}},
			want: []want{{session: "s1", exact: true}, {session: "s2"}},
		},
		{
			name:    "the audit id wins over argv and time",
			execs:   []kx{{at: 0, command: "bash", audit: "a1"}},
			entries: []en{{at: 60, session: "s1", cmdline: "sh", audit: "a1"}},
			want:    []want{{session: "s1", exact: true}},
		},
		{
			name:    "a probe session is never attributed",
			execs:   []kx{{at: 0, command: "cat /tmp/healthy"}},
			entries: []en{{ms: 10, session: "p1", cmdline: "cat /tmp/healthy", probe: true}},
			want:    []want{{reason: ReasonNotFound}},
		},
		{
			name:    "a denied exec opens no session",
			execs:   []kx{{at: 0, command: "bash", code: 403}},
			entries: []en{{ms: 100, session: "s1", cmdline: "bash"}},
			want:    []want{{reason: ReasonDenied}},
		},
		{
			name:    "attach starts no process",
			execs:   []kx{{at: 0, sub: "attach"}},
			entries: []en{{ms: 100, session: "s1", cmdline: ""}},
			want:    []want{{reason: ReasonNoProcess}},
		},
		{
			name:    "only the entry's first program is its argv",
			execs:   []kx{{at: 0, command: "cat /tmp/ready"}},
			entries: []en{{ms: 100, session: "s1", cmdline: "sh -c 'id; cat /tmp/ready'"}, {ms: 130, session: "s1", cmdline: "cat /tmp/ready"}},
			want:    []want{{reason: ReasonNotFound}},
		},
		{
			name:    "the same session entry listed twice (re-exec) is one candidate",
			execs:   []kx{{at: 0, command: wrapper}},
			entries: []en{{ms: 100, session: "s1", cmdline: wrapper}, {ms: 120, session: "s1", cmdline: "bash"}},
			want:    []want{{session: "s1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var execs, entries []record.Record
			for _, k := range tt.execs {
				execs = append(execs, k.record())
			}
			for _, e := range tt.entries {
				entries = append(entries, e.record())
			}
			got := Correlate(execs, entries, Window{})
			if len(got) != len(tt.want) {
				t.Fatalf("%d matches, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Session != w.session || g.Exact != w.exact || !slices.Equal(g.Candidates, w.candidates) || g.Reason != w.reason {
					t.Errorf("match %d: session %q exact %v candidates %v reason %q; want session %q exact %v candidates %v reason %q",
						i, g.Session, g.Exact, g.Candidates, g.Reason, w.session, w.exact, w.candidates, w.reason)
				}
				if g.Ambiguous() != (len(w.candidates) > 1) {
					t.Errorf("match %d: Ambiguous() = %v", i, g.Ambiguous())
				}
			}
		})
	}
}

func TestKubeExecOf(t *testing.T) {
	execs := []record.Record{kx{at: 0, command: "bash"}.record(), kx{at: 30, command: "id"}.record(), kx{at: 30, command: "id"}.record()}
	entries := []record.Record{en{ms: 100, session: "s1", cmdline: "bash"}.record(),
		en{at: 30, session: "s2", cmdline: "id"}.record(), en{at: 31, session: "s3", cmdline: "id"}.record()}
	matches := Correlate(execs, entries, Window{})
	if m, ok := KubeExecOf("s1", matches); !ok || m.KubeExec.Command != "bash" {
		t.Errorf("KubeExecOf(s1) = %+v, %v", m, ok)
	}
	if _, ok := KubeExecOf("s2", matches); ok {
		t.Error("KubeExecOf(s2) found a request, want none (ambiguous)")
	}
	if got := CandidatesOf("s3", matches); len(got) != 2 {
		t.Errorf("CandidatesOf(s3) = %d requests, want 2", len(got))
	}
}
