// SPDX-License-Identifier: GPL-2.0
/*
 * The core as a state machine: synthetic ring records, fake sources and a fake clock, no
 * kernel and no /proc. A uffd guest loses its pager, spins, stalls and is resolved; a pid is
 * reused by a new process; a process gets more fatal signals than are kept.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "collector.h"
#include "report_proc.h"
#include "report_uffd.h"
#include "uffd.h"

#define SEC   1000000000ull
#define CTX   0xffff888012345678ull
#define OWNER 100
#define PAGER 200
#define NEWPG 300 /* a restarted pager: only a full walk finds it */

/* The world the fake sources describe. */
static struct {
	bool pager_holds, owner_alive, new_pager_holds;
	bool owner_closed; /* sent the uffd to the pager and closed its own copy */
	bool registered; /* the owner's region is registered with CTX (until the release) */
	uint64_t resident; /* bytes of that region resident */
	uint64_t ticks; /* the owner's CPU, in ticks of 100 Hz */
	uint64_t faults;
	uint64_t now;
	int scans, full_scans, samples;
} w;

static struct ct_event_hdr hdr(uint32_t type, uint32_t pid, uint64_t ts)
{
	struct ct_event_hdr h = { .type = type, .pid = pid, .ts_ns = ts, .ppid = 1, .tid = pid };

	h.start_ns = pid * 1000; /* one start time per pid, but where a test says otherwise */
	snprintf(h.comm, sizeof(h.comm), "%s", pid == OWNER ? "firecracker" : "pager");
	return h;
}

static void file(void (*fn)(const struct ct_uffd_event *e, void *arg), void *arg, uint32_t pid,
		 uint32_t flags)
{
	struct ct_uffd_event e = { .hdr = hdr(CT_EV_UFFD_FILE, pid, w.now), .ctx = CTX, .fd = 5 };

	e.flags = flags;
	e.cmd = OWNER; /* ctx->mm->owner */
	fn(&e, arg);
}

static int fake_scan(void *ctx, uint32_t pid, void (*fn)(const struct ct_uffd_event *e, void *arg),
		     void *arg)
{
	w.scans++;
	w.full_scans += !pid;
	if (w.owner_alive && !w.owner_closed && (!pid || pid == OWNER))
		file(fn, arg, OWNER, CT_UFFD_OWNER);
	if (w.pager_holds && (!pid || pid == PAGER))
		file(fn, arg, PAGER, 0);
	if (w.new_pager_holds && (!pid || pid == NEWPG))
		file(fn, arg, NEWPG, 0);
	return 0;
}

static int fake_threads(void *ctx, uint32_t pid, struct thread_cpu *out, int max)
{
	if (!w.owner_alive)
		return -1;
	w.samples++;
	out[0] = (struct thread_cpu){ .tid = pid + 1, .ticks = w.ticks, .state = 'R' };
	strcpy(out[0].comm, "fc_vcpu 0");
	return 1;
}

static bool fake_cpu_ticks(void *ctx, uint32_t pid, uint64_t *ticks)
{
	*ticks = w.ticks;
	return w.owner_alive;
}

static bool fake_fdinfo(void *ctx, uint32_t pid, int fd, uint64_t *pending, uint64_t *total)
{
	*pending = *total = w.faults;
	return fd == 5;
}

static bool fake_registered(void *ctx, uint32_t pid, uint64_t *registered, uint64_t *resident)
{
	*registered = 256ull << 20;
	*resident = 1ull << 20;
	return w.owner_alive;
}

/* One region of 256 pages, registered with CTX until the release. */
static int fake_regions(void *ctx, uint32_t pid, struct ct_uffd_region *out, int max)
{
	if (!w.owner_alive || pid != OWNER)
		return -1;
	if (!w.registered)
		return 0;
	out[0] = (struct ct_uffd_region){ CTX, 0x7f0000000000ull, 0x7f0000000000ull + 256 * 4096 };
	return 1;
}

static bool fake_resident(void *ctx, uint32_t pid, const struct ct_uffd_region *r, int n,
			  uint64_t *bytes)
{
	*bytes = w.resident;
	return w.owner_alive && n == 1 && r[0].end - r[0].start == 256 * 4096;
}

static uint64_t fake_clock(void *ctx)
{
	return w.now;
}

static void feed(struct collector *c, void *rec, size_t len)
{
	collector_handle(c, rec, len);
}

static void fork_proc(struct collector *c, uint32_t pid, uint64_t ts)
{
	struct ct_fork_event e = { .hdr = hdr(CT_EV_FORK, pid, ts) };

	feed(c, &e, sizeof(e));
}

static void exit_proc(struct collector *c, uint32_t pid, uint64_t ts, uint32_t status)
{
	struct ct_exit_event e = { hdr(CT_EV_EXIT, pid, ts), status, 0 };

	feed(c, &e, sizeof(e));
}

/* A fresh world at 1 s: the owner and its pager forked, alive, the pager holding the uffd. */
static void start_guest(struct collector *c, const struct collector_cfg *cfg,
			const struct uffd_source *src)
{
	memset(&w, 0, sizeof(w));
	collector_init(c, cfg);
	c->now = fake_clock;
	uffd_set_source(c->uffd, src);
	w.now = SEC;
	fork_proc(c, OWNER, w.now);
	fork_proc(c, PAGER, w.now);
	w.owner_alive = w.pager_holds = true;
}

