// SPDX-License-Identifier: GPL-2.0
/*
 * The report as a story for a terminal: what went wrong, when (relative to the trace start),
 * and what to do about it. The HTML page tells the same stories, with another escaper.
 */
#include <string.h>

#include "json.h"
#include "narrate.h"
#include "render.h"
#include "util.h"
#include "vocab.h"

#define NKINDS FINDING_KINDS

/* The finding's kind, or NKINDS for a kind this cidtrace does not know. */
static size_t kind_index(const struct rv *finding)
{
	return finding_kind_from_name(rgets(finding, "kind"));
}

static void count_kinds(struct render_ctx *c, size_t counts[NKINDS + 1])
{
	memset(counts, 0, sizeof(size_t) * (NKINDS + 1));
	for (size_t i = 0; i < rlen(c->r->root, "findings"); i++)
		counts[kind_index(ridx(c->r->root, "findings", i))]++;
}

void summary_line(FILE *f, struct render_ctx *c)
{
	const struct rv *trace = rget(c->r->root, "trace");
	size_t counts[NKINDS + 1], total = rlen(c->r->root, "findings");
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
		rgetb(trace, "complete") ? "complete" : "INCOMPLETE",
		(long long)rgeti(rget(trace, "events"), "lost"));
	if (rgetb(trace, "final"))
		fprintf(f, "final report, ended at %s", rel(c, trace, "ended_at"));
	else
		fprintf(f, "checkpoint at %s, tracing was still running",
			rel(c, trace, "updated_at"));
	fprintf(f, "%s", c->reset);
}

bool slice_line(FILE *f, struct render_ctx *c)
{
	const struct rv *slice = rget(rget(c->r->root, "trace"), "slice");
	const char *scope = rgets(slice, "scope");

	if (!slice)
		return false;
	fprintf(f,
		"slice of %s, from %s to %s: only its processes (and their ancestors), CIDs, "
		"userfaultfds and findings",
		scope ? E(c, scope) : "every directory",
		rgets(slice, "since") ? E(c, rgets(slice, "since")) : "the trace's start",
		rgets(slice, "until") ? E(c, rgets(slice, "until")) : "its end");
	return true;
}

void window_line(FILE *f, struct render_ctx *c, const char *before, const char *after)
{
	const struct rv *r = rget(rget(c->r->root, "trace"), "retention");
	long long procs = rgeti(r, "dropped_processes"), cids = rgeti(r, "dropped_cids");
	long long uffds = rgeti(r, "dropped_uffds"), findings = rgeti(r, "dropped_findings");

	if (!procs && !cids && !uffds && !findings)
		return;
	fprintf(f,
		"%s%lld process%s, %lld CID%s, %lld uffd%s and %lld finding%s dropped by "
		"retention; complete since %s%s",
		before, procs, procs == 1 ? "" : "es", cids, cids == 1 ? "" : "s", uffds,
		uffds == 1 ? "" : "s", findings, findings == 1 ? "" : "s", rel(c, r, "since"),
		after);
}

void finding_story(FILE *f, struct render_ctx *c, const struct rv *x)
{
	narrate_story(f, c, x);
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
	  "orphaned userfaultfd guest: its pager died and its faults go unserved (released: the "
	  "guest reads zeros where pages were never served, so its memory is corrupt); kill the "
	  "VMM (not the pager first), then find out why the pager died" },
};

static bool present(struct render_ctx *c, const struct advice *a)
{
	for (size_t i = 0; i < rlen(c->r->root, "findings"); i++) {
		const struct rv *x = ridx(c->r->root, "findings", i);
		if (finding_kind_from_name(rgets(x, "kind")) == a->kind &&
		    (a->classification == CID_CLASSES ||
		     cid_class_from_name(rgets(x, "classification")) == a->classification))
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
	const struct rv *trace = rget(c->r->root, "trace");
	long long lost = rgeti(rget(trace, "events"), "lost");
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
		snprintf(buf, sizeof(buf),
			 "%lld lost events: the ring buffer overflowed, so findings "
			 "may be missing; the tracer fell behind: give it a CPU the job does not "
			 "saturate, or trace a smaller job",
			 lost);
		n += item(f, bullet, buf, eol);
	}
	if (!rgetb(trace, "final"))
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
	if (slice_line(f, &c))
		fputc('\n', f);
	window_line(f, &c, "", "\n");
	for (size_t i = 0; i < rlen(r->root, "findings"); i++) {
		const struct rv *x = ridx(r->root, "findings", i);

		fprintf(f, "\n%s[%s]%s ", c.red, E(&c, rgets(x, "kind")), c.reset);
		finding_story(f, &c, x);
		fputc('\n', f);
		render_ctx_release(&c);
	}
	fprintf(f, "\n%swhat to do next:%s\n", c.bold, c.reset);
	next_steps(f, &c, "  - ", "\n");
	render_ctx_free(&c);
}
