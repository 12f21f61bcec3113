// SPDX-License-Identifier: GPL-2.0
/*
 * `cidtrace replay FILE`: feed a --raw capture (docs/raw-format.md) through the same core, in
 * the same order, serving every source call the logged result. The report and the live lines
 * come out as the live run wrote them.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach.h"
#include "collector.h"
#include "commands.h"
#include "live.h"
#include "options.h"
#include "rawfmt.h"
#include "report.h"
#include "slice.h"
#include "uffd.h"
#include "util.h"
#include "vsock.h"

#define MAX_RECORD (64u << 10) /* larger than any ring buffer record */

const char replay_help[] =
	"usage: cidtrace replay FILE [-o OUT] [--json] [-q] [--scope DIR] [--since T] [--until T]\n"
	"\n"
	"Feed a capture written by `cidtrace record --raw FILE` or `cidtrace run --raw FILE`\n"
	"through the collector again, offline: the same report, byte for byte, and the same\n"
	"live lines, as the traced run wrote them (docs/raw-format.md). No root needed.\n"
	"\n"
	"options:\n"
	"  -o, --output OUT         report path (default cidtrace-report.json)\n"
	"      --json               live events as NDJSON on stdout, as record --json printed\n"
	"                           them (the report itself is -o OUT)\n"
	"  -q, --quiet              no live events\n"
	"      --scope DIR, --scope-cgroup PATH, --scope-container ID, --since T, --until T\n"
	"                           OUT is only a slice of the report: one job's processes, CIDs,\n"
	"                           userfaultfds and findings (as in `cidtrace report`); the whole\n"
	"                           report is never written at OUT\n"
	"  -h, --help               this help\n"
	"\n"
	"exit codes: 0 ok, 1 the report could not be written, 2 usage error or unwritable -o,\n"
	"4 the capture is unreadable, not a capture, or truncated or corrupt: then it is\n"
	"replayed up to its last whole record and the report says complete: false.\n"
	"\n"
	"examples:\n"
	"  cidtrace replay ci-job.raw -o report.json\n"
	"  cidtrace replay ci-job.raw -q -o /tmp/r.json && cidtrace report /tmp/r.json\n"
	"  cidtrace replay ci-job.raw --json -o /tmp/r.json | jq 'select(.event == \"conflict\")'\n"
	"  cidtrace replay runner.raw -q --scope /ci/job42 -o job42.json\n";

enum { OPT_JSON = 256 };

/* clang-format off */
const struct option replay_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	SLICE_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
/* clang-format on */

struct replay {
	struct raw_in f;
	struct raw_header h;
	struct collector c;
	uint64_t nrec; /* whole records consumed */
	uint64_t last_ns; /* the latest time the capture told */
	const char *why; /* set once the capture cannot be followed further */
	_Alignas(8) uint8_t rec[MAX_RECORD];
};

static void fail(struct replay *r, const char *why)
{
	if (!r->why)
		r->why = why;
}

/*
 * The next record. IS_FILE records, the answers of the test-dir file check of earlier
 * cidtraces (the core no longer asks the filesystem), are passed over.
 */
static int next_rec(struct replay *r, uint16_t *type, uint16_t *flags, struct raw_in *pl)
{
	int rc;

	while ((rc = raw_next(&r->f, type, flags, pl)) == 1 && *type == RAW_IS_FILE)
		r->nrec++;
	return rc;
}

/* The next record, which a source call expects to be of type. */
static bool src_rec(struct replay *r, uint16_t type, struct raw_in *pl)
{
	uint16_t t, flags;
	int rc;

	if (r->why)
		return false;
	rc = next_rec(r, &t, &flags, pl);
	if (rc != 1) {
		fail(r, rc ? "truncated" : "ends early");
		return false;
	}
	r->nrec++;
	if (t != type) {
		fail(r, "out of order");
		return false;
	}
	return true;
}

