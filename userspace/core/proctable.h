/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The process table: every live process on the host, plus exited ones that a report needs.
 * An entry is keyed by (pid, start_ns); a pid alone names different processes over time.
 */
#ifndef CIDTRACE_PROCTABLE_H
#define CIDTRACE_PROCTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidtrace_events.h"
#include "vocab.h"

/* Fatal signals kept per process: the first ones; the rest are only counted (sigs_total). */
#define PROC_SIGS_MAX 8

struct fatal_signal {
	uint64_t at_ns;
	uint32_t signal;
	uint32_t sender_pid;
	char sender_comm[CT_COMM_LEN + 1];
};

struct proc {
	struct proc *hnext; /* hash chain, by pid */
	struct proc *parent; /* parent's entry at fork; held while this entry exists */
	uint32_t nchildren; /* entries whose parent is this one */

	uint32_t pid;
	uint64_t start_ns;
	uint32_t ppid;
	uint32_t original_ppid; /* the parent that exited, once orphaned */
	char comm[CT_COMM_LEN + 1];
	char *exe;
	char *cwd;
	char *argv; /* NUL-separated, argv_len bytes */
	uint32_t argv_len;
	char *test_dir;
	enum role role;

	uint64_t exit_ns;
	uint32_t exit_status; /* wait(2) status */
	struct fatal_signal *sigs; /* the first nsigs, at most PROC_SIGS_MAX */
	uint32_t nsigs;
	uint64_t sigs_total; /* every fatal signal received, kept or not */

	bool argv_truncated;
	bool seeded; /* alive before tracing began: started_at is unknown to the trace */
	bool exited;
	bool orphaned;
	bool in_scope; /* argv or cwd references a --scope dir */
	bool in_job; /* `run`: in the job's cgroup, or (no cgroup) the command or a descendant */
	bool keep; /* the report needs it even after exit */
	bool pinned; /* the core's state points to it (uffd owner, handler): never freed */
	bool emit; /* scratch mark while writing a report */
	bool helper; /* cidtrace's own (a checkpoint writer): never in scope, kept or told */
};

struct proctable {
	struct proc **buckets;
	size_t nbuckets;
	size_t count;
};

void pt_init(struct proctable *pt);
void pt_free(struct proctable *pt);
struct proc *pt_find(struct proctable *pt, uint32_t pid, uint64_t start_ns);
/* The entry for pid that has not exited, if any. */
struct proc *pt_find_live(struct proctable *pt, uint32_t pid);
/* A zeroed entry for (pid, start_ns), its parent linked to the live entry for ppid. */
struct proc *pt_add(struct proctable *pt, uint32_t pid, uint64_t start_ns, uint32_t ppid);
void pt_set_parent(struct proc *p, struct proc *parent);
/* Free p if it has exited, the report does not need it and no child holds it; cascades up. */
void pt_maybe_free(struct proctable *pt, struct proc *p);

#define pt_for_each(pt, p)                                                                         \
	for (size_t _b = 0; _b < (pt)->nbuckets; _b++)                                             \
		for (struct proc *p = (pt)->buckets[_b], *_n = p ? p->hnext : NULL; p;             \
		     p = _n, _n = p ? p->hnext : NULL)

#endif