/* Advance the fake clock to t, the owner burning pct % of a core meanwhile, and tick. */
static void run_until(struct collector *c, uint64_t t, int pct)
{
	while (w.now < t) {
		w.now += SEC / 10;
		w.ticks += pct / 10; /* 100 Hz: pct% of a core is pct ticks per second */
		uffd_tick(c, w.now);
	}
}

/* Every /proc reader of the fake world: a watch samples the owner. */
static const struct uffd_source watched_src = { .scan = fake_scan,
						.threads = fake_threads,
						.cpu_ticks = fake_cpu_ticks,
						.fdinfo = fake_fdinfo,
						.registered = fake_registered,
						.tick_hz = 100 };

static const char *finding_str(struct collector *c, const char *key)
{
	static char buf[128];
	struct json_object *arr = json_object_new_array(), *v;

	uffd_findings_json(c, arr);
	buf[0] = '\0';
	if (json_object_array_length(arr) == 1 &&
	    json_object_object_get_ex(json_object_array_get_idx(arr, 0), key, &v))
		snprintf(buf, sizeof(buf), "%s", v ? json_object_get_string(v) : "");
	json_object_put(arr);
	return buf;
}

static void test_uffd_transitions(void)
{
	struct collector_cfg cfg = { .live = LIVE_NONE, .spin_pct = 90, .spin_window_ns = SEC };
	struct collector c;

	start_guest(&c, &cfg, &watched_src);

	uffd_tick(&c, w.now); /* the first scan: a full walk finds the owner and its pager */
	CHECK(w.scans == 1);
	CHECK(uffd_count_state(&c, UFFD_SERVED) == 1);
	run_until(&c, 3 * SEC, 5);
	CHECK(uffd_count_state(&c, UFFD_SERVED) == 1);
	CHECK(w.samples == 0); /* nothing to watch while served */

	/* lost: the pager is SIGKILLed; its exit comes first, its fds close a little later */
	w.pager_holds = false;
	exit_proc(&c, PAGER, w.now, 9);
	w.faults = 1;
	for (uint64_t end = w.now + SEC; w.now < end && !finding_str(&c, "kind")[0];)
		run_until(&c, w.now + SEC / 10, 5);
	CHECK_STR(finding_str(&c, "kind"), "uffd_orphan");
	CHECK(uffd_count_state(&c, UFFD_PAGER_LOST) == 1); /* first: no CPU sample to judge yet */
	CHECK_STR(finding_str(&c, "resolved_at"), "");

	/* spinning: 100 % of a core over the whole window */
	run_until(&c, w.now + 2 * SEC, 100);
	CHECK(uffd_count_state(&c, UFFD_SPINNING) == 1);
	CHECK_STR(finding_str(&c, "state"), "spinning");
	CHECK(w.samples > 0);

	/* stalled: asleep, with faults unresolved */
	run_until(&c, w.now + 2 * SEC, 0);
	CHECK(uffd_count_state(&c, UFFD_STALLED) == 1);
	CHECK_STR(finding_str(&c, "state"), "stalled");

	/* resolved: the guest's VMM exits */
	w.owner_alive = false;
	exit_proc(&c, OWNER, w.now + 1, 9 << 8);
	run_until(&c, w.now + SEC, 0);
	CHECK_STR(finding_str(&c, "resolution"), "the guest's VMM exited");
	CHECK(uffd_count_state(&c, UFFD_STALLED) == 0 && uffd_count_state(&c, UFFD_SPINNING) == 0);
	collector_free(&c);
}

/*
 * --kill-orphans: the owner is due once, only after the grace and a full walk made after it
 * that found no handler; a restarted pager that got the uffd within the grace, which only a
 * full walk can see, saves it. Its action's exited is set by the owner's exit.
 */
static void test_kill_orphans(bool restarted)
{
	struct collector_cfg cfg = {
		.live = LIVE_NONE, .spin_pct = 90, .spin_window_ns = SEC, .kill_orphans_ns = 2 * SEC
	};
	struct proc *due[4];
	struct collector c;
	uint64_t lost;
	int n = 0;

	start_guest(&c, &cfg, &watched_src);
	uffd_tick(&c, w.now);
	run_until(&c, 2 * SEC, 5);
	w.pager_holds = false;
	lost = w.now;
	exit_proc(&c, PAGER, lost, 9);
	w.faults = 1;
	while (!finding_str(&c, "kind")[0] && w.now < lost + SEC)
		run_until(&c, w.now + SEC / 10, 100);
	CHECK_STR(finding_str(&c, "kind"), "uffd_orphan");
	if (restarted) {
		fork_proc(&c, NEWPG, w.now);
		w.new_pager_holds = true;
	}
	while (!n && w.now < lost + 4 * SEC) {
		run_until(&c, w.now + SEC / 10, 100);
		n = uffd_kills_due(&c, w.now, due, 4);
	}
	if (restarted) {
		CHECK(n == 0);
		CHECK_STR(finding_str(&c, "resolution"), "a new pager took over");
		collector_free(&c);
		return;
	}
	CHECK(n == 1 && due[0]->pid == OWNER && w.now >= lost + 2 * SEC);
	run_until(&c, w.now + SEC, 100);
	CHECK(uffd_kills_due(&c, w.now, due, 4) == 0); /* handed out once */
	uffd_log_kill(&c, due[0], "sigterm", w.now);
	CHECK(c.reaped.n == 1 && !strcmp(c.reaped.v[0].reason, "uffd_orphan") &&
	      !c.reaped.v[0].exited);
	w.owner_alive = false;
	exit_proc(&c, OWNER, w.now + 1, 0);
	CHECK(c.reaped.v[0].exited);
	collector_free(&c);
}