static bool check(struct replay *r, struct raw_in *pl, bool same)
{
	if (pl->bad || !same)
		fail(r, pl->bad ? "corrupt" : "out of order");
	return !r->why;
}

static int r_scan(void *ctx, uint32_t pid, void (*fn)(const struct ct_uffd_event *e, void *arg),
		  void *arg)
{
	struct replay *r = ctx;
	struct raw_in pl;
	uint32_t rpid, n;
	int ret;

	if (!src_rec(r, RAW_UFFD_SCAN, &pl))
		return -EIO;
	rpid = ri_u32(&pl);
	ret = (int32_t)ri_u32(&pl);
	n = ri_u32(&pl);
	if (!check(r, &pl, rpid == pid && n <= pl.len / sizeof(struct ct_uffd_event)))
		return -EIO;
	for (uint32_t i = 0; i < n; i++) {
		struct ct_uffd_event e;

		ri_copy(&pl, &e, sizeof(e));
		fn(&e, arg);
	}
	return ret;
}

static void r_serves(void *ctx,
		     bool (*fn)(const struct ct_uffd_serve_key *k,
				const struct ct_uffd_serve_stats *s, void *arg),
		     void *arg)
{
	struct replay *r = ctx;
	struct raw_in pl;
	uint32_t n;

	if (!src_rec(r, RAW_UFFD_SERVES, &pl))
		return;
	n = ri_u32(&pl);
	if (!check(r, &pl, n <= pl.len / 48))
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct ct_uffd_serve_key k;
		struct ct_uffd_serve_stats s;

		ri_copy(&pl, &k, sizeof(k));
		ri_copy(&pl, &s, sizeof(s));
		fn(&k, &s, arg);
	}
}

static int r_threads(void *ctx, uint32_t pid, struct thread_cpu *out, int max)
{
	struct replay *r = ctx;
	struct raw_in pl;
	uint32_t rpid;
	int n;

	if (!src_rec(r, RAW_THREADS, &pl))
		return -1;
	rpid = ri_u32(&pl);
	n = (int32_t)ri_u32(&pl);
	if (!check(r, &pl,
		   rpid == pid && n <= max &&
			   (n < 0 || (size_t)n * RAW_THREAD_LEN <= pl.len - pl.off)))
		return -1;
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		ri_copy(&pl, &out[i], RAW_THREAD_LEN);
	}
	/* captures before schedstat end here: their threads have none (sched false) */
	if (n > 0 && pl.len - pl.off >= (size_t)n * RAW_SCHED_LEN)
		for (int i = 0; i < n; i++) {
			out[i].run_ns = ri_u64(&pl);
			out[i].wait_ns = ri_u64(&pl);
			out[i].sched = ri_u32(&pl);
			ri_u32(&pl);
		}
	return check(r, &pl, true) ? n : -1;
}

static bool r_cpu_ticks(void *ctx, uint32_t pid, uint64_t *ticks)
{
	struct replay *r = ctx;
	struct raw_in pl;
	uint32_t rpid, ok;

	if (!src_rec(r, RAW_CPU_TICKS, &pl))
		return false;
	rpid = ri_u32(&pl);
	ok = ri_u32(&pl);
	*ticks = ri_u64(&pl);
	return check(r, &pl, rpid == pid) && ok;
}

static bool r_fdinfo(void *ctx, uint32_t pid, int fd, uint64_t *pending, uint64_t *total)
{
	struct replay *r = ctx;
	struct raw_in pl;
	uint32_t rpid, ok;
	int32_t rfd;

	if (!src_rec(r, RAW_FDINFO, &pl))
		return false;
	rpid = ri_u32(&pl);
	rfd = ri_u32(&pl);
	ok = ri_u32(&pl);
	ri_u32(&pl);
	if (!check(r, &pl, rpid == pid && rfd == fd) || !ok)
		return false;
	*pending = ri_u64(&pl);
	*total = ri_u64(&pl);
	return true;
}

