// SPDX-License-Identifier: GPL-2.0
/*
 * `cidtrace doctor`: what this host supports and what cidtrace will use on it. The hooks are
 * not guessed from kernel versions: the tracer loads and attaches them as `record` would, so
 * the attach modes shown are the ones a trace gets.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "vocab.h"
#include "json.h"
#include "options.h"
#include "pidns.h"
#include "tracer.h"
#include "util.h"
#include "vsock_hooks.h"

#define MAX_ITEMS 20
#define NO_ROOT	  "rerun doctor as root to probe BPF"
#define TRACEFS	  "/sys/kernel/tracing"

const char doctor_help[] =
	"usage: cidtrace doctor [--json]\n"
	"\n"
	"Say what this host supports (kernel, root, BTF, pid namespace, tracefs, fentry, kprobes,\n"
	"BPF iterators, vhost_vsock, /dev/kvm, userfaultfd, RLIMIT_MEMLOCK) and which attach\n"
	"mode cidtrace will use per hook family, found by loading the hooks as record would. A\n"
	"line per item: OK, degraded or missing, with the fix. Without root it still says what\n"
	"it can.\n"
	"\n"
	"options:\n"
	"      --json               print one JSON document instead of the lines, schema\n"
	"                           cidtrace.doctor/1: {\"schema\", \"recording\": true|false,\n"
	"                           \"items\": [{\"state\", \"item\", \"detail\", \"fix\"}]}\n"
	"  -h, --help               this help\n"
	"\n"
	"exit codes: 0 recording will work, 2 usage error, 3 it will not (see the items\n"
	"missing: in a container, the pid namespace).\n"
	"\n"
	"examples:\n"
	"  sudo cidtrace doctor\n"
	"  sudo cidtrace doctor --json | jq '.items[] | select(.state != \"OK\")'\n";

const struct option doctor_options[] = {
	{ "json", no_argument, NULL, SNAP_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

enum level {
	OK,
	DEGRADED,
	MISSING,
};

static const char *const level_names[] = { "OK", "degraded", "missing" };

struct item {
	enum level level;
	const char *name;
	char detail[160];
	const char *fix;
};

struct doctor {
	struct item items[MAX_ITEMS];
	int n;
};

__attribute__((format(printf, 5, 6))) static void
add(struct doctor *d, enum level level, const char *name, const char *fix, const char *fmt, ...)
{
	struct item *it = &d->items[d->n++];
	va_list ap;

	it->level = level;
	it->name = name;
	it->fix = level == OK ? NULL : fix;
	va_start(ap, fmt);
	vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	va_end(ap);
}

/*
 * bcc's fentry_can_attach: load an empty fentry program on a vmlinux function and attach it.
 * Kernels that build fentry support may still refuse it (lockdown, an LSM, a hypervisor's
 * policy); only the attach says so. 0 or -errno.
 */
static int fentry_probe(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int id, prog, link;

	if (!vmlinux)
		return -errno;
	id = btf__find_by_name_kind(vmlinux, "vfs_read", BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id < 0)
		return id;
	opts.attach_btf_id = id;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ct_fentry_probe", "GPL", insns, 2, &opts);
	if (prog < 0)
		return prog;
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link >= 0)
		close(link);
	close(prog);
	return link < 0 ? link : 0;
}

static void check_kernel(struct doctor *d)
{
	struct utsname u;
	int major = 0, minor = 0;

	uname(&u);
	sscanf(u.release, "%d.%d", &major, &minor);
	add(d, major > 6 || (major == 6 && minor >= 1) ? OK : DEGRADED, "kernel",
	    "cidtrace is tested on 6.1 and later", "%s %s", u.release, u.machine);
}

