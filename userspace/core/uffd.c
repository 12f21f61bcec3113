// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "state.h"
#include "uffd.h"
#include "util.h"

/*
 * Every second, the known owners and handlers are scanned (handlers that closed their fd).
 * A walk of every process's fds (contexts born without the precise hooks, releases) costs
 * 0.3 us per open fd: it runs every 10 s, and at once to confirm an orphan or a release
 * that a partial scan suggests.
 */
#define SCAN_NS	     1000000000ull
#define FULL_SCAN_NS 10000000000ull
/*
 * Walks of every process's fds that only narrow a blind spot (a new VMM's pager, a holder
 * set that changed) are at least this far apart: an unprivileged user starting processes
 * named like a VMM, or passing uffds around, gets no more than that.
 */
#define HINT_FULL_NS  2000000000ull
#define VMM_WALK1_NS  1000000000ull
#define VMM_WALK2_NS  3000000000ull
#define MAX_SCAN_PIDS 256
/* A process's exit event comes before exit_files(): look for its fds a little later. */
#define EXIT_SETTLE_NS 200000000ull
/* How often an orphan's owner is sampled, and its registered memory re-read. */
#define WATCH_NS 500000000ull
#define SMAPS_NS 2000000000ull
/*
 * The owner's threads are asleep when, together over the latest sample, they ran for less
 * than ASLEEP_PCT of one core and (where schedstat tells) wanted less than AWAKE_DEMAND_PCT:
 * a busy thread starved on a loaded host is awake, while an idle one whose brief wake-ups
 * wait long on a run queue (a TCG VM under load: 0 % run, 10 % wait) is still asleep.
 */
#define ASLEEP_PCT	 10.0
#define AWAKE_DEMAND_PCT 50.0
#define MAX_THREADS	 64
/* An owner's registered VMAs read at once: beyond, its contexts' registration is short. */
#define MAX_REGIONS 1024
/*
 * The processes that forked, exec'd or renamed latest, where an orphan's watch looks for a
 * restarted pager (a process named like the lost one): only those named since its last
 * look, not the whole process table every 500 ms. One that falls behind (more than this many
 * named between two of its looks, or its first look) walks the table once.
 */
#define NAMED_MAX 4096

struct named {
	uint32_t pid;
	uint64_t start_ns;
};

struct sample {
	uint64_t at;
	uint64_t ticks; /* the whole process's CPU: threads that exit keep theirs counted */
	int nthreads;
	struct thread_cpu th[MAX_THREADS];
};

struct uffd_state {
	struct uctx *ctxs, **tail;
	size_t norphans;
	size_t nplain; /* released contexts without a finding: kept for context only */
	unsigned int next_id;
	struct uffd_source src;
	bool have_src;
	uint64_t gen, next_scan_ns, next_full_ns;
	uint64_t full_tried_ns, full_ns; /* the latest full walk tried, and done */
	bool need_full;
	/* hinted full walks (HINT_FULL_NS apart): when the next two are due, 0: none */
	uint64_t hint_ns[2];
	bool counts_due; /* a released context's final serve counts wait in the source */
	double spin_pct;
	uint64_t window_ns;
	long tick_hz;
	long page_size;
	struct ct_uffd_region *regions; /* MAX_REGIONS, for the source's regions() */
	/* round-robin: the id of the last context a walk's budget reached (scan_known, rereads) */
	unsigned int scan_cursor, reread_cursor, refresh_cursor;
	uint64_t pass; /* refreshes of the registration: an owner's is read once in each */
	struct uffd_budget_stats deferred;
	struct named *named; /* NAMED_MAX, a ring: entry seq at seq % NAMED_MAX */
	uint64_t named_seq; /* entries ever pushed */
	/*
	 * The live contexts by key, chained through hnext (a released one leaves): a walk finds
	 * each file's context at once, where any user can hold thousands of uffds.
	 */
	struct uctx **live;
	size_t nlive, nbuckets;
};

enum uffd_orphan_state uffd_classify(const struct uffd_load *l, uint64_t total, double spin_pct)
{
	double spin = l->window_demand >= 0 ? l->window_demand : l->window_pct;
	bool asleep = l->recent_pct >= 0 && l->recent_pct < ASLEEP_PCT &&
		      (l->recent_demand < 0 || l->recent_demand < AWAKE_DEMAND_PCT);

	if (spin >= 0 && spin >= spin_pct)
		return ORPHAN_SPINNING;
	if (total > 0 && asleep)
		return ORPHAN_STALLED;
	return ORPHAN_PAGER_LOST;
}

static const struct thread_cpu *find_thread(const struct thread_cpu *th, int n, uint32_t tid)
{
	for (int i = 0; i < n; i++)
		if (th[i].tid == tid)
			return &th[i];
	return NULL;
}

/* One thread's demand, % of one core; negative without schedstat in both samples. */
static double demand_of(const struct thread_cpu *was, const struct thread_cpu *t, uint64_t wall_ns)
{
	if (!was || !was->sched || !t->sched || !wall_ns || t->run_ns < was->run_ns ||
	    t->wait_ns < was->wait_ns)
		return -1;
	return 100.0 * ((t->run_ns - was->run_ns) + (t->wait_ns - was->wait_ns)) / wall_ns;
}

double uffd_thread_demand(const struct thread_cpu *from, int nfrom, const struct thread_cpu *to,
			  int nto, uint64_t wall_ns, double *sum, int *busiest)
{
	double best = -1, d;

	*sum = 0;
	*busiest = -1;
	for (int i = 0; i < nto; i++) {
		const struct thread_cpu *was = find_thread(from, nfrom, to[i].tid);

		if (!was)
			continue; /* born since: over the next window */
		d = demand_of(was, &to[i], wall_ns);
		if (d < 0)
			return *sum = -1;
		*sum += d;
		if (d > best) {
			best = d;
			*busiest = i;
		}
	}
	if (*busiest < 0)
		*sum = -1;
	return best;
}

const struct uffd_budget_stats *uffd_deferred(const struct uffd_state *us)
{
	return &us->deferred;
}

const char *uffd_spin_basis(const struct uffd_state *us)
{
	return us->src.schedstat ? "demand" : "granted";
}

const char *uffd_state_name(enum uffd_orphan_state s)
{
	return uffd_ctx_state_name((enum uffd_ctx_state)s);
}

struct uffd_state *uffd_new(double spin_pct, uint64_t spin_window_ns)
{
	struct uffd_state *us = xcalloc(1, sizeof(*us));

	us->tail = &us->ctxs;
	us->spin_pct = spin_pct;
	us->window_ns = spin_window_ns;
	us->tick_hz = sysconf(_SC_CLK_TCK);
	us->page_size = sysconf(_SC_PAGESIZE);
	return us;
}

void uffd_free(struct uffd_state *us)
{
	if (!us)
		return;
	for (struct uctx *u = us->ctxs, *n; u; u = n) {
		n = u->next;
		if (u->orphan)
			free(u->orphan->samples);
		free(u->orphan);
		free(u);
	}
	free(us->regions);
	free(us->named);
	free(us->live);
	free(us);
}

