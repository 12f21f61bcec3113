// SPDX-License-Identifier: GPL-2.0
/*
 * Retention (--keep-processes, --keep-for, trace.retention) through the core, from synthetic
 * records: the count cap after each exit, the age cap at collector_tick(), what findings and
 * uffd contexts hold, the counters and since; and the process table past 100,000 entries.
 * Build it with -fsanitize=address to see that nothing dropped is used again.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "collector.h"
#include "uffd.h"
#include "vsock.h"

#define S 1000000000ull

/* wait(2) status of a process killed by SIGKILL: the core keeps such a process */
#define KILLED 9

static struct collector c;

static void setup(uint32_t keep_processes, uint64_t keep_for_ns)
{
	struct collector_cfg cfg = { .live = LIVE_NONE,
				     .keep_processes = keep_processes,
				     .keep_for_ns = keep_for_ns };

	collector_init(&c, &cfg);
}

static struct ct_event_hdr hdr(uint32_t type, uint32_t pid, uint32_t ppid, uint64_t ts)
{
	/* a pid's start time is its pid: tests never reuse one */
	struct ct_event_hdr h = {
		.type = type, .pid = pid, .tid = pid, .ppid = ppid, .start_ns = pid, .ts_ns = ts
	};

	strcpy(h.comm, "worker");
	return h;
}

static void fork_(uint32_t pid, uint32_t ppid)
{
	struct ct_fork_event e = { .hdr = hdr(CT_EV_FORK, pid, ppid, pid) };

	collector_handle(&c, &e, sizeof(e));
}

static void exit_(uint32_t pid, uint64_t ts, uint32_t status)
{
	struct ct_exit_event e = { hdr(CT_EV_EXIT, pid, 1, ts), status, 0 };

	collector_handle(&c, &e, sizeof(e));
}

static void bind_(uint32_t pid, uint64_t instance, uint64_t cid, int ret, uint64_t ts)
{
	struct ct_vsock_event e = { .hdr = hdr(CT_EV_VSOCK_BIND, pid, 1, ts),
				    .instance = instance,
				    .cid = cid,
				    .ret = ret,
				    .source = CT_SRC_FEXIT };

	collector_handle(&c, &e, sizeof(e));
}

static void vsock_release_(uint32_t pid, uint64_t instance, uint64_t ts)
{
	struct ct_vsock_event e = { .hdr = hdr(CT_EV_VSOCK_RELEASE, pid, 1, ts),
				    .instance = instance,
				    .source = CT_SRC_FEXIT };

	collector_handle(&c, &e, sizeof(e));
}

static void uffd_(uint32_t type, uint32_t pid, uint64_t ctx, uint32_t flags, uint64_t ts)
{
	struct ct_uffd_event e = {
		.hdr = hdr(type, pid, 1, ts), .ctx = ctx, .cmd = CT_UFFDIO_REGISTER, .flags = flags
	};

	collector_handle(&c, &e, sizeof(e));
}

static struct proc *find(uint32_t pid)
{
	return pt_find(&c.pt, pid, pid);
}

static size_t count(const void *list, size_t next_off)
{
	size_t n = 0;

	for (const char *p = list; p; p = *(const char *const *)(p + next_off))
		n++;
	return n;
}

#define NBINDINGS()  count(vsock_bindings(c.vsock), offsetof(struct binding, next))
#define NCONFLICTS() count(vsock_conflicts(c.vsock), offsetof(struct conflict, next))
#define NCONTEXTS()  count(uffd_contexts(c.uffd), offsetof(struct uctx, next))

/* Ten killed processes, three kept: the newest three; the seven others counted, once. */
static void test_count_cap(void)
{
	setup(3, 0);
	for (uint32_t pid = 100; pid < 110; pid++) {
		fork_(pid, 1);
		exit_(pid, pid * S, KILLED);
		CHECK(c.context.n <= 3);
	}
	for (uint32_t pid = 100; pid < 107; pid++)
		CHECK(!find(pid));
	for (uint32_t pid = 107; pid < 110; pid++)
		CHECK(find(pid) && find(pid)->keep);
	CHECK(c.retention.dropped_processes == 7);
	CHECK(c.retention.since_ns == 106 * S);
	/* the age pass finds nothing with --keep-for 0 */
	collector_tick(&c, 1000000 * S);
	CHECK(c.retention.dropped_processes == 7 && c.context.n == 3);
	collector_free(&c);
}

