// SPDX-License-Identifier: GPL-2.0
/* Orphan classification and the /proc parsers behind it. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "procfs.h"
#include "uffd.h"

/* granted window, granted recent, demand window (busiest), demand recent (sum) */
static enum uffd_orphan_state classify(double wp, double rp, double wd, double rd, uint64_t total)
{
	struct uffd_load l = { wp, rp, wd, rd };

	return uffd_classify(&l, total, 90);
}

static void test_classify(void)
{
	/* without schedstat (demand -1): granted decides, as before */
	CHECK(classify(95, 99, -1, -1, 1) == ORPHAN_SPINNING);
	CHECK(classify(90, 0, -1, -1, 0) == ORPHAN_SPINNING);
	CHECK(classify(-1, 100, -1, -1, 1) == ORPHAN_PAGER_LOST); /* window not elapsed yet */
	CHECK(classify(89.9, 100, -1, -1, 1) == ORPHAN_PAGER_LOST);
	/* stalled: unresolved faults and threads asleep */
	CHECK(classify(0, 0, -1, -1, 1) == ORPHAN_STALLED);
	CHECK(classify(-1, 2, -1, -1, 3) == ORPHAN_STALLED);
	CHECK(classify(-1, -1, -1, -1, 3) == ORPHAN_PAGER_LOST); /* no sample to judge by */
	CHECK(classify(0, 0, -1, -1, 0) == ORPHAN_PAGER_LOST); /* nothing faulted yet */
	CHECK(classify(50, 50, -1, -1, 2) == ORPHAN_PAGER_LOST); /* busy but not spinning */
	/* a loaded host: granted half a core, the thread wants all of one */
	CHECK(classify(50, 50, 102, 102, 1) == ORPHAN_SPINNING);
	CHECK(classify(30, 30, 90, 95, 1) == ORPHAN_SPINNING);
	/* demand known: it decides, whatever was granted */
	CHECK(classify(95, 95, 60, 95, 1) == ORPHAN_PAGER_LOST);
	CHECK(classify(-1, 50, -1, 100, 1) == ORPHAN_PAGER_LOST); /* window not elapsed yet */
	/* asleep by demand: a thread waiting on a run queue is not asleep */
	CHECK(classify(5, 5, 50, 50, 1) == ORPHAN_PAGER_LOST);
	CHECK(classify(5, 5, 8, 8, 1) == ORPHAN_STALLED);
	/* ...nor is an idle thread awake whose wake-ups wait on a loaded run queue (a TCG VM) */
	CHECK(classify(0, 0, 10.3, 10.3, 1) == ORPHAN_STALLED);
	CHECK(classify(12, 12, 12, 12, 1) == ORPHAN_PAGER_LOST); /* it runs: awake */
	CHECK_STR(uffd_state_name(ORPHAN_SPINNING), "spinning");
	CHECK_STR(uffd_state_name(ORPHAN_STALLED), "stalled");
	CHECK_STR(uffd_state_name(ORPHAN_PAGER_LOST), "pager_lost");
}

static struct thread_cpu th(uint32_t tid, uint64_t run_ns, uint64_t wait_ns, bool sched)
{
	return (struct thread_cpu){
		.tid = tid, .run_ns = run_ns, .wait_ns = wait_ns, .sched = sched
	};
}

static void test_demand(void)
{
	const uint64_t s = 1000000000ull;
	struct thread_cpu from[3] = { th(1, 0, 0, true), th(2, 10 * s, 5 * s, true),
				      th(3, 0, 0, true) };
	/* over 2 s: tid 2 ran 1 s and waited 1 s (100%), tid 1 wants 25%, tid 3 is gone and
	 * tid 4 is new: neither counts */
	struct thread_cpu to[3] = { th(2, 11 * s, 6 * s, true), th(1, s / 4, s / 4, true),
				    th(4, 9 * s, 0, true) };
	double sum;
	int busiest;

	CHECK(uffd_thread_demand(from, 3, to, 3, 2 * s, &sum, &busiest) == 100);
	CHECK(busiest == 0 && sum == 125);
	/* one thread without schedstat: demand unknown, the caller judges by granted */
	to[1].sched = false;
	CHECK(uffd_thread_demand(from, 3, to, 3, 2 * s, &sum, &busiest) < 0 && sum < 0);
	to[1].sched = true;
	from[0].sched = false;
	CHECK(uffd_thread_demand(from, 3, to, 3, 2 * s, &sum, &busiest) < 0 && sum < 0);
	/* no thread in both samples, or no time between them: unknown */
	CHECK(uffd_thread_demand(from, 3, &to[2], 1, 2 * s, &sum, &busiest) < 0 && sum < 0);
	from[0].sched = true;
	CHECK(uffd_thread_demand(from, 3, to, 3, 0, &sum, &busiest) < 0);
}

