/* SPDX-License-Identifier: GPL-2.0 */
/* BPF side of cidtrace: probe features, open, set rodata, load, attach, snapshot, consume. */
#ifndef CIDTRACE_TRACER_H
#define CIDTRACE_TRACER_H

#include <stdbool.h>
#include <stdint.h>

#include "attach.h"
#include "collector.h"
#include "vocab.h"
#include "uffd_hooks.h"
#include "vsock_hooks.h"

struct tracer_opts {
	bool verbose; /* libbpf's log on stderr */
	bool no_fentry; /* force the portable fallback of every hook family */
	uint32_t ringbuf_bytes;
};

struct tracer {
	struct proc_bpf *proc;
	struct ring_buffer *rb;
	struct attach_modes modes;
	bool verbose;
	bool no_fentry;
	struct vsock_hooks vsock;
	struct uffd_hooks uffd;
};

/* Exits codes: EXIT_OK, or EXIT_ENV with one line on stderr saying why and what to do. */
int tracer_check_env(void);
/* CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON (true where capget itself fails: let BPF say). */
bool tracer_has_caps(void);
int tracer_start(struct tracer *t, struct collector *c, const struct tracer_opts *o);
/* fd to poll for readable records. */
int tracer_fd(struct tracer *t);
/* Hand every available record to the collector. */
int tracer_consume(struct tracer *t);
uint64_t tracer_lost(struct tracer *t);
void tracer_stop(struct tracer *t);
/* Seed c with every process alive now, through the task iterator. 0 or -errno. */
int tracer_snapshot(struct tracer *t, struct collector *c);

#endif
