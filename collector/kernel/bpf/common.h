/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every program shares: the ring buffer, the drop counters, the
 * collector's own tgid, and readers of task_struct fields. Each object
 * (exec, proc, net) declares these maps; the Go loader creates them once
 * and hands the same maps to every object (MapReplacements).
 */
#ifndef ACTIVITYAUDIT_COMMON_H
#define ACTIVITYAUDIT_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "events.h"

char __license[] SEC("license") = "GPL";

/* All records, of every kind. Its size is set by the loader (Options.RingBytes). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
} events SEC(".maps");

/* Records lost because the ring buffer was full, per CPU, indexed by enum event_kind. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EVENT_KIND_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* The collector's own tgid, set by the loader before load; never reported. */
volatile const __u32 exclude_tgid = 0;

/* excluded is true when the current task belongs to the collector itself. */
static __always_inline bool excluded(void)
{
	return (__u32)(bpf_get_current_pid_tgid() >> 32) == exclude_tgid;
}

static __always_inline void count_drop(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &kind);

	/* Per-CPU, but a program in softirq may interrupt one in task context. */
	if (n)
		__sync_fetch_and_add(n, 1);
}

/*
 * task_start_time is the start time of t's process: the thread group
 * leader's start_boottime (ns since boot, including suspend), the value
 * /proc/<pid>/stat's starttime is derived from.
 */
static __always_inline __u64 task_start_time(struct task_struct *t)
{
	return BPF_CORE_READ(t, group_leader, start_boottime);
}

/*
 * task_pid_ns reads t's active pid namespace (the one its pid was
 * allocated in: task_active_pid_ns(t) = thread_pid->numbers[level].ns) and
 * t's pid there. struct pid ends in a flexible array of struct upid, one
 * per nesting level; the task's own namespace is the deepest.
 */
static __always_inline void task_pid_ns(struct task_struct *t, __u32 *inum, __u32 *nr)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};

	if (level > 32) /* MAX_PID_NS_LEVEL */
		level = 32;
	bpf_core_read(&upid, sizeof(upid),
		      (void *)pid + bpf_core_field_offset(struct pid, numbers) +
			      level * bpf_core_type_size(struct upid));
	*nr = upid.nr;
	*inum = BPF_CORE_READ(upid.ns, ns.inum);
}

#endif
