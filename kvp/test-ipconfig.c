/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "hvis/log.h"
#include "hvis/paths.h"
#include "hvis/util.h"
#include "ipconfig.h"

#define GUID "{4a6cb8b1-7e2c-4d9f-9a51-0c3e1f2a5b6d}"
#define GUID2 "9f1a0c2e-0000-4000-8000-00155d010203"
#define MAC "00:15:5d:01:02:03"

/* ---- fixture: a private tree with a fake sysfs -------------------------- */

struct call {
	char argv[8][128];
	int argc;
};

struct fx {
	char dir[64];
	struct kvp_ipconfig_ctx ctx;
	struct call calls[8];
	int ncalls;
	int fail_at; /* 1-based call that returns fail_status; 0: none */
	int fail_status;
};

static int record_run(void *ud, char *const argv[], uint64_t timeout_usec)
{
	struct fx *f = ud;
	struct call *c;

	assert_true(timeout_usec > 0);
	assert_true(f->ncalls < (int)ARRAY_SIZE(f->calls));
	c = &f->calls[f->ncalls++];
	for (c->argc = 0; argv[c->argc]; c->argc++) {
		assert_true(c->argc < 8);
		assert_true(hv_strscpy(c->argv[c->argc], argv[c->argc],
				       sizeof(c->argv[0])) >= 0);
	}
	if (f->fail_at == f->ncalls)
		return f->fail_status;
	return 0;
}

