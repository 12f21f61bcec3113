// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "iter.skel.h"
#include "maps.h"
#include "proc.skel.h"
#include "tracer.h"
#include "uffd_hooks.h"
#include "util.h"
#include "vsock_hooks.h"

static bool verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

bool tracer_has_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };

	return syscall(SYS_capget, &hdr, data) != 0 || has_cap(data, CAP_SYS_ADMIN) ||
	       (has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON));
}

int tracer_check_env(void)
{
	if (!tracer_has_caps()) {
		errmsg("needs root: BPF tracing requires CAP_SYS_ADMIN or CAP_BPF+CAP_PERFMON "
		       "(run it with sudo)");
		return EXIT_ENV;
	}
	if (syscall(SYS_bpf, -1, NULL, 0) < 0 && errno == ENOSYS) {
		errmsg("this kernel has no bpf() syscall: use a kernel built with "
		       "CONFIG_BPF_SYSCALL=y");
		return EXIT_ENV;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		errmsg("kernel BTF not found at /sys/kernel/btf/vmlinux: use a kernel built with "
		       "CONFIG_DEBUG_INFO_BTF=y (6.1 or later)");
		return EXIT_ENV;
	}
	return EXIT_OK;
}

static void set_process_variant(struct proc_bpf *skel, bool tp_btf)
{
	bpf_program__set_autoload(skel->progs.tp_btf_sched_process_fork, tp_btf);
	bpf_program__set_autoload(skel->progs.tp_btf_sched_process_exec, tp_btf);
	bpf_program__set_autoload(skel->progs.tp_btf_sched_process_exit, tp_btf);
	bpf_program__set_autoload(skel->progs.tp_btf_signal_generate, tp_btf);
	bpf_program__set_autoload(skel->progs.raw_tp_sched_process_fork, !tp_btf);
	bpf_program__set_autoload(skel->progs.raw_tp_sched_process_exec, !tp_btf);
	bpf_program__set_autoload(skel->progs.raw_tp_sched_process_exit, !tp_btf);
	bpf_program__set_autoload(skel->progs.raw_tp_signal_generate, !tp_btf);
}

/* open -> size maps -> load -> attach, with tp_btf or its raw_tp twin. */
static struct proc_bpf *load_process_hooks(bool tp_btf, uint32_t ringbuf_bytes, int *err)
{
	struct proc_bpf *skel = proc_bpf__open();

	if (!skel) {
		*err = -errno;
		return NULL;
	}
	set_process_variant(skel, tp_btf);
	bpf_map__set_max_entries(skel->maps.events, ringbuf_bytes);
	*err = proc_bpf__load(skel);
	if (!*err)
		*err = proc_bpf__attach(skel);
	if (*err) {
		proc_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/*
 * Startup snapshot through the task iterator: exact (pid, start_ns) identities and cwds of
 * every process alive now. argv and exe come from /proc, which only root can read fully.
 */
static int read_file(const char *path, char *buf, size_t len, bool *truncated)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return 0;
	while (got < len && (n = read(fd, buf + got, len - got)) > 0)
		got += n;
	*truncated = got == len && read(fd, &(char){ 0 }, 1) == 1;
	close(fd);
	return got;
}

int tracer_snapshot(struct tracer *t, struct collector *c)
{
	static struct ct_exec_event rec;
	static char argv[CT_ARGV_MAX];
	struct bpf_link *link = NULL;
	struct iter_bpf *skel;
	int err, fd = -1;
	ssize_t n;

	skel = iter_bpf__open();
	if (!skel)
		return -errno;
	share_maps(t->proc, skel->maps.events, skel->maps.lost_events);
	err = iter_bpf__load(skel);
	if (err)
		goto out;
	link = bpf_program__attach_iter(skel->progs.iter_task, NULL);
	if (!link) {
		err = -errno;
		goto out;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	while ((n = read(fd, &rec, CT_EXEC_FIXED_LEN)) == (ssize_t)CT_EXEC_FIXED_LEN) {
		char path[64], exe[4096];
		bool truncated = false;
		ssize_t elen;
		int alen;

		snprintf(path, sizeof(path), "/proc/%u/cmdline", rec.hdr.pid);
		alen = read_file(path, argv, sizeof(argv), &truncated);
		snprintf(path, sizeof(path), "/proc/%u/exe", rec.hdr.pid);
		elen = readlink(path, exe, sizeof(exe) - 1);
		exe[elen > 0 ? elen : 0] = '\0';
		collector_seed(c, &rec, argv, alen, truncated, elen > 0 ? exe : NULL);
	}
	if (n < 0)
		err = -errno;
	collector_link_parents(c);
out:
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	iter_bpf__destroy(skel);
	return err;
}

int tracer_start(struct tracer *t, struct collector *c, const struct tracer_opts *o)
{
	int err = 0;

	memset(t, 0, sizeof(*t));
	verbose = t->verbose = o->verbose;
	t->no_fentry = o->no_fentry;
	libbpf_set_print(libbpf_print);

	if (!o->no_fentry) {
		t->proc = load_process_hooks(true, o->ringbuf_bytes, &err);
		t->modes.process = attach_mode_name(ATTACH_TP_BTF);
		if (!t->proc && verbose)
			errmsg("tp_btf process hooks unavailable (%s), falling back to raw_tp",
			       strerror(-err));
	}
	if (!t->proc) {
		t->proc = load_process_hooks(false, o->ringbuf_bytes, &err);
		t->modes.process = attach_mode_name(ATTACH_RAW_TP);
	}
	if (!t->proc) {
		errmsg("cannot load the process hooks: %s (rerun with -v for the libbpf log)",
		       strerror(-err));
		return EXIT_ENV;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->proc->maps.events), collector_handle, c, NULL);
	if (!t->rb) {
		errmsg("cannot map the ring buffer: %s", strerror(errno));
		tracer_stop(t);
		return EXIT_ENV;
	}
	err = tracer_snapshot(t, c);
	t->modes.snapshot = attach_mode_name(err ? ATTACH_UNAVAILABLE : ATTACH_ITER);
	if (err)
		errmsg("startup snapshot failed (%s): processes started before cidtrace are "
		       "unknown",
		       strerror(-err));
	t->vsock = (struct vsock_hooks){ .proc = t->proc,
					 .modes = &t->modes,
					 .verbose = t->verbose,
					 .no_fentry = t->no_fentry };
	t->uffd = (struct uffd_hooks){ .proc = t->proc,
				       .modes = &t->modes,
				       .verbose = t->verbose,
				       .no_fentry = t->no_fentry };
	vsock_hooks_start(&t->vsock, c);
	uffd_hooks_start(&t->uffd, c);
	return EXIT_OK;
}

int tracer_fd(struct tracer *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

int tracer_consume(struct tracer *t)
{
	return ring_buffer__consume(t->rb);
}

uint64_t tracer_lost(struct tracer *t)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t total = 0, *vals;
	uint32_t zero = 0;

	if (ncpus <= 0)
		return 0;
	vals = calloc(ncpus, sizeof(*vals));
	if (vals && !bpf_map_lookup_elem(bpf_map__fd(t->proc->maps.lost_events), &zero, vals))
		for (int i = 0; i < ncpus; i++)
			total += vals[i];
	free(vals);
	return total;
}

void tracer_stop(struct tracer *t)
{
	vsock_hooks_stop(&t->vsock);
	uffd_hooks_stop(&t->uffd);
	ring_buffer__free(t->rb);
	t->rb = NULL;
	proc_bpf__destroy(t->proc);
	t->proc = NULL;
}
