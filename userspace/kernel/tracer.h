/* SPDX-License-Identifier: GPL-2.0 */
/* BPF side of cidtrace: probe features, open, set rodata, load, attach, snapshot, consume. */
#ifndef CIDTRACE_TRACER_H
#define CIDTRACE_TRACER_H

#include <stdbool.h>
#include <stdint.h>

#include "attach.h"
#include "collector.h"
#include "rawfmt.h"
#include "vocab.h"
#include "uffd_hooks.h"
#include "vsock_hooks.h"

struct capture;

struct tracer_opts {
	bool verbose; /* libbpf's log on stderr */
	bool no_fentry; /* force the portable fallback of every hook family */
	/* --ns-switches: read a process's namespaces again at setns/unshare (syscall tracepoints) */
	bool ns_switches;
	uint32_t ringbuf_bytes; /* tracer_ringbuf_size()'s; 0: the default for this host */
	const char *raw; /* --raw: capture every input of the core to this file */
	const char *mode; /* "record" or "run", and run's command: for the capture */
	char *const *command;
};

struct tracer {
	struct proc_bpf *proc;
	struct collector *collector; /* what the records and the edge's inputs go to */
	struct capture *cap; /* --raw, else NULL */
	struct raw_stats raw; /* the capture as the latest report shows it */
	struct ring_buffer *rb;
	uint32_t ringbuf_bytes; /* its size */
	struct attach_modes modes;
	bool verbose;
	bool no_fentry;
	struct vsock_hooks vsock;
	struct uffd_hooks uffd;
};

/* The largest ring buffer --ring-buffer-size may ask for. */
#define TRACER_RINGBUF_MAX (1u << 30)
/*
 * The ring buffer for a request of bytes: rounded up to a power of two, at least a page (the
 * kernel takes no other size); 0: the default, 1 MiB per possible CPU within 2 and 64 MiB.
 * Above TRACER_RINGBUF_MAX: 0, refused. Its pages are mapped into cidtrace twice (libbpf maps
 * the data area back to back), so they count double in its RSS, all of them from the start.
 */
uint32_t tracer_ringbuf_size(uint64_t bytes);

/*
 * Exits codes: EXIT_OK, or EXIT_ENV with one line on stderr saying why and what to do: no
 * privileges, no bpf(), no BTF, or not in the host's pid namespace (pidns.h).
 */
int tracer_check_env(void);
/* CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON (true where capget itself fails: let BPF say). */
bool tracer_has_caps(void);
int tracer_start(struct tracer *t, struct collector *c, const struct tracer_opts *o);
/* fd to poll for readable records. */
int tracer_fd(struct tracer *t);
/* Hand every available record to the collector. */
int tracer_consume(struct tracer *t);
uint64_t tracer_lost(struct tracer *t);
/* Serves the uffd hooks could not count per (context, process): their map was full. */
uint64_t tracer_uffd_overflow(struct tracer *t);
void tracer_stop(struct tracer *t);
/* Seed c with every process alive now, through the task iterator. 0 or -errno. */
int tracer_snapshot(struct tracer *t, struct collector *c);

/*
 * An orphan's new parent is whoever the kernel chose (a subreaper or init); no event says
 * which, so before a report the edge asks /proc for each live orphan the report shows, and
 * tells the core (collector_reparent).
 */
void tracer_refresh_orphans(struct tracer *t, struct collector *c);

/* The edge's inputs to the core besides records and sources; each is captured with --raw. */
void tracer_started(struct tracer *t, uint64_t started_ns);
/*
 * `run`: flag the records of processes in the cgroup with this id (the inode of its v2
 * directory) or below it CT_JOB_CGROUP; 0: none. Set before the command starts.
 */
void tracer_set_job_cgroup(struct tracer *t, uint64_t id);
/* `run`'s command started as pid, in the job cgroup at path cgroup (NULL: ancestry). */
void tracer_job(struct tracer *t, pid_t pid, const char *cgroup);
/* Periodic work of the core: vsock and uffd ticks. */
void tracer_tick(struct tracer *t, uint64_t now);
/*
 * A report is about to be written (the final one if ended_ns): refresh orphans, mark it; the
 * final one's meta (lost, uffd_overflow, cp: the checkpoints) goes to the capture.
 */
void tracer_before_report(struct tracer *t, uint64_t ended_ns, uint64_t lost,
			  uint64_t uffd_overflow, const struct checkpoint_stats *cp);
/*
 * A checkpoint: its writer is about to be forked. trace.raw as of now, which the writer cannot
 * ask the capture for.
 */
void tracer_checkpoint(struct tracer *t);
/*
 * In the forked checkpoint writer: the core's clock and sources are the real ones again, and
 * nothing goes to the capture, whose lock belongs to a writer thread that fork did not copy.
 * What the writer reads changes only its own copy of the core: nothing a replay must redo.
 */
void tracer_forked(struct tracer *t);
/* --reap is done: its actions, in c's reap log, go to the capture. */
void tracer_reaped(struct tracer *t);
/* A --kill-orphans action on owner, taken now: to the core (reaped[], a live line), captured. */
void tracer_kill(struct tracer *t, struct proc *owner, const char *action, uint64_t at_ns,
		 bool exited);
/* trace.raw for the report: NULL without --raw. */
const struct raw_stats *tracer_raw(struct tracer *t);

#endif
