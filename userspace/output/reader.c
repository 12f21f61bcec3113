// SPDX-License-Identifier: GPL-2.0
/*
 * The report's reader: strict JSON (RFC 8259, plus json-c's NaN, Infinity and -Infinity, read
 * as numbers no field accepts) parsed twice. The first pass only checks the syntax and finds
 * the root's "schema"; the second normalizes the document against its field table, storing
 * each field that is present and of its type, and nothing else, in a compact tree.
 *
 * Memory: a stored value is a 16-byte struct rv; an object adds its shape pointer, an array
 * nothing. Strings, objects' members and small arrays live in 64 KiB chunks; large arrays
 * and strings in blocks of their own. What is skipped costs only time. So the tree takes at
 * most about five times the input (an array of "{}" elements, 16 bytes for every 3), and the
 * limits on elements per array and in all (struct schema) bound the work.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "util.h"

#define MAX_DEPTH  32 /* arrays and objects nested, as json-c's default */
#define MAX_FIELDS 32 /* fields of the largest shape */
#define KIND_MAX   64 /* a longer "kind" is of no kind this cidtrace knows */

struct vec {
	struct rv *v;
	size_t n, cap;
};

struct parser {
	const unsigned char *s;
	size_t len, pos;
	int depth;
	struct rtree *t;
	const struct schema *sc;
	struct vec arrays[MAX_DEPTH + 1]; /* the array being read at each depth */
	char *buf; /* the string just decoded, NUL-terminated */
	size_t cap;
	size_t total; /* array elements read so far */
	const char *field[MAX_DEPTH + 1]; /* an object's member being read, at its depth */
	const char *list[MAX_DEPTH + 1]; /* an array's field, at its depth; NULL for an object */
	char *err;
	size_t errlen;
};

static const struct field str_elem = { "", T_STR, NULL, 0 };
static const struct field int_elem = { "", T_INT, NULL, 0 };

/* ---- errors ------------------------------------------------------------------------------ */

/* A syntax error at the current byte; at the end of the input, the document is cut short. */
static bool fail(struct parser *p, const char *what)
{
	if (p->pos >= p->len)
		snprintf(p->err, p->errlen, "truncated JSON: it ends at byte %zu inside a value",
			 p->len);
	else
		snprintf(p->err, p->errlen, "not JSON: %s at byte %zu", what, p->pos);
	return false;
}

/* "processes[].argv[]": where the array being read sits. */
static bool too_many(struct parser *p, size_t max, bool total)
{
	char where[256] = "";
	size_t len = 0;

	for (int d = 1; d <= p->depth && len < sizeof(where); d++)
		if (p->list[d])
			len += snprintf(where + len, sizeof(where) - len, "%s%s[]", len ? "." : "",
					p->list[d]);
	if (total)
		snprintf(p->err, p->errlen,
			 "more than %zu array elements in all (at %s): larger than any report "
			 "cidtrace writes",
			 max, where);
	else
		snprintf(p->err, p->errlen,
			 "%s has more than %zu elements: larger than any report cidtrace writes",
			 where, max);
	return false;
}

/* ---- syntax ------------------------------------------------------------------------------ */

static int peek(struct parser *p)
{
	return p->pos < p->len ? p->s[p->pos] : -1;
}

static void ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static bool literal(struct parser *p, const char *word, const char *what)
{
	for (; *word; word++, p->pos++)
		if (p->pos >= p->len || p->s[p->pos] != (unsigned char)*word)
			return fail(p, what);
	return true;
}

static void reserve(struct parser *p, size_t n)
{
	if (n <= p->cap)
		return;
	p->cap = n > 2 * p->cap ? n : 2 * p->cap;
	p->buf = xrealloc(p->buf, p->cap);
}

