/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's side of the shutdown IC, from protocol.md §1.2-§1.3 and §6. */
#include "hvsim-shutdown.h"
#include "hvsim-internal.h"

#define SD_BODY ICMSG_HDR

_Static_assert(HVSIM_SHUTDOWN_OFFER_MAX == HVSIM_OFFER_MAX, "offer");

struct hvsim_shutdown {
	struct hvsim_uio *u;
	int timeout_ms;
	uint8_t txid;
	uint64_t trans_id;
	struct hvsim_offer offer;
	struct hvsim_shutdown_stats stats;
	uint8_t pkt[HVSIM_SHUTDOWN_PKT_MAX];
	uint8_t reply[HVSIM_SHUTDOWN_PKT_MAX + 8];
};

int hvsim_shutdown_new(struct hvsim_uio *u, struct hvsim_shutdown **ret)
{
	static const uint32_t fw[] = { HV_IC_VERSION(3, 0),
				       HV_IC_VERSION(1, 0) };
	static const uint32_t svc[] = { HV_IC_VERSION(3, 2),
					HV_IC_VERSION(3, 1),
					HV_IC_VERSION(3, 0),
					HV_IC_VERSION(1, 0) };
	struct hvsim_shutdown *s;

	if (!u || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->u = u;
	s->timeout_ms = HVSIM_SHUTDOWN_HOST_TIMEOUT_MS;
	s->trans_id = 1;
	hvsim_shutdown_set_offer(s, fw, ARRAY_SIZE(fw), svc, ARRAY_SIZE(svc));
	*ret = s;
	return 0;
}

struct hvsim_shutdown *hvsim_shutdown_free(struct hvsim_shutdown *s)
{
	free(s);
	return NULL;
}

void hvsim_shutdown_set_timeout(struct hvsim_shutdown *s, int timeout_ms)
{
	s->timeout_ms = timeout_ms;
}

int hvsim_shutdown_set_offer(struct hvsim_shutdown *s, const uint32_t *fw,
			     size_t nfw, const uint32_t *svc, size_t nsvc)
{
	if (nfw > HVSIM_SHUTDOWN_OFFER_MAX || nsvc > HVSIM_SHUTDOWN_OFFER_MAX)
		return -E2BIG;
	return hvsim_offer_set(&s->offer, fw, nfw, svc, nsvc);
}

bool hvsim_shutdown_negotiated(const struct hvsim_shutdown *s, uint32_t *fw,
			       uint32_t *svc)
{
	return hvsim_offer_negotiated(&s->offer, fw, svc);
}

ssize_t hvsim_shutdown_exchange(struct hvsim_shutdown *s, const void *pkt,
				size_t len, void *reply, size_t size,
				int timeout_ms)
{
	struct hv_pkt_desc desc;
	uint64_t id = s->trans_id++;
	int64_t deadline;
	ssize_t n;
	int r;

	r = hvsim_uio_send(s->u, VM_PKT_DATA_INBAND,
			   VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED, id, pkt,
			   len);
	if (r < 0)
		return r;
	s->stats.requests++;
	deadline = hvsim_deadline(timeout_ms < 0 ? s->timeout_ms : timeout_ms);
	for (;;) {
		n = hvsim_uio_recv(s->u, &desc, reply, size,
				   hvsim_remaining(deadline));
		if (n == -EAGAIN)
			return -ETIMEDOUT; /* the deadline passed meanwhile */
		if (n < 0)
			return n;
		/* The answer to a request the host gave up on: not ours. */
		if (desc.trans_id >= 1 && desc.trans_id < id) {
			s->stats.late_replies++;
			continue;
		}
		break;
	}
	s->stats.replies++;
	/* §1.1: a new guest should echo it, but the host does not insist. */
	if (desc.trans_id != id)
		s->stats.trans_id_mismatches++;
	return n;
}

int hvsim_shutdown_negotiate(struct hvsim_shutdown *s,
			     struct hvsim_ic_nego *ret)
{
	ssize_t len, n;
	int r;

	len = hvsim_offer_build(&s->offer, s->pkt, sizeof(s->pkt), s->txid++);
	if (len < 0)
		return (int)len;
	n = hvsim_shutdown_exchange(s, s->pkt, (size_t)len, s->reply,
				    sizeof(s->reply), -1);
	if (n < 0)
		return (int)n;
	r = hvsim_offer_check(&s->offer, s->pkt, (size_t)len, s->reply,
			      (size_t)n, ret, NULL, 0);
	if (r < 0)
		return r;
	s->stats.negotiations++;
	return 0;
}

ssize_t hvsim_shutdown_build(void *buf, size_t size, uint8_t txid,
			     const struct hvsim_shutdown_req *req)
{
	struct hvsim_ic_msg m = {
		.msgtype = ICMSGTYPE_SHUTDOWN,
		.txid = txid,
		.fw_version = HV_IC_VERSION(3, 0),
		.msg_version = HV_IC_VERSION(3, 2),
	};
	uint8_t body[sizeof(struct hv_shutdown_msg_data)] = { 0 };
	uint8_t *text =
		body + offsetof(struct hv_shutdown_msg_data, display_message);
	const char *msg = req->message ? req->message : "";
	size_t mlen = strlen(msg);
	ssize_t n;

	hv_put_le32(body, req->reason_code);
	hv_put_le32(body + 4, req->timeout_seconds);
	hv_put_le32(body + 8, req->flags);
	if (req->encoding == HVSIM_TEXT_UTF16) {
		/* Never more units than bytes; measure, then place. */
		uint8_t tmp[2 * HV_SHUTDOWN_MSG_LEN];

		if (mlen > HV_SHUTDOWN_MSG_LEN)
			return -E2BIG;
		n = hvsim_utf8_to_utf16le(msg, mlen, tmp, mlen);
		if (n < 0)
			return n;
		/* The NUL unit must fit after the text. */
		if ((size_t)n >= HV_SHUTDOWN_MSG_LEN / 2)
			return -E2BIG;
		memcpy(text, tmp, 2 * (size_t)n);
	} else {
		if (mlen >= HV_SHUTDOWN_MSG_LEN)
			return -E2BIG;
		memcpy(text, msg, mlen);
	}
	return hvsim_ic_build(buf, size, &m, body, sizeof(body));
}

int hvsim_shutdown_request(struct hvsim_shutdown *s,
			   const struct hvsim_shutdown_req *req,
			   uint32_t *status)
{
	struct hvsim_ic_reply rep;
	ssize_t len, n;
	int r;

	if (!s->offer.negotiated) {
		r = hvsim_shutdown_negotiate(s, NULL);
		if (r < 0)
			return r;
	}
	len = hvsim_shutdown_build(s->pkt, sizeof(s->pkt), s->txid++, req);
	if (len < 0)
		return (int)len;
	n = hvsim_shutdown_exchange(s, s->pkt, (size_t)len, s->reply,
				    sizeof(s->reply), -1);
	if (n < 0)
		return (int)n;
	r = hvsim_ic_check_reply(s->pkt, (size_t)len, s->reply, (size_t)n, &rep,
				 NULL, 0);
	if (r < 0)
		return r;
	*status = rep.status;
	return 0;
}

int hvsim_stop_vm(struct hvsim_shutdown *s, enum hvsim_stop_kind kind,
		  bool force, const char *message, uint32_t timeout_s,
		  uint32_t *status)
{
	static const uint32_t kind_flags[HVSIM_STOP_KIND_MAX] = {
		[HVSIM_STOP_POWEROFF] = 0,
		[HVSIM_STOP_RESTART] = HV_SHUTDOWN_FLAG_REBOOT,
		[HVSIM_STOP_HIBERNATE] = HV_SHUTDOWN_FLAG_HIBERNATE,
	};
	struct hvsim_shutdown_req req = {
		.reason_code = HVSIM_SHUTDOWN_REASON_PLANNED,
		.timeout_seconds = timeout_s,
		.message = message,
		.encoding = HVSIM_TEXT_UTF16,
	};

	if (kind < 0 || kind >= HVSIM_STOP_KIND_MAX)
		return -EINVAL;
	req.flags = kind_flags[kind] | (force ? HV_SHUTDOWN_FLAG_FORCE : 0);
	return hvsim_shutdown_request(s, &req, status);
}

const struct hvsim_shutdown_stats *
hvsim_shutdown_stats(const struct hvsim_shutdown *s)
{
	return &s->stats;
}
