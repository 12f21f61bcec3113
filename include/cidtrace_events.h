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

enum ct_event_type {
	CT_EV_FORK = 1,
	CT_EV_EXEC = 2,
	CT_EV_EXIT = 3,
	CT_EV_SIGNAL = 4,
	CT_EV_TASK = 5, /* startup snapshot record from the task iterator */
};

/*
 * Identifies the process an event is about. A process is (pid, start_ns): start_ns is the
 * thread-group leader's start_boottime, which survives exec (de_thread copies it) and
 * differs between two processes that reuse one pid.
 */
struct ct_event_hdr {
	__u32 type;
	__u32 pid;	/* tgid */
	__u64 ts_ns;	/* CLOCK_BOOTTIME of the event */
	__u64 start_ns; /* CLOCK_BOOTTIME the process started */
	__u32 ppid;	/* tgid of real_parent at the event */
	__u32 tid;	/* thread the event happened on */
	char comm[CT_COMM_LEN];
};
_Static_assert(sizeof(struct ct_event_hdr) == 48, "ct_event_hdr layout");

#define CT_PATH_TRUNCATED 0x1 /* cwd deeper or longer than CT_PATH_MAX */
#define CT_ARGV_TRUNCATED 0x2 /* argv longer than CT_ARGV_MAX */

/*
 * CT_EV_EXEC and CT_EV_TASK. Variable length: argv follows the fixed part and only argv_len
 * bytes of it are sent. cwd is written backwards from the end of its buffer (that is how a
 * dentry walk produces it), so it starts at cwd_off.
 */
struct ct_exec_event {
	struct ct_event_hdr hdr;
	__u32 flags;	/* CT_*_TRUNCATED */
	__u32 argv_len; /* bytes of NUL-separated argv that follow */
	__u16 cwd_off;	/* first byte of the cwd string in cwd[] */
	__u16 __pad0;
	__u32 __pad1;
	char filename[CT_PATH_MAX];
	char cwd[CT_PATH_MAX];
	char argv[CT_ARGV_MAX];
};
_Static_assert(sizeof(struct ct_exec_event) == 48 + 16 + 2 * CT_PATH_MAX + CT_ARGV_MAX,
	       "ct_exec_event layout");
#define CT_EXEC_FIXED_LEN (sizeof(struct ct_exec_event) - CT_ARGV_MAX)

/* CT_EV_FORK: the header describes the new process; ppid is its parent. */
struct ct_fork_event {
	struct ct_event_hdr hdr;
};

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

#endif /* CIDTRACE_EVENTS_H */
