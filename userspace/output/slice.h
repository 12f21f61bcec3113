/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A report cut down to one job or time window: `cidtrace report FILE --scope DIR --since T
 * --until T` and the same options of `cidtrace replay` (docs/report-command.md). The slice is
 * a report of its own, with trace.slice saying what it holds, so every renderer shows it and
 * it can be read and sliced again.
 */
#ifndef CIDTRACE_SLICE_H
#define CIDTRACE_SLICE_H

#include <stdbool.h>
#include <stdint.h>

#include "render.h"

struct slice {
	const char *scope; /* an absolute, normalized directory; NULL: any */
	const char *cgroup; /* --scope-cgroup: a normalized cgroup v2 path; NULL: any */
	const char *container; /* --scope-container: a container id or prefix; NULL: any */
	bool has_since, has_until;
	int64_t since_us, until_us; /* µs since the epoch */
};

/* Anything to cut: a scope or a time. */
static inline bool slice_wanted(const struct slice *s)
{
	return s->scope || s->cgroup || s->container || s->has_since || s->has_until;
}

/*
 * A --since or --until value: RFC 3339 as a report writes it, with or without a fraction of
 * a second, with Z or a numeric offset ("2026-11-27T03:42:36Z", "...36.5+01:00"), or
 * "@SECONDS" since the epoch ("@1764214956", "@1764214956.25"). false when it is neither.
 */
bool slice_parse_time(const char *s, int64_t *us);

/*
 * Cut r down to s, in place (the rules are docs/report-command.md's):
 * - members: the processes whose argv, cwd or test_dir is s->scope or below it (in the
 *   report's trace.scope_mnt_ns unless a cgroup or container is asked for), whose cgroup is
 *   s->cgroup or below it and names s->container, and whose lifetime overlaps [since, until];
 * - the CID bindings whose binder is a member, the uffd contexts whose owner is, and the
 *   findings that name a member (attempt, holder, guest, pager, leaked VMM), with the
 *   bindings, contexts and processes those findings name;
 * - the processes that bindings, contexts and findings kept name, and the ancestors of every
 *   process kept; reaped[] entries of processes kept.
 * trace.slice says what was asked; a report that is a slice already stays inside its window
 * and, without s->scope, its scope. O(n log n) in the size of the report.
 */
void slice_report(struct report *r, const struct slice *s);

#endif
