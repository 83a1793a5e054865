package proctable

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/activityaudit/activityaudit/collector/container"
)

// runcEnv is a busybox container run by runc for a test.
type runcEnv struct {
	t        *testing.T
	runc     string
	state    string // runc --root
	bundle   string
	id       string
	parent   string // the cgroup directory above the container's
	hexID    string
	logs     *os.File
	initPID  int
	cgroups  []string // the init's /proc/<pid>/cgroup paths, for clean-up
	execCmds []*exec.Cmd
}

func newRuncEnv(t *testing.T) *runcEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the container test runs as root (CI does)")
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Fatalf("find runc (Debian package runc): %v", err)
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("find busybox (Debian package busybox-static): %v", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	e := &runcEnv{
		t:      t,
		runc:   runc,
		state:  t.TempDir(),
		bundle: t.TempDir(),
		id:     fmt.Sprintf("aatest-%d-%x", os.Getpid(), raw[:4]),
		parent: fmt.Sprintf("aatest-%d-%x", os.Getpid(), raw[4:8]),
		hexID:  hex.EncodeToString(raw),
	}
	logs, err := os.Create(filepath.Join(t.TempDir(), "runc.log"))
	if err != nil {
		t.Fatal(err)
	}
	e.logs = logs
	t.Cleanup(func() { logs.Close() })

	bin := filepath.Join(e.bundle, "rootfs", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(busybox, filepath.Join(bin, "busybox")); err != nil {
		t.Fatal(err)
	}
	for _, applet := range []string{"sh", "sleep"} {
		symlink(t, "busybox", filepath.Join(bin, applet))
	}
	e.writeSpec()
	return e
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("open busybox: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("create busybox copy: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy busybox: %w", err)
	}
	return out.Close()
}

// writeSpec writes config.json: runc's default spec, non-interactive,
// `sleep 1000` as init, a cgroupsPath ending in a 64-hex id. The path is
// relative, so runc puts it under its own cgroup in each hierarchy (and
// this test's processes stay under the cgroups they were started in).
func (e *runcEnv) writeSpec() {
	t := e.t
	e.runcOK("spec", "--bundle", e.bundle)
	path := filepath.Join(e.bundle, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatalf("decode runc spec: %v", err)
	}
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"sleep", "1000"}
	spec["root"] = map[string]any{"path": "rootfs", "readonly": true}
	spec["linux"].(map[string]any)["cgroupsPath"] = e.parent + "/" + e.hexID
	out, err := json.MarshalIndent(spec, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(out))
}

// command is runc with the test's state directory; output goes to the log.
func (e *runcEnv) command(args ...string) *exec.Cmd {
	cmd := exec.Command(e.runc, append([]string{"--root", e.state}, args...)...)
	// Files, not pipes: the container inherits them, and a pipe would
	// keep Wait waiting for as long as the container runs.
	cmd.Stdout, cmd.Stderr = e.logs, e.logs
	return cmd
}

func (e *runcEnv) runcOK(args ...string) {
	e.t.Helper()
	if err := e.command(args...).Run(); err != nil {
		e.t.Fatalf("runc %s: %v\n%s", strings.Join(args, " "), err, e.log())
	}
}

func (e *runcEnv) log() string {
	b, _ := os.ReadFile(e.logs.Name())
	return string(b)
}

// run starts the container detached and registers its clean-up.
func (e *runcEnv) run() {
	t := e.t
	t.Cleanup(e.cleanup)
	e.runcOK("run", "--detach", "--bundle", e.bundle, e.id)
	out, err := exec.Command(e.runc, "--root", e.state, "state", e.id).Output()
	if err != nil {
		t.Fatalf("runc state: %v", err)
	}
	var st struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal(out, &st); err != nil || st.Pid == 0 {
		t.Fatalf("decode runc state %q: %v", out, err)
	}
	e.initPID = st.Pid
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", st.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.SplitN(line, ":", 3); len(f) == 3 {
			e.cgroups = append(e.cgroups, f[2])
		}
	}
}

