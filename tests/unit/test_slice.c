// SPDX-License-Identifier: GPL-2.0
/*
 * Slices of a report (slice.h): the --since/--until time parser, and who is in a slice of a
 * hand-made report of two jobs in sibling dirs under one runner.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "render.h"
#include "slice.h"

/* s with ' for ", so that the report below reads as JSON does. */
static char *json(const char *s)
{
	char *j = strdup(s);

	for (char *p = j; *p; p++)
		if (*p == '\'')
			*p = '"';
	return j;
}

/* clang-format off */
#define T(hms) "'2026-01-01T" hms "Z'"
static const char report_json[] =
	"{'schema':'cidtrace.report/1','trace':{'mode':'record','started_at':" T("00:00:00") ","
	"'updated_at':" T("00:10:00") ",'final':true,'complete':true},"
	"'processes':["
	/* 0: the runner, seeded: the ancestor of both jobs */
	"{'pid':10,'ppid':1,'start_ns':1000,'comm':'runner','argv':['/usr/bin/runner'],'cwd':'/'},"
	/* 1..2: job A's shell and VMM (the VMM by an argv fragment only) */
	"{'pid':20,'ppid':10,'start_ns':2000,'comm':'sh','argv':['sh'],'cwd':'/w/jobA',"
	"'started_at':" T("00:01:40") ",'exited_at':" T("00:03:20") "},"
	"{'pid':21,'ppid':20,'start_ns':2100,'comm':'qemu-system-x86','argv':['qemu',"
	"'-drive','file=/w/jobA/disk.img'],'cwd':'/','role':'vmm','started_at':" T("00:01:50") "},"
	/* 3..6: job B's shell, VMM, pager and a failed bind */
	"{'pid':30,'ppid':10,'start_ns':3000,'comm':'sh','argv':['sh'],'cwd':'/w/jobB',"
	"'started_at':" T("00:01:40") ",'exited_at':" T("00:03:20") "},"
	"{'pid':31,'ppid':30,'start_ns':3100,'comm':'firecracker','argv':['firecracker'],"
	"'cwd':'/w/jobB','role':'vmm','started_at':" T("00:02:00") "},"
	"{'pid':32,'ppid':30,'start_ns':3200,'comm':'pager','argv':['pager'],'cwd':'/w/jobB',"
	"'role':'pager','started_at':" T("00:02:00") ",'exited_at':" T("00:02:30") "},"
	"{'pid':33,'ppid':30,'start_ns':3300,'comm':'qemu-system-x86','argv':['qemu',"
	"'/w/jobB/d.img'],'started_at':" T("00:02:05") ",'exited_at':" T("00:02:10") "},"
	/* 7: job A's double-forked daemon, reparented to init */
	"{'pid':40,'ppid':1,'original_ppid':20,'orphaned':true,'start_ns':4000,'comm':'sleep',"
	"'argv':['sleep','300'],'cwd':'/w/jobA','started_at':" T("00:02:00") "},"
	/* 8: a sibling whose name starts like job A's */
	"{'pid':50,'ppid':10,'start_ns':5000,'comm':'x','argv':['x','/w/jobAB/y'],'cwd':'/',"
	"'started_at':" T("00:02:00") "},"
	/* 9..10: job A's shell's pid, reused later by job B, and its child */
	"{'pid':20,'ppid':10,'start_ns':6000,'comm':'sh','argv':['sh'],"
	"'cwd':'/w/jobB/sub/../late','started_at':" T("00:05:00") "},"
	"{'pid':61,'ppid':20,'start_ns':6100,'comm':'cat','argv':['cat','/w/jobB/f'],'cwd':'/',"
	"'started_at':" T("00:05:10") ",'exited_at':" T("00:05:11") "}],"
	"'cids':["
	"{'id':'vsock-1','cid':7,'binder':{'pid':21,'start_ns':2100},'bound_at':" T("00:01:55") "},"
	"{'id':'vsock-2','cid':8,'binder':{'pid':31,'start_ns':3100}},"
	/* a binder the report did not list: its test_dir says where it was */
	"{'id':'vsock-3','cid':9,'binder':{'pid':99,'start_ns':9900,'test_dir':'/w/jobB'}}],"
	"'uffds':["
	"{'id':'uffd-1','owner':{'pid':31,'start_ns':3100},'handlers':[{'pid':32,'start_ns':3200}]},"
	"{'id':'uffd-2','owner':{'pid':21,'start_ns':2100}}],"
	"'findings':["
	"{'kind':'cid_conflict','summary':'c','attempt':{'pid':33,'start_ns':3300},"
	"'holder':[{'pid':21,'start_ns':2100}],'binding':'vsock-1'},"
	"{'kind':'uffd_orphan','summary':'o','guest':{'pid':31,'start_ns':3100},"
	"'pager':{'pid':32,'start_ns':3200},'uffd':{'id':'uffd-1'}},"
	"{'kind':'vmm_leak','summary':'l','pid':21,'start_ns':2100,'started_at':" T("00:01:50") "},"
	"{'kind':'cosmic_ray','summary':'?'},"
	"{'kind':'invalid_cid','summary':'i','attempt':{'pid':77,'start_ns':7700,"
	"'argv':['/w/jobA/x']}}],"
	"'reaped':[{'pid':21,'start_ns':2100,'action':'sigterm'}]}";
