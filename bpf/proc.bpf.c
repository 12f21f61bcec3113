// SPDX-License-Identifier: GPL-2.0
/*
 * Process lifecycle: fork, exec, renames, group exit and fatal signals.
 *
 * Every hook reads task_struct through CO-RE instead of tracepoint record layouts, which
 * changed across the kernels we support (6.16 moved sched_process_exit and added group_dead;
 * several sched tracepoints turned comm into __data_loc). Each hook exists twice: tp_btf
 * (preferred, typed arguments) and raw_tp (same arguments as raw u64s, for kernels that
 * refuse tracing programs). Userspace loads one set; both share the handlers below.
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Per-CPU scratch for exec and fork records, too large for the 512-byte BPF stack. The
 * cgroup path is written with CT_CGROUP_MAX writable bytes after it (argv in an exec record,
 * slack in a fork's), and kns holds read_cgroup()'s nodes.
 */
struct exec_scratch {
	struct ct_exec_event e;
	__u64 kns[CT_CGROUP_DEPTH];
};

struct fork_scratch {
	struct ct_fork_event e;
	char slack[CT_CGROUP_MAX];
	__u64 kns[CT_CGROUP_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_scratch);
} exec_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fork_scratch);
} fork_scratch SEC(".maps");

/*
 * A process's renames in its current second: CT_RENAME_BURST are sent, the rest only
 * remembered (the latest in comm), so that one renaming itself in a loop costs the ring
 * buffer a few records a second, not one per prctl(). Made at its first rename, dropped at
 * its exec and exit; LRU, so processes that renamed once and live on cannot fill it.
 */
struct rename_budget {
	__u64 window_ns;
	__u32 sent;
	__u32 held; /* comm is a rename not sent yet */
	char comm[CT_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32); /* tgid */
	__type(value, struct rename_budget);
} rename_budgets SEC(".maps");

#define NSEC_PER_SEC 1000000000ull

#define SIGKILL 9
#define SIG_DFL ((void *)0)
/* Signals whose default action terminates the process (signal(7)): all but CHLD, CONT,
 * STOP, TSTP, TTIN, TTOU, URG and WINCH among 1..31; every real-time signal does too. */
#define SIG_DEFAULT_FATAL_MASK                                                                     \
	(~((1u << 17) | (1u << 18) | (1u << 19) | (1u << 20) | (1u << 21) | (1u << 22) |           \
	   (1u << 23) | (1u << 28)) &                                                              \
	 ~1u)

/* TRACE_SIGNAL_DELIVERED and TRACE_SIGNAL_LOSE_INFO: the signal was queued. */
#define TRACE_SIGNAL_DELIVERED 0
#define TRACE_SIGNAL_LOSE_INFO 4

/*
 * `run`'s job cgroup: the id of its cgroup v2 directory (the kernfs node id, which is the
 * directory's inode number). Set by userspace before the job starts; 0: no job cgroup, and
 * no record is flagged CT_JOB_CGROUP.
 */
volatile __u64 job_cgroup;

/* Levels walked up from a task's cgroup to find the job's: a job may nest cgroups in its own. */
#define JOB_CGROUP_DEPTH 8

/* CT_JOB_CGROUP if task's default-hierarchy (v2) cgroup is the job cgroup or below it. */
static __always_inline __u32 job_cgroup_flag(struct task_struct *task)
{
	struct cgroup_subsys_state *parent;
	struct cgroup *cg;

	if (!job_cgroup)
		return 0;
	cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	for (int i = 0; i < JOB_CGROUP_DEPTH && cg; i++) {
		if (BPF_CORE_READ(cg, kn, id) == job_cgroup)
			return CT_JOB_CGROUP;
		parent = BPF_CORE_READ(cg, self.parent);
		cg = parent ? container_of(parent, struct cgroup, self) : NULL;
	}
	return 0;
}

