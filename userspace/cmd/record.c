// SPDX-License-Identifier: GPL-2.0
/*
 * `cidtrace record` and `cidtrace run`: trace with BPF until a signal, --duration or the end
 * of CMD, printing live events, and write the report. Both share the tracing loop, trace(),
 * and every option but record's --duration and run's --reap and CMD.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collector.h"
#include "commands.h"
#include "jobcg.h"
#include "live.h"
#include "metrics.h"
#include "options.h"
#include "reap.h"
#include "report.h"
#include "runas.h"
#include "tracer.h"
#include "util.h"

/* How long submitted-but-unannounced events may wait (see wakeup_bytes in the BPF side). */
#define POLL_TICK_MS 100
/* The checkpoint writer's nice, above cidtrace's: it takes the CPU the event thread leaves. */
#define WRITER_NICE 10
/*
 * What the writer gets when cidtrace dies (PR_SET_PDEATHSIG): caught, so that it removes its
 * temp file first. Not SIGTERM, which a service manager sends to every process of the unit
 * at a stop: the writer finishes then, and cidtrace waits for it.
 */
#define WRITER_DEATH_SIGNAL SIGUSR1

/* The options record and run share, after record's --duration and before run's --reap. */
#define TRACE_OPTIONS_HELP                                                                         \
	"  -o, --output FILE        report path (default cidtrace-report.json)\n"                  \
	"      --ready-file FILE    create FILE once every probe is attached\n"                    \
	"      --checkpoint SEC     rewrite the report every SEC seconds (default 5, 0: never)\n"  \
	"      --ring-buffer-size SIZE\n"                                                          \
	"                           the BPF ring buffer, bytes or K, M, G: rounded up to a\n"      \
	"                           power of two, a page to 1G (default 1M per CPU, 2M-64M)\n"     \
	"      --json               live events as NDJSON on stdout: one JSON object per event\n"  \
	"                           and line, for log shippers (the report itself is -o FILE)\n"   \
	"      --log FILE           append the live events to FILE (mode 0600) instead of\n"       \
	"                           stdout; SIGHUP reopens it, for logrotate\n"                    \
	"  -q, --quiet              no live events\n"                                              \
	"  -v, --verbose            say what is attached and why; show the libbpf log\n"           \
	"      --scope DIR          only processes whose argv or cwd reference DIR, a path\n"      \
	"                           in cidtrace's own mount namespace (repeatable)\n"              \
	"      --scope-cgroup PATH  only processes in cgroup v2 PATH or below it, as\n"            \
	"                           /proc/PID/cgroup shows it (repeatable; ANDed with\n"           \
	"                           --scope, whose DIRs are then those processes' own)\n"          \
	"      --scope-container ID only processes in container ID (a docker, containerd,\n"       \
	"                           cri-o or podman id, or 12 of its first characters or\n"        \
	"                           more; an nspawn machine name), by their cgroup\n"              \
	"                           (repeatable; as --scope-cgroup)\n"                             \
	"      --pid PID            only PID and its descendants (repeatable; ANDed with\n"        \
	"                           --scope)\n"                                                    \
	"      --only KINDS         live lines of these kinds only: comma list of fork, exec,\n"   \
	"                           exit (exits and fatal signals), conflict (vsock), uffd\n"      \
	"      --vmm-comm NAME      also treat comm NAME (glob) as a VMM (repeatable)\n"           \
	"      --scratch-root DIR   also find test dirs under DIR (repeatable; defaults:\n"        \
	"                           $TMPDIR, /tmp, /ci)\n"                                         \
	"      --test-dir-depth N   path components below a scratch root naming a test (2)\n"      \
	"      --spin-threshold PCT an orphaned guest whose busiest thread wants PCT% of one\n"    \
	"                           core or more (on it or waiting for it) is spinning\n"          \
	"                           (default 90)\n"                                                \
	"      --spin-window SEC    ... sustained over SEC seconds (default 3)\n"                  \
	"      --keep-processes N   exited processes kept for context only, at most N; and\n"      \
	"                           as many released CIDs and closed uffds (default 10000,\n"      \
	"                           0: no limit; trace.retention counts what goes)\n"              \
	"      --keep-for DURATION  drop what ended longer ago, findings too (90s, 30m, 24h,\n"    \
	"                           7d or seconds; default 24h, 0: for ever)\n"                    \
	"      --no-fentry          use the portable fallback hooks only\n"                        \
	"      --ns-switches        read a process's namespaces again when it calls setns or\n"    \
	"                           unshare (costs every syscall on the host about 5 ns)\n"        \
	"      --metrics FILE       Prometheus text file, rewritten at each checkpoint\n"          \
	"      --fail-on KINDS      exit 10 if all went well but the final report has these\n"     \
	"                           findings: comma list of cid_conflict, uffd_orphan,\n"          \
	"                           vmm_leak, lost_events\n"                                       \
	"      --raw FILE           also capture every input of the trace to FILE, for\n"          \
	"                           `cidtrace replay` (docs/raw-format.md)\n"                      \
	"      --kill-orphans[=GRACE]\n"                                                           \
	"                           stop (SIGTERM, then SIGKILL) the VMM of a guest whose\n"       \
	"                           pager has been lost for GRACE seconds (default 2) and that\n"  \
	"                           no new pager took over; needs --scope (or -cgroup,\n"          \
	"                           -container); never a pager\n"                                  \
	"      --reap-grace SEC     SIGTERM to SIGKILL (default 5)\n"

