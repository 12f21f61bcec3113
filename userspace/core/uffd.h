/* SPDX-License-Identifier: GPL-2.0 */
/*
 * userfaultfd contexts and orphaned guests. A context is keyed by the kernel's
 * userfaultfd_ctx, the same for every process holding the file; its owner is the process
 * whose memory it manages (the VMM), its handlers the other processes that hold it or serve
 * its faults (the pager). When every handler is gone while the owner lives with memory still
 * registered, the guest is orphaned: cidtrace then watches the owner until it exits.
 */
#ifndef CIDTRACE_UFFD_H
#define CIDTRACE_UFFD_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cidtrace_events.h"

struct collector;
struct proc;

/* One thread of an owner, as /proc shows it. */
struct thread_cpu {
	uint32_t tid;
	uint64_t ticks; /* utime + stime, clock ticks */
	char state; /* R, S, D, ... */
	char comm[CT_COMM_LEN + 1];
};

/*
 * Everything the core learns about userfaultfds outside the ring buffer, set by the tracer
 * (uffd_hooks.c) or a replay: the core reads nothing itself. A NULL function knows nothing.
 */
struct uffd_source {
	void *ctx;
	/* the userfaultfds process pid (0: every process) holds right now, as CT_EV_UFFD_FILE
	 * records; 0 or -errno */
	int (*scan)(void *ctx, uint32_t pid, void (*fn)(const struct ct_uffd_event *e, void *arg),
		    void *arg);
	/* serving ioctls counted per (context, process), NULL without the precise hooks; fn
	 * returns true to drop a count no longer needed */
	void (*serves)(void *ctx,
		       bool (*fn)(const struct ct_uffd_serve_key *k,
				  const struct ct_uffd_serve_stats *s, void *arg),
		       void *arg);
	/* what /proc says of an owner (procfs.c): its threads, up to max (-1: gone), its CPU
	 * ticks, its uffd fd's unresolved faults, and its memory registered with a uffd */
	int (*threads)(void *ctx, uint32_t pid, struct thread_cpu *out, int max);
	bool (*cpu_ticks)(void *ctx, uint32_t pid, uint64_t *ticks);
	bool (*fdinfo)(void *ctx, uint32_t pid, int fd, uint64_t *pending, uint64_t *total);
	bool (*registered)(void *ctx, uint32_t pid, uint64_t *registered, uint64_t *resident);
	long tick_hz; /* USER_HZ of the ticks above; 0: this host's */
	bool ioctls_traced; /* fexit: ioctls and releases arrive as events */
};

/* An orphan's state, worst last. */
enum uffd_orphan_state {
	ORPHAN_PAGER_LOST,
	ORPHAN_STALLED,
	ORPHAN_SPINNING,
};

/*
 * The state an orphaned guest is in from what its owner's threads and uffd show:
 * window_pct is the owner's CPU over the whole --spin-window (negative until the watch has
 * lasted that long), recent_pct over the latest sample, total the faults not yet resolved.
 */
enum uffd_orphan_state uffd_classify(double window_pct, double recent_pct, uint64_t total,
				     double spin_pct);
const char *uffd_state_name(enum uffd_orphan_state s);

struct uffd_state *uffd_new(double spin_pct, uint64_t spin_window_ns);
void uffd_free(struct uffd_state *us);
void uffd_set_source(struct uffd_state *us, const struct uffd_source *src);
/* CT_EV_UFFD_IOCTL and CT_EV_UFFD_RELEASE */
void uffd_handle(struct collector *c, const struct ct_uffd_event *e);
/* A process exited: if it served a context, look at that context soon. */
void uffd_on_exit(struct collector *c, const struct proc *p);
/* Scans and watches that are due. */
void uffd_tick(struct collector *c, uint64_t now);
/* Report parts: uffds[], the uffd_orphan findings, and a vmm_leak's uffd state. */
struct json_object *uffd_contexts_json(struct collector *c);
void uffd_findings_json(struct collector *c, struct json_object *findings);
struct json_object *uffd_leak_json(struct collector *c, const struct proc *owner);
/* The live pagers (role pager) that held or served owner's contexts, up to max. */
int uffd_pagers(struct collector *c, const struct proc *owner, struct proc **out, int max);
/* How many contexts in the report are in state ("served", "stalled", ... as in uffds[]). */
int uffd_count_state(struct collector *c, const char *state);

#endif
