/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IC framing and version negotiation (protocol.md §1.2, §1.3). The payload
 * comes from the host: only m->len bounds any access, never icmsgsize or
 * the pipe header's msgsize, and the negotiate body is read byte-wise
 * because it need not be aligned.
 */
#include <endian.h>
#include <stdbool.h>

#include "hvis/icmsg.h"
#include "hvis/util.h"

#define PIPE_HDR sizeof(struct hv_pipe_hdr)
#define OFF_ICMSGSIZE (PIPE_HDR + offsetof(struct hv_icmsg_hdr, icmsgsize))
#define OFF_STATUS (PIPE_HDR + offsetof(struct hv_icmsg_hdr, status))
#define OFF_ICFLAGS (PIPE_HDR + offsetof(struct hv_icmsg_hdr, icflags))

#define OFF_FRAME_CNT \
	(ICMSG_HDR + offsetof(struct hv_icmsg_negotiate, icframe_vercnt))
#define OFF_MSG_CNT \
	(ICMSG_HDR + offsetof(struct hv_icmsg_negotiate, icmsg_vercnt))
#define NEG_COUNTS_END (OFF_MSG_CNT + sizeof(uint16_t))
#define NEG_DATA (ICMSG_HDR + sizeof(struct hv_icmsg_negotiate))
#define NEG_SLOT sizeof(struct hv_ic_version)

#define IC_RESPONSE_FLAGS (ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_RESPONSE)
#define NEGOTIATE_REPLY_SIZE 0x10

int hv_ic_parse(uint8_t *buf, size_t len, struct hv_ic_msg *ret)
{
	struct hv_icmsg_hdr h;

	if (!buf || len < ICMSG_HDR)
		return -EBADMSG;

	/* One copy out of the buffer; everything later uses the copy. */
	memcpy(&h, buf + PIPE_HDR, sizeof(h));
	h.icverframe.major = le16toh(h.icverframe.major);
	h.icverframe.minor = le16toh(h.icverframe.minor);
	h.icmsgtype = le16toh(h.icmsgtype);
	h.icvermsg.major = le16toh(h.icvermsg.major);
	h.icvermsg.minor = le16toh(h.icvermsg.minor);
	h.icmsgsize = le16toh(h.icmsgsize);
	h.status = le32toh(h.status);

	*ret = (struct hv_ic_msg){
		.buf = buf,
		.len = len,
		.hdr = h,
		.body = buf + ICMSG_HDR,
		.body_len = len - ICMSG_HDR,
	};
	return 0;
}

void hv_ic_set_response(struct hv_ic_msg *m, uint32_t status)
{
	if (!m->buf || m->len < ICMSG_HDR)
		return;
	hv_put_le32(m->buf + OFF_STATUS, status);
	m->buf[OFF_ICFLAGS] = IC_RESPONSE_FLAGS;
	m->hdr.status = status;
	m->hdr.icflags = IC_RESPONSE_FLAGS;
}

/* Write version slot i only if the packet has room for it (§1.3). */
static void put_slot(struct hv_ic_msg *m, size_t i, uint16_t major,
		     uint16_t minor)
{
	size_t off = NEG_DATA + i * NEG_SLOT;

	if (m->len < off + NEG_SLOT)
		return;
	hv_put_le16(m->buf + off, major);
	hv_put_le16(m->buf + off + 2, minor);
}

/* Whether host slots [first, first + n) hold exactly want. */
static bool find_version(const struct hv_ic_msg *m, size_t first, size_t n,
			 uint32_t want)
{
	for (size_t j = first; j < first + n; j++) {
		const uint8_t *p = m->buf + NEG_DATA + j * NEG_SLOT;

		if (hv_le16(p) == HV_IC_VERSION_MAJOR(want) &&
		    hv_le16(p + 2) == HV_IC_VERSION_MINOR(want))
			return true;
	}
	return false;
}

/* Our first version (priority order) found in the host's slice. */
static int choose(const struct hv_ic_msg *m, size_t first, size_t n,
		  const uint32_t *ours, size_t nours, uint32_t *ret)
{
	for (size_t i = 0; i < nours; i++) {
		if (find_version(m, first, n, ours[i])) {
			*ret = ours[i];
			return 0;
		}
	}
	return -ENOTSUP;
}