void uffd_set_source(struct uffd_state *us, const struct uffd_source *src)
{
	us->src = *src;
	us->have_src = true;
	if (src->tick_hz > 0)
		us->tick_hz = src->tick_hz;
}

static size_t bucket(const struct uffd_state *us, uint64_t key)
{
	return ((key * 0x9e3779b97f4a7c15ull) >> 32) & (us->nbuckets - 1);
}

static void live_add(struct uffd_state *us, struct uctx *u)
{
	size_t b;

	if (us->nlive >= us->nbuckets) {
		struct uctx **old = us->live;
		size_t n = us->nbuckets;

		us->nbuckets = n ? 2 * n : 64;
		us->live = xcalloc(us->nbuckets, sizeof(*us->live));
		for (size_t i = 0; i < n; i++)
			for (struct uctx *v = old[i], *next; v; v = next) {
				next = v->hnext;
				b = bucket(us, v->key);
				v->hnext = us->live[b];
				us->live[b] = v;
			}
		free(old);
	}
	b = bucket(us, u->key);
	u->hnext = us->live[b];
	us->live[b] = u;
	us->nlive++;
}

static void live_remove(struct uffd_state *us, struct uctx *u)
{
	for (struct uctx **pp = us->nbuckets ? &us->live[bucket(us, u->key)] : NULL; pp && *pp;
	     pp = &(*pp)->hnext)
		if (*pp == u) {
			*pp = u->hnext;
			us->nlive--;
			return;
		}
}

/* The live context at key: one at most, the kernel's userfaultfd_ctx. */
static struct uctx *find_ctx(struct uffd_state *us, uint64_t key)
{
	for (struct uctx *u = us->nbuckets ? us->live[bucket(us, key)] : NULL; u; u = u->hnext)
		if (u->key == key)
			return u;
	return NULL;
}

static struct uctx *get_ctx(struct uffd_state *us, uint64_t key, uint64_t now)
{
	struct uctx *u = find_ctx(us, key);

	if (u)
		return u;
	u = xcalloc(1, sizeof(*u));
	u->key = key;
	u->id = ++us->next_id;
	u->owner_fd = -1;
	u->first_seen_ns = now;
	*us->tail = u;
	us->tail = &u->next;
	live_add(us, u);
	return u;
}

static struct handler *get_handler(struct collector *c, struct uctx *u, struct proc *p)
{
	for (int i = 0; i < u->nhandlers; i++)
		if (u->handlers[i].proc == p)
			return &u->handlers[i];
	if (u->nhandlers == MAX_HANDLERS)
		return NULL;
	collector_set_role(c, p, ROLE_PAGER);
	collector_ref(c, p);
	u->handlers[u->nhandlers].proc = p;
	return &u->handlers[u->nhandlers++];
}

static void set_owner(struct collector *c, struct uctx *u, struct proc *p)
{
	u->owner = p;
	collector_ref(c, p);
	collector_set_role(c, p, ROLE_VMM);
}

void uffd_id(const struct uctx *u, char *buf, size_t len)
{
	snprintf(buf, len, "uffd-%u", u->id);
}

static void live_line(struct collector *c, struct uctx *u, uint64_t ts, const char *state,
		      const char *detail)
{
	char id[24];

	uffd_id(u, id, sizeof(id));
	collector_notify(c, uffd, u->owner, ts, id, state, detail);
}

static void resolve(struct collector *c, struct uctx *u, uint64_t ts, const char *why)
{
	struct orphan *o = u->orphan;
	char detail[160];

	if (!o || o->resolved_ns)
		return;
	o->resolved_ns = ts ? ts : collector_now(c);
	o->resolution = why;
	/* the watch is over: its samples are not in the report */
	free(o->samples);
	o->samples = NULL;
	snprintf(detail, sizeof(detail), "uffd-%u orphan over: %s", u->id, why);
	live_line(c, u, o->resolved_ns, "resolved", detail);
}

/* The latest a handler of u was seen holding it: when it exited or closed its fd. */
static uint64_t last_handler_gone(const struct uctx *u)
{
	uint64_t at = 0;

	for (int i = 0; i < u->nhandlers; i++)
		if (u->handlers[i].gone_ns > at)
			at = u->handlers[i].gone_ns;
	return at;
}

/*
 * A handler dropped the last reference while the owner lived with memory registered with
 * this context: released under a guest that still uses that memory. by is the process that
 * released it (the precise hooks), or NULL (a walk found nobody holding it: then the owner
 * did not hold it at the latest walk that saw it).
 */
static bool released_under_owner(const struct collector *c, const struct uctx *u,
				 const struct proc *by)
{
	const struct proc *o = u->owner;

	/* registered, per context, needs the regions; a capture from before has the sum */
	if (!o || u->orphan || !u->nhandlers || !u->registered || u->owner_exiting ||
	    !c->uffd->src.regions || !uffd_wanted(c, u))
		return false;
	if (by ? by == o : u->owner_gen == u->seen_gen)
		return false; /* the owner closed it last: its own doing */
	return !o->exited || o->exit_ns > last_handler_gone(u);
}

static void read_serves(struct collector *c, bool keep);
static void judge_released(struct collector *c, struct uctx *u);

static void release(struct collector *c, struct uctx *u, uint64_t ts, const struct proc *by,
		    bool judge)
{
	live_remove(c->uffd, u);
	u->released = true;
	c->uffd->nplain += !u->orphan;
	u->released_ns = ts;
	/* the source holds its counts up to the release: read them before they are dropped */
	u->counts_due = c->uffd->src.serves && c->uffd->src.final_counts;
	c->uffd->counts_due |= u->counts_due;
	for (int i = 0; i < u->nhandlers; i++) /* nobody holds a released file */
		if (!u->handlers[i].gone_ns)
			u->handlers[i].gone_ns =
				u->handlers[i].proc->exited ? u->handlers[i].proc->exit_ns : ts;
	resolve(c, u, ts, "the uffd was released");
	if (!judge || !released_under_owner(c, u, by))
		return;
	/* rare, and worth its final counts now rather than at the next tick's read */
	if (u->counts_due)
		read_serves(c, false);
	judge_released(c, u);
}

/*
 * A file record names the context's owner (ctx->mm->owner) even when the holder is a pager
 * and the owner closed its copy: the owner whose memory a release would unregister.
 */
static void owner_from_record(struct collector *c, struct uctx *u, const struct ct_uffd_event *e,
			      const struct proc *holder)
{
	struct proc *o;

	if (u->owner || !e->cmd || e->cmd == holder->pid)
		return;
	o = pt_find_live(&c->pt, e->cmd);
	if (!o)
		return;
	set_owner(c, u, o);
	u->owner_from_mm = true;
}

static void refresh_regions(struct collector *c, struct proc *owner, uint64_t gen);

