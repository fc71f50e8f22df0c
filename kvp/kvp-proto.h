/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel <-> daemon KVP message (struct hv_kvp_msg, 7432 bytes,
 * protocol.md §3.1-3.2): decode a request with every field checked, and
 * write replies in place. No I/O.
 */
#ifndef HVIS_KVP_PROTO_H
#define HVIS_KVP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "hvis/wire.h"

#define KVP_MSG_SIZE sizeof(struct hv_kvp_msg)
#define KVP_KEY_MAX HV_KVP_EXCHANGE_MAX_KEY_SIZE /* bytes incl. NUL */
#define KVP_VALUE_MAX HV_KVP_EXCHANGE_MAX_VALUE_SIZE /* bytes incl. NUL */

struct kvp_request {
	uint8_t op; /* KVP_OP_* or KVP_OP_REGISTER1 */
	uint8_t pool;
	uint32_t index; /* ENUMERATE */
	uint32_t value_type; /* SET, as the kernel passed it */
	char key[KVP_KEY_MAX]; /* GET, SET, DELETE; NUL-terminated */
	char value[KVP_VALUE_MAX]; /* SET; REGISTER1: the kernel's version */
};

/*
 * Decode one message read from the device. Returns 0, or:
 * -EBADMSG  not exactly KVP_MSG_SIZE bytes;
 * -EOPNOTSUPP an operation we do not know (req->op still set);
 * -EINVAL   a bad pool, a key_size/value_size beyond its field or zero
 *           where a string is required, a string without a NUL inside
 *           its stated size (req->op and req->pool still set).
 * The IP operations are decoded elsewhere; here only op and pool are set.
 */
int kvp_proto_decode(const void *msg, size_t len, struct kvp_request *req);

/*
 * Replies overwrite the message in place; the whole KVP_MSG_SIZE buffer
 * is written back. The status goes in the first four bytes (the `error`
 * field aliases the header: REGISTER1 semantics, §3.2).
 */
void kvp_proto_set_status(void *msg, uint32_t status);

/* GET success: value as REG_SZ. -E2BIG if it does not fit the field. */
int kvp_proto_reply_get(void *msg, const char *value);

/* ENUMERATE success: key and value. -E2BIG if either does not fit. */
int kvp_proto_reply_enumerate(void *msg, const char *key, const char *value);

/* The REGISTER1 handshake message the daemon writes first (zeroed). */
void kvp_proto_build_register(void *msg);

#endif
