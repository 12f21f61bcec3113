// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "state.h"
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

/*
 * cidtrace_findings_total: every finding of this recorder's life, the report's plus those
 * retention has dropped from it (trace.retention), so that it never goes down while the
 * recorder runs: a counter that went down would read as a reset, and increase() over it as
 * a burst of new findings. cid_conflict's classification is only in cidtrace_findings, the
 * report's own count, which retention lowers.
 */
static void findings(FILE *f, const struct collector *c, const struct finding_counts *fc)
{
	header(f, "cidtrace_findings_total", "counter",
	       "Findings since this recorder started, by kind: in the report or aged out of it.");
	for (enum finding_kind k = 0; k < FINDING_KINDS; k++)
		fprintf(f, "cidtrace_findings_total{kind=\"%s\"} %llu\n", finding_kind_name(k),
			(unsigned long long)(finding_counts_kind(fc, finding_kind_name(k)) +
					     c->retention.dropped_findings_kind[k]));
	header(f, "cidtrace_findings", "gauge",
	       "Findings in the report now, by kind (and classification, for cid_conflict).");
	for (int i = 0; i < fc->n; i++) {
		fputs("cidtrace_findings{", f);
		label(f, "kind", fc->v[i].kind, false);
		label(f, "classification", fc->v[i].classification, true);
		fprintf(f, "} %llu\n", (unsigned long long)fc->v[i].n);
	}
	for (enum finding_kind k = 0; k < FINDING_KINDS; k++)
		if (!finding_counts_kind(fc, finding_kind_name(k)))
			fprintf(f, "cidtrace_findings{kind=\"%s\",classification=\"\"} 0\n",
				finding_kind_name(k));
}

/*
 * Live VMMs, and those whose parent has exited: a launcher that died and left its VMM
 * running. An always-on record has no vmm_leak finding until it stops; this is the leak
 * as it happens. Counted as the report counts: in --scope, under --pid.
 */
static void vmms(FILE *f, const struct collector *c)
{
	unsigned long long live = 0, orphaned = 0;

	pt_for_each(&c->pt, p) {
		if (p->role != ROLE_VMM || p->exited || !collector_in_view(c, p))
			continue;
		live++;
		orphaned += collector_parent_exited(p);
	}
	header(f, "cidtrace_vmms", "gauge", "VMMs running now.");
	fprintf(f, "cidtrace_vmms %llu\n", live);
	header(f, "cidtrace_vmms_orphaned", "gauge",
	       "VMMs running now whose parent has exited (reparented to init or a subreaper).");
	fprintf(f, "cidtrace_vmms_orphaned %llu\n", orphaned);
}

static void retention(FILE *f, const struct retention_stats *r)
{
	const struct {
		const char *what;
		uint64_t n;
	} dropped[] = { { "processes", r->dropped_processes },
			{ "cids", r->dropped_cids },
			{ "uffds", r->dropped_uffds },
			{ "findings", r->dropped_findings },
			{ "reaped", r->dropped_reaped } };

	header(f, "cidtrace_retention_dropped_total", "counter",
	       "What aged out of the report (trace.retention), by what.");
	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		fprintf(f, "cidtrace_retention_dropped_total{what=\"%s\"} %llu\n", dropped[i].what,
			(unsigned long long)dropped[i].n);
}

int metrics_write(const char *path, struct collector *c, const struct report_meta *m,
		  const struct finding_counts *fc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = xopen_memstream(&buf, &len);
	struct timespec now;
	int ret;

	findings(f, c, fc);
	vmms(f, c);
	retention(f, &c->retention);
	header(f, "cidtrace_events_received_total", "counter",
	       "Records read from the ring buffer.");
	fprintf(f, "cidtrace_events_received_total %llu\n", (unsigned long long)c->received);
	header(f, "cidtrace_events_lost_total", "counter",
	       "Records the kernel side could not queue.");
	fprintf(f, "cidtrace_events_lost_total %llu\n", (unsigned long long)m->lost);
	header(f, "cidtrace_uffd_serves_overflow_total", "counter",
	       "userfaultfd serves the per-handler count table had no room for (counted, not sent).");
	fprintf(f, "cidtrace_uffd_serves_overflow_total %llu\n",
		(unsigned long long)m->uffd_serves_overflow);
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
	       "Always 1: cidtrace wrote this file (cidtrace_checkpoint_timestamp_seconds says when).");
	fputs("cidtrace_up 1\n", f);
	/* the real wall clock, not the trace's (fixed at start): Prometheus compares it with its
	 * own time() to tell a recorder that stopped writing */
	clock_gettime(CLOCK_REALTIME, &now);
	header(f, "cidtrace_checkpoint_timestamp_seconds", "gauge",
	       "When cidtrace wrote this file, in seconds since the epoch: stale when it stopped.");
	fprintf(f, "cidtrace_checkpoint_timestamp_seconds %lld.%03ld\n", (long long)now.tv_sec,
		now.tv_nsec / 1000000);
	header(f, "cidtrace_trace_complete", "gauge", "1 if no event was lost.");
	fprintf(f, "cidtrace_trace_complete %d\n", m->lost == 0);
	fclose(f);
	/* 0644: node_exporter runs as its own user (Debian's: prometheus), and nothing here is
	 * any user's: no argv, no path, no pid */
	ret = atomic_write_public(path, buf, len);
	free(buf);
	return ret;
}