static void put_file(struct fx *f, const char *rel, const char *text)
{
	char path[512], dir[512];
	char *slash;
	int fd;

	assert_true(hv_snprintf(path, sizeof(path), "%s/%s", f->dir, rel) > 0);
	hv_strscpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	*slash = '\0';
	assert_int_equal(hv_mkdir_parents(dir, 0755), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(hv_write_full(fd, text, strlen(text)),
			 (ssize_t)strlen(text));
	close(fd);
}

static void put_dir(struct fx *f, const char *rel)
{
	char path[512];

	assert_true(hv_snprintf(path, sizeof(path), "%s/%s", f->dir, rel) > 0);
	assert_int_equal(hv_mkdir_parents(path, 0755), 0);
}

static void add_nic(struct fx *f, const char *name, const char *device_id,
		    const char *mac)
{
	char rel[256];

	if (device_id) {
		(void)hv_snprintf(rel, sizeof(rel),
				  "sys/class/net/%s/device/device_id", name);
		put_file(f, rel, device_id);
	}
	(void)hv_snprintf(rel, sizeof(rel), "sys/class/net/%s/address", name);
	put_file(f, rel, mac);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	hv_strscpy(f->dir, "/tmp/test-ipconfig.XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(hv_path_set_root(f->dir), 0);
	add_nic(f, "lo", NULL, "00:00:00:00:00:00\n");
	add_nic(f, "eth0", "{4a6cb8b1-7e2c-4d9f-9a51-0c3e1f2a5b6d}\n",
		MAC "\n");
	add_nic(f, "eth10", "{" GUID2 "}\n", "00:15:5d:0a:0b:0c\n");
	f->ctx.run = record_run;
	f->ctx.userdata = f;
	*state = f;
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(p);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	assert_int_equal(nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
	free(f);
	return 0;
}

static char *slurp(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(hv_read_full(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	return buf;
}

static char *slurp_rel(struct fx *f, const char *rel, mode_t *ret_mode)
{
	char path[512];
	struct stat st;

	(void)hv_snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	if (ret_mode) {
		assert_int_equal(stat(path, &st), 0);
		*ret_mode = st.st_mode & 07777;
	}
	return slurp(path);
}

static void fields(struct kvp_ip_fields *x, const char *adapter, bool dhcp,
		   const char *ip, const char *mask, const char *gw,
		   const char *dns)
{
	memset(x, 0, sizeof(*x));
	hv_strscpy(x->adapter_id, adapter, sizeof(x->adapter_id));
	x->dhcp_enabled = dhcp;
	x->addr_family = ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6;
	hv_strscpy(x->ip_addr, ip, sizeof(x->ip_addr));
	hv_strscpy(x->sub_net, mask, sizeof(x->sub_net));
	hv_strscpy(x->gate_way, gw, sizeof(x->gate_way));
	hv_strscpy(x->dns_addr, dns, sizeof(x->dns_addr));
}

/* ---- parsing ------------------------------------------------------------ */

static struct kvp_ipconfig cfg_buf;
static char err_buf[256];

static int parse(bool dhcp, const char *ip, const char *mask, const char *gw,
		 const char *dns)
{
	struct kvp_ip_fields x;

	fields(&x, GUID, dhcp, ip, mask, gw, dns);
	memset(&cfg_buf, 0xa5, sizeof(cfg_buf));
	return kvp_ipconfig_parse(&x, &cfg_buf, err_buf, sizeof(err_buf));
}

static const char *txt(const struct kvp_ip_addr *a)
{
	static char s[4][INET6_ADDRSTRLEN + 8];
	static int n;
	char *o = s[n++ % 4];

	assert_non_null(inet_ntop(a->family, a->bytes, o, INET6_ADDRSTRLEN));
	return o;
}

static void test_parse_valid(void **state)
{
	assert_int_equal(
		parse(false, " 192.0.2.10 ;2001:DB8::10; 198.51.100.7;fe80::1;",
		      "255.255.255.0; 64 ;255.255.255.252;/128",
		      "192.0.2.1;2001:db8::1;192.0.2.1;",
		      "8.8.8.8;::1;8.8.8.8"),
		0);
	assert_string_equal(err_buf, "");
	assert_false(cfg_buf.dhcp4);
	assert_int_equal(cfg_buf.n_addrs, 4);
	assert_int_equal(cfg_buf.addrs[0].family, AF_INET);
	assert_string_equal(txt(&cfg_buf.addrs[0]), "192.0.2.10");
	assert_int_equal(cfg_buf.addrs[0].prefix, 24);
	assert_int_equal(cfg_buf.addrs[1].family, AF_INET6);
	assert_string_equal(txt(&cfg_buf.addrs[1]), "2001:db8::10");
	assert_int_equal(cfg_buf.addrs[1].prefix, 64);
	assert_int_equal(cfg_buf.addrs[2].prefix, 30);
	assert_string_equal(txt(&cfg_buf.addrs[3]), "fe80::1");
	assert_int_equal(cfg_buf.addrs[3].prefix, 128);
	/* Repeated gateways and servers collapse, in first-seen order. */
	assert_int_equal(cfg_buf.n_gateways, 2);
	assert_string_equal(txt(&cfg_buf.gateways[1]), "2001:db8::1");
	assert_int_equal(cfg_buf.n_dns, 2);
	assert_string_equal(txt(&cfg_buf.dns[1]), "::1");

	/* DHCP with nothing else; blanks-only lists are empty. */
	assert_int_equal(parse(true, "", " ", " ", ""), 0);
	assert_true(cfg_buf.dhcp4);
	assert_int_equal(cfg_buf.n_addrs + cfg_buf.n_gateways + cfg_buf.n_dns,
			 0);
	/* IPv4 servers with DHCP, IPv6 ones with router advertisements. */
	assert_int_equal(parse(true, "", "", "192.0.2.1", "192.0.2.53"), 0);
	assert_int_equal(parse(false, "", "", "2001:db8::1", "2001:db8::53"),
			 0);
	/* /32 and /1 are fine, so is the most a field can hold. */
	assert_int_equal(parse(false, "192.0.2.9;10.1.2.3",
			       "255.255.255.255;128.0.0.0", "", ""),
			 0);
	assert_int_equal(cfg_buf.addrs[0].prefix, 32);
	assert_int_equal(cfg_buf.addrs[1].prefix, 1);
}

static void test_parse_full_field(void **state)
{
	char ip[KVP_IP_ADDR_SIZE], mask[KVP_IP_ADDR_SIZE];
	size_t o = 0, m = 0;

	/* 100 addresses with their masks fill most of both fields. */
	for (int i = 0; i < 100; i++) {
		int r = hv_snprintf(ip + o, sizeof(ip) - o, "%s10.0.%d.%d",
				    i ? ";" : "", i / 10, i % 10);

		assert_true(r > 0);
		o += (size_t)r;
		r = hv_snprintf(mask + m, sizeof(mask) - m, "%s255.0.0.0",
				i ? ";" : "");
		assert_true(r > 0);
		m += (size_t)r;
	}
	assert_int_equal(parse(false, ip, mask, "10.0.0.254", ""), 0);
	assert_int_equal(cfg_buf.n_addrs, 100);
	assert_string_equal(txt(&cfg_buf.addrs[99]), "10.0.9.9");
	assert_int_equal(cfg_buf.addrs[99].prefix, 8);
	/* The last mask is checked like the first. */
	mask[m - 1] = '1';
	assert_int_equal(parse(false, ip, mask, "", ""), -EINVAL);
	assert_non_null(strstr(err_buf, "subnet entry 100 \"255.0.0.1\""));
}

struct bad {
	bool dhcp;
	const char *ip, *mask, *gw, *dns, *why;
};

static const struct bad bad_cases[] = {
	{ false, "192.0.2.300", "255.255.255.0", "", "",
	  "address entry 1 \"192.0.2.300\": not an IPv4 or IPv6 address" },
	{ false, "192.0.2.1;host.example", "255.255.255.0;255.255.255.0", "",
	  "", "address entry 2 \"host.example\": not an IPv4" },
	{ false, "01.2.3.4", "255.0.0.0", "", "", "not an IPv4 or IPv6" },
	{ false, "1.2.3", "255.0.0.0", "", "", "not an IPv4 or IPv6" },
	{ false, "fe80::1%eth0", "64", "", "", "not an IPv4 or IPv6" },
	{ false, "192.0.2.1/24", "255.255.255.0", "", "", "not an IPv4" },
	{ false, "192.0.2.1;;192.0.2.2", "", "", "", "entry 2 \"\": empty" },
	{ false, "192.0.2.1 192.0.2.2", "255.0.0.0", "", "", "not an IPv4" },
	{ false, "0.0.0.0", "255.0.0.0", "", "", "unspecified" },
	{ false, "::", "64", "", "", "unspecified" },
	{ false, "224.0.0.1", "255.0.0.0", "", "", "multicast" },
	{ false, "ff02::1", "64", "", "", "multicast" },
	{ false, "127.0.0.2", "255.0.0.0", "", "", "loopback" },
	{ false, "::1", "128", "", "", "loopback" },
	{ false, "255.255.255.255", "255.255.255.255", "", "", "broadcast" },
	{ false, "192.0.2.1;192.0.2.1", "255.0.0.0;255.0.0.0", "", "",
	  "entry 2 \"192.0.2.1\": listed twice" },
	{ false, "2001:db8::1;2001:DB8:0::1", "64;64", "", "", "listed twice" },
	{ false, "192.0.2.1\x01", "255.0.0.0", "", "",
	  "\"192.0.2.1\\x01\": not an IPv4" },
	{ false,
	  "1234567890123456789012345678901234567890123456789012345678901234",
	  "", "", "", "too long" },
	/* masks */
	{ false, "192.0.2.1", "255.0.255.0", "", "",
	  "subnet entry 1 \"255.0.255.0\": IPv4 subnet mask is not contiguous" },
	{ false, "192.0.2.1", "255.255.255.1", "", "", "not contiguous" },
	{ false, "192.0.2.1", "24", "", "", "not a dotted mask" },
	{ false, "192.0.2.1", "/24", "", "", "not a dotted mask" },
	{ false, "192.0.2.1", "0.0.0.0", "", "", "prefix length 0" },
	{ false, "2001:db8::1", "129", "", "", "not a number 1-128" },
	{ false, "2001:db8::1", "0", "", "", "not a number 1-128" },
	{ false, "2001:db8::1", "-1", "", "", "not a number 1-128" },
	{ false, "2001:db8::1", "6 4", "", "", "not a number 1-128" },
	{ false, "2001:db8::1", "0064", "", "", "not a number 1-128" },
	{ false, "2001:db8::1", "ffff:ffff:ffff:ffff::", "", "",
	  "not a number 1-128" },
	{ false, "2001:db8::1", "255.255.255.0", "", "", "not a number" },
	{ false, "192.0.2.1;192.0.2.2", "255.0.0.0", "", "",
	  "2 addresses but 1 subnet masks" },
	{ false, "192.0.2.1", "", "", "", "1 addresses but 0 subnet masks" },
	{ false, "192.0.2.1", "255.0.0.0;255.0.0.0", "", "",
	  "subnet entry 2 \"255.0.0.0\": more subnet masks than addresses" },
	{ false, "", "64", "", "", "more subnet masks than addresses" },
	/* gateways */
	{ false, "192.0.2.10", "255.255.255.0", "192.0.2.256", "",
	  "gateway entry 1 \"192.0.2.256\": not an IPv4" },
	{ false, "192.0.2.10", "255.255.255.0", "0.0.0.0", "", "unspecified" },
	{ false, "192.0.2.10", "255.255.255.0", "192.0.2.1;ff02::2", "",
	  "gateway entry 2 \"ff02::2\": multicast" },
	{ false, "192.0.2.10", "255.255.255.0", "127.0.0.1", "", "loopback" },
	{ false, "2001:db8::5", "64", "192.0.2.1", "",
	  "IPv4 gateway or DNS server without an IPv4 address or DHCP" },
	/* DNS */
	{ true, "", "", "", "8.8.8.8;dns.google", "DNS server entry 2" },
	{ true, "", "", "", "224.0.0.251", "multicast" },
	{ true, "", "", "", "8.8.8.8;;", "DNS server entry 2 \"\": empty" },
	{ true, "", "", ";", "", "gateway entry 1 \"\": empty" },
	{ false, "", "", "", "8.8.8.8", "without an IPv4 address or DHCP" },
};

static void test_parse_invalid(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad *b = &bad_cases[i];

		err_buf[0] = '\0';
		if (parse(b->dhcp, b->ip, b->mask, b->gw, b->dns) != -EINVAL ||
		    !strstr(err_buf, b->why))
			fail_msg("case %zu (ip \"%s\" mask \"%s\" gw \"%s\" "
				 "dns \"%s\"): got \"%s\", want \"%s\"",
				 i, b->ip, b->mask, b->gw, b->dns, err_buf,
				 b->why);
	}
}

static void test_guid(void **state)
{
	char out[37];

	assert_int_equal(kvp_ipconfig_guid(GUID, out), 0);
	assert_string_equal(out, "4a6cb8b1-7e2c-4d9f-9a51-0c3e1f2a5b6d");
	assert_int_equal(
		kvp_ipconfig_guid("4A6CB8B1-7E2C-4D9F-9A51-0C3E1F2A5B6D", out),
		0);
	assert_string_equal(out, "4a6cb8b1-7e2c-4d9f-9a51-0c3e1f2a5b6d");
	static const char *const bad[] = {
		"",
		"{4a6cb8b1-7e2c-4d9f-9a51-0c3e1f2a5b6d",
		"4a6cb8b1-7e2c-4d9f-9a51-0c3e1f2a5b6d}",
		"(4a6cb8b1-7e2c-4d9f-9a51-0c3e1f2a5b6d)",
		"4a6cb8b17e2c4d9f9a510c3e1f2a5b6d",
		"4a6cb8b1-7e2c-4d9f-9a51-0c3e1f2a5b6g",
		"4a6cb8b1-7e2c-4d9f-9a510-c3e1f2a5b6d",
		"{4a6cb8b1-7e2c-4d9f-9a51-0c3e1f2a5b6d}x",
		" 4a6cb8b1-7e2c-4d9f-9a51-0c3e1f2a5b6d",
		"00:15:5D:01:02:03",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (kvp_ipconfig_guid(bad[i], out) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
}

static void test_find_adapter(void **state)
{
	struct fx *f = *state;
	struct kvp_ipconfig c;
	char g[37];

	memset(&c, 0, sizeof(c));
	assert_int_equal(kvp_ipconfig_guid(GUID, g), 0);
	assert_int_equal(kvp_ipconfig_find_adapter(g, &c), 0);
	assert_string_equal(c.ifname, "eth0");
	assert_memory_equal(c.mac, ((uint8_t[]){ 0, 0x15, 0x5d, 1, 2, 3 }), 6);
	/* eth10 is found by its own id, not by a prefix of eth0's name. */
	assert_int_equal(kvp_ipconfig_find_adapter(GUID2, &c), 0);
	assert_string_equal(c.ifname, "eth10");
	assert_int_equal(kvp_ipconfig_find_adapter(
				 "4a6cb8b1-7e2c-4d9f-9a51-0c3e1f2a5b6e", &c),
			 -ENOENT);

	/* A name that could not go into a file name or config safely. */
	add_nic(f, "a b", "{11111111-2222-4333-8444-555555555555}",
		"00:15:5d:00:00:01");
	assert_int_equal(kvp_ipconfig_find_adapter(
				 "11111111-2222-4333-8444-555555555555", &c),
			 -EINVAL);
	/* A MAC sysfs would never show. */
	add_nic(f, "eth2", "{11111111-2222-4333-8444-666666666666}",
		"00:15:5d:00:00");
	assert_int_equal(kvp_ipconfig_find_adapter(
				 "11111111-2222-4333-8444-666666666666", &c),
			 -EINVAL);
}

/* ---- apply, end to end with a recorded runner ---------------------------- */

static uint32_t apply(struct fx *f, const char *adapter, bool dhcp,
		      const char *ip, const char *mask, const char *gw,
		      const char *dns)
{
	struct kvp_ip_fields x;

	fields(&x, adapter, dhcp, ip, mask, gw, dns);
	f->ncalls = 0;
	return kvp_ipconfig_apply(&f->ctx, &x);
}

static void assert_call(struct fx *f, int i, const char *want)
{
	char got[512] = "";
	size_t o = 0;

	assert_true(i < f->ncalls);
	for (int k = 0; k < f->calls[i].argc; k++)
		o += (size_t)hv_snprintf(got + o, sizeof(got) - o, "%s%s",
					 k ? " " : "", f->calls[i].argv[k]);
	assert_string_equal(got, want);
}

static void test_apply_status(void **state)
{
	struct fx *f = *state;

	f->ctx.backend = KVP_IP_BACKEND_NETWORKD;
	assert_int_equal(apply(f, "{00000000-0000-0000-0000-000000000000}",
			       true, "", "", "", ""),
			 HV_GUID_NOTFOUND);
	assert_int_equal(apply(f, "00:15:5D:01:02:03", true, "", "", "", ""),
			 HV_INVALIDARG);
	assert_int_equal(apply(f, "", true, "", "", "", ""), HV_INVALIDARG);
	/* Every invalid class of the parser reaches the host as INVALIDARG. */
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad *b = &bad_cases[i];

		assert_int_equal(apply(f, GUID, b->dhcp, b->ip, b->mask, b->gw,
				       b->dns),
				 HV_INVALIDARG);
		assert_int_equal(f->ncalls, 0);
	}
	/* Nothing was written for any of them. */
	assert_null(slurp_rel(f, "etc/systemd/network/05-hyperv-eth0.network",
			      NULL));
	f->ctx.backend = KVP_IP_BACKEND_OFF;
	assert_int_equal(apply(f, GUID, true, "", "", "", ""), HV_E_FAIL);
	/* No manager to detect in an empty tree. */
	f->ctx.backend = KVP_IP_BACKEND_AUTO;
	assert_int_equal(apply(f, GUID, true, "", "", "", ""), HV_E_FAIL);
	assert_int_equal(f->ncalls, 0);
	/* An adapter whose name cannot be used. */
	add_nic(f, "x;y", "{11111111-2222-4333-8444-555555555555}",
		"00:15:5d:00:00:01");
	f->ctx.backend = KVP_IP_BACKEND_NETWORKD;
	assert_int_equal(apply(f, "11111111-2222-4333-8444-555555555555", true,
			       "", "", "", ""),
			 HV_E_FAIL);
}

static void test_detect(void **state)
{
	struct fx *f = *state;

	assert_int_equal(kvp_ipconfig_detect(), -ENOENT);
	put_dir(f, "etc/sysconfig/network-scripts");
	assert_int_equal(kvp_ipconfig_detect(), KVP_IP_BACKEND_IFCFG);
	put_file(f, "etc/network/interfaces", "source interfaces.d/*\n");
	assert_int_equal(kvp_ipconfig_detect(), KVP_IP_BACKEND_IFUPDOWN);
	/* The directory alone is left over from any networkd run. */
	put_dir(f, "run/systemd/netif/links");
	assert_int_equal(kvp_ipconfig_detect(), KVP_IP_BACKEND_IFUPDOWN);
	put_file(f, "run/systemd/netif/state", "OPER_STATE=routable\n");
	assert_int_equal(kvp_ipconfig_detect(), KVP_IP_BACKEND_NETWORKD);
	put_dir(f, "run/NetworkManager");
	assert_int_equal(kvp_ipconfig_detect(), KVP_IP_BACKEND_NM);
	put_dir(f, "etc/netplan");
	assert_int_equal(kvp_ipconfig_detect(), KVP_IP_BACKEND_NM);
	put_file(f, "etc/netplan/50-cloud-init.yaml", "network: {}\n");
	assert_int_equal(kvp_ipconfig_detect(), KVP_IP_BACKEND_NETPLAN);

	/* Detection drives apply; a configured script wins over it. */
	assert_int_equal(apply(f, GUID, true, "", "", "", ""), HV_S_OK);
	assert_call(f, 0, "netplan apply");
	f->ctx.script = "/usr/libexec/hypervkvpd/hv_set_ifconfig";
	assert_int_equal(apply(f, GUID, true, "", "", "", ""), HV_S_OK);
	assert_int_equal(f->ncalls, 1);
	assert_string_equal(f->calls[0].argv[0],
			    "/usr/libexec/hypervkvpd/hv_set_ifconfig");
	/* A forced backend wins over both. */
	f->ctx.backend = KVP_IP_BACKEND_NETWORKD;
	assert_int_equal(apply(f, GUID, true, "", "", "", ""), HV_S_OK);
	assert_call(f, 0, "networkctl reload");

	assert_int_equal(kvp_ip_backend_from_string("networkmanager"),
			 KVP_IP_BACKEND_NM);
	assert_int_equal(kvp_ip_backend_from_string("off"), KVP_IP_BACKEND_OFF);
	assert_int_equal(kvp_ip_backend_from_string("nm"), -EINVAL);
	assert_int_equal(kvp_ip_backend_from_string(NULL), -EINVAL);
	for (int i = 0; i < _KVP_IP_BACKEND_MAX; i++)
		assert_int_equal(
			kvp_ip_backend_from_string(kvp_ip_backend_to_string(i)),
			i);
}

#define DUAL_ARGS                                             \
	false, "192.0.2.10;2001:db8::10", "255.255.255.0;64", \
		"192.0.2.1;2001:db8::1", "192.0.2.53;2001:db8::53"

static void test_apply_backends(void **state)
{
	struct fx *f = *state;
	char uuid[37], want[256];
	mode_t mode;
	char *t;

	kvp_ipconfig_uuid("eth0", uuid);

	f->ctx.backend = KVP_IP_BACKEND_NM;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_S_OK);
	t = slurp_rel(f,
		      "etc/NetworkManager/system-connections/"
		      "hyperv-eth0.nmconnection",
		      &mode);
	assert_non_null(t);
	assert_int_equal(mode, 0600);
	assert_non_null(strstr(t, "address1=2001:db8::10/64\n"));
	free(t);
	assert_int_equal(f->ncalls, 2);

	f->ctx.backend = KVP_IP_BACKEND_NETWORKD;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_S_OK);
	t = slurp_rel(f, "etc/systemd/network/05-hyperv-eth0.network", &mode);
	assert_non_null(t);
	assert_int_equal(mode, 0644);
	free(t);
	assert_int_equal(f->ncalls, 2);
	assert_call(f, 0, "networkctl reload");
	assert_call(f, 1, "networkctl reconfigure eth0");

	f->ctx.backend = KVP_IP_BACKEND_NETPLAN;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_S_OK);
	t = slurp_rel(f, "etc/netplan/90-hyperv-eth0.yaml", &mode);
	assert_non_null(t);
	assert_int_equal(mode, 0600);
	free(t);
	assert_int_equal(f->ncalls, 1);
	assert_call(f, 0, "netplan apply");

	f->ctx.backend = KVP_IP_BACKEND_IFCFG;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_S_OK);
	t = slurp_rel(f, "etc/sysconfig/network-scripts/ifcfg-eth0", &mode);
	assert_non_null(t);
	assert_int_equal(mode, 0644);
	free(t);
	assert_int_equal(f->ncalls, 2);
	assert_call(f, 0, "ifdown eth0");
	assert_call(f, 1, "ifup eth0");
	/* With NetworkManager running, ifcfg goes through it. */
	put_dir(f, "run/NetworkManager");
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_S_OK);
	assert_int_equal(f->ncalls, 2);
	(void)hv_snprintf(want, sizeof(want),
			  "nmcli connection load "
			  "%s/etc/sysconfig/network-scripts/ifcfg-eth0",
			  f->dir);
	assert_call(f, 0, want);
	(void)hv_snprintf(want, sizeof(want),
			  "nmcli --wait 20 connection up uuid %s", uuid);
	assert_call(f, 1, want);

	f->ctx.backend = KVP_IP_BACKEND_NM;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_S_OK);
	(void)hv_snprintf(want, sizeof(want),
			  "nmcli connection load %s/etc/NetworkManager/"
			  "system-connections/hyperv-eth0.nmconnection",
			  f->dir);
	assert_call(f, 0, want);

	/* ifupdown refuses a file interfaces does not read. */
	f->ctx.backend = KVP_IP_BACKEND_IFUPDOWN;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_E_FAIL);
	put_file(f, "etc/network/interfaces",
		 "auto lo\niface lo inet loopback\n");
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_E_FAIL);
	assert_int_equal(f->ncalls, 0);
	/* ... and an interface that the main file configures already. */
	put_file(f, "etc/network/interfaces",
		 "source /etc/network/interfaces.d/*\n"
		 "allow-hotplug eth0\niface eth0 inet dhcp\n");
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_E_FAIL);
	assert_null(slurp_rel(f, "etc/network/interfaces.d/hyperv-eth0", NULL));
	put_file(f, "etc/network/interfaces",
		 "auto lo\niface lo inet loopback\n"
		 "iface eth10 inet dhcp\n"
		 "source-directory interfaces.d\n");
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_S_OK);
	t = slurp_rel(f, "etc/network/interfaces.d/hyperv-eth0", &mode);
	assert_non_null(t);
	assert_int_equal(mode, 0644);
	free(t);
	assert_int_equal(f->ncalls, 2);
	assert_call(f, 0, "ifdown --force eth0");
	assert_call(f, 1, "ifup eth0");
}

