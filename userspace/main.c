// SPDX-License-Identifier: GPL-2.0
/* cidtrace: who held the vsock CID, and which VMMs and pagers misbehaved, from the kernel. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collector.h"
#include "metrics.h"
#include "reap.h"
#include "render.h"
#include "report.h"
#include "tracer.h"
#include "uffd.h"
#include "util.h"
#include "vsock.h"

/* How long submitted-but-unannounced events may wait (see wakeup_bytes in the BPF side). */
#define POLL_TICK_MS 100
/*
 * The ring buffer's pages are mapped into cidtrace twice (libbpf maps the data area back to
 * back), so they count double in its RSS. 1 MiB holds several poll ticks of a fork storm.
 */
#define RINGBUF_BYTES (1u << 20)

static const char usage_text[] =
	"usage: cidtrace record [options]\n"
	"       cidtrace run [options] -- CMD [ARGS...]\n"
	"       cidtrace cids [--json] [--scratch-root DIR]...\n"
	"       cidtrace report FILE [--format text|html|json] [-o OUT] [--no-color]\n"
	"       cidtrace guests [--json] [--scratch-root DIR]...\n"
	"       cidtrace doctor [--json]\n"
	"       cidtrace --version | --help\n"
	"\n"
	"Trace process lifecycles (fork, exec, exit, fatal signals, reparenting) with BPF and\n"
	"write a JSON report that ties VMMs to their test directories.\n"
	"\n"
	"  record        trace until SIGINT, SIGTERM or --duration\n"
	"  run           trace while CMD runs; exit with CMD's status\n"
	"  cids          list the vhost-vsock CIDs bound on this host now, with holders\n"
	"  report        render a report as a text story (default), an HTML timeline or\n"
	"                normalized JSON; no root needed\n"
	"  guests        list the VMMs on this host now, worst first: uffd pager lost,\n"
	"                stalled or spinning, orphaned; with CIDs, CPU and test dirs\n"
	"  doctor        say what this host supports and which hooks cidtrace will use\n"
	"\n"
	"options:\n"
	"  -o, --output FILE        report path (default cidtrace-report.json)\n"
	"      --ready-file FILE    create FILE once every probe is attached\n"
	"      --duration SEC       record: stop after SEC seconds\n"
	"      --checkpoint SEC     rewrite the report every SEC seconds (default 5, 0: never)\n"
	"      --json               live events as NDJSON on stdout\n"
	"  -q, --quiet              no live events\n"
	"  -v, --verbose            say what is attached and why; show the libbpf log\n"
	"      --scope DIR          only processes whose argv or cwd reference DIR (repeatable)\n"
	"      --vmm-comm NAME      also treat comm NAME (glob) as a VMM (repeatable)\n"
	"      --scratch-root DIR   also find test dirs under DIR (repeatable; defaults:\n"
	"                           $TMPDIR, /tmp, /ci)\n"
	"      --test-dir-depth N   path components below a scratch root naming a test (2)\n"
	"      --no-fentry          use the portable fallback hooks only\n"
	"      --spin-threshold PCT an orphaned guest using PCT% of one core or more is\n"
	"                           spinning (default 90)\n"
	"      --spin-window SEC    ... sustained over SEC seconds (default 3)\n"
	"      --pid PID            only PID and its descendants (repeatable; ANDed with\n"
	"                           --scope)\n"
	"      --only KINDS         live lines of these kinds only: comma list of fork, exec,\n"
	"                           exit (exits and fatal signals), conflict (vsock), uffd\n"
	"      --metrics FILE       Prometheus text file, rewritten at each checkpoint\n"
	"      --fail-on KINDS      exit 10 if all went well but the final report has these\n"
	"                           findings: comma list of cid_conflict, uffd_orphan,\n"
	"                           vmm_leak, lost_events\n"
	"      --reap[=dry-run]     run: at the end, stop the VMMs leaked in --scope, then\n"
	"                           their pagers (SIGTERM, then SIGKILL); dry-run: only list\n"
	"      --reap-grace SEC     SIGTERM to SIGKILL (default 5)\n"
	"\n"
	"exit codes: 0 ok, 1 tracing or report failure, 2 usage error, 3 environment\n"
	"(not root, no BPF, no BTF), 4 report: the input report is unreadable or malformed,\n"
	"10 a --fail-on finding; run: CMD's status if it failed (128+N if killed by signal N).\n"
	"\n"
	"examples:\n"
	"  sudo cidtrace run -o report.json -- make test\n"
	"  sudo cidtrace run --scope /ci/job1 --reap --fail-on vmm_leak,cid_conflict -- make test\n"
	"  sudo cidtrace record --scope /ci/TestQEMUBoot123 --ready-file /run/ct.ready &\n"
	"  sudo cidtrace record --json --duration 60 -o /tmp/ct.json | jq .\n"
	"  sudo cidtrace cids\n"
	"  cidtrace report report.json --format html -o report.html\n"
	"  sudo cidtrace guests --scratch-root /ci\n"
	"  sudo cidtrace guests --json | jq '.guests[] | select(.uffd.state == \"stalled\")'\n"
	"  sudo cidtrace doctor\n";

