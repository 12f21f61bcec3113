// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "iter.skel.h"
#include "maps.h"
#include "pidns.h"
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
	return pidns_require_host();
}

static void set_process_variant(struct proc_bpf *skel, bool tp_btf)
{
	bpf_program__set_autoload(skel->progs.tp_btf_sched_process_fork, tp_btf);
	bpf_program__set_autoload(skel->progs.tp_btf_sched_process_exec, tp_btf);
	bpf_program__set_autoload(skel->progs.tp_btf_sched_process_exit, tp_btf);
	bpf_program__set_autoload(skel->progs.tp_btf_signal_generate, tp_btf);
	bpf_program__set_autoload(skel->progs.tp_btf_task_rename, tp_btf);
	bpf_program__set_autoload(skel->progs.raw_tp_sched_process_fork, !tp_btf);
	bpf_program__set_autoload(skel->progs.raw_tp_sched_process_exec, !tp_btf);
	bpf_program__set_autoload(skel->progs.raw_tp_sched_process_exit, !tp_btf);
	bpf_program__set_autoload(skel->progs.raw_tp_signal_generate, !tp_btf);
	bpf_program__set_autoload(skel->progs.raw_tp_task_rename, !tp_btf);
}

/* open -> size maps -> load -> attach, with tp_btf or its raw_tp twin. */
static struct proc_bpf *load_process_hooks(bool tp_btf, uint32_t ringbuf_bytes, bool ns_switches,
					   int *err)
{
	struct proc_bpf *skel = proc_bpf__open();

	if (!skel) {
		*err = -errno;
		return NULL;
	}
	set_process_variant(skel, tp_btf);
	/* optional: a kernel without syscall tracepoints (no CONFIG_FTRACE_SYSCALLS) has none */
	bpf_program__set_autoattach(skel->progs.tp_sys_exit_setns, false);
	bpf_program__set_autoattach(skel->progs.tp_sys_exit_unshare, false);
	bpf_map__set_max_entries(skel->maps.events, ringbuf_bytes);
	*err = proc_bpf__load(skel);
	if (!*err)
		*err = proc_bpf__attach(skel);
	if (*err) {
		proc_bpf__destroy(skel);
		return NULL;
	}
	/*
	 * Any syscall tracepoint sends every syscall of every task through the slow exit path:
	 * about 5 ns more per syscall, host-wide (bench/syscall_cost), so only when asked.
	 */
	if (!ns_switches || !ensure_tracefs(verbose))
		return skel;
	skel->links.tp_sys_exit_setns = bpf_program__attach(skel->progs.tp_sys_exit_setns);
	skel->links.tp_sys_exit_unshare = bpf_program__attach(skel->progs.tp_sys_exit_unshare);
	if (!skel->links.tp_sys_exit_setns || !skel->links.tp_sys_exit_unshare)
		errmsg("--ns-switches: no setns/unshare tracepoints here (CONFIG_FTRACE_SYSCALLS); "
		       "namespaces are read at fork and exec only");
	return skel;
}

/*
 * Startup snapshot through the task iterator: exact (pid, start_ns) identities and cwds of
 * every process alive now. argv and exe come from /proc, which only root can read fully.
 */
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
		bool truncated;
		ssize_t elen;
		size_t alen;

		alen = read_proc_raw(rec.hdr.pid, "cmdline", argv, sizeof(argv), &truncated);
		snprintf(path, sizeof(path), "/proc/%u/exe", rec.hdr.pid);
		elen = readlink(path, exe, sizeof(exe) - 1);
		exe[elen > 0 ? elen : 0] = '\0';
		capture_seed(t->cap, c, &rec, argv, alen, truncated, elen > 0 ? exe : NULL);
	}
	if (n < 0)
		err = -errno;
	capture_link(t->cap, c);
out:
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	iter_bpf__destroy(skel);
	return err;
}

static int ring_record(void *ctx, void *data, size_t len)
{
	struct tracer *t = ctx;

	return capture_ring(t->cap, t->collector, data, len);
}

/* --raw: the header, once the attach modes are known; records wait in memory until then. */
static void start_capture(struct tracer *t, const char *path)
{
	struct utsname u;
	char host[256] = "";
	struct raw_header h = { .wall_minus_boot_ns = clock_offset(),
				.boot_ns = now_boot_ns(),
				.tick_hz = sysconf(_SC_CLK_TCK),
				.page_size = getpagesize(),
				.version = CIDTRACE_VERSION,
				.kernel = uname(&u) ? "" : u.release,
				.hostname = host,
				.process = (char *)t->modes.process,
				.snapshot = (char *)t->modes.snapshot,
				.vsock = (char *)t->modes.vsock,
				.uffd = (char *)t->modes.uffd,
				.vsock_since_ns = t->modes.vsock_since_ns,
				.keep_processes = t->collector->cfg.keep_processes,
				.keep_for_ns = t->collector->cfg.keep_for_ns };
	int err;

	gethostname(host, sizeof(host) - 1);
	err = capture_start(t->cap, &h);
	if (err)
		errmsg("cannot write raw capture '%s': %s", path, strerror(-err));
}

uint32_t tracer_ringbuf_size(uint64_t bytes)
{
	uint64_t size = getpagesize();
	int ncpus;

	if (!bytes) {
		/* a fork storm fills a CPU's share of it between two polls */
		ncpus = libbpf_num_possible_cpus();
		bytes = (uint64_t)(ncpus > 0 ? ncpus : 1) << 20;
		bytes = bytes < (2u << 20) ? 2u << 20 : bytes > (64u << 20) ? 64u << 20 : bytes;
	}
	while (size < bytes)
		size <<= 1;
	return size <= TRACER_RINGBUF_MAX ? size : 0;
}