/* clang-format on */

static int64_t at(const char *hms)
{
	char buf[32];
	int64_t us = -1;

	snprintf(buf, sizeof(buf), "2026-01-01T%sZ", hms);
	slice_parse_time(buf, &us);
	return us;
}

static char *render(void (*fn)(FILE *, const struct report *), const struct report *r)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	fn(f, r);
	fclose(f);
	return buf;
}

static void text(FILE *f, const struct report *r)
{
	render_text(f, r, false);
}

/* The slice s of doc, as JSON. */
static char *sliced(const char *doc, const struct slice *s)
{
	struct report r;
	char err[256], *out;

	if (report_parse(doc, strlen(doc), &r, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	slice_report(&r, s);
	out = render(render_json, &r);
	report_free(&r);
	return out;
}

/* "pid/start_ns ..." of an array of the slice, or the ids of cids[] and uffds[], or kinds. */
static const char *list(const char *doc, const char *key)
{
	static char buf[512];
	struct report r;
	size_t n = 0;

	buf[0] = '\0';
	if (report_parse(doc, strlen(doc), &r, buf, sizeof(buf)))
		return buf;
	for (size_t i = 0; i < rlen(r.root, key) && n < sizeof(buf) - 32; i++) {
		const struct rv *e = ridx(r.root, key, i);

		if (rgets(e, "id") || rgets(e, "kind"))
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " " : "",
				      rgets(e, "id") ? rgets(e, "id") : rgets(e, "kind"));
		else
			n += snprintf(buf + n, sizeof(buf) - n, "%s%lld/%lld", n ? " " : "",
				      (long long)rgeti(e, "pid"), (long long)rgeti(e, "start_ns"));
	}
	report_free(&r);
	return buf;
}

static void test_times(void)
{
	int64_t us;

	CHECK(slice_parse_time("2025-11-27T03:42:36Z", &us) && us == 1764214956000000LL);
	CHECK(slice_parse_time("2025-11-27T03:42:36.123456Z", &us) && us == 1764214956123456LL);
	CHECK(slice_parse_time("2025-11-27T03:42:36.5Z", &us) && us == 1764214956500000LL);
	CHECK(slice_parse_time("2025-11-27T04:42:36+01:00", &us) && us == 1764214956000000LL);
	CHECK(slice_parse_time("2025-11-26T22:12:36.25-05:30", &us) && us == 1764214956250000LL);
	CHECK(slice_parse_time("@1764214956", &us) && us == 1764214956000000LL);
	CHECK(slice_parse_time("@1764214956.25", &us) && us == 1764214956250000LL);
	CHECK(slice_parse_time("@0", &us) && us == 0);
	CHECK(slice_parse_time("@253402300799", &us) && us == 253402300799000000LL);
	/* what the report writes comes back as it was */
	{
		char buf[40];

		fmt_time(buf, sizeof(buf), 1764214956000042LL);
		CHECK_STR(buf, "2025-11-27T03:42:36.000042Z");
	}
	static const char *const bad[] = {
		"",
		"@",
		"@-1",
		"@1.",
		"@1x",
		"@ 1",
		"@253402300800",
		"@99999999999999999999",
		"1764214956",
		"2026-11-27 03:42:36Z",
		"2025-11-27T03:42:36",
		"2026-02-30T00:00:00Z",
		"2025-11-27T03:42:36+24:00",
		"2025-11-27T03:42:36+01",
		"2025-11-27T03:42:36+0100",
		"2025-11-27T03:42:36.Z",
		"2025-11-27T03:42:36Zjunk",
		"1970-01-01T00:00:00+01:00",
		"9999-12-31T23:59:59-01:00",
		"yesterday",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		us = -7;
		if (slice_parse_time(bad[i], &us) || us != -7)
			fprintf(stderr, "taken: '%s'\n", bad[i]);
		CHECK(!slice_parse_time(bad[i], &us) && us == -7);
	}
	/* a report's own times take no offset */
	CHECK(!parse_time("2026-11-27T04:42:36+01:00", &us));
}

/* What a slice holds: its arrays as list() shows them. */
struct want {
	const char *scope, *since, *until; /* hh:mm:ss of the report's day, or NULL */
	const char *processes, *findings, *cids, *uffds, *reaped;
};

static const struct want wants[] = {
	/*
	 * Job A: its shell, VMM and orphaned daemon, the runner above them; the conflict its VMM
	 * holds the CID of brings job B's failed attempt and that one's ancestry, nothing else
	 * of job B's; not /w/jobAB. The unlisted attempt of invalid_cid is job A's by its argv.
	 */
	{ "/w/jobA", NULL, NULL, "10/1000 20/2000 21/2100 30/3000 33/3300 40/4000",
	  "cid_conflict vmm_leak invalid_cid", "vsock-1", "uffd-2", "21/2100" },
	/*
	 * Job B: the binding its failed attempt met comes along with the holder, and the
	 * holder's reaped[] entry; a binder the report did not list is in by its test_dir.
	 */
	{ "/w/jobB", NULL, NULL,
	  "10/1000 20/2000 21/2100 30/3000 31/3100 32/3200 33/3300 20/6000 61/6100",
	  "cid_conflict uffd_orphan", "vsock-1 vsock-2 vsock-3", "uffd-1", "21/2100" },
	/*
	 * From 00:04 on: job B's VMM (still running), the reused pid 20 and its child. The
	 * child's parent is the later pid 20, not job A's shell; the orphan finding brings its
	 * exited pager, the shell that exited is there as the VMM's parent only.
	 */
	{ "/w/jobB", "00:04:00", NULL, "10/1000 30/3000 31/3100 32/3200 20/6000 61/6100",
	  "uffd_orphan", "vsock-2 vsock-3", "uffd-1", "" },
	/* until 00:01:45: job A's shell only; the unlisted attempt has no times: it is in */
	{ "/w/jobA", NULL, "00:01:45", "10/1000 20/2000", "invalid_cid", "", "", "" },
	/* a window alone: every process alive in it, and what their findings name */
	{ NULL, "00:04:00", NULL,
	  "10/1000 20/2000 21/2100 30/3000 31/3100 32/3200 33/3300 40/4000 50/5000 20/6000 "
	  "61/6100",
	  "cid_conflict uffd_orphan vmm_leak invalid_cid", "vsock-1 vsock-2 vsock-3",
	  "uffd-1 uffd-2", "21/2100" },
	/* nobody */
	{ "/w/jobC", NULL, NULL, "", "", "", "", "" },
};

static void test_members(const char *doc)
{
	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		const struct want *w = &wants[i];
		struct slice sl = { .scope = w->scope,
				    .has_since = w->since,
				    .since_us = w->since ? at(w->since) : 0,
				    .has_until = w->until,
				    .until_us = w->until ? at(w->until) : 0 };
		char *s = sliced(doc, &sl);

		CHECK_STR(list(s, "processes"), w->processes);
		CHECK_STR(list(s, "findings"), w->findings);
		CHECK_STR(list(s, "cids"), w->cids);
		CHECK_STR(list(s, "uffds"), w->uffds);
		CHECK_STR(list(s, "reaped"), w->reaped);
		free(s);
	}
}

