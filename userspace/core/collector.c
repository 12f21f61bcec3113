// SPDX-License-Identifier: GPL-2.0
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "state.h"
#include "uffd.h"
#include "util.h"
#include "vsock.h"

static uint64_t boot_clock(void *ctx)
{
	return now_boot_ns();
}

void collector_init(struct collector *c, const struct collector_cfg *cfg)
{
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->now = boot_clock;
	pt_init(&c->pt);
	c->vsock = vsock_new();
	c->uffd = uffd_new(cfg->spin_pct, cfg->spin_window_ns);
}

void collector_free(struct collector *c)
{
	vsock_free(c->vsock);
	uffd_free(c->uffd);
	pt_free(&c->pt);
	free(c->reaped.v);
}

static void set_str(struct collector *c, const char **dst, const char *src)
{
	pt_set_str(&c->pt, dst, src, src ? strlen(src) : 0);
}

void collector_set_in_scope(struct collector *c, struct proc *p)
{
	/*
	 * A path is one mount namespace's: cidtrace's, or, for the processes of `run`'s job
	 * cgroup (only root puts a process there), their own: a job that runs its VMM in a
	 * mount namespace of its own (unshare -m, a jailer) still names its own directories.
	 */
	bool ns = collector_scope_ns(&c->cfg, p->mnt_ns) || (c->cfg.job_cgroup && p->in_job);
	bool dirs = !c->cfg.nscopes;

	p->in_scope = false;
	/* cidtrace names the scope in its own argv; that does not put it in scope */
	if (p->pid == (uint32_t)c->cfg.self_pid || !collector_scoped(&c->cfg))
		return;
	for (int i = 0; i < c->cfg.nscopes && !dirs && ns; i++)
		dirs = refs_dir(p->argv, p->argv_len, p->argv_truncated, p->cwd, c->cfg.scopes[i]);
	p->in_scope = dirs && collector_cgroup_selected(&c->cfg, p->cgroup);
}

/*
 * test_dir, scope and role follow from argv, cwd and comm; recomputed when those change. A
 * role only ever grows here: an exec resets it first (on_proc_exec).
 */
static void classify(struct collector *c, struct proc *p)
{
	char dir[PATH_MAX];

	if (testdir_from_argv(&c->cfg.td, p->argv, p->argv_len, p->argv_truncated, dir,
			      sizeof(dir)) ||
	    testdir_from_path(&c->cfg.td, p->cwd, dir, sizeof(dir)))
		set_str(c, &p->test_dir, dir);
	else
		set_str(c, &p->test_dir, NULL);
	collector_set_in_scope(c, p);
	for (int i = 0; i < c->cfg.nvmm_comms; i++)
		if (!fnmatch(c->cfg.vmm_comms[i], p->comm, 0))
			p->role = ROLE_VMM;
	collector_update_keep(c, p);
}

static void copy_comm(char *dst, const char *src)
{
	memcpy(dst, src, CT_COMM_LEN);
	dst[CT_COMM_LEN] = '\0';
}

/* Everything a forked child shares with its parent until it execs. */
static void inherit(struct collector *c, struct proc *p)
{
	struct proc *parent = p->parent;

	if (!parent)
		return;
	/* a new entry's strings are all NULL: take the parent's shared ones */
	p->argv = intern_ref(parent->argv);
	p->argv_len = parent->argv_len;
	p->argv_truncated = parent->argv_truncated;
	p->exe = intern_ref(parent->exe);
	p->cwd = intern_ref(parent->cwd);
	p->in_job = parent->in_job;
	p->role = parent->role;
}

/*
 * Job membership from a fork or exec record's flags. With a job cgroup, the cgroup decides at
 * every fork and exec: setsid and double forks stay in it, and a pid reused outside the job
 * cannot inherit membership from a stale entry. Without one, a fork inherits it (inherit()).
 */
static void set_in_job(struct collector *c, struct proc *p, uint32_t flags)
{
	if (c->cfg.job_cgroup)
		p->in_job = flags & CT_JOB_CGROUP;
}

/*
 * Namespaces, pid chain and cgroup v2 path as a fork, exec or snapshot record read them;
 * avail: the path's bytes the record holds. No pid (an exec record of a format 1 capture)
 * leaves the namespaces unknown. A path that did not fit (CT_CGROUP_TRUNCATED, length 0) is
 * unknown too: cut short, it would name another cgroup.
 */
