/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "hvsim.h"

#define V(maj, min) HV_IC_VERSION(maj, min)

static void test_build_bytes(void **state)
{
	/* §1.2 by hand: pipe hdr, icmsg hdr, body. */
	static const uint8_t expect[] = {
		0x00, 0x00, 0x00, 0x00, /* pipe flags */
		0x17, 0x00, 0x00, 0x00, /* pipe msgsize 20 + 3 */
		0x03, 0x00, 0x00, 0x00, /* icverframe 3.0 */
		0x03, 0x00, /* icmsgtype SHUTDOWN */
		0x03, 0x00, 0x02, 0x00, /* icvermsg 3.2 */
		0x03, 0x00, /* icmsgsize */
		0x05, 0x40, 0x00, 0x80, /* status */
		0x07, /* ictransaction_id */
		0x03, /* icflags TRANSACTION|REQUEST */
		0x00, 0x00, /* reserved */
		'A',  'B',  'C',
	};
	struct hvsim_ic_msg m = {
		.msgtype = ICMSGTYPE_SHUTDOWN,
		.txid = 7,
		.fw_version = V(3, 0),
		.msg_version = V(3, 2),
		.status = HV_E_FAIL,
	};
	uint8_t buf[64];

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(hvsim_ic_build(buf, sizeof(buf), &m, "ABC", 3),
			 sizeof(expect));
	assert_memory_equal(buf, expect, sizeof(expect));
	assert_int_equal(hvsim_ic_build(buf, 30, &m, "ABC", 3), -ENOBUFS);
}

static void test_negotiate_bytes(void **state)
{
	static const uint32_t fw[] = { V(3, 0), V(1, 0) };
	static const uint32_t svc[] = { V(3, 2), V(1, 0) };
	static const uint8_t expect[] = {
		0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, /* pipe */
		0x03, 0x00, 0x00, 0x00, /* icverframe 3.0 */
		0x00, 0x00, /* NEGOTIATE */
		0x03, 0x00, 0x02, 0x00, /* icvermsg 3.2 */
		0x18, 0x00, /* icmsgsize 8 + 16 */
		0x00, 0x00, 0x00, 0x00, /* status */
		0x09, 0x03, 0x00, 0x00, /* txid, flags, reserved */
		0x02, 0x00, 0x02, 0x00, /* icframe_vercnt, icmsg_vercnt */
		0x00, 0x00, 0x00, 0x00, /* reserved */
		0x03, 0x00, 0x00, 0x00, /* 3.0 */
		0x01, 0x00, 0x00, 0x00, /* 1.0 */
		0x03, 0x00, 0x02, 0x00, /* 3.2 */
		0x01, 0x00, 0x00, 0x00, /* 1.0 */
	};
	uint8_t buf[128];

	assert_int_equal(hvsim_ic_build_negotiate(buf, sizeof(buf), 9, fw, 2,
						  svc, 2),
			 sizeof(expect));
	assert_memory_equal(buf, expect, sizeof(expect));
	assert_int_equal(hvsim_ic_build_negotiate(buf, sizeof(expect) - 1, 9,
						  fw, 2, svc, 2),
			 -ENOBUFS);
}

static void test_negotiate_many(void **state)
{
	static uint32_t fw[150], svc[150];
	static uint8_t buf[28 + 8 + 4 * 300];
	size_t i;

	for (i = 0; i < 150; i++) {
		fw[i] = V(1, i);
		svc[i] = V(2, i);
	}
	assert_int_equal(hvsim_ic_build_negotiate(buf, sizeof(buf), 1, fw, 150,
						  svc, 150),
			 sizeof(buf));
	assert_int_equal(buf[28], 150);
	assert_int_equal(buf[30], 150);
	/* svc[0] follows the last framework entry. */
	assert_int_equal(buf[36 + 4 * 150], 2);
	assert_int_equal(buf[36 + 4 * 150 + 2], 0);
	assert_int_equal(buf[36 + 4 * 299 + 2], 149);
}

/* A guest reply the way §1.2/§1.3 describe it, built by hand. */
static size_t make_reply(uint8_t *dst, const uint8_t *req, size_t len)
{
	memcpy(dst, req, len);
	dst[25] = 5;
	return len;
}

static void set_nego(uint8_t *r, uint16_t fc, uint16_t sc, uint32_t fw,
		     uint32_t svc)
{
	r[18] = 0x10;
	r[19] = 0;
	r[28] = (uint8_t)fc;
	r[29] = (uint8_t)(fc >> 8);
	r[30] = (uint8_t)sc;
	r[31] = (uint8_t)(sc >> 8);
	r[36] = (uint8_t)(fw >> 16);
	r[37] = 0;
	r[38] = (uint8_t)fw;
	r[39] = 0;
	r[40] = (uint8_t)(svc >> 16);
	r[41] = 0;
	r[42] = (uint8_t)svc;
	r[43] = 0;
}