/* trace.slice says what was asked, null for what was not. */
static void test_trace_slice(const char *doc)
{
	char *s = sliced(doc, &(struct slice){ .scope = "/w/jobA" });

	CHECK(strstr(s, "\"slice\":{\n      \"scope\":\"/w/jobA\",\n      \"cgroup\":null,\n"
			"      \"container\":null,\n      \"since\":null,\n"
			"      \"until\":null\n    }") != NULL);
	free(s);
	s = sliced(doc, &(struct slice){ .has_since = true, .since_us = at("00:04:00") });
	CHECK(strstr(s, "\"container\":null,\n      \"since\":\"2026-01-01T00:04:00.000000Z\"") !=
	      NULL);
	free(s);
}

/* A slice is a report: read back, sliced again, rendered, it is the same. */
static void test_again(const char *doc)
{
	struct slice b = { .scope = "/w/jobB", .has_since = true, .since_us = at("00:04:00") };
	struct slice later = { .has_since = true, .since_us = at("00:03:00") };
	struct report r, r2;
	char err[256], *s, *s2, *t1, *t2;

	s = sliced(doc, &b);
	s2 = sliced(s, &b);
	CHECK_STR(s2, s);
	free(s2);
	/* without a scope, a slice of a slice keeps the earlier scope and the later since */
	s2 = sliced(s, &later);
	CHECK_STR(s2, s);
	free(s2);
	/* its text: the same whether sliced now or read back as a slice */
	CHECK(!report_parse(doc, strlen(doc), &r, err, sizeof(err)));
	slice_report(&r, &b);
	CHECK(!report_parse(s, strlen(s), &r2, err, sizeof(err)));
	CHECK(r.t0_us == at("00:04:00") && r.tend_us == at("00:10:00"));
	CHECK(r2.t0_us == r.t0_us && r2.tend_us == r.tend_us);
	t1 = render(text, &r);
	t2 = render(text, &r2);
	CHECK_STR(t1, t2);
	CHECK(strstr(t1, "\nslice of /w/jobB, from 2026-01-01T00:04:00.000000Z to its end: only") !=
	      NULL);
	free(t1);
	free(t2);
	t1 = render(render_html, &r);
	t2 = render(render_html, &r2);
	CHECK_STR(t1, t2);
	CHECK(strstr(t1, "<title>cidtrace report (slice)</title>") != NULL);
	free(t1);
	free(t2);
	report_free(&r);
	report_free(&r2);
	free(s);

	/* a whole report has no trace.slice, and says nothing of one */
	CHECK(!report_parse(doc, strlen(doc), &r, err, sizeof(err)));
	t1 = render(render_json, &r);
	t2 = render(text, &r);
	CHECK(strstr(t1, "\"slice\"") == NULL && strstr(t2, "slice") == NULL);
	free(t1);
	free(t2);
	report_free(&r);
}

