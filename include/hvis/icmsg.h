/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IC framing on top of a ring packet payload (protocol.md §1.2, §1.3):
 * vmbuspipe_hdr + icmsg_hdr + body, version negotiation and in-place
 * replies.
 */
#ifndef HVIS_ICMSG_H
#define HVIS_ICMSG_H

#include <stddef.h>
#include <stdint.h>

#include "hvis/wire.h"

struct hv_ic_msg {
	uint8_t *buf; /* the whole payload; replies are written into it */
	size_t len;
	struct hv_icmsg_hdr hdr; /* validated copy */
	uint8_t *body; /* buf + ICMSG_HDR */
	size_t body_len; /* len - ICMSG_HDR; icmsgsize is not trusted */
};

/* Parse a payload. -EBADMSG if it is shorter than the 28-byte header. */
int hv_ic_parse(uint8_t *buf, size_t len, struct hv_ic_msg *ret);

/*
 * Answer a NEGOTIATE in place (§1.3). fw and svc list our versions
 * (HV_IC_VERSION(major, minor)) in priority order; the first of ours that
 * the host offers wins. The reply has icmsgsize 0x10, counts 1/1 and the
 * chosen pair, or counts 0/0 on failure; status is set to HV_S_OK or
 * HV_E_FAIL and icflags to TRANSACTION|RESPONSE.
 * Returns 0 on a match (ret_fw/ret_svc set), -ENOTSUP if no common
 * version, -EBADMSG if the message is malformed (too short, a count over
 * 100, versions beyond the payload). The reply length equals the request
 * length in every case.
 */
int hv_ic_negotiate(struct hv_ic_msg *m, const uint32_t *fw, size_t nfw,
		    const uint32_t *svc, size_t nsvc, uint32_t *ret_fw,
		    uint32_t *ret_svc);

/* Mark the message as our response with this status (icflags 5). */
void hv_ic_set_response(struct hv_ic_msg *m, uint32_t status);

/* Map a negative errno to the HV status code sent to the host. */
uint32_t hv_status_from_errno(int err);

#endif
