// Package activitygen makes realistic activity records for benchmarks: 50
// pods in 5 namespaces on 4 hosts, commands (some in exec sessions),
// connections and kube execs, spread evenly over a time range. The same seed
// gives the same records.
package activitygen

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// Generate makes n records over [start, end): 50 pods in 5 namespaces on 4
// hosts; 60% commands (a fifth of them in exec sessions), 37% connections,
// 3% kube execs.
func Generate(n int, start, end time.Time) []record.Record {
	r := rand.New(rand.NewPCG(7, 7))
	type pod struct{ ns, workload, kind, name, container, cid, host string }
	var pods []pod
	for i := range 50 {
		ns := []string{"shop", "payments", "search", "kube-system", "monitoring"}[i%5]
		w := fmt.Sprintf("%s-app-%d", ns, i%10)
		pods = append(pods, pod{ns, w, "Deployment", fmt.Sprintf("%s-%08x-%05d", w, r.Uint32(), i), "main",
			fmt.Sprintf("%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()), fmt.Sprintf("node-%d", i%4)})
	}
	comms := []string{"bash", "sh", "curl", "ls", "cat", "grep", "python3", "nginx", "ps", "apt-get"}
	span := end.Sub(start)
	recs := make([]record.Record, n)
	var session string
	for i := range recs {
		p := pods[r.IntN(len(pods))]
		ts := start.Add(time.Duration(int64(i) * int64(span) / int64(n))).Add(time.Duration(r.IntN(1000)))
		pid := uint64(1000 + i%30000)
		rec := record.Record{Time: ts.UnixNano(), Cluster: "bench", Host: p.host, Namespace: p.ns, Workload: p.workload,
			WorkloadKind: p.kind, Pod: p.name, Container: p.container, ContainerID: p.cid, Image: "registry/" + p.workload + ":1.0",
			ExecID: fmt.Sprintf("%s:%d:%d", p.host, ts.UnixNano()-start.UnixNano(), pid), PID: pid, PPID: pid - 1,
			ParentExecID: fmt.Sprintf("%s:%d:%d", p.host, ts.UnixNano()-start.UnixNano()-1000, pid-1)}
		switch x := r.IntN(100); {
		case x < 60:
			comm := comms[r.IntN(len(comms))]
			rec.Source, rec.Comm, rec.Exe = field.Cmd, comm, "/usr/bin/"+comm
			rec.Cmdline = comm + " --flag value /some/path/" + fmt.Sprint(r.IntN(100))
			rec.Cwd, rec.UID, rec.User, rec.ShellID, rec.ShellDistance = "/var/www", 33, "www-data", pid-1, 1
			if r.IntN(5) == 0 {
				if session == "" || r.IntN(20) == 0 {
					session = rec.ExecID
				}
				rec.Session, rec.TTY, rec.K8sUser = session, "pts/0", "johndoe"
			}
		case x < 97:
			rec.Source, rec.Comm, rec.Exe = field.Net, "curl", "/usr/bin/curl"
			rec.Direction, rec.L4Proto = "out", "tcp"
			rec.ClientIP, rec.ClientPort = fmt.Sprintf("10.0.%d.%d", r.IntN(4), r.IntN(250)), uint64(30000+r.IntN(30000))
			rec.ServerIP, rec.ServerPort = fmt.Sprintf("10.1.%d.%d", r.IntN(4), r.IntN(250)), []uint64{443, 80, 3306, 53}[r.IntN(4)]
		default:
			rec = record.Record{Time: rec.Time, Source: field.KubeExec, Cluster: "bench", Host: p.host, Namespace: p.ns,
				Workload: p.workload, WorkloadKind: p.kind, Pod: p.name, Container: p.container, ContainerID: p.cid,
				Resource: "pods", Name: p.name, Subresource: "exec", Command: "bash", K8sUser: "johndoe",
				K8sGroups: "system:authenticated,dev", UserAgent: "kubectl/v1.33.1", SourceAddresses: "203.0.113.7",
				AuditID: fmt.Sprintf("%032x", r.Uint64()), ResponseCode: 101, ExecStdin: true, ExecTTY: true}
		}
		recs[i] = rec
	}
	return recs
}
