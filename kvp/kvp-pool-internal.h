/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test hooks of the pool store; not for the daemon or the CLI. */
#ifndef HVIS_KVP_POOL_INTERNAL_H
#define HVIS_KVP_POOL_INTERNAL_H

#include <stdint.h>

#include "kvp-pool.h"

/*
 * Make the next mutation stop after writing bytes of its pool write and
 * fail with -ECANCELED, leaving the file torn and the journal in place, as
 * if the process had been killed there.
 */
void kvp_pool_test_tear(struct kvp_pool_store *s, uint64_t bytes);

#endif
