// SPDX-License-Identifier: GPL-2.0
/*
 * The report as a story for a terminal: what went wrong, when (relative to the trace start),
 * and what to do about it. The HTML page tells the same stories, with another escaper.
 */
#include <string.h>

#include "json.h"
#include "render.h"
#include "util.h"
#include "vocab.h"

#define NKINDS FINDING_KINDS

/* The finding's kind, or NKINDS for a kind this cidtrace does not know. */
static size_t kind_index(struct json_object *finding)
{
	return finding_kind_from_name(jgets(finding, "kind"));
}

static void count_kinds(struct render_ctx *c, size_t counts[NKINDS + 1])
{
	memset(counts, 0, sizeof(size_t) * (NKINDS + 1));
	for (size_t i = 0; i < jlen(c->r->root, "findings"); i++)
		counts[kind_index(jidx(c->r->root, "findings", i))]++;
}

void summary_line(FILE *f, struct render_ctx *c)
{
	struct json_object *trace = jget(c->r->root, "trace");
	size_t counts[NKINDS + 1], total = jlen(c->r->root, "findings");
	const char *sep = " (";

	count_kinds(c, counts);
	fprintf(f, "%s%zu finding%s", c->bold, total, total == 1 ? "" : "s");
	for (size_t i = 0; i <= NKINDS; i++) {
		if (!counts[i])
			continue;
		fprintf(f, "%s%zu %s", sep, counts[i], i < NKINDS ? finding_kind_name(i) : "other");
		sep = ", ";
	}
	fprintf(f, "%s; trace %s, %lld events lost; ", total ? ")" : "",
		jgetb(trace, "complete") ? "complete" : "INCOMPLETE",
		(long long)jgeti(jget(trace, "events"), "lost"));
	if (jgetb(trace, "final"))
		fprintf(f, "final report, ended at %s", rel(c, trace, "ended_at"));
	else
		fprintf(f, "checkpoint at %s, tracing was still running",
			rel(c, trace, "updated_at"));
	fprintf(f, "%s", c->reset);
}

/* "qemu-system-x86 pid 812 (/ci/T/001, bound +3.002s)"; extra may be NULL. */
static void proc_phrase(FILE *f, struct render_ctx *c, struct json_object *p, const char *extra)
{
	const char *dir = jgets(p, "test_dir");

	fprintf(f, "%s pid %lld", E(c, jgets(p, "comm")), (long long)jgeti(p, "pid"));
	if (dir || extra)
		fprintf(f, " (%s%s%s)", dir ? E(c, dir) : "", dir && extra ? ", " : "",
			extra ? extra : "");
}

/* "got SIGKILL from pid 600 at +12.298s": the first fatal signal, which sealed its fate. */
static bool signal_phrase(FILE *f, struct render_ctx *c, struct json_object *p)
{
	struct json_object *s = jidx(p, "fatal_signals", 0);
	size_t more = jlen(p, "fatal_signals") - 1;

	if (!s)
		return false;
	fprintf(f, "got %s from pid %lld at %s", E(c, jgets(s, "name")),
		(long long)jgeti(s, "sender_pid"), rel(c, s, "at"));
	if (more)
		fprintf(f, " (and %zu more fatal signal%s)", more, more == 1 ? "" : "s");
	return true;
}

/* "teardown_race" -> "teardown race" */
static void words(FILE *f, struct render_ctx *c, const char *s)
{
	for (const char *p = E(c, s); *p; p++)
		fputc(*p == '_' ? ' ' : *p, f);
}

static struct json_object *find_binding(struct render_ctx *c, const char *id)
{
	for (size_t i = 0; id && i < jlen(c->r->root, "cids"); i++) {
		struct json_object *b = jidx(c->r->root, "cids", i);
		const char *bid = jgets(b, "id");

		if (bid && !strcmp(bid, id))
			return b;
	}
	return NULL;
}

static void attempt_phrase(FILE *f, struct render_ctx *c, struct json_object *x, const char *verb)
{
	long long n = jgeti(x, "attempts");

	fprintf(f, "CID %lld: ", (long long)jgeti(x, "cid"));
	proc_phrase(f, c, jget(x, "attempt"), NULL);
	fprintf(f, " %s at %s (%lld attempt%s", verb, rel(c, x, "last_at"), n, n == 1 ? "" : "s");
	if (n > 1)
		fprintf(f, " since %s", rel(c, x, "first_at"));
	fputc(')', f);
}

