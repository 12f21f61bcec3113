// SPDX-License-Identifier: GPL-2.0
/*
 * The report as one self-contained HTML page: a header, an SVG timeline of the VMMs and the
 * processes the findings name, and the findings linked to their markers. No script, and a
 * Content-Security-Policy that forbids every load, so a page made from a hostile report can
 * neither run code nor call out. Every string from the report goes through html_escape.
 */
#include <stdlib.h>
#include <string.h>

#include "proc_index.h"
#include "render.h"
#include "util.h"
#include "vocab.h"

#define LABEL_W	   280 /* row labels left of the plot */
#define PLOT_W	   960
#define AXIS_H	   28
#define GROUP_H	   22 /* a test_dir label above its rows */
#define ROW_H	   22
#define NO_FINDING ((size_t)-1)

struct row {
	const struct rv *src; /* the processes[] entry, or the reference that named it */
	const char *test_dir;
	/* a test dir is a path in one mount namespace: two containers' /tmp/T/001 differ */
	int64_t mnt_ns; /* 0: unknown */
	int64_t from_us, to_us; /* lifetime, clipped to the trace */
	uint32_t seq; /* the order found */
	int y;
};

struct mark {
	size_t finding;
	int id;
	const char *label;
};

struct html {
	struct render_ctx c;
	FILE *f;
	struct row *rows;
	size_t nrows, caprows;
	struct proc_index row_index; /* rows by (pid, start_ns), in the order of rows[] */
	struct mark *marks; /* in the order drawn: by finding */
	size_t nmarks, capmarks;
	bool drawing; /* false: the first pass, which only collects rows */
	int64_t scope_mnt_ns; /* trace.scope_mnt_ns: the host's mount namespace; 0: unknown */
	int next_id;
};

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 32;
	return xreallocarray(v, *cap, size);
}

/*
 * A process is (pid, start_ns); references made without a start time match any: the first
 * row, or processes[] entry, that matches (proc_index_find).
 */
static void row_key(const void *h, uint32_t i, int64_t *pid, int64_t *start_ns)
{
	const struct rv *src = ((const struct html *)h)->rows[i].src;

	*pid = rgeti(src, "pid");
	*start_ns = rgeti(src, "start_ns");
}

static struct row *find_row(struct html *h, int64_t pid, int64_t start_ns)
{
	uint32_t i = proc_index_find(&h->row_index, pid, start_ns);

	return i == PROC_NONE ? NULL : &h->rows[i];
}

static void add_row(struct html *h, const struct rv *src)
{
	const struct report *r = h->c.r;
	struct row *row;

	h->rows = grow(h->rows, &h->caprows, h->nrows, sizeof(*h->rows));
	row = &h->rows[h->nrows];
	row->src = src;
	row->test_dir = rgets(src, "test_dir");
	row->mnt_ns = mnt_ns_of(src);
	row->seq = h->nrows;
	if (!rgett(src, "started_at", &row->from_us) || row->from_us < r->t0_us)
		row->from_us = r->t0_us;
	if (!rgett(src, "exited_at", &row->to_us) || row->to_us > r->tend_us)
		row->to_us = r->tend_us;
	if (row->to_us < row->from_us)
		row->to_us = row->from_us;
	proc_index_add(&h->row_index, h->nrows++);
}

/*
 * The row of a process a finding or binding names. The first pass adds it and returns NULL,
 * so that nothing is drawn before the layout exists; the drawing pass returns it.
 */
static struct row *row_of(struct html *h, const struct rv *ref)
{
	struct row *row;

	if (!ref || rgeti(ref, "pid") <= 0)
		return NULL;
	row = find_row(h, rgeti(ref, "pid"), rgeti(ref, "start_ns"));
	if (h->drawing)
		return row;
	if (!row)
		add_row(h, process_of(&h->c, ref));
	return NULL;
}

