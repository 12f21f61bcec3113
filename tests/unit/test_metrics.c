// SPDX-License-Identifier: GPL-2.0
/* The Prometheus textfile: label escaping, zero series, finding counts per kind. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "collector.h"
#include "metrics.h"
#include "report.h"
#include "util.h"

static char text[8192];

static const char *write_metrics(const char *path, const struct attach_modes *modes,
				 const struct finding_counts *fc)
{
	struct collector_cfg cfg = { 0 };
	struct report_meta m = { .mode = "record", .attach = modes, .lost = 3 };
	struct collector c;
	FILE *f;
	size_t n;

	collector_init(&c, &cfg);
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

	write_metrics(path, &modes, &fc);
	/* backslash, double quote and newline escaped in label values */
	CHECK(strstr(text, "vsock=\"we\\\"ird\\\\mo\\nde\"") != NULL);
	CHECK(strstr(text, "cidtrace_findings_total{kind=\"cid_conflict\","
			   "classification=\"teardown_race\"} 2\n") != NULL);
	/* a kind found has no extra zero series; kinds not found have one */
	CHECK(strstr(text, "{kind=\"cid_conflict\",classification=\"\"}") == NULL);
	CHECK(strstr(text, "cidtrace_findings_total{kind=\"vmm_leak\",classification=\"\"} 0\n") !=
	      NULL);
	CHECK(strstr(text, "cidtrace_events_lost_total 3\n") != NULL);
	CHECK(strstr(text, "cidtrace_trace_complete 0\n") != NULL);
	CHECK(strstr(text, "# TYPE cidtrace_guests gauge\n") != NULL);

	unlink(path);
	rmdir(dir);
	return check_done("test_metrics");
}
