// SPDX-License-Identifier: GPL-2.0
/* `cidtrace report`: schema versions, times, escaping, and normalization of damaged input. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"
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

/* The normalized report on one line, without the pretty layout's spaces between tokens. */
static const char *normalized(const char *s)
{
	static char buf[16384];
	struct report r;
	char *json = NULL;
	size_t len = 0, n = 0;
	bool quoted = false;
	FILE *f;

	if (report_parse(s, strlen(s), &r, buf, sizeof(buf)))
		return buf;
	f = open_memstream(&json, &len);
	render_json(f, &r);
	fclose(f);
	report_free(&r);
	for (size_t i = 0; i < len && n < sizeof(buf) - 1; i++) {
		if (json[i] == '"' && (i == 0 || json[i - 1] != '\\'))
			quoted = !quoted;
		if (quoted || (json[i] != ' ' && json[i] != '\n'))
			buf[n++] = json[i];
	}
	buf[n] = '\0';
	free(json);
	return buf;
}

/* The text (html false) or HTML view of the report s. */
static const char *rendered(const char *s, bool html)
{
	static char buf[65536];
	struct report r;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (report_parse(s, strlen(s), &r, buf, sizeof(buf)))
		return buf;
	f = open_memstream(&out, &len);
	if (html)
		render_html(f, &r);
	else
		render_text(f, &r, false);
	fclose(f);
	report_free(&r);
	snprintf(buf, sizeof(buf), "%s", out);
	free(out);
	return buf;
}

/* trace.retention: a window says so, in both views; a whole report says nothing of it. */
static void test_window_line(void)
{
	const char *window = "{\"schema\":\"cidtrace.report/1\",\"trace\":{\"started_at\":"
			     "\"1970-01-01T00:00:10Z\",\"retention\":{\"keep_processes\":50,"
			     "\"dropped_processes\":251,\"dropped_cids\":1,\"dropped_findings\":2,"
			     "\"since\":\"1970-01-01T00:01:10.5Z\"}}}";
	const char *whole = "{\"schema\":\"cidtrace.report/1\",\"trace\":{\"retention\":"
			    "{\"keep_processes\":50,\"since\":null}}}";
	const char *line = "251 processes, 1 CID, 0 uffds and 2 findings dropped by retention; "
			   "complete since +60.500s";

	CHECK(strstr(rendered(window, false), line) != NULL);
	CHECK(strstr(rendered(window, true), line) != NULL);
	CHECK(strstr(rendered(whole, false), "retention") == NULL);
	CHECK(strstr(rendered(whole, true), "retention") == NULL);
}

/* A vmm_leak of pid 4242 whose processes[] entry has ns and container (JSON members). */
static char *where_report(const char *ns, const char *container)
{
	char *s;

	if (asprintf(&s,
		     "{\"schema\":\"cidtrace.report/1\",\"processes\":[{\"pid\":4242,"
		     "\"start_ns\":7,\"comm\":\"qemu\",\"ns\":%s,\"container\":%s}],"
		     "\"findings\":[{\"kind\":\"vmm_leak\",\"pid\":4242,\"start_ns\":7,"
		     "\"comm\":\"qemu\"}]}",
		     ns, container) < 0)
		abort();
	return s;
}

