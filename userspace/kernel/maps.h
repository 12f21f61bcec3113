/* SPDX-License-Identifier: GPL-2.0 */
/* One ring buffer and one lost-records counter for every BPF object cidtrace loads. */
#ifndef CIDTRACE_MAPS_H
#define CIDTRACE_MAPS_H

#include <stdint.h>

struct bpf_map;
struct proc_bpf;

/*
 * Make an object's ring buffer and lost counter the process hooks' (proc); without them
 * (`cidtrace cids` and `guests` have no tracer), a token ring buffer.
 */
void share_maps(struct proc_bpf *proc, struct bpf_map *events, struct bpf_map *lost);
/* A per-CPU counter (one-entry PERCPU_ARRAY of u64), summed over CPUs; 0 if unreadable. */
uint64_t percpu_sum(const struct bpf_map *map);

#endif
