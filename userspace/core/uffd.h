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

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cidtrace_events.h"
#include "thread_cpu.h"
#include "vocab.h"

struct collector;
struct proc;
struct reap_action;
struct uffd_state;

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
	/*
	 * The VMAs pid has registered with any userfaultfd, with their context (the task_vma
	 * iterator), up to max; returns how many it read (max + 1: there are more, not read),
	 * or -1: gone. NULL: not known, registered() tells the sum over its contexts.
	 */
	int (*regions)(void *ctx, uint32_t pid, struct ct_uffd_region *out, int max);
	/* resident bytes (smaps Rss) of pid's mappings inside the n ranges r (ctx ignored) */
	bool (*resident)(void *ctx, uint32_t pid, const struct ct_uffd_region *r, int n,
			 uint64_t *bytes);
	long tick_hz; /* USER_HZ of the ticks above; 0: this host's */
	bool schedstat; /* threads() fills run_ns and wait_ns: spinning is judged by demand */
	bool ioctls_traced; /* fexit: ioctls and releases arrive as events */
	/* serves keeps a released context's counts until read, and the core reads them (a
	 * capture made before it did replays without: the core then makes the calls it made) */
	bool final_counts;
};

/*
 * An orphan's state: the first three of enum uffd_ctx_state, worst last, while the owner
 * holds the file; released: a pager held the last reference, and its release unregistered
 * memory the owner still uses (the guest reads zeros where pages were never served).
 */
enum uffd_orphan_state {
	ORPHAN_PAGER_LOST = UFFD_PAGER_LOST,
	ORPHAN_STALLED = UFFD_STALLED,
	ORPHAN_SPINNING = UFFD_SPINNING,
	ORPHAN_RELEASED = UFFD_RELEASED,
};

/*
 * How an orphaned guest's owner takes the CPU, in % of one core; negative: not known (the
 * watch has not lasted a window yet, or no schedstat). Granted is utime + stime of the whole
 * owner; demand is schedstat's run + run-queue wait, what its threads wanted whatever share a
 * loaded host gave them.
 */
struct uffd_load {
	double window_pct, recent_pct; /* granted over --spin-window, over the latest sample */
	/*
	 * The busiest thread's demand over --spin-window. One thread, not the owner's sum: a
	 * spinning vCPU is one thread that wants a whole core, while a multi-vCPU guest's idle
	 * vCPUs each want a little (timers, housekeeping), and their sum, with the run-queue
	 * wait they cause each other on a busy host, would reach a core without any of them
	 * spinning.
	 */
	double window_demand;
	/* every thread's demand together over the latest sample: asleep means all of them */
	double recent_demand;
};

/*
 * The state an orphaned guest is in from what its owner's threads and uffd show: spinning
 * when the busiest thread's demand over the whole --spin-window reaches spin_pct (where
 * demand is not known: the owner's granted CPU, as before schedstat); stalled with faults
 * unresolved (total) and the owner's threads asleep over the latest sample.
 */
enum uffd_orphan_state uffd_classify(const struct uffd_load *l, uint64_t total, double spin_pct);
/*
 * Demand (run + wait, % of one core) of each thread in to that from also has, over wall_ns:
 * the busiest one's, and in *sum all of them; *busiest its index in to. Negative (and *sum
 * negative) if any of those threads lacks schedstat in either sample.
 */
double uffd_thread_demand(const struct thread_cpu *from, int nfrom, const struct thread_cpu *to,
			  int nto, uint64_t wall_ns, double *sum, int *busiest);
/* "demand" or "granted": what spinning is judged by (trace.attach.spin_basis). */
const char *uffd_spin_basis(const struct uffd_state *us);
const char *uffd_state_name(enum uffd_orphan_state s);

#define MAX_HANDLERS 8
#define MAX_RANGES   16
#define MAX_HISTORY  16
#define TOP_THREADS  3

struct handler {
	struct proc *proc;
	uint64_t seen_gen; /* the scan that last found it holding the file */
	uint64_t gone_ns; /* exited or closed the file; 0 while it holds it */
	uint64_t ioctls, bytes, last_ns;
};

struct sample;

/* A context whose every handler is gone while its owner lives with memory registered. */
struct orphan {
	enum uffd_orphan_state state;
	uint64_t since, state_since, resolved_ns;
	const char *resolution;
	struct handler pager; /* the handler that went last */
	struct proc *restarted;
	uint64_t named_seq; /* the processes named before it were looked at for restarted */
	bool named_looked; /* ... at least once: the first look walks the process table */
	uint64_t pending, total;
	double cpu_pct, demand_pct; /* granted, and the busiest thread's demand (-1: unknown) */
	struct thread_cpu top[TOP_THREADS];
	double top_pct[TOP_THREADS], top_demand[TOP_THREADS]; /* top_demand -1: unknown */
	int ntop;
	/* released: registered pages never served (-1: not known), and from what */
	int64_t never_served;
	const char *never_served_from; /* "ioctls" or "resident" */
	bool kill_due; /* --kill-orphans: its owner was handed to the edge to stop */
	bool killed; /* ... and the edge logged an action on it (uffd_log_kill) */
	struct sample *samples; /* ring, cap entries, newest at head */
	int cap, count, head;
	uint64_t next_watch_ns;
	struct {
		enum uffd_orphan_state state;
		uint64_t at;
	} history[MAX_HISTORY];
	int nhistory;
};

