package trace

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

const sess = "node-a:1000:100"

// id is the exec_id of pid started at start, on node-a.
func id(start, pid int) string { return fmt.Sprintf("node-a:%d:%d", start, pid) }

func cmd(t int64, pid int, execID, parent, cmdline string) record.Record {
	return record.Record{
		Time: t, Source: field.Cmd, Host: "node-a", PID: uint64(pid),
		Comm: strings.Fields(cmdline + " ?")[0], Cmdline: cmdline,
		ExecID: execID, ParentExecID: parent, Session: sess,
	}
}

func entry(t int64, cmdline string) record.Record {
	r := cmd(t, 100, sess, id(900, 90), cmdline)
	r.SessionEntry = true
	return r
}

func conn(t int64, pid int, execID string, port int, result string) record.Record {
	return record.Record{
		Time: t, Source: field.Net, Host: "node-a", PID: uint64(pid), Comm: "c",
		ExecID: execID, Session: sess, Direction: "out", L4Proto: "tcp",
		ClientIP: "10.0.0.1", ClientPort: 40000, ServerIP: "10.0.0.2", ServerPort: uint64(port), Result: result,
	}
}

func kubeExec(t int64, user string) record.Record {
	return record.Record{Time: t, Source: field.KubeExec, K8sUser: user, Name: "web-1", Command: "bash", Session: sess}
}

