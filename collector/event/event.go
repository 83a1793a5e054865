// Package event is what the collector's kernel side reports, decoded from
// the eBPF ring buffer into Go: process executions, forks and exits, and
// connections. The process table, session tracking and record assembly
// consume these; nothing here depends on eBPF.
package event

import "net/netip"

// Kind of event.
type Kind uint8

// Kinds.
const (
	KindExec Kind = iota + 1
	KindFork
	KindExit
	KindConn
)

// Event is one kernel event; exactly one of the pointers is set, per Kind.
type Event struct {
	Kind Kind
	Exec *Exec
	Fork *Fork
	Exit *Exit
	Conn *Conn
}

// Times are nanoseconds since boot (bpf_ktime_get_boot_ns /
// task->start_boottime), so they survive suspend and are comparable with
// /proc/<pid>/stat start times.

// Exec is a successful execve/execveat: the new program of a process.
type Exec struct {
	Time      uint64 // boot ns
	StartTime uint64 // the process's (thread group leader's) start time, boot ns
	TGID      uint32 // process id (host pid namespace)
	PID       uint32 // thread id that called exec (equals TGID after exec)
	PPID      uint32 // real parent's tgid (host pid namespace)
	// ParentStartTime is the real parent's start time, boot ns: with PPID
	// it identifies the parent even after pid reuse.
	ParentStartTime uint64
	UID, GID        uint32
	LoginUID        uint32 // 4294967295 when unset
	// TTY is the controlling terminal's name ("pts/0"), empty when none.
	TTY  string
	Comm string // task comm after exec (at most 15 bytes)
	// Exe is the executable's path as the kernel resolved it (the binary, not a symlink to it).
	Exe string
	// Args is argv, bounded; ArgsTruncated is true when it was cut.
	Args          []string
	ArgsTruncated bool
	// Cwd is the working directory, resolved in the kernel at exec time.
	Cwd      string
	CgroupID uint64 // cgroup v2 id
	// PidNS is the inode of the process's pid namespace; NSPID its pid there.
	PidNS uint32
	NSPID uint32
	// ParentPidNS is the inode of the real parent's pid namespace.
	ParentPidNS uint32
	// ExecAuditID is KUBERNETES_EXEC_AUDIT_ID from the environment, when the
	// kernel side looked for it and found it (container-entry processes).
	ExecAuditID string
}

// Fork is a new process (not a thread).
type Fork struct {
	Time            uint64
	ParentTGID      uint32
	ParentStartTime uint64
	ChildTGID       uint32
	ChildStartTime  uint64
	CgroupID        uint64
	PidNS           uint32
	NSPID           uint32
}

// Exit is the end of a process (its thread group).
type Exit struct {
	Time      uint64
	TGID      uint32
	StartTime uint64
	ExitCode  uint32
}

// ConnOp is what a connection event records.
type ConnOp uint8

// Connection operations.
const (
	OpConnect    ConnOp = iota + 1 // outgoing TCP connect (Result: 0, or -errno such as -ECONNREFUSED)
	OpAccept                       // TCP connection accepted, in the accepting process
	OpUDPConnect                   // connect() on a UDP socket
	OpUDPSend                      // first send on an unconnected UDP socket to a destination
)

// Conn is a network connection made or accepted by a process.
type Conn struct {
	Time      uint64
	TGID      uint32
	StartTime uint64 // the process's start time
	Comm      string
	Op        ConnOp
	Proto     string // "tcp" or "udp"
	// Local and Remote ends; for IPv4-mapped IPv6 sockets, the IPv4 address.
	Local, Remote netip.AddrPort
	// Result is 0 for success, else a negative errno (connect only).
	Result   int32
	CgroupID uint64
}

// Drops are counts the kernel side keeps of what it could not report.
type Drops struct {
	// RingFull counts events lost because the ring buffer was full, by kind.
	RingFull map[Kind]uint64
}
