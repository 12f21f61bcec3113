/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared, reference-counted copies of the strings processes carry (exe, cwd, argv, test dir).
 * A CI job runs the same few commands in the same few directories thousands of times: each
 * distinct string is stored once, so a kept process costs its table entry, not its strings.
 */
#ifndef CIDTRACE_INTERN_H
#define CIDTRACE_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct istr;

struct intern {
	struct istr **slots; /* open addressing, linear probing; NULL: empty */
	size_t nslots; /* a power of two, at least twice count */
	size_t count;
	uint64_t seed; /* random per process: colliding strings cannot be prepared in advance */
};

void intern_init(struct intern *t);
/* Frees the table and every string still in it. */
void intern_free(struct intern *t);
/* A shared copy of the len bytes at s, NUL-terminated after them, holding one reference. */
const char *intern_get(struct intern *t, const void *s, size_t len);
/* One more reference to a string intern_get returned; NULL stays NULL. */
const char *intern_ref(const char *s);
/* Drop one reference to s (NULL: nothing); the last one frees it. */
void intern_put(struct intern *t, const char *s);

#endif
