/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reader's tree: a report normalized against the table of its fields (reader.c builds
 * it). An object holds only the fields present and of their type, 16 bytes each; whatever
 * is absent takes no memory and reads as its empty value.
 */
#ifndef CIDTRACE_RTREE_H
#define CIDTRACE_RTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What a field holds once normalized, and what stands in for it when it is absent. */
enum ftype {
	T_STR, /* string or null */
	T_INT, /* integer, 0 when absent */
	T_INTN, /* integer or null */
	T_NUM, /* finite number, kept as written; 0 when absent */
	T_NUMN, /* finite number, kept as written, or null */
	T_BOOL, /* false when absent */
	T_TIME, /* RFC 3339 string or null; an unparsable time is null */
	T_OBJN, /* object of shape sub, or null: an absent object is not filled in */
	T_OBJO, /* object of shape sub, or absent: written only when present (trace.slice) */
	T_ARR, /* array of objects of shape sub; other elements dropped */
	T_STRS, /* array of strings; other elements dropped */
	T_STRSN, /* array of strings, or null */
	T_INTS, /* array of integers; other elements dropped */
	T_FINDINGS, /* array of objects, each shaped by its "kind" (struct schema.variant) */
};

/* One field of an object; a shape is an array of them ending with a NULL name. */
struct field {
	const char *name;
	enum ftype type;
	const struct field *sub;
	/* arrays: the most elements read (0: schema.array_max); more is refused */
	size_t max;
};

struct schema {
	const struct field *root;
	/* The shape of a T_FINDINGS element whose "kind" is kind (NULL: none, or not a string). */
	const struct field *(*variant)(const char *kind);
	/* elements per array unless its field says otherwise, and in all arrays together */
	size_t array_max, total_max;
};

/*
 * A value of the normalized tree. An object holds only the fields that are present, in the
 * order of its shape; each knows its place in the shape (field). Absent fields read as the
 * ftype says: rget returns NULL and rgets, rgeti, ... their empty value.
 */
enum rtype { R_NONE, R_BOOL, R_INT, R_NUM, R_STR, R_OBJ, R_ARR };

struct robj;

struct rv {
	uint8_t type; /* enum rtype */
	uint8_t field; /* in an object: the index of its field in the object's shape */
	uint32_t n; /* string length; members of an object; elements of an array */
	union {
		int64_t i; /* R_BOOL, R_INT */
		const char *s; /* R_STR, R_NUM (its text): NUL-terminated */
		const struct robj *o; /* R_OBJ: NULL when it has no member */
		const struct rv *a; /* R_ARR */
	};
};

struct robj {
	const struct field *shape;
	struct rv m[];
};

/* The tree and the memory it lives in. */
struct rtree {
	struct rv root;
	/* the time axis: the earliest and latest valid time anywhere in the tree, in µs */
	int64_t min_us, max_us;
	bool any_time;
	void **blocks;
	size_t nblocks, capblocks;
	char *chunk;
	size_t chunk_left;
};

/* Allocations larger than this get a block of their own; smaller ones share 64 KiB chunks. */
#define RTREE_BIG (4u << 10)

void rtree_free(struct rtree *t);
/* size bytes that live as long as the tree. */
void *rtree_alloc(struct rtree *t, size_t size);
/* Free the malloc'ed block p with the tree. */
void rtree_keep(struct rtree *t, void *p);
/* Set the time axis (min_us, max_us, any_time) from the times of the tree as it is now. */
void rtree_axis(struct rtree *t);
/*
 * A new object of shape: o's members (o may be NULL, or an object with no member), with
 * key's set to *val, or removed when val is NULL. o itself is not changed.
 */
struct rv rtree_set(struct rtree *t, const struct rv *o, const struct field *shape, const char *key,
		    const struct rv *val);

/* RFC 3339 UTC ("2026-11-27T03:42:36.123456Z") to µs since the epoch. */
bool parse_time(const char *s, int64_t *us);
/* The same, or with a numeric offset instead of Z ("2026-11-27T04:42:36+01:00"). */
bool parse_time_offset(const char *s, int64_t *us);
/* µs since the epoch (1970 to 9999) as RFC 3339 UTC with microseconds; len >= 28. */
void fmt_time(char *buf, size_t len, int64_t us);

/* Typed reads of a normalized object (NULL reads as an object with no field). */
const struct rv *rget(const struct rv *o, const char *key);
const char *rgets(const struct rv *o, const char *key);
int64_t rgeti(const struct rv *o, const char *key);
double rgetd(const struct rv *o, const char *key);
bool rgetb(const struct rv *o, const char *key);
bool rgett(const struct rv *o, const char *key, int64_t *us);
size_t rlen(const struct rv *o, const char *key);
const struct rv *ridx(const struct rv *o, const char *key, size_t i);
/* A string value itself, or NULL. */
const char *rstr(const struct rv *v);

/* The tree as JSON, every field of sc present, in json-c's pretty layout, streamed to f. */
void rtree_write_json(FILE *f, const struct rtree *t, const struct schema *sc);

#endif
