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
#include "options.h"
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

int opt_scope(struct collector_cfg *cfg, const char *arg)
{
	struct stat st;
	char *dir;

	if (cfg->nscopes >= MAX_LIST)
		return usage_error("too many %s options", "--scope");
	/* "$TMPDIR" with TMPDIR unset: an empty scope would become the cwd, often / */
	if (!*arg)
		return usage_error("--scope needs a directory, not an empty string");
	dir = realpath(arg, NULL);
	if (!dir)
		return usage_error("--scope '%s': %s", arg, strerror(errno));
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		free(dir);
		return usage_error("--scope '%s': not a directory", arg);
	}
	if (!strcmp(dir, "/")) {
		free(dir);
		return usage_error(
			"--scope '%s' resolves to /, which holds every process: name the "
			"job's own directory",
			arg);
	}
	cfg->scopes[cfg->nscopes++] = dir;
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
	cfg->keep_processes = 10000;
	cfg->keep_for_ns = 24 * 3600 * 1000000000ull;
	cfg->self_pid = getpid();
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
