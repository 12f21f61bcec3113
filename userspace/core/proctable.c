// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>

#include "proctable.h"
#include "util.h"

#define NBUCKETS 4096

void pt_init(struct proctable *pt)
{
	pt->nbuckets = NBUCKETS;
	pt->buckets = xcalloc(pt->nbuckets, sizeof(*pt->buckets));
	pt->count = 0;
}

static void free_entry(struct proc *p)
{
	free(p->exe);
	free(p->cwd);
	free(p->argv);
	free(p->test_dir);
	free(p->sigs);
	free(p);
}

void pt_free(struct proctable *pt)
{
	pt_for_each(pt, p)
		free_entry(p);
	free(pt->buckets);
	pt->buckets = NULL;
	pt->count = 0;
}

struct proc *pt_find(struct proctable *pt, uint32_t pid, uint64_t start_ns)
{
	for (struct proc *p = pt->buckets[pid % pt->nbuckets]; p; p = p->hnext)
		if (p->pid == pid && p->start_ns == start_ns)
			return p;
	return NULL;
}

struct proc *pt_find_live(struct proctable *pt, uint32_t pid)
{
	for (struct proc *p = pt->buckets[pid % pt->nbuckets]; p; p = p->hnext)
		if (p->pid == pid && !p->exited)
			return p;
	return NULL;
}

void pt_set_parent(struct proc *p, struct proc *parent)
{
	if (p->parent)
		p->parent->nchildren--;
	p->parent = parent;
	if (parent)
		parent->nchildren++;
}

struct proc *pt_add(struct proctable *pt, uint32_t pid, uint64_t start_ns, uint32_t ppid)
{
	struct proc *p = xcalloc(1, sizeof(*p));
	struct proc **b = &pt->buckets[pid % pt->nbuckets];

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
	for (struct proc **pp = &pt->buckets[p->pid % pt->nbuckets]; *pp; pp = &(*pp)->hnext) {
		if (*pp == p) {
			*pp = p->hnext;
			pt->count--;
			return;
		}
	}
}

void pt_maybe_free(struct proctable *pt, struct proc *p)
{
	while (p && p->exited && !p->keep && !p->pinned && p->nchildren == 0) {
		struct proc *parent = p->parent;

		pt_set_parent(p, NULL);
		unlink_entry(pt, p);
		free_entry(p);
		p = parent;
	}
}