static void conflict_story(FILE *f, struct render_ctx *c, struct json_object *x)
{
	struct json_object *h = jidx(x, "holder", 0), *b = find_binding(c, jgets(x, "binding"));
	struct json_object *times = b ? b : x; /* cids[] is the later word on the binding */
	const char *state = jgets(h, "state_at_conflict"), *cls = jgets(x, "classification");
	char bound[64];

	attempt_phrase(f, c, x, "failed to bind");
	if (h) {
		snprintf(bound, sizeof(bound), "bound %s",
			 jget(times, "bound_at") ? rel(c, times, "bound_at") : "before tracing");
		fputs("; held by ", f);
		proc_phrase(f, c, h, bound);
		if (jlen(x, "holder") > 1)
			fprintf(f, " and %zu more", jlen(x, "holder") - 1);
		fputs(" which ", f);
		if (!signal_phrase(f, c, h)) {
			fputs("was ", f);
			words(f, c, state ? state : "in an unknown state");
		}
		if (jget(times, "released_at"))
			fprintf(f, " and released the CID at %s", rel(c, times, "released_at"));
		else
			fputs(" and still held the CID at the end of the trace", f);
	} else {
		fputs("; no holder was found", f);
	}
	if (jget(x, "binder")) {
		fputs("; bound by ", f);
		proc_phrase(f, c, jget(x, "binder"), NULL);
	}
	if (cls) {
		fputs(" \u2192 ", f);
		words(f, c, cls);
	}
	fputc('.', f);
}

static void leak_story(FILE *f, struct render_ctx *c, struct json_object *x)
{
	struct json_object *u = jget(x, "uffd");

	proc_phrase(f, c, x, NULL);
	fprintf(f, " started at %s and was still running when tracing ended at %s, %.4gs later",
		rel(c, x, "started_at"), rel(c, jget(c->r->root, "trace"), "ended_at"),
		jgetd(x, "age_s"));
	if (jgetb(x, "orphaned"))
		fputs("; its parent had exited", f);
	if (u)
		fprintf(f, "; its userfaultfd %s was %s (pager pid %lld)", E(c, jgets(u, "id")),
			E(c, jgets(u, "state")), (long long)jgeti(u, "pager_pid"));
	fputc('.', f);
}

static void pager_fate(FILE *f, struct render_ctx *c, struct json_object *p)
{
	struct json_object *ex = jget(p, "exit");
	char buf[16];

	if (signal_phrase(f, c, p))
		fputs(jget(p, "exited_at") ? " and exited" : " and is dying", f);
	else if (ex && jgeti(ex, "signal"))
		fprintf(f, "was killed by %s", signal_name(jgeti(ex, "signal"), buf, sizeof(buf)));
	else if (ex)
		fprintf(f, "exited with code %lld", (long long)jgeti(ex, "code"));
	else
		fputs(jget(p, "exited_at") ? "exited" : "stopped serving faults", f);
}

static void orphan_story(FILE *f, struct render_ctx *c, struct json_object *x)
{
	struct json_object *u = jget(x, "uffd"), *np = jget(x, "restarted_pager"), *busy = NULL;
	const char *state = jgets(x, "state");

	proc_phrase(f, c, jget(x, "guest"), NULL);
	fprintf(f, " orphaned at %s: pager ", rel(c, x, "since"));
	proc_phrase(f, c, jget(x, "pager"), NULL);
	fputc(' ', f);
	pager_fate(f, c, jget(x, "pager"));
	if (uffd_ctx_state_from_name(state) == UFFD_SPINNING) {
		fprintf(f, "; guest spinning at %.3g%% CPU since %s", jgetd(x, "cpu_pct"),
			rel(c, x, "state_since"));
		for (size_t i = 0; i < jlen(x, "threads"); i++) {
			struct json_object *t = jidx(x, "threads", i);

			if (!busy || jgetd(t, "cpu_pct") > jgetd(busy, "cpu_pct"))
				busy = t;
		}
		if (busy)
			fprintf(f, " (busiest thread %s %.3g%%)", E(c, jgets(busy, "comm")),
				jgetd(busy, "cpu_pct"));
	} else {
		fputs("; guest ", f);
		words(f, c, state ? state : "in an unknown state");
		fprintf(f, " since %s", rel(c, x, "state_since"));
	}
	fprintf(f, "; %lld faults unresolved, %lld pages served", (long long)jgeti(u, "pending"),
		(long long)jgeti(u, "pages_served"));
	if (jget(x, "resolved_at"))
		fprintf(f, "; resolved at %s", rel(c, x, "resolved_at"));
	if (np) {
		fputs("; a new pager ", f);
		proc_phrase(f, c, np, NULL);
		fprintf(f, " started at %s", rel(c, np, "started_at"));
	}
	fputc('.', f);
	if (jgets(x, "note"))
		fprintf(f, " %s", E(c, jgets(x, "note")));
}

