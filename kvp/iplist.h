/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A ';'-separated list built in a fixed buffer, as the GET_IP_INFO
 * fields carry them (protocol.md §3.5): an item goes in whole or not at
 * all, so the host never parses half an address. Once an item has not
 * fit, the list is full and refuses every later one, so lists filled in
 * lockstep (ip_addr and sub_net) stay paired and no later, shorter item
 * jumps the queue.
 */
#ifndef HVIS_KVP_IPLIST_H
#define HVIS_KVP_IPLIST_H

#include <stdbool.h>
#include <stddef.h>

struct iplist {
	char *buf; /* always NUL-terminated */
	size_t size; /* of buf, NUL included */
	size_t len;
	unsigned int n; /* items */
	bool full;
};

/* Start an empty list in buf[size] (size > 0). */
void iplist_init(struct iplist *l, char *buf, size_t size);

/* Would item fit now? False once the list is full, or for "" or ';'. */
bool iplist_fits(const struct iplist *l, const char *item);

/*
 * Append item. 0 on success; -E2BIG if it does not fit (the list is full
 * from then on); -EINVAL for an empty item or one containing ';'.
 */
int iplist_add(struct iplist *l, const char *item);

/* Is item already one of the list's items (exact match)? */
bool iplist_has(const struct iplist *l, const char *item);

/* iplist_add() unless already listed (then 0, nothing added). */
int iplist_add_unique(struct iplist *l, const char *item);

#endif