static void test_apply_script(void **state)
{
	struct fx *f = *state;
	char want[512];
	mode_t mode;
	char *t;

	f->ctx.backend = KVP_IP_BACKEND_SCRIPT;
	/* Only an absolute path, never a PATH search. */
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_E_FAIL);
	f->ctx.script = "hv_set_ifconfig";
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_E_FAIL);
	assert_int_equal(f->ncalls, 0);
	f->ctx.script = "/usr/sbin/hv_set_ifconfig";
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_S_OK);
	(void)hv_snprintf(want, sizeof(want),
			  "/usr/sbin/hv_set_ifconfig "
			  "%s/var/lib/hyperv/ifcfg-eth0 "
			  "%s/var/lib/hyperv/eth0.nmconnection",
			  f->dir, f->dir);
	assert_int_equal(f->ncalls, 1);
	assert_call(f, 0, want);
	t = slurp_rel(f, "var/lib/hyperv/ifcfg-eth0", &mode);
	assert_non_null(t);
	assert_int_equal(mode, 0600);
	assert_non_null(strstr(t, "IPV6ADDR=2001:0db8:0000:0000:0000:0000:"
				  "0000:0010\n"));
	free(t);
	t = slurp_rel(f, "var/lib/hyperv/eth0.nmconnection", &mode);
	assert_non_null(t);
	assert_int_equal(mode, 0600);
	free(t);
	/* The script's exit status is the answer. */
	f->fail_at = 1;
	f->fail_status = 1;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_E_FAIL);
}

