package proctable

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/activityaudit/activityaudit/collector/container"
	"github.com/activityaudit/activityaudit/collector/event"
)

func TestForkExecExitChain(t *testing.T) {
	h := newHarness(t, Config{})
	initP := h.root("init", 1, "systemd")
	bash := h.spawn("init", "bash", 100, "bash")
	h.fork("bash", "child", 101)

	forked := h.get("child")
	if forked.Comm != "bash" || forked.Exe != "/bin/bash" || forked.ParentExecID != bash.ExecID {
		t.Fatalf("forked child = %+v; want bash's program and parent", forked)
	}
	ls := h.exec("child", "ls", "/bin/ls", "-l")
	h.exit("child")

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"init exec id", initP.ExecID, h.execID("init")},
		{"init has no parent", initP.ParentExecID, ""},
		{"bash parent", bash.ParentExecID, initP.ExecID},
		{"ls exec id is the fork's start", ls.ExecID, fmt.Sprintf("node1:%d:101", h.procs["child"].start)},
		{"ls parent", ls.ParentExecID, bash.ExecID},
		{"ls ppid", ls.PPID, uint32(100)},
		{"ls program", [2]any{ls.Comm, ls.Exe}, [2]any{"ls", "/bin/ls"}},
		{"ls cwd and ids", [4]any{ls.Cwd, ls.UID, ls.GID, ls.LoginUID}, [4]any{"/home/u", uint32(1000), uint32(1000), uint32(1000)}},
		{"ls not exited at exec", ls.Exited, false},
		{"ls exited after exit", h.get("child").Exited, true},
		{"bash still running", h.get("bash").Exited, false},
		{"len", h.tab.Len(), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestPidReuse(t *testing.T) {
	h := newHarness(t, Config{ExitGrace: -1})
	h.root("init", 1, "systemd")
	old := h.spawn("init", "old", 200, "python3")
	h.spawn("old", "oldChild", 201, "worker")
	h.exit("old")
	// The pid comes back for another process; the old one's child keeps
	// its ancestry.
	h.spawn("init", "new", 200, "nginx")
	// A third, whose exit was never seen: the new one replaces it.
	h.spawn("init", "third", 300, "a")
	h.fork("init", "third2", 300)

	newP, oldP := h.get("new"), h.get("old")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"exec ids differ", newP.ExecID != oldP.ExecID, true},
		{"old keeps its program", oldP.Comm, "python3"},
		{"old is exited", oldP.Exited, true},
		{"new is running", newP.Exited, false},
		{"new program", newP.Comm, "nginx"},
		{"old exec id", old.ExecID, oldP.ExecID},
		{"old child parent is the old execution", h.get("oldChild").ParentExecID, old.ExecID},
		{"pid now is the new one", lookup(h.tab, 200, 0).ExecID, newP.ExecID},
		{"unseen exit is implied by reuse", h.get("third").Exited, true},
		{"reused pid latest", lookup(h.tab, 300, 0).ExecID, h.execID("third2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func lookup(tab *Table, pid uint32, start uint64) Process {
	p, _ := tab.Lookup(pid, start)
	return p
}

func TestShell(t *testing.T) {
	type step struct {
		name, comm, exe string
		args            []string
		execOnly        bool // exec in the previous process (no fork)
		newNS           bool // fork into a new pid namespace
	}
	tests := []struct {
		name      string
		chain     []step
		shell     string // the process named, "" for none
		distances []uint32
	}{
		{"bash sh ls", []step{{name: "bash", comm: "bash"}, {name: "sh", comm: "sh"}, {name: "ls", comm: "ls"}}, "bash", []uint32{0, 1, 2}},
		{"shell under non-shells", []step{{name: "sshd", comm: "sshd"}, {name: "bash", comm: "bash"}, {name: "py", comm: "python3"}, {name: "sh", comm: "sh"}, {name: "ls", comm: "ls"}}, "bash", []uint32{0, 0, 1, 2, 3}},
		{"no shell", []step{{name: "a", comm: "nginx"}, {name: "b", comm: "nginx"}}, "", []uint32{0, 0}},
		{"dash as sh", []step{{name: "sh", comm: "sh", exe: "/usr/bin/dash"}, {name: "cat", comm: "cat"}}, "sh", []uint32{0, 1}},
		{"bash by its exe", []step{{name: "b", comm: "weird-name", exe: "/usr/bin/bash"}, {name: "x", comm: "x"}}, "b", []uint32{0, 1}},
		{"busybox as sh", []step{{name: "sh", comm: "sh", exe: "/bin/busybox"}, {name: "ls", comm: "ls", exe: "/bin/busybox"}}, "sh", []uint32{0, 1}},
		{"busybox sh by argument", []step{{name: "bb", comm: "busybox", exe: "/bin/busybox", args: []string{"sh", "-c", "x"}}, {name: "x", comm: "x"}}, "bb", []uint32{0, 1}},
		{"busybox as ls is no shell", []step{{name: "ls", comm: "ls", exe: "/bin/busybox"}}, "", []uint32{0}},
		{"zsh fish tcsh", []step{{name: "zsh", comm: "zsh"}, {name: "fish", comm: "fish"}, {name: "tcsh", comm: "tcsh"}}, "zsh", []uint32{0, 1, 2}},
		{"shell execs a non-shell", []step{{name: "p", comm: "bash"}, {name: "p", comm: "python3", execOnly: true}}, "", []uint32{0, 0}},
		{"non-shell execs a shell keeps its ancestor", []step{{name: "bash", comm: "bash"}, {name: "p", comm: "python3"}, {name: "p", comm: "sh", execOnly: true}}, "bash", []uint32{0, 1, 1}},
		{"stops at a pid namespace", []step{{name: "bash", comm: "bash"}, {name: "runc", comm: "runc"}, {name: "sh", comm: "sh", newNS: true}, {name: "ls", comm: "ls"}}, "sh", []uint32{0, 1, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.root("init", 1, "systemd")
			parent := "init"
			var got []Process
			for i, s := range tt.chain {
				exe := s.exe
				if exe == "" {
					exe = "/bin/" + s.comm
				}
				if !s.execOnly {
					var w []where
					if s.newNS {
						w = append(w, inNS(5000, 1, 77))
					}
					h.fork(parent, s.name, uint32(100+i), w...)
				}
				var p Process
				if len(s.args) > 0 {
					p = h.execWithArgs(s.name, s.comm, exe, s.args)
				} else {
					p = h.exec(s.name, s.comm, exe)
				}
				got = append(got, p)
				parent = s.name
			}
			var wantID uint32
			if tt.shell != "" {
				wantID = h.procs[tt.shell].pid
			}
			last := got[len(got)-1]
			if last.ShellID != wantID {
				t.Errorf("last process shell = %d, want %d (%s)", last.ShellID, wantID, tt.shell)
			}
			var dist []uint32
			for _, p := range got {
				dist = append(dist, p.ShellDistance)
			}
			if !slices.Equal(dist, tt.distances) {
				t.Errorf("distances = %v, want %v", dist, tt.distances)
			}
		})
	}
}

// execWithArgs is exec with argv as given (argv[0] included).
func (h *harness) execWithArgs(name, comm, exe string, argv []string) Process {
	p := h.procs[name]
	ev := &event.Exec{Time: h.tick(), StartTime: p.start, TGID: p.pid, PID: p.pid, Comm: comm, Exe: exe, Args: argv,
		CgroupID: p.cgroup, PidNS: p.pidNS, NSPID: p.nsPID}
	if pp := h.procs[p.parent]; pp != nil {
		ev.PPID, ev.ParentStartTime, ev.ParentPidNS = pp.pid, pp.start, pp.pidNS
	}
	return h.tab.Exec(ev)
}

// Container pid namespaces and cgroups in the session tests.
const (
	ctrNS    = 4026532500
	podNS    = 4026532600
	ctrCg    = 5001
	pauseCg  = 6001
	appCg    = 6002
	hostPIDc = 7001
)

func TestSessions(t *testing.T) {
	type want struct {
		session string // the process named whose exec id is the session; "" none
		entry   bool
	}
	tests := []struct {
		name  string
		cfg   Config
		build func(h *harness)
		want  map[string]want
	}{
		{
			name: "runc run: the init tree has no session",
			build: func(h *harness) {
				h.spawn("host", "runc", 10, "runc")
				h.spawn("runc", "init", 11, "sleep", inNS(ctrNS, 1, ctrCg))
				h.spawn("init", "initChild", 12, "ls")
			},
			want: map[string]want{"runc": {}, "init": {}, "initChild": {}},
		},
		{
			name: "runc exec starts a session its descendants inherit",
			build: func(h *harness) {
				h.spawn("host", "runc", 10, "runc")
				h.spawn("runc", "init", 11, "sleep", inNS(ctrNS, 1, ctrCg))
				h.spawn("host", "runcExec", 20, "runc")
				h.spawn("runcExec", "sh", 21, "sh", inNS(ctrNS, 5, ctrCg))
				h.spawn("sh", "ls", 22, "ls", inNS(ctrNS, 6, ctrCg))
				h.spawn("ls", "grand", 23, "cat", inNS(ctrNS, 7, ctrCg))
				h.fork("sh", "forkOnly", 24, inNS(ctrNS, 8, ctrCg))
			},
			want: map[string]want{
				"init": {}, "runcExec": {},
				"sh":       {"sh", true},
				"ls":       {"sh", false},
				"grand":    {"sh", false},
				"forkOnly": {"sh", false},
			},
		},
		{
			name: "kubectl wrapper shell execs bash and keeps its session",
			build: func(h *harness) {
				h.spawn("host", "runc", 10, "runc")
				h.spawn("runc", "init", 11, "pause", inNS(ctrNS, 1, ctrCg))
				h.spawn("host", "shim", 20, "containerd-shim")
				h.fork("shim", "wrap", 21, inNS(ctrNS, 9, ctrCg))
				h.exec("wrap", "sh", "/bin/sh", "-c", "command -v bash >/dev/null && exec bash || exec sh")
				h.exec("wrap", "bash", "/bin/bash")
				h.spawn("wrap", "top", 22, "top", inNS(ctrNS, 10, ctrCg))
			},
			want: map[string]want{"wrap": {"wrap", true}, "top": {"wrap", false}, "init": {}},
		},
		{
			name: "shared pid namespace pod: each container's first process is its init",
			build: func(h *harness) {
				h.spawn("host", "shim", 10, "containerd-shim")
				h.spawn("shim", "pause", 11, "pause", inNS(podNS, 1, pauseCg))
				h.spawn("shim", "app", 12, "nginx", inNS(podNS, 2, appCg))
				h.spawn("app", "worker", 13, "nginx", inNS(podNS, 3, appCg))
				h.spawn("shim", "execApp", 14, "sh", inNS(podNS, 4, appCg))
				h.spawn("execApp", "execAppChild", 15, "ps", inNS(podNS, 5, appCg))
				h.spawn("shim", "execPause", 16, "sh", inNS(podNS, 6, pauseCg))
			},
			want: map[string]want{
				"pause": {}, "app": {}, "worker": {},
				"execApp":      {"execApp", true},
				"execAppChild": {"execApp", false},
				"execPause":    {"execPause", true},
			},
		},
		{
			name: "nsenter from a host shell is an entry",
			build: func(h *harness) {
				h.spawn("host", "runc", 10, "runc")
				h.spawn("runc", "init", 11, "sleep", inNS(ctrNS, 1, ctrCg))
				h.spawn("host", "bash", 30, "bash")
				h.spawn("bash", "nsenter", 31, "nsenter")
				h.spawn("nsenter", "sh", 32, "sh", inNS(ctrNS, 12, ctrCg))
			},
			want: map[string]want{"bash": {}, "nsenter": {}, "sh": {"sh", true}},
		},
		{
			name: "a new pid namespace inside a session stays in the session",
			build: func(h *harness) {
				h.spawn("host", "runc", 10, "runc")
				h.spawn("runc", "init", 11, "sleep", inNS(ctrNS, 1, ctrCg))
				h.spawn("runc", "sh", 20, "sh", inNS(ctrNS, 5, ctrCg))
				h.spawn("sh", "unshare", 21, "unshare", inNS(ctrNS, 6, ctrCg))
				h.spawn("unshare", "inner", 22, "bash", inNS(4026532999, 1, ctrCg))
			},
			want: map[string]want{"sh": {"sh", true}, "unshare": {"sh", false}, "inner": {"sh", false}},
		},
		{
			name: "host processes have no session",
			build: func(h *harness) {
				h.spawn("host", "sshd", 40, "sshd")
				h.spawn("sshd", "bash", 41, "bash")
			},
			want: map[string]want{"host": {}, "sshd": {}, "bash": {}},
		},
		{
			name: "hostPID container by cgroup: first process is init, a later one an entry",
			cfg:  Config{Containers: ctrLookup{hostPIDc: {ID: "c1", Runtime: container.RuntimeContainerd}}},
			build: func(h *harness) {
				h.spawn("host", "shim", 10, "containerd-shim")
				h.spawn("shim", "agent", 11, "agent", inNS(hostNS, 11, hostPIDc))
				h.spawn("agent", "agentChild", 12, "helper", inNS(hostNS, 12, hostPIDc))
				h.spawn("shim", "exec", 13, "sh", inNS(hostNS, 13, hostPIDc))
				h.spawn("exec", "execChild", 14, "ls", inNS(hostNS, 14, hostPIDc))
			},
			want: map[string]want{
				"agent": {}, "agentChild": {},
				"exec":      {"exec", true},
				"execChild": {"exec", false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.cfg)
			h.root("host", 1, "systemd")
			tt.build(h)
			for name, w := range tt.want {
				got := h.get(name)
				wantSession := ""
				if w.session != "" {
					wantSession = h.execID(w.session)
				}
				if got.Session != wantSession || got.SessionEntry != w.entry {
					t.Errorf("%s: session %q entry %v; want %q entry %v", name, got.Session, got.SessionEntry, wantSession, w.entry)
				}
			}
		})
	}
}

func TestKubectlWrapperKeepsExecID(t *testing.T) {
	h := newHarness(t, Config{})
	h.root("host", 1, "systemd")
	h.spawn("host", "runc", 10, "runc")
	h.spawn("runc", "init", 11, "pause", inNS(ctrNS, 1, ctrCg))
	h.fork("runc", "wrap", 21, inNS(ctrNS, 9, ctrCg))
	h.procs["wrap"].auditID = "audit-123"
	sh := h.exec("wrap", "sh", "/bin/sh", "-c", "command -v bash >/dev/null && exec bash || exec sh")
	h.procs["wrap"].auditID = ""
	bash := h.exec("wrap", "bash", "/bin/bash")
	child := h.spawn("wrap", "ls", 22, "ls", inNS(ctrNS, 10, ctrCg))

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"exec id unchanged by exec", bash.ExecID, sh.ExecID},
		{"session unchanged by exec", bash.Session, sh.Session},
		{"session is its own exec id", bash.Session, bash.ExecID},
		{"still the entry", bash.SessionEntry, true},
		{"bash is its own shell", [2]uint32{bash.ShellID, bash.ShellDistance}, [2]uint32{21, 0}},
		{"audit id kept", bash.ExecAuditID, "audit-123"},
		{"child inherits audit id", child.ExecAuditID, "audit-123"},
		{"child shell", [2]uint32{child.ShellID, child.ShellDistance}, [2]uint32{21, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestEviction(t *testing.T) {
	const max = 10
	h := newHarness(t, Config{MaxProcesses: max, ExitGrace: -1})
	h.root("init", 1, "systemd")
	for i := 0; i < max-1; i++ {
		h.spawn("init", fmt.Sprint("p", i), uint32(100+i), "worker")
	}
	if n := h.tab.Len(); n != max {
		t.Fatalf("Len() = %d, want %d", n, max)
	}
	// Exited ones go first, oldest exit first.
	h.exit("p5")
	h.exit("p2")
	h.spawn("init", "q0", 200, "worker")
	h.spawn("init", "q1", 201, "worker")

	tests := []struct {
		name    string
		proc    string
		present bool
	}{
		{"exited p5 evicted first", "p5", false},
		{"exited p2 evicted second", "p2", false},
		{"live init kept", "init", true},
		{"live p0 kept", "p0", true},
		{"new q0 kept", "q0", true},
		{"new q1 kept", "q1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := h.procs[tt.proc]
			if _, ok := h.tab.Lookup(p.pid, p.start); ok != tt.present {
				t.Errorf("present = %v, want %v", ok, tt.present)
			}
		})
	}
	// With none exited, the oldest goes.
	h.spawn("init", "q2", 202, "worker")
	if _, ok := h.tab.Lookup(1, h.procs["init"].start); ok {
		t.Error("oldest (init) not evicted when none had exited")
	}
	if n := h.tab.Len(); n != max {
		t.Fatalf("Len() = %d, want %d", n, max)
	}
	// The bound holds over many more.
	for i := 0; i < 10*max; i++ {
		h.spawn("q2", fmt.Sprint("r", i), uint32(1000+i), "x")
		if i%3 == 0 {
			h.exit(fmt.Sprint("r", i))
		}
		if n := h.tab.Len(); n > max {
			t.Fatalf("Len() = %d after %d more, want <= %d", n, i+1, max)
		}
	}
	// A child of an evicted parent still names it.
	if _, ok := h.tab.Lookup(202, h.procs["q2"].start); ok {
		t.Fatal("q2 should have been evicted by now")
	}
	if got, want := h.get(fmt.Sprint("r", 10*max-1)).ParentExecID, h.execID("q2"); got != want {
		t.Errorf("ParentExecID after eviction = %q, want %q", got, want)
	}
}

func TestExitGrace(t *testing.T) {
	h := newHarness(t, Config{ExitGrace: 5e6}) // 5 ms of event time: 5 events
	h.root("init", 1, "systemd")
	h.spawn("init", "a", 100, "a")
	h.exit("a")
	if p := h.get("a"); !p.Exited {
		t.Fatal("a not marked exited")
	}
	for i := 0; i < 3; i++ {
		h.spawn("init", fmt.Sprint("b", i), uint32(200+i), "b")
	}
	a := h.procs["a"]
	if _, ok := h.tab.Lookup(a.pid, a.start); ok {
		t.Fatal("exited process kept past the grace period")
	}
	if _, ok := h.tab.Lookup(a.pid, 0); ok {
		t.Fatal("exited process's pid still found past the grace period")
	}
	h.get("init") // live ones stay
}

func TestLookup(t *testing.T) {
	h := newHarness(t, Config{})
	h.root("init", 1, "systemd")
	h.spawn("init", "a", 100, "a")
	a := h.procs["a"]
	// One read from /proc: start time in clock ticks.
	h.tab.mu.Lock()
	h.tab.exec(&event.Exec{TGID: 300, PID: 300, StartTime: 7 * clockTick, Comm: "old"}, true)
	h.tab.mu.Unlock()

	tests := []struct {
		name  string
		pid   uint32
		start uint64
		ok    bool
		comm  string
	}{
		{"exact", a.pid, a.start, true, "a"},
		{"pid only", a.pid, 0, true, "a"},
		{"wrong start", a.pid, a.start + 1, false, ""},
		{"unknown pid", 999, 0, false, ""},
		{"proc process by its tick", 300, 7 * clockTick, true, "old"},
		{"proc process by an exact time in its tick", 300, 7*clockTick + 4_321_000, true, "old"},
		{"proc process outside its tick", 300, 8*clockTick + 1, false, ""},
		{"event process not matched by tick", a.pid, a.start - a.start%clockTick, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := h.tab.Lookup(tt.pid, tt.start)
			if ok != tt.ok || p.Comm != tt.comm {
				t.Errorf("Lookup(%d, %d) = %q, %v; want %q, %v", tt.pid, tt.start, p.Comm, ok, tt.comm, tt.ok)
			}
		})
	}
}

func TestExecBeforeFork(t *testing.T) {
	h := newHarness(t, Config{})
	h.root("init", 1, "systemd")
	h.spawn("init", "bash", 100, "bash")
	// The child's exec arrives before its fork.
	c := &simProc{pid: 101, start: h.tick(), parent: "bash", pidNS: hostNS, nsPID: 101, cgroup: 1}
	h.procs["c"] = c
	p := h.exec("c", "ls", "/bin/ls")
	h.tab.Fork(&event.Fork{Time: h.tick(), ParentTGID: 100, ParentStartTime: h.procs["bash"].start,
		ChildTGID: 101, ChildStartTime: c.start, PidNS: hostNS, NSPID: 101, CgroupID: 1})
	got := h.get("c")
	if got.Comm != "ls" || got.ShellID != 100 || got.ShellDistance != 1 || got.ParentExecID != p.ParentExecID {
		t.Fatalf("after a late fork: %+v", got)
	}
}

func TestConcurrentLookup(t *testing.T) {
	h := newHarness(t, Config{MaxProcesses: 500})
	h.root("init", 1, "systemd")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for pid := uint32(100); pid < 200; pid++ {
					if p, ok := h.tab.Lookup(pid, 0); ok && p.TGID != pid {
						t.Errorf("Lookup(%d) gave pid %d", pid, p.TGID)
					}
				}
				_ = h.tab.Len()
			}
		}()
	}
	for i := 0; i < 2000; i++ {
		name := fmt.Sprint("p", i)
		h.spawn("init", name, uint32(100+i%100), "w")
		h.exit(name)
	}
	close(stop)
	wg.Wait()
}

