// SPDX-License-Identifier: GPL-2.0
/* Orphan classification and the /proc parsers behind it. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "procfs.h"
#include "uffd.h"

static void test_classify(void)
{
	/* spinning needs a full window at or above the threshold */
	CHECK(uffd_classify(95, 99, 1, 90) == ORPHAN_SPINNING);
	CHECK(uffd_classify(90, 0, 0, 90) == ORPHAN_SPINNING);
	CHECK(uffd_classify(-1, 100, 1, 90) == ORPHAN_PAGER_LOST); /* window not elapsed yet */
	CHECK(uffd_classify(89.9, 100, 1, 90) == ORPHAN_PAGER_LOST);
	/* stalled: unresolved faults and threads asleep */
	CHECK(uffd_classify(0, 0, 1, 90) == ORPHAN_STALLED);
	CHECK(uffd_classify(-1, 2, 3, 90) == ORPHAN_STALLED);
	CHECK(uffd_classify(-1, -1, 3, 90) == ORPHAN_PAGER_LOST); /* no sample to judge by */
	CHECK(uffd_classify(0, 0, 0, 90) == ORPHAN_PAGER_LOST); /* nothing faulted yet */
	CHECK(uffd_classify(50, 50, 2, 90) == ORPHAN_PAGER_LOST); /* busy but not spinning */
	CHECK_STR(uffd_state_name(ORPHAN_SPINNING), "spinning");
	CHECK_STR(uffd_state_name(ORPHAN_STALLED), "stalled");
	CHECK_STR(uffd_state_name(ORPHAN_PAGER_LOST), "pager_lost");
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
	test_task_stat();
	test_smaps();
	return check_done("test_uffd");
}