static void handle(struct collector *c, const struct ct_uffd_event *e)
{
	struct uffd_state *us = c->uffd;
	struct proc *p = collector_proc(c, &e->hdr);
	struct uctx *u;

	if (e->hdr.type == CT_EV_UFFD_RELEASE) {
		if ((u = find_ctx(us, e->ctx)))
			release(c, u, e->hdr.ts_ns, p, true);
		return;
	}
	if (e->hdr.type == CT_EV_UFFD_FILE) { /* held by a process exiting now */
		u = get_ctx(us, e->ctx, e->hdr.ts_ns);
		if (e->flags & CT_UFFD_OWNER) {
			if (!u->owner)
				set_owner(c, u, p);
			return;
		}
		owner_from_record(c, u, e, p);
		if (p != u->owner && get_handler(c, u, p) &&
		    e->hdr.ts_ns + EXIT_SETTLE_NS < us->next_scan_ns)
			us->next_scan_ns = e->hdr.ts_ns + EXIT_SETTLE_NS;
		/* who else holds it, only a full walk can say (an owner known from the record
		 * alone may have closed its copy) */
		us->need_full |= !u->owner || (u->owner_from_mm && !u->owner_gen);
		return;
	}
	if (e->ret && e->ret != -EAGAIN) /* EAGAIN: a partial serve still served */
		return;
	u = get_ctx(us, e->ctx, e->hdr.ts_ns);
	if (e->flags & CT_UFFD_OWNER) {
		if (!u->owner)
			set_owner(c, u, p);
		/* an owner serving its own faults is no handler: it cannot outlive itself */
		if (e->cmd == CT_UFFDIO_REGISTER)
			u->registrations++;
		else if (e->cmd == CT_UFFDIO_UNREGISTER)
			u->unregistrations++;
		/* what a release would unregister, as it is now: an unregister before it counts */
		if (e->cmd == CT_UFFDIO_REGISTER || e->cmd == CT_UFFDIO_UNREGISTER)
			refresh_regions(c, p, us->gen);
		return;
	}
	get_handler(c, u, p);
	us->next_scan_ns = 0; /* note that it holds the file */
}

static void cap_contexts(struct collector *c, uint64_t now);
static void cap_orphans(struct collector *c, uint64_t now);

void uffd_handle(struct collector *c, const struct ct_uffd_event *e)
{
	handle(c, e);
	/* here, not in release(): a scan's walk of the contexts may be what released one */
	cap_contexts(c, e->hdr.ts_ns);
}

/* --kill-orphans' latest action on p: p has exited since */
static void kill_exited(struct collector *c, const struct proc *p)
{
	for (int i = c->reaped.n - 1; i >= 0; i--) {
		struct reap_action *a = &c->reaped.v[i];

		if (a->proc == p && !strcmp(a->reason, "uffd_orphan")) {
			a->exited = true;
			return;
		}
	}
}

/*
 * A full walk hinted for at: kept sorted in hint_ns, the earliest first. One due within
 * HINT_FULL_NS of it will do; a third one not near either replaces the later.
 */
static void hint_full(struct uffd_state *us, uint64_t at)
{
	uint64_t *h = us->hint_ns;

	for (int i = 0; i < 2; i++)
		if (h[i] && (h[i] > at ? h[i] - at : at - h[i]) < HINT_FULL_NS)
			return;
	if (!h[0] || at < h[0]) {
		h[1] = h[0];
		h[0] = at;
	} else if (!h[1] || at < h[1]) {
		h[1] = at;
	}
}

void uffd_vmm_started(struct collector *c, uint64_t ts)
{
	struct uffd_state *us = c->uffd;

	/* the precise hooks see it come; a capture from before the regions had no such walks */
	if (!us->have_src || us->src.ioctls_traced || !us->src.regions)
		return;
	hint_full(us, ts + VMM_WALK1_NS);
	hint_full(us, ts + VMM_WALK2_NS);
}

void uffd_on_exit(struct collector *c, const struct proc *p)
{
	struct uffd_state *us = c->uffd;

	for (struct uctx *u = us->ctxs; u; u = u->next) {
		if (u->owner == p && u->orphan && u->orphan->killed)
			kill_exited(c, p);
		if (u->owner == p) { /* a released context's finding too */
			resolve(c, u, p->exit_ns, "the guest's VMM exited");
			continue;
		}
		if (u->released)
			continue;
		for (int i = 0; i < u->nhandlers; i++)
			if (u->handlers[i].proc == p &&
			    p->exit_ns + EXIT_SETTLE_NS < us->next_scan_ns)
				us->next_scan_ns = p->exit_ns + EXIT_SETTLE_NS;
	}
}

struct scan_arg {
	struct collector *c;
	uint64_t gen, now;
};

/*
 * A new owner for a context we know: the kernel freed the old userfaultfd_ctx between two
 * scans and handed its memory to a new one. The old context was released unseen; the
 * handlers this scan already found belong to the new one.
 */
static struct uctx *reused(struct collector *c, struct uctx *old, uint64_t gen, uint64_t now)
{
	struct uctx *u;

	release(c, old, now, NULL, false);
	u = get_ctx(c->uffd, old->key, now);
	u->seen_gen = gen;
	for (int i = 0; i < old->nhandlers; i++) {
		if (old->handlers[i].seen_gen != gen)
			continue;
		collector_ref(c, old->handlers[i].proc);
		u->handlers[u->nhandlers++] = old->handlers[i];
	}
	return u;
}

static void on_file(const struct ct_uffd_event *e, void *arg)
{
	struct scan_arg *a = arg;
	struct proc *p = collector_proc(a->c, &e->hdr);
	struct uctx *u = get_ctx(a->c->uffd, e->ctx, a->now);
	struct handler *h;

	if (!u->seen_gen && a->gen == 1)
		u->seeded = true; /* it predates the trace */
	u->seen_gen = a->gen;
	if (e->flags & CT_UFFD_OWNER) {
		if (u->owner && u->owner != p)
			u = reused(a->c, u, a->gen, a->now);
		if (!u->owner)
			set_owner(a->c, u, p);
		u->owner_fd = e->fd;
		u->owner_gen = a->gen;
		u->owner_exiting = e->flags & CT_UFFD_EXITING;
		return;
	}
	owner_from_record(a->c, u, e, p);
	if (!(e->flags & CT_UFFD_EXITING) && (h = get_handler(a->c, u, p))) {
		h->seen_gen = a->gen;
		h->gone_ns = 0;
	}
}

static bool serves_ctx(const struct uctx *u, const struct proc *p)
{
	for (int i = 0; p && i < u->nhandlers; i++)
		if (u->handlers[i].proc == p)
			return true;
	return p && p == u->owner;
}

/*
 * The released context whose final counts an entry holds. The kernel may hand a freed
 * context's address to a new one before they are read: an entry of a process that served the
 * released one is its, any other the live one's. (A process serving both under one address
 * has one entry for both; the map cannot tell them apart.)
 */
static struct uctx *due_ctx(struct uffd_state *us, uint64_t key, const struct proc *p, bool live)
{
	struct uctx *any = NULL;