static bool r_registered(void *ctx, uint32_t pid, uint64_t *registered, uint64_t *resident)
{
	struct replay *r = ctx;
	struct raw_in pl;
	uint32_t rpid, ok;

	if (!src_rec(r, RAW_REGISTERED, &pl))
		return false;
	rpid = ri_u32(&pl);
	ok = ri_u32(&pl);
	if (!check(r, &pl, rpid == pid) || !ok)
		return false;
	*registered = ri_u64(&pl);
	*resident = ri_u64(&pl);
	return true;
}

static int r_regions(void *ctx, uint32_t pid, struct ct_uffd_region *out, int max)
{
	struct replay *r = ctx;
	struct raw_in pl;
	uint32_t rpid, stored;
	int n;

	if (!src_rec(r, RAW_REGIONS, &pl))
		return -1;
	rpid = ri_u32(&pl);
	n = (int32_t)ri_u32(&pl);
	stored = ri_u32(&pl);
	ri_u32(&pl);
	if (!check(r, &pl,
		   rpid == pid && stored <= (uint32_t)max &&
			   stored * sizeof(*out) <= pl.len - pl.off))
		return -1;
	for (uint32_t i = 0; i < stored; i++)
		ri_copy(&pl, &out[i], sizeof(*out));
	return check(r, &pl, true) ? n : -1;
}

static bool r_resident(void *ctx, uint32_t pid, const struct ct_uffd_region *rg, int n,
		       uint64_t *bytes)
{
	struct replay *r = ctx;
	struct raw_in pl;
	uint32_t rpid, ok, rn;

	if (!src_rec(r, RAW_RESIDENT, &pl))
		return false;
	rpid = ri_u32(&pl);
	ok = ri_u32(&pl);
	rn = ri_u32(&pl);
	ri_u32(&pl);
	*bytes = ri_u64(&pl);
	return check(r, &pl, rpid == pid && rn == (uint32_t)n) && ok;
}

static int r_vsock_scan(void *ctx, uint64_t instance, struct vsock_holder *out, int max)
{
	struct replay *r = ctx;
	struct raw_in pl;
	uint64_t rinst;
	int n;

	if (!src_rec(r, RAW_VSOCK_SCAN, &pl))
		return -1;
	rinst = ri_u64(&pl);
	n = (int32_t)ri_u32(&pl);
	ri_u32(&pl); /* max */
	if (!check(r, &pl, rinst == instance && n <= max && (n < 0 || (size_t)n * 16 <= pl.len)))
		return -1;
	for (int i = 0; i < n; i++) {
		out[i].pid = ri_u32(&pl);
		out[i].flags = ri_u32(&pl);
		out[i].start_ns = ri_u64(&pl);
	}
	return n;
}

static int64_t r_local_cid(void *ctx)
{
	struct replay *r = ctx;
	struct raw_in pl;
	int64_t cid;

	if (!src_rec(r, RAW_LOCAL_CID, &pl))
		return 0;
	cid = ri_u64(&pl);
	return check(r, &pl, true) ? cid : 0;
}

static uint64_t r_now(void *ctx)
{
	struct replay *r = ctx;
	struct raw_in pl;
	uint64_t now;

	if (!src_rec(r, RAW_CLOCK, &pl))
		return r->last_ns;
	now = ri_u64(&pl);
	return check(r, &pl, true) ? now : r->last_ns;
}

static void set_vsock_source(struct replay *r, struct raw_in *pl)
{
	uint32_t scan = ri_u32(pl), releases_traced = ri_u32(pl);
	struct vsock_source src = { .ctx = r,
				    .scan = scan ? r_vsock_scan : NULL,
				    .local_cid = r_local_cid,
				    .releases_traced = releases_traced };

	if (check(r, pl, true))
		vsock_set_source(r->c.vsock, &src);
}

