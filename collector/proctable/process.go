package proctable

import "strconv"

// Process is one process execution as records carry it.
type Process struct {
	TGID      uint32 // host pid
	StartTime uint64 // boot ns (10 ms resolution for processes read from /proc)
	// ExecID is "<node>:<start ns>:<pid>"; ParentExecID the parent's ("" when
	// the parent is not known: pid 1, or a process read from /proc whose
	// parent had gone).
	ExecID, ParentExecID string
	PPID                 uint32
	Comm, Exe, Cwd       string
	UID, GID, LoginUID   uint32
	TTY                  string
	CgroupID             uint64
	PidNS, NSPID         uint32
	// ShellID is the pid of the oldest shell ancestor (the process itself
	// when it is that shell), ShellDistance the generations to it; 0/0 when
	// there is none. The chain stops at a pid namespace boundary.
	ShellID       uint32
	ShellDistance uint32
	// Session is the ExecID of the entry process of the exec session the
	// process is in ("" for none); SessionEntry is true on that entry.
	Session      string
	SessionEntry bool
	// ExecAuditID is KUBERNETES_EXEC_AUDIT_ID, the process's own or, failing
	// that, its session's.
	ExecAuditID string
	Exited      bool
}

// key identifies a process execution: pid reuse makes a new key.
type key struct {
	start uint64
	tgid  uint32
}

func (k key) zero() bool { return k.tgid == 0 && k.start == 0 }

// entry flags.
const (
	flagExited    uint8 = 1 << iota
	flagEntry           // the entry process of its session
	flagInit            // a container's init
	flagApprox          // start time read from /proc: clock-tick resolution
	flagParent          // parent is known
	flagShellSelf       // the process is its own shell (no shell ancestor)
)

// entry is a process as the table keeps it: compact, ids as keys and
// strings interned, a Process made from it on demand.
type entry struct {
	key
	parent             key // parent.tgid is the ppid; parent.start is valid with flagParent
	session            key // zero: none
	comm, exe, cwd     string
	tty, auditID       string
	cgroupID           uint64
	exitTime           uint64 // boot ns
	uid, gid, loginUID uint32
	pidNS, nsPID       uint32
	shellID, shellDist uint32
	flags              uint8
	prev, next         *entry // in the live or the exited list
}

func (e *entry) has(f uint8) bool { return e.flags&f != 0 }

// execID formats "<node>:<start>:<pid>".
func execID(node string, k key) string {
	var buf [96]byte // one allocation, the string, for node names up to 56 bytes
	b := append(buf[:0], node...)
	b = append(b, ':')
	b = strconv.AppendUint(b, k.start, 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(k.tgid), 10)
	return string(b)
}

// view makes the record-ready Process of an entry.
func (t *Table) view(e *entry) Process {
	p := Process{
		TGID:          e.tgid,
		StartTime:     e.start,
		ExecID:        execID(t.cfg.Node, e.key),
		PPID:          e.parent.tgid,
		Comm:          e.comm,
		Exe:           e.exe,
		Cwd:           e.cwd,
		UID:           e.uid,
		GID:           e.gid,
		LoginUID:      e.loginUID,
		TTY:           e.tty,
		CgroupID:      e.cgroupID,
		PidNS:         e.pidNS,
		NSPID:         e.nsPID,
		ShellID:       e.shellID,
		ShellDistance: e.shellDist,
		SessionEntry:  e.has(flagEntry),
		ExecAuditID:   e.auditID,
		Exited:        e.has(flagExited),
	}
	if e.has(flagParent) {
		pk := e.parent
		// A parent read from /proc after the child's event named it by
		// its exact start: name it as the table does.
		if pe := t.find(pk); pe != nil {
			pk = pe.key
		}
		p.ParentExecID = execID(t.cfg.Node, pk)
	}
	if !e.session.zero() {
		if e.session == e.key {
			p.Session = p.ExecID
		} else {
			p.Session = execID(t.cfg.Node, e.session)
		}
	}
	return p
}
