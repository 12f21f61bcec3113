// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-vsock CID binding through syscall tracepoints: the fallback for kernels that refuse
 * fentry/fexit and have no kprobes. Every ioctl on the host passes through these two
 * handlers, so each starts with the cheapest test that rejects it. Attached only while
 * vhost_vsock is loaded or can be (a module on disk); module_load tells userspace when to
 * try the precise hooks instead.
 */
#include "common.bpf.h"
#include "vsock.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by userspace once the precise hooks are attached: they report the same ioctls. */
volatile bool precise_active;
/* ioctls between enter and exit that we care about; 0 almost always, so exit can skip. */
__u64 pending_count;

struct pending_ioctl {
	void *instance;
	__u64 cid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct pending_ioctl);
} pending SEC(".maps");

/* current->files->fdt->fd[fd], or NULL. */
static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file = NULL;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

/* ksys_ioctl -> trace_sys_enter: args are (fd, cmd, arg) as the caller passed them. */
SEC("tracepoint/syscalls/sys_enter_ioctl")
int tracepoint__syscalls__sys_enter_ioctl(struct trace_event_raw_sys_enter *ctx)
{
	struct pending_ioctl p = {};
	__u32 tid;
	struct file *file;

	if ((__u32)ctx->args[1] != VHOST_VSOCK_SET_GUEST_CID || precise_active)
		return 0;
	file = fd_file(ctx->args[0]);
	if (!file || BPF_CORE_READ(file, f_inode, i_rdev) != VHOST_VSOCK_RDEV)
		return 0;
	p.instance = BPF_CORE_READ(file, private_data);
	bpf_probe_read_user(&p.cid, sizeof(p.cid), (void *)ctx->args[2]);
	tid = (__u32)bpf_get_current_pid_tgid();
	if (!bpf_map_update_elem(&pending, &tid, &p, BPF_ANY))
		__sync_fetch_and_add(&pending_count, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int tracepoint__syscalls__sys_exit_ioctl(struct trace_event_raw_sys_exit *ctx)
{
	struct pending_ioctl *p;
	__u32 tid;

	if (!pending_count)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return 0;
	emit_vsock(CT_EV_VSOCK_BIND, p->instance, p->cid, ctx->ret, CT_SRC_TRACEPOINT);
	if (!bpf_map_delete_elem(&pending, &tid))
		__sync_fetch_and_add(&pending_count, -1);
	return 0;
}

/* load_module() -> trace_module_load(mod), after the module's BTF is registered. */
SEC("tp_btf/module_load")
int BPF_PROG(tp_btf_module_load, struct module *mod)
{
	struct ct_module_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_lost();
		return 0;
	}
	fill_hdr(&e->hdr, CT_EV_MODULE_LOAD, (struct task_struct *)bpf_get_current_task());
	bpf_probe_read_kernel_str(e->name, sizeof(e->name), mod->name);
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}
