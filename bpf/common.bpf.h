/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maps and helpers shared by every cidtrace BPF object. Each object declares the maps, and
 * userspace makes them one: the first loaded object owns them and the others reuse its fds
 * (bpf_map__reuse_fd), so there is a single ring buffer and a single lost-event counter.
 */
#ifndef CIDTRACE_COMMON_BPF_H
#define CIDTRACE_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "cidtrace_events.h"

/* include/linux/sched.h and sched/signal.h: not in BTF, so not in vmlinux.h */
#define PF_EXITING	  0x00000004
#define PF_KTHREAD	  0x00200000
#define SIGNAL_GROUP_EXIT 0x00000004

/* Sized by userspace before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 21);
} events SEC(".maps");

/* Failed reserves and outputs, per CPU so the counter never contends. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_events SEC(".maps");

/*
 * Unconsumed bytes above which a submit wakes the collector. Below it, events wait for the
 * collector's next poll tick: waking it for each of the fork, exec and exit of every short
 * process would cost the traced workload more than the tracing itself.
 */
const volatile __u64 wakeup_bytes = 256 * 1024;

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost_events, &zero);

	if (n)
		*n += 1;
}

static __always_inline __u64 submit_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									    : BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_hdr(struct ct_event_hdr *hdr, __u32 type, struct task_struct *task)
{
	hdr->type = type;
	hdr->pid = BPF_CORE_READ(task, tgid);
	hdr->tid = BPF_CORE_READ(task, pid);
	hdr->ts_ns = bpf_ktime_get_boot_ns();
	hdr->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	hdr->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_probe_read_kernel_str(hdr->comm, sizeof(hdr->comm), &task->comm);
}

/*
 * The process whose address space a userfaultfd context manages, even when it no longer
 * holds the file: ctx->mm->owner (CONFIG_MEMCG; elsewhere 0, not known). An mm whose owner
 * exited with no other user has a NULL owner.
 */
static __always_inline __u32 uffd_owner_tgid(struct userfaultfd_ctx *ctx)
{
	struct mm_struct *mm = BPF_CORE_READ(ctx, mm);

	if (!mm || !bpf_core_field_exists(mm->owner))
		return 0;
	return BPF_CORE_READ(mm, owner, tgid);
}

struct cwd_walk {
	struct dentry *dentry;
	struct mount *mnt;
	char *buf;
	__u32 pos;
	__u32 flags;
};

/* One step up the tree: a name prepended, or a mount crossed. Returns 1 to stop. */
static int cwd_step(__u32 i, struct cwd_walk *w)
{
	struct dentry *dentry = w->dentry, *parent;
	struct mount *mnt = w->mnt, *mnt_parent;
	__u32 len, pos = w->pos & (CT_PATH_MAX - 1);

	/* BPF_CORE_READ relocates every member access, so it must start from a kernel type. */
	if (dentry == BPF_CORE_READ(mnt, mnt.mnt_root)) {
		mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
		if (mnt_parent == mnt)
			return 1; /* reached the global root */
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mnt_parent;
		return 0;
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == parent)
		return 1; /* root of a detached tree */
	len = BPF_CORE_READ(dentry, d_name.len) & 0xff;
	if (len + 1 > pos) {
		w->flags |= CT_PATH_TRUNCATED;
		return 1;
	}
	pos -= len;
	bpf_probe_read_kernel(w->buf + (pos & (CT_PATH_MAX - 1)), len,
			      BPF_CORE_READ(dentry, d_name.name));
	pos -= 1;
	w->buf[pos & (CT_PATH_MAX - 1)] = '/';
	w->pos = pos;
	w->dentry = parent;
	if (i == CT_PATH_DEPTH - 1)
		w->flags |= CT_PATH_TRUNCATED; /* more levels than we walk */
	return 0;
}

/*
 * Rebuild the task's cwd from its dentries, crossing mounts the way d_path() does, into the
 * tail of buf (CT_PATH_MAX bytes). Returns the offset of the first byte. Paths are absolute
 * from the global root: a containerised VMM still shows the host path of its test dir.
 * bpf_loop keeps the verifier from walking every iteration of the climb.
 */
static __always_inline __u16 read_cwd(struct task_struct *task, char *buf, __u32 *flags)
{
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	struct cwd_walk w = { .buf = buf, .pos = CT_PATH_MAX - 1 };

	buf[CT_PATH_MAX - 1] = '\0';
	if (fs) {
		w.dentry = BPF_CORE_READ(fs, pwd.dentry);
		w.mnt = container_of(BPF_CORE_READ(fs, pwd.mnt), struct mount, mnt);
		bpf_loop(CT_PATH_DEPTH, cwd_step, &w, 0);
	}
	*flags |= w.flags;
	if (w.pos == CT_PATH_MAX - 1) {
		w.pos -= 1;
		buf[w.pos] = '/';
	}
	return w.pos;
}

