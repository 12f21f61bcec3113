/* SPDX-License-Identifier: GPL-2.0 */
/* vhost-vsock hooks: fexit/fentry, kprobes or syscall tracepoints, and the file iterator. */
#ifndef CIDTRACE_VSOCK_HOOKS_H
#define CIDTRACE_VSOCK_HOOKS_H

#include "cidtrace_events.h"

#include <stdbool.h>
#include <stdint.h>

#include "attach.h"

struct capture;
struct collector;

/* What the vsock hooks hold; zeroed, just enough for vsock_load_iter(). */
struct vsock_hooks {
	struct proc_bpf *proc; /* the process hooks, whose maps are shared (NULL: none) */
	struct attach_modes *modes; /* where to say which hooks attached, and since when */
	bool verbose;
	bool no_fentry;
	struct collector *collector;
	struct capture *cap; /* --raw: the source is wrapped, seeds are logged */
	struct vsock_bpf *vsock_precise;
	struct vsock_tp_bpf *vsock_tp;
	struct vsock_iter_bpf *vsock_iter;
	struct bpf_link *vsock_iter_link;
};

enum vsock_presence {
	VSOCK_ABSENT,
	VSOCK_LOADED,
	VSOCK_LOADABLE,
};

/* Loaded (or built in), loadable (a module on disk and a kernel that loads modules), or not. */
enum vsock_presence vsock_presence(void);
/* Attach what this kernel allows, seed bindings that predate the trace. */
void vsock_hooks_start(struct vsock_hooks *t, struct collector *c);
/* Mount tracefs at /sys/kernel/tracing unless it is there: the syscall tracepoints need it. */
bool ensure_tracefs(bool verbose);
void vsock_hooks_stop(struct vsock_hooks *t);
/* The task_file iterator over vhost-vsock files, loaded while vhost_vsock is. */
void vsock_load_iter(struct vsock_hooks *t);
/* Every vhost-vsock file held right now; fn is called for each. Returns 0 or -errno. */
int vsock_iterate_files(struct vsock_hooks *t,
			void (*fn)(const struct ct_vsock_event *e, void *arg), void *arg);

/*
 * Every vhost-vsock file held now, without a tracer: from the iterator, else from /proc.
 * Returns the source, "iter" or "proc".
 */
const char *vsock_files_now(void (*fn)(const struct ct_vsock_event *e, void *arg), void *arg);

#endif