/* A record in ct_fork_event's layout: task's identity, job flag, namespaces and cgroup. */
static __always_inline int emit_ns_record(struct task_struct *task, __u32 type)
{
	struct fork_scratch *s;
	struct ct_fork_event *e;
	__u32 zero = 0, len;

	s = bpf_map_lookup_elem(&fork_scratch, &zero);
	if (!s)
		return 0;
	e = &s->e;
	fill_hdr(&e->hdr, type, task);
	e->flags = job_cgroup_flag(task);
	e->__pad0 = 0;
	read_ns(task, &e->ns);
	len = read_cgroup(task, e->cgroup, s->kns, &e->flags);
	e->ns.cgroup_len = len;
	/* only the path's bytes: most forks' records stay far below the full size */
	if (bpf_ringbuf_output(&events, e, CT_FORK_FIXED_LEN + (len & (CT_CGROUP_MAX - 1)),
			       submit_flags()))
		count_lost();
	return 0;
}

/*
 * copy_process() -> trace_sched_process_fork(current, child), for processes and threads.
 * Threads (pid != tgid) and kernel threads are not events: the collector keys everything
 * by tgid.
 */
static __always_inline int on_fork(struct task_struct *child)
{
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid) ||
	    (BPF_CORE_READ(child, flags) & PF_KTHREAD))
		return 0;
	/* copy_process() has put the child in its cgroup (cgroup_post_fork) by now, and its
	 * namespaces and struct pid are set up (copy_namespaces(), alloc_pid()) */
	return emit_ns_record(child, CT_EV_FORK);
}

/*
 * exec_binprm() -> trace_sched_process_exec(current, old_pid, bprm), after the new image is
 * mapped: argv sits on the new user stack between mm->arg_start and mm->arg_end.
 */
static __always_inline int on_exec(struct task_struct *task, struct linux_binprm *bprm)
{
	__u32 zero = 0, argv_len;
	struct exec_scratch *s;
	struct ct_exec_event *e;
	unsigned long start, end;
	__u64 size;

	s = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!s)
		return 0;
	e = &s->e;
	fill_hdr(&e->hdr, CT_EV_EXEC, task);
	/* a rename held back from before the exec must not override its comm at exit */
	bpf_map_delete_elem(&rename_budgets, &e->hdr.pid);
	e->flags = job_cgroup_flag(task);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	e->cwd_off = read_cwd(task, e->cwd, &e->flags);
	read_ns(task, &e->ns);
	/* before argv, which is its slack */
	e->ns.cgroup_len = read_cgroup(task, e->cgroup, s->kns, &e->flags);

	start = BPF_CORE_READ(task, mm, arg_start);
	end = BPF_CORE_READ(task, mm, arg_end);
	argv_len = end > start ? end - start : 0;
	/* The mask, not just the compare, is what the verifier can follow into the helper. */
	if (argv_len > CT_ARGV_MAX - 1) {
		argv_len = CT_ARGV_MAX - 1;
		e->flags |= CT_ARGV_TRUNCATED;
	}
	argv_len &= CT_ARGV_MAX - 1;
	if (argv_len && bpf_probe_read_user(e->argv, argv_len, (void *)start))
		argv_len = 0;
	e->argv_len = argv_len;

	size = CT_EXEC_FIXED_LEN + argv_len;
	if (size > sizeof(*e))
		size = sizeof(*e);
	if (bpf_ringbuf_output(&events, e, size, submit_flags()))
		count_lost();
	return 0;
}

/*
 * The status wait(2) will report for the group, computed as wait_task_zombie() does: the last
 * thread to exit may be a helper (since 6.4 VHOST_SET_OWNER adds a vhost-<pid> worker thread
 * to every vhost user) whose own exit_code says nothing about why the process died.
 */
