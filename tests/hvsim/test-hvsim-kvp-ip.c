/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host-side helpers of GET_IP_INFO / SET_IP_INFO: spellings, list
 * building, control fields and printing. The conversions through the
 * kernel model are tested in test-hvsim-kvp.c; the whole path against
 * the real daemon in tests/test-kvp-ipinfo.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvsim-kvp-ip.h"

static void test_mac(void **state)
{
	char out[HVSIM_KVP_IP_MAC_SIZE];

	assert_int_equal(hvsim_kvp_ip_mac("00:15:5d:0a:0b:0c", out), 0);
	assert_string_equal(out, "00:15:5D:0A:0B:0C");
	assert_int_equal(hvsim_kvp_ip_mac("00-15-5D-0A-0B-FF", out), 0);
	assert_string_equal(out, "00:15:5D:0A:0B:FF");
	assert_int_equal(hvsim_kvp_ip_mac("00155d0a0b0c", out), 0);
	assert_string_equal(out, "00:15:5D:0A:0B:0C");
	assert_int_equal(hvsim_kvp_ip_mac("00:15:5d-0a:0b:0c", out), -EINVAL);
	assert_int_equal(hvsim_kvp_ip_mac("00:15:5d:0a:0b", out), -EINVAL);
	assert_int_equal(hvsim_kvp_ip_mac("00:15:5d:0a:0b:0g", out), -EINVAL);
	assert_int_equal(hvsim_kvp_ip_mac("00155d0a0b0", out), -EINVAL);
	assert_int_equal(hvsim_kvp_ip_mac("", out), -EINVAL);
	assert_int_equal(hvsim_kvp_ip_mac(NULL, out), -EINVAL);
}

static void test_guid(void **state)
{
	char out[HVSIM_KVP_IP_GUID_SIZE];

	assert_int_equal(
		hvsim_kvp_ip_guid("F8615163-DF3E-46C5-913F-F2D2F965ED0E", out),
		0);
	assert_string_equal(out, "{f8615163-df3e-46c5-913f-f2d2f965ed0e}");
	assert_int_equal(hvsim_kvp_ip_guid(
				 "{f8615163-df3e-46c5-913f-f2d2f965ed0e}", out),
			 0);
	assert_string_equal(out, "{f8615163-df3e-46c5-913f-f2d2f965ed0e}");
	assert_int_equal(
		hvsim_kvp_ip_guid("f8615163df3e-46c5-913f-f2d2f965ed0e0", out),
		-EINVAL);
	assert_int_equal(
		hvsim_kvp_ip_guid("{f8615163-df3e-46c5-913f-f2d2f965ed0e", out),
		-EINVAL);
	assert_int_equal(
		hvsim_kvp_ip_guid("x8615163-df3e-46c5-913f-f2d2f965ed0e", out),
		-EINVAL);
}

static void test_build(void **state)
{
	struct hvsim_kvp_ip ip;
	char why[128];
	struct hvsim_kvp_ip_set_args a = {
		.adapter = "F8615163-DF3E-46C5-913F-F2D2F965ED0E",
		.ip = "10.0.0.5, 2001:db8::5",
		.subnet = "255.255.255.0;64",
		.gateway = "10.0.0.1",
		.dns = " 10.0.0.53 ,10.0.0.54 ",
		.family = -1,
	};

	assert_int_equal(hvsim_kvp_ip_build_set(&a, &ip, why, sizeof(why)), 0);
	assert_string_equal(ip.adapter_id,
			    "{f8615163-df3e-46c5-913f-f2d2f965ed0e}");
	assert_string_equal(ip.ip_addr, "10.0.0.5;2001:db8::5");
	assert_string_equal(ip.sub_net, "255.255.255.0;64");
	assert_string_equal(ip.gate_way, "10.0.0.1");
	assert_string_equal(ip.dns_addr, "10.0.0.53;10.0.0.54");
	assert_int_equal(ip.addr_family, ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6);
	assert_int_equal(ip.dhcp_enabled, 0);

	/* DHCP alone: IPv4 family, empty lists. */
	a = (struct hvsim_kvp_ip_set_args){ .adapter = a.adapter,
					    .dhcp = true,
					    .family = -1 };
	assert_int_equal(hvsim_kvp_ip_build_set(&a, &ip, why, sizeof(why)), 0);
	assert_int_equal(ip.dhcp_enabled, 1);
	assert_int_equal(ip.addr_family, ADDR_FAMILY_IPV4);
	assert_string_equal(ip.ip_addr, "");

	/* An explicit family and a raw adapter go through untouched. */
	a.family = 0;
	a.raw_adapter = true;
	a.adapter = "not-a-guid";
	assert_int_equal(hvsim_kvp_ip_build_set(&a, &ip, why, sizeof(why)), 0);
	assert_string_equal(ip.adapter_id, "not-a-guid");
	assert_int_equal(ip.addr_family, 0);

	/* Refusals, with a reason. */
	a.raw_adapter = false;
	assert_int_equal(hvsim_kvp_ip_build_set(&a, &ip, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "GUID"));
	a.adapter = "{f8615163-df3e-46c5-913f-f2d2f965ed0e}";
	a.ip = "10.0.0.5";
	assert_int_equal(hvsim_kvp_ip_build_set(&a, &ip, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "subnet"));
	a.subnet = "255.0.0.0";
	a.dns = "10.0.0.1,,10.0.0.2";
	assert_int_equal(hvsim_kvp_ip_build_set(&a, &ip, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "empty"));
	{
		char *big = malloc(600);

		assert_non_null(big);
		memset(big, '1', 599);
		big[599] = '\0';
		a.dns = NULL;
		a.gateway = big;
		assert_int_equal(hvsim_kvp_ip_build_set(&a, &ip, NULL, 0),
				 -E2BIG);
		free(big);
	}
}

