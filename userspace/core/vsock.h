/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-vsock CID bindings and the findings they lead to. A binding is keyed by the vhost
 * instance (the struct vhost_vsock behind a file), never by pid: a CID stays bound while any
 * process holds that file, whoever bound it.
 */
#ifndef CIDTRACE_VSOCK_H
#define CIDTRACE_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "cidtrace_events.h"
#include "vocab.h"

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

/* A CID bound to one vhost instance, from the bind until the file's release. */
struct binding {
	struct binding *next;
	uint64_t instance; /* kernel address: identity only, never printed */
	unsigned int id; /* printed as vsock-<id> */
	uint64_t cid;
	/*
	 * Network namespace inode (0: unknown, a capture of an older cidtrace) and
	 * CT_VSOCK_NET_*: the file's namespace on Linux 7.0+, else the binder's.
	 */
	uint32_t net_ns, net_flags;
	struct proc *binder; /* kept in the process table for the report */
	uint64_t bound_ns; /* 0: bound before the trace began */
	uint64_t released_ns;
	uint32_t released_by_pid;
	uint32_t refs; /* findings that name it: kept while any does */
	char released_by_comm[CT_COMM_LEN + 1];
	bool released;
};

struct held {
	struct proc *proc;
	uint32_t flags; /* CT_HOLDER_* at the latest attempt */
};

/* A failed bind: one finding per (kind, process, CID, binding), however many retries. */
struct conflict {
	struct conflict *next;
	enum finding_kind kind;
	struct proc *attempt;
	uint64_t cid;
	struct binding *binding; /* NULL: nobody we know holds the CID */
	uint32_t net_ns, net_flags; /* the failed bind's, as in struct binding */
	uint64_t first_ns, last_ns, attempts, scanned_ns;
	struct held holders[VSOCK_MAX_HOLDERS];
	int nholders;
};

struct vsock_state *vsock_new(void);
void vsock_free(struct vsock_state *vs);
void vsock_set_source(struct vsock_state *vs, const struct vsock_source *src);
/* The scanner part of the source alone; local_cid is kept. */
void vsock_set_scanner(struct vsock_state *vs, vsock_scan_fn fn, void *ctx, bool releases_traced);
/* Periodic work: without a release hook, notice bindings whose file is gone. */
void vsock_tick(struct collector *c, uint64_t now);
/*
 * Retention's age pass (core/retention.c): drop the findings whose attempting process exited
 * longer than keep_for before now, then the released bindings no finding names that were
 * released that long ago.
 */
void vsock_retain(struct collector *c, uint64_t now);
void vsock_handle(struct collector *c, const struct ct_vsock_event *e);
/* A startup snapshot record: a binding that predates the trace. */
void vsock_seed(struct collector *c, const struct ct_vsock_event *e);

/* Read-only views for the report (output/report_vsock.c). */
/* The report shows the finding: no --scope, or its attempt or a holder is in scope. */
bool vsock_wanted(const struct collector *c, const struct conflict *f);
/* Bindings in the order they were made, conflicts in the order they began; follow ->next. */
const struct binding *vsock_bindings(const struct vsock_state *vs);
const struct conflict *vsock_conflicts(const struct vsock_state *vs);
/*
 * Why a bind failed: invalid_cid, host_local_cid, no_holder_found, teardown_race,
 * inherited_fd, orphan_holder or live_duplicate. Decided here, from the holders found at the
 * latest attempt of the binding that holds the CID in the attempt's CID space (keyed by
 * (net_ns, cid) where Linux 7.0's local mode applies: vsock_cid_shared()); may ask
 * /dev/vsock for this host's own CID (once).
 */
enum cid_class vsock_classify(struct vsock_state *vs, const struct conflict *f);
/* The classification's name, or for an invalid_cid its kind's. */
const char *vsock_classification(struct vsock_state *vs, const struct conflict *f);
/*
 * Would the kernel refuse a CID to one file because the other holds it? Linux 7.0's duplicate
 * check (vhost_vsock_get(cid, net)): yes within one network namespace, or between two in
 * "global" mode; a namespace in "local" mode has CIDs of its own. Before 7.0 every record is
 * global (no CT_VSOCK_NET_LOCAL): one CID space for the host, whatever the namespaces.
 */
bool vsock_cid_shared(uint32_t ns_a, uint32_t flags_a, uint32_t ns_b, uint32_t flags_b);
/* A holder at time at: "dumping_core", "exiting" or "running". */
enum holder_state vsock_holder_state(const struct held *h, uint64_t at);

#endif
