/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hvis/util.h"
#include "shutdown-proto.h"

#define OFF_TYPE 12
#define OFF_STATUS 20
#define OFF_FLAGS 25
#define BODY 28

static uint8_t pkt[SHUTDOWN_PKT_MAX], copy[SHUTDOWN_PKT_MAX];
static struct shutdown_msg msg;
static struct shutdown_request req;

/* A host request laid out by hand (protocol.md §1.2, §6). */
static size_t build(uint16_t type, const void *body, size_t body_len)
{
	memset(pkt, 0, sizeof(pkt));
	hv_put_le32(pkt + 4, (uint32_t)(20 + body_len));
	hv_put_le16(pkt + 8, 3); /* framework 3.0 */
	hv_put_le16(pkt + OFF_TYPE, type);
	hv_put_le16(pkt + 14, 3);
	hv_put_le16(pkt + 18, (uint16_t)body_len);
	pkt[24] = 7; /* transaction id */
	pkt[OFF_FLAGS] = 3; /* TRANSACTION | REQUEST */
	memcpy(pkt + BODY, body, body_len);
	return BODY + body_len;
}

static size_t build_shutdown(uint32_t flags, uint32_t reason, uint32_t timeout,
			     const void *text, size_t text_len)
{
	uint8_t body[sizeof(struct hv_shutdown_msg_data)] = { 0 };

	hv_put_le32(body, reason);
	hv_put_le32(body + 4, timeout);
	hv_put_le32(body + 8, flags);
	memcpy(body + 12, text, text_len);
	return build(ICMSGTYPE_SHUTDOWN, body, sizeof(body));
}

static size_t build_negotiate(const uint32_t *fw, size_t nfw,
			      const uint32_t *svc, size_t nsvc)
{
	uint8_t body[8 + 4 * 16] = { 0 };
	size_t i;

	hv_put_le16(body, (uint16_t)nfw);
	hv_put_le16(body + 2, (uint16_t)nsvc);
	for (i = 0; i < nfw + nsvc; i++) {
		uint32_t v = i < nfw ? fw[i] : svc[i - nfw];

		hv_put_le16(body + 8 + 4 * i, (uint16_t)(v >> 16));
		hv_put_le16(body + 10 + 4 * i, (uint16_t)v);
	}
	return build(ICMSGTYPE_NEGOTIATE, body, 8 + 4 * (nfw + nsvc));
}

static void handle(size_t len)
{
	memcpy(copy, pkt, sizeof(pkt));
	shutdown_proto_handle(pkt, len, &msg, &req);
}

static void test_short_dropped(void **state)
{
	size_t len = build_shutdown(0, 0, 0, "", 0);

	/* One byte short of header + shutdown_msg_data: no reply. */
	handle(len - 1);
	assert_int_equal(msg.verdict, SHUTDOWN_DROP);
	assert_memory_equal(pkt, copy, sizeof(pkt));
	handle(27);
	assert_int_equal(msg.verdict, SHUTDOWN_DROP);
	handle(0);
	assert_int_equal(msg.verdict, SHUTDOWN_DROP);
	assert_memory_equal(pkt, copy, sizeof(pkt));
	handle(len);
	assert_int_equal(msg.verdict, SHUTDOWN_REQUEST);
	/* Longer is fine: the kernel reads up to a page. */
	handle(SHUTDOWN_PKT_MAX);
	assert_int_equal(msg.verdict, SHUTDOWN_REQUEST);
}

static void test_flags(void **state)
{
	static const struct {
		uint32_t flags;
		enum shutdown_action action;
		bool force;
	} cases[] = {
		{ 0, SHUTDOWN_POWEROFF, false },
		{ 1, SHUTDOWN_POWEROFF, true },
		{ 2, SHUTDOWN_REBOOT, false },
		{ 3, SHUTDOWN_REBOOT, true },
		{ 4, SHUTDOWN_HIBERNATE, false },
		{ 5, SHUTDOWN_HIBERNATE, true },
		{ 6, _SHUTDOWN_ACTION_INVALID, false },
		{ 7, _SHUTDOWN_ACTION_INVALID, true },
		{ 8, _SHUTDOWN_ACTION_INVALID, false },
		{ 0x80000001, _SHUTDOWN_ACTION_INVALID, true },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t len =
			build_shutdown(cases[i].flags, 0x80020003, 120, "", 0);

		handle(len);
		assert_int_equal(msg.verdict, SHUTDOWN_REQUEST);
		assert_int_equal(msg.msgtype, ICMSGTYPE_SHUTDOWN);
		assert_int_equal(req.flags, cases[i].flags);
		assert_int_equal(req.action, cases[i].action);
		assert_int_equal(req.force, cases[i].force);
		assert_int_equal(req.reason_code, 0x80020003);
		assert_int_equal(req.timeout_seconds, 120);
		/* Nothing written until the caller answers. */
		assert_memory_equal(pkt, copy, len);
	}
}

