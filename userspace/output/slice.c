// SPDX-License-Identifier: GPL-2.0
/*
 * Slicing a report (slice.h). Membership is decided once per process, with record's --scope
 * rule (refs_dir), then spreads along references, found in one index: the processes sorted by
 * (pid, start_ns), 24 bytes each. The slice replaces the report: its arrays are the input's,
 * compacted where they are, and only the objects on the way to them are new. So a slice
 * costs about 25 bytes per process and 1 per other element more than reading the report.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "render.h"
#include "slice.h"
#include "testdir.h"
#include "util.h"

#define MAX_TIME_US 253402300799999999LL /* 9999-12-31T23:59:59.999999Z */

enum {
	MEMBER = 1, /* the slice is about it */
	KEEP = 2, /* listed: a member, or a process something listed names */
	WALKED = 4, /* its ancestors are kept */
};

#define NONE ((uint32_t)-1)

struct key {
	int64_t pid, start_ns;
	uint32_t i; /* its place in processes[] */
	uint32_t first; /* the first place in processes[] of any process of this pid */
};

struct slicer {
	struct slice s; /* what is cut: the request within an earlier slice */
	const struct rv *root, *procs;
	size_t np;
	uint8_t *flag; /* per processes[] entry */
	struct key *keys; /* processes[] with a pid, by pid, start_ns and place */
	size_t nkeys;
	char *argv; /* a process's argv joined as record keeps it, NUL-separated */
	size_t cap;
	int64_t host_mnt_ns; /* trace.scope_mnt_ns: the namespace --scope's paths are in; 0: any */
	const char **ids[2]; /* the cids[] and uffds[] ids kept findings name */
	size_t nids[2];
};

enum { BINDINGS, CONTEXTS };

bool slice_parse_time(const char *s, int64_t *us)
{
	int64_t sec = 0, frac = 0, scale = 1000000;
	const char *p = s + 1;

	if (*s != '@')
		return parse_time_offset(s, us);
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((sec = sec * 10 + (*p - '0')) > MAX_TIME_US / 1000000)
			return false;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return false;
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale > 1)
				frac += (*p - '0') * (scale /= 10);
	}
	if (*p)
		return false;
	*us = sec * 1000000 + frac;
	return true;
}

/* ---- membership -------------------------------------------------------------------------- */

/* The lifetime of o, [started_at or -inf, exited_at or +inf], meets [since, until]. */
static bool in_window(const struct slicer *x, const struct rv *o)
{
	int64_t us;

	if (x->s.has_until && rgett(o, "started_at", &us) && us > x->s.until_us)
		return false;
	return !(x->s.has_since && rgett(o, "exited_at", &us) && us < x->s.since_us);
}

/*
 * o's argv or cwd names the scope, as record's --scope decides it (refs_dir). A test_dir
 * below the scope does too: it is the start of a path in argv or cwd, and a reference to a
 * process the report did not list has no more than that.
 */
/*
 * o's cgroup is the slice's --scope-cgroup or below it and names its --scope-container (as
 * record's, container_from_cgroup()). A reference to an unlisted process has no cgroup: out.
 */
static bool in_cgroup(const struct slicer *x, const struct rv *o)
{
	const char *cg = rgets(o, "cgroup");
	struct container_id id;

	if (!x->s.cgroup && !x->s.container)
		return true;
	if (!cg || (x->s.cgroup && !path_under(cg, x->s.cgroup)))
		return false;
	return !x->s.container ||
	       (container_from_cgroup(cg, &id) && container_id_matches(&id, x->s.container));
}

static bool in_scope(struct slicer *x, const struct rv *o)
{
	size_t len = 0, n = rlen(o, "argv");
	const char *td = rgets(o, "test_dir");
	int64_t mnt_ns = mnt_ns_of(o);
	char norm[PATH_MAX];

	if (!in_cgroup(x, o))
		return false;
	if (!x->s.scope)
		return true;
	/* another mount namespace's same path is another directory, unless a job was chosen */
	if (!x->s.cgroup && !x->s.container && x->host_mnt_ns && mnt_ns && mnt_ns != x->host_mnt_ns)
		return false;
	for (size_t k = 0; k < n; k++) {
		const struct rv *a = ridx(o, "argv", k);

		if (len + a->n + 1 > x->cap) {
			x->cap = 2 * (len + a->n + 1);
			x->argv = xrealloc(x->argv, x->cap);
		}
		if (k)
			x->argv[len++] = '\0';
		memcpy(x->argv + len, a->s, a->n);
		len += a->n;
	}
	if (refs_dir(x->argv, len, rgetb(o, "argv_truncated"), rgets(o, "cwd"), x->s.scope))
		return true;
	return td && path_normalize(td, strlen(td), norm, sizeof(norm)) &&
	       path_under(norm, x->s.scope);
}