static __always_inline __u32 group_exit_status(struct task_struct *task)
{
	struct signal_struct *sig = BPF_CORE_READ(task, signal);

	if (BPF_CORE_READ(sig, flags) & SIGNAL_GROUP_EXIT)
		return BPF_CORE_READ(sig, group_exit_code);
	return BPF_CORE_READ(task, exit_code);
}

/* userfaultfd_fops, learned by userspace from the uffd iterator; 0 until then. */
volatile __u64 uffd_fops;

struct fd_walk {
	struct task_struct *task;
	struct file **fds;
	__u32 max_fds;
};

static int uffd_fd_step(__u32 i, struct fd_walk *w)
{
	struct userfaultfd_ctx *ctx;
	struct task_struct *task;
	struct file *file = NULL;
	struct ct_uffd_event *e;

	if (i >= w->max_fds)
		return 1;
	bpf_probe_read_kernel(&file, sizeof(file), &w->fds[i]);
	if (!file || (__u64)BPF_CORE_READ(file, f_op) != uffd_fops)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	fill_hdr(&e->hdr, CT_EV_UFFD_FILE, w->task);
	ctx = BPF_CORE_READ(file, private_data);
	e->ctx = (__u64)ctx;
	e->bytes = 0;
	e->cmd = uffd_owner_tgid(ctx);
	e->ret = 0;
	e->fd = i;
	e->flags = CT_UFFD_EXITING | CT_UFFD_AT_EXIT;
	/*
	 * Is the dying process the context's owner? Before 6.16 the tracepoint runs after
	 * exit_mm() has cleared task->mm, but exit_mm() leaves active_mm on the old mm (lazy
	 * TLB) until the task's last schedule, so it names the process's mm on every kernel.
	 */
	task = w->task; /* BPF_CORE_READ relocates every member: start from a kernel type */
	if (BPF_CORE_READ(task, active_mm) == BPF_CORE_READ(ctx, mm))
		e->flags |= CT_UFFD_OWNER;
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

static __always_inline void emit_rename(struct task_struct *task, const char *comm)
{
	struct ct_rename_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_lost();
		return;
	}
	fill_hdr(&e->hdr, CT_EV_RENAME, task);
	__builtin_memcpy(e->comm, comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, submit_flags());
}

/*
 * prctl(PR_SET_NAME), a write to /proc/PID/comm -> set_task_comm() -> __set_task_comm() ->
 * trace_task_rename(task, comm), before task->comm is overwritten. Only a thread-group
 * leader's comm is the process's (a thread's name, pthread_setname_np, is not), and kernel
 * threads are no process of ours. begin_new_exec() renames through the same function: the
 * exec record says that one (in_execve is set from bprm_execve() until the exec is done).
 */
static __always_inline int on_rename(struct task_struct *task, const char *newcomm)
{
	char comm[CT_COMM_LEN] = {}, old[CT_COMM_LEN] = {};
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u64 now = bpf_ktime_get_boot_ns();
	struct rename_budget *b, fresh = {};
	bool same = true;

	if (BPF_CORE_READ(task, pid) != tgid || (BPF_CORE_READ(task, flags) & PF_KTHREAD))
		return 0;
	if (bpf_core_field_exists(task->in_execve) &&
	    BPF_CORE_READ_BITFIELD_PROBED(task, in_execve))
		return 0;
	bpf_probe_read_kernel_str(comm, sizeof(comm), newcomm);
	bpf_probe_read_kernel_str(old, sizeof(old), &task->comm);
	for (int i = 0; i < CT_COMM_LEN; i++)
		same &= comm[i] == old[i];
	if (same) /* a rename to the same name changes nothing, however often */
		return 0;
	b = bpf_map_lookup_elem(&rename_budgets, &tgid);
	if (!b) {
		fresh.window_ns = now;
		fresh.sent = 1;
		bpf_map_update_elem(&rename_budgets, &tgid, &fresh, BPF_ANY);
		emit_rename(task, comm);
		return 0;
	}
	if (now - b->window_ns >= NSEC_PER_SEC) {
		b->window_ns = now;
		b->sent = 0;
	}
	if (b->sent >= CT_RENAME_BURST) {
		__builtin_memcpy(b->comm, comm, sizeof(b->comm));
		b->held = 1;
		return 0;
	}
	b->sent++;
	b->held = 0; /* this one is newer than what was held */
	emit_rename(task, comm);
	return 0;
}

