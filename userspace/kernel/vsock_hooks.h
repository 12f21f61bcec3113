/* SPDX-License-Identifier: GPL-2.0 */
/* vhost-vsock hooks: fexit/fentry, kprobes or syscall tracepoints, and the file iterator. */
#ifndef CIDTRACE_VSOCK_HOOKS_H
#define CIDTRACE_VSOCK_HOOKS_H

#include "cidtrace_events.h"

struct tracer;
struct collector;

enum vsock_presence {
	VSOCK_ABSENT,
	VSOCK_LOADED,
	VSOCK_LOADABLE,
};

/* Loaded (or built in), loadable (a module on disk and a kernel that loads modules), or not. */
enum vsock_presence vsock_presence(void);
/* Attach what this kernel allows, seed bindings that predate the trace. */
void vsock_hooks_start(struct tracer *t, struct collector *c);
void vsock_hooks_stop(struct tracer *t);
/* The task_file iterator over vhost-vsock files, loaded while vhost_vsock is. */
void vsock_load_iter(struct tracer *t);
/* Every vhost-vsock file held right now; fn is called for each. Returns 0 or -errno. */
int vsock_iterate_files(struct tracer *t, void (*fn)(const struct ct_vsock_event *e, void *arg),
			void *arg);

/*
 * Every vhost-vsock file held now, without a tracer: from the iterator, else from /proc.
 * Returns the source, "iter" or "proc".
 */
const char *vsock_files_now(void (*fn)(const struct ct_vsock_event *e, void *arg), void *arg);

#endif
