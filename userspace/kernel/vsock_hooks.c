// SPDX-License-Identifier: GPL-2.0
/*
 * Attaching the vhost-vsock hooks: precise (fentry/fexit, then kprobes) while the module is
 * loaded, syscall tracepoints while it is absent but loadable, nothing where it cannot exist.
 * A late module load upgrades tracepoints to precise hooks; the tracepoints stay attached
 * until then, so no ioctl goes unseen in between.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "proc.skel.h"
#include "maps.h"
#include "state.h"
#include "util.h"
#include "vsock.h"
#include "vsock.skel.h"
#include "vsock_files.h"
#include "vsock_hooks.h"
#include "vsock_iter.skel.h"
#include "vsock_tp.skel.h"

#define TRACEFS "/sys/kernel/tracing"
/* <linux/vm_sockets.h>: the CID this host answers to when it is itself a guest. */
#define IOCTL_VM_SOCKETS_GET_LOCAL_CID 0x7b9

enum vsock_presence vsock_presence(void)
{
	char path[300], line[1024];
	enum vsock_presence ret = VSOCK_ABSENT;
	struct utsname u;
	FILE *f;

	if (!access("/sys/module/vhost_vsock", F_OK))
		return VSOCK_LOADED;
	if (access("/proc/modules", F_OK) || uname(&u))
		return VSOCK_ABSENT;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	f = fopen(path, "re");
	if (!f)
		return VSOCK_ABSENT;
	while (ret == VSOCK_ABSENT && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (colon && (*colon = '\0', strstr(line, "/vhost_vsock.ko")))
			ret = VSOCK_LOADABLE;
	}
	fclose(f);
	return ret;
}

static struct vsock_bpf *load_precise(struct vsock_hooks *t, bool kprobe)
{
	struct vsock_bpf *skel = vsock_bpf__open();

	if (!skel)
		return NULL;
	bpf_program__set_autoload(skel->progs.fexit_vhost_vsock_dev_ioctl, !kprobe);
	bpf_program__set_autoload(skel->progs.fentry_vhost_vsock_dev_release, !kprobe);
	bpf_program__set_autoload(skel->progs.kprobe_vhost_vsock_dev_ioctl, kprobe);
	bpf_program__set_autoload(skel->progs.kretprobe_vhost_vsock_dev_ioctl, kprobe);
	bpf_program__set_autoload(skel->progs.kprobe_vhost_vsock_dev_release, kprobe);
	share_maps(t->proc, skel->maps.events, skel->maps.lost_events);
	if (vsock_bpf__load(skel) || vsock_bpf__attach(skel)) {
		vsock_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/*
 * Classic tracepoints are found through tracefs, which may not be mounted. A tracefs mounted
 * here stays mounted at exit: another cidtrace, perf or bpftrace may be using it by then,
 * and nothing tells.
 */
bool ensure_tracefs(bool verbose)
{
	if (!access(TRACEFS "/events", F_OK))
		return true;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL)) {
		errmsg("cannot mount tracefs at " TRACEFS ": %s", strerror(errno));
		return false;
	}
	if (verbose)
		errmsg("mounted tracefs at " TRACEFS " for the syscall tracepoints");
	return true;
}

static struct vsock_tp_bpf *load_tracepoints(struct vsock_hooks *t, bool watch_modules)
{
	struct vsock_tp_bpf *skel;

