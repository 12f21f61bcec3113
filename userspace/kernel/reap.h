/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --reap: stop the VMMs a `run` leaked in scope, then their pagers, and say so in the report.
 * A VMM goes first: a pager stopped while its guest lives leaves the guest spinning.
 * --kill-orphans (guard_*): stop, while tracing, the owners of guests orphaned for a grace.
 */
#ifndef CIDTRACE_REAP_H
#define CIDTRACE_REAP_H

#include <stdbool.h>
#include <stdint.h>

#include "state.h"

struct reap_opts {
	bool dry_run;
	double grace_s; /* SIGTERM to SIGKILL */
};

/*
 * Stop every VMM leaked by a trace that ended at ended_ns (collector_is_leak: started under
 * it, in scope, under --pid and in the job), then its pagers that pass the same tests
 * (collector_is_leaked_pager); each action goes to c's reap log (collector_log_reap), which
 * the report lists. Before each signal, /proc must still show it in scope and, with a job
 * cgroup, in that cgroup.
 */
void reap(struct collector *c, uint64_t ended_ns, const struct reap_opts *o);

/*
 * --kill-orphans: the live guard. The core says which orphaned guests' owners are due
 * (uffd_kills_due: pager-lost for the grace, no new pager); this stops them with the same
 * re-checks as reap(): SIGTERM at once, SIGKILL at a later tick once grace_ns has passed. The
 * event thread never waits for a process to die. Each action goes to reaped[] (reason
 * "uffd_orphan") and a live line, through the capture (tracer_kill). Never a pager.
 */
#define GUARD_MAX 64 /* owners between SIGTERM and exit or SIGKILL; more wait a tick */

struct guard_kill {
	int pidfd;
	struct proc *proc; /* referenced by its reaped[] entry: never freed */
	uint64_t kill_at; /* SIGKILL then */
};

struct guard {
	uint64_t grace_ns; /* SIGTERM to SIGKILL: --reap-grace */
	struct guard_kill v[GUARD_MAX];
	int n;
};

struct tracer;

void guard_init(struct guard *g, double grace_s);
/* At each tick of the event loop, after tracer_tick(now). */
void guard_tick(struct guard *g, struct tracer *t, uint64_t now);
/* Close the pidfds; a process SIGTERM'd and not yet SIGKILL'd is left to exit by itself. */
void guard_free(struct guard *g);

#endif
