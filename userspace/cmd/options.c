// SPDX-License-Identifier: GPL-2.0
/* Option parsers the subcommands share, and usage errors that name the command. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "commands.h"
#include "container.h"
#include "options.h"
#include "slice.h"
#include "testdir.h"
#include "util.h"

static const char *command = "cidtrace";

void usage_set_command(const char *name)
{
	command = name;
}

int usage_error(const char *fmt, ...)
{
	bool sub = strcmp(command, "cidtrace") != 0;
	va_list ap;

	fprintf(stderr, "cidtrace%s%s: ", sub ? " " : "", sub ? command : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see cidtrace%s%s --help)\n", sub ? " " : "", sub ? command : "");
	return EXIT_USAGE;
}

int parse_seconds(const char *arg, double *out, const char *flag)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || end == arg || *end || *out < 0 || *out > 1e7)
		return usage_error("%s needs a number of seconds", flag);
	return 0;
}

int parse_size(const char *arg, uint64_t *out, const char *flag)
{
	static const char units[] = "KMG";
	unsigned long long n;
	const char *u;
	int shift = 0;
	char *end;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (*end && (u = strchr(units, toupper((unsigned char)*end)))) {
		shift = 10 * (u - units + 1);
		end++;
	}
	if (errno || *arg < '0' || *arg > '9' || *end || !n || n > UINT64_MAX >> shift)
		return usage_error("%s needs a size: bytes, or a number with K, M or G", flag);
	*out = (uint64_t)n << shift;
	return 0;
}

/* arg is left as it is: it is the process's own argv, which /proc shows to others. */
int parse_names(const char *arg, const char *const *names, size_t n, unsigned int *bits,
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

static const struct {
	const char *name;
	enum live_kind kind;
} only_kinds[] = {
	{ "fork", LIVE_FORK },	       { "exec", LIVE_EXEC }, { "exit", LIVE_EXIT },
	{ "conflict", LIVE_CONFLICT }, { "uffd", LIVE_UFFD },
};
#define NONLY_KINDS (sizeof(only_kinds) / sizeof(only_kinds[0]))

int parse_only(const char *arg, unsigned int *kinds)
{
	const char *names[NONLY_KINDS];
	unsigned int bits = 0;
	int err;

	for (size_t i = 0; i < NONLY_KINDS; i++)
		names[i] = only_kinds[i].name;
	err = parse_names(arg, names, NONLY_KINDS, &bits, "--only");
	for (size_t i = 0; i < NONLY_KINDS; i++)
		if (bits & (1u << i))
			*kinds |= only_kinds[i].kind;
	return err;
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

int add_dir(const char **list, int *n, int max, const char *arg, const char *flag)
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

/*
 * A directory that is gone (a finished job's workspace): its deepest existing directory
 * resolved by realpath, the rest as written, "." and ".." taken lexically. NULL with errno.
 */
static char *resolve_gone(const char *arg)
{
	char path[PATH_MAX], out[PATH_MAX], *real = NULL;
	size_t end, cut;
	struct stat st;
	int n;

	if (arg[0] == '/')
		n = snprintf(path, sizeof(path), "%s", arg);
	else if (getcwd(out, sizeof(out)))
		n = snprintf(path, sizeof(path), "%s/%s", out, arg);
	else
		return NULL;
	if (n < 0 || n >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	/* "/" exists: this ends with a directory found or another error than ENOENT */
	errno = ENOENT;
	for (end = n; !real && errno == ENOENT; end = cut) {
		cut = (char *)memrchr(path, '/', end) - path;
		path[cut] = '\0';
		real = realpath(cut ? path : "/", NULL);
		path[cut] = '/';
	}
	if (!real)
		return NULL;
	if (stat(real, &st) || !S_ISDIR(st.st_mode)) {
		free(real);
		errno = ENOTDIR;
		return NULL;
	}
	n = snprintf(out, sizeof(out), "%s%s", real, path + end);
	free(real);
	if (n < 0 || n >= (int)sizeof(out) || !path_normalize(out, n, out, sizeof(out))) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return xstrdup(out);
}

/*
 * The directory arg names, resolved as realpath does (symlinks, ".."), so that it is the path
 * the kernel shows as a cwd; unless must_exist, also one that is gone (resolve_gone). NULL
 * after a usage error for flag.
 */
static char *resolve_dir(const char *arg, bool must_exist, const char *flag)
{
	struct stat st;
	char *dir;

	/* "$TMPDIR" with TMPDIR unset: an empty scope would become the cwd, often / */
	if (!*arg) {
		usage_error("%s needs a directory, not an empty string", flag);
		return NULL;
	}
	dir = realpath(arg, NULL);
	if (dir && (stat(dir, &st) || !S_ISDIR(st.st_mode))) {
		usage_error("%s '%s': not a directory", flag, arg);
		free(dir);
		return NULL;
	}
	if (!dir && errno == ENOENT && !must_exist)
		dir = resolve_gone(arg);
	if (!dir) {
		usage_error("%s '%s': %s", flag, arg, strerror(errno));
		return NULL;
	}
	if (!strcmp(dir, "/")) {
		usage_error("%s '%s' resolves to /, which holds every process: name the job's own "
			    "directory",
			    flag, arg);
		free(dir);
		return NULL;
	}
	return dir;
}

int opt_scope(struct collector_cfg *cfg, const char *arg)
{
	char *dir;

	if (cfg->nscopes >= MAX_LIST)
		return usage_error("too many %s options", "--scope");
	dir = resolve_dir(arg, true, "--scope");
	if (!dir)
		return EXIT_USAGE;
	cfg->scopes[cfg->nscopes++] = dir;
	return 0;
}

/* A --scope-cgroup PATH, normalized and copied; NULL after the usage error. */
static char *cgroup_arg(const char *arg, const char *flag)
{
	char norm[PATH_MAX];

	/* the kernel's names: a cgroupfs mount path is no cgroup path and would match nothing */
	if (!path_normalize(arg, strlen(arg), norm, sizeof(norm)) ||
	    !strncmp(norm, "/sys/fs/", 8)) {
		usage_error(
			"%s '%s': give the cgroup v2 path as /proc/PID/cgroup shows it after 0::, "
			"e.g. /system.slice/ci-job.scope",
			flag, arg);
		return NULL;
	}
	if (!strcmp(norm, "/")) {
		usage_error("%s / holds every process: name the job's own cgroup", flag);
		return NULL;
	}
	return xstrdup(norm);
}

/* A --scope-container ID: what a container id or machine name can be. false: usage error. */
static bool container_arg(const char *arg, const char *flag)
{
	size_t n = strlen(arg);

	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)arg[i]) && !strchr("-_.", arg[i]))
			n = 0;
	if (n && n <= CONTAINER_ID_MAX)
		return true;
	usage_error("%s '%s': give a container id (or its first %d characters at least), or an "
		    "nspawn machine name",
		    flag, arg, CONTAINER_ID_PREFIX_MIN);
	return false;
}

