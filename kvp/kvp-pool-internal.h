/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test hooks of the pool store; not for the daemon or the CLI. */
#ifndef HVIS_KVP_POOL_INTERNAL_H
#define HVIS_KVP_POOL_INTERNAL_H

#include <stdint.h>

#include "kvp-pool.h"

/*
 * Make the next mutation stop after writing bytes of its pool write and
 * fail with -ECANCELED, leaving the file torn and the journal in place, as
 * if the process had been killed there. A write the store does not journal
 * (it stays inside one page, which a kill cannot tear) is all or nothing:
 * there, any bytes short of the whole record mean none are written.
 */
void kvp_pool_test_tear(struct kvp_pool_store *s, uint64_t bytes);

/* What the store did per pool, so tests can tell the paths apart. */
struct kvp_pool_test_counts {
	uint64_t journal_looks; /* fstat() of the journal */
	uint64_t pool_stats; /* fstat() of the pool file (or stat of its path) */
	uint64_t journal_writes; /* mutations that wrote a journal */
};

int kvp_pool_test_get_counts(const struct kvp_pool_store *s, unsigned int pool,
			     struct kvp_pool_test_counts *ret);

#endif
