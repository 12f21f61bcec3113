// SPDX-License-Identifier: GPL-2.0
/*
 * Startup snapshot: one record per live process, so that processes which began before
 * cidtrace are known by the same (pid, start_ns) identity the lifecycle hooks report. /proc
 * only gives start times in clock ticks, which could never match start_boottime exactly.
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* A record per process; argv is not read here (other tasks' memory needs a sleepable
 * program), the collector takes it from /proc/PID/cmdline. argv's space is the cgroup
 * path's slack (read_cgroup()), kns its scratch. */
struct task_scratch {
	struct ct_exec_event e;
	__u64 kns[CT_CGROUP_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct task_scratch);
} task_scratch SEC(".maps");

/* bpf_iter_task walks every thread; only group leaders describe a process. */
SEC("iter/task")
int iter_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct task_scratch *s;
	struct ct_exec_event *e;
	__u32 zero = 0;

	if (!task || task->pid != task->tgid || (task->flags & PF_KTHREAD))
		return 0;
	s = bpf_map_lookup_elem(&task_scratch, &zero);
	if (!s)
		return 0;
	e = &s->e;
	fill_hdr(&e->hdr, CT_EV_TASK, task);
	e->flags = 0;
	e->argv_len = 0;
	e->filename[0] = '\0';
	e->cwd_off = read_cwd(task, e->cwd, &e->flags);
	read_ns(task, &e->ns);
	e->ns.cgroup_len = read_cgroup(task, e->cgroup, s->kns, &e->flags);
	bpf_seq_write(ctx->meta->seq, e, CT_EXEC_FIXED_LEN);
	return 0;
}
