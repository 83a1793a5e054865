package trace_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/loki"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/pkg/store/storetest"
	"github.com/activityaudit/activityaudit/pkg/trace"
)

// The store holds, in pod shop/web-1: an exec of bash by alice (session
// node-a:1:11, its shell running id and a connection), two concurrent execs of
// `date` (sessions s-date1, s-date2: ambiguous), an exec carrying its audit
// id (s-exact), a denied exec, and a probe session.
func TestFind(t *testing.T) {
	base := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	at := func(s float64) int64 { return base.Add(time.Duration(s * float64(time.Second))).UnixNano() }
	scope := func(r record.Record) record.Record {
		r.Cluster, r.Host, r.Namespace, r.Workload, r.WorkloadKind = "demo", "node-a", "shop", "web", "Deployment"
		r.Pod, r.Container = "web-1", "web"
		r.ContainerID = "c0ffee0000000000000000000000000000000000000000000000000000000001"
		return r
	}
	kube := func(t float64, audit, user, command string, code uint64) record.Record {
		return scope(record.Record{Time: at(t), Source: field.KubeExec, Resource: "pods", Name: "web-1", Subresource: "exec",
			Command: command, K8sUser: user, AuditID: audit, ResponseCode: code})
	}
	cmd := func(t float64, execID, parent, session, cmdline string, entry bool) record.Record {
		return scope(record.Record{Time: at(t), Source: field.Cmd, Comm: cmdline[:min(len(cmdline), 4)], Cmdline: cmdline,
			ExecID: execID, ParentExecID: parent, Session: session, SessionEntry: entry})
	}
	recs := []record.Record{
		kube(0, "a-bash", "alice", "bash", 101),
		cmd(0.4, "node-a:1:11", "runc:1", "node-a:1:11", "bash", true),
		cmd(2, "node-a:6:16", "node-a:1:11", "node-a:1:11", "id", false),
		scope(record.Record{Time: at(3), Source: field.Net, Comm: "curl", ExecID: "node-a:1:11", Session: "node-a:1:11",
			Direction: "out", L4Proto: "tcp", ClientIP: "10.0.0.5", ClientPort: 40000, ServerIP: "93.184.216.34", ServerPort: 443}),

		kube(100, "a-date1", "bob", "date", 101),
		kube(100.1, "a-date2", "carol", "date", 101),
		cmd(100.3, "node-a:2:12", "runc:2", "node-a:2:12", "date", true),
		cmd(100.35, "node-a:3:13", "runc:3", "node-a:3:13", "date", true),

		kube(200, "a-exact1", "dave", "date", 101),
		kube(200, "a-exact2", "erin", "date", 101),
		func() record.Record {
			r := cmd(200.2, "node-a:4:14", "runc:4", "node-a:4:14", "date", true)
			r.AuditID = "a-exact2"
			return r
		}(),

		kube(300, "a-denied", "mallory", "bash", 403),

		func() record.Record {
			r := cmd(400, "node-a:5:15", "runc:5", "node-a:5:15", "cat /tmp/healthy", true)
			r.Probe = true
			return r
		}(),
	}
	url := storetest.Start(t, recs)
	client, err := loki.New(loki.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	q := trace.Loki{Client: client}
	from, to := base.Add(-time.Hour), base.Add(time.Hour)

	tests := []struct {
		name      string
		id        string
		session   string   // "" when no session is returned
		user      string   // the kube exec attributed to the session
		exact     bool     // found by audit id
		ambiguous []string // users of the requests that fit
		reason    string   // Match.Reason for a request without a session
		cmdlines  []string // the session's programs, in tree order
		conns     int
	}{
		{name: "session: its kube exec by pod, time and argv", id: "node-a:1:11", session: "node-a:1:11", user: "alice", cmdlines: []string{"bash", "id"}, conns: 1},
		{name: "request: its session", id: "a-bash", session: "node-a:1:11", user: "alice", cmdlines: []string{"bash", "id"}, conns: 1},
		{name: "session of concurrent identical execs: ambiguous", id: "node-a:2:12", session: "node-a:2:12", ambiguous: []string{"bob", "carol"}, cmdlines: []string{"date"}},
		{name: "request of concurrent identical execs: ambiguous", id: "a-date2", reason: trace.ReasonAmbiguous},
		{name: "session with its audit id: exact", id: "node-a:4:14", session: "node-a:4:14", user: "erin", exact: true, cmdlines: []string{"date"}},
		{name: "request carried by an entry: exact", id: "a-exact2", session: "node-a:4:14", user: "erin", exact: true, cmdlines: []string{"date"}},
		{name: "request whose twin was claimed: nothing else fits", id: "a-exact1", reason: trace.ReasonNotFound},
		{name: "denied request", id: "a-denied", reason: trace.ReasonDenied},
		{name: "probe session: never attributed", id: "node-a:5:15", session: "node-a:5:15", cmdlines: []string{"cat /tmp/healthy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := trace.Find(context.Background(), q, tt.id, from, to, trace.Window{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.session == "" {
				if f.Session != nil {
					t.Fatalf("session %q, want none", f.Session.ID)
				}
				if f.Match == nil || f.Match.Reason != tt.reason {
					t.Fatalf("match %+v, want reason %q", f.Match, tt.reason)
				}
				return
			}
			s := f.Session
			if s == nil || s.ID != tt.session {
				t.Fatalf("session %+v, want %q", s, tt.session)
			}
			var user string
			if k := s.KubeExec(); k != nil {
				user = k.K8sUser
			}
			var amb []string
			for _, k := range s.Ambiguous {
				amb = append(amb, k.K8sUser)
			}
			slices.Sort(amb)
			var cmdlines []string
			s.Walk(func(p *trace.Process, _ int) bool { cmdlines = append(cmdlines, p.Record.Cmdline); return true })
			_, conns := s.Counts()
			if user != tt.user || s.Exact != tt.exact || !slices.Equal(amb, tt.ambiguous) || !slices.Equal(cmdlines, tt.cmdlines) || conns != tt.conns {
				t.Errorf("user %q exact %v ambiguous %v programs %q conns %d; want %q %v %v %q %d",
					user, s.Exact, amb, cmdlines, conns, tt.user, tt.exact, tt.ambiguous, tt.cmdlines, tt.conns)
			}
		})
	}
	t.Run("unknown id", func(t *testing.T) {
		for _, id := range []string{"node-x:1:1", "no-such-audit-id"} {
			if _, err := trace.Find(context.Background(), q, id, from, to, trace.Window{}); !errors.Is(err, trace.ErrNotFound) {
				t.Errorf("Find(%q) error %v, want ErrNotFound", id, err)
			}
		}
	})
}