struct uctx {
	struct uctx *next, *hnext; /* hnext: the next live one in its hash bucket */
	uint64_t key; /* struct userfaultfd_ctx: never printed */
	unsigned int id;
	struct proc *owner;
	int owner_fd;
	uint64_t owner_gen, seen_gen;
	uint64_t scan_gen; /* the latest walk of the known holders that had all of its own */
	bool owner_exiting, seeded, released;
	bool owner_from_mm; /* the owner is known from a holder's record (ctx->mm->owner) */
	bool counts_due; /* released with serve counts in the source not read since */
	struct handler handlers[MAX_HANDLERS];
	int nhandlers;
	uint64_t first_seen_ns, released_ns;
	uint64_t registered, resident, smaps_ns; /* from /proc/PID/smaps, read at smaps_ns */
	/*
	 * With the source's regions: the owner's VMAs registered with this context, adjacent
	 * ones merged (nranges -1: more than MAX_RANGES), read at regions_gen; what is left of
	 * them at the release is what the guest reads as zeros where never served.
	 */
	struct ct_uffd_region ranges[MAX_RANGES];
	int nranges;
	uint64_t regions_gen, regions_pass; /* the walk, and the refresh pass, that read them */
	uint32_t registrations, unregistrations;
	struct orphan *orphan;
};

struct uffd_state *uffd_new(double spin_pct, uint64_t spin_window_ns);
void uffd_free(struct uffd_state *us);
void uffd_set_source(struct uffd_state *us, const struct uffd_source *src);
/* CT_EV_UFFD_IOCTL and CT_EV_UFFD_RELEASE */
void uffd_handle(struct collector *c, const struct ct_uffd_event *e);
/*
 * A VMM exec'd at ts: without the precise hooks, walk every process's fds 1 s and 3 s later,
 * when the uffd it makes has likely gone to its pager (else the walk every 10 s would be the
 * first to see a pager that may be gone by then).
 */
void uffd_vmm_started(struct collector *c, uint64_t ts);
/*
 * p forked, exec'd or renamed: an orphan's watch looks at it for a restarted pager (a bounded
 * ring of the latest, not the process table).
 */
void uffd_proc_named(struct collector *c, const struct proc *p);
/* A process exited: if it served a context, look at that context soon. */
void uffd_on_exit(struct collector *c, const struct proc *p);
/* Scans and watches that are due. */
void uffd_tick(struct collector *c, uint64_t now);
/*
 * Retention's age pass (core/retention.c): drop the uffd_orphan findings resolved longer than
 * keep_for before now, then the released contexts without one released that long ago.
 */
void uffd_retain(struct collector *c, uint64_t now);
/* Before a report: re-read the registered memory (smaps through the source, at most every
 * 2 s of c's clock) of the contexts it shows that are neither released nor orphaned (an
 * orphan's watch reads its own). */
void uffd_refresh(struct collector *c);
/*
 * --kill-orphans: the owners to stop now, up to max, each handed out once: an orphan in view
 * (scope, --pid, job) pager-lost for the grace (cfg.kill_orphans_ns), that a full walk of every
 * process's fds made after the grace ran out still found without a handler (without the
 * precise hooks, a restarted pager that got the uffd shows only there). uffd_tick() makes that
 * walk; the edge calls this after it and stops what it gets (kernel/reap.c).
 */
int uffd_kills_due(struct collector *c, uint64_t now, struct proc **out, int max);
/*
 * Log a --kill-orphans action on owner in reaped[] (reason "uffd_orphan") and as a live line
 * of its orphaned context. The edge calls it as it acts; a replay, from the capture.
 */
struct reap_action *uffd_log_kill(struct collector *c, struct proc *owner, const char *action,
				  uint64_t at_ns);
/* p holds a live context of another process's as a handler: still a pager after an exec. */
bool uffd_holds_as_handler(const struct collector *c, const struct proc *p);
/* The live pagers (role pager) that held or served owner's contexts, up to max. */
int uffd_pagers(struct collector *c, const struct proc *owner, struct proc **out, int max);
/* How many contexts in the report are in state (as in uffds[]). */
int uffd_count_state(struct collector *c, enum uffd_ctx_state state);

/*
 * What the budgets of the walks every second (MAX_SCAN_PIDS processes) left for a later walk,
 * round-robin (trace.events): contexts whose holders a walk of the known holders did not look
 * at, and contexts in view whose owner's registration was not re-read.
 */
struct uffd_budget_stats {
	uint64_t scans, rereads;
};
const struct uffd_budget_stats *uffd_deferred(const struct uffd_state *us);

/* Read-only views for the report (output/report_uffd.c). */
/* The contexts, in the order they were first seen; follow ->next. */
const struct uctx *uffd_contexts(const struct uffd_state *us);
/* The report shows the context: no --scope, or its owner is in scope. */
bool uffd_wanted(const struct collector *c, const struct uctx *u);
/* Released, served, unserved, or an orphan's state; and its name. */
enum uffd_ctx_state uffd_ctx_state_of(const struct uctx *u);
const char *uffd_ctx_state(const struct uctx *u);
/* Pages served are counted from serving ioctls (precise hooks), not estimated. */
bool uffd_counts_serves(const struct uffd_state *us);
/* "uffd-N" */
void uffd_id(const struct uctx *u, char *buf, size_t len);
/* What became of a lost pager, in one phrase. */
void uffd_describe_pager(const struct handler *h, char *buf, size_t len);

#endif