/* A process forked at ts (its start time) named comm. */
static void started(struct collector *c, uint32_t pid, const char *comm, uint64_t ts)
{
	struct ct_fork_event e = { .hdr = hdr(CT_EV_FORK, pid, ts) };

	e.hdr.start_ns = ts;
	snprintf(e.hdr.comm, sizeof(e.hdr.comm), "%s", comm);
	feed(c, &e, sizeof(e));
}

/*
 * A pager restarted under the lost one's name, of its test, is noted on the finding (the
 * first started of two): the watch looks at the processes named since its last look, or, when
 * more were named than it keeps (flood), at the whole table once.
 */
static void test_restarted_pager(bool flood)
{
	struct collector_cfg cfg = { .live = LIVE_NONE, .spin_pct = 90, .spin_window_ns = SEC };
	struct collector c;

	start_guest(&c, &cfg, &watched_src);
	uffd_tick(&c, w.now);
	run_until(&c, 2 * SEC, 5);
	w.pager_holds = false;
	exit_proc(&c, PAGER, w.now, 9);
	w.faults = 1;
	while (!finding_str(&c, "kind")[0] && w.now < 4 * SEC)
		run_until(&c, w.now + SEC / 10, 100);
	run_until(&c, w.now + SEC, 100); /* watched: its first look walked the table */
	CHECK_STR(finding_str(&c, "note"), "");
	started(&c, NEWPG, "pager", w.now);
	for (uint32_t i = 0; flood && i < 5000; i++)
		started(&c, 1000 + i, "worker", w.now + 1);
	started(&c, NEWPG + 1, "pager", w.now + 2);
	run_until(&c, w.now + SEC, 100);
	CHECK_STR(finding_str(&c, "note"), "pager restarted (pid 300) but never served this guest");
	collector_free(&c);
}

/* The budget test's world: FLOOD owners (pids 1000...) of a uffd each, the real one last. */
#define FLOOD 300
static int reads[FLOOD + 1];

static int flood_scan(void *ctx, uint32_t pid, void (*fn)(const struct ct_uffd_event *e, void *arg),
		      void *arg)
{
	for (uint32_t i = 0; i <= FLOOD; i++) {
		struct ct_uffd_event e = { .hdr = hdr(CT_EV_UFFD_FILE, 1000 + i, w.now),
					   .ctx = CTX + i,
					   .fd = 5,
					   .flags = CT_UFFD_OWNER };

		if (!pid || pid == 1000 + i)
			fn(&e, arg);
	}
	return 0;
}

static int flood_regions(void *ctx, uint32_t pid, struct ct_uffd_region *out, int max)
{
	reads[pid - 1000]++;
	return 0;
}

/*
 * More owners than a walk's budget (256): the walks every second go round-robin, so every
 * owner's registration is re-read within two of them, the last-seen one too, and what a walk
 * leaves is counted.
 */
static void test_uffd_budget(void)
{
	struct collector_cfg cfg = { .live = LIVE_NONE, .spin_pct = 90, .spin_window_ns = SEC };
	struct uffd_source src = { .scan = flood_scan, .regions = flood_regions, .tick_hz = 100 };
	struct collector c;
	int missed = 0;

	memset(&w, 0, sizeof(w));
	collector_init(&c, &cfg);
	c.now = fake_clock;
	uffd_set_source(c.uffd, &src);
	w.now = SEC;
	uffd_tick(&c, w.now); /* the first walk, of every process */
	CHECK(uffd_deferred(c.uffd)->rereads == FLOOD + 1 - 256);
	memset(reads, 0, sizeof(reads));
	for (int i = 0; i < 2; i++) {
		w.now += SEC;
		uffd_tick(&c, w.now); /* walks of the known holders */
	}
	for (int i = 0; i <= FLOOD; i++)
		missed += !reads[i];
	CHECK(missed == 0 && reads[FLOOD] > 0);
	CHECK(uffd_deferred(c.uffd)->scans > 0);
	CHECK(uffd_count_state(&c, UFFD_UNSERVED) == FLOOD + 1);
	collector_free(&c);
}

/* A pager exiting while the owner still has no memory registered is no orphan. */
static void test_uffd_unregistered_is_not_lost(void)
{
	struct collector_cfg cfg = { .live = LIVE_NONE, .spin_pct = 90, .spin_window_ns = SEC };
	struct uffd_source src = { .scan = fake_scan, .tick_hz = 100 }; /* no /proc readers */
	struct collector c;

	start_guest(&c, &cfg, &src);
	uffd_tick(&c, w.now);
	w.pager_holds = false;
	exit_proc(&c, PAGER, w.now, 9);
	run_until(&c, w.now + 3 * SEC, 100);
	CHECK(uffd_count_state(&c, UFFD_SERVED) == 1);
	CHECK_STR(finding_str(&c, "kind"), "");
	collector_free(&c);
}

/*
 * The owner sent the uffd to its pager and closed its copy; the pager dies holding the last
 * reference (iter mode: a walk finds nobody holding it). With pages never served, a
 * released finding counts them from what is resident; with all served, or with the memory
 * unregistered first, nothing.
 */
