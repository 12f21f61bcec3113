// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "previous.h"
#include "render.h"
#include "util.h"

/*
 * Only what trace.previous needs: the reader validates and skips every other field without
 * storing it, so reading a large report costs its size in time and once in memory (the file
 * itself), not the tree `cidtrace report` builds.
 */
static const struct field trace_f[] = {
	{ "started_at", T_TIME, NULL, 0 },
	{ "updated_at", T_TIME, NULL, 0 },
	{ "final", T_BOOL, NULL, 0 },
	{ NULL, 0, NULL, 0 },
};
static const struct field root_f[] = {
	{ "trace", T_OBJN, trace_f, 0 },
	{ NULL, 0, NULL, 0 },
};
static const struct schema previous_schema = {
	.root = root_f,
	.array_max = ELEMENTS_MAX,
	.total_max = ELEMENTS_MAX,
};

static bool report_v1(const char *schema, char *err, size_t errlen)
{
	if (schema && schema_major(schema) == 1)
		return true;
	snprintf(err, errlen, "no \"schema\": \"cidtrace.report/1\"");
	return false;
}

bool previous_read(const char *path, struct trace_previous *p, char *why, size_t len)
{
	char err[256] = "";
	struct rtree t;
	const struct rv *trace;
	size_t n = 0;
	char *buf;
	bool ok = false;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = report_read(path, true, &buf, &n);
	if (ret == -EFBIG)
		snprintf(err, sizeof(err), "larger than %u MiB", REPORT_MAX_BYTES >> 20);
	else if (ret == -EINVAL || ret == -EISDIR)
		snprintf(err, sizeof(err), "not a regular file");
	else if (ret)
		snprintf(err, sizeof(err), "%s", strerror(-ret));
	if (ret) {
		snprintf(why, len, "no previous report read at '%s': %s", path, err);
		return false;
	}
	if (!reader_parse(buf, n, &previous_schema, report_v1, &t, err, sizeof(err))) {
		trace = rget(&t.root, "trace");
		ok = rgett(trace, "started_at", &p->started_us) &&
		     rgett(trace, "updated_at", &p->updated_us);
		p->final = rgetb(trace, "final");
		if (!ok)
			snprintf(err, sizeof(err), "no trace.started_at and trace.updated_at");
		rtree_free(&t);
	}
	free(buf);
	if (!ok)
		snprintf(why, len, "'%s' is not a cidtrace report: %s", path, err);
	return ok;
}

static struct json_object *wall_time(int64_t us)
{
	char buf[64];

	fmt_rfc3339_wall(buf, sizeof(buf), us * 1000);
	return json_object_new_string(buf);
}

struct json_object *previous_json(const struct trace_previous *p, uint64_t started_ns)
{
	struct json_object *o;
	int64_t gap_us;

	if (!p)
		return NULL;
	/* a wall clock set back between the two traces makes no negative gap */
	gap_us = boot_to_wall_ns(started_ns) / 1000 - p->updated_us;
	o = json_object_new_object();
	json_object_object_add(o, "started_at", wall_time(p->started_us));
	json_object_object_add(o, "updated_at", wall_time(p->updated_us));
	json_object_object_add(o, "final", json_object_new_boolean(p->final));
	json_object_object_add(o, "gap_s", json_object_new_double(gap_us > 0 ? gap_us / 1e6 : 0));
	return o;
}
