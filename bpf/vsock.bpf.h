/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the precise vsock hooks and their syscall-tracepoint fallback. */
#ifndef CIDTRACE_VSOCK_BPF_H
#define CIDTRACE_VSOCK_BPF_H

#define VHOST_VSOCK_SET_GUEST_CID 0x4008af60
/* MKDEV(10, 241), /dev/vhost-vsock, in the kernel's dev_t encoding (major << 20 | minor) */
#define VHOST_VSOCK_RDEV 0xa000f1

/*
 * struct vhost_vsock lives in the module's BTF; "___ct" keeps it apart from vmlinux.h. net is
 * Linux 7.0's (a69686327e42): the namespace of the process that opened /dev/vhost-vsock.
 */
struct vhost_vsock___ct {
	u32 guest_cid;
	struct net *net;
} __attribute__((preserve_access_index));

/* 7.0's per-namespace vsock mode (net->vsock.mode), which our vmlinux.h predates. */
enum vsock_net_mode___ct {
	VSOCK_NET_MODE_GLOBAL___ct,
	VSOCK_NET_MODE_LOCAL___ct,
};

struct netns_vsock___ct {
	enum vsock_net_mode___ct mode;
} __attribute__((preserve_access_index));

struct net___ct {
	struct netns_vsock___ct vsock;
} __attribute__((preserve_access_index));

/*
 * The namespace a binding's CID is unique in: on 7.0+ the file's (and whether it is in
 * "local" mode, where that namespace's CIDs are its own); before, CIDs are global and the
 * task's namespace is only for the reader (net_flags 0).
 */
static __always_inline void vsock_net(struct ct_vsock_event *e, void *instance,
				      struct task_struct *task)
{
	struct vhost_vsock___ct *vsock = instance;
	struct net___ct *vnet;
	struct net *net;

	e->net_flags = 0;
	if (!instance || !bpf_core_field_exists(vsock->net)) {
		e->net_ns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
		return;
	}
	net = BPF_CORE_READ(vsock, net);
	e->net_ns = BPF_CORE_READ(net, ns.inum);
	e->net_flags = CT_VSOCK_NET_FILE;
	vnet = (struct net___ct *)net;
	if (bpf_core_field_exists(vnet->vsock.mode) &&
	    bpf_core_enum_value_exists(enum vsock_net_mode___ct, VSOCK_NET_MODE_LOCAL___ct) &&
	    BPF_CORE_READ(vnet, vsock.mode) ==
		    bpf_core_enum_value(enum vsock_net_mode___ct, VSOCK_NET_MODE_LOCAL___ct))
		e->net_flags |= CT_VSOCK_NET_LOCAL;
}

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
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if (!e) {
		count_lost();
		return 0;
	}
	fill_hdr(&e->hdr, type, task);
	vsock_net(e, instance, task);
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