/* The live run's module-load hook may have switched the vsock source. */
static void on_module_load(void *ctx, const char *name)
{
	struct replay *r = ctx;
	size_t off = r->f.off;
	uint64_t nrec = r->nrec;
	uint16_t type, flags;
	struct raw_in pl;

	if (r->why || next_rec(r, &type, &flags, &pl) != 1 || type != RAW_VSOCK_SOURCE) {
		r->f.off = off;
		r->f.bad = false;
		r->nrec = nrec;
		return;
	}
	r->nrec++;
	set_vsock_source(r, &pl);
}

/* RAW_CONFIG: the collector's configuration, the trace's mode and run's command. */
static bool read_config(struct raw_in *pl, struct collector_cfg *cfg, char **mode, char ***command)
{
	uint64_t spin;
	int n;

	memset(cfg, 0, sizeof(*cfg));
	cfg->td.depth = ri_u32(pl);
	ri_u32(pl); /* the test-dir file check of earlier cidtraces, removed */
	cfg->live = ri_u32(pl);
	cfg->live_kinds = ri_u32(pl);
	cfg->job_pid = ri_u32(pl);
	cfg->self_pid = ri_u32(pl);
	spin = ri_u64(pl);
	memcpy(&cfg->spin_pct, &spin, sizeof(spin));
	cfg->spin_window_ns = ri_u64(pl);
	if ((n = ri_u16(pl)) > TESTDIR_MAX_ROOTS)
		return false;
	for (cfg->td.nroots = 0; cfg->td.nroots < n; cfg->td.nroots++)
		cfg->td.roots[cfg->td.nroots] = ri_str(pl);
	if ((n = ri_u16(pl)) > MAX_LIST)
		return false;
	for (cfg->nscopes = 0; cfg->nscopes < n; cfg->nscopes++)
		cfg->scopes[cfg->nscopes] = ri_str(pl);
	if ((n = ri_u16(pl)) > MAX_LIST * 2)
		return false;
	for (cfg->nvmm_comms = 0; cfg->nvmm_comms < n; cfg->nvmm_comms++)
		cfg->vmm_comms[cfg->nvmm_comms] = ri_str(pl);
	if ((n = ri_u16(pl)) > MAX_LIST)
		return false;
	for (cfg->npids = 0; cfg->npids < n; cfg->npids++)
		cfg->pids[cfg->npids] = ri_u32(pl);
	*mode = ri_str(pl);
	n = ri_u16(pl);
	*command = NULL;
	if (n && n != 0xffff) {
		*command = xcalloc(n + 1, sizeof(**command));
		for (int i = 0; i < n; i++)
			(*command)[i] = ri_str(pl);
	}
	/* older captures end here: no --kill-orphans */
	if (pl->off < pl->len)
		cfg->kill_orphans_ns = ri_u64(pl);
	/* ... or here: --scope in any mount namespace, no --scope-cgroup, --scope-container */
	if (pl->off < pl->len) {
		cfg->scope_mnt_ns = ri_u64(pl);
		if ((n = ri_u16(pl)) > MAX_LIST)
			return false;
		for (cfg->nscope_cgroups = 0; cfg->nscope_cgroups < n; cfg->nscope_cgroups++)
			cfg->scope_cgroups[cfg->nscope_cgroups] = ri_str(pl);
		if ((n = ri_u16(pl)) > MAX_LIST)
			return false;
		for (cfg->nscope_containers = 0; cfg->nscope_containers < n;
		     cfg->nscope_containers++)
			cfg->scope_containers[cfg->nscope_containers] = ri_str(pl);
	}
	return !pl->bad && *mode;
}

struct final {
	bool seen;
	uint64_t ended_ns, lost, vsock_since_ns, uffd_serves_overflow;
	struct raw_stats raw;
	struct attach_modes modes;
	uint64_t ringbuf_bytes;
	struct checkpoint_stats cp;
	bool have_cp; /* a capture from before they were counted has neither */
};

