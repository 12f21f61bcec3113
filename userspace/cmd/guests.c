// SPDX-License-Identifier: GPL-2.0
/*
 * `cidtrace guests`: every VMM on the host now, worst first, for an operator who cannot wait
 * for a trace. One snapshot: the task iterator for processes (classified by the collector, so
 * roles and test dirs are those a report would give), the scan behind `cidtrace cids` for
 * CIDs, the userfaultfd iterator for who holds each guest's memory, and CPU over a short
 * sample, the one thing a snapshot cannot tell.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "vocab.h"
#include "commands.h"
#include "json.h"
#include "options.h"
#include "procfs.h"
#include "report.h"
#include "tracer.h"
#include "uffd.h"
#include "uffd_hooks.h"
#include "util.h"
#include "vsock_files.h"
#include "vsock_hooks.h"

#define SAMPLE_NS   250000000ull
#define MAX_THREADS 64 /* a VMM's threads sampled for demand */
#define MAX_CIDS    8

const char guests_help[] =
	"usage: cidtrace guests [--json] [--scratch-root DIR]... [options]\n"
	"\n"
	"List every VMM on this host now, worst first: spinning, stalled or pager-lost\n"
	"userfaultfd guests, then orphaned ones, then the rest; with pid, ppid (INSIDE: its pid\n"
	"in its own pid namespace, when in a container), container, comm, test dir,\n"
	"CIDs held, userfaultfd state and pager, CPU over a short sample, age and whether it was\n"
	"orphaned. Works without a recording running. Needs root.\n"
	"\n"
	"options:\n"
	"      --json               print one JSON document instead of the table, schema\n"
	"                           cidtrace.guests/1: {\"schema\", \"guests\": [...]}\n"
	"      --scratch-root DIR   also find test dirs under DIR (repeatable; defaults:\n"
	"                           $TMPDIR, /tmp, /ci)\n"
	"      --test-dir-depth N   path components below a scratch root naming a test (2)\n"
	"      --vmm-comm NAME      also treat comm NAME (glob) as a VMM (repeatable)\n"
	"      --spin-threshold PCT a guest whose pager is gone using PCT% of one core or\n"
	"                           more is spinning (default 90)\n"
	"  -h, --help               this help\n"
	"\n"
	"exit codes: 0 ok (also when no VMM runs), 2 usage error, 3 environment (not root, no\n"
	"BPF, no BTF, no task iterator, not in the host pid namespace).\n"
	"\n"
	"examples:\n"
	"  sudo cidtrace guests --scratch-root /ci\n"
	"  sudo cidtrace guests --json | jq '.guests[] | select(.uffd.state == \"stalled\")'\n";

