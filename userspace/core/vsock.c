// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "util.h"
#include "vocab.h"
#include "vsock.h"

/* Re-listing holders costs an iteration over every open file; a retry loop needs one
 * fresh look per this interval, not one per attempt. */
#define RESCAN_NS 50000000ull
/* Without a release hook, how often bindings are checked for a file that is gone. */
#define RELEASE_SCAN_NS 500000000ull
/*
 * The release hook fires as vhost_vsock_dev_release() begins; the CID leaves the kernel's
 * table a little later, under its mutex and after an RCU grace period. A failure inside this
 * window still belongs to the binding being released.
 */
#define RELEASE_GRACE_NS 100000000ull
/* The same ioctl seen by both hook kinds while they overlap, at a switch to precise hooks. */
#define DUPLICATE_NS 50000000ull

struct vsock_state {
	struct binding *bindings;
	struct conflict *conflicts, **conflicts_tail;
	size_t nconflicts;
	size_t nplain; /* released bindings no finding names: kept for context only */
	unsigned int next_id;
	struct vsock_source src;
	uint64_t release_scan_ns;
	struct ct_vsock_event last; /* the previous bind event, to drop its twin */
	int64_t local_cid; /* -1 until asked */
};

struct vsock_state *vsock_new(void)
{
	struct vsock_state *vs = xcalloc(1, sizeof(*vs));

	vs->local_cid = -1;
	vs->conflicts_tail = &vs->conflicts;
	return vs;
}

void vsock_free(struct vsock_state *vs)
{
	if (!vs)
		return;
	for (struct binding *b = vs->bindings, *n; b; b = n) {
		n = b->next;
		free(b);
	}
	for (struct conflict *f = vs->conflicts, *n; f; f = n) {
		n = f->next;
		free(f);
	}
	free(vs);
}

void vsock_set_source(struct vsock_state *vs, const struct vsock_source *src)
{
	vs->src = *src;
}

void vsock_set_scanner(struct vsock_state *vs, vsock_scan_fn fn, void *ctx, bool releases_traced)
{
	vs->src.scan = fn;
	vs->src.ctx = ctx;
	vs->src.releases_traced = releases_traced;
}

static struct binding *active_binding(struct vsock_state *vs, uint64_t instance)
{
	for (struct binding *b = vs->bindings; b; b = b->next)
		if (b->instance == instance && !b->released)
			return b;
	return NULL;
}

bool vsock_cid_shared(uint32_t ns_a, uint32_t flags_a, uint32_t ns_b, uint32_t flags_b)
{
	if (!((flags_a | flags_b) & CT_VSOCK_NET_LOCAL))
		return true;
	return ns_a && ns_a == ns_b;
}

/* Does binding b hold the CID event e asks for, in e's CID space? */
static bool holds(const struct binding *b, const struct ct_vsock_event *e)
{
	return b->cid == e->cid &&
	       vsock_cid_shared(b->net_ns, b->net_flags, e->net_ns, e->net_flags);
}

static struct binding *binding_for_cid(struct vsock_state *vs, const struct ct_vsock_event *e)
{
	for (struct binding *b = vs->bindings; b; b = b->next)
		if (!b->released && holds(b, e))
			return b;
	return NULL;
}

/* The binding that had e's CID, released no longer than RELEASE_GRACE_NS before e. */
static struct binding *releasing_binding(struct vsock_state *vs, const struct ct_vsock_event *e)
{
	uint64_t ts = e->hdr.ts_ns;
	struct binding *found = NULL;

	for (struct binding *b = vs->bindings; b; b = b->next)
		if (b->released && b->released_ns && b->released_ns + RELEASE_GRACE_NS >= ts &&
		    b->released_ns <= ts && holds(b, e))
			found = b; /* the latest such */
	return found;
}

static void release(struct vsock_state *vs, struct binding *b, uint64_t ts,
		    const struct ct_event_hdr *h)
{
	b->released = true;
	vs->nplain += !b->refs;
	b->released_ns = ts;
	if (h) {
		b->released_by_pid = h->pid;
		memcpy(b->released_by_comm, h->comm, CT_COMM_LEN);
	}
}

static struct binding *add_binding(struct collector *c, const struct ct_vsock_event *e,
				   struct proc *binder, uint64_t bound_ns)
{
	struct vsock_state *vs = c->vsock;
	struct binding *b = xcalloc(1, sizeof(*b)), **tail = &vs->bindings;

	b->instance = e->instance;
	b->id = ++vs->next_id;
	b->cid = e->cid;
	b->net_ns = e->net_ns;
	b->net_flags = e->net_flags;
	b->binder = binder;
	b->bound_ns = bound_ns;
	binder->keep = true;
	collector_ref(c, binder);
	/* append: cids[] lists bindings in the order they were made */
	while (*tail)
		tail = &(*tail)->next;
	*tail = b;
	return b;
}

