/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json-c constructors for the values cidtrace emits, and its one serializer. Every string
 * goes through utf8_sanitize, so hostile argv (invalid UTF-8, quotes, control characters)
 * always yields valid JSON.
 */
#ifndef CIDTRACE_JSON_H
#define CIDTRACE_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* Serialization flags for every document cidtrace writes. */
#define CT_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

struct json_object *jstr(const char *s);
struct json_object *jstrn(const char *s, size_t len);
/* A string, or null for NULL. */
struct json_object *jstr_or_null(const char *s);
/* RFC 3339 time, or null for 0. */
struct json_object *jtime(uint64_t boot_ns);
/* A NUL-separated argv as an array of strings. */
struct json_object *jargv(const char *argv, size_t len);
struct json_object *jint(int64_t v);
/*
 * Write o as JSON (flags: CT_JSON_FLAGS, maybe with JSON_C_TO_STRING_PRETTY) to f. json-c
 * writes C1 and bidi controls raw; here they are \u0085, \u202e escapes, so a document
 * shown on a terminal or page cannot hide or reorder text. Every JSON cidtrace prints or
 * writes goes through it.
 */
void jwrite(FILE *f, struct json_object *o, int flags);
/*
 * jwrite, each line after the first indented by level json-c indents (2 spaces): o as json-c
 * writes a member's value level deep in a pretty document, for a document written in parts.
 */
void jwrite_at(FILE *f, struct json_object *o, int flags, int level);
/* Signal name such as "SIGKILL", or "SIG<n>". */
const char *signal_name(int sig, char *buf, size_t len);

#endif
