/* SPDX-License-Identifier: GPL-2.0 */
/* One thread of a process as /proc shows it: what an orphan's watch samples. */
#ifndef CIDTRACE_THREAD_CPU_H
#define CIDTRACE_THREAD_CPU_H

#include <stdint.h>

#include "cidtrace_events.h"

/* One thread of an owner, as /proc shows it. */
struct thread_cpu {
	uint32_t tid;
	uint64_t ticks; /* utime + stime, clock ticks */
	char state; /* R, S, D, ... */
	char comm[CT_COMM_LEN + 1];
};

#endif
