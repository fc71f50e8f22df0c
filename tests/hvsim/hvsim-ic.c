/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IC framing as the host builds and checks it (protocol.md §1.2, §1.3).
 * Byte positions are written out here rather than taken from the guest
 * library, so both sides are checked against the spec.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hvsim-internal.h"

#define PIPE_FLAGS 0
#define PIPE_MSGSIZE 4
#define NEGO_MAX_COUNT 100

void hvsim_ic_put_version(uint8_t *p, uint32_t v)
{
	hv_put_le16(p, HV_IC_VERSION_MAJOR(v));
	hv_put_le16(p + 2, HV_IC_VERSION_MINOR(v));
}

static uint32_t get_version(const uint8_t *p)
{
	return HV_IC_VERSION(hv_le16(p), hv_le16(p + 2));
}

static int HV_PRINTF(3, 4)
	why_fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (why && size) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

ssize_t hvsim_ic_build(void *buf, size_t size, const struct hvsim_ic_msg *m,
		       const void *body, size_t body_len)
{
	uint8_t *b = buf;

	if (body_len > UINT16_MAX)
		return -EMSGSIZE;
	if (size < IC_HDR_END + body_len)
		return -ENOBUFS;
	memset(b, 0, IC_HDR_END);
	hv_put_le32(b + PIPE_FLAGS, m->pipe_flags);
	hv_put_le32(b + PIPE_MSGSIZE,
		    (uint32_t)(sizeof(struct hv_icmsg_hdr) + body_len));
	hvsim_ic_put_version(b + IC_VERFRAME, m->fw_version);
	hv_put_le16(b + IC_MSGTYPE, m->msgtype);
	hvsim_ic_put_version(b + IC_VERMSG, m->msg_version);
	hv_put_le16(b + IC_MSGSIZE, (uint16_t)body_len);
	hv_put_le32(b + IC_STATUS, m->status);
	b[IC_TXID] = m->txid;
	b[IC_FLAGS] = IC_FLAGS_REQUEST;
	if (body_len)
		memcpy(b + IC_HDR_END, body, body_len);
	return (ssize_t)(IC_HDR_END + body_len);
}

ssize_t hvsim_ic_build_negotiate(void *buf, size_t size, uint8_t txid,
				 const uint32_t *fw, size_t nfw,
				 const uint32_t *svc, size_t nsvc)
{
	struct hvsim_ic_msg m = {
		.msgtype = ICMSGTYPE_NEGOTIATE,
		.txid = txid,
		.fw_version = nfw ? fw[0] : 0,
		.msg_version = nsvc ? svc[0] : 0,
	};
	uint8_t *b = buf;
	size_t body, i;
	ssize_t n;

	if (nfw > UINT16_MAX || nsvc > UINT16_MAX)
		return -EINVAL;
	body = 8 + 4 * (nfw + nsvc);
	if (size < IC_HDR_END + body)
		return -ENOBUFS;
	n = hvsim_ic_build(buf, size, &m, NULL, 0);
	if (n < 0)
		return n;
	if (body > UINT16_MAX)
		return -EMSGSIZE;
	hv_put_le32(b + PIPE_MSGSIZE,
		    (uint32_t)(sizeof(struct hv_icmsg_hdr) + body));
	hv_put_le16(b + IC_MSGSIZE, (uint16_t)body);
	memset(b + IC_HDR_END, 0, 8);
	hv_put_le16(b + NEGO_FWCNT, (uint16_t)nfw);
	hv_put_le16(b + NEGO_SVCCNT, (uint16_t)nsvc);
	for (i = 0; i < nfw; i++)
		hvsim_ic_put_version(b + NEGO_DATA + 4 * i, fw[i]);
	for (i = 0; i < nsvc; i++)
		hvsim_ic_put_version(b + NEGO_DATA + 4 * (nfw + i), svc[i]);
	return (ssize_t)(IC_HDR_END + body);
}

