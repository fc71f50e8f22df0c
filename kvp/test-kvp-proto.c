/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hvis/util.h"
#include "kvp-proto.h"

/* Offsets from protocol.md §1.5, written out so a layout slip shows. */
#define OFF_SET_VTYPE 4
#define OFF_SET_KSIZE 8
#define OFF_SET_VSIZE 12
#define OFF_SET_KEY 16
#define OFF_SET_VALUE 528
#define OFF_ENUM_INDEX 4
#define OFF_ENUM_KSIZE 12
#define OFF_ENUM_VSIZE 16
#define OFF_ENUM_KEY 20
#define OFF_ENUM_VALUE 532
#define OFF_DEL_KSIZE 4
#define OFF_DEL_KEY 8

static uint8_t msg[7432];

static void build(uint8_t op, uint8_t pool)
{
	memset(msg, 0xa5, sizeof(msg)); /* garbage the decoder must ignore */
	msg[0] = op;
	msg[1] = pool;
}

static void put_set(const char *key, uint32_t ksize, const char *value,
		    uint32_t vsize)
{
	memset(msg + OFF_SET_KEY, 0, 512);
	memcpy(msg + OFF_SET_KEY, key, strlen(key));
	hv_put_le32(msg + OFF_SET_KSIZE, ksize);
	memset(msg + OFF_SET_VALUE, 0, 2048);
	memcpy(msg + OFF_SET_VALUE, value, strlen(value));
	hv_put_le32(msg + OFF_SET_VSIZE, vsize);
	hv_put_le32(msg + OFF_SET_VTYPE, REG_SZ);
}

static void test_sizes(void **state)
{
	struct kvp_request req;

	assert_int_equal(KVP_MSG_SIZE, 7432);
	build(KVP_OP_GET, 0);
	assert_int_equal(kvp_proto_decode(msg, 7431, &req), -EBADMSG);
	assert_int_equal(kvp_proto_decode(msg, 7433, &req), -EBADMSG);
	assert_int_equal(kvp_proto_decode(msg, 0, &req), -EBADMSG);
}

static void test_set(void **state)
{
	struct kvp_request req;

	build(KVP_OP_SET, 1);
	put_set("EEE", 4, "555", 4);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), 0);
	assert_int_equal(req.op, KVP_OP_SET);
	assert_int_equal(req.pool, 1);
	assert_string_equal(req.key, "EEE");
	assert_string_equal(req.value, "555");
	assert_int_equal(req.value_type, REG_SZ);

	/* An empty value is a value. */
	put_set("k", 2, "", 0);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), 0);
	assert_string_equal(req.value, "");

	/* Full-size key and value. */
	memset(msg + OFF_SET_KEY, 'k', 511);
	msg[OFF_SET_KEY + 511] = 0;
	hv_put_le32(msg + OFF_SET_KSIZE, 512);
	memset(msg + OFF_SET_VALUE, 'v', 2047);
	msg[OFF_SET_VALUE + 2047] = 0;
	hv_put_le32(msg + OFF_SET_VSIZE, 2048);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), 0);
	assert_int_equal(strlen(req.key), 511);
	assert_int_equal(strlen(req.value), 2047);
}

static void test_set_bad_sizes(void **state)
{
	struct kvp_request req;

	build(KVP_OP_SET, 0);
	put_set("key", 513, "v", 2);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), -EINVAL);
	assert_int_equal(req.op, KVP_OP_SET);
	put_set("key", 0, "v", 2);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), -EINVAL);
	put_set("key", 4, "v", 2049);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), -EINVAL);
	put_set("key", 0xffffffff, "v", 2);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), -EINVAL);
	/* key_size says 3 but the NUL is at 3: no terminator inside. */
	put_set("key", 3, "v", 2);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), -EINVAL);
	/* Key field with no NUL at all. */
	put_set("key", 512, "v", 2);
	memset(msg + OFF_SET_KEY, 'x', 512);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), -EINVAL);
	/* Value without a NUL inside value_size. */
	put_set("key", 4, "value", 3);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), -EINVAL);
	memset(msg + OFF_SET_VALUE, 'v', 2048);
	hv_put_le32(msg + OFF_SET_KSIZE, 4);
	hv_put_le32(msg + OFF_SET_VSIZE, 2048);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), -EINVAL);
}

