/* SPDX-License-Identifier: GPL-2.0 */
/* The report's userfaultfd parts, built from core/uffd.c's state without changing it. */
#ifndef CIDTRACE_REPORT_UFFD_H
#define CIDTRACE_REPORT_UFFD_H

#include <json-c/json.h>

#include "state.h"

/* uffds[], the uffd_orphan findings, and a vmm_leak's uffd state. */
struct json_object *uffd_contexts_json(const struct collector *c);
void uffd_findings_json(const struct collector *c, struct json_object *findings);
struct json_object *uffd_leak_json(const struct collector *c, const struct proc *owner);

#endif