/* --keep-for 10s: at 12.5 s what exited at or before 2.5 s goes; since is the latest of them. */
static void test_age_cap(void)
{
	setup(0, 10 * S);
	for (uint32_t pid = 1; pid <= 5; pid++)
		fork_(100 + pid, 1);
	for (uint32_t pid = 1; pid <= 5; pid++)
		exit_(100 + pid, pid * S, KILLED);
	fork_(200, 1); /* alive: never aged */
	collector_tick(&c, 12 * S + S / 2);
	CHECK(!find(101) && !find(102));
	CHECK(find(103) && find(104) && find(105) && find(200));
	CHECK(c.retention.dropped_processes == 2);
	CHECK(c.retention.since_ns == 2 * S);
	collector_tick(&c, 100 * S);
	CHECK(!find(103) && !find(104) && !find(105) && find(200));
	CHECK(c.retention.dropped_processes == 5 && c.retention.since_ns == 5 * S);
	collector_free(&c);
}

/*
 * A kept parent exits before its kept child and is dropped first: the child loses its parent
 * pointer, not its entry; an exited ancestor a child holds counts as context too.
 */
static void test_children(void)
{
	setup(1, 0);
	fork_(10, 1);
	fork_(11, 10);
	fork_(12, 11);
	CHECK(find(12)->parent == find(11) && find(11)->children == find(12));
	exit_(11, 5 * S, KILLED); /* kept, holds 12 */
	exit_(12, 6 * S, KILLED); /* kept: 11 is dropped (count 1), 12 loses its parent */
	CHECK(!find(11) && find(12) && !find(12)->parent);
	CHECK(c.retention.dropped_processes == 1);
	/*
	 * 20 -> 21: 20 exits normally (not kept) while 21 holds it as an ancestor: context under
	 * the cap like a kept one (12 goes for it), and the first to go when 21 exits
	 */
	fork_(20, 1);
	fork_(21, 20);
	exit_(20, 7 * S, 0);
	CHECK(find(20) && !find(20)->keep && !find(12));
	exit_(21, 8 * S, KILLED);
	CHECK(find(21) && !find(20) && !find(21)->parent);
	fork_(30, 1);
	exit_(30, 9 * S, KILLED); /* 21 goes */
	CHECK(!find(21) && !find(20) && find(30));
	CHECK(c.retention.dropped_processes == 4);
	CHECK(c.retention.since_ns == 8 * S);
	collector_free(&c);
}

/* --pid membership survives the drop of the listed ancestor. */
static void test_pids(void)
{
	setup(1, 0);
	c.cfg.pids[0] = 40;
	c.cfg.npids = 1;
	fork_(40, 1);
	fork_(41, 40);
	fork_(43, 41);
	fork_(50, 1);
	CHECK(!collector_in_pids(&c, find(50)));
	exit_(50, 1 * S, KILLED); /* not under --pid: not kept */
	CHECK(!find(50));
	exit_(40, 2 * S, KILLED);
	exit_(43, 3 * S, KILLED); /* 40 goes */
	CHECK(!find(40) && find(41) && !find(41)->parent);
	fork_(42, 41);
	CHECK(collector_in_pids(&c, find(41)) && collector_in_pids(&c, find(42)));
	collector_free(&c);
}

/* Context processes first to last, each killed at ts: all kept, until retention says. */
static void killed(uint32_t first, uint32_t last, uint64_t ts)
{
	for (uint32_t pid = first; pid <= last; pid++) {
		fork_(pid, 1);
		exit_(pid, ts, KILLED);
	}
}

/* 300 fails to bind the CID 200 holds; 200 releases it and exits at 3 s. */
static void conflict(void)
{
	fork_(200, 1);
	fork_(300, 1);
	bind_(200, 0xa, 5, 0, 1 * S);
	bind_(300, 0xb, 5, -EADDRINUSE, 2 * S);
	CHECK(NCONFLICTS() == 1 && NBINDINGS() == 1);
	vsock_release_(200, 0xa, 3 * S);
	exit_(200, 3 * S, 0);
}

/* Outside --pid, a process that forks and exits, over and over, holds no chain of entries. */
static void test_pids_chain(void)
{
	setup(10, 0);
	c.cfg.pids[0] = 40;
	c.cfg.npids = 1;
	fork_(1000, 1);
	for (uint32_t pid = 1001; pid < 2000; pid++) {
		fork_(pid, pid - 1);
		exit_(pid - 1, pid * S, 0);
	}
	CHECK(c.pt.count == 1 && find(1999) && !find(1999)->parent);
	collector_free(&c);
}

/*
 * While the finding is retained, neither process goes, however low --keep-processes is; once
 * 300 exited longer than --keep-for ago, the finding, the released binding and both processes
 * go, each counted.
 */
