package proctable

import (
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/activityaudit/activityaudit/collector/event"
)

// Bootstrap reads the processes alive now from ProcRoot and applies them as
// execs, parents first, so ancestry, shells and sessions come out as the
// event path makes them. A process that vanishes while read, or whose parent
// cannot be read, gets what can be known. Kernel threads are left out.
// Start times are in /proc's clock ticks (10 ms); later events with exact
// start times find these processes by their tick. It may run before or
// after events have started to flow: a process already known from events
// is left as they made it.
func (t *Table) Bootstrap() error {
	procs, err := t.readAll()
	if err != nil {
		return err
	}
	order := make([]*procInfo, 0, len(procs))
	for _, p := range procs {
		order = append(order, p)
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].startTicks != order[j].startTicks {
			return order[i].startTicks < order[j].startTicks
		}
		return order[i].pid < order[j].pid
	})

	t.mu.Lock()
	defer t.mu.Unlock()
	done := make(map[uint32]bool, len(order))
	for _, p := range order {
		t.bootstrapOne(p, procs, done, 0)
	}
	return nil
}

// maxDepth bounds the parent-first recursion (a pid loop could only come
// from pid reuse while reading).
const maxDepth = 4096

// bootstrapOne applies p after its parent.
func (t *Table) bootstrapOne(p *procInfo, procs map[uint32]*procInfo, done map[uint32]bool, depth int) {
	if done[p.pid] {
		return
	}
	done[p.pid] = true
	parent := procs[p.ppid]
	if parent != nil && depth < maxDepth {
		t.bootstrapOne(parent, procs, done, depth+1)
	}
	if e := t.byPID[p.pid]; e != nil && e.start/clockTick == p.startTicks {
		return // known from events already, which tell more
	}
	ev := &event.Exec{
		StartTime: p.startTicks * clockTick,
		TGID:      p.pid,
		PID:       p.pid,
		UID:       p.uid,
		GID:       p.gid,
		LoginUID:  p.loginUID,
		TTY:       p.tty,
		Comm:      p.comm,
		Exe:       p.exe,
		Args:      p.args,
		Cwd:       p.cwd,
		CgroupID:  p.cgroupID,
		PidNS:     p.pidNS,
		NSPID:     p.nsPID,
	}
	if parent != nil {
		ev.PPID = parent.pid
		ev.ParentStartTime = parent.startTicks * clockTick
		ev.ParentPidNS = parent.pidNS
	}
	e := t.exec(ev, true)
	if parent == nil && p.ppid != 0 && !e.has(flagParent) {
		e.parent = key{tgid: p.ppid} // the pid is known, its execution is not
	}
}

// readAll reads every user-space process in ProcRoot.
func (t *Table) readAll() (map[uint32]*procInfo, error) {
	ents, err := os.ReadDir(t.cfg.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("read proc: %w", err)
	}
	procs := make(map[uint32]*procInfo, len(ents))
	for _, d := range ents {
		pid, err := strconv.ParseUint(d.Name(), 10, 32)
		if err != nil || !d.IsDir() {
			continue
		}
		p, err := readProc(t.cfg.ProcRoot, t.cfg.CgroupRoot, uint32(pid))
		if err != nil || p.kthread {
			continue // gone while reading, or a kernel thread
		}
		procs[p.pid] = &p
	}
	return procs, nil
}