const struct option guests_options[] = {
	{ "json", no_argument, NULL, SNAP_JSON },
	{ "scratch-root", required_argument, NULL, SNAP_SCRATCH_ROOT },
	{ "test-dir-depth", required_argument, NULL, SNAP_DEPTH },
	{ "vmm-comm", required_argument, NULL, SNAP_VMM_COMM },
	{ "spin-threshold", required_argument, NULL, SNAP_SPIN_THRESHOLD },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Sort order, worst first. */
enum rank {
	RANK_SPINNING,
	RANK_STALLED,
	RANK_PAGER_LOST,
	RANK_ORPHANED,
	RANK_OTHER,
};

struct guest {
	struct proc *p;
	uint64_t cids[MAX_CIDS];
	int ncids;
	/* its worst userfaultfd context; state NULL when it has none */
	const char *state;
	enum rank rank;
	uint32_t pager_pid;
	uint64_t registered, pending, total;
	uint64_t ticks;
	double cpu_pct;
	/* the busiest thread's demand (schedstat run + wait), and all threads'; -1 unknown */
	double demand_pct, demand_sum;
	struct thread_cpu *th; /* the threads at the start of the sample */
	int nth;
};

struct uffd_files {
	struct ct_uffd_event *e;
	size_t n;
};

struct guests {
	struct collector c;
	struct uffd_files files;
	struct guest *g;
	size_t n;
};

/* The owner of a context is a VMM whatever its name: it is the process with guest memory. */
static void add_uffd_file(const struct ct_uffd_event *e, void *arg)
{
	struct guests *gs = arg;

	gs->files.e = xrealloc(gs->files.e, (gs->files.n + 1) * sizeof(*e));
	gs->files.e[gs->files.n++] = *e;
	if (e->flags & CT_UFFD_OWNER)
		collector_set_role(&gs->c, collector_proc(&gs->c, &e->hdr), ROLE_VMM);
}

static void add_cid(const struct ct_vsock_event *e, void *arg)
{
	struct guests *gs = arg;

	for (size_t i = 0; i < gs->n; i++) {
		struct guest *g = &gs->g[i];
		bool dup = false;

		if (g->p->pid != e->hdr.pid || !e->cid)
			continue;
		for (int j = 0; j < g->ncids; j++)
			dup |= g->cids[j] == e->cid;
		if (!dup && g->ncids < MAX_CIDS)
			g->cids[g->ncids++] = e->cid;
	}
}

/*
 * One context g owns through owner record o: served while another process holds the file;
 * else, with memory still registered, its pager is lost and CPU and unresolved faults say
 * how the guest is taking it.
 */
static void classify_uffd(struct guest *g, const struct uffd_files *f,
			  const struct ct_uffd_event *o, double spin_pct)
{
	uint64_t registered = 0, resident, pending = 0, total = 0;
	enum rank rank = RANK_OTHER;
	enum uffd_orphan_state orphan;
	uint32_t pager = 0;
	const char *state;

	for (size_t i = 0; i < f->n && !pager; i++)
		if (f->e[i].ctx == o->ctx && !(f->e[i].flags & (CT_UFFD_OWNER | CT_UFFD_EXITING)))
			pager = f->e[i].hdr.pid;
	uffd_registered(g->p->pid, &registered, &resident);
	if (pager) {
		state = uffd_ctx_state_name(UFFD_SERVED);
	} else if (!registered) {
		state = uffd_ctx_state_name(
			UFFD_UNSERVED); /* no memory to serve yet, or any more */
	} else {
		uffd_fdinfo(g->p->pid, o->fd, &pending, &total);
		struct uffd_load l = { g->cpu_pct, g->cpu_pct, g->demand_pct, g->demand_sum };

		orphan = uffd_classify(&l, total, spin_pct);
		state = uffd_state_name(orphan);
		rank = orphan == ORPHAN_SPINNING  ? RANK_SPINNING
		       : orphan == ORPHAN_STALLED ? RANK_STALLED
						  : RANK_PAGER_LOST;
	}
	if (g->state && rank >= g->rank)
		return;
	g->state = state;
	g->rank = rank;
	g->pager_pid = pager;
	g->registered = registered;
	g->pending = pending;
	g->total = total;
}

static int by_worst(const void *a, const void *b)
{
	const struct guest *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->p->start_ns != y->p->start_ns)
		return x->p->start_ns < y->p->start_ns ? -1 : 1;
	return x->p->pid < y->p->pid ? -1 : 1;
}