static void test_finding_holds(void)
{
	setup(1, 10 * S);
	conflict();
	exit_(300, 4 * S, 0);
	killed(400, 409, 5 * S);
	CHECK(find(200) && find(300) && find(200)->refs && find(300)->refs);
	CHECK(c.retention.dropped_processes == 9 && c.retention.dropped_findings == 0);
	collector_tick(&c, 13 * S); /* 300 exited 9 s ago: not yet */
	CHECK(NCONFLICTS() == 1 && find(300));
	collector_tick(&c, 14 * S);
	CHECK(NCONFLICTS() == 0 && NBINDINGS() == 0);
	CHECK(!find(200) && !find(300));
	CHECK(c.retention.dropped_findings == 1 &&
	      c.retention.dropped_findings_kind[CID_CONFLICT] == 1);
	CHECK(c.retention.dropped_cids == 1);
	CHECK(c.retention.dropped_processes == 11);
	CHECK(c.retention.since_ns == 5 * S); /* the context processes, which went first */
	collector_tick(&c, 16 * S); /* the last context process, exited at 5 s */
	CHECK(!find(409) && c.retention.dropped_processes == 12);
	collector_free(&c);
}

/* A finding whose attempting process lives is never dropped, nor is what it names. */
static void test_live_finding(void)
{
	setup(1, 1 * S);
	conflict();
	killed(400, 402, 4 * S);
	collector_tick(&c, 1000 * S);
	CHECK(NCONFLICTS() == 1 && NBINDINGS() == 1);
	CHECK(find(300) && find(200) && vsock_conflicts(c.vsock)->holders[0].proc == find(200));
	CHECK(c.retention.dropped_findings == 0 && c.retention.dropped_cids == 0);
	CHECK(c.retention.dropped_processes == 3);
	collector_free(&c);
}

/*
 * An unprivileged user retrying binds from fresh processes: findings stop at
 * FINDINGS_KEPT_MAX, the first ended going first, and so does the memory they hold.
 */
static void test_finding_cap(void)
{
	const uint32_t n = FINDINGS_KEPT_MAX + 50;

	setup(10, 0);
	fork_(2, 1);
	bind_(2, 0xa, 5, 0, 1 * S);
	for (uint32_t i = 0; i < n; i++) {
		fork_(1000 + i, 1);
		bind_(1000 + i, 0xb, 5, -EADDRINUSE, 2 * S + i);
		exit_(1000 + i, 3 * S + i, 0);
	}
	CHECK(NCONFLICTS() == FINDINGS_KEPT_MAX);
	CHECK(c.retention.dropped_findings == 50);
	CHECK(c.retention.dropped_findings_kind[CID_CONFLICT] == 50);
	/* their attempts became context processes: the newest 10 of them stay */
	CHECK(!find(1000) && !find(1039) && find(1040) && find(1049) && find(1050));
	CHECK(c.context.n == 10 && c.retention.dropped_processes == 40);
	CHECK(c.pt.count == FINDINGS_KEPT_MAX + 10 + 1);
	collector_free(&c);
}

/*
 * reaped[] keeps the latest REAPED_KEPT_MAX actions: the oldest go first, counted, and their
 * processes are let go (an exited one with nothing else on it is retired by the count cap).
 */
static void test_reaped_cap(void)
{
	const uint32_t n = REAPED_KEPT_MAX + 5;

	setup(10, 0);
	for (uint32_t i = 0; i < n; i++) {
		fork_(100000 + i, 1);
		exit_(100000 + i, 1 * S + i, KILLED << 0);
		collector_log_reap(&c, find(100000 + i), "gone", 2 * S + i)->exited = true;
	}
	CHECK(c.reaped.n == REAPED_KEPT_MAX);
	CHECK(c.reaped.v[0].proc->pid == 100005 &&
	      c.reaped.v[c.reaped.n - 1].proc->pid == 100000 + n - 1);
	CHECK(c.retention.dropped_reaped == 5 && c.retention.since_ns >= 2 * S + 4);
	/* their processes hold no reference any more: retention may drop them */
	CHECK((!find(100000) || !find(100000)->refs) && (!find(100004) || !find(100004)->refs));
	CHECK(find(100005) && find(100005)->refs == 1);
	/* two actions on one process: dropping the first keeps it for the second */
	collector_log_reap(&c, find(100000 + n - 1), "sigkill", 3 * S);
	CHECK(c.reaped.n == REAPED_KEPT_MAX && c.retention.dropped_reaped == 6 &&
	      find(100000 + n - 1));
	collector_free(&c);
}

