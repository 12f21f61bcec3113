/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-vsock CID bindings and the findings they lead to. A binding is keyed by the vhost
 * instance (the struct vhost_vsock behind a file), never by pid: a CID stays bound while any
 * process holds that file, whoever bound it.
 */
#ifndef CIDTRACE_VSOCK_H
#define CIDTRACE_VSOCK_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "cidtrace_events.h"

struct collector;
struct proc;

/* Who holds an instance right now: filled by a task_file iteration. */
struct vsock_holder {
	uint32_t pid;
	uint64_t start_ns;
	uint32_t flags; /* CT_HOLDER_* */
};

#define VSOCK_MAX_HOLDERS 8

/* Lists the live holders of instance; returns how many, or -1 if it cannot tell. */
typedef int (*vsock_scan_fn)(void *ctx, uint64_t instance, struct vsock_holder *out, int max);

/*
 * Everything the core learns about vhost-vsock outside the ring buffer, set by the tracer
 * (vsock_hooks.c) or a replay: the core reads nothing itself.
 */
struct vsock_source {
	void *ctx;
	vsock_scan_fn scan; /* NULL: holders cannot be listed */
	/* the CID this host answers to when it is itself a guest (0: none); NULL: none */
	int64_t (*local_cid)(void *ctx);
	/* the release hook is attached; otherwise a tick finds releases by scanning */
	bool releases_traced;
};

struct vsock_state;

struct vsock_state *vsock_new(void);
void vsock_free(struct vsock_state *vs);
void vsock_set_source(struct vsock_state *vs, const struct vsock_source *src);
/* The scanner part of the source alone; local_cid is kept. */
void vsock_set_scanner(struct vsock_state *vs, vsock_scan_fn fn, void *ctx, bool releases_traced);
/* Periodic work: without a release hook, notice bindings whose file is gone. */
void vsock_tick(struct collector *c, uint64_t now);
void vsock_handle(struct collector *c, const struct ct_vsock_event *e);
/* A startup snapshot record: a binding that predates the trace. */
void vsock_seed(struct collector *c, const struct ct_vsock_event *e);
/* Report parts: cids[] and the vsock findings. */
struct json_object *vsock_cids_json(struct collector *c);
void vsock_findings_json(struct collector *c, struct json_object *findings);

#endif