/* --fail-on kinds: the report's finding kinds, and lost_events for trace.events.lost */
static const char *const fail_kinds[] = { "cid_conflict", "uffd_orphan", "vmm_leak",
					  "lost_events" };
#define NFAIL_KINDS (sizeof(fail_kinds) / sizeof(fail_kinds[0]))

static const struct {
	const char *name;
	enum live_kind kind;
} only_kinds[] = {
	{ "fork", LIVE_FORK },	       { "exec", LIVE_EXEC }, { "exit", LIVE_EXIT },
	{ "conflict", LIVE_CONFLICT }, { "uffd", LIVE_UFFD },
};

struct options {
	struct collector_cfg cfg;
	const char *output;
	const char *ready_file;
	const char *metrics;
	unsigned int fail_on; /* a bit per fail_kinds[] */
	bool reap;
	struct reap_opts reap_opts;
	double duration;
	double checkpoint;
	bool verbose;
	bool no_fentry;
	bool run;
	bool cids;
	bool guests;
	bool doctor;
	char **command;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("cidtrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see cidtrace --help)\n", stderr);
	return EXIT_USAGE;
}

/* Absolute, normalized copy of a directory argument; relative ones are taken from cwd. */
static const char *abs_dir(const char *arg)
{
	char joined[PATH_MAX], cwd[PATH_MAX], out[PATH_MAX];

	if (arg[0] == '/') {
		snprintf(joined, sizeof(joined), "%s", arg);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		if (snprintf(joined, sizeof(joined), "%s/%s", cwd, arg) >= (int)sizeof(joined))
			return NULL;
	}
	if (!path_normalize(joined, strlen(joined), out, sizeof(out)))
		return NULL;
	return strdup(out);
}

static int add_dir(const char **list, int *n, int max, const char *arg, const char *flag)
{
	const char *dir;

	if (*n >= max)
		return usage_error("too many %s options", flag);
	dir = abs_dir(arg);
	if (!dir)
		return usage_error("bad directory '%s'", arg);
	list[(*n)++] = dir;
	return 0;
}

static int parse_seconds(const char *arg, double *out, const char *flag)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || end == arg || *end || *out < 0 || *out > 1e7)
		return usage_error("%s needs a number of seconds", flag);
	return 0;
}

/*
 * A comma list of names[]; *bits gets a bit per name found. Returns 0, or the usage error for
 * flag. arg is left as it is: it is the process's own argv, which /proc shows to others.
 */
static int parse_names(const char *arg, const char *const *names, size_t n, unsigned int *bits,
		       const char *flag)
{
	for (const char *tok = arg, *end;; tok = end + 1) {
		size_t i = 0;

		end = strchrnul(tok, ',');
		while (i < n && (strlen(names[i]) != (size_t)(end - tok) ||
				 strncmp(tok, names[i], end - tok)))
			i++;
		if (i == n)
			return usage_error("%s: unknown kind '%.*s'", flag, (int)(end - tok), tok);
		*bits |= 1u << i;
		if (!*end)
			return 0;
	}
}

static int parse_only(const char *arg, unsigned int *kinds)
{
	const char *names[sizeof(only_kinds) / sizeof(only_kinds[0])];
	unsigned int bits = 0;
	int err;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		names[i] = only_kinds[i].name;
	err = parse_names(arg, names, sizeof(names) / sizeof(names[0]), &bits, "--only");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (bits & (1u << i))
			*kinds |= only_kinds[i].kind;
	return err;
}

enum {
	OPT_READY = 256,
	OPT_DURATION,
	OPT_CHECKPOINT,
	OPT_JSON,
	OPT_SCOPE,
	OPT_VMM_COMM,
	OPT_SCRATCH_ROOT,
	OPT_DEPTH,
	OPT_NO_FENTRY,
	OPT_VERSION,
	OPT_SPIN_THRESHOLD,
	OPT_SPIN_WINDOW,
	OPT_PID,
	OPT_ONLY,
	OPT_METRICS,
	OPT_FAIL_ON,
	OPT_REAP,
	OPT_REAP_GRACE,
};

