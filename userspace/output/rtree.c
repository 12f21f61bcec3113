// SPDX-License-Identifier: GPL-2.0
/*
 * The reader's tree (rtree.h): typed reads of its objects, its JSON, and the time format
 * every time of a report has.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtree.h"
#include "util.h"

#define CHUNK (64u << 10)

void rtree_keep(struct rtree *t, void *p)
{
	if (t->nblocks == t->capblocks) {
		t->capblocks = t->capblocks ? t->capblocks * 2 : 16;
		t->blocks = xreallocarray(t->blocks, t->capblocks, sizeof(*t->blocks));
	}
	t->blocks[t->nblocks++] = p;
}

void *rtree_alloc(struct rtree *t, size_t size)
{
	void *p;

	size = (size + 7) & ~(size_t)7;
	if (size > RTREE_BIG) {
		p = xmalloc(size);
		rtree_keep(t, p);
		return p;
	}
	if (size > t->chunk_left) {
		t->chunk = xmalloc(CHUNK);
		rtree_keep(t, t->chunk);
		t->chunk_left = CHUNK;
	}
	p = t->chunk;
	t->chunk += size;
	t->chunk_left -= size;
	return p;
}

void rtree_free(struct rtree *t)
{
	for (size_t i = 0; i < t->nblocks; i++)
		free(t->blocks[i]);
	free(t->blocks);
	memset(t, 0, sizeof(*t));
}

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

#define MAX_TIME_S 253402300799LL /* 9999-12-31T23:59:59Z */

/*
 * RFC 3339 at s: "2026-11-27T03:42:36[.123456]" then "Z", or, when offsets, "+02:00" or
 * "-05:30" too. Digits past the microsecond are read and dropped.
 */
static bool rfc3339(const char *s, bool offsets, int64_t *us)
{
	struct tm tm = { 0 }, want, back;
	int64_t frac = 0, scale = 1000000, off = 0;
	time_t sec;
	size_t i = 19;

	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':')
		return false;
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 5, 2) - 1;
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	tm.tm_sec = digits(s + 17, 2);
	if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 || tm.tm_min < 0 ||
	    tm.tm_sec < 0)
		return false;
	if (s[i] == '.') {
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			if (scale > 1)
				frac += (s[i] - '0') * (scale /= 10);
		if (s[i - 1] == '.')
			return false;
	}
	if (offsets && (s[i] == '+' || s[i] == '-') && strlen(s + i) == 6 && s[i + 3] == ':') {
		int h = digits(s + i + 1, 2), m = digits(s + i + 4, 2);

		if (h < 0 || h > 23 || m < 0 || m > 59)
			return false;
		/* local time = UTC + offset */
		off = (s[i] == '+' ? -1 : 1) * (int64_t)(h * 3600 + m * 60);
	} else if (strcmp(s + i, "Z")) {
		return false;
	}
	/* timegm takes February 31st for March 3rd; a date it had to move is not a date */
	want = tm;
	sec = timegm(&tm);
	if (!gmtime_r(&sec, &back) || back.tm_mday != want.tm_mday || back.tm_mon != want.tm_mon ||
	    back.tm_hour != want.tm_hour || back.tm_min != want.tm_min ||
	    back.tm_sec != want.tm_sec)
		return false;
	sec += off;
	/* an offset can move a time before 1970 or past 9999, which no report time is */
	if (sec < 0 || sec > MAX_TIME_S)
		return false;
	*us = (int64_t)sec * 1000000 + frac;
	return true;
}

bool parse_time(const char *s, int64_t *us)
{
	return rfc3339(s, false, us);
}

bool parse_time_offset(const char *s, int64_t *us)
{
	return rfc3339(s, true, us);
}

void fmt_time(char *buf, size_t len, int64_t us)
{
	fmt_rfc3339_wall(buf, len, us * 1000);
}

/* ---- reading the tree -------------------------------------------------------------------- */

