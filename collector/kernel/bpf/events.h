/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The records the programs write into the ring buffer. These structs are
 * the single definition of the wire format: bpf2go generates the Go
 * mirrors from their BTF (-type), and the Go decoder reads records through
 * those generated types.
 *
 * Every record starts with a u8 kind (enum event_kind). Fields are laid
 * out naturally aligned with explicit padding so the C and Go layouts are
 * the same without packing.
 */
#ifndef ACTIVITYAUDIT_EVENTS_H
#define ACTIVITYAUDIT_EVENTS_H

/* Values equal event.Kind in Go (collector/event). */
enum event_kind {
	EVENT_EXEC = 1,
	EVENT_FORK = 2,
	EVENT_EXIT = 3,
	EVENT_CONN = 4,
	EVENT_KIND_MAX = 5, /* size of the drop counter array */
};

/* Values equal event.ConnOp in Go. */
enum conn_op {
	CONN_CONNECT = 1,
	CONN_ACCEPT = 2,
	CONN_UDP_CONNECT = 3,
	CONN_UDP_SEND = 4,
};

/* Bounds of the variable part of an exec record. */
#define ARGS_MAX 4096	  /* bytes of argv copied */
#define PATH_BYTES 4096	  /* bytes of path components per path */
#define PATH_DEPTH 64	  /* dentries/mounts walked per path */
#define NAME_BYTES 256	  /* NAME_MAX + NUL: one component */
#define AUDIT_ID_MAX 128  /* bytes of KUBERNETES_EXEC_AUDIT_ID's value */
#define ENV_SCAN_MAX 8192 /* bytes of the environment scanned */

/* exec_event.flags */
#define EXEC_ARGS_TRUNCATED 0x1 /* arg_end - arg_start > ARGS_MAX */
#define EXEC_EXE_TRUNCATED 0x2	/* exe path walk stopped before the root */
#define EXEC_CWD_TRUNCATED 0x4	/* cwd path walk stopped before the root */

/*
 * exec_event is the fixed head of an exec record. It is followed by
 * args_len + exe_len + cwd_len + audit_id_len bytes of data, in that order:
 *   args:     argv as the process's memory holds it, NUL-separated;
 *   exe, cwd: path components, leaf first, each NUL-terminated (the Go side
 *             reverses and joins them);
 *   audit_id: the value of KUBERNETES_EXEC_AUDIT_ID, no NUL.
 */
struct exec_event {
	__u8 kind; /* EVENT_EXEC */
	__u8 flags;
	__u16 args_len;
	__u16 exe_len;
	__u16 cwd_len;
	__u16 audit_id_len;
	__u16 _pad0;
	__u32 tgid;
	__u32 pid; /* thread that called exec (old_pid) */
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 loginuid;
	__u32 pidns;
	__u32 nspid;
	__u32 parent_pidns;
	__u64 time;
	__u64 start_time;
	__u64 parent_start_time;
	__u64 cgroup_id;
	__u8 comm[16];
	__u8 tty[64];
};

struct fork_event {
	__u8 kind; /* EVENT_FORK */
	__u8 _pad0[3];
	__u32 parent_tgid;
	__u32 child_tgid;
	__u32 pidns;
	__u64 time;
	__u64 parent_start_time;
	__u64 child_start_time;
	__u64 cgroup_id;
	__u32 nspid;
	__u32 _pad1;
};

struct exit_event {
	__u8 kind; /* EVENT_EXIT */
	__u8 _pad0[3];
	__u32 tgid;
	__u64 time;
	__u64 start_time;
	__u32 exit_code; /* wait(2) status: exit status << 8 | signal */
	__u32 _pad1;
};

struct conn_event {
	__u8 kind;   /* EVENT_CONN */
	__u8 op;     /* enum conn_op */
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family; /* AF_INET or AF_INET6: which bytes of the addresses count */
	__s32 result;
	__u32 tgid;
	__u16 lport; /* host byte order */
	__u16 rport; /* host byte order */
	__u64 time;
	__u64 start_time;
	__u64 cgroup_id;
	__u8 laddr[16]; /* AF_INET: first 4 bytes */
	__u8 raddr[16];
	__u8 comm[16];
};

#endif
