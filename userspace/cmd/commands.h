/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The subcommands, a file each. main.c dispatches through a table of them: a row names the
 * handler, the options the command accepts and its --help. Main turns away any other option
 * (exit 2, one line naming it and the command) and answers --help; the handler then reads
 * its own options again with the same table for their values.
 */
#ifndef CIDTRACE_COMMANDS_H
#define CIDTRACE_COMMANDS_H

#include <getopt.h>
#include <stdbool.h>

struct command {
	const char *name;
	/* argv[0] is the command's name; returns the exit code */
	int (*handler)(int argc, char **argv);
	/* getopt_long's, ':' first; NULL: the handler reads its options and --help itself */
	const char *shortopts;
	const struct option *options;
	/* `cidtrace NAME --help`: usage, what it does, options, exit codes, examples */
	const char *help;
	/* its line in `cidtrace --help` */
	const char *summary;
};

/* Options end at the first argument that is not one: the rest is run's CMD. */
#define TRACE_SHORTOPTS "+:o:qvh"
/* cids, guests and doctor take no argument but options. */
#define SNAPSHOT_SHORTOPTS "+:h"
/* report FILE may come before or after its options. */
#define REPORT_SHORTOPTS ":o:h"
/* replay FILE, likewise. */
#define REPLAY_SHORTOPTS ":o:qh"

/* `cidtrace record`: trace until a signal or --duration; record.c */
int record_command(int argc, char **argv);
extern const struct option record_options[];
extern const char record_help[];
/* `cidtrace run -- CMD`: trace while CMD runs, exit with its status; record.c */
int run_command(int argc, char **argv);
extern const struct option run_options[];
extern const char run_help[];
/* `cidtrace cids`: the host's CID table, printed at once. */
int cids_command(int argc, char **argv);
extern const struct option cids_options[];
extern const char cids_help[];
/* `cidtrace guests`: every VMM on the host now, worst first. */
int guests_command(int argc, char **argv);
extern const struct option guests_options[];
extern const char guests_help[];
/* `cidtrace doctor`: what this host supports and what cidtrace will use. */
int doctor_command(int argc, char **argv);
extern const struct option doctor_options[];
extern const char doctor_help[];
/* `cidtrace report`: read a report, render it as text, HTML or JSON. */
int report_command(int argc, char **argv);
extern const struct option report_options[];
extern const char report_help[];
/*
 * Read the report at path (slice: only that slice of it) and render it in format to out
 * (NULL: stdout, in color if color and a terminal). Returns the exit code; replay's slices
 * are made by it too.
 */
struct slice;
int report_render_file(const char *path, const char *format, const char *out, bool color,
		       const struct slice *slice);
/* `cidtrace replay`: feed a --raw capture through the core again, write its report. */
int replay_command(int argc, char **argv);
extern const struct option replay_options[];
extern const char replay_help[];

#endif
