/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The raw capture format (docs/raw-format.md): a header, then length-prefixed records of
 * every input the core consumed, so that `cidtrace replay` can feed them to it again. Pure
 * encoding and decoding; the writer is kernel/capture.c, the reader cmd/replay.c.
 */
#ifndef CIDTRACE_RAWFMT_H
#define CIDTRACE_RAWFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAW_MAGIC     "CTRAW\r\n\x1a"
#define RAW_MAGIC_LEN 8
/*
 * 2: exec records (RING and SEED) carry namespaces and the cgroup path before argv. A reader
 * of 2 reads 1 too (RAW_VERSION_MIN): replay moves a version 1 exec record's argv up.
 */
#define RAW_VERSION	2
#define RAW_VERSION_MIN 1
#define RAW_REC_HDR	8 /* type u16, flags u16, len u32 */
#define RAW_MAX_LEN	(1u << 24) /* no record is longer: a longer length means corruption */

enum raw_type {
	/* inputs the replay drives the core with, in order */
	RAW_CONFIG = 1,
	RAW_RING = 2,
	RAW_SEED = 3,
	RAW_LINK = 4,
	RAW_VSOCK_SEED = 5,
	RAW_TICK = 6, /* flags: RAW_TICK_* */
	RAW_START = 7,
	RAW_JOB = 8,
	RAW_REPORT = 9, /* cidtrace itself wrote a report here, not the final one */
	RAW_PPID = 10,
	RAW_UFFD_SOURCE = 11,
	RAW_VSOCK_SOURCE = 12,
	RAW_REAP = 13, /* flags: RAW_REAP_UFFD_ORPHAN */
	RAW_META = 14, /* the final report's meta: the last record of a complete capture */
	/* results of the core's source calls, served back in order */
	RAW_UFFD_SCAN = 32,
	RAW_UFFD_SERVES = 33,
	RAW_THREADS = 34,
	RAW_CPU_TICKS = 35,
	RAW_FDINFO = 36,
	RAW_REGISTERED = 37,
	RAW_VSOCK_SCAN = 38,
	RAW_LOCAL_CID = 39,
	RAW_IS_FILE = 40,
	RAW_CLOCK = 41,
	RAW_REGIONS = 42,
	RAW_RESIDENT = 43,
};

/*
 * THREADS: each thread as the first RAW_THREAD_LEN bytes of struct thread_cpu, then (captures
 * since schedstat) each thread's u64 run_ns, u64 wait_ns, u32 sched, 4 pad.
 */
#define RAW_THREAD_LEN 40
#define RAW_SCHED_LEN  24

#define RAW_TICK_VSOCK 0x1
#define RAW_TICK_UFFD  0x2

/* REAP: a --kill-orphans action, logged as it was taken (else --reap's, after the trace) */
#define RAW_REAP_UFFD_ORPHAN 0x1

/* The header's variable part, in this order after the fixed 40 bytes. */
struct raw_header {
	uint16_t format; /* format version, RAW_VERSION_MIN..RAW_VERSION */
	int64_t wall_minus_boot_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME, fixed at start */
	uint64_t boot_ns; /* CLOCK_BOOTTIME when the header was written */
	uint32_t tick_hz, page_size;
	char *version, *kernel, *hostname; /* cidtrace version, kernel release */
	char *process, *snapshot, *vsock, *uffd; /* attach modes at start */
	uint64_t vsock_since_ns;
	/* --keep-processes and --keep-for (0: no limit); has_retention false: a capture from
	 * before they existed, whose header ends above */
	bool has_retention;
	uint32_t keep_processes;
	uint64_t keep_for_ns;
};

/* What the report says of a capture (trace.raw). */
struct raw_stats {
	uint64_t records, bytes, dropped;
	bool complete; /* nothing dropped and every write succeeded */
};

/* What the report says of the checkpoints (trace.checkpoints); META carries it to a replay. */
struct checkpoint_stats {
	uint64_t interval_ns; /* --checkpoint; 0: none */
	uint64_t written, skipped, failed;
	/* how long the event thread stopped for one, from its start to back in its loop */
	uint64_t last_stall_ns, max_stall_ns;
};

/* A growing output buffer. */
struct raw_buf {
	uint8_t *p;
	size_t len, cap;
};

void rb_put(struct raw_buf *b, const void *d, size_t n);
void rb_u16(struct raw_buf *b, uint16_t v);
void rb_u32(struct raw_buf *b, uint32_t v);
void rb_u64(struct raw_buf *b, uint64_t v);
/* u16 length, then the bytes; NULL is length 0xffff */
void rb_str(struct raw_buf *b, const char *s);
void rb_free(struct raw_buf *b);

/* A bounded input cursor: reads past the end set bad and return zeros. */
struct raw_in {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

const void *ri_bytes(struct raw_in *r, size_t n);
uint16_t ri_u16(struct raw_in *r);
uint32_t ri_u32(struct raw_in *r);
uint64_t ri_u64(struct raw_in *r);
/* A malloc'ed copy, NULL for a NULL string (or bad input). */
char *ri_str(struct raw_in *r);
/* Copy of the next n bytes into out (zeros past the end). */
void ri_copy(struct raw_in *r, void *out, size_t n);

void raw_header_write(struct raw_buf *b, const struct raw_header *h);
/*
 * Parse the header at the start of f and leave f at the first record. 0, -EINVAL (not a
 * capture), -EPROTONOSUPPORT (another format version) or -EIO (truncated).
 */
int raw_header_read(struct raw_in *f, struct raw_header *h);
void raw_header_free(struct raw_header *h);
/*
 * The next record of f: 1 with its type, flags and payload, 0 at a clean end, -1 if what
 * follows is not a whole record (truncated or corrupt).
 */
int raw_next(struct raw_in *f, uint16_t *type, uint16_t *flags, struct raw_in *payload);

#endif
