// SPDX-License-Identifier: GPL-2.0
/*
 * CID conflicts end to end through the core: ring-buffer records into collector_handle, holder
 * scans and the host's own CID through a fake vsock source, findings out of
 * vsock_findings_json. One case per classification, plus a pid reused by a new process, and
 * CIDs per network namespace: global before Linux 7.0, local or global on 7.0 (not available
 * here, so its records are made up as its BPF side would send them).
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "collector.h"
#include "narrate.h"
#include "report_vsock.h"
#include "vocab.h"
#include "vsock.h"

#define MS	  1000000ull
#define T0	  (1000 * MS) /* every record is after this */
#define LOCAL_CID 3 /* the CID this host answers to, as the fake source says */

/* What the fake task_file iteration finds per vhost instance. */
static struct scan_entry {
	uint64_t instance;
	struct vsock_holder h[VSOCK_MAX_HOLDERS];
	int n;
} scans[8];
static int nscans;

static int fake_scan(void *ctx, uint64_t instance, struct vsock_holder *out, int max)
{
	for (int i = 0; i < nscans; i++) {
		if (scans[i].instance != instance)
			continue;
		for (int j = 0; j < scans[i].n && j < max; j++)
			out[j] = scans[i].h[j];
		return scans[i].n < max ? scans[i].n : max;
	}
	return 0;
}

static int64_t fake_local_cid(void *ctx)
{
	return LOCAL_CID;
}

static void holds(uint64_t instance, uint32_t pid, uint64_t start_ns, uint32_t flags)
{
	struct scan_entry *s = NULL;

	for (int i = 0; i < nscans && !s; i++)
		if (scans[i].instance == instance)
			s = &scans[i];
	if (!s) {
		s = &scans[nscans++];
		s->instance = instance;
	}
	s->h[s->n++] = (struct vsock_holder){ pid, start_ns, flags };
}

static struct collector c;

static void setup(void)
{
	static const struct collector_cfg cfg = {
		.td = { .roots = { "/ci" }, .nroots = 1, .depth = 2 },
		.live = LIVE_NONE,
	};
	const struct vsock_source src = { .scan = fake_scan,
					  .local_cid = fake_local_cid,
					  .releases_traced = true };

	collector_init(&c, &cfg);
	vsock_set_source(c.vsock, &src);
	nscans = 0;
	memset(scans, 0, sizeof(scans));
}

static struct ct_event_hdr hdr(uint32_t type, uint32_t pid, uint64_t start, uint32_t ppid,
			       const char *comm, uint64_t ts)
{
	struct ct_event_hdr h = { .type = type,
				  .pid = pid,
				  .ts_ns = T0 + ts,
				  .start_ns = start,
				  .ppid = ppid,
				  .tid = pid };

	memcpy(h.comm, comm, strnlen(comm, CT_COMM_LEN));
	return h;
}

static void fork_(uint32_t pid, uint64_t start, uint32_t ppid, const char *comm)
{
	struct ct_fork_event e = { .hdr = hdr(CT_EV_FORK, pid, start, ppid, comm, start) };

	collector_handle(&c, &e, sizeof(e));
}

/* An exec whose one argument names a file in a test directory (NULL: none). */
static void exec_(uint32_t pid, uint64_t start, uint32_t ppid, const char *comm, const char *arg)
{
	static struct ct_exec_event e;
	size_t n = arg ? strlen(arg) + 1 : 0;

	memset(&e, 0, sizeof(e));
	e.hdr = hdr(CT_EV_EXEC, pid, start, ppid, comm, start + 1);
	strcpy(e.filename, "/usr/bin/vmm");
	e.cwd_off = CT_PATH_MAX - 2;
	strcpy(e.cwd + e.cwd_off, "/");
	if (arg)
		memcpy(e.argv, arg, n);
	e.argv_len = n;
	collector_handle(&c, &e, CT_EXEC_FIXED_LEN + n);
}