/* The VMMs alive now, their CPU over SAMPLE_NS, their CIDs and their uffd states. */
static void collect(struct guests *gs, double spin_pct)
{
	struct timespec pause = { 0, SAMPLE_NS };
	uint64_t t0, secs_ns;
	long hz = sysconf(_SC_CLK_TCK);

	pt_for_each(&gs->c.pt, p) {
		if (p->exited || p->role != ROLE_VMM)
			continue;
		gs->g = xrealloc(gs->g, (gs->n + 1) * sizeof(*gs->g));
		gs->g[gs->n++] = (struct guest){ .p = p, .rank = RANK_OTHER };
	}
	if (!gs->n)
		return;
	t0 = now_boot_ns();
	for (size_t i = 0; i < gs->n; i++) {
		struct guest *g = &gs->g[i];

		proc_cpu_ticks(g->p->pid, &g->ticks);
		g->th = xcalloc(MAX_THREADS, sizeof(*g->th));
		g->nth = proc_threads(g->p->pid, g->th, MAX_THREADS);
	}
	nanosleep(&pause, NULL);
	secs_ns = now_boot_ns() - t0;
	for (size_t i = 0; i < gs->n; i++) {
		struct guest *g = &gs->g[i];
		struct thread_cpu now_th[MAX_THREADS];
		uint64_t ticks = 0;
		int busiest, n = proc_threads(g->p->pid, now_th, MAX_THREADS);

		/* a process gone during the sample has no CPU to show */
		if (proc_cpu_ticks(g->p->pid, &ticks) && ticks > g->ticks)
			g->cpu_pct = 100.0 * (ticks - g->ticks) / hz / (secs_ns / 1e9);
		g->demand_pct = uffd_thread_demand(g->th, g->nth, now_th, n, secs_ns,
						   &g->demand_sum, &busiest);
		free(g->th);
		g->th = NULL;
		for (size_t j = 0; j < gs->files.n; j++)
			if (gs->files.e[j].hdr.pid == g->p->pid &&
			    gs->files.e[j].flags & CT_UFFD_OWNER)
				classify_uffd(g, &gs->files, &gs->files.e[j], spin_pct);
		if (g->rank == RANK_OTHER && collector_parent_exited(g->p))
			g->rank = RANK_ORPHANED;
	}
	vsock_files_now(add_cid, gs);
	qsort(gs->g, gs->n, sizeof(*gs->g), by_worst);
}

static struct json_object *guest_json(const struct guest *g, uint64_t now)
{
	const struct proc *p = g->p;
	struct json_object *o = proc_json_brief(p), *cids = json_object_new_array(), *u;

	for (int i = 0; i < g->ncids; i++)
		json_object_array_add(cids, jint(g->cids[i]));
	json_object_object_add(o, "ns", ns_json(p));
	json_object_object_add(o, "cgroup", jstr_or_null(p->cgroup));
	json_object_object_add(o, "container", container_json(p));
	json_object_object_add(o, "cids", cids);
	u = NULL;
	if (g->state) {
		u = json_object_new_object();
		json_object_object_add(u, "state", jstr(g->state));
		json_object_object_add(u, "pager_pid", g->pager_pid ? jint(g->pager_pid) : NULL);
		json_object_object_add(u, "registered_bytes", jint(g->registered));
		json_object_object_add(u, "pending", jint(g->pending));
		json_object_object_add(u, "total", jint(g->total));
	}
	json_object_object_add(o, "uffd", u);
	json_object_object_add(o, "cpu_pct", json_object_new_double(g->cpu_pct));
	/* null where not known (no schedstat): a 0 would read as idle */
	json_object_object_add(o, "demand_pct",
			       g->demand_pct >= 0 ? json_object_new_double(g->demand_pct) : NULL);
	json_object_object_add(o, "age_s", json_object_new_double((now - p->start_ns) / 1e9));
	json_object_object_add(o, "orphaned", json_object_new_boolean(collector_parent_exited(p)));
	return o;
}

static void print_json(const struct guests *gs, uint64_t now)
{
	struct json_object *doc = json_object_new_object(), *arr = json_object_new_array();

	for (size_t i = 0; i < gs->n; i++)
		json_object_array_add(arr, guest_json(&gs->g[i], now));
	json_object_object_add(doc, "schema", jstr("cidtrace.guests/1"));
	json_object_object_add(doc, "guests", arr);
	jwrite(stdout, doc, CT_JSON_FLAGS | JSON_C_TO_STRING_PRETTY);
	putchar('\n');
	json_object_put(doc);
}

