// SPDX-License-Identifier: GPL-2.0
/* The report's uffds[], uffd_orphan findings and a vmm_leak's uffd, from core/uffd.c's state. */
#include <stdio.h>
#include <unistd.h>

#include "json.h"
#include "narrate.h"
#include "report_proc.h"
#include "report_uffd.h"
#include "uffd.h"

static uint64_t served_bytes(const struct uctx *u, uint64_t *last_ns)
{
	uint64_t bytes = 0;

	*last_ns = 0;
	for (int i = 0; i < u->nhandlers; i++) {
		bytes += u->handlers[i].bytes;
		if (u->handlers[i].last_ns > *last_ns)
			*last_ns = u->handlers[i].last_ns;
	}
	return bytes;
}

/* Exact ioctl counts with the precise hooks; otherwise the resident registered pages. */
static void add_memory(struct json_object *o, const struct collector *c, const struct uctx *u)
{
	bool counted = uffd_counts_serves(c->uffd);
	uint64_t last_ns, bytes = counted ? served_bytes(u, &last_ns) : u->resident;
	long page = sysconf(_SC_PAGESIZE);

	json_object_object_add(o, "registered_bytes", jint(u->registered));
	json_object_object_add(o, "pages_served", jint(bytes / page));
	json_object_object_add(o, "pages_served_from", jstr(counted ? "ioctls" : "resident"));
	json_object_object_add(o, "last_served_at", counted ? jtime(last_ns) : NULL);
}

static struct json_object *id_json(const struct uctx *u)
{
	char id[24];

	uffd_id(u, id, sizeof(id));
	return jstr(id);
}

struct json_object *uffd_contexts_json(const struct collector *c)
{
	struct json_object *arr = json_object_new_array();

	for (const struct uctx *u = uffd_contexts(c->uffd); u; u = u->next) {
		struct json_object *o, *hs;

		if (!uffd_wanted(c, u))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "id", id_json(u));
		json_object_object_add(o, "owner", u->owner ? proc_ref_json(u->owner) : NULL);
		hs = json_object_new_array();
		for (int i = 0; i < u->nhandlers; i++) {
			const struct handler *h = &u->handlers[i];
			struct json_object *ho = proc_ref_json(h->proc);

			json_object_object_add(ho, "holding", json_object_new_boolean(!h->gone_ns));
			json_object_object_add(ho, "serving_ioctls", jint(h->ioctls));
			json_object_object_add(ho, "served_bytes", jint(h->bytes));
			json_object_object_add(ho, "last_served_at", jtime(h->last_ns));
			json_object_object_add(ho, "exited_at",
					       h->proc->exited ? jtime(h->proc->exit_ns) : NULL);
			json_object_array_add(hs, ho);
		}
		json_object_object_add(o, "handlers", hs);
		add_memory(o, c, u);
		json_object_object_add(o, "registrations", jint(u->registrations));
		json_object_object_add(o, "unregistrations", jint(u->unregistrations));
		json_object_object_add(o, "state", jstr(uffd_ctx_state(u)));
		json_object_object_add(o, "first_seen_at", jtime(u->first_seen_ns));
		json_object_object_add(o, "seeded", json_object_new_boolean(u->seeded));
		json_object_object_add(o, "released_at", jtime(u->released_ns));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *guest_json(const struct proc *p)
{
	struct json_object *o = proc_json_brief(p);

	json_object_object_add(o, "orphaned", json_object_new_boolean(p->orphaned));
	json_object_object_add(o, "exited_at", p->exited ? jtime(p->exit_ns) : NULL);
	return o;
}

static struct json_object *orphan_json(const struct collector *c, const struct uctx *u)
{
	const struct orphan *o = u->orphan;
	const struct proc *g = u->owner, *pg = o->pager.proc;
	struct json_object *f = json_object_new_object(), *x, *arr;
	char note[160] = "";