static void set_ns(struct collector *c, struct proc *p, const struct ct_ns_info *ns,
		   const char *cgroup, size_t avail)
{
	uint32_t levels = ns->pid_level + 1;
	size_t len = ns->cgroup_len;

	memset(p->nspid, 0, sizeof(p->nspid));
	p->nspid_levels = 0;
	p->nspid_truncated = false;
	p->pid_ns = p->mnt_ns = p->net_ns = 0;
	if (ns->nspid[0]) {
		p->pid_ns = ns->pid_ns;
		p->mnt_ns = ns->mnt_ns;
		p->net_ns = ns->net_ns;
		p->nspid_truncated = levels > PROC_NSPID_MAX;
		p->nspid_levels = levels > PROC_NSPID_MAX ? PROC_NSPID_MAX : levels;
		memcpy(p->nspid, ns->nspid, p->nspid_levels * sizeof(p->nspid[0]));
	}
	if (len > avail || len >= CT_CGROUP_MAX)
		len = 0;
	pt_set_str(&c->pt, &p->cgroup, len ? cgroup : NULL, len);
}

static void on_proc_fork(struct collector *c, const struct ct_fork_event *e, size_t len)
{
	struct proc *p = pt_find(&c->pt, e->hdr.pid, e->hdr.start_ns);
	/* a capture from before the fork record had flags, or namespaces */
	uint32_t flags = len >= CT_FORK_V2_LEN ? e->flags : 0;
	bool has_ns = len >= CT_FORK_FIXED_LEN;

	if (p) {
		/* Seen by the startup snapshot too: it did start under the trace. */
		p->seeded = false;
		return;
	}
	/*
	 * cidtrace forks only `run`'s command and its checkpoint writers: a writer is no
	 * process of the trace (its argv is cidtrace's, which names the scope), so it never
	 * enters the table, and its exit finds nothing.
	 */
	if (c->cfg.self_pid && e->hdr.ppid == (uint32_t)c->cfg.self_pid &&
	    e->hdr.pid != (uint32_t)c->cfg.job_pid)
		return;
	p = collector_proc(c, &e->hdr);
	inherit(c, p);
	if (has_ns)
		set_ns(c, p, &e->ns, e->cgroup, len - CT_FORK_FIXED_LEN);
	set_in_job(c, p, flags);
	/* the command itself: cidtrace forked it, and moves it into the job cgroup before exec */
	if (c->cfg.job_pid && e->hdr.pid == (uint32_t)c->cfg.job_pid &&
	    e->hdr.ppid == (uint32_t)c->cfg.self_pid)
		p->in_job = true;
	/*
	 * Classified once, with its namespaces, cgroup and job membership known: a path is one
	 * mount namespace's, and scope may depend on the cgroup. A child of no known parent has
	 * no argv or cwd to classify, so only a cgroup selection can put it in scope.
	 */
	if (p->parent)
		classify(c, p);
	else if (has_ns && (c->cfg.nscope_cgroups || c->cfg.nscope_containers))
		collector_set_in_scope(c, p);
	collector_update_keep(c, p);
	uffd_proc_named(c, p);
	collector_notify(c, fork, p, e->hdr.ts_ns);
}

/* A relative exec filename is relative to the cwd at exec time. */
static void set_exe(struct collector *c, struct proc *p, const char *filename)
{
	char buf[PATH_MAX];

	if (filename[0] != '/' && p->cwd &&
	    snprintf(buf, sizeof(buf), "%s/%s", strcmp(p->cwd, "/") ? p->cwd : "", filename) <
		    (int)sizeof(buf)) {
		set_str(c, &p->exe, buf);
		return;
	}
	set_str(c, &p->exe, filename);
}

static void set_cwd(struct collector *c, struct proc *p, const struct ct_exec_event *e)
{
	size_t off = e->cwd_off < CT_PATH_MAX ? e->cwd_off : CT_PATH_MAX - 1;

	/* A cwd missing its leading components would name the wrong directory. */
	if (e->flags & CT_PATH_TRUNCATED)
		pt_set_str(&c->pt, &p->cwd, NULL, 0);
	else
		pt_set_str(&c->pt, &p->cwd, e->cwd + off, strnlen(e->cwd + off, CT_PATH_MAX - off));
}

static void set_argv(struct collector *c, struct proc *p, const char *argv, size_t len,
		     bool truncated)
{
	/* drop the terminating NUL of the last argument: it separates nothing */
	while (len && argv[len - 1] == '\0')
		len--;
	pt_set_str(&c->pt, &p->argv, argv, len);
	p->argv_len = len;
	p->argv_truncated = truncated;
}