// render draws the tree compactly: one line per process with its flags,
// one per connection.
func render(s *Session) string {
	var b strings.Builder
	for _, it := range s.Flatten() {
		p := it.Process
		fmt.Fprintf(&b, "%s%d %s", it.Branch(), p.Record.PID, p.Record.Cmdline)
		if p.Inferred {
			fmt.Fprintf(&b, "(%s)", p.Record.Comm)
		}
		for _, f := range []struct {
			on   bool
			name string
		}{{p.Entry, "entry"}, {p.Orphan, "orphan"}, {p.Exec, "exec"}, {p.Inferred, "inferred"}} {
			if f.on {
				b.WriteString(" [" + f.name + "]")
			}
		}
		b.WriteByte('\n')
		for _, c := range p.Conns {
			fmt.Fprintf(&b, "%s-> %d %s\n", it.Stem(), c.ServerPort, c.Result)
		}
	}
	for _, c := range s.Unattributed {
		fmt.Fprintf(&b, "? -> %d\n", c.ServerPort)
	}
	return b.String()
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name    string
		records []record.Record
		want    string // render()
		id      string
		entry   string // cmdline of Session.Entry, "" for none
		kube    string // k8s_user of the first kube exec
		probe   bool
	}{
		{
			name: "empty",
		},
		{
			name:    "entry with kube exec",
			records: []record.Record{kubeExec(5, "alice"), entry(10, "bash")},
			want:    "100 bash [entry]\n",
			id:      sess, entry: "bash", kube: "alice",
		},
		{
			name: "children by time whatever the input order, ties keep input order",
			records: []record.Record{
				cmd(30, 103, id(30, 103), sess, "cat c"),
				cmd(20, 101, id(20, 101), sess, "ls a"),
				entry(10, "bash"),
				cmd(20, 102, id(20, 102), sess, "ls b"),
				cmd(25, 104, id(25, 104), id(20, 102), "grep x"),
			},
			want: "" +
				"100 bash [entry]\n" +
				"├─ 101 ls a\n" +
				"├─ 102 ls b\n" +
				"│  └─ 104 grep x\n" +
				"└─ 103 cat c\n",
			id: sess, entry: "bash",
		},
		{
			name: "connections under their process, by time",
			records: []record.Record{
				entry(10, "bash"),
				cmd(20, 101, id(20, 101), sess, "curl api"),
				conn(23, 101, id(20, 101), 8443, "ECONNREFUSED"),
				conn(22, 101, id(20, 101), 443, ""),
				conn(15, 100, sess, 53, ""),
			},
			want: "" +
				"100 bash [entry]\n" +
				"│  -> 53 \n" +
				"└─ 101 curl api\n" +
				"      -> 443 \n" +
				"      -> 8443 ECONNREFUSED\n",
			id: sess, entry: "bash",
		},
		{
			name: "orphan at the root after the entry",
			records: []record.Record{
				cmd(5, 200, id(5, 200), id(1, 199), "early orphan"),
				entry(10, "bash"),
				cmd(30, 201, id(30, 201), id(25, 150), "python x.py"),
				cmd(31, 202, id(31, 202), id(30, 201), "sh -c id"),
			},
			want: "" +
				"100 bash [entry]\n" +
				"200 early orphan [orphan]\n" +
				"201 python x.py [orphan]\n" +
				"└─ 202 sh -c id\n",
			id: sess, entry: "bash",
		},
		{
			name: "entry known by its exec_id alone",
			records: []record.Record{
				cmd(10, 100, sess, id(900, 90), "sh"),
				cmd(20, 101, id(20, 101), sess, "id"),
			},
			want: "100 sh [entry]\n└─ 101 id\n",
			id:   sess, entry: "sh",
		},
		{
			name: "no entry record: the tops are orphans",
			records: []record.Record{
				cmd(20, 101, id(20, 101), sess, "ls"),
				cmd(21, 102, id(21, 102), id(20, 101), "cat"),
			},
			want: "101 ls [orphan]\n└─ 102 cat\n",
			id:   sess,
		},
		{
			name: "re-exec keeping the exec_id is a chain",
			records: []record.Record{
				entry(10, "bash"),
				cmd(20, 101, id(20, 101), sess, "sh -c exec python app.py"),
				cmd(21, 105, id(21, 105), id(20, 101), "date"),
				conn(22, 101, id(20, 101), 80, ""),
				cmd(25, 101, id(20, 101), sess, "python app.py"),
				cmd(30, 106, id(30, 106), id(20, 101), "uname"),
				conn(31, 101, id(20, 101), 443, ""),
			},
			want: "" +
				"100 bash [entry]\n" +
				"└─ 101 sh -c exec python app.py\n" +
				"   │  -> 80 \n" +
				"   ├─ 105 date\n" +
				"   └─ 101 python app.py [exec]\n" +
				"      │  -> 443 \n" +
				"      └─ 106 uname\n",
			id: sess, entry: "bash",
		},
		{
			name: "re-exec of the entry keeps one entry",
			records: []record.Record{
				entry(10, "sh -c exec bash"),
				entry(11, "bash"),
			},
			want: "100 sh -c exec bash [entry]\n└─ 100 bash [exec]\n",
			id:   sess, entry: "sh -c exec bash",
		},
		{
			name: "re-exec with a new exec_id and the same pid",
			records: []record.Record{
				entry(10, "bash"),
				cmd(20, 101, id(20, 101), sess, "env X=1 curl api"),
				cmd(21, 101, id(21, 101), id(20, 101), "curl api"),
				conn(22, 101, id(21, 101), 443, ""),
			},
			want: "" +
				"100 bash [entry]\n" +
				"└─ 101 env X=1 curl api\n" +
				"   └─ 101 curl api [exec]\n" +
				"         -> 443 \n",
			id: sess, entry: "bash",
		},
		{
			name: "process known only from its connections",
			records: []record.Record{
				entry(10, "bash"),
				func() record.Record { c := conn(40, 300, id(30, 300), 5432, ""); c.ParentExecID = sess; return c }(),
				conn(41, 300, id(30, 300), 5433, "ETIMEDOUT"),
			},
			want: "" +
				"100 bash [entry]\n" +
				"└─ 300 (c) [inferred]\n" +
				"      -> 5432 \n" +
				"      -> 5433 ETIMEDOUT\n",
			id: sess, entry: "bash",
		},
		{
			name: "connection without exec_id is unattributed",
			records: []record.Record{
				entry(10, "bash"),
				conn(20, 0, "", 9000, ""),
			},
			want: "100 bash [entry]\n? -> 9000\n",
			id:   sess, entry: "bash",
		},
		{
			name: "parent cycle is broken at the oldest",
			records: []record.Record{
				cmd(20, 101, id(20, 101), id(21, 102), "a"),
				cmd(21, 102, id(21, 102), id(20, 101), "b"),
			},
			want: "101 a [orphan]\n└─ 102 b\n",
			id:   sess,
		},
		{
			name: "probe session",
			records: []record.Record{
				func() record.Record { r := entry(10, "cat /tmp/healthy"); r.Probe = true; return r }(),
			},
			want: "100 cat /tmp/healthy [entry]\n",
			id:   sess, entry: "cat /tmp/healthy", probe: true,
		},
		{
			name: "kube exec alone",
			records: []record.Record{
				kubeExec(7, "bob"), kubeExec(5, "alice"),
			},
			id: sess, kube: "alice",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Build(tt.records)
			if got := render(s); got != tt.want {
				t.Errorf("tree:\n%s\nwant:\n%s", got, tt.want)
			}
			if s.ID != tt.id {
				t.Errorf("ID %q, want %q", s.ID, tt.id)
			}
			gotEntry := ""
			if s.Entry != nil {
				gotEntry = s.Entry.Record.Cmdline
				if s.Roots[0] != s.Entry {
					t.Errorf("entry is not the first root")
				}
			}
			if gotEntry != tt.entry {
				t.Errorf("entry %q, want %q", gotEntry, tt.entry)
			}
			gotKube := ""
			if k := s.KubeExec(); k != nil {
				gotKube = k.K8sUser
			}
			if gotKube != tt.kube {
				t.Errorf("kube exec user %q, want %q", gotKube, tt.kube)
			}
			if s.Probe != tt.probe {
				t.Errorf("probe %v, want %v", s.Probe, tt.probe)
			}
			if s.Empty() != (len(tt.records) == 0) {
				t.Errorf("Empty() = %v with %d records", s.Empty(), len(tt.records))
			}
		})
	}
}

