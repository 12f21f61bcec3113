// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>
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

uint64_t percpu_sum(const struct bpf_map *map)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t total = 0, *vals;
	uint32_t zero = 0;

	if (ncpus <= 0)
		return 0;
	vals = calloc(ncpus, sizeof(*vals));
	if (vals && !bpf_map_lookup_elem(bpf_map__fd(map), &zero, vals))
		for (int i = 0; i < ncpus; i++)
			total += vals[i];
	free(vals);
	return total;
}
