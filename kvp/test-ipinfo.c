/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <ftw.h>

#include "hvis/util.h"
#include "ipinfo.h"

#define UPRUN (IFF_UP | IFF_RUNNING)

/* A snapshot built by hand: what the three dumps would give. */
static struct ipinfo_link links[8];
static struct ipinfo_addr addrs[128];
static struct ipinfo_gateway gws[64];
static struct ipinfo_snapshot snap;
static struct kvp_ip_fields f;

static void reset(void)
{
	memset(links, 0, sizeof(links));
	memset(addrs, 0, sizeof(addrs));
	memset(gws, 0, sizeof(gws));
	snap = (struct ipinfo_snapshot){ .links = links,
					 .addrs = addrs,
					 .gws = gws };
	memset(&f, 0, sizeof(f));
}

static void link_add(int ifindex, const char *name, const char *mac,
		     unsigned int flags, int master)
{
	struct ipinfo_link *l = &links[snap.n_links++];

	l->ifindex = ifindex;
	l->master = master;
	l->flags = flags;
	hv_strscpy(l->name, name, sizeof(l->name));
	hv_strscpy(l->mac, mac, sizeof(l->mac));
}

static void addr_add(int ifindex, const char *text, unsigned int plen)
{
	struct ipinfo_addr *a = &addrs[snap.n_addrs++];

	a->ifindex = ifindex;
	a->family = strchr(text, ':') ? AF_INET6 : AF_INET;
	a->prefixlen = plen;
	assert_int_equal(inet_pton(a->family, text, &a->addr), 1);
}

static void gw_add(int ifindex, const char *text, uint32_t metric)
{
	struct ipinfo_gateway *g = &gws[snap.n_gws++];

	g->ifindex = ifindex;
	g->family = strchr(text, ':') ? AF_INET6 : AF_INET;
	g->metric = metric;
	assert_int_equal(inet_pton(g->family, text, &g->addr), 1);
}

/* Select, then fill; returns the chosen link's name or "-ENODEV". */
static const char *answer(const char *mac, unsigned int flags)
{
	unsigned int matches;
	int li = ipinfo_select(&snap, mac, flags, &matches);

	memset(&f, 0, sizeof(f));
	if (li < 0)
		return "-ENODEV";
	ipinfo_fill(&snap, (size_t)li, flags, &f);
	return links[li].name;
}

