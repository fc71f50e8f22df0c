/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What hv_kvp_daemon answers to each kernel message: the status semantics
 * of the reference daemon (HV_S_CONT for a missing key and the end of an
 * enumeration, HV_E_FAIL for failures), pool 2 synthesized, pools 0, 1, 3
 * and 4 from the store, GET_IP_INFO from ipinfo.h (HV_E_FAIL when no
 * interface has the MAC), SET_IP_INFO from ipconfig.h (its own statuses).
 * The transport is the caller's business.
 */
#ifndef HVIS_KVP_SERVICE_H
#define HVIS_KVP_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "ipconfig.h"
#include "ipinfo.h"
#include "kvp-auto.h"
#include "kvp-pool.h"

struct kvp_service {
	struct kvp_pool_store *store;
	struct kvp_auto *intrinsic;
	/* GET_IP_INFO; NULL: answered HV_E_FAIL (not supported). */
	struct kvp_ipinfo *ipinfo;
	/* SET_IP_INFO backends and options; NULL: the defaults (auto). */
	const struct kvp_ipconfig_ctx *ipconfig;
	char ic_version[64]; /* from the kernel's REGISTER1 reply */
	uint64_t requests, bad_requests;
};

enum kvp_handled {
	KVP_HANDLED_REPLY, /* write the message back */
	KVP_HANDLED_REGISTERED, /* the kernel's handshake reply; no write */
};

/*
 * Handle one message read from the device, in place. Returns
 * KVP_HANDLED_REPLY when msg now holds the reply, KVP_HANDLED_REGISTERED
 * for the handshake, or -EBADMSG when len is not a KVP message (nothing
 * to reply to: the caller reopens the device).
 */
int kvp_service_handle(struct kvp_service *s, uint8_t *msg, size_t len);

#endif