static void test_get_delete_enumerate(void **state)
{
	struct kvp_request req;

	build(KVP_OP_GET, 3);
	put_set("HostName", 9, "", 0);
	/* GET quirk: value_size stays 0, anything in value is ignored. */
	memset(msg + OFF_SET_VALUE, 'z', 2048);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), 0);
	assert_string_equal(req.key, "HostName");
	assert_string_equal(req.value, "");

	build(KVP_OP_DELETE, 0);
	memset(msg + OFF_DEL_KEY, 0, 512);
	memcpy(msg + OFF_DEL_KEY, "AAA", 3);
	hv_put_le32(msg + OFF_DEL_KSIZE, 4);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), 0);
	assert_string_equal(req.key, "AAA");
	hv_put_le32(msg + OFF_DEL_KSIZE, 600);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), -EINVAL);

	build(KVP_OP_ENUMERATE, 2);
	hv_put_le32(msg + OFF_ENUM_INDEX, 7);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), 0);
	assert_int_equal(req.index, 7);
	assert_int_equal(req.pool, 2);
}

static void test_bad_op_pool(void **state)
{
	struct kvp_request req;

	build(6, 0);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), -EOPNOTSUPP);
	assert_int_equal(req.op, 6);
	build(KVP_OP_ENUMERATE, 5);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), -EINVAL);
	assert_int_equal(req.pool, 5);
	build(KVP_OP_GET, 255);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), -EINVAL);
}

static void test_register_reply(void **state)
{
	struct kvp_request req;

	build(KVP_OP_REGISTER1, 0);
	memcpy(msg + 4, "3.1", 4);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), 0);
	assert_string_equal(req.value, "3.1");
	/* No NUL in the version field: bounded, terminated. */
	memset(msg + 4, '9', 600);
	assert_int_equal(kvp_proto_decode(msg, sizeof(msg), &req), 0);
	assert_int_equal(strlen(req.value), 511);

	kvp_proto_build_register(msg);
	assert_int_equal(msg[0], 100);
	for (size_t i = 1; i < sizeof(msg); i++)
		assert_int_equal(msg[i], 0);
}

static void test_replies(void **state)
{
	uint32_t status;

	build(KVP_OP_ENUMERATE, 1);
	kvp_proto_set_status(msg, HV_S_OK);
	assert_int_equal(kvp_proto_reply_enumerate(msg, "BBB", "111"), 0);
	memcpy(&status, msg, 4);
	assert_int_equal(status, HV_S_OK);
	assert_string_equal((char *)msg + OFF_ENUM_KEY, "BBB");
	assert_int_equal(hv_le32(msg + OFF_ENUM_KSIZE), 4);
	assert_string_equal((char *)msg + OFF_ENUM_VALUE, "111");
	assert_int_equal(hv_le32(msg + OFF_ENUM_VSIZE), 4);
	/* The rest of each field is zeroed, not left as garbage. */
	assert_int_equal(msg[OFF_ENUM_KEY + 511], 0);
	assert_int_equal(msg[OFF_ENUM_VALUE + 2047], 0);

	build(KVP_OP_GET, 0);
	assert_int_equal(kvp_proto_reply_get(msg, "999"), 0);
	assert_string_equal((char *)msg + OFF_SET_VALUE, "999");
	assert_int_equal(hv_le32(msg + OFF_SET_VSIZE), 4);
	assert_int_equal(hv_le32(msg + OFF_SET_VTYPE), REG_SZ);

	char big[2100];

	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(kvp_proto_reply_get(msg, big), -E2BIG);
	big[2047] = 0;
	assert_int_equal(kvp_proto_reply_get(msg, big), 0);
	assert_int_equal(kvp_proto_reply_enumerate(msg, big, "v"), -E2BIG);

	kvp_proto_set_status(msg, HV_S_CONT);
	memcpy(&status, msg, 4);
	assert_int_equal(status, HV_S_CONT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_bad_sizes),
		cmocka_unit_test(test_get_delete_enumerate),
		cmocka_unit_test(test_bad_op_pool),
		cmocka_unit_test(test_register_reply),
		cmocka_unit_test(test_replies),
	};

	return cmocka_run_group_tests_name("kvp-proto", tests, NULL, NULL);
}