static void exit_(uint32_t pid, uint64_t start, uint32_t ppid, uint64_t ts, uint32_t status)
{
	struct ct_exit_event e = { hdr(CT_EV_EXIT, pid, start, ppid, "x", ts), status, 0 };

	collector_handle(&c, &e, sizeof(e));
}

static void kill_(uint32_t pid, uint64_t start, uint64_t ts, uint32_t sig, uint32_t sender)
{
	struct ct_signal_event e = { hdr(CT_EV_SIGNAL, pid, start, 1, "x", ts), sig, sender,
				     "go-test" };

	collector_handle(&c, &e, sizeof(e));
}

/* A bind from network namespace net_ns, with CT_VSOCK_NET_* flags. */
static void bind_ns(uint32_t pid, uint64_t start, uint64_t instance, uint64_t cid, int ret,
		    uint64_t ts, uint32_t net_ns, uint32_t net_flags)
{
	struct ct_vsock_event e = { .hdr = hdr(CT_EV_VSOCK_BIND, pid, start, 1, "vmm", ts),
				    .instance = instance,
				    .cid = cid,
				    .ret = ret,
				    .source = CT_SRC_FEXIT,
				    .net_ns = net_ns,
				    .net_flags = net_flags };

	collector_handle(&c, &e, sizeof(e));
}

static void bind_(uint32_t pid, uint64_t start, uint64_t instance, uint64_t cid, int ret,
		  uint64_t ts)
{
	bind_ns(pid, start, instance, cid, ret, ts, 0, 0);
}

static void release_(uint32_t pid, uint64_t start, uint64_t instance, uint64_t ts)
{
	struct ct_vsock_event e = { .hdr = hdr(CT_EV_VSOCK_RELEASE, pid, start, 1, "vmm", ts),
				    .instance = instance,
				    .source = CT_SRC_FEXIT };

	collector_handle(&c, &e, sizeof(e));
}

/* The only finding, or NULL; *out is to be put by the caller. */
static struct json_object *finding(struct json_object **out)
{
	*out = json_object_new_array();
	vsock_findings_json(&c, *out);
	CHECK(json_object_array_length(*out) == 1);
	return json_object_array_get_idx(*out, 0);
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

static int64_t num(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

static struct json_object *holder0(struct json_object *f)
{
	struct json_object *h;

	return json_object_object_get_ex(f, "holder", &h) ? json_object_array_get_idx(h, 0) : NULL;
}

/* The writer's summary and the narrator's agree on a finding straight from the core. */
static void check_summary(struct json_object *f)
{
	char *s = narrate_summary(f);

	CHECK_STR(s, str(f, "summary"));
	free(s);
}

static void done(struct json_object *arr)
{
	json_object_put(arr);
	collector_free(&c);
}

/* A healthy VMM holds the CID another asks for; the two are in different tests. */
static void test_live_duplicate(void)
{
	struct json_object *arr, *f;

	setup();
	fork_(100, 10, 1, "qemu-a");
	exec_(100, 10, 1, "qemu-a", "/ci/TestA/001/disk.img");
	fork_(200, 20, 1, "qemu-b");
	exec_(200, 20, 1, "qemu-b", "/ci/TestB/001/disk.img");
	bind_(100, 10, 0xa000, 42, 0, 100 * MS);
	holds(0xa000, 100, 10, 0);
	bind_(200, 20, 0xb000, 42, -EADDRINUSE, 200 * MS);
	bind_(200, 20, 0xb000, 42, -EADDRINUSE, 300 * MS); /* a retry: the same finding */
	f = finding(&arr);
	CHECK_STR(str(f, "kind"), "cid_conflict");
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_LIVE_DUPLICATE));
	CHECK(num(f, "attempts") == 2);
	CHECK(num(holder0(f), "pid") == 100);
	CHECK_STR(str(holder0(f), "state_at_conflict"), "running");
	CHECK_STR(str(f, "binding"), "vsock-1");
	CHECK_STR(str(f, "binder"), NULL); /* the holder bound it */
	CHECK_STR(str(f, "summary"), "CID 42: qemu-b pid 200 (/ci/TestB/001) failed to bind it "
				     "repeatedly; held by qemu-a pid 100 (/ci/TestA/001), a live "
				     "VMM using the same CID; the two tests share a CID.");
	check_summary(f);
	done(arr);
}