void finding_story(FILE *f, struct render_ctx *c, struct json_object *x)
{
	switch (finding_kind_from_name(jgets(x, "kind"))) {
	case CID_CONFLICT:
		conflict_story(f, c, x);
		break;
	case INVALID_CID:
		attempt_phrase(f, c, x, "asked for an invalid CID");
		fputs(" \u2192 CIDs 0-2 are reserved and a CID must be below 2^32-1.", f);
		break;
	case VMM_LEAK:
		leak_story(f, c, x);
		break;
	case UFFD_ORPHAN:
		orphan_story(f, c, x);
		break;
	default:
		fputs(jgets(x, "summary") ? E(c, jgets(x, "summary")) : "(no summary)", f);
	}
}

/* The advice for a kind, or for one classification of cid_conflict; CID_CLASSES: any. */
static const struct advice {
	enum finding_kind kind;
	enum cid_class classification;
	const char *text;
} advice[] = {
	{ CID_CONFLICT, CLASS_TEARDOWN_RACE,
	  "teardown race: wait for the previous VMM to exit (reaped, not just signalled) before "
	  "reusing its CID, or allocate CIDs uniquely per test" },
	{ CID_CONFLICT, CLASS_INHERITED_FD,
	  "inherited vhost fd: open /dev/vhost-vsock with O_CLOEXEC and close it in forked helpers" },
	{ CID_CONFLICT, CLASS_ORPHAN_HOLDER,
	  "orphaned CID holder: fix the test teardown that lost track of the VMM" },
	{ CID_CONFLICT, CLASS_LIVE_DUPLICATE,
	  "duplicate CID: two live VMMs wanted one CID; allocate CIDs uniquely across parallel tests" },
	{ CID_CONFLICT, CLASS_HOST_LOCAL_CID,
	  "host CID: never hand out this host's own vsock CID to a guest" },
	{ CID_CONFLICT, CLASS_NO_HOLDER_FOUND,
	  "no holder found: the CID was bound before tracing began; start cidtrace before the job" },
	{ INVALID_CID, CID_CLASSES,
	  "invalid CID: fix the CID allocator (0-2 are reserved, a CID must be below 2^32-1)" },
	{ VMM_LEAK, CID_CLASSES,
	  "leak: the VMM outlived the job; kill it, and wait for it, in the test's teardown" },
	{ UFFD_ORPHAN, CID_CLASSES,
	  "orphaned userfaultfd guest: its pager died and its faults go unserved; kill the VMM "
	  "(not the pager first), then find out why the pager died" },
};

static bool present(struct render_ctx *c, const struct advice *a)
{
	for (size_t i = 0; i < jlen(c->r->root, "findings"); i++) {
		struct json_object *x = jidx(c->r->root, "findings", i);
		if (finding_kind_from_name(jgets(x, "kind")) == a->kind &&
		    (a->classification == CID_CLASSES ||
		     cid_class_from_name(jgets(x, "classification")) == a->classification))
			return true;
	}
	return false;
}

static size_t item(FILE *f, const char *bullet, const char *text, const char *eol)
{
	fprintf(f, "%s%s%s", bullet, text, eol);
	return 1;
}

void next_steps(FILE *f, struct render_ctx *c, const char *bullet, const char *eol)
{
	struct json_object *trace = jget(c->r->root, "trace");
	long long lost = jgeti(jget(trace, "events"), "lost");
	size_t counts[NKINDS + 1], n = 0;
	char buf[256];

	for (size_t i = 0; i < sizeof(advice) / sizeof(advice[0]); i++)
		if (present(c, &advice[i]))
			n += item(f, bullet, advice[i].text, eol);
	count_kinds(c, counts);
	if (counts[NKINDS])
		n += item(f, bullet,
			  "findings of a kind this cidtrace does not know: read their "
			  "summary",
			  eol);
	if (lost) {
		snprintf(
			buf, sizeof(buf),
			"%lld lost events: the ring buffer overflowed, so findings "
			"may be missing; raise the ring buffer (RINGBUF_BYTES in userspace/main.c) "
			"or trace a smaller job",
			lost);
		n += item(f, bullet, buf, eol);
	}
	if (!jgetb(trace, "final"))
		n += item(f, bullet,
			  "checkpoint: tracing was still running when this was written; "
			  "leaks appear only in the final report",
			  eol);
	if (!n)
		item(f, bullet, "nothing: no findings", eol);
}

void render_text(FILE *f, const struct report *r, bool color)
{
	struct render_ctx c;

	render_ctx_init(&c, r, term_escape, color);
	summary_line(f, &c);
	fputc('\n', f);
	for (size_t i = 0; i < jlen(r->root, "findings"); i++) {
		struct json_object *x = jidx(r->root, "findings", i);

		fprintf(f, "\n%s[%s]%s ", c.red, E(&c, jgets(x, "kind")), c.reset);
		finding_story(f, &c, x);
		fputc('\n', f);
	}
	fprintf(f, "\n%swhat to do next:%s\n", c.bold, c.reset);
	next_steps(f, &c, "  - ", "\n");
	render_ctx_free(&c);
}
