// SPDX-License-Identifier: GPL-2.0
/* `cidtrace report FILE`: read a report, check it, and render it as text, HTML or JSON. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "options.h"
#include "render.h"
#include "slice.h"
#include "util.h"

const char report_help[] =
	"usage: cidtrace report FILE [--format text|html|json] [-o OUT] [--no-color]\n"
	"                            [--scope DIR] [--scope-cgroup PATH] [--scope-container ID]\n"
	"                            [--since T] [--until T]\n"
	"\n"
	"Render a report written by `cidtrace record` or `cidtrace run`: a story per finding\n"
	"(text, the default; color only on a terminal), one self-contained HTML file with a\n"
	"timeline, or the JSON normalized to the current schema. No root needed.\n"
	"With --scope, --since or --until, only a slice of it: one job's processes (and their\n"
	"ancestors), CIDs, userfaultfds and findings, from a recorder that traces them all.\n"
	"\n"
	"options:\n"
	"      --format FORMAT      text (default), html, or json: the report itself, one\n"
	"                           JSON document normalized to the current schema\n"
	"  -o, --output OUT         write to OUT, replaced atomically (default: stdout)\n"
	"      --no-color           no color in text, even on a terminal (also if NO_COLOR is set)\n"
	"      --scope DIR          a slice: the processes whose argv or cwd names DIR (as\n"
	"                           record's --scope; DIR may be gone), the CIDs they bound, the\n"
	"                           userfaultfds they own, the findings about them; DIR is a\n"
	"                           path of the recorder's mount namespace\n"
	"      --scope-cgroup PATH  a slice: the processes in cgroup v2 PATH or below it\n"
	"      --scope-container ID a slice: the processes in container ID (or 12 of its first\n"
	"                           characters or more); with either, DIR is theirs\n"
	"      --since T            a slice: only processes still alive at T; T is RFC 3339\n"
	"                           (2026-11-27T03:42:36Z, 2026-11-27T04:42:36.5+01:00) or @SECONDS\n"
	"      --until T            a slice: only processes started by T\n"
	"  -h, --help               this help\n"
	"\n"
	"exit codes: 0 ok, 1 writing failed, 2 usage error or unwritable -o, 4 the input is\n"
	"unreadable, not a report, truncated or of an unknown schema major.\n"
	"\n"
	"examples:\n"
	"  cidtrace report cidtrace-report.json\n"
	"  cidtrace report cidtrace-report.json --format html -o cidtrace.html\n"
	"  cidtrace report old.json --format json | jq '.findings[].summary'\n"
	"  cidtrace report runner.json --scope /ci/job42 --since @1764214956 -o job42.txt\n";

enum { OPT_FORMAT = 256, OPT_NO_COLOR };

const struct option report_options[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	SLICE_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int report_render_file(const char *path, const char *format, const char *out, bool color,
		       const struct slice *slice)
{
	struct atomic_file af;
	struct report r;
	char err[256], *in;
	size_t len;
	FILE *f;
	int ret;

	/*
	 * Large blocks (the input, big arrays of the tree) come from mmap, so that growing one
	 * moves no bytes and freeing one returns it; glibc would otherwise raise this threshold
	 * past the freed input and serve the tree from a heap that only grows.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 << 10);
	ret = report_read(path, false, &in, &len);
	if (ret == -EFBIG)
		errmsg("report '%s' is larger than %u MiB; refusing to read it", path,
		       REPORT_MAX_BYTES >> 20);
	else if (ret)
		errmsg("cannot read report '%s': %s", path, strerror(-ret));
	if (ret)
		return EXIT_INPUT;
	ret = report_parse(in, len, &r, err, sizeof(err));
	free(in);
	if (ret) {
		errmsg("report '%s': %s", path, err);
		return EXIT_INPUT;
	}
	if (slice)
		slice_report(&r, slice);

	/*
	 * Rendered straight into -o's temp file, or to stdout: the output, which can be many
	 * times the report, is never held in memory. -o's file is replaced only once complete.
	 */
	if (out && (ret = atomic_open(out, &af))) {
		errmsg("cannot write output '%s': %s", out, strerror(-ret));
		report_free(&r);
		return EXIT_RUNTIME;
	}
	f = out ? af.f : stdout;
	if (!strcmp(format, "json"))
		render_json(f, &r);
	else if (!strcmp(format, "html"))
		render_html(f, &r);
	else
		render_text(f, &r, color && !out && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	report_free(&r);

	ret = EXIT_OK;
	if (out && (ret = atomic_close(&af, true))) {
		errmsg("cannot write output '%s': %s", out, strerror(-ret));
		ret = EXIT_RUNTIME;
	} else if (!out && (fflush(stdout) || ferror(stdout))) {
		errmsg("cannot write to stdout: %s", strerror(errno ? errno : EIO));
		ret = EXIT_RUNTIME;
	}
	return ret;
}

int report_command(int argc, char **argv)
{
	const char *format = "text", *out = NULL;
	struct slice slice = { 0 };
	bool color = true;
	int opt, ret;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, REPORT_SHORTOPTS, report_options, NULL)) != -1) {
		switch (opt) {
		case OPT_FORMAT:
			format = optarg;
			if (strcmp(format, "text") && strcmp(format, "html") &&
			    strcmp(format, "json"))
				return usage_error("--format is text, html or json, not '%s'",
						   format);
			break;
		case 'o':
			out = optarg;
			break;
		case OPT_NO_COLOR:
			color = false;
			break;
		case OPT_SLICE_SCOPE:
		case OPT_SLICE_SINCE:
		case OPT_SLICE_UNTIL:
		case OPT_SLICE_CGROUP:
		case OPT_SLICE_CONTAINER:
			/* its scope lives as long as the process, as record's --scope */
			if ((ret = opt_slice(&slice, opt, optarg)))
				return ret;
			break;
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		fputs(report_help, stderr);
		return EXIT_USAGE;
	}
	if (optind + 1 < argc)
		return usage_error("unexpected argument '%s'", argv[optind + 1]);
	if (out && (ret = atomic_write_probe(out))) {
		errmsg("cannot write output '%s': %s", out, strerror(-ret));
		return EXIT_USAGE;
	}
	return report_render_file(argv[optind], format, out, color,
				  slice_wanted(&slice) ? &slice : NULL);
}
