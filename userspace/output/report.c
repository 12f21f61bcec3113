// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "json.h"
#include "narrate.h"
#include "collector.h"
#include "report.h"
#include "report_proc.h"
#include "report_uffd.h"
#include "report_vsock.h"
#include "uffd.h"
#include "util.h"
#include "vocab.h"

#define add(o, k, v) json_object_object_add(o, k, v)

static struct json_object *jbool(bool b)
{
	return json_object_new_boolean(b);
}

static struct json_object *process_json(const struct proc *p)
{
	struct json_object *o = json_object_new_object();

	add(o, "pid", jint(p->pid));
	add(o, "ppid", jint(p->ppid));
	add(o, "start_ns", jint(p->start_ns));
	add(o, "comm", jstr(p->comm));
	add(o, "exe", jstr_or_null(p->exe));
	add(o, "argv", jargv(p->argv, p->argv_len));
	add(o, "argv_truncated", jbool(p->argv_truncated));
	add(o, "cwd", jstr_or_null(p->cwd));
	add(o, "test_dir", jstr_or_null(p->test_dir));
	add(o, "ns", ns_json(p));
	add(o, "cgroup", jstr_or_null(p->cgroup));
	add(o, "container", container_json(p));
	add(o, "role", jstr_or_null(role_name(p->role)));
	add(o, "in_scope", jbool(p->in_scope));
	add(o, "in_job", jbool(p->in_job));
	add(o, "original_ppid", p->orphaned ? jint(p->original_ppid) : NULL);
	add(o, "orphaned", jbool(p->orphaned));
	add(o, "started_at", p->seeded ? NULL : jtime(p->start_ns));
	add(o, "exited_at", p->exited ? jtime(p->exit_ns) : NULL);
	add(o, "exit", exit_json(p));
	add(o, "fatal_signals", fatal_signals_json(p, UINT64_MAX));
	add(o, "fatal_signals_total", jint(p->sigs_total));
	return o;
}

/*
 * processes[]: kept processes and their ancestors (marked emit by collector_refresh), oldest
 * first, one compact object per line. Each is built, written and freed in turn: with 100,000
 * of them, a tree of the whole array would take hundreds of MB. Returns how many.
 */
static size_t write_processes(FILE *f, const struct collector *c)
{
	struct proc **list;
	size_t n = 0;

	pt_for_each(&c->pt, p)
		n += p->emit;
	list = xcalloc(n ? n : 1, sizeof(*list));
	n = 0;
	pt_for_each(&c->pt, p) {
		if (p->emit)
			list[n++] = p;
	}
	qsort(list, n, sizeof(*list), pt_by_start);
	fputs("[", f);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = process_json(list[i]);

		fputs(i ? ",\n    " : "\n    ", f);
		jwrite(f, o, CT_JSON_FLAGS);
		json_object_put(o);
	}
	fputs("\n  ]", f);
	free(list);
	return n;
}

/* vmm_leak: a VMM that started under the trace and outlived it (reaped or not). Only a final
 * report has them; at a checkpoint the trace has not ended, so nothing has outlived it yet.
 * Oldest first, as processes[]: the table's order is no order. */
static void leak_findings(struct collector *c, const struct report_meta *m,
			  struct json_object *findings)
{
	struct proc **leaks = NULL;
	size_t n = 0;

	pt_for_each(&c->pt, p)
		if (collector_is_leak(c, p, m->ended_ns)) {
			leaks = xreallocarray(leaks, n + 1, sizeof(*leaks));
			leaks[n++] = p;
		}
	if (n)
		qsort(leaks, n, sizeof(*leaks), pt_by_start);
	for (size_t i = 0; i < n; i++) {
		const struct proc *p = leaks[i];
		struct json_object *f;
		double age;

		age = (double)(m->ended_ns - p->start_ns) / 1e9;
		f = json_object_new_object();
		add(f, "kind", jstr(finding_kind_name(VMM_LEAK)));
		add(f, "pid", jint(p->pid));
		add(f, "ppid", jint(p->ppid));
		add(f, "start_ns", jint(p->start_ns));
		add(f, "comm", jstr(p->comm));
		add(f, "test_dir", jstr_or_null(p->test_dir));
		add(f, "mnt_ns", mnt_ns_json(p));
		add(f, "orphaned", jbool(p->orphaned));
		add(f, "started_at", jtime(p->start_ns));
		add(f, "age_s", json_object_new_double(age));
		add(f, "uffd", uffd_leak_json(c, p));
		add(f, "summary", NULL);
		narrate_into(f);
		json_object_array_add(findings, f);
	}
	free(leaks);
}

/* reaped[]: what --reap and --kill-orphans did, empty without them. */
static struct json_object *reap_json(const struct reap_log *log)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < log->n; i++) {
		const struct reap_action *a = &log->v[i];
		struct json_object *o = proc_ref_json(a->proc);