static void test_split_fields(void **state)
{
	struct hvsim_kvp_ip ip = { .addr_family = 3, .dhcp_enabled = 1 }, back;
	const char *items[4], *fields[HVSIM_KVP_IP_FIELDS];
	char buf[64], num[2][4];

	assert_int_equal(
		hvsim_kvp_ip_split("a;b;;c;", buf, sizeof(buf), items, 4), 3);
	assert_string_equal(items[2], "c");
	assert_int_equal(hvsim_kvp_ip_split("", buf, sizeof(buf), items, 4), 0);
	assert_int_equal(hvsim_kvp_ip_split("a;b;c;d;e", buf, sizeof(buf),
					    items, 4),
			 -E2BIG);
	assert_int_equal(hvsim_kvp_ip_split("abc", buf, 3, items, 4), -E2BIG);

	snprintf(ip.ip_addr, sizeof(ip.ip_addr), "%s", "10.0.0.5");
	snprintf(ip.sub_net, sizeof(ip.sub_net), "%s", "255.0.0.0");
	snprintf(ip.gate_way, sizeof(ip.gate_way), "%s", "10.0.0.1");
	hvsim_kvp_ip_to_fields(&ip, num, fields);
	assert_string_equal(fields[0], "3");
	assert_string_equal(fields[1], "1");
	assert_int_equal(hvsim_kvp_ip_from_fields(fields, 6, &back), 0);
	assert_string_equal(back.ip_addr, "10.0.0.5");
	assert_string_equal(back.gate_way, "10.0.0.1");
	assert_string_equal(back.dns_addr, "");
	assert_int_equal(back.addr_family, 3);
	assert_int_equal(back.dhcp_enabled, 1);
	assert_int_equal(hvsim_kvp_ip_from_fields(fields, 5, &back), -EINVAL);
	fields[0] = "256";
	assert_int_equal(hvsim_kvp_ip_from_fields(fields, 6, &back), -EINVAL);
	fields[0] = "01";
	assert_int_equal(hvsim_kvp_ip_from_fields(fields, 6, &back), -EINVAL);
}

static void test_print(void **state)
{
	struct hvsim_kvp_ip ip = { .addr_family = 3, .dhcp_enabled = 1 };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(ip.ip_addr, sizeof(ip.ip_addr), "%s", "10.0.0.5;2001:db8::5");
	snprintf(ip.sub_net, sizeof(ip.sub_net), "%s", "255.255.255.0;/64");
	snprintf(ip.dns_addr, sizeof(ip.dns_addr), "%s", "10.0.0.53\n");
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(hvsim_kvp_ip_print(f, "00:15:5D:00:00:01", &ip,
					    HV_S_OK, false),
			 0);
	fclose(f);
	assert_non_null(strstr(text, "IPAddresses   : {10.0.0.5, "
				     "2001:db8::5}\n"));
	assert_non_null(strstr(text, "Subnets       : {255.255.255.0, /64}"));
	assert_non_null(strstr(text, "Gateways      : {}"));
	assert_non_null(strstr(text, "DnsServers    : {10.0.0.53\\x0a}"));
	assert_non_null(strstr(text, "DhcpEnabled   : True"));
	assert_non_null(strstr(text, "AddressFamily : IPv4, IPv6"));
	assert_non_null(strstr(text, "Status        : HV_S_OK"));
	free(text);

	text = NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(hvsim_kvp_ip_print(f, "x\"y", &ip, 0x12345678, true),
			 0);
	fclose(f);
	assert_string_equal(
		text,
		"{\"adapter\": \"x\\\"y\", \"status\": \"0x12345678\", "
		"\"IPAddresses\": [\"10.0.0.5\", \"2001:db8::5\"], "
		"\"Subnets\": [\"255.255.255.0\", \"/64\"], \"Gateways\": [], "
		"\"DnsServers\": [\"10.0.0.53\\u000a\"], \"DhcpEnabled\": "
		"true, \"AddressFamily\": 3}\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_guid),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_split_fields),
		cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests_name("hvsim-kvp-ip", tests, NULL, NULL);
}
