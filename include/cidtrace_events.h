/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Records the BPF side hands to the collector, through the ring buffer or an iterator.
 *
 * Shared by bpf/ (vmlinux.h types) and userspace/ (linux/types.h). Every struct has explicit
 * padding and a size assertion so that a field added on one side cannot silently shift the
 * other side's view.
 */
#ifndef CIDTRACE_EVENTS_H
#define CIDTRACE_EVENTS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define CT_COMM_LEN 16
/* argv bytes kept per exec, less one: at least 4 KiB is needed, and QEMU lines run long. */
#define CT_ARGV_MAX 8192
/* exec filename and cwd: each a power of two so BPF can mask offsets into them. */
#define CT_PATH_MAX 512
/* directory levels walked to rebuild a cwd; deeper paths are marked truncated. */
#define CT_PATH_DEPTH 32
/* pid namespace levels sent per process, the outermost (the host's) first */
#define CT_NSPID_MAX 4
/* cgroup v2 path bytes kept, its NUL included: a power of two so BPF can mask offsets. */
#define CT_CGROUP_MAX 512
/* cgroup levels below the root walked to build the path; deeper paths are marked truncated. */
#define CT_CGROUP_DEPTH 16

enum ct_event_type {
	CT_EV_FORK = 1,
	CT_EV_EXEC = 2,
	CT_EV_EXIT = 3,
	CT_EV_SIGNAL = 4,
	CT_EV_TASK = 5, /* startup snapshot record from the task iterator */
	CT_EV_VSOCK_BIND = 6, /* VHOST_VSOCK_SET_GUEST_CID returned */
	CT_EV_VSOCK_RELEASE = 7, /* last reference to a vhost-vsock file went */
	CT_EV_VSOCK_FILE = 8, /* iterator: a process holds a vhost-vsock file */
	CT_EV_MODULE_LOAD = 9, /* a kernel module was loaded */
	CT_EV_UFFD_IOCTL = 10, /* userfaultfd_ioctl returned: API, (UN)REGISTER, first serve */
	CT_EV_UFFD_RELEASE = 11, /* last reference to a userfaultfd file went */
	CT_EV_UFFD_FILE = 12, /* a process holds a userfaultfd file: iterator, or at its exit */
	CT_EV_RENAME = 13, /* a process renamed itself without exec (prctl PR_SET_NAME) */
	CT_EV_NS = 14, /* setns(2) or unshare(2) returned 0: struct ct_fork_event's layout */
};

/*
 * Identifies the process an event is about. A process is (pid, start_ns): start_ns is the
 * thread-group leader's start_boottime, which survives exec (de_thread copies it) and
 * differs between two processes that reuse one pid.
 */
struct ct_event_hdr {
	__u32 type;
	__u32 pid; /* tgid */
	__u64 ts_ns; /* CLOCK_BOOTTIME of the event */
	__u64 start_ns; /* CLOCK_BOOTTIME the process started */
	__u32 ppid; /* tgid of real_parent at the event */
	__u32 tid; /* thread the event happened on */
	char comm[CT_COMM_LEN];
};
_Static_assert(sizeof(struct ct_event_hdr) == 48, "ct_event_hdr layout");

#define CT_PATH_TRUNCATED 0x1 /* cwd deeper or longer than CT_PATH_MAX */
#define CT_ARGV_TRUNCATED 0x2 /* argv longer than CT_ARGV_MAX */
/*
 * `run`'s job cgroup (cgroup v2) holds the process, or it is below it: exec and fork flags.
 * Userspace sets the cgroup's id (its directory's inode) before the job starts.
 */
#define CT_JOB_CGROUP 0x4
/*
 * The process's cgroup v2 path is deeper than CT_CGROUP_DEPTH levels or longer than
 * CT_CGROUP_MAX - 1 bytes, or could not be read: exec, task and fork flags, cgroup_len 0.
 * The names are any user's who may make cgroups (a delegated subtree): without the bound one
 * could make every record of the processes in it as long as they like.
 */
#define CT_CGROUP_TRUNCATED 0x8

/*
 * Namespaces and pid chain of a process, read from its task at fork, exec and the snapshot.
 * Inode numbers are what the links in /proc/PID/ns show ("pid:[4026531836]").
 */
struct ct_ns_info {
	__u32 pid_ns; /* its own pid namespace (task_active_pid_ns); 0: not read */
	__u32 mnt_ns;
	__u32 net_ns;
	__u32 pid_level; /* its pid namespace's depth: 0 is the host's */
	/* its pid in each namespace from the host's down, as NSpid in /proc/PID/status:
	 * min(pid_level + 1, CT_NSPID_MAX) entries, the innermost missing when deeper */
	__u32 nspid[CT_NSPID_MAX];
	__u32 cgroup_len; /* bytes of the cgroup v2 path, no NUL; 0: unknown (see flags) */
	__u32 __pad0;
};
_Static_assert(sizeof(struct ct_ns_info) == 40, "ct_ns_info layout");