int hvsim_ic_check_reply(const void *req, size_t req_len, const void *reply,
			 size_t reply_len, struct hvsim_ic_reply *ret,
			 char *why, size_t why_size)
{
	const uint8_t *q = req, *a = reply;

	if (req_len < IC_HDR_END)
		return why_fail(why, why_size, "request of %zu bytes", req_len);
	if (reply_len < IC_HDR_END)
		return why_fail(why, why_size, "reply of %zu bytes", reply_len);
	if (HV_ALIGN8(reply_len) != HV_ALIGN8(req_len))
		return why_fail(why, why_size,
				"reply of %zu bytes to a %zu-byte request",
				reply_len, req_len);
	if (a[IC_FLAGS] != IC_FLAGS_RESPONSE)
		return why_fail(why, why_size, "icflags 0x%x, expected 0x%x",
				a[IC_FLAGS], IC_FLAGS_RESPONSE);
	if (hv_le16(a + IC_MSGTYPE) != hv_le16(q + IC_MSGTYPE))
		return why_fail(why, why_size, "icmsgtype %u, request had %u",
				hv_le16(a + IC_MSGTYPE),
				hv_le16(q + IC_MSGTYPE));
	if (a[IC_TXID] != q[IC_TXID])
		return why_fail(why, why_size,
				"ictransaction_id %u, request had %u",
				a[IC_TXID], q[IC_TXID]);
	if (memcmp(a, q, IC_VERFRAME) != 0)
		return why_fail(why, why_size, "pipe header changed");
	if (get_version(a + IC_VERFRAME) != get_version(q + IC_VERFRAME) ||
	    get_version(a + IC_VERMSG) != get_version(q + IC_VERMSG))
		return why_fail(why, why_size, "icverframe/icvermsg changed");
	if (ret) {
		ret->msgtype = hv_le16(a + IC_MSGTYPE);
		ret->txid = a[IC_TXID];
		ret->icmsgsize = hv_le16(a + IC_MSGSIZE);
		ret->status = hv_le32(a + IC_STATUS);
		ret->body = a + IC_HDR_END;
		ret->body_len = reply_len - IC_HDR_END;
	}
	return 0;
}

static bool offered(const uint8_t *first, size_t count, uint32_t v)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (get_version(first + 4 * i) == v)
			return true;
	return false;
}

int hvsim_ic_check_negotiate(const void *req, size_t req_len, const void *reply,
			     size_t reply_len, struct hvsim_ic_nego *ret,
			     char *why, size_t why_size)
{
	const uint8_t *q = req, *a = reply;
	struct hvsim_ic_nego res = { 0 };
	size_t qfw, qsvc;
	uint16_t fc, sc;
	int r;

	r = hvsim_ic_check_reply(req, req_len, reply, reply_len, NULL, why,
				 why_size);
	if (r < 0)
		return r;
	if (hv_le16(q + IC_MSGTYPE) != ICMSGTYPE_NEGOTIATE)
		return why_fail(why, why_size, "not a NEGOTIATE");
	/* §1.3: too short to hold the counts: refused, nothing rewritten. */
	if (req_len < NEGO_SVCCNT + 2) {
		if (ret)
			*ret = res;
		return 0;
	}
	if (reply_len < NEGO_SVCCNT + 2)
		return why_fail(why, why_size, "reply too short for counts");
	if (hv_le16(a + IC_MSGSIZE) != 0x10)
		return why_fail(why, why_size, "icmsgsize 0x%x, expected 0x10",
				hv_le16(a + IC_MSGSIZE));
	fc = hv_le16(a + NEGO_FWCNT);
	sc = hv_le16(a + NEGO_SVCCNT);
	if (fc == 0 && sc == 0) {
		if (ret)
			*ret = res;
		return 0;
	}
	if (fc != 1 || sc != 1)
		return why_fail(why, why_size,
				"counts %u/%u, expected 1/1 or 0/0", fc, sc);
	if (reply_len < NEGO_DATA + 8)
		return why_fail(why, why_size,
				"counts 1/1 but no room for the versions");
	res.found = true;
	res.fw = get_version(a + NEGO_DATA);
	res.svc = get_version(a + NEGO_DATA + 4);

	/* The pair must come from what the host offered. */
	qfw = hv_le16(q + NEGO_FWCNT);
	qsvc = hv_le16(q + NEGO_SVCCNT);
	if (req_len < NEGO_DATA + 4 * (qfw + qsvc))
		return why_fail(why, why_size,
				"accepted a truncated offer (%zu + %zu)", qfw,
				qsvc);
	if (!offered(q + NEGO_DATA, qfw, res.fw))
		return why_fail(why, why_size,
				"framework %u.%u was not offered",
				HV_IC_VERSION_MAJOR(res.fw),
				HV_IC_VERSION_MINOR(res.fw));
	if (!offered(q + NEGO_DATA + 4 * qfw, qsvc, res.svc))
		return why_fail(why, why_size, "service %u.%u was not offered",
				HV_IC_VERSION_MAJOR(res.svc),
				HV_IC_VERSION_MINOR(res.svc));
	if (ret)
		*ret = res;
	return 0;
}

/* First guest version, in guest order, that the host slice holds. */
static bool pick(const uint32_t *guest, size_t n, const uint8_t *host,
		 size_t count, uint32_t *ret)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (offered(host, count, guest[i])) {
			*ret = guest[i];
			return true;
		}
	return false;
}

