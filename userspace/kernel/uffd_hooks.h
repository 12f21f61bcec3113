/* SPDX-License-Identifier: GPL-2.0 */
/* The userfaultfd iterator, and the precise hooks where the kernel allows. */
#ifndef CIDTRACE_UFFD_HOOKS_H
#define CIDTRACE_UFFD_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "cidtrace_events.h"

struct tracer;
struct collector;

void uffd_hooks_start(struct tracer *t, struct collector *c);
void uffd_hooks_stop(struct tracer *t);
/* The userfaultfd file iterator alone, for a snapshot; uffd_hooks_stop() unloads it. */
bool uffd_load_iter(struct tracer *t);
/* Every (process, fd) holding a userfaultfd now, as CT_EV_UFFD_FILE records. 0 or -errno. */
int uffd_iterate_files(void *t, uint32_t pid, void (*fn)(const struct ct_uffd_event *e, void *arg),
		       void *arg);

#endif