static void test_uffd_released(uint64_t resident, bool unregistered_first)
{
	struct collector_cfg cfg = { .live = LIVE_NONE, .spin_pct = 90, .spin_window_ns = SEC };
	struct uffd_source src = { .scan = fake_scan,
				   .regions = fake_regions,
				   .resident = fake_resident,
				   .tick_hz = 100 };
	struct collector c;

	start_guest(&c, &cfg, &src);
	w.owner_closed = w.registered = true;
	uffd_tick(&c, w.now);
	CHECK(uffd_count_state(&c, UFFD_SERVED) == 1);
	CHECK(uffd_contexts(c.uffd)->owner && uffd_contexts(c.uffd)->owner->pid == OWNER);
	CHECK(uffd_contexts(c.uffd)->registered == 256 * 4096);
	if (unregistered_first) {
		w.registered = false;
		run_until(&c, w.now + 2 * SEC, 5);
		CHECK(uffd_contexts(c.uffd)->registered == 0);
	}
	w.resident = resident;
	w.pager_holds = w.registered = false;
	exit_proc(&c, PAGER, w.now, 9);
	run_until(&c, w.now + 2 * SEC, 5);
	CHECK(uffd_count_state(&c, UFFD_RELEASED) == 1);
	if (resident == 256 * 4096 || unregistered_first) {
		CHECK_STR(finding_str(&c, "kind"), "");
	} else {
		CHECK_STR(finding_str(&c, "state"), "released");
		CHECK(uffd_contexts(c.uffd)->orphan->never_served ==
		      256 - (int64_t)resident / 4096);
		CHECK_STR(uffd_contexts(c.uffd)->orphan->never_served_from, "resident");
		CHECK_STR(finding_str(&c, "resolved_at"), "");
		w.owner_alive = false;
		exit_proc(&c, OWNER, w.now + 1, 0);
		CHECK_STR(finding_str(&c, "resolution"), "the guest's VMM exited");
	}
	collector_free(&c);
}

/*
 * Iter mode: a VMM's exec brings walks of every process's fds 1 s and 3 s later (a pager
 * that got its uffd and went before the 10 s walk is seen); the precise hooks need none.
 */
static void test_uffd_vmm_walks(bool precise)
{
	struct collector_cfg cfg = { .live = LIVE_NONE,
				     .spin_pct = 90,
				     .spin_window_ns = SEC,
				     .vmm_comms = { "firecracker" },
				     .nvmm_comms = 1 };
	struct uffd_source src = {
		.scan = fake_scan, .regions = fake_regions, .tick_hz = 100, .ioctls_traced = precise
	};
	struct ct_exec_event *x = calloc(1, sizeof(*x));
	struct collector c;
	int first;

	start_guest(&c, &cfg, &src);
	uffd_tick(&c, w.now);
	run_until(&c, 2 * SEC, 0);
	first = w.full_scans;
	x->hdr = hdr(CT_EV_EXEC, OWNER, w.now);
	strcpy(x->filename, "/usr/bin/firecracker");
	x->cwd_off = CT_PATH_MAX - 2;
	strcpy(x->cwd + CT_PATH_MAX - 2, "/");
	feed(&c, x, CT_EXEC_FIXED_LEN);
	run_until(&c, w.now + 4 * SEC, 0); /* still before the 10 s walk */
	CHECK(w.full_scans - first == (precise ? 0 : 2));
	free(x);
	collector_free(&c);
}

/* The precise hooks' count table: one entry, the pager's for CTX, while it is there. */
static struct {
	bool present;
	uint64_t ioctls;
	int reads, deleted;
} served;

static void fake_serves(void *ctx,
			bool (*fn)(const struct ct_uffd_serve_key *k,
				   const struct ct_uffd_serve_stats *s, void *arg),
			void *arg)
{
	struct ct_uffd_serve_key k = { .ctx = CTX, .pid = PAGER };
	struct ct_uffd_serve_stats s = { .ioctls = served.ioctls,
					 .bytes = served.ioctls * 4096,
					 .last_ns = w.now,
					 .start_ns = PAGER * 1000 };

	served.reads++;
	if (served.present && fn(&k, &s, arg)) {
		served.present = false;
		served.deleted++;
	}
}

static void uffd_rec(struct collector *c, uint32_t type, uint32_t pid, uint32_t cmd, uint32_t flags)
{
	struct ct_uffd_event e = { .hdr = hdr(type, pid, w.now), .ctx = CTX, .cmd = cmd };

	e.flags = flags;
	feed(c, &e, sizeof(e));
}

/*
 * fexit mode: a pager serves, then everything is released before the next scan. Its count is
 * the final one, read after the release (before a report, without dropping the entry; at the
 * next tick, dropping it). A capture from before (final_counts false) replays as it was made:
 * the count the last scan read.
 */
static void test_uffd_final_counts(bool final_counts)
{
	struct collector_cfg cfg = { .live = LIVE_NONE, .spin_pct = 90, .spin_window_ns = SEC };
	struct uffd_source src = { .scan = fake_scan,
				   .serves = fake_serves,
				   .tick_hz = 100,
				   .ioctls_traced = true,
				   .final_counts = final_counts };
	const struct uctx *u;
	struct collector c;

	memset(&served, 0, sizeof(served));
	start_guest(&c, &cfg, &src);
	uffd_rec(&c, CT_EV_UFFD_IOCTL, OWNER, CT_UFFDIO_API, CT_UFFD_OWNER);
	served.present = true;
	served.ioctls = 1;
	uffd_rec(&c, CT_EV_UFFD_IOCTL, PAGER, CT_UFFDIO_COPY, 0);
	uffd_tick(&c, w.now);
	u = uffd_contexts(c.uffd);
	CHECK(u && u->nhandlers == 1 && u->handlers[0].ioctls == 1);
	/* 16,390 more pages, the pager and the owner exit, all within one scan interval */
	served.ioctls = 16391;
	w.now += SEC / 10;
	w.owner_alive = w.pager_holds = false;
	exit_proc(&c, PAGER, w.now, 0);
	uffd_rec(&c, CT_EV_UFFD_RELEASE, OWNER, 0, 0);
	exit_proc(&c, OWNER, w.now, 0);
	CHECK(u->released);
	collector_refresh(&c);
	CHECK(u->handlers[0].ioctls == (final_counts ? 16391 : 1));
	CHECK(served.present); /* a report's read leaves the entry: a checkpoint writer's would */
	run_until(&c, w.now + 3 * SEC, 0);
	CHECK(u->handlers[0].ioctls == (final_counts ? 16391 : 1));
	CHECK(served.deleted == (final_counts ? 1 : 0));
	if (final_counts) /* read once after the release, then never again */
		CHECK(served.reads == 3);
	collector_free(&c);
}

