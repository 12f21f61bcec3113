/* SPDX-License-Identifier: GPL-2.0 */
/* Which hooks the kernel edge attached: set by the tracer, read by the report and metrics. */
#ifndef CIDTRACE_ATTACH_H
#define CIDTRACE_ATTACH_H

#include <stdint.h>

/* Attach mode per hook family, for trace.attach in the report. */
struct attach_modes {
	/* attach_mode_name() of an enum attach_mode */
	const char *process; /* tp_btf or raw_tp */
	const char *snapshot; /* iter or unavailable */
	const char *vsock; /* fexit, kprobe, tracepoint or unavailable */
	uint64_t vsock_since_ns; /* when the vsock mode took effect */
	const char *uffd; /* fexit, iter or unavailable */
};

#endif