/*
 * CT_EV_EXEC and CT_EV_TASK. Variable length: argv follows the fixed part and only argv_len
 * bytes of it are sent. cwd is written backwards from the end of its buffer (that is how a
 * dentry walk produces it), so it starts at cwd_off. ns and cgroup (the default hierarchy's
 * path from its root, "/" for the root, ns.cgroup_len bytes) came after the first
 * CT_EXEC_V1_FIXED_LEN bytes; raw captures of format 1 hold exec records without them.
 */
struct ct_exec_event {
	struct ct_event_hdr hdr;
	__u32 flags; /* CT_*_TRUNCATED */
	__u32 argv_len; /* bytes of NUL-separated argv that follow */
	__u16 cwd_off; /* first byte of the cwd string in cwd[] */
	__u16 __pad0;
	__u32 __pad1;
	char filename[CT_PATH_MAX];
	char cwd[CT_PATH_MAX];
	struct ct_ns_info ns;
	char cgroup[CT_CGROUP_MAX];
	char argv[CT_ARGV_MAX];
};
_Static_assert(sizeof(struct ct_exec_event) ==
		       48 + 16 + 2 * CT_PATH_MAX + 40 + CT_CGROUP_MAX + CT_ARGV_MAX,
	       "ct_exec_event layout");
#define CT_EXEC_FIXED_LEN    (sizeof(struct ct_exec_event) - CT_ARGV_MAX)
#define CT_EXEC_V1_FIXED_LEN (48 + 16 + 2 * CT_PATH_MAX) /* before ns and cgroup */

/*
 * CT_EV_FORK: the header describes the new process; ppid is its parent. Each version
 * appended to the one before, so no offset moved: flags to the 48-byte header-only record (a
 * reader takes a 48-byte fork as flags 0), then ns and the cgroup path (a 56-byte fork has
 * neither). Variable length: only ns.cgroup_len bytes of cgroup are sent.
 */
struct ct_fork_event {
	struct ct_event_hdr hdr;
	__u32 flags; /* CT_JOB_CGROUP, CT_CGROUP_TRUNCATED */
	__u32 __pad0;
	struct ct_ns_info ns;
	char cgroup[CT_CGROUP_MAX];
};
_Static_assert(sizeof(struct ct_fork_event) == 96 + CT_CGROUP_MAX, "ct_fork_event layout");
#define CT_FORK_V1_LEN	  sizeof(struct ct_event_hdr) /* a fork record before flags */
#define CT_FORK_V2_LEN	  56 /* before ns and cgroup */
#define CT_FORK_FIXED_LEN (sizeof(struct ct_fork_event) - CT_CGROUP_MAX)

/* CT_EV_EXIT: the last thread of the group is exiting. */
struct ct_exit_event {
	struct ct_event_hdr hdr;
	__u32 exit_code; /* wait(2) status: code << 8 | core 0x80 | signal */
	__u32 __pad0;
};
_Static_assert(sizeof(struct ct_exit_event) == 56, "ct_exit_event layout");

/* CT_EV_SIGNAL: a fatal signal was generated for the process in hdr. */
struct ct_signal_event {
	struct ct_event_hdr hdr;
	__u32 signal;
	__u32 sender_pid;
	char sender_comm[CT_COMM_LEN];
};
_Static_assert(sizeof(struct ct_signal_event) == 72, "ct_signal_event layout");

/*
 * CT_EV_RENAME: the thread-group leader's comm changed outside exec. hdr.comm is the comm
 * before, comm the new one (NUL-padded). At most CT_RENAME_BURST per process and second
 * are sent as they happen; the latest of those held back comes at the process's next rename
 * after that second, or just before its exit record.
 */
struct ct_rename_event {
	struct ct_event_hdr hdr;
	char comm[CT_COMM_LEN];
};
_Static_assert(sizeof(struct ct_rename_event) == 64, "ct_rename_event layout");
#define CT_RENAME_BURST 8

/* Which hook saw a vsock event, for trace.attach and for deduplication. */
enum ct_vsock_source {
	CT_SRC_FEXIT = 1,
	CT_SRC_FENTRY = 2,
	CT_SRC_KPROBE = 3,
	CT_SRC_TRACEPOINT = 4,
	CT_SRC_ITER = 5,
};

#define CT_HOLDER_EXITING  0x1 /* PF_EXITING or SIGNAL_GROUP_EXIT: a fatal signal or exit began */
#define CT_HOLDER_COREDUMP 0x2 /* signal->core_state set: dumping core */

/*
 * ct_vsock_event.net_flags. Linux 7.0 (a69686327e42) keeps the opener's network namespace in
 * struct vhost_vsock, and a CID is unique only among files whose namespaces can reach each
 * other: the same namespace, or two in "global" mode (every namespace before 7.0).
 */
#define CT_VSOCK_NET_FILE  0x1 /* net_ns is the vhost file's (vhost_vsock->net), not the task's */
#define CT_VSOCK_NET_LOCAL 0x2 /* and that namespace is in vsock "local" mode: its own CIDs */

