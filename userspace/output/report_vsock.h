/* SPDX-License-Identifier: GPL-2.0 */
/* The report's vsock parts, built from core/vsock.c's state without changing it. */
#ifndef CIDTRACE_REPORT_VSOCK_H
#define CIDTRACE_REPORT_VSOCK_H

#include <json-c/json.h>

#include "state.h"

/* cids[] and the vsock findings. */
struct json_object *vsock_cids_json(const struct collector *c);
void vsock_findings_json(const struct collector *c, struct json_object *findings);

#endif
