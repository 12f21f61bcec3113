/* SPDX-License-Identifier: GPL-2.0 */
/* One ring buffer and one lost-records counter for every BPF object cidtrace loads. */
#ifndef CIDTRACE_MAPS_H
#define CIDTRACE_MAPS_H

struct bpf_map;
struct proc_bpf;

/*
 * Make an object's ring buffer and lost counter the process hooks' (proc); without them
 * (`cidtrace cids` and `guests` have no tracer), a token ring buffer.
 */
void share_maps(struct proc_bpf *proc, struct bpf_map *events, struct bpf_map *lost);

#endif
