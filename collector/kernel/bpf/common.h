/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every program shares: the ring buffer and when a record wakes its
 * reader (with the reader's state), the drop counters, the collector's own tgid, and readers of
 * task_struct fields. Each object
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

/*
 * Wake-ups. bpf_ringbuf_submit with flags 0 wakes the reader (an
 * irq_work: a self-IPI, under a hypervisor likely a VM exit, then a
 * wake-up of the reader's thread) whenever the reader had consumed
 * everything before the record, which a reader that keeps up always has:
 * about 3 wake-ups per exec. Instead a record is written with
 * BPF_RB_NO_WAKEUP while the reader reads the ring on its own timer
 * (Options.ReadInterval), and forces a wake-up (BPF_RB_FORCE_WAKEUP) only
 *   - when the reader is parked: it found the ring empty on its timer and
 *     now waits without one, so an idle collector does not wake at all,
 *     and the first record after a quiet spell is read at once;
 *   - when it brings the unread data from below wake_bytes to wake_bytes
 *     or more: a burst the reader should not wait for its timer to read.
 *
 * wake_bytes is set by the loader (Options.WakeBytes). 1 is the kernel's
 * own policy (wake when the ring was empty before the record); a value
 * above the ring's size never wakes.
 */
volatile const __u64 wake_bytes = 1;

/* reader_state is the reader's, written by the Go side through a memory mapping. */
struct reader_state {
	__u32 parked; /* 1 while the reader waits for a wake-up without a timer */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct reader_state);
} reader SEC(".maps");

/* ring_space is what a record of len bytes takes in the ring: an 8-byte header, the data padded to 8. */
static __always_inline __u64 ring_space(__u64 len)
{
	return BPF_RINGBUF_HDR_SZ + ((len + 7) & ~7ULL);
}

/*
 * submit_flags are the flags to submit a reserved record of len bytes
 * with. It must be called after the reservation: the reader parks by
 * setting parked (an atomic exchange) and then looking at the ring
 * buffer's producer position; this reads parked after moving that
 * position, with a locked add as the full barrier between the two, so
 * that the reader sees the record or this sees the reader parked.
 *
 * The unread data (BPF_RB_AVAIL_DATA) counts the record from its
 * reservation on. Producers on other CPUs reserving at the same moment
 * can make a crossing of wake_bytes go unnoticed (each sees the other's
 * record as already there); the reader's timer then reads it.
 */
static __always_inline __u64 submit_flags(__u64 len)
{
	__u32 zero = 0;
	struct reader_state *r = bpf_map_lookup_elem(&reader, &zero);
	__u64 after, space;

	if (!r || __sync_fetch_and_add(&r->parked, 0))
		return BPF_RB_FORCE_WAKEUP;
	after = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	space = ring_space(len);
	if (after >= wake_bytes && after - space < wake_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/*
 * output_record writes len bytes of data as one record, like
 * bpf_ringbuf_output, but chooses its flags once the record is reserved
 * (see submit_flags): through a dynptr, whose size need not be a
 * constant (5.19+). It returns 0 or a negative error (the ring is full),
 * and the flags used in *flags.
 */
static __always_inline long output_record(void *data, __u32 len, __u64 *flags)
{
	struct bpf_dynptr ptr;
	long err;

	err = bpf_ringbuf_reserve_dynptr(&events, len, 0, &ptr);
	if (err) {
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		return err;
	}
	err = bpf_dynptr_write(&ptr, 0, data, len, 0);
	if (err) {
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		return err;
	}
	*flags = submit_flags(len);
	bpf_ringbuf_submit_dynptr(&ptr, *flags);
	return 0;
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