static void read_meta(struct raw_in *pl, struct final *m)
{
	m->ended_ns = ri_u64(pl);
	m->lost = ri_u64(pl);
	m->vsock_since_ns = ri_u64(pl);
	m->raw.records = ri_u64(pl);
	m->raw.bytes = ri_u64(pl);
	m->raw.dropped = ri_u64(pl);
	m->raw.complete = ri_u32(pl);
	m->modes.process = ri_str(pl);
	m->modes.snapshot = ri_str(pl);
	m->modes.vsock = ri_str(pl);
	m->modes.uffd = ri_str(pl);
	m->modes.vsock_since_ns = m->vsock_since_ns;
	if (pl->off < pl->len) {
		m->ringbuf_bytes = ri_u64(pl);
		m->cp.interval_ns = ri_u64(pl);
		m->cp.written = ri_u64(pl);
		m->cp.skipped = ri_u64(pl);
		m->cp.failed = ri_u64(pl);
		m->cp.last_stall_ns = ri_u64(pl);
		m->cp.max_stall_ns = ri_u64(pl);
		m->have_cp = true;
	}
	if (pl->off < pl->len) /* older captures: none counted */
		m->uffd_serves_overflow = ri_u64(pl);
	m->seen = !pl->bad;
}

/*
 * RAW_REAP: one --reap action, into the core's reap log as kernel/reap.c logged it; with
 * RAW_REAP_UFFD_ORPHAN, a --kill-orphans one, which the core also tells the live lines.
 */
static void add_reaped(struct replay *r, struct raw_in *pl, uint16_t flags)
{
	uint32_t pid = ri_u32(pl), exited = ri_u32(pl);
	uint64_t start_ns = ri_u64(pl), at_ns = ri_u64(pl);
	size_t n = pl->len - pl->off;
	const char *action = ri_bytes(pl, n);
	static const char *const actions[] = { "sigterm", "sigkill", "would_kill", "gone" };
	struct proc *p = pt_find(&r->c.pt, pid, start_ns);
	size_t i = 0;

	while (i < 4 && (strlen(actions[i]) != n || memcmp(actions[i], action, n)))
		i++;
	if (!check(r, pl, p && i < 4))
		return;
	if (flags & RAW_REAP_UFFD_ORPHAN)
		uffd_log_kill(&r->c, p, actions[i], at_ns)->exited = exited;
	else
		collector_log_reap(&r->c, p, actions[i], at_ns)->exited = exited;
}

/*
 * A format 1 exec record into r->rec as this cidtrace's: the fixed part it had, namespaces
 * and cgroup unknown (zero), then its argv. Returns the new length.
 */
static size_t exec_v1(struct replay *r, const uint8_t *rec, size_t len)
{
	const size_t grow = CT_EXEC_FIXED_LEN - CT_EXEC_V1_FIXED_LEN;

	memcpy(r->rec, rec, CT_EXEC_V1_FIXED_LEN);
	memset(r->rec + CT_EXEC_V1_FIXED_LEN, 0, grow);
	memcpy(r->rec + CT_EXEC_FIXED_LEN, rec + CT_EXEC_V1_FIXED_LEN, len - CT_EXEC_V1_FIXED_LEN);
	return len + grow;
}

static void ring(struct replay *r, struct raw_in *pl)
{
	const struct ct_event_hdr *h = (const void *)r->rec;
	size_t len = pl->len;

	if (!check(r, pl, len <= sizeof(r->rec)))
		return;
	memcpy(r->rec, pl->p, len);
	if (len >= sizeof(*h) && h->ts_ns > r->last_ns)
		r->last_ns = h->ts_ns;
	if (r->h.format < 2 && len >= CT_EXEC_V1_FIXED_LEN && h->type == CT_EV_EXEC) {
		if (!check(r, pl, len + CT_EXEC_FIXED_LEN - CT_EXEC_V1_FIXED_LEN <= sizeof(r->rec)))
			return;
		len = exec_v1(r, pl->p, len);
	}
	collector_handle(&r->c, r->rec, len);
}

