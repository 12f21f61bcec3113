// SPDX-License-Identifier: GPL-2.0
/*
 * trace.previous: what a restarted recorder takes from the report at -o, what it refuses to
 * read there, and the gap, never negative.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "json.h"
#include "previous.h"
#include "util.h"

#define KILLED                                                                                     \
	"{\"schema\":\"cidtrace.report/1\",\"processes\":[{\"pid\":1,\"argv\":[\"x\"]}],"          \
	"\"trace\":{\"mode\":\"record\",\"started_at\":\"1970-01-01T00:00:10.000000Z\","           \
	"\"updated_at\":\"1970-01-01T00:01:30.250000Z\",\"final\":false,\"future\":[1,2]}}\n"

static char dir[] = "/tmp/cidtrace-unit.XXXXXX", path[256], why[512];

static void put(const char *text)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	CHECK(f && fputs(text, f) >= 0);
	if (f)
		fclose(f);
}

/* previous_read(path) fails, its reason containing want. */
static void refused(const char *want)
{
	struct trace_previous p;

	CHECK(!previous_read(path, &p, why, sizeof(why)));
	CHECK(strstr(why, want) != NULL);
	if (!strstr(why, want))
		fprintf(stderr, "reason: %s\n", why);
}

int main(void)
{
	struct trace_previous p;
	struct json_object *o;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/report.json", dir);
	clock_set_offset(0);

	refused("no previous report read at");
	put(KILLED);
	CHECK(previous_read(path, &p, why, sizeof(why)));
	CHECK(p.started_us == 10000000 && p.updated_us == 90250000 && !p.final);
	/* this trace started 9.75 s after that report's last update */
	o = previous_json(&p, 100ull * 1000000000);
	CHECK_STR(json_object_to_json_string_ext(o, CT_JSON_FLAGS),
		  "{\"started_at\":\"1970-01-01T00:00:10.000000Z\","
		  "\"updated_at\":\"1970-01-01T00:01:30.250000Z\",\"final\":false,\"gap_s\":9.75}");
	json_object_put(o);
	/* a wall clock set back since: 0, not negative */
	o = previous_json(&p, 50ull * 1000000000);
	CHECK(json_object_get_double(json_object_object_get(o, "gap_s")) == 0);
	json_object_put(o);
	CHECK(previous_json(NULL, 1) == NULL);

	put("{\"schema\":\"cidtrace.guests/1\",\"trace\":{}}");
	refused("is not a cidtrace report");
	put("{\"schema\":\"cidtrace.report/2\"}");
	refused("is not a cidtrace report");
	put("{\"schema\":\"cidtrace.report/1\",\"trace\":{\"started_at\":\"yesterday\"}}");
	refused("no trace.started_at and trace.updated_at");
	put("{\"schema\":\"cidtrace.report/1\",\"trace\":{\"started_at\":");
	refused("truncated JSON");
	put("");
	refused("is not a cidtrace report");

	/* what someone could plant at -o: a symlink is not followed, a FIFO not opened to block */
	unlink(path);
	CHECK(symlink("/etc/passwd", path) == 0);
	refused("Too many levels of symbolic links");
	unlink(path);
	CHECK(mkfifo(path, 0600) == 0);
	refused("not a regular file");
	unlink(path);
	CHECK(mkdir(path, 0700) == 0);
	refused("not a regular file");
	rmdir(path);
	rmdir(dir);
	return check_done("test_previous");
}