static void print_text(const struct guests *gs, uint64_t now)
{
	int width = strlen("TEST_DIR"), ctwidth = strlen("CONTAINER");
	char **dirs, (*cts)[CONTAINER_SHORT_MAX], where[PROC_WHERE_MAX];

	if (!gs->n) {
		puts("no VMMs running on this host");
		return;
	}
	dirs = xrealloc(NULL, gs->n * sizeof(*dirs));
	cts = xrealloc(NULL, gs->n * sizeof(*cts));
	for (size_t i = 0; i < gs->n; i++) {
		dirs[i] = term_escape(gs->g[i].p->test_dir ? gs->g[i].p->test_dir : "-");
		if ((int)strlen(dirs[i]) > width)
			width = strlen(dirs[i]);
		proc_where(gs->g[i].p, where, cts[i]);
		if ((int)strlen(cts[i]) > ctwidth)
			ctwidth = strlen(cts[i]);
	}
	printf("%7s %7s %7s %-*s %-16s %-*s %-12s %-10s %7s %5s %5s %9s %s\n", "PID", "PPID",
	       "INSIDE", ctwidth, "CONTAINER", "COMM", width, "TEST_DIR", "CIDS", "UFFD", "PAGER",
	       "CPU%", "WANT%", "AGE", "ORPHANED");
	for (size_t i = 0; i < gs->n; i++) {
		const struct guest *g = &gs->g[i];
		char *comm = term_escape(g->p->comm), cids[12 * MAX_CIDS] = "-", pager[12] = "-",
		     want[16] = "-", inside[12] = "-";
		int n = 0;

		if (proc_inner_pid(g->p))
			snprintf(inside, sizeof(inside), "%u", proc_inner_pid(g->p));
		printf("%7u %7u %7s %-*s ", g->p->pid, g->p->ppid, inside, ctwidth,
		       cts[i][0] ? cts[i] : "-");
		for (int j = 0; j < g->ncids; j++)
			n += snprintf(cids + n, sizeof(cids) - n, "%s%llu", j ? "," : "",
				      (unsigned long long)g->cids[j]);
		if (g->pager_pid)
			snprintf(pager, sizeof(pager), "%u", g->pager_pid);
		if (g->demand_pct >= 0)
			snprintf(want, sizeof(want), "%.0f", g->demand_pct);
		printf("%-16s %-*s %-12s %-10s %7s %5.0f %5s %8.1fs %s\n", comm, width, dirs[i],
		       cids, g->state ? g->state : "-", pager, g->cpu_pct, want,
		       (now - g->p->start_ns) / 1e9, collector_parent_exited(g->p) ? "yes" : "no");
		free(comm);
		free(dirs[i]);
	}
	free(dirs);
	free(cts);
}

static int list_guests(const struct collector_cfg *cfg, bool json)
{
	struct collector_cfg quiet = *cfg;
	struct tracer t = { 0 };
	struct guests gs = { 0 };
	int ret = tracer_check_env();

	if (ret)
		return ret;
	quiet.live = LIVE_NONE;
	collector_init(&gs.c, &quiet);
	ret = tracer_snapshot(&t, &gs.c);
	if (ret) {
		errmsg("cannot list processes with the task iterator: %s", strerror(-ret));
		collector_free(&gs.c);
		return EXIT_ENV;
	}
	/* without the iterator VMMs are still listed, by name, with no uffd column */
	if (uffd_load_iter(&t.uffd))
		uffd_iterate_files(&t.uffd, 0, add_uffd_file, &gs);
	uffd_hooks_stop(&t.uffd);
	collect(&gs, cfg->spin_pct);
	if (json)
		print_json(&gs, now_boot_ns());
	else
		print_text(&gs, now_boot_ns());
	free(gs.g);
	free(gs.files.e);
	collector_free(&gs.c);
	return EXIT_OK;
}

int guests_command(int argc, char **argv)
{
	struct collector_cfg cfg;
	bool json = false;
	int ret;

	collector_cfg_defaults(&cfg);
	ret = parse_snapshot_options(argc, argv, guests_options, &cfg, &json);
	return ret >= 0 ? ret : list_guests(&cfg, json);
}