	for (struct uctx *u = us->ctxs; u; u = u->next) {
		if (u->key != key || !u->counts_due)
			continue;
		if (serves_ctx(u, p))
			return u;
		any = u;
	}
	return live ? NULL : any;
}

struct serves_arg {
	struct collector *c;
	bool keep; /* a report's read: the entries stay for the event loop's */
};

static bool on_serves(const struct ct_uffd_serve_key *k, const struct ct_uffd_serve_stats *s,
		      void *arg)
{
	struct serves_arg *a = arg;
	struct collector *c = a->c;
	struct uctx *live = find_ctx(c->uffd, k->ctx);
	struct proc *p = pt_find(&c->pt, k->pid, s->start_ns);
	struct uctx *u = due_ctx(c->uffd, k->ctx, p, live);
	struct handler *h;

	if (!u)
		u = live;
	if (!u)
		return !a->keep; /* released and read: no longer needed */
	if (p && p != u->owner && (h = get_handler(c, u, p))) {
		h->ioctls = s->ioctls;
		h->bytes = s->bytes;
		h->last_ns = s->last_ns;
	}
	return u->released && !a->keep; /* a released context's counts are final */
}

/*
 * Every count in the source. The event loop's read (keep false) drops the released contexts'
 * entries once read; a report's (keep true) leaves them: a checkpoint's writer is a fork,
 * and what it deleted from the map the event loop would never see.
 */
static void read_serves(struct collector *c, bool keep)
{
	struct uffd_state *us = c->uffd;
	struct serves_arg a = { c, keep };

	if (!us->src.serves)
		return;
	us->src.serves(us->src.ctx, on_serves, &a);
	if (keep)
		return;
	for (struct uctx *u = us->ctxs; u; u = u->next)
		u->counts_due = false;
	us->counts_due = false;
}

/* r, one of u's registered VMAs in address order: merged with the one before if adjacent. */
static void add_range(struct uctx *u, const struct ct_uffd_region *r)
{
	u->registered += r->end - r->start;
	if (u->nranges < 0)
		return;
	if (u->nranges && u->ranges[u->nranges - 1].end == r->start)
		u->ranges[u->nranges - 1].end = r->end;
	else if (u->nranges == MAX_RANGES)
		u->nranges = -1;
	else
		u->ranges[u->nranges++] = *r;
}

/*
 * The registration of each live context of owner, from its VMAs (the task_vma iterator: a
 * walk of its VMA tree, no page tables): per context, never the sum of an owner's several.
 */
static void refresh_regions(struct collector *c, struct proc *owner, uint64_t gen)
{
	struct uffd_state *us = c->uffd;
	int n;

	if (!us->src.regions || !owner || owner->exited)
		return;
	if (!us->regions)
		us->regions = xcalloc(MAX_REGIONS, sizeof(*us->regions));
	n = us->src.regions(us->src.ctx, owner->pid, us->regions, MAX_REGIONS);
	if (n < 0)
		return; /* gone: its exit event says so */
	for (struct uctx *u = us->ctxs; u; u = u->next) {
		if (u->released || u->owner != owner)
			continue;
		u->registered = 0;
		u->nranges = n > MAX_REGIONS ? -1 : 0; /* more: what is not read is not known */
		u->regions_gen = gen;
		u->regions_pass = us->pass;
		for (int i = 0; i < n && i < MAX_REGIONS; i++)
			if (us->regions[i].ctx == u->key)
				add_range(u, &us->regions[i]);
	}
}

/* Resident bytes of u's ranges now (registered or, after a release, once registered). */
static bool ranges_resident(struct uffd_state *us, const struct uctx *u, uint64_t *bytes)
{
	*bytes = 0;
	if (!us->src.regions || u->nranges < 0 || !us->src.resident || !u->owner ||
	    u->owner->exited)
		return false;
	return !u->nranges ||
	       us->src.resident(us->src.ctx, u->owner->pid, u->ranges, u->nranges, bytes);
}

/* smaps walks the page tables: for a big guest that is milliseconds, so not every tick. */
static void refresh_memory(struct collector *c, struct uctx *u, uint64_t now, bool force)
{
	struct uffd_state *us = c->uffd;
	uint64_t reg, res;

	if (!force && now - u->smaps_ns < SMAPS_NS)
		return;
	if (us->src.regions) {
		/* once an owner a pass: one read tells all its contexts */
		if (u->regions_pass != us->pass)
			refresh_regions(c, u->owner, us->gen);
		if (ranges_resident(us, u, &res))
			u->resident = res;
	} else if (u->owner && !u->owner->exited && us->src.registered &&
		   us->src.registered(us->src.ctx, u->owner->pid, &reg, &res)) {
		/* a capture from before regions: the owner's sum over its contexts */
		u->registered = reg;
		u->resident = res;
	}
	u->smaps_ns = now;
}

void uffd_describe_pager(const struct handler *h, char *buf, size_t len)
{
	const struct proc *p = h->proc;
	int sig = p->exit_status & 0x7f;
	char name[16];

	if (!p->exited)
		snprintf(buf, len, "%s pid %u closed its uffd", p->comm, p->pid);
	else if (p->nsigs)
		snprintf(buf, len, "%s pid %u got %s from pid %u and exited", p->comm, p->pid,
			 signal_name(p->sigs[p->nsigs - 1].signal, name, sizeof(name)),
			 p->sigs[p->nsigs - 1].sender_pid);
	else if (sig)
		snprintf(buf, len, "%s pid %u was killed by %s", p->comm, p->pid,
			 signal_name(sig, name, sizeof(name)));
	else
		snprintf(buf, len, "%s pid %u exited with status %u", p->comm, p->pid,
			 (p->exit_status >> 8) & 0xff);
}

/* u's finding, in state since when, its pager the handler that went last. */
static struct orphan *new_orphan(struct collector *c, struct uctx *u, enum uffd_orphan_state state,
				 uint64_t since)
{
	struct handler *last = &u->handlers[0];
	struct orphan *o = xcalloc(1, sizeof(*o));

	for (int i = 1; i < u->nhandlers; i++)
		if (u->handlers[i].gone_ns > last->gone_ns)
			last = &u->handlers[i];
	o->pager = *last;
	collector_ref(c, o->pager.proc);
	c->uffd->norphans++;
	o->state = state;
	o->since = o->state_since = since;
	o->history[0].state = state;
	o->history[o->nhistory++].at = since;
	o->demand_pct = -1; /* until two samples */
	o->never_served = -1;
	u->orphan = o;
	return o;
}

static void start_orphan(struct collector *c, struct uctx *u, uint64_t now)
{
	struct uffd_state *us = c->uffd;
	struct orphan *o = new_orphan(c, u, ORPHAN_PAGER_LOST, last_handler_gone(u));
	char pager[128], detail[256];

	o->cap = us->window_ns / WATCH_NS + 3;
	o->samples = xcalloc(o->cap, sizeof(*o->samples));
	uffd_describe_pager(&o->pager, pager, sizeof(pager));
	snprintf(detail, sizeof(detail), "uffd-%u pager lost: %s; %llu MiB still registered", u->id,
		 pager, (unsigned long long)(u->registered >> 20));
	live_line(c, u, now, uffd_state_name(ORPHAN_PAGER_LOST), detail);
}