const char record_help[] =
	"usage: cidtrace record [options]\n"
	"\n"
	"Trace process lifecycles (fork, exec, exit, fatal signals, reparenting), vhost-vsock\n"
	"CID binds and userfaultfd contexts with BPF until SIGINT, SIGTERM or --duration, with a\n"
	"live line per event on stdout, and write a JSON report (cidtrace.report/1) that ties\n"
	"VMMs to their test directories. Needs root.\n"
	"\n"
	"options:\n"
	"      --duration SEC       stop after SEC seconds\n" TRACE_OPTIONS_HELP
	"  -h, --help               this help\n"
	"\n"
	"exit codes: 0 ok, 1 tracing or report failure, 2 usage error or an unwritable -o,\n"
	"--ready-file, --metrics, --raw or --log, 3 environment (not root, no BPF, no BTF,\n"
	"not in the host pid namespace), 10 a --fail-on finding.\n"
	"\n"
	"examples:\n"
	"  sudo cidtrace record --scope /ci/TestQEMUBoot123 --ready-file /run/ct.ready &\n"
	"  sudo cidtrace record --json --duration 60 -o /tmp/ct.json | jq .\n"
	"  sudo cidtrace record --json --only conflict,uffd | jq .\n"
	"  sudo cidtrace record --duration 60 -o /tmp/ct.json --raw /tmp/ct.raw\n"
	"  sudo cidtrace record --scope /ci --kill-orphans=5 -q\n";

const char run_help[] =
	"usage: cidtrace run [options] [--] CMD [ARGS...]\n"
	"\n"
	"Trace as `cidtrace record` does while CMD runs (it starts once every probe is\n"
	"attached, in a cgroup of its own: the job), write the report, and exit with CMD's\n"
	"status. Options end at the first argument that is not one, or at --. Needs root;\n"
	"under sudo, CMD runs as the user who ran sudo.\n"
	"\n"
	"options:\n" TRACE_OPTIONS_HELP
	"      --reap[=dry-run]     at the end, stop the VMMs the job leaked in --scope,\n"
	"                           --scope-cgroup or --scope-container (one needed), then\n"
	"                           their pagers (SIGTERM, then SIGKILL); each still in the\n"
	"                           job's cgroup, or the selected cgroup or container, when\n"
	"                           signalled; dry-run: only list\n"
	"      --as-root            run CMD as root under sudo too (else it runs as SUDO_UID\n"
	"                           and SUDO_GID, with that user's groups, no capabilities)\n"
	"      --user NAME          run CMD as NAME (or a uid) of /etc/passwd, with its groups\n"
	"                           and no capabilities\n"
	"  -h, --help               this help\n"
	"\n"
	"exit codes: CMD's status if it failed (128+N if killed by signal N); else 0 ok,\n"
	"1 tracing or report failure, 10 a --fail-on finding. Before CMD starts: 2 usage error\n"
	"or an unwritable -o, --ready-file, --metrics, --raw or --log, 3 environment (not\n"
	"root, no BPF, no BTF, not in the host pid namespace).\n"
	"\n"
	"examples:\n"
	"  sudo cidtrace run -o report.json -- make test      # make test runs as you\n"
	"  sudo cidtrace run --scope /ci/job1 --reap --fail-on vmm_leak,cid_conflict -- make test\n"
	"  sudo cidtrace run -q --metrics /var/lib/node_exporter/cidtrace.prom -- ./ci.sh\n"
	"  sudo cidtrace run --raw ci-job.raw -o report.json -- make test\n"
	"  sudo cidtrace run --user ci -o report.json -- ./ci.sh\n"
	"  sudo cidtrace run --as-root -o report.json -- ./needs-root.sh\n";