/* The process is gone: the rename it held back, so that it exits under its last comm. */
static __always_inline void flush_rename(struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct rename_budget *b = bpf_map_lookup_elem(&rename_budgets, &tgid);

	if (!b)
		return;
	if (b->held)
		emit_rename(task, b->comm);
	bpf_map_delete_elem(&rename_budgets, &tgid);
}

/*
 * The userfaultfds a dying process still holds: exit_files() runs after the exit
 * tracepoint, so its table is intact. A pager that dies between two iterator scans is known
 * to have served a context only this way. The walk costs one read per fd slot, and nothing
 * until userspace has seen a userfaultfd at all. It runs for the group's last thread, and
 * for a thread holding the last reference to the table: the group's last may be a worker
 * with no files (vhost and KVM workers are in the VMM's thread group since 6.4 and 6.13),
 * and threads killed together may all trace before any drops its reference. A table seen
 * twice gives the collector the same record twice, which it takes once.
 */
static __always_inline void uffds_at_exit(struct task_struct *task)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct fd_walk w = { task, BPF_CORE_READ(fdt, fd), BPF_CORE_READ(fdt, max_fds) };

	if (w.max_fds > 65536)
		w.max_fds = 65536;
	bpf_loop(w.max_fds, uffd_fd_step, &w, 0);
}

/*
 * do_exit() -> trace_sched_process_exit(tsk[, group_dead]) runs on every exiting thread,
 * after signal->live was decremented and exit_code set, on all kernels. A thread that sees
 * live at zero is among the group's last: that is the process exit. Two threads exiting at
 * once can both see zero; the collector keeps the first.
 */
