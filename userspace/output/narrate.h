/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One narrator per finding kind. Each reads a finding as the report holds it (the writer's
 * object or the reader's normalized one: the same fields) and tells it two ways: the
 * one-line summary the writer stores in the finding, and the longer story the text and HTML
 * views print, with times relative to the trace start. Both state the same facts.
 */
#ifndef CIDTRACE_NARRATE_H
#define CIDTRACE_NARRATE_H

#include <json-c/json.h>
#include <stdio.h>

#include "render.h"

/* The finding's summary sentence, malloc'd; NULL for a kind this cidtrace does not know. */
char *narrate_summary(struct json_object *finding);
/* The writer's side: fill in the finding's "summary", whose key it already placed. */
void narrate_into(struct json_object *finding);

/* Stories: a sentence or two, without a trailing newline. */
void narrate_cid_conflict(FILE *f, struct render_ctx *c, struct json_object *finding);
void narrate_invalid_cid(FILE *f, struct render_ctx *c, struct json_object *finding);
void narrate_vmm_leak(FILE *f, struct render_ctx *c, struct json_object *finding);
void narrate_uffd_orphan(FILE *f, struct render_ctx *c, struct json_object *finding);
/* The story for the finding's kind; for a kind this cidtrace does not know, its summary. */
void narrate_story(FILE *f, struct render_ctx *c, struct json_object *finding);

#endif
