/* SPDX-License-Identifier: GPL-2.0 */
/* One thread of a process as /proc shows it: what an orphan's watch samples. */
#ifndef CIDTRACE_THREAD_CPU_H
#define CIDTRACE_THREAD_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "cidtrace_events.h"

/* One thread of an owner, as /proc shows it. */
struct thread_cpu {
	uint32_t tid;
	uint64_t ticks; /* utime + stime, clock ticks */
	char state; /* R, S, D, ... */
	char comm[CT_COMM_LEN + 1];
	/*
	 * /proc/PID/task/TID/schedstat: ns on a CPU and ns runnable but waiting on a run queue.
	 * Their sum is what the thread wanted, whatever share the scheduler granted; sched is
	 * false where the file is missing (CONFIG_SCHED_INFO=n) or unreadable.
	 */
	uint64_t run_ns, wait_ns;
	bool sched;
};

#endif
