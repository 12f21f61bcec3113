/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Processes by (pid, start_ns), for the HTML timeline: which row, or which processes[] entry,
 * is the process a finding names. Two hash tables of entry numbers, 4 bytes a slot, one by
 * pid and start time and one by pid alone; the keys stay with the caller, who hands them out
 * through key(). A lookup costs O(1) whatever the report holds.
 */
#ifndef CIDTRACE_PROC_INDEX_H
#define CIDTRACE_PROC_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define PROC_NONE ((uint32_t)-1)

struct proc_index {
	/* The process of entry number entry. */
	void (*key)(const void *ctx, uint32_t entry, int64_t *pid, int64_t *start_ns);
	const void *ctx;
	uint32_t *exact, *by_pid; /* slots: entry + 1, 0 when empty */
	size_t nslots; /* a power of two, at least twice n */
	size_t n;
	uint64_t seed;
};

void proc_index_init(struct proc_index *x,
		     void (*key)(const void *ctx, uint32_t entry, int64_t *pid, int64_t *start_ns),
		     const void *ctx);
void proc_index_free(struct proc_index *x);
/* Forget every entry, keeping the memory. */
void proc_index_clear(struct proc_index *x);
/* Add entry number entry, above every entry added since the last clear. */
void proc_index_add(struct proc_index *x, uint32_t entry);
/*
 * The first entry (the lowest number) that is the process (pid, start_ns): the same pid, and
 * the same start time where both are known (a start time of 0 is unknown and matches any).
 * PROC_NONE when there is none.
 */
uint32_t proc_index_find(const struct proc_index *x, int64_t pid, int64_t start_ns);

#endif