static void seed(struct replay *r, struct raw_in *pl)
{
	uint32_t argv_len = ri_u32(pl), flags = ri_u32(pl);
	struct ct_exec_event *e = (void *)r->rec;
	const char *argv;
	char *exe = NULL;
	size_t n;

	memset(e, 0, CT_EXEC_FIXED_LEN);
	ri_copy(pl, e, r->h.format < 2 ? CT_EXEC_V1_FIXED_LEN : CT_EXEC_FIXED_LEN);
	argv = ri_bytes(pl, argv_len);
	n = pl->len - pl->off;
	if (!check(r, pl, argv_len <= CT_ARGV_MAX))
		return;
	if (flags & 2)
		exe = xmemdup(ri_bytes(pl, n), n);
	collector_seed(&r->c, e, argv, argv_len, flags & 1, exe);
	free(exe);
}

/*
 * After META come only the results of the calls that building the final report makes. They
 * must all be whole before that report is built from the capture's final meta: a capture cut
 * short there is as incomplete as one cut anywhere else.
 */
static void check_tail(struct replay *r)
{
	struct raw_in tail = r->f, pl;
	uint16_t type, flags;
	uint64_t n = 0;
	int rc;

	while ((rc = raw_next(&tail, &type, &flags, &pl)) == 1 && type >= RAW_UFFD_SCAN)
		n++;
	if (rc) {
		r->nrec += n;
		fail(r, rc < 0 ? "truncated" : "out of order");
	}
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	int err = 0;

	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		err = errno ? -errno : -EINVAL;
	} else {
		*data = xmalloc(st.st_size ? st.st_size : 1);
		if ((*len = fread(*data, 1, st.st_size, f)) != (size_t)st.st_size)
			err = -EIO;
	}
	fclose(f);
	return err;
}

/*
 * Where a replay that writes a slice puts the whole report: a private directory beside OUT
 * (mkdtemp: mode 0700), so that OUT never holds more than the slice, not even for a moment.
 */
static int whole_report_path(const char *out, char *dir, size_t dirlen, char *path, size_t len)
{
	const char *slash = strrchr(out, '/');
	int n = slash ? snprintf(dir, dirlen, "%.*s/.cidtrace-replay.XXXXXX", (int)(slash - out),
				 out)
		      : snprintf(dir, dirlen, ".cidtrace-replay.XXXXXX");

	if (n < 0 || (size_t)n >= dirlen || (size_t)n + sizeof("/report.json") > len)
		return -ENAMETOOLONG;
	if (!mkdtemp(dir))
		return -errno;
	/* not truncated: checked above; said again for the compiler */
	return snprintf(path, len, "%s/report.json", dir) < (int)len ? 0 : -ENAMETOOLONG;
}

