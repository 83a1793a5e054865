package proctable

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/activityaudit/activityaudit/collector/container"
	"github.com/activityaudit/activityaudit/collector/event"
)

// fakeProc is one /proc/<pid> of a fake proc tree.
type fakeProc struct {
	pid, ppid  uint32
	comm       string
	start      uint64 // clock ticks
	flags      uint64
	tty        uint32
	uid, gid   uint32
	nspid      []uint32 // default: pid
	args       []string
	exe, cwd   string
	pidNS      uint32 // default: hostNS
	cgroup     string // cgroup v2 path, default "/"
	loginuid   string // default "4294967295"
	onlyStat   bool
	noStat     bool
	extraLines string // more /proc/<pid>/cgroup lines, before the v2 one
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func writeFakeProc(t *testing.T, root string, p fakeProc) {
	t.Helper()
	dir := filepath.Join(root, fmt.Sprint(p.pid))
	if err := os.MkdirAll(filepath.Join(dir, "ns"), 0o755); err != nil {
		t.Fatal(err)
	}
	if !p.noStat {
		writeFile(t, filepath.Join(dir, "stat"), fmt.Sprintf(
			"%d (%s) S %d %d %d %d -1 %d 0 0 0 0 0 0 0 0 20 0 1 0 %d 1000 100\n",
			p.pid, p.comm, p.ppid, p.pid, p.pid, p.tty, p.flags, p.start))
	}
	if p.onlyStat || p.noStat {
		return
	}
	nspid := p.nspid
	if nspid == nil {
		nspid = []uint32{p.pid}
	}
	var ns []string
	for _, n := range nspid {
		ns = append(ns, fmt.Sprint(n))
	}
	writeFile(t, filepath.Join(dir, "status"), fmt.Sprintf(
		"Name:\t%s\nState:\tS (sleeping)\nPid:\t%d\nPPid:\t%d\nUid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nNSpid:\t%s\n",
		p.comm, p.pid, p.ppid, p.uid, p.uid+1, p.uid, p.uid, p.gid, p.gid+1, p.gid, p.gid, strings.Join(ns, "\t")))
	writeFile(t, filepath.Join(dir, "cmdline"), strings.Join(p.args, "\x00")+"\x00")
	writeFile(t, filepath.Join(dir, "comm"), p.comm+"\n")
	symlink(t, p.exe, filepath.Join(dir, "exe"))
	symlink(t, p.cwd, filepath.Join(dir, "cwd"))
	pidNS := p.pidNS
	if pidNS == 0 {
		pidNS = hostNS
	}
	symlink(t, fmt.Sprintf("pid:[%d]", pidNS), filepath.Join(dir, "ns", "pid"))
	cg := p.cgroup
	if cg == "" {
		cg = "/"
	}
	writeFile(t, filepath.Join(dir, "cgroup"), p.extraLines+"0::"+cg+"\n")
	lu := p.loginuid
	if lu == "" {
		lu = "4294967295"
	}
	writeFile(t, filepath.Join(dir, "loginuid"), lu)
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return st.Ino
}

const testHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestBootstrapFakeProc(t *testing.T) {
	procRoot, cgRoot := t.TempDir(), t.TempDir()
	ctrPath := "/aatest/" + testHex
	if err := os.MkdirAll(filepath.Join(cgRoot, ctrPath), 0o755); err != nil {
		t.Fatal(err)
	}
	ctrCgID := inode(t, filepath.Join(cgRoot, ctrPath))
	const cns = 4026532181
	procs := []fakeProc{
		{pid: 1, comm: "systemd", start: 1, args: []string{"/sbin/init"}, exe: "/usr/lib/systemd/systemd", cwd: "/"},
		{pid: 2, comm: "kthreadd", start: 1, flags: pfKthread, onlyStat: true},
		{pid: 100, ppid: 1, comm: "sshd", start: 50, args: []string{"sshd: /usr/sbin/sshd -D"}, exe: "/usr/sbin/sshd", cwd: "/"},
		{pid: 101, ppid: 100, comm: "bash", start: 60, tty: 136<<8 | 3, uid: 1000, gid: 1001, loginuid: "1000",
			args: []string{"-bash"}, exe: "/usr/bin/bash", cwd: "/home/u"},
		{pid: 102, ppid: 101, comm: "we ird) x", start: 70, uid: 1000, gid: 1001, loginuid: "1000",
			args: []string{"python3", "-c", "print(1)"}, exe: "/usr/bin/python3.11", cwd: "/home/u/src"},
		{pid: 200, ppid: 1, comm: "containerd-shim", start: 100, args: []string{"containerd-shim"}, exe: "/usr/bin/containerd-shim-runc-v2", cwd: "/"},
		{pid: 201, ppid: 200, comm: "sleep", start: 110, nspid: []uint32{201, 1}, pidNS: cns, cgroup: ctrPath,
			args: []string{"sleep", "1000"}, exe: "/bin/busybox", cwd: "/", extraLines: "4:memory:" + ctrPath + "\n"},
		{pid: 205, ppid: 200, comm: "sh", start: 120, nspid: []uint32{205, 6}, pidNS: cns, cgroup: ctrPath,
			args: []string{"sh", "-c", "sleep 1000; true"}, exe: "/bin/busybox", cwd: "/"},
		{pid: 206, ppid: 205, comm: "sleep", start: 121, nspid: []uint32{206, 7}, pidNS: cns, cgroup: ctrPath,
			args: []string{"sleep", "1000"}, exe: "/bin/busybox", cwd: "/"},
		{pid: 300, ppid: 299, comm: "lost", start: 130, args: []string{"lost"}, exe: "/usr/bin/lost", cwd: "/"},
		{pid: 400, noStat: true},
		{pid: 401, ppid: 1, comm: "bare", start: 140, onlyStat: true},
	}
	for _, p := range procs {
		writeFakeProc(t, procRoot, p)
	}
	symlink(t, "1", filepath.Join(procRoot, "self"))
	if err := os.MkdirAll(filepath.Join(procRoot, "sys"), 0o755); err != nil { // not a pid
		t.Fatal(err)
	}

	tab, err := New(Config{Node: node, ProcRoot: procRoot, CgroupRoot: cgRoot,
		Containers: container.NewResolver(cgRoot, container.WithRescanInterval(0))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if tab.cfg.HostPidNS != hostNS {
		t.Fatalf("HostPidNS = %d, want %d (from self/ns/pid)", tab.cfg.HostPidNS, hostNS)
	}
	if err := tab.Bootstrap(); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	get := func(pid uint32) Process {
		t.Helper()
		p, ok := tab.Lookup(pid, 0)
		if !ok {
			t.Fatalf("pid %d not found", pid)
		}
		return p
	}
	id := func(pid uint32, ticks uint64) string { return fmt.Sprintf("node1:%d:%d", ticks*clockTick, pid) }

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"len: kernel threads and unreadable left out", tab.Len(), 10},
		{"init exec id", get(1).ExecID, id(1, 1)},
		{"init parent", get(1).ParentExecID, ""},
		{"init program", [2]any{get(1).Comm, get(1).Exe}, [2]any{"systemd", "/usr/lib/systemd/systemd"}},
		{"init pid ns", get(1).PidNS, uint32(hostNS)},
		{"root cgroup id", get(1).CgroupID, inode(t, cgRoot)},
		{"sshd parent", get(100).ParentExecID, id(1, 1)},
		{"bash tty", get(101).TTY, "pts/3"},
		{"bash real ids", [3]uint32{get(101).UID, get(101).GID, get(101).LoginUID}, [3]uint32{1000, 1001, 1000}},
		{"bash is its own shell", [2]uint32{get(101).ShellID, get(101).ShellDistance}, [2]uint32{101, 0}},
		{"bash cwd", get(101).Cwd, "/home/u"},
		{"odd comm parsed", get(102).Comm, "we ird) x"},
		{"python argv read (for shell detection)", fmt.Sprint(readArgs(t, procRoot, cgRoot, 102)), "[python3 -c print(1)]"},
		{"python shell", [2]uint32{get(102).ShellID, get(102).ShellDistance}, [2]uint32{101, 1}},
		{"python parent", get(102).ParentExecID, id(101, 60)},
		{"loginuid unset", get(100).LoginUID, ^uint32(0)},
		{"container init ns pid", get(201).NSPID, uint32(1)},
		{"container init cgroup id", get(201).CgroupID, ctrCgID},
		{"container init has no session", [2]any{get(201).Session, get(201).SessionEntry}, [2]any{"", false}},
		{"exec'd sh is an entry", [2]any{get(205).Session, get(205).SessionEntry}, [2]any{id(205, 120), true}},
		{"exec'd sh child inherits", [2]any{get(206).Session, get(206).SessionEntry}, [2]any{id(205, 120), false}},
		{"container shell chain starts in the container", [2]uint32{get(206).ShellID, get(206).ShellDistance}, [2]uint32{205, 1}},
		{"lost parent: ppid known, exec id not", [2]any{get(300).PPID, get(300).ParentExecID}, [2]any{uint32(299), ""}},
		{"bare process: what stat gives", [3]any{get(401).Comm, get(401).Exe, get(401).ParentExecID}, [3]any{"bare", "", id(1, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if _, ok := tab.Lookup(2, 0); ok {
		t.Error("kernel thread kthreadd in the table")
	}

	// Events after Bootstrap carry exact start times; they find the
	// processes read from /proc by their tick.
	t.Run("events after bootstrap", func(t *testing.T) {
		exact205 := uint64(120*clockTick + 3_456_789)
		tab.Fork(&event.Fork{Time: 2e9, ParentTGID: 205, ParentStartTime: exact205, ChildTGID: 207, ChildStartTime: 2e9,
			CgroupID: ctrCgID, PidNS: cns, NSPID: 8})
		child := tab.Exec(&event.Exec{Time: 2e9 + 1, StartTime: 2e9, TGID: 207, PID: 207, PPID: 205, ParentStartTime: exact205,
			Comm: "ls", Exe: "/bin/busybox", Args: []string{"ls"}, CgroupID: ctrCgID, PidNS: cns, NSPID: 8, ParentPidNS: cns})
		if child.ParentExecID != id(205, 120) || child.Session != id(205, 120) || child.SessionEntry {
			t.Errorf("child of a /proc process: parent %q session %q entry %v", child.ParentExecID, child.Session, child.SessionEntry)
		}
		if child.ShellID != 205 || child.ShellDistance != 1 {
			t.Errorf("child shell %d/%d, want 205/1", child.ShellID, child.ShellDistance)
		}
		tab.Exit(&event.Exit{Time: 2e9 + 2, TGID: 206, StartTime: 121*clockTick + 999})
		if !get(206).Exited {
			t.Error("exit with an exact start time did not find the /proc process")
		}
		p := tab.Exec(&event.Exec{Time: 2e9 + 3, StartTime: 60*clockTick + 5, TGID: 101, PID: 101, PPID: 100,
			ParentStartTime: 50*clockTick + 7, Comm: "vim", Exe: "/usr/bin/vim", PidNS: hostNS, ParentPidNS: hostNS})
		if p.ExecID != id(101, 60) || p.ParentExecID != id(100, 50) {
			t.Errorf("exec in a /proc process: exec id %q parent %q; want them unchanged", p.ExecID, p.ParentExecID)
		}
	})
}

func TestBootstrapRealProc(t *testing.T) {
	tab, err := New(Config{Node: "real"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := tab.Bootstrap(); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	self, ok := tab.Lookup(uint32(os.Getpid()), 0)
	if !ok {
		t.Fatalf("own pid %d not in the table (%d processes)", os.Getpid(), tab.Len())
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	parent, ok := tab.Lookup(uint32(os.Getppid()), 0)
	if !ok {
		t.Fatalf("parent pid %d not in the table", os.Getppid())
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	cgPath, _ := unifiedPath(b)
	wantComm := filepath.Base(exe)
	if len(wantComm) > 15 {
		wantComm = wantComm[:15]
	}

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"exe", self.Exe, exe},
		{"cwd", self.Cwd, cwd},
		{"ppid", self.PPID, uint32(os.Getppid())},
		{"parent exec id", self.ParentExecID, parent.ExecID},
		{"argv read", slices.Equal(readArgs(t, "/proc", "/sys/fs/cgroup", uint32(os.Getpid())), os.Args), true},
		{"comm", self.Comm, wantComm},
		{"uid", self.UID, uint32(os.Getuid())},
		{"host pid namespace", self.PidNS, tab.cfg.HostPidNS},
		{"no session on the host", self.Session, ""},
		{"cgroup id", self.CgroupID, inode(t, filepath.Join(container.DefaultRoot(), cgPath))},
		{"start time in ticks", self.StartTime%clockTick == 0 && self.StartTime > 0, true},
		{"exec id", self.ExecID, fmt.Sprintf("real:%d:%d", self.StartTime, os.Getpid())},
		{"not exited", self.Exited, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestBootstrapAfterEvents(t *testing.T) {
	procRoot := t.TempDir()
	for _, p := range []fakeProc{
		{pid: 1, comm: "systemd", start: 1, args: []string{"/sbin/init"}, exe: "/sbin/init", cwd: "/"},
		{pid: 50, ppid: 1, comm: "bash", start: 40, args: []string{"bash"}, exe: "/bin/bash", cwd: "/"},
		{pid: 51, ppid: 50, comm: "proc-name", start: 41, args: []string{"x"}, exe: "/bin/x", cwd: "/"},
	} {
		writeFakeProc(t, procRoot, p)
	}
	tab, err := New(Config{Node: node, ProcRoot: procRoot, HostPidNS: hostNS, CgroupRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// Events came first: pid 51's exec, with its exact start time.
	exact := uint64(41*clockTick + 2_500_000)
	tab.Exec(&event.Exec{Time: 5e9, StartTime: exact, TGID: 51, PID: 51, PPID: 50, ParentStartTime: 40*clockTick + 1,
		Comm: "event-name", Exe: "/bin/y", PidNS: hostNS, ParentPidNS: hostNS})
	if err := tab.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	p, _ := tab.Lookup(51, 0)
	bash, _ := tab.Lookup(50, 0)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"one entry per process", tab.Len(), 3},
		{"the event's exec id stays", p.ExecID, fmt.Sprintf("node1:%d:51", exact)},
		{"the event's program stays", p.Comm, "event-name"},
		{"not marked exited", p.Exited, false},
		{"bash read from proc", bash.ExecID, fmt.Sprintf("node1:%d:50", 40*clockTick)},
		{"parent named as the table names it", p.ParentExecID, bash.ExecID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

// readArgs is a process's argv as Bootstrap reads it from /proc.
func readArgs(t *testing.T, procRoot, cgroupRoot string, pid uint32) []string {
	t.Helper()
	p, err := readProc(procRoot, cgroupRoot, pid)
	if err != nil {
		t.Fatalf("read pid %d: %v", pid, err)
	}
	return p.args
}