/* --fail-on kinds: the report's finding kinds, and lost_events for trace.events.lost */
static const char *const fail_kinds[] = { "cid_conflict", "uffd_orphan", "vmm_leak",
					  "lost_events" };
#define NFAIL_KINDS (sizeof(fail_kinds) / sizeof(fail_kinds[0]))

struct options {
	struct collector_cfg cfg;
	const char *output;
	const char *ready_file;
	const char *metrics;
	const char *raw; /* --raw */
	const char *log; /* --log */
	unsigned int fail_on; /* a bit per fail_kinds[] */
	bool reap;
	struct reap_opts reap_opts;
	double duration;
	double checkpoint;
	uint32_t ringbuf_bytes; /* --ring-buffer-size, rounded up; 0: the default */
	bool verbose;
	bool no_fentry;
	bool ns_switches;
	bool run;
	char **command;
	struct runas runas; /* who CMD runs as */
};

enum {
	OPT_READY = 256,
	OPT_DURATION,
	OPT_CHECKPOINT,
	OPT_RING_BUFFER_SIZE,
	OPT_JSON,
	OPT_SCOPE,
	OPT_SCOPE_CGROUP,
	OPT_SCOPE_CONTAINER,
	OPT_VMM_COMM,
	OPT_SCRATCH_ROOT,
	OPT_DEPTH,
	OPT_NO_FENTRY,
	OPT_NS_SWITCHES,
	OPT_SPIN_THRESHOLD,
	OPT_SPIN_WINDOW,
	OPT_PID,
	OPT_ONLY,
	OPT_METRICS,
	OPT_FAIL_ON,
	OPT_REAP,
	OPT_REAP_GRACE,
	OPT_RAW,
	OPT_AS_ROOT,
	OPT_USER,
	OPT_LOG,
	OPT_KEEP_PROCESSES,
	OPT_KEEP_FOR,
	OPT_KILL_ORPHANS,
};

/* clang-format off */
#define TRACE_LONG_OPTIONS                                                     \
	{ "output", required_argument, NULL, 'o' },                             \
	{ "ready-file", required_argument, NULL, OPT_READY },                   \
	{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },              \
	{ "ring-buffer-size", required_argument, NULL, OPT_RING_BUFFER_SIZE },  \
	{ "json", no_argument, NULL, OPT_JSON },                                \
	{ "quiet", no_argument, NULL, 'q' },                                    \
	{ "verbose", no_argument, NULL, 'v' },                                  \
	{ "scope", required_argument, NULL, OPT_SCOPE },                        \
	{ "scope-cgroup", required_argument, NULL, OPT_SCOPE_CGROUP },          \
	{ "scope-container", required_argument, NULL, OPT_SCOPE_CONTAINER },    \
	{ "vmm-comm", required_argument, NULL, OPT_VMM_COMM },                  \
	{ "scratch-root", required_argument, NULL, OPT_SCRATCH_ROOT },          \
	{ "test-dir-depth", required_argument, NULL, OPT_DEPTH },               \
	{ "no-fentry", no_argument, NULL, OPT_NO_FENTRY },                      \
	{ "ns-switches", no_argument, NULL, OPT_NS_SWITCHES },                  \
	{ "spin-threshold", required_argument, NULL, OPT_SPIN_THRESHOLD },      \
	{ "spin-window", required_argument, NULL, OPT_SPIN_WINDOW },            \
	{ "keep-processes", required_argument, NULL, OPT_KEEP_PROCESSES },      \
	{ "keep-for", required_argument, NULL, OPT_KEEP_FOR },                  \
	{ "pid", required_argument, NULL, OPT_PID },                            \
	{ "only", required_argument, NULL, OPT_ONLY },                          \
	{ "metrics", required_argument, NULL, OPT_METRICS },                    \
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },                    \
	{ "raw", required_argument, NULL, OPT_RAW },                            \
	{ "log", required_argument, NULL, OPT_LOG },                            \
	{ "kill-orphans", optional_argument, NULL, OPT_KILL_ORPHANS },          \
	{ "reap-grace", required_argument, NULL, OPT_REAP_GRACE },              \
	{ "help", no_argument, NULL, 'h' }
/* clang-format on */

