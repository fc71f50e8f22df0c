/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>

#include "hvis/util.h"
#include "netconf.h"

/* ---- parsers ---- */

static const char *entry(const char *s)
{
	static char out[64];

	if (netconf_parse_dns_entry(s, strlen(s), out, sizeof(out)) < 0)
		return "(invalid)";
	return out;
}

static void test_dns_entry(void **state)
{
	assert_string_equal(entry("1.2.3.4"), "1.2.3.4");
	assert_string_equal(entry("1.2.3.4:53"), "1.2.3.4");
	assert_string_equal(entry("8.8.8.8#dns.google"), "8.8.8.8");
	assert_string_equal(entry("1.1.1.1:853#cloudflare-dns.com"), "1.1.1.1");
	assert_string_equal(entry("2001:DB8:0:0::1"), "2001:db8::1");
	assert_string_equal(entry("fe80::1%2"), "fe80::1");
	assert_string_equal(entry("fe80::1%eth0"), "fe80::1");
	assert_string_equal(entry("[2001:db8::1]:853#dns.example"),
			    "2001:db8::1");
	assert_string_equal(entry("[fe80::1%3]:53"), "fe80::1");
	assert_string_equal(entry("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
	assert_string_equal(entry(""), "(invalid)");
	assert_string_equal(entry("dns.google"), "(invalid)");
	assert_string_equal(entry("1.2.3"), "(invalid)");
	assert_string_equal(entry("1.2.3.4.5"), "(invalid)");
	assert_string_equal(entry("[2001:db8::1"), "(invalid)");
	assert_string_equal(entry("1.2.3.4;5.6.7.8"), "(invalid)");
	assert_string_equal(
		entry("1111:2222:3333:4444:5555:6666:7777:8888:9999"),
		"(invalid)");
	/* Length-bounded: the rest of the buffer is not the entry. */
	assert_int_equal(netconf_parse_dns_entry("1.2.3.4 junk", 7,
						 (char[64]){ 0 }, 64),
			 0);
}

static void test_networkd_link(void **state)
{
	char text[] = "# This is private data. Do not parse.\n"
		      "ADMIN_STATE=configured\n"
		      "OPER_STATE=routable\n"
		      "NETWORK_FILE=/etc/systemd/network/10-eth0.network\n"
		      "NETWORK_FILE_DROPINS=\"\"\n"
		      "DNS=10.0.0.53 1.1.1.1:53#one.one 10.0.0.53 bogus "
		      "[2001:db8::53]:53\n"
		      "NTP=\n"
		      "DHCP_LEASE=/run/systemd/netif/leases/2\n";
	char unmanaged[] =
		"ADMIN_STATE=unmanaged\nOPER_STATE=off\nDNS=1.2.3.4\n";
	char nolease[] = "NETWORK_FILE=/x.network\nDNS=\nDHCP_LEASE=\n";
	char nf[PATH_MAX], buf[256];
	struct iplist dns;
	bool lease;

	iplist_init(&dns, buf, sizeof(buf));
	assert_int_equal(netconf_parse_networkd_link(text, &dns, &lease, nf,
						     sizeof(nf)),
			 1);
	assert_true(lease);
	assert_string_equal(nf, "/etc/systemd/network/10-eth0.network");
	assert_string_equal(buf, "10.0.0.53;1.1.1.1;2001:db8::53");

	iplist_init(&dns, buf, sizeof(buf));
	assert_int_equal(netconf_parse_networkd_link(unmanaged, &dns, &lease,
						     nf, sizeof(nf)),
			 0);
	assert_string_equal(buf, "");
	assert_string_equal(nf, "");
	assert_false(lease);

	assert_int_equal(netconf_parse_networkd_link(nolease, &dns, &lease, nf,
						     sizeof(nf)),
			 1);
	assert_false(lease);
	assert_string_equal(buf, "");

	/* A NETWORK_FILE too long for the buffer: managed, name dropped. */
	char longname[] = "NETWORK_FILE=/a/very/long/name.network\n";
	assert_int_equal(
		netconf_parse_networkd_link(longname, &dns, &lease, nf, 8), 1);
	assert_string_equal(nf, "");
}

static int dhcp_of(const char *s)
{
	char buf[512];

	hv_strscpy(buf, s, sizeof(buf));
	return netconf_parse_networkd_dhcp(buf);
}

static void test_networkd_dhcp(void **state)
{
	assert_int_equal(dhcp_of("[Match]\nName=eth0\n[Network]\nDHCP=yes\n"),
			 1);
	assert_int_equal(dhcp_of("[Network]\nDHCP=ipv4\n"), 1);
	assert_int_equal(dhcp_of("[Network]\n DHCP = true \n"), 1);
	assert_int_equal(dhcp_of("[Network]\nDHCP=ipv6\n"), 0);
	assert_int_equal(dhcp_of("[Network]\nDHCP=no\n"), 0);
	assert_int_equal(dhcp_of("[Network]\nAddress=10.0.0.5/24\n"), 0);
	/* The last assignment wins; other sections do not count. */
	assert_int_equal(dhcp_of("[Network]\nDHCP=yes\nDHCP=no\n"), 0);
	assert_int_equal(dhcp_of("[DHCPv4]\nDHCP=yes\n"), 0);
	assert_int_equal(dhcp_of("#[Network]\nDHCP=yes\n"), 0);
	assert_int_equal(dhcp_of(""), 0);
}

static void test_nm_device(void **state)
{
	char a[] = "[device]\nmanaged=true\n"
		   "connection-uuid=5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03\n"
		   "nm-owned=false\n";
	char b[] = "[device]\nmanaged=false\n";
	char c[] = "[device]\nmanaged=true\n";
	char d[] = "[other]\nmanaged=true\nconnection-uuid=x\n";
	char uuid[64];

	assert_int_equal(netconf_parse_nm_device(a, uuid, sizeof(uuid)), 1);
	assert_string_equal(uuid, "5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03");
	assert_int_equal(netconf_parse_nm_device(b, uuid, sizeof(uuid)), 0);
	assert_int_equal(netconf_parse_nm_device(c, uuid, sizeof(uuid)), 0);
	assert_int_equal(netconf_parse_nm_device(d, uuid, sizeof(uuid)), 0);
}

static void test_nm_profile(void **state)
{
	char p[] = "[connection]\nid=eth0\nuuid=ABC\ntype=ethernet\n"
		   "[ipv4]\nmethod=manual\naddress1=10.0.0.5/24,10.0.0.1\n"
		   "dns=10.0.0.53;10.0.0.54;\n"
		   "[ipv6]\nmethod=auto\ndns=2001:db8::53;\n";
	char q[] = "[connection]\nuuid=abc\n[ipv4]\nmethod=auto\n";
	char r[] = "[connection]\nuuid=abc\n[ipv4]\nmethod=auto\n"
		   "ignore-auto-dns=true\n";
	char other[] = "[connection]\nuuid=def\n[ipv4]\nmethod=auto\n";
	char buf[256];
	struct iplist dns;
	bool dhcp = true, auto_dns = true;

	iplist_init(&dns, buf, sizeof(buf));
	assert_int_equal(
		netconf_parse_nm_profile(p, "abc", &dns, &dhcp, &auto_dns), 1);
	assert_false(dhcp);
	assert_false(auto_dns);
	assert_string_equal(buf, "10.0.0.53;10.0.0.54;2001:db8::53");

	iplist_init(&dns, buf, sizeof(buf));
	assert_int_equal(
		netconf_parse_nm_profile(q, "abc", &dns, &dhcp, &auto_dns), 1);
	assert_true(dhcp);
	assert_true(auto_dns);
	assert_string_equal(buf, "");
	assert_int_equal(
		netconf_parse_nm_profile(r, "abc", &dns, &dhcp, &auto_dns), 1);
	assert_true(dhcp);
	assert_false(auto_dns);

	dhcp = false;
	assert_int_equal(netconf_parse_nm_profile(other, "abc", &dns, &dhcp,
						  &auto_dns),
			 0);
	assert_false(dhcp);
}

static void test_resolv(void **state)
{
	char t[] = "# generated\nsearch example.com\n"
		   "nameserver 10.0.0.53\n"
		   "nameserver\t2001:db8::53  # comment\n"
		   "nameserver 127.0.0.53\n"
		   "nameserver ::1\n"
		   "nameserver not-an-address\n"
		   "  nameserver 10.0.0.54\n"
		   "nameserver10.0.0.99\n"
		   "options edns0\n";
	char t2[] = "nameserver 127.0.0.1\n";
	char buf[256];
	struct iplist dns;

	iplist_init(&dns, buf, sizeof(buf));
	assert_int_equal(netconf_parse_resolv(t, true, &dns), 3);
	assert_string_equal(buf, "10.0.0.53;2001:db8::53;10.0.0.54");
	iplist_init(&dns, buf, sizeof(buf));
	assert_int_equal(netconf_parse_resolv(t2, false, &dns), 1);
	assert_string_equal(buf, "127.0.0.1");
}

static void test_ifupdown_ifcfg(void **state)
{
	char a[] = "auto lo\niface lo inet loopback\n\n"
		   "allow-hotplug eth10\niface eth10 inet dhcp\n"
		   "iface eth1 inet static\n  address 10.0.0.5/24\n"
		   "iface eth2 inet6 dhcp\n";
	char b[] = "iface eth1  inet   dhcp # comment\n";
	char c[] = "DEVICE=eth0\nBOOTPROTO=\"dhcp\"\n";
	char d[] = "DEVICE=eth0\nBOOTPROTO=none\nIPADDR0=10.0.0.5\n";
	char e[] = "BOOTPROTO='DHCP'\n";

	assert_int_equal(netconf_parse_ifupdown(a, "eth10"), 1);
	/* eth1 is static here: eth10's dhcp stanza is not eth1's. */
	hv_strscpy(a, "iface eth10 inet dhcp\niface eth1 inet static\n",
		   sizeof(a));
	assert_int_equal(netconf_parse_ifupdown(a, "eth1"), 0);
	assert_int_equal(netconf_parse_ifupdown(b, "eth1"), 1);
	assert_int_equal(netconf_parse_ifcfg(c), 1);
	assert_int_equal(netconf_parse_ifcfg(d), 0);
	assert_int_equal(netconf_parse_ifcfg(e), 1);
}

/* ---- netconf_query() on a private tree ---- */

struct tree {
	char root[64];
	char run[128];
	char conf[128];
};

static void write_at(const struct tree *t, const char *rel, const char *text)
{
	char path[PATH_MAX], dir[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	hv_strscpy(dir, path, sizeof(dir));
	*strrchr(dir, '/') = '\0';
	assert_int_equal(hv_mkdir_parents(dir, 0755), 0);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int rm_one(const char *p, const struct stat *st, int type,
		  struct FTW *ftw)
{
	return remove(p);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	hv_strscpy(t->root, "/tmp/hvis-netconf.XXXXXX", sizeof(t->root));
	assert_non_null(mkdtemp(t->root));
	snprintf(t->run, sizeof(t->run), "%s/run", t->root);
	snprintf(t->conf, sizeof(t->conf), "%s/etc", t->root);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;

	nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

static int query(const struct tree *t, int ifindex, const char *ifname,
		 char *buf, size_t size, struct netconf_link *l)
{
	const struct netconf_config cfg = { .run_dir = t->run,
					    .conf_dir = t->conf };
	struct iplist dns;

	iplist_init(&dns, buf, size);
	return netconf_query(&cfg, ifindex, ifname, &dns, l);
}

static void test_query_networkd(void **state)
{
	struct tree *t = *state;
	struct netconf_link l;
	char buf[256], text[512];

	write_at(t, "etc/resolv.conf", "nameserver 10.9.9.9\n");
	write_at(t, "net/static.network", "[Network]\nAddress=10.0.0.5/24\n");
	write_at(t, "net/dhcp.network", "[Network]\nDHCP=yes\n");
	snprintf(text, sizeof(text),
		 "ADMIN_STATE=configured\nNETWORK_FILE=%s/net/static.network\n"
		 "DNS=10.0.0.53 10.0.0.54\n",
		 t->root);
	write_at(t, "run/systemd/netif/links/2", text);
	assert_int_equal(query(t, 2, "eth0", buf, sizeof(buf), &l), 0);
	assert_int_equal(l.manager, NETCONF_NETWORKD);
	assert_int_equal(l.dns_source, NETCONF_DNS_MANAGER);
	assert_false(l.dhcp);
	assert_string_equal(buf, "10.0.0.53;10.0.0.54");

	/* DHCP from the .network file; no link DNS: resolv.conf. */
	snprintf(text, sizeof(text),
		 "ADMIN_STATE=configuring\nNETWORK_FILE=%s/net/dhcp.network\n"
		 "DNS=\n",
		 t->root);
	write_at(t, "run/systemd/netif/links/3", text);
	assert_int_equal(query(t, 3, "eth1", buf, sizeof(buf), &l), 0);
	assert_int_equal(l.manager, NETCONF_NETWORKD);
	assert_true(l.dhcp);
	assert_int_equal(l.dns_source, NETCONF_DNS_RESOLV_CONF);
	assert_string_equal(buf, "10.9.9.9");

	/* A held lease says DHCP even if the file is gone. */
	write_at(t, "run/systemd/netif/links/4",
		 "NETWORK_FILE=/nonexistent.network\nDHCP_LEASE=/run/x\n"
		 "DNS=10.0.0.1\n");
	assert_int_equal(query(t, 4, "eth2", buf, sizeof(buf), &l), 0);
	assert_true(l.dhcp);
	assert_string_equal(buf, "10.0.0.1");

	/* Unmanaged by networkd: the other sources decide. */
	write_at(t, "run/systemd/netif/links/5", "ADMIN_STATE=unmanaged\n");
	assert_int_equal(query(t, 5, "eth3", buf, sizeof(buf), &l), 0);
	assert_int_equal(l.manager, NETCONF_UNMANAGED);
	assert_false(l.dhcp);
	assert_string_equal(buf, "10.9.9.9");
}

static void test_query_nm(void **state)
{
	struct tree *t = *state;
	struct netconf_link l;
	char buf[256];

	write_at(t, "etc/resolv.conf", "nameserver 127.0.0.53\n");
	write_at(t, "run/NetworkManager/no-stub-resolv.conf",
		 "nameserver 192.168.1.1\nnameserver 10.0.0.53\n");
	write_at(t, "run/NetworkManager/devices/7",
		 "[device]\nmanaged=true\nconnection-uuid=u-auto\n");
	write_at(t, "run/NetworkManager/devices/8",
		 "[device]\nmanaged=true\nconnection-uuid=u-static\n");
	write_at(t, "run/NetworkManager/devices/9",
		 "[device]\nmanaged=true\nconnection-uuid=u-missing\n");
	write_at(t, "etc/NetworkManager/system-connections/a.nmconnection",
		 "[connection]\nuuid=u-static\n[ipv4]\nmethod=manual\n"
		 "dns=10.0.0.53;\n");
	write_at(t, "etc/NetworkManager/system-connections/.hidden",
		 "[connection]\nuuid=u-auto\n[ipv4]\nmethod=manual\n");
	write_at(t, "run/NetworkManager/system-connections/b.nmconnection",
		 "[connection]\nuuid=u-auto\n[ipv4]\nmethod=auto\n"
		 "dns=10.0.0.99;\n");

	assert_int_equal(query(t, 7, "eth0", buf, sizeof(buf), &l), 0);
	assert_int_equal(l.manager, NETCONF_NETWORKMANAGER);
	assert_true(l.dhcp);
	assert_int_equal(l.dns_source, NETCONF_DNS_MANAGER);
	assert_string_equal(buf, "10.0.0.99;192.168.1.1;10.0.0.53");

	assert_int_equal(query(t, 8, "eth1", buf, sizeof(buf), &l), 0);
	assert_false(l.dhcp);
	assert_string_equal(buf, "10.0.0.53");

	/* No profile: managed, no DHCP known; the stub is skipped and
	 * resolved has nothing either. */
	assert_int_equal(query(t, 9, "eth2", buf, sizeof(buf), &l), 0);
	assert_int_equal(l.manager, NETCONF_NETWORKMANAGER);
	assert_false(l.dhcp);
	assert_int_equal(l.dns_source, NETCONF_DNS_NONE);
	assert_string_equal(buf, "");

	write_at(t, "run/systemd/resolve/resolv.conf",
		 "nameserver 10.1.1.1\nnameserver 10.1.1.2\n");
	assert_int_equal(query(t, 9, "eth2", buf, sizeof(buf), &l), 0);
	assert_int_equal(l.dns_source, NETCONF_DNS_RESOLVED);
	assert_string_equal(buf, "10.1.1.1;10.1.1.2");
}

static void test_query_legacy(void **state)
{
	struct tree *t = *state;
	struct netconf_link l;
	char buf[256];

	write_at(t, "etc/network/interfaces",
		 "source /etc/network/interfaces.d/*\n"
		 "iface eth10 inet dhcp\n");
	write_at(t, "etc/network/interfaces.d/eth2", "iface eth2 inet dhcp\n");
	write_at(t, "etc/sysconfig/network-scripts/ifcfg-eth3",
		 "BOOTPROTO=dhcp\n");
	write_at(t, "etc/sysconfig/network-scripts/ifcfg-eth4",
		 "BOOTPROTO=none\n");

	assert_int_equal(query(t, 2, "eth10", buf, sizeof(buf), &l), 0);
	assert_int_equal(l.manager, NETCONF_IFUPDOWN);
	assert_true(l.dhcp);
	assert_int_equal(query(t, 3, "eth1", buf, sizeof(buf), &l), 0);
	assert_int_equal(l.manager, NETCONF_UNMANAGED);
	assert_false(l.dhcp);
	assert_int_equal(query(t, 4, "eth2", buf, sizeof(buf), &l), 0);
	assert_int_equal(l.manager, NETCONF_IFUPDOWN);
	assert_true(l.dhcp);
	assert_int_equal(query(t, 5, "eth3", buf, sizeof(buf), &l), 0);
	assert_int_equal(l.manager, NETCONF_IFCFG);
	assert_true(l.dhcp);
	assert_int_equal(query(t, 6, "eth4", buf, sizeof(buf), &l), 0);
	assert_int_equal(l.manager, NETCONF_IFCFG);
	assert_false(l.dhcp);
	/* No resolv.conf at all: no DNS, no error. */
	assert_string_equal(buf, "");
	assert_int_equal(l.dns_source, NETCONF_DNS_NONE);
}

static void test_query_bounds(void **state)
{
	struct tree *t = *state;
	struct netconf_link l;
	char text[4096], buf[40];
	size_t off = 0;

	/* More servers than fit: whole entries only, in order. */
	for (int i = 0; i < 100; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"nameserver 10.0.%d.%d\n", i, i);
	write_at(t, "etc/resolv.conf", text);
	assert_int_equal(query(t, 2, "eth0", buf, sizeof(buf), &l), 0);
	assert_string_equal(buf, "10.0.0.0;10.0.1.1;10.0.2.2;10.0.3.3");

	/* A file over the size limit counts as absent. */
	{
		char *big = malloc(NETCONF_FILE_MAX + 64);

		assert_non_null(big);
		memset(big, ' ', NETCONF_FILE_MAX + 63);
		memcpy(big, "nameserver 10.0.0.1\n", 20);
		big[NETCONF_FILE_MAX + 63] = '\0';
		write_at(t, "etc/resolv.conf", big);
		free(big);
	}
	assert_int_equal(query(t, 2, "eth0", buf, sizeof(buf), &l), 0);
	assert_string_equal(buf, "");

	/* Names that could leave the config directory are refused. */
	assert_int_equal(query(t, 2, "../x", buf, sizeof(buf), &l), -EINVAL);
	assert_int_equal(query(t, 2, "..", buf, sizeof(buf), &l), -EINVAL);
	assert_int_equal(query(t, 2, "", buf, sizeof(buf), &l), -EINVAL);
	assert_int_equal(query(t, 0, "eth0", buf, sizeof(buf), &l), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_entry),
		cmocka_unit_test(test_networkd_link),
		cmocka_unit_test(test_networkd_dhcp),
		cmocka_unit_test(test_nm_device),
		cmocka_unit_test(test_nm_profile),
		cmocka_unit_test(test_resolv),
		cmocka_unit_test(test_ifupdown_ifcfg),
		cmocka_unit_test_setup_teardown(test_query_networkd, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_query_nm, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_query_legacy, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_query_bounds, tree_setup,
						tree_teardown),
	};

	return cmocka_run_group_tests_name("netconf", tests, NULL, NULL);
}
