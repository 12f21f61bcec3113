/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Live lines on stdout, or appended to --log: aligned text for people, NDJSON for log
 * shippers. After a failed write (a closed pipe), one line on stderr and no more live lines.
 */
#ifndef CIDTRACE_LIVE_H
#define CIDTRACE_LIVE_H

#include "state.h"

void live_fork(struct collector *c, const struct proc *p, uint64_t ts);
void live_exec(struct collector *c, const struct proc *p, uint64_t ts);
void live_exit(struct collector *c, const struct proc *p, uint64_t ts);
void live_signal(struct collector *c, const struct proc *p, const struct fatal_signal *s);
/* bind, conflict and release: always shown, whatever the scope. */
void live_vsock(struct collector *c, const char *event, const struct proc *p, uint64_t ts,
		uint64_t cid, const char *detail);
/* An orphaned userfaultfd guest: pager lost, its state changed, or it is over. Shown
 * whatever --pid filters, but only for guests in --scope. */
void live_uffd(struct collector *c, const struct proc *owner, uint64_t ts, const char *uffd_id,
	       const char *state, const char *detail);

/*
 * --log: append live lines to path (util.h's private_append says which files it takes)
 * instead of stdout, from now on; called again (SIGHUP, after logrotate renamed the file),
 * it opens path anew and closes the previous file. On failure nothing changes. 0 or -errno.
 */
int live_log_open(struct collector *c, const char *path);
void live_log_close(void);

/* Make the live_* functions c's observer: the core then prints through them. */
void live_observe(struct collector *c);

#endif
