/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The core's shared state: the configuration, the process table and the per-feature states,
 * and the process-level helpers that collector.c, vsock.c and uffd.c all use.
 */
#ifndef CIDTRACE_STATE_H
#define CIDTRACE_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "proctable.h"
#include "testdir.h"

#define MAX_LIST 16

/* Retention's defaults (--keep-processes, --keep-for); 0 means no limit for either. */
#define KEEP_PROCESSES_DEFAULT 10000
#define KEEP_FOR_NS_DEFAULT    (24 * 3600 * 1000000000ull)
/*
 * Findings of one family kept at most, whatever keep_processes says: cid_conflict and
 * invalid_cid together, and uffd_orphan. Beyond, the one whose subject ended first goes; a
 * finding whose subject lives is never dropped. A user retrying binds from fresh processes,
 * each a finding of its own, grows the report this far and no further.
 */
#define FINDINGS_KEPT_MAX 10000
/*
 * reaped[] entries kept: beyond, the oldest goes (counted). --kill-orphans acts on what any
 * user can make orphan in scope; a recorder that runs for weeks would grow without this.
 */
#define REAPED_KEPT_MAX 10000

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
	/*
	 * The mount namespace --scope's paths are in: cidtrace's own, the host's (0: any, as in
	 * the replay of a capture from before it was recorded). A path is only a name within one
	 * mount namespace: two containers' /tmp/TestX/001 are different directories.
	 */
	uint64_t scope_mnt_ns;
	/* --scope-cgroup: cgroup v2 paths (a process in one or below it); none: any */
	const char *scope_cgroups[MAX_LIST];
	int nscope_cgroups;
	/* --scope-container: container ids or their prefixes (12 characters at least) */
	const char *scope_containers[MAX_LIST];
	int nscope_containers;
	const char *vmm_comms[MAX_LIST * 2]; /* fnmatch patterns on comm */
	int nvmm_comms;
	enum live_format live;
	unsigned int live_kinds; /* enum live_kind bits, 0: all */
	int pids[MAX_LIST]; /* --pid: only these processes and their descendants */
	int npids;
	pid_t job_pid; /* `run`: the command's pid once started; 0 for `record` */
	/*
	 * `run`: the job's cgroup v2 path (as /proc/PID/cgroup shows it) when the command was put
	 * in a cgroup of its own: then a process belongs to the job when its records say it is
	 * in that cgroup (CT_JOB_CGROUP). NULL: by ancestry, a descendant of the command.
	 */
	const char *job_cgroup;
	pid_t self_pid; /* cidtrace itself (never in scope, the job's parent); 0: none */
	double spin_pct; /* --spin-threshold: % of one core */
	uint64_t spin_window_ns; /* --spin-window */
	/* --kill-orphans: stop an orphan's owner once it was pager-lost this long; 0: never */
	uint64_t kill_orphans_ns;
	/* --keep-processes: exited processes kept for context only, and also released CIDs
	 * and closed uffd contexts kept, at most (0: no limit) */
	uint32_t keep_processes;
	/* --keep-for: how long what ended stays in the report (0: for ever) */
	uint64_t keep_for_ns;
};

/*
 * Who watches the core live (output/live.c, wired by cmd): told as things happen, with the
 * detail text the core computed. Any callback may be NULL; the core never prints.
 */
struct core_observer {
	void *ctx;
	void (*fork)(void *ctx, const struct proc *p, uint64_t ts);
	void (*exec)(void *ctx, const struct proc *p, uint64_t ts);
	void (*exit)(void *ctx, const struct proc *p, uint64_t ts);
	void (*signal)(void *ctx, const struct proc *p, const struct fatal_signal *s);
	/* bind, conflict and release */
	void (*vsock)(void *ctx, const char *event, const struct proc *p, uint64_t ts, uint64_t cid,
		      const char *detail);
	/* an orphaned userfaultfd guest: pager lost, its state changed, or it is over */
	void (*uffd)(void *ctx, const struct proc *owner, uint64_t ts, const char *uffd_id,
		     const char *state, const char *detail);
};

/*
 * One --reap or --kill-orphans action: kernel/reap.c logs it, the report lists it in reaped[].
 */
struct reap_action {
	struct proc *proc; /* kept in the table: the report shows it */
	const char *action; /* "sigterm", "sigkill", "would_kill" (dry run) or "gone" */
	const char *reason; /* "vmm_leak" (--reap) or "uffd_orphan" (--kill-orphans) */
	uint64_t at_ns;
	/* gone when the action's wait ended; --kill-orphans waits for nothing: its latest
	 * action on a process is marked when that process's exit arrives */
	bool exited;
};

struct reap_log {
	struct reap_action *v;
	int n;
};

/*
 * What retention dropped from the report (trace.retention): what ended longer than keep_for
 * ago, or beyond keep_processes. Whatever ended after since_ns is all still there.
 */
struct retention_stats {
	uint64_t dropped_processes;
	uint64_t dropped_cids;
	uint64_t dropped_uffds;
	uint64_t dropped_findings;
	uint64_t dropped_reaped;
	uint64_t dropped_findings_kind[FINDING_KINDS]; /* by enum finding_kind */
	uint64_t since_ns; /* the latest end of anything dropped; 0: nothing dropped */
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
	struct core_observer observer; /* set after collector_init; none by default */
	struct reap_log reaped; /* --reap's and --kill-orphans' actions, in order */
	struct retention_stats retention;
	struct proc_queue context; /* exited processes kept for context only, by exit */
};

