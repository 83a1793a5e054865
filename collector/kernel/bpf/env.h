/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Finding KUBERNETES_EXEC_AUDIT_ID=<value> in a copy of a process's
 * environment block (NUL-separated NAME=value strings). Shared by the exec
 * program and the BPF_PROG_TEST_RUN test program.
 */
#ifndef ACTIVITYAUDIT_ENV_H
#define ACTIVITYAUDIT_ENV_H

#include "common.h"

#define ENV_MASK (ENV_SCAN_MAX - 1)
#define AUDIT_KEY_LEN 25 /* strlen("KUBERNETES_EXEC_AUDIT_ID=") */

/* bpf_strncmp needs its second string in a read-only map: .rodata. */
const char audit_key[AUDIT_KEY_LEN + 1] = "KUBERNETES_EXEC_AUDIT_ID=";

/*
 * The environment copy: ENV_SCAN_MAX bytes plus slack so that a compare
 * or a value read starting anywhere in the first ENV_SCAN_MAX bytes stays
 * inside the buffer. Per CPU; only used from non-preemptible tracepoint
 * context or a test run.
 */
struct env_buf {
	char data[ENV_SCAN_MAX + AUDIT_ID_MAX + AUDIT_KEY_LEN + 1];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct env_buf);
} env_scratch SEC(".maps");

struct env_scan {
	__u32 len;   /* bytes of environment in the buffer */
	__s32 found; /* offset of the value, or -1 */
};

static long env_scan_step(__u64 i, void *ctx)
{
	struct env_scan *s = ctx;
	__u32 zero = 0;
	struct env_buf *b;
	__u32 pos = i & ENV_MASK;

	if (i >= s->len)
		return 1;
	b = bpf_map_lookup_elem(&env_scratch, &zero);
	if (!b)
		return 1;
	/* Only at the start of a NAME=value string. */
	if (pos != 0 && b->data[(pos - 1) & ENV_MASK] != 0)
		return 0;
	if (bpf_strncmp(&b->data[pos], AUDIT_KEY_LEN, audit_key) != 0)
		return 0;
	s->found = pos + AUDIT_KEY_LEN;
	return 1;
}

/*
 * env_find_audit_id scans the first len bytes of env_scratch (len <=
 * ENV_SCAN_MAX; the caller has put a NUL at data[len]) and returns the
 * offset of the audit id's value there, or -1.
 */
static __always_inline int env_find_audit_id(__u32 len)
{
	struct env_scan s = { .len = len, .found = -1 };

	if (len > ENV_SCAN_MAX)
		s.len = ENV_SCAN_MAX;
	bpf_loop(ENV_SCAN_MAX, env_scan_step, &s, 0);
	return s.found;
}

/*
 * env_copy_audit_id copies the value found at offset found (from
 * env_find_audit_id) into dst, at most AUDIT_ID_MAX - 1 bytes, and returns
 * its length without the NUL.
 */
static __always_inline __u32 env_copy_audit_id(char *dst, int found)
{
	__u32 zero = 0;
	struct env_buf *b = bpf_map_lookup_elem(&env_scratch, &zero);
	long n;

	if (!b || found < 0 || found > ENV_SCAN_MAX + AUDIT_KEY_LEN)
		return 0;
	/* The NUL the caller put after the copied bytes ends a cut value. */
	n = bpf_probe_read_kernel_str(dst, AUDIT_ID_MAX, &b->data[found]);
	if (n <= 1)
		return 0;
	return n - 1;
}

#endif
