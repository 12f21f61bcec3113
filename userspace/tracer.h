/* SPDX-License-Identifier: GPL-2.0 */
/* BPF side of cidtrace: probe features, open, set rodata, load, attach, snapshot, consume. */
#ifndef CIDTRACE_TRACER_H
#define CIDTRACE_TRACER_H

#include <stdbool.h>
#include <stdint.h>

#include "collector.h"

struct tracer_opts {
	bool verbose;	 /* libbpf's log on stderr */
	bool no_fentry;	 /* force the portable fallback of every hook family */
	uint32_t ringbuf_bytes;
};

/* Attach mode per hook family, for trace.attach in the report. */
struct attach_modes {
	const char *process;  /* "tp_btf" or "raw_tp" */
	const char *snapshot; /* "iter" or "unavailable" */
};

struct tracer {
	struct proc_bpf *proc;
	struct ring_buffer *rb;
	struct attach_modes modes;
};

/* Exits codes: EXIT_OK, or EXIT_ENV with one line on stderr saying why and what to do. */
int tracer_check_env(void);
int tracer_start(struct tracer *t, struct collector *c, const struct tracer_opts *o);
/* fd to poll for readable records. */
int tracer_fd(struct tracer *t);
/* Hand every available record to the collector. */
int tracer_consume(struct tracer *t);
uint64_t tracer_lost(struct tracer *t);
void tracer_stop(struct tracer *t);

#endif