func TestContainerInit(t *testing.T) {
	h := newHarness(t, Config{})
	h.root("host", 1, "systemd")
	h.spawn("host", "runc", 10, "runc")
	h.spawn("runc", "init", 11, "sleep", inNS(ctrNS, 1, ctrCg))
	h.spawn("host", "runcExec", 20, "runc")
	h.spawn("runcExec", "sh", 21, "sh", inNS(ctrNS, 5, ctrCg))
	h.spawn("host", "shim", 30, "containerd-shim")
	h.spawn("shim", "pause", 31, "pause", inNS(podNS, 1, pauseCg))
	h.spawn("shim", "app", 32, "nginx", inNS(podNS, 2, appCg))
	h.spawn("shim", "execApp", 33, "sh", inNS(podNS, 3, appCg))

	steps := []struct {
		name     string
		before   func()
		pidNS    uint32
		cgroupID uint64
		want     uint32 // 0: none
	}{
		{name: "a container's init", pidNS: ctrNS, cgroupID: ctrCg, want: 11},
		{name: "the host has none", pidNS: hostNS, cgroupID: 1},
		{name: "an unknown pid namespace", pidNS: 4026532777, cgroupID: 999},
		{name: "shared pid namespace: the pause container's own", pidNS: podNS, cgroupID: pauseCg, want: 31},
		{name: "shared pid namespace: the app container's own", pidNS: podNS, cgroupID: appCg, want: 32},
		{name: "an exec'd process does not replace it", before: func() { h.exit("sh") }, pidNS: ctrNS, cgroupID: ctrCg, want: 11},
		{name: "none once the init exited", before: func() { h.exit("init") }, pidNS: ctrNS, cgroupID: ctrCg},
		{name: "the other container's init stays", pidNS: podNS, cgroupID: appCg, want: 32},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		got, ok := h.tab.ContainerInit(s.pidNS, s.cgroupID)
		if got != s.want || ok != (s.want != 0) {
			t.Errorf("%s: ContainerInit(%d, %d) = %d, %v; want %d", s.name, s.pidNS, s.cgroupID, got, ok, s.want)
		}
	}
}