const struct rv *rget(const struct rv *o, const char *key)
{
	if (!o || o->type != R_OBJ || !o->o)
		return NULL;
	for (size_t i = 0; i < o->n; i++) {
		const char *name = o->o->shape[o->o->m[i].field].name;

		if (name[0] == key[0] && !strcmp(name, key))
			return &o->o->m[i];
	}
	return NULL;
}

const char *rstr(const struct rv *v)
{
	return v && v->type == R_STR ? v->s : NULL;
}

const char *rgets(const struct rv *o, const char *key)
{
	return rstr(rget(o, key));
}

int64_t rgeti(const struct rv *o, const char *key)
{
	const struct rv *v = rget(o, key);

	if (v && (v->type == R_INT || v->type == R_BOOL))
		return v->i;
	if (v && v->type == R_NUM && !strpbrk(v->s, ".eE"))
		return strtoll(v->s, NULL, 10);
	return 0;
}

double rgetd(const struct rv *o, const char *key)
{
	const struct rv *v = rget(o, key);

	if (v && v->type == R_INT)
		return (double)v->i;
	return v && v->type == R_NUM ? strtod(v->s, NULL) : 0;
}

bool rgetb(const struct rv *o, const char *key)
{
	const struct rv *v = rget(o, key);

	return v && v->type == R_BOOL && v->i;
}

bool rgett(const struct rv *o, const char *key, int64_t *us)
{
	const char *s = rgets(o, key);

	return s && parse_time(s, us);
}

size_t rlen(const struct rv *o, const char *key)
{
	const struct rv *v = rget(o, key);

	return v && v->type == R_ARR ? v->n : 0;
}

const struct rv *ridx(const struct rv *o, const char *key, size_t i)
{
	const struct rv *v = rget(o, key);

	return v && v->type == R_ARR && i < v->n ? &v->a[i] : NULL;
}

static void axis(struct rtree *t, const struct rv *v)
{
	int64_t us;

	if (v->type == R_ARR)
		for (size_t i = 0; i < v->n; i++)
			axis(t, &v->a[i]);
	if (v->type != R_OBJ || !v->o)
		return;
	for (size_t i = 0; i < v->n; i++) {
		const struct rv *m = &v->o->m[i];

		if (v->o->shape[m->field].type != T_TIME) {
			axis(t, m);
		} else if (parse_time(m->s, &us)) {
			if (!t->any_time || us < t->min_us)
				t->min_us = us;
			if (!t->any_time || us > t->max_us)
				t->max_us = us;
			t->any_time = true;
		}
	}
}

void rtree_axis(struct rtree *t)
{
	t->any_time = false;
	t->min_us = t->max_us = 0;
	axis(t, &t->root);
}

/* ---- changing it ------------------------------------------------------------------------- */

struct rv rtree_set(struct rtree *t, const struct rv *o, const struct field *shape, const char *key,
		    const struct rv *val)
{
	size_t k = 0, n = 0, j = 0;
	struct rv out = { .type = R_OBJ };
	struct robj *no;

	while (shape[k].name && strcmp(shape[k].name, key))
		k++;
	if (!shape[k].name)
		abort(); /* a field the shape does not have: a bug, not an input */
	if (o && o->type == R_OBJ && o->o)
		n = o->n;
	no = rtree_alloc(t, sizeof(*no) + (n + 1) * sizeof(no->m[0]));
	no->shape = shape;
	/* members stay in the order of the shape: those before key, key, those after */
	for (; j < n && o->o->m[j].field < k; j++)
		no->m[out.n++] = o->o->m[j];
	if (val && val->type != R_NONE) {
		no->m[out.n] = *val;
		no->m[out.n++].field = k;
	}
	for (j += j < n && o->o->m[j].field == k; j < n; j++)
		no->m[out.n++] = o->o->m[j];
	out.o = out.n ? no : NULL;
	return out;
}

/* ---- writing it -------------------------------------------------------------------------- */

/*
 * A JSON string as jwrite() writes it: json-c's escapes (JSON_C_TO_STRING_NOSLASHESCAPE), and
 * C1 and bidi controls as \u escapes, never raw.
 */
