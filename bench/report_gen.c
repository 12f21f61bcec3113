// SPDX-License-Identifier: GPL-2.0
/*
 * report_gen - write a synthetic cidtrace report (docs/report-schema.md) to stdout, for
 * timing `cidtrace report` on large inputs.
 *
 *   report_gen vmms N    N VMMs as `cidtrace run` writes them (argv, test dir, times, exit
 *                        status), one CID binding each, a vmm_leak for every 10th and a
 *                        cid_conflict for every 20th, whose holder is the VMM before it
 *   report_gen stubs N   N VMMs of `{"pid": P, "role": "vmm"}` and nothing else: the smallest
 *                        entry that still gets a timeline row (26 bytes each)
 *   report_gen empty N   N processes of `{}`: what a stub costs the reader, and nothing else
 *
 * Pids and start times are unique, so every VMM is a row of its own; times stay within one
 * hour after the trace start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0_S	 1795750000LL /* 2026-11-27T...Z */
#define START_NS 1000000000000LL

static void rfc3339(char *buf, size_t len, long long us)
{
	long long s = T0_S + us / 1000000;
	long long day = s % 86400;

	snprintf(buf, len, "2026-11-27T%02lld:%02lld:%02lld.%06lldZ", day / 3600 % 24,
		 day / 60 % 60, day % 60, us % 1000000);
}

static void header(const char *end)
{
	char t0[40], t1[40];

	rfc3339(t0, sizeof(t0), 0);
	rfc3339(t1, sizeof(t1), 3600000000LL);
	printf("{\"schema\":\"cidtrace.report/1\",\"tool\":{\"name\":\"cidtrace\",\"version\":"
	       "\"0.1.0\"},\"host\":{\"hostname\":\"ci-runner\",\"kernel\":\"6.12.0\"},"
	       "\"trace\":{\"mode\":\"record\",\"command\":null,\"started_at\":\"%s\","
	       "\"ended_at\":%s%s%s,\"updated_at\":\"%s\",\"final\":true,\"complete\":true,"
	       "\"attach\":{\"process\":\"tp_btf\",\"snapshot\":\"iter\",\"vsock\":\"fexit\","
	       "\"vsock_since\":\"%s\",\"uffd\":\"fexit\"},\"events\":{\"received\":1,\"lost\":0},"
	       "\"scope\":[],\"scratch_roots\":[\"/tmp\",\"/ci\"],\"test_dir_depth\":2},\n",
	       t0, end ? "\"" : "", end ? t1 : "null", end ? "\"" : "", t1, t0);
}

/* The fields a finding repeats about a process. */
static void ref(long i, const char *dir)
{
	printf("\"pid\":%ld,\"start_ns\":%lld,\"comm\":\"qemu-system-x86\",\"test_dir\":\"%s\"",
	       100000 + i, START_NS + i * 1000, dir);
}

