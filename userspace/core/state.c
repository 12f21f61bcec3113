// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "util.h"

static void copy_comm(char *dst, const char *src)
{
	memcpy(dst, src, CT_COMM_LEN);
	dst[CT_COMM_LEN] = '\0';
}

uint64_t collector_now(struct collector *c)
{
	return c->now(c->now_ctx);
}

bool collector_in_pids(const struct collector *c, const struct proc *p)
{
	if (!c->cfg.npids)
		return true;
	for (const struct proc *a = p; a; a = a->parent)
		for (int i = 0; i < c->cfg.npids; i++)
			if (a->pid == (uint32_t)c->cfg.pids[i])
				return true;
	return false;
}

bool collector_in_job(const struct collector *c, const struct proc *p)
{
	return !c->cfg.job_pid || p->in_job;
}

/* Started under the trace, alive when it ended, in scope, under --pid and in the job. */
static bool leaked(const struct collector *c, const struct proc *p, uint64_t ended_ns)
{
	return !p->seeded && (!p->exited || p->exit_ns > ended_ns) &&
	       (!c->cfg.nscopes || p->in_scope) && collector_in_pids(c, p) &&
	       collector_in_job(c, p);
}

bool collector_is_leak(const struct collector *c, const struct proc *p, uint64_t ended_ns)
{
	return p->role == ROLE_VMM && leaked(c, p, ended_ns);
}

bool collector_is_leaked_pager(const struct collector *c, const struct proc *p, uint64_t ended_ns)
{
	return p->role == ROLE_PAGER && leaked(c, p, ended_ns);
}

/* A process the report must keep, whatever happens to it later. */
void collector_update_keep(struct collector *c, struct proc *p)
{
	if (p->helper || !collector_in_pids(c, p))
		return;
	if (p->role != ROLE_NONE || p->in_scope || p->orphaned || p->nsigs ||
	    (p->exit_status & 0x7f) || (p->in_job && p->pid == (uint32_t)c->cfg.job_pid))
		p->keep = true;
}

void collector_set_role(struct collector *c, struct proc *p, enum role role)
{
	if (p->role == ROLE_VMM && role == ROLE_PAGER)
		return; /* a VMM serving another's memory is still a VMM */
	p->role = role;
	collector_update_keep(c, p);
}

/*
 * A pid can only be live once: if the table still has a live entry for a pid that now starts
 * anew, its exit was lost (the report says so through events.lost).
 */
static void retire_stale(struct collector *c, uint32_t pid)
{
	struct proc *old = pt_find_live(&c->pt, pid);

	if (old) {
		old->exited = true;
		pt_maybe_free(&c->pt, old);
	}
}

struct proc *collector_proc(struct collector *c, const struct ct_event_hdr *h)
{
	struct proc *p = pt_find(&c->pt, h->pid, h->start_ns);

	if (p)
		return p;
	retire_stale(c, h->pid);
	p = pt_add(&c->pt, h->pid, h->start_ns, h->ppid);
	copy_comm(p->comm, h->comm);
	/* cidtrace forks only `run`'s command and its checkpoint writers, which are no one's */
	p->helper = c->cfg.self_pid && h->ppid == (uint32_t)c->cfg.self_pid &&
		    h->pid != (uint32_t)c->cfg.job_pid;
	return p;
}

void collector_link_parents(struct collector *c)
{
	pt_for_each(&c->pt, p)
		if (!p->parent && p->ppid && p->ppid != p->pid)
			pt_set_parent(p, pt_find_live(&c->pt, p->ppid));
	/* --pid: seeded entries learn their ancestry only now */
	if (c->cfg.npids)
		pt_for_each(&c->pt, p)
			collector_update_keep(c, p);
}

struct reap_action *collector_log_reap(struct collector *c, struct proc *p, const char *action,
				       uint64_t at_ns)
{
	struct reap_action *a = xreallocarray(c->reaped.v, c->reaped.n + 1, sizeof(*a));

	c->reaped.v = a;
	a = &c->reaped.v[c->reaped.n++];
	memset(a, 0, sizeof(*a));
	p->keep = true;
	a->proc = p;
	a->action = action;
	a->at_ns = at_ns;
	return a;
}
