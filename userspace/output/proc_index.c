// SPDX-License-Identifier: GPL-2.0
/*
 * The (pid, start_ns) index: open addressing with linear probing, at most half full. Each
 * table keeps the first entry of a key only, so the first entry that matches a lookup is in
 * one of at most two slots. The hash is keyed with a random seed: pids and start times come
 * from a report that may be hostile, and must not line up in one long probe sequence.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "proc_index.h"
#include "util.h"

static uint64_t mix(uint64_t v)
{
	/* splitmix64's finalizer */
	v ^= v >> 30;
	v *= 0xbf58476d1ce4e5b9ull;
	v ^= v >> 27;
	v *= 0x94d049bb133111ebull;
	return v ^ v >> 31;
}

void proc_index_init(struct proc_index *x,
		     void (*key)(const void *ctx, uint32_t entry, int64_t *pid, int64_t *start_ns),
		     const void *ctx)
{
	memset(x, 0, sizeof(*x));
	x->key = key;
	x->ctx = ctx;
	if (getrandom(&x->seed, sizeof(x->seed), GRND_NONBLOCK) != sizeof(x->seed))
		x->seed = mix((uint64_t)time(NULL) ^ (uintptr_t)x);
}

void proc_index_free(struct proc_index *x)
{
	free(x->exact);
	free(x->by_pid);
	x->exact = x->by_pid = NULL;
	x->nslots = x->n = 0;
}

void proc_index_clear(struct proc_index *x)
{
	if (x->nslots) {
		memset(x->exact, 0, x->nslots * sizeof(*x->exact));
		memset(x->by_pid, 0, x->nslots * sizeof(*x->by_pid));
	}
	x->n = 0;
}

/*
 * The slot of table (exact: by pid and start time, else by pid) that holds the key's entry,
 * or the empty slot where it goes.
 */
static size_t probe(const struct proc_index *x, const uint32_t *table, bool exact, int64_t pid,
		    int64_t start_ns)
{
	uint64_t h = mix((uint64_t)pid ^ x->seed);
	size_t i = (exact ? mix(h ^ (uint64_t)start_ns) : h) & (x->nslots - 1);
	int64_t p, s;

	for (;; i = (i + 1) & (x->nslots - 1)) {
		if (!table[i])
			return i;
		x->key(x->ctx, table[i] - 1, &p, &s);
		if (p == pid && (!exact || s == start_ns))
			return i;
	}
}

/* Into table unless its key is there already: that entry came first. */
static void insert(struct proc_index *x, uint32_t *table, bool exact, uint32_t entry)
{
	int64_t pid, start_ns;
	size_t i;

	x->key(x->ctx, entry, &pid, &start_ns);
	i = probe(x, table, exact, pid, start_ns);
	if (!table[i])
		table[i] = entry + 1;
}

static void grow(struct proc_index *x)
{
	uint32_t *exact = x->exact, *by_pid = x->by_pid;
	size_t n = x->nslots;

	x->nslots = n ? 2 * n : 64;
	x->exact = xcalloc(x->nslots, sizeof(*x->exact));
	x->by_pid = xcalloc(x->nslots, sizeof(*x->by_pid));
	/* a key is in a table once, so the order they move in does not matter */
	for (size_t i = 0; i < n; i++) {
		if (exact[i])
			insert(x, x->exact, true, exact[i] - 1);
		if (by_pid[i])
			insert(x, x->by_pid, false, by_pid[i] - 1);
	}
	free(exact);
	free(by_pid);
}

void proc_index_add(struct proc_index *x, uint32_t entry)
{
	if (2 * (x->n + 1) > x->nslots)
		grow(x);
	insert(x, x->exact, true, entry);
	insert(x, x->by_pid, false, entry);
	x->n++;
}

uint32_t proc_index_find(const struct proc_index *x, int64_t pid, int64_t start_ns)
{
	uint32_t a, b;

	if (!x->n)
		return PROC_NONE;
	if (!start_ns) {
		a = x->by_pid[probe(x, x->by_pid, false, pid, 0)];
	} else {
		a = x->exact[probe(x, x->exact, true, pid, start_ns)];
		b = x->exact[probe(x, x->exact, true, pid, 0)];
		if (!a || (b && b < a))
			a = b;
	}
	return a ? a - 1 : PROC_NONE;
}
