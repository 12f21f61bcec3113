// SPDX-License-Identifier: GPL-2.0
/*
 * The report's schema (the field table reader.c normalizes against), its checks, and what the
 * renderers share. The renderers only ever see the normalized tree, in which every field has
 * its documented type or is absent, so a hostile or damaged report cannot surprise them.
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

#include "container.h"
#include "json.h"
#include "render.h"
#include "util.h"
#include "vocab.h"

/* clang-format off */
#define F(name, type)             { name, type, NULL, 0 }
#define SUB(name, type, sub)      { name, type, sub, 0 }
#define LIST(name, type, sub, max) { name, type, sub, max }
#define END                       { NULL, 0, NULL, 0 }

/* Every field of docs/report-schema.md, with its type; nested objects point to their own table. */
static const struct field tool_f[] = { F("name", T_STR), F("version", T_STR), END };
static const struct field host_f[] = { F("hostname", T_STR), F("kernel", T_STR), END };
static const struct field attach_f[] = {
	F("process", T_STR), F("snapshot", T_STR), F("vsock", T_STR), F("vsock_since", T_TIME),
	F("uffd", T_STR), F("spin_basis", T_STR), END
};
static const struct field events_f[] = { F("received", T_INT), F("lost", T_INT),
					 F("uffd_serves_overflow", T_INT),
					 F("uffd_scans_deferred", T_INT),
					 F("uffd_rereads_deferred", T_INT), END };