/*
 * --pid: a guest and pager outside the traced tree are not the report's, but the uffd state
 * still points to them: their exit must not free them (it did, and the next report read freed
 * memory).
 */
static void test_uffd_outside_pids(void)
{
	struct collector_cfg cfg = { .live = LIVE_NONE,
				     .spin_pct = 90,
				     .spin_window_ns = SEC,
				     .npids = 1,
				     .pids = { 999 } };
	struct uffd_source src = { .scan = fake_scan, .tick_hz = 100 };
	struct collector c;
	struct proc *owner, *pager;

	start_guest(&c, &cfg, &src);
	uffd_tick(&c, w.now);
	owner = pt_find(&c.pt, OWNER, OWNER * 1000);
	pager = pt_find(&c.pt, PAGER, PAGER * 1000);
	CHECK(owner && pager && !owner->keep && !pager->keep); /* not in the --pid tree */
	w.pager_holds = false;
	exit_proc(&c, PAGER, w.now, 9);
	w.owner_alive = false;
	exit_proc(&c, OWNER, w.now + 1, 9);
	run_until(&c, w.now + 2 * SEC, 0);
	CHECK(pt_find(&c.pt, PAGER, PAGER * 1000) == pager && pager->exited);
	CHECK(pt_find(&c.pt, OWNER, OWNER * 1000) == owner && owner->exited);
	{
		struct json_object *ctxs = uffd_contexts_json(&c);

		CHECK(json_object_array_length(ctxs) == 1);
		json_object_put(ctxs);
	}
	collector_free(&c);
}

static void test_pid_reuse(void)
{
	struct collector_cfg cfg = { .live = LIVE_NONE };
	struct ct_exec_event *x = calloc(1, sizeof(*x));
	struct ct_fork_event f = { .hdr = hdr(CT_EV_FORK, 500, SEC) };
	struct collector c;
	struct proc *p;

	collector_init(&c, &cfg);
	f.hdr.start_ns = 7;
	feed(&c, &f, sizeof(f));
	p = pt_find(&c.pt, 500, 7);
	CHECK(p && !p->exited);
	p->keep = true; /* so the old entry stays for the report */

	/* the same pid, a new start time: its exit was lost, the old process is retired */
	x->hdr = hdr(CT_EV_EXEC, 500, 2 * SEC);
	x->hdr.start_ns = 9;
	strcpy(x->filename, "/bin/true");
	x->cwd_off = CT_PATH_MAX - 2;
	strcpy(x->cwd + CT_PATH_MAX - 2, "/");
	feed(&c, x, CT_EXEC_FIXED_LEN);
	CHECK(pt_find(&c.pt, 500, 7) == p && p->exited);
	p = pt_find(&c.pt, 500, 9);
	CHECK(p && !p->exited && pt_find_live(&c.pt, 500) == p);
	CHECK_STR(p ? p->exe : NULL, "/bin/true");

	/* an exit for the old identity does not touch the new process */
	exit_proc(&c, 500, 3 * SEC, 0); /* hdr(): start_ns 500000, neither of them */
	CHECK(!p->exited);
	{
		struct ct_exit_event e = { hdr(CT_EV_EXIT, 500, 3 * SEC), 0, 0 };

		e.hdr.start_ns = 9;
		feed(&c, &e, sizeof(e));
	}
	CHECK(pt_find_live(&c.pt, 500) == NULL);
	collector_free(&c);
	free(x);
}

static void test_signal_cap(void)
{
	struct collector_cfg cfg = { .live = LIVE_NONE };
	struct json_object *arr;
	struct collector c;
	struct proc *p;

	collector_init(&c, &cfg);
	fork_proc(&c, 600, SEC);
	for (uint32_t i = 0; i < 1000; i++) {
		struct ct_signal_event e = { .hdr = hdr(CT_EV_SIGNAL, 600, 2 * SEC + i),
					     .signal = 1 + i % 31,
					     .sender_pid = 700 };

		snprintf(e.sender_comm, sizeof(e.sender_comm), "sender%u", i);
		feed(&c, &e, sizeof(e));
	}
	p = pt_find(&c.pt, 600, 600 * 1000);
	CHECK(p && p->nsigs == PROC_SIGS_MAX && p->sigs_total == 1000 && p->keep);
	/* the first ones are kept, in order */
	for (uint32_t i = 0; p && i < p->nsigs; i++)
		CHECK(p->sigs[i].at_ns == 2 * SEC + i && p->sigs[i].signal == 1 + i &&
		      p->sigs[i].sender_pid == 700);
	CHECK_STR(p ? p->sigs[PROC_SIGS_MAX - 1].sender_comm : NULL, "sender7");
	arr = p ? fatal_signals_json(p, UINT64_MAX) : NULL;
	CHECK(arr && json_object_array_length(arr) == PROC_SIGS_MAX);
	json_object_put(arr);
	/* the exit still comes through */
	exit_proc(&c, 600, 3 * SEC, 9);
	CHECK(p && p->exited && p->exit_status == 9);
	collector_free(&c);
}

