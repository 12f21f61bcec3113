/* SPDX-License-Identifier: GPL-2.0 */
/* --metrics: Prometheus text format for node_exporter's textfile collector. */
#ifndef CIDTRACE_METRICS_H
#define CIDTRACE_METRICS_H

#include "state.h"
#include "report.h"

/* Replace path atomically with the metrics of the report just written. 0 or -errno. */
int metrics_write(const char *path, struct collector *c, const struct report_meta *m,
		  const struct finding_counts *fc);

#endif
