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
 * Before a report is built from c: mark the processes it lists (emit: the kept ones and their
 * ancestors), ask /proc for the new parent of those orphaned, re-read uffd memory. The
 * report writer then only reads c.
 */
void collector_refresh(struct collector *c, uint64_t now);

#endif