/* What the tracer chose per hook family, as `record` would choose it. */
static bool check_hooks(struct doctor *d)
{
	struct collector_cfg cfg = { .live = LIVE_NONE };
	struct tracer_opts opts = { .ringbuf_bytes = 1u << 16 };
	const struct attach_modes *m;
	enum attach_mode vsock;
	bool iter, exact_vsock, uffd_iter;
	struct collector c;
	struct tracer t;

	collector_init(&c, &cfg);
	if (tracer_start(&t, &c, &opts)) {
		add(d, MISSING, "BPF ring buffer", "use a kernel built with CONFIG_BPF_SYSCALL=y",
		    "the process hooks and their ring buffer could not be loaded");
		collector_free(&c);
		return false;
	}
	m = &t.modes;
	iter = attach_mode_from_name(m->snapshot) == ATTACH_ITER;
	vsock = attach_mode_from_name(m->vsock);
	exact_vsock = vsock == ATTACH_FEXIT || vsock == ATTACH_KPROBE;
	uffd_iter = attach_mode_from_name(m->uffd) == ATTACH_ITER;
	add(d, OK, "BPF ring buffer", NULL, "loaded");
	add(d, iter ? OK : DEGRADED, "BPF iterators",
	    "use a kernel with BPF task iterators (5.8+): processes started before cidtrace "
	    "are unknown",
	    "%s", iter ? "the task iterator loads" : "refused");
	add(d, attach_mode_from_name(m->process) == ATTACH_TP_BTF ? OK : DEGRADED, "hooks: process",
	    "none needed: raw_tp sees the same events", "%s", m->process);
	add(d, iter ? OK : DEGRADED, "hooks: snapshot", "see BPF iterators", "%s", m->snapshot);
	add(d, exact_vsock ? OK : DEGRADED, "hooks: vsock",
	    vsock != ATTACH_TRACEPOINT ? "load or build vhost_vsock to track CIDs"
				       : "load vhost_vsock before tracing for exact hooks",
	    "%s", m->vsock);
	add(d,
	    attach_mode_from_name(m->uffd) == ATTACH_FEXIT ? OK
	    : uffd_iter					   ? DEGRADED
							   : MISSING,
	    "hooks: uffd",
	    uffd_iter ? "none needed: orphans are found; pages served are estimated from "
			"resident memory"
		      : "use a kernel with BPF task_file iterators",
	    "%s", m->uffd);
	tracer_stop(&t);
	collector_free(&c);
	return true;
}

static void check_tracing(struct doctor *d)
{
	int err = access(TRACEFS "/events", F_OK) ? errno : 0;
	bool events = !access(TRACEFS "/kprobe_events", F_OK);
	bool pmu = !access("/sys/bus/event_source/devices/kprobe/type", F_OK);

	add(d, err ? DEGRADED : OK, "tracefs",
	    "none needed: cidtrace mounts it when it needs syscall tracepoints", TRACEFS " %s",
	    !err	    ? "mounted"
	    : err == EACCES ? "not readable without root"
			    : "not mounted");
	add(d, events || pmu ? OK : DEGRADED, "kprobes",
	    "rebuild with CONFIG_KPROBES=y and CONFIG_KPROBE_EVENTS=y", "%s",
	    events ? "kprobe_events"
	    : pmu  ? "kprobe PMU"
		   : "no kprobe_events, no kprobe PMU");
}

/* Returns whether recording will work, as far as BPF can tell. */
static bool check_bpf(struct doctor *d, bool can_probe)
{
	int err;

	if (!can_probe) {
		add(d, MISSING, "fentry/fexit", NO_ROOT, "not probed");
		add(d, MISSING, "BPF ring buffer", NO_ROOT, "not probed");
		return false;
	}
	err = fentry_probe();
	add(d, err ? DEGRADED : OK, "fentry/fexit",
	    "none needed: kprobes, tracepoints and iterators stand in (allow BPF tracing programs "
	    "for exact vsock and uffd hooks)",
	    "%s%s", err ? "refused: " : "attach on vfs_read", err ? strerror(-err) : "");
	return check_hooks(d);
}