int opt_scope_cgroup(struct collector_cfg *cfg, const char *arg)
{
	char *cg;

	if (cfg->nscope_cgroups >= MAX_LIST)
		return usage_error("too many %s options", "--scope-cgroup");
	if (!(cg = cgroup_arg(arg, "--scope-cgroup")))
		return EXIT_USAGE;
	cfg->scope_cgroups[cfg->nscope_cgroups++] = cg;
	return 0;
}

int opt_scope_container(struct collector_cfg *cfg, const char *arg)
{
	if (cfg->nscope_containers >= MAX_LIST)
		return usage_error("too many %s options", "--scope-container");
	if (!container_arg(arg, "--scope-container"))
		return EXIT_USAGE;
	cfg->scope_containers[cfg->nscope_containers++] = arg;
	return 0;
}

int opt_slice(struct slice *s, int opt, const char *arg)
{
	const char *flag = opt == OPT_SLICE_SINCE ? "--since" : "--until";
	int64_t us;

	if (opt == OPT_SLICE_SCOPE) {
		if (s->scope)
			return usage_error("--scope is given once: a slice is of one directory");
		s->scope = resolve_dir(arg, false, "--scope");
		return s->scope ? 0 : EXIT_USAGE;
	}
	if (opt == OPT_SLICE_CGROUP) {
		if (s->cgroup)
			return usage_error("--scope-cgroup is given once: a slice is of one job");
		s->cgroup = cgroup_arg(arg, "--scope-cgroup");
		return s->cgroup ? 0 : EXIT_USAGE;
	}
	if (opt == OPT_SLICE_CONTAINER) {
		if (s->container)
			return usage_error(
				"--scope-container is given once: a slice is of one job");
		s->container = arg;
		return container_arg(arg, "--scope-container") ? 0 : EXIT_USAGE;
	}
	if (!slice_parse_time(arg, &us))
		return usage_error("%s '%s' is no time: give RFC 3339 (2026-11-27T03:42:36Z, "
				   "2026-11-27T04:42:36.5+01:00) or @SECONDS since the epoch",
				   flag, arg);
	if (opt == OPT_SLICE_SINCE) {
		s->has_since = true;
		s->since_us = us;
	} else {
		s->has_until = true;
		s->until_us = us;
	}
	if (s->has_since && s->has_until && s->since_us > s->until_us)
		return usage_error("--since is after --until");
	return 0;
}

