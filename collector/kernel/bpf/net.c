// SPDX-License-Identifier: GPL-2.0
/*
 * Connections: outgoing TCP connects with their outcome, accepted TCP
 * connections, UDP connect()s, and the first send of an unconnected UDP
 * socket to each destination. IPv4 and IPv6.
 *
 * Function hooks (fentry/fexit on tcp_v4_connect, inet_csk_accept,
 * udp_sendmsg...) would be the natural choice, but this kernel refuses
 * to load fentry/fexit/LSM programs (EPERM at BPF_PROG_LOAD) and has no
 * kprobes (CONFIG_KPROBES unset). The hooks used instead, all attachable
 * without them:
 *
 *  - cgroup/connect4, cgroup/connect6 (BPF_CGROUP_INET{4,6}_CONNECT,
 *    4.17+), attached to the cgroup v2 root so they run for every
 *    process: called by the protocols' pre_connect (tcp_v4_pre_connect,
 *    udp_pre_connect, ...) from __inet_stream_connect/inet_dgram_connect,
 *    in the connecting thread, with the socket and the destination, just
 *    before the protocol's connect. They remember the call per thread,
 *    and for TCP the connecting process per socket (cookie).
 *  - tracepoint syscalls:sys_enter_connect clears a thread's remembered
 *    call, sys_exit_connect gives connect()'s return value: the UDP
 *    connect's result; for TCP an immediate failure (no route, no port,
 *    ...), or "in progress".
 *  - tp_btf/inet_sock_set_state (4.16+): the TCP outcome. SYN_SENT ->
 *    ESTABLISHED is success; -> CLOSE is failure with sk->sk_err
 *    (tcp_reset sets ECONNREFUSED). It runs in softirq or in whichever
 *    task processes the socket's backlog, so the connecting process is
 *    the one remembered at connect time.
 *  - tracepoint syscalls:sys_exit_accept4 / sys_exit_accept: the new fd,
 *    in the accepting process; its socket is found through the task's
 *    file table.
 *  - cgroup/sendmsg4, cgroup/sendmsg6 (BPF_CGROUP_UDP{4,6}_SENDMSG,
 *    4.18+): called by udp_sendmsg/udpv6_sendmsg only when the sender
 *    gives a destination (msg_name), in the sending thread, after the
 *    socket's port is bound (inet_send_prepare autobinds). Deduplicated
 *    per (socket cookie, destination) in an LRU hash.
 *
 * cgroup hooks return 1: they observe, never deny.
 *
 * A v6 socket talking to a v4-mapped address is reported once: the
 * connect6 hook sees the mapped address (tcp_v6_connect then calls
 * tcp_v4_connect directly, not through pre_connect); udpv6_sendmsg hands
 * mapped destinations to udp_sendmsg, whose sendmsg4 hook sees the v6
 * socket with a v4 address, stored v4-mapped.
 *
 * Not seen: connects and accepts made through io_uring report no syscall
 * exit (a TCP connect's asynchronous outcome still is), and accepts made
 * there are missed.
 */
#include "common.h"
#include "net.h"

/* Put the record type into the object's BTF for bpf2go -type; never used. */
const struct conn_event *unused_conn_event __attribute__((unused));

/* The record of syscalls:sys_exit_* (events/syscalls/sys_exit_connect/format). */
struct syscall_exit_ctx {
	__u64 common; /* common_type, common_flags, common_preempt_count, common_pid */
	__s32 syscall_nr;
	__u32 _pad;
	__s64 ret;
};

/* Who made a connection. */
struct sock_owner {
	__u64 start_time;
	__u64 cgroup_id;
	__u32 tgid;
	/* A TCP connect() still inside the syscall: its return value decides a silent failure. */
	__u32 in_call;
	__u8 comm[16];
};

/* TCP sockets whose connect has not finished, by socket cookie. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sock_owner);
} connecting SEC(".maps");

/* A connect() in progress in a thread. */
struct connect_call {
	__u64 sk; /* struct sock *, as a number */
	__u64 cookie;
	struct sock_owner owner;
	__u8 raddr[16]; /* in the socket's family */
	__u16 rport;
	__u8 proto;
	__u8 _pad[5];
};

/* By pid_tgid (thread). LRU: calls that end without a syscall exit (io_uring) are dropped in time. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct connect_call);
} connect_calls SEC(".maps");

/* A destination an unconnected UDP socket has sent to. */
struct udp_dest {
	__u64 cookie;
	__u8 addr[16];
	__u16 port;
	__u16 _pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct udp_dest);
	__type(value, __u8);
} udp_sent SEC(".maps");

static __always_inline void owner_of_current(struct sock_owner *o)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	o->tgid = bpf_get_current_pid_tgid() >> 32;
	o->start_time = task_start_time(t);
	o->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