static void check_host(struct doctor *d)
{
	static const char *const presence[] = { "absent", "loaded", "loadable" };
	enum vsock_presence vp = vsock_presence();
	char limit[32];
	struct rlimit rl;
	struct stat st;
	int unpriv;
	FILE *f;

	add(d, vp == VSOCK_ABSENT ? DEGRADED : OK, "vhost_vsock",
	    "build the kernel with CONFIG_VHOST_VSOCK to track CIDs", "%s", presence[vp]);
	add(d, !stat("/dev/kvm", &st) && S_ISCHR(st.st_mode) ? OK : MISSING, "/dev/kvm",
	    "load kvm_intel or kvm_amd (in a VM: enable nested virtualization)", "%s",
	    !stat("/dev/kvm", &st) ? "present" : "absent");
	f = fopen("/proc/sys/vm/unprivileged_userfaultfd", "re");
	if (!f || fscanf(f, "%d", &unpriv) != 1)
		add(d, MISSING, "userfaultfd", "rebuild with CONFIG_USERFAULTFD=y",
		    "no vm.unprivileged_userfaultfd sysctl");
	else
		add(d, OK, "userfaultfd", NULL,
		    "vm.unprivileged_userfaultfd=%d, /dev/userfaultfd %s", unpriv,
		    access("/dev/userfaultfd", F_OK) ? "absent" : "present");
	if (f)
		fclose(f);
	getrlimit(RLIMIT_MEMLOCK, &rl);
	if (rl.rlim_cur == RLIM_INFINITY)
		snprintf(limit, sizeof(limit), "unlimited");
	else
		snprintf(limit, sizeof(limit), "%llu KiB", (unsigned long long)rl.rlim_cur >> 10);
	/* since 5.11 BPF memory is charged to the memory cgroup, and libbpf stops raising this */
	add(d, OK, "RLIMIT_MEMLOCK", NULL, "%s (informational on 5.11+: memcg accounting)", limit);
}

static int diagnose(bool json)
{
	bool root = tracer_has_caps(), btf = !access("/sys/kernel/btf/vmlinux", R_OK), recording;
	struct doctor d = { .n = 0 };
	char ns[160];
	bool host_ns = pidns_check(ns, sizeof(ns)) == PIDNS_HOST;

	check_kernel(&d);
	add(&d, root ? OK : MISSING, "root", "run it with sudo (or grant CAP_BPF and CAP_PERFMON)",
	    "%s",
	    root ? (geteuid() ? "CAP_BPF+CAP_PERFMON" : "root")
		 : "not root, no CAP_BPF+CAP_PERFMON");
	add(&d, btf ? OK : MISSING, "BTF", "rebuild with CONFIG_DEBUG_INFO_BTF=y",
	    "/sys/kernel/btf/vmlinux %s", btf ? "present" : "absent");
	/* record, run, cids and guests refuse to run elsewhere: pids and /proc would disagree */
	add(&d, host_ns ? OK : MISSING, "pid namespace",
	    "run cidtrace in the host pid namespace (docker --pid=host, kubernetes hostPID: true)",
	    "%s", ns);
	check_tracing(&d);
	recording = check_bpf(&d, root && btf) && host_ns;
	check_host(&d);
	if (json) {
		struct json_object *doc = json_object_new_object(), *arr = json_object_new_array();

		for (int i = 0; i < d.n; i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "state", jstr(level_names[d.items[i].level]));
			json_object_object_add(o, "item", jstr(d.items[i].name));
			json_object_object_add(o, "detail", jstr(d.items[i].detail));
			json_object_object_add(o, "fix", jstr_or_null(d.items[i].fix));
			json_object_array_add(arr, o);
		}
		json_object_object_add(doc, "schema", jstr("cidtrace.doctor/1"));
		json_object_object_add(doc, "recording", json_object_new_boolean(recording));
		json_object_object_add(doc, "items", arr);
		jwrite(stdout, doc, CT_JSON_FLAGS | JSON_C_TO_STRING_PRETTY);
		putchar('\n');
		json_object_put(doc);
	} else {
		for (int i = 0; i < d.n; i++) {
			const struct item *it = &d.items[i];

			printf("%-9s %-16s %s", level_names[it->level], it->name, it->detail);
			if (it->fix)
				printf("; fix: %s", it->fix);
			putchar('\n');
		}
		printf("recording: %s\n", recording ? "will work" : "will not work");
	}
	return recording ? EXIT_OK : EXIT_ENV;
}

int doctor_command(int argc, char **argv)
{
	struct collector_cfg cfg;
	bool json = false;
	int ret;

	collector_cfg_defaults(&cfg);
	ret = parse_snapshot_options(argc, argv, doctor_options, &cfg, &json);
	return ret >= 0 ? ret : diagnose(json);
}