// exec starts `runc exec` in the foreground (runc stays the parent, as
// containerd-shim's does) and returns it.
func (e *runcEnv) exec(args ...string) *exec.Cmd {
	cmd := e.command(append([]string{"exec", e.id}, args...)...)
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("runc exec: %v", err)
	}
	e.execCmds = append(e.execCmds, cmd)
	return cmd
}

// pids is what `runc ps` lists in the container.
func (e *runcEnv) pids() []int {
	out, err := exec.Command(e.runc, "--root", e.state, "ps", "--format", "json", e.id).Output()
	if err != nil {
		e.t.Fatalf("runc ps: %v", err)
	}
	var pids []int
	if err := json.Unmarshal(out, &pids); err != nil {
		e.t.Fatalf("decode runc ps %q: %v", out, err)
	}
	return pids
}

// waitFor polls until cond holds, failing after a minute (a bound for a
// stuck runc, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: gave up", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *runcEnv) cleanup() {
	_ = e.command("kill", e.id, "KILL").Run()
	for _, cmd := range e.execCmds {
		_ = cmd.Wait()
	}
	_ = e.command("delete", "--force", e.id).Run()
	// runc removes the container's cgroups, not the parent directory the
	// relative cgroupsPath made in each hierarchy.
	mounts, _ := os.ReadDir("/sys/fs/cgroup")
	for _, m := range mounts {
		for _, p := range e.cgroups {
			if filepath.Base(filepath.Dir(p)) != e.parent {
				continue
			}
			_ = os.Remove(filepath.Join("/sys/fs/cgroup", m.Name(), p))
			_ = os.Remove(filepath.Join("/sys/fs/cgroup", m.Name(), filepath.Dir(p)))
		}
	}
	if _, err := os.Stat(filepath.Join(container.DefaultRoot(), e.parent)); err == nil {
		e.t.Errorf("cgroup %s left behind", e.parent)
	}
}

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
	e := newRuncEnv(t)
	e.run()
	runcExec := e.exec("sh", "-c", "sleep 1000; true")

	// A detached exec: runc exits and the process is reparented outside.
	e.runcOK("exec", "--detach", e.id, "sleep", "999")

	var shPID, sleepPID, detachedPID int
	waitFor(t, "the exec'd sh and its sleep", func() bool {
		shPID, sleepPID, detachedPID = 0, 0, 0
		for _, pid := range e.pids() {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			if string(b) == "sleep\x00999\x00" {
				detachedPID = pid
			}
		}
		for _, pid := range e.pids() {
			if readComm(pid) == "sh" && readPPid(pid) == runcExec.Process.Pid {
				shPID = pid
			}
		}
		for _, pid := range e.pids() {
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
	initP := get("init", e.initPID)
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
		{"sh args", fmt.Sprint(sh.Args), "[sh -c sleep 1000; true]"},
		{"sh is its own shell", [2]uint32{sh.ShellID, sh.ShellDistance}, [2]uint32{uint32(shPID), 0}},
		{"sleep inherits the session", [2]any{sleep.Session, sleep.SessionEntry}, [2]any{sh.ExecID, false}},
		{"sleep's shell is sh", [2]uint32{sleep.ShellID, sleep.ShellDistance}, [2]uint32{uint32(shPID), 1}},
		{"detached exec's parent is outside", detachedParent.PidNS != initP.PidNS, true},
		{"detached exec is an entry", [2]any{detached.Session, detached.SessionEntry}, [2]any{detached.ExecID, true}},
		{"init has a cgroup v2 id", initP.CgroupID != 0, true},
		{"all in one cgroup", [2]uint64{sh.CgroupID, sleep.CgroupID}, [2]uint64{initP.CgroupID, initP.CgroupID}},
		{"resolver finds the container", ctrOK, true},
		{"container id", ctr.ID, e.hexID},
		{"container runtime", ctr.Runtime, container.RuntimeRunc},
		{"container cgroup path", strings.HasSuffix(ctr.CgroupPath, "/"+e.parent+"/"+e.hexID), true},
		{"sh resolves to the same container", shCtr.ID, e.hexID},
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
