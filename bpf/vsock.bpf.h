/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the precise vsock hooks and their syscall-tracepoint fallback. */
#ifndef CIDTRACE_VSOCK_BPF_H
#define CIDTRACE_VSOCK_BPF_H

#define VHOST_VSOCK_SET_GUEST_CID 0x4008af60
/* MKDEV(10, 241), /dev/vhost-vsock, in the kernel's dev_t encoding (major << 20 | minor) */
#define VHOST_VSOCK_RDEV 0xa000f1

/* struct vhost_vsock lives in the module's BTF; "___ct" keeps it apart from vmlinux.h. */
struct vhost_vsock___ct {
	u32 guest_cid;
} __attribute__((preserve_access_index));

/* The CID bound to a vhost_vsock, or 0 where the module's BTF cannot say. */
static __always_inline __u64 bound_cid(void *instance)
{
	struct vhost_vsock___ct *vsock = instance;

	if (!bpf_core_field_exists(vsock->guest_cid))
		return 0;
	return BPF_CORE_READ(vsock, guest_cid);
}

static __always_inline int emit_vsock(__u32 type, void *instance, __u64 cid, long ret, __u32 source)
{
	struct ct_vsock_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_lost();
		return 0;
	}
	fill_hdr(&e->hdr, type, (struct task_struct *)bpf_get_current_task());
	e->instance = (__u64)instance;
	e->cid = cid;
	e->ret = ret;
	e->source = source;
	e->fd = 0;
	e->holder_flags = 0;
	/* Conflicts are what cidtrace is for: never let one wait for a poll tick. */
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* Is the process dying: exit begun, a fatal signal taken, or a core dump under way? */
static __always_inline __u32 holder_flags(struct task_struct *task)
{
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	__u32 flags = 0;

	if ((BPF_CORE_READ(task, flags) & PF_EXITING) ||
	    (BPF_CORE_READ(sig, flags) & SIGNAL_GROUP_EXIT))
		flags |= CT_HOLDER_EXITING;
	if (BPF_CORE_READ(sig, core_state))
		flags |= CT_HOLDER_COREDUMP;
	return flags;
}

#endif