int hvsim_ic_negotiate_expect(const void *req, size_t req_len,
			      const uint32_t *guest_fw, size_t ngfw,
			      const uint32_t *guest_svc, size_t ngsvc,
			      struct hvsim_ic_nego *ret)
{
	const uint8_t *q = req;
	struct hvsim_ic_nego res = { 0 };
	size_t fc, sc;

	if (req_len < NEGO_SVCCNT + 2)
		goto out;
	fc = hv_le16(q + NEGO_FWCNT);
	sc = hv_le16(q + NEGO_SVCCNT);
	if (fc > NEGO_MAX_COUNT || sc > NEGO_MAX_COUNT ||
	    req_len < NEGO_DATA + 4 * (fc + sc))
		goto out;
	if (!pick(guest_fw, ngfw, q + NEGO_DATA, fc, &res.fw))
		goto out;
	if (!pick(guest_svc, ngsvc, q + NEGO_DATA + 4 * fc, sc, &res.svc)) {
		res.fw = 0;
		goto out;
	}
	res.found = true;
out:
	*ret = res;
	return 0;
}

/* Our first version (priority order) that the host's slice holds. */
static bool k_pick(const uint32_t *ours, size_t n, const uint8_t *host,
		   size_t count, uint32_t *ret)
{
	for (size_t i = 0; i < n; i++)
		if (offered(host, count, ours[i])) {
			*ret = ours[i];
			return true;
		}
	return false;
}

void hvsim_ic_kernel_negotiate(uint8_t *b, size_t len, const uint32_t *fw,
			       size_t nfw, const uint32_t *svc, size_t nsvc)
{
	uint16_t fc, sc;
	uint32_t fw_ver, svc_ver;
	bool found = false;

	if (len < NEGO_SVCCNT + 2)
		return;
	hv_put_le16(b + IC_MSGSIZE, 0x10);
	fc = hv_le16(b + NEGO_FWCNT);
	sc = hv_le16(b + NEGO_SVCCNT);
	/* An unmatched slot carries the host's count as major: a quirk. */
	fw_ver = HV_IC_VERSION(fc, 0);
	svc_ver = HV_IC_VERSION(sc, 0);
	if (fc <= IC_VERSION_NEGOTIATION_MAX_VER_COUNT &&
	    sc <= IC_VERSION_NEGOTIATION_MAX_VER_COUNT &&
	    len >= NEGO_DATA + 4 * ((size_t)fc + sc) &&
	    k_pick(fw, nfw, b + NEGO_DATA, fc, &fw_ver))
		found = k_pick(svc, nsvc, b + NEGO_DATA + 4 * (size_t)fc, sc,
			       &svc_ver);
	hv_put_le16(b + NEGO_FWCNT, found ? 1 : 0);
	hv_put_le16(b + NEGO_SVCCNT, found ? 1 : 0);
	hvsim_ic_put_version(b + NEGO_DATA, fw_ver);
	hvsim_ic_put_version(b + NEGO_DATA + 4, svc_ver);
}

int hvsim_offer_set(struct hvsim_offer *o, const uint32_t *fw, size_t nfw,
		    const uint32_t *svc, size_t nsvc)
{
	if (nfw > HVSIM_OFFER_MAX || nsvc > HVSIM_OFFER_MAX || (nfw && !fw) ||
	    (nsvc && !svc))
		return -EINVAL;
	if (nfw)
		memcpy(o->fw, fw, nfw * sizeof(*fw));
	if (nsvc)
		memcpy(o->svc, svc, nsvc * sizeof(*svc));
	o->nfw = nfw;
	o->nsvc = nsvc;
	o->negotiated = false;
	return 0;
}

bool hvsim_offer_negotiated(const struct hvsim_offer *o, uint32_t *fw,
			    uint32_t *svc)
{
	if (o->negotiated) {
		if (fw)
			*fw = o->agreed_fw;
		if (svc)
			*svc = o->agreed_svc;
	}
	return o->negotiated;
}

ssize_t hvsim_offer_build(const struct hvsim_offer *o, void *buf, size_t size,
			  uint8_t txid)
{
	return hvsim_ic_build_negotiate(buf, size, txid, o->fw, o->nfw, o->svc,
					o->nsvc);
}

int hvsim_offer_check(struct hvsim_offer *o, const void *req, size_t req_len,
		      const void *reply, size_t reply_len,
		      struct hvsim_ic_nego *ret, char *why, size_t why_size)
{
	struct hvsim_ic_nego nego;
	int r;

	r = hvsim_ic_check_negotiate(req, req_len, reply, reply_len, &nego, why,
				     why_size);
	if (r < 0)
		return r;
	if (ret)
		*ret = nego;
	if (!nego.found)
		return -EPROTO;
	o->negotiated = true;
	o->agreed_fw = nego.fw;
	o->agreed_svc = nego.svc;
	return 0;
}
