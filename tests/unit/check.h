/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal assertions for the unit tests: count, report, exit non-zero on any failure. */
#ifndef CIDTRACE_CHECK_H
#define CIDTRACE_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures, check_total;

#define CHECK(cond)                                                                               \
	do {                                                                                      \
		check_total++;                                                                    \
		if (!(cond)) {                                                                    \
			check_failures++;                                                         \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
		}                                                                                 \
	} while (0)

#define CHECK_STR(got, want)                                                                      \
	do {                                                                                      \
		const char *_g = (got), *_w = (want);                                              \
		check_total++;                                                                    \
		if ((_g == NULL) != (_w == NULL) || (_g && strcmp(_g, _w))) {                     \
			check_failures++;                                                         \
			fprintf(stderr, "%s:%d: got '%s', want '%s'\n", __FILE__, __LINE__,        \
				_g ? _g : "(null)", _w ? _w : "(null)");                          \
		}                                                                                 \
	} while (0)

static inline int check_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_total, check_failures);
	return check_failures ? 1 : 0;
}

#endif