/* A closed uffd context is context: it ages out with --keep-for, and by count. */
static void test_uffd_context(void)
{
	setup(2, 10 * S);
	fork_(500, 1);
	fork_(501, 1);
	uffd_(CT_EV_UFFD_IOCTL, 500, 0x1000, CT_UFFD_OWNER, 1 * S);
	uffd_(CT_EV_UFFD_IOCTL, 501, 0x1000, 0, 1 * S);
	CHECK(NCONTEXTS() == 1 && find(500)->refs && find(501)->refs);
	uffd_(CT_EV_UFFD_RELEASE, 500, 0x1000, 0, 2 * S);
	exit_(501, 3 * S, 0);
	exit_(500, 4 * S, 0);
	CHECK(find(500) && find(501)); /* the context still names them */
	collector_tick(&c, 11 * S);
	CHECK(NCONTEXTS() == 1);
	collector_tick(&c, 12 * S);
	CHECK(NCONTEXTS() == 0 && c.retention.dropped_uffds == 1);
	CHECK(c.retention.since_ns == 2 * S);
	/* owner and pager were kept (roles): now context processes, they age from their exit */
	CHECK(find(500) && find(501) && !find(500)->refs && find(500)->queued);
	collector_tick(&c, 14 * S);
	CHECK(!find(500) && !find(501));
	CHECK(c.retention.dropped_processes == 2 && c.retention.since_ns == 4 * S);
	/* three contexts closed by one live owner: the first goes at once */
	fork_(600, 1);
	for (uint64_t k = 1; k <= 3; k++) {
		uffd_(CT_EV_UFFD_IOCTL, 600, 0x2000 * k, CT_UFFD_OWNER, 20 * S + k);
		uffd_(CT_EV_UFFD_RELEASE, 600, 0x2000 * k, 0, 21 * S + k);
	}
	CHECK(NCONTEXTS() == 2 && c.retention.dropped_uffds == 2);
	CHECK(uffd_contexts(c.uffd)->key == 0x4000 && find(600));
	collector_free(&c);
}

/* Everything kept is either in the table or counted, never both. */
static void test_counters_add_up(void)
{
	uint64_t present = 0, latest = 0;

	setup(7, 5 * S);
	for (uint32_t pid = 1000; pid < 1100; pid++) {
		fork_(pid, 1);
		exit_(pid, (pid - 1000) * S / 10, pid % 2 ? KILLED : 0);
		if (pid % 10 == 0)
			collector_tick(&c, (pid - 1000) * S / 10);
	}
	pt_for_each(&c.pt, p)
		present += p->keep;
	CHECK(present == c.context.n && present == 7);
	CHECK(present + c.retention.dropped_processes == 50);
	for (uint32_t pid = 1001; pid < 1100; pid += 2)
		if (!find(pid))
			latest = (pid - 1000) * S / 10;
	CHECK(latest && c.retention.since_ns == latest);
	collector_free(&c);
}

/* 150,000 live entries: the table grows, finds every one and walks each once; then shrinks. */
static void test_growth(void)
{
	const uint32_t n = 150000;
	uint64_t sum = 0, visited = 0;
	bool found = true;

	setup(0, 0);
	for (uint32_t pid = 2; pid < n + 2; pid++)
		fork_(pid, pid > 2 ? pid - 1 : 1);
	CHECK(c.pt.count == n);
	CHECK(c.pt.nbuckets >= n / 2 && c.pt.nbuckets <= n);
	for (uint32_t pid = 2; pid < n + 2; pid++)
		found &=
			find(pid) && find(pid)->pid == pid && pt_find_live(&c.pt, pid) == find(pid);
	CHECK(found);
	pt_for_each(&c.pt, p) {
		sum += p->pid;
		visited++;
	}
	CHECK(visited == n && sum == (uint64_t)(n + 1) * (n + 2) / 2 - 1);
	/* the deepest exits first: each frees itself and leaves its parent childless */
	for (uint32_t pid = n + 1; pid >= n / 2; pid--)
		exit_(pid, S + pid, 0);
	CHECK(c.pt.count == n / 2 - 2);
	found = true;
	for (uint32_t pid = 2; pid < n / 2; pid++)
		found &= find(pid) && !find(pid)->exited;
	CHECK(found && !find(n / 2) && !find(n + 1));
	collector_free(&c);
}

int main(void)
{
	test_count_cap();
	test_age_cap();
	test_children();
	test_pids();
	test_pids_chain();
	test_finding_holds();
	test_live_finding();
	test_finding_cap();
	test_reaped_cap();
	test_uffd_context();
	test_counters_add_up();
	test_growth();
	return check_done("test_retention");
}