/* conn_reserve reserves a connection record and fills all but its addresses. */
static __always_inline struct conn_event *conn_reserve(const struct sock_owner *o, __u8 op, __u8 proto,
						       __s32 result)
{
	struct conn_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_drop(EVENT_CONN);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = EVENT_CONN;
	e->op = op;
	e->proto = proto;
	e->result = result;
	e->time = bpf_ktime_get_boot_ns();
	e->tgid = o->tgid;
	e->start_time = o->start_time;
	e->cgroup_id = o->cgroup_id;
	__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
	return e;
}

/*
 * emit_sock_conn reports a connection of sk (a kernel pointer) owned by
 * o, with the socket's addresses; the remote end is raddr/rport instead
 * when given (a failed connect resets the socket's destination).
 */
static __always_inline void emit_sock_conn(const struct sock *sk, const struct sock_owner *o, __u8 op,
					   __u8 proto, __s32 result, const __u8 *raddr, __u16 rport)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	struct conn_event *e = conn_reserve(o, op, proto, result);

	if (!e)
		return;
	e->family = family;
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	/*
	 * A connect that failed has given its port back (inet_put_port
	 * zeroes inet_num); inet_sport still holds it.
	 */
	if (e->lport == 0)
		e->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr);
	} else {
		__u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(e->laddr, &l, 4);
		__builtin_memcpy(e->raddr, &r, 4);
	}
	if (raddr) {
		__builtin_memcpy(e->raddr, raddr, sizeof(e->raddr));
		e->rport = rport;
	}
	bpf_ringbuf_submit(e, submit_flags(sizeof(*e)));
}

/*
 * user_addr reads the destination a sock_addr hook was given into addr
 * (zeroed by the caller) in the socket's family: an IPv4 destination of
 * an AF_INET6 socket is stored v4-mapped. v4 hooks may only read
 * user_ip4, v6 hooks only user_ip6 (the verifier checks by attach type),
 * hence the constant v6. Returns the port, host order.
 */
static __always_inline __u16 user_addr(struct bpf_sock_addr *ctx, bool v6, __u32 sock_family, __u8 addr[16])
{
	if (!v6) {
		__u32 a = ctx->user_ip4;

		if (sock_family == AF_INET6) {
			addr[10] = 0xff;
			addr[11] = 0xff;
			__builtin_memcpy(&addr[12], &a, 4);
		} else {
			__builtin_memcpy(addr, &a, 4);
		}
	} else {
		__u32 a0 = ctx->user_ip6[0], a1 = ctx->user_ip6[1], a2 = ctx->user_ip6[2],
		      a3 = ctx->user_ip6[3];

		__builtin_memcpy(&addr[0], &a0, 4);
		__builtin_memcpy(&addr[4], &a1, 4);
		__builtin_memcpy(&addr[8], &a2, 4);
		__builtin_memcpy(&addr[12], &a3, 4);
	}
	/* user_port holds the port in network order in its low 16 bits. */
	return bpf_ntohs((__u16)ctx->user_port);
}

/* ---- connect: TCP and UDP ---- */

static __always_inline int on_connect(struct bpf_sock_addr *ctx, bool v6)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct connect_call call = {};
	__u32 proto = ctx->protocol;
	struct bpf_sock *sk;

	if (excluded())
		return 1;
	/* Also called for ping and other sockets. */
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 1;
	sk = ctx->sk;
	if (!sk)
		return 1;
	call.sk = (__u64)sk;
	call.cookie = bpf_get_socket_cookie(ctx);
	call.proto = proto;
	owner_of_current(&call.owner);
	call.rport = user_addr(ctx, v6, ctx->family, call.raddr);
	bpf_map_update_elem(&connect_calls, &id, &call, BPF_ANY);
	if (proto == IPPROTO_TCP) {
		call.owner.in_call = 1;
		bpf_map_update_elem(&connecting, &call.cookie, &call.owner, BPF_ANY);
	}
	return 1;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	return on_connect(ctx, false);
}

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
	return on_connect(ctx, true);
}