static void cap_conflicts(struct collector *c, uint64_t now);
static void cap_bindings(struct collector *c, uint64_t now);

static int64_t host_local_cid(struct vsock_state *vs)
{
	if (vs->local_cid >= 0)
		return vs->local_cid;
	vs->local_cid = vs->src.local_cid ? vs->src.local_cid(vs->src.ctx) : 0;
	if (vs->local_cid < 0)
		vs->local_cid = 0;
	return vs->local_cid;
}

const struct binding *vsock_bindings(const struct vsock_state *vs)
{
	return vs->bindings;
}

const struct conflict *vsock_conflicts(const struct vsock_state *vs)
{
	return vs->conflicts;
}

/*
 * Holders of the binding at this attempt: the task_file iteration when it can run, else the
 * binder we saw bind it (it may have died since; its exit and signals still tell the story).
 */
static void add_holder(struct collector *c, struct held *holders, int *n, struct proc *p,
		       uint32_t flags)
{
	collector_ref(c, p);
	holders[(*n)++] = (struct held){ p, flags };
}

/* The holders found at ts replace the earlier ones: each is referenced before any is let go. */
static void set_holders(struct collector *c, struct conflict *f, const struct held *h, int n,
			uint64_t ts)
{
	struct held old[VSOCK_MAX_HOLDERS];
	int nold = f->nholders;

	memcpy(old, f->holders, sizeof(old));
	memcpy(f->holders, h, n * sizeof(*h));
	f->nholders = n;
	for (int i = 0; i < nold; i++)
		collector_unref(c, old[i].proc, ts);
}

static void find_holders(struct collector *c, struct conflict *f, uint64_t ts)
{
	struct vsock_state *vs = c->vsock;
	struct vsock_holder found[VSOCK_MAX_HOLDERS];
	struct held held[VSOCK_MAX_HOLDERS];
	int n = 0, nheld = 0;

	if (!f->binding || (f->scanned_ns && ts - f->scanned_ns < RESCAN_NS))
		return;
	f->scanned_ns = ts;
	if (vs->src.scan)
		n = vs->src.scan(vs->src.ctx, f->binding->instance, found, VSOCK_MAX_HOLDERS);
	/* Nobody holds it now: the holder finished dying since the attempt. Keep what an
	 * earlier attempt saw, or fall back to the binder. */
	if (n <= 0) {
		if (f->nholders)
			return;
		add_holder(c, f->holders, &f->nholders, f->binding->binder, 0);
		return;
	}
	for (int i = 0; i < n; i++) {
		struct proc *p = pt_find(&c->pt, found[i].pid, found[i].start_ns);

		if (!p)
			continue;
		p->keep = true;
		add_holder(c, held, &nheld, p, found[i].flags);
	}
	if (!nheld) /* holders the table never saw: the binder is the best we know */
		add_holder(c, held, &nheld, f->binding->binder, 0);
	set_holders(c, f, held, nheld, ts);
}

static struct conflict *find_conflict(struct vsock_state *vs, enum finding_kind kind,
				      struct proc *attempt, uint64_t cid, struct binding *b)
{
	for (struct conflict *f = vs->conflicts; f; f = f->next)
		if (f->kind == kind && f->attempt == attempt && f->cid == cid && f->binding == b)
			return f;
	return NULL;
}

enum holder_state vsock_holder_state(const struct held *h, uint64_t at)
{
	const struct proc *p = h->proc;

	if (h->flags & CT_HOLDER_COREDUMP)
		return HOLDER_DUMPING_CORE;
	if (h->flags & CT_HOLDER_EXITING)
		return HOLDER_EXITING;
	for (uint32_t i = 0; i < p->nsigs; i++)
		if (p->sigs[i].at_ns <= at)
			return HOLDER_EXITING;
	if (p->exited && p->exit_ns && p->exit_ns <= at)
		return HOLDER_EXITING;
	return HOLDER_RUNNING;
}

enum cid_class vsock_classify(struct vsock_state *vs, const struct conflict *f)
{
	const struct held *h = f->nholders ? &f->holders[0] : NULL;

	if (!f->binding || !h)
		return host_local_cid(vs) == (int64_t)f->cid ? CLASS_HOST_LOCAL_CID
							     : CLASS_NO_HOLDER_FOUND;
	if (vsock_holder_state(h, f->last_ns) != HOLDER_RUNNING)
		return CLASS_TEARDOWN_RACE;
	if (h->proc != f->binding->binder && f->binding->binder->exited &&
	    f->binding->binder->exit_ns <= f->last_ns)
		return CLASS_INHERITED_FD;
	if (h->proc->orphaned)
		return CLASS_ORPHAN_HOLDER;
	return CLASS_LIVE_DUPLICATE;
}