int replay_command(int argc, char **argv)
{
	const char *out = "cidtrace-report.json", *path, *whole;
	char whole_dir[PATH_MAX], whole_path[PATH_MAX];
	struct slice slice = { 0 };
	bool sliced;
	enum live_format live = LIVE_TEXT;
	struct replay *r;
	struct report_meta meta = { 0 };
	struct final fin = { 0 };
	struct attach_modes start_modes;
	struct collector_cfg cfg;
	char *mode, **command, *job_cgroup = NULL;
	uint16_t type, flags;
	struct raw_in pl;
	uint8_t *data = NULL;
	size_t len = 0;
	int opt, err, rc;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, REPLAY_SHORTOPTS, replay_options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case OPT_JSON:
			live = LIVE_JSON;
			break;
		case 'q':
			live = LIVE_NONE;
			break;
		case OPT_SLICE_SCOPE:
		case OPT_SLICE_SINCE:
		case OPT_SLICE_UNTIL:
		case OPT_SLICE_CGROUP:
		case OPT_SLICE_CONTAINER:
			if ((err = opt_slice(&slice, opt, optarg)))
				return err;
			break;
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("replay needs a capture file");
	if (optind + 1 < argc)
		return usage_error("unexpected argument '%s'", argv[optind + 1]);
	path = argv[optind];
	if ((err = atomic_write_probe(out))) {
		errmsg("cannot write report '%s': %s", out, strerror(-err));
		return EXIT_USAGE;
	}
	if ((err = read_file(path, &data, &len))) {
		errmsg("cannot read capture '%s': %s", path, strerror(-err));
		return EXIT_INPUT;
	}
	r = xcalloc(1, sizeof(*r));
	r->f = (struct raw_in){ data, len, 0, false };
	err = raw_header_read(&r->f, &r->h);
	if (!err && (raw_next(&r->f, &type, &flags, &pl) != 1 || type != RAW_CONFIG ||
		     !read_config(&pl, &cfg, &mode, &command)))
		err = -EIO;
	if (!err && r->h.page_size != (uint32_t)getpagesize())
		err = -EXDEV;
	if (err) {
		errmsg("%s: %s", path,
		       err == -EINVAL		 ? "not a cidtrace raw capture"
		       : err == -EPROTONOSUPPORT ? "a raw capture format this cidtrace cannot read"
		       : err == -EXDEV		 ? "captured on a host with another page size"
				       : "raw capture truncated before its first records");
		return EXIT_INPUT;
	}
	r->nrec = 1;
	sliced = slice_wanted(&slice);
	whole = sliced ? whole_path : out;
	if (sliced && (err = whole_report_path(out, whole_dir, sizeof(whole_dir), whole_path,
					       sizeof(whole_path)))) {
		errmsg("cannot write report '%s': %s", out, strerror(-err));
		return EXIT_RUNTIME;
	}
	signal(SIGPIPE, SIG_IGN); /* as record: a closed stdout stops the live lines only */
	clock_set_offset(r->h.wall_minus_boot_ns);
	cfg.live = live;
	/* a capture from before retention: the defaults, as documented (docs/raw-format.md) */
	cfg.keep_processes = r->h.has_retention ? r->h.keep_processes : KEEP_PROCESSES_DEFAULT;
	cfg.keep_for_ns = r->h.has_retention ? r->h.keep_for_ns : KEEP_FOR_NS_DEFAULT;
	collector_init(&r->c, &cfg);
	live_observe(&r->c);
	r->c.now = r_now;
	r->c.now_ctx = r;
	r->c.on_module_load = on_module_load;
	r->c.on_module_load_ctx = r;
	start_modes = (struct attach_modes){ r->h.process, r->h.snapshot, r->h.vsock,
					     r->h.vsock_since_ns, r->h.uffd };
	meta = (struct report_meta){ .mode = mode,
				     .command = command,
				     .attach = &start_modes,
				     .hostname = r->h.hostname,
				     .kernel = r->h.kernel };

	while (!r->why && !fin.seen && (rc = next_rec(r, &type, &flags, &pl)) == 1) {
		r->nrec++;
		switch (type) {
		case RAW_RING:
			ring(r, &pl);
			break;
		case RAW_SEED:
			seed(r, &pl);
			break;
		case RAW_LINK:
			collector_link_parents(&r->c);
			break;
		case RAW_VSOCK_SEED:
			if (check(r, &pl, pl.len >= CT_VSOCK_V1_LEN)) {
				/* an older capture's seed has no net_ns: 0, unknown */
				memset(r->rec, 0, sizeof(struct ct_vsock_event));
				memcpy(r->rec, pl.p,
				       pl.len < sizeof(struct ct_vsock_event)
					       ? pl.len
					       : sizeof(struct ct_vsock_event));
				vsock_seed(&r->c, (const void *)r->rec);
			}
			break;
		case RAW_TICK: {
			uint64_t now = ri_u64(&pl);

			if (!check(r, &pl, true))
				break;
			r->last_ns = now > r->last_ns ? now : r->last_ns;
			if (flags & RAW_TICK_VSOCK)
				vsock_tick(&r->c, now);
			if (flags & RAW_TICK_UFFD)
				uffd_tick(&r->c, now);
			collector_tick(&r->c, now);
			break;
		}
		case RAW_START:
			r->c.started_ns = meta.started_ns = ri_u64(&pl);
			r->last_ns = meta.started_ns;
			check(r, &pl, true);
			break;
		case RAW_JOB:
			r->c.cfg.job_pid = (int32_t)ri_u32(&pl);
			/* the job cgroup's path follows since it exists; before, ancestry only */
			if (pl.off < pl.len)
				r->c.cfg.job_cgroup = job_cgroup = ri_str(&pl);
			check(r, &pl, true);
			break;
		case RAW_REPORT: /* an older capture's checkpoint, which refreshed uffd memory */
			report_write(whole, &r->c, &meta, NULL);
			break;
		case RAW_PPID: {
			uint32_t pid = ri_u32(&pl), ppid = ri_u32(&pl);
			uint64_t start_ns = ri_u64(&pl);

			if (check(r, &pl, true))
				collector_reparent(&r->c, pid, start_ns, ppid);
			break;
		}
		case RAW_UFFD_SOURCE: {
			struct uffd_source src = { .ctx = r,
						   .scan = r_scan,
						   .threads = r_threads,
						   .cpu_ticks = r_cpu_ticks,
						   .fdinfo = r_fdinfo,
						   .registered = r_registered };
			uint32_t serves;

			src.ioctls_traced = ri_u32(&pl);
			serves = ri_u32(&pl);
			src.serves = serves & 1 ? r_serves : NULL;
			src.final_counts = serves & 2;
			/* captures before the regions: the owner's registration is its sum */
			src.regions = serves & 4 ? r_regions : NULL;
			src.resident = serves & 4 ? r_resident : NULL;
			src.tick_hz = ri_u64(&pl);
			/* older captures end here: no schedstat, spinning judged by granted */
			src.schedstat = pl.len - pl.off >= 4 && ri_u32(&pl);
			if (check(r, &pl, true))
				uffd_set_source(r->c.uffd, &src);
			break;
		}
		case RAW_VSOCK_SOURCE:
			set_vsock_source(r, &pl);
			break;
		case RAW_REAP:
			add_reaped(r, &pl, flags);
			break;
		case RAW_META:
			read_meta(&pl, &fin);
			if (check(r, &pl, fin.seen))
				check_tail(r);
			break;
		default: /* a source's result with no call for it, or an unknown input */
			fail(r, "out of order");
		}
	}
	if (!r->why && !fin.seen)
		fail(r, r->f.bad ? "truncated" : "ends early");

	if (fin.seen && !r->why) {
		meta.ended_ns = fin.ended_ns;
		meta.lost = fin.lost;
		meta.uffd_serves_overflow = fin.uffd_serves_overflow;
		meta.attach = &fin.modes;
		meta.raw = &fin.raw;
		meta.ring_buffer_bytes = fin.ringbuf_bytes;
		meta.checkpoints = fin.have_cp ? &fin.cp : NULL;
	} else {
		meta.ended_ns = r->last_ns ? r->last_ns : 1;
		meta.incomplete = true;
	}
	err = report_write(whole, &r->c, &meta, NULL);
	if (err)
		errmsg("cannot write report '%s': %s", whole, strerror(-err));
	if (sliced) {
		/* the slice is made as `cidtrace report --format json` makes it */
		if (!err && report_render_file(whole, "json", out, false, &slice))
			err = -EIO;
		unlink(whole);
		rmdir(whole_dir);
	}
	report_warn_lost(&meta, out);
	collector_free(&r->c);
	free(job_cgroup);
	if (r->why) {
		errmsg("%s: capture %s after %llu whole records: the report is incomplete", path,
		       r->why, (unsigned long long)r->nrec);
		return EXIT_INPUT;
	}
	return err ? EXIT_RUNTIME : EXIT_OK;
}