static void test_apply_failures(void **state)
{
	struct fx *f = *state;

	f->ctx.backend = KVP_IP_BACKEND_NETWORKD;
	f->fail_at = 2;
	f->fail_status = 1;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_E_FAIL);
	assert_int_equal(f->ncalls, 2);
	f->fail_at = 1;
	f->fail_status = -ENOENT; /* networkctl not installed */
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_E_FAIL);
	assert_int_equal(f->ncalls, 1);
	f->fail_status = -ETIME;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_E_FAIL);
	/* ifdown failing (interface was not up) is not a failure. */
	f->ctx.backend = KVP_IP_BACKEND_IFCFG;
	f->fail_at = 1;
	f->fail_status = 1;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_S_OK);
	assert_int_equal(f->ncalls, 2);
	/* --ip-apply=none: files only. */
	f->fail_at = 0;
	f->ctx.no_apply = true;
	f->ctx.backend = KVP_IP_BACKEND_NETPLAN;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_S_OK);
	assert_int_equal(f->ncalls, 0);
	/* A file that cannot be written is a failure (a dir in the way). */
	f->ctx.no_apply = false;
	{
		char path[512];

		(void)hv_snprintf(
			path, sizeof(path),
			"%s/etc/systemd/network/05-hyperv-eth0.network",
			f->dir);
		assert_int_equal(unlink(path), 0);
		assert_int_equal(mkdir(path, 0755), 0);
	}
	f->ctx.backend = KVP_IP_BACKEND_NETWORKD;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_E_FAIL);
	assert_int_equal(f->ncalls, 0);
}

