/* SPDX-License-Identifier: GPL-2.0 */
/* vhost-vsock files held now, without a trace: from the iterator, else from /proc. */
#ifndef CIDTRACE_VSOCK_FILES_H
#define CIDTRACE_VSOCK_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "cidtrace_events.h"

/*
 * The records of vsock_iterate_files() from /proc fd links and guest-cid=N in argv (instance
 * synthetic).
 */
int vsock_proc_scan(void (*fn)(const struct ct_vsock_event *e, void *arg), void *arg);
/* The N of a whole ','-separated "guest-cid=N" fragment in a NUL-separated argv, or 0. */
uint64_t argv_guest_cid(const char *argv, size_t len);

#endif
