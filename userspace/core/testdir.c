// SPDX-License-Identifier: GPL-2.0
#include <limits.h>
#include <string.h>

#include "testdir.h"

bool path_normalize(const char *in, size_t len, char *out, size_t outsz)
{
	char buf[PATH_MAX];
	size_t o = 0, i = 0;

	if (len == 0 || in[0] != '/' || len >= sizeof(buf))
		return false;
	while (i < len) {
		size_t start, clen;

		while (i < len && in[i] == '/')
			i++;
		start = i;
		while (i < len && in[i] != '/')
			i++;
		clen = i - start;
		if (clen == 0 || (clen == 1 && in[start] == '.'))
			continue;
		if (clen == 2 && in[start] == '.' && in[start + 1] == '.') {
			while (o > 0 && buf[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the slash before the dropped component */
			continue;
		}
		buf[o++] = '/';
		memcpy(buf + o, in + start, clen);
		o += clen;
	}
	if (o == 0)
		buf[o++] = '/';
	if (o >= outsz)
		return false;
	memcpy(out, buf, o);
	out[o] = '\0';
	return true;
}

bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/*
 * Calls fn on every absolute-path fragment of the NUL-separated argv, until fn returns true.
 * The last fragment of a truncated argv is cut off: "/ci/job10/disk.img" kept as "/ci/job1"
 * names another directory, so it is skipped.
 */
static bool for_each_path(const char *argv, size_t len, bool truncated,
			  bool (*fn)(const char *path, void *arg), void *arg)
{
	char path[PATH_MAX];
	size_t i = 0;

	while (i < len) {
		size_t start = i;

		while (i < len && argv[i] && !strchr(",=:", argv[i]))
			i++;
		if (truncated && i >= len)
			break;
		if (i > start && argv[start] == '/' &&
		    path_normalize(argv + start, i - start, path, sizeof(path)) && fn(path, arg))
			return true;
		i++; /* the separator or NUL */
	}
	return false;
}

struct match {
	const struct testdir_cfg *cfg;
	char *out;
	size_t outsz;
	bool deeper; /* only fragments that go on below the test dir */
	bool may_be_file; /* from argv: a path exactly that deep may name a file */
};

static bool match_path(const char *path, void *arg)
{
	struct match *m = arg;
	const char *root = NULL, *p;
	size_t rlen = 0;
	int comps;

	for (int i = 0; i < m->cfg->nroots; i++) {
		size_t n = strlen(m->cfg->roots[i]);

		if (path_under(path, m->cfg->roots[i]) && n > rlen)
			root = m->cfg->roots[i], rlen = n;
	}
	if (!root)
		return false;
	if (rlen == 1)
		rlen = 0; /* root "/": components start right after it */
	p = path + rlen;
	for (comps = 0; comps < m->cfg->depth && *p == '/'; comps++)
		p = strchrnul(p + 1, '/');
	if (comps < m->cfg->depth || (size_t)(p - path) >= m->outsz)
		return false;
	/*
	 * Exactly that deep, the path may name a file (/tmp/build/out.log, /tmp/x/qmp.sock): the
	 * filesystem is not asked, so a last component with a '.' (an extension) is taken for a
	 * file. Go's test dirs (/tmp/TestName123/001) have none.
	 */
	if (*p == '\0' && (m->deeper || (m->may_be_file && strchr(strrchr(path, '/'), '.'))))
		return false;
	memcpy(m->out, path, p - path);
	m->out[p - path] = '\0';
	return true;
}

bool testdir_from_argv(const struct testdir_cfg *cfg, const char *argv, size_t len, bool truncated,
		       char *out, size_t outsz)
{
	struct match m = { cfg, out, outsz, true, true };

	/* a fragment that goes on below the test dir proves it a directory; one exactly that
	 * deep may be a file (/tmp/build/out.log), and the filesystem is not asked */
	if (for_each_path(argv, len, truncated, match_path, &m))
		return true;
	m.deeper = false;
	return for_each_path(argv, len, truncated, match_path, &m);
}

bool testdir_from_path(const struct testdir_cfg *cfg, const char *path, char *out, size_t outsz)
{
	struct match m = { cfg, out, outsz, false, false };
	char norm[PATH_MAX];

	return path && path_normalize(path, strlen(path), norm, sizeof(norm)) &&
	       match_path(norm, &m);
}

static bool match_dir(const char *path, void *arg)
{
	return path_under(path, arg);
}

bool refs_dir(const char *argv, size_t len, bool truncated, const char *cwd, const char *dir)
{
	char norm[PATH_MAX];

	if (for_each_path(argv, len, truncated, match_dir, (void *)dir))
		return true;
	return cwd && path_normalize(cwd, strlen(cwd), norm, sizeof(norm)) && path_under(norm, dir);
}