/*
 * Released under its owner: pages registered and never served (-1: not known) read as zeros
 * from now on. Nothing to watch: no fault waits, the guest runs on wrong memory.
 */
static void start_released(struct collector *c, struct uctx *u, int64_t never, const char *from)
{
	struct orphan *o = new_orphan(c, u, ORPHAN_RELEASED, u->released_ns);
	char pager[128], detail[320], pages[32] = "an unknown number of";

	c->uffd->nplain--; /* counted as kept for context only at its release */
	o->never_served = never;
	o->never_served_from = from;
	if (never >= 0)
		snprintf(pages, sizeof(pages), "%lld", (long long)never);
	uffd_describe_pager(&o->pager, pager, sizeof(pager));
	snprintf(detail, sizeof(detail),
		 "uffd-%u released by its pager: %s; %llu KiB were registered and %s pages never "
		 "served: %s pid %u reads zeros there",
		 u->id, pager, (unsigned long long)(u->registered >> 10), pages, u->owner->comm,
		 u->owner->pid);
	live_line(c, u, u->released_ns, uffd_state_name(ORPHAN_RELEASED), detail);
}

/*
 * A context released under its owner, its final serve counts read: a finding unless every
 * registered page was served. Never served: registered pages less those the serving ioctls
 * resolved (precise hooks), or less those resident in what was registered, now (an
 * estimate: a page the guest touched since the release is resident too, as zeros).
 */
static void judge_released(struct collector *c, struct uctx *u)
{
	struct uffd_state *us = c->uffd;
	uint64_t reg = u->registered / us->page_size, served = 0, res;
	const char *from = NULL;
	int64_t never = -1;

	if (us->src.serves) {
		for (int i = 0; i < u->nhandlers; i++)
			served += u->handlers[i].bytes;
		from = "ioctls";
	} else if (ranges_resident(us, u, &res)) {
		u->resident = served = res; /* pages_served, as of the release */
		from = "resident";
	}
	served /= us->page_size;
	if (from)
		never = reg > served ? reg - served : 0;
	if (never) /* all served: nothing reads zeros */
		start_released(c, u, never, from);
}

static bool any_handler_holding(const struct uctx *u)
{
	for (int i = 0; i < u->nhandlers; i++)
		if (u->handlers[i].seen_gen == u->seen_gen)
			return true;
	return false;
}

/* The owner lives and holds the file, and every handler it had is gone. */
static bool lost_all_handlers(const struct uctx *u)
{
	return u->nhandlers && !any_handler_holding(u) && u->owner && !u->owner->exited &&
	       !u->owner_exiting && u->owner_gen == u->seen_gen;
}

/* After a full scan: has the context just lost its last handler while its owner lives on? */
static void evaluate(struct collector *c, struct uctx *u, uint64_t now)
{
	bool any_holding = any_handler_holding(u);

	for (int i = 0; i < u->nhandlers; i++) {
		struct handler *h = &u->handlers[i];

		if (h->seen_gen != u->seen_gen && !h->gone_ns)
			h->gone_ns = h->proc->exited ? h->proc->exit_ns : now;
	}
	if (u->orphan) {
		if (any_holding)
			resolve(c, u, now, "a new pager took over");
		return;
	}
	if (!lost_all_handlers(u))
		return;
	refresh_memory(c, u, now, true);
	if (u->registered)
		start_orphan(c, u, now);
}

/*
 * Budgeted walks over the contexts take them in four passes: those of run's job's owners
 * first (no other user's process is in the job), then the rest; each class from the first
 * context after cursor on, wrapping around. A flood of contexts (an unprivileged user's
 * processes, in scope by their argv) thus delays any context by at most ceil(N / budget)
 * walks, and never a job's context behind one of theirs.
 */
static bool in_pass(const struct collector *c, const struct uctx *u, int pass, unsigned int cursor)
{
	bool job = u->owner && collector_in_job(c, u->owner);

	return job == (pass < 2) && (u->id > cursor) == !(pass & 1);
}

/* The context after u (NULL: the first) in that order; *pass starts at 0. NULL: no more. */
static struct uctx *in_turn(const struct collector *c, struct uctx *u, int *pass,
			    unsigned int cursor)
{
	for (u = u ? u->next : c->uffd->ctxs;; u = c->uffd->ctxs) {
		for (; u; u = u->next)
			if (in_pass(c, u, *pass, cursor))
				return u;
		if (++*pass == 4)
			return NULL;
	}
}

