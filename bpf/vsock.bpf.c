// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-vsock CID binding and release, the precise way: hooks inside the vhost_vsock module.
 * Loaded only while the module is present (its BTF describes the functions and struct
 * vhost_vsock); userspace picks fentry/fexit, or kprobes where tracing programs are refused.
 */
#include "common.bpf.h"
#include "vsock.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * vhost_vsock_dev_ioctl(file, ioctl, arg) -> vhost_vsock_set_cid(), which is inlined on some
 * builds, so the ioctl's return is where the result is certain. -EADDRINUSE means another
 * instance has the CID (or it is the host's own).
 */
SEC("fexit/vhost_vsock_dev_ioctl")
int BPF_PROG(fexit_vhost_vsock_dev_ioctl, struct file *file, unsigned int ioctl, unsigned long arg,
	     long ret)
{
	__u64 cid = 0;

	if (ioctl != VHOST_VSOCK_SET_GUEST_CID)
		return 0;
	bpf_probe_read_user(&cid, sizeof(cid), (void *)arg);
	return emit_vsock(CT_EV_VSOCK_BIND, BPF_CORE_READ(file, private_data), cid, ret,
			  CT_SRC_FEXIT);
}

/*
 * file_operations.release: runs once, when the last reference to the file goes, whoever
 * drops it (a child that inherited it, an SCM_RIGHTS receiver, a dying process). The CID is
 * freed here, so its value is still readable.
 */
SEC("fentry/vhost_vsock_dev_release")
int BPF_PROG(fentry_vhost_vsock_dev_release, struct inode *inode, struct file *file)
{
	void *vsock = BPF_CORE_READ(file, private_data);

	return emit_vsock(CT_EV_VSOCK_RELEASE, vsock, bound_cid(vsock), 0, CT_SRC_FENTRY);
}

/* The same two points as kprobes, for kernels that refuse tracing programs. */
struct ioctl_args {
	void *instance;
	__u64 cid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct ioctl_args);
} kprobe_pending SEC(".maps");

SEC("kprobe/vhost_vsock_dev_ioctl")
int BPF_KPROBE(kprobe_vhost_vsock_dev_ioctl, struct file *file, unsigned int ioctl,
	       unsigned long arg)
{
	struct ioctl_args a = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (ioctl != VHOST_VSOCK_SET_GUEST_CID)
		return 0;
	a.instance = BPF_CORE_READ(file, private_data);
	bpf_probe_read_user(&a.cid, sizeof(a.cid), (void *)arg);
	bpf_map_update_elem(&kprobe_pending, &tid, &a, BPF_ANY);
	return 0;
}

SEC("kretprobe/vhost_vsock_dev_ioctl")
int BPF_KRETPROBE(kretprobe_vhost_vsock_dev_ioctl, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ioctl_args *a = bpf_map_lookup_elem(&kprobe_pending, &tid);

	if (!a)
		return 0;
	emit_vsock(CT_EV_VSOCK_BIND, a->instance, a->cid, ret, CT_SRC_KPROBE);
	bpf_map_delete_elem(&kprobe_pending, &tid);
	return 0;
}

SEC("kprobe/vhost_vsock_dev_release")
int BPF_KPROBE(kprobe_vhost_vsock_dev_release, struct inode *inode, struct file *file)
{
	void *vsock = BPF_CORE_READ(file, private_data);

	return emit_vsock(CT_EV_VSOCK_RELEASE, vsock, bound_cid(vsock), 0, CT_SRC_KPROBE);
}