	if (o->restarted)
		snprintf(note, sizeof(note), "pager restarted (pid %u) but never served this guest",
			 o->restarted->pid);
	json_object_object_add(f, "kind", jstr(finding_kind_name(UFFD_ORPHAN)));
	json_object_object_add(f, "summary", NULL); /* told below, from the finding */
	json_object_object_add(f, "state", jstr(uffd_state_name(o->state)));
	json_object_object_add(f, "since", jtime(o->since));
	json_object_object_add(f, "state_since", jtime(o->state_since));
	json_object_object_add(f, "resolved_at", jtime(o->resolved_ns));
	json_object_object_add(f, "resolution", o->resolution ? jstr(o->resolution) : NULL);
	arr = json_object_new_array();
	for (int i = 0; i < o->nhistory; i++) {
		x = json_object_new_object();
		json_object_object_add(x, "state", jstr(uffd_state_name(o->history[i].state)));
		json_object_object_add(x, "at", jtime(o->history[i].at));
		json_object_array_add(arr, x);
	}
	json_object_object_add(f, "history", arr);
	json_object_object_add(f, "guest", guest_json(g));
	x = proc_json_brief(pg);
	json_object_object_add(x, "exited_at", pg->exited ? jtime(pg->exit_ns) : NULL);
	json_object_object_add(x, "exit", exit_json(pg));
	json_object_object_add(x, "fatal_signals", fatal_signals_json(pg, UINT64_MAX));
	json_object_object_add(f, "pager", x);
	x = json_object_new_object();
	json_object_object_add(x, "id", id_json(u));
	add_memory(x, c, u);
	/* released: what the guest now reads as zeros; null where not known or not released */
	json_object_object_add(x, "never_served_pages",
			       o->never_served >= 0 ? jint(o->never_served) : NULL);
	json_object_object_add(x, "never_served_from",
			       o->never_served_from ? jstr(o->never_served_from) : NULL);
	json_object_object_add(x, "pending", jint(o->pending));
	json_object_object_add(x, "total", jint(o->total));
	json_object_object_add(f, "uffd", x);
	json_object_object_add(f, "cpu_pct", json_object_new_double(o->cpu_pct));
	/* unknown (no schedstat, or not two samples yet): null, never a 0 that reads as idle */
	json_object_object_add(f, "demand_pct",
			       o->demand_pct >= 0 ? json_object_new_double(o->demand_pct) : NULL);
	arr = json_object_new_array();
	for (int i = 0; i < o->ntop; i++) {
		char st[2] = { o->top[i].state, '\0' };

		x = json_object_new_object();
		json_object_object_add(x, "tid", jint(o->top[i].tid));
		json_object_object_add(x, "comm", jstr(o->top[i].comm));
		json_object_object_add(x, "cpu_pct", json_object_new_double(o->top_pct[i]));
		json_object_object_add(
			x, "demand_pct",
			o->top_demand[i] >= 0 ? json_object_new_double(o->top_demand[i]) : NULL);
		json_object_object_add(x, "state", jstr(st));
		json_object_array_add(arr, x);
	}
	json_object_object_add(f, "threads", arr);
	x = NULL;
	if (o->restarted) {
		x = proc_ref_json(o->restarted);
		json_object_object_add(x, "started_at", jtime(o->restarted->start_ns));
	}
	json_object_object_add(f, "restarted_pager", x);
	json_object_object_add(f, "note", note[0] ? jstr(note) : NULL);
	narrate_into(f);
	return f;
}

void uffd_findings_json(const struct collector *c, struct json_object *findings)
{
	for (const struct uctx *u = uffd_contexts(c->uffd); u; u = u->next)
		if (u->orphan && uffd_wanted(c, u))
			json_object_array_add(findings, orphan_json(c, u));
}

/*
 * The context a leaked VMM's finding tells of: a live one (the first seen), else the released
 * one whose release left a finding (it lost memory), else the latest released: null only
 * when none of its contexts is known, or retention dropped them.
 */
static const struct uctx *leak_ctx(const struct collector *c, const struct proc *owner)
{
	const struct uctx *best = NULL;

	for (const struct uctx *u = uffd_contexts(c->uffd); u; u = u->next) {
		if (u->owner != owner)
			continue;
		if (!u->released)
			return u;
		if (!best || u->orphan || !best->orphan)
			best = u;
	}
	return best;
}

struct json_object *uffd_leak_json(const struct collector *c, const struct proc *owner)
{
	const struct uctx *u = leak_ctx(c, owner);
	const struct orphan *o = u ? u->orphan : NULL;
	const struct handler *pager = NULL;
	struct json_object *x;
	bool lost = o && o->state == ORPHAN_RELEASED;

	if (!u)
		return NULL;
	for (int i = 0; i < u->nhandlers; i++)
		if (!pager || !u->handlers[i].gone_ns)
			pager = &u->handlers[i];
	x = json_object_new_object();
	json_object_object_add(x, "id", id_json(u));
	json_object_object_add(x, "state", jstr(uffd_ctx_state(u)));
	json_object_object_add(x, "pager_pid", pager ? jint(pager->proc->pid) : NULL);
	json_object_object_add(x, "registered_bytes", jint(u->registered));
	json_object_object_add(x, "released_at", jtime(u->released_ns));
	json_object_object_add(x, "never_served_pages",
			       lost && o->never_served >= 0 ? jint(o->never_served) : NULL);
	json_object_object_add(x, "never_served_from",
			       lost && o->never_served_from ? jstr(o->never_served_from) : NULL);
	return x;
}