static const char *const default_vmm_comms[] = {
	"qemu-system-*", "firecracker", "cloud-hyperviso*", "crosvm", "stratovirt",
};

void collector_cfg_defaults(struct collector_cfg *cfg)
{
	struct testdir_cfg *td = &cfg->td;
	const char *tmpdir = getenv("TMPDIR");

	memset(cfg, 0, sizeof(*cfg));
	td->depth = 2;
	cfg->spin_pct = 90;
	cfg->spin_window_ns = 3000000000ull;
	cfg->keep_processes = KEEP_PROCESSES_DEFAULT;
	cfg->keep_for_ns = KEEP_FOR_NS_DEFAULT;
	cfg->self_pid = getpid();
	/* --scope's paths are cidtrace's own mount namespace's */
	cfg->scope_mnt_ns = proc_ns_inode(getpid(), "mnt");
	if (tmpdir && tmpdir[0] == '/' && (tmpdir = abs_dir(tmpdir)))
		td->roots[td->nroots++] = tmpdir;
	td->roots[td->nroots++] = "/tmp";
	td->roots[td->nroots++] = "/ci";
	for (size_t i = 0; i < sizeof(default_vmm_comms) / sizeof(default_vmm_comms[0]); i++)
		cfg->vmm_comms[cfg->nvmm_comms++] = default_vmm_comms[i];
}

int opt_scratch_root(struct collector_cfg *cfg, const char *arg)
{
	return add_dir(cfg->td.roots, &cfg->td.nroots, TESTDIR_MAX_ROOTS, arg, "--scratch-root");
}

int opt_test_dir_depth(struct collector_cfg *cfg, const char *arg)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (*arg == '\0' || *end || n < 1 || n > 16)
		return usage_error("--test-dir-depth needs a number from 1 to 16");
	cfg->td.depth = n;
	return 0;
}

int opt_vmm_comm(struct collector_cfg *cfg, const char *arg)
{
	if (cfg->nvmm_comms >= (int)(sizeof(cfg->vmm_comms) / sizeof(cfg->vmm_comms[0])))
		return usage_error("too many %s options", "--vmm-comm");
	cfg->vmm_comms[cfg->nvmm_comms++] = arg;
	return 0;
}

int opt_spin_threshold(struct collector_cfg *cfg, const char *arg)
{
	char *end;

	cfg->spin_pct = strtod(arg, &end);
	if (*arg == '\0' || *end || cfg->spin_pct <= 0 || cfg->spin_pct > 10000)
		return usage_error("--spin-threshold needs a percentage of one core (1-10000)");
	return 0;
}

/* The most --keep-processes takes: far beyond what a report can hold (a million is ~600 MB). */
#define KEEP_PROCESSES_MAX 100000000ul
/* The longest --keep-for: ten years, far below where nanoseconds overflow. */
#define KEEP_FOR_MAX_S (3650ull * 86400)

int opt_keep_processes(struct collector_cfg *cfg, const char *arg)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end || errno || n > KEEP_PROCESSES_MAX)
		return usage_error("--keep-processes needs a number of processes (0: no limit, "
				   "at most %lu)",
				   KEEP_PROCESSES_MAX);
	cfg->keep_processes = n;
	return 0;
}

int opt_keep_for(struct collector_cfg *cfg, const char *arg)
{
	static const struct {
		char suffix;
		uint64_t secs;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	uint64_t unit = 1;
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(arg, &end, 10);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && *end && end > arg; i++)
		if (*end == units[i].suffix && !end[1]) {
			unit = units[i].secs;
			end++;
		}
	if (*arg < '0' || *arg > '9' || *end || errno || n > KEEP_FOR_MAX_S / unit)
		return usage_error("--keep-for needs a duration: seconds, or a number with s, m, h "
				   "or d (0: for ever, at most 3650d)");
	cfg->keep_for_ns = n * unit * 1000000000ull;
	return 0;
}

int parse_snapshot_options(int argc, char **argv, const struct option *options,
			   struct collector_cfg *cfg, bool *json)
{
	int opt, err = 0;

	optind = 0;
	opterr = 0;
	while (!err && (opt = getopt_long(argc, argv, SNAPSHOT_SHORTOPTS, options, NULL)) != -1) {
		switch (opt) {
		case SNAP_JSON:
			*json = true;
			break;
		case SNAP_SCRATCH_ROOT:
			err = opt_scratch_root(cfg, optarg);
			break;
		case SNAP_DEPTH:
			err = opt_test_dir_depth(cfg, optarg);
			break;
		case SNAP_VMM_COMM:
			err = opt_vmm_comm(cfg, optarg);
			break;
		case SNAP_SPIN_THRESHOLD:
			err = opt_spin_threshold(cfg, optarg);
			break;
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (err)
		return err;
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return -1;
}
