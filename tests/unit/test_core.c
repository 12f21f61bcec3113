// SPDX-License-Identifier: GPL-2.0
/*
 * The core as a state machine: synthetic ring records, fake sources and a fake clock, no
 * kernel and no /proc. A uffd guest loses its pager, spins, stalls and is resolved; a pid is
 * reused by a new process.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "collector.h"
#include "report_uffd.h"
#include "uffd.h"

#define SEC   1000000000ull
#define CTX   0xffff888012345678ull
#define OWNER 100
#define PAGER 200

/* The world the fake sources describe. */
static struct {
	bool pager_holds, owner_alive;
	uint64_t ticks; /* the owner's CPU, in ticks of 100 Hz */
	uint64_t faults;
	uint64_t now;
	int scans, samples;
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
	fn(&e, arg);
}

static int fake_scan(void *ctx, uint32_t pid, void (*fn)(const struct ct_uffd_event *e, void *arg),
		     void *arg)
{
	w.scans++;
	if (w.owner_alive && (!pid || pid == OWNER))
		file(fn, arg, OWNER, CT_UFFD_OWNER);
	if (w.pager_holds && (!pid || pid == PAGER))
		file(fn, arg, PAGER, 0);
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
	struct ct_fork_event e = { hdr(CT_EV_FORK, pid, ts) };

	feed(c, &e, sizeof(e));
}

static void exit_proc(struct collector *c, uint32_t pid, uint64_t ts, uint32_t status)
{
	struct ct_exit_event e = { hdr(CT_EV_EXIT, pid, ts), status, 0 };

	feed(c, &e, sizeof(e));
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
	struct uffd_source src = { .scan = fake_scan,
				   .threads = fake_threads,
				   .cpu_ticks = fake_cpu_ticks,
				   .fdinfo = fake_fdinfo,
				   .registered = fake_registered,
				   .tick_hz = 100 };
	struct collector c;

	memset(&w, 0, sizeof(w));
	collector_init(&c, &cfg);
	c.now = fake_clock;
	uffd_set_source(c.uffd, &src);
	w.now = SEC;
	fork_proc(&c, OWNER, w.now);
	fork_proc(&c, PAGER, w.now);
	w.owner_alive = w.pager_holds = true;

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

/* A pager exiting while the owner still has no memory registered is no orphan. */
static void test_uffd_unregistered_is_not_lost(void)
{
	struct collector_cfg cfg = { .live = LIVE_NONE, .spin_pct = 90, .spin_window_ns = SEC };
	struct uffd_source src = { .scan = fake_scan, .tick_hz = 100 }; /* no /proc readers */
	struct collector c;

	memset(&w, 0, sizeof(w));
	collector_init(&c, &cfg);
	c.now = fake_clock;
	uffd_set_source(c.uffd, &src);
	w.now = SEC;
	fork_proc(&c, OWNER, w.now);
	fork_proc(&c, PAGER, w.now);
	w.owner_alive = w.pager_holds = true;
	uffd_tick(&c, w.now);
	w.pager_holds = false;
	exit_proc(&c, PAGER, w.now, 9);
	run_until(&c, w.now + 3 * SEC, 100);
	CHECK(uffd_count_state(&c, UFFD_SERVED) == 1);
	CHECK_STR(finding_str(&c, "kind"), "");
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

	memset(&w, 0, sizeof(w));
	collector_init(&c, &cfg);
	c.now = fake_clock;
	uffd_set_source(c.uffd, &src);
	w.now = SEC;
	fork_proc(&c, OWNER, w.now);
	fork_proc(&c, PAGER, w.now);
	w.owner_alive = w.pager_holds = true;
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
	struct ct_fork_event f = { hdr(CT_EV_FORK, 500, SEC) };
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

int main(void)
{
	test_uffd_transitions();
	test_uffd_unregistered_is_not_lost();
	test_uffd_outside_pids();
	test_pid_reuse();
	return check_done("test_core");
}