/*
 * CT_EV_VSOCK_BIND, CT_EV_VSOCK_RELEASE and CT_EV_VSOCK_FILE. instance is the struct
 * vhost_vsock the file points to: the same for every process holding that file, so it is
 * the binding's identity. It is a kernel address: the collector maps it to an opaque id and
 * never prints it. net_ns and net_flags were appended to the 80-byte record: a reader takes
 * a shorter one (an older capture) as net_ns 0, unknown.
 */
struct ct_vsock_event {
	struct ct_event_hdr hdr;
	__u64 instance;
	__u64 cid; /* requested (bind), or bound at release / iteration */
	__s32 ret; /* bind: 0 or -errno */
	__u32 source;
	__u32 fd; /* iteration: the holder's fd */
	__u32 holder_flags; /* iteration: CT_HOLDER_* */
	/* network namespace inode: the file's (CT_VSOCK_NET_FILE), else the event's task's */
	__u32 net_ns;
	__u32 net_flags; /* CT_VSOCK_NET_* */
};
_Static_assert(sizeof(struct ct_vsock_event) == 88, "ct_vsock_event layout");
#define CT_VSOCK_V1_LEN 80 /* a vsock record before net_ns */

/* CT_EV_MODULE_LOAD */
struct ct_module_event {
	struct ct_event_hdr hdr;
	char name[56]; /* MODULE_NAME_LEN */
};
_Static_assert(sizeof(struct ct_module_event) == 104, "ct_module_event layout");

/*
 * userfaultfd ioctls (include/uapi/linux/userfaultfd.h, x86_64 values). Compare the whole cmd:
 * USERFAULTFD_IOC_NEW on /dev/userfaultfd shares type and number with REGISTER.
 */
#define CT_UFFDIO_API	     0xC018AA3Fu
#define CT_UFFDIO_REGISTER   0xC020AA00u
#define CT_UFFDIO_UNREGISTER 0x8010AA01u
#define CT_UFFDIO_COPY	     0xC028AA03u
#define CT_UFFDIO_ZEROPAGE   0xC020AA04u
#define CT_UFFDIO_MOVE	     0xC028AA05u
#define CT_UFFDIO_CONTINUE   0xC020AA07u
#define CT_UFFDIO_POISON     0xC020AA08u

/* ct_uffd_event.flags */
#define CT_UFFD_OWNER	0x1 /* the holder's mm is the context's: it created the uffd */
#define CT_UFFD_EXITING 0x2 /* the holder is dying (as CT_HOLDER_EXITING) */
#define CT_UFFD_AT_EXIT 0x4 /* sent by the process exit hook: the holder is exiting now */

/*
 * CT_EV_UFFD_*. ctx is the struct userfaultfd_ctx behind the file: the same for every process
 * holding it, including one that received it over SCM_RIGHTS, so it is the context's
 * identity. Like vsock instances it is a kernel address, mapped to "uffd-N" and never printed.
 */
struct ct_uffd_event {
	struct ct_event_hdr hdr;
	__u64 ctx;
	__u64 bytes; /* ioctl: range length, or bytes resolved by a serving ioctl; iterator:
		      * the file's f_op, which lets the exit hook recognize uffd files (a
		      * kernel address: never printed) */
	__u32 cmd; /* ioctl: the full cmd; file records: the context's owner (tgid of
		    * ctx->mm->owner where CONFIG_MEMCG has it, 0: not known) */
	__s32 ret; /* ioctl: 0 or -errno */
	__u32 fd; /* iterator: the holder's fd */
	__u32 flags; /* CT_UFFD_* */
};
_Static_assert(sizeof(struct ct_uffd_event) == 80, "ct_uffd_event layout");

/*
 * Serving ioctls (COPY, ZEROPAGE, CONTINUE, MOVE, POISON) are counted in a BPF hash map, not
 * sent one by one: a pager restoring 1 GiB issues 262,144 of them. Userspace reads the map on
 * its scan tick; the first serve of each (context, process) is also sent as an event so a
 * new handler is known at once.
 */
struct ct_uffd_serve_key {
	__u64 ctx;
	__u32 pid;
	__u32 __pad0;
};
_Static_assert(sizeof(struct ct_uffd_serve_key) == 16, "ct_uffd_serve_key layout");

struct ct_uffd_serve_stats {
	__u64 ioctls;
	__u64 bytes;
	__u64 last_ns;
	__u64 start_ns; /* the serving process's start time, with pid its identity */
};
_Static_assert(sizeof(struct ct_uffd_serve_stats) == 32, "ct_uffd_serve_stats layout");

/*
 * A VMA registered with a userfaultfd (the task_vma iterator, bound to one process): which
 * context it is registered with, even when the process no longer holds that context's file.
 * Not a ring-buffer record.
 */
struct ct_uffd_region {
	__u64 ctx; /* struct userfaultfd_ctx, as ct_uffd_event.ctx */
	__u64 start, end;
};
_Static_assert(sizeof(struct ct_uffd_region) == 24, "ct_uffd_region layout");

#endif /* CIDTRACE_EVENTS_H */