static const struct field slice_f[] = {
	F("scope", T_STR), F("cgroup", T_STR), F("container", T_STR), F("since", T_TIME),
	F("until", T_TIME), END
};
static const struct field checkpoints_f[] = {
	F("interval_s", T_NUM), F("written", T_INT), F("skipped", T_INT), F("failed", T_INT),
	F("last_stall_ms", T_NUM), F("max_stall_ms", T_NUM), END
};
static const struct field job_f[] = {
	F("pid", T_INT), F("cgroup", T_STR), F("identity", T_STR), END
};
static const struct field previous_f[] = {
	F("started_at", T_TIME), F("updated_at", T_TIME), F("final", T_BOOL), F("gap_s", T_NUM), END
};
static const struct field retention_f[] = {
	F("keep_processes", T_INT), F("keep_for_s", T_INT), F("dropped_processes", T_INT),
	F("dropped_cids", T_INT), F("dropped_uffds", T_INT), F("dropped_findings", T_INT),
	F("dropped_reaped", T_INT),
	F("since", T_TIME), END
};
static const struct field trace_f[] = {
	F("mode", T_STR), F("command", T_STRSN), F("started_at", T_TIME), F("ended_at", T_TIME),
	F("updated_at", T_TIME), F("final", T_BOOL), F("complete", T_BOOL),
	SUB("previous", T_OBJN, previous_f),
	SUB("attach", T_OBJN, attach_f), SUB("events", T_OBJN, events_f),
	F("ring_buffer_bytes", T_INTN), SUB("checkpoints", T_OBJN, checkpoints_f),
	SUB("job", T_OBJN, job_f), F("scope", T_STRS), F("scope_mnt_ns", T_INTN),
	F("scope_cgroups", T_STRS), F("scope_containers", T_STRS),
	F("scratch_roots", T_STRS), F("test_dir_depth", T_INT), SUB("slice", T_OBJO, slice_f),
	SUB("retention", T_OBJN, retention_f), END
};
static const struct field exit_f[] = {
	F("code", T_INT), F("signal", T_INT), F("core_dumped", T_BOOL), END
};
static const struct field signal_f[] = {
	F("signal", T_INT), F("name", T_STR), F("at", T_TIME), F("sender_pid", T_INT),
	F("sender_comm", T_STR), END
};
static const struct field ns_f[] = {
	F("pid", T_INTS), F("pid_truncated", T_BOOL), F("pid_ns", T_INT), F("mnt_ns", T_INT),
	F("net_ns", T_INT), END
};
static const struct field container_f[] = {
	F("runtime", T_STR), F("id", T_STR), F("pod_uid", T_STR), END
};
static const struct field process_f[] = {
	F("pid", T_INT), F("ppid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("exe", T_STR),
	F("argv", T_STRS), F("argv_truncated", T_BOOL), F("cwd", T_STR), F("test_dir", T_STR),
	SUB("ns", T_OBJN, ns_f), F("cgroup", T_STR),
	SUB("container", T_OBJN, container_f),
	F("role", T_STR), F("in_scope", T_BOOL), F("in_job", T_BOOL), F("original_ppid", T_INTN),
	F("orphaned", T_BOOL), F("started_at", T_TIME), F("exited_at", T_TIME),
	SUB("exit", T_OBJN, exit_f), SUB("fatal_signals", T_ARR, signal_f),
	F("fatal_signals_total", T_INT), END
};
static const struct field ref_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR),
	F("mnt_ns", T_INTN), END
};
static const struct field released_by_f[] = { F("pid", T_INT), F("comm", T_STR), END };
static const struct field cid_f[] = {
	F("id", T_STR), F("cid", T_INT), SUB("binder", T_OBJN, ref_f), F("net_ns", T_INTN),
	F("net_ns_of", T_STR), F("ns_mode", T_STR), F("bound_at", T_TIME),
	F("released_at", T_TIME), SUB("released_by", T_OBJN, released_by_f), END
};
static const struct field brief_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR),
	F("mnt_ns", T_INTN), F("ppid", T_INT), F("argv", T_STRS), END
};
static const struct field holder_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR),
	F("mnt_ns", T_INTN), F("ppid", T_INT), F("argv", T_STRS), F("orphaned", T_BOOL),
	F("original_ppid", T_INTN),
	F("state_at_conflict", T_STR), F("exited_at", T_TIME),
	SUB("fatal_signals", T_ARR, signal_f), END
};
static const struct field conflict_f[] = {
	F("kind", T_STR), F("summary", T_STR), F("cid", T_INT), F("at", T_TIME),
	F("first_at", T_TIME), F("last_at", T_TIME), F("attempts", T_INT),
	SUB("attempt", T_OBJN, brief_f), F("net_ns", T_INTN), F("net_ns_of", T_STR),
	SUB("holder", T_ARR, holder_f), F("binding", T_STR), F("holder_net_ns", T_INTN),
	SUB("binder", T_OBJN, brief_f), F("bound_at", T_TIME), F("released_at", T_TIME),
	F("classification", T_STR), END
};
static const struct field invalid_f[] = {
	F("kind", T_STR), F("summary", T_STR), F("cid", T_INT), F("at", T_TIME),
	F("first_at", T_TIME), F("last_at", T_TIME), F("attempts", T_INT),
	SUB("attempt", T_OBJN, brief_f), F("net_ns", T_INTN), F("net_ns_of", T_STR), END
};
static const struct field leak_uffd_f[] = {
	F("id", T_STR), F("state", T_STR), F("pager_pid", T_INT), F("registered_bytes", T_INT),
	F("released_at", T_TIME), F("never_served_pages", T_INTN), F("never_served_from", T_STR),
	END
};
static const struct field leak_f[] = {
	F("kind", T_STR), F("summary", T_STR), F("pid", T_INT), F("ppid", T_INT),
	F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR), F("mnt_ns", T_INTN),
	F("orphaned", T_BOOL),
	F("started_at", T_TIME), F("age_s", T_NUM), SUB("uffd", T_OBJN, leak_uffd_f), END
};
static const struct field guest_f[] = {
	F("pid", T_INT), F("ppid", T_INT), F("start_ns", T_INT), F("comm", T_STR),
	F("argv", T_STRS), F("test_dir", T_STR), F("mnt_ns", T_INTN), F("orphaned", T_BOOL),
	F("exited_at", T_TIME), END
};
static const struct field pager_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR),
	F("mnt_ns", T_INTN), F("ppid", T_INT), F("argv", T_STRS),
	F("exited_at", T_TIME), SUB("exit", T_OBJN, exit_f),
	SUB("fatal_signals", T_ARR, signal_f), END
};
static const struct field uffd_counts_f[] = {
	F("id", T_STR), F("registered_bytes", T_INT), F("pages_served", T_INT),
	F("pages_served_from", T_STR), F("last_served_at", T_TIME), F("pending", T_INT),
	F("never_served_pages", T_INT), F("never_served_from", T_STR),
	F("total", T_INT), END
};
static const struct field thread_f[] = {
	F("tid", T_INT),     F("comm", T_STR),	 F("cpu_pct", T_NUM),
	F("demand_pct", T_NUMN), F("state", T_STR), END
};
static const struct field restarted_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR),
	F("mnt_ns", T_INTN), F("started_at", T_TIME), END
};
static const struct field history_f[] = { F("state", T_STR), F("at", T_TIME), END };
static const struct field orphan_f[] = {
	F("kind", T_STR), F("summary", T_STR), F("state", T_STR), F("since", T_TIME),
	F("state_since", T_TIME), SUB("history", T_ARR, history_f), F("resolved_at", T_TIME),
	F("resolution", T_STR), SUB("guest", T_OBJN, guest_f),
	SUB("pager", T_OBJN, pager_f), SUB("uffd", T_OBJN, uffd_counts_f), F("cpu_pct", T_NUM),
	F("demand_pct", T_NUMN), SUB("threads", T_ARR, thread_f), SUB("restarted_pager", T_OBJN, restarted_f),
	F("note", T_STR), END
};
static const struct field other_f[] = { F("kind", T_STR), F("summary", T_STR), END };
static const struct field handler_f[] = {
	F("pid", T_INT), F("start_ns", T_INT), F("comm", T_STR), F("test_dir", T_STR),
	F("mnt_ns", T_INTN), F("holding", T_BOOL), F("serving_ioctls", T_INT), F("served_bytes", T_INT),
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
	F("mnt_ns", T_INTN), F("role", T_STR), F("action", T_STR), F("reason", T_STR), F("at", T_TIME),
	F("exited", T_BOOL), END
};
static const struct field root_f[] = {
	F("schema", T_STR), SUB("tool", T_OBJN, tool_f), SUB("host", T_OBJN, host_f),
	SUB("trace", T_OBJN, trace_f), LIST("processes", T_ARR, process_f, PROCESSES_MAX),
	LIST("cids", T_ARR, cid_f, PROCESSES_MAX), LIST("uffds", T_ARR, uffds_f, PROCESSES_MAX),
	LIST("findings", T_FINDINGS, NULL, FINDINGS_MAX),
	LIST("reaped", T_ARR, reaped_f, PROCESSES_MAX), END
};
/* clang-format on */