/* The holder had taken SIGKILL; the scan sees it exiting. */
static void test_teardown_race(void)
{
	struct json_object *arr, *f;

	setup();
	fork_(100, 10, 1, "qemu-a");
	fork_(200, 20, 1, "qemu-b");
	bind_(100, 10, 0xa000, 43, 0, 100 * MS);
	kill_(100, 10, 150 * MS, 9, 1);
	holds(0xa000, 100, 10, CT_HOLDER_EXITING);
	bind_(200, 20, 0xb000, 43, -EADDRINUSE, 160 * MS);
	f = finding(&arr);
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_TEARDOWN_RACE));
	CHECK_STR(str(holder0(f), "state_at_conflict"), "exiting");
	check_summary(f);
	done(arr);

	/* Released already, the CID still in the kernel's table: the binder, dead, holds it. */
	setup();
	fork_(100, 10, 1, "qemu-a");
	fork_(200, 20, 1, "qemu-b");
	bind_(100, 10, 0xa000, 44, 0, 100 * MS);
	exit_(100, 10, 1, 150 * MS, 9);
	release_(100, 10, 0xa000, 151 * MS);
	bind_(200, 20, 0xb000, 44, -EADDRINUSE, 160 * MS); /* within the release grace */
	f = finding(&arr);
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_TEARDOWN_RACE));
	CHECK(num(holder0(f), "pid") == 100);
	CHECK_STR(str(f, "binding"), "vsock-1");
	check_summary(f);
	done(arr);

	/* Dumping core counts as dying too. */
	setup();
	fork_(100, 10, 1, "qemu-a");
	fork_(200, 20, 1, "qemu-b");
	bind_(100, 10, 0xa000, 45, 0, 100 * MS);
	holds(0xa000, 100, 10, CT_HOLDER_COREDUMP | CT_HOLDER_EXITING);
	bind_(200, 20, 0xb000, 45, -EADDRINUSE, 160 * MS);
	f = finding(&arr);
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_TEARDOWN_RACE));
	CHECK_STR(str(holder0(f), "state_at_conflict"), "dumping_core");
	check_summary(f);
	done(arr);
}

/* The binder forked a helper without O_CLOEXEC and exited; the helper holds the fd. */
static void test_inherited_fd(void)
{
	struct json_object *arr, *f, *binder;

	setup();
	fork_(100, 10, 1, "qemu-a");
	bind_(100, 10, 0xa000, 46, 0, 100 * MS);
	fork_(101, 110 * MS, 100, "helper");
	exit_(100, 10, 1, 200 * MS, 0);
	fork_(200, 20, 1, "qemu-b");
	holds(0xa000, 101, 110 * MS, 0);
	bind_(200, 20, 0xb000, 46, -EADDRINUSE, 300 * MS);
	f = finding(&arr);
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_INHERITED_FD));
	CHECK(num(holder0(f), "pid") == 101);
	CHECK(json_object_object_get_ex(f, "binder", &binder) && num(binder, "pid") == 100);
	check_summary(f);
	done(arr);
}

/* The holder's parent exited without stopping it. */
static void test_orphan_holder(void)
{
	struct json_object *arr, *f;

	setup();
	fork_(50, 5, 1, "make");
	fork_(100, 10, 50, "qemu-a");
	bind_(100, 10, 0xa000, 47, 0, 100 * MS);
	exit_(50, 5, 1, 200 * MS, 0);
	fork_(200, 20, 1, "qemu-b");
	holds(0xa000, 100, 10, 0);
	bind_(200, 20, 0xb000, 47, -EADDRINUSE, 300 * MS);
	f = finding(&arr);
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_ORPHAN_HOLDER));
	CHECK(json_object_get_boolean(json_object_object_get(holder0(f), "orphaned")));
	CHECK(num(holder0(f), "original_ppid") == 50);
	check_summary(f);
	done(arr);
}