static void test_schedstat(void)
{
	struct thread_cpu t = { .run_ns = 7, .sched = true };

	CHECK(parse_schedstat("123456789 987654321 42\n", &t));
	CHECK(t.sched && t.run_ns == 123456789 && t.wait_ns == 987654321);
	CHECK(!parse_schedstat("", &t));
	CHECK(!t.sched && t.run_ns == 0 && t.wait_ns == 0);
	/* this host's own thread, if it has schedstat at all */
	if (access("/proc/self/schedstat", R_OK) == 0) {
		struct thread_cpu mine[64];
		int n = proc_threads(getpid(), mine, 64);

		/* not run_ns > 0: a thread that has not been preempted yet may read 0 */
		CHECK(n >= 1 && mine[0].sched);
	}
}

static void test_task_stat(void)
{
	struct thread_cpu t;

	CHECK(parse_task_stat("4242 (fc_vcpu 1) R 1 4242 4242 0 -1 4194368 10 0 0 0 250 30 0 0 "
			      "20 0 3 0 100 0 0",
			      &t));
	CHECK(t.tid == 4242 && t.state == 'R' && t.ticks == 280);
	CHECK_STR(t.comm, "fc_vcpu 1");
	/* a comm with ") S" in it must not fool the parser: comm ends at the last ')' */
	CHECK(parse_task_stat("7 (a) S (b) D 1 7 7 0 -1 0 0 0 0 0 5 6 0", &t));
	CHECK(t.state == 'D' && t.ticks == 11);
	CHECK_STR(t.comm, "a) S (b");
	CHECK(!parse_task_stat("garbage", &t));
	{
		uint64_t before = 0, after = 0;
		volatile unsigned long spin = 0;
		struct timespec start, now;

		/*
		 * the process total: ours, from /proc/self/stat, grows with work. One tick of CPU
		 * takes 10 ms; give up after 10 s of wall time, however busy the host.
		 */
		clock_gettime(CLOCK_MONOTONIC, &start);
		now = start;
		CHECK(proc_cpu_ticks(getpid(), &before));
		while (proc_cpu_ticks(getpid(), &after) && after == before &&
		       now.tv_sec - start.tv_sec < 10) {
			spin++;
			clock_gettime(CLOCK_MONOTONIC, &now);
		}
		CHECK(after > before);
		CHECK(!proc_cpu_ticks(0, &after));
	}
	CHECK(!parse_task_stat("1 (x) S 1 2", &t));
}

static void test_smaps(void)
{
	static const char text[] =
		"55815cf51000-55815cf53000 r--p 00000000 fe:00 247498 /usr/bin/x\n"
		"Size:                  8 kB\n"
		"Rss:                   8 kB\n"
		"VmFlags: rd mr mw me dw sd\n"
		"7f0000000000-7f0000100000 rw-p 00000000 00:00 0\n"
		"Size:               1024 kB\n"
		"Rss:                 40 kB\n"
		"VmFlags: rd wr mr mw me ac sd um\n"
		"7f0000200000-7f0000202000 rw-p 00000000 00:00 0\n"
		"Rss:                  8 kB\n"
		"VmFlags: rd wr mr mw me ac sd uw ui\n"
		"7f0000300000-7f0000301000 rw-p 00000000 00:00 0\n"
		"Rss:                  4 kB\n"
		"VmFlags: rd wr mr mw me ac sd umx\n";
	uint64_t reg, res;
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	parse_smaps(f, &reg, &res);
	fclose(f);
	CHECK(reg == 0x100000 + 0x2000);
	CHECK(res == (40 + 8) * 1024);
}

int main(void)
{
	test_classify();
	test_demand();
	test_schedstat();
	test_task_stat();
	test_smaps();
	return check_done("test_uffd");
}
