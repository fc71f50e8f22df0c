/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hvis/util.h"
#include "vss-proto.h"

static void msg_op(uint8_t *m, uint8_t op)
{
	memset(m, 0, VSS_MSG_SIZE);
	m[0] = op;
}

static void test_decode_ops(void **state)
{
	static const uint8_t ops[] = { VSS_OP_FREEZE, VSS_OP_THAW,
				       VSS_OP_HOT_BACKUP };
	struct vss_request req;
	uint8_t m[VSS_MSG_SIZE];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		msg_op(m, ops[i]);
		assert_int_equal(vss_proto_decode(m, sizeof(m), &req), 0);
		assert_int_equal(req.op, ops[i]);
		assert_int_equal(req.flags, 0);
	}
	/* Flags are passed along, little-endian. */
	msg_op(m, VSS_OP_HOT_BACKUP);
	hv_put_le32(m + 8, 0x01020305);
	assert_int_equal(vss_proto_decode(m, sizeof(m), &req), 0);
	assert_int_equal(req.flags, 0x01020305);
}

static void test_decode_bad(void **state)
{
	struct vss_request req;
	uint8_t m[VSS_MSG_SIZE + 4];
	unsigned op;
	size_t i;

	/* Lengths other than 12 (including the 4-byte registration). */
	msg_op(m, VSS_OP_FREEZE);
	assert_int_equal(vss_proto_decode(m, 11, &req), -EBADMSG);
	assert_int_equal(req.op, 0xff);
	assert_int_equal(vss_proto_decode(m, 13, &req), -EBADMSG);
	assert_int_equal(vss_proto_decode(m, 4, &req), -EBADMSG);
	assert_int_equal(vss_proto_decode(m, 0, &req), -EBADMSG);
	assert_int_equal(vss_proto_decode(NULL, 12, &req), -EBADMSG);

	/* Operations the kernel never forwards. */
	for (op = 0; op < 256; op++) {
		if (op == VSS_OP_FREEZE || op == VSS_OP_THAW ||
		    op == VSS_OP_HOT_BACKUP)
			continue;
		msg_op(m, (uint8_t)op);
		assert_int_equal(vss_proto_decode(m, VSS_MSG_SIZE, &req),
				 -EOPNOTSUPP);
		assert_int_equal(req.op, op);
	}

	/* Every reserved byte must be zero; op is still reported. */
	for (i = 1; i < 8; i++) {
		msg_op(m, VSS_OP_THAW);
		m[i] = 1;
		assert_int_equal(vss_proto_decode(m, VSS_MSG_SIZE, &req),
				 -EINVAL);
		assert_int_equal(req.op, VSS_OP_THAW);
	}
}

static void test_register(void **state)
{
	uint8_t m[VSS_MSG_SIZE];
	uint8_t r[8];
	size_t i;

	memset(m, 0xaa, sizeof(m));
	vss_proto_build_register(m);
	assert_int_equal(m[0], VSS_OP_REGISTER1);
	for (i = 1; i < sizeof(m); i++)
		assert_int_equal(m[i], 0);

	hv_put_le32(r, VSS_OP_REGISTER1);
	assert_int_equal(vss_proto_check_register_reply(r, 4), 0);
	assert_int_equal(vss_proto_check_register_reply(r, 3), -EBADMSG);
	assert_int_equal(vss_proto_check_register_reply(r, 8), -EBADMSG);
	assert_int_equal(vss_proto_check_register_reply(NULL, 4), -EBADMSG);
	hv_put_le32(r, VSS_OP_REGISTER);
	assert_int_equal(vss_proto_check_register_reply(r, 4), -EPROTO);
	hv_put_le32(r, VSS_OP_REGISTER1 | 0x100);
	assert_int_equal(vss_proto_check_register_reply(r, 4), -EPROTO);
}

static void test_status(void **state)
{
	uint8_t m[VSS_MSG_SIZE];

	msg_op(m, VSS_OP_HOT_BACKUP);
	hv_put_le32(m + 8, 7);
	assert_int_equal(vss_proto_set_status(m, HV_E_FAIL), 0);
	assert_int_equal(hv_le32(m), HV_E_FAIL);
	/* The rest goes back as received. */
	assert_int_equal(hv_le32(m + 8), 7);
	assert_int_equal(vss_proto_set_status(m, HV_S_OK), 0);
	assert_int_equal(hv_le32(m), 0);
	/* A status the kernel would take for a registration is refused. */
	assert_int_equal(vss_proto_set_status(m, 0x80000080), -EINVAL);
	assert_int_equal(vss_proto_set_status(m, 129), -EINVAL);
	assert_int_equal(hv_le32(m), 0);
}

static void test_names(void **state)
{
	assert_string_equal(vss_op_name(VSS_OP_FREEZE), "FREEZE");
	assert_string_equal(vss_op_name(VSS_OP_THAW), "THAW");
	assert_string_equal(vss_op_name(VSS_OP_HOT_BACKUP), "HOT_BACKUP");
	assert_string_equal(vss_op_name(VSS_OP_REGISTER1), "REGISTER1");
	assert_string_equal(vss_op_name(200), "?");
	assert_string_equal(vss_op_name(VSS_OP_COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_ops),
		cmocka_unit_test(test_decode_bad),
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("vss-proto", tests, NULL, NULL);
}