/* Nobody we know holds the CID: the host's own, or one bound before the trace. */
static void test_no_binding(void)
{
	uint64_t local = LOCAL_CID, other = 99;
	struct json_object *arr, *f;

	setup();
	fork_(200, 20, 1, "qemu-b");
	bind_(200, 20, 0xb000, local, -EADDRINUSE, 300 * MS);
	f = finding(&arr);
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_HOST_LOCAL_CID));
	CHECK(json_object_array_length(json_object_object_get(f, "holder")) == 0);
	CHECK_STR(str(f, "binding"), NULL);
	check_summary(f);
	done(arr);

	setup();
	fork_(200, 20, 1, "qemu-b");
	bind_(200, 20, 0xb000, other, -EADDRINUSE, 300 * MS);
	f = finding(&arr);
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_NO_HOLDER_FOUND));
	check_summary(f);
	done(arr);
}

static void test_invalid(void)
{
	struct json_object *arr, *f;

	setup();
	fork_(200, 20, 1, "qemu-b");
	bind_(200, 20, 0xb000, 1, -EINVAL, 300 * MS);
	f = finding(&arr);
	CHECK_STR(str(f, "kind"), finding_kind_name(INVALID_CID));
	CHECK(!json_object_object_get_ex(f, "classification", NULL));
	check_summary(f);
	done(arr);
}

/* A pid names two processes over time; (pid, start time) tells them apart. */
static void test_pid_reuse(void)
{
	struct json_object *arr, *cids, *b0, *b1, *f;
	struct proc *old, *young;

	setup();
	fork_(300, 10, 1, "qemu-old");
	bind_(300, 10, 0xa000, 48, 0, 100 * MS);
	exit_(300, 10, 1, 200 * MS, 0);
	release_(300, 10, 0xa000, 201 * MS);
	fork_(300, 500 * MS, 1, "qemu-new");
	old = pt_find(&c.pt, 300, 10);
	young = pt_find(&c.pt, 300, 500 * MS);
	CHECK(old && young && old != young);
	CHECK(old && old->exited && !strcmp(old->comm, "qemu-old"));
	CHECK(young && !young->exited && !strcmp(young->comm, "qemu-new"));
	CHECK(pt_find_live(&c.pt, 300) == young);
	/* the new process binds the same CID anew: a second binding, its own binder */
	bind_(300, 500 * MS, 0xc000, 48, 0, 600 * MS);
	cids = vsock_cids_json(&c);
	CHECK(json_object_array_length(cids) == 2);
	b0 = json_object_object_get(json_object_array_get_idx(cids, 0), "binder");
	b1 = json_object_object_get(json_object_array_get_idx(cids, 1), "binder");
	CHECK(num(b0, "pid") == 300 && num(b0, "start_ns") == 10);
	CHECK(num(b1, "pid") == 300 && num(b1, "start_ns") == (int64_t)(500 * MS));
	json_object_put(cids);
	/* a conflict against it names the new process, not the old one */
	fork_(200, 20, 1, "qemu-b");
	holds(0xc000, 300, 500 * MS, 0);
	bind_(200, 20, 0xb000, 48, -EADDRINUSE, 700 * MS);
	f = finding(&arr);
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_LIVE_DUPLICATE));
	CHECK_STR(str(holder0(f), "comm"), "qemu-new");
	CHECK(num(holder0(f), "start_ns") == (int64_t)(500 * MS));
	CHECK_STR(str(f, "binding"), "vsock-2");
	done(arr);

	/* the old process's exit was lost: its pid starting anew retires it */
	setup();
	fork_(400, 10, 1, "lost-exit");
	fork_(400, 900 * MS, 1, "reborn");
	old = pt_find(&c.pt, 400, 10);
	CHECK(!old || old->exited);
	CHECK(pt_find_live(&c.pt, 400) == pt_find(&c.pt, 400, 900 * MS));
	collector_free(&c);
}