/* The classification's name, or for an invalid_cid its kind's. */
const char *vsock_classification(struct vsock_state *vs, const struct conflict *f)
{
	if (f->kind == INVALID_CID)
		return finding_kind_name(INVALID_CID);
	return cid_class_name(vsock_classify(vs, f));
}

static void on_attempt_failed(struct collector *c, struct proc *p, const struct ct_vsock_event *e)
{
	struct vsock_state *vs = c->vsock;
	enum finding_kind kind = e->ret == -EINVAL ? INVALID_CID : CID_CONFLICT;
	struct binding *b = NULL;
	struct conflict *f;
	char detail[160];

	if (kind == CID_CONFLICT && !(b = binding_for_cid(vs, e)))
		b = releasing_binding(vs, e);
	f = find_conflict(vs, kind, p, e->cid, b);
	if (!f) {
		f = xcalloc(1, sizeof(*f));
		f->kind = kind;
		f->attempt = p;
		f->cid = e->cid;
		f->binding = b;
		f->first_ns = e->hdr.ts_ns;
		*vs->conflicts_tail = f; /* findings in the order they began */
		vs->conflicts_tail = &f->next;
		vs->nconflicts++;
		p->keep = true;
		collector_ref(c, p);
		if (b && !b->refs++ && b->released)
			vs->nplain--; /* a finding names it now */
	}
	f->attempts++;
	f->last_ns = e->hdr.ts_ns;
	f->net_ns = e->net_ns;
	f->net_flags = e->net_flags;
	find_holders(c, f, e->hdr.ts_ns);
	if (f->attempts > 1)
		return; /* one live line per finding, not one per retry */
	if (kind == INVALID_CID)
		snprintf(detail, sizeof(detail), "cid %llu: invalid", (unsigned long long)e->cid);
	else if (f->nholders)
		snprintf(detail, sizeof(detail), "cid %llu: held by pid %u (%s), %s",
			 (unsigned long long)e->cid, f->holders[0].proc->pid,
			 f->holders[0].proc->comm, vsock_classification(vs, f));
	else
		snprintf(detail, sizeof(detail), "cid %llu: %s", (unsigned long long)e->cid,
			 vsock_classification(vs, f));
	collector_notify(c, vsock, "conflict", p, e->hdr.ts_ns, e->cid, detail);
	/* last: f itself may go, if its attempt's exit was told first */
	cap_conflicts(c, e->hdr.ts_ns);
}

/* One ioctl reported by the tracepoints and by the precise hook that replaced them. */
static bool is_twin(const struct ct_vsock_event *a, const struct ct_vsock_event *b)
{
	return a->hdr.tid == b->hdr.tid && a->instance == b->instance && a->cid == b->cid &&
	       a->ret == b->ret && a->source != b->source &&
	       b->hdr.ts_ns - a->hdr.ts_ns < DUPLICATE_NS;
}

void vsock_tick(struct collector *c, uint64_t now)
{
	struct vsock_state *vs = c->vsock;
	struct vsock_holder h;

	if (!vs->src.scan || vs->src.releases_traced || now - vs->release_scan_ns < RELEASE_SCAN_NS)
		return;
	vs->release_scan_ns = now;
	for (struct binding *b = vs->bindings; b; b = b->next)
		if (!b->released && vs->src.scan(vs->src.ctx, b->instance, &h, 1) == 0)
			release(vs, b, now, NULL);
	cap_bindings(c, now);
}

void vsock_handle(struct collector *c, const struct ct_vsock_event *e)
{
	struct vsock_state *vs = c->vsock;
	struct proc *p = collector_proc(c, &e->hdr);
	struct binding *b = active_binding(vs, e->instance);
	char detail[96];

	if (e->hdr.type == CT_EV_VSOCK_BIND && is_twin(&vs->last, e))
		return;
	if (e->hdr.type == CT_EV_VSOCK_BIND)
		vs->last = *e;
	if (e->hdr.type == CT_EV_VSOCK_RELEASE) {
		if (b) {
			release(vs, b, e->hdr.ts_ns, &e->hdr);
			snprintf(detail, sizeof(detail), "cid %llu released (vsock-%u)",
				 (unsigned long long)b->cid, b->id);
			collector_notify(c, vsock, "release", p, e->hdr.ts_ns, b->cid, detail);
			cap_bindings(c, e->hdr.ts_ns);
		}
		return;
	}
	if (e->ret) {
		on_attempt_failed(c, p, e);
		return;
	}
	if (b && b->cid == e->cid)
		return; /* the same CID again on the same fd: nothing changes */
	if (b)
		release(vs, b, e->hdr.ts_ns, &e->hdr); /* a new CID on the same fd frees the old */
	/* a binding of this CID, in this CID space, still active for us must have gone unseen */
	for (struct binding *old; (old = binding_for_cid(vs, e));)
		release(vs, old, 0, NULL);
	b = add_binding(c, e, p, e->hdr.ts_ns);
	snprintf(detail, sizeof(detail), "cid %llu bound (vsock-%u)", (unsigned long long)e->cid,
		 b->id);
	collector_notify(c, vsock, "bind", p, e->hdr.ts_ns, e->cid, detail);
	cap_bindings(c, e->hdr.ts_ns);
}