/* The real runner: exit statuses and a missing program come through. */
static void test_default_runner(void **state)
{
	struct fx *f = *state;
	char script[512];
	int fd;

	(void)hv_snprintf(script, sizeof(script), "%s/set-ifconfig", f->dir);
	fd = open(script, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	/* Records its arguments next to itself, fails on request. */
	static const char body[] =
		"#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$0.args\"\n"
		"[ -e \"$0.fail\" ] && exit 3\nexit 0\n";
	assert_int_equal(hv_write_full(fd, body, sizeof(body) - 1),
			 (ssize_t)sizeof(body) - 1);
	close(fd);
	f->ctx.run = NULL;
	f->ctx.backend = KVP_IP_BACKEND_SCRIPT;
	f->ctx.script = script;
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_S_OK);
	{
		char args[512], want[512], *t;

		(void)hv_snprintf(args, sizeof(args), "%s.args", script);
		t = slurp(args);
		assert_non_null(t);
		(void)hv_snprintf(want, sizeof(want),
				  "%s/var/lib/hyperv/ifcfg-eth0\n"
				  "%s/var/lib/hyperv/eth0.nmconnection\n",
				  f->dir, f->dir);
		assert_string_equal(t, want);
		free(t);
	}
	put_file(f, "set-ifconfig.fail", "");
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_E_FAIL);
	f->ctx.script = "/nonexistent/hv_set_ifconfig";
	assert_int_equal(apply(f, GUID, DUAL_ARGS), HV_E_FAIL);
}