int tracer_start(struct tracer *t, struct collector *c, const struct tracer_opts *o)
{
	int err = 0;

	memset(t, 0, sizeof(*t));
	verbose = t->verbose = o->verbose;
	t->no_fentry = o->no_fentry;
	t->collector = c;
	libbpf_set_print(libbpf_print);
	t->ringbuf_bytes = o->ringbuf_bytes ? o->ringbuf_bytes : tracer_ringbuf_size(0);
	if (o->raw) {
		t->cap = capture_open(o->raw);
		if (!t->cap) {
			errmsg("cannot write raw capture '%s': %s", o->raw, strerror(errno));
			return EXIT_USAGE;
		}
		capture_config(t->cap, &c->cfg, o->mode, o->command);
		capture_wrap_core(t->cap, c);
	}

	if (!o->no_fentry) {
		t->proc = load_process_hooks(true, t->ringbuf_bytes, o->ns_switches, &err);
		t->modes.process = attach_mode_name(ATTACH_TP_BTF);
		if (!t->proc && verbose)
			errmsg("tp_btf process hooks unavailable (%s), falling back to raw_tp",
			       strerror(-err));
	}
	if (!t->proc) {
		t->proc = load_process_hooks(false, t->ringbuf_bytes, o->ns_switches, &err);
		t->modes.process = attach_mode_name(ATTACH_RAW_TP);
	}
	if (!t->proc) {
		errmsg("cannot load the process hooks: %s (rerun with -v for the libbpf log)",
		       strerror(-err));
		capture_close(t->cap);
		t->cap = NULL;
		return EXIT_ENV;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->proc->maps.events), ring_record, t, NULL);
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
					 .no_fentry = t->no_fentry,
					 .cap = t->cap };
	t->uffd = (struct uffd_hooks){ .proc = t->proc,
				       .modes = &t->modes,
				       .verbose = t->verbose,
				       .no_fentry = t->no_fentry,
				       .cap = t->cap };
	vsock_hooks_start(&t->vsock, c);
	uffd_hooks_start(&t->uffd, c);
	if (t->cap)
		start_capture(t, o->raw);
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
	return percpu_sum(t->proc->maps.lost_events);
}

uint64_t tracer_uffd_overflow(struct tracer *t)
{
	return uffd_hooks_overflow(&t->uffd);
}

void tracer_stop(struct tracer *t)
{
	int err;

	vsock_hooks_stop(&t->vsock);
	uffd_hooks_stop(&t->uffd);
	ring_buffer__free(t->rb);
	t->rb = NULL;
	proc_bpf__destroy(t->proc);
	t->proc = NULL;
	err = capture_close(t->cap);
	if (err)
		errmsg("raw capture incomplete: %s", strerror(-err));
	t->cap = NULL;
}

void tracer_refresh_orphans(struct tracer *t, struct collector *c)
{
	struct ct_event_hdr now;

	/* only if the pid still names the same process: /proc's start time, in clock ticks,
	 * must be the tick that holds start_ns */
	collector_mark_emit(c);
	pt_for_each(&c->pt, p)
		if (p->emit && p->orphaned && !p->exited &&
		    proc_same(p->pid, p->start_ns, &now, NULL))
			capture_reparent(t->cap, c, p->pid, p->start_ns, now.ppid);
}

void tracer_started(struct tracer *t, uint64_t started_ns)
{
	capture_started(t->cap, t->collector, started_ns);
}

void tracer_set_job_cgroup(struct tracer *t, uint64_t id)
{
	t->proc->bss->job_cgroup = id;
}

void tracer_job(struct tracer *t, pid_t pid, const char *cgroup)
{
	capture_job(t->cap, t->collector, pid, cgroup);
}

void tracer_tick(struct tracer *t, uint64_t now)
{
	capture_tick(t->cap, t->collector, now, RAW_TICK_VSOCK | RAW_TICK_UFFD);
}

void tracer_before_report(struct tracer *t, uint64_t ended_ns, uint64_t lost,
			  uint64_t uffd_overflow, const struct checkpoint_stats *cp)
{
	struct capture_meta m = { ended_ns,
				  lost,
				  t->modes.vsock_since_ns,
				  t->modes.process,
				  t->modes.snapshot,
				  t->modes.vsock,
				  t->modes.uffd,
				  t->ringbuf_bytes,
				  cp,
				  uffd_overflow };

	tracer_refresh_orphans(t, t->collector);
	if (!t->cap)
		return;
	if (ended_ns) {
		capture_meta(t->cap, &m, &t->raw);
		return;
	}
	capture_report(t->cap);
	capture_stats(t->cap, &t->raw);
}

void tracer_checkpoint(struct tracer *t)
{
	if (t->cap)
		capture_stats(t->cap, &t->raw);
}

void tracer_forked(struct tracer *t)
{
	capture_forked(t->cap, t->collector);
	t->cap = NULL;
}

void tracer_reaped(struct tracer *t)
{
	capture_reaped(t->cap, &t->collector->reaped);
}

void tracer_kill(struct tracer *t, struct proc *owner, const char *action, uint64_t at_ns,
		 bool exited)
{
	capture_kill(t->cap, t->collector, owner, action, at_ns, exited);
}

const struct raw_stats *tracer_raw(struct tracer *t)
{
	return t->cap ? &t->raw : NULL;
}