	if (!ensure_tracefs(t->verbose) || !(skel = vsock_tp_bpf__open()))
		return NULL;
	bpf_program__set_autoload(skel->progs.tp_btf_module_load, watch_modules);
	share_maps(t->proc, skel->maps.events, skel->maps.lost_events);
	if (vsock_tp_bpf__load(skel) || vsock_tp_bpf__attach(skel)) {
		vsock_tp_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

void vsock_load_iter(struct vsock_hooks *t)
{
	struct vsock_iter_bpf *skel = vsock_iter_bpf__open();

	if (!skel)
		return;
	share_maps(t->proc, skel->maps.events, skel->maps.lost_events);
	if (vsock_iter_bpf__load(skel) ||
	    !(t->vsock_iter_link = bpf_program__attach_iter(skel->progs.iter_vsock_files, NULL))) {
		vsock_iter_bpf__destroy(skel);
		return;
	}
	t->vsock_iter = skel;
}

int vsock_iterate_files(struct vsock_hooks *t,
			void (*fn)(const struct ct_vsock_event *e, void *arg), void *arg)
{
	struct ct_vsock_event e;
	int fd;

	if (!t->vsock_iter_link)
		return -ENOENT;
	fd = bpf_iter_create(bpf_link__fd(t->vsock_iter_link));
	if (fd < 0)
		return -errno;
	while (read(fd, &e, sizeof(e)) == sizeof(e))
		fn(&e, arg);
	close(fd);
	return 0;
}

struct scan {
	uint64_t instance;
	struct vsock_holder *out;
	int max, n;
};

static void collect_holder(const struct ct_vsock_event *e, void *arg)
{
	struct scan *s = arg;

	if (e->instance != s->instance || s->n >= s->max)
		return;
	for (int i = 0; i < s->n; i++)
		if (s->out[i].pid == e->hdr.pid)
			return; /* the same file under two fds */
	s->out[s->n++] = (struct vsock_holder){ e->hdr.pid, e->hdr.start_ns, e->holder_flags };
}

static int scan_holders(void *ctx, uint64_t instance, struct vsock_holder *out, int max)
{
	struct scan s = { instance, out, max, 0 };

	return vsock_iterate_files(ctx, collect_holder, &s) ? -1 : s.n;
}

static int64_t host_local_cid(void *ctx)
{
	unsigned int cid;
	int64_t ret = 0;
	int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) == 0)
		ret = cid;
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The core's vsock source: the holder scan where it can run, and the host's own CID. */
static void set_source(struct vsock_hooks *t, struct collector *c, bool scan, bool releases_traced)
{
	struct vsock_source src = { .ctx = t,
				    .scan = scan ? scan_holders : NULL,
				    .local_cid = host_local_cid,
				    .releases_traced = releases_traced };

	capture_wrap_vsock(t->cap, &src);
	vsock_set_source(c->vsock, &src);
}

static void seed_binding(const struct ct_vsock_event *e, void *arg)
{
	struct vsock_hooks *t = arg;

	capture_vsock_seed(t->cap, t->collector, e);
}

static bool attach_precise(struct vsock_hooks *t)
{
	if (t->no_fentry)
		return false;
	t->vsock_precise = load_precise(t, false);
	t->modes->vsock = attach_mode_name(ATTACH_FEXIT);
	if (!t->vsock_precise) {
		if (t->verbose)
			errmsg("fentry/fexit on vhost_vsock refused, trying kprobes");
		t->vsock_precise = load_precise(t, true);
		t->modes->vsock = attach_mode_name(ATTACH_KPROBE);
	}
	if (!t->vsock_precise) {
		if (t->verbose)
			errmsg("kprobes on vhost_vsock unavailable, using syscall tracepoints");
		return false;
	}
	t->modes->vsock_since_ns = now_boot_ns();
	vsock_load_iter(t);
	return true;
}

/* Called for every module load while the tracepoints watch for vhost_vsock. */
static void on_module_load(void *ctx, const char *name)
{
	struct vsock_hooks *t = ctx;

	if (strcmp(name, "vhost_vsock") || t->vsock_precise)
		return;
	if (!attach_precise(t)) {
		vsock_load_iter(t);
		return;
	}
	set_source(t, t->collector, true, true);
	/* The precise hooks now see every ioctl; stop paying for the tracepoints. */
	t->vsock_tp->bss->precise_active = true;
	bpf_link__destroy(t->vsock_tp->links.tracepoint__syscalls__sys_exit_ioctl);
	t->vsock_tp->links.tracepoint__syscalls__sys_exit_ioctl = NULL;
	if (t->verbose)
		errmsg("vhost_vsock loaded: switched to %s", t->modes->vsock);
}

void vsock_hooks_start(struct vsock_hooks *t, struct collector *c)
{
	enum vsock_presence presence = vsock_presence();

	t->collector = c;
	t->modes->vsock = attach_mode_name(ATTACH_UNAVAILABLE);
	if (presence == VSOCK_ABSENT) {
		if (t->verbose)
			errmsg("vhost_vsock is neither loaded nor loadable: CID tracking off");
		set_source(t, c, false, false);
		return;
	}
	if (presence == VSOCK_LOADABLE || !attach_precise(t)) {
		t->vsock_tp = load_tracepoints(t, presence == VSOCK_LOADABLE);
		if (!t->vsock_tp) {
			errmsg("cannot attach the vsock hooks: CID tracking off (-v for details)");
			t->modes->vsock = attach_mode_name(ATTACH_UNAVAILABLE);
			set_source(t, c, false, false);
			return;
		}
		t->modes->vsock = attach_mode_name(ATTACH_TRACEPOINT);
		t->modes->vsock_since_ns = now_boot_ns();
		c->on_module_load = on_module_load;
		c->on_module_load_ctx = t;
		if (presence == VSOCK_LOADED)
			vsock_load_iter(t);
	}
	set_source(t, c, true, t->vsock_precise != NULL);
	if (vsock_iterate_files(t, seed_binding, t))
		vsock_proc_scan(seed_binding, t); /* no iterator: what /proc and argv can tell */
}

void vsock_hooks_stop(struct vsock_hooks *t)
{
	bpf_link__destroy(t->vsock_iter_link);
	vsock_iter_bpf__destroy(t->vsock_iter);
	vsock_bpf__destroy(t->vsock_precise);
	vsock_tp_bpf__destroy(t->vsock_tp);
	t->vsock_iter_link = NULL;
	t->vsock_iter = NULL;
	t->vsock_precise = NULL;
	t->vsock_tp = NULL;
}

const char *vsock_files_now(void (*fn)(const struct ct_vsock_event *e, void *arg), void *arg)
{
	struct vsock_hooks t = { 0 };
	const char *source = "iter";

	if (access("/sys/module/vhost_vsock", F_OK))
		return source;
	vsock_load_iter(&t);
	if (vsock_iterate_files(&t, fn, arg)) {
		source = "proc";
		vsock_proc_scan(fn, arg);
	}
	vsock_hooks_stop(&t);
	return source;
}
