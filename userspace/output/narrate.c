// SPDX-License-Identifier: GPL-2.0
/*
 * The words for each finding kind. Summaries are plain text for the report (the writer
 * escapes nothing: JSON does); stories go through the render context's escaper.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "narrate.h"
#include "util.h"
#include "vocab.h"

/* The writer's buffers: a summary longer than this, less one, is cut. */
#define CONFLICT_SUMMARY_MAX 512
#define ORPHAN_SUMMARY_MAX   768
#define LEAK_SUMMARY_MAX     512

/* "qemu-a pid 812 (/ci/TestA/001)", or without the parenthesis when there is no test_dir. */
static void who(FILE *f, struct json_object *p)
{
	const char *dir = jgets(p, "test_dir");

	fprintf(f, "%s pid %lld%s%s%s", jgets(p, "comm") ? jgets(p, "comm") : "",
		(long long)jgeti(p, "pid"), dir ? " (" : "", dir ? dir : "", dir ? ")" : "");
}

static bool same_str(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static void conflict_summary(FILE *f, struct json_object *x, enum finding_kind kind)
{
	struct json_object *a = jget(x, "attempt"), *h = jidx(x, "holder", 0);
	enum cid_class cls = cid_class_from_name(jgets(x, "classification"));
	const char *adir = jgets(a, "test_dir"), *hdir = jgets(h, "test_dir");

	fprintf(f, "CID %llu: ", (unsigned long long)jgeti(x, "cid"));
	who(f, a);
	fprintf(f, " failed to bind it%s", jgeti(x, "attempts") > 1 ? " repeatedly" : "");
	if (kind == INVALID_CID) {
		fputs(": CIDs 0-2 and 4294967295 are reserved, and a CID must fit 32 bits.", f);
		return;
	}
	if (cls == CLASS_HOST_LOCAL_CID) {
		fputs(": it is this host's own vsock CID; pick another.", f);
		return;
	}
	if (!h) {
		fputs(", but no holder was seen; it was bound before tracing and the snapshot "
		      "could not say by whom.",
		      f);
		return;
	}
	fputs("; held by ", f);
	who(f, h);
	fprintf(f, ", %s%s",
		cls == CLASS_TEARDOWN_RACE   ? "which was still dying: a teardown race"
		: cls == CLASS_INHERITED_FD  ? "which inherited the vhost fd from its exited binder"
		: cls == CLASS_ORPHAN_HOLDER ? "an orphan whose parent is gone"
					     : "a live VMM using the same CID",
		hdir && adir && !same_str(hdir, adir) ? "; the two tests share a CID" : "");
	/* Two containers' VMMs collide here only because CIDs are one host-wide space. */
	if (jget(x, "net_ns") && jget(x, "holder_net_ns") &&
	    jgeti(x, "net_ns") != jgeti(x, "holder_net_ns"))
		fprintf(f,
			"; from network namespaces net:[%lld] and net:[%lld], which share CIDs "
			"before Linux 7.0 and in its global mode",
			(long long)jgeti(x, "net_ns"), (long long)jgeti(x, "holder_net_ns"));
	fputc('.', f);
}

/* What became of the pager: "closed its uffd", "got SIGKILL from pid 1 and exited", ... */
static void pager_summary(FILE *f, struct json_object *p)
{
	size_t nsigs = jlen(p, "fatal_signals");
	struct json_object *last = nsigs ? jidx(p, "fatal_signals", nsigs - 1) : NULL;
	struct json_object *ex = jget(p, "exit");
	char name[16];

	who(f, p);
	if (!jget(p, "exited_at"))
		fputs(" closed its uffd", f);
	else if (last)
		fprintf(f, " got %s from pid %lld and exited", jgets(last, "name"),
			(long long)jgeti(last, "sender_pid"));
	else if (jgeti(ex, "signal"))
		fprintf(f, " was killed by %s",
			signal_name(jgeti(ex, "signal"), name, sizeof(name)));
	else
		fprintf(f, " exited with status %lld", (long long)jgeti(ex, "code"));
}

/*
 * A spinning thread's demand (schedstat run + run-queue wait) is worth telling beside what it
 * got only when a loaded host held it back: 10 points of a core is beyond sampling jitter.
 */
static bool held_back(double demand_pct, double cpu_pct)
{
	return demand_pct > 0 && demand_pct - cpu_pct >= 10;
}

/* Released under a live guest: nothing stalls, the guest reads zeros where never served. */
static void released_summary(FILE *f, struct json_object *x)
{
	struct json_object *u = jget(x, "uffd");

	who(f, jget(x, "guest"));
	fputs(" lost its uffd: ", f);
	pager_summary(f, jget(x, "pager"));
	fprintf(f,
		"; it held the uffd's last reference, and the release unregistered %llu KiB "
		"of guest memory; ",
		(unsigned long long)jgeti(u, "registered_bytes") >> 10);
	if (jget(u, "never_served_pages"))
		fprintf(f, "%lld registered pages were never served, and ",
			(long long)jgeti(u, "never_served_pages"));
	fputs("the guest now reads zeros wherever a page was never served.", f);
}

static void orphan_summary(FILE *f, struct json_object *x)
{
	struct json_object *u = jget(x, "uffd");
	enum uffd_ctx_state state = uffd_ctx_state_from_name(jgets(x, "state"));

	if (state == UFFD_RELEASED)
		return released_summary(f, x);
	who(f, jget(x, "guest"));
	fputs(" lost its uffd pager: ", f);
	pager_summary(f, jget(x, "pager"));
	fprintf(f, " while %llu MiB of guest memory was still registered; the guest is %s",
		(unsigned long long)jgeti(u, "registered_bytes") >> 20,
		state == UFFD_SPINNING	? "spinning"
		: state == UFFD_STALLED ? "stalled"
					: "without a pager");
	if (state == UFFD_SPINNING) {
		struct json_object *busy =
			json_object_array_length(jget(x, "threads"))
				? json_object_array_get_idx(jget(x, "threads"), 0)
				: NULL;

		fprintf(f, " at %.0f%% CPU", jgetd(x, "cpu_pct"));
		if (busy && held_back(jgetd(busy, "demand_pct"), jgetd(busy, "cpu_pct")))
			fprintf(f, " (its busiest thread wants %.0f%% of a core, gets %.0f%%)",
				jgetd(busy, "demand_pct"), jgetd(busy, "cpu_pct"));
	}
	fprintf(f, ", %llu faults unresolved.", (unsigned long long)jgeti(u, "total"));
	if (jgets(x, "note"))
		fprintf(f, " Note: %s.", jgets(x, "note"));
}

static void leak_summary(FILE *f, struct json_object *x)
{
	who(f, x);
	fprintf(f, " was still running when tracing ended, %.1f s after it started%s.",
		jgetd(x, "age_s"),
		jgetb(x, "orphaned") ? "; its parent had exited and it was reparented" : "");
}

char *narrate_summary(struct json_object *x)
{
	enum finding_kind kind = finding_kind_from_name(jgets(x, "kind"));
	size_t len = 0, max;
	char *buf = NULL;
	FILE *f;

	if (kind == FINDING_KINDS)
		return NULL;
	f = xopen_memstream(&buf, &len);
	switch (kind) {
	case CID_CONFLICT:
	case INVALID_CID:
		conflict_summary(f, x, kind);
		max = CONFLICT_SUMMARY_MAX;
		break;
	case UFFD_ORPHAN:
		orphan_summary(f, x);
		max = ORPHAN_SUMMARY_MAX;
		break;
	default:
		leak_summary(f, x);
		max = LEAK_SUMMARY_MAX;
		break;
	}
	fclose(f);
	if (len >= max)
		buf[max - 1] = '\0';
	return buf;
}

void narrate_into(struct json_object *finding)
{
	char *summary = narrate_summary(finding);

	json_object_object_add(finding, "summary", jstr(summary ? summary : ""));
	free(summary);
}

/*
 * "qemu-system-x86 pid 812 (/ci/T/001, bound +3.002s, container 3f2a5c9d0e1b…, pid 17
 * inside)"; extra may be NULL. The pid is the host's: where the process's own namespace
 * numbers it otherwise, that is what its job's log shows.
 */
static void proc_phrase(FILE *f, struct render_ctx *c, const struct rv *p, const char *extra)
{
	const char *parts[3] = { rgets(p, "test_dir"), extra, NULL };
	const char *sep = " (";
	char where[160];

	if (where_phrase(c, process_of(c, p), where, sizeof(where)))
		parts[2] = where;
	if (parts[0])
		parts[0] = E(c, parts[0]);
	fprintf(f, "%s pid %lld", E(c, rgets(p, "comm")), (long long)rgeti(p, "pid"));
	for (int i = 0; i < 3; i++) {
		if (!parts[i])
			continue;
		fprintf(f, "%s%s", sep, parts[i]);
		sep = ", ";
	}
	if (sep[0] == ',')
		fputc(')', f);
}

/* "got SIGKILL from pid 600 at +12.298s": the first fatal signal, which sealed its fate. */
static bool signal_phrase(FILE *f, struct render_ctx *c, const struct rv *p)
{
	const struct rv *s = ridx(p, "fatal_signals", 0);
	size_t more = rlen(p, "fatal_signals") - 1;

	if (!s)
		return false;
	fprintf(f, "got %s from pid %lld at %s", E(c, rgets(s, "name")),
		(long long)rgeti(s, "sender_pid"), rel(c, s, "at"));
	if (more)
		fprintf(f, " (and %zu more fatal signal%s)", more, more == 1 ? "" : "s");
	return true;
}

/* The latest fatal signal, the one the summary names: "got SIGKILL from pid 1 at +4.099s". */
static bool last_signal_phrase(FILE *f, struct render_ctx *c, const struct rv *p)
{
	size_t n = rlen(p, "fatal_signals");
	const struct rv *s = n ? ridx(p, "fatal_signals", n - 1) : NULL;

	if (!s)
		return false;
	fprintf(f, "got %s from pid %lld at %s", E(c, rgets(s, "name")),
		(long long)rgeti(s, "sender_pid"), rel(c, s, "at"));
	if (n > 1)
		fprintf(f, " (after %zu earlier fatal signal%s)", n - 1, n == 2 ? "" : "s");
	return true;
}

/* "teardown_race" -> "teardown race" */
static void words(FILE *f, struct render_ctx *c, const char *s)
{
	for (const char *p = E(c, s); *p; p++)
		fputc(*p == '_' ? ' ' : *p, f);
}

static void attempt_phrase(FILE *f, struct render_ctx *c, const struct rv *x, const char *verb)
{
	long long n = rgeti(x, "attempts");

	fprintf(f, "CID %lld: ", (long long)rgeti(x, "cid"));
	proc_phrase(f, c, rget(x, "attempt"), NULL);
	fprintf(f, " %s at %s (%lld attempt%s", verb, rel(c, x, "last_at"), n, n == 1 ? "" : "s");
	if (n > 1)
		fprintf(f, " since %s", rel(c, x, "first_at"));
	fputc(')', f);
}

void narrate_cid_conflict(FILE *f, struct render_ctx *c, const struct rv *x)
{
	const struct rv *h = ridx(x, "holder", 0), *b = binding_of(c, rgets(x, "binding"));
	const struct rv *times = b ? b : x; /* cids[] is the later word on the binding */
	const char *state = rgets(h, "state_at_conflict"), *cls = rgets(x, "classification");
	char bound[64];

	attempt_phrase(f, c, x, "failed to bind");
	if (h) {
		snprintf(bound, sizeof(bound), "bound %s",
			 rget(times, "bound_at") ? rel(c, times, "bound_at") : "before tracing");
		fputs("; held by ", f);
		proc_phrase(f, c, h, bound);
		if (rlen(x, "holder") > 1)
			fprintf(f, " and %zu more", rlen(x, "holder") - 1);
		fputs(" which ", f);
		if (!signal_phrase(f, c, h)) {
			fputs("was ", f);
			words(f, c, state ? state : "in an unknown state");
		}
		if (rget(times, "released_at"))
			fprintf(f, " and released the CID at %s", rel(c, times, "released_at"));
		else
			fputs(" and still held the CID at the end of the trace", f);
	} else {
		fputs("; no holder was found", f);
	}
	if (rget(x, "binder")) {
		fputs("; bound by ", f);
		proc_phrase(f, c, rget(x, "binder"), NULL);
	}
	if (rget(x, "net_ns") && rget(x, "holder_net_ns") &&
	    rgeti(x, "net_ns") != rgeti(x, "holder_net_ns"))
		fprintf(f, "; across network namespaces net:[%lld] and net:[%lld]",
			(long long)rgeti(x, "net_ns"), (long long)rgeti(x, "holder_net_ns"));
	if (cls) {
		fputs(" \u2192 ", f);
		words(f, c, cls);
	}
	fputc('.', f);
}

void narrate_vmm_leak(FILE *f, struct render_ctx *c, const struct rv *x)
{
	const struct rv *u = rget(x, "uffd");

	proc_phrase(f, c, x, NULL);
	fprintf(f, " started at %s and was still running when tracing ended at %s, %.4gs later",
		rel(c, x, "started_at"), rel(c, rget(c->r->root, "trace"), "ended_at"),
		rgetd(x, "age_s"));
	if (rgetb(x, "orphaned"))
		fputs("; its parent had exited", f);
	if (u)
		fprintf(f, "; its userfaultfd %s was %s (pager pid %lld)", E(c, rgets(u, "id")),
			E(c, rgets(u, "state")), (long long)rgeti(u, "pager_pid"));
	fputc('.', f);
}

/* As the summary tells it: a pager that has not exited closed its uffd. */
static void pager_fate(FILE *f, struct render_ctx *c, const struct rv *p)
{
	const struct rv *ex = rget(p, "exit");
	char buf[16];

	if (!rget(p, "exited_at")) {
		fputs("closed its uffd", f);
		if (rlen(p, "fatal_signals")) {
			fputs(" after it ", f);
			last_signal_phrase(f, c, p);
		}
	} else if (last_signal_phrase(f, c, p)) {
		fputs(" and exited", f);
	} else if (ex && rgeti(ex, "signal")) {
		fprintf(f, "was killed by %s", signal_name(rgeti(ex, "signal"), buf, sizeof(buf)));
	} else if (ex) {
		fprintf(f, "exited with code %lld", (long long)rgeti(ex, "code"));
	} else {
		fputs("exited", f);
	}
}

void narrate_uffd_orphan(FILE *f, struct render_ctx *c, const struct rv *x)
{
	const struct rv *u = rget(x, "uffd"), *np = rget(x, "restarted_pager"), *busy = NULL;
	const char *state = rgets(x, "state");

	proc_phrase(f, c, rget(x, "guest"), NULL);
	fprintf(f, " orphaned at %s: pager ", rel(c, x, "since"));
	proc_phrase(f, c, rget(x, "pager"), NULL);
	fputc(' ', f);
	pager_fate(f, c, rget(x, "pager"));
	if (uffd_ctx_state_from_name(state) == UFFD_RELEASED) {
		fputs("; it held the uffd's last reference: released, memory unregistered, the guest "
		      "reads zeros where pages were never served",
		      f);
		if (rget(u, "never_served_pages"))
			fprintf(f, " (%lld of them)", (long long)rgeti(u, "never_served_pages"));
	} else if (uffd_ctx_state_from_name(state) == UFFD_SPINNING) {
		fprintf(f, "; guest spinning at %.3g%% CPU since %s", rgetd(x, "cpu_pct"),
			rel(c, x, "state_since"));
		/* busiest by demand where the report has it (spin_basis "demand") */
		const char *key = rgetd(x, "demand_pct") > 0 ? "demand_pct" : "cpu_pct";

		for (size_t i = 0; i < rlen(x, "threads"); i++) {
			const struct rv *t = ridx(x, "threads", i);

			if (!busy || rgetd(t, key) > rgetd(busy, key))
				busy = t;
		}
		if (busy && held_back(rgetd(busy, "demand_pct"), rgetd(busy, "cpu_pct")))
			fprintf(f, " (busiest thread %s wants %.3g%% of a core, gets %.3g%%)",
				E(c, rgets(busy, "comm")), rgetd(busy, "demand_pct"),
				rgetd(busy, "cpu_pct"));
		else if (busy)
			fprintf(f, " (busiest thread %s %.3g%%)", E(c, rgets(busy, "comm")),
				rgetd(busy, "cpu_pct"));
	} else {
		fputs("; guest ", f);
		words(f, c, state ? state : "in an unknown state");
		fprintf(f, " since %s", rel(c, x, "state_since"));
	}
	if (uffd_ctx_state_from_name(state) != UFFD_RELEASED)
		fprintf(f, "; %lld faults unresolved", (long long)rgeti(u, "total"));
	fprintf(f, ", %lld pages served", (long long)rgeti(u, "pages_served"));
	if (rget(x, "resolved_at"))
		fprintf(f, "; resolved at %s", rel(c, x, "resolved_at"));
	if (np) {
		fputs("; a new pager ", f);
		proc_phrase(f, c, np, NULL);
		fprintf(f, " started at %s", rel(c, np, "started_at"));
	}
	fputc('.', f);
	if (rgets(x, "note"))
		fprintf(f, " %s", E(c, rgets(x, "note")));
}

void narrate_invalid_cid(FILE *f, struct render_ctx *c, const struct rv *x)
{
	attempt_phrase(f, c, x, "asked for an invalid CID");
	fputs(" \u2192 CIDs 0-2 are reserved and a CID must be below 2^32-1.", f);
}

void narrate_story(FILE *f, struct render_ctx *c, const struct rv *x)
{
	switch (finding_kind_from_name(rgets(x, "kind"))) {
	case CID_CONFLICT:
		narrate_cid_conflict(f, c, x);
		break;
	case INVALID_CID:
		narrate_invalid_cid(f, c, x);
		break;
	case VMM_LEAK:
		narrate_vmm_leak(f, c, x);
		break;
	case UFFD_ORPHAN:
		narrate_uffd_orphan(f, c, x);
		break;
	default:
		fputs(rgets(x, "summary") ? E(c, rgets(x, "summary")) : "(no summary)", f);
	}
}