/* Parents that name each other, or themselves: each process is walked up from once. */
static void test_hostile(void)
{
	char *doc = json("{'schema':'cidtrace.report/1','processes':["
			 "{'pid':5,'ppid':6,'start_ns':1,'cwd':'/w/j'},"
			 "{'pid':6,'ppid':5,'start_ns':1},{'pid':7,'ppid':7,'cwd':'/w/j'},"
			 "{'pid':8,'ppid':7,'cwd':'/elsewhere'},{'pid':-1,'ppid':-1,'cwd':'/w/j'},"
			 /* a pid its own parent's, started again: the earlier one is the parent */
			 "{'pid':9,'ppid':9,'start_ns':1,'cwd':'/elsewhere'},"
			 "{'pid':9,'ppid':9,'start_ns':2,'cwd':'/w/j'},"
			 "{'pid':11,'start_ns':-5,'cwd':'/w/j'}],"
			 /* a reference without a start time: the first process of its pid */
			 "'findings':[{'kind':'uffd_orphan','guest':{'pid':11}}],"
			 "'trace':{'slice':{'scope':'not/absolute','since':'garbage'}}}");
	char *s = sliced(doc, &(struct slice){ .scope = "/w/j" });

	CHECK_STR(list(s, "processes"), "5/1 6/1 7/0 -1/0 9/1 9/2 11/-5");
	CHECK_STR(list(s, "findings"), "uffd_orphan");
	/* what an earlier slice said and cannot be read is dropped, as an unparsable time is */
	CHECK(strstr(s, "\"scope\":\"/w/j\",\n      \"cgroup\":null") != NULL);
	CHECK(strstr(s, "\"container\":null,\n      \"since\":null") != NULL);
	free(s);
	free(doc);
}

