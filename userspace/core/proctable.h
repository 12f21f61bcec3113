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
#include "intern.h"
#include "vocab.h"

/* Fatal signals kept per process: the first ones; the rest are only counted (sigs_total). */
#define PROC_SIGS_MAX 8

struct fatal_signal {
	uint64_t at_ns;
	uint32_t signal;
	uint32_t sender_pid;
	char sender_comm[CT_COMM_LEN + 1];
};

/* pid namespace levels kept per process; deeper nesting keeps the outermost ones */
#define PROC_NSPID_MAX 4

struct proc {
	struct proc *hnext; /* hash chain, by pid */
	struct proc *parent; /* parent's entry at fork; held while this entry exists */
	struct proc *children; /* entries whose parent is this one, newest first */
	struct proc *next_sibling, *prev_sibling;
	/* the retention queue (struct proc_queue): exited context processes, in exit order */
	struct proc *older, *newer;

	uint64_t start_ns;
	uint64_t exit_ns;
	uint64_t sigs_total; /* every fatal signal received, kept or not */
	/* shared strings (pt_set_str): one copy for every process with the same value */
	const char *exe;
	const char *cwd;
	const char *argv; /* NUL-separated, argv_len bytes */
	const char *test_dir;
	struct fatal_signal *sigs; /* the first nsigs, at most PROC_SIGS_MAX */
	/* cgroup v2 path as BPF saw it at the last fork, exec or snapshot (shared; NULL: unknown) */
	const char *cgroup;
	/*
	 * namespace inode numbers as BPF saw them at the last fork, exec or snapshot (0: unknown);
	 * the kernel's are 32-bit (ns_common.inum)
	 */
	uint32_t pid_ns, mnt_ns, net_ns;
	/* its pid in each pid namespace, outermost (the host's, == pid) first */
	uint32_t nspid[PROC_NSPID_MAX];
	uint8_t nspid_levels; /* entries of nspid[] filled; 0: unknown */
	uint32_t pid;
	uint32_t ppid;
	uint32_t original_ppid; /* the parent that exited, once orphaned */
	uint32_t argv_len;
	uint32_t exit_status; /* wait(2) status */
	/* the core's objects that point to it (bindings, findings, uffd contexts, --reap's
	 * log): while any does, it is never freed */
	uint32_t refs;
	char comm[CT_COMM_LEN + 1];
	uint8_t role; /* enum role */
	uint8_t nsigs;

	bool argv_truncated : 1;
	bool seeded : 1; /* alive before tracing began: started_at is unknown to the trace */
	bool exited : 1;
	bool orphaned : 1;
	bool in_scope : 1; /* argv or cwd references a --scope dir */
	bool in_job : 1; /* `run`: in the job's cgroup, or (no cgroup) the command or a descendant */
	bool in_pids : 1; /* under --pid: a listed process or a descendant of one (as forked) */
	bool keep : 1; /* the report needs it even after exit */
	bool queued : 1; /* on the retention queue */
	bool emit : 1; /* scratch mark while writing a report */
	bool nspid_truncated : 1; /* nested deeper than PROC_NSPID_MAX: the inner pids are missing */
};

/* Exited processes kept for context only, oldest exit first: retention drops from the head. */
struct proc_queue {
	struct proc *head, *tail;
	size_t n;
};

struct proctable {
	struct proc **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	struct intern strings; /* every entry's exe, cwd, argv and test dir */
};

void pt_init(struct proctable *pt);
void pt_free(struct proctable *pt);
/*
 * Double the buckets once the table holds more than two entries per bucket. It rehashes, and
 * pt_for_each walks buckets by index: call it only where no pt_for_each is running. The
 * collector does, at the top of collector_handle(), collector_seed() and collector_tick().
 */
void pt_grow_if_needed(struct proctable *pt);
struct proc *pt_find(struct proctable *pt, uint32_t pid, uint64_t start_ns);
/* The entry for pid that has not exited, if any. */
struct proc *pt_find_live(struct proctable *pt, uint32_t pid);
/* A zeroed entry for (pid, start_ns), its parent linked to the live entry for ppid. */
struct proc *pt_add(struct proctable *pt, uint32_t pid, uint64_t start_ns, uint32_t ppid);
void pt_set_parent(struct proc *p, struct proc *parent);
/* Set *field to the table's shared copy of len bytes at s, or NULL; the old one is released. */
void pt_set_str(struct proctable *pt, const char **field, const char *s, size_t len);
/*
 * Free p if it has exited, the report does not need it, nothing points to it and no child
 * holds it; cascades up to ancestors held by p alone.
 */
void pt_maybe_free(struct proctable *pt, struct proc *p);
/*
 * Free p, which has exited and which nothing points to (refs 0, not queued), whether the
 * report needs it or not; its children lose their parent (they keep ppid). Cascades as
 * pt_maybe_free. Returns how many entries went, and raises *latest to the latest end
 * (exit, or start for an exit never seen) among them.
 */
size_t pt_drop(struct proctable *pt, struct proc *p, uint64_t *latest);

/* qsort order of struct proc pointers: started first, then lower pid (what outputs list by). */
int pt_by_start(const void *a, const void *b);

void pt_queue_push(struct proc_queue *q, struct proc *p);
void pt_queue_remove(struct proc_queue *q, struct proc *p);

/*
 * Every entry, in bucket order, which changes as the table grows: no output may depend on it
 * (sort what is written). The body must neither add nor free entries, nor grow the table.
 */
#define pt_for_each(pt, p)                                                                         \
	for (size_t _b = 0; _b < (pt)->nbuckets; _b++)                                             \
		for (struct proc *p = (pt)->buckets[_b], *_n = p ? p->hnext : NULL; p;             \
		     p = _n, _n = p ? p->hnext : NULL)

#endif
