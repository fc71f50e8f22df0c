/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "hvis/util.h"
#include "ifaddrs-list.h"

#define UP (IFF_UP | IFF_RUNNING)

static struct ifaddr_entry ent(const char *ifname, unsigned int flags,
			       const char *addr)
{
	struct ifaddr_entry e;

	memset(&e, 0, sizeof(e));
	assert_true(hv_strscpy(e.ifname, ifname, sizeof(e.ifname)) >= 0);
	e.flags = flags;
	e.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(e.family, addr, &e.addr), 1);
	return e;
}

/* Format with a generous buffer; the result lives until the next call. */
static const char *fmt(const struct ifaddr_entry *e, size_t n, int family,
		       const char *const *exclude, unsigned int flags)
{
	static char buf[2048];
	int r;

	r = ifaddrs_list_format(e, n, family, exclude, flags, buf, sizeof(buf));
	assert_true(r >= 0);
	assert_int_equal((size_t)r, strlen(buf));
	return buf;
}

static void test_join(void **state)
{
	struct ifaddr_entry e[] = {
		ent("eth0", UP, "10.0.0.5"),
		ent("eth0", UP, "2001:db8::5"),
		ent("eth1", UP, "192.168.1.20"),
		ent("eth1", UP, "fd00::1:2"),
	};

	assert_string_equal(fmt(e, ARRAY_SIZE(e), AF_INET, NULL, 0),
			    "10.0.0.5;192.168.1.20");
	assert_string_equal(fmt(e, ARRAY_SIZE(e), AF_INET6, NULL, 0),
			    "2001:db8::5;fd00::1:2");
	assert_string_equal(fmt(e, 1, AF_INET6, NULL, 0), "");
	assert_string_equal(fmt(NULL, 0, AF_INET, NULL, 0), "");
}

static void test_loopback_down(void **state)
{
	struct ifaddr_entry e[] = {
		ent("lo", UP | IFF_LOOPBACK, "127.0.0.1"),
		ent("lo", UP | IFF_LOOPBACK, "10.9.9.9"),
		ent("lo", UP | IFF_LOOPBACK, "::1"),
		ent("dummy0", UP, "127.0.0.2"),
		ent("dummy0", UP, "::1"),
		ent("eth0", IFF_RUNNING, "10.0.0.1"), /* admin down */
		ent("eth1", IFF_UP, "10.0.0.2"), /* no carrier */
		ent("eth2", 0, "2001:db8::2"),
		ent("eth3", UP, "0.0.0.0"),
		ent("eth3", UP, "::"),
		ent("eth3", UP, "224.0.0.1"),
		ent("eth3", UP, "ff02::1"),
		ent("eth4", UP | IFF_BROADCAST | IFF_MULTICAST, "10.0.0.4"),
		ent("eth4", UP | IFF_BROADCAST | IFF_MULTICAST, "2001:db8::4"),
	};

	assert_string_equal(fmt(e, ARRAY_SIZE(e), AF_INET, NULL, 0),
			    "10.0.0.4");
	assert_string_equal(fmt(e, ARRAY_SIZE(e), AF_INET6, NULL, 0),
			    "2001:db8::4");
}

static void test_link_local(void **state)
{
	struct ifaddr_entry e[] = {
		ent("eth0", UP, "169.254.10.20"),
		ent("eth0", UP, "fe80::215:5dff:fe00:1"),
		ent("eth0", UP, "febf::1"), /* still fe80::/10 */
		ent("eth0", UP, "fec0::1"), /* just outside */
		ent("eth0", UP, "169.253.1.1"),
		ent("eth0", UP, "169.255.1.1"),
	};

	assert_string_equal(fmt(e, ARRAY_SIZE(e), AF_INET, NULL, 0),
			    "169.253.1.1;169.255.1.1");
	assert_string_equal(fmt(e, ARRAY_SIZE(e), AF_INET6, NULL, 0),
			    "fec0::1");
	assert_string_equal(fmt(e, ARRAY_SIZE(e), AF_INET, NULL,
				IFADDRS_LIST_LINK_LOCAL),
			    "169.254.10.20;169.253.1.1;169.255.1.1");
	assert_string_equal(fmt(e, ARRAY_SIZE(e), AF_INET6, NULL,
				IFADDRS_LIST_LINK_LOCAL),
			    "fe80::215:5dff:fe00:1;febf::1;fec0::1");
}

