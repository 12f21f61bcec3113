// SPDX-License-Identifier: GPL-2.0
/* JSON strings, terminal escaping and atomic report writes. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "json.h"
#include "util.h"

static const char *to_json(struct json_object *o)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s", json_object_to_json_string_ext(o, CT_JSON_FLAGS));
	json_object_put(o);
	return buf;
}

/* o as jwrite writes it */
static const char *written(struct json_object *o)
{
	static char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	jwrite(f, o, CT_JSON_FLAGS);
	fclose(f);
	json_object_put(o);
	return buf;
}

static const char *escaped(const char *s, size_t len)
{
	static char buf[1024];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	fput_escaped(f, s, len);
	fclose(f);
	return buf;
}

static char *slurp(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int fail_midway(FILE *f, void *ctx)
{
	fputs("half", f);
	return -ENOSPC;
}

static int put_text(FILE *f, void *ctx)
{
	fputs(ctx, f);
	return 0;
}

/*
 * A child that arms atomic_exit_on(SIGUSR1), opens an atomic write of path and waits there;
 * SIGUSR1 then. Returns its exit status (-1: not an exit).
 */
static int killed_writer(const char *path)
{
	int go[2], status = 0;
	struct atomic_file af;
	pid_t pid;
	char c;

	if (pipe(go))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(go[0]);
		if (atomic_exit_on(SIGUSR1, 7) || atomic_open(path, &af))
			_exit(1);
		fputs("never renamed", af.f);
		fflush(af.f);
		if (write(go[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(go[1]);
	if (pid < 0 || read(go[0], &c, 1) != 1 || kill(pid, SIGUSR1) ||
	    waitpid(pid, &status, 0) != pid)
		status = -1;
	close(go[0]);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* o written 2 levels deep by jwrite_at is what json-c writes as that member's value */
static void check_indent(void)
{
	struct json_object *inner = json_tokener_parse("{\"a\":[1,{\"b\":null}],\"c\":\"\\n\"}");
	struct json_object *outer = json_object_new_object(), *mid = json_object_new_object();
	const int pretty = CT_JSON_FLAGS | JSON_C_TO_STRING_PRETTY;
	char buf[4096], *want;
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	json_object_object_add(mid, "x", json_object_get(inner));
	json_object_object_add(outer, "m", mid);
	fputs("{\n  \"m\":{\n    \"x\":", f);
	jwrite_at(f, inner, pretty, 2);
	fputs("\n  }\n}", f);
	fclose(f);
	want = strdup(json_object_to_json_string_ext(outer, pretty));
	CHECK_STR(buf, want);
	free(want);
	json_object_put(inner);
	json_object_put(outer);
}

int main(void)
{
	char dir[] = "/tmp/cidtrace-unit.XXXXXX", path[256], link[256], log[256];
	struct json_object *parsed;
	struct stat st;
	int fd;

	/* invalid UTF-8 becomes U+FFFD; quotes, backslashes and controls are escaped */
	CHECK_STR(to_json(jstrn("a\xff\"b\\\n", 6)), "\"a\xef\xbf\xbd\\\"b\\\\\\n\"");
	/* overlong encoding and a lone surrogate are invalid */
	CHECK_STR(to_json(jstrn("\xc0\xaf\xed\xa0\x80", 5)),
		  "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	/* valid multibyte text survives; slashes are not escaped */
	CHECK_STR(to_json(jstr("/ci/caf\xc3\xa9/\xf0\x9f\x90\xa7")),
		  "\"/ci/caf\xc3\xa9/\xf0\x9f\x90\xa7\"");
	CHECK_STR(to_json(jargv("a\0b c\0", 6)), "[\"a\",\"b c\"]");
	CHECK_STR(to_json(jargv("", 0)), "[]");
	/* whatever goes in, json-c can read back */
	parsed = json_tokener_parse(to_json(jstrn("\x01\x7f\x80\xfe<script>", 13)));
	CHECK(parsed != NULL);
	json_object_put(parsed);

	/* terminal text: no raw controls, no escape sequences, C1 controls escaped */
	CHECK_STR(escaped("a\nb\x1b[31m", 8), "a\\nb\\x1b[31m");
	CHECK_STR(escaped("t\\\t\xc2\x9b\xc3\xa9", 7), "t\\\\\\t\\xc2\\x9b\xc3\xa9");
	CHECK_STR(escaped("\xff", 1), "\\xff");
	/* bidi controls cannot reorder a line: each becomes \uXXXX; other text stays */
	CHECK_STR(escaped("a\xe2\x80\xae"
			  "b\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c",
			  19),
		  "a\\u202eb\\u2066\\u2069\\u200e\\u200f\\u061c");
	CHECK_STR(escaped("\xe2\x80\xaa\xe2\x80\xad\xe2\x80\x94\xe2\x81\xa5", 12),
		  "\\u202a\\u202d\xe2\x80\x94\xe2\x81\xa5");

	/* JSON: C1 and bidi controls as \u escapes (json-c leaves them raw), and read back */
	CHECK_STR(written(jstr("x\xc2\x85\xc2\x9b[\xe2\x80\xae\xc2\xa0\xe2\x81\xa9")),
		  "\"x\\u0085\\u009b[\\u202e\xc2\xa0\\u2069\"");
	parsed = json_tokener_parse(written(jargv("\xc2\x80\0\xd8\x9c", 5)));
	CHECK(parsed &&
	      !strcmp(json_object_get_string(json_object_array_get_idx(parsed, 0)), "\xc2\x80") &&
	      !strcmp(json_object_get_string(json_object_array_get_idx(parsed, 1)), "\xd8\x9c"));
	json_object_put(parsed);

	check_indent();

	/* atomic writes replace the file, never follow a symlink, and refuse directories */
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/report.json", dir);
	CHECK(atomic_write_probe(path) == 0);
	CHECK(access(path, F_OK) != 0); /* the probe leaves nothing behind */
	CHECK(atomic_write(path, "one", 3) == 0);
	CHECK_STR(slurp(path), "one");
	CHECK(atomic_write(path, "two", 3) == 0);
	CHECK_STR(slurp(path), "two");
	snprintf(link, sizeof(link), "%s/victim", dir);
	CHECK(atomic_write(link, "keep", 4) == 0);
	unlink(path);
	CHECK(symlink(link, path) == 0);
	CHECK(atomic_write(path, "new", 3) == 0);
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode)); /* the link itself was replaced */
	CHECK_STR(slurp(link), "keep");
	CHECK(atomic_write(dir, "x", 1) < 0);
	CHECK(atomic_write_probe("/nonexistent-dir/r.json") < 0);
	/* private: 0600 even over a world-readable file, whatever the umask allows */
	CHECK(chmod(link, 0644) == 0);
	umask(022);
	CHECK(atomic_write(link, "k", 1) == 0);
	CHECK(stat(link, &st) == 0 && (st.st_mode & 07777) == 0600);
	/* private_create: replaces what was there (a symlink too) with a new empty 0600 file */
	CHECK(chmod(link, 0644) == 0);
	unlink(path);
	CHECK(symlink(link, path) == 0);
	fd = private_create(path);
	CHECK(fd >= 0 && write(fd, "raw", 3) == 3);
	close(fd);
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600);
	CHECK_STR(slurp(path), "raw");
	CHECK_STR(slurp(link), "k");
	CHECK(private_create(dir) < 0);
	/* private_append (--log): appends to cidtrace's own file, creates a 0600 one, and takes
	 * no symlink, hard link, FIFO, directory or other user's file */
	fd = private_append(path);
	CHECK(fd >= 0 && write(fd, "+1", 2) == 2);
	close(fd);
	CHECK_STR(slurp(path), "raw+1");
	snprintf(log, sizeof(log), "%s/live.log", dir);
	fd = private_append(log);
	CHECK(fd >= 0 && write(fd, "a", 1) == 1);
	close(fd);
	CHECK(stat(log, &st) == 0 && (st.st_mode & 07777) == 0600);
	unlink(log);
	CHECK(symlink(link, log) == 0);
	CHECK(private_append(log) == -ELOOP);
	CHECK_STR(slurp(link), "k");
	unlink(log);
	CHECK(linkat(AT_FDCWD, link, AT_FDCWD, log, 0) == 0); /* `link` names the victim here */
	CHECK(private_append(log) == -EPERM);
	unlink(log);
	CHECK(mkfifo(log, 0600) == 0);
	CHECK(private_append(log) == -EINVAL);
	unlink(log);
	CHECK(private_append(dir) < 0);
	if (geteuid() == 0) {
		CHECK(chown(link, 65534, 65534) == 0);
		CHECK(private_append(link) == -EPERM);
		CHECK(chown(link, 0, 0) == 0);
	}
	/* a streamed write that fails leaves the target as it was, and no temp file */
	CHECK(atomic_write_stream(link, fail_midway, NULL) == -ENOSPC);
	CHECK_STR(slurp(link), "k");
	CHECK(atomic_write_stream(link, put_text, "streamed") == 0);
	CHECK_STR(slurp(link), "streamed");
	/* a writer told to stop (its parent died) takes its temp file with it */
	CHECK(killed_writer(link) == 7);
	CHECK_STR(slurp(link), "streamed");
	/* no temp file is left behind: the directory holds report.json and victim */
	snprintf(path, sizeof(path), "ls -A %s | grep -c . | grep -qx 2", dir);
	CHECK(system(path) == 0);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);

	return check_done("test_output");
}