/* An exec of comm with argv "comm\0arg" in cwd /, by pid (child of ppid). */
static void exec_proc(struct collector *c, uint32_t pid, uint32_t ppid, const char *comm,
		      const char *arg, uint64_t ts, uint32_t flags)
{
	struct ct_exec_event *x = calloc(1, sizeof(*x));
	int n;

	x->hdr = hdr(CT_EV_EXEC, pid, ts);
	x->hdr.ppid = ppid;
	snprintf(x->hdr.comm, sizeof(x->hdr.comm), "%s", comm);
	snprintf(x->filename, sizeof(x->filename), "/bin/%s", comm);
	x->cwd_off = CT_PATH_MAX - 2;
	strcpy(x->cwd + CT_PATH_MAX - 2, "/");
	n = snprintf(x->argv, sizeof(x->argv), "%s%c%s", comm, '\0', arg);
	x->argv_len = n + 1;
	x->flags = flags;
	feed(c, x, CT_EXEC_FIXED_LEN + x->argv_len);
	free(x);
}

static void fork_flags(struct collector *c, uint32_t pid, uint32_t ppid, const char *comm,
		       uint64_t ts, uint32_t flags, size_t len)
{
	struct ct_fork_event e = { .hdr = hdr(CT_EV_FORK, pid, ts), .flags = flags };

	e.hdr.ppid = ppid;
	snprintf(e.hdr.comm, sizeof(e.hdr.comm), "%s", comm);
	feed(c, &e, len);
}

static void fork_child(struct collector *c, uint32_t pid, uint32_t ppid, const char *comm,
		       uint64_t ts)
{
	fork_flags(c, pid, ppid, comm, ts, 0, sizeof(struct ct_fork_event));
}

static void rename_proc(struct collector *c, uint32_t pid, const char *comm, uint64_t ts)
{
	struct ct_rename_event e = { .hdr = hdr(CT_EV_RENAME, pid, ts) };

	/* NUL-padded, as the kernel sends it */
	memcpy(e.comm, comm, strnlen(comm, sizeof(e.comm)));
	feed(c, &e, sizeof(e));
}

/* A collector that takes "firecracker" for a VMM's comm. */
static void init_vmm_comm(struct collector *c, struct collector_cfg *cfg)
{
	*cfg = (struct collector_cfg){ .live = LIVE_NONE };
	cfg->vmm_comms[cfg->nvmm_comms++] = "firecracker";
	collector_init(c, cfg);
}

/* A rename without exec: the comm follows; a VMM name makes a VMM, a name away keeps it. */
static void test_rename(void)
{
	struct collector_cfg cfg;
	struct collector c;
	struct proc *p;

	init_vmm_comm(&c, &cfg);
	exec_proc(&c, 300, 1, "criu", "restore", SEC, 0);
	fork_child(&c, 301, 300, "criu", 2 * SEC);
	p = pt_find_live(&c.pt, 301);
	CHECK(p && p->role == ROLE_NONE);
	rename_proc(&c, 301, "firecracker", 3 * SEC);
	CHECK_STR(p->comm, "firecracker");
	CHECK(p->role == ROLE_VMM);
	CHECK_STR(pt_find_live(&c.pt, 300)->comm, "criu");
	rename_proc(&c, 301, "fc_main", 4 * SEC);
	CHECK_STR(p->comm, "fc_main");
	CHECK(p->role == ROLE_VMM);
	/* a process the table does not hold is not made up from a rename */
	rename_proc(&c, 999, "firecracker", 5 * SEC);
	CHECK(!pt_find_live(&c.pt, 999));
	collector_free(&c);
}

/* A forked child has its parent's role only until it execs something else. */
static void test_exec_resets_role(void)
{
	struct collector_cfg cfg;
	struct collector c;
	struct proc *p;

	init_vmm_comm(&c, &cfg);
	exec_proc(&c, 300, 1, "firecracker", "--api-sock=/ci/T/001/s", SEC, 0);
	p = pt_find_live(&c.pt, 300);
	CHECK(p && p->role == ROLE_VMM);
	fork_child(&c, 301, 300, "firecracker", 2 * SEC);
	p = pt_find_live(&c.pt, 301);
	CHECK(p && p->role == ROLE_VMM); /* a copy of the VMM until it execs */
	exec_proc(&c, 301, 300, "sleep", "300", 3 * SEC, 0);
	CHECK(p->role == ROLE_NONE);
	/* a VMM that execs a VMM again stays one */
	exec_proc(&c, 300, 1, "firecracker", "--api-sock=/ci/T/001/s", 4 * SEC, 0);
	CHECK(pt_find_live(&c.pt, 300)->role == ROLE_VMM);
	collector_free(&c);
}

#define SELF 10
#define JOB  400

