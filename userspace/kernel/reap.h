/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --reap: stop the VMMs a `run` leaked in scope, then their pagers, and say so in the report.
 * A VMM goes first: a pager stopped while its guest lives leaves the guest spinning.
 */
#ifndef CIDTRACE_REAP_H
#define CIDTRACE_REAP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "state.h"

struct reap_action {
	struct proc *proc; /* kept in the table: the report shows it */
	const char *action; /* "sigterm", "sigkill", "would_kill" (dry run) or "gone" */
	uint64_t at_ns;
	bool exited; /* gone when the action's wait ended */
};

struct reap_log {
	struct reap_action *v;
	int n;
};

struct reap_opts {
	bool dry_run;
	double grace_s; /* SIGTERM to SIGKILL */
};

/* Stop every VMM leaked by a trace that ended at ended_ns, and its pagers; log each action. */
void reap(struct collector *c, uint64_t ended_ns, const struct reap_opts *o, struct reap_log *log);
/* The report's reaped[]: empty for NULL (no --reap). */
struct json_object *reap_json(const struct reap_log *log);
void reap_log_free(struct reap_log *log);

#endif