static void test_check_reply(void **state)
{
	struct hvsim_ic_msg m = {
		.msgtype = ICMSGTYPE_HEARTBEAT,
		.txid = 3,
		.fw_version = V(3, 0),
		.msg_version = V(3, 0),
	};
	uint8_t req[64], rep[64];
	struct hvsim_ic_reply out;
	char why[128];
	ssize_t n;

	n = hvsim_ic_build(req, sizeof(req), &m, "12345678", 8);
	assert_int_equal(n, 36);
	make_reply(rep, req, 36);
	rep[20] = 0x05; /* status HV_E_FAIL, little endian */
	rep[21] = 0x40;
	rep[22] = 0x00;
	rep[23] = 0x80;
	assert_int_equal(hvsim_ic_check_reply(req, 36, rep, 36, &out, why,
					      sizeof(why)),
			 0);
	assert_int_equal(out.msgtype, ICMSGTYPE_HEARTBEAT);
	assert_int_equal(out.txid, 3);
	assert_int_equal(out.status, HV_E_FAIL);
	assert_int_equal(out.body_len, 8);
	assert_memory_equal(out.body, "12345678", 8);

	/* Padding to 8 is not a length change; anything else is. */
	assert_int_equal(hvsim_ic_check_reply(req, 33, rep, 40, NULL, NULL, 0),
			 0);
	assert_int_equal(hvsim_ic_check_reply(req, 36, rep, 44, NULL, why,
					      sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "bytes"));
	assert_int_equal(hvsim_ic_check_reply(req, 36, rep, 20, NULL, NULL, 0),
			 -EBADMSG);

	rep[25] = 3;
	assert_int_equal(hvsim_ic_check_reply(req, 36, rep, 36, NULL, why,
					      sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "icflags"));
	rep[25] = 5;
	rep[24] = 4;
	assert_int_equal(hvsim_ic_check_reply(req, 36, rep, 36, NULL, NULL, 0),
			 -EBADMSG);
	rep[24] = 3;
	rep[12] = ICMSGTYPE_SHUTDOWN;
	assert_int_equal(hvsim_ic_check_reply(req, 36, rep, 36, NULL, NULL, 0),
			 -EBADMSG);
	rep[12] = ICMSGTYPE_HEARTBEAT;
	rep[4] ^= 1;
	assert_int_equal(hvsim_ic_check_reply(req, 36, rep, 36, NULL, why,
					      sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "pipe"));
	rep[4] ^= 1;
	rep[14] = 9; /* icvermsg major */
	assert_int_equal(hvsim_ic_check_reply(req, 36, rep, 36, NULL, NULL, 0),
			 -EBADMSG);
	rep[14] = 3;
	assert_int_equal(hvsim_ic_check_reply(req, 36, rep, 36, NULL, NULL, 0),
			 0);
}

static void test_check_negotiate(void **state)
{
	static const uint32_t fw[] = { V(3, 0), V(1, 0) };
	static const uint32_t svc[] = { V(3, 2), V(3, 1), V(1, 0) };
	uint8_t req[64], rep[64];
	struct hvsim_ic_nego res;
	char why[128];
	ssize_t n;

	n = hvsim_ic_build_negotiate(req, sizeof(req), 1, fw, 2, svc, 3);
	assert_int_equal(n, 56);
	make_reply(rep, req, 56);
	set_nego(rep, 1, 1, V(3, 0), V(3, 1));
	assert_int_equal(hvsim_ic_check_negotiate(req, 56, rep, 56, &res, why,
						  sizeof(why)),
			 0);
	assert_true(res.found);
	assert_int_equal(res.fw, V(3, 0));
	assert_int_equal(res.svc, V(3, 1));

	/* A framework version offered only as a service version. */
	set_nego(rep, 1, 1, V(3, 2), V(3, 1));
	assert_int_equal(hvsim_ic_check_negotiate(req, 56, rep, 56, &res, why,
						  sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "framework 3.2"));
	set_nego(rep, 1, 1, V(3, 0), V(4, 0));
	assert_int_equal(hvsim_ic_check_negotiate(req, 56, rep, 56, &res, why,
						  sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "service 4.0"));

	set_nego(rep, 0, 0, V(2, 0), V(3, 0));
	assert_int_equal(
		hvsim_ic_check_negotiate(req, 56, rep, 56, &res, NULL, 0), 0);
	assert_false(res.found);

	set_nego(rep, 2, 1, V(3, 0), V(3, 1));
	assert_int_equal(hvsim_ic_check_negotiate(req, 56, rep, 56, &res, NULL,
						  0),
			 -EBADMSG);
	set_nego(rep, 1, 1, V(3, 0), V(3, 1));
	rep[18] = 0x18;
	assert_int_equal(hvsim_ic_check_negotiate(req, 56, rep, 56, &res, why,
						  sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "icmsgsize"));
	rep[18] = 0x10;
	rep[25] = 3;
	assert_int_equal(hvsim_ic_check_negotiate(req, 56, rep, 56, &res, NULL,
						  0),
			 -EBADMSG);
	rep[25] = 5;

	/* Request too short for the counts: nothing to check but framing. */
	make_reply(rep, req, 30);
	assert_int_equal(
		hvsim_ic_check_negotiate(req, 30, rep, 30, &res, NULL, 0), 0);
	assert_false(res.found);
	/* Counts present but no room for the pair: 1/1 is a lie. */
	make_reply(rep, req, 40);
	rep[18] = 0x10;
	rep[28] = 1;
	rep[30] = 1;
	assert_int_equal(hvsim_ic_check_negotiate(req, 40, rep, 40, &res, NULL,
						  0),
			 -EBADMSG);
}

