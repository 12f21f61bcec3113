// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>

#include "proctable.h"
#include "util.h"

#define MIN_BUCKETS 4096

static size_t bucket(const struct proctable *pt, uint32_t pid)
{
	return pid & (pt->nbuckets - 1);
}

void pt_init(struct proctable *pt)
{
	pt->nbuckets = MIN_BUCKETS;
	pt->buckets = xcalloc(pt->nbuckets, sizeof(*pt->buckets));
	pt->count = 0;
	intern_init(&pt->strings);
}

static void free_entry(struct proctable *pt, struct proc *p)
{
	intern_put(&pt->strings, p->exe);
	intern_put(&pt->strings, p->cwd);
	intern_put(&pt->strings, p->argv);
	intern_put(&pt->strings, p->test_dir);
	intern_put(&pt->strings, p->cgroup);
	free(p->sigs);
	free(p);
}

void pt_free(struct proctable *pt)
{
	pt_for_each(pt, p)
		free_entry(pt, p);
	free(pt->buckets);
	pt->buckets = NULL;
	pt->count = 0;
	intern_free(&pt->strings);
}

void pt_grow_if_needed(struct proctable *pt)
{
	size_t n = pt->nbuckets * 2;
	struct proc **b;

	if (pt->count <= pt->nbuckets * 2)
		return;
	b = xcalloc(n, sizeof(*b));
	for (size_t i = 0; i < pt->nbuckets; i++) {
		for (struct proc *p = pt->buckets[i], *next; p; p = next) {
			size_t j = p->pid & (n - 1);

			next = p->hnext;
			p->hnext = b[j];
			b[j] = p;
		}
	}
	free(pt->buckets);
	pt->buckets = b;
	pt->nbuckets = n;
}

struct proc *pt_find(struct proctable *pt, uint32_t pid, uint64_t start_ns)
{
	for (struct proc *p = pt->buckets[bucket(pt, pid)]; p; p = p->hnext)
		if (p->pid == pid && p->start_ns == start_ns)
			return p;
	return NULL;
}

struct proc *pt_find_live(struct proctable *pt, uint32_t pid)
{
	for (struct proc *p = pt->buckets[bucket(pt, pid)]; p; p = p->hnext)
		if (p->pid == pid && !p->exited)
			return p;
	return NULL;
}

void pt_set_parent(struct proc *p, struct proc *parent)
{
	if (p->parent) {
		if (p->prev_sibling)
			p->prev_sibling->next_sibling = p->next_sibling;
		else
			p->parent->children = p->next_sibling;
		if (p->next_sibling)
			p->next_sibling->prev_sibling = p->prev_sibling;
		p->next_sibling = p->prev_sibling = NULL;
	}
	p->parent = parent;
	if (parent) {
		p->next_sibling = parent->children;
		if (parent->children)
			parent->children->prev_sibling = p;
		parent->children = p;
	}
}

void pt_set_str(struct proctable *pt, const char **field, const char *s, size_t len)
{
	const char *old = *field;

	*field = s ? intern_get(&pt->strings, s, len) : NULL;
	intern_put(&pt->strings, old);
}

struct proc *pt_add(struct proctable *pt, uint32_t pid, uint64_t start_ns, uint32_t ppid)
{
	struct proc *p = xcalloc(1, sizeof(*p));
	struct proc **b = &pt->buckets[bucket(pt, pid)];

	p->pid = pid;
	p->start_ns = start_ns;
	p->ppid = ppid;
	pt_set_parent(p, pt_find_live(pt, ppid));
	p->hnext = *b;
	*b = p;
	pt->count++;
	return p;
}

static void unlink_entry(struct proctable *pt, struct proc *p)
{
	for (struct proc **pp = &pt->buckets[bucket(pt, p->pid)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == p) {
			*pp = p->hnext;
			pt->count--;
			return;
		}
	}
}

static bool unneeded(const struct proc *p)
{
	return p->exited && !p->keep && !p->refs && !p->children && !p->queued;
}

/* Unlink and free p, then the ancestors that only p held; returns how many went. */
static size_t release(struct proctable *pt, struct proc *p, uint64_t *latest)
{
	size_t n = 0;

	do {
		struct proc *parent = p->parent;
		uint64_t end = p->exit_ns ? p->exit_ns : p->start_ns;

		if (end > *latest)
			*latest = end;
		pt_set_parent(p, NULL);
		unlink_entry(pt, p);
		free_entry(pt, p);
		n++;
		p = parent;
	} while (p && unneeded(p));
	return n;
}

void pt_maybe_free(struct proctable *pt, struct proc *p)
{
	uint64_t latest = 0;

	if (p && unneeded(p))
		release(pt, p, &latest);
}

size_t pt_drop(struct proctable *pt, struct proc *p, uint64_t *latest)
{
	while (p->children)
		pt_set_parent(p->children, NULL);
	return release(pt, p, latest);
}

void pt_queue_push(struct proc_queue *q, struct proc *p)
{
	p->older = q->tail;
	p->newer = NULL;
	if (q->tail)
		q->tail->newer = p;
	else
		q->head = p;
	q->tail = p;
	p->queued = true;
	q->n++;
}

void pt_queue_remove(struct proc_queue *q, struct proc *p)
{
	if (p->older)
		p->older->newer = p->newer;
	else
		q->head = p->newer;
	if (p->newer)
		p->newer->older = p->older;
	else
		q->tail = p->older;
	p->older = p->newer = NULL;
	p->queued = false;
	q->n--;
}

int pt_by_start(const void *a, const void *b)
{
	const struct proc *x = *(struct proc *const *)a, *y = *(struct proc *const *)b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}
