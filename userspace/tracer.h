/* SPDX-License-Identifier: GPL-2.0 */
/* BPF side of cidtrace: probe features, open, set rodata, load, attach, snapshot, consume. */
#ifndef CIDTRACE_TRACER_H
#define CIDTRACE_TRACER_H

#include <stdbool.h>
#include <stdint.h>

#include "collector.h"

struct bpf_map;

struct tracer_opts {
	bool verbose;	 /* libbpf's log on stderr */
	bool no_fentry;	 /* force the portable fallback of every hook family */
	uint32_t ringbuf_bytes;
};

/* Attach mode per hook family, for trace.attach in the report. */
struct attach_modes {
	const char *process;	 /* "tp_btf" or "raw_tp" */
	const char *snapshot;	 /* "iter" or "unavailable" */
	const char *vsock;	 /* "fexit", "kprobe", "tracepoint" or "unavailable" */
	uint64_t vsock_since_ns; /* when the vsock mode took effect */
	const char *uffd;	 /* "fexit", "iter" or "unavailable" */
};

struct tracer {
	struct proc_bpf *proc;
	struct ring_buffer *rb;
	struct attach_modes modes;
	bool verbose;
	bool no_fentry;
	/* vsock_hooks.c */
	struct collector *collector;
	struct vsock_bpf *vsock_precise;
	struct vsock_tp_bpf *vsock_tp;
	struct vsock_iter_bpf *vsock_iter;
	struct bpf_link *vsock_iter_link;
	bool mounted_tracefs;
	/* uffd_hooks.c */
	struct uffd_bpf *uffd_precise;
	struct uffd_iter_bpf *uffd_iter;
	struct bpf_link *uffd_iter_link;
};

/* Exits codes: EXIT_OK, or EXIT_ENV with one line on stderr saying why and what to do. */
int tracer_check_env(void);
/* CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON (true where capget itself fails: let BPF say). */
bool tracer_has_caps(void);
int tracer_start(struct tracer *t, struct collector *c, const struct tracer_opts *o);
/* fd to poll for readable records. */
int tracer_fd(struct tracer *t);
/* Hand every available record to the collector. */
int tracer_consume(struct tracer *t);
uint64_t tracer_lost(struct tracer *t);
void tracer_stop(struct tracer *t);
/* Seed c with every process alive now, through the task iterator. 0 or -errno. */
int tracer_snapshot(struct tracer *t, struct collector *c);

/* Make an object's ring buffer and lost counter the process hooks' (one of each in all). */
void share_maps(struct tracer *t, struct bpf_map *events, struct bpf_map *lost);

/* uffd_hooks.c: the userfaultfd iterator, and the precise hooks where the kernel allows. */
void uffd_hooks_start(struct tracer *t, struct collector *c);
void uffd_hooks_stop(struct tracer *t);
/* The userfaultfd file iterator alone, for a snapshot; uffd_hooks_stop() unloads it. */
bool uffd_load_iter(struct tracer *t);
/* Every (process, fd) holding a userfaultfd now, as CT_EV_UFFD_FILE records. 0 or -errno. */
int uffd_iterate_files(void *t, uint32_t pid, void (*fn)(const struct ct_uffd_event *e, void *arg),
		       void *arg);

enum vsock_presence {
	VSOCK_ABSENT,
	VSOCK_LOADED,
	VSOCK_LOADABLE,
};

/* Loaded (or built in), loadable (a module on disk and a kernel that loads modules), or not. */
enum vsock_presence vsock_presence(void);
/* vsock_hooks.c: attach what this kernel allows, seed bindings that predate the trace. */
void vsock_hooks_start(struct tracer *t, struct collector *c);
void vsock_hooks_stop(struct tracer *t);
/* The task_file iterator over vhost-vsock files, loaded while vhost_vsock is. */
void vsock_load_iter(struct tracer *t);
/* Every vhost-vsock file held right now; fn is called for each. Returns 0 or -errno. */
int vsock_iterate_files(struct tracer *t, void (*fn)(const struct ct_vsock_event *e, void *arg),
			void *arg);
/* cids.c: the same records from /proc fd links and guest-cid=N in argv (instance synthetic). */
int vsock_proc_scan(void (*fn)(const struct ct_vsock_event *e, void *arg), void *arg);
/* The N of a whole ','-separated "guest-cid=N" fragment in a NUL-separated argv, or 0. */
uint64_t argv_guest_cid(const char *argv, size_t len);
/*
 * Every vhost-vsock file held now, without a tracer: from the iterator, else from /proc.
 * Returns the source, "iter" or "proc".
 */
const char *vsock_files_now(void (*fn)(const struct ct_vsock_event *e, void *arg), void *arg);
/* `cidtrace cids`: the host's CID table, printed at once. */
int cids_command(const struct testdir_cfg *td, bool json);
/* `cidtrace guests`: every VMM on the host now, worst first. */
int guests_command(const struct collector_cfg *cfg, bool json);
/* `cidtrace doctor`: what this host supports and what cidtrace will use. */
int doctor_command(bool json);

#endif
