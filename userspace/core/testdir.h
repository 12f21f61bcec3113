/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which test a process belongs to, from the paths in its argv (or its cwd), and whether it is
 * inside a --scope directory. Pure string logic: no filesystem access, so it is unit-tested.
 */
#ifndef CIDTRACE_TESTDIR_H
#define CIDTRACE_TESTDIR_H

#include <stdbool.h>
#include <stddef.h>

#define TESTDIR_MAX_ROOTS 16

struct testdir_cfg {
	const char *roots[TESTDIR_MAX_ROOTS]; /* normalized absolute scratch roots */
	int nroots;
	int depth; /* components below a root that name one test's directory (Go: 2) */
};

/*
 * Normalize an absolute path lexically: collapse "//", drop ".", resolve "..", strip a trailing
 * "/". Returns false (out untouched) for a relative or too long path.
 */
bool path_normalize(const char *in, size_t len, char *out, size_t outsz);

/* true if path is dir or below it ("/a/b" is under "/a", never under "/a/b0"). */
bool path_under(const char *path, const char *dir);

/*
 * Find the test dir named by a NUL-separated argv (len bytes): every token is split on ',',
 * '=' and ':' and each fragment that is an absolute path is tried against the scratch roots
 * (the most specific root wins). The first fragment with more than depth components below a
 * root gives root + depth components; failing that, the first exactly depth deep whose last
 * component has no '.' (one with an extension is taken for a file: /tmp/build/out.log).
 * Strings only: argv is anyone's, and root never looks up the paths in it. Returns true and fills out on a match. When truncated, argv was cut
 * short: its last fragment may be a cut-off path, and is never tried.
 */
bool testdir_from_argv(const struct testdir_cfg *cfg, const char *argv, size_t len, bool truncated,
		       char *out, size_t outsz);
/* The same for one path, such as a cwd. */
bool testdir_from_path(const struct testdir_cfg *cfg, const char *path, char *out, size_t outsz);

/* true if any argv fragment (split as above, truncated as above) or cwd is dir or below it. */
bool refs_dir(const char *argv, size_t len, bool truncated, const char *cwd, const char *dir);

#endif
