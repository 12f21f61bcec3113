// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "intern.h"
#include "util.h"

#define MIN_SLOTS 256

struct istr {
	uint32_t refs;
	uint32_t len;
	uint64_t hash;
	char s[];
};

static struct istr *entry_of(const char *s)
{
	return (struct istr *)(s - offsetof(struct istr, s));
}

/* 8 bytes at a time, mixed as splitmix64 does; seeded, so not predictable from outside. */
static uint64_t hash(uint64_t seed, const unsigned char *p, size_t len)
{
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ull);

	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = 0;

		memcpy(&w, p + i, len - i < 8 ? len - i : 8);
		h ^= w;
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 29);
}

void intern_init(struct intern *t)
{
	memset(t, 0, sizeof(*t));
	t->nslots = MIN_SLOTS;
	t->slots = xcalloc(t->nslots, sizeof(*t->slots));
	/* no entropy yet (early boot): the table's own address, which is not known outside */
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uintptr_t)t->slots;
}

void intern_free(struct intern *t)
{
	for (size_t i = 0; i < t->nslots; i++)
		free(t->slots[i]);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static void grow(struct intern *t)
{
	size_t n = t->nslots * 2, mask = n - 1;
	struct istr **slots = xcalloc(n, sizeof(*slots));

	for (size_t i = 0; i < t->nslots; i++) {
		struct istr *e = t->slots[i];
		size_t j;

		if (!e)
			continue;
		for (j = e->hash & mask; slots[j]; j = (j + 1) & mask)
			;
		slots[j] = e;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
}

const char *intern_get(struct intern *t, const void *s, size_t len)
{
	uint64_t h;
	size_t mask, i;
	struct istr *e;

	if (len > UINT32_MAX)
		len = UINT32_MAX; /* no caller comes near: argv and paths are bounded by the BPF side */
	h = hash(t->seed, s, len);
	mask = t->nslots - 1;
	for (i = h & mask; (e = t->slots[i]); i = (i + 1) & mask) {
		if (e->hash == h && e->len == len && !memcmp(e->s, s, len)) {
			e->refs++;
			return e->s;
		}
	}
	e = xmalloc(sizeof(*e) + len + 1);
	e->refs = 1;
	e->len = len;
	e->hash = h;
	memcpy(e->s, s, len);
	e->s[len] = '\0';
	t->slots[i] = e;
	if (++t->count * 2 > t->nslots)
		grow(t);
	return e->s;
}

const char *intern_ref(const char *s)
{
	if (s)
		entry_of(s)->refs++;
	return s;
}

/* Linear probing's deletion: move later entries of the run back so no lookup stops early. */
static void remove_slot(struct intern *t, size_t i)
{
	size_t mask = t->nslots - 1, j = i;

	t->slots[i] = NULL;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!t->slots[j])
			return;
		home = t->slots[j]->hash & mask;
		/* the entry at j may fill the hole at i unless its home lies in (i, j] */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j] = NULL;
		i = j;
	}
}

void intern_put(struct intern *t, const char *s)
{
	struct istr *e;
	size_t mask, i;

	if (!s)
		return;
	e = entry_of(s);
	if (--e->refs)
		return;
	mask = t->nslots - 1;
	for (i = e->hash & mask; t->slots[i] != e; i = (i + 1) & mask)
		;
	remove_slot(t, i);
	t->count--;
	free(e);
}