		json_object_object_add(
			o, "role",
			jstr(role_name(a->proc->role == ROLE_VMM ? ROLE_VMM : ROLE_PAGER)));
		json_object_object_add(o, "action", jstr(a->action));
		json_object_object_add(o, "reason", jstr(a->reason));
		json_object_object_add(o, "at", jtime(a->at_ns));
		json_object_object_add(o, "exited", json_object_new_boolean(a->exited));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *strings_json(const char *const *v, int n)
{
	struct json_object *a = json_object_new_array();

	for (int i = 0; i < n; i++)
		json_object_array_add(a, jstr(v[i]));
	return a;
}

/* trace.job: `run`'s command and how its processes are told; null for `record`, and until the
 * command started. */
static struct json_object *job_json(const struct collector *c)
{
	struct json_object *j;

	if (!c->cfg.job_pid)
		return NULL;
	j = json_object_new_object();
	add(j, "pid", jint(c->cfg.job_pid > 0 ? c->cfg.job_pid : 0));
	add(j, "cgroup", jstr_or_null(c->cfg.job_cgroup));
	add(j, "identity", jstr(c->cfg.job_cgroup ? "cgroup" : "ancestry"));
	return j;
}

/* trace.retention: what retention keeps, and what it dropped: the report is a window. */
static struct json_object *retention_json(const struct collector *c)
{
	const struct retention_stats *r = &c->retention;
	struct json_object *o = json_object_new_object();

	add(o, "keep_processes", jint(c->cfg.keep_processes));
	add(o, "keep_for_s", jint(c->cfg.keep_for_ns / 1000000000ull));
	add(o, "dropped_processes", jint(r->dropped_processes));
	add(o, "dropped_cids", jint(r->dropped_cids));
	add(o, "dropped_uffds", jint(r->dropped_uffds));
	add(o, "dropped_findings", jint(r->dropped_findings));
	add(o, "dropped_reaped", jint(r->dropped_reaped));
	add(o, "since", r->since_ns ? jtime(r->since_ns) : NULL);
	return o;
}

/* A number with 3 decimals, not json-c's 17 digits (0.2 is not 0.20000000000000001). */
static struct json_object *jmilli(double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.3f", v);
	return json_object_new_double_s(v, buf);
}

/* trace.checkpoints: null in the replay of a capture from before they were counted */
static struct json_object *checkpoints_json(const struct checkpoint_stats *cp)
{
	struct json_object *o;

	if (!cp)
		return NULL;
	o = json_object_new_object();
	add(o, "interval_s", jmilli(cp->interval_ns / 1e9));
	add(o, "written", jint(cp->written));
	add(o, "skipped", jint(cp->skipped));
	add(o, "failed", jint(cp->failed));
	add(o, "last_stall_ms", jmilli(cp->last_stall_ns / 1e6));
	add(o, "max_stall_ms", jmilli(cp->max_stall_ns / 1e6));
	return o;
}

static struct json_object *trace_json(struct collector *c, const struct report_meta *m)
{
	struct json_object *t = json_object_new_object(), *attach, *events, *cmd = NULL;