static void json_str(FILE *f, const char *s, size_t n)
{
	size_t run = 0;

	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t len;
		const char *e = c == '"'    ? "\\\""
				: c == '\\' ? "\\\\"
				: c == '\b' ? "\\b"
				: c == '\f' ? "\\f"
				: c == '\n' ? "\\n"
				: c == '\r' ? "\\r"
				: c == '\t' ? "\\t"
					    : NULL;

		if (c >= 0xc2 && (len = utf8_hidden_control(s + i, n - i, &cp))) {
			fwrite(s + run, 1, i - run, f);
			fprintf(f, "\\u%04x", cp);
			run = i + len;
			i = run - 1;
			continue;
		}
		if (!e && c >= 0x20)
			continue;
		fwrite(s + run, 1, i - run, f);
		run = i + 1;
		if (e)
			fputs(e, f);
		else
			fprintf(f, "\\u00%02x", c);
	}
	fwrite(s + run, 1, n - run, f);
	fputc('"', f);
}

static void write_obj(FILE *f, const struct schema *sc, const struct field *shape,
		      const struct rv *v, int level);

static void write_arr(FILE *f, const struct schema *sc, const struct field *fd, const struct rv *v,
		      int level)
{
	size_t n = v ? v->n : 0;

	fputs("[\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct rv *e = &v->a[i];

		fprintf(f, "%s%*s", i ? ",\n" : "", 2 * (level + 1), "");
		if (e->type == R_STR)
			json_str(f, e->s, e->n);
		else if (e->type == R_INT)
			fprintf(f, "%lld", (long long)e->i);
		else
			write_obj(f, sc,
				  e->o			   ? e->o->shape
				  : fd->type == T_FINDINGS ? sc->variant(NULL)
							   : fd->sub,
				  e, level + 1);
	}
	fprintf(f, "%s%*s]", n ? "\n" : "", 2 * level, "");
}

static void write_val(FILE *f, const struct schema *sc, const struct field *fd, const struct rv *v,
		      int level)
{
	switch (fd->type) {
	case T_STR:
	case T_TIME:
		if (v)
			json_str(f, v->s, v->n);
		else
			fputs("null", f);
		break;
	case T_INT:
		fprintf(f, "%lld", v ? (long long)v->i : 0LL);
		break;
	case T_INTN:
		if (v)
			fprintf(f, "%lld", (long long)v->i);
		else
			fputs("null", f);
		break;
	case T_NUM:
		fputs(v ? v->s : "0", f);
		break;
	case T_NUMN:
		fputs(v ? v->s : "null", f);
		break;
	case T_BOOL:
		fputs(v && v->i ? "true" : "false", f);
		break;
	case T_OBJN:
	case T_OBJO:
		if (v)
			write_obj(f, sc, fd->sub, v, level);
		else
			fputs("null", f);
		break;
	case T_STRSN:
		if (!v) {
			fputs("null", f);
			break;
		}
		/* fall through */
	default:
		write_arr(f, sc, fd, v, level);
	}
}

static void write_obj(FILE *f, const struct schema *sc, const struct field *shape,
		      const struct rv *v, int level)
{
	const char *sep = "";
	size_t j = 0;

	fputs("{\n", f);
	for (size_t i = 0; shape[i].name; i++) {
		const struct rv *m = NULL;

		if (v->o && j < v->n && v->o->m[j].field == i)
			m = &v->o->m[j++];
		if (shape[i].type == T_OBJO && !m)
			continue;
		fprintf(f, "%s%*s\"%s\":", sep, 2 * (level + 1), "", shape[i].name);
		sep = ",\n";
		write_val(f, sc, &shape[i], m, level + 1);
	}
	fprintf(f, "\n%*s}", 2 * level, "");
}

void rtree_write_json(FILE *f, const struct rtree *t, const struct schema *sc)
{
	write_obj(f, sc, sc->root, &t->root, 0);
}
