// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

struct json_object *jstrn(const char *s, size_t len)
{
	size_t n;
	char *clean = utf8_sanitize(s, len, &n);
	struct json_object *o = json_object_new_string_len(clean, n);

	free(clean);
	return o;
}

struct json_object *jstr(const char *s)
{
	return jstrn(s, strlen(s));
}

struct json_object *jstr_or_null(const char *s)
{
	return s ? jstr(s) : NULL;
}

struct json_object *jtime(uint64_t boot_ns)
{
	char buf[64];

	if (!boot_ns)
		return NULL;
	fmt_rfc3339(buf, sizeof(buf), boot_ns);
	return json_object_new_string(buf);
}

struct json_object *jargv(const char *argv, size_t len)
{
	struct json_object *a = json_object_new_array();
	size_t i = 0;

	while (i < len) {
		size_t n = strnlen(argv + i, len - i);

		json_object_array_add(a, jstrn(argv + i, n));
		i += n + 1;
	}
	return a;
}

void jwrite_at(FILE *f, struct json_object *o, int flags, int level)
{
	size_t len, done = 0;
	const char *s = json_object_to_json_string_length(o, flags, &len);

	/*
	 * Outside strings json-c writes ASCII only: every byte >= 0xc2 is in a string. A newline
	 * is never in one (json-c escapes it): it is the pretty form's, and the indent follows it.
	 */
	for (size_t i = 0; i < len; i++) {
		uint32_t cp;
		size_t n;

		if (s[i] == '\n' && level) {
			fwrite(s + done, 1, i + 1 - done, f);
			fprintf(f, "%*s", 2 * level, "");
			done = i + 1;
			continue;
		}
		if ((unsigned char)s[i] < 0xc2 || !(n = utf8_hidden_control(s + i, len - i, &cp)))
			continue;
		fwrite(s + done, 1, i - done, f);
		fprintf(f, "\\u%04x", cp);
		done = i + n;
		i = done - 1;
	}
	fwrite(s + done, 1, len - done, f);
}

void jwrite(FILE *f, struct json_object *o, int flags)
{
	jwrite_at(f, o, flags, 0);
}

struct json_object *jint(int64_t v)
{
	return json_object_new_int64(v);
}

const char *signal_name(int sig, char *buf, size_t len)
{
	static const char *const names[] = {
		[1] = "SIGHUP",	  [2] = "SIGINT",     [3] = "SIGQUIT",	[4] = "SIGILL",
		[5] = "SIGTRAP",  [6] = "SIGABRT",    [7] = "SIGBUS",	[8] = "SIGFPE",
		[9] = "SIGKILL",  [10] = "SIGUSR1",   [11] = "SIGSEGV", [12] = "SIGUSR2",
		[13] = "SIGPIPE", [14] = "SIGALRM",   [15] = "SIGTERM", [16] = "SIGSTKFLT",
		[17] = "SIGCHLD", [18] = "SIGCONT",   [19] = "SIGSTOP", [20] = "SIGTSTP",
		[21] = "SIGTTIN", [22] = "SIGTTOU",   [23] = "SIGURG",	[24] = "SIGXCPU",
		[25] = "SIGXFSZ", [26] = "SIGVTALRM", [27] = "SIGPROF", [28] = "SIGWINCH",
		[29] = "SIGIO",	  [30] = "SIGPWR",    [31] = "SIGSYS",
	};

	if (sig > 0 && sig < (int)(sizeof(names) / sizeof(names[0])))
		return names[sig];
	snprintf(buf, len, "SIG%d", sig);
	return buf;
}