static void test_exclude(void **state)
{
	const char *const *def = ifaddrs_list_default_exclude;
	const char *const mine[] = { "eth1", "wl*", NULL };
	const char *const none[] = { NULL };
	struct ifaddr_entry e[] = {
		ent("docker0", UP, "172.17.0.1"),
		ent("veth1a2b3c", UP, "10.1.0.1"),
		ent("virbr0", UP, "192.168.122.1"),
		ent("br-0123456789ab", UP, "172.18.0.1"),
		ent("cali12345", UP, "10.2.0.1"),
		ent("eth0", UP, "10.0.0.1"),
		ent("br0", UP, "10.0.0.2"),
		ent("br-lan", UP, "10.0.0.3"),
		ent("eth1", UP, "10.0.0.4"),
		ent("wlan0", UP, "10.0.0.5"),
	};

	assert_string_equal(fmt(e, ARRAY_SIZE(e), AF_INET, def, 0),
			    "10.0.0.1;10.0.0.2;10.0.0.3;10.0.0.4;10.0.0.5");
	assert_string_equal(fmt(e, ARRAY_SIZE(e), AF_INET, mine, 0),
			    "172.17.0.1;10.1.0.1;192.168.122.1;172.18.0.1;"
			    "10.2.0.1;10.0.0.1;10.0.0.2;10.0.0.3");
	assert_string_equal(fmt(e, 3, AF_INET, none, 0),
			    "172.17.0.1;10.1.0.1;192.168.122.1");
	assert_string_equal(fmt(e, 3, AF_INET, NULL, 0),
			    "172.17.0.1;10.1.0.1;192.168.122.1");

	assert_true(ifaddrs_list_excluded("docker0", def));
	assert_true(ifaddrs_list_excluded("antrea-gw0", def));
	assert_true(ifaddrs_list_excluded("flannel.1", def));
	assert_true(ifaddrs_list_excluded("cni0", def));
	assert_true(ifaddrs_list_excluded("vxlan.calico", def));
	assert_false(ifaddrs_list_excluded("eth0", def));
	assert_false(ifaddrs_list_excluded("br-0123456789a", def));
	assert_false(ifaddrs_list_excluded("mydocker0", def));
	assert_false(ifaddrs_list_excluded("eth0", NULL));
	assert_false(ifaddrs_list_excluded("eth0", none));
}

static void test_ipv6_format(void **state)
{
	struct ifaddr_entry e[] = {
		ent("eth0", UP, "2001:0db8:0000:0000:0000:0000:0000:0001"),
		ent("eth0", UP, "2001:db8:0:1:0:0:0:0"),
		ent("eth0", UP, "2001:DB8:AAAA:BBBB:CCCC:DDDD:EEEE:FFFF"),
		ent("eth0", UP, "::ffff:10.1.2.3"),
		ent("eth0", UP, "2001:db8:0:0:1:0:0:1"),
	};

	assert_string_equal(fmt(e, ARRAY_SIZE(e), AF_INET6, NULL, 0),
			    "2001:db8::1;2001:db8:0:1::;"
			    "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff;"
			    "::ffff:10.1.2.3;2001:db8::1:0:0:1");
}

static void test_dedup(void **state)
{
	struct ifaddr_entry e[] = {
		ent("eth0", UP, "10.0.0.1"),  ent("eth1", UP, "10.0.0.10"),
		ent("eth2", UP, "10.0.0.1"),  ent("eth3", UP, "10.0.0.100"),
		ent("eth4", UP, "10.0.0.10"),
	};

	assert_string_equal(fmt(e, ARRAY_SIZE(e), AF_INET, NULL, 0),
			    "10.0.0.1;10.0.0.10;10.0.0.100");
}

static void test_bound(void **state)
{
	struct ifaddr_entry e[] = {
		ent("eth0", UP, "10.0.0.1"),
		ent("eth0", UP, "10.0.0.2"),
		ent("eth0", UP, "10.0.0.3"),
	};
	char buf[32];

	/* "10.0.0.1;10.0.0.2" is 17 bytes: fits exactly in 18. */
	assert_int_equal(ifaddrs_list_format(e, 3, AF_INET, NULL, 0, buf, 18),
			 17);
	assert_string_equal(buf, "10.0.0.1;10.0.0.2");
	assert_int_equal(ifaddrs_list_format(e, 3, AF_INET, NULL, 0, buf, 17),
			 8);
	assert_string_equal(buf, "10.0.0.1");
	assert_int_equal(ifaddrs_list_format(e, 3, AF_INET, NULL, 0, buf, 9),
			 8);
	assert_int_equal(ifaddrs_list_format(e, 3, AF_INET, NULL, 0, buf, 8),
			 0);
	assert_string_equal(buf, "");
	assert_int_equal(ifaddrs_list_format(e, 3, AF_INET, NULL, 0, buf, 1),
			 0);
	assert_string_equal(buf, "");
	assert_int_equal(ifaddrs_list_format(e, 3, AF_INET, NULL, 0, buf, 0),
			 -EINVAL);
	assert_int_equal(ifaddrs_list_format(e, 3, AF_UNIX, NULL, 0, buf,
					     sizeof(buf)),
			 -EINVAL);
}