#define NET_A	   4026531840u
#define NET_B	   4026532400u
#define NET_C	   4026532500u
#define FILE_LOCAL (CT_VSOCK_NET_FILE | CT_VSOCK_NET_LOCAL)

/* The bindings' cids[] entries; *out is to be put by the caller. */
static struct json_object *cids(struct json_object **out, size_t want)
{
	*out = vsock_cids_json(&c);
	CHECK(json_object_array_length(*out) == want);
	return *out;
}

/*
 * qemu-a (pid 100) binds CID 42 in NET_A with flags_a, and holds it; then qemu-b (pid 200)
 * fails to bind it in net_b with flags_b.
 */
static void across(uint32_t flags_a, uint32_t net_b, uint32_t flags_b)
{
	setup();
	fork_(100, 10, 1, "qemu-a");
	fork_(200, 20, 1, "qemu-b");
	bind_ns(100, 10, 0xa000, 42, 0, 100 * MS, NET_A, flags_a);
	holds(0xa000, 100, 10, 0);
	bind_ns(200, 20, 0xb000, 42, -EADDRINUSE, 200 * MS, net_b, flags_b);
}

static size_t nfindings(void)
{
	struct json_object *arr = json_object_new_array();
	size_t n;

	vsock_findings_json(&c, arr);
	n = json_object_array_length(arr);
	json_object_put(arr);
	return n;
}

/*
 * Before 7.0 (the 6.1 and 6.12 VMs): each bind carries the binder's namespace, for the reader
 * only. Two containers' VMMs asking for one CID conflict, and the finding names both.
 */
static void test_netns_global(void)
{
	struct json_object *arr, *bs, *f;

	across(0, NET_B, 0);
	f = finding(&arr);
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_LIVE_DUPLICATE));
	CHECK(num(holder0(f), "pid") == 100);
	CHECK(num(f, "net_ns") == NET_B);
	CHECK_STR(str(f, "net_ns_of"), "binder");
	CHECK(num(f, "holder_net_ns") == NET_A);
	CHECK_STR(str(f, "summary"), "CID 42: qemu-b pid 200 failed to bind it; held by qemu-a "
				     "pid 100, a live VMM using the same CID; from network "
				     "namespaces net:[4026532400] and net:[4026531840], which "
				     "share CIDs before Linux 7.0 and in its global mode.");
	check_summary(f);
	bs = cids(&arr, 1);
	CHECK(num(json_object_array_get_idx(bs, 0), "net_ns") == NET_A);
	CHECK_STR(str(json_object_array_get_idx(bs, 0), "net_ns_of"), "binder");
	CHECK_STR(str(json_object_array_get_idx(bs, 0), "ns_mode"), "global");
	json_object_put(bs);
	done(NULL);

	/* 7.0 in global mode (the default): the file's namespaces differ, the CID is shared. */
	across(CT_VSOCK_NET_FILE, NET_B, CT_VSOCK_NET_FILE);
	f = finding(&arr);
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_LIVE_DUPLICATE));
	CHECK_STR(str(f, "net_ns_of"), "file");
	CHECK(num(f, "holder_net_ns") == NET_A);
	done(arr);
}

/*
 * 7.0 with namespaces in "local" mode: the same CID bound in two of them is legal, and a
 * failure in one is held by that namespace's binding, never the other's.
 */
