// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "container.h"
#include "jobcg.h"
#include "reap.h"
#include "tracer.h"
#include "uffd.h"
#include "util.h"

/* After SIGKILL a process is gone at once unless it is stuck in the kernel; wait this long. */
#define KILL_WAIT_MS 2000
#define MAX_PAGERS   8

/*
 * Read /proc again: the table's view of argv and cwd may be stale, and a kill is final. A
 * --scope path names a directory of cidtrace's mount namespace only: another namespace's
 * /tmp/TestX/001 is another container's, unless --scope-cgroup or --scope-container chose
 * the processes, or it is in `run`'s job cgroup (own_ns): their own paths --scope then names.
 * An unreadable namespace is refused.
 */
static bool still_in_scope(const struct collector *c, uint32_t pid, bool own_ns)
{
	char argv[8192], cwd[PATH_MAX], link[64];
	bool truncated;
	size_t len;
	ssize_t n;

	if (!c->cfg.nscopes)
		return true;
	if (!own_ns && !collector_scope_ns(&c->cfg, proc_ns_inode(pid, "mnt") ?: UINT64_MAX))
		return false;
	len = read_proc_raw(pid, "cmdline", argv, sizeof(argv), &truncated);
	snprintf(link, sizeof(link), "/proc/%u/cwd", pid);
	n = readlink(link, cwd, sizeof(cwd) - 1);
	cwd[n < 0 ? 0 : n] = '\0';
	while (len && argv[len - 1] == '\0')
		len--;
	for (int i = 0; i < c->cfg.nscopes; i++)
		if (refs_dir(argv, len, truncated, n > 0 ? cwd : NULL, c->cfg.scopes[i]))
			return true;
	return false;
}

/*
 * Still the job's, by its cgroup now (only root can move a process between cgroups outside
 * a delegated subtree, and nobody can move another user's process into theirs): in a
 * --scope-cgroup or --scope-container when given, else in the job's cgroup when there is
 * one, else in the container cidtrace (and so the job it started) runs in, or in none if
 * cidtrace runs in none. cg: the process's cgroup v2 path now (NULL: none). NULL if so, else
 * why not.
 */
static const char *not_in_job(const struct collector *c, const char *cg)
{
	char own[PATH_MAX];
	struct container_id a, b;

	if (c->cfg.nscope_cgroups || c->cfg.nscope_containers || c->cfg.job_cgroup) {
		if (!cg)
			return "has no cgroup v2 path to check";
		if (c->cfg.nscope_cgroups || c->cfg.nscope_containers)
			return collector_cgroup_selected(&c->cfg, cg)
				       ? NULL
				       : "is no longer in the selected cgroup or container";
		return path_under(cg, c->cfg.job_cgroup) ? NULL
							 : "is no longer in the job's cgroup";
	}
	/* a host without cgroup v2 (no "0::" line) has no container to tell either */
	container_from_cgroup(jobcg_path_of(getpid(), own, sizeof(own)) ? own : NULL, &a);
	container_from_cgroup(cg, &b);
	if (strcmp(a.runtime ?: "", b.runtime ?: "") || strcmp(a.id, b.id) ||
	    strcmp(a.pod_uid, b.pod_uid))
		return "is in another container than the job";
	return NULL;
}

/* true once the process behind pidfd has exited (a zombie counts), waiting up to ms. */
static bool wait_exit(int pidfd, int ms)
{
	struct pollfd pfd = { pidfd, POLLIN, 0 };

	return poll(&pfd, 1, ms) == 1;
}

/*
 * A pidfd of p, opened first and p checked through /proc after: if (pid, start time) still
 * match then, the pidfd is that process, and signals sent through it cannot reach a later
 * process that reused the pid. Then p must still be in scope and the job's (not_in_job). -1 if
 * not, *gone: p has exited (else it was left running, and stderr says why; who: "reap").
 */
static int open_checked(struct collector *c, struct proc *p, const char *who, bool *gone)
{
	int pidfd = pidfd_open(p->pid, 0);
	struct ct_event_hdr now;
	char state = 0, cg[PATH_MAX];
	const char *why;
	bool have_cg;

	*gone = pidfd < 0 || !proc_same(p->pid, p->start_ns, &now, &state) || state == 'Z';
	if (*gone) {
		if (pidfd >= 0)
			close(pidfd);
		return -1;
	}
	have_cg = jobcg_path_of(p->pid, cg, sizeof(cg));
	why = not_in_job(c, have_cg ? cg : NULL);
	if (!why &&
	    !still_in_scope(c, p->pid,
			    have_cg && c->cfg.job_cgroup && path_under(cg, c->cfg.job_cgroup)))
		why = "no longer references a --scope dir of its mount namespace";
	if (why) {
		errmsg("%s: %s pid %u %s; left running", who, p->comm, p->pid, why);
		close(pidfd);
		return -1;
	}
	return pidfd;
}