static __always_inline int on_exit(struct task_struct *task)
{
	bool group_dead = BPF_CORE_READ(task, signal, live.counter) == 0;
	struct ct_exit_event *e;

	if (uffd_fops && (group_dead || BPF_CORE_READ(task, files, count.counter) == 1))
		uffds_at_exit(task);
	if (!group_dead)
		return 0;
	flush_rename(task);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	fill_hdr(&e->hdr, CT_EV_EXIT, task);
	e->exit_code = group_exit_status(task);
	e->__pad0 = 0;
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

/* Does the task block sig (1..64)? sigset_t is one 64-bit word on 64-bit kernels. */
static __always_inline bool sig_blocked(struct task_struct *task, int sig)
{
	__u64 bit = 1ull << ((sig - 1) & 63);

	return (BPF_CORE_READ(task, blocked.sig[0]) | BPF_CORE_READ(task, real_blocked.sig[0])) &
	       bit;
}

/*
 * kill(2), tgkill(2), a fault, the kernel's own senders -> send_signal_locked() ->
 * __send_signal_locked() -> prepare_signal(), legacy_queue(), complete_signal() ->
 * trace_signal_generate(sig, info, task, group, result), in the sender's context, so current
 * is the sender. Only a signal that will act on the target and kill it is kept:
 *
 * - SIGKILL, which cannot be blocked, caught or ignored (nor can SIGSTOP, which stops);
 * - a signal whose default action terminates, while the target's handler is SIG_DFL (not
 *   caught, not SIG_IGN: sighand->action[sig - 1]) and the target does not block it. Blocked
 *   means in task->blocked or task->real_blocked: while a task sleeps in sigtimedwait(),
 *   blocked is its mask minus the waited set and real_blocked its real mask, which is what
 *   complete_signal() asks before it takes the group down. A fault's signal is unblocked and
 *   reset to SIG_DFL by force_sig_info_to_task() before it gets here.
 *
 * A signal that is blocked, ignored or caught never kills, and any user can generate one
 * without end: a blocked SIGUSR1 collected with sigwait() in a loop would otherwise be a
 * record each time, for a process that exits 0.
 *
 * Why here and not at delivery: get_signal() -> trace_signal_deliver() runs in the dying
 * task after complete_signal() has turned a fatal signal into a group-wide SIGKILL without
 * siginfo, so the sender is gone there, and the exit status names only the signal.
 *
 * What this cannot see, since the kernel decides it later: a thread-group signal is judged by
 * the thread it names (for kill(2), the leader), though another thread of the process that
 * does not block it may take it; and a signal blocked now may be unblocked later. Either one
 * kills without being listed here; the exit record still names the signal (exit.signal). A
 * ptraced target's signals go to its tracer, which may suppress each: the collector keeps the
 * first few per process and counts the rest.
 */
static __always_inline int on_signal(int sig, struct task_struct *task, int result)
{
	struct ct_signal_event *e;
	struct task_struct *sender;
	void *handler;

	if (result != TRACE_SIGNAL_DELIVERED && result != TRACE_SIGNAL_LOSE_INFO)
		return 0;
	if (sig != SIGKILL) {
		if (sig <= 0 || sig > 64)
			return 0;
		if (sig < 32 && !(SIG_DEFAULT_FATAL_MASK & (1u << sig)))
			return 0;
		handler = BPF_CORE_READ(task, sighand, action[(sig - 1) & 63].sa.sa_handler);
		if (handler != SIG_DFL || sig_blocked(task, sig))
			return 0;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	fill_hdr(&e->hdr, CT_EV_SIGNAL, task);
	sender = (struct task_struct *)bpf_get_current_task();
	e->signal = sig;
	e->sender_pid = BPF_CORE_READ(sender, tgid);
	bpf_get_current_comm(e->sender_comm, sizeof(e->sender_comm));
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/*
 * setns(2) or unshare(2) returned. A process that switches namespaces and then neither forks
 * nor execs would keep the namespaces its last fork or exec read: send them again, as a fork
 * record does (CT_EV_NS). Only a thread-group leader's switch: the collector keeps the
 * process's, which are its leader's. A failed call changed nothing.
 */
static __always_inline int on_ns_switch(long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (ret || BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid))
		return 0;
	return emit_ns_record(task, CT_EV_NS);
}

/*
 * The per-syscall tracepoints: the kernel runs a program only for its own syscall (a bitmap
 * test on the exit path, which every syscall takes while any syscall tracepoint is on).
 */
SEC("tracepoint/syscalls/sys_exit_setns")
int tp_sys_exit_setns(struct trace_event_raw_sys_exit *ctx)
{
	return on_ns_switch(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_unshare")
int tp_sys_exit_unshare(struct trace_event_raw_sys_exit *ctx)
{
	return on_ns_switch(ctx->ret);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(tp_btf_sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(child);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_btf_sched_process_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	return on_exec(p, bprm);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_btf_sched_process_exit, struct task_struct *p)
{
	return on_exit(p);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(tp_btf_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	return on_signal(sig, task, result);
}

SEC("tp_btf/task_rename")
int BPF_PROG(tp_btf_task_rename, struct task_struct *task, const char *comm)
{
	return on_rename(task, comm);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(raw_tp_sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(child);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_tp_sched_process_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	return on_exec(p, bprm);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(raw_tp_sched_process_exit, struct task_struct *p)
{
	return on_exit(p);
}

SEC("raw_tp/signal_generate")
int BPF_PROG(raw_tp_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	return on_signal(sig, task, result);
}

SEC("raw_tp/task_rename")
int BPF_PROG(raw_tp_task_rename, struct task_struct *task, const char *comm)
{
	return on_rename(task, comm);
}
