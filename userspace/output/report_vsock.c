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

struct json_object *vsock_cids_json(const struct collector *c)
{
	struct json_object *arr = json_object_new_array();

	for (const struct binding *b = vsock_bindings(c->vsock); b; b = b->next) {
		struct json_object *o = json_object_new_object(), *by = NULL;

		json_object_object_add(o, "id", binding_id(b));
		json_object_object_add(o, "cid", jint(b->cid));
		json_object_object_add(o, "binder", proc_ref_json(b->binder));
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
		if (f->kind == CID_CONFLICT) {
			holders = json_object_new_array();
			for (int i = 0; i < f->nholders; i++)
				json_object_array_add(holders,
						      holder_json(&f->holders[i], f->last_ns));
			json_object_object_add(o, "holder", holders);
			json_object_object_add(o, "binding", b ? binding_id(b) : NULL);
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