static void test_write_file(void **state)
{
	struct fx *f = *state;
	char path[512], link[512], target[512];
	struct dirent *de;
	struct stat st;
	DIR *d;
	char *t;

	(void)hv_snprintf(path, sizeof(path), "%s/new/dir/file", f->dir);
	assert_int_equal(kvp_ipconfig_write_file(path, "one\n", 0600), 0);
	assert_int_equal(kvp_ipconfig_write_file(path, "two\n", 0640), 0);
	t = slurp(path);
	assert_string_equal(t, "two\n");
	free(t);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* A symlink in place of the file is replaced, never followed. */
	(void)hv_snprintf(target, sizeof(target), "%s/target", f->dir);
	put_file(f, "target", "precious\n");
	(void)hv_snprintf(link, sizeof(link), "%s/new/dir/link", f->dir);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(kvp_ipconfig_write_file(link, "x\n", 0600), 0);
	t = slurp(target);
	assert_string_equal(t, "precious\n");
	free(t);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* No temporary file is left behind. */
	(void)hv_snprintf(path, sizeof(path), "%s/new/dir", f->dir);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)))
		assert_false(de->d_name[0] == '.' && de->d_name[1] &&
			     de->d_name[1] != '.');
	closedir(d);
	assert_int_equal(kvp_ipconfig_write_file("relative", "x", 0600),
			 -EINVAL);
}

