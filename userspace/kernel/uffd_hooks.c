// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching the userfaultfd hooks. The task_file iterator is the foundation: it works on
 * every kernel with BPF iterators, costs nothing between runs, and is the only way to see
 * a handler close its fd. fexit/fentry on userfaultfd_ioctl and userfaultfd_release add the
 * owner's registrations, each handler's serving counts and exact releases where the kernel
 * allows tracing programs. There is no syscall-tracepoint fallback: ioctl tracepoints would
 * tax every KVM_RUN on the host, and the iterator alone already finds orphans.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "proc.skel.h"
#include "maps.h"
#include "procfs.h"
#include "state.h"
#include "uffd.h"
#include "uffd.skel.h"
#include "uffd_hooks.h"
#include "uffd_iter.skel.h"
#include "util.h"

/* The iterator for all processes, or a new link bound to the process opts names. */
static struct bpf_link *t_link(struct uffd_hooks *t, struct bpf_iter_attach_opts *opts)
{
	if (!opts)
		return t->uffd_iter_link;
	return bpf_program__attach_iter(t->uffd_iter->progs.iter_uffd_files, opts);
}

/*
 * The uffd files on the host, or of one process (a task iterator bound to its pid: the cost
 * of a full walk grows with every fd of every process, 0.3 us each here). While tracing, the
 * first one found also arms the process exit hook.
 */
int uffd_iterate_files(void *ctx, uint32_t pid,
		       void (*fn)(const struct ct_uffd_event *e, void *arg), void *arg)
{
	union bpf_iter_link_info info = { .task.pid = pid };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info, .link_info_len = sizeof(info));
	struct bpf_link *link = t_link(ctx, pid ? &opts : NULL);
	struct uffd_hooks *t = ctx;
	struct ct_uffd_event e;
	uint32_t self = getpid();
	int fd;

	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (pid)
		bpf_link__destroy(link);
	if (fd < 0)
		return -errno;
	while (read(fd, &e, sizeof(e)) == sizeof(e)) {
		if (t->proc && !t->proc->bss->uffd_fops)
			t->proc->bss->uffd_fops = e.bytes;
		if (e.hdr.pid != self)
			fn(&e, arg);
	}
	close(fd);
	return 0;
}

/*
 * The VMAs of pid registered with a userfaultfd, with their context: the task_vma iterator
 * bound to pid (a walk of its VMA tree under the mmap lock, no page tables).
 */
static int iterate_regions(void *ctx, uint32_t pid, struct ct_uffd_region *out, int max)
{
	union bpf_iter_link_info info = { .task.pid = pid };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info, .link_info_len = sizeof(info));
	struct uffd_hooks *t = ctx;
	struct bpf_link *link = bpf_program__attach_iter(t->uffd_iter->progs.iter_uffd_vmas, &opts);
	struct ct_uffd_region r, first = { 0 };
	int fd, n = 0;

	if (!link)
		return -1;
	fd = bpf_iter_create(bpf_link__fd(link));
	bpf_link__destroy(link);
	if (fd < 0)
		return -1;
	while (read(fd, &r, sizeof(r)) == sizeof(r)) {
		/* the iterator walks the address space again for other threads: once is all */
		if (n && r.start == first.start && r.ctx == first.ctx)
			break;
		if (!n)
			first = r;
		if (n++ == max)
			break; /* more than max: the rest are not read (a process may have 65530) */
		out[n - 1] = r;
	}
	close(fd);
	/* a process that is gone has no VMAs to show: tell it from one that has none */
	return n || !kill(pid, 0) || errno != ESRCH ? n : -1;
}

/* A userfaultfd of our own, held during the first scan so that it finds one to learn from. */
static int calibration_uffd(void)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK), dev;

	if (fd >= 0 || (dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC)) < 0)
		return fd;
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	close(dev);
	return fd;
}

static void read_serves(void *ctx,
			bool (*fn)(const struct ct_uffd_serve_key *k,
				   const struct ct_uffd_serve_stats *s, void *arg),
			void *arg)
{
	struct uffd_hooks *t = ctx;
	int map = bpf_map__fd(t->uffd_precise->maps.uffd_serves);
	struct ct_uffd_serve_key key, next, *prev = NULL;
	struct ct_uffd_serve_stats stats;

	while (!bpf_map_get_next_key(map, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(map, &key, &stats) && fn(&key, &stats, arg))
			bpf_map_delete_elem(map, &key);
	}
}

static struct uffd_bpf *load_precise(struct uffd_hooks *t)
{
	const char *env = getenv("CIDTRACE_UFFD_SERVES_MAX"); /* tests: fill uffd_serves */
	long max = env ? strtol(env, NULL, 10) : 0;
	struct uffd_bpf *skel = uffd_bpf__open();

	if (!skel)
		return NULL;
	if (max > 0 && max < 4096)
		bpf_map__set_max_entries(skel->maps.uffd_serves, max);
	share_maps(t->proc, skel->maps.events, skel->maps.lost_events);
	if (uffd_bpf__load(skel) || uffd_bpf__attach(skel)) {
		uffd_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

bool uffd_load_iter(struct uffd_hooks *t)
{
	struct uffd_iter_bpf *iter = uffd_iter_bpf__open();

	if (!iter)
		return false;
	share_maps(t->proc, iter->maps.events, iter->maps.lost_events);
	if (uffd_iter_bpf__load(iter) ||
	    !(t->uffd_iter_link = bpf_program__attach_iter(iter->progs.iter_uffd_files, NULL))) {
		uffd_iter_bpf__destroy(iter);
		return false;
	}
	t->uffd_iter = iter;
	return true;
}

void uffd_hooks_start(struct uffd_hooks *t, struct collector *c)
{
	struct uffd_source src = { .ctx = t, .scan = uffd_iterate_files };
	int fd;

	t->modes->uffd = attach_mode_name(ATTACH_UNAVAILABLE);
	if (!uffd_load_iter(t)) {
		errmsg("cannot load the userfaultfd iterator: orphaned guests go unseen (-v for "
		       "details)");
		return;
	}
	t->modes->uffd = attach_mode_name(ATTACH_ITER);
	procfs_uffd_source(&src);
	src.regions = iterate_regions;
	if (!t->no_fentry && (t->uffd_precise = load_precise(t))) {
		t->modes->uffd = attach_mode_name(ATTACH_FEXIT);
		src.serves = read_serves;
		src.ioctls_traced = true;
		src.final_counts = true;
	} else if (t->verbose && !t->no_fentry) {
		errmsg("fexit on userfaultfd_ioctl refused: userfaultfd from the iterator alone");
	}
	capture_wrap_uffd(t->cap, &src);
	uffd_set_source(c->uffd, &src);
	fd = calibration_uffd();
	/* guests restored before cidtrace started */
	capture_tick(t->cap, c, now_boot_ns(), RAW_TICK_UFFD);
	if (fd >= 0)
		close(fd);
}

uint64_t uffd_hooks_overflow(struct uffd_hooks *t)
{
	return t->uffd_precise ? percpu_sum(t->uffd_precise->maps.uffd_serves_overflow) : 0;
}

void uffd_hooks_stop(struct uffd_hooks *t)
{
	bpf_link__destroy(t->uffd_iter_link);
	uffd_iter_bpf__destroy(t->uffd_iter);
	uffd_bpf__destroy(t->uffd_precise);
	t->uffd_iter_link = NULL;
	t->uffd_iter = NULL;
	t->uffd_precise = NULL;
}
