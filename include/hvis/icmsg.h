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
 * the host offers (exact major and minor, framework versions looked up in
 * the host's framework slice, service versions in its service slice) wins.
 * The reply has icmsgsize 0x10, counts 1/1 and the chosen pair, or counts
 * 0/0 on failure with the kernel's quirk values in the two version slots
 * (a matched framework version stays; an unmatched slot holds the host's
 * count as major, minor 0). Only bytes inside m->len are written: a short
 * packet gets only the slots it has room for. status is set to HV_S_OK or
 * HV_E_FAIL and icflags to TRANSACTION|RESPONSE, so the caller can send
 * the buffer back whatever the result. m comes from hv_ic_parse(); the
 * caller has checked icmsgtype.
 * Returns 0 on a match (ret_fw/ret_svc set; either may be NULL), -ENOTSUP
 * if no common version, -EBADMSG if the message is malformed (shorter than
 * 28 + 8, a count over 100, versions beyond the payload). ret_fw/ret_svc
 * are written only on success. The reply length equals the request length
 * in every case (m->len is not changed).
 */
int hv_ic_negotiate(struct hv_ic_msg *m, const uint32_t *fw, size_t nfw,
		    const uint32_t *svc, size_t nsvc, uint32_t *ret_fw,
		    uint32_t *ret_svc);

/*
 * Mark the message as our response with this status (icflags 5), in the
 * buffer (little-endian) and in m->hdr.
 */
void hv_ic_set_response(struct hv_ic_msg *m, uint32_t status);

/*
 * Map an errno (negative; a positive one is treated alike) to the HV
 * status code sent to the host. Deliberately small, every daemon shares it:
 *   0                 HV_S_OK
 *   -EEXIST           HV_ERROR_ALREADY_EXISTS
 *   -ENOSPC, -EDQUOT  HV_ERROR_DISK_FULL
 *   anything else     HV_E_FAIL
 * Service-specific answers (KVP's HV_S_CONT for a missing key,
 * HV_INVALIDARG and HV_GUID_NOTFOUND for SET_IP_INFO) are decided by the
 * daemon.
 */
uint32_t hv_status_from_errno(int err);

#endif
