/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shutdown IC decoding (protocol.md §6). Lengths come from the ring
 * packet, never from icmsgsize; the message body is copied out once
 * before any field is looked at.
 */
#include "shutdown-proto.h"

#include "hvis/icmsg.h"
#include "hvis/utf16.h"
#include "hvis/util.h"

static const uint32_t fw_versions[] = { HV_IC_VERSION(3, 0),
					HV_IC_VERSION(1, 0) };
static const uint32_t svc_versions[] = { HV_IC_VERSION(3, 2),
					 HV_IC_VERSION(3, 1),
					 HV_IC_VERSION(3, 0),
					 HV_IC_VERSION(1, 0) };

const char *shutdown_action_name(enum shutdown_action a)
{
	switch (a) {
	case SHUTDOWN_POWEROFF:
		return "poweroff";
	case SHUTDOWN_REBOOT:
		return "reboot";
	case SHUTDOWN_HIBERNATE:
		return "hibernate";
	default:
		return NULL;
	}
}

/*
 * display_message is a byte array in the kernel's struct and its encoding
 * is not documented. Windows hosts speak UTF-16LE, so text that starts
 * with a BOM, or whose first character has a zero high byte (no UTF-8
 * text of more than one byte looks like that), is read as UTF-16LE;
 * anything else as 8-bit text up to the first NUL.
 */
static void decode_text(const uint8_t *msg, struct shutdown_request *req)
{
	const uint8_t *p = msg;
	size_t units = HV_SHUTDOWN_MSG_LEN / 2;
	ssize_t n;

	req->text[0] = '\0';
	if (msg[0] == 0 && msg[1] == 0) {
		req->encoding = SHUTDOWN_TEXT_EMPTY;
		return;
	}
	if (msg[0] == 0xff && msg[1] == 0xfe) {
		p += 2;
		units--;
	} else if (!(msg[0] != 0 && msg[1] == 0)) {
		size_t len = strnlen((const char *)msg, HV_SHUTDOWN_MSG_LEN);

		memcpy(req->text, msg, len);
		req->text[len] = '\0';
		req->encoding = SHUTDOWN_TEXT_BYTES;
		return;
	}
	n = hv_utf16_to_utf8(p, units, req->text, sizeof(req->text));
	/* On error text holds the whole characters before the problem. */
	req->encoding = n < 0 ? SHUTDOWN_TEXT_BAD_UTF16 : SHUTDOWN_TEXT_UTF16;
	if (req->text[0] == '\0' && n >= 0)
		req->encoding = SHUTDOWN_TEXT_EMPTY;
}

static void decode_request(const uint8_t *body, struct shutdown_request *req)
{
	struct hv_shutdown_msg_data d;

	memcpy(&d, body, sizeof(d));
	memset(req, 0, sizeof(*req));
	req->reason_code = hv_le32(&d.reason_code);
	req->timeout_seconds = hv_le32(&d.timeout_seconds);
	req->flags = hv_le32(&d.flags);
	/* Exactly the values hv_utils accepts; bit 0 is "force". */
	switch (req->flags) {
	case 0:
	case HV_SHUTDOWN_FLAG_FORCE:
		req->action = SHUTDOWN_POWEROFF;
		break;
	case HV_SHUTDOWN_FLAG_REBOOT:
	case HV_SHUTDOWN_FLAG_REBOOT | HV_SHUTDOWN_FLAG_FORCE:
		req->action = SHUTDOWN_REBOOT;
		break;
	case HV_SHUTDOWN_FLAG_HIBERNATE:
	case HV_SHUTDOWN_FLAG_HIBERNATE | HV_SHUTDOWN_FLAG_FORCE:
		req->action = SHUTDOWN_HIBERNATE;
		break;
	default:
		req->action = _SHUTDOWN_ACTION_INVALID;
	}
	req->force = req->flags & HV_SHUTDOWN_FLAG_FORCE;
	decode_text(d.display_message, req);
}

void shutdown_proto_handle(uint8_t *buf, size_t len, struct shutdown_msg *ret,
			   struct shutdown_request *req)
{
	struct hv_ic_msg m;

	*ret = (struct shutdown_msg){ .verdict = SHUTDOWN_DROP };
	if (hv_ic_parse(buf, len, &m) < 0)
		return; /* shorter than the IC header: hv_utils drops it */
	ret->msgtype = m.hdr.icmsgtype;

	switch (m.hdr.icmsgtype) {
	case ICMSGTYPE_NEGOTIATE:
		/* Answered whatever the outcome, as the kernel does. */
		ret->negotiate_result = hv_ic_negotiate(
			&m, fw_versions, ARRAY_SIZE(fw_versions), svc_versions,
			ARRAY_SIZE(svc_versions), &ret->fw, &ret->svc);
		ret->verdict = SHUTDOWN_REPLY;
		return;
	case ICMSGTYPE_SHUTDOWN:
		if (len < SHUTDOWN_MSG_SIZE)
			return; /* §6: dropped silently, no reply */
		decode_request(m.body, req);
		ret->verdict = SHUTDOWN_REQUEST;
		return;
	default:
		hv_ic_set_response(&m, HV_E_FAIL);
		ret->verdict = SHUTDOWN_REPLY;
		return;
	}
}

uint32_t shutdown_proto_status(const struct shutdown_request *req,
			       bool can_hibernate)
{
	switch (req->action) {
	case SHUTDOWN_POWEROFF:
	case SHUTDOWN_REBOOT:
		return HV_S_OK;
	case SHUTDOWN_HIBERNATE:
		return can_hibernate ? HV_S_OK : HV_E_FAIL;
	default:
		return HV_E_FAIL;
	}
}

void shutdown_proto_answer(uint8_t *buf, size_t len, uint32_t status)
{
	struct hv_ic_msg m;

	if (hv_ic_parse(buf, len, &m) == 0)
		hv_ic_set_response(&m, status);
}