/* SIGTERM, then SIGKILL after the grace. true if p is gone (or would be, in a dry run). */
static bool stop(struct collector *c, struct proc *p, const struct reap_opts *o)
{
	struct reap_action *a;
	bool gone;
	int pidfd = open_checked(c, p, "reap", &gone);

	if (pidfd < 0) {
		if (gone)
			collector_log_reap(c, p, "gone", now_boot_ns())->exited = true;
		return gone;
	}
	if (o->dry_run) {
		collector_log_reap(c, p, "would_kill", now_boot_ns());
		close(pidfd);
		return true;
	}
	a = collector_log_reap(c, p, "sigterm", now_boot_ns());
	gone = pidfd_send_signal(pidfd, SIGTERM, NULL, 0) < 0 ||
	       wait_exit(pidfd, o->grace_s < INT_MAX / 1000 ? (int)(o->grace_s * 1000) : INT_MAX);
	a->exited = gone;
	if (!gone) {
		a = collector_log_reap(c, p, "sigkill", now_boot_ns());
		gone = pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0 ||
		       wait_exit(pidfd, KILL_WAIT_MS);
		a->exited = gone;
	}
	close(pidfd);
	return gone;
}

void reap(struct collector *c, uint64_t ended_ns, const struct reap_opts *o)
{
	struct proc **vmms = NULL, *pagers[MAX_PAGERS];
	size_t n = 0;

	pt_for_each(&c->pt, p)
		if (collector_is_leak(c, p, ended_ns) && !p->exited) {
			vmms = xreallocarray(vmms, n + 1, sizeof(*vmms));
			vmms[n++] = p;
		}
	/* oldest first, so reaped[] does not follow the process table's order */
	if (n)
		qsort(vmms, n, sizeof(*vmms), pt_by_start);
	for (size_t i = 0; i < n; i++) {
		/* a pager is stopped only once its guest is: else the guest would spin */
		if (!stop(c, vmms[i], o))
			continue;
		for (int j = 0, np = uffd_pagers(c, vmms[i], pagers, MAX_PAGERS); j < np; j++)
			if (collector_is_leaked_pager(c, pagers[j], ended_ns))
				stop(c, pagers[j], o);
	}
	free(vmms);
}

void guard_init(struct guard *g, double grace_s)
{
	memset(g, 0, sizeof(*g));
	g->grace_ns = grace_s * 1e9;
}

/* Is p already being stopped? */
static bool guarding(const struct guard *g, const struct proc *p)
{
	for (int i = 0; i < g->n; i++)
		if (g->v[i].proc == p)
			return true;
	return false;
}

void guard_tick(struct guard *g, struct tracer *t, uint64_t now)
{
	struct proc *due[GUARD_MAX];
	int n;

	/* SIGKILL to what outlived the grace since SIGTERM; never a wait here */
	for (int i = 0; i < g->n;) {
		struct guard_kill *k = &g->v[i];
		bool exited = wait_exit(k->pidfd, 0);

		if (!exited && now < k->kill_at) {
			i++;
			continue;
		}
		if (!exited && !pidfd_send_signal(k->pidfd, SIGKILL, NULL, 0))
			tracer_kill(t, k->proc, "sigkill", now_boot_ns(), false);
		close(k->pidfd);
		*k = g->v[--g->n];
	}
	n = uffd_kills_due(t->collector, now, due, GUARD_MAX - g->n);
	for (int i = 0; i < n; i++) {
		struct proc *p = due[i];
		bool gone;
		int pidfd;

		if (guarding(g, p))
			continue;
		pidfd = open_checked(t->collector, p, "kill-orphans", &gone);
		if (pidfd >= 0 && pidfd_send_signal(pidfd, SIGTERM, NULL, 0)) {
			gone = errno == ESRCH;
			close(pidfd);
			pidfd = -1;
		}
		if (pidfd < 0) {
			if (gone)
				tracer_kill(t, p, "gone", now_boot_ns(), true);
			continue;
		}
		tracer_kill(t, p, "sigterm", now_boot_ns(), false);
		g->v[g->n++] = (struct guard_kill){ pidfd, p, now + g->grace_ns };
	}
}

void guard_free(struct guard *g)
{
	for (int i = 0; i < g->n; i++)
		close(g->v[i].pidfd);
	g->n = 0;
}
