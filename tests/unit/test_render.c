// SPDX-License-Identifier: GPL-2.0
/* `cidtrace report`: schema versions, times, escaping, and normalization of damaged input. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "render.h"
#include "util.h"

static const char *owned(char *s)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	return buf;
}

static const char *rel_str(int64_t us)
{
	static char buf[32];

	fmt_rel(buf, sizeof(buf), us);
	return buf;
}

/* The error report_parse gives for s, or NULL when it accepts it. */
static const char *parse_err(const char *s)
{
	static char err[256];
	struct report r;

	if (!report_parse(s, strlen(s), &r, err, sizeof(err))) {
		report_free(&r);
		return NULL;
	}
	return err;
}

static const char *normalized(const char *s)
{
	static char buf[8192];
	struct report r;

	if (report_parse(s, strlen(s), &r, buf, sizeof(buf)))
		return buf;
	snprintf(buf, sizeof(buf), "%s",
		 json_object_to_json_string_ext(r.root, JSON_C_TO_STRING_PLAIN));
	report_free(&r);
	return buf;
}

int main(void)
{
	struct report r;
	char err[256];
	int64_t us;
	const char *n;

	CHECK(schema_major("cidtrace.report/1") == 1);
	CHECK(schema_major("cidtrace.report/12") == 12);
	CHECK(schema_major("cidtrace.report/") == -1);
	CHECK(schema_major("cidtrace.report/1.1") == -1);
	CHECK(schema_major("cidtrace.report/1 ") == -1);
	CHECK(schema_major("cidtrace.report/-1") == -1);
	CHECK(schema_major("cidtrace.report/99999999999") == -1);
	CHECK(schema_major("other.report/1") == -1);

	CHECK(parse_time("2026-11-27T03:42:36.123456Z", &us) && us == 1795750956123456);
	CHECK(parse_time("1970-01-01T00:00:00Z", &us) && us == 0);
	CHECK(parse_time("1970-01-01T00:00:01.5Z", &us) && us == 1500000);
	CHECK(parse_time("1970-01-01T00:00:00.123456789Z", &us) && us == 123456);
	CHECK(!parse_time("2026-02-31T00:00:00Z", &us)); /* no February 31st */
	CHECK(!parse_time("2026-11-27T03:42:36.Z", &us));
	CHECK(!parse_time("2026-11-27T03:42:36+01:00", &us));
	CHECK(!parse_time("2026-11-27 03:42:36Z", &us));
	CHECK(!parse_time("1969-12-31T23:59:59Z", &us));
	CHECK(!parse_time("", &us));

	CHECK_STR(rel_str(12301000), "+12.301s");
	CHECK_STR(rel_str(0), "+0.000s");
	CHECK_STR(rel_str(999), "+0.000s");
	CHECK_STR(rel_str(-20000), "-0.020s");
	CHECK_STR(rel_str(3600000000), "+3600.000s");

	/* terminal: controls visible, never raw; HTML: that, plus the five special characters */
	CHECK_STR(owned(term_escape("a\x1b[2Jb\r\n")), "a\\x1b[2Jb\\x0d\\n");
	CHECK_STR(owned(html_escape("<script>alert(1)</script>")),
		  "&lt;script&gt;alert(1)&lt;/script&gt;");
	CHECK_STR(owned(html_escape("\"quote' & \x1b")), "&quot;quote&#39; &amp; \\x1b");
	CHECK_STR(owned(html_escape("caf\xc3\xa9")), "caf\xc3\xa9");

	/* refused: every reason is one lowercase phrase */
	CHECK_STR(parse_err(""), "empty file, not a report");
	CHECK_STR(parse_err("{\"schema\":\"cidtrace.report/1\""),
		  "truncated JSON: it ends at byte 29 inside a value");
	CHECK_STR(parse_err("hello"), "not JSON: unexpected character at byte 0");
	CHECK_STR(parse_err("[]"), "not a cidtrace report: the document is not a JSON object");
	CHECK_STR(parse_err("{}"), "not a cidtrace report: no \"schema\" string");
	CHECK_STR(
		parse_err("{\"schema\":\"cidtrace.report/2\"}"),
		"schema cidtrace.report/2 is not supported; this cidtrace reads cidtrace.report/1");
	CHECK_STR(parse_err("{\"schema\":\"x\\u001b\"}"),
		  "not a cidtrace report: schema \"x\\x1b\" is not cidtrace.report/N");
	CHECK_STR(parse_err("{\"schema\":\"cidtrace.report/1\"} x"),
		  "not JSON: unexpected character at byte 31");
	CHECK(parse_err("{\"schema\":\"cidtrace.report/1\"}\n") == NULL);

	/* missing fields are filled, unknown ones dropped, wrong types read as absent */
	n = normalized(
		"{\"schema\":\"cidtrace.report/1\",\"extra\":1,\"trace\":{\"final\":\"yes\","
		"\"events\":{\"lost\":2.5}},\"processes\":[7,{\"pid\":\"9\",\"argv\":[\"a\",1],"
		"\"exit\":[],\"started_at\":\"yesterday\"}],\"findings\":[{\"kind\":\"new\","
		"\"summary\":\"s\",\"x\":1}]}");
	CHECK(strstr(n, "\"extra\"") == NULL);
	CHECK(strstr(n, "\"final\":false") != NULL);
	CHECK(strstr(n, "\"events\":{\"received\":0,\"lost\":0}") != NULL);
	/* an absent object is null, not an object of defaults; a present one gets its fields */
	CHECK(strstr(n, "\"attach\":null") != NULL);
	CHECK(strstr(n, "\"tool\":null,\"host\":null") != NULL);
	CHECK(strstr(n, "\"processes\":[{\"pid\":0,\"ppid\":0,") != NULL);
	CHECK(strstr(n, "\"argv\":[\"a\"]") != NULL);
	CHECK(strstr(n, "\"exit\":null") != NULL);
	CHECK(strstr(n, "\"started_at\":null") != NULL);
	CHECK(strstr(n, "\"fatal_signals\":[]") != NULL);
	CHECK(strstr(n, "\"cids\":[],\"uffds\":[]") != NULL);
	CHECK(strstr(n, "\"findings\":[{\"kind\":\"new\",\"summary\":\"s\"}]") != NULL);
	/* a vmm_leak of an older cidtrace gains its uffd: null; a NUL inside a string is replaced */
	n = normalized("{\"schema\":\"cidtrace.report/1\",\"findings\":[{\"kind\":\"vmm_leak\","
		       "\"comm\":\"a\\u0000b\",\"age_s\":1e999}]}");
	CHECK(strstr(n, "\"comm\":\"a\xef\xbf\xbd"
			"b\"") != NULL);
	CHECK(strstr(n, "\"age_s\":0") != NULL);
	CHECK(strstr(n, "\"uffd\":null") != NULL);

	/* the time axis: trace start to end, or the times found when the trace has none */
	n = "{\"schema\":\"cidtrace.report/1\",\"trace\":{\"started_at\":\"1970-01-01T00:00:10Z\","
	    "\"ended_at\":\"1970-01-01T00:00:20Z\"}}";
	CHECK(!report_parse(n, strlen(n), &r, err, sizeof(err)));
	CHECK(r.has_times && r.t0_us == 10000000 && r.tend_us == 20000000);
	report_free(&r);
	n = "{\"schema\":\"cidtrace.report/1\",\"processes\":[{\"started_at\":\"1970-01-01T00:00:05Z\"}]}";
	CHECK(!report_parse(n, strlen(n), &r, err, sizeof(err)));
	CHECK(r.has_times && r.t0_us == 5000000 && r.tend_us == 6000000);
	report_free(&r);
	return check_done("test_render");
}
