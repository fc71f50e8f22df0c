/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shutdown IC as hv_utils answers it (protocol.md §6): NEGOTIATE with
 * framework 3.0/1.0 and service 3.2/3.1/3.0/1.0, SHUTDOWN (type 3) with
 * the flags mapped to an action, anything else refused with HV_E_FAIL.
 * Pure: bytes in, a decision and the reply (written in place) out.
 */
#ifndef SHUTDOWN_PROTO_H
#define SHUTDOWN_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvis/wire.h"

/* The kernel reads shutdown packets into one page (§6). */
#define SHUTDOWN_PKT_MAX 4096u
#define SHUTDOWN_MSG_SIZE (ICMSG_HDR + sizeof(struct hv_shutdown_msg_data))
/* display_message decoded to UTF-8: 1024 UTF-16 units take at most 3072. */
#define SHUTDOWN_TEXT_MAX (3 * HV_SHUTDOWN_MSG_LEN / 2 + 1)

enum shutdown_action {
	SHUTDOWN_POWEROFF,
	SHUTDOWN_REBOOT,
	SHUTDOWN_HIBERNATE,
	_SHUTDOWN_ACTION_MAX,
	_SHUTDOWN_ACTION_INVALID = -1,
};

enum shutdown_text_encoding {
	SHUTDOWN_TEXT_EMPTY,
	SHUTDOWN_TEXT_BYTES, /* 8-bit, up to the first NUL (UTF-8 or not) */
	SHUTDOWN_TEXT_UTF16, /* UTF-16LE (a BOM, or an ASCII first char) */
	SHUTDOWN_TEXT_BAD_UTF16, /* looked like UTF-16, cut at the error */
};

struct shutdown_request {
	uint32_t flags; /* as the host sent them */
	enum shutdown_action action; /* _SHUTDOWN_ACTION_INVALID: unknown */
	bool force; /* flags bit 0 */
	uint32_t reason_code;
	uint32_t timeout_seconds;
	enum shutdown_text_encoding encoding;
	/* NUL-terminated; host text: escape it before showing it anywhere. */
	char text[SHUTDOWN_TEXT_MAX];
};

enum shutdown_verdict {
	/* No reply at all (shorter than the IC header, or a short SHUTDOWN). */
	SHUTDOWN_DROP,
	/* The reply is ready in the buffer (NEGOTIATE, unknown type). */
	SHUTDOWN_REPLY,
	/*
	 * A SHUTDOWN request: *req is filled; the caller decides the status
	 * (shutdown_proto_status), writes it with shutdown_proto_answer and
	 * acts only after the reply went out.
	 */
	SHUTDOWN_REQUEST,
};

struct shutdown_msg {
	enum shutdown_verdict verdict;
	uint16_t msgtype;
	/* NEGOTIATE: 0 if a version pair was agreed, else -errno. */
	int negotiate_result;
	uint32_t fw, svc; /* the agreed versions */
};

/*
 * Handle one host payload of len bytes in buf (which must be writable:
 * replies are written in place and keep the request's length).
 * ret and req (filled only for SHUTDOWN_REQUEST) must not be NULL.
 */
void shutdown_proto_handle(uint8_t *buf, size_t len, struct shutdown_msg *ret,
			   struct shutdown_request *req);

/*
 * The status the kernel would send (§6): HV_S_OK for flags 0-3, and for
 * 4/5 when the guest can hibernate; HV_E_FAIL otherwise. An HV_S_OK
 * answer means the action must follow.
 */
uint32_t shutdown_proto_status(const struct shutdown_request *req,
			       bool can_hibernate);

/* Turn the SHUTDOWN request in buf into its reply with this status. */
void shutdown_proto_answer(uint8_t *buf, size_t len, uint32_t status);

/* "poweroff", "reboot", "hibernate" (as systemctl names them), or NULL. */
const char *shutdown_action_name(enum shutdown_action a);

#endif
