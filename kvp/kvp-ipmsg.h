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
 * KVP_MSG_SIZE bytes, else -EBADMSG; another operation: -EINVAL). Every
 * string must be NUL-terminated inside the smaller of its message field
 * and its kvp_ip_fields member, else -EINVAL. GET_IP_INFO needs only
 * adapter_id and addr_family: the other fields of *ret are left empty and
 * the message's bytes there are not looked at. dhcp_enabled is any
 * non-zero byte. *ret is written only on success.
 */
int kvp_ipmsg_decode(const void *msg, size_t len, struct kvp_ip_fields *ret);

/*
 * Write a GET_IP_INFO reply into msg: every string of f into its field
 * (UTF-8, NUL-terminated, the rest of the field zeroed; adapter_id too,
 * since the kernel converts it back for the host), addr_family and
 * dhcp_enabled (0 or 1). -E2BIG, with msg untouched, if a member of f is
 * not terminated inside its array (nothing is cut in half: callers bound
 * their lists first). The status is the caller's (kvp_proto_set_status).
 */
int kvp_ipmsg_reply(void *msg, const struct kvp_ip_fields *f);

#endif