/* Per finding kind; other_f for a kind this cidtrace does not know. */
static const struct field *const finding_shapes[FINDING_KINDS + 1] = {
	[CID_CONFLICT] = conflict_f, [INVALID_CID] = invalid_f, [VMM_LEAK] = leak_f,
	[UFFD_ORPHAN] = orphan_f,    [FINDING_KINDS] = other_f,
};

static const struct field *finding_shape(const char *kind)
{
	return finding_shapes[finding_kind_from_name(kind)];
}

static const struct schema report_schema = {
	.root = root_f,
	.variant = finding_shape,
	.array_max = ARRAY_MAX,
	.total_max = ELEMENTS_MAX,
};

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

/* The schema names version 1 of the report; else why not, in err. */
static bool supported(const char *schema, char *err, size_t errlen)
{
	int major;

	if (!schema) {
		snprintf(err, errlen, "not a cidtrace report: no \"schema\" string");
	} else if ((major = schema_major(schema)) < 0) {
		char *s = term_escape(schema);

		snprintf(err, errlen,
			 "not a cidtrace report: schema \"%.64s\" is not cidtrace.report/N", s);
		free(s);
	} else if (major != 1) {
		snprintf(err, errlen,
			 "schema cidtrace.report/%d is not supported; this cidtrace reads "
			 "cidtrace.report/1",
			 major);
	} else {
		return true;
	}
	return false;
}

int report_read(const char *path, bool own_output, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | (own_output ? O_NOFOLLOW | O_NONBLOCK : 0));
	size_t cap = 1 << 16, n = 0;
	char *data = NULL;
	struct stat st;
	ssize_t got;
	int ret = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		ret = -errno;
	else if (S_ISDIR(st.st_mode))
		ret = -EISDIR;
	else if (own_output && !S_ISREG(st.st_mode))
		ret = -EINVAL;
	else if (st.st_size > REPORT_MAX_BYTES)
		ret = -EFBIG;
	while (!ret) {
		if (n == cap || !data) {
			cap = data ? cap * 2 : cap;
			data = xrealloc(data, cap);
		}
		got = read(fd, data + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			ret = got < 0 ? -errno : 0;
			break;
		}
		n += got;
		/* a pipe or a file that grew while being read */
		if (n > REPORT_MAX_BYTES)
			ret = -EFBIG;
	}
	if (fd >= 0)
		close(fd);
	if (ret) {
		free(data);
		return ret;
	}
	*buf = data;
	*len = n;
	return 0;
}

