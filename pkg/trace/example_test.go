package trace_test

import (
	"fmt"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/pkg/trace"
)

// A session drawn as a tree: each process on its branch, its connections
// on the stem under it.
func ExampleSession_Flatten() {
	const sess = "node-a:100:42"
	s := trace.Build([]record.Record{
		{Time: 1, Source: field.KubeExec, K8sUser: "alice", Command: "sh", Session: sess},
		{Time: 2, Source: field.Cmd, PID: 42, Cmdline: "sh", ExecID: sess, Session: sess, SessionEntry: true},
		{Time: 3, Source: field.Cmd, PID: 43, Cmdline: "wget http://x/", ExecID: "node-a:300:43", ParentExecID: sess, Session: sess},
		{Time: 4, Source: field.Net, PID: 43, ExecID: "node-a:300:43", ServerIP: "10.0.0.9", ServerPort: 80, Session: sess},
		{Time: 5, Source: field.Cmd, PID: 44, Cmdline: "sh x", ExecID: "node-a:500:44", ParentExecID: sess, Session: sess},
		{Time: 6, Source: field.Cmd, PID: 44, Cmdline: "python3 x.py", ExecID: "node-a:500:44", ParentExecID: sess, Session: sess},
	})
	fmt.Printf("session %s by %s\n", s.ID, s.KubeExec().K8sUser)
	for _, it := range s.Flatten() {
		p := it.Process
		note := ""
		if p.Exec {
			note = " (exec)"
		}
		fmt.Printf("%s%d %s%s\n", it.Branch(), p.Record.PID, p.Record.Cmdline, note)
		for _, c := range p.Conns {
			fmt.Printf("%s→ %s:%d\n", it.Stem(), c.ServerIP, c.ServerPort)
		}
	}
	// Output:
	// session node-a:100:42 by alice
	// 42 sh
	// ├─ 43 wget http://x/
	// │     → 10.0.0.9:80
	// └─ 44 sh x
	//    └─ 44 python3 x.py (exec)
}
