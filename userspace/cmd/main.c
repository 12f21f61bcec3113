// SPDX-License-Identifier: GPL-2.0
/* cidtrace: who held the vsock CID, and which VMMs and pagers misbehaved, from the kernel. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "options.h"
#include "util.h"

static const struct command commands[] = {
	{ "record", record_command, TRACE_SHORTOPTS, record_options, record_help,
	  "trace until SIGINT, SIGTERM or --duration; write a report" },
	{ "run", run_command, TRACE_SHORTOPTS, run_options, run_help,
	  "trace while CMD runs; write a report; exit with CMD's status" },
	{ "cids", cids_command, SNAPSHOT_SHORTOPTS, cids_options, cids_help,
	  "list the vhost-vsock CIDs bound on this host now, with holders" },
	{ "guests", guests_command, SNAPSHOT_SHORTOPTS, guests_options, guests_help,
	  "list the VMMs on this host now, worst first (uffd, CPU, CIDs)" },
	{ "doctor", doctor_command, SNAPSHOT_SHORTOPTS, doctor_options, doctor_help,
	  "say what this host supports and which hooks cidtrace will use" },
	{ "report", report_command, REPORT_SHORTOPTS, report_options, report_help,
	  "render a report as text, HTML or normalized JSON; no root needed" },
	{ "replay", replay_command, REPLAY_SHORTOPTS, replay_options, replay_help,
	  "build a report from a --raw recording of record or run" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fputs("usage: cidtrace COMMAND [options] [ARGS...]\n"
	      "       cidtrace COMMAND --help\n"
	      "       cidtrace --version | --help\n"
	      "\n"
	      "Trace process lifecycles, vhost-vsock CIDs and userfaultfd with BPF, and write a\n"
	      "JSON report that ties VMMs to their test directories.\n"
	      "\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Each command takes only its own options: see cidtrace COMMAND --help.\n"
	      "\n"
	      "exit codes: 0 ok, 1 tracing or report failure, 2 usage error, 3 environment\n"
	      "(not root, no BPF, no BTF, not in the host pid namespace), 4 report, replay: the\n"
	      "input is unreadable or malformed (replay: truncated; the report then says\n"
	      "complete: false), 10 a --fail-on finding;\n"
	      "run: CMD's status if it failed (128+N if killed by signal N).\n"
	      "\n"
	      "examples:\n"
	      "  sudo cidtrace run -o report.json -- make test\n"
	      "  sudo cidtrace record --json --duration 60 -o /tmp/ct.json | jq .\n"
	      "  sudo cidtrace guests --scratch-root /ci\n"
	      "  cidtrace report report.json --format html -o report.html\n"
	      "  cidtrace replay ci-job.raw -o report.json\n",
	      f);
}

/* The option getopt_long just turned away, as the user wrote it, without any =VALUE. */
static int bad_option(int opt, char **argv)
{
	const char *arg = argv[optind - 1];
	int len = strchrnul(arg, '=') - arg;

	if (strncmp(arg, "--", 2)) /* a short option, maybe in a cluster such as -qx */
		return usage_error(opt == ':' ? "option -%c needs a value" : "unknown option -%c",
				   optopt);
	if (opt == ':')
		return usage_error("option %.*s needs a value", len, arg);
	if (optopt) /* known, but given a value it does not take */
		return usage_error("option %.*s takes no value", len, arg);
	return usage_error("unknown option %.*s", len, arg);
}

/* The word of the long option o getopt_long just took (its value may be the next word). */
static const char *option_word(const struct option *o, char **argv)
{
	const char *word = argv[optind - 1];

	if (o->has_arg != no_argument && optarg && optarg == word && optind >= 2)
		word = argv[optind - 2];
	return word;
}

/*
 * getopt_long takes any start of a long option's name for the option: `record --reap` would
 * be read as --reap-grace, and a word as whatever option it begins. Only whole names count.
 */
static bool abbreviated(const struct option *o, const char *word)
{
	if (strncmp(word, "--", 2))
		return false;
	word += 2;
	return (size_t)(strchrnul(word, '=') - word) != strlen(o->name);
}

/* Turn away options that are not cmd's, answer --help; -1 if the handler is to run. */
static int check_options(const struct command *cmd, int argc, char **argv)
{
	const char *word;
	int opt, idx;

	optind = 0;
	opterr = 0;
	while ((idx = -1, opt = getopt_long(argc, argv, cmd->shortopts, cmd->options, &idx)) !=
	       -1) {
		if (opt == '?' || opt == ':')
			return bad_option(opt, argv);
		word = idx >= 0 ? option_word(&cmd->options[idx], argv) : NULL;
		if (word && abbreviated(&cmd->options[idx], word))
			return usage_error("unknown option %.*s",
					   (int)(strchrnul(word, '=') - word), word);
		if (opt == 'h') {
			fputs(cmd->help, stdout);
			return EXIT_OK;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	int ret;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("cidtrace %s\n", CIDTRACE_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS && !cmd; i++)
		if (!strcmp(argv[1], commands[i].name))
			cmd = &commands[i];
	if (!cmd)
		return usage_error(argv[1][0] == '-' ? "unknown option %s before a command"
						     : "unknown command '%s'",
				   argv[1]);
	usage_set_command(cmd->name);
	if (cmd->options && (ret = check_options(cmd, argc - 1, argv + 1)) >= 0)
		return ret;
	optind = 0;
	return cmd->handler(argc - 1, argv + 1);
}