static int by_group(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (!x->test_dir != !y->test_dir)
		return x->test_dir ? -1 : 1;
	if (x->test_dir && strcmp(x->test_dir, y->test_dir))
		return strcmp(x->test_dir, y->test_dir);
	if (x->test_dir && x->mnt_ns != y->mnt_ns)
		return x->mnt_ns < y->mnt_ns ? -1 : 1;
	if (x->from_us != y->from_us)
		return x->from_us < y->from_us ? -1 : 1;
	if (rgeti(x->src, "pid") != rgeti(y->src, "pid"))
		return rgeti(x->src, "pid") < rgeti(y->src, "pid") ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool new_group(const struct row *rows, size_t i)
{
	const char *a = i ? rows[i - 1].test_dir : NULL, *b = rows[i].test_dir;

	return !i || !a != !b || (a && (strcmp(a, b) || rows[i - 1].mnt_ns != rows[i].mnt_ns));
}

static int xpos(struct html *h, int64_t us)
{
	const struct report *r = h->c.r;

	if (us < r->t0_us)
		us = r->t0_us;
	if (us > r->tend_us)
		us = r->tend_us;
	return LABEL_W + (int)((double)(us - r->t0_us) * PLOT_W / (double)(r->tend_us - r->t0_us));
}

/* Shapes tied to a finding link to it, and it back to them (findings_list). */
static void open_link(struct html *h, size_t finding, int id, const char *label)
{
	if (finding == NO_FINDING)
		return;
	h->marks = grow(h->marks, &h->capmarks, h->nmarks, sizeof(*h->marks));
	h->marks[h->nmarks++] = (struct mark){ finding, id, label };
	fprintf(h->f, "<a href=\"#f%zu\">", finding);
}

/* Ends the hover text of a shape opened by marker or bar; its strings are written. */
static void close_shape(struct html *h, size_t finding, const char *tag)
{
	fprintf(h->f, "</title></%s>%s\n", tag, finding == NO_FINDING ? "" : "</a>");
	render_ctx_release(&h->c);
}

/* Opens a marker on row at time us; the caller writes the hover text and closes it. */
static void marker(struct html *h, size_t finding, const char *cls, const struct row *row,
		   int64_t us, const char *label)
{
	static const struct {
		const char *cls, *path;
	} shapes[] = {
		{ "conflict", "m0 -7l7 7l-7 7l-7 -7z" },
		{ "signal", "m-6 -6h12l-6 11z" },
		{ "pager-death", "m-5 -5h10v10h-10z" },
		{ "leak", "m-7 -7l12 7l-12 7z" },
	};
	const char *path = shapes[0].path;
	int id = h->next_id++;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		if (!strcmp(cls, shapes[i].cls))
			path = shapes[i].path;
	open_link(h, finding, id, label);
	fprintf(h->f, "<path class=\"marker %s\" id=\"m%d\" d=\"M%d %d%s\"><title>", cls, id,
		xpos(h, us), row->y + ROW_H / 2, path);
}

/* Opens a bar on row from one time to another, like marker. */
static void bar(struct html *h, size_t finding, const char *cls, const struct row *row,
		int64_t from, int64_t to, int top, int height)
{
	int x = xpos(h, from), w = xpos(h, to) - x, id = h->next_id++;

	open_link(h, finding, id, cls);
	fprintf(h->f,
		"<rect class=\"%s\" id=\"m%d\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\">"
		"<title>",
		cls, id, x, row->y + top, w > 1 ? w : 1, height);
}

/*
 * The cgroup path of a process in a container or a pid namespace of its own, which the
 * short id does not spell out (a pod, a job's own cgroup); NULL on the host. Named by whoever
 * made the cgroup: printed escaped only.
 */
static const char *container_cgroup(struct render_ctx *c, const struct rv *p)
{
	char where[160];

	p = process_of(c, p);
	return where_phrase(c, p, where, sizeof(where)) ? rgets(p, "cgroup") : NULL;
}

static void proc_title(struct html *h, const struct rv *p)
{
	struct render_ctx *c = &h->c;
	const char *dir = rgets(p, "test_dir"), *cg = container_cgroup(c, p);
	char where[160];
	bool in = where_phrase(c, process_of(c, p), where, sizeof(where));

	fprintf(h->f, "%s pid %lld", E(c, rgets(p, "comm")), (long long)rgeti(p, "pid"));
	if (dir || in)
		fprintf(h->f, " (%s%s%s)", dir ? E(c, dir) : "", dir && in ? ", " : "", where);
	if (cg)
		fprintf(h->f, "; cgroup %s", E(c, cg));
}

/* The processes a finding names: its own (vmm_leak), then its roles', holders last. */
static const struct rv *finding_proc(const struct rv *x, size_t k)
{
	static const char *const roles[] = { "attempt", "binder", "guest", "pager" };
	size_t n = sizeof(roles) / sizeof(roles[0]);

	if (k == 0)
		return rgeti(x, "pid") > 0 ? x : NULL;
	if (k <= n)
		return rget(x, roles[k - 1]);
	return ridx(x, "holder", k - n - 1);
}

#define CGROUPS_SHOWN 4
/*
 * After a finding's story: the cgroup paths of the containerized processes it names (at most
 * CGROUPS_SHOWN, each process once), so that the reader finds the job's container or pod.
 */
static void finding_cgroups(struct html *h, const struct rv *x)
{
	struct render_ctx *c = &h->c;
	const struct rv *shown[CGROUPS_SHOWN];
	size_t n = 0, more = 0, total = 5 + rlen(x, "holder");

	for (size_t k = 0; k < total; k++) {
		const struct rv *p = finding_proc(x, k);
		const char *cg = p ? container_cgroup(c, p) : NULL;
		bool dup = false;

		for (size_t j = 0; cg && j < n; j++)
			dup |= rgeti(shown[j], "pid") == rgeti(p, "pid") &&
			       rgeti(shown[j], "start_ns") == rgeti(p, "start_ns");
		if (!cg || dup)
			continue;
		if (n == CGROUPS_SHOWN) {
			more++;
			continue;
		}
		fprintf(h->f, "%s%s pid %lld in cgroup <code>%s</code>",
			n ? "; " : " <span class=\"cgroups\">", E(c, rgets(p, "comm")),
			(long long)rgeti(p, "pid"), E(c, cg));
		shown[n++] = p;
	}
	if (more)
		fprintf(h->f, "; %zu more", more);
	if (n)
		fputs("</span>", h->f);
}

static void time_pair(struct html *h, const struct rv *o, const char *from, const char *to,
		      const char *open)
{
	struct render_ctx *c = &h->c;

	fprintf(h->f, ": %s", rget(o, from) ? rel(c, o, from) : "before the trace");
	fprintf(h->f, " \u2192 %s", rget(o, to) ? rel(c, o, to) : open);
}

static void draw_hold(struct html *h, const struct rv *b)
{
	struct row *row = row_of(h, rget(b, "binder"));
	const struct report *r = h->c.r;
	int64_t from = r->t0_us, to = r->tend_us;

	if (!row)
		return;
	rgett(b, "bound_at", &from);
	rgett(b, "released_at", &to);
	bar(h, NO_FINDING, "cid-hold", row, from, to, 8, 7);
	fprintf(h->f, "CID %lld held", (long long)rgeti(b, "cid"));
	time_pair(h, b, "bound_at", "released_at", "still held at the end");
	close_shape(h, NO_FINDING, "rect");
	fprintf(h->f, "<text class=\"cid-label\" x=\"%d\" y=\"%d\">CID %lld</text>\n",
		xpos(h, from) + 2, row->y + 6, (long long)rgeti(b, "cid"));
}

static void draw_attempts(struct html *h, size_t i, const struct rv *x)
{
	struct row *row = row_of(h, rget(x, "attempt"));
	struct render_ctx *c = &h->c;
	const char *when[] = { "first_at", "last_at" },
		   *what[] = { "first attempt", "last attempt" };
	int64_t first, last;

	for (size_t k = 0; k < rlen(x, "holder"); k++)
		row_of(h, ridx(x, "holder", k));
	row_of(h, rget(x, "binder"));
	if (!row || !rgett(x, "first_at", &first) || !rgett(x, "last_at", &last))
		return;
	for (int k = 0; k < (first == last ? 1 : 2); k++) {
		marker(h, i, "conflict", row, k ? last : first, what[k]);
		fprintf(h->f, "%s: CID %lld, %s at %s of %lld", E(c, rgets(x, "kind")),
			(long long)rgeti(x, "cid"), what[k], rel(c, x, when[k]),
			(long long)rgeti(x, "attempts"));
		close_shape(h, i, "path");
	}
}

static void draw_leak(struct html *h, size_t i, const struct rv *x)
{
	struct row *row = row_of(h, x);

	if (!row)
		return;
	marker(h, i, "leak", row, row->to_us, "leak");
	fputs("leaked: ", h->f);
	proc_title(h, x);
	fprintf(h->f, " was still running when tracing ended, %.4gs after it started",
		rgetd(x, "age_s"));
	close_shape(h, i, "path");
}

static void draw_orphan(struct html *h, size_t i, const struct rv *x)
{
	const struct rv *pager = rget(x, "pager");
	struct row *guest = row_of(h, rget(x, "guest")), *prow = row_of(h, pager);
	const char *state = rgets(x, "state");
	struct render_ctx *c = &h->c;
	int64_t at, end = c->r->tend_us;

	row_of(h, rget(x, "restarted_pager"));
	if (prow && rgett(pager, "exited_at", &at)) {
		marker(h, i, "pager-death", prow, at, "pager exit");
		fputs("pager ", h->f);
		proc_title(h, pager);
		fprintf(h->f, " exited at %s", rel(c, pager, "exited_at"));
		close_shape(h, i, "path");
	}
	if (!guest)
		return;
	if (uffd_ctx_state_from_name(state) == UFFD_SPINNING && rgett(x, "state_since", &at)) {
		rgett(x, "resolved_at", &end);
		bar(h, i, "spin", guest, at, end, 0, ROW_H);
		fprintf(h->f, "spinning at %.3g%% CPU", rgetd(x, "cpu_pct"));
		time_pair(h, x, "state_since", "resolved_at", "the end");
		close_shape(h, i, "rect");
	}
	if (rgett(x, "since", &at) && uffd_ctx_state_from_name(state) == UFFD_RELEASED) {
		marker(h, i, "pager-death", guest, at, "uffd released");
		fputs("uffd released by its pager: ", h->f);
		proc_title(h, rget(x, "guest"));
		fprintf(h->f, " reads zeros where pages were never served, since %s",
			rel(c, x, "since"));
		close_shape(h, i, "path");
	} else if (rgett(x, "since", &at)) {
		marker(h, i, "pager-death", guest, at, "pager lost");
		fputs("pager lost: ", h->f);
		proc_title(h, rget(x, "guest"));
		fprintf(h->f, " has no pager since %s", rel(c, x, "since"));
		close_shape(h, i, "path");
	}
}

static void draw_signals(struct html *h, struct row *row)
{
	struct render_ctx *c = &h->c;
	int64_t at;

	for (size_t k = 0; k < rlen(row->src, "fatal_signals"); k++) {
		const struct rv *s = ridx(row->src, "fatal_signals", k);

		if (!rgett(s, "at", &at))
			continue;
		marker(h, NO_FINDING, "signal", row, at, NULL);
		fprintf(h->f, "%s from %s pid %lld at %s", E(c, rgets(s, "name")),
			E(c, rgets(s, "sender_comm")), (long long)rgeti(s, "sender_pid"),
			rel(c, s, "at"));
		close_shape(h, NO_FINDING, "path");
	}
}

/* Both passes: the first collects the rows, the second draws on them. */
static void walk(struct html *h)
{
	const struct rv *root = h->c.r->root;

	for (size_t i = 0; i < rlen(root, "cids"); i++)
		draw_hold(h, ridx(root, "cids", i));
	for (size_t i = 0; i < rlen(root, "uffds"); i++) {
		const struct rv *u = ridx(root, "uffds", i);

		row_of(h, rget(u, "owner"));
		for (size_t k = 0; k < rlen(u, "handlers"); k++)
			row_of(h, ridx(u, "handlers", k));
	}
	for (size_t i = 0; i < rlen(root, "findings"); i++) {
		const struct rv *x = ridx(root, "findings", i);
		enum finding_kind kind = finding_kind_from_name(rgets(x, "kind"));

		if (kind == CID_CONFLICT || kind == INVALID_CID)
			draw_attempts(h, i, x);
		else if (kind == VMM_LEAK)
			draw_leak(h, i, x);
		else if (kind == UFFD_ORPHAN)
			draw_orphan(h, i, x);
	}
	for (size_t i = 0; h->drawing && i < h->nrows; i++)
		draw_signals(h, &h->rows[i]);
}

/* Rows grouped by test_dir; returns the height of the plot. */
static int layout(struct html *h)
{
	const struct rv *root = h->c.r->root;
	int y = AXIS_H;

	for (size_t i = 0; i < rlen(root, "processes"); i++) {
		const struct rv *p = ridx(root, "processes", i);

		if (role_from_name(rgets(p, "role")) == ROLE_VMM &&
		    !find_row(h, rgeti(p, "pid"), rgeti(p, "start_ns")))
			add_row(h, p);
	}
	walk(h);
	if (h->nrows) /* qsort wants a non-NULL base even for no rows */
		qsort(h->rows, h->nrows, sizeof(*h->rows), by_group);
	/* the index follows the rows to their places */
	proc_index_clear(&h->row_index);
	for (size_t i = 0; i < h->nrows; i++) {
		proc_index_add(&h->row_index, i);
		if (new_group(h->rows, i))
			y += GROUP_H;
		h->rows[i].y = y;
		y += ROW_H;
	}
	return y + 8;
}

static void axis(struct html *h, int height)
{
	const struct report *r = h->c.r;
	int64_t span = r->tend_us - r->t0_us, step = 1;

	/* 1, 2, 5 times a power of ten: at most ten ticks */
	for (int k = 0; span / step > 10; k++)
		step = (k % 3 == 1) ? step / 2 * 5 : step * 2;
	for (int64_t t = 0; t <= span; t += step) {
		int x = xpos(h, r->t0_us + t);

		fprintf(h->f,
			"<line class=\"tick\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
			"<text class=\"tick\" x=\"%d\" y=\"14\" text-anchor=\"middle\">+%gs</text>\n",
			x, AXIS_H - 8, x, height, x, (double)t / 1e6);
	}
}

/*
 * A group's label: its test dir, and the mount namespace it is a path in when that is not the
 * one --scope names (the host's), so that two containers' same path read as two tests.
 */
static void group_label(struct html *h, const struct row *row)
{
	struct render_ctx *c = &h->c;

	fprintf(h->f, "<text class=\"group\" x=\"4\" y=\"%d\">%s", row->y - 6,
		row->test_dir ? E(c, row->test_dir) : "(no test dir)");
	if (row->test_dir && row->mnt_ns && row->mnt_ns != h->scope_mnt_ns)
		fprintf(h->f, " (mount namespace %lld)", (long long)row->mnt_ns);
	fputs("</text>\n", h->f);
}

static void rows_svg(struct html *h)
{
	struct render_ctx *c = &h->c;

	for (size_t i = 0; i < h->nrows; i++) {
		struct row *row = &h->rows[i];
		const struct rv *p = row->src;

		if (new_group(h->rows, i))
			group_label(h, row);
		fprintf(h->f,
			"<g class=\"row\" id=\"row%zu\"><text class=\"label\" x=\"14\" y=\"%d\">"
			"%s pid %lld</text>",
			i, row->y + 15, E(c, rgets(p, "comm")), (long long)rgeti(p, "pid"));
		bar(h, NO_FINDING, "lifetime", row, row->from_us, row->to_us, 5, 12);
		proc_title(h, p);
		time_pair(h, p, "started_at", "exited_at", "still running at the end");
		fputs("; argv:", h->f);
		for (size_t k = 0; k < rlen(p, "argv"); k++)
			fprintf(h->f, " %s", E(c, rstr(ridx(p, "argv", k))));
		close_shape(h, NO_FINDING, "rect");
		fputs("</g>\n", h->f);
	}
}

static const char style[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#222}"
	"h1{font-size:1.4em}dt{font-weight:bold;float:left;width:9em}dd{margin-left:10em}"
	"svg text{font:12px monospace;fill:#222}.group{font-weight:bold}"
	".tick{stroke:#ddd}text.tick{stroke:none;fill:#666}"
	".lifetime{fill:#9db0c6}.cid-hold{fill:#2a9d5c}.cid-label{font-size:10px}"
	".spin{fill:#f80;fill-opacity:.3}.marker{stroke:#000;stroke-width:.6}"
	".marker.conflict{fill:#d22}.marker.signal{fill:#a3c}.marker.pager-death{fill:#111}"
	".marker.leak{fill:#f90}:target{stroke:#06c;stroke-width:3}li:target{background:#e8f1ff}"
	".kind{font-weight:bold;color:#b00}.sw{display:inline-block;width:1em;height:.8em;"
	"margin:0 .3em 0 1em}.legend{color:#444}li{margin:.4em 0}"
	"table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}";

static void header(struct html *h)
{
	struct render_ctx *c = &h->c;
	const struct rv *root = c->r->root, *trace = rget(root, "trace");
	const struct rv *host = rget(root, "host"), *events = rget(trace, "events");
	const struct rv *attach = rget(trace, "attach");

	fprintf(h->f, "<header><h1>cidtrace report%s</h1><p class=\"summary\">",
		rget(trace, "slice") ? " (slice)" : "");
	summary_line(h->f, c);
	window_line(h->f, c, "</p><p class=\"summary\">", "");
	fputs("</p>", h->f);
	if (rget(trace, "slice")) {
		fputs("<p class=\"slice\">", h->f);
		slice_line(h->f, c);
		fputs("</p>", h->f);
	}
	fprintf(h->f, "<dl><dt>host</dt><dd>%s</dd><dt>kernel</dt><dd>%s</dd>",
		E(c, rgets(host, "hostname")), E(c, rgets(host, "kernel")));
	fprintf(h->f, "<dt>mode</dt><dd>%s</dd><dt>command</dt><dd>", E(c, rgets(trace, "mode")));
	for (size_t k = 0; k < rlen(trace, "command"); k++)
		fprintf(h->f, "%s ", E(c, rstr(ridx(trace, "command", k))));
	if (!rget(trace, "command"))
		fputs("(none: record)", h->f);
	fprintf(h->f, "</dd><dt>started</dt><dd>%s</dd><dt>ended</dt><dd>%s</dd>",
		E(c, rgets(trace, "started_at")),
		rgets(trace, "ended_at") ? E(c, rgets(trace, "ended_at")) : "(still tracing)");
	fprintf(h->f, "<dt>updated</dt><dd>%s</dd><dt>final</dt><dd>%s</dd>",
		E(c, rgets(trace, "updated_at")),
		rgetb(trace, "final") ? "yes" : "no, a checkpoint");
	fprintf(h->f,
		"<dt>complete</dt><dd>%s</dd><dt>events</dt><dd>%lld received, %lld lost</dd>",
		rgetb(trace, "complete") ? "yes" : "no", (long long)rgeti(events, "received"),
		(long long)rgeti(events, "lost"));
	fprintf(h->f,
		"<dt>attach</dt><dd>process %s, snapshot %s, vsock %s, uffd %s</dd></dl>"
		"</header>\n",
		E(c, rgets(attach, "process")), E(c, rgets(attach, "snapshot")),
		E(c, rgets(attach, "vsock")), E(c, rgets(attach, "uffd")));
	render_ctx_release(c);
}

/* uffds[]: each userfaultfd, who registered it, who serves its faults, and how that went. */
static void uffd_table(struct html *h)
{
	struct render_ctx *c = &h->c;
	const struct rv *root = c->r->root;

	if (!rlen(root, "uffds"))
		return;
	fputs("<h2>userfaultfd</h2>\n<table id=\"uffds\"><tr><th>id</th><th>state</th>"
	      "<th>owner</th><th>handlers</th><th>registered</th><th>pages served</th>"
	      "<th>last served</th></tr>\n",
	      h->f);
	for (size_t i = 0; i < rlen(root, "uffds"); i++) {
		const struct rv *u = ridx(root, "uffds", i);

		fprintf(h->f, "<tr><td>%s</td><td>%s</td><td>", E(c, rgets(u, "id")),
			E(c, rgets(u, "state")));
		proc_title(h, rget(u, "owner"));
		fputs("</td><td>", h->f);
		for (size_t k = 0; k < rlen(u, "handlers"); k++) {
			const struct rv *p = ridx(u, "handlers", k);

			fprintf(h->f, "%s pid %lld%s<br>", E(c, rgets(p, "comm")),
				(long long)rgeti(p, "pid"),
				rgetb(p, "holding")    ? ""
				: rget(p, "exited_at") ? " (exited)"
						       : " (let go)");
		}
		fprintf(h->f, "</td><td>%lld bytes</td><td>%lld</td><td>%s</td></tr>\n",
			(long long)rgeti(u, "registered_bytes"),
			(long long)rgeti(u, "pages_served"), rel(c, u, "last_served_at"));
		render_ctx_release(c);
	}
	fputs("</table>\n", h->f);
}

static void findings_list(struct html *h)
{
	struct render_ctx *c = &h->c;
	const struct rv *root = c->r->root;
	size_t k = 0;

	fputs("<h2>Findings</h2>\n<ol id=\"findings\">\n", h->f);
	for (size_t i = 0; i < rlen(root, "findings"); i++) {
		const struct rv *x = ridx(root, "findings", i);
		const char *sep = " <span class=\"links\">timeline: ";

		fprintf(h->f, "<li id=\"f%zu\"><span class=\"kind\">%s</span> ", i,
			E(c, rgets(x, "kind")));
		finding_story(h->f, c, x);
		finding_cgroups(h, x);
		/* walk() draws the findings in order: their marks come in that order too */
		for (; k < h->nmarks && h->marks[k].finding <= i; k++) {
			if (h->marks[k].finding != i)
				continue;
			fprintf(h->f, "%s<a href=\"#m%d\">%s</a>", sep, h->marks[k].id,
				h->marks[k].label);
			sep = ", ";
		}
		fprintf(h->f, "%s</li>\n", *sep == ',' ? "</span>" : "");
		render_ctx_release(c);
	}
	if (!rlen(root, "findings"))
		fputs("<li>none</li>\n", h->f);
	fputs("</ol>\n", h->f);
}

void render_html(FILE *f, const struct report *r)
{
	struct html h = { .f = f };
	int height;

	render_ctx_init(&h.c, r, html_escape, false);
	h.scope_mnt_ns = rgeti(rget(r->root, "trace"), "scope_mnt_ns");
	proc_index_init(&h.row_index, row_key, &h);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n"
	      "<title>cidtrace report",
	      f);
	fprintf(f, "%s</title>\n<style>", rget(rget(r->root, "trace"), "slice") ? " (slice)" : "");
	fprintf(f, "%s</style></head><body>\n", style);
	header(&h);

	height = layout(&h);
	h.drawing = true;
	fprintf(f,
		"<h2>Timeline</h2>\n<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
		LABEL_W + PLOT_W + 40, height, LABEL_W + PLOT_W + 40, height);
	axis(&h, height);
	rows_svg(&h);
	if (!h.nrows)
		fprintf(f, "<text x=\"14\" y=\"%d\">no VMM in this report</text>\n", AXIS_H + 16);
	walk(&h);
	fputs("</svg>\n<p class=\"legend\">time from the trace start; bars: process lifetimes"
	      "<span class=\"sw\" style=\"background:#9db0c6\"></span>lifetime"
	      "<span class=\"sw\" style=\"background:#2a9d5c\"></span>CID held"
	      "<span class=\"sw\" style=\"background:#fc9\"></span>guest spinning"
	      "<span class=\"sw\" style=\"background:#d22\"></span>failed CID bind"
	      "<span class=\"sw\" style=\"background:#a3c\"></span>fatal signal"
	      "<span class=\"sw\" style=\"background:#111\"></span>pager death"
	      "<span class=\"sw\" style=\"background:#f90\"></span>VMM leaked. "
	      "Hover for details; click a marker for its finding.</p>\n",
	      f);
	findings_list(&h);
	uffd_table(&h);
	fputs("<h2>What to do next</h2>\n<ul>\n", f);
	next_steps(f, &h.c, "<li>", "</li>\n");
	fputs("</ul>\n</body></html>\n", f);
	free(h.rows);
	free(h.marks);
	proc_index_free(&h.row_index);
	render_ctx_free(&h.c);
}
