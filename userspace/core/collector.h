/* SPDX-License-Identifier: GPL-2.0 */
/* Turns BPF records into the process table, live lines and, at the end, findings. */
#ifndef CIDTRACE_COLLECTOR_H
#define CIDTRACE_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "proctable.h"
#include "testdir.h"

#define MAX_LIST 16

/* --only: which live line kinds are printed (a bit each; 0: all) */
enum live_kind {
	LIVE_FORK = 1 << 0,
	LIVE_EXEC = 1 << 1,
	LIVE_EXIT = 1 << 2, /* exit and fatal signal lines */
	LIVE_CONFLICT = 1 << 3, /* vsock bind, conflict and release lines */
	LIVE_UFFD = 1 << 4,
};

enum live_format {
	LIVE_TEXT,
	LIVE_JSON,
	LIVE_NONE,
};

struct collector_cfg {
	struct testdir_cfg td;
	const char *scopes[MAX_LIST]; /* normalized absolute dirs */
	int nscopes;
	const char *vmm_comms[MAX_LIST * 2]; /* fnmatch patterns on comm */
	int nvmm_comms;
	enum live_format live;
	unsigned int live_kinds; /* enum live_kind bits, 0: all */
	int pids[MAX_LIST]; /* --pid: only these processes and their descendants */
	int npids;
	pid_t job_pid; /* `run`: the command's pid, 0 for `record` */
	pid_t self_pid; /* cidtrace itself (never in scope, the job's parent); 0: none */
	double spin_pct; /* --spin-threshold: % of one core */
	uint64_t spin_window_ns; /* --spin-window */
};

struct vsock_state;
struct uffd_state;

struct collector {
	struct collector_cfg cfg;
	struct proctable pt;
	struct vsock_state *vsock;
	struct uffd_state *uffd;
	/* a kernel module was loaded: the tracer may now attach to it */
	void (*on_module_load)(void *ctx, const char *name);
	void *on_module_load_ctx;
	/* the core's only clock: CLOCK_BOOTTIME unless a replay serves recorded readings */
	uint64_t (*now)(void *ctx);
	void *now_ctx;
	uint64_t received; /* records consumed from the ring buffer */
	uint64_t started_ns; /* CLOCK_BOOTTIME when tracing became ready */
	bool header_printed;
};

void collector_init(struct collector *c, const struct collector_cfg *cfg);
void collector_free(struct collector *c);
/* One ring buffer record. Returns 0 (libbpf ring_buffer callback convention). */
int collector_handle(void *ctx, void *data, size_t len);
/* One startup snapshot record, with argv read from /proc (may be empty). */
void collector_seed(struct collector *c, const struct ct_exec_event *e, const char *argv,
		    size_t argv_len, bool argv_truncated, const char *exe);
/* The entry for the process an event is about, created if the table missed it. */
struct proc *collector_proc(struct collector *c, const struct ct_event_hdr *h);
/* Give p a role; the report keeps it from then on. */
void collector_set_role(struct collector *c, struct proc *p, enum role role);
/* The time now, from c's clock. */
uint64_t collector_now(struct collector *c);
/*
 * What the edge learned of an orphan's new parent (a subreaper or init: no event says which).
 * Ignored unless (pid, start_ns) names a live orphan.
 */
void collector_reparent(struct collector *c, uint32_t pid, uint64_t start_ns, uint32_t ppid);
/* After seeding: link every entry to its parent's. */
void collector_link_parents(struct collector *c);
/* --pid: p is one of the listed processes or descends from one (true without --pid). */
bool collector_in_pids(const struct collector *c, const struct proc *p);
/*
 * vmm_leak: a VMM that started under the trace, was still running when it ended at ended_ns
 * (it may have been reaped since), and is in scope and under --pid.
 */
bool collector_is_leak(const struct collector *c, const struct proc *p, uint64_t ended_ns);

#endif
