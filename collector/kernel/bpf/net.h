/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The connection programs' decisions, kept apart from the hooks so a
 * BPF_PROG_TEST_RUN program (test.c) can exercise them.
 */
#ifndef ACTIVITYAUDIT_NET_H
#define ACTIVITYAUDIT_NET_H

#include "common.h"

/* Not in vmlinux.h: these are #defines in the kernel's headers. */
#define AF_INET 2
#define AF_INET6 10
#define EINTR 4
#define EALREADY 114
#define EINPROGRESS 115
#define ECONNABORTED 103
/* include/linux/errno.h: seen by syscall exit tracepoints before signal handling. */
#define ERESTARTSYS 512
#define ERESTART_RESTARTBLOCK 516

enum connect_outcome {
	OUTCOME_NONE = 0,    /* not the end of a connect */
	OUTCOME_SUCCESS = 1, /* handshake completed */
	OUTCOME_FAILURE = 2, /* the attempt ended without a connection */
};

/*
 * tcp_connect_outcome maps an inet_sock_set_state transition of a socket
 * that is connecting to what became of the connect. An active open goes
 * SYN_SENT -> ESTABLISHED, or SYN_SENT -> SYN_RECV -> ESTABLISHED on a
 * simultaneous open; it fails with -> CLOSE (tcp_done after an RST or a
 * timeout, the failure path of tcp_v{4,6}_connect, or the socket closed
 * meanwhile).
 */
static __always_inline int tcp_connect_outcome(int oldstate, int newstate)
{
	if (oldstate != TCP_SYN_SENT && oldstate != TCP_SYN_RECV)
		return OUTCOME_NONE;
	if (newstate == TCP_ESTABLISHED)
		return OUTCOME_SUCCESS;
	if (newstate == TCP_CLOSE)
		return OUTCOME_FAILURE;
	return OUTCOME_NONE;
}

/*
 * tcp_failure_result is Conn.Result for a connect that ended in CLOSE
 * after connect() returned: -sk_err as connect(2)/SO_ERROR report it
 * (tcp_reset sets ECONNREFUSED in SYN_SENT, the retransmit timer
 * ETIMEDOUT, ICMP errors EHOSTUNREACH...), or -ECONNABORTED when no error
 * was recorded: the application closed the socket before the handshake
 * finished.
 */
static __always_inline int tcp_failure_result(int sk_err)
{
	if (sk_err > 0)
		return -sk_err;
	return -ECONNABORTED;
}

/*
 * connect_ret_pending is true when connect()'s return value leaves a TCP
 * connect's outcome to come: 0 (a blocking connect whose state change has
 * been seen already, or TCP fast open deferring the SYN), EINPROGRESS
 * (non-blocking), EALREADY, or a signal interrupting a blocking connect
 * (the handshake goes on).
 */
static __always_inline bool connect_ret_pending(long ret)
{
	if (ret == 0 || ret == -EINPROGRESS || ret == -EALREADY || ret == -EINTR)
		return true;
	return ret <= -ERESTARTSYS && ret >= -ERESTART_RESTARTBLOCK;
}

#endif