/* The time now, from c's clock. */
uint64_t collector_now(struct collector *c);
/* The entry for the process an event is about, created if the table missed it. */
struct proc *collector_proc(struct collector *c, const struct ct_event_hdr *h);
/* Give p a role; the report keeps it from then on. */
void collector_set_role(struct collector *c, struct proc *p, enum role role);
/* A new entry, linked to its parent: under --pid if its parent is or its pid is listed. */
void collector_set_in_pids(struct collector *c, struct proc *p);
/* After seeding: link every entry to its parent's. */
void collector_link_parents(struct collector *c);
/*
 * --pid: p is one of the listed processes or descends from one (true without --pid), as its
 * ancestry was when it was linked: retention may drop an ancestor later.
 */
bool collector_in_pids(const struct collector *c, const struct proc *p);
/*
 * `run`: p belongs to the job (proc.in_job), or is in a --scope-cgroup or --scope-container;
 * `record` has no job, and every process passes.
 */
bool collector_in_job(const struct collector *c, const struct proc *p);
/* Any of --scope, --scope-cgroup, --scope-container was given: in_scope decides. */
bool collector_scoped(const struct collector_cfg *cfg);
/*
 * A process whose cgroup v2 path is cgroup is selected by --scope-cgroup and
 * --scope-container: it is in one of the cgroups, or in one of the containers (by the id its
 * cgroup names). true without either option; false for an unknown (NULL) cgroup otherwise.
 */
bool collector_cgroup_selected(const struct collector_cfg *cfg, const char *cgroup);
/*
 * --scope's directories apply to a process in mount namespace mnt_ns: cidtrace's own (0:
 * unknown, taken as it). With --scope-cgroup or --scope-container, the directories are the
 * selected processes' own, whatever their mount namespace (and, collector_set_in_scope()
 * adds, those of `run`'s job cgroup).
 */
bool collector_scope_ns(const struct collector_cfg *cfg, uint64_t mnt_ns);
/*
 * p->in_scope from its argv, cwd, mount namespace and cgroup: call again when any changes
 * (classify does for argv and cwd; whatever learns a process's namespaces or cgroup, after).
 */
void collector_set_in_scope(struct collector *c, struct proc *p);
/* In --scope (when given), under --pid and, for `run`, in the job. */
bool collector_in_view(const struct collector *c, const struct proc *p);
/*
 * p's parent has exited: the trace saw it exit (orphaned), or, for what was alive before the
 * trace or never seen reparented, p's parent is init or a subreaper that started after it.
 */
bool collector_parent_exited(const struct proc *p);
/*
 * vmm_leak: a VMM that started under the trace, was still running when it ended at ended_ns
 * (it may have been reaped since), and is in scope, under --pid and, for `run`, in the job.
 */
bool collector_is_leak(const struct collector *c, const struct proc *p, uint64_t ended_ns);
/* A pager --reap may stop: the same tests as collector_is_leak but for the role. */
bool collector_is_leaked_pager(const struct collector *c, const struct proc *p, uint64_t ended_ns);

/*
 * Log a --reap action on p (which the report then keeps), reason "vmm_leak"; the caller may
 * set its exited. --kill-orphans' go through uffd_log_kill().
 */
struct reap_action *collector_log_reap(struct collector *c, struct proc *p, const char *action,
				       uint64_t at_ns);
/* Mark p kept if the report must show it, whatever happens to it later. */
void collector_update_keep(struct collector *c, struct proc *p);

/*
 * Retention's bookkeeping of processes (core/retention.c applies the caps). A core object that
 * points to p takes a reference; while p has one it is neither freed nor queued.
 */
void collector_ref(struct collector *c, struct proc *p);
/*
 * Drop a reference taken at now. At the last one, an exited p the report keeps goes on the
 * retention queue, or at once if it ended longer than keep_for ago; another is freed.
 */
void collector_unref(struct collector *c, struct proc *p, uint64_t now);
/*
 * p has exited (or its exit was lost): a kept p nothing points to, or one its children still
 * hold (listed as their ancestor), joins the retention queue, and the oldest context processes
 * beyond keep_processes are dropped; any other is freed.
 * p itself stays (it is the newest): callers go on using it.
 */
void collector_retire(struct collector *c, struct proc *p);
/* Drop a queued context process (and what only it held), counted in c->retention. */
void collector_drop_context(struct collector *c, struct proc *p);
/* Ended at ended_ns, it is older than --keep-for at now. */
bool collector_aged(const struct collector *c, uint64_t ended_ns, uint64_t now);
/* Count one thing dropped from the report that ended at ended_ns: in *counter, and since_ns. */
void collector_count_dropped(struct collector *c, uint64_t *counter, uint64_t ended_ns);
/* The same for a finding of kind. */
void collector_count_finding(struct collector *c, enum finding_kind kind, uint64_t ended_ns);

/* Tell the observer, if it listens. */
#define collector_notify(c, event, ...)                                                            \
	do {                                                                                       \
		if ((c)->observer.event)                                                           \
			(c)->observer.event((c)->observer.ctx, __VA_ARGS__);                       \
	} while (0)

#endif