static void test_netns_local(void)
{
	struct json_object *arr, *bs, *f;

	setup();
	fork_(100, 10, 1, "qemu-a");
	fork_(200, 20, 1, "qemu-b");
	fork_(300, 30, 1, "qemu-c");
	bind_ns(100, 10, 0xa000, 42, 0, 100 * MS, NET_A, FILE_LOCAL);
	holds(0xa000, 100, 10, 0);
	bind_ns(200, 20, 0xb000, 42, 0, 150 * MS, NET_B, FILE_LOCAL);
	holds(0xb000, 200, 20, 0);
	CHECK(nfindings() == 0);
	bs = cids(&arr, 2); /* both bound, neither taken for released */
	for (int i = 0; i < 2; i++) {
		CHECK_STR(str(json_object_array_get_idx(bs, i), "released_at"), NULL);
		CHECK_STR(str(json_object_array_get_idx(bs, i), "ns_mode"), "local");
		CHECK_STR(str(json_object_array_get_idx(bs, i), "net_ns_of"), "file");
	}
	CHECK(num(json_object_array_get_idx(bs, 1), "net_ns") == NET_B);
	json_object_put(bs);
	/* a third VMM in B's namespace: B's binding holds it */
	bind_ns(300, 30, 0xc000, 42, -EADDRINUSE, 200 * MS, NET_B, FILE_LOCAL);
	f = finding(&arr);
	CHECK_STR(str(f, "binding"), "vsock-2");
	CHECK(num(holder0(f), "pid") == 200);
	CHECK(num(f, "holder_net_ns") == NET_B);
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_LIVE_DUPLICATE));
	check_summary(f); /* one namespace: no word of namespaces */
	CHECK(!strstr(str(f, "summary"), "namespace"));
	done(arr);

	/* A failure in a namespace where nobody we know holds it names no other's holder. */
	across(FILE_LOCAL, NET_C, FILE_LOCAL);
	f = finding(&arr);
	CHECK_STR(str(f, "classification"), cid_class_name(CLASS_NO_HOLDER_FOUND));
	CHECK_STR(str(f, "binding"), NULL);
	CHECK(!holder0(f));
	done(arr);

	/* A local namespace's CID and a global one's are apart: both bind. */
	setup();
	fork_(100, 10, 1, "qemu-a");
	fork_(200, 20, 1, "qemu-b");
	bind_ns(100, 10, 0xa000, 42, 0, 100 * MS, NET_A, CT_VSOCK_NET_FILE);
	bind_ns(200, 20, 0xb000, 42, 0, 150 * MS, NET_B, FILE_LOCAL);
	bs = cids(&arr, 2);
	CHECK_STR(str(json_object_array_get_idx(bs, 0), "released_at"), NULL);
	CHECK_STR(str(json_object_array_get_idx(bs, 0), "ns_mode"), "global");
	json_object_put(bs);
	done(NULL);

	CHECK(vsock_cid_shared(NET_A, 0, NET_B, 0));
	CHECK(vsock_cid_shared(NET_A, FILE_LOCAL, NET_A, FILE_LOCAL));
	CHECK(!vsock_cid_shared(NET_A, FILE_LOCAL, NET_B, CT_VSOCK_NET_FILE));
	CHECK(!vsock_cid_shared(0, FILE_LOCAL, 0, FILE_LOCAL)); /* unknown is no match */
}

/* A capture of an older cidtrace: 80-byte records, namespace unknown, shown as null. */
static void test_netns_old_record(void)
{
	struct ct_vsock_event e = { .hdr = hdr(CT_EV_VSOCK_BIND, 100, 10, 1, "vmm", 100 * MS),
				    .instance = 0xa000,
				    .cid = 42,
				    .source = CT_SRC_FEXIT,
				    .net_ns = NET_A, /* beyond the old record's end: never read */
				    .net_flags = FILE_LOCAL };
	struct json_object *arr, *b;

	setup();
	fork_(100, 10, 1, "qemu-a");
	collector_handle(&c, &e, CT_VSOCK_V1_LEN);
	b = json_object_array_get_idx(cids(&arr, 1), 0);
	CHECK(num(b, "cid") == 42);
	CHECK(json_object_object_get_ex(b, "net_ns", NULL));
	CHECK_STR(str(b, "net_ns"), NULL);
	CHECK_STR(str(b, "net_ns_of"), NULL);
	CHECK_STR(str(b, "ns_mode"), NULL);
	done(arr);
}

int main(void)
{
	test_live_duplicate();
	test_teardown_race();
	test_inherited_fd();
	test_orphan_holder();
	test_no_binding();
	test_invalid();
	test_pid_reuse();
	test_netns_global();
	test_netns_local();
	test_netns_old_record();
	return check_done("test_vsock_core");
}