/* "qemu pid 4242 (container 3f2a…, pid 17 inside)": from the process's processes[] entry. */
static void test_where(void)
{
	const char *inner = "{\"pid\":[4242,17],\"pid_truncated\":false,\"pid_ns\":1,"
			    "\"mnt_ns\":2,\"net_ns\":3}";
	const char *docker = "{\"runtime\":\"docker\",\"id\":\"3f2a5c9d0e1b77aa"
			     "0000000000000000000000000000000000000000000000\",\"pod_uid\":null}";
	char *r;

	r = where_report(inner, docker);
	CHECK(strstr(rendered(r, false), "qemu pid 4242 (container 3f2a5c9d0e1b\u2026, pid 17 "
					 "inside) started") != NULL);
	CHECK(strstr(rendered(r, true), "container 3f2a5c9d0e1b\u2026, pid 17 inside") != NULL);
	/* ns.pid is read back and written again as integers */
	CHECK(strstr(normalized(r), "\"pid\":[4242,17],\"pid_truncated\":false") != NULL);
	free(r);
	r = where_report(inner, "null");
	CHECK(strstr(rendered(r, false), "qemu pid 4242 (pid 17 in its pid namespace)") != NULL);
	free(r);
	/* on the host, or with the innermost pid missing: nothing to say */
	r = where_report("{\"pid\":[4242]}", "null");
	CHECK(strstr(rendered(r, false), "qemu pid 4242 started") != NULL);
	free(r);
	r = where_report("{\"pid\":[4242,1,2,3],\"pid_truncated\":true}", "null");
	CHECK(strstr(rendered(r, false), "qemu pid 4242 started") != NULL);
	free(r);
	/* a guest and its pager in two containers, in one finding: each by its own id */
	r = strdup(
		"{\"schema\":\"cidtrace.report/1\",\"processes\":["
		"{\"pid\":4242,\"start_ns\":7,\"comm\":\"qemu\",\"container\":{\"runtime\":"
		"\"docker\",\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}},"
		"{\"pid\":5000,\"start_ns\":8,\"comm\":\"pager\",\"container\":{\"runtime\":"
		"\"docker\",\"id\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}}],"
		"\"findings\":[{\"kind\":\"uffd_orphan\",\"state\":\"pager_lost\","
		"\"guest\":{\"pid\":4242,\"start_ns\":7,\"comm\":\"qemu\"},"
		"\"pager\":{\"pid\":5000,\"start_ns\":8,\"comm\":\"pager\"}}]}");
	CHECK(strstr(rendered(r, false), "pid 4242 (container aaaaaaaaaaaa\u2026") != NULL);
	CHECK(strstr(rendered(r, false), "pid 5000 (container bbbbbbbbbbbb\u2026") != NULL);
	free(r);
	/* a name whoever made the cgroup chose: escaped like argv in both views */
	r = where_report(inner, "{\"runtime\":\"systemd-nspawn\",\"id\":\"<b>\\u001b[31m\"}");
	CHECK(strstr(rendered(r, false), "(container <b>\\x1b[31m, pid 17 inside)") != NULL);
	CHECK(strstr(rendered(r, true), "<b>") == NULL);
	CHECK(strstr(rendered(r, true), "container &lt;b&gt;") != NULL);
	free(r);
}

/*
 * HTML: the cgroup path of a containerized process a finding names, in the findings list and
 * the timeline's tooltips, escaped (whoever made the cgroup named it); none for the host's.
 */
static void test_html_cgroup(void)
{
	static const char fmt[] =
		"{\"schema\":\"cidtrace.report/1\",\"processes\":["
		"{\"pid\":4242,\"start_ns\":7,\"comm\":\"qemu\",\"ns\":{\"pid\":[4242,17]},"
		"\"cgroup\":\"%s\",\"container\":null},"
		"{\"pid\":5000,\"start_ns\":8,\"comm\":\"qemu\",\"ns\":{\"pid\":[5000]},"
		"\"cgroup\":\"/host/job\",\"container\":null}],"
		"\"findings\":[{\"kind\":\"vmm_leak\",\"pid\":4242,\"start_ns\":7,\"comm\":\"qemu\"},"
		"{\"kind\":\"vmm_leak\",\"pid\":5000,\"start_ns\":8,\"comm\":\"qemu\"}]}";
	const char *html;
	char *r;

	if (asprintf(&r, fmt, "/ci/job-1/pod<b>\\u001b[31m\\\"&'") < 0)
		abort();
	html = rendered(r, true);
	CHECK(strstr(html, "<span class=\"cgroups\">qemu pid 4242 in cgroup "
			   "<code>/ci/job-1/pod&lt;b&gt;") != NULL);
	CHECK(strstr(html, "; cgroup /ci/job-1/pod&lt;b&gt;") != NULL);
	CHECK(strstr(html, "<b>") == NULL && strchr(html, '\033') == NULL);
	/* the host's process: its cgroup says nothing a reader needs */
	CHECK(strstr(html, "/host/job") == NULL);
	CHECK(strstr(html, "qemu pid 5000 in cgroup") == NULL);
	free(r);
}

/* A report whose processes[0].argv holds n empty strings. */
static char *argv_report(size_t n)
{
	static const char head[] = "{\"schema\":\"cidtrace.report/1\",\"processes\":[{\"argv\":[";
	char *s = malloc(sizeof(head) + 3 * n + 8), *p = s;

	p += sprintf(p, "%s", head);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s\"\"", i ? "," : "");
	strcpy(p, "]}]}");
	return s;
}

/* A report with x nested d deep: {"x":[[...]]} is 1 + (d - 1) arrays and objects. */
static const char *nested(int d)
{
	static char buf[256];
	int n = sprintf(buf, "{\"schema\":\"cidtrace.report/1\",\"x\":");

	for (int i = 1; i < d; i++)
		buf[n++] = '[';
	for (int i = 1; i < d; i++)
		buf[n++] = ']';
	strcpy(buf + n, "}");
	return buf;
}

static bool any_schema(const char *schema, char *err, size_t errlen)
{
	return true;
}

