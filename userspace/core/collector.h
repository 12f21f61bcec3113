/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The dispatcher: hands each BPF record to the process table (state.c), vsock.c or uffd.c,
 * which build the state the report is written from.
 */
#ifndef CIDTRACE_COLLECTOR_H
#define CIDTRACE_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "cidtrace_events.h"
#include "state.h"

void collector_init(struct collector *c, const struct collector_cfg *cfg);
void collector_free(struct collector *c);
/* One ring buffer record. Returns 0 (libbpf ring_buffer callback convention). */
int collector_handle(void *ctx, void *data, size_t len);
/* One startup snapshot record, with argv read from /proc (may be empty). */
void collector_seed(struct collector *c, const struct ct_exec_event *e, const char *argv,
		    size_t argv_len, bool argv_truncated, const char *exe);

/*
 * The collector's periodic work, after vsock_tick() and uffd_tick() at each tick: retention's
 * age pass (--keep-for) over findings, bindings, uffd contexts and context processes, and the
 * process table's growth. A capture logs the tick (capture_tick()) and a replay drives this
 * at the same records, so the report stays the same.
 */
void collector_tick(struct collector *c, uint64_t now);

/*
 * What the edge learned of an orphan's new parent (a subreaper or init: no event says which).
 * Ignored unless (pid, start_ns) names a live orphan.
 */
void collector_reparent(struct collector *c, uint32_t pid, uint64_t start_ns, uint32_t ppid);

/* Mark the processes a report lists (emit): the kept ones and their ancestors. */
void collector_mark_emit(struct collector *c);
/*
 * Before a report is built from c: mark the processes it lists (collector_mark_emit) and
 * re-read uffd memory through the uffd source, at c's clock. The edge has told the core the
 * new parents of those orphaned (collector_reparent); the report writer then only reads c.
 */
void collector_refresh(struct collector *c);

#endif
