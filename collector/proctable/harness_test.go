package proctable

import (
	"testing"

	"github.com/activityaudit/activityaudit/collector/container"
	"github.com/activityaudit/activityaudit/collector/event"
)

const (
	hostNS = 4026531836
	node   = "node1"
)

// harness drives a table with synthetic events: processes by name, a clock
// that moves 1 ms per event.
type harness struct {
	t     *testing.T
	tab   *Table
	now   uint64
	procs map[string]*simProc
}

type simProc struct {
	pid          uint32
	start        uint64
	parent       string
	pidNS, nsPID uint32
	cgroup       uint64
	comm, exe    string
	args         []string
	auditID      string
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	if cfg.Node == "" {
		cfg.Node = node
	}
	if cfg.HostPidNS == 0 {
		cfg.HostPidNS = hostNS
	}
	if cfg.CgroupRoot == "" {
		cfg.CgroupRoot = t.TempDir()
	}
	tab, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &harness{t: t, tab: tab, now: 1_000_000_000, procs: make(map[string]*simProc)}
}

func (h *harness) tick() uint64 {
	h.now += 1_000_000
	return h.now
}

// where puts a forked child in a pid namespace and cgroup.
type where func(*simProc)

func inNS(pidNS, nsPID uint32, cgroup uint64) where {
	return func(p *simProc) { p.pidNS, p.nsPID, p.cgroup = pidNS, nsPID, cgroup }
}

// root makes a process known by an exec with no parent (pid 1 of the host).
func (h *harness) root(name string, pid uint32, comm string) Process {
	h.procs[name] = &simProc{pid: pid, start: h.tick(), pidNS: hostNS, nsPID: pid, cgroup: 1}
	return h.exec(name, comm, "/sbin/"+comm)
}

// fork makes child from parent; the child is in the parent's namespace and
// cgroup unless told otherwise.
func (h *harness) fork(parent, child string, pid uint32, w ...where) {
	h.t.Helper()
	pp := h.procs[parent]
	if pp == nil {
		h.t.Fatalf("fork: no process %q", parent)
	}
	now := h.tick()
	c := &simProc{pid: pid, start: now, parent: parent, pidNS: pp.pidNS, nsPID: pid, cgroup: pp.cgroup}
	for _, f := range w {
		f(c)
	}
	h.procs[child] = c
	h.tab.Fork(&event.Fork{
		Time: now, ParentTGID: pp.pid, ParentStartTime: pp.start,
		ChildTGID: pid, ChildStartTime: c.start, CgroupID: c.cgroup, PidNS: c.pidNS, NSPID: c.nsPID,
	})
}

// exec runs a program in a process; its parent is the one it was forked
// from unless reparent names another.
func (h *harness) exec(name, comm, exe string, args ...string) Process {
	h.t.Helper()
	p := h.procs[name]
	if p == nil {
		h.t.Fatalf("exec: no process %q", name)
	}
	p.comm, p.exe, p.args = comm, exe, args
	ev := &event.Exec{
		Time: h.tick(), StartTime: p.start, TGID: p.pid, PID: p.pid,
		UID: 1000, GID: 1000, LoginUID: 1000, Comm: comm, Exe: exe, Args: append([]string{comm}, args...),
		Cwd: "/home/u", CgroupID: p.cgroup, PidNS: p.pidNS, NSPID: p.nsPID, ExecAuditID: p.auditID,
	}
	if pp := h.procs[p.parent]; pp != nil {
		ev.PPID, ev.ParentStartTime, ev.ParentPidNS = pp.pid, pp.start, pp.pidNS
	}
	return h.tab.Exec(ev)
}

// spawn is fork then exec.
func (h *harness) spawn(parent, child string, pid uint32, comm string, w ...where) Process {
	h.t.Helper()
	h.fork(parent, child, pid, w...)
	return h.exec(child, comm, "/bin/"+comm)
}

func (h *harness) exit(name string) {
	p := h.procs[name]
	h.tab.Exit(&event.Exit{Time: h.tick(), TGID: p.pid, StartTime: p.start})
}

// get is the table's view of a named process.
func (h *harness) get(name string) Process {
	h.t.Helper()
	p := h.procs[name]
	got, ok := h.tab.Lookup(p.pid, p.start)
	if !ok {
		h.t.Fatalf("Lookup(%s: %d, %d): not found", name, p.pid, p.start)
	}
	return got
}

func (h *harness) execID(name string) string {
	p := h.procs[name]
	return execID(node, key{tgid: p.pid, start: p.start})
}

// ctrLookup is a ContainerLookup from a fixed map.
type ctrLookup map[uint64]container.Info

func (m ctrLookup) Container(id uint64) (container.Info, bool) {
	info, ok := m[id]
	return info, ok
}