/* run's job: with a cgroup, the records' CT_JOB_CGROUP flags decide; without, ancestry. */
static void test_job_identity(void)
{
	struct collector_cfg cfg = { .live = LIVE_NONE, .self_pid = SELF };
	const char *vmm = "firecracker";
	struct collector c;
	struct proc *p;

	cfg.vmm_comms[cfg.nvmm_comms++] = vmm;
	for (int cgroup = 0; cgroup < 2; cgroup++) {
		uint32_t in = cgroup ? CT_JOB_CGROUP : 0;

		collector_init(&c, &cfg);
		c.cfg.job_pid = JOB;
		c.cfg.job_cgroup = cgroup ? "/cidtrace-job.10" : NULL;
		/* the command: forked by cidtrace, moved into the cgroup before its exec */
		fork_child(&c, JOB, SELF, "cidtrace", SEC);
		exec_proc(&c, JOB, SELF, "sh", "job.sh", SEC, in);
		CHECK(pt_find_live(&c.pt, JOB)->in_job);
		/* its VMM behind setsid and a double fork: orphaned, still the job's */
		fork_flags(&c, 401, JOB, "sh", 2 * SEC, in, sizeof(struct ct_fork_event));
		fork_flags(&c, 402, 401, "sh", 2 * SEC, in, sizeof(struct ct_fork_event));
		exit_proc(&c, 401, 2 * SEC, 0);
		exec_proc(&c, 402, 1, "firecracker", "--api-sock=/ci/T/001/s", 2 * SEC, in);
		p = pt_find_live(&c.pt, 402);
		CHECK(p && p->in_job && p->orphaned && collector_is_leak(&c, p, 9 * SEC));
		/* another user's VMM, started meanwhile from another shell */
		fork_child(&c, 500, 1, "sh", 3 * SEC);
		exec_proc(&c, 500, 1, "firecracker", "--api-sock=/ci/T/001/t", 3 * SEC, 0);
		p = pt_find_live(&c.pt, 500);
		CHECK(p && !p->in_job && !collector_is_leak(&c, p, 9 * SEC));
		/* a pager outside the job is no reap target; one in it is */
		collector_set_role(&c, p, ROLE_PAGER);
		CHECK(!collector_is_leaked_pager(&c, p, 9 * SEC));
		fork_flags(&c, 403, JOB, "sh", 4 * SEC, in, sizeof(struct ct_fork_event));
		p = pt_find_live(&c.pt, 403);
		collector_set_role(&c, p, ROLE_PAGER);
		CHECK(collector_is_leaked_pager(&c, p, 9 * SEC));
		p->seeded = true; /* one that predates the trace is not */
		CHECK(!collector_is_leaked_pager(&c, p, 9 * SEC));
		collector_free(&c);
	}

	/* with a cgroup, its flag decides over ancestry; a 48-byte fork of an older capture has
	 * no flags */
	collector_init(&c, &cfg);
	c.cfg.job_pid = JOB;
	c.cfg.job_cgroup = "/cidtrace-job.10";
	fork_child(&c, JOB, SELF, "cidtrace", SEC);
	exec_proc(&c, JOB, SELF, "sh", "job.sh", SEC, CT_JOB_CGROUP);
	fork_child(&c, 404, JOB, "sh", 2 * SEC); /* moved out of the cgroup by root */
	CHECK(!pt_find_live(&c.pt, 404)->in_job);
	fork_flags(&c, 405, 1, "sh", 2 * SEC, CT_JOB_CGROUP, CT_FORK_V1_LEN);
	CHECK(!pt_find_live(&c.pt, 405)->in_job);
	exec_proc(&c, 405, 1, "sh", "x", 3 * SEC, CT_JOB_CGROUP);
	CHECK(pt_find_live(&c.pt, 405)->in_job);
	collector_free(&c);

	/* record has no job: its leaks are every VMM started under the trace */
	collector_init(&c, &cfg);
	exec_proc(&c, 500, 1, "firecracker", "--api-sock=/ci/T/001/t", 3 * SEC, 0);
	CHECK(collector_is_leak(&c, pt_find_live(&c.pt, 500), 9 * SEC));
	collector_free(&c);
}

static int told;

static void count_fork(void *ctx, const struct proc *p, uint64_t ts)
{
	told++;
}

/*
 * cidtrace's checkpoint writer is a fork of cidtrace: its argv names the scope, yet it never
 * enters the table (so is never in scope, kept or told); `run`'s command, cidtrace's other
 * child, is the job's.
 */
static void test_own_helper(void)
{
	struct collector_cfg cfg = { .live = LIVE_NONE, .self_pid = SELF };
	struct collector c;
	struct proc *p;

	cfg.scopes[cfg.nscopes++] = "/ci/T";
	collector_init(&c, &cfg);
	c.observer.fork = count_fork;
	c.observer.exit = count_fork;
	exec_proc(&c, SELF, 1, "cidtrace", "/ci/T", SEC, 0);
	fork_child(&c, 600, SELF, "cidtrace", 2 * SEC);
	/* not in the table: so never in scope, kept, in the job or in a report */
	CHECK(!pt_find_live(&c.pt, 600) && told == 0);
	exit_proc(&c, 600, 3 * SEC, 0);
	CHECK(!pt_find(&c.pt, 600, 600 * 1000) && told == 0);
	/* `run`'s command is a child of cidtrace too, and the job's; any other child is a helper */
	c.cfg.job_pid = JOB;
	fork_child(&c, JOB, SELF, "cidtrace", 4 * SEC);
	p = pt_find_live(&c.pt, JOB);
	CHECK(p && p->in_job && p->in_scope && p->keep && told == 1);
	fork_child(&c, 601, SELF, "cidtrace", 5 * SEC);
	CHECK(!pt_find_live(&c.pt, 601) && told == 1);
	collector_free(&c);
}

