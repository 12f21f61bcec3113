/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --raw FILE: every input the core consumes, logged as docs/raw-format.md says, so that
 * `cidtrace replay` reproduces the run. Sources are wrapped (the wrapper calls the real one
 * and logs its result); the other inputs go through capture_* calls that log, then hand the
 * input to the core. Every call takes a NULL capture: then it only hands the input on.
 *
 * Records go to a bounded in-memory buffer that a thread writes out, so the event loop never
 * waits for the disk. A record that does not fit is dropped, and so is every one after it:
 * the capture ends there, incomplete, and the report says so (trace.raw).
 */
#ifndef CIDTRACE_CAPTURE_H
#define CIDTRACE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector.h"
#include "rawfmt.h"
#include "uffd.h"
#include "vsock.h"

struct capture;
struct reap_log;

/* The final meta: what the report has that does not come from the core. */
struct capture_meta {
	uint64_t ended_ns, lost, vsock_since_ns;
	const char *process, *snapshot, *vsock, *uffd;
	uint64_t ringbuf_bytes;
	const struct checkpoint_stats *cp; /* trace.checkpoints */
	uint64_t uffd_serves_overflow;
};

/* Open path (truncated); records wait in memory until capture_start. NULL and errno. */
struct capture *capture_open(const char *path);
/* The collector's configuration, the trace's mode and `run`'s command: the first record. */
void capture_config(struct capture *cap, const struct collector_cfg *cfg, const char *mode,
		    char *const *command);
/* Write the header, then start writing records out. 0 or -errno. */
int capture_start(struct capture *cap, const struct raw_header *h);
/* Write out what is buffered and close; 0 or the first write error (-errno). */
int capture_close(struct capture *cap);
void capture_stats(struct capture *cap, struct raw_stats *st);

/* Wrap a source (its results are logged as they are served); logs what it offers. */
void capture_wrap_uffd(struct capture *cap, struct uffd_source *src);
void capture_wrap_vsock(struct capture *cap, struct vsock_source *src);
/* The collector's clock. */
void capture_wrap_core(struct capture *cap, struct collector *c);

/* Inputs: logged, then handed to the core. */
int capture_ring(struct capture *cap, struct collector *c, void *data, size_t len);
void capture_seed(struct capture *cap, struct collector *c, const struct ct_exec_event *e,
		  const char *argv, size_t argv_len, bool argv_truncated, const char *exe);
void capture_link(struct capture *cap, struct collector *c);
void capture_vsock_seed(struct capture *cap, struct collector *c, const struct ct_vsock_event *e);
void capture_tick(struct capture *cap, struct collector *c, uint64_t now, unsigned int which);
void capture_reparent(struct capture *cap, struct collector *c, uint32_t pid, uint64_t start_ns,
		      uint32_t ppid);
void capture_started(struct capture *cap, struct collector *c, uint64_t started_ns);
/* `run`'s command started as pid, in the job cgroup at path cgroup (NULL: none, ancestry). */
void capture_job(struct capture *cap, struct collector *c, pid_t pid, const char *cgroup);
/*
 * Markers for the replay: a report other than the final one is written by cidtrace itself now
 * (building it reads the clock and sources: collector_refresh); --reap's actions.
 */
void capture_report(struct capture *cap);
void capture_reaped(struct capture *cap, const struct reap_log *log);
/* A --kill-orphans action on owner, as it is taken: logged, then told to the core. */
void capture_kill(struct capture *cap, struct collector *c, struct proc *owner, const char *action,
		  uint64_t at_ns, bool exited);
/*
 * In a forked child: c's clock and sources are the real ones again (the wrappers' lock may be
 * held by the writer thread, which the fork did not copy). Nothing it reads is captured.
 */
void capture_forked(struct capture *cap, struct collector *c);
/* The last input (the final report is built after it); st gets the stats as of it, as the
 * final report shows them. */
void capture_meta(struct capture *cap, const struct capture_meta *m, struct raw_stats *st);

#endif
