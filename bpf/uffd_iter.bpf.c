// SPDX-License-Identifier: GPL-2.0
/*
 * Who holds each userfaultfd context right now. Run at start (guests restored before
 * cidtrace), on a pager's exit and on a periodic tick: a handler that closed its fd, or an
 * owner alone with its memory, shows up here and nowhere else. It needs neither fentry nor
 * kprobes, and costs nothing between runs.
 */
#include "common.bpf.h"
#include "uffd.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define ANON_INODE_FS_MAGIC 0x09041934

/*
 * userfaultfd files are anonymous inodes named "[userfaultfd]" (new_userfaultfd ->
 * anon_inode_create_getfile): the name /proc shows as anon_inode:[userfaultfd]. The
 * superblock test rejects nearly every file with one read chain.
 */
static __always_inline bool is_uffd(struct file *file)
{
	static const char name[] = "[userfaultfd]";
	char buf[sizeof(name)] = {};

	if (BPF_CORE_READ(file, f_inode, i_sb, s_magic) != ANON_INODE_FS_MAGIC)
		return false;
	bpf_probe_read_kernel(buf, sizeof(buf), BPF_CORE_READ(file, f_path.dentry, d_name.name));
	for (int i = 0; i < sizeof(name); i++)
		if (buf[i] != name[i])
			return false;
	return true;
}

/* Every (process, fd) holding a userfaultfd; task_file visits each file table once. */
SEC("iter/task_file")
int iter_uffd_files(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct ct_uffd_event e = {};

	if (!task || !file || !is_uffd(file))
		return 0;
	fill_hdr(&e.hdr, CT_EV_UFFD_FILE, task);
	e.ctx = (__u64)BPF_CORE_READ(file, private_data);
	e.bytes = (__u64)BPF_CORE_READ(file, f_op);
	e.fd = ctx->fd;
	e.cmd = uffd_owner_tgid((struct userfaultfd_ctx *)e.ctx);
	e.flags = uffd_flags(task, (void *)e.ctx);
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}

/*
 * Every VMA registered with a userfaultfd, with its context (vma->vm_userfaultfd_ctx): the
 * registration of one context, even when its owner no longer holds the file (it sent it to
 * a pager and closed its copy). smaps only says a VMA is registered, not with which uffd.
 * Run bound to one process; task_vma visits each address space once.
 */
SEC("iter/task_vma")
int iter_uffd_vmas(struct bpf_iter__task_vma *ctx)
{
	struct vm_area_struct *vma = ctx->vma;
	struct ct_uffd_region r = {};

	if (!ctx->task || !vma)
		return 0;
	r.ctx = (__u64)BPF_CORE_READ(vma, vm_userfaultfd_ctx.ctx);
	if (!r.ctx)
		return 0;
	r.start = BPF_CORE_READ(vma, vm_start);
	r.end = BPF_CORE_READ(vma, vm_end);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