/* A connect() that did not reach the hook (AF_UNIX, io_uring before) leaves no stale call behind. */
SEC("tracepoint/syscalls/sys_enter_connect")
int sys_enter_connect(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (excluded())
		return 0;
	bpf_map_delete_elem(&connect_calls, &id);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int sys_exit_connect(struct syscall_exit_ctx *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct connect_call *call;
	struct sock_owner *o;
	struct sock *sk;
	long ret = ctx->ret;

	if (excluded())
		return 0;
	call = bpf_map_lookup_elem(&connect_calls, &id);
	if (!call)
		return 0;
	sk = (struct sock *)call->sk;
	if (call->proto == IPPROTO_UDP) {
		emit_sock_conn(sk, &call->owner, CONN_UDP_CONNECT, IPPROTO_UDP, ret, ret ? call->raddr : 0,
			       call->rport);
	} else {
		o = bpf_map_lookup_elem(&connecting, &call->cookie);
		if (o) {
			if (connect_ret_pending(ret)) {
				o->in_call = 0;
			} else {
				emit_sock_conn(sk, o, CONN_CONNECT, IPPROTO_TCP, ret, call->raddr, call->rport);
				bpf_map_delete_elem(&connecting, &call->cookie);
			}
		}
	}
	bpf_map_delete_elem(&connect_calls, &id);
	return 0;
}

/*
 * The outcome of a TCP connect. The exclusion check was made for the
 * remembered owner at connect time; current here is whatever task or
 * softirq processed the packet.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(handle_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	int outcome = tcp_connect_outcome(oldstate, newstate);
	struct sock_owner *o;
	__s32 result = 0;
	__u64 cookie;

	if (outcome == OUTCOME_NONE)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	cookie = bpf_get_socket_cookie((void *)sk);
	o = bpf_map_lookup_elem(&connecting, &cookie);
	if (!o)
		return 0;
	if (outcome == OUTCOME_FAILURE) {
		int err = BPF_CORE_READ(sk, sk_err);

		/*
		 * No error recorded while connect() is still running: its
		 * failure path (after SYN_SENT) returns the errno, which
		 * sys_exit_connect reports.
		 */
		if (err == 0 && o->in_call)
			return 0;
		result = tcp_failure_result(err);
	}
	emit_sock_conn(sk, o, CONN_CONNECT, IPPROTO_TCP, result, 0, 0);
	bpf_map_delete_elem(&connecting, &cookie);
	return 0;
}

/* ---- TCP accept ---- */

/*
 * fd_sock is the socket behind fd in t's file table, or NULL. The file's
 * private_data is a struct socket only for socket files; its ->file
 * pointing back to the file confirms it.
 */
static __always_inline struct sock *fd_sock(struct task_struct *t, long fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = 0;
	struct socket *sock;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	if (!sock || BPF_CORE_READ(sock, file) != f)
		return 0;
	return BPF_CORE_READ(sock, sk);
}

static __always_inline int on_accept(long ret)
{
	struct sock_owner o = {};
	struct sock *sk;
	__u16 family;

	if (excluded() || ret < 0)
		return 0;
	sk = fd_sock((struct task_struct *)bpf_get_current_task(), ret);
	if (!sk)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	owner_of_current(&o);
	emit_sock_conn(sk, &o, CONN_ACCEPT, IPPROTO_TCP, 0, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int sys_exit_accept4(struct syscall_exit_ctx *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int sys_exit_accept(struct syscall_exit_ctx *ctx)
{
	return on_accept(ctx->ret);
}

/* ---- UDP: first send per destination ---- */

static __always_inline int on_udp_send(struct bpf_sock_addr *ctx, bool v6)
{
	struct udp_dest key = {};
	struct sock_owner o = {};
	struct conn_event *e;
	struct bpf_sock *sk;
	__u32 family;
	__u8 one = 1;

	if (excluded())
		return 1;
	if (ctx->protocol != IPPROTO_UDP)
		return 1;
	sk = ctx->sk;
	if (!sk)
		return 1;
	family = ctx->family;
	key.port = user_addr(ctx, v6, family, key.addr);
	key.cookie = bpf_get_socket_cookie(ctx);
	if (bpf_map_update_elem(&udp_sent, &key, &one, BPF_NOEXIST) != 0)
		return 1; /* sent there before */

	owner_of_current(&o);
	e = conn_reserve(&o, CONN_UDP_SEND, IPPROTO_UDP, 0);
	if (!e)
		return 1;
	e->family = family;
	e->lport = sk->src_port;
	if (family == AF_INET6) {
		__u32 a0 = sk->src_ip6[0], a1 = sk->src_ip6[1], a2 = sk->src_ip6[2], a3 = sk->src_ip6[3];

		__builtin_memcpy(&e->laddr[0], &a0, 4);
		__builtin_memcpy(&e->laddr[4], &a1, 4);
		__builtin_memcpy(&e->laddr[8], &a2, 4);
		__builtin_memcpy(&e->laddr[12], &a3, 4);
	} else {
		__u32 a = sk->src_ip4;

		__builtin_memcpy(e->laddr, &a, 4);
	}
	__builtin_memcpy(e->raddr, key.addr, sizeof(e->raddr));
	e->rport = key.port;
	bpf_ringbuf_submit(e, submit_flags(sizeof(*e)));
	return 1;
}

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx)
{
	return on_udp_send(ctx, false);
}

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx)
{
	return on_udp_send(ctx, true);
}
