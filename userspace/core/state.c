// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "container.h"
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

static bool listed(const struct collector *c, const struct proc *p)
{
	for (int i = 0; i < c->cfg.npids; i++)
		if (p->pid == (uint32_t)c->cfg.pids[i])
			return true;
	return false;
}

bool collector_in_pids(const struct collector *c, const struct proc *p)
{
	return !c->cfg.npids || p->in_pids;
}

void collector_set_in_pids(struct collector *c, struct proc *p)
{
	p->in_pids = listed(c, p) || (p->parent && p->parent->in_pids);
}

bool collector_in_job(const struct collector *c, const struct proc *p)
{
	/*
	 * A container the job had a runtime start is no descendant of the command and not in
	 * its cgroup: naming it with --scope-cgroup or --scope-container makes it the job's.
	 */
	return !c->cfg.job_pid || p->in_job ||
	       ((c->cfg.nscope_cgroups || c->cfg.nscope_containers) &&
		collector_cgroup_selected(&c->cfg, p->cgroup));
}

bool collector_scoped(const struct collector_cfg *cfg)
{
	return cfg->nscopes || cfg->nscope_cgroups || cfg->nscope_containers;
}

bool collector_cgroup_selected(const struct collector_cfg *cfg, const char *cgroup)
{
	struct container_id id;

	if (!cfg->nscope_cgroups && !cfg->nscope_containers)
		return true;
	if (!cgroup)
		return false;
	for (int i = 0; i < cfg->nscope_cgroups; i++)
		if (path_under(cgroup, cfg->scope_cgroups[i]))
			return true;
	if (!cfg->nscope_containers || !container_from_cgroup(cgroup, &id))
		return false;
	for (int i = 0; i < cfg->nscope_containers; i++)
		if (container_id_matches(&id, cfg->scope_containers[i]))
			return true;
	return false;
}

bool collector_scope_ns(const struct collector_cfg *cfg, uint64_t mnt_ns)
{
	return cfg->nscope_cgroups || cfg->nscope_containers || !cfg->scope_mnt_ns || !mnt_ns ||
	       mnt_ns == cfg->scope_mnt_ns;
}

bool collector_in_view(const struct collector *c, const struct proc *p)
{
	return (!collector_scoped(&c->cfg) || p->in_scope) && collector_in_pids(c, p) &&
	       collector_in_job(c, p);
}

bool collector_parent_exited(const struct proc *p)
{
	return p->orphaned || p->ppid == 1 || (p->parent && p->parent->start_ns > p->start_ns);
}

/* Started under the trace, alive when it ended, in scope, under --pid and in the job. */
static bool leaked(const struct collector *c, const struct proc *p, uint64_t ended_ns)
{
	return !p->seeded && (!p->exited || p->exit_ns > ended_ns) && collector_in_view(c, p);
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
	if (!collector_in_pids(c, p))
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
		collector_retire(c, old);
	}
}

struct proc *collector_proc(struct collector *c, const struct ct_event_hdr *h)
{
	struct proc *p = pt_find(&c->pt, h->pid, h->start_ns);

	if (p)
		return p;
	retire_stale(c, h->pid);
	p = pt_add(&c->pt, h->pid, h->start_ns, h->ppid);
	collector_set_in_pids(c, p);
	copy_comm(p->comm, h->comm);
	return p;
}

void collector_link_parents(struct collector *c)
{
	pt_for_each(&c->pt, p)
		if (!p->parent && p->ppid && p->ppid != p->pid)
			pt_set_parent(p, pt_find_live(&c->pt, p->ppid));
	if (!c->cfg.npids)
		return;
	/* --pid: seeded entries learn their ancestry only now, in no order: walk it */
	pt_for_each(&c->pt, p) {
		p->in_pids = false;
		for (const struct proc *a = p; a && !p->in_pids; a = a->parent)
			p->in_pids = listed(c, a);
	}
	pt_for_each(&c->pt, p)
		collector_update_keep(c, p);
}

struct reap_action *collector_log_reap(struct collector *c, struct proc *p, const char *action,
				       uint64_t at_ns)
{
	struct reap_action *a;

	p->keep = true;
	collector_ref(c, p); /* before the oldest goes: it may be p's */
	if (c->reaped.n == REAPED_KEPT_MAX) {
		/* actions are rare (one per signal sent): a move of the log is cheap enough */
		a = &c->reaped.v[0];
		collector_count_dropped(c, &c->retention.dropped_reaped, a->at_ns);
		collector_unref(c, a->proc, at_ns);
		memmove(a, a + 1, (c->reaped.n - 1) * sizeof(*a));
		c->reaped.n--;
	} else {
		c->reaped.v = xreallocarray(c->reaped.v, c->reaped.n + 1, sizeof(*a));
	}
	a = &c->reaped.v[c->reaped.n++];
	memset(a, 0, sizeof(*a));
	a->proc = p;
	a->action = action;
	a->reason = "vmm_leak";
	a->at_ns = at_ns;
	return a;
}

void collector_ref(struct collector *c, struct proc *p)
{
	p->refs++;
	if (p->queued)
		pt_queue_remove(&c->context, p);
}

bool collector_aged(const struct collector *c, uint64_t ended_ns, uint64_t now)
{
	return c->cfg.keep_for_ns && now >= c->cfg.keep_for_ns &&
	       ended_ns <= now - c->cfg.keep_for_ns;
}

void collector_count_dropped(struct collector *c, uint64_t *counter, uint64_t ended_ns)
{
	(*counter)++;
	if (ended_ns > c->retention.since_ns)
		c->retention.since_ns = ended_ns;
}

void collector_count_finding(struct collector *c, enum finding_kind kind, uint64_t ended_ns)
{
	c->retention.dropped_findings_kind[kind]++;
	collector_count_dropped(c, &c->retention.dropped_findings, ended_ns);
}

void collector_drop_context(struct collector *c, struct proc *p)
{
	uint64_t latest = 0;
	size_t n;

	pt_queue_remove(&c->context, p);
	n = pt_drop(&c->pt, p, &latest);
	/* the ancestors that went with it were in the report too, as its ancestry */
	c->retention.dropped_processes += n - 1;
	collector_count_dropped(c, &c->retention.dropped_processes, latest);
}

void collector_retire(struct collector *c, struct proc *p)
{
	/*
	 * An exited process that children still point to is listed as their ancestor: context
	 * like a kept one, under the same cap (with kept orphans, each holding its dead parent,
	 * the report would otherwise list up to twice --keep-processes).
	 */
	if (p->refs || (!p->keep && !p->children)) {
		pt_maybe_free(&c->pt, p);
		return;
	}
	if (!p->queued)
		pt_queue_push(&c->context, p);
	while (c->cfg.keep_processes && c->context.n > c->cfg.keep_processes)
		collector_drop_context(c, c->context.head);
}

void collector_unref(struct collector *c, struct proc *p, uint64_t now)
{
	if (--p->refs || !p->exited)
		return;
	if (p->keep && collector_aged(c, p->exit_ns ? p->exit_ns : p->start_ns, now)) {
		pt_queue_push(&c->context, p);
		collector_drop_context(c, p);
		return;
	}
	collector_retire(c, p);
}