static const struct option long_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "ready-file", required_argument, NULL, OPT_READY },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "vmm-comm", required_argument, NULL, OPT_VMM_COMM },
	{ "scratch-root", required_argument, NULL, OPT_SCRATCH_ROOT },
	{ "test-dir-depth", required_argument, NULL, OPT_DEPTH },
	{ "no-fentry", no_argument, NULL, OPT_NO_FENTRY },
	{ "spin-threshold", required_argument, NULL, OPT_SPIN_THRESHOLD },
	{ "spin-window", required_argument, NULL, OPT_SPIN_WINDOW },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "reap", optional_argument, NULL, OPT_REAP },
	{ "reap-grace", required_argument, NULL, OPT_REAP_GRACE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const char *const default_vmm_comms[] = {
	"qemu-system-*", "firecracker", "cloud-hyperviso*", "crosvm", "stratovirt",
};

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

static void set_defaults(struct options *o)
{
	struct testdir_cfg *td = &o->cfg.td;
	const char *tmpdir = getenv("TMPDIR");

	memset(o, 0, sizeof(*o));
	o->output = "cidtrace-report.json";
	o->checkpoint = 5;
	o->reap_opts.grace_s = 5;
	td->depth = 2;
	o->cfg.spin_pct = 90;
	o->cfg.spin_window_ns = 3000000000ull;
	td->is_file = is_file;
	if (tmpdir && tmpdir[0] == '/' && (tmpdir = abs_dir(tmpdir)))
		td->roots[td->nroots++] = tmpdir;
	td->roots[td->nroots++] = "/tmp";
	td->roots[td->nroots++] = "/ci";
	for (size_t i = 0; i < sizeof(default_vmm_comms) / sizeof(default_vmm_comms[0]); i++)
		o->cfg.vmm_comms[o->cfg.nvmm_comms++] = default_vmm_comms[i];
}

/* Returns -1 to go on, or the exit code. */
static int parse_args(struct options *o, int argc, char **argv)
{
	struct collector_cfg *cfg = &o->cfg;
	int opt, err = 0;
	double secs;
	char *end;
	long n;

	set_defaults(o);
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("cidtrace %s\n", CIDTRACE_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "run"))
		o->run = true;
	else if (!strcmp(argv[1], "cids"))
		o->cids = true;
	else if (!strcmp(argv[1], "guests"))
		o->guests = true;
	else if (!strcmp(argv[1], "doctor"))
		o->doctor = true;
	else if (strcmp(argv[1], "record"))
		return usage_error("unknown command '%s'", argv[1]);

	optind = 2;
	opterr = 0;
	while (!err && (opt = getopt_long(argc, argv, "+o:qvh", long_opts, NULL)) != -1) {
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
			err = add_dir(cfg->scopes, &cfg->nscopes, MAX_LIST, optarg, "--scope");
			break;
		case OPT_VMM_COMM:
			if (cfg->nvmm_comms >=
			    (int)(sizeof(cfg->vmm_comms) / sizeof(cfg->vmm_comms[0])))
				err = usage_error("too many %s options", "--vmm-comm");
			else
				cfg->vmm_comms[cfg->nvmm_comms++] = optarg;
			break;
		case OPT_SCRATCH_ROOT:
			err = add_dir(cfg->td.roots, &cfg->td.nroots, TESTDIR_MAX_ROOTS, optarg,
				      "--scratch-root");
			break;
		case OPT_DEPTH:
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || n < 1 || n > 16)
				err = usage_error("--test-dir-depth needs a number from 1 to 16");
			cfg->td.depth = n;
			break;
		case OPT_NO_FENTRY:
			o->no_fentry = true;
			break;
		case OPT_SPIN_THRESHOLD:
			cfg->spin_pct = strtod(optarg, &end);
			if (*optarg == '\0' || *end || cfg->spin_pct <= 0 || cfg->spin_pct > 10000)
				err = usage_error("--spin-threshold needs a percentage of one core "
						  "(1-10000)");
			break;
		case OPT_SPIN_WINDOW:
			err = parse_seconds(optarg, &secs, "--spin-window");
			if (!err && secs < 0.5)
				err = usage_error("--spin-window needs at least 0.5 seconds");
			cfg->spin_window_ns = secs * 1e9;
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
		case OPT_REAP:
			o->reap = true;
			if (optarg && strcmp(optarg, "dry-run"))
				err = usage_error("--reap takes no value but =dry-run");
			o->reap_opts.dry_run = optarg != NULL;
			break;
		case OPT_REAP_GRACE:
			err = parse_seconds(optarg, &o->reap_opts.grace_s, "--reap-grace");
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case OPT_VERSION:
			printf("cidtrace %s\n", CIDTRACE_VERSION);
			return EXIT_OK;
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (err)
		return err;
	if (o->run) {
		if (optind >= argc)
			return usage_error("run needs a command after %s", "--");
		if (o->duration)
			return usage_error("%s is for record; run stops when CMD exits",
					   "--duration");
		o->command = argv + optind;
	} else if (optind < argc) {
		return usage_error("unexpected argument '%s'", argv[optind]);
	} else if (o->reap) {
		return usage_error("%s is for run", "--reap");
	}
	/* never a VMM outside the job's own directories */
	if (o->reap && !cfg->nscopes)
		return usage_error("%s needs --scope", "--reap");
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

static pid_t start_command(char **command, const sigset_t *blocked)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	sigprocmask(SIG_UNBLOCK, blocked, NULL);
	execvp(command[0], command);
	errmsg("cannot run '%s': %s", command[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static int status_to_exit(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_RUNTIME;
}

struct session {
	struct options *o;
	struct collector c;
	struct tracer t;
	struct report_meta meta;
	struct finding_counts counts; /* in the report last written */
	bool report_failed;
	bool metrics_failed;
};

static void write_report(struct session *s)
{
	int err;

	s->meta.lost = tracer_lost(&s->t);
	err = report_write(s->o->output, &s->c, &s->meta, &s->counts);
	if (err && !s->report_failed)
		errmsg("cannot write report '%s': %s", s->o->output, strerror(-err));
	s->report_failed = err != 0;
	if (!s->o->metrics)
		return;
	err = metrics_write(s->o->metrics, &s->c, &s->meta, &s->counts);
	if (err && !s->metrics_failed)
		errmsg("cannot write metrics '%s': %s", s->o->metrics, strerror(-err));
	s->metrics_failed = err != 0;
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
	struct tracer_opts topts = { o->verbose, o->no_fentry, RINGBUF_BYTES };
	uint64_t next_checkpoint, deadline = 0;
	int sfd, ret, exit_code = EXIT_OK;
	struct session s = { .o = o };
	struct reap_log reaped = { 0 };
	bool stopping = false;
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
	if (ret)
		return ret;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	clock_init();
	collector_init(&s.c, &o->cfg);
	ret = tracer_start(&s.t, &s.c, &topts);
	if (ret) {
		collector_free(&s.c);
		return ret;
	}
	s.meta = (struct report_meta){ .mode = o->run ? "run" : "record",
				       .command = o->command,
				       .started_ns = now_boot_ns(),
				       .attach = &s.t.modes,
				       .verbose = o->verbose };
	s.c.started_ns = s.meta.started_ns;
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
		s.c.cfg.job_pid = child = start_command(o->command, &mask);
		if (child < 0) {
			errmsg("fork: %s", strerror(errno));
			exit_code = EXIT_RUNTIME;
			stopping = true;
		}
	}

	while (!stopping) {
		struct pollfd fds[2] = { { tracer_fd(&s.t), POLLIN, 0 }, { sfd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		uint64_t now;

		poll(fds, 2, POLL_TICK_MS);
		tracer_consume(&s.t);
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			int status;

			if (si.ssi_signo == SIGCHLD) {
				if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
					exit_code = status_to_exit(status);
					stopping = true;
				}
			} else if (child > 0) {
				/* A terminal's ^C already reached the whole process group. */
				if (si.ssi_code != SI_KERNEL)
					kill(child, si.ssi_signo);
			} else {
				stopping = true;
			}
		}
		now = now_boot_ns();
		vsock_tick(&s.c, now);
		uffd_tick(&s.c, now);
		if (deadline && now >= deadline)
			stopping = true;
		if (!stopping && next_checkpoint && now >= next_checkpoint) {
			write_report(&s);
			next_checkpoint = now + (uint64_t)(o->checkpoint * 1e9);
		}
	}

	tracer_consume(&s.t);
	s.meta.ended_ns = now_boot_ns();
	if (o->reap) {
		s.meta.reaped = &reaped;
		reap(&s.c, s.meta.ended_ns, &o->reap_opts, &reaped);
		/* the exits and signals of what was reaped */
		tracer_consume(&s.t);
	}
	write_report(&s);
	if (s.report_failed && exit_code == EXIT_OK)
		exit_code = EXIT_RUNTIME;
	if (o->fail_on && exit_code == EXIT_OK)
		exit_code = check_findings(&s);
	tracer_stop(&s.t);
	collector_free(&s.c);
	reap_log_free(&reaped);
	close(sfd);
	return exit_code;
}

int main(int argc, char **argv)
{
	struct options o;
	int ret;

	if (argc > 1 && !strcmp(argv[1], "report"))
		return report_command(argc - 1, argv + 1);
	ret = parse_args(&o, argc, argv);
	if (ret >= 0)
		return ret;
	if (o.cids)
		return cids_command(&o.cfg.td, o.cfg.live == LIVE_JSON);
	if (o.guests)
		return guests_command(&o.cfg, o.cfg.live == LIVE_JSON);
	if (o.doctor)
		return doctor_command(o.cfg.live == LIVE_JSON);
	return trace(&o);
}