int report_parse(const char *buf, size_t len, struct report *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (blank(buf, len)) {
		snprintf(err, errlen, "empty file, not a report");
		return -1;
	}
	if (len > REPORT_MAX_BYTES) {
		snprintf(err, errlen, "larger than %u MiB", REPORT_MAX_BYTES >> 20);
		return -1;
	}
	if (reader_parse(buf, len, &report_schema, supported, &r->tree, err, errlen))
		return -1;
	r->root = &r->tree.root;
	report_axis(r);
	return 0;
}

void report_axis(struct report *r)
{
	const struct rv *trace = rget(r->root, "trace"), *slice = rget(trace, "slice");
	int64_t us;

	r->has_times = r->tree.any_time;
	r->t0_us = rgett(trace, "started_at", &us) ? us : r->tree.min_us;
	r->tend_us = r->tree.max_us;
	if ((rgett(trace, "ended_at", &us) || rgett(trace, "updated_at", &us)) && us > r->tend_us)
		r->tend_us = us;
	/* a slice's window, where it is inside the trace: a job's minutes, not the week's */
	if (rgett(slice, "since", &us) && us > r->t0_us)
		r->t0_us = us;
	if (rgett(slice, "until", &us) && us < r->tend_us)
		r->tend_us = us;
	if (r->tend_us <= r->t0_us)
		r->tend_us = r->t0_us + 1000000;
}

