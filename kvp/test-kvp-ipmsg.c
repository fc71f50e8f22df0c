/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hvis/util.h"
#include "kvp-ipmsg.h"
#include "kvp-proto.h"

/* Field positions from the §1.5 table, not from the code under test. */
#define IPVAL 4
#define ADAPTER (IPVAL + 0)
#define FAMILY (IPVAL + 256)
#define DHCP (IPVAL + 257)
#define ADDR (IPVAL + 258)
#define SUBNET (IPVAL + 2306)
#define GATEWAY (IPVAL + 4354)
#define DNS (IPVAL + 5378)
#define MSG 7432

static uint8_t msg[MSG];

static void put(size_t off, const char *s)
{
	memcpy(msg + off, s, strlen(s) + 1);
}

static void start(uint8_t op)
{
	memset(msg, 0, sizeof(msg));
	msg[0] = op;
}

static void test_decode_get(void **state)
{
	struct kvp_ip_fields f;

	start(KVP_OP_GET_IP_INFO);
	put(ADAPTER, "00:15:5D:01:02:03");
	msg[FAMILY] = ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6;
	/* GET carries nothing else: junk there is not looked at. */
	memset(msg + ADDR, 'x', MSG - ADDR);
	msg[DHCP] = 1;
	assert_int_equal(kvp_ipmsg_decode(msg, MSG, &f), 0);
	assert_string_equal(f.adapter_id, "00:15:5D:01:02:03");
	assert_int_equal(f.addr_family, 3);
	assert_false(f.dhcp_enabled);
	assert_string_equal(f.ip_addr, "");
	assert_string_equal(f.dns_addr, "");
}

static void test_decode_set(void **state)
{
	struct kvp_ip_fields f;

	start(KVP_OP_SET_IP_INFO);
	put(ADAPTER, "{f8615163-df3e-46c5-913f-f2d2f965ed0e}");
	put(ADDR, "10.0.0.5;2001:db8::5");
	put(SUBNET, "255.255.255.0;64");
	put(GATEWAY, "10.0.0.1");
	put(DNS, "10.0.0.53;2001:db8::53");
	msg[FAMILY] = ADDR_FAMILY_IPV4;
	msg[DHCP] = 7;
	assert_int_equal(kvp_ipmsg_decode(msg, MSG, &f), 0);
	assert_string_equal(f.adapter_id,
			    "{f8615163-df3e-46c5-913f-f2d2f965ed0e}");
	assert_string_equal(f.ip_addr, "10.0.0.5;2001:db8::5");
	assert_string_equal(f.sub_net, "255.255.255.0;64");
	assert_string_equal(f.gate_way, "10.0.0.1");
	assert_string_equal(f.dns_addr, "10.0.0.53;2001:db8::53");
	assert_int_equal(f.addr_family, ADDR_FAMILY_IPV4);
	assert_true(f.dhcp_enabled);
}

static void test_decode_refused(void **state)
{
	struct kvp_ip_fields f;

	memset(&f, 0x5a, sizeof(f));
	start(KVP_OP_GET_IP_INFO);
	put(ADAPTER, "00:15:5D:01:02:03");
	assert_int_equal(kvp_ipmsg_decode(msg, MSG - 1, &f), -EBADMSG);
	assert_int_equal(kvp_ipmsg_decode(msg, MSG + 1, &f), -EBADMSG);
	msg[0] = KVP_OP_ENUMERATE;
	assert_int_equal(kvp_ipmsg_decode(msg, MSG, &f), -EINVAL);
	/* Nothing was written on failure. */
	assert_int_equal(((uint8_t *)&f)[0], 0x5a);

	/* 127 bytes and the NUL fit the adapter id; 128 do not. */
	start(KVP_OP_GET_IP_INFO);
	memset(msg + ADAPTER, 'A', 127);
	assert_int_equal(kvp_ipmsg_decode(msg, MSG, &f), 0);
	assert_int_equal(strlen(f.adapter_id), 127);
	memset(msg + ADAPTER, 'A', 128);
	assert_int_equal(kvp_ipmsg_decode(msg, MSG, &f), -EINVAL);

	/* SET strings: 1023 bytes fit the 1024 of ip_addr, 1024 do not. */
	start(KVP_OP_SET_IP_INFO);
	put(ADAPTER, "{x}");
	memset(msg + ADDR, '1', 1023);
	assert_int_equal(kvp_ipmsg_decode(msg, MSG, &f), 0);
	assert_int_equal(strlen(f.ip_addr), 1023);
	msg[ADDR + 1023] = '1';
	assert_int_equal(kvp_ipmsg_decode(msg, MSG, &f), -EINVAL);
	msg[ADDR + 1023] = 0;
	/* The gateway field is the small one: 512 bytes. */
	memset(msg + GATEWAY, '2', 512);
	assert_int_equal(kvp_ipmsg_decode(msg, MSG, &f), -EINVAL);
	msg[GATEWAY + 511] = 0;
	assert_int_equal(kvp_ipmsg_decode(msg, MSG, &f), 0);
	/* And the last field, ending at the end of the message. */
	memset(msg + DNS, '3', MSG - DNS);
	assert_int_equal(kvp_ipmsg_decode(msg, MSG, &f), -EINVAL);
}