static void test_uuid(void **state)
{
	char a[37], b[37];

	kvp_ipconfig_uuid("eth0", a);
	kvp_ipconfig_uuid("eth0", b);
	assert_string_equal(a, b);
	kvp_ipconfig_uuid("eth1", b);
	assert_string_not_equal(a, b);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '8'); /* version 8 */
	assert_non_null(strchr("89ab", a[19]));
}

/* ---- golden files ------------------------------------------------------- */

struct scenario {
	const char *name;
	bool dhcp;
	const char *ip, *mask, *gw, *dns;
};

/* tests/scripts/kvp-ipconfig-tools.sh feeds these outputs to the real tools. */
static const struct scenario scenarios[] = {
	{ "static4", false, "192.0.2.10", "255.255.255.0", "192.0.2.1",
	  "192.0.2.53" },
	{ "dhcp", true, "", "", "", "" },
	{ "dual", DUAL_ARGS },
	{ "multi", false,
	  "192.0.2.10;192.0.2.11;198.51.100.7;2001:db8::10;2001:db8:1::10",
	  "255.255.255.0;255.255.255.0;255.255.255.128;64;/48",
	  "192.0.2.1;192.0.2.254;2001:db8::1;2001:db8::2",
	  "192.0.2.53;198.51.100.53;2001:db8::53;8.8.8.8" },
	{ "dhcp-static6", true, "2001:db8::10", "64", "2001:db8::1",
	  "192.0.2.53;2001:db8::53" },
};

