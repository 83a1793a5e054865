package proctable

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/collector/container"
	"github.com/activityaudit/activityaudit/collector/internal/runctest"
)

func readComm(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(b))
}

func readPPid(pid int) int {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	var p procInfo
	if parseStat(b, &p) != nil {
		return 0
	}
	return int(p.ppid)
}

// TestRealContainer runs a busybox container with runc (init `sleep 1000`),
// runc-execs `sh -c "sleep 1000; true"` into it (and, detached,
// `sleep 999`), bootstraps a table from
// the real /proc and checks sessions and container identity. runc 1.1 on
// this hybrid host puts the container in the cgroup v2 (unified) hierarchy
// as well as the v1 controllers, so its processes have a cgroup v2 id that
// resolves to the container.
func TestRealContainer(t *testing.T) {
	e := runctest.New(t, runctest.Options{})
	e.Run()
	runcExec := e.Exec("sh", "-c", "sleep 1000; true")

	// A detached exec: runc exits and the process is reparented outside.
	e.Runc("exec", "--detach", e.ID, "sleep", "999")

	var shPID, sleepPID, detachedPID int
	runctest.WaitFor(t, "the exec'd sh and its sleep", time.Minute, func() bool {
		shPID, sleepPID, detachedPID = 0, 0, 0
		for _, pid := range e.Pids() {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			if string(b) == "sleep\x00999\x00" {
				detachedPID = pid
			}
		}
		for _, pid := range e.Pids() {
			if readComm(pid) == "sh" && readPPid(pid) == runcExec.Process.Pid {
				shPID = pid
			}
		}
		for _, pid := range e.Pids() {
			if shPID != 0 && readComm(pid) == "sleep" && readPPid(pid) == shPID {
				sleepPID = pid
			}
		}
		return shPID != 0 && sleepPID != 0 && detachedPID != 0
	})

	resolver := container.NewResolver("", container.WithRescanInterval(0))
	tab, err := New(Config{Node: "e2e", Containers: resolver})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := tab.Bootstrap(); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	get := func(what string, pid int) Process {
		t.Helper()
		p, ok := tab.Lookup(uint32(pid), 0)
		if !ok {
			t.Fatalf("%s (pid %d) not in the table", what, pid)
		}
		return p
	}
	initP := get("init", e.InitPID)
	sh := get("exec'd sh", shPID)
	sleep := get("sh's sleep", sleepPID)
	runcP := get("runc exec", runcExec.Process.Pid)
	detached := get("detached exec", detachedPID)
	detachedParent := get("detached exec's parent", int(detached.PPID))
	ctr, ctrOK := resolver.Container(initP.CgroupID)
	shCtr, _ := resolver.Container(sh.CgroupID)

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"init is pid 1 in a new pid namespace", [2]any{initP.NSPID, initP.PidNS != tab.cfg.HostPidNS}, [2]any{uint32(1), true}},
		{"init has no session", [2]any{initP.Session, initP.SessionEntry}, [2]any{"", false}},
		{"init program", [2]any{initP.Comm, initP.Exe}, [2]any{"sleep", "/bin/busybox"}},
		{"sh shares the init's pid namespace", sh.PidNS, initP.PidNS},
		{"sh's parent is runc exec", [2]any{sh.PPID, sh.ParentExecID}, [2]any{uint32(runcExec.Process.Pid), runcP.ExecID}},
		{"runc exec is on the host with no session", [2]any{runcP.PidNS, runcP.Session}, [2]any{tab.cfg.HostPidNS, ""}},
		{"exec'd sh is an entry", [2]any{sh.Session, sh.SessionEntry}, [2]any{sh.ExecID, true}},
		{"sh is its own shell", [2]uint32{sh.ShellID, sh.ShellDistance}, [2]uint32{uint32(shPID), 0}},
		{"sleep inherits the session", [2]any{sleep.Session, sleep.SessionEntry}, [2]any{sh.ExecID, false}},
		{"sleep's shell is sh", [2]uint32{sleep.ShellID, sleep.ShellDistance}, [2]uint32{uint32(shPID), 1}},
		{"detached exec's parent is outside", detachedParent.PidNS != initP.PidNS, true},
		{"detached exec is an entry", [2]any{detached.Session, detached.SessionEntry}, [2]any{detached.ExecID, true}},
		{"init has a cgroup v2 id", initP.CgroupID != 0, true},
		{"all in one cgroup", [2]uint64{sh.CgroupID, sleep.CgroupID}, [2]uint64{initP.CgroupID, initP.CgroupID}},
		{"resolver finds the container", ctrOK, true},
		{"container id", ctr.ID, e.HexID},
		{"container runtime", ctr.Runtime, container.RuntimeRunc},
		{"container cgroup path", strings.HasSuffix(ctr.CgroupPath, "/"+e.Parent+"/"+e.HexID), true},
		{"sh resolves to the same container", shCtr.ID, e.HexID},
		{"runc exec is in no container", func() bool { _, ok := resolver.Container(runcP.CgroupID); return ok }(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}
