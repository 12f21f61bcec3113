// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "container.h"
#include "json.h"
#include "report_proc.h"

#define add(o, k, v) json_object_object_add(o, k, v)

static struct json_object *jbool(bool b)
{
	return json_object_new_boolean(b);
}

struct json_object *fatal_signals_json(const struct proc *p, uint64_t until_ns)
{
	struct json_object *arr = json_object_new_array();
	char buf[16];

	for (uint32_t i = 0; i < p->nsigs; i++) {
		const struct fatal_signal *s = &p->sigs[i];
		struct json_object *so;

		if (s->at_ns > until_ns)
			continue;
		so = json_object_new_object();
		add(so, "signal", jint(s->signal));
		add(so, "name", jstr(signal_name(s->signal, buf, sizeof(buf))));
		add(so, "at", jtime(s->at_ns));
		add(so, "sender_pid", jint(s->sender_pid));
		add(so, "sender_comm", jstr(s->sender_comm));
		json_object_array_add(arr, so);
	}
	return arr;
}

struct json_object *mnt_ns_json(const struct proc *p)
{
	return p->mnt_ns ? jint(p->mnt_ns) : NULL;
}

struct json_object *ns_json(const struct proc *p)
{
	struct json_object *o, *pids;

	if (!p->nspid_levels)
		return NULL;
	o = json_object_new_object();
	pids = json_object_new_array();
	for (int i = 0; i < p->nspid_levels; i++)
		json_object_array_add(pids, jint(p->nspid[i]));
	add(o, "pid", pids);
	add(o, "pid_truncated", jbool(p->nspid_truncated));
	add(o, "pid_ns", jint(p->pid_ns));
	add(o, "mnt_ns", jint(p->mnt_ns));
	add(o, "net_ns", jint(p->net_ns));
	return o;
}

struct json_object *container_json(const struct proc *p)
{
	struct container_id id;
	struct json_object *o;

	/* which container the cgroup path names (core/container.c) */
	if (!p->cgroup || !container_from_cgroup(p->cgroup, &id))
		return NULL;
	o = json_object_new_object();
	add(o, "runtime", jstr(id.runtime));
	add(o, "id", id.id[0] ? jstr(id.id) : NULL);
	add(o, "pod_uid", id.pod_uid[0] ? jstr(id.pod_uid) : NULL);
	return o;
}

uint32_t proc_inner_pid(const struct proc *p)
{
	uint32_t inner;

	if (p->nspid_levels < 2 || p->nspid_truncated)
		return 0;
	inner = p->nspid[p->nspid_levels - 1];
	return inner != p->pid ? inner : 0;
}

bool proc_where(const struct proc *p, char *buf, char *ct)
{
	char shortid[CONTAINER_SHORT_MAX] = "";
	uint32_t inner = proc_inner_pid(p);
	struct container_id id;
	int n = 0;

	if (p->cgroup && container_from_cgroup(p->cgroup, &id)) {
		container_short(&id, shortid);
		n = snprintf(buf, PROC_WHERE_MAX, "container %s", shortid);
	}
	if (ct)
		memcpy(ct, shortid, sizeof(shortid));
	if (inner)
		n += snprintf(buf + n, PROC_WHERE_MAX - n, "%spid %u %s", n ? ", " : "", inner,
			      n ? "inside" : "in its pid namespace");
	if (!n)
		buf[0] = '\0';
	return n;
}

struct json_object *proc_ref_json(const struct proc *p)
{
	struct json_object *o = json_object_new_object();

	add(o, "pid", jint(p->pid));
	add(o, "start_ns", jint(p->start_ns));
	add(o, "comm", jstr(p->comm));
	add(o, "test_dir", jstr_or_null(p->test_dir));
	add(o, "mnt_ns", mnt_ns_json(p));
	return o;
}

struct json_object *proc_json_brief(const struct proc *p)
{
	struct json_object *o = proc_ref_json(p);

	add(o, "ppid", jint(p->ppid));
	add(o, "argv", jargv(p->argv, p->argv_len));
	return o;
}

struct json_object *exit_json(const struct proc *p)
{
	struct json_object *ex;
	int sig = p->exit_status & 0x7f;

	if (!p->exited || !p->exit_ns)
		return NULL;
	ex = json_object_new_object();
	add(ex, "code", jint(sig ? 0 : (p->exit_status >> 8) & 0xff));
	add(ex, "signal", jint(sig));
	add(ex, "core_dumped", jbool(p->exit_status & 0x80));
	return ex;
}