static void test_status(void **state)
{
	struct shutdown_request r = { .action = SHUTDOWN_POWEROFF };

	assert_int_equal(shutdown_proto_status(&r, false), HV_S_OK);
	r.action = SHUTDOWN_REBOOT;
	assert_int_equal(shutdown_proto_status(&r, false), HV_S_OK);
	r.action = SHUTDOWN_HIBERNATE;
	assert_int_equal(shutdown_proto_status(&r, true), HV_S_OK);
	assert_int_equal(shutdown_proto_status(&r, false), HV_E_FAIL);
	r.action = _SHUTDOWN_ACTION_INVALID;
	assert_int_equal(shutdown_proto_status(&r, true), HV_E_FAIL);
	assert_string_equal(shutdown_action_name(SHUTDOWN_HIBERNATE),
			    "hibernate");
	assert_null(shutdown_action_name(_SHUTDOWN_ACTION_INVALID));
}

static void test_answer(void **state)
{
	size_t len = build_shutdown(2, 1, 2, "", 0);

	handle(len);
	shutdown_proto_answer(pkt, len, HV_E_FAIL);
	assert_int_equal(hv_le32(pkt + OFF_STATUS), HV_E_FAIL);
	assert_int_equal(pkt[OFF_FLAGS], 5);
	/* Everything else is the host's request, echoed. */
	memcpy(copy + OFF_STATUS, pkt + OFF_STATUS, 4);
	copy[OFF_FLAGS] = 5;
	assert_memory_equal(pkt, copy, len);
}

static void test_unknown_type(void **state)
{
	static const uint16_t types[] = { ICMSGTYPE_HEARTBEAT,
					  ICMSGTYPE_KVPEXCHANGE,
					  ICMSGTYPE_TIMESYNC, 7, 0xffff };
	uint8_t body[40] = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		size_t len = build(types[i], body, sizeof(body));

		handle(len);
		assert_int_equal(msg.verdict, SHUTDOWN_REPLY);
		assert_int_equal(hv_le32(pkt + OFF_STATUS), HV_E_FAIL);
		assert_int_equal(pkt[OFF_FLAGS], 5);
	}
	/* Even a bare header gets its HV_E_FAIL. */
	handle(build(9, body, 0));
	assert_int_equal(msg.verdict, SHUTDOWN_REPLY);
	assert_int_equal(hv_le32(pkt + OFF_STATUS), HV_E_FAIL);
}

static void test_negotiate(void **state)
{
	const uint32_t fw[] = { HV_IC_VERSION(1, 0), HV_IC_VERSION(3, 0) };
	const uint32_t svc[] = { HV_IC_VERSION(3, 0), HV_IC_VERSION(3, 2),
				 HV_IC_VERSION(4, 0) };
	const uint32_t svc_new[] = { HV_IC_VERSION(4, 0), HV_IC_VERSION(3, 3) };
	const uint32_t fw_old[] = { HV_IC_VERSION(1, 0) };
	const uint32_t svc_old[] = { HV_IC_VERSION(1, 0) };
	size_t len;

	len = build_negotiate(fw, 2, svc, 3);
	handle(len);
	assert_int_equal(msg.verdict, SHUTDOWN_REPLY);
	assert_int_equal(msg.negotiate_result, 0);
	/* Our priority order decides: 3.0 and 3.2. */
	assert_int_equal(msg.fw, HV_IC_VERSION(3, 0));
	assert_int_equal(msg.svc, HV_IC_VERSION(3, 2));
	assert_int_equal(hv_le16(pkt + BODY), 1);
	assert_int_equal(hv_le16(pkt + BODY + 2), 1);
	assert_int_equal(hv_le32(pkt + OFF_STATUS), HV_S_OK);
	assert_int_equal(pkt[OFF_FLAGS], 5);

	handle(build_negotiate(fw_old, 1, svc_old, 1));
	assert_int_equal(msg.negotiate_result, 0);
	assert_int_equal(msg.fw, HV_IC_VERSION(1, 0));
	assert_int_equal(msg.svc, HV_IC_VERSION(1, 0));

	/* Nothing in common: a failure reply, not silence. */
	len = build_negotiate(fw, 2, svc_new, 2);
	handle(len);
	assert_int_equal(msg.verdict, SHUTDOWN_REPLY);
	assert_int_equal(msg.negotiate_result, -ENOTSUP);
	assert_int_equal(hv_le16(pkt + BODY), 0);
	assert_int_equal(hv_le16(pkt + BODY + 2), 0);
	assert_int_equal(hv_le32(pkt + OFF_STATUS), HV_E_FAIL);
	assert_int_equal(pkt[OFF_FLAGS], 5);

	/* Malformed: counts beyond the payload, and over 100. */
	len = build_negotiate(fw, 2, svc, 3);
	handle(len - 4);
	assert_int_equal(msg.verdict, SHUTDOWN_REPLY);
	assert_int_equal(msg.negotiate_result, -EBADMSG);
	assert_int_equal(hv_le32(pkt + OFF_STATUS), HV_E_FAIL);
	len = build_negotiate(fw, 2, svc, 3);
	hv_put_le16(pkt + BODY, 101);
	handle(len);
	assert_int_equal(msg.negotiate_result, -EBADMSG);
	assert_int_equal(pkt[OFF_FLAGS], 5);
}