/* Every item is a whole address and the next one would not have fit. */
static void check_full_list(const char *list, int family, size_t max,
			    const char *next)
{
	char copy[2048], *save = NULL, *tok;
	uint8_t a[16];
	size_t len = strlen(list);

	assert_true(len <= max);
	assert_true(len + 1 + strlen(next) > max);
	assert_true(hv_strscpy(copy, list, sizeof(copy)) >= 0);
	for (tok = strtok_r(copy, ";", &save); tok;
	     tok = strtok_r(NULL, ";", &save))
		assert_int_equal(inet_pton(family, tok, a), 1);
}

static size_t count_items(const char *list)
{
	size_t items = 1;

	for (; *list; list++)
		items += *list == ';';
	return items;
}

static void test_many(void **state)
{
	size_t n = 1000;
	_cleanup_free_ struct ifaddr_entry *e = calloc(2 * n, sizeof(*e));
	char buf[4096], next[INET6_ADDRSTRLEN];
	int r;

	assert_non_null(e);
	for (size_t i = 0; i < n; i++) {
		char a[64];

		hv_snprintf(a, sizeof(a), "2001:db8:%zx::%zx:1", i, i * 7);
		e[i] = ent("eth0", UP, a);
		hv_snprintf(a, sizeof(a), "10.%zu.%zu.1", i / 256, i % 256);
		e[n + i] = ent("eth0", UP, a);
	}

	/* The cap is IFADDRS_LIST_MAX_LEN even with room to spare. */
	r = ifaddrs_list_format(e, 2 * n, AF_INET6, NULL, 0, buf, sizeof(buf));
	assert_true(r > 0 && r <= IFADDRS_LIST_MAX_LEN);
	assert_non_null(inet_ntop(AF_INET6, &e[count_items(buf)].addr, next,
				  sizeof(next)));
	check_full_list(buf, AF_INET6, IFADDRS_LIST_MAX_LEN, next);

	/* A caller's smaller buffer is the bound then. */
	r = ifaddrs_list_format(e, 2 * n, AF_INET, NULL, 0, buf, 100);
	assert_true(r > 0 && r <= 99);
	assert_non_null(inet_ntop(AF_INET, &e[n + count_items(buf)].addr, next,
				  sizeof(next)));
	check_full_list(buf, AF_INET, 99, next);
}

static void test_bad_name(void **state)
{
	struct ifaddr_entry e[] = {
		ent("eth0", UP, "10.0.0.1"),
		ent("eth1", UP, "10.0.0.2"),
	};

	/* A name without its NUL is not trusted, not read past. */
	memset(e[0].ifname, 'x', sizeof(e[0].ifname));
	assert_string_equal(fmt(e, 2, AF_INET, ifaddrs_list_default_exclude, 0),
			    "10.0.0.2");
}

static void test_system(void **state)
{
	_cleanup_free_ struct ifaddr_entry *e = NULL;
	char buf[2048];
	size_t n = 0;

	/* The machine's interfaces vary; check only the shape. */
	assert_int_equal(ifaddrs_list_system(&e, &n), 0);
	assert_true(n == 0 || e != NULL);
	for (size_t i = 0; i < n; i++) {
		assert_true(e[i].family == AF_INET || e[i].family == AF_INET6);
		assert_non_null(memchr(e[i].ifname, '\0', sizeof(e[i].ifname)));
		assert_true(e[i].ifname[0] != '\0');
	}
	assert_true(ifaddrs_list_format(e, n, AF_INET, NULL, 0, buf,
					sizeof(buf)) >= 0);
	assert_null(strstr(buf, "127.0.0.1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_loopback_down),
		cmocka_unit_test(test_link_local),
		cmocka_unit_test(test_exclude),
		cmocka_unit_test(test_ipv6_format),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_bad_name),
		cmocka_unit_test(test_system),
	};

	return cmocka_run_group_tests_name("ifaddrs-list", tests, NULL, NULL);
}