static void on_proc_exec(struct collector *c, const struct ct_exec_event *e, size_t len)
{
	struct proc *p = collector_proc(c, &e->hdr);
	size_t argv_len = e->argv_len;
	char filename[CT_PATH_MAX + 1];

	if (len < CT_EXEC_FIXED_LEN + argv_len)
		argv_len = len > CT_EXEC_FIXED_LEN ? len - CT_EXEC_FIXED_LEN : 0;
	p->ppid = e->hdr.ppid;
	copy_comm(p->comm, e->hdr.comm);
	set_cwd(c, p, e);
	memcpy(filename, e->filename, CT_PATH_MAX);
	filename[CT_PATH_MAX] = '\0';
	set_exe(c, p, filename);
	set_argv(c, p, e->argv, argv_len, e->flags & CT_ARGV_TRUNCATED);
	set_ns(c, p, &e->ns, e->cgroup, CT_CGROUP_MAX);
	/*
	 * A new image: the role a fork copied from the parent, or the old image earned, goes (a
	 * VMM's helper that execs `sleep` is no VMM). The comm gives VMMs back; a pager that kept
	 * its userfaultfd across the exec stays one; an owner's memory went with its old image.
	 */
	p->role = uffd_holds_as_handler(c, p) ? ROLE_PAGER : ROLE_NONE;
	set_in_job(c, p, e->flags);
	classify(c, p);
	if (p->role == ROLE_VMM)
		uffd_vmm_started(c, e->hdr.ts_ns);
	uffd_proc_named(c, p);
	collector_notify(c, exec, p, e->hdr.ts_ns);
}

/*
 * The process renamed itself without exec (a restorer's child taking its guest's name): comm
 * is now that name, argv and exe stay as of the last exec. A VMM name makes it a VMM. A name
 * away from one keeps the role: its uffd or vsock may have earned it, and a VMM may name
 * itself after it started (QEMU's -name process=). One the table no longer holds (retired)
 * stays gone.
 */
static void on_rename(struct collector *c, const struct ct_rename_event *e)
{
	struct proc *p = pt_find(&c->pt, e->hdr.pid, e->hdr.start_ns);

	if (!p || p->exited)
		return;
	copy_comm(p->comm, e->comm);
	classify(c, p);
	uffd_proc_named(c, p);
}

/*
 * The process switched namespaces (setns(2), unshare(2)) and may never fork or exec: its
 * namespaces, cgroup and job membership are read again, and its scope judged again in the new
 * mount namespace. One the table does not hold is not added: its next fork or exec tells.
 */
static void on_ns_switch(struct collector *c, const struct ct_fork_event *e, size_t len)
{
	struct proc *p = pt_find(&c->pt, e->hdr.pid, e->hdr.start_ns);

	if (!p || p->exited)
		return;
	set_ns(c, p, &e->ns, e->cgroup, len - CT_FORK_FIXED_LEN);
	set_in_job(c, p, e->flags);
	collector_set_in_scope(c, p);
	collector_update_keep(c, p);
}

/*
 * The group is gone: its live children are reparented (to a subreaper or init). Outside
 * --pid, neither it nor they are ever listed: they let go of it, or a process that forks and
 * exits in a loop (a daemon's double fork, over and over) would hold a chain of exited
 * entries without end.
 */
static void orphan_children(struct collector *c, struct proc *parent)
{
	for (struct proc *p = parent->children, *next; p; p = next) {
		next = p->next_sibling;
		if (!collector_in_pids(c, parent) && !collector_in_pids(c, p))
			pt_set_parent(p, NULL);
		if (p->exited || p->orphaned)
			continue;
		p->orphaned = true;
		p->original_ppid = parent->pid;
		collector_update_keep(c, p);
	}
}

static void on_group_exit(struct collector *c, const struct ct_exit_event *e)
{
	struct proc *p = pt_find(&c->pt, e->hdr.pid, e->hdr.start_ns);

	if (!p || p->exited)
		return; /* the second of two threads that both saw the group die */
	p->exited = true;
	p->exit_ns = e->hdr.ts_ns;
	p->exit_status = e->exit_code;
	if (!p->orphaned)
		p->ppid = e->hdr.ppid;
	collector_update_keep(c, p);
	collector_notify(c, exit, p, e->hdr.ts_ns);
	uffd_on_exit(c, p);
	orphan_children(c, p);
	collector_retire(c, p);
}

/*
 * Only the first PROC_SIGS_MAX signals are kept and told, the rest counted: the hook lets
 * through only signals that will kill, but a ptraced process's tracer can suppress each one,
 * and a process must not make cidtrace's memory, report or live output grow without bound.
 */