/*
 * The task's namespaces and its pid in each pid namespace, as /proc/PID/ns and NSpid show
 * them from the host. The pid is the thread group's (its leader's struct pid), whose
 * numbers[] run from the host's namespace (0) to the process's own (level).
 */
static __always_inline void read_ns(struct task_struct *task, struct ct_ns_info *ns)
{
	struct pid *pid = BPF_CORE_READ(task, group_leader, thread_pid);
	struct nsproxy *nsp = BPF_CORE_READ(task, nsproxy);
	struct upid *up = __builtin_preserve_access_index(&pid->numbers[0]);
	__u32 level = BPF_CORE_READ(pid, level);

	ns->pid_level = level;
	/* pid namespaces nest at most 32 deep (MAX_PID_NS_LEVEL) */
	ns->pid_ns = pid ? BPF_CORE_READ(up + (level & 31), ns, ns.inum) : 0;
	/* exit_task_namespaces() clears nsproxy: a dying task's are unknown (0) */
	ns->mnt_ns = BPF_CORE_READ(nsp, mnt_ns, ns.inum);
	ns->net_ns = BPF_CORE_READ(nsp, net_ns, ns.inum);
	for (int i = 0; i < CT_NSPID_MAX; i++)
		ns->nspid[i] = pid && i <= level ? BPF_CORE_READ(up + i, nr) : 0;
	ns->__pad0 = 0;
}

struct cgroup_walk {
	struct cgroup *cg;
	__u64 *kns; /* CT_CGROUP_DEPTH kernfs nodes, the task's cgroup's first */
	char *buf; /* CT_CGROUP_MAX bytes, and as many writable after them */
	__u32 n; /* kns filled */
	__u32 pos;
	__u32 flags;
};

/* Up one level: the cgroup's kernfs node kept, unless it is the root. Returns 1 to stop. */
static int cgroup_up(__u32 i, struct cgroup_walk *w)
{
	struct cgroup *cg = w->cg;
	struct cgroup_subsys_state *parent = BPF_CORE_READ(cg, self.parent);

	if (!parent)
		return 1;
	if (i >= CT_CGROUP_DEPTH) {
		w->flags |= CT_CGROUP_TRUNCATED;
		return 1;
	}
	w->kns[i & (CT_CGROUP_DEPTH - 1)] = (__u64)BPF_CORE_READ(cg, kn);
	w->n = i + 1;
	w->cg = container_of(parent, struct cgroup, self);
	return 0;
}

/* Down one level: "/name" appended, the root's child first. Returns 1 to stop. */
static int cgroup_down(__u32 i, struct cgroup_walk *w)
{
	struct kernfs_node *kn;
	__u32 pos = w->pos;
	long len;

	if (i >= w->n)
		return 1;
	if (pos >= CT_CGROUP_MAX - 1) {
		w->flags |= CT_CGROUP_TRUNCATED;
		return 1;
	}
	kn = (struct kernfs_node *)w->kns[(w->n - 1 - i) & (CT_CGROUP_DEPTH - 1)];
	w->buf[pos & (CT_CGROUP_MAX - 1)] = '/';
	pos++;
	/* the name may run past CT_CGROUP_MAX into the slack: the length check below drops it */
	len = bpf_probe_read_kernel_str(w->buf + (pos & (CT_CGROUP_MAX - 1)), CT_CGROUP_MAX,
					BPF_CORE_READ(kn, name));
	if (len <= 0) {
		w->flags |= CT_CGROUP_TRUNCATED;
		return 1;
	}
	w->pos = pos + len - 1;
	return 0;
}

/*
 * The task's cgroup v2 path (the default hierarchy's, as the "0::" line of /proc/PID/cgroup
 * shows it from the host) into buf, which has CT_CGROUP_MAX bytes and as many writable after
 * them; kns is scratch for CT_CGROUP_DEPTH node pointers. The nodes are collected going up
 * and written going down, so the path starts at buf[0]. Returns its length: 0 when unknown,
 * or when it did not fit (CT_CGROUP_TRUNCATED in *flags): a path missing components would
 * name another cgroup. Read at fork, exec and the snapshot, so a process that is gone, or
 * whose cgroup is, by the time anyone asks still has it.
 */
static __always_inline __u32 read_cgroup(struct task_struct *task, char *buf, __u64 *kns,
					 __u32 *flags)
{
	struct cgroup_walk w = { .kns = kns, .buf = buf };

	buf[0] = '\0';
	w.cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	if (!w.cg)
		return 0;
	bpf_loop(CT_CGROUP_DEPTH + 1, cgroup_up, &w, 0);
	if (!w.n && !w.flags) {
		buf[0] = '/';
		buf[1] = '\0';
		return 1;
	}
	if (!w.flags)
		bpf_loop(CT_CGROUP_DEPTH, cgroup_down, &w, 0);
	if (w.flags || w.pos > CT_CGROUP_MAX - 1) {
		*flags |= CT_CGROUP_TRUNCATED;
		buf[0] = '\0';
		return 0;
	}
	return w.pos;
}

#endif /* CIDTRACE_COMMON_BPF_H */
