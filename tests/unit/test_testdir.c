// SPDX-License-Identifier: GPL-2.0
/* Test-dir extraction and scope matching: pure string logic. */
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "testdir.h"

static struct testdir_cfg cfg = { .roots = { "/tmp", "/ci", "/tmp/job7" },
				  .nroots = 3,
				  .depth = 2 };

/* argv given as one string with '\0' between arguments; returns the test dir or NULL. */
static const char *td(const char *argv, size_t len)
{
	static char out[4096];

	return testdir_from_argv(&cfg, argv, len, false, out, sizeof(out)) ? out : NULL;
}
#define TD(lit) td(lit, sizeof(lit) - 1)

/* The same for an argv the tracer cut short. */
static const char *td_cut(const char *argv, size_t len)
{
	static char out[4096];

	return testdir_from_argv(&cfg, argv, len, true, out, sizeof(out)) ? out : NULL;
}
#define TD_CUT(lit) td_cut(lit, sizeof(lit) - 1)

int main(void)
{
	char out[256];

	/* Go's t.TempDir() layout */
	CHECK_STR(TD("qemu\0-chardev\0socket,id=m,path=/ci/TestQEMUWarmForkChain2961875123/001/"
		     "qemu.sock,server=on,wait=off"),
		  "/ci/TestQEMUWarmForkChain2961875123/001");
	/* a fragment after ',' is never part of the dir */
	CHECK_STR(TD("x\0path=/tmp/TestA/001/qemu.sock,server"), "/tmp/TestA/001");
	CHECK_STR(TD("x\0unix:/tmp/TestA/002/v.sock"), "/tmp/TestA/002");
	CHECK_STR(TD("x\0--api-sock=/ci/T/003"), "/ci/T/003");
	/* not deep enough, relative, or outside the roots */
	CHECK_STR(TD("x\0/tmp/TestA"), NULL);
	CHECK_STR(TD("x\0tmp/TestA/001/q"), NULL);
	CHECK_STR(TD("x\0/var/TestA/001/q"), NULL);
	CHECK_STR(TD("x\0qemu.sock,server"), NULL);
	/* /tmpfoo is not under /tmp */
	CHECK_STR(TD("x\0/tmpfoo/TestA/001/q"), NULL);
	/* the most specific root wins */
	CHECK_STR(TD("x\0/tmp/job7/TestB/004/disk.img"), "/tmp/job7/TestB/004");
	/* the first matching argument wins; normalization */
	CHECK_STR(TD("x\0/etc/passwd\0/ci//TestC/./005/../006/f\0/ci/TestD/001/f"),
		  "/ci/TestC/006");
	/* the last NUL-terminated argument, and an empty argv */
	CHECK_STR(td("a\0/ci/TestE/001/x\0", 17), "/ci/TestE/001");
	CHECK_STR(td("", 0), NULL);

	/* a truncated argv's last piece may be a cut-off path: "/ci/job10/disk.img" as "/ci/job1" */
	CHECK_STR(TD_CUT("fc\0--dir=/ci/job10/d,ro\0--x=/ci/job1"), "/ci/job10/d");
	CHECK_STR(TD_CUT("fc\0--disk=/ci/job10/d"), NULL);
	CHECK_STR(TD_CUT("fc\0/ci/TestH/001/a\0/ci/TestI/0"), "/ci/TestH/001");
	CHECK_STR(td("fc\0--disk=/ci/job10/d", 21), "/ci/job10/d");

	/* a path exactly depth deep may be a file: one that goes deeper wins, wherever it is */
	CHECK_STR(TD("x\0/tmp/build/qemu.sock\0/tmp/TestF/001/qemu.sock"), "/tmp/TestF/001");
	CHECK_STR(TD("x\0--log=/ci/build/out.log,path=/ci/TestF/002/q.sock"), "/ci/TestF/002");
	/* with none deeper, the first exactly that deep */
	CHECK_STR(TD("x\0/tmp/build/dir\0/ci/TestF/003"), "/tmp/build/dir");
	/* ... unless its name has an extension: then it is taken for a file */
	CHECK_STR(TD("x\0/tmp/w/uffd.sock.listening\0/tmp/vm1/qmp.sock"), NULL);
	CHECK_STR(TD("x\0/tmp/w/out.log\0/ci/TestF/004"), "/ci/TestF/004");
	/* a cwd is a directory, whatever its name */
	CHECK(testdir_from_path(&cfg, "/tmp/x/v1.2", out, sizeof(out)));
	CHECK_STR(out, "/tmp/x/v1.2");

	/* depth is configurable */
	cfg.depth = 1;
	CHECK_STR(TD("x\0/tmp/bats.Xy12/qemu.sock"), "/tmp/bats.Xy12");
	cfg.depth = 2;

	CHECK(testdir_from_path(&cfg, "/ci/TestG/001/sub/dir", out, sizeof(out)));
	CHECK_STR(out, "/ci/TestG/001");
	CHECK(!testdir_from_path(&cfg, "/home/u", out, sizeof(out)));

	/* scope: exact or DIR/..., never a bare prefix */
	CHECK(path_under("/ci/x/001", "/ci/x/001"));
	CHECK(path_under("/ci/x/001/q.sock", "/ci/x/001"));
	CHECK(!path_under("/ci/x/0010", "/ci/x/001"));
	CHECK(!path_under("/ci/x/0010/q.sock", "/ci/x/001"));
	CHECK(path_under("/anything", "/"));
	CHECK(refs_dir("q\0path=/ci/x/001/q.sock,server", 29, false, NULL, "/ci/x/001"));
	CHECK(!refs_dir("q\0path=/ci/x/0010/q.sock,server", 30, false, NULL, "/ci/x/001"));
	CHECK(refs_dir("q", 1, false, "/ci/x/001/sub", "/ci/x/001"));
	CHECK(!refs_dir("q", 1, false, "/ci/x/0010", "/ci/x/001"));
	CHECK(!refs_dir("q", 1, false, NULL, "/ci/x/001"));
	/* a truncated argv's cut-off last piece is no scope match; its cwd still is */
	CHECK(refs_dir("q\0--disk=/ci/job1", 17, false, NULL, "/ci/job1"));
	CHECK(!refs_dir("q\0--disk=/ci/job1", 17, true, NULL, "/ci/job1"));
	CHECK(refs_dir("q\0/ci/job1/a\0--disk=/ci/job1", 28, true, NULL, "/ci/job1"));
	CHECK(refs_dir("q\0--disk=/ci/job1", 17, true, "/ci/job1/w", "/ci/job1"));

	/* normalization */
	CHECK(path_normalize("/a//b/./c/../d/", 15, out, sizeof(out)));
	CHECK_STR(out, "/a/b/d");
	CHECK(path_normalize("/..", 3, out, sizeof(out)));
	CHECK_STR(out, "/");
	CHECK(!path_normalize("rel/x", 5, out, sizeof(out)));
	CHECK(!path_normalize("/abc", 4, out, 4));

	return check_done("test_testdir");
}
