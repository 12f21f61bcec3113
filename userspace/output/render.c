// SPDX-License-Identifier: GPL-2.0
/*
 * Reading, validation and normalization of a report, and its JSON output. The renderers only
 * ever see the normalized tree, in which every field has its documented type, so a hostile or
 * damaged report cannot surprise them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "render.h"
#include "util.h"
#include "vocab.h"

enum ftype {
	T_STR, /* string or null */
	T_INT, /* integer, 0 when absent */
	T_INTN, /* integer or null */
	T_NUM, /* finite number, 0 when absent */
	T_BOOL, /* false when absent */
	T_TIME, /* RFC 3339 string or null; an unparsable time is null */
	T_OBJN, /* object of shape sub, or null: an absent object is not filled in */
	T_ARR, /* array of objects of shape sub; other elements dropped */
	T_STRS, /* array of strings; other elements dropped */
	T_STRSN, /* array of strings, or null */
	T_FINDINGS, /* array of findings, each shaped by its kind */
};

struct field {
	const char *name;
	enum ftype type;
	const struct field *sub;
};

/* clang-format off */
#define F(name, type)        { name, type, NULL }
#define SUB(name, type, sub) { name, type, sub }
#define END                  { NULL, 0, NULL }

/* Every field of docs/report-schema.md, with its type; nested objects point to their own table. */
static const struct field tool_f[] = { F("name", T_STR), F("version", T_STR), END };
static const struct field host_f[] = { F("hostname", T_STR), F("kernel", T_STR), END };
static const struct field attach_f[] = {
	F("process", T_STR), F("snapshot", T_STR), F("vsock", T_STR), F("vsock_since", T_TIME),
	F("uffd", T_STR), END
};
static const struct field events_f[] = { F("received", T_INT), F("lost", T_INT), END };
static const struct field trace_f[] = {
	F("mode", T_STR), F("command", T_STRSN), F("started_at", T_TIME), F("ended_at", T_TIME),
	F("updated_at", T_TIME), F("final", T_BOOL), F("complete", T_BOOL),
	SUB("attach", T_OBJN, attach_f), SUB("events", T_OBJN, events_f), F("scope", T_STRS),
	F("scratch_roots", T_STRS), F("test_dir_depth", T_INT), END
};
static const struct field exit_f[] = {
	F("code", T_INT), F("signal", T_INT), F("core_dumped", T_BOOL), END
};
static const struct field signal_f[] = {
	F("signal", T_INT), F("name", T_STR), F("at", T_TIME), F("sender_pid", T_INT),
	F("sender_comm", T_STR), END
};
static const struct field process_f[] = {
	F("pid", T_INT), F("ppid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("exe", T_STR),
	F("argv", T_STRS), F("argv_truncated", T_BOOL), F("cwd", T_STR), F("test_dir", T_STR),
	F("role", T_STR), F("in_scope", T_BOOL), F("original_ppid", T_INTN),
	F("orphaned", T_BOOL), F("started_at", T_TIME), F("exited_at", T_TIME),
	SUB("exit", T_OBJN, exit_f), SUB("fatal_signals", T_ARR, signal_f), END
};
static const struct field ref_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR), END
};
static const struct field released_by_f[] = { F("pid", T_INT), F("comm", T_STR), END };
static const struct field cid_f[] = {
	F("id", T_STR), F("cid", T_INT), SUB("binder", T_OBJN, ref_f), F("bound_at", T_TIME),
	F("released_at", T_TIME), SUB("released_by", T_OBJN, released_by_f), END
};
static const struct field brief_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR),
	F("ppid", T_INT), F("argv", T_STRS), END
};
static const struct field holder_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR),
	F("ppid", T_INT), F("argv", T_STRS), F("orphaned", T_BOOL), F("original_ppid", T_INTN),
	F("state_at_conflict", T_STR), F("exited_at", T_TIME),
	SUB("fatal_signals", T_ARR, signal_f), END
};
static const struct field conflict_f[] = {
	F("kind", T_STR), F("summary", T_STR), F("cid", T_INT), F("at", T_TIME),
	F("first_at", T_TIME), F("last_at", T_TIME), F("attempts", T_INT),
	SUB("attempt", T_OBJN, brief_f), SUB("holder", T_ARR, holder_f), F("binding", T_STR),
	SUB("binder", T_OBJN, brief_f), F("bound_at", T_TIME), F("released_at", T_TIME),
	F("classification", T_STR), END
};
static const struct field invalid_f[] = {
	F("kind", T_STR), F("summary", T_STR), F("cid", T_INT), F("at", T_TIME),
	F("first_at", T_TIME), F("last_at", T_TIME), F("attempts", T_INT),
	SUB("attempt", T_OBJN, brief_f), END
};
static const struct field leak_uffd_f[] = {
	F("id", T_STR), F("state", T_STR), F("pager_pid", T_INT), END
};
static const struct field leak_f[] = {
	F("kind", T_STR), F("summary", T_STR), F("pid", T_INT), F("ppid", T_INT),
	F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR), F("orphaned", T_BOOL),
	F("started_at", T_TIME), F("age_s", T_NUM), SUB("uffd", T_OBJN, leak_uffd_f), END
};
static const struct field guest_f[] = {
	F("pid", T_INT), F("ppid", T_INT), F("start_ns", T_INT), F("comm", T_STR),
	F("argv", T_STRS), F("test_dir", T_STR), F("orphaned", T_BOOL), F("exited_at", T_TIME), END
};
static const struct field pager_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR),
	F("ppid", T_INT), F("argv", T_STRS),
	F("exited_at", T_TIME), SUB("exit", T_OBJN, exit_f),
	SUB("fatal_signals", T_ARR, signal_f), END
};
static const struct field uffd_counts_f[] = {
	F("id", T_STR), F("registered_bytes", T_INT), F("pages_served", T_INT),
	F("pages_served_from", T_STR), F("last_served_at", T_TIME), F("pending", T_INT),
	F("total", T_INT), END
};
static const struct field thread_f[] = {
	F("tid", T_INT), F("comm", T_STR), F("cpu_pct", T_NUM), F("state", T_STR), END
};
static const struct field restarted_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR),
	F("started_at", T_TIME), END
};
static const struct field history_f[] = { F("state", T_STR), F("at", T_TIME), END };
static const struct field orphan_f[] = {
	F("kind", T_STR), F("summary", T_STR), F("state", T_STR), F("since", T_TIME),
	F("state_since", T_TIME), SUB("history", T_ARR, history_f), F("resolved_at", T_TIME),
	F("resolution", T_STR), SUB("guest", T_OBJN, guest_f),
	SUB("pager", T_OBJN, pager_f), SUB("uffd", T_OBJN, uffd_counts_f), F("cpu_pct", T_NUM),
	SUB("threads", T_ARR, thread_f), SUB("restarted_pager", T_OBJN, restarted_f),
	F("note", T_STR), END
};
static const struct field other_f[] = { F("kind", T_STR), F("summary", T_STR), END };
static const struct field handler_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR),
	F("holding", T_BOOL), F("serving_ioctls", T_INT), F("served_bytes", T_INT),
	F("last_served_at", T_TIME), F("exited_at", T_TIME), END
};
static const struct field uffds_f[] = {
	F("id", T_STR), SUB("owner", T_OBJN, ref_f), SUB("handlers", T_ARR, handler_f),
	F("registered_bytes", T_INT), F("pages_served", T_INT), F("pages_served_from", T_STR),
	F("last_served_at", T_TIME), F("registrations", T_INT), F("unregistrations", T_INT),
	F("state", T_STR), F("first_seen_at", T_TIME), F("seeded", T_BOOL),
	F("released_at", T_TIME), END
};
static const struct field reaped_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR),
	F("role", T_STR), F("action", T_STR), F("at", T_TIME), F("exited", T_BOOL), END
};
static const struct field root_f[] = {
	F("schema", T_STR), SUB("tool", T_OBJN, tool_f), SUB("host", T_OBJN, host_f),
	SUB("trace", T_OBJN, trace_f), SUB("processes", T_ARR, process_f),
	SUB("cids", T_ARR, cid_f), SUB("uffds", T_ARR, uffds_f), F("findings", T_FINDINGS),
	SUB("reaped", T_ARR, reaped_f), END
};
/* clang-format on */

