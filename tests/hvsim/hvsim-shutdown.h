/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of the shutdown IC (protocol.md §6, §6.1) for hvsim:
 * Stop-VM / Restart-VM / hibernate requests written into a UIO channel's
 * rings, the guest's replies read back and checked.
 *
 * Written from the spec, not from the daemon: only the wire structs are
 * shared. Single-threaded like the rest of hvsim: every call runs the
 * channel's loop while it waits.
 */
#ifndef HVSIM_SHUTDOWN_H
#define HVSIM_SHUTDOWN_H

#include "hvsim.h"

/* §6.1: no preferred ring size, so uio_hv_generic's 2 MiB fallback. */
#define HVSIM_SHUTDOWN_RING_SIZE (2u * 1024 * 1024)
/* Any instance will do: the guest finds the channel by its class. */
#define HVSIM_SHUTDOWN_INSTANCE "b6650ff7-33bc-4840-8048-e0676786f393"
/* §1.5: 28-byte IC header + shutdown_msg_data. */
#define HVSIM_SHUTDOWN_PKT_LEN (ICMSG_HDR + sizeof(struct hv_shutdown_msg_data))
/* Room for any reply (8-byte padding) and malformed test packets. */
#define HVSIM_SHUTDOWN_PKT_MAX 4096u
#define HVSIM_SHUTDOWN_HOST_TIMEOUT_MS 30000
/* Windows' SHTDN_REASON_FLAG_PLANNED: what a planned Stop-VM says. */
#define HVSIM_SHUTDOWN_REASON_PLANNED 0x80000000u
#define HVSIM_SHUTDOWN_OFFER_MAX 16u

enum hvsim_stop_kind {
	HVSIM_STOP_POWEROFF, /* flags 0 (1 forced) */
	HVSIM_STOP_RESTART, /* flags 2 (3) */
	HVSIM_STOP_HIBERNATE, /* flags 4 (5) */
	HVSIM_STOP_KIND_MAX,
};

/* How display_message is filled (its encoding is unspecified, §1.5). */
enum hvsim_text_encoding {
	HVSIM_TEXT_UTF16, /* UTF-16LE, NUL-terminated */
	HVSIM_TEXT_BYTES, /* the UTF-8 bytes as they are */
};

struct hvsim_shutdown_req {
	uint32_t flags; /* any value, also the invalid ones */
	uint32_t reason_code;
	uint32_t timeout_seconds;
	const char *message; /* UTF-8, NULL for none */
	enum hvsim_text_encoding encoding;
};

struct hvsim_shutdown_stats {
	unsigned requests; /* packets sent */
	unsigned replies;
	unsigned negotiations; /* successful NEGOTIATEs */
	unsigned trans_id_mismatches; /* replies not echoing our trans_id */
	unsigned late_replies; /* answers to timed-out requests, dropped */
};

struct hvsim_shutdown;

/*
 * Host on a UIO channel (borrowed; it must outlive *ret), normally made
 * with hvsim_uio_new(root, HV_GUID_SHUTDOWN, HVSIM_SHUTDOWN_INSTANCE, n,
 * HVSIM_SHUTDOWN_RING_SIZE). Offer: framework 3.0, 1.0; service 3.2,
 * 3.1, 3.0, 1.0 (the versions hv_utils knows, §6).
 */
int hvsim_shutdown_new(struct hvsim_uio *u, struct hvsim_shutdown **ret);
struct hvsim_shutdown *hvsim_shutdown_free(struct hvsim_shutdown *s);

/* How long the host waits for each reply (default 30 s). */
void hvsim_shutdown_set_timeout(struct hvsim_shutdown *s, int timeout_ms);
/* Versions offered by the next NEGOTIATE (resets the negotiation). */
int hvsim_shutdown_set_offer(struct hvsim_shutdown *s, const uint32_t *fw,
			     size_t nfw, const uint32_t *svc, size_t nsvc);

/*
 * Send a NEGOTIATE with the offer and check the reply (§1.3): framing,
 * counts, a pair the host offered. *ret (may be NULL) says what was
 * agreed. Returns 0 when a pair was agreed, -EPROTO when the guest found
 * none, -EBADMSG for a malformed reply, -ETIMEDOUT without one.
 */
int hvsim_shutdown_negotiate(struct hvsim_shutdown *s,
			     struct hvsim_ic_nego *ret);
bool hvsim_shutdown_negotiated(const struct hvsim_shutdown *s, uint32_t *fw,
			       uint32_t *svc);

/*
 * One raw packet to the guest and its reply (whatever it is) into reply.
 * Returns the reply's payload length (8-byte padded), -ETIMEDOUT if none
 * came within timeout_ms (< 0: the host timeout), -ENOBUFS, or a ring
 * error from hvsim_uio_send/recv. A reply carrying the trans_id of an
 * earlier request (one the host stopped waiting for) is dropped, as the
 * host drops completions of transactions it has abandoned, and counted
 * in late_replies.
 */
ssize_t hvsim_shutdown_exchange(struct hvsim_shutdown *s, const void *pkt,
				size_t len, void *reply, size_t size,
				int timeout_ms);

/*
 * Build a SHUTDOWN packet (§6) into buf: IC header with type 3, then
 * reason, timeout, flags and the message. Returns its length (2088),
 * -ENOBUFS, -E2BIG if the message does not fit 2048 bytes with its NUL,
 * -EINVAL for malformed UTF-8.
 */
ssize_t hvsim_shutdown_build(void *buf, size_t size, uint8_t txid,
			     const struct hvsim_shutdown_req *req);

/*
 * Send a SHUTDOWN and wait for the answer: 0 with *status set, or the
 * errors of hvsim_shutdown_exchange(), -EBADMSG if the reply is not a
 * well-formed answer to it. Negotiates first if that has not been done.
 */
int hvsim_shutdown_request(struct hvsim_shutdown *s,
			   const struct hvsim_shutdown_req *req,
			   uint32_t *status);

/*
 * What `hvsim stop-vm [--restart|--hibernate] [--force] [--message TEXT]`
 * does: a planned request (HVSIM_SHUTDOWN_REASON_PLANNED, timeout_s, the
 * message in UTF-16), as hvsim_shutdown_request().
 */
int hvsim_stop_vm(struct hvsim_shutdown *s, enum hvsim_stop_kind kind,
		  bool force, const char *message, uint32_t timeout_s,
		  uint32_t *status);

const struct hvsim_shutdown_stats *
hvsim_shutdown_stats(const struct hvsim_shutdown *s);

#endif