int hv_ic_negotiate(struct hv_ic_msg *m, const uint32_t *fw, size_t nfw,
		    const uint32_t *svc, size_t nsvc, uint32_t *ret_fw,
		    uint32_t *ret_svc)
{
	size_t fc, mc;
	uint32_t chosen_fw, chosen_svc;
	int r;

	if (!m->buf || m->len < ICMSG_HDR)
		return -EBADMSG;

	/*
	 * The kernel helper leaves status as the host sent it, the UIO fcopy
	 * daemon presets HV_E_FAIL; we always state the result explicitly so
	 * a failed negotiation can never look like success.
	 */
	hv_ic_set_response(m, HV_E_FAIL);

	if (m->len < NEG_COUNTS_END)
		return -EBADMSG;

	hv_put_le16(m->buf + OFF_ICMSGSIZE, NEGOTIATE_REPLY_SIZE);
	m->hdr.icmsgsize = NEGOTIATE_REPLY_SIZE;

	fc = hv_le16(m->buf + OFF_FRAME_CNT);
	mc = hv_le16(m->buf + OFF_MSG_CNT);

	/* Counts go to 0/0 now; they become 1/1 only on a full match. */
	hv_put_le16(m->buf + OFF_FRAME_CNT, 0);
	hv_put_le16(m->buf + OFF_MSG_CNT, 0);

	/*
	 * §1.3 quirk: whatever is not matched is answered with the host's
	 * count as major, minor 0. Counts are at most 0xffff here, so the
	 * size arithmetic below cannot overflow a size_t.
	 */
	if (m->len < NEG_DATA || fc > IC_VERSION_NEGOTIATION_MAX_VER_COUNT ||
	    mc > IC_VERSION_NEGOTIATION_MAX_VER_COUNT ||
	    m->len < NEG_DATA + NEG_SLOT * (fc + mc)) {
		put_slot(m, 0, (uint16_t)fc, 0);
		put_slot(m, 1, (uint16_t)mc, 0);
		return -EBADMSG;
	}

	r = choose(m, 0, fc, fw, nfw, &chosen_fw);
	if (r < 0) {
		/* Like the kernel, no service lookup without a framework. */
		put_slot(m, 0, (uint16_t)fc, 0);
		put_slot(m, 1, (uint16_t)mc, 0);
		return r;
	}
	r = choose(m, fc, mc, svc, nsvc, &chosen_svc);
	if (r < 0) {
		put_slot(m, 0, HV_IC_VERSION_MAJOR(chosen_fw),
			 HV_IC_VERSION_MINOR(chosen_fw));
		put_slot(m, 1, (uint16_t)mc, 0);
		return r;
	}

	/* A match needs at least one slot of each kind, so both fit. */
	hv_put_le16(m->buf + OFF_FRAME_CNT, 1);
	hv_put_le16(m->buf + OFF_MSG_CNT, 1);
	put_slot(m, 0, HV_IC_VERSION_MAJOR(chosen_fw),
		 HV_IC_VERSION_MINOR(chosen_fw));
	put_slot(m, 1, HV_IC_VERSION_MAJOR(chosen_svc),
		 HV_IC_VERSION_MINOR(chosen_svc));
	hv_ic_set_response(m, HV_S_OK);

	if (ret_fw)
		*ret_fw = chosen_fw;
	if (ret_svc)
		*ret_svc = chosen_svc;
	return 0;
}

uint32_t hv_status_from_errno(int err)
{
	if (err > 0)
		err = -err;

	/*
	 * Kept to meanings that hold in every daemon. -ENODEV/-ENXIO are not
	 * HV_GUID_NOTFOUND in general (an open() of a device node or FIFO
	 * during a file copy is not an unknown adapter GUID), and -EINVAL is
	 * not HV_INVALIDARG (Linux reports an fcopy open() failure as
	 * HV_E_FAIL): KVP's SET_IP_INFO chooses those statuses itself.
	 */
	switch (err) {
	case 0:
		return HV_S_OK;
	case -EEXIST:
		return HV_ERROR_ALREADY_EXISTS;
	case -ENOSPC:
	case -EDQUOT:
		return HV_ERROR_DISK_FULL;
	default:
		return HV_E_FAIL;
	}
}
