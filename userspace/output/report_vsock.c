// SPDX-License-Identifier: GPL-2.0
/* The report's cids[] and its cid_conflict and invalid_cid findings, from core/vsock.c's state. */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "narrate.h"
#include "report_proc.h"
#include "report_vsock.h"
#include "vsock.h"

static struct json_object *binding_id(const struct binding *b)
{
	char id[32];

	snprintf(id, sizeof(id), "vsock-%u", b->id);
	return jstr(id);
}

/* A namespace inode, or null: unknown (a capture of an older cidtrace). */
static struct json_object *net_ns_json(uint32_t ns)
{
	return ns ? jint(ns) : NULL;
}

/* Whose namespace: the vhost file's (Linux 7.0+), or the process's at the (attempted) bind. */
static struct json_object *net_ns_of_json(uint32_t ns, uint32_t flags)
{
	return ns ? jstr(flags & CT_VSOCK_NET_FILE ? "file" : "binder") : NULL;
}

static void add_net_ns(struct json_object *o, uint32_t ns, uint32_t flags)
{
	json_object_object_add(o, "net_ns", net_ns_json(ns));
	json_object_object_add(o, "net_ns_of", net_ns_of_json(ns, flags));
}

/* "local": 7.0's per-namespace CIDs; "global": one space for the host (all before 7.0). */
static struct json_object *ns_mode_json(const struct binding *b)
{
	if (!b->net_ns)
		return NULL;
	return jstr(b->net_flags & CT_VSOCK_NET_LOCAL ? "local" : "global");
}

struct json_object *vsock_cids_json(const struct collector *c)
{
	struct json_object *arr = json_object_new_array();

	for (const struct binding *b = vsock_bindings(c->vsock); b; b = b->next) {
		struct json_object *o = json_object_new_object(), *by = NULL;

		json_object_object_add(o, "id", binding_id(b));
		json_object_object_add(o, "cid", jint(b->cid));
		json_object_object_add(o, "binder", proc_ref_json(b->binder));
		add_net_ns(o, b->net_ns, b->net_flags);
		json_object_object_add(o, "ns_mode", ns_mode_json(b));
		json_object_object_add(o, "bound_at", jtime(b->bound_ns));
		json_object_object_add(o, "released_at", jtime(b->released_ns));
		if (b->released && b->released_by_pid) {
			by = json_object_new_object();
			json_object_object_add(by, "pid", jint(b->released_by_pid));
			json_object_object_add(by, "comm", jstr(b->released_by_comm));
		}
		json_object_object_add(o, "released_by", by);
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *holder_json(const struct held *h, uint64_t at)
{
	const struct proc *p = h->proc;
	struct json_object *o = proc_json_brief(p);

	json_object_object_add(o, "orphaned", json_object_new_boolean(p->orphaned));
	json_object_object_add(o, "original_ppid", p->orphaned ? jint(p->original_ppid) : NULL);
	json_object_object_add(o, "state_at_conflict",
			       jstr(holder_state_name(vsock_holder_state(h, at))));
	json_object_object_add(o, "exited_at", p->exited ? jtime(p->exit_ns) : NULL);
	json_object_object_add(o, "fatal_signals", fatal_signals_json(p, at));
	return o;
}

void vsock_findings_json(const struct collector *c, struct json_object *findings)
{
	for (const struct conflict *f = vsock_conflicts(c->vsock); f; f = f->next) {
		struct json_object *o, *holders;
		const char *cls = vsock_classification(c->vsock, f);
		const struct binding *b = f->binding;

		if (!vsock_wanted(c, f))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "kind", jstr(finding_kind_name(f->kind)));
		json_object_object_add(o, "summary", NULL); /* told below, from the finding */
		json_object_object_add(o, "cid", jint(f->cid));
		json_object_object_add(o, "at", jtime(f->last_ns));
		json_object_object_add(o, "first_at", jtime(f->first_ns));
		json_object_object_add(o, "last_at", jtime(f->last_ns));
		json_object_object_add(o, "attempts", jint(f->attempts));
		json_object_object_add(o, "attempt", proc_json_brief(f->attempt));
		add_net_ns(o, f->net_ns, f->net_flags);
		if (f->kind == CID_CONFLICT) {
			holders = json_object_new_array();
			for (int i = 0; i < f->nholders; i++)
				json_object_array_add(holders,
						      holder_json(&f->holders[i], f->last_ns));
			json_object_object_add(o, "holder", holders);
			json_object_object_add(o, "binding", b ? binding_id(b) : NULL);
			json_object_object_add(o, "holder_net_ns", net_ns_json(b ? b->net_ns : 0));
			json_object_object_add(
				o, "binder",
				b && (!f->nholders || b->binder != f->holders[0].proc)
					? proc_json_brief(b->binder)
					: NULL);
			json_object_object_add(o, "bound_at", b ? jtime(b->bound_ns) : NULL);
			json_object_object_add(o, "released_at", b ? jtime(b->released_ns) : NULL);
			json_object_object_add(o, "classification", jstr(cls));
		}
		narrate_into(o);
		json_object_array_add(findings, o);
	}
}
