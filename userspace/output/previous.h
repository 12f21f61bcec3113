/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.previous: what a restarted recorder finds of the trace before it, the report that
 * trace left at -o, so a reader sees the gap between the two (docs/report-schema.md).
 */
#ifndef CIDTRACE_PREVIOUS_H
#define CIDTRACE_PREVIOUS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trace_previous {
	int64_t started_us, updated_us; /* its trace.started_at and trace.updated_at, wall clock */
	bool final; /* its trace.final: false if it was killed (or still runs) */
};

/*
 * Read the trace of the report at path: true with it in *p, else false with why in why
 * ("no report at 'x'", "'x' is not a cidtrace report: ..."). Only a regular file no larger
 * than a report may be, opened without following a symlink, is read.
 */
bool previous_read(const char *path, struct trace_previous *p, char *why, size_t len);

/* trace.previous for the trace that started at started_ns (CLOCK_BOOTTIME); null for NULL. */
struct json_object *previous_json(const struct trace_previous *p, uint64_t started_ns);

#endif
