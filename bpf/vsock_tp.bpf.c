// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-vsock CID binding through a syscall tracepoint: the fallback for kernels that refuse
 * fentry/fexit and have no kprobes. Every ioctl on the host passes through its handler, so
 * it starts with the cheapest test that rejects it. Attached only while
 * vhost_vsock is loaded or can be (a module on disk); module_load tells userspace when to
 * try the precise hooks instead.
 */
#include "common.bpf.h"
#include "vsock.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by userspace once the precise hooks are attached: they report the same ioctls. */
volatile bool precise_active;

/* current->files->fdt->fd[fd], or NULL. */
static __always_inline struct file *fd_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file = NULL;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

/*
 * ksys_ioctl -> trace_sys_exit, one hook instead of an enter/exit pair: the syscall's
 * arguments are still in the task's saved user registers (x86_64: di, si, dx), so the exit
 * alone knows the cmd, the fd and the result. That halves the handlers every ioctl on the
 * host runs through.
 */
SEC("tracepoint/syscalls/sys_exit_ioctl")
int tracepoint__syscalls__sys_exit_ioctl(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct file *file;
	__u64 cid = 0;

	if ((__u32)BPF_CORE_READ(regs, si) != VHOST_VSOCK_SET_GUEST_CID || precise_active)
		return 0;
	file = fd_file(task, BPF_CORE_READ(regs, di));
	if (!file || BPF_CORE_READ(file, f_inode, i_rdev) != VHOST_VSOCK_RDEV)
		return 0;
	bpf_probe_read_user(&cid, sizeof(cid), (void *)BPF_CORE_READ(regs, dx));
	return emit_vsock(CT_EV_VSOCK_BIND, BPF_CORE_READ(file, private_data), cid, ctx->ret,
			  CT_SRC_TRACEPOINT);
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