func TestBuildTimes(t *testing.T) {
	s := Build([]record.Record{conn(40, 1, "x", 1, ""), entry(10, "bash"), kubeExec(7, "a"), {Time: 99, Source: "other"}})
	if s.Start != 7 || s.End != 40 {
		t.Errorf("Start, End = %d, %d; want 7, 40", s.Start, s.End)
	}
	if p, c := s.Counts(); p != 2 || c != 1 {
		t.Errorf("Counts() = %d, %d; want 2, 1", p, c)
	}
}

func TestWalk(t *testing.T) {
	s := Build([]record.Record{
		entry(10, "bash"),
		cmd(20, 101, id(20, 101), sess, "a"),
		cmd(21, 102, id(21, 102), id(20, 101), "b"),
		cmd(22, 103, id(22, 103), sess, "c"),
	})
	tests := []struct {
		name string
		skip string // cmdline whose children are skipped
		want string
	}{
		{"all", "", "bash/0 a/1 b/2 c/1"},
		{"skip a subtree", "a", "bash/0 a/1 c/1"},
		{"skip everything under the root", "bash", "bash/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			s.Walk(func(p *Process, depth int) bool {
				got = append(got, fmt.Sprintf("%s/%d", p.Record.Cmdline, depth))
				return p.Record.Cmdline != tt.skip
			})
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("walk %q, want %q", g, tt.want)
			}
		})
	}
}

// TestBuildInvariants builds random forests, with missing parents, cycles,
// re-execs and connections, and checks that every record appears exactly
// once and the result is a forest.
func TestBuildInvariants(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		n := 1 + rng.IntN(40)
		var recs []record.Record
		var cmds, nets int
		for i := range n {
			pid := 100 + rng.IntN(n)
			parent := id(0, 100+rng.IntN(n+3)) // sometimes missing, sometimes itself
			r := cmd(int64(rng.IntN(20)), pid, id(0, pid), parent, fmt.Sprint(i))
			r.SessionEntry = rng.IntN(10) == 0
			recs = append(recs, r)
			cmds++
			if rng.IntN(3) == 0 {
				recs = append(recs, conn(int64(rng.IntN(20)), pid, id(0, 100+rng.IntN(n+3)), i, ""))
				nets++
			}
		}
		s := Build(recs)
		seen := map[*Process]bool{}
		procs, conns := 0, 0
		for _, it := range s.Flatten() {
			p := it.Process
			if seen[p] {
				t.Fatalf("seed %d: process %s twice", seed, p.Record.Cmdline)
			}
			seen[p] = true
			if (it.Depth == 0) != (p.Parent == nil) {
				t.Fatalf("seed %d: depth %d with parent %v", seed, it.Depth, p.Parent)
			}
			if !p.Inferred {
				procs++
			}
			conns += len(p.Conns)
			for _, c := range p.Children {
				if c.Parent != p {
					t.Fatalf("seed %d: child's parent is not its parent", seed)
				}
			}
		}
		if procs != cmds || conns != nets {
			t.Fatalf("seed %d: %d processes, %d connections in the tree; want %d, %d", seed, procs, conns, cmds, nets)
		}
	}
}

// BenchmarkBuild builds a trace as large as logql.Trace returns: a shell
// running 2500 commands, each with a connection.
func BenchmarkBuild(b *testing.B) {
	recs := []record.Record{entry(1, "bash")}
	for i := range 2500 {
		x := id(10+i, 1000+i)
		recs = append(recs, cmd(int64(10+i), 1000+i, x, sess, "curl"), conn(int64(11+i), 1000+i, x, 443, ""))
	}
	b.ReportAllocs()
	for b.Loop() {
		Build(recs)
	}
}
