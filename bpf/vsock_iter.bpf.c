// SPDX-License-Identifier: GPL-2.0
/*
 * Who holds each vhost-vsock file right now: the startup snapshot of CIDs bound before
 * cidtrace, and the holder check at a conflict. Needs neither fentry nor kprobes, so it
 * works in every attach mode.
 */
#include "common.bpf.h"
#include "vsock.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Every (process, fd) holding a vhost-vsock file, with the CID bound to it and whether the
 * process is dying. bpf_iter task_file skips threads that share their leader's file table,
 * so each process appears once per fd.
 */
SEC("iter/task_file")
int iter_vsock_files(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct ct_vsock_event e = {};
	void *vsock;

	if (!task || !file || BPF_CORE_READ(file, f_inode, i_rdev) != VHOST_VSOCK_RDEV)
		return 0;
	vsock = BPF_CORE_READ(file, private_data);
	fill_hdr(&e.hdr, CT_EV_VSOCK_FILE, task);
	e.instance = (__u64)vsock;
	e.cid = bound_cid(vsock);
	e.source = CT_SRC_ITER;
	e.fd = ctx->fd;
	e.holder_flags = holder_flags(task);
	vsock_net(&e, vsock, task);
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}
