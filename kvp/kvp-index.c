/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvp-index.h"

/*
 * FNV-1a with a per-store random seed: keys come from the host and from
 * any local writer, so a fixed hash would let them be chosen to collide.
 */
static uint32_t key_hash(uint32_t seed, const char *key, size_t len)
{
	uint32_t h = 2166136261u ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)key[i];
		h *= 16777619u;
	}
	return h ^ (h >> 15);
}

void kvp_index_init(struct kvp_index *ix, uint32_t seed)
{
	memset(ix, 0, sizeof(*ix));
	ix->seed = seed;
}

void kvp_index_free(struct kvp_index *ix)
{
	size_t i;

	for (i = 0; i < ix->n; i++)
		free(ix->slots[i].key);
	free(ix->slots);
	free(ix->table);
	kvp_index_init(ix, ix->seed);
}

static ssize_t table_find(const struct kvp_index *ix, const char *key,
			  size_t len, uint32_t hash, size_t *ret_pos)
{
	size_t mask = ix->table_size - 1, pos;

	if (ix->table_size == 0)
		return -ENOENT;
	for (pos = hash & mask;; pos = (pos + 1) & mask) {
		uint32_t e = ix->table[pos];
		const struct kvp_index_slot *sl;

		if (e == 0) {
			if (ret_pos)
				*ret_pos = pos;
			return -ENOENT;
		}
		sl = &ix->slots[e - 1];
		if (sl->hash == hash && sl->len == len &&
		    memcmp(sl->key, key, len) == 0)
			return (ssize_t)(e - 1);
	}
}

/* Put slot i in the table unless an earlier slot has its key. */
static void table_insert(struct kvp_index *ix, size_t i)
{
	const struct kvp_index_slot *sl = &ix->slots[i];
	size_t pos = 0;

	if (table_find(ix, sl->key, sl->len, sl->hash, &pos) >= 0) {
		ix->ndup++;
		return;
	}
	ix->table[pos] = (uint32_t)(i + 1);
}

/* Rebuild the table, at least twice the slot count so probes stay short. */
static int table_rebuild(struct kvp_index *ix, size_t want)
{
	size_t size = 16, i;
	uint32_t *t;

	while (size < 2 * want)
		size *= 2;
	t = calloc(size, sizeof(*t));
	if (!t)
		return -ENOMEM;
	free(ix->table);
	ix->table = t;
	ix->table_size = size;
	ix->ndup = 0;
	for (i = 0; i < ix->n; i++)
		table_insert(ix, i);
	return 0;
}

int kvp_index_append(struct kvp_index *ix, const char *key, size_t len)
{
	struct kvp_index_slot *sl;
	char *copy;
	int r;

	if (len > UINT32_MAX || ix->n >= UINT32_MAX - 1)
		return -EFBIG;
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 64;
		struct kvp_index_slot *s =
			reallocarray(ix->slots, cap, sizeof(*s));

		if (!s)
			return -ENOMEM;
		ix->slots = s;
		ix->cap = cap;
	}
	if (2 * (ix->n + 1) > ix->table_size) {
		r = table_rebuild(ix, ix->n + 1);
		if (r < 0)
			return r;
	}
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, key, len);
	copy[len] = '\0';
	sl = &ix->slots[ix->n];
	sl->key = copy;
	sl->len = (uint32_t)len;
	sl->hash = key_hash(ix->seed, key, len);
	table_insert(ix, ix->n);
	ix->n++;
	return 0;
}

ssize_t kvp_index_find(const struct kvp_index *ix, const char *key, size_t len)
{
	return table_find(ix, key, len, key_hash(ix->seed, key, len), NULL);
}

int kvp_index_remove(struct kvp_index *ix, size_t slot)
{
	if (slot >= ix->n)
		return -ENOENT;
	free(ix->slots[slot].key);
	memmove(&ix->slots[slot], &ix->slots[slot + 1],
		(ix->n - slot - 1) * sizeof(ix->slots[0]));
	ix->n--;
	/* Every later slot number changed; the caller's compaction of the
	 * file is O(n) anyway, so rebuilding is no worse. */
	return table_rebuild(ix, ix->n);
}
