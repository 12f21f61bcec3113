// SPDX-License-Identifier: GPL-2.0
/*
 * What a kept process costs (issue 11's bench target: the whole recorder within 64 MB at
 * 100,000 kept processes). 100,000 exited in-scope processes go through the core as a CI job's
 * would: the same interpreter in the same checkout, one test per process (its own argv), a
 * test dir per hundred. Prints sizeof(struct proc) and the heap per kept process (mallinfo2),
 * and fails if the heap per process grows past PER_PROC_MAX.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "collector.h"

#define N 100000
/* bytes of heap per kept process, table included; 48 of them its namespaces and cgroup */
#define PER_PROC_MAX 368

static void run(struct collector *c, uint32_t i)
{
	static struct ct_exec_event e;
	struct ct_fork_event f = { .hdr = { .type = CT_EV_FORK,
					    .pid = 1000 + i,
					    .tid = 1000 + i,
					    .ppid = 1,
					    .start_ns = 1000 + i,
					    .ts_ns = 1000 + i } };
	struct ct_exit_event x = { .hdr = f.hdr };
	int n;

	strcpy(f.hdr.comm, "python3");
	collector_handle(c, &f, sizeof(f));
	memset(&e, 0, sizeof(e));
	e.hdr = f.hdr;
	e.hdr.type = CT_EV_EXEC;
	snprintf(e.cwd, sizeof(e.cwd), "/tmp/ci/TestSuite%u/001", i / 100);
	strcpy(e.filename, "/usr/bin/python3.11");
	n = snprintf(e.argv, sizeof(e.argv),
		     "python3%c-m%cpytest%c/home/runner/work/proj/tests/test_api.py::test_%05u%c-x",
		     0, 0, 0, i, 0);
	e.argv_len = n + 1;
	collector_handle(c, &e, CT_EXEC_FIXED_LEN + e.argv_len);
	x.hdr.type = CT_EV_EXIT;
	x.hdr.ts_ns = 2000 + i;
	collector_handle(c, &x, sizeof(x));
}

int main(void)
{
	struct collector_cfg cfg = { .live = LIVE_NONE, .keep_processes = N };
	struct collector c;
	size_t before, after;
	double per_proc;

	cfg.scopes[cfg.nscopes++] = "/home/runner/work/proj";
	cfg.td.roots[cfg.td.nroots++] = "/tmp/ci";
	cfg.td.depth = 2;
	collector_init(&c, &cfg);
	before = mallinfo2().uordblks;
	for (uint32_t i = 0; i < N; i++)
		run(&c, i);
	after = mallinfo2().uordblks;
	per_proc = (double)(after - before) / N;
	CHECK(c.pt.count == N && c.context.n == N);
	CHECK(per_proc <= PER_PROC_MAX);
	/* one more exit: the oldest goes, and the heap does not grow (measured before
	 * any printf: stdout's buffer is 4 KiB) */
	run(&c, N);
	CHECK(c.pt.count == N && c.retention.dropped_processes == 1);
	CHECK(mallinfo2().uordblks <= after + 1024); /* freed chunks in tcache count as used */
	printf("test_proc_memory: sizeof(struct proc) %zu B; %u kept processes: %.0f B of heap "
	       "each (%.1f MiB)\n",
	       sizeof(struct proc), N, per_proc, (after - before) / 1048576.0);
	collector_free(&c);
	return check_done("test_proc_memory");
}
