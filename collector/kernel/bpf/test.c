// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only programs: the helpers the hooks use, run through
 * BPF_PROG_TEST_RUN. BPF_PROG_TYPE_SYSCALL (5.14+) programs can be
 * test-run with an arbitrary context (the input) and run in the calling
 * task, so the path walker can resolve the test process's own cwd and
 * executable. Results go to the test_results array map. test_wake writes
 * records into the (test object's own) events ring as the hooks do.
 */
#include "common.h"
#include "path.h"
#include "env.h"
#include "net.h"

struct env_test_in {
	__u32 len;
	__u32 _pad;
	__u8 env[ENV_SCAN_MAX];
};

struct env_test_out {
	__s32 found;
	__u32 value_len;
	__u8 value[AUDIT_ID_MAX];
};

struct outcome_test_in {
	__s32 oldstate;
	__s32 newstate;
	__s32 sk_err;
	__s32 _pad;
	__s64 connect_ret;
};

struct outcome_test_out {
	__s32 outcome;
	__s32 result;
	__u32 pending;
	__u32 _pad;
};

enum path_test_which {
	PATH_TEST_CWD = 0,
	PATH_TEST_EXE = 1,
};

struct path_test_in {
	__u32 which; /* enum path_test_which */
};

struct path_test_out {
	__u32 len;
	__u8 flags;
	__u8 _pad[3];
	__u8 data[DATA_SIZE];
};

/* wake_test_in: write one record of len bytes (at most 256) into the events ring. */
struct wake_test_in {
	__u32 len;
	__u32 output; /* 1: output_record, as exec does; 0: reserve and submit a 64-byte record */
};

struct wake_test_out {
	__u64 flags; /* the wake-up flags the record was written with */
	__s32 ret;   /* 0, or the error writing it */
	__u32 _pad;
};

struct test_out {
	struct env_test_out env;
	struct outcome_test_out outcome;
	struct path_test_out path;
	struct wake_test_out wake;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct test_out);
} test_results SEC(".maps");

SEC("syscall")
int test_audit_id(struct env_test_in *in)
{
	__u32 zero = 0, len = in->len;
	struct test_out *out = bpf_map_lookup_elem(&test_results, &zero);
	struct env_buf *b = bpf_map_lookup_elem(&env_scratch, &zero);

	if (!out || !b)
		return 1;
	if (len > ENV_SCAN_MAX)
		len = ENV_SCAN_MAX;
	bpf_probe_read_kernel(b->data, len, in->env);
	b->data[len] = 0;
	out->env.found = env_find_audit_id(len);
	out->env.value_len = env_copy_audit_id((char *)out->env.value, out->env.found);
	return 0;
}

SEC("syscall")
int test_conn(struct outcome_test_in *in)
{
	__u32 zero = 0;
	struct test_out *out = bpf_map_lookup_elem(&test_results, &zero);

	if (!out)
		return 1;
	out->outcome.outcome = tcp_connect_outcome(in->oldstate, in->newstate);
	out->outcome.result = tcp_failure_result(in->sk_err);
	out->outcome.pending = connect_ret_pending(in->connect_ret);
	return 0;
}

SEC("syscall")
int test_path(struct path_test_in *in)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 zero = 0;
	struct test_out *out = bpf_map_lookup_elem(&test_results, &zero);
	struct fs_struct *fs;
	struct file *exe;
	__u8 flags = 0;

	if (!out)
		return 1;
	fs = BPF_CORE_READ(task, fs);
	if (in->which == PATH_TEST_EXE) {
		exe = BPF_CORE_READ(task, mm, exe_file);
		out->path.len = 0;
		put_path((char *)out->path.data, &out->path.len, &exe->f_path, &fs->root, &flags, 1);
	} else {
		out->path.len = 0;
		put_path((char *)out->path.data, &out->path.len, &fs->pwd, &fs->root, &flags, 1);
	}
	out->path.flags = flags;
	return 0;
}

struct wake_record {
	__u8 data[64];
};

SEC("syscall")
int test_wake(struct wake_test_in *in)
{
	__u32 zero = 0, len = in->len;
	struct test_out *out = bpf_map_lookup_elem(&test_results, &zero);
	struct wake_record *r;
	__u64 flags;

	if (!out)
		return 1;
	out->wake.ret = 0;
	if (in->output) {
		if (len > sizeof(out->path.data))
			len = sizeof(out->path.data);
		flags = 0;
		out->wake.ret = output_record(out->path.data, len, &flags);
	} else {
		r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
		if (!r) {
			out->wake.ret = -1;
			return 0;
		}
		__builtin_memset(r, 0, sizeof(*r));
		flags = submit_flags(sizeof(*r));
		bpf_ringbuf_submit(r, flags);
	}
	out->wake.flags = flags;
	return 0;
}
