/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `cidtrace report`: read a report file, check it, normalize it to the current schema and
 * render it as text, HTML or JSON (docs/report-command.md).
 */
#ifndef CIDTRACE_RENDER_H
#define CIDTRACE_RENDER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proc_index.h"
#include "reader.h"

/* Reports larger than this are refused before they are read. */
#define REPORT_MAX_BYTES (256u << 20)
/*
 * The most elements read from one array, and from all of them together: a report with more
 * is refused (docs/report-command.md). Each is far above what a week of tracing a busy CI
 * host writes: the process table keeps VMMs, pagers, processes in scope or signalled, and
 * their ancestors, not every command the jobs run.
 */
#define PROCESSES_MAX 1000000 /* processes[], cids[], uffds[], reaped[] */
#define FINDINGS_MAX  100000
#define ARRAY_MAX     100000 /* any other array: argv, fatal_signals, holder, ... */
#define ELEMENTS_MAX  16000000

struct report {
	/* Every documented field of its documented type, or absent; unknown fields dropped. */
	struct rtree tree;
	const struct rv *root; /* &tree.root */
	/* The time axis, µs since the epoch: trace start (or the earliest time in the report)
	 * to trace end (or the latest). has_times is false when the report holds no time. */
	int64_t t0_us, tend_us;
	bool has_times;
};

/*
 * The whole file at path into *buf (*len bytes), refusing one larger than REPORT_MAX_BYTES
 * (-EFBIG, before reading where fstat can tell) or a directory (-EISDIR). own_output: the
 * path is cidtrace's own -o, where another user may have planted something: never through a
 * symlink (-ELOOP), only a regular file (-EINVAL; a FIFO neither blocks nor feeds it). 0 or
 * -errno, with nothing allocated.
 */
int report_read(const char *path, bool own_output, char **buf, size_t *len);
/*
 * Parse and validate buf, normalize it into r. Returns 0, or -1 with a lowercase reason in
 * err ("truncated JSON at byte 812"). Never reads past len; buf need not be NUL-terminated.
 */
int report_parse(const char *buf, size_t len, struct report *r, char *err, size_t errlen);
void report_free(struct report *r);
/*
 * Set r's time axis from its tree: the trace's start and end, or the earliest and latest time
 * in it; a slice's (trace.slice) since and until where they are inside that.
 */
void report_axis(struct report *r);

/* N for "cidtrace.report/N", -1 for anything else. */
int schema_major(const char *schema);
/* A time relative to the trace start: "+12.301s", "-0.020s". */
void fmt_rel(char *buf, size_t len, int64_t delta_us);

char *html_escape(const char *s);

/*
 * Typed reads of a json-c object, for the writer's findings (narrate_summary); NULL, 0 or
 * false when the value is absent or of another type. The reader's tree has its own (rget).
 */
struct json_object *jget(struct json_object *o, const char *key);
const char *jgets(struct json_object *o, const char *key);
int64_t jgeti(struct json_object *o, const char *key);
double jgetd(struct json_object *o, const char *key);
bool jgetb(struct json_object *o, const char *key);
size_t jlen(struct json_object *o, const char *key);
struct json_object *jidx(struct json_object *o, const char *key, size_t i);

/*
 * What the renderers share: report strings are escaped by esc (for a terminal or for HTML)
 * into copies that live until render_ctx_release or render_ctx_free. A renderer releases
 * them after each item it writes (a row, a finding), so they never add up to the report.
 */
struct render_ctx {
	const struct report *r;
	char *(*esc)(const char *s);
	const char *bold, *red, *reset; /* SGR sequences, or "" */
	struct escaped {
		const char *src;
		char *text;
	} * owned;
	size_t nowned, capowned;
	char times[8][32]; /* rotating buffers for rel() */
	unsigned next_time;
	uint32_t *bindings; /* cids[] indexes sorted by id, built on first use */
	size_t nbindings;
	bool bindings_built;
	struct proc_index procs; /* processes[] with a pid, built on first use */
	bool procs_indexed;
};

void render_ctx_init(struct render_ctx *c, const struct report *r, char *(*esc)(const char *s),
		     bool color);
void render_ctx_free(struct render_ctx *c);
/* Frees every string E returned so far. */
void render_ctx_release(struct render_ctx *c);
/* s escaped for the output, or "?" for NULL; a string longer than SHOWN_MAX is shown cut,
 * ending with "…". s must be the report's own: a recent string at the same address is taken
 * for the same string. */
#define SHOWN_MAX (64u << 10)
const char *E(struct render_ctx *c, const char *s);
/* The time at key, relative to the trace start ("+1.500s"), or "?" when null. */
const char *rel(struct render_ctx *c, const struct rv *o, const char *key);
/* The first cids[] entry whose id is id, or NULL. */
const struct rv *binding_of(struct render_ctx *c, const char *id);
/* The mount namespace of a reference (mnt_ns) or a processes[] entry (ns.mnt_ns); 0: unknown. */
int64_t mnt_ns_of(const struct rv *o);
/* The processes[] entry of the process ref names, or ref itself when the report did not keep it. */
const struct rv *process_of(struct render_ctx *c, const struct rv *ref);
/*
 * Where a process runs when that is not plainly the host, for "qemu pid 4242 (...)":
 * "container 3f2a5c9d0e1b…, pid 17 inside", or "pid 17 in its pid namespace", escaped; p is
 * its processes[] entry (process_of). false, and buf "", when there is nothing to say.
 */
bool where_phrase(struct render_ctx *c, const struct rv *p, char *buf, size_t len);

/* The one summary line: findings per kind, complete, lost events, final or checkpoint. */
void summary_line(FILE *f, struct render_ctx *c);
/* What a slice (trace.slice) holds, in one sentence; false, and nothing written, for a whole
 * report. */
bool slice_line(FILE *f, struct render_ctx *c);
/*
 * When retention dropped anything (trace.retention), one line between before and after: what
 * went, and since when the report is complete. Nothing for a report that holds everything.
 */
void window_line(FILE *f, struct render_ctx *c, const char *before, const char *after);
/* One finding told as a sentence or two, without a trailing newline. */
void finding_story(FILE *f, struct render_ctx *c, const struct rv *finding);
/* Advice for the kinds present, one item per line, each prefixed by bullet. */
void next_steps(FILE *f, struct render_ctx *c, const char *bullet, const char *eol);

void render_json(FILE *f, const struct report *r);
void render_text(FILE *f, const struct report *r, bool color);
void render_html(FILE *f, const struct report *r);

#endif
