package cli

// The query commands' tests run the real embedded store over HTTP, seeded
// with the records below, and compare each command's output with a golden
// file under testdata/ (go test -run 'Query|Groups|Trace' -update rewrites
// them).

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
	"github.com/activityaudit/activityaudit/pkg/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The seeded records fall between 09:00 and 11:00 UTC on 2026-11-26.
const (
	fromFlag = "--from=2026-11-26T09:00:00Z"
	toFlag   = "--to=2026-11-26T11:00:00Z"
	session  = "node-a:5000000000:4242"
)

func at(hms string) int64 {
	t, err := time.Parse(time.RFC3339Nano, "2026-11-26T"+hms+"Z")
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

// Scopes the records share.
var (
	webA = record.Record{Cluster: "demo", Host: "node-a", HostMAC: "02:42:ac:11:00:02", Namespace: "shop", Workload: "web", WorkloadKind: "Deployment",
		Pod: "web-7d9f-abc", Container: "web", ContainerID: strings.Repeat("a1", 32), Image: "shop/web:1.4"}
	webB = record.Record{Cluster: "demo", Host: "node-b", HostMAC: "02:42:ac:11:00:03", Namespace: "shop", Workload: "web", WorkloadKind: "Deployment",
		Pod: "web-7d9f-def", Container: "web", ContainerID: strings.Repeat("b2", 32), Image: "shop/web:1.4"}
	db0 = record.Record{Cluster: "demo", Host: "node-b", HostMAC: "02:42:ac:11:00:03", Namespace: "shop", Workload: "db", WorkloadKind: "StatefulSet",
		Pod: "db-0", Container: "postgres", ContainerID: strings.Repeat("c3", 32), Image: "postgres:16"}
	dns = record.Record{Cluster: "demo", Host: "node-a", HostMAC: "02:42:ac:11:00:02", Namespace: "kube-system", Workload: "coredns", WorkloadKind: "Deployment",
		Pod: "coredns-5d78c9869d-x2x7k", Container: "coredns", ContainerID: strings.Repeat("d4", 32), Image: "registry.k8s.io/coredns/coredns:v1.11.1"}
	hostA = record.Record{Cluster: "demo", Host: "node-a", HostMAC: "02:42:ac:11:00:02"}
)

func execID(host string, start, pid int) string { return fmt.Sprintf("%s:%d:%d", host, start, pid) }

func cmdRec(sc record.Record, t int64, pid, ppid int, exec, parent, user string, uid int, cmdline string) record.Record {
	r := sc
	r.Time, r.Source = t, field.Cmd
	r.PID, r.PPID, r.UID, r.GID, r.User = uint64(pid), uint64(ppid), uint64(uid), uint64(uid), user
	r.LoginUID = 4294967295
	r.Cmdline = cmdline
	r.Comm = filepath.Base(strings.Fields(cmdline)[0])
	r.Exe = "/usr/bin/" + r.Comm
	r.Cwd = "/"
	r.ExecID, r.ParentExecID = exec, parent
	return r
}

func netRec(sc record.Record, t int64, pid int, comm, exec, dir, proto, client string, cport int, server string, sport int, result string) record.Record {
	r := sc
	r.Time, r.Source = t, field.Net
	r.PID, r.Comm, r.Exe, r.ExecID = uint64(pid), comm, "/usr/bin/"+comm, exec
	r.Direction, r.L4Proto, r.Result = dir, proto, result
	r.ClientIP, r.ClientPort, r.ServerIP, r.ServerPort = client, uint64(cport), server, uint64(sport)
	return r
}

// inSession puts a record in the test session, with the user the collector
// learned from its kube exec.
func inSession(r record.Record) record.Record {
	r.Session = session
	r.K8sUser, r.K8sGroups = "alice@example.com", "dev,system:authenticated"
	if r.Source == field.Cmd {
		r.TTY = "pts/0"
		r.Cwd = "/app"
		r.ShellID = 4242
	}
	return r
}

// activity is the seeded data: a kubectl exec session into web-7d9f-abc
// (children, a re-exec, connections, an orphan), a denied exec, traffic of
// other pods and commands on the host.
func activity() []record.Record {
	var rs []record.Record
	add := func(r ...record.Record) { rs = append(rs, r...) }

	// The session: alice execs bash in web-7d9f-abc.
	k := webA
	k.Time, k.Source = at("10:00:00.000"), field.KubeExec
	k.Resource, k.Name, k.Subresource, k.Command = "pods", "web-7d9f-abc", "exec", "bash"
	k.K8sUser, k.K8sGroups, k.UserAgent, k.SourceAddresses = "alice@example.com", "dev,system:authenticated", "kubectl/v1.31.0 (linux/amd64) kubernetes/abcdef", "203.0.113.7"
	k.AuditID, k.ResponseCode, k.ExecStdin, k.ExecTTY = "7f3c2a9e-1b2d-4c5e-8f90-a1b2c3d4e5f6", 101, true, true
	k.Session = session
	k.ContainerID, k.Image, k.WorkloadKind = "", "", ""
	add(k)

	bash := inSession(cmdRec(webA, at("10:00:00.100"), 4242, 4200, session, execID("node-a", 4000000000, 4200), "root", 0, "bash"))
	bash.SessionEntry = true
	bash.ShellDistance = 0
	add(bash)
	curl := execID("node-a", 9000000000, 4250)
	add(inSession(cmdRec(webA, at("10:00:05.000"), 4250, 4242, curl, session, "root", 0, "curl -s http://api.shop.svc:8080/health")))
	add(inSession(netRec(webA, at("10:00:05.120"), 4250, "curl", curl, "out", "tcp", "10.0.0.5", 44312, "10.0.0.9", 8080, "")))
	add(inSession(netRec(webA, at("10:00:06.000"), 4250, "curl", curl, "out", "tcp", "10.0.0.5", 44313, "10.0.0.9", 8443, "ECONNREFUSED")))
	py := execID("node-a", 11000000000, 4251)
	add(inSession(cmdRec(webA, at("10:00:07.000"), 4251, 4242, py, session, "root", 0, "sh -c exec python3 /tmp/x.py")))
	add(inSession(cmdRec(webA, at("10:00:07.010"), 4251, 4242, py, session, "root", 0, "python3 /tmp/x.py")))
	add(inSession(netRec(webA, at("10:00:08.000"), 4251, "python3", py, "out", "tcp", "10.0.0.5", 51000, "198.51.100.23", 4444, "")))
	add(inSession(cmdRec(webA, at("10:00:09.000"), 4260, 4251, execID("node-a", 13000000000, 4260), py, "root", 0, "id")))
	add(inSession(cmdRec(webA, at("10:00:20.000"), 4300, 4299, execID("node-a", 24000000000, 4300), execID("node-a", 23000000000, 4299), "root", 0, "cat /etc/shadow")))

	// bob may not exec into the database.
	d := db0
	d.Time, d.Source = at("10:04:00.000"), field.KubeExec
	d.Resource, d.Name, d.Subresource, d.Command = "pods", "db-0", "exec", "psql -U postgres"
	d.K8sUser, d.K8sGroups, d.UserAgent, d.SourceAddresses = "bob@example.com", "interns,system:authenticated", "kubectl/v1.30.2", "198.51.100.77"
	d.AuditID, d.ResponseCode = "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", 403
	d.ContainerID, d.Image, d.WorkloadKind = "", "", ""
	add(d)

	// Other activity.
	add(netRec(dns, at("10:00:05.050"), 1800, "coredns", execID("node-a", 100, 1800), "in", "udp", "10.0.0.5", 53000, "10.96.0.10", 53, ""))
	add(netRec(db0, at("10:02:00.000"), 2100, "postgres", execID("node-b", 200, 2100), "in", "tcp", "10.0.0.6", 40000, "10.0.1.8", 5432, ""))
	add(cmdRec(db0, at("10:03:00.000"), 2200, 2100, execID("node-b", 300, 2200), execID("node-b", 200, 2100), "postgres", 999, "pg_dump shop"))
	add(cmdRec(webB, at("10:05:00.000"), 3100, 3000, execID("node-b", 400, 3100), execID("node-b", 350, 3000), "www-data", 33, "nginx -s reload"))
	add(netRec(webB, at("10:05:30.000"), 3000, "nginx", execID("node-b", 350, 3000), "in", "tcp", "2001:db8::7", 52000, "2001:db8::6", 80, ""))
	add(cmdRec(hostA, at("10:10:00.000"), 900, 1, execID("node-a", 500, 900), execID("node-a", 1, 1), "root", 0, "logrotate /etc/logrotate.conf"))
	esc := cmdRec(hostA, at("10:11:00.000"), 901, 1, execID("node-a", 600, 901), execID("node-a", 1, 1), "", 1000, "printf \x1b[2J\x1b[31mgotcha\n")
	add(esc)
	return rs
}

// startStore runs the embedded store on a free port, seeded with recs, and
// returns its URL.
func startStore(t *testing.T, recs []record.Record) string {
	t.Helper()
	return storetest.Start(t, recs)
}

// cliCase is one run of a query command, checked against a golden file.
type cliCase struct {
	name string
	args []string
	code int
}

// runGolden runs the command against the store at base and compares the
// exit code, stdout and stderr with testdata/<dir>/<case name>.golden.
func runGolden(t *testing.T, base, dir string, tt cliCase) {
	t.Helper()
	code, out, errOut := run(append(tt.args, "--loki-url", base)...)
	if code != tt.code {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
	}
	got := fmt.Sprintf("$ collector %s\n-- exit %d --\n-- stdout --\n%s-- stderr --\n%s", shellArgs(tt.args), code, out, errOut)
	path := filepath.Join("testdata", dir, strings.ReplaceAll(tt.name, " ", "_")+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// shellArgs quotes what a shell would need quoted.
func shellArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \"'$\\!*?;&|<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
