/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Is cidtrace in the host's PID namespace, and is its /proc that namespace's? BPF reports
 * host pids, and the process table, the startup snapshot's argv and --reap's re-checks read
 * /proc by those pids: from a container (docker without --pid=host, a pod without hostPID)
 * they would name other processes, or none, and a live VMM would look gone.
 */
#ifndef CIDTRACE_PIDNS_H
#define CIDTRACE_PIDNS_H

enum pidns_state {
	PIDNS_HOST, /* the initial PID namespace, with its own /proc */
	PIDNS_CHILD, /* a PID namespace below the host's */
	PIDNS_FOREIGN_PROC, /* the host's namespace, but /proc was mounted from another one */
};

/* The state; detail (one lowercase phrase, for doctor) says what was seen. */
enum pidns_state pidns_check(char *detail, int size);
/* EXIT_OK, or EXIT_ENV with one line on stderr naming the fix. */
int pidns_require_host(void);

#endif