static bool matches(struct slicer *x, const struct rv *o)
{
	return in_window(x, o) && in_scope(x, o);
}

static int by_key(const void *a, const void *b)
{
	const struct key *p = a, *q = b;

	if (p->pid != q->pid)
		return p->pid < q->pid ? -1 : 1;
	if (p->start_ns != q->start_ns)
		return p->start_ns < q->start_ns ? -1 : 1;
	return (p->i > q->i) - (p->i < q->i);
}

/* The number of keys below (pid, start_ns, place). */
static size_t below(const struct slicer *x, int64_t pid, int64_t start_ns, uint32_t place)
{
	struct key want = { pid, start_ns, place, 0 };
	size_t lo = 0, hi = x->nkeys;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (by_key(&x->keys[mid], &want) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first process (pid, start_ns), a start of 0 matching any: as the renderers find it. */
static uint32_t find(const struct slicer *x, int64_t pid, int64_t start_ns)
{
	size_t k = below(x, pid, start_ns ? start_ns : INT64_MIN, 0), z = below(x, pid, 0, 0);
	uint32_t i = NONE;

	if (k < x->nkeys && x->keys[k].pid == pid && (!start_ns || x->keys[k].start_ns == start_ns))
		i = start_ns ? x->keys[k].i : x->keys[k].first;
	if (start_ns && z < x->nkeys && x->keys[z].pid == pid && !x->keys[z].start_ns &&
	    x->keys[z].i < i)
		i = x->keys[z].i;
	return i;
}

/* The processes[] entry a reference names, or NONE. */
static uint32_t lookup(const struct slicer *x, const struct rv *ref)
{
	if (!ref || rgeti(ref, "pid") <= 0)
		return NONE;
	return find(x, rgeti(ref, "pid"), rgeti(ref, "start_ns"));
}

/* The process ref names is a member: its entry is, or, unlisted, the reference matches. */
static bool names_member(struct slicer *x, const struct rv *ref)
{
	uint32_t i = lookup(x, ref);

	if (i != NONE)
		return x->flag[i] & MEMBER;
	return ref && rgeti(ref, "pid") > 0 && matches(x, ref);
}

/* The process ref names comes along. */
static void keep(struct slicer *x, const struct rv *ref)
{
	uint32_t i = lookup(x, ref);

	if (i != NONE)
		x->flag[i] |= KEEP;
}

/* ---- ancestry ---------------------------------------------------------------------------- */

/*
 * The parent of processes[i]: the latest process of the parent's pid that started no later
 * than it (its fork's parent: original_ppid once orphaned), or NONE.
 */
static uint32_t parent(const struct slicer *x, uint32_t i)
{
	const struct rv *p = &x->procs->a[i], *orig = rget(p, "original_ppid");
	int64_t ppid = orig && orig->type == R_INT ? orig->i : rgeti(p, "ppid");
	int64_t start = rgeti(p, "start_ns");
	size_t k;

	if (ppid <= 0)
		return NONE;
	/* past the last key of (ppid, up to start): no place is UINT32_MAX */
	k = below(x, ppid, start ? start : INT64_MAX, UINT32_MAX);
	/* not itself, when it names its own pid: seeded start times are only as fine as a tick */
	if (k && x->keys[k - 1].i == i)
		k--;
	return k && x->keys[k - 1].pid == ppid ? x->keys[k - 1].i : NONE;
}

/*
 * Every kept process brings its ancestors. Each process is walked up from at most once, so
 * parents that name each other end the walk too.
 */
static void keep_ancestors(struct slicer *x)
{
	for (uint32_t i = 0; i < x->np; i++) {
		uint32_t j = i;

		if ((x->flag[i] & (KEEP | WALKED)) != KEEP)
			continue;
		x->flag[i] |= WALKED;
		while ((j = parent(x, j)) != NONE && !(x->flag[j] & WALKED))
			x->flag[j] |= KEEP | WALKED;
	}
}

/* ---- what follows the members ------------------------------------------------------------ */

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void want_id(struct slicer *x, int which, const char *id)
{
	if (id)
		x->ids[which][x->nids[which]++] = id;
}

static bool wanted(const struct slicer *x, int which, const char *id)
{
	return id && x->nids[which] &&
	       bsearch(&id, x->ids[which], x->nids[which], sizeof(char *), by_str);
}

/*
 * A finding is in when a process it is about is a member: the failed attempt, a holder, the
 * guest, its pager, the leaked VMM (the finding itself). Then everything it names comes along.
 */
static bool finding_in(struct slicer *x, const struct rv *f)
{
	static const char *const about[] = { "attempt", "guest", "pager" };
	static const char *const also[] = { "attempt", "guest", "pager", "binder",
					    "restarted_pager" };
	bool in = names_member(x, f);

	for (size_t k = 0; !in && k < sizeof(about) / sizeof(about[0]); k++)
		in = names_member(x, rget(f, about[k]));
	for (size_t k = 0; !in && k < rlen(f, "holder"); k++)
		in = names_member(x, ridx(f, "holder", k));
	if (!in)
		return false;
	keep(x, f);
	for (size_t k = 0; k < sizeof(also) / sizeof(also[0]); k++)
		keep(x, rget(f, also[k]));
	for (size_t k = 0; k < rlen(f, "holder"); k++)
		keep(x, ridx(f, "holder", k));
	want_id(x, BINDINGS, rgets(f, "binding"));
	want_id(x, CONTEXTS, rgets(rget(f, "uffd"), "id"));
	return true;
}

static bool binding_in(struct slicer *x, const struct rv *b)
{
	if (!names_member(x, rget(b, "binder")) && !wanted(x, BINDINGS, rgets(b, "id")))
		return false;
	keep(x, rget(b, "binder"));
	return true;
}

static bool context_in(struct slicer *x, const struct rv *u)
{
	if (!names_member(x, rget(u, "owner")) && !wanted(x, CONTEXTS, rgets(u, "id")))
		return false;
	keep(x, rget(u, "owner"));
	for (size_t k = 0; k < rlen(u, "handlers"); k++)
		keep(x, ridx(u, "handlers", k));
	return true;
}

static bool process_in(struct slicer *x, const struct rv *p)
{
	return x->flag[p - x->procs->a] & KEEP;
}

static bool reaped_in(struct slicer *x, const struct rv *e)
{
	uint32_t i = lookup(x, e);

	return i != NONE ? x->flag[i] & KEEP : names_member(x, e);
}

/* ---- the sliced tree --------------------------------------------------------------------- */

/*
 * The elements of root's array key that in() keeps, in their order. The slice replaces the
 * report, so they are compacted where they are: no second copy of a large array.
 */
static struct rv filter(struct slicer *x, const char *key,
			bool (*in)(struct slicer *x, const struct rv *e))
{
	const struct rv *a = rget(x->root, key);
	struct rv out = { .type = R_ARR, .a = a->a };
	struct rv *v = (struct rv *)a->a;

	for (size_t i = 0; i < a->n; i++)
		if (in(x, &a->a[i]))
			v[out.n++] = a->a[i];
	return out;
}

/* root with its array key filtered, if it has one. */
static struct rv set_filtered(struct rtree *t, struct slicer *x, const struct rv *root,
			      const char *key, bool (*in)(struct slicer *x, const struct rv *e))
{
	const struct rv *a = rget(x->root, key);
	struct rv v;

	if (!a || a->type != R_ARR)
		return *root;
	v = filter(x, key, in);
	return rtree_set(t, root, x->root->o->shape, key, &v);
}

static const struct field *sub(const struct rv *o, const char *key)
{
	const struct field *shape = o->o->shape;

	for (size_t i = 0; shape[i].name; i++)
		if (!strcmp(shape[i].name, key))
			return shape[i].sub;
	abort(); /* the report's schema has no such object */
}

static struct rv str(struct rtree *t, const char *s)
{
	size_t n = strlen(s);
	char *c = rtree_alloc(t, n + 1);

	memcpy(c, s, n + 1);
	return (struct rv){ .type = R_STR, .n = n, .s = c };
}

static struct rv time_str(struct rtree *t, int64_t us)
{
	char buf[40];

	fmt_time(buf, sizeof(buf), us);
	return str(t, buf);
}

/* trace.slice of the slice: what x cut. */
static struct rv trace_with_slice(struct rtree *t, const struct slicer *x)
{
	const struct rv *trace = rget(x->root, "trace");
	const struct field *trace_f = sub(x->root, "trace"), *slice_f = NULL;
	struct rv o = { .type = R_OBJ }, v;

	for (size_t i = 0; trace_f[i].name; i++)
		if (!strcmp(trace_f[i].name, "slice"))
			slice_f = trace_f[i].sub;
	if (x->s.scope) {
		v = str(t, x->s.scope);
		o = rtree_set(t, &o, slice_f, "scope", &v);
	}
	if (x->s.cgroup) {
		v = str(t, x->s.cgroup);
		o = rtree_set(t, &o, slice_f, "cgroup", &v);
	}
	if (x->s.container) {
		v = str(t, x->s.container);
		o = rtree_set(t, &o, slice_f, "container", &v);
	}
	if (x->s.has_since) {
		v = time_str(t, x->s.since_us);
		o = rtree_set(t, &o, slice_f, "since", &v);
	}
	if (x->s.has_until) {
		v = time_str(t, x->s.until_us);
		o = rtree_set(t, &o, slice_f, "until", &v);
	}
	return rtree_set(t, trace, trace_f, "slice", &o);
}

/*
 * A slice of a slice stays inside it: the later since and the earlier until, and the earlier
 * scope unless another one is asked for (the narrower of the two when one is inside the other).
 */
static void within_earlier(struct slicer *x, const struct slice *ask, char *norm, size_t len,
			   char *cgnorm)
{
	const struct rv *was = rget(rget(x->root, "trace"), "slice");
	const char *scope = rgets(was, "scope"), *cg = rgets(was, "cgroup");
	int64_t us;

	x->s = *ask;
	if (rgett(was, "since", &us) && (!x->s.has_since || us > x->s.since_us)) {
		x->s.has_since = true;
		x->s.since_us = us;
	}
	if (rgett(was, "until", &us) && (!x->s.has_until || us < x->s.until_us)) {
		x->s.has_until = true;
		x->s.until_us = us;
	}
	/* one that is no absolute path is read as absent, as an unparsable time is */
	if (scope && path_normalize(scope, strlen(scope), norm, len) &&
	    (!x->s.scope || path_under(norm, x->s.scope)))
		x->s.scope = norm;
	/* the same for the cgroup; the container asked for replaces the earlier one */
	if (cg && path_normalize(cg, strlen(cg), cgnorm, len) &&
	    (!x->s.cgroup || path_under(cgnorm, x->s.cgroup)))
		x->s.cgroup = cgnorm;
	if (!x->s.container)
		x->s.container = rgets(was, "container");
}

void slice_report(struct report *r, const struct slice *ask)
{
	static const struct rv none = { .type = R_ARR };
	struct rtree *t = &r->tree;
	struct slicer x = { .root = r->root };
	size_t nf = rlen(r->root, "findings");
	char earlier[PATH_MAX], earlier_cg[PATH_MAX];
	struct rv root = *r->root, v;

	within_earlier(&x, ask, earlier, sizeof(earlier), earlier_cg);
	x.host_mnt_ns = rgeti(rget(r->root, "trace"), "scope_mnt_ns");
	x.procs = rget(r->root, "processes");
	if (!x.procs || x.procs->type != R_ARR)
		x.procs = &none;
	x.np = x.procs->n;
	x.flag = xcalloc(x.np + 1, 1);
	x.keys = xreallocarray(NULL, x.np + 1, sizeof(*x.keys));
	for (uint32_t i = 0; i < x.np; i++) {
		const struct rv *p = &x.procs->a[i];

		if (rgeti(p, "pid") > 0)
			x.keys[x.nkeys++] =
				(struct key){ rgeti(p, "pid"), rgeti(p, "start_ns"), i, i };
		if (matches(&x, p))
			x.flag[i] = MEMBER | KEEP;
	}
	qsort(x.keys, x.nkeys, sizeof(*x.keys), by_key);
	/* each pid's first place, for references without a start time */
	for (size_t k = 0, g = 0; k <= x.nkeys; k++) {
		if (k < x.nkeys && x.keys[k].pid == x.keys[g].pid) {
			if (x.keys[k].i < x.keys[g].first)
				x.keys[g].first = x.keys[k].i;
			continue;
		}
		for (size_t m = g + 1; m < k; m++)
			x.keys[m].first = x.keys[g].first;
		g = k;
	}
	for (int w = 0; w < 2; w++)
		x.ids[w] = xreallocarray(NULL, nf + 1, sizeof(char *));

	/*
	 * Findings first: they name the bindings and contexts that come along. Processes last:
	 * until then their places are what the index says.
	 */
	root = set_filtered(t, &x, &root, "findings", finding_in);
	for (int w = 0; w < 2; w++)
		qsort(x.ids[w], x.nids[w], sizeof(char *), by_str);
	root = set_filtered(t, &x, &root, "cids", binding_in);
	root = set_filtered(t, &x, &root, "uffds", context_in);
	keep_ancestors(&x);
	root = set_filtered(t, &x, &root, "reaped", reaped_in);
	root = set_filtered(t, &x, &root, "processes", process_in);
	v = trace_with_slice(t, &x);
	root = rtree_set(t, &root, x.root->o->shape, "trace", &v);

	t->root = root;
	rtree_axis(t);
	report_axis(r);
	for (int w = 0; w < 2; w++)
		free(x.ids[w]);
	free(x.keys);
	free(x.flag);
	free(x.argv);
}