static int hex4(const unsigned char *s)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		int c = s[i], d = c >= '0' && c <= '9'	 ? c - '0'
				  : c >= 'a' && c <= 'f' ? c - 'a' + 10
				  : c >= 'A' && c <= 'F' ? c - 'A' + 10
							 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = 0xc0 | cp >> 6;
		o[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = 0xe0 | cp >> 12;
		o[1] = 0x80 | (cp >> 6 & 0x3f);
		o[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	o[0] = 0xf0 | cp >> 18;
	o[1] = 0x80 | (cp >> 12 & 0x3f);
	o[2] = 0x80 | (cp >> 6 & 0x3f);
	o[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* \uXXXX, p->pos at the 'u'; a lone surrogate becomes U+FFFD, as in json-c. */
static bool unicode(struct parser *p, unsigned *cp)
{
	int v, lo;

	for (int i = 1; i <= 4; i++)
		if (p->pos + i >= p->len || !p->s[p->pos + i] ||
		    !strchr("0123456789abcdefABCDEF", p->s[p->pos + i])) {
			p->pos += i;
			return fail(p, "invalid string sequence");
		}
	v = hex4(p->s + p->pos + 1);
	p->pos += 5;
	*cp = v;
	if (v >= 0xdc00 && v <= 0xdfff) {
		*cp = 0xfffd;
	} else if (v >= 0xd800 && v <= 0xdbff) {
		/* the low half must follow at once */
		if (p->len - p->pos >= 6 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u' &&
		    (lo = hex4(p->s + p->pos + 2)) >= 0xdc00 && lo <= 0xdfff) {
			*cp = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
			p->pos += 6;
		} else {
			*cp = 0xfffd;
		}
	}
	return true;
}

/*
 * The string at p->pos: decoded into p->buf when keep (NUL-terminated, its length in *n),
 * else only checked. Bytes other than '"', '\\' and NUL are taken as they are; the caller
 * makes them valid UTF-8.
 */
static bool string(struct parser *p, bool keep, size_t *n)
{
	size_t o = 0;

	p->pos++;
	for (;;) {
		size_t run = p->pos;
		unsigned cp;

		while (run < p->len && p->s[run] != '"' && p->s[run] != '\\' && p->s[run])
			run++;
		if (keep) {
			reserve(p, o + (run - p->pos) + 5);
			memcpy(p->buf + o, p->s + p->pos, run - p->pos);
			o += run - p->pos;
		}
		p->pos = run;
		if (p->pos >= p->len)
			return fail(p, NULL);
		if (!p->s[p->pos])
			return fail(p, "NUL byte"); /* json-c stops there: so does this reader */
		if (p->s[p->pos] == '"') {
			p->pos++;
			break;
		}
		if (++p->pos >= p->len)
			return fail(p, NULL);
		switch (p->s[p->pos]) {
		case '"':
		case '\\':
		case '/':
			cp = p->s[p->pos++];
			break;
		case 'b':
			cp = '\b', p->pos++;
			break;
		case 'f':
			cp = '\f', p->pos++;
			break;
		case 'n':
			cp = '\n', p->pos++;
			break;
		case 'r':
			cp = '\r', p->pos++;
			break;
		case 't':
			cp = '\t', p->pos++;
			break;
		case 'u':
			if (!unicode(p, &cp))
				return false;
			break;
		default:
			return fail(p, "invalid string sequence");
		}
		if (keep)
			o += put_utf8(p->buf + o, cp);
	}
	if (keep) {
		reserve(p, o + 1);
		p->buf[o] = '\0';
		*n = o;
	}
	return true;
}

/* ---- values ------------------------------------------------------------------------------ */

static const char *copy(struct parser *p, const char *s, size_t n)
{
	char *c;

	if (!n)
		return "";
	c = rtree_alloc(p->t, n + 1);
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

/* p->buf (n bytes) as valid UTF-8, every invalid byte and NUL replaced by U+FFFD. */
static void store_str(struct parser *p, size_t n, struct rv *out)
{
	size_t i = 0, m;
	char *clean;

	while (i < n && (unsigned char)(p->buf[i] - 1) < 0x7f)
		i++;
	out->type = R_STR;
	if (i == n) { /* ASCII without NUL: valid as it is */
		out->n = n;
		out->s = copy(p, p->buf, n);
		return;
	}
	clean = utf8_sanitize(p->buf, n, &m);
	out->n = m;
	if (m + 1 > RTREE_BIG) {
		clean = xrealloc(clean, m + 1);
		rtree_keep(p->t, clean);
		out->s = clean;
	} else {
		out->s = copy(p, clean, m);
		free(clean);
	}
}

static bool string_value(struct parser *p, const struct field *f, struct rv *out)
{
	bool keep = f && (f->type == T_STR || f->type == T_TIME);
	int64_t us;
	size_t n;

	if (!string(p, keep, &n))
		return false;
	if (keep && f->type == T_STR) {
		store_str(p, n, out);
	} else if (keep && parse_time(p->buf, &us)) {
		/* a valid time is ASCII; what follows a NUL is not part of it */
		out->type = R_STR;
		out->n = strlen(p->buf);
		out->s = copy(p, p->buf, out->n);
	}
	return true;
}

static bool number(struct parser *p, const struct field *f, struct rv *out)
{
	size_t start = p->pos, n;
	bool dbl = false, num, neg = peek(p) == '-';
	char *tok;

	p->pos += neg;
	if (peek(p) == 'I')
		return literal(p, "Infinity", "number expected");
	if (peek(p) == '0')
		p->pos++;
	else if (peek(p) >= '1' && peek(p) <= '9')
		while (peek(p) >= '0' && peek(p) <= '9')
			p->pos++;
	else
		return fail(p, "number expected");
	if (peek(p) == '.') {
		dbl = true;
		p->pos++;
		if (!(peek(p) >= '0' && peek(p) <= '9'))
			return fail(p, "number expected");
		while (peek(p) >= '0' && peek(p) <= '9')
			p->pos++;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		dbl = true;
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (!(peek(p) >= '0' && peek(p) <= '9'))
			return fail(p, "number expected");
		while (peek(p) >= '0' && peek(p) <= '9')
			p->pos++;
	}
	num = f && (f->type == T_NUM || f->type == T_NUMN);
	if (!f || (f->type != T_INT && f->type != T_INTN && !num))
		return true;
	if (dbl && !num)
		return true;
	n = p->pos - start;
	reserve(p, n + 1);
	tok = memcpy(p->buf, p->s + start, n);
	tok[n] = '\0';
	if (dbl) {
		/* kept as written: its text survives a round trip unchanged */
		if (isfinite(strtod(tok, NULL))) {
			out->type = R_NUM;
			out->n = n;
			out->s = copy(p, tok, n);
		}
		return true;
	}
	/* json-c's integers: clamped to int64, or to uint64 when not negative */
	if (neg) {
		out->i = strtoll(tok, NULL, 10);
	} else {
		unsigned long long u = strtoull(tok, NULL, 10);

		if (u > INT64_MAX && num) {
			char text[24];

			out->type = R_NUM;
			out->n = snprintf(text, sizeof(text), "%llu", u);
			out->s = copy(p, text, out->n);
			return true;
		}
		out->i = u > INT64_MAX ? INT64_MAX : (int64_t)u;
	}
	if (num) {
		char text[24];

		out->type = R_NUM;
		out->n = snprintf(text, sizeof(text), "%lld", (long long)out->i);
		out->s = copy(p, text, out->n);
	} else if (out->i || f->type == T_INTN) {
		out->type = R_INT;
	}
	return true;
}

static bool value(struct parser *p, const struct field *f, struct rv *out);

/* The last "kind" string of the object at p->pos, which is left where it was. */
static bool find_kind(struct parser *p, char kind[KIND_MAX], bool *have)
{
	size_t save = p->pos, n;
	struct rv skip;

	*have = false;
	p->pos++;
	p->depth++;
	ws(p);
	while (peek(p) == '"') {
		bool is_kind;

		if (!string(p, true, &n))
			return false;
		is_kind = n == 4 && !memcmp(p->buf, "kind", 4);
		ws(p);
		p->pos++; /* ':' (checked by the first pass) */
		ws(p);
		if (is_kind && peek(p) == '"') {
			if (!string(p, true, &n))
				return false;
			n = strnlen(p->buf, n);
			*have = n < KIND_MAX;
			if (*have)
				memcpy(kind, p->buf, n + 1);
		} else {
			if (is_kind)
				*have = false;
			if (!value(p, NULL, &skip))
				return false;
		}
		ws(p);
		if (peek(p) == ',')
			p->pos++;
		ws(p);
	}
	p->depth--;
	p->pos = save;
	return true;
}

static bool object(struct parser *p, const struct field *shape, struct rv *out)
{
	struct rv slot[MAX_FIELDS], skip;
	size_t nf = 0, n, present = 0;
	struct robj *o;

	while (shape && shape[nf].name)
		nf++;
	if (nf > MAX_FIELDS)
		abort(); /* a shape this reader was not built for */
	memset(slot, 0, nf * sizeof(slot[0]));
	p->pos++;
	p->list[++p->depth] = NULL;
	ws(p);
	if (peek(p) == '}') {
		p->pos++;
		goto done;
	}
	for (;;) {
		size_t i = nf;

		ws(p);
		if (peek(p) != '"')
			return fail(p, "quoted object property name expected");
		if (!string(p, shape != NULL, &n))
			return false;
		for (size_t k = 0; shape && k < nf; k++)
			if (strlen(shape[k].name) == n && !memcmp(shape[k].name, p->buf, n))
				i = k;
		ws(p);
		if (peek(p) != ':')
			return fail(p, "object property name separator ':' expected");
		p->pos++;
		if (i < nf) {
			/* a repeated field: the last one counts, as in json-c */
			memset(&slot[i], 0, sizeof(slot[i]));
			p->field[p->depth] = shape[i].name;
			if (!value(p, &shape[i], &slot[i]))
				return false;
		} else if (!value(p, NULL, &skip)) {
			return false;
		}
		ws(p);
		if (peek(p) == ',') {
			p->pos++;
		} else if (peek(p) == '}') {
			p->pos++;
			break;
		} else {
			return fail(p, "object value separator ',' expected");
		}
	}
done:
	p->depth--;
	if (!shape)
		return true;
	out->type = R_OBJ;
	out->n = 0;
	out->o = NULL;
	for (size_t i = 0; i < nf; i++)
		present += slot[i].type != R_NONE;
	if (!present)
		return true;
	o = rtree_alloc(p->t, sizeof(*o) + present * sizeof(o->m[0]));
	o->shape = shape;
	for (size_t i = 0; i < nf; i++) {
		if (slot[i].type == R_NONE)
			continue;
		slot[i].field = i;
		o->m[out->n++] = slot[i];
	}
	out->o = o;
	return true;
}

/* An element of the array f describes: stored when it is of the element type, else skipped. */
static bool element(struct parser *p, const struct field *f, struct rv *e)
{
	char kind[KIND_MAX];
	bool have;

	ws(p);
	if (peek(p) == '{' && p->depth + 1 > MAX_DEPTH)
		return fail(p, "nesting too deep");
	if (f->type == T_ARR && peek(p) == '{')
		return object(p, f->sub, e);
	if (f->type == T_FINDINGS && peek(p) == '{') {
		return find_kind(p, kind, &have) &&
		       object(p, p->sc->variant(have ? kind : NULL), e);
	}
	if ((f->type == T_STRS || f->type == T_STRSN) && peek(p) == '"')
		return string_value(p, &str_elem, e);
	if (f->type == T_INTS)
		return value(p, &int_elem, e);
	return value(p, NULL, e);
}

/* The array at p->pos; f: the field it is read for, or NULL to only check it. */
static bool array(struct parser *p, const struct field *f, struct rv *out)
{
	size_t max = f && f->max ? f->max : p->sc ? p->sc->array_max : 0, count = 0;
	struct vec *v;
	struct rv e;

	p->pos++;
	v = &p->arrays[++p->depth];
	p->list[p->depth] = p->field[p->depth - 1];
	ws(p);
	if (peek(p) == ']') {
		p->pos++;
		goto done;
	}
	for (;;) {
		if (f && ++count > max)
			return too_many(p, max, false);
		if (f && ++p->total > p->sc->total_max)
			return too_many(p, p->sc->total_max, true);
		memset(&e, 0, sizeof(e));
		if (!(f ? element(p, f, &e) : value(p, NULL, &e)))
			return false;
		if (e.type != R_NONE) {
			if (v->n == v->cap) {
				v->cap = v->cap ? v->cap * 2 : 16;
				v->v = xreallocarray(v->v, v->cap, sizeof(*v->v));
			}
			v->v[v->n++] = e;
		}
		ws(p);
		if (peek(p) == ',') {
			p->pos++;
		} else if (peek(p) == ']') {
			p->pos++;
			break;
		} else {
			return fail(p, "array value separator ',' expected");
		}
	}
done:
	p->depth--;
	if (!f)
		return true;
	out->type = R_ARR;
	out->n = v->n;
	out->a = NULL;
	if (v->n * sizeof(*v->v) > RTREE_BIG) {
		/* the vector itself becomes the array: no copy of a large one */
		out->a = xreallocarray(v->v, v->n, sizeof(*v->v));
		rtree_keep(p->t, (void *)out->a);
		v->v = NULL;
		v->cap = 0;
	} else if (v->n) {
		struct rv *a = rtree_alloc(p->t, v->n * sizeof(*v->v));

		memcpy(a, v->v, v->n * sizeof(*v->v));
		out->a = a;
	}
	v->n = 0;
	return true;
}

/* Any value; stored in *out when f wants it and it is of f's type, else only checked. */
static bool value(struct parser *p, const struct field *f, struct rv *out)
{
	bool is_array = f && (f->type == T_ARR || f->type == T_STRS || f->type == T_STRSN ||
			      f->type == T_INTS || f->type == T_FINDINGS);

	ws(p);
	switch (peek(p)) {
	case '{':
	case '[':
		if (p->depth + 1 > MAX_DEPTH)
			return fail(p, "nesting too deep");
		if (peek(p) == '{')
			return object(p,
				      f && (f->type == T_OBJN || f->type == T_OBJO) ? f->sub : NULL,
				      out);
		return array(p, is_array ? f : NULL, out);
	case '"':
		return string_value(p, f, out);
	case 't':
		if (f && f->type == T_BOOL) {
			out->type = R_BOOL;
			out->i = 1;
		}
		return literal(p, "true", "boolean expected");
	case 'f':
		return literal(p, "false", "boolean expected");
	case 'n':
		return literal(p, "null", "null expected");
	case 'N':
		return literal(p, "NaN", "NaN expected");
	case 'I':
	case '-':
	case '0' ... '9':
		return number(p, f, out);
	default:
		return fail(p, peek(p) ? "unexpected character" : "NUL byte");
	}
}

/* ---- the document ------------------------------------------------------------------------ */

static bool document(struct parser *p, const struct field *root)
{
	if (!value(p, root, &p->t->root))
		return false;
	ws(p);
	if (p->pos < p->len)
		return fail(p, "unexpected character");
	return true;
}

int reader_parse(const char *buf, size_t len, const struct schema *sc,
		 bool (*want_schema)(const char *schema, char *err, size_t errlen), struct rtree *t,
		 char *err, size_t errlen)
{
	/* the first pass reads the root's schema alone */
	static const struct field probe_f[] = { { "schema", T_STR, NULL, 0 }, { 0 } };
	static const struct field probe = { "", T_OBJN, probe_f, 0 };
	struct parser p = {
		.s = (const unsigned char *)buf, .len = len, .t = t, .err = err, .errlen = errlen
	};
	struct field root = { "", T_OBJN, sc->root, 0 };
	bool ok;

	memset(t, 0, sizeof(*t));
	ok = document(&p, &probe);
	if (ok && t->root.type != R_OBJ) {
		snprintf(err, errlen, "not a cidtrace report: the document is not a JSON object");
		ok = false;
	}
	ok = ok && want_schema(rgets(&t->root, "schema"), err, errlen);
	rtree_free(t);
	if (ok) {
		p.pos = 0;
		p.sc = sc;
		ok = document(&p, &root);
	}
	for (int d = 0; d <= MAX_DEPTH; d++)
		free(p.arrays[d].v);
	free(p.buf);
	if (!ok) {
		rtree_free(t);
		return -1;
	}
	rtree_axis(t);
	return 0;
}