static const struct {
	enum kvp_ip_format fmt;
	const char *file;
} formats[] = {
	{ KVP_IP_FMT_NM, "nm.nmconnection" },
	{ KVP_IP_FMT_NETWORKD, "networkd.network" },
	{ KVP_IP_FMT_NETPLAN, "netplan.yaml" },
	{ KVP_IP_FMT_IFUPDOWN, "ifupdown" },
	{ KVP_IP_FMT_IFCFG, "ifcfg" },
	{ KVP_IP_FMT_UPSTREAM_IFCFG, "upstream-ifcfg" },
};

static void test_golden(void **state)
{
	const char *src = getenv("HVIS_SRCDIR");
	bool update = getenv("HVIS_UPDATE_GOLDEN") != NULL;
	struct kvp_ipconfig c;
	char *text;

	if (!src)
		src = ".";
	for (size_t s = 0; s < ARRAY_SIZE(scenarios); s++) {
		const struct scenario *sc = &scenarios[s];

		assert_int_equal(
			parse(sc->dhcp, sc->ip, sc->mask, sc->gw, sc->dns), 0);
		c = cfg_buf;
		hv_strscpy(c.ifname, "eth0", sizeof(c.ifname));
		memcpy(c.mac, ((uint8_t[]){ 0, 0x15, 0x5d, 1, 2, 3 }), 6);
		for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
			char path[512], *want;

			assert_int_equal(kvp_ipconfig_render(formats[i].fmt, &c,
							     &text),
					 0);
			(void)hv_snprintf(path, sizeof(path),
					  "%s/tests/ipconfig/%s/%s", src,
					  sc->name, formats[i].file);
			if (update) {
				assert_int_equal(kvp_ipconfig_write_file(
							 path, text, 0644),
						 0);
				free(text);
				continue;
			}
			want = slurp(path);
			if (!want)
				fail_msg("%s missing", path);
			if (strcmp(text, want) != 0)
				fail_msg("%s differs; got:\n%s", path, text);
			free(want);
			free(text);
		}
	}
	assert_int_equal(kvp_ipconfig_render(_KVP_IP_FMT_MAX, &c, &text),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_full_field),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_guid),
		cmocka_unit_test_setup_teardown(test_find_adapter, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_apply_status, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_backends, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_apply_script, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_apply_failures, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_default_runner, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_file, setup,
						teardown),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_golden),
	};

	hv_log_open("test-ipconfig", HV_LOG_STDERR);
	return cmocka_run_group_tests_name("ipconfig", tests, NULL, NULL);
}