#define ID64 "3f2a9c0d1e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3928170615e4d3c2b1a09f8e7"

/*
 * Containers: the same path on the host (mount namespace 100, the recorder's), in a docker
 * container and in a cgroup of its own, and in a report from before mnt_ns. --scope is the
 * host's path; a cgroup or a container picks one job, whose own path --scope then is.
 */
static void test_containers(void)
{
	char *doc = json(
		"{'schema':'cidtrace.report/1','trace':{'scope_mnt_ns':100},'processes':["
		"{'pid':70,'ppid':1,'start_ns':1,'argv':['vmm','/tmp/T/001/s'],'ns':{'mnt_ns':100},"
		"'cgroup':'/ci/host'},"
		"{'pid':71,'ppid':1,'start_ns':1,'argv':['vmm','/tmp/T/001/s'],'ns':{'mnt_ns':201},"
		"'cgroup':'/system.slice/docker-" ID64 ".scope'},"
		"{'pid':72,'ppid':1,'start_ns':1,'argv':['vmm','/tmp/T/001/s'],'ns':{'mnt_ns':202},"
		"'cgroup':'/ctB'},"
		"{'pid':73,'ppid':1,'start_ns':1,'argv':['vmm','/tmp/T/001/s']}],"
		/* a reference with no cgroup is in no cgroup's slice */
		"'findings':[{'kind':'invalid_cid','attempt':{'pid':74,'mnt_ns':202,"
		"'argv':['/tmp/T/001']}}]}");
	struct {
		struct slice s;
		const char *processes, *findings;
	} cases[] = {
		{ { .scope = "/tmp/T" }, "70/1 73/1", "" },
		{ { .scope = "/tmp/T", .cgroup = "/ctB" }, "72/1", "" },
		{ { .cgroup = "/ct" }, "", "" },
		{ { .container = "3f2a9c0d1e8b" }, "71/1", "" },
		{ { .container = "3f2a9c0d1e8" }, "", "" },
		{ { .cgroup = "/system.slice", .container = ID64 }, "71/1", "" },
		{ { .cgroup = "/ctB", .container = ID64 }, "", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = sliced(doc, &cases[i].s);

		CHECK_STR(list(s, "processes"), cases[i].processes);
		CHECK_STR(list(s, "findings"), cases[i].findings);
		free(s);
	}
	free(doc);
}

int main(void)
{
	char *doc = json(report_json);

	test_times();
	test_members(doc);
	test_trace_slice(doc);
	test_again(doc);
	test_hostile();
	test_containers();
	free(doc);
	return check_done("test_slice");
}
