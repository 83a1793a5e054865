package proctable

import (
	"github.com/activityaudit/activityaudit/collector/event"
)

// Exec records a process's new program and returns the process as records
// carry it. Its exec_id stays what it was: exec keeps the process's start.
func (t *Table) Exec(ev *event.Exec) Process {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advance(ev.Time)
	return t.view(t.exec(ev, false))
}

// Fork records a new process. Until its own exec it runs its parent's
// program: it inherits the parent's program, credentials, session and
// shell (one generation further).
func (t *Table) Fork(ev *event.Fork) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advance(ev.Time)
	k := key{tgid: ev.ChildTGID, start: ev.ChildStartTime}
	if t.procs[k] != nil {
		return // its exec came first and told more
	}
	e := &entry{
		key:      k,
		parent:   key{tgid: ev.ParentTGID, start: ev.ParentStartTime},
		cgroupID: ev.CgroupID,
		pidNS:    ev.PidNS,
		nsPID:    ev.NSPID,
		flags:    flagParent,
	}
	if parent := t.parent(ev.ParentTGID, ev.ParentStartTime); parent != nil {
		e.parent = parent.key
		e.comm, e.exe, e.cwd = parent.comm, parent.exe, parent.cwd
		e.uid, e.gid, e.loginUID, e.tty = parent.uid, parent.gid, parent.loginUID, parent.tty
		e.session, e.auditID = parent.session, parent.auditID
		inheritShell(e, parent)
	}
	t.add(e)
}

// Exit marks a process exited. It stays for ExitGrace (connections may
// still be attributed to it) or until evicted.
func (t *Table) Exit(ev *event.Exit) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advance(ev.Time)
	var e *entry
	if ev.StartTime == 0 {
		e = t.byPID[ev.TGID]
	} else {
		e = t.find(key{tgid: ev.TGID, start: ev.StartTime})
	}
	if e != nil {
		t.markExited(e, ev.Time)
	}
}

// parent finds a parent by pid and start time (0: the pid's latest).
func (t *Table) parent(tgid uint32, start uint64) *entry {
	if tgid == 0 {
		return nil
	}
	if start == 0 {
		return t.byPID[tgid]
	}
	return t.find(key{tgid: tgid, start: start})
}

// exec applies an exec (or a process read from /proc, approx: its start
// time in clock ticks) and returns the process's entry.
func (t *Table) exec(ev *event.Exec, approx bool) *entry {
	k := key{tgid: ev.TGID, start: ev.StartTime}
	e := t.find(k)
	existed := e != nil

	// The parent is the one the fork saw (the exec's real parent may be a
	// later one, after reparenting), else the exec's. Found before adding:
	// adding may evict it, and what it passes on is still wanted.
	var parent *entry
	if existed && e.has(flagParent) {
		parent = t.find(e.parent)
	} else if ev.PPID != 0 {
		parent = t.parent(ev.PPID, ev.ParentStartTime)
	}
	if !existed {
		e = &entry{key: k}
		if approx {
			e.flags |= flagApprox
		}
		t.add(e)
	}
	if !e.has(flagParent) && ev.PPID != 0 {
		switch {
		case parent != nil:
			e.parent = parent.key
			e.flags |= flagParent
		case ev.ParentStartTime != 0:
			e.parent = key{tgid: ev.PPID, start: ev.ParentStartTime}
			e.flags |= flagParent
		default:
			e.parent = key{tgid: ev.PPID}
		}
	}

	e.comm = t.strs.get(ev.Comm)
	e.exe = t.strs.get(ev.Exe)
	e.cwd = t.strs.get(ev.Cwd)
	e.tty = t.strs.get(ev.TTY)
	e.uid, e.gid, e.loginUID = ev.UID, ev.GID, ev.LoginUID
	e.cgroupID, e.pidNS, e.nsPID = ev.CgroupID, ev.PidNS, ev.NSPID
	if ev.ExecAuditID != "" {
		e.auditID = ev.ExecAuditID
	}

	t.setShell(e, parent, existed, ev.Args)
	parentPidNS := ev.ParentPidNS
	if parentPidNS == 0 && parent != nil {
		parentPidNS = parent.pidNS
	}
	t.classify(e, parent, parentPidNS)
	return e
}
