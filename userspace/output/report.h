/* SPDX-License-Identifier: GPL-2.0 */
/* The JSON report, schema cidtrace.report/1 (docs/report-schema.md). */
#ifndef CIDTRACE_REPORT_H
#define CIDTRACE_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "attach.h"
#include "previous.h"
#include "rawfmt.h"
#include "report_proc.h"
#include "state.h"

#define REPORT_SCHEMA "cidtrace.report/1"

/* How many findings of one kind (and classification, for cid_conflict) a report has. */
struct finding_count {
	char kind[24];
	char classification[24]; /* "" but for cid_conflict */
	uint64_t n;
};

#define MAX_FINDING_COUNTS 16

struct finding_counts {
	struct finding_count v[MAX_FINDING_COUNTS];
	int n;
};

/* The findings of kind, over every classification. */
uint64_t finding_counts_kind(const struct finding_counts *fc, const char *kind);

struct report_meta {
	const char *mode; /* "record" or "run" */
	char *const *command; /* `run`: the command's argv, NULL-terminated */
	uint64_t started_ns;
	uint64_t ended_ns; /* 0 while tracing goes on */
	const struct attach_modes *attach;
	uint64_t lost;
	uint64_t uffd_serves_overflow; /* trace.events.uffd_serves_overflow */
	bool verbose;
	const char *hostname, *kernel; /* a replay's, from its capture; NULL: this host's */
	const struct raw_stats *raw; /* --raw: trace.raw; NULL without it */
	/* trace.ring_buffer_bytes and trace.checkpoints; 0 and NULL: unknown (an older capture) */
	uint64_t ring_buffer_bytes;
	const struct checkpoint_stats *checkpoints;
	bool incomplete; /* a replay that stopped at a truncated or corrupt capture */
	const struct trace_previous *previous; /* trace.previous; NULL: null */
};

/*
 * Build the report and replace path with it atomically; counts (may be NULL) gets what its
 * findings[] holds. 0 or -errno.
 */
int report_write(const char *path, struct collector *c, const struct report_meta *m,
		 struct finding_counts *counts);
/*
 * Loss is never silent: when m->lost, one line on stderr with the count and the report at
 * path, -q or not (record, run and replay call it once the final report is written).
 */
void report_warn_lost(const struct report_meta *m, const char *path);

#endif