static bool has_pid(const uint32_t *pids, int n, uint32_t pid)
{
	for (int i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Add p to pids unless there or gone; false: no room left. */
static bool add_pid(uint32_t *pids, int *n, const struct proc *p)
{
	if (!p || p->exited || has_pid(pids, *n, p->pid))
		return true;
	if (*n == MAX_SCAN_PIDS)
		return false;
	pids[(*n)++] = p->pid;
	return true;
}

/*
 * The uffds of every live owner and handler of a live context, up to MAX_SCAN_PIDS processes
 * a walk: a context is judged by this walk (scan_gen) only when all its holders are in it;
 * the others wait for a later walk (counted), rather than making every walk a full one.
 */
static void scan_known(struct collector *c, struct scan_arg *a)
{
	struct uffd_state *us = c->uffd;
	uint32_t pids[MAX_SCAN_PIDS];
	unsigned int cursor = us->scan_cursor;
	int n = 0, had, pass = 0;
	bool room = true;

	/* within the budget, the order stays the contexts' own: the cursor moves only beyond */
	us->scan_cursor = 0;
	for (struct uctx *u = in_turn(c, NULL, &pass, cursor); u;
	     u = in_turn(c, u, &pass, cursor)) {
		if (u->released)
			continue;
		had = n;
		room = room && add_pid(pids, &n, u->owner);
		for (int i = 0; room && i < u->nhandlers; i++)
			if (!u->handlers[i].gone_ns)
				room = add_pid(pids, &n, u->handlers[i].proc);
		if (!room) {
			/* the next walk starts here: none skipped for being big */
			n = had;
			us->deferred.scans++;
			continue;
		}
		u->scan_gen = a->gen;
		us->scan_cursor = u->id;
	}
	if (room)
		us->scan_cursor = 0;
	for (int i = 0; i < n; i++)
		us->src.scan(us->src.ctx, pids[i], on_file, a); /* a process gone is no holder */
}

/*
 * What a release would unregister, as of now, of every context in view someone still holds
 * (one whose holders this walk missed may be released already: its VMAs cleared), for up to
 * MAX_SCAN_PIDS owners a walk, round-robin; the rest keep what was read before (counted).
 */
static void reread_regions(struct collector *c, uint64_t gen)
{
	struct uffd_state *us = c->uffd;
	unsigned int cursor = us->reread_cursor;
	int n_owners = 0, pass = 0;

	us->reread_cursor = 0;
	for (struct uctx *u = in_turn(c, NULL, &pass, cursor); u;
	     u = in_turn(c, u, &pass, cursor)) {
		if (u->released || u->seen_gen != gen || u->regions_gen == gen ||
		    !uffd_wanted(c, u) || !u->owner || u->owner->exited)
			continue;
		if (n_owners == MAX_SCAN_PIDS) {
			us->deferred.rereads++;
			continue;
		}
		refresh_regions(c, u->owner, gen);
		n_owners++;
		us->reread_cursor = u->id;
	}
	if (n_owners < MAX_SCAN_PIDS)
		us->reread_cursor = 0;
}

/*
 * A holder of u in the walk before (gen - 1) holds it no more, while someone still does: the
 * file may have gone to a process no walk of the known holders looks at.
 */
static bool holders_dropped(const struct uctx *u, uint64_t gen)
{
	if (u->owner_gen == gen - 1)
		return true;
	for (int i = 0; i < u->nhandlers; i++)
		if (u->handlers[i].seen_gen == gen - 1)
			return true;
	return false;
}

static void scan(struct collector *c, uint64_t now)
{
	struct uffd_state *us = c->uffd;
	bool hinted = us->hint_ns[0] && now >= us->hint_ns[0] && now >= us->full_ns + HINT_FULL_NS;
	bool full = !us->gen || us->need_full || hinted || now >= us->next_full_ns;
	struct scan_arg a = { c, ++us->gen, now };

	us->pass++;

	if (full)
		us->full_tried_ns = now;
	if (!full) {
		scan_known(c, &a);
	} else if (us->src.scan(us->src.ctx, 0, on_file, &a)) {
		return;
	} else {
		us->need_full = false;
		us->next_full_ns = now + FULL_SCAN_NS;
		us->full_ns = now;
		while (us->hint_ns[0] && us->hint_ns[0] <= now) {
			us->hint_ns[0] = us->hint_ns[1];
			us->hint_ns[1] = 0;
		}
	}
	read_serves(c, false);
	for (struct uctx *u = us->ctxs; u; u = u->next) {
		if (u->released || (!full && u->scan_gen != a.gen))
			continue; /* its holders wait for a later walk */
		if (!full && (u->seen_gen != a.gen || (!u->orphan && lost_all_handlers(u))))
			us->need_full =
				true; /* released, or orphaned: only if a full walk agrees */
		else if (u->seen_gen != a.gen && !us->src.ioctls_traced)
			release(c, u, now, NULL, true); /* nobody holds it: unseen release */
		else if (u->seen_gen == a.gen) {
			if (!full && !us->src.ioctls_traced && us->src.regions &&
			    holders_dropped(u, a.gen))
				hint_full(us, now);
			evaluate(c, u, now);
		}
	}
	if (us->need_full && !full)
		return scan(c, now);
	reread_regions(c, a.gen);
}

/* Share of one core, in %, used between two samples. */
static double cpu_pct(struct uffd_state *us, uint64_t ticks, const struct sample *from,
		      const struct sample *to)
{
	double secs = (to->at - from->at) / 1e9;

	return secs > 0 ? 100.0 * ticks / us->tick_hz / secs : -1;
}

/* The busiest threads between two samples, for the finding: by demand where known. */
static void top_threads(struct uffd_state *us, struct orphan *o, const struct sample *from,
			const struct sample *to)
{
	double pct[MAX_THREADS], demand[MAX_THREADS];
	bool taken[MAX_THREADS] = { false }, by_demand = us->src.schedstat;

	for (int i = 0; i < to->nthreads; i++) {
		const struct thread_cpu *t = &to->th[i],
					*was = find_thread(from->th, from->nthreads, t->tid);

		pct[i] = cpu_pct(us, t->ticks - (was ? was->ticks : t->ticks), from, to);
		demand[i] = us->src.schedstat ? demand_of(was, t, to->at - from->at) : -1;
		by_demand &= !was || demand[i] >= 0;
	}
	for (o->ntop = 0; o->ntop < TOP_THREADS && o->ntop < to->nthreads; o->ntop++) {
		const double *key = by_demand ? demand : pct;
		int best = -1;

		for (int i = 0; i < to->nthreads; i++)
			if (!taken[i] && (best < 0 || key[i] > key[best]))
				best = i;
		taken[best] = true;
		o->top[o->ntop] = to->th[best];
		o->top_pct[o->ntop] = pct[best];
		o->top_demand[o->ntop] = demand[best];
	}
}

/*
 * A restarted pager is the same test's: on a shared runner, the pager another job starts
 * under the same name is no restart of this one. Same test dir as the lost pager, or without
 * one, the same parent.
 */
static bool same_test(const struct proc *p, const struct proc *lost)
{
	if (lost->test_dir)
		return p->test_dir && !strcmp(p->test_dir, lost->test_dir) &&
		       p->mnt_ns == lost->mnt_ns;
	return p->ppid == lost->ppid;
}

void uffd_proc_named(struct collector *c, const struct proc *p)
{
	struct uffd_state *us = c->uffd;
	struct named *n;

	if (!us->named)
		us->named = xcalloc(NAMED_MAX, sizeof(*us->named));
	n = &us->named[us->named_seq++ % NAMED_MAX];
	n->pid = p->pid;
	n->start_ns = p->start_ns;
}

/* p is named like u's lost pager, of its test, started after the loss: the first such. */
static void consider_restarted(struct uctx *u, struct proc *p)
{
	struct orphan *o = u->orphan;

	if (p->exited || p->start_ns <= o->since || p == u->owner ||
	    strcmp(p->comm, o->pager.proc->comm) || !same_test(p, o->pager.proc))
		return;
	if (o->restarted && pt_by_start(&o->restarted, &p) <= 0)
		return; /* the first started, whatever order they are seen in */
	o->restarted = p;
}

/* A new process named like the lost pager, of its test, that has not touched this context. */
static void find_restarted(struct collector *c, struct uctx *u)
{
	struct uffd_state *us = c->uffd;
	struct orphan *o = u->orphan;
	uint64_t oldest = us->named_seq > NAMED_MAX ? us->named_seq - NAMED_MAX : 0;

	if (o->restarted)
		return;
	if (!o->named_looked || o->named_seq < oldest) {
		pt_for_each(&c->pt, p)
			consider_restarted(u, p);
	} else {
		for (uint64_t seq = o->named_seq; seq < us->named_seq; seq++) {
			const struct named *n = &us->named[seq % NAMED_MAX];
			struct proc *p = pt_find(&c->pt, n->pid, n->start_ns);

			if (p)
				consider_restarted(u, p);
		}
	}
	o->named_seq = us->named_seq;
	o->named_looked = true;
	if (!o->restarted)
		return;
	collector_ref(c, o->restarted);
	collector_set_role(c, o->restarted, ROLE_PAGER);
}

static void set_state(struct collector *c, struct uctx *u, enum uffd_orphan_state s, uint64_t now)
{
	struct orphan *o = u->orphan;
	char detail[256];
	int n;

	if (s == o->state)
		return;
	o->state = s;
	o->state_since = now;
	if (o->nhistory < MAX_HISTORY) {
		o->history[o->nhistory].state = s;
		o->history[o->nhistory++].at = now;
	}
	n = snprintf(detail, sizeof(detail), "uffd-%u %s: %.0f%% cpu", u->id, uffd_state_name(s),
		     o->cpu_pct);
	if (o->ntop && n < (int)sizeof(detail))
		n += snprintf(detail + n, sizeof(detail) - n, ", busiest %s %.0f%%", o->top[0].comm,
			      o->top_pct[0]);
	if (o->ntop && o->top_demand[0] >= 0 && n < (int)sizeof(detail))
		n += snprintf(detail + n, sizeof(detail) - n, " (wants %.0f%%)", o->top_demand[0]);
	if (n < (int)sizeof(detail))
		snprintf(detail + n, sizeof(detail) - n, ", %llu faults unresolved",
			 (unsigned long long)o->total);
	live_line(c, u, now, uffd_state_name(s), detail);
}

static void watch(struct collector *c, struct uctx *u, uint64_t now)
{
	struct uffd_state *us = c->uffd;
	struct orphan *o = u->orphan;
	const struct sample *prev = o->count ? &o->samples[o->head] : NULL, *base = NULL;
	struct sample *s = &o->samples[(o->head + 1) % o->cap];
	struct uffd_load l = { -1, -1, -1, -1 };
	double unused;
	int busiest;

	s->nthreads = us->src.threads
			      ? us->src.threads(us->src.ctx, u->owner->pid, s->th, MAX_THREADS)
			      : -1;
	if (s->nthreads < 0 || !us->src.cpu_ticks ||
	    !us->src.cpu_ticks(us->src.ctx, u->owner->pid, &s->ticks))
		return; /* gone: its exit event resolves the orphan */
	s->at = now;
	o->head = (o->head + 1) % o->cap;
	if (o->count < o->cap)
		o->count++;
	if (us->src.fdinfo)
		us->src.fdinfo(us->src.ctx, u->owner->pid, u->owner_fd, &o->pending, &o->total);
	refresh_memory(c, u, now, false);
	if (!u->registered)
		return resolve(c, u, now, "its memory was unregistered");
	/* the newest sample at least a window old */
	for (int i = 1; i < o->count; i++) {
		const struct sample *old = &o->samples[(o->head - i + o->cap) % o->cap];

		if (now - old->at >= us->window_ns) {
			base = old;
			break;
		}
	}
	if (base) {
		l.window_pct = cpu_pct(us, s->ticks - base->ticks, base, s);
		if (us->src.schedstat)
			l.window_demand =
				uffd_thread_demand(base->th, base->nthreads, s->th, s->nthreads,
						   s->at - base->at, &unused, &busiest);
	}
	if (prev) {
		l.recent_pct = cpu_pct(us, s->ticks - prev->ticks, prev, s);
		if (us->src.schedstat)
			uffd_thread_demand(prev->th, prev->nthreads, s->th, s->nthreads,
					   s->at - prev->at, &l.recent_demand, &busiest);
	}
	o->cpu_pct = l.window_pct >= 0 ? l.window_pct : l.recent_pct > 0 ? l.recent_pct : 0;
	o->demand_pct = l.window_demand;
	if (base || prev)
		top_threads(us, o, base ? base : prev, s);
	/* before a whole window: the latest sample's busiest, as cpu_pct does */
	if (!base && o->ntop)
		o->demand_pct = o->top_demand[0];
	find_restarted(c, u);
	set_state(c, u, uffd_classify(&l, o->total, us->spin_pct), now);
}

/* --kill-orphans: o's owner is to be stopped from when on; 0: never */
static uint64_t kill_at(const struct collector *c, const struct uctx *u)
{
	const struct orphan *o = u->orphan;

	/* released: nothing blocks any more, the guard stops stuck guests only */
	if (!c->cfg.kill_orphans_ns || !o || o->resolved_ns || o->kill_due || u->owner->exited ||
	    o->state == ORPHAN_RELEASED || !collector_in_view(c, u->owner))
		return 0;
	return o->since + c->cfg.kill_orphans_ns;
}

/* An orphan's grace ran out since the latest full walk was tried: walk now (once). */
static bool kill_unconfirmed(struct collector *c, uint64_t now)
{
	for (struct uctx *u = c->uffd->ctxs; u; u = u->next) {
		uint64_t at = kill_at(c, u);

		if (at && now >= at && c->uffd->full_tried_ns < at)
			return true;
	}
	return false;
}

void uffd_tick(struct collector *c, uint64_t now)
{
	struct uffd_state *us = c->uffd;
	bool live = false;

	if (!us->have_src)
		return;
	/* a walk costs 0.3 us per open fd: however many graces run out, one each WATCH_NS */
	if (now >= us->full_tried_ns + WATCH_NS && kill_unconfirmed(c, now)) {
		us->need_full = true;
		us->next_scan_ns = now;
	}
	for (struct uctx *u = us->ctxs; u && !live; u = u->next)
		live = !u->released;
	/* with the precise hooks a new context announces itself; without, only a scan finds it */
	if (now >= us->next_scan_ns && (live || !us->src.ioctls_traced || !us->gen)) {
		scan(c, now);
		us->next_scan_ns = now + SCAN_NS;
	}
	if (us->counts_due) /* once a tick, however many contexts were released */
		read_serves(c, false);
	for (struct uctx *u = us->ctxs; u; u = u->next) {
		struct orphan *o = u->orphan;

		if (o && !o->resolved_ns && !u->released && now >= o->next_watch_ns) {
			o->next_watch_ns = now + WATCH_NS;
			watch(c, u, now);
		}
	}
	cap_orphans(c, now);
	cap_contexts(c, now);
}

static uint64_t ctx_end(const struct uctx *u)
{
	return u->released_ns ? u->released_ns : u->first_seen_ns;
}

static void drop_orphan(struct collector *c, struct uctx *u, uint64_t now)
{
	struct orphan *o = u->orphan;

	if (uffd_wanted(c, u))
		collector_count_finding(c, UFFD_ORPHAN, o->resolved_ns);
	u->orphan = NULL;
	c->uffd->norphans--;
	c->uffd->nplain += u->released;
	collector_unref(c, o->pager.proc, now);
	if (o->restarted)
		collector_unref(c, o->restarted, now);
	free(o->samples);
	free(o);
}

/* Unlink *up (the link to u) and free u, counted; the references it held go. */
static void drop_ctx(struct collector *c, struct uctx **up, uint64_t now)
{
	struct uffd_state *us = c->uffd;
	struct uctx *u = *up;

	if (u->orphan)
		drop_orphan(c, u, now);
	if (uffd_wanted(c, u))
		collector_count_dropped(c, &c->retention.dropped_uffds, ctx_end(u));
	us->nplain -= u->released;
	live_remove(us, u);
	*up = u->next;
	if (us->tail == &u->next)
		us->tail = up;
	for (int i = 0; i < u->nhandlers; i++)
		collector_unref(c, u->handlers[i].proc, now);
	if (u->owner)
		collector_unref(c, u->owner, now);
	free(u);
}

/* Released and without a finding: kept for context only. */
static bool context_only(const struct uctx *u)
{
	return u->released && !u->orphan;
}

/* Beyond keep_processes contexts kept for context only, the first seen go. */
static void cap_contexts(struct collector *c, uint64_t now)
{
	struct uffd_state *us = c->uffd;
	uint32_t keep = c->cfg.keep_processes;

	for (struct uctx **up = &us->ctxs; keep && *up && us->nplain > keep;) {
		if (context_only(*up))
			drop_ctx(c, up, now);
		else
			up = &(*up)->next;
	}
}

/* Beyond FINDINGS_KEPT_MAX orphans, the one resolved first goes; one not over stays. */
static void cap_orphans(struct collector *c, uint64_t now)
{
	struct uffd_state *us = c->uffd;

	while (us->norphans > FINDINGS_KEPT_MAX) {
		struct uctx *oldest = NULL;

		for (struct uctx *u = us->ctxs; u; u = u->next)
			if (u->orphan && u->orphan->resolved_ns &&
			    (!oldest || u->orphan->resolved_ns < oldest->orphan->resolved_ns))
				oldest = u;
		if (!oldest)
			return;
		drop_orphan(c, oldest, now);
	}
}

void uffd_retain(struct collector *c, uint64_t now)
{
	for (struct uctx **up = &c->uffd->ctxs; *up;) {
		struct uctx *u = *up;

		if (u->orphan && u->orphan->resolved_ns &&
		    collector_aged(c, u->orphan->resolved_ns, now))
			drop_orphan(c, u, now);
		if (context_only(u) && collector_aged(c, ctx_end(u), now))
			drop_ctx(c, up, now);
		else
			up = &u->next;
	}
}

bool uffd_wanted(const struct collector *c, const struct uctx *u)
{
	return !collector_scoped(&c->cfg) || (u->owner && u->owner->in_scope);
}

enum uffd_ctx_state uffd_ctx_state_of(const struct uctx *u)
{
	if (u->released)
		return UFFD_RELEASED;
	if (u->orphan && !u->orphan->resolved_ns)
		return (enum uffd_ctx_state)u->orphan->state;
	return u->nhandlers ? UFFD_SERVED : UFFD_UNSERVED;
}

const char *uffd_ctx_state(const struct uctx *u)
{
	return uffd_ctx_state_name(uffd_ctx_state_of(u));
}

void uffd_refresh(struct collector *c)
{
	struct uffd_state *us = c->uffd;
	unsigned int cursor = us->refresh_cursor;
	uint64_t now = 0;
	int n = 0, pass = 0;

	if (us->counts_due) /* released since the last tick: its final counts */
		read_serves(c, true);
	/* smaps of MAX_SCAN_PIDS contexts a report at most, round-robin as the walks */
	us->pass++;
	us->refresh_cursor = 0;
	for (struct uctx *u = in_turn(c, NULL, &pass, cursor); u;
	     u = in_turn(c, u, &pass, cursor)) {
		if (!uffd_wanted(c, u) || u->released || u->orphan)
			continue;
		if (!now)
			now = collector_now(c); /* no clock reading for a report without contexts */
		if (now - u->smaps_ns < SMAPS_NS)
			continue; /* read lately */
		if (n == MAX_SCAN_PIDS) {
			us->deferred.rereads++;
			continue;
		}
		refresh_memory(c, u, now, false);
		n++;
		us->refresh_cursor = u->id;
	}
	if (n < MAX_SCAN_PIDS)
		us->refresh_cursor = 0;
}

const struct uctx *uffd_contexts(const struct uffd_state *us)
{
	return us->ctxs;
}

bool uffd_counts_serves(const struct uffd_state *us)
{
	return us->src.serves != NULL;
}

int uffd_kills_due(struct collector *c, uint64_t now, struct proc **out, int max)
{
	int n = 0;

	for (struct uctx *u = c->uffd->ctxs; u && n < max; u = u->next) {
		uint64_t at = kill_at(c, u);
		bool dup = false;

		if (!at || now < at || c->uffd->full_ns < at)
			continue;
		u->orphan->kill_due = true;
		for (int i = 0; i < n; i++)
			dup |= out[i] == u->owner;
		if (!dup)
			out[n++] = u->owner;
	}
	return n;
}

struct reap_action *uffd_log_kill(struct collector *c, struct proc *owner, const char *action,
				  uint64_t at_ns)
{
	struct reap_action *a = collector_log_reap(c, owner, action, at_ns);
	struct uctx *latest = NULL;
	char detail[160];

	a->reason = "uffd_orphan";
	for (struct uctx *u = c->uffd->ctxs; u; u = u->next) {
		if (u->owner != owner || !u->orphan)
			continue;
		u->orphan->killed = true;
		if (!latest || u->orphan->since > latest->orphan->since)
			latest = u;
	}
	if (!latest)
		return a;
	snprintf(detail, sizeof(detail), "uffd-%u pager lost %.1f s ago: %s %s pid %u", latest->id,
		 (at_ns > latest->orphan->since ? at_ns - latest->orphan->since : 0) / 1e9,
		 !strcmp(action, "sigterm")   ? "SIGTERM to"
		 : !strcmp(action, "sigkill") ? "SIGKILL to"
					      : "already gone:",
		 owner->comm, owner->pid);
	live_line(c, latest, at_ns, action, detail);
	return a;
}

bool uffd_holds_as_handler(const struct collector *c, const struct proc *p)
{
	for (const struct uctx *u = c->uffd->ctxs; u; u = u->next)
		for (int i = 0; !u->released && i < u->nhandlers; i++)
			if (u->handlers[i].proc == p && !u->handlers[i].gone_ns)
				return true;
	return false;
}

int uffd_pagers(struct collector *c, const struct proc *owner, struct proc **out, int max)
{
	int n = 0;

	for (struct uctx *u = c->uffd->ctxs; u; u = u->next) {
		if (u->owner != owner)
			continue;
		for (int i = 0; i < u->nhandlers && n < max; i++) {
			struct proc *h = u->handlers[i].proc;
			bool dup = false;

			for (int j = 0; j < n; j++)
				dup |= out[j] == h;
			if (h->role == ROLE_PAGER && !h->exited && !dup)
				out[n++] = h;
		}
	}
	return n;
}

int uffd_count_state(struct collector *c, enum uffd_ctx_state state)
{
	int n = 0;

	for (struct uctx *u = c->uffd->ctxs; u; u = u->next)
		n += uffd_wanted(c, u) && uffd_ctx_state_of(u) == state;
	return n;
}