static void test_format_mac(void **state)
{
	const uint8_t hw[] = { 0x00, 0x15, 0x5d, 0xab, 0xcd, 0xef };
	char out[32];

	assert_int_equal(ipinfo_format_mac(hw, 6, out, sizeof(out)), 17);
	assert_string_equal(out, "00:15:5D:AB:CD:EF");
	assert_int_equal(ipinfo_format_mac(hw, 6, out, 18), 17);
	assert_int_equal(ipinfo_format_mac(hw, 6, out, 17), -E2BIG);
	assert_int_equal(ipinfo_format_mac(hw, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void test_basic(void **state)
{
	reset();
	link_add(1, "lo", "00:00:00:00:00:00", UPRUN | IFF_LOOPBACK, 0);
	link_add(2, "eth0", "00:15:5D:00:00:01", UPRUN, 0);
	addr_add(1, "127.0.0.1", 8);
	addr_add(2, "2001:db8::5", 64);
	addr_add(2, "10.0.0.5", 24);
	addr_add(2, "fe80::215:5dff:fe00:1", 64);
	addr_add(2, "10.1.0.5", 16);
	gw_add(2, "10.0.0.1", 100);
	gw_add(2, "fe80::1", 1024);

	assert_string_equal(answer("00:15:5D:00:00:01", 0), "eth0");
	/* IPv4 first, then IPv6, each in the kernel's order. */
	assert_string_equal(f.ip_addr, "10.0.0.5;10.1.0.5;2001:db8::5");
	assert_string_equal(f.sub_net, "255.255.255.0;255.255.0.0;/64");
	assert_string_equal(f.gate_way, "10.0.0.1;fe80::1");
	assert_int_equal(f.addr_family, ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6);
	/* The MAC text is compared ignoring case. */
	assert_string_equal(answer("00:15:5d:00:00:01", 0), "eth0");
	/* Link-local only on request. */
	assert_string_equal(answer("00:15:5D:00:00:01", KVP_IPINFO_LINK_LOCAL),
			    "eth0");
	assert_string_equal(f.ip_addr, "10.0.0.5;10.1.0.5;2001:db8::5;"
				       "fe80::215:5dff:fe00:1");
	assert_string_equal(f.sub_net, "255.255.255.0;255.255.0.0;/64;/64");
	/* Unknown MACs, other spellings and lo's zeros match nothing. */
	assert_string_equal(answer("00:15:5D:00:00:02", 0), "-ENODEV");
	assert_string_equal(answer("00-15-5D-00-00-01", 0), "-ENODEV");
	assert_string_equal(answer("00:15:5D:00:00:01 ", 0), "-ENODEV");
	assert_string_equal(answer("00:00:00:00:00:00", 0), "-ENODEV");
	assert_string_equal(answer("", 0), "-ENODEV");
}

static void test_exact_names(void **state)
{
	reset();
	/* eth1 listed after eth10: nothing about names can confuse them. */
	link_add(11, "eth10", "00:15:5D:00:00:10", UPRUN, 0);
	link_add(3, "eth1", "00:15:5D:00:00:01", UPRUN, 0);
	addr_add(11, "10.10.0.5", 24);
	addr_add(3, "10.1.0.5", 24);
	gw_add(11, "10.10.0.1", 0);
	gw_add(3, "10.1.0.1", 0);
	assert_string_equal(answer("00:15:5D:00:00:01", 0), "eth1");
	assert_string_equal(f.ip_addr, "10.1.0.5");
	assert_string_equal(f.gate_way, "10.1.0.1");
	assert_string_equal(answer("00:15:5D:00:00:10", 0), "eth10");
	assert_string_equal(f.ip_addr, "10.10.0.5");
	assert_string_equal(f.gate_way, "10.10.0.1");
}

static void test_sriov(void **state)
{
	unsigned int matches = 0;

	reset();
	/* The VF (lower ifindex, enslaved) shares the synthetic NIC's MAC. */
	link_add(2, "enP1s1", "00:15:5D:00:00:01", UPRUN | IFF_SLAVE, 4);
	link_add(4, "eth0", "00:15:5D:00:00:01", UPRUN, 0);
	addr_add(4, "10.0.0.5", 24);
	assert_string_equal(answer("00:15:5D:00:00:01", 0), "eth0");
	assert_string_equal(f.ip_addr, "10.0.0.5");
	assert_int_equal(ipinfo_select(&snap, "00:15:5D:00:00:01", 0, &matches),
			 1);
	assert_int_equal(matches, 2);

	/* Neither has an address: the one without a master answers. */
	snap.n_addrs = 0;
	assert_string_equal(answer("00:15:5D:00:00:01", 0), "eth0");
	assert_string_equal(f.ip_addr, "");
	assert_int_equal(f.addr_family, 0);

	/* Both enslaved (a bond, say) and bare: the lowest ifindex. */
	links[1].master = 9;
	assert_string_equal(answer("00:15:5D:00:00:01", 0), "enP1s1");

	/* Only link-local on the VF: it has nothing to report either. */
	links[1].master = 0;
	addr_add(2, "fe80::1", 64);
	assert_string_equal(answer("00:15:5D:00:00:01", 0), "eth0");
	assert_string_equal(answer("00:15:5D:00:00:01", KVP_IPINFO_LINK_LOCAL),
			    "enP1s1");
}

static void test_down(void **state)
{
	reset();
	link_add(2, "eth0", "00:15:5D:00:00:01", IFF_UP, 0); /* no carrier */
	link_add(3, "eth1", "00:15:5D:00:00:02", 0, 0);
	addr_add(2, "10.0.0.5", 24);
	addr_add(3, "10.1.0.5", 24);
	gw_add(2, "10.0.0.1", 0);
	/* Down interfaces still match and report nothing. */
	assert_string_equal(answer("00:15:5D:00:00:01", 0), "eth0");
	assert_string_equal(f.ip_addr, "");
	assert_string_equal(f.sub_net, "");
	assert_string_equal(f.gate_way, "");
	assert_int_equal(f.addr_family, 0);
	assert_string_equal(answer("00:15:5D:00:00:02", 0), "eth1");
	assert_string_equal(f.ip_addr, "");
}

static void test_filters(void **state)
{
	reset();
	link_add(2, "eth0", "00:15:5D:00:00:01", UPRUN, 0);
	addr_add(2, "169.254.1.1", 16);
	addr_add(2, "0.0.0.0", 0);
	addr_add(2, "224.0.0.1", 4);
	addr_add(2, "::1", 128);
	addr_add(2, "ff02::1", 8);
	addr_add(2, "10.0.0.5", 32);
	addr_add(2, "10.0.0.6", 0);
	addr_add(2, "2001:db8::1", 128);
	gw_add(2, "10.0.0.1", 0);
	assert_string_equal(answer("00:15:5D:00:00:01", 0), "eth0");
	assert_string_equal(f.ip_addr, "10.0.0.5;10.0.0.6;2001:db8::1");
	assert_string_equal(f.sub_net, "255.255.255.255;0.0.0.0;/128");
	assert_string_equal(answer("00:15:5D:00:00:01", KVP_IPINFO_LINK_LOCAL),
			    "eth0");
	assert_string_equal(f.ip_addr,
			    "169.254.1.1;10.0.0.5;10.0.0.6;2001:db8::1");

	/* Only link-local: nothing to report, gateways included. */
	reset();
	link_add(2, "eth0", "00:15:5D:00:00:01", UPRUN, 0);
	addr_add(2, "fe80::5", 64);
	gw_add(2, "fe80::1", 0);
	assert_string_equal(answer("00:15:5D:00:00:01", 0), "eth0");
	assert_string_equal(f.ip_addr, "");
	assert_string_equal(f.gate_way, "");
}

static void test_gateways(void **state)
{
	reset();
	link_add(2, "eth0", "00:15:5D:00:00:01", UPRUN, 0);
	link_add(3, "eth1", "00:15:5D:00:00:02", UPRUN, 0);
	addr_add(2, "10.0.0.5", 24);
	addr_add(3, "10.1.0.5", 24);
	/* Only eth0's, by metric, IPv4 first, each once. */
	gw_add(2, "2001:db8::1", 100);
	gw_add(2, "10.0.0.3", 300);
	gw_add(3, "10.1.0.1", 0);
	gw_add(2, "10.0.0.2", 200);
	gw_add(2, "10.0.0.1", 100);
	gw_add(2, "10.0.0.2", 50);
	gw_add(2, "2001:db8::2", 10);
	assert_string_equal(answer("00:15:5D:00:00:01", 0), "eth0");
	assert_string_equal(
		f.gate_way,
		"10.0.0.2;10.0.0.1;10.0.0.3;2001:db8::2;2001:db8::1");
	assert_string_equal(answer("00:15:5D:00:00:02", 0), "eth1");
	assert_string_equal(f.gate_way, "10.1.0.1");
}

static void test_bounds(void **state)
{
	char text[64], *p;
	size_t n;

	reset();
	link_add(2, "eth0", "00:15:5D:00:00:01", UPRUN, 0);
	/* 100 IPv6 addresses of 18 bytes: far beyond 1023 bytes. */
	for (int i = 0; i < 100; i++) {
		snprintf(text, sizeof(text), "2001:db8:1:2::%x", 0x1000 + i);
		addr_add(2, text, 64);
	}
	/* 40 gateways of 24 bytes: 20 fit in 511. */
	for (int i = 0; i < 40; i++) {
		snprintf(text, sizeof(text), "2001:db8:ffff:ffff::%x",
			 0x1000 + i);
		gw_add(2, text, (uint32_t)i);
	}
	assert_string_equal(answer("00:15:5D:00:00:01", 0), "eth0");
	assert_true(strlen(f.ip_addr) <= 1023);
	assert_true(strlen(f.gate_way) <= 511);
	/* Whole entries: the list ends with a complete address. */
	p = strrchr(f.ip_addr, ';');
	assert_non_null(p);
	assert_int_equal(inet_pton(AF_INET6, p + 1, text), 1);
	/* Paired: as many subnets as addresses. */
	n = 1;
	for (p = f.ip_addr; *p; p++)
		n += *p == ';';
	assert_int_equal(n, 1024 / 19);
	for (p = f.sub_net; *p; p++)
		n -= *p == ';';
	assert_int_equal(n, 1);
	assert_int_equal(strlen(f.sub_net), 4 * (1024 / 19) - 1);
	p = strrchr(f.gate_way, ';');
	assert_int_equal(inet_pton(AF_INET6, p + 1, text), 1);
	assert_int_equal(strlen(f.gate_way), 20 * 25 - 1);
}

/* The real thing: this machine's interfaces through netlink. */
static void test_system(void **state)
{
	struct kvp_ipinfo *ii = NULL;
	struct kvp_ipinfo_result res;
	struct kvp_ip_fields out;
	char long_mac[200];

	assert_int_equal(kvp_ipinfo_new(
				 &(struct kvp_ipinfo_config){
					 .run_dir = "/nonexistent",
					 .conf_dir = "/nonexistent" },
				 &ii),
			 0);
	/* A locally administered MAC no test machine has. */
	assert_int_equal(kvp_ipinfo_get(ii, "02:00:5E:10:00:99", &out, &res),
			 -ENODEV);
	assert_int_equal(kvp_ipinfo_get(ii, "not a mac", &out, &res), -ENODEV);
	memset(long_mac, 'A', sizeof(long_mac) - 1);
	long_mac[sizeof(long_mac) - 1] = '\0';
	assert_int_equal(kvp_ipinfo_get(ii, long_mac, &out, &res), -E2BIG);
	/* Repeated requests reuse the socket and caches. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(kvp_ipinfo_get(ii, "02:00:5E:10:00:99", &out,
						NULL),
				 -ENODEV);
	kvp_ipinfo_free(ii);
	assert_null(kvp_ipinfo_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_mac),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_exact_names),
		cmocka_unit_test(test_sriov),
		cmocka_unit_test(test_down),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_gateways),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_system),
	};

	return cmocka_run_group_tests_name("ipinfo", tests, NULL, NULL);
}
