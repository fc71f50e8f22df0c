/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the simulator's modules. libhvsim is linked without
 * libhvis, so only the inline parts of hvis/util.h are usable here.
 */
#ifndef HVSIM_INTERNAL_H
#define HVSIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hvis/util.h"
#include "hvsim.h"

/* How often to re-check SIOCOUTQ: no event says "the peer has read". */
#define HVSIM_OUTQ_POLL_MS 2

/* snprintf that reports truncation as -E2BIG. */
int hvsim_fmt(char *dst, size_t size, const char *fmt, ...) HV_PRINTF(3, 4);

/* Monotonic deadlines; timeout_ms < 0 means never. */
int64_t hvsim_deadline(int timeout_ms);
/* Milliseconds left (0 when passed), -1 for no deadline. */
int hvsim_remaining(int64_t deadline);

int hvsim_mkdir_p(const char *path, mode_t mode);
/* Create or truncate path and write content. */
int hvsim_write_file(const char *path, const char *content);

/* Non-blocking SOCK_SEQPACKET listener at path; a stale socket is removed. */
int hvsim_listen(const char *path, int *ret_fd);
/* One pending connection as a non-blocking fd, or -EAGAIN. */
int hvsim_accept(int listen_fd);
/* The open status record; pass_fd >= 0 rides along via SCM_RIGHTS. */
int hvsim_send_status(int fd, uint32_t status, int pass_fd);
/* Bytes sent on fd and not yet received by the peer. */
int hvsim_outq(int fd);
/* Is the peer of fd gone (POLLHUP)? */
bool hvsim_peer_gone(int fd);

/* §1.2 IC header fields, offsets in the payload (after the pipe header). */
#define IC_VERFRAME 8
#define IC_MSGTYPE 12
#define IC_VERMSG 14
#define IC_MSGSIZE 18
#define IC_STATUS 20
#define IC_TXID 24
#define IC_FLAGS 25
#define IC_HDR_END 28
_Static_assert(IC_HDR_END == ICMSG_HDR, "IC header");
/* §1.3 offsets of the negotiate body. */
#define NEGO_FWCNT (IC_HDR_END + 0)
#define NEGO_SVCCNT (IC_HDR_END + 2)
#define NEGO_DATA (IC_HDR_END + 8)

#define IC_FLAGS_REQUEST (ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_REQUEST)
#define IC_FLAGS_RESPONSE (ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_RESPONSE)

/* A version as the two le16 halves of §1.3's data slots. */
void hvsim_ic_put_version(uint8_t *p, uint32_t v);

/*
 * The kernel's answer to a NEGOTIATE in buf (len bytes received), made
 * in place as vmbus_prep_negotiate_resp does (§1.3): the first of fw and
 * svc (the guest's, in priority order) that the host offered.
 */
void hvsim_ic_kernel_negotiate(uint8_t *buf, size_t len, const uint32_t *fw,
			       size_t nfw, const uint32_t *svc, size_t nsvc);

/* What a host offers in NEGOTIATE and what the guest agreed to. */
#define HVSIM_OFFER_MAX 16u
struct hvsim_offer {
	uint32_t fw[HVSIM_OFFER_MAX];
	uint32_t svc[HVSIM_OFFER_MAX];
	size_t nfw, nsvc;
	bool negotiated;
	uint32_t agreed_fw, agreed_svc;
};

/* A new offer, to be negotiated again; -EINVAL if it does not fit. */
int hvsim_offer_set(struct hvsim_offer *o, const uint32_t *fw, size_t nfw,
		    const uint32_t *svc, size_t nsvc);
/* The agreed versions, if any (either pointer may be NULL). */
bool hvsim_offer_negotiated(const struct hvsim_offer *o, uint32_t *fw,
			    uint32_t *svc);
/* The NEGOTIATE request for the offer. */
ssize_t hvsim_offer_build(const struct hvsim_offer *o, void *buf, size_t size,
			  uint8_t txid);
/*
 * Check the guest's reply to hvsim_offer_build()'s request and record
 * the agreement: -EPROTO when the guest refused (ret still filled in),
 * else hvsim_ic_check_negotiate()'s answer.
 */
int hvsim_offer_check(struct hvsim_offer *o, const void *req, size_t req_len,
		      const void *reply, size_t reply_len,
		      struct hvsim_ic_nego *ret, char *why, size_t why_size);

#endif
