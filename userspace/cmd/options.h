/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the subcommands share to read their options: usage errors that name the command,
 * parsers for seconds, directories and comma lists, and the collector's defaults.
 */
#ifndef CIDTRACE_OPTIONS_H
#define CIDTRACE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct collector_cfg;
struct slice;

/* The command being run, named in usage errors; main sets it before dispatching. */
void usage_set_command(const char *name);
/* One line on stderr, "cidtrace CMD: ... (see cidtrace CMD --help)". Returns EXIT_USAGE. */
__attribute__((format(printf, 1, 2))) int usage_error(const char *fmt, ...);

/* A number of seconds, 0 to 1e7, into *out. Returns 0 or the usage error for flag. */
int parse_seconds(const char *arg, double *out, const char *flag);
/* A size in bytes, with a K, M or G suffix (1024, 1024^2, 1024^3), into *out: 0 or the error. */
int parse_size(const char *arg, uint64_t *out, const char *flag);
/* A comma list of names[]: a bit per name found set in *bits. Returns 0 or the usage error. */
int parse_names(const char *arg, const char *const *names, size_t n, unsigned int *bits,
		const char *flag);
/* --only: a comma list of live kinds, added to *kinds (enum live_kind bits). */
int parse_only(const char *arg, unsigned int *kinds);
/* Append the absolute, normalized arg to list (at most max). Returns 0 or the usage error. */
int add_dir(const char **list, int *n, int max, const char *arg, const char *flag);

/*
 * Defaults: test dirs under $TMPDIR, /tmp and /ci at depth 2, the known VMM names, spin, and
 * this process as cidtrace itself (self_pid).
 */
void collector_cfg_defaults(struct collector_cfg *cfg);
/* The options of the collector's that several commands take; 0 or the usage error. */
/*
 * --scope: an existing directory other than /, resolved with realpath (symlinks, "..") so that
 * it is the path the kernel shows as a cwd. Returns 0 or the usage error.
 */
int opt_scope(struct collector_cfg *cfg, const char *arg);
int opt_scratch_root(struct collector_cfg *cfg, const char *arg);
/* --scope-cgroup: an absolute cgroup v2 path other than /, normalized. 0 or the usage error. */
int opt_scope_cgroup(struct collector_cfg *cfg, const char *arg);
/* --scope-container: a container id, a prefix of one, or a machine name. 0 or the error. */
int opt_scope_container(struct collector_cfg *cfg, const char *arg);

/* The slice options of report and replay (slice.h), in their option tables with SLICE_OPTIONS. */
enum slice_opt {
	OPT_SLICE_SCOPE = 300,
	OPT_SLICE_SINCE,
	OPT_SLICE_UNTIL,
	OPT_SLICE_CGROUP,
	OPT_SLICE_CONTAINER,
};
/* clang-format off */
#define SLICE_OPTIONS                                                          \
	{ "scope", required_argument, NULL, OPT_SLICE_SCOPE },                  \
	{ "since", required_argument, NULL, OPT_SLICE_SINCE },                  \
	{ "until", required_argument, NULL, OPT_SLICE_UNTIL },                  \
	{ "scope-cgroup", required_argument, NULL, OPT_SLICE_CGROUP },          \
	{ "scope-container", required_argument, NULL, OPT_SLICE_CONTAINER }
/* clang-format on */
/*
 * --scope (a directory as --scope resolves it, which need not exist any more: its deepest
 * existing part is resolved), --scope-cgroup, --scope-container (checked as record's), --since
 * or --until (slice_parse_time) into s. Returns 0 or the usage error (also when since is after
 * until).
 */
int opt_slice(struct slice *s, int opt, const char *arg);
int opt_test_dir_depth(struct collector_cfg *cfg, const char *arg);
int opt_vmm_comm(struct collector_cfg *cfg, const char *arg);
int opt_spin_threshold(struct collector_cfg *cfg, const char *arg);
/* --keep-processes N: a whole number, 0 for no limit. */
int opt_keep_processes(struct collector_cfg *cfg, const char *arg);
/* --keep-for DURATION: whole seconds, or a whole number of s, m, h or d; 0 for no limit. */
int opt_keep_for(struct collector_cfg *cfg, const char *arg);

/* The options of the snapshot commands (cids, guests, doctor); each table takes a subset. */
enum snapshot_opt {
	SNAP_JSON = 256,
	SNAP_SCRATCH_ROOT,
	SNAP_DEPTH,
	SNAP_VMM_COMM,
	SNAP_SPIN_THRESHOLD,
};

struct option;
/*
 * Read a snapshot command's options, as listed in its table, into cfg and *json. Returns -1
 * to go on, or the exit code: EXIT_OK once --help printed help, or the usage error.
 */
int parse_snapshot_options(int argc, char **argv, const struct option *options,
			   struct collector_cfg *cfg, bool *json);

#endif