static void test_reply(void **state)
{
	struct kvp_ip_fields f = {
		.adapter_id = "00:15:5D:01:02:03",
		.addr_family = ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6,
		.dhcp_enabled = true,
		.ip_addr = "10.0.0.5;2001:db8::5",
		.sub_net = "255.255.255.0;/64",
		.gate_way = "10.0.0.1",
		.dns_addr = "10.0.0.53",
	};

	memset(msg, 0xaa, sizeof(msg));
	assert_int_equal(kvp_ipmsg_reply(msg, &f), 0);
	assert_string_equal((char *)msg + ADAPTER, "00:15:5D:01:02:03");
	assert_string_equal((char *)msg + ADDR, "10.0.0.5;2001:db8::5");
	assert_string_equal((char *)msg + SUBNET, "255.255.255.0;/64");
	assert_string_equal((char *)msg + GATEWAY, "10.0.0.1");
	assert_string_equal((char *)msg + DNS, "10.0.0.53");
	assert_int_equal(msg[FAMILY], 3);
	assert_int_equal(msg[DHCP], 1);
	/* The rest of each field is zeroed, the header left alone. */
	assert_int_equal(msg[ADDR + 2047], 0);
	assert_int_equal(msg[GATEWAY + 1023], 0);
	assert_int_equal(msg[DNS + 2047], 0);
	assert_int_equal(msg[ADAPTER + 255], 0);
	assert_int_equal(msg[0], 0xaa);

	f.dhcp_enabled = false;
	f.addr_family = 0;
	f.ip_addr[0] = '\0';
	assert_int_equal(kvp_ipmsg_reply(msg, &f), 0);
	assert_int_equal(msg[DHCP], 0);
	assert_int_equal(msg[FAMILY], 0);
	assert_int_equal(msg[ADDR], 0);
}

static void test_reply_refused(void **state)
{
	static struct kvp_ip_fields f;
	static uint8_t before[MSG];

	memset(&f, 0, sizeof(f));
	memset(f.gate_way, '1', sizeof(f.gate_way));
	memset(msg, 0x11, sizeof(msg));
	memcpy(before, msg, sizeof(msg));
	assert_int_equal(kvp_ipmsg_reply(msg, &f), -E2BIG);
	assert_memory_equal(msg, before, sizeof(msg));
	/* The largest strings that fit do. */
	memset(&f, 0, sizeof(f));
	memset(f.adapter_id, 'a', sizeof(f.adapter_id) - 1);
	memset(f.ip_addr, '1', sizeof(f.ip_addr) - 1);
	memset(f.sub_net, '2', sizeof(f.sub_net) - 1);
	memset(f.gate_way, '3', sizeof(f.gate_way) - 1);
	memset(f.dns_addr, '4', sizeof(f.dns_addr) - 1);
	assert_int_equal(kvp_ipmsg_reply(msg, &f), 0);
	assert_int_equal(strlen((char *)msg + ADDR), 1023);
	assert_int_equal(strlen((char *)msg + GATEWAY), 511);
	assert_int_equal(strlen((char *)msg + ADAPTER), 127);
}

static void test_round_trip(void **state)
{
	struct kvp_ip_fields in = {
		.adapter_id = "{guid}",
		.addr_family = 2,
		.dhcp_enabled = true,
		.ip_addr = "fe80::1",
		.sub_net = "/10",
		.gate_way = "fe80::2",
		.dns_addr = "2001:db8::53",
	};
	struct kvp_ip_fields out;

	start(KVP_OP_SET_IP_INFO);
	assert_int_equal(kvp_ipmsg_reply(msg, &in), 0);
	assert_int_equal(kvp_ipmsg_decode(msg, MSG, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_get),
		cmocka_unit_test(test_decode_set),
		cmocka_unit_test(test_decode_refused),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_reply_refused),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests_name("kvp-ipmsg", tests, NULL, NULL);
}