static void vmms(long n)
{
	char start[40], end[40], dir[64];

	header("");
	fputs("\"processes\":[\n", stdout);
	for (long i = 0; i < n; i++) {
		long long us = (long long)i * 3600000000LL / n;

		rfc3339(start, sizeof(start), us);
		rfc3339(end, sizeof(end), us + 90000000);
		snprintf(dir, sizeof(dir), "/ci/TestQEMUBoot%ld/001", i / 4);
		printf("%s{\"pid\":%ld,\"ppid\":%ld,\"start_ns\":%lld,\"comm\":\"qemu-system-x86\","
		       "\"exe\":\"/usr/bin/qemu-system-x86_64\",\"argv\":[\"qemu-system-x86_64\","
		       "\"-name\",\"vm%ld\",\"-device\",\"vhost-vsock-pci,guest-cid=%ld\","
		       "\"-drive\",\"file=%s/disk.img\"],\"argv_truncated\":false,\"cwd\":\"%s\","
		       "\"test_dir\":\"%s\",\"role\":\"vmm\",\"in_scope\":true,\"original_ppid\":null,"
		       "\"orphaned\":false,\"started_at\":\"%s\",",
		       i ? "," : "", 100000 + i, 90000 + i / 4, START_NS + i * 1000, i, 3 + i, dir,
		       dir, dir, start);
		if (i % 10 == 9)
			fputs("\"exited_at\":null,\"exit\":null,\"fatal_signals\":[]}\n", stdout);
		else
			printf("\"exited_at\":\"%s\",\"exit\":{\"code\":0,\"signal\":0,"
			       "\"core_dumped\":false},\"fatal_signals\":[]}\n",
			       end);
	}
	fputs("],\"cids\":[\n", stdout);
	for (long i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "/ci/TestQEMUBoot%ld/001", i / 4);
		rfc3339(start, sizeof(start), (long long)i * 3600000000LL / n + 500000);
		rfc3339(end, sizeof(end), (long long)i * 3600000000LL / n + 80000000);
		printf("%s{\"id\":\"cid-%ld\",\"cid\":%ld,\"binder\":{", i ? "," : "", i + 1,
		       3 + i);
		ref(i, dir);
		printf("},\"bound_at\":\"%s\",\"released_at\":\"%s\",\"released_by\":null}\n",
		       start, end);
	}
	fputs("],\"uffds\":[],\"findings\":[\n", stdout);
	for (long i = 0, first = 1; i < n; i++) {
		snprintf(dir, sizeof(dir), "/ci/TestQEMUBoot%ld/001", i / 4);
		rfc3339(start, sizeof(start), (long long)i * 3600000000LL / n);
		if (i % 10 == 9) {
			printf("%s{\"kind\":\"vmm_leak\",\"summary\":\"leaked\",",
			       first ? "" : ",");
			ref(i, dir);
			printf(",\"ppid\":1,\"orphaned\":true,\"started_at\":\"%s\",\"age_s\":%.1f,"
			       "\"uffd\":null}\n",
			       start, 3600 - i * 3600.0 / n);
			first = 0;
		}
		if (i % 20 == 19) {
			printf(",{\"kind\":\"cid_conflict\",\"summary\":\"conflict\",\"cid\":%ld,"
			       "\"at\":\"%s\",\"first_at\":\"%s\",\"last_at\":\"%s\",\"attempts\":1,"
			       "\"attempt\":{",
			       2 + i, start, start, start);
			ref(i, dir);
			fputs(",\"ppid\":1,\"argv\":[]},\"holder\":[{", stdout);
			ref(i - 1, dir);
			printf(",\"ppid\":1,\"argv\":[],\"orphaned\":false,\"original_ppid\":null,"
			       "\"state_at_conflict\":\"running\",\"exited_at\":null,"
			       "\"fatal_signals\":[]}],\"binding\":\"cid-%ld\",\"binder\":null,"
			       "\"bound_at\":null,\"released_at\":null,"
			       "\"classification\":\"live_duplicate\"}\n",
			       i);
		}
	}
	fputs("],\"reaped\":[]}\n", stdout);
}

static void stubs(long n)
{
	fputs("{\"schema\":\"cidtrace.report/1\",\"processes\":[", stdout);
	for (long i = 0; i < n; i++)
		printf("%s{\"pid\":%ld,\"role\":\"vmm\"}", i ? "," : "", 100000 + i);
	fputs("]}\n", stdout);
}

static void empty(long n)
{
	fputs("{\"schema\":\"cidtrace.report/1\",\"processes\":[", stdout);
	for (long i = 0; i < n; i++)
		fputs(i ? ",{}" : "{}", stdout);
	fputs("]}\n", stdout);
}

int main(int argc, char **argv)
{
	long n = argc == 3 ? strtol(argv[2], NULL, 10) : 0;

	if (n <= 0 || n > 10000000) {
		fputs("usage: report_gen vmms|stubs|empty N (1 to 10000000)\n", stderr);
		return 2;
	}
	if (!strcmp(argv[1], "vmms"))
		vmms(n);
	else if (!strcmp(argv[1], "stubs"))
		stubs(n);
	else if (!strcmp(argv[1], "empty"))
		empty(n);
	else
		return fputs("report_gen: vmms, stubs or empty\n", stderr), 2;
	return fflush(stdout) ? 1 : 0;
}
