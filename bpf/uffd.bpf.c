// SPDX-License-Identifier: GPL-2.0
/*
 * userfaultfd, the precise way: who registers guest memory and who serves its faults. Needs
 * fentry/fexit (the functions are static, reached through userfaultfd_fops, so never
 * inlined). Where the kernel refuses them, the iterator in uffd_iter.bpf.c alone tells who
 * holds each context, at no per-syscall cost.
 */
#include "common.bpf.h"
#include "uffd.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* include/uapi/asm-generic/errno-base.h: not in BTF, so not in vmlinux.h */
#define EEXIST 17

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ct_uffd_serve_key);
	__type(value, struct ct_uffd_serve_stats);
} uffd_serves SEC(".maps");

/*
 * Serves of a (context, process) that found uffd_serves full: counted here (index 0), per
 * CPU so the counter never contends, instead of one ring-buffer record per serve, which would
 * flood it for as long as the map stays full. Userspace sums it into the report. Index 1:
 * when this CPU last sent one of them anyway (ns), OVERFLOW_SEND_NS apart: the record names
 * a pager that began serving while the map was full, which otherwise only the next walk of
 * every process's fds (10 s apart) would find.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} uffd_serves_overflow SEC(".maps");

#define OVERFLOW_SEND_NS 100000000ull

/* Where a serving ioctl writes back how much it resolved: after dst/src/len/mode for COPY
 * and MOVE, after range/mode for the others. -1 if cmd does not serve faults. */
static __always_inline int result_offset(unsigned int cmd)
{
	switch (cmd) {
	case CT_UFFDIO_COPY:
	case CT_UFFDIO_MOVE:
		return 32;
	case CT_UFFDIO_ZEROPAGE:
	case CT_UFFDIO_CONTINUE:
	case CT_UFFDIO_POISON:
		return 24;
	}
	return -1;
}

static __always_inline void count_serve(void *ctx, unsigned int cmd, long ret, __s64 resolved)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ct_uffd_serve_key key = { .ctx = (__u64)ctx, .pid = task->tgid };
	struct ct_uffd_serve_stats *s = bpf_map_lookup_elem(&uffd_serves, &key);
	__u64 bytes = resolved > 0 ? resolved : 0;

	if (s) {
		__sync_fetch_and_add(&s->ioctls, 1);
		__sync_fetch_and_add(&s->bytes, bytes);
		s->last_ns = bpf_ktime_get_boot_ns();
		return;
	}
	struct ct_uffd_serve_stats init = {
		.ioctls = 1,
		.bytes = bytes,
		.last_ns = bpf_ktime_get_boot_ns(),
		.start_ns = BPF_CORE_READ(task, group_leader, start_boottime),
	};
	long err = bpf_map_update_elem(&uffd_serves, &key, &init, BPF_NOEXIST);
	__u32 zero = 0, one = 1;
	__u64 *n;

	if (!err) {
		/* the first serve of this process for this context: say who serves it */
		emit_uffd(CT_EV_UFFD_IOCTL, ctx, cmd, ret, bytes);
		return;
	}
	if (err == -EEXIST) {
		/* another CPU's serve of the same pair inserted it first */
		s = bpf_map_lookup_elem(&uffd_serves, &key);
		if (s) {
			__sync_fetch_and_add(&s->ioctls, 1);
			__sync_fetch_and_add(&s->bytes, bytes);
		}
		return;
	}
	/* full (-E2BIG) or no memory: counted, never one record per serve */
	n = bpf_map_lookup_elem(&uffd_serves_overflow, &zero);
	if (n)
		*n += 1;
	n = bpf_map_lookup_elem(&uffd_serves_overflow, &one);
	if (n && init.last_ns - *n >= OVERFLOW_SEND_NS) {
		*n = init.last_ns;
		emit_uffd(CT_EV_UFFD_IOCTL, ctx, cmd, ret, bytes);
	}
}

/*
 * vfs_ioctl -> userfaultfd_fops.unlocked_ioctl = userfaultfd_ioctl(file, cmd, arg). At exit
 * the serving ioctls have written back how much they resolved (even on -EAGAIN, a partial
 * copy), and UFFDIO_API has made the context usable: the first sign of a new uffd.
 */
SEC("fexit/userfaultfd_ioctl")
int BPF_PROG(fexit_userfaultfd_ioctl, struct file *file, unsigned int cmd, unsigned long arg,
	     long ret)
{
	void *uctx = BPF_CORE_READ(file, private_data);
	struct uffdio_range range = {};
	int off = result_offset(cmd);
	__s64 resolved = 0;

	if (off >= 0) {
		bpf_probe_read_user(&resolved, sizeof(resolved), (void *)(arg + off));
		count_serve(uctx, cmd, ret, resolved);
		return 0;
	}
	if (cmd != CT_UFFDIO_API && cmd != CT_UFFDIO_REGISTER && cmd != CT_UFFDIO_UNREGISTER)
		return 0;
	if (cmd != CT_UFFDIO_API)
		bpf_probe_read_user(&range, sizeof(range), (void *)arg);
	emit_uffd(CT_EV_UFFD_IOCTL, uctx, cmd, ret, range.len);
	return 0;
}

/*
 * userfaultfd_fops.release: runs once, when the last reference to the file goes; it
 * unregisters every range and wakes every blocked fault. A context that got here cannot be
 * orphaned.
 */
SEC("fentry/userfaultfd_release")
int BPF_PROG(fentry_userfaultfd_release, struct inode *inode, struct file *file)
{
	emit_uffd(CT_EV_UFFD_RELEASE, BPF_CORE_READ(file, private_data), 0, 0, 0);
	return 0;
}
