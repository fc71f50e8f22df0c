/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The IP operations of the kernel <-> daemon KVP message (protocol.md
 * §3.2, §3.5, §3.6): GET_IP_INFO and SET_IP_INFO carry a
 * struct hv_kvp_ipaddr_value at the message body, with the kernel's
 * UTF-8 strings stored in its u16 arrays. This header is the boundary
 * between decoding (kvp-ipmsg.c) and what reports or applies addresses.
 * No I/O.
 */
#ifndef HVIS_KVP_IPMSG_H
#define HVIS_KVP_IPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvis/wire.h"

/*
 * Field capacities in bytes of UTF-8, NUL included: what the kernel can
 * put there (§3.2: half of each u16 array for SET_IP_INFO, so always
 * terminated) and what the host can receive back (the u16 array's units).
 */
#define KVP_IP_ADAPTER_SIZE MAX_ADAPTER_ID_SIZE /* 128 */
#define KVP_IP_ADDR_SIZE MAX_IP_ADDR_SIZE /* 1024 */
#define KVP_IP_GATEWAY_SIZE MAX_GATEWAY_SIZE /* 512 */

struct kvp_ip_fields {
	char adapter_id[KVP_IP_ADAPTER_SIZE]; /* MAC (GET) or GUID (SET) */
	uint8_t addr_family; /* ADDR_FAMILY_* bits */
	bool dhcp_enabled;
	/* ';'-separated lists, as the host sends and expects them. */
	char ip_addr[KVP_IP_ADDR_SIZE];
	char sub_net[KVP_IP_ADDR_SIZE];
	char gate_way[KVP_IP_GATEWAY_SIZE];
	char dns_addr[KVP_IP_ADDR_SIZE];
};

/*
 * Decode the IP fields of a GET_IP_INFO or SET_IP_INFO message (msg is
 * KVP_MSG_SIZE bytes). Every string must be NUL-terminated inside its
 * field, else -EINVAL. GET_IP_INFO needs only adapter_id and addr_family.
 */
int kvp_ipmsg_decode(const void *msg, size_t len, struct kvp_ip_fields *ret);

/*
 * Write a GET_IP_INFO reply into msg: every string of f into its field
 * (UTF-8, NUL-terminated), addr_family and dhcp_enabled. -E2BIG if a
 * string does not fit its field (nothing is cut in half: callers bound
 * their lists first).
 */
int kvp_ipmsg_reply(void *msg, const struct kvp_ip_fields *f);

#endif
