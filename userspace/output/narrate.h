/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One narrator per finding kind. Each tells a finding two ways: the one-line summary the
 * writer stores in the finding (from the writer's json-c object), and the longer story the
 * text and HTML views print, with times relative to the trace start (from the reader's
 * normalized tree: the same fields). Both state the same facts.
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

/* Stories, from the reader's tree: a sentence or two, without a trailing newline. */
void narrate_cid_conflict(FILE *f, struct render_ctx *c, const struct rv *finding);
void narrate_invalid_cid(FILE *f, struct render_ctx *c, const struct rv *finding);
void narrate_vmm_leak(FILE *f, struct render_ctx *c, const struct rv *finding);
void narrate_uffd_orphan(FILE *f, struct render_ctx *c, const struct rv *finding);
/* The story for the finding's kind; for a kind this cidtrace does not know, its summary. */
void narrate_story(FILE *f, struct render_ctx *c, const struct rv *finding);

#endif