/* Per finding kind; other_f for a kind this cidtrace does not know. */
static const struct field *const finding_shapes[FINDING_KINDS + 1] = {
	[CID_CONFLICT] = conflict_f, [INVALID_CID] = invalid_f, [VMM_LEAK] = leak_f,
	[UFFD_ORPHAN] = orphan_f,    [FINDING_KINDS] = other_f,
};

/* The earliest and latest valid times seen while normalizing: the fallback time axis. */
struct norm {
	int64_t min_us, max_us;
	bool any;
};

static struct json_object *norm_obj(struct norm *n, struct json_object *in,
				    const struct field *shape);

static const struct field *finding_shape(struct json_object *f)
{
	struct json_object *k;

	if (json_object_object_get_ex(f, "kind", &k) && json_object_is_type(k, json_type_string))
		return finding_shapes[finding_kind_from_name(json_object_get_string(k))];
	return other_f;
}

static struct json_object *norm_array(struct norm *n, struct json_object *in, const struct field *f)
{
	struct json_object *out = json_object_new_array();
	size_t len = json_object_array_length(in);

	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(in, i);
		enum json_type t = json_object_get_type(e);

		if ((f->type == T_STRS || f->type == T_STRSN) && t == json_type_string)
			json_object_array_add(out, jstrn(json_object_get_string(e),
							 json_object_get_string_len(e)));
		else if (f->type == T_ARR && t == json_type_object)
			json_object_array_add(out, norm_obj(n, e, f->sub));
		else if (f->type == T_FINDINGS && t == json_type_object)
			json_object_array_add(out, norm_obj(n, e, finding_shape(e)));
	}
	return out;
}