/* The limits on elements, on a schema of its own whose limits are small. */
static void test_limits(void)
{
	static const struct field item_f[] = { { "v", T_INT, NULL, 0 }, { NULL, 0, NULL, 0 } };
	static const struct field root_f[] = {
		{ "a", T_STRS, NULL, 3 },
		{ "b", T_ARR, item_f, 0 },
		{ "c", T_STRS, NULL, 0 },
		{ NULL, 0, NULL, 0 },
	};
	static const struct schema sc = { root_f, NULL, 4, 6 };
	static const struct {
		const char *json, *err;
	} cases[] = {
		{ "{\"a\":[\"1\",\"2\",\"3\"],\"x\":[1,2,3,4,5,6,7,8,9]}", NULL },
		{ "{\"a\":[\"1\",\"2\",\"3\",\"4\"]}",
		  "a[] has more than 3 elements: larger than any report cidtrace writes" },
		/* elements of the wrong type count too: they are read all the same */
		{ "{\"a\":[1,2,3,4]}",
		  "a[] has more than 3 elements: larger than any report cidtrace writes" },
		{ "{\"b\":[{\"v\":1},{},{},{},{}]}",
		  "b[] has more than 4 elements: larger than any report cidtrace writes" },
		{ "{\"a\":[\"1\",\"2\",\"3\"],\"b\":[{},{}],\"c\":[\"1\",\"2\"]}",
		  "more than 6 array elements in all (at c[]): larger than any report cidtrace "
		  "writes" },
	};
	char err[256];
	struct rtree t;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = reader_parse(cases[i].json, strlen(cases[i].json), &sc, any_schema, &t,
				       err, sizeof(err));

		CHECK_STR(ret ? err : NULL, cases[i].err);
		if (!ret)
			rtree_free(&t);
	}
}

/* The writer lays the JSON out as json-c would: json-c reads it and writes it back the same. */
static void test_json_c_layout(const char *name)
{
	char path[256], *buf, *out = NULL, err[256];
	struct json_object *o;
	struct report r;
	size_t len, outlen;
	FILE *f;

	snprintf(path, sizeof(path), "tests/fuzz/corpus/%s", name);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	buf = malloc(1 << 20);
	len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	CHECK(report_parse(buf, len, &r, err, sizeof(err)) == 0);
	f = open_memstream(&out, &outlen);
	render_json(f, &r);
	fclose(f);
	o = json_tokener_parse(out);
	CHECK(o != NULL);
	if (o) {
		/* as the writer's jwrite() lays it out: json-c's layout, C1 and bidi escaped */
		char *back = NULL;
		size_t backlen;
		FILE *bf = open_memstream(&back, &backlen);

		jwrite(bf, o, CT_JSON_FLAGS | JSON_C_TO_STRING_PRETTY);
		fclose(bf);
		CHECK(backlen + 1 == outlen && !memcmp(back, out, outlen - 1));
		free(back);
	}
	json_object_put(o);
	report_free(&r);
	free(out);
	free(buf);
}

