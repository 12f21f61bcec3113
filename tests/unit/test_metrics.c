// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus textfile: label escaping, zero series, finding counts per kind with what
 * retention dropped, VMMs whose parent exited, the time of the write.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "collector.h"
#include "metrics.h"
#include "report.h"
#include "util.h"

static char text[8192];

/* A process entry of the given role; exited or not. */
static struct proc *add(struct collector *c, uint32_t pid, uint64_t start, uint32_t ppid,
			enum role role, bool exited)
{
	struct proc *p = pt_add(&c->pt, pid, start, ppid);

	p->role = role;
	p->exited = exited;
	p->keep = true;
	return p;
}

static const char *write_metrics(const char *path, const struct attach_modes *modes,
				 const struct finding_counts *fc)
{
	struct collector_cfg cfg = { 0 };
	struct report_meta m = {
		.mode = "record", .attach = modes, .lost = 3, .uffd_serves_overflow = 9
	};
	struct collector c;
	FILE *f;
	size_t n;

	collector_init(&c, &cfg);
	/* retention dropped 4 findings, 2 of them cid_conflict (another helper fills these) */
	c.retention.dropped_findings = 4;
	c.retention.dropped_findings_kind[CID_CONFLICT] = 2;
	c.retention.dropped_findings_kind[UFFD_ORPHAN] = 2;
	c.retention.dropped_processes = 7;
	/* VMMs: one whose launcher lives, one reparented to init, one whose parent exited under
	 * the trace, one under a subreaper that started after it; one exited, one not a VMM */
	add(&c, 100, 10, 1, ROLE_NONE, false);
	add(&c, 101, 20, 100, ROLE_VMM, false);
	add(&c, 102, 30, 1, ROLE_VMM, false);
	add(&c, 103, 40, 100, ROLE_VMM, false)->orphaned = true;
	add(&c, 104, 90, 1, ROLE_NONE, false);
	add(&c, 105, 50, 104, ROLE_VMM, false);
	add(&c, 106, 60, 1, ROLE_VMM, true);
	add(&c, 107, 70, 1, ROLE_PAGER, false);
	CHECK(metrics_write(path, &c, &m, fc) == 0);
	collector_free(&c);
	f = fopen(path, "r");
	n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	text[n] = '\0';
	if (f)
		fclose(f);
	return text;
}

int main(void)
{
	char dir[] = "/tmp/cidtrace-unit.XXXXXX", path[256];
	struct attach_modes modes = { "tp_btf", "iter", "we\"ird\\mo\nde", 0, "fexit" };
	struct finding_counts fc = { .n = 2 };
	const char *ts;
	time_t before;
	struct stat st;
	double secs;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/cidtrace.prom", dir);
	strcpy(fc.v[0].kind, "cid_conflict");
	strcpy(fc.v[0].classification, "teardown_race");
	fc.v[0].n = 2;
	strcpy(fc.v[1].kind, "cid_conflict");
	strcpy(fc.v[1].classification, "live_duplicate");
	fc.v[1].n = 1;
	CHECK(finding_counts_kind(&fc, "cid_conflict") == 3);
	CHECK(finding_counts_kind(&fc, "vmm_leak") == 0);

	before = time(NULL);
	write_metrics(path, &modes, &fc);
	/* backslash, double quote and newline escaped in label values */
	CHECK(strstr(text, "vsock=\"we\\\"ird\\\\mo\\nde\"") != NULL);
	/* the counter: the report's findings plus those retention dropped, by kind only */
	CHECK(strstr(text, "cidtrace_findings_total{kind=\"cid_conflict\"} 5\n") != NULL);
	CHECK(strstr(text, "cidtrace_findings_total{kind=\"uffd_orphan\"} 2\n") != NULL);
	CHECK(strstr(text, "cidtrace_findings_total{kind=\"vmm_leak\"} 0\n") != NULL);
	/* the gauge: the report's, by classification */
	CHECK(strstr(text, "cidtrace_findings{kind=\"cid_conflict\","
			   "classification=\"teardown_race\"} 2\n") != NULL);
	/* a kind found has no extra zero series; kinds not found have one */
	CHECK(strstr(text, "{kind=\"cid_conflict\",classification=\"\"}") == NULL);
	CHECK(strstr(text, "cidtrace_findings{kind=\"vmm_leak\",classification=\"\"} 0\n") != NULL);
	CHECK(strstr(text, "cidtrace_retention_dropped_total{what=\"findings\"} 4\n") != NULL);
	CHECK(strstr(text, "cidtrace_retention_dropped_total{what=\"processes\"} 7\n") != NULL);
	CHECK(strstr(text, "cidtrace_retention_dropped_total{what=\"uffds\"} 0\n") != NULL);
	CHECK(strstr(text, "cidtrace_retention_dropped_total{what=\"reaped\"} 0\n") != NULL);
	CHECK(strstr(text, "cidtrace_vmms 4\n") != NULL);
	CHECK(strstr(text, "cidtrace_vmms_orphaned 3\n") != NULL);
	/* the wall clock of the write */
	ts = strstr(text, "\ncidtrace_checkpoint_timestamp_seconds ");
	CHECK(ts != NULL);
	secs = ts ? strtod(ts + strlen("\ncidtrace_checkpoint_timestamp_seconds "), NULL) : 0;
	CHECK(secs >= before && secs <= time(NULL) + 1);
	/* readable by node_exporter's user: it holds no user's data */
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644);
	CHECK(strstr(text, "cidtrace_events_lost_total 3\n") != NULL);
	CHECK(strstr(text, "cidtrace_uffd_serves_overflow_total 9\n") != NULL);
	CHECK(strstr(text, "cidtrace_trace_complete 0\n") != NULL);
	CHECK(strstr(text, "# TYPE cidtrace_guests gauge\n") != NULL);

	unlink(path);
	rmdir(dir);
	return check_done("test_metrics");
}