void report_free(struct report *r)
{
	rtree_free(&r->tree);
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

static void process_key(const void *root, uint32_t i, int64_t *pid, int64_t *start_ns)
{
	const struct rv *p = ridx(root, "processes", i);

	*pid = rgeti(p, "pid");
	*start_ns = rgeti(p, "start_ns");
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
	proc_index_init(&c->procs, process_key, r->root);
}

void render_ctx_release(struct render_ctx *c)
{
	for (size_t i = 0; i < c->nowned; i++)
		free(c->owned[i].text);
	c->nowned = 0;
}

void render_ctx_free(struct render_ctx *c)
{
	render_ctx_release(c);
	free(c->owned);
	free(c->bindings);
	proc_index_free(&c->procs);
}

/*
 * s escaped, cut to SHOWN_MAX bytes first: an escaper makes copies several times as long as
 * what it escapes, and no string cidtrace writes comes near that length.
 */
static char *shown(struct render_ctx *c, const char *s)
{
	size_t len = strnlen(s, SHOWN_MAX + 1);
	char *cut, *text;

	if (len <= SHOWN_MAX)
		return c->esc(s);
	/* the tree's strings are valid UTF-8: cut before a character, not inside one */
	while (len > SHOWN_MAX || ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	cut = xmalloc(len + sizeof("\u2026"));
	memcpy(cut, s, len);
	memcpy(cut + len, "\u2026", sizeof("\u2026"));
	text = c->esc(cut);
	free(cut);
	return text;
}

/* Escape s and keep the copy; src NULL: never found again by E(). */
static const char *own(struct render_ctx *c, const char *src, const char *s)
{
	if (c->nowned == c->capowned) {
		c->capowned = c->capowned ? c->capowned * 2 : 64;
		c->owned = xreallocarray(c->owned, c->capowned, sizeof(*c->owned));
	}
	c->owned[c->nowned] = (struct escaped){ src, shown(c, s) };
	return c->owned[c->nowned++].text;
}

const char *E(struct render_ctx *c, const char *s)
{
	if (!s)
		return "?";
	/* the same report string again (a comm in a label and its title): the same copy */
	for (size_t i = c->nowned; i-- > 0 && c->nowned - i <= 8;)
		if (c->owned[i].src == s)
			return c->owned[i].text;
	return own(c, s, s);
}

const char *rel(struct render_ctx *c, const struct rv *o, const char *key)
{
	char *buf = c->times[c->next_time++ % 8];
	int64_t us;

	if (!rgett(o, key, &us))
		return "?";
	fmt_rel(buf, sizeof(c->times[0]), us - c->r->t0_us);
	return buf;
}

static int by_id(const void *a, const void *b, void *cids)
{
	const struct rv *v = ((const struct rv *)cids)->a;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int d = strcmp(rgets(&v[x], "id"), rgets(&v[y], "id"));

	return d ? d : (x > y) - (x < y);
}

const struct rv *process_of(struct render_ctx *c, const struct rv *ref)
{
	const struct rv *root = c->r->root;
	uint32_t i;

	if (!c->procs_indexed) {
		c->procs_indexed = true;
		for (size_t k = 0; k < rlen(root, "processes"); k++)
			if (rgeti(ridx(root, "processes", k), "pid") > 0)
				proc_index_add(&c->procs, k);
	}
	i = proc_index_find(&c->procs, rgeti(ref, "pid"), rgeti(ref, "start_ns"));
	return i == PROC_NONE ? ref : ridx(root, "processes", i);
}

/* A container id as docker shows it: a 64-digit hex id by its first 12 digits. */

int64_t mnt_ns_of(const struct rv *o)
{
	int64_t ns = rgeti(o, "mnt_ns");

	return ns ? ns : rgeti(rget(o, "ns"), "mnt_ns");
}

bool where_phrase(struct render_ctx *c, const struct rv *p, char *buf, size_t len)
{
	const struct rv *ns = rget(p, "ns"), *ct = rget(p, "container");
	size_t levels = rlen(ns, "pid");
	const struct rv *inner = levels ? ridx(ns, "pid", levels - 1) : NULL;
	/* the innermost pid, where the chain has it and it is not the host's */
	bool inside =
		levels > 1 && inner && !rgetb(ns, "pid_truncated") && inner->i != rgeti(p, "pid");
	const char *id = rgets(ct, "id");
	char shortid[CONTAINER_ID_PREFIX_MIN + 1];
	size_t n = 0, cut = CONTAINER_ID_PREFIX_MIN;

	buf[0] = '\0';
	if (id && strlen(id) > CONTAINER_ID_PREFIX_MIN) {
		/* a runtime's ids are hex; a name made to look like one is cut between characters */
		while (cut && ((unsigned char)id[cut] & 0xc0) == 0x80)
			cut--;
		memcpy(shortid, id, cut);
		shortid[cut] = '\0';
		/* a stack copy: E() would take the next one at this address for this one */
		n = snprintf(buf, len, "container %s\u2026", own(c, NULL, shortid));
	} else if (id) {
		n = snprintf(buf, len, "container %s", E(c, id));
	}
	if (inside && n < len)
		snprintf(buf + n, len - n, "%spid %lld %s", n ? ", " : "", (long long)inner->i,
			 n ? "inside" : "in its pid namespace");
	return buf[0];
}

const struct rv *binding_of(struct render_ctx *c, const char *id)
{
	const struct rv *cids = rget(c->r->root, "cids");
	size_t lo = 0, hi;

	if (!c->bindings_built) {
		c->bindings_built = true;
		c->bindings = xreallocarray(NULL, rlen(c->r->root, "cids") + 1, sizeof(uint32_t));
		for (size_t i = 0; i < rlen(c->r->root, "cids"); i++)
			if (rgets(&cids->a[i], "id"))
				c->bindings[c->nbindings++] = i;
		if (c->nbindings)
			qsort_r(c->bindings, c->nbindings, sizeof(uint32_t), by_id, (void *)cids);
	}
	if (!id)
		return NULL;
	/* the first of equal ids: the earliest binding, as a walk through cids[] finds it */
	hi = c->nbindings;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(rgets(&cids->a[c->bindings[mid]], "id"), id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->nbindings && !strcmp(rgets(&cids->a[c->bindings[lo]], "id"), id))
		return &cids->a[c->bindings[lo]];
	return NULL;
}

void render_json(FILE *f, const struct report *r)
{
	rtree_write_json(f, &r->tree, &report_schema);
	fputc('\n', f);
}