int main(void)
{
	struct report r;

	test_window_line();
	test_where();
	test_html_cgroup();
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
	CHECK(strstr(n, "\"events\":{\"received\":0,\"lost\":0,\"uffd_serves_overflow\":0,"
			"\"uffd_scans_deferred\":0,\"uffd_rereads_deferred\":0}") != NULL);
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
	/* a time a repeated field replaced is not on the axis */
	n = "{\"schema\":\"cidtrace.report/1\",\"processes\":[{\"started_at\":"
	    "\"1970-01-01T00:00:01Z\",\"started_at\":\"1970-01-01T00:00:05Z\"}]}";
	CHECK(!report_parse(n, strlen(n), &r, err, sizeof(err)));
	CHECK(r.has_times && r.t0_us == 5000000);
	report_free(&r);

	/* stubs stay small: no nested object is made up, scalars take their defaults */
	n = normalized("{\"schema\":\"cidtrace.report/1\",\"findings\":[{\"kind\":"
		       "\"uffd_orphan\"},{\"kind\":\"cid_conflict\"},{}],\"cids\":[{}]}");
	CHECK(strstr(n,
		     "\"guest\":null,\"pager\":null,\"uffd\":null,\"cpu_pct\":0,\"demand_pct\":null,"
		     "\"threads\":[]") != NULL);
	CHECK(strstr(n, "\"attempts\":0,\"attempt\":null,\"net_ns\":null,\"net_ns_of\":null,"
			"\"holder\":[]") != NULL);
	CHECK(strstr(n, "{\"kind\":null,\"summary\":null}]") != NULL);
	CHECK(strstr(n, "\"cids\":[{\"id\":null,\"cid\":0,\"binder\":null,") != NULL);
	/* demand_pct: a number stays as written, null (unknown) stays null, never 0 */
	n = normalized("{\"schema\":\"cidtrace.report/1\",\"findings\":[{\"kind\":"
		       "\"uffd_orphan\",\"demand_pct\":97.5,\"threads\":[{\"demand_pct\":null},"
		       "{\"demand_pct\":3}]}]}");
	CHECK(strstr(n, "\"demand_pct\":97.5,") != NULL);
	CHECK(strstr(n, "\"cpu_pct\":0,\"demand_pct\":null,") != NULL);
	CHECK(strstr(n, "\"cpu_pct\":0,\"demand_pct\":3,") != NULL);
	/* a repeated field: the last one counts, even when it is of the wrong type */
	n = normalized("{\"schema\":\"cidtrace.report/1\",\"trace\":{\"final\":true,"
		       "\"final\":1,\"mode\":\"a\",\"mode\":\"run\"}}");
	CHECK(strstr(n, "\"mode\":\"run\"") != NULL && strstr(n, "\"final\":false") != NULL);
	/* numbers: integers clamped as json-c does, other numbers as written */
	n = normalized("{\"schema\":\"cidtrace.report/1\",\"trace\":{\"events\":{\"received\":"
		       "99999999999999999999,\"lost\":-99999999999999999999}},\"findings\":"
		       "[{\"kind\":\"vmm_leak\",\"age_s\":-0.5E+2},{\"kind\":\"vmm_leak\","
		       "\"age_s\":18446744073709551615},{\"kind\":\"vmm_leak\",\"age_s\":NaN}]}");
	CHECK(strstr(n, "\"received\":9223372036854775807,\"lost\":-9223372036854775808") != NULL);
	CHECK(strstr(n, "\"age_s\":-0.5E+2") != NULL);
	CHECK(strstr(n, "\"age_s\":18446744073709551615") != NULL);
	CHECK(strstr(n, "\"age_s\":0,") != NULL);
	/* strings: escapes, surrogate pairs, a lone surrogate, invalid bytes */
	n = normalized("{\"schema\":\"cidtrace.report/1\",\"host\":{\"hostname\":"
		       "\"\\ud83d\\ude00 \\ud800x \\u00e9\\/\xff\"}}");
	CHECK(strstr(n, "\"hostname\":\"\xf0\x9f\x98\x80 \xef\xbf\xbd"
			"x \xc3\xa9/\xef\xbf\xbd\"") != NULL);

	/* strict JSON, and json-c's nesting limit */
	CHECK_STR(parse_err("{'schema':1}"),
		  "not JSON: quoted object property name expected at byte 1");
	CHECK_STR(parse_err("{\"schema\":\"cidtrace.report/1\",\"x\":[1.]}"),
		  "not JSON: number expected at byte 37");
	CHECK_STR(parse_err("{\"schema\":\"cidtrace.report/1\",\"x\":[01]}"),
		  "not JSON: array value separator ',' expected at byte 36");
	CHECK_STR(parse_err("{\"schema\":\"cidtrace.report/1\",\"x\":[1,]}"),
		  "not JSON: unexpected character at byte 37");
	CHECK_STR(parse_err("{\"schema\":\"cidtrace.report/1\",\"x\":\"\\x\"}"),
		  "not JSON: invalid string sequence at byte 36");
	CHECK_STR(parse_err("{\"schema\":\"cidtrace.report/1\",\"x\":\"\\u12\"}"),
		  "not JSON: invalid string sequence at byte 39");
	CHECK_STR(parse_err("{\"schema\":\"cidtrace.report/1\",\"x\":tru}"),
		  "not JSON: boolean expected at byte 37");
	CHECK_STR(parse_err("{\"schema\":\"cidtrace.report/1\",\"x\":\"abc"),
		  "truncated JSON: it ends at byte 38 inside a value");
	CHECK(parse_err(nested(32)) == NULL);
	CHECK_STR(parse_err(nested(33)), "not JSON: nesting too deep at byte 65");

	/* limits: processes[0].argv with one string too many */
	{
		char *big = argv_report(ARRAY_MAX);

		CHECK(parse_err(big) == NULL);
		free(big);
		big = argv_report(ARRAY_MAX + 1);
		CHECK_STR(parse_err(big), "processes[].argv[] has more than 100000 elements: "
					  "larger than any report cidtrace writes");
		free(big);
	}
	test_limits();
	test_json_c_layout("conflict-uffd-all-kinds.json");
	test_json_c_layout("hostile-strings.json");
	test_json_c_layout("huge-numbers-wrong-types.json");
	test_json_c_layout("real-leak-signals.json");
	return check_done("test_render");
}