static void on_fatal_signal(struct collector *c, const struct ct_signal_event *e)
{
	struct proc *p = pt_find(&c->pt, e->hdr.pid, e->hdr.start_ns);
	struct fatal_signal *s;

	if (!p)
		return;
	p->sigs_total++;
	if (p->nsigs >= PROC_SIGS_MAX)
		return;
	s = xreallocarray(p->sigs, p->nsigs + 1, sizeof(*s));
	p->sigs = s;
	s = &p->sigs[p->nsigs++];
	memset(s, 0, sizeof(*s));
	s->at_ns = e->hdr.ts_ns;
	s->signal = e->signal;
	s->sender_pid = e->sender_pid;
	copy_comm(s->sender_comm, e->sender_comm);
	collector_update_keep(c, p);
	collector_notify(c, signal, p, s);
	if (p->exited) /* told after the exit: now kept, it joins the retention queue */
		collector_retire(c, p);
}

int collector_handle(void *ctx, void *data, size_t len)
{
	struct collector *c = ctx;
	const struct ct_event_hdr *h = data;

	if (len < sizeof(*h))
		return 0;
	pt_grow_if_needed(&c->pt);
	c->received++;
	switch (h->type) {
	case CT_EV_FORK:
		if (len >= CT_FORK_V1_LEN)
			on_proc_fork(c, data, len);
		break;
	case CT_EV_EXEC:
		if (len >= CT_EXEC_FIXED_LEN)
			on_proc_exec(c, data, len);
		break;
	case CT_EV_EXIT:
		if (len >= sizeof(struct ct_exit_event))
			on_group_exit(c, data);
		break;
	case CT_EV_SIGNAL:
		if (len >= sizeof(struct ct_signal_event))
			on_fatal_signal(c, data);
		break;
	case CT_EV_VSOCK_BIND:
	case CT_EV_VSOCK_RELEASE:
		if (len >= CT_VSOCK_V1_LEN) {
			/* an older capture's record has no net_ns: 0, unknown */
			struct ct_vsock_event v = { 0 };

			memcpy(&v, data, len < sizeof(v) ? len : sizeof(v));
			vsock_handle(c, &v);
		}
		break;
	case CT_EV_UFFD_IOCTL:
	case CT_EV_UFFD_RELEASE:
	case CT_EV_UFFD_FILE:
		if (len >= sizeof(struct ct_uffd_event))
			uffd_handle(c, data);
		break;
	case CT_EV_RENAME:
		if (len >= sizeof(struct ct_rename_event))
			on_rename(c, data);
		break;
	case CT_EV_NS:
		if (len >= CT_FORK_FIXED_LEN)
			on_ns_switch(c, data, len);
		break;
	case CT_EV_MODULE_LOAD:
		if (len >= sizeof(struct ct_module_event) && c->on_module_load) {
			const struct ct_module_event *m = data;
			char name[sizeof(m->name) + 1] = "";

			memcpy(name, m->name, sizeof(m->name));
			c->on_module_load(c->on_module_load_ctx, name);
		}
		break;
	}
	return 0;
}

void collector_seed(struct collector *c, const struct ct_exec_event *e, const char *argv,
		    size_t argv_len, bool argv_truncated, const char *exe)
{
	struct proc *p;

	pt_grow_if_needed(&c->pt);
	if (pt_find(&c->pt, e->hdr.pid, e->hdr.start_ns))
		return;
	p = pt_add(&c->pt, e->hdr.pid, e->hdr.start_ns, e->hdr.ppid);
	collector_set_in_pids(c, p);
	p->seeded = true;
	copy_comm(p->comm, e->hdr.comm);
	set_cwd(c, p, e);
	set_str(c, &p->exe, exe);
	set_argv(c, p, argv, argv_len, argv_truncated);
	set_ns(c, p, &e->ns, e->cgroup, CT_CGROUP_MAX);
	classify(c, p);
}

void collector_tick(struct collector *c, uint64_t now)
{
	struct proc *p;

	pt_grow_if_needed(&c->pt);
	if (!c->cfg.keep_for_ns)
		return;
	/* findings first: what they let go may be old enough to go in this pass too */
	vsock_retain(c, now);
	uffd_retain(c, now);
	while ((p = c->context.head) &&
	       collector_aged(c, p->exit_ns ? p->exit_ns : p->start_ns, now))
		collector_drop_context(c, p);
}

void collector_reparent(struct collector *c, uint32_t pid, uint64_t start_ns, uint32_t ppid)
{
	struct proc *p = pt_find(&c->pt, pid, start_ns);

	if (p && p->orphaned && !p->exited)
		p->ppid = ppid;
}

void collector_mark_emit(struct collector *c)
{
	pt_for_each(&c->pt, p)
		p->emit = false;
	pt_for_each(&c->pt, p)
		if (p->keep)
			for (struct proc *a = p; a && !a->emit; a = a->parent)
				a->emit = true;
}

void collector_refresh(struct collector *c)
{
	collector_mark_emit(c);
	uffd_refresh(c);
}