static void test_text_utf16(void **state)
{
	static const char ascii[] = "Planned maintenance";
	uint8_t t[HV_SHUTDOWN_MSG_LEN] = { 0 };
	size_t i;

	for (i = 0; ascii[i]; i++)
		t[2 * i] = (uint8_t)ascii[i];
	handle(build_shutdown(0, 0, 0, t, sizeof(t)));
	assert_int_equal(req.encoding, SHUTDOWN_TEXT_UTF16);
	assert_string_equal(req.text, ascii);

	/* BOM, then U+00E9 and U+1F600 (a surrogate pair). */
	memset(t, 0, sizeof(t));
	memcpy(t, "\xff\xfe\xe9\x00\x3d\xd8\x00\xde", 8);
	handle(build_shutdown(0, 0, 0, t, sizeof(t)));
	assert_int_equal(req.encoding, SHUTDOWN_TEXT_UTF16);
	assert_string_equal(req.text, "\xc3\xa9\xf0\x9f\x98\x80");

	/* A lone surrogate: the text before it is kept. */
	memset(t, 0, sizeof(t));
	memcpy(t, "o\0k\0\x00\xd8x\0", 8);
	handle(build_shutdown(0, 0, 0, t, sizeof(t)));
	assert_int_equal(req.encoding, SHUTDOWN_TEXT_BAD_UTF16);
	assert_string_equal(req.text, "ok");

	/* Unterminated: all 1024 units, still a terminated string. */
	for (i = 0; i < sizeof(t); i += 2) {
		t[i] = 'A';
		t[i + 1] = 0;
	}
	handle(build_shutdown(0, 0, 0, t, sizeof(t)));
	assert_int_equal(req.encoding, SHUTDOWN_TEXT_UTF16);
	assert_int_equal(strlen(req.text), HV_SHUTDOWN_MSG_LEN / 2);
}

static void test_text_bytes(void **state)
{
	uint8_t t[HV_SHUTDOWN_MSG_LEN];

	handle(build_shutdown(0, 0, 0, "h\xc3\xa9llo\nworld", 13));
	assert_int_equal(req.encoding, SHUTDOWN_TEXT_BYTES);
	assert_string_equal(req.text, "h\xc3\xa9llo\nworld");

	handle(build_shutdown(0, 0, 0, "", 0));
	assert_int_equal(req.encoding, SHUTDOWN_TEXT_EMPTY);
	assert_string_equal(req.text, "");

	/* No NUL anywhere: cut at the field's end. */
	memset(t, 'x', sizeof(t));
	handle(build_shutdown(0, 0, 0, t, sizeof(t)));
	assert_int_equal(req.encoding, SHUTDOWN_TEXT_BYTES);
	assert_int_equal(strlen(req.text), HV_SHUTDOWN_MSG_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_dropped),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_text_utf16),
		cmocka_unit_test(test_text_bytes),
	};

	return cmocka_run_group_tests_name("shutdown-proto", tests, NULL, NULL);
}
