/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host payloads into shutdown_proto_handle(). Invariants: nothing outside
 * the payload is touched (ASan, exact heap copy); a dropped packet is left
 * as it was; a reply keeps the length and is flagged as a response; a
 * request is not written before it is answered, its action matches its
 * flags and its text is terminated inside its buffer.
 */
#include "hvis/util.h"
#include "shutdown-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shutdown_request req;
	struct shutdown_msg msg;
	uint8_t *buf;
	uint32_t st;

	if (size > SHUTDOWN_PKT_MAX)
		return 0;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	shutdown_proto_handle(buf, size, &msg, &req);

	switch (msg.verdict) {
	case SHUTDOWN_DROP:
		if (size >= ICMSG_HDR && !(msg.msgtype == ICMSGTYPE_SHUTDOWN &&
					   size < SHUTDOWN_MSG_SIZE))
			abort();
		if (memcmp(buf, data, size) != 0)
			abort();
		break;
	case SHUTDOWN_REPLY:
		if (size < ICMSG_HDR || buf[25] != 5)
			abort();
		if (msg.msgtype != ICMSGTYPE_NEGOTIATE &&
		    hv_le32(buf + 20) != HV_E_FAIL)
			abort();
		if (memcmp(buf, data, 8) != 0)
			abort();
		break;
	case SHUTDOWN_REQUEST:
		if (size < SHUTDOWN_MSG_SIZE ||
		    msg.msgtype != ICMSGTYPE_SHUTDOWN)
			abort();
		if (memcmp(buf, data, size) != 0)
			abort();
		if (strnlen(req.text, sizeof(req.text)) >= sizeof(req.text))
			abort();
		if ((req.flags <= 5) !=
		    (req.action != _SHUTDOWN_ACTION_INVALID))
			abort();
		if (req.force != (req.flags & 1))
			abort();
		st = shutdown_proto_status(&req, true);
		if ((st == HV_S_OK) != (req.flags <= 5))
			abort();
		shutdown_proto_answer(buf, size, st);
		if (buf[25] != 5 || hv_le32(buf + 20) != st)
			abort();
		break;
	default:
		abort();
	}
	free(buf);
	return 0;
}