	add(t, "mode", jstr(m->mode));
	if (m->command) {
		cmd = json_object_new_array();
		for (char *const *a = m->command; *a; a++)
			json_object_array_add(cmd, jstr(*a));
	}
	add(t, "command", cmd);
	add(t, "started_at", jtime(m->started_ns));
	add(t, "ended_at", m->ended_ns ? jtime(m->ended_ns) : NULL);
	add(t, "updated_at", jtime(m->ended_ns ? m->ended_ns : now_boot_ns()));
	add(t, "final", jbool(m->ended_ns != 0));
	add(t, "complete", jbool(m->lost == 0 && !m->incomplete));
	add(t, "previous", previous_json(m->previous, m->started_ns));
	attach = json_object_new_object();
	add(attach, "process", jstr(m->attach->process));
	add(attach, "snapshot", jstr(m->attach->snapshot));
	add(attach, "vsock", jstr(m->attach->vsock));
	add(attach, "vsock_since", jtime(m->attach->vsock_since_ns));
	add(attach, "uffd", jstr(m->attach->uffd));
	add(attach, "spin_basis", jstr(uffd_spin_basis(c->uffd)));
	add(t, "attach", attach);
	events = json_object_new_object();
	add(events, "received", jint(c->received));
	add(events, "lost", jint(m->lost));
	add(events, "uffd_serves_overflow", jint(m->uffd_serves_overflow));
	add(events, "uffd_scans_deferred", jint(uffd_deferred(c->uffd)->scans));
	add(events, "uffd_rereads_deferred", jint(uffd_deferred(c->uffd)->rereads));
	add(t, "events", events);
	add(t, "ring_buffer_bytes", m->ring_buffer_bytes ? jint(m->ring_buffer_bytes) : NULL);
	add(t, "checkpoints", checkpoints_json(m->checkpoints));
	if (m->raw) {
		struct json_object *raw = json_object_new_object();

		add(raw, "records", jint(m->raw->records));
		add(raw, "bytes", jint(m->raw->bytes));
		add(raw, "dropped", jint(m->raw->dropped));
		add(raw, "complete", jbool(m->raw->complete));
		add(t, "raw", raw);
	}
	add(t, "job", job_json(c));
	add(t, "scope", strings_json(c->cfg.scopes, c->cfg.nscopes));
	add(t, "scope_mnt_ns", c->cfg.scope_mnt_ns ? jint(c->cfg.scope_mnt_ns) : NULL);
	add(t, "scope_cgroups", strings_json(c->cfg.scope_cgroups, c->cfg.nscope_cgroups));
	add(t, "scope_containers", strings_json(c->cfg.scope_containers, c->cfg.nscope_containers));
	add(t, "scratch_roots", strings_json(c->cfg.td.roots, c->cfg.td.nroots));
	add(t, "test_dir_depth", jint(c->cfg.td.depth));
	add(t, "retention", retention_json(c));
	return t;
}

uint64_t finding_counts_kind(const struct finding_counts *fc, const char *kind)
{
	uint64_t n = 0;

	for (int i = 0; i < fc->n; i++)
		if (!strcmp(fc->v[i].kind, kind))
			n += fc->v[i].n;
	return n;
}

static void count_findings(struct json_object *findings, struct finding_counts *fc)
{
	memset(fc, 0, sizeof(*fc));
	for (size_t i = 0; i < json_object_array_length(findings); i++) {
		struct json_object *f = json_object_array_get_idx(findings, i), *v;
		const char *kind = json_object_get_string(json_object_object_get(f, "kind"));
		const char *cls = json_object_object_get_ex(f, "classification", &v)
					  ? json_object_get_string(v)
					  : "";
		int j = 0;

		while (j < fc->n &&
		       (strcmp(fc->v[j].kind, kind) || strcmp(fc->v[j].classification, cls)))
			j++;
		if (j == MAX_FINDING_COUNTS)
			continue; /* more kinds and classes than exist */
		if (j == fc->n) {
			snprintf(fc->v[j].kind, sizeof(fc->v[j].kind), "%s", kind);
			snprintf(fc->v[j].classification, sizeof(fc->v[j].classification), "%s",
				 cls);
			fc->n++;
		}
		fc->v[j].n++;
	}
}

struct report_ctx {
	struct collector *c;
	const struct report_meta *m;
	struct finding_counts *counts;
	size_t nprocs;
	long bytes;
};

/* A member of the report's top-level object, written as json-c writes it pretty; puts v. */
static void member(FILE *f, const char *key, struct json_object *v)
{
	fprintf(f, ",\n  \"%s\":", key);
	jwrite_at(f, v, CT_JSON_FLAGS | JSON_C_TO_STRING_PRETTY, 1);
	json_object_put(v);
}

/* The report, member by member in a pretty form but for processes[] (write_processes). */
static int write_report(FILE *f, void *arg)
{
	struct report_ctx *x = arg;
	struct json_object *tool, *host, *findings;
	const struct report_meta *m = x->m;
	struct collector *c = x->c;
	char hostname[256] = "";
	struct utsname u;

	uname(&u);
	gethostname(hostname, sizeof(hostname) - 1);
	fprintf(f, "{\n  \"schema\":\"%s\"", REPORT_SCHEMA);
	tool = json_object_new_object();
	add(tool, "name", jstr("cidtrace"));
	add(tool, "version", jstr(CIDTRACE_VERSION));
	member(f, "tool", tool);
	host = json_object_new_object();
	add(host, "hostname", jstr(m->hostname ? m->hostname : hostname));
	add(host, "kernel", jstr(m->kernel ? m->kernel : u.release));
	member(f, "host", host);
	member(f, "trace", trace_json(c, m));
	fputs(",\n  \"processes\":", f);
	x->nprocs = write_processes(f, c);
	member(f, "cids", vsock_cids_json(c));
	member(f, "uffds", uffd_contexts_json(c));
	findings = json_object_new_array();
	vsock_findings_json(c, findings);
	uffd_findings_json(c, findings);
	if (m->ended_ns)
		leak_findings(c, m, findings);
	if (x->counts)
		count_findings(findings, x->counts);
	member(f, "findings", findings);
	member(f, "reaped", reap_json(&c->reaped));
	fputs("\n}\n", f);
	x->bytes = ftell(f);
	return 0;
}

int report_write(const char *path, struct collector *c, const struct report_meta *m,
		 struct finding_counts *counts)
{
	struct report_ctx x = { c, m, counts, 0, 0 };
	uint64_t t0 = now_boot_ns();
	int ret;

	collector_refresh(c);
	ret = atomic_write_stream(path, write_report, &x);
	if (!ret && m->verbose && m->ended_ns)
		errmsg("report written: %ld bytes, %zu processes, %.3f ms", x.bytes, x.nprocs,
		       (now_boot_ns() - t0) / 1e6);
	return ret;
}

void report_warn_lost(const struct report_meta *m, const char *path)
{
	if (m->lost)
		errmsg("%llu events lost: the trace is incomplete (trace.events.lost in '%s')",
		       (unsigned long long)m->lost, path);
}