static struct json_object *norm_value(struct norm *n, struct json_object *v, const struct field *f)
{
	enum json_type t = json_object_get_type(v);
	int64_t us;

	switch (f->type) {
	case T_STR:
		return t == json_type_string
			       ? jstrn(json_object_get_string(v), json_object_get_string_len(v))
			       : NULL;
	case T_INT:
	case T_INTN:
		if (t == json_type_int)
			return jint(json_object_get_int64(v));
		return f->type == T_INT ? jint(0) : NULL;
	case T_NUM:
		/* keep the number as written: its text survives a round trip unchanged */
		if ((t == json_type_int || t == json_type_double) &&
		    isfinite(json_object_get_double(v)))
			return json_object_get(v);
		return jint(0);
	case T_BOOL:
		return json_object_new_boolean(t == json_type_boolean &&
					       json_object_get_boolean(v));
	case T_TIME:
		if (t != json_type_string || !parse_time(json_object_get_string(v), &us))
			return NULL;
		if (!n->any || us < n->min_us)
			n->min_us = us;
		if (!n->any || us > n->max_us)
			n->max_us = us;
		n->any = true;
		return json_object_new_string(json_object_get_string(v));
	case T_OBJN:
		return t == json_type_object ? norm_obj(n, v, f->sub) : NULL;
	case T_STRSN:
		if (t != json_type_array)
			return NULL;
		/* fall through */
	default:
		return t == json_type_array ? norm_array(n, v, f) : json_object_new_array();
	}
}

static struct json_object *norm_obj(struct norm *n, struct json_object *in,
				    const struct field *shape)
{
	struct json_object *out = json_object_new_object();

	for (const struct field *f = shape; f->name; f++) {
		struct json_object *v = NULL;

		if (in)
			json_object_object_get_ex(in, f->name, &v);
		json_object_object_add(out, f->name, norm_value(n, v, f));
	}
	return out;
}

int schema_major(const char *schema)
{
	static const char prefix[] = "cidtrace.report/";
	const char *p;
	long major = 0;

	if (strncmp(schema, prefix, sizeof(prefix) - 1))
		return -1;
	p = schema + sizeof(prefix) - 1;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((major = major * 10 + (*p - '0')) > INT_MAX)
			return -1;
	return *p ? -1 : (int)major;
}

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool parse_time(const char *s, int64_t *us)
{
	struct tm tm = { 0 }, want, back;
	int64_t frac = 0, scale = 1000000;
	time_t sec;
	size_t i = 19;

	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':')
		return false;
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 5, 2) - 1;
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	tm.tm_sec = digits(s + 17, 2);
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 || tm.tm_min < 0 ||
	    tm.tm_sec < 0)
		return false;
	if (s[i] == '.') {
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			if (scale > 1)
				frac += (s[i] - '0') * (scale /= 10);
		if (s[i - 1] == '.')
			return false;
	}
	if (strcmp(s + i, "Z"))
		return false;
	/* timegm takes February 31st for March 3rd; a date it had to move is not a date */
	want = tm;
	sec = timegm(&tm);
	if (!gmtime_r(&sec, &back) || back.tm_mday != want.tm_mday || back.tm_mon != want.tm_mon ||
	    back.tm_hour != want.tm_hour || back.tm_min != want.tm_min ||
	    back.tm_sec != want.tm_sec)
		return false;
	*us = (int64_t)sec * 1000000 + frac;
	return true;
}

void fmt_rel(char *buf, size_t len, int64_t delta_us)
{
	uint64_t a = delta_us < 0 ? -(uint64_t)delta_us : (uint64_t)delta_us;

	snprintf(buf, len, "%c%llu.%03llus", delta_us < 0 ? '-' : '+',
		 (unsigned long long)(a / 1000000), (unsigned long long)(a % 1000000 / 1000));
}

static bool blank(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", buf[i]) || !buf[i])
			return false;
	return true;
}

