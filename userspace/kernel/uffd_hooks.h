/* SPDX-License-Identifier: GPL-2.0 */
/* The userfaultfd iterator, and the precise hooks where the kernel allows. */
#ifndef CIDTRACE_UFFD_HOOKS_H
#define CIDTRACE_UFFD_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "cidtrace_events.h"

#include "attach.h"

struct capture;
struct collector;

/* What the uffd hooks hold; zeroed, just enough for uffd_load_iter(). */
struct uffd_hooks {
	struct proc_bpf *proc; /* the process hooks: shared maps, the exit hook (NULL: none) */
	struct attach_modes *modes; /* where to say which hooks attached */
	bool verbose;
	bool no_fentry;
	struct capture *cap; /* --raw: the source is wrapped, the first tick logged */
	struct uffd_bpf *uffd_precise;
	struct uffd_iter_bpf *uffd_iter;
	struct bpf_link *uffd_iter_link;
};

void uffd_hooks_start(struct uffd_hooks *h, struct collector *c);
void uffd_hooks_stop(struct uffd_hooks *h);
/* Serves not counted per (context, process) because uffd_serves was full; 0 without fexit. */
uint64_t uffd_hooks_overflow(struct uffd_hooks *h);
/* The userfaultfd file iterator alone, for a snapshot; uffd_hooks_stop() unloads it. */
bool uffd_load_iter(struct uffd_hooks *h);
/* Every (process, fd) holding a userfaultfd now, as CT_EV_UFFD_FILE records. 0 or -errno. */
int uffd_iterate_files(void *h, uint32_t pid, void (*fn)(const struct ct_uffd_event *e, void *arg),
		       void *arg);

#endif
