/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --reap: stop the VMMs a `run` leaked in scope, then their pagers, and say so in the report.
 * A VMM goes first: a pager stopped while its guest lives leaves the guest spinning.
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

#endif
