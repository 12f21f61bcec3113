// SPDX-License-Identifier: GPL-2.0
/*
 * The (pid, start_ns) index of the HTML timeline: the first entry that is the process asked
 * for, where a start time of 0 matches any, as the linear search it replaced found it.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "proc_index.h"

struct keys {
	int64_t pid[20000], start[20000];
	uint32_t n;
};

static void key(const void *ctx, uint32_t i, int64_t *pid, int64_t *start_ns)
{
	const struct keys *k = ctx;

	*pid = k->pid[i];
	*start_ns = k->start[i];
}

static void add(struct proc_index *x, struct keys *k, int64_t pid, int64_t start)
{
	k->pid[k->n] = pid;
	k->start[k->n] = start;
	proc_index_add(x, k->n++);
}

/* What render_html.c did before: the first entry with the same pid and a matching start. */
static uint32_t linear(const struct keys *k, int64_t pid, int64_t start)
{
	for (uint32_t i = 0; i < k->n; i++)
		if (k->pid[i] == pid && (k->start[i] == start || !start || !k->start[i]))
			return i;
	return PROC_NONE;
}

static struct keys k;

static void test_first_match(void)
{
	struct proc_index x;

	proc_index_init(&x, key, &k);
	k.n = 0;
	CHECK(proc_index_find(&x, 5, 100) == PROC_NONE);
	add(&x, &k, 5, 100);
	add(&x, &k, 5, 0); /* a reference without a start time */
	add(&x, &k, 5, 200);
	add(&x, &k, 5, 100); /* the same process again: never found, the first one is */
	CHECK(proc_index_find(&x, 5, 100) == 0);
	CHECK(proc_index_find(&x, 5, 0) == 0); /* no start time: the first with that pid */
	CHECK(proc_index_find(&x, 5, 300) == 1); /* only the entry without a start matches */
	CHECK(proc_index_find(&x, 5, 200) == 1); /* ... and it came before (5, 200) */
	CHECK(proc_index_find(&x, 6, 100) == PROC_NONE);
	CHECK(proc_index_find(&x, -5, 100) == PROC_NONE);

	/* the same entries in another order: the one added first wins */
	proc_index_clear(&x);
	k.n = 0;
	CHECK(proc_index_find(&x, 5, 100) == PROC_NONE);
	add(&x, &k, 5, 200);
	add(&x, &k, 5, 100);
	add(&x, &k, 5, 0);
	CHECK(proc_index_find(&x, 5, 100) == 1);
	CHECK(proc_index_find(&x, 5, 200) == 0);
	CHECK(proc_index_find(&x, 5, 0) == 0);
	CHECK(proc_index_find(&x, 5, 7) == 2);
	proc_index_free(&x);
}

/* Many entries, many collisions, growth: always the linear search's answer. */
static void test_against_linear(void)
{
	struct proc_index x;
	bool ok = true;

	srand(42);
	for (int round = 0; round < 3; round++) {
		int64_t pids = round == 0 ? 20 : round == 1 ? 5000 : 1;

		proc_index_init(&x, key, &k);
		k.n = 0;
		for (int i = 0; i < 20000; i++)
			add(&x, &k, rand() % pids, rand() % 4 ? rand() % 50 : 0);
		for (int i = 0; i < 20000 && ok; i++) {
			int64_t pid = rand() % (pids + 2), start = rand() % 4 ? rand() % 60 : 0;

			ok = proc_index_find(&x, pid, start) == linear(&k, pid, start);
		}
		CHECK(ok);
		proc_index_free(&x);
	}
}

/* Entries numbered as the caller likes, gaps included; 64-bit keys as they come. */
static void test_sparse_and_wide(void)
{
	struct proc_index x;
	bool ok = true;

	proc_index_init(&x, key, &k);
	k.n = 0;
	for (int i = 0; i < 1000; i++) {
		k.pid[k.n] = (int64_t)i << 40;
		k.start[k.n] = INT64_MIN + i;
		if (i % 3 == 0)
			proc_index_add(&x, k.n);
		k.n++;
	}
	for (int i = 0; i < 1000 && ok; i++)
		ok = proc_index_find(&x, (int64_t)i << 40, INT64_MIN + i) ==
		     (i % 3 == 0 ? (uint32_t)i : PROC_NONE);
	CHECK(ok);
	CHECK(proc_index_find(&x, 3LL << 40, 0) == 3);
	proc_index_free(&x);
}

int main(void)
{
	test_first_match();
	test_against_linear();
	test_sparse_and_wide();
	return check_done("test_proc_index");
}