int report_parse(const char *buf, size_t len, struct report *r, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *in, *schema, *trace;
	enum json_tokener_error jerr;
	struct norm n = { 0 };
	size_t end;
	int64_t us;
	int major;

	memset(r, 0, sizeof(*r));
	if (blank(buf, len)) {
		snprintf(err, errlen, "empty file, not a report");
		return -1;
	}
	if (len > REPORT_MAX_BYTES) {
		snprintf(err, errlen, "larger than %u MiB", REPORT_MAX_BYTES >> 20);
		return -1;
	}
	tok = json_tokener_new();
	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	in = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!in && jerr == json_tokener_continue)
		snprintf(err, errlen, "truncated JSON: it ends at byte %zu inside a value", len);
	else if (!in)
		snprintf(err, errlen, "not JSON: %s at byte %zu", json_tokener_error_desc(jerr),
			 end);
	else if (end < len)
		snprintf(err, errlen, "not JSON: unexpected data after the document at byte %zu",
			 end);
	if (!in || end < len) {
		json_object_put(in);
		return -1;
	}
	if (!json_object_is_type(in, json_type_object)) {
		snprintf(err, errlen, "not a cidtrace report: the document is not a JSON object");
	} else if (!json_object_object_get_ex(in, "schema", &schema) ||
		   !json_object_is_type(schema, json_type_string)) {
		snprintf(err, errlen, "not a cidtrace report: no \"schema\" string");
	} else if ((major = schema_major(json_object_get_string(schema))) < 0) {
		char *s = term_escape(json_object_get_string(schema));

		snprintf(err, errlen,
			 "not a cidtrace report: schema \"%.64s\" is not cidtrace.report/N", s);
		free(s);
	} else if (major != 1) {
		snprintf(err, errlen,
			 "schema cidtrace.report/%d is not supported; this cidtrace reads "
			 "cidtrace.report/1",
			 major);
	} else {
		r->root = norm_obj(&n, in, root_f);
	}
	json_object_put(in);
	if (!r->root)
		return -1;

	trace = jget(r->root, "trace");
	r->has_times = n.any;
	r->t0_us = jgett(trace, "started_at", &us) ? us : n.min_us;
	r->tend_us = n.max_us;
	if ((jgett(trace, "ended_at", &us) || jgett(trace, "updated_at", &us)) && us > r->tend_us)
		r->tend_us = us;
	if (r->tend_us <= r->t0_us)
		r->tend_us = r->t0_us + 1000000;
	return 0;
}

void report_free(struct report *r)
{
	json_object_put(r->root);
	r->root = NULL;
}

struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

const char *jgets(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t jgeti(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

double jgetd(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)
		       ? json_object_get_double(v)
		       : 0;
}

bool jgetb(struct json_object *o, const char *key)
{
	return json_object_get_boolean(jget(o, key));
}

bool jgett(struct json_object *o, const char *key, int64_t *us)
{
	const char *s = jgets(o, key);

	return s && parse_time(s, us);
}

size_t jlen(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
}

struct json_object *jidx(struct json_object *o, const char *key, size_t i)
{
	return i < jlen(o, key) ? json_object_array_get_idx(jget(o, key), i) : NULL;
}

char *html_escape(const char *s)
{
	static const char *const entity[256] = {
		['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
	};
	/* control characters become visible \xNN first, as on a terminal */
	char *t = term_escape(s), *out = NULL;
	size_t len;
	FILE *f = xopen_memstream(&out, &len);

	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		if (entity[*p])
			fputs(entity[*p], f);
		else
			fputc(*p, f);
	fclose(f);
	free(t);
	return out;
}

void render_ctx_init(struct render_ctx *c, const struct report *r, char *(*esc)(const char *s),
		     bool color)
{
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->esc = esc;
	c->bold = color ? "\033[1m" : "";
	c->red = color ? "\033[1;31m" : "";
	c->reset = color ? "\033[0m" : "";
}

void render_ctx_free(struct render_ctx *c)
{
	for (size_t i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	free(c->owned);
}

const char *E(struct render_ctx *c, const char *s)
{
	if (!s)
		return "?";
	if (c->nowned == c->capowned) {
		c->capowned = c->capowned ? c->capowned * 2 : 64;
		c->owned = xreallocarray(c->owned, c->capowned, sizeof(*c->owned));
	}
	return c->owned[c->nowned++] = c->esc(s);
}

const char *rel(struct render_ctx *c, struct json_object *o, const char *key)
{
	char *buf = c->times[c->next_time++ % 8];
	int64_t us;

	if (!jgett(o, key, &us))
		return "?";
	fmt_rel(buf, sizeof(c->times[0]), us - c->r->t0_us);
	return buf;
}

void render_json(FILE *f, const struct report *r)
{
	fputs(json_object_to_json_string_ext(r->root, CT_JSON_FLAGS | JSON_C_TO_STRING_PRETTY), f);
	fputc('\n', f);
}
