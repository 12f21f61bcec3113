// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "uffd.h"
#include "util.h"
#include "vocab.h"

/* Series that always exist, so that a rate() over them starts at 0, not at absent: every
 * finding kind (below), and guests in every state but released. */
static const enum uffd_ctx_state guest_states[] = { UFFD_SERVED, UFFD_UNSERVED, UFFD_PAGER_LOST,
						    UFFD_STALLED, UFFD_SPINNING };

/* A label value per the text format: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *name, const char *value, bool last)
{
	fprintf(f, "%s=\"", name);
	for (const char *s = value; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputs(last ? "\"" : "\",", f);
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void findings(FILE *f, const struct finding_counts *fc)
{
	header(f, "cidtrace_findings_total", "counter",
	       "Findings in the report, by kind (and classification, for cid_conflict).");
	for (int i = 0; i < fc->n; i++) {
		fputs("cidtrace_findings_total{", f);
		label(f, "kind", fc->v[i].kind, false);
		label(f, "classification", fc->v[i].classification, true);
		fprintf(f, "} %llu\n", (unsigned long long)fc->v[i].n);
	}
	for (enum finding_kind k = 0; k < FINDING_KINDS; k++)
		if (!finding_counts_kind(fc, finding_kind_name(k)))
			fprintf(f, "cidtrace_findings_total{kind=\"%s\",classification=\"\"} 0\n",
				finding_kind_name(k));
}

int metrics_write(const char *path, struct collector *c, const struct report_meta *m,
		  const struct finding_counts *fc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = xopen_memstream(&buf, &len);
	int ret;

	findings(f, fc);
	header(f, "cidtrace_events_received_total", "counter",
	       "Records read from the ring buffer.");
	fprintf(f, "cidtrace_events_received_total %llu\n", (unsigned long long)c->received);
	header(f, "cidtrace_events_lost_total", "counter",
	       "Records the kernel side could not queue.");
	fprintf(f, "cidtrace_events_lost_total %llu\n", (unsigned long long)m->lost);
	header(f, "cidtrace_guests", "gauge", "userfaultfd guests by the state of their pager.");
	for (size_t i = 0; i < sizeof(guest_states) / sizeof(guest_states[0]); i++)
		fprintf(f, "cidtrace_guests{uffd_state=\"%s\"} %d\n",
			uffd_ctx_state_name(guest_states[i]), uffd_count_state(c, guest_states[i]));
	header(f, "cidtrace_info", "gauge", "cidtrace version and the hooks attached.");
	fputs("cidtrace_info{", f);
	label(f, "version", CIDTRACE_VERSION, false);
	label(f, "process", m->attach->process, false);
	label(f, "snapshot", m->attach->snapshot, false);
	label(f, "vsock", m->attach->vsock, false);
	label(f, "uffd", m->attach->uffd, true);
	fputs("} 1\n", f);
	header(f, "cidtrace_up", "gauge",
	       "Always 1: cidtrace wrote this file (node_textfile_mtime_seconds says when).");
	fputs("cidtrace_up 1\n", f);
	header(f, "cidtrace_trace_complete", "gauge", "1 if no event was lost.");
	fprintf(f, "cidtrace_trace_complete %d\n", m->lost == 0);
	fclose(f);
	ret = atomic_write(path, buf, len);
	free(buf);
	return ret;
}