static void expect_pick(const uint32_t *hfw, size_t nhfw, const uint32_t *hsvc,
			size_t nhsvc, size_t cut, const uint32_t *gfw,
			size_t ngfw, const uint32_t *gsvc, size_t ngsvc,
			bool found, uint32_t efw, uint32_t esvc)
{
	static uint8_t req[28 + 8 + 4 * 400];
	struct hvsim_ic_nego res;
	ssize_t n;

	n = hvsim_ic_build_negotiate(req, sizeof(req), 1, hfw, nhfw, hsvc,
				     nhsvc);
	assert_true(n > 0);
	assert_true((size_t)n >= cut);
	assert_int_equal(hvsim_ic_negotiate_expect(req, (size_t)n - cut, gfw,
						   ngfw, gsvc, ngsvc, &res),
			 0);
	assert_int_equal(res.found, found);
	if (found) {
		assert_int_equal(res.fw, efw);
		assert_int_equal(res.svc, esvc);
	}
}

static void test_negotiate_expect(void **state)
{
	static const uint32_t shut_fw[] = { V(3, 0), V(1, 0) };
	static const uint32_t shut_svc[] = { V(3, 2), V(3, 1), V(3, 0),
					     V(1, 0) };
	static const uint32_t host_fw[] = { V(1, 0), V(3, 0) };
	static const uint32_t host_svc[] = { V(1, 0), V(3, 0), V(3, 1) };
	static const uint32_t fc_fw[] = { V(3, 0) };
	static const uint32_t fc_svc[] = { V(1, 1) };
	static const uint32_t odd_fw[] = { V(3, 0), V(3, 2) };
	static const uint32_t one0[] = { V(1, 0) };
	static uint32_t many[101];
	size_t i;

	/* The guest's priority order wins over the host's. */
	expect_pick(host_fw, 2, host_svc, 3, 0, shut_fw, 2, shut_svc, 4, true,
		    V(3, 0), V(3, 1));
	/* No common service version. */
	expect_pick(host_fw, 2, one0, 1, 0, fc_fw, 1, fc_svc, 1, false, 0, 0);
	/* A service version listed among the frameworks does not count. */
	expect_pick(odd_fw, 2, one0, 1, 0, shut_fw, 2, shut_svc, 4, true,
		    V(3, 0), V(1, 0));
	/* No common framework. */
	expect_pick(one0, 1, fc_svc, 1, 0, fc_fw, 1, fc_svc, 1, false, 0, 0);

	/* Counts: 100 is allowed, 101 is refused even with a match. */
	for (i = 0; i < 101; i++)
		many[i] = V(9, i);
	many[99] = V(3, 0);
	expect_pick(many, 100, fc_svc, 1, 0, fc_fw, 1, fc_svc, 1, true, V(3, 0),
		    V(1, 1));
	expect_pick(many, 101, fc_svc, 1, 0, fc_fw, 1, fc_svc, 1, false, 0, 0);
	expect_pick(fc_fw, 1, many, 101, 0, fc_fw, 1, fc_svc, 1, false, 0, 0);

	/* Truncated offers. */
	expect_pick(host_fw, 2, host_svc, 3, 1, shut_fw, 2, shut_svc, 4, false,
		    0, 0);
	expect_pick(host_fw, 2, host_svc, 3, 20, shut_fw, 2, shut_svc, 4, false,
		    0, 0);
	expect_pick(host_fw, 2, host_svc, 3, 28 + 20 - 3, shut_fw, 2, shut_svc,
		    4, false, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_bytes),
		cmocka_unit_test(test_negotiate_bytes),
		cmocka_unit_test(test_negotiate_many),
		cmocka_unit_test(test_check_reply),
		cmocka_unit_test(test_check_negotiate),
		cmocka_unit_test(test_negotiate_expect),
	};

	return cmocka_run_group_tests_name("hvsim-ic", tests, NULL, NULL);
}