const struct option record_options[] = {
	{ "duration", required_argument, NULL, OPT_DURATION },
	TRACE_LONG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

const struct option run_options[] = {
	TRACE_LONG_OPTIONS,
	{ "reap", optional_argument, NULL, OPT_REAP },
	{ "as-root", no_argument, NULL, OPT_AS_ROOT },
	{ "user", required_argument, NULL, OPT_USER },
	{ NULL, 0, NULL, 0 },
};

/*
 * Options of record (run false) or run, argv[0] being the command's name. Main has already
 * turned away options of other commands. Returns -1 to go on, or the exit code.
 */
static int parse_args(struct options *o, int argc, char **argv, bool run)
{
	struct collector_cfg *cfg = &o->cfg;
	const char *user = NULL;
	bool as_root = false;
	int opt, err = 0;
	uint64_t bytes;
	double secs;
	char *end;
	long n;

	memset(o, 0, sizeof(*o));
	collector_cfg_defaults(cfg);
	o->output = "cidtrace-report.json";
	o->checkpoint = 5;
	o->reap_opts.grace_s = 5;
	o->run = run;

	optind = 0;
	opterr = 0;
	while (!err && (opt = getopt_long(argc, argv, TRACE_SHORTOPTS,
					  run ? run_options : record_options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			o->output = optarg;
			break;
		case OPT_READY:
			o->ready_file = optarg;
			break;
		case OPT_DURATION:
			err = parse_seconds(optarg, &o->duration, "--duration");
			break;
		case OPT_CHECKPOINT:
			err = parse_seconds(optarg, &o->checkpoint, "--checkpoint");
			break;
		case OPT_RING_BUFFER_SIZE:
			err = parse_size(optarg, &bytes, "--ring-buffer-size");
			if (!err && !(o->ringbuf_bytes = tracer_ringbuf_size(bytes)))
				err = usage_error("--ring-buffer-size is at most 1G");
			break;
		case OPT_JSON:
			cfg->live = LIVE_JSON;
			break;
		case 'q':
			cfg->live = LIVE_NONE;
			break;
		case 'v':
			o->verbose = true;
			break;
		case OPT_SCOPE:
			err = opt_scope(cfg, optarg);
			break;
		case OPT_SCOPE_CGROUP:
			err = opt_scope_cgroup(cfg, optarg);
			break;
		case OPT_SCOPE_CONTAINER:
			err = opt_scope_container(cfg, optarg);
			break;
		case OPT_VMM_COMM:
			err = opt_vmm_comm(cfg, optarg);
			break;
		case OPT_SCRATCH_ROOT:
			err = opt_scratch_root(cfg, optarg);
			break;
		case OPT_DEPTH:
			err = opt_test_dir_depth(cfg, optarg);
			break;
		case OPT_NO_FENTRY:
			o->no_fentry = true;
			break;
		case OPT_NS_SWITCHES:
			o->ns_switches = true;
			break;
		case OPT_SPIN_THRESHOLD:
			err = opt_spin_threshold(cfg, optarg);
			break;
		case OPT_SPIN_WINDOW:
			err = parse_seconds(optarg, &secs, "--spin-window");
			if (!err && secs < 0.5)
				err = usage_error("--spin-window needs at least 0.5 seconds");
			cfg->spin_window_ns = secs * 1e9;
			break;
		case OPT_KEEP_PROCESSES:
			err = opt_keep_processes(cfg, optarg);
			break;
		case OPT_KEEP_FOR:
			err = opt_keep_for(cfg, optarg);
			break;
		case OPT_PID:
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || n < 1 || n > INT_MAX)
				err = usage_error("--pid needs a process id");
			else if (cfg->npids >= MAX_LIST)
				err = usage_error("too many %s options", "--pid");
			else
				cfg->pids[cfg->npids++] = n;
			break;
		case OPT_ONLY:
			err = parse_only(optarg, &cfg->live_kinds);
			break;
		case OPT_METRICS:
			o->metrics = optarg;
			break;
		case OPT_FAIL_ON:
			err = parse_names(optarg, fail_kinds, NFAIL_KINDS, &o->fail_on,
					  "--fail-on");
			break;
		case OPT_RAW:
			o->raw = optarg;
			break;
		case OPT_LOG:
			o->log = optarg;
			break;
		case OPT_REAP:
			o->reap = true;
			if (optarg && strcmp(optarg, "dry-run"))
				err = usage_error("--reap takes no value but =dry-run");
			o->reap_opts.dry_run = optarg != NULL;
			break;
		case OPT_REAP_GRACE:
			err = parse_seconds(optarg, &o->reap_opts.grace_s, "--reap-grace");
			break;
		case OPT_KILL_ORPHANS:
			secs = 2;
			if (optarg)
				err = parse_seconds(optarg, &secs, "--kill-orphans");
			/* 0 would stop a guest whose pager is restarting: no time to take over */
			if (!err && secs < 0.1)
				err = usage_error("--kill-orphans needs at least 0.1 seconds");
			cfg->kill_orphans_ns = secs * 1e9;
			break;
		case OPT_AS_ROOT:
			as_root = true;
			break;
		case OPT_USER:
			user = optarg;
			break;
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (err)
		return err;
	if (run) {
		if (optind >= argc)
			return usage_error("run needs a command after %s", "--");
		o->command = argv + optind;
		if ((err = runas_resolve(&o->runas, as_root, user)) >= 0)
			return err;
	} else if (optind < argc) {
		return usage_error("unexpected argument '%s'", argv[optind]);
	}
	if (o->log && cfg->live == LIVE_NONE)
		return usage_error("--log and -q exclude each other");
	/* never a VMM outside the job's own directories */
	if (o->reap && !collector_scoped(cfg))
		return usage_error("%s needs --scope, --scope-cgroup or --scope-container",
				   "--reap");
	if (cfg->kill_orphans_ns && !collector_scoped(cfg))
		return usage_error("%s needs --scope, --scope-cgroup or --scope-container",
				   "--kill-orphans");
	return -1;
}

static int check_writable(const char *path, const char *what)
{
	int err = atomic_write_probe(path);

	if (err) {
		errmsg("cannot write %s '%s': %s", what, path, strerror(-err));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/*
 * Fork the command; it waits until it is in the job cgroup (cg, NULL: none), becomes the
 * user it runs as (as), then execs. *entered: it is in cg. Returns its pid, or -1 with errno.
 */
static pid_t start_command(char **command, const struct runas *as, const sigset_t *blocked,
			   struct job_cgroup *cg, bool *entered)
{
	int go[2], err;
	pid_t pid;
	char byte;

	*entered = false;
	if (pipe2(go, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(go[0]);
		close(go[1]);
		errno = err;
		return -1;
	}
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &byte, 1) != 1)
			_exit(127); /* cidtrace died first */
		sigprocmask(SIG_UNBLOCK, blocked, NULL);
		if (runas_apply(as))
			_exit(126);
		execvp(command[0], command);
		errmsg("cannot run '%s': %s", command[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(go[0]);
	*entered = cg && jobcg_enter(cg, pid) == 0;
	if (write(go[1], "g", 1) != 1) {
		/* the child is gone already: its SIGCHLD ends the trace */
	}
	close(go[1]);
	return pid;
}

static int status_to_exit(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_RUNTIME;
}

/* What a checkpoint writer could not write, for cidtrace: memory both share, set before exit. */
struct writer_result {
	bool done; /* it got as far as its exit */
	int report_err, metrics_err; /* 0 or -errno */
};

struct session {
	struct options *o;
	struct collector c;
	struct tracer t;
	struct job_cgroup cg; /* `run`'s, once made */
	struct guard guard; /* --kill-orphans */
	struct report_meta meta;
	struct finding_counts counts; /* in the report last written by cidtrace itself */
	struct checkpoint_stats cp;
	pid_t writer; /* the checkpoint writer that runs; 0: none */
	struct writer_result *result; /* shared with the writers */
	bool report_failed;
	bool metrics_failed;
};

/*
 * `run`: the command in a cgroup of its own, so that whatever it starts is told from what
 * others start on the host; where no cgroup can be made, the job is the command and its
 * descendants (trace.job.identity says which). Returns the command's pid, or -1 with errno.
 */
static pid_t start_job(struct session *s, const sigset_t *blocked)
{
	const char *why = NULL;
	bool cgroup = false;
	pid_t pid;
	int err, fork_err;

	err = jobcg_create(&s->cg, &why);
	if (!err)
		tracer_set_job_cgroup(&s->t, s->cg.id);
	else if (s->o->verbose)
		errmsg("job identity by ancestry: %s: %s", why, strerror(-err));
	pid = start_command(s->o->command, &s->o->runas, blocked, err ? NULL : &s->cg, &cgroup);
	fork_err = errno;
	if (!err && !cgroup) {
		if (s->o->verbose)
			errmsg("job identity by ancestry: cannot move the command into %s",
			       s->cg.dir);
		tracer_set_job_cgroup(&s->t, 0);
		jobcg_remove(&s->cg);
	}
	if (pid > 0)
		tracer_job(&s->t, pid, cgroup ? s->cg.path : NULL);
	errno = fork_err;
	return pid;
}

/* How the last write went (why: NULL if it went well); a failure is told once, not per write. */
static void report_outcome(struct session *s, const char *report_why, const char *metrics_why)
{
	if (report_why && !s->report_failed)
		errmsg("cannot write report '%s': %s", s->o->output, report_why);
	s->report_failed = report_why != NULL;
	if (!s->o->metrics)
		return;
	if (metrics_why && !s->metrics_failed)
		errmsg("cannot write metrics '%s': %s", s->o->metrics, metrics_why);
	s->metrics_failed = metrics_why != NULL;
}

/* The kernel side's counters, into the meta of the next report (before it, or a fork). */
static void read_counters(struct session *s)
{
	s->meta.lost = tracer_lost(&s->t);
	s->meta.uffd_serves_overflow = tracer_uffd_overflow(&s->t);
}

/* The report and --metrics from s as it is now: 0 or -errno in *err and *merr. */
static void write_files(struct session *s, int *err, int *merr)
{
	tracer_before_report(&s->t, s->meta.ended_ns, s->meta.lost, s->meta.uffd_serves_overflow,
			     &s->cp);
	*err = report_write(s->o->output, &s->c, &s->meta, &s->counts);
	*merr = s->o->metrics ? metrics_write(s->o->metrics, &s->c, &s->meta, &s->counts) : 0;
}

/* The report and --metrics, by cidtrace itself: the first one, and the final one. */
static void write_report(struct session *s)
{
	int err, merr;

	read_counters(s);
	write_files(s, &err, &merr);
	report_outcome(s, err ? strerror(-err) : NULL, merr ? strerror(-merr) : NULL);
}

/*
 * The checkpoint writer: a fork of cidtrace, a copy-on-write snapshot of its state, that
 * writes the report and --metrics from it and exits. It dies with cidtrace, and never runs
 * cidtrace's atexit or libbpf teardown, nor touches the ring buffer or the capture.
 */
static __attribute__((noreturn)) void writer_main(struct session *s)
{
	struct writer_result *res = s->result;
	int prio, fd;

	/* first, so that it does not take the CPU from the event thread even now */
	errno = 0;
	prio = getpriority(PRIO_PROCESS, 0);
	if (!errno)
		setpriority(PRIO_PROCESS, 0, prio + WRITER_NICE < 19 ? prio + WRITER_NICE : 19);
	if (atomic_exit_on(WRITER_DEATH_SIGNAL, EXIT_RUNTIME) ||
	    prctl(PR_SET_PDEATHSIG, WRITER_DEATH_SIGNAL) || getppid() != s->c.cfg.self_pid)
		_exit(EXIT_RUNTIME);
	/* short of memory (a unit's MemoryMax), the OOM killer takes the writer, not cidtrace */
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, "1000", 4) != 4) {
		/* the writer runs all the same */
	}
	if (fd >= 0)
		close(fd);
	tracer_forked(&s->t);
	write_files(s, &res->report_err, &res->metrics_err);
	res->done = true;
	_exit(res->report_err || res->metrics_err ? EXIT_RUNTIME : EXIT_OK);
}

/* Reap the checkpoint writer if it is done, and count it. true: no writer runs now. */
static bool reap_writer(struct session *s)
{
	const struct writer_result *res = s->result;
	char why[64];
	int status;
	pid_t pid;

	if (!s->writer)
		return true;
	pid = waitpid(s->writer, &status, WNOHANG);
	if (!pid)
		return false;
	s->writer = 0;
	if (pid > 0 && WIFEXITED(status) && res->done) {
		s->cp.written += !res->report_err;
		s->cp.failed += res->report_err != 0;
		report_outcome(s, res->report_err ? strerror(-res->report_err) : NULL,
			       res->metrics_err ? strerror(-res->metrics_err) : NULL);
		return true;
	}
	if (pid > 0 && WIFSIGNALED(status))
		snprintf(why, sizeof(why), "its writer was killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, sizeof(why), "its writer failed");
	s->cp.failed++;
	report_outcome(s, why, s->o->metrics ? why : NULL);
	return true;
}

/*
 * A checkpoint: the event thread only forks; the writer (writer_main) does the rest. If the
 * last checkpoint's writer still runs, this one is skipped.
 */
static void checkpoint(struct session *s)
{
	uint64_t t0 = now_boot_ns(), stall;
	pid_t pid;
	int err;

	if (!reap_writer(s)) {
		s->cp.skipped++;
		if (s->o->verbose)
			errmsg("checkpoint: skipped, the last one is still being written");
		return;
	}
	read_counters(s);
	tracer_checkpoint(&s->t);
	*s->result = (struct writer_result){ 0 };
	pid = fork();
	err = errno;
	if (!pid)
		writer_main(s);
	stall = now_boot_ns() - t0;
	if (pid < 0) {
		s->cp.failed++;
		report_outcome(s, strerror(err), s->o->metrics ? strerror(err) : NULL);
		return;
	}
	s->writer = pid;
	s->cp.last_stall_ns = stall;
	if (stall > s->cp.max_stall_ns)
		s->cp.max_stall_ns = stall;
	if (s->o->verbose)
		errmsg("checkpoint: stall %.3f ms", stall / 1e6);
}

/*
 * At the end, before the final report: wait for the checkpoint writer, whose report must not
 * be renamed over the final one, and go on consuming records meanwhile.
 */
static void wait_writer(struct session *s, int sfd)
{
	while (!reap_writer(s)) {
		struct pollfd fds[2] = { { tracer_fd(&s->t), POLLIN, 0 }, { sfd, POLLIN, 0 } };
		struct signalfd_siginfo si;

		poll(fds, 2, POLL_TICK_MS);
		tracer_consume(&s->t);
		/* the writer's SIGCHLD, or another stop request: the trace is ending already */
		while (read(sfd, &si, sizeof(si)) == sizeof(si))
			;
	}
}

/* SIGHUP with --log: logrotate renamed the file; lines go on to it until this reopens path. */
static void reopen_log(const struct options *o, struct collector *c)
{
	int err;

	if (o->log && (err = live_log_open(c, o->log)))
		errmsg("cannot reopen log '%s': %s; live lines go on to the file open before",
		       o->log, strerror(-err));
}

/* SIGPIPE's handler: none is needed, only not to be killed (see trace()). */
static void on_sigpipe(int sig)
{
}

/* --fail-on: EXIT_FINDINGS and one line naming the listed kinds found, else EXIT_OK. */
static int check_findings(const struct session *s)
{
	char line[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < NFAIL_KINDS; i++) {
		uint64_t n = !strcmp(fail_kinds[i], "lost_events")
				     ? s->meta.lost
				     : finding_counts_kind(&s->counts, fail_kinds[i]);

		if ((s->o->fail_on & (1u << i)) && n && len < sizeof(line))
			len += snprintf(line + len, sizeof(line) - len, "%s%s %llu",
					len ? ", " : "", fail_kinds[i], (unsigned long long)n);
	}
	if (!len)
		return EXIT_OK;
	errmsg("--fail-on: %s", line);
	return EXIT_FINDINGS;
}

static int trace(struct options *o)
{
	struct tracer_opts topts = { .verbose = o->verbose,
				     .no_fentry = o->no_fentry,
				     .ns_switches = o->ns_switches,
				     .ringbuf_bytes = o->ringbuf_bytes,
				     .raw = o->raw,
				     .mode = o->run ? "run" : "record",
				     .command = o->command };
	uint64_t next_checkpoint, deadline = 0;
	int sfd, ret, exit_code = EXIT_OK;
	struct session s = { .o = o };
	struct trace_previous previous;
	bool stopping = false, have_previous;
	char why[512];
	pid_t child = 0;
	sigset_t mask;

	ret = tracer_check_env();
	if (ret)
		return ret;
	ret = check_writable(o->output, "report");
	if (!ret && o->ready_file)
		ret = check_writable(o->ready_file, "ready file");
	if (!ret && o->metrics)
		ret = check_writable(o->metrics, "metrics");
	if (!ret && o->raw)
		ret = check_writable(o->raw, "raw capture");
	if (!ret && o->log && (ret = live_log_open(&s.c, o->log))) {
		errmsg("cannot write log '%s': %s", o->log, strerror(-ret));
		ret = EXIT_USAGE;
	}
	if (ret)
		return ret;
	/* read before the first checkpoint replaces it */
	have_previous = previous_read(o->output, &previous, why, sizeof(why));
	if (!have_previous && o->verbose)
		errmsg("trace.previous: null: %s", why);

	/*
	 * A closed stdout (`record --json | head`) must not kill the trace before its final
	 * report: writes fail with EPIPE instead and live.c stops the live lines. A handler
	 * rather than SIG_IGN, which `run`'s command would inherit through exec.
	 */
	sigaction(SIGPIPE, &(struct sigaction){ .sa_handler = on_sigpipe }, NULL);
	/* SIGHUP: a checkpoint now (report and --metrics written anew), then go on */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	s.result = mmap(NULL, sizeof(*s.result), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	if (s.result == MAP_FAILED) {
		errmsg("mmap: %s", strerror(errno));
		close(sfd);
		return EXIT_RUNTIME;
	}
	s.cp.interval_ns = o->checkpoint * 1e9;
	guard_init(&s.guard, o->reap_opts.grace_s);
	clock_init();
	collector_init(&s.c, &o->cfg);
	live_observe(&s.c);
	ret = tracer_start(&s.t, &s.c, &topts);
	if (ret) {
		collector_free(&s.c);
		munmap(s.result, sizeof(*s.result));
		return ret;
	}
	s.meta = (struct report_meta){ .mode = o->run ? "run" : "record",
				       .command = o->command,
				       .started_ns = now_boot_ns(),
				       .attach = &s.t.modes,
				       .raw = tracer_raw(&s.t),
				       .previous = have_previous ? &previous : NULL,
				       .verbose = o->verbose,
				       .ring_buffer_bytes = s.t.ringbuf_bytes,
				       .checkpoints = &s.cp };
	tracer_started(&s.t, s.meta.started_ns);
	/* Loading parsed the kernel's BTF (megabytes); give that memory back before tracing. */
	malloc_trim(0);
	if (o->verbose)
		errmsg("attached: process=%s snapshot=%s vsock=%s uffd=%s", s.t.modes.process,
		       s.t.modes.snapshot, s.t.modes.vsock, s.t.modes.uffd);
	write_report(&s);
	if (o->ready_file && (ret = atomic_write(o->ready_file, "ready\n", 6))) {
		errmsg("cannot write ready file '%s': %s", o->ready_file, strerror(-ret));
		exit_code = EXIT_RUNTIME;
		stopping = true;
	}
	if (o->duration)
		deadline = s.meta.started_ns + (uint64_t)(o->duration * 1e9);
	next_checkpoint = o->checkpoint ? s.meta.started_ns + (uint64_t)(o->checkpoint * 1e9) : 0;
	if (o->run && !stopping) {
		child = start_job(&s, &mask);
		if (child < 0) {
			errmsg("fork: %s", strerror(errno));
			exit_code = EXIT_RUNTIME;
			stopping = true;
		}
	}

	while (!stopping) {
		struct pollfd fds[2] = { { tracer_fd(&s.t), POLLIN, 0 }, { sfd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		bool hup = false;
		uint64_t now;

		poll(fds, 2, POLL_TICK_MS);
		tracer_consume(&s.t);
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			int status;

			if (si.ssi_signo == SIGCHLD) {
				reap_writer(&s);
				if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
					exit_code = status_to_exit(status);
					stopping = true;
				}
			} else if (si.ssi_signo == SIGHUP) {
				hup = true; /* never forwarded: it is cidtrace's own */
				reopen_log(o, &s.c);
			} else if (child > 0) {
				/* A terminal's ^C already reached the whole process group. */
				if (si.ssi_code != SI_KERNEL)
					kill(child, si.ssi_signo);
			} else {
				stopping = true;
			}
		}
		now = now_boot_ns();
		tracer_tick(&s.t, now);
		if (o->cfg.kill_orphans_ns)
			guard_tick(&s.guard, &s.t, now);
		if (deadline && now >= deadline)
			stopping = true;
		if (!stopping && (hup || (next_checkpoint && now >= next_checkpoint))) {
			checkpoint(&s);
			if (next_checkpoint)
				next_checkpoint = now + (uint64_t)(o->checkpoint * 1e9);
		}
	}

	wait_writer(&s, sfd);
	tracer_consume(&s.t);
	s.meta.ended_ns = now_boot_ns();
	if (o->reap) {
		reap(&s.c, s.meta.ended_ns, &o->reap_opts);
		tracer_reaped(&s.t);
		/* the exits and signals of what was reaped */
		tracer_consume(&s.t);
	}
	/* what the job leaked and --reap left goes back to cidtrace's own cgroup */
	if ((ret = jobcg_remove(&s.cg)))
		errmsg("cannot remove the job cgroup %s: %s", s.cg.dir, strerror(-ret));
	write_report(&s);
	report_warn_lost(&s.meta, o->output);
	if (s.report_failed && exit_code == EXIT_OK)
		exit_code = EXIT_RUNTIME;
	if (o->fail_on && exit_code == EXIT_OK)
		exit_code = check_findings(&s);
	guard_free(&s.guard);
	tracer_stop(&s.t);
	collector_free(&s.c);
	live_log_close();
	munmap(s.result, sizeof(*s.result));
	close(sfd);
	return exit_code;
}

int record_command(int argc, char **argv)
{
	struct options o;
	int ret = parse_args(&o, argc, argv, false);

	return ret >= 0 ? ret : trace(&o);
}

int run_command(int argc, char **argv)
{
	struct options o;
	int ret = parse_args(&o, argc, argv, true);

	return ret >= 0 ? ret : trace(&o);
}
