/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * In-memory index of one pool file: the key of every record slot, in file
 * order, and a hash table from key to the first slot holding it (the
 * reference daemon also acts on the first match). Values are not kept:
 * they are read from the file when asked for, which keeps a large pool's
 * memory small.
 */
#ifndef HVIS_KVP_INDEX_H
#define HVIS_KVP_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct kvp_index_slot {
	char *key; /* NUL-terminated copy */
	uint32_t len;
	uint32_t hash;
};

struct kvp_index {
	struct kvp_index_slot *slots;
	size_t n;
	size_t cap;
	uint32_t *table; /* slot + 1, 0 = empty; size is a power of two */
	size_t table_size;
	size_t ndup; /* slots whose key an earlier slot already has */
	uint32_t seed;
};

void kvp_index_init(struct kvp_index *ix, uint32_t seed);
void kvp_index_free(struct kvp_index *ix);
/* Add a slot at the end holding key[0..len) (len <= UINT32_MAX). */
int kvp_index_append(struct kvp_index *ix, const char *key, size_t len);
/* First slot holding key, or -ENOENT. */
ssize_t kvp_index_find(const struct kvp_index *ix, const char *key, size_t len);
/* Remove a slot; later slots move up by one. */
int kvp_index_remove(struct kvp_index *ix, size_t slot);

#endif