void vsock_seed(struct collector *c, const struct ct_vsock_event *e)
{
	/* a /proc record knows the start time to a clock tick only: take the live pid */
	struct proc *p = e->source == CT_SRC_ITER ? pt_find(&c->pt, e->hdr.pid, e->hdr.start_ns)
						  : pt_find_live(&c->pt, e->hdr.pid);

	if (!p || active_binding(c->vsock, e->instance))
		return;
	add_binding(c, e, p, 0);
}

bool vsock_wanted(const struct collector *c, const struct conflict *f)
{
	if (!collector_scoped(&c->cfg) || f->attempt->in_scope)
		return true;
	for (int i = 0; i < f->nholders; i++)
		if (f->holders[i].proc->in_scope)
			return true;
	return false;
}

/* A finding is over once its attempting process has exited. */
static bool conflict_ended(const struct conflict *f)
{
	return f->attempt->exited;
}

static uint64_t conflict_end(const struct conflict *f)
{
	return f->attempt->exit_ns ? f->attempt->exit_ns : f->attempt->start_ns;
}

static uint64_t binding_end(const struct binding *b)
{
	return b->released_ns ? b->released_ns : b->bound_ns;
}

/* Unlink *fp (the link to f) and free f, counted; the references it held go. */
static void drop_conflict(struct collector *c, struct conflict **fp, uint64_t now)
{
	struct vsock_state *vs = c->vsock;
	struct conflict *f = *fp;

	if (vsock_wanted(c, f))
		collector_count_finding(c, f->kind, conflict_end(f));
	*fp = f->next;
	if (vs->conflicts_tail == &f->next)
		vs->conflicts_tail = fp;
	vs->nconflicts--;
	if (f->binding && !--f->binding->refs && f->binding->released)
		vs->nplain++;
	for (int i = 0; i < f->nholders; i++)
		collector_unref(c, f->holders[i].proc, now);
	collector_unref(c, f->attempt, now);
	free(f);
}

static void drop_binding(struct collector *c, struct binding **bp, uint64_t now)
{
	struct binding *b = *bp;

	collector_count_dropped(c, &c->retention.dropped_cids, binding_end(b));
	c->vsock->nplain--;
	*bp = b->next;
	collector_unref(c, b->binder, now);
	free(b);
}

/*
 * Beyond FINDINGS_KEPT_MAX findings, the one whose attempt exited first goes. A linear walk:
 * only a failed bind of a new (process, CID, binding) gets here, and find_conflict() walks
 * the same list on every failed bind anyway.
 */
static void cap_conflicts(struct collector *c, uint64_t now)
{
	struct vsock_state *vs = c->vsock;

	while (vs->nconflicts > FINDINGS_KEPT_MAX) {
		struct conflict **oldest = NULL;

		for (struct conflict **fp = &vs->conflicts; *fp; fp = &(*fp)->next)
			if (conflict_ended(*fp) &&
			    (!oldest || conflict_end(*fp) < conflict_end(*oldest)))
				oldest = fp;
		if (!oldest)
			return; /* every attempting process lives: its finding stays */
		drop_conflict(c, oldest, now);
	}
}

/* Beyond keep_processes released bindings that no finding names, the first made go. */
static void cap_bindings(struct collector *c, uint64_t now)
{
	struct vsock_state *vs = c->vsock;
	uint32_t keep = c->cfg.keep_processes;

	for (struct binding **bp = &vs->bindings; keep && *bp && vs->nplain > keep;) {
		if ((*bp)->released && !(*bp)->refs)
			drop_binding(c, bp, now);
		else
			bp = &(*bp)->next;
	}
}

void vsock_retain(struct collector *c, uint64_t now)
{
	struct vsock_state *vs = c->vsock;

	for (struct conflict **fp = &vs->conflicts; *fp;) {
		if (conflict_ended(*fp) && collector_aged(c, conflict_end(*fp), now))
			drop_conflict(c, fp, now);
		else
			fp = &(*fp)->next;
	}
	for (struct binding **bp = &vs->bindings; *bp;) {
		struct binding *b = *bp;

		if (b->released && !b->refs && collector_aged(c, binding_end(b), now))
			drop_binding(c, bp, now);
		else
			bp = &b->next;
	}
}
