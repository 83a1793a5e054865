// SPDX-License-Identifier: GPL-2.0
/*
 * Successful execs.
 *
 * Hook: tp_btf/sched_process_exec (BTF-enabled raw tracepoint, 5.5+). The
 * kernel fires it from exec_binprm() only after the new program is
 * committed (past the point of no return), so failed execs never reach
 * it. At that point current == p, p->mm is the new mm with argv and envp
 * on its stack, p->comm is the new name, mm->exe_file the opened binary
 * (symlinks followed), and old_pid the tid that called exec (de_thread has
 * made it the leader).
 *
 * The record is built in a per-CPU buffer and copied out at its used
 * length (output_record, a reservation of that size): a full-size
 * reservation would cost ~12 KiB of ring per exec. Tracepoint programs run with preemption
 * disabled, and the kernel does not re-enter a program on the same CPU,
 * so the per-CPU buffer is not shared.
 */
#include "common.h"
#include "path.h"
#include "env.h"

/* Set by the loader (Options.ExecAuditID): scan the environment of container-entry processes. */
volatile const __u32 scan_audit_id = 0;

struct exec_buf {
	struct exec_event ev;
	char data[DATA_SIZE];
	__u32 off; /* bytes of data used; not sent */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_buf);
} exec_scratch SEC(".maps");

/* loginuid needs CONFIG_AUDIT (task_struct.loginuid); (uid_t)-1 when unset. */
static __always_inline __u32 task_loginuid(struct task_struct *t)
{
	if (!bpf_core_field_exists(t->loginuid))
		return (__u32)-1;
	return BPF_CORE_READ(t, loginuid.val);
}

/*
 * put_audit_id looks for KUBERNETES_EXEC_AUDIT_ID in the first
 * ENV_SCAN_MAX bytes of the environment (mm->env_start..env_end) and
 * copies its value to dst. Returns the value's length, 0 if absent.
 */
static __always_inline __u32 put_audit_id(char *dst, struct mm_struct *mm)
{
	unsigned long start = BPF_CORE_READ(mm, env_start);
	unsigned long end = BPF_CORE_READ(mm, env_end);
	__u32 zero = 0;
	struct env_buf *b = bpf_map_lookup_elem(&env_scratch, &zero);
	__u64 len;

	if (!b || end <= start)
		return 0;
	len = end - start;
	if (len > ENV_SCAN_MAX)
		len = ENV_SCAN_MAX;
	if (bpf_probe_read_user(b->data, len, (void *)start) < 0)
		return 0;
	b->data[len] = 0; /* len <= ENV_SCAN_MAX: inside the slack */
	return env_copy_audit_id(dst, env_find_audit_id(len));
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *parent;
	struct exec_buf *b;
	struct exec_event *e;
	struct mm_struct *mm;
	struct fs_struct *fs;
	struct file *exe;
	struct tty_struct *tty;
	unsigned long arg_start, arg_end;
	__u32 zero = 0, parent_nspid, mark;
	__u64 alen, flags;

	if (excluded())
		return 0;
	b = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!b)
		return 0;
	e = &b->ev;
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = EVENT_EXEC;
	e->time = bpf_ktime_get_boot_ns();

	parent = BPF_CORE_READ(p, real_parent);
	e->tgid = BPF_CORE_READ(p, tgid);
	e->pid = old_pid;
	e->ppid = BPF_CORE_READ(parent, tgid);
	e->start_time = task_start_time(p);
	e->parent_start_time = task_start_time(parent);
	e->uid = BPF_CORE_READ(p, cred, uid.val);
	e->gid = BPF_CORE_READ(p, cred, gid.val);
	e->loginuid = task_loginuid(p);
	e->cgroup_id = bpf_get_current_cgroup_id();
	task_pid_ns(p, &e->pidns, &e->nspid);
	task_pid_ns(parent, &e->parent_pidns, &parent_nspid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	tty = BPF_CORE_READ(p, signal, tty);
	if (tty)
		bpf_core_read_str(e->tty, sizeof(e->tty), &tty->name);

	/* argv: the strings the kernel just copied to the new stack. */
	mm = BPF_CORE_READ(p, mm);
	arg_start = BPF_CORE_READ(mm, arg_start);
	arg_end = BPF_CORE_READ(mm, arg_end);
	alen = arg_end > arg_start ? arg_end - arg_start : 0;
	if (alen > ARGS_MAX) {
		alen = ARGS_MAX;
		e->flags |= EXEC_ARGS_TRUNCATED;
	}
	if (bpf_probe_read_user(b->data, alen, (void *)arg_start) < 0)
		alen = 0;
	e->args_len = alen;
	b->off = alen;

	/* The binary: mm->exe_file (what /proc/<pid>/exe shows), else bprm->file. */
	fs = BPF_CORE_READ(p, fs);
	exe = BPF_CORE_READ(mm, exe_file);
	if (!exe)
		exe = BPF_CORE_READ(bprm, file);
	mark = b->off;
	if (exe)
		put_path(b->data, &b->off, &exe->f_path, &fs->root, &e->flags, EXEC_EXE_TRUNCATED);
	e->exe_len = b->off - mark;

	mark = b->off;
	put_path(b->data, &b->off, &fs->pwd, &fs->root, &e->flags, EXEC_CWD_TRUNCATED);
	e->cwd_len = b->off - mark;

	/* Only container-entry processes: the real parent is in another pid namespace. */
	if (scan_audit_id && e->parent_pidns != e->pidns) {
		e->audit_id_len = put_audit_id(&b->data[b->off & DATA_MASK], mm);
		b->off += e->audit_id_len;
	}

	if (output_record(b, sizeof(*e) + (b->off & DATA_MASK), &flags) < 0)
		count_drop(EVENT_EXEC);
	return 0;
}
