/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the precise userfaultfd hooks and the userfaultfd file iterator. */
#ifndef CIDTRACE_UFFD_BPF_H
#define CIDTRACE_UFFD_BPF_H

#include "vsock.bpf.h" /* holder_flags() */

/* Does task's address space belong to the context, i.e. is task the process that made it? */
static __always_inline __u32 uffd_flags(struct task_struct *task, void *ctx)
{
	struct userfaultfd_ctx *uctx = ctx;
	__u32 flags = 0;

	if (BPF_CORE_READ(uctx, mm) == BPF_CORE_READ(task, mm))
		flags |= CT_UFFD_OWNER;
	if (holder_flags(task) & CT_HOLDER_EXITING)
		flags |= CT_UFFD_EXITING;
	return flags;
}

static __always_inline void emit_uffd(__u32 type, void *ctx, __u32 cmd, long ret, __u64 bytes)
{
	struct ct_uffd_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	struct task_struct *task = bpf_get_current_task_btf();

	if (!e) {
		count_lost();
		return;
	}
	fill_hdr(&e->hdr, type, task);
	e->ctx = (__u64)ctx;
	e->bytes = bytes;
	e->cmd = cmd;
	e->ret = ret;
	e->fd = 0;
	e->flags = uffd_flags(task, ctx);
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

#endif
