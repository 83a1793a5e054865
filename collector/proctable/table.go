package proctable

import (
	"sync"
)

// Table is the node's processes. Exec, Fork, Exit and Bootstrap are for one
// goroutine (the pipeline); Lookup and Len may be called from others.
type Table struct {
	cfg Config

	mu    sync.RWMutex
	procs map[key]*entry
	// byPID is the latest execution of each pid (exited or not).
	byPID map[uint32]*entry
	// live and exited are lists in the order entries came and exited: the
	// eviction and expiry orders.
	live, exited list
	// inits remembers the containers whose init was seen.
	inits initSet
	// ctrInit is the init of each container with one in the table.
	ctrInit map[ctrRef]*entry
	// strs interns the strings many processes share.
	strs interner
	// now is the latest event time (boot ns), for expiry.
	now uint64
}

// New makes an empty table; Bootstrap fills it from /proc.
func New(cfg Config) (*Table, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	return &Table{
		cfg:     cfg,
		procs:   make(map[key]*entry),
		byPID:   make(map[uint32]*entry),
		inits:   newInitSet(maxInits(cfg.MaxProcesses)),
		ctrInit: make(map[ctrRef]*entry),
		strs:    newInterner(maxInterned),
	}, nil
}

// maxInits bounds the remembered container inits: a container needs at
// least one process, so more than one per process slot is never useful.
func maxInits(maxProcs int) int { return max(1024, min(maxProcs, 1<<16)) }

// maxInterned bounds the interned strings.
const maxInterned = 8192

// Len is the number of processes kept, exited ones included.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.procs)
}

// Lookup finds a process by pid and start time (boot ns), or with startTime
// 0 the latest process that had the pid, exited or not. A start time in the
// clock tick of a process read from /proc finds it.
func (t *Table) Lookup(tgid uint32, startTime uint64) (Process, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var e *entry
	if startTime == 0 {
		e = t.byPID[tgid]
	} else {
		e = t.find(key{tgid: tgid, start: startTime})
	}
	if e == nil {
		return Process{}, false
	}
	return t.view(e), true
}

// clockTick is a /proc start time's unit: USER_HZ is 100 on Linux.
const clockTick = 10_000_000

// find is the entry of an execution: by its exact key, or, for one read
// from /proc, by the tick its exact start time falls in.
func (t *Table) find(k key) *entry {
	if e := t.procs[k]; e != nil {
		return e
	}
	tick := key{tgid: k.tgid, start: k.start - k.start%clockTick}
	if e := t.procs[tick]; e != nil && e.has(flagApprox) {
		return e
	}
	return nil
}

// add puts a new entry in, evicting to keep the bound. An entry for the
// same pid that started earlier has exited (the pid was reused).
func (t *Table) add(e *entry) {
	for len(t.procs) >= t.cfg.MaxProcesses {
		if !t.evictOne() {
			break
		}
	}
	if old := t.byPID[e.tgid]; old != nil && !old.has(flagExited) {
		t.markExited(old, t.now)
	}
	t.procs[e.key] = e
	t.byPID[e.tgid] = e
	t.live.pushBack(e)
}

// evictOne drops the oldest exited entry, else the oldest.
func (t *Table) evictOne() bool {
	e := t.exited.front()
	if e == nil {
		e = t.live.front()
	}
	if e == nil {
		return false
	}
	t.remove(e)
	return true
}

func (t *Table) remove(e *entry) {
	if e.has(flagExited) {
		t.exited.remove(e)
	} else {
		t.live.remove(e)
	}
	delete(t.procs, e.key)
	if t.byPID[e.tgid] == e {
		delete(t.byPID, e.tgid)
	}
	if e.has(flagInit) {
		if ref, _ := t.container(e.pidNS, e.cgroupID); t.ctrInit[ref] == e {
			delete(t.ctrInit, ref)
		}
	}
}

// ContainerInit returns the host pid of the init of a process's container
// (by its pid namespace and cgroup) while that init runs: a process whose
// files (/proc/<pid>/root) are the container's when the process itself is
// already gone.
func (t *Table) ContainerInit(pidNS uint32, cgroupID uint64) (uint32, bool) {
	ref, in := t.container(pidNS, cgroupID)
	if !in {
		return 0, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	e := t.ctrInit[ref]
	if e == nil || e.has(flagExited) {
		return 0, false
	}
	return e.tgid, true
}

func (t *Table) markExited(e *entry, when uint64) {
	if e.has(flagExited) {
		return
	}
	t.live.remove(e)
	e.flags |= flagExited
	e.exitTime = when
	t.exited.pushBack(e)
}

// advance moves the table's clock to an event's time and drops exited
// entries older than the grace period.
func (t *Table) advance(now uint64) {
	if now > t.now {
		t.now = now
	}
	if t.cfg.ExitGrace < 0 {
		return
	}
	grace := uint64(t.cfg.ExitGrace)
	for e := t.exited.front(); e != nil && e.exitTime+grace < t.now; e = t.exited.front() {
		t.remove(e)
	}
}

// list is an intrusive doubly linked list of entries.
type list struct{ head, tail *entry }

func (l *list) front() *entry { return l.head }

func (l *list) pushBack(e *entry) {
	e.prev, e.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = e
	} else {
		l.head = e
	}
	l.tail = e
}

func (l *list) remove(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}
