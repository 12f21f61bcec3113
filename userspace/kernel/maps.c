// SPDX-License-Identifier: GPL-2.0
#include <unistd.h>

#include <bpf/libbpf.h>

#include "maps.h"
#include "proc.skel.h"

/*
 * One ring buffer for all objects; `cidtrace cids` and `guests` have no tracer and need only a
 * token one.
 */
void share_maps(struct proc_bpf *proc, struct bpf_map *events, struct bpf_map *lost)
{
	if (!proc) {
		bpf_map__set_max_entries(events, getpagesize());
		return;
	}
	bpf_map__reuse_fd(events, bpf_map__fd(proc->maps.events));
	bpf_map__reuse_fd(lost, bpf_map__fd(proc->maps.lost_events));
}