/* A fork record as BPF sends it: ns, then only the path's bytes. */
static void fork_ns(struct collector *c, uint32_t pid, const struct ct_ns_info *ns,
		    const char *cgroup, uint32_t flags)
{
	struct ct_fork_event e = { .hdr = hdr(CT_EV_FORK, pid, SEC), .flags = flags, .ns = *ns };

	e.hdr.ppid = 1;
	e.ns.cgroup_len = strlen(cgroup);
	memcpy(e.cgroup, cgroup, e.ns.cgroup_len);
	feed(c, &e, CT_FORK_FIXED_LEN + e.ns.cgroup_len);
}

/* Namespaces and cgroup from fork and exec records; unknown from older and truncated ones. */
static void test_ns(void)
{
	struct ct_ns_info ns = {
		.pid_ns = 11, .mnt_ns = 12, .net_ns = 13, .pid_level = 1, .nspid = { 900, 2 }
	};
	struct ct_ns_info deep = { .pid_ns = 21, .pid_level = 5, .nspid = { 901, 5, 4, 3 } };
	struct collector_cfg cfg = { .live = LIVE_NONE };
	struct ct_exec_event *x = calloc(1, sizeof(*x));
	struct collector c;
	struct proc *p;

	collector_init(&c, &cfg);
	fork_ns(&c, 900, &ns, "/ci/job-a", 0);
	p = pt_find(&c.pt, 900, 900 * 1000);
	CHECK(p && p->pid_ns == 11 && p->mnt_ns == 12 && p->net_ns == 13 && p->nspid_levels == 2 &&
	      p->nspid[0] == 900 && p->nspid[1] == 2 && !p->nspid_truncated);
	CHECK_STR(p ? p->cgroup : NULL, "/ci/job-a");
	/* an exec in another cgroup and namespace (setns, then exec) */
	x->hdr = hdr(CT_EV_EXEC, 900, 2 * SEC);
	x->hdr.ppid = 1;
	x->cwd_off = CT_PATH_MAX - 2;
	strcpy(x->cwd + CT_PATH_MAX - 2, "/");
	x->ns = ns;
	x->ns.mnt_ns = 14;
	x->ns.cgroup_len = strlen("/ci/job-b");
	strcpy(x->cgroup, "/ci/job-b");
	feed(&c, x, CT_EXEC_FIXED_LEN);
	CHECK(p && p->mnt_ns == 14);
	CHECK_STR(p ? p->cgroup : NULL, "/ci/job-b");
	/* deeper than PROC_NSPID_MAX: the outermost kept, the innermost said to be missing */
	fork_ns(&c, 901, &deep, "/", 0);
	p = pt_find(&c.pt, 901, 901 * 1000);
	CHECK(p && p->nspid_levels == PROC_NSPID_MAX && p->nspid_truncated && p->nspid[3] == 3);
	CHECK_STR(p ? p->cgroup : NULL, "/");
	/* a path BPF could not keep, and a record shorter than its cgroup_len says: no path */
	fork_ns(&c, 902, &ns, "", CT_CGROUP_TRUNCATED);
	p = pt_find(&c.pt, 902, 902 * 1000);
	CHECK(p && !p->cgroup && p->nspid_levels == 2);
	{
		struct ct_fork_event e = { .hdr = hdr(CT_EV_FORK, 903, SEC), .ns = ns };

		e.ns.cgroup_len = 100;
		feed(&c, &e, CT_FORK_FIXED_LEN + 10);
		p = pt_find(&c.pt, 903, 903 * 1000);
		CHECK(p && !p->cgroup && p->pid_ns == 11);
	}
	/* a fork record of an earlier cidtrace: unknown, not inherited */
	fork_flags(&c, 904, 900, "sh", SEC, 0, CT_FORK_V2_LEN);
	p = pt_find(&c.pt, 904, 904 * 1000);
	CHECK(p && !p->cgroup && !p->nspid_levels && !p->pid_ns);
	/* setns or unshare without fork or exec: read again; an unknown process is not added */
	{
		struct ct_fork_event e = { .hdr = hdr(CT_EV_NS, 900, SEC), .ns = ns };

		e.ns.net_ns = 31;
		e.ns.mnt_ns = 32;
		e.ns.cgroup_len = strlen("/ci/job-c");
		memcpy(e.cgroup, "/ci/job-c", e.ns.cgroup_len);
		feed(&c, &e, CT_FORK_FIXED_LEN + e.ns.cgroup_len);
		p = pt_find(&c.pt, 900, 900 * 1000);
		CHECK(p && p->net_ns == 31 && p->mnt_ns == 32 && p->nspid_levels == 2);
		CHECK_STR(p ? p->cgroup : NULL, "/ci/job-c");
		e.hdr = hdr(CT_EV_NS, 905, SEC);
		feed(&c, &e, CT_FORK_FIXED_LEN + e.ns.cgroup_len);
		CHECK(!pt_find(&c.pt, 905, 905 * 1000));
	}
	free(x);
	collector_free(&c);
}

int main(void)
{
	test_uffd_transitions();
	test_kill_orphans(false);
	test_kill_orphans(true);
	test_restarted_pager(false);
	test_restarted_pager(true);
	test_uffd_budget();
	test_uffd_unregistered_is_not_lost();
	test_uffd_released(16 * 4096, false);
	test_uffd_released(256 * 4096, false);
	test_uffd_released(16 * 4096, true);
	test_uffd_vmm_walks(false);
	test_uffd_vmm_walks(true);
	test_uffd_outside_pids();
	test_uffd_final_counts(true);
	test_uffd_final_counts(false);
	test_pid_reuse();
	test_signal_cap();
	test_exec_resets_role();
	test_rename();
	test_job_identity();
	test_own_helper();
	test_ns();
	return check_done("test_core");
}
