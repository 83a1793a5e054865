package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/activityaudit/activityaudit/collector/container"
	"github.com/activityaudit/activityaudit/collector/hostinfo"
	"github.com/activityaudit/activityaudit/collector/internal/runctest"
	"github.com/activityaudit/activityaudit/collector/kernel"
	"github.com/activityaudit/activityaudit/collector/pipeline"
	"github.com/activityaudit/activityaudit/collector/proctable"
	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// recordWait bounds each wait for records; they normally come within
// milliseconds of what made them.
const recordWait = 10 * time.Second

// collected is a sink keeping every record, safe to read while the
// pipeline writes.
type collected struct {
	mu   sync.Mutex
	recs []record.Record
}

func (c *collected) Write(_ context.Context, r *record.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, *r)
	return nil
}

// find returns the records match accepts, in order.
func (c *collected) find(match func(*record.Record) bool) []record.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []record.Record
	for i := range c.recs {
		if match(&c.recs[i]) {
			out = append(out, c.recs[i])
		}
	}
	return out
}

// waitOne waits for the first record match accepts; when none comes it
// fails the test, listing the last records.
func (c *collected) waitOne(t *testing.T, what string, match func(*record.Record) bool) record.Record {
	t.Helper()
	for deadline := time.Now().Add(recordWait); ; time.Sleep(20 * time.Millisecond) {
		if found := c.find(match); len(found) > 0 {
			return found[0]
		}
		if time.Now().After(deadline) {
			break
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, r := range c.recs[max(0, len(c.recs)-100):] {
		b.Write(pipeline.AppendJSON(nil, &r))
		b.WriteByte('\n')
	}
	t.Fatalf("no record of %s after %v; the last of %d records:\n%s", what, recordWait, len(c.recs), b.String())
	return record.Record{}
}

// mountKernelFS mounts tracefs and debugfs when missing: the syscall
// tracepoints are found through them.
func mountKernelFS(t *testing.T) {
	t.Helper()
	for _, fs := range []struct{ typ, dir string }{{"tracefs", "/sys/kernel/tracing"}, {"debugfs", "/sys/kernel/debug"}} {
		if exec.Command("mountpoint", "-q", fs.dir).Run() == nil {
			continue
		}
		if out, err := exec.Command("mount", "-t", fs.typ, fs.typ, fs.dir).CombinedOutput(); err != nil {
			t.Fatalf("mount %s: %v: %s", fs.dir, err, out)
		}
	}
}

// startCapture runs the capture path as `collector run` wires it — process
// table bootstrapped from /proc, eBPF programs, container resolver,
// pipeline — into a collecting sink, until the test ends.
func startCapture(t *testing.T) (*collected, hostinfo.Info) {
	t.Helper()
	mountKernelFS(t)
	host, err := hostinfo.Read()
	if err != nil {
		t.Fatal(err)
	}
	table, err := proctable.New(proctable.Config{Node: host.Host})
	if err != nil {
		t.Fatal(err)
	}
	if err := table.Bootstrap(); err != nil {
		t.Fatalf("read running processes: %v", err)
	}
	kc, err := kernel.Open(kernel.Options{ExecAuditID: true})
	if err != nil {
		t.Fatal(err)
	}
	sink := &collected{}
	p, err := pipeline.New(pipeline.Config{Cluster: "e2e", Host: host}, table, container.NewResolver(""), sink)
	if err != nil {
		kc.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var g errgroup.Group
	g.Go(func() error { return p.RunSource(ctx, kc) })
	t.Cleanup(func() {
		cancel()
		if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("capture: %v", err)
		}
		if err := kc.Close(); err != nil {
			t.Errorf("close kernel collector: %v", err)
		}
		if drops, err := kc.Drops(); err == nil {
			for kind, n := range drops.RingFull {
				if n > 0 {
					t.Logf("kernel dropped %d events of kind %d (ring full)", n, kind)
				}
			}
		}
	})
	return sink, host
}

// TestCaptureContainer runs the real capture path while a busybox
// container runs under runc: its init tree's commands have no session; a
// `runc exec` starts one, and the commands and the connection made in it
// carry it, with the container's id.
func TestCaptureContainer(t *testing.T) {
	if err := runctest.Available(); err != nil {
		t.Skipf("the capture end-to-end test runs a container: %v", err)
	}
	sink, host := startCapture(t)

	c := runctest.New(t, runctest.Options{
		Init:    []string{"sh", "-c", "while true; do /bin/sleep 1; done"},
		Applets: []string{"sh", "sleep", "ls", "wget"},
		Files:   map[string]string{"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"},
	})
	c.Run()
	cgroupPath := c.CgroupV2Path()
	if cgroupPath == "" {
		t.Fatal("the container has no cgroup v2 path: the kernel side reports cgroup v2 ids")
	}
	wantID, _, ok := container.IDFromPath(cgroupPath)
	if !ok || wantID != c.HexID {
		t.Fatalf("IDFromPath(%q) = %q, %v; want the cgroupsPath's id %s", cgroupPath, wantID, ok, c.HexID)
	}
	inContainer := func(r *record.Record) bool { return r.ContainerID == wantID }
	cmd := func(r *record.Record) bool { return r.Source == field.Cmd && inContainer(r) }

	// The init tree. Commands are run by path: busybox's sh runs an applet
	// named without a path by re-executing /proc/self/exe (its comm is
	// then "exe"), or, for some (ls), without any exec.
	initSh := sink.waitOne(t, "the init's command record", func(r *record.Record) bool {
		return r.Source == field.Cmd && r.PID == uint64(c.InitPID)
	})
	initSleep := sink.waitOne(t, "a sleep of the init's loop", func(r *record.Record) bool {
		return cmd(r) && r.Cmdline == "/bin/sleep 1" && r.PPID == uint64(c.InitPID)
	})

	// An exec session. The script does not end with ls, so that sh forks
	// it rather than exec it in its own process; wget has no -T (busybox
	// 1.35's crashes with it), a refused connect returns at once.
	const script = "echo hi; /bin/wget -q -O- http://127.0.0.1:9/ || true; /bin/ls /; exit 0"
	const auditID = "0b0e7f6c-e2e0-4c9e-9a55-5e55e55e55e5"
	runcExec := c.ExecEnv([]string{"KUBERNETES_EXEC_AUDIT_ID=" + auditID}, "sh", "-c", script)
	sh := sink.waitOne(t, "the exec'd sh", func(r *record.Record) bool {
		return r.Source == field.Cmd && r.PPID == uint64(runcExec.Process.Pid) && r.Cmdline == "sh -c '"+script+"'"
	})
	wget := sink.waitOne(t, "wget", func(r *record.Record) bool {
		return r.Source == field.Cmd && r.PPID == sh.PID && r.Cmdline == "/bin/wget -q -O- http://127.0.0.1:9/"
	})
	ls := sink.waitOne(t, "ls", func(r *record.Record) bool {
		return r.Source == field.Cmd && r.PPID == sh.PID && r.Cmdline == "/bin/ls /"
	})
	conn := sink.waitOne(t, "wget's connection", func(r *record.Record) bool {
		return r.Source == field.Net && r.PID == wget.PID && r.ServerPort == 9
	})
	if t.Failed() {
		return
	}

	type check struct {
		name      string
		got, want any
	}
	var checks []check
	for _, r := range []record.Record{initSleep, sh, wget, ls, conn} {
		name := fmt.Sprintf("%s %s pid %d", r.Source, r.Comm, r.PID)
		checks = append(checks, check{name + ": container_id", r.ContainerID, wantID})
	}
	for _, r := range []record.Record{initSh, initSleep, sh, wget, ls, conn} {
		name := fmt.Sprintf("%s %s pid %d", r.Source, r.Comm, r.PID)
		checks = append(checks,
			check{name + ": cluster, host and host_mac", [3]string{r.Cluster, r.Host, r.HostMAC}, [3]string{"e2e", host.Host, host.MAC}},
			check{name + ": has a time", r.Time > 0, true},
			check{name + ": exec_id is host:start:pid", strings.HasPrefix(r.ExecID, host.Host+":") && strings.HasSuffix(r.ExecID, fmt.Sprintf(":%d", r.PID)), true},
		)
	}
	checks = append(checks,
		check{"host is set", host.Host != "", true},
		check{"init: command line", initSh.Cmdline, `sh -c 'while true; do /bin/sleep 1; done'`},
		check{"init: program", [2]string{initSh.Comm, initSh.Exe}, [2]string{"sh", "/bin/busybox"}},
		check{"init: no session", [2]any{initSh.Session, initSh.SessionEntry}, [2]any{"", false}},
		check{"init's sleep: program", [2]string{initSleep.Comm, initSleep.Exe}, [2]string{"sleep", "/bin/busybox"}},
		check{"init's sleep: parent is the init", initSleep.ParentExecID, initSh.ExecID},
		check{"init's sleep: no session", [2]any{initSleep.Session, initSleep.SessionEntry}, [2]any{"", false}},
		check{"init's sleep: user from the container's passwd", [2]any{initSleep.UID, initSleep.User}, [2]any{uint64(0), "root"}},
		check{"exec'd sh: program and directory", [3]string{sh.Comm, sh.Exe, sh.Cwd}, [3]string{"sh", "/bin/busybox", "/"}},
		check{"exec'd sh: starts a session", [2]any{sh.Session, sh.SessionEntry}, [2]any{sh.ExecID, true}},
		check{"exec'd sh: carries the audit id it was given", sh.AuditID, auditID},
		check{"wget: inherits the session's audit id", wget.AuditID, auditID},
		check{"init: no audit id", initSh.AuditID, ""},
		check{"exec'd sh: its own shell", [2]uint64{sh.ShellID, sh.ShellDistance}, [2]uint64{sh.PID, 0}},
		check{"exec'd sh: user", sh.User, "root"},
		check{"wget: program", [2]string{wget.Comm, wget.Exe}, [2]string{"wget", "/bin/busybox"}},
		check{"wget: child of sh", wget.ParentExecID, sh.ExecID},
		check{"wget: in sh's session", [2]any{wget.Session, wget.SessionEntry}, [2]any{sh.ExecID, false}},
		check{"wget: shell is sh", [2]uint64{wget.ShellID, wget.ShellDistance}, [2]uint64{sh.PID, 1}},
		check{"ls: program", [2]string{ls.Comm, ls.Exe}, [2]string{"ls", "/bin/busybox"}},
		check{"ls: child of sh", ls.ParentExecID, sh.ExecID},
		check{"ls: in sh's session", [2]any{ls.Session, ls.SessionEntry}, [2]any{sh.ExecID, false}},
		check{"connection: wget's", [3]any{conn.Comm, conn.PID, conn.ExecID}, [3]any{"wget", wget.PID, wget.ExecID}},
		check{"connection: in sh's session", [2]any{conn.Session, conn.ParentExecID}, [2]any{sh.ExecID, sh.ExecID}},
		check{"connection: refused connect to 127.0.0.1:9", [5]any{conn.Direction, conn.L4Proto, conn.ServerIP, conn.ServerPort, conn.Result},
			[5]any{"out", "tcp", "127.0.0.1", uint64(9), "ECONNREFUSED"}},
		check{"connection: from loopback", conn.ClientIP, "127.0.0.1"},
	)
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s: got %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	// The container's first record: its init's exec comes milliseconds
	// after runc made its cgroup, so container.Resolver must walk the
	// cgroup tree again on that miss.
	if initSh.ContainerID != wantID {
		t.Errorf("init's record: container_id %q, want %q", initSh.ContainerID, wantID)
	}
	if t.Failed() {
		for _, r := range sink.find(inContainer) {
			t.Logf("%s", pipeline.AppendJSON(nil, &r))
		}
		t.Logf("runc and the container wrote:\n%s", c.Log())
	}
}
