// SPDX-License-Identifier: GPL-2.0
/*
 * Process creation and termination.
 *
 * tp_btf/sched_process_fork(parent, child): fired by kernel_clone() after
 * copy_process() succeeded, in the parent's context, for threads and
 * processes alike; child->start_boottime and child->thread_pid are set.
 * Only new processes are reported: child->pid == child->tgid.
 *
 * tp_btf/sched_process_exit(p, group_dead): fired from do_exit() for every
 * exiting thread, after exit_code is stored. Its group_dead argument (in
 * this kernel's BTF: btf_trace_sched_process_exit(void *, struct
 * task_struct *, bool); older kernels pass only p) is true for the last
 * thread of the thread group, which is when the process is gone. This reports the
 * process's end once, whichever thread happens to be last, where pid ==
 * tgid would fire when the leader exits even if other threads live on.
 */
#include "common.h"

/* include/linux/sched/signal.h: signal->flags bit set by exit_group/fatal signals. */
#define SIGNAL_GROUP_EXIT 0x00000004

/* Put the record types into the object's BTF for bpf2go -type; never used. */
const struct fork_event *unused_fork_event __attribute__((unused));
const struct exit_event *unused_exit_event __attribute__((unused));

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct task_struct *real_parent;
	struct fork_event *e;

	if (excluded())
		return 0;
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(EVENT_FORK);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = EVENT_FORK;
	e->time = bpf_ktime_get_boot_ns();
	/*
	 * The child's real parent is the caller's process, or the caller's
	 * parent with CLONE_PARENT; report the one the child shows as ppid.
	 */
	real_parent = BPF_CORE_READ(child, real_parent);
	e->parent_tgid = BPF_CORE_READ(real_parent, tgid);
	e->parent_start_time = task_start_time(real_parent);
	e->child_tgid = BPF_CORE_READ(child, tgid);
	e->child_start_time = BPF_CORE_READ(child, start_boottime);
	/* The child's cgroup v2 (default hierarchy) id; equals the parent's unless CLONE_INTO_CGROUP. */
	e->cgroup_id = BPF_CORE_READ(child, cgroups, dfl_cgrp, kn, id);
	task_pid_ns(child, &e->pidns, &e->nspid);
	bpf_ringbuf_submit(e, submit_flags(sizeof(*e)));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p, bool group_dead)
{
	struct exit_event *e;
	__u32 code;

	if (excluded())
		return 0;
	if (!group_dead)
		return 0;

	/*
	 * The status wait(2) will report (wait_task_zombie): the group exit
	 * code after exit_group() or a fatal signal, else the leader's own.
	 */
	if (BPF_CORE_READ(p, signal, flags) & SIGNAL_GROUP_EXIT)
		code = BPF_CORE_READ(p, signal, group_exit_code);
	else
		code = BPF_CORE_READ(p, group_leader, exit_code);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(EVENT_EXIT);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = EVENT_EXIT;
	e->time = bpf_ktime_get_boot_ns();
	e->tgid = BPF_CORE_READ(p, tgid);
	e->start_time = task_start_time(p);
	e->exit_code = code;
	bpf_ringbuf_submit(e, submit_flags(sizeof(*e)));
	return 0;
}
