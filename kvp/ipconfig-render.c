/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The text of each backend's file. Every value printed here is either a
 * binary address printed by inet_ntop, a number, or the interface name
 * and MAC that kvp_ipconfig_find_adapter checked: nothing needs quoting
 * or escaping in any of the formats.
 */
#include <arpa/inet.h>
#include <stdarg.h>

#include "hvis/util.h"
#include "ipconfig.h"

#define HEADER                                                   \
	"# Written by hv_kvp_daemon for a Hyper-V host request " \
	"(SET_IP_INFO).\n# The next request replaces this file.\n"

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) HV_PRINTF(2, 3);

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap =
				HV_MAX(b->cap * 2, b->len + (size_t)n + 256);
			char *p = realloc(b->p, cap);

			if (!p) {
				b->oom = true;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

struct ipstr {
	char s[INET6_ADDRSTRLEN];
};

static struct ipstr ntop(const struct kvp_ip_addr *a)
{
	struct ipstr r;

	if (!inet_ntop(a->family, a->bytes, r.s, sizeof(r.s)))
		r.s[0] = '\0'; /* cannot happen: the family was checked */
	return r;
}

/* §3.6: upstream writes IPv6 addresses fully expanded. */
static struct ipstr ntop_expanded(const struct kvp_ip_addr *a)
{
	struct ipstr r;
	size_t o = 0;

	if (a->family != AF_INET6)
		return ntop(a);
	for (int i = 0; i < 8; i++) {
		int n = hv_snprintf(r.s + o, sizeof(r.s) - o, "%s%02x%02x",
				    i ? ":" : "", a->bytes[2 * i],
				    a->bytes[2 * i + 1]);

		if (n < 0)
			break; /* 39 characters always fit */
		o += (size_t)n;
	}
	return r;
}

static struct ipstr v4mask(uint8_t prefix)
{
	uint32_t m = prefix ? 0xffffffffu << (32 - prefix) : 0;
	struct ipstr r;

	(void)hv_snprintf(r.s, sizeof(r.s), "%u.%u.%u.%u", m >> 24,
			  (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
	return r;
}

struct macstr {
	char s[18];
};

static struct macstr mac_text(const uint8_t mac[6], bool upper)
{
	const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	struct macstr r;

	for (int i = 0; i < 6; i++) {
		r.s[3 * i] = hex[mac[i] >> 4];
		r.s[3 * i + 1] = hex[mac[i] & 0xf];
		r.s[3 * i + 2] = i < 5 ? ':' : '\0';
	}
	return r;
}

static size_t count(const struct kvp_ip_addr *a, size_t n, int family)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += a[i].family == family;
	return c;
}

/* The k-th (0-based) entry of family in a, or NULL. */
static const struct kvp_ip_addr *nth(const struct kvp_ip_addr *a, size_t n,
				     int family, size_t k)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].family == family && k-- == 0)
			return &a[i];
	return NULL;
}

#define for_each_family(a, n, fam, it)                  \
	for (size_t _i = 0; _i < (n); _i++)             \
		if (((it) = &(a)[_i])->family != (fam)) \
			continue;                       \
		else

/* ---- NetworkManager keyfile -------------------------------------------- */

static void nm_ip_section(struct sbuf *b, const struct kvp_ipconfig *c, int fam)
{
	const struct kvp_ip_addr *a;
	size_t na = count(c->addrs, c->n_addrs, fam), k = 0;
	const char *method;

	if (fam == AF_INET)
		method = c->dhcp4 ? "auto" : na ? "manual" : "disabled";
	else
		method = na ? "manual" : "auto";
	sb_printf(b, "\n[%s]\nmethod=%s\n", fam == AF_INET ? "ipv4" : "ipv6",
		  method);
	for_each_family(c->addrs, c->n_addrs, fam, a)
		sb_printf(b, "address%zu=%s/%u\n", ++k, ntop(a).s, a->prefix);
	k = 0;
	for_each_family(c->gateways, c->n_gateways, fam, a)
	{
		if (k == 0)
			sb_printf(b, "gateway=%s\n", ntop(a).s);
		else
			sb_printf(b, "route%zu=%s,%s,%zu\n", k,
				  fam == AF_INET ? "0.0.0.0/0" : "::/0",
				  ntop(a).s,
				  KVP_IPCONFIG_EXTRA_GW_METRIC + k - 1);
		k++;
	}
	if (count(c->dns, c->n_dns, fam)) {
		sb_printf(b, "dns=");
		for_each_family(c->dns, c->n_dns, fam, a)
			sb_printf(b, "%s;", ntop(a).s);
		sb_printf(b, "\n");
	}
}

static void render_nm(struct sbuf *b, const struct kvp_ipconfig *c)
{
	char uuid[37];

	kvp_ipconfig_uuid(c->ifname, uuid);
	sb_printf(b,
		  HEADER "\n[connection]\nid=hyperv-%s\nuuid=%s\n"
			 "type=ethernet\ninterface-name=%s\nautoconnect=true\n"
			 "autoconnect-priority=100\n\n[ethernet]\n"
			 "mac-address=%s\n",
		  c->ifname, uuid, c->ifname, mac_text(c->mac, true).s);
	nm_ip_section(b, c, AF_INET);
	nm_ip_section(b, c, AF_INET6);
}

/* ---- systemd-networkd --------------------------------------------------- */

static void render_networkd(struct sbuf *b, const struct kvp_ipconfig *c)
{
	const struct kvp_ip_addr *a;
	size_t i;

	sb_printf(b,
		  HEADER "\n[Match]\nName=%s\nMACAddress=%s\n\n[Network]\n"
			 "DHCP=%s\nIPv6AcceptRA=%s\n",
		  c->ifname, mac_text(c->mac, false).s,
		  c->dhcp4 ? "ipv4" : "no",
		  count(c->addrs, c->n_addrs, AF_INET6) ? "no" : "yes");
	for (i = 0; i < c->n_addrs; i++)
		sb_printf(b, "Address=%s/%u\n", ntop(&c->addrs[i]).s,
			  c->addrs[i].prefix);
	/* The first gateway of each family is the default route. */
	for (int fam = AF_INET; fam; fam = fam == AF_INET ? AF_INET6 : 0) {
		a = nth(c->gateways, c->n_gateways, fam, 0);
		if (a)
			sb_printf(b, "Gateway=%s\n", ntop(a).s);
	}
	for (i = 0; i < c->n_dns; i++)
		sb_printf(b, "DNS=%s\n", ntop(&c->dns[i]).s);
	for (int fam = AF_INET; fam; fam = fam == AF_INET ? AF_INET6 : 0)
		for (size_t k = 1;
		     (a = nth(c->gateways, c->n_gateways, fam, k)); k++)
			sb_printf(b, "\n[Route]\nGateway=%s\nMetric=%zu\n",
				  ntop(a).s,
				  KVP_IPCONFIG_EXTRA_GW_METRIC + k - 1);
}

/* ---- netplan ------------------------------------------------------------ */

static void render_netplan(struct sbuf *b, const struct kvp_ipconfig *c)
{
	const struct kvp_ip_addr *a;
	size_t i;

	/* The id is the interface name so this file merges into (and, being
	 * read last, overrides) an earlier definition of the same NIC. */
	sb_printf(b,
		  HEADER "network:\n  version: 2\n  ethernets:\n    %s:\n"
			 "      match:\n        name: \"%s\"\n"
			 "        macaddress: \"%s\"\n      dhcp4: %s\n"
			 "      accept-ra: %s\n",
		  c->ifname, c->ifname, mac_text(c->mac, false).s,
		  c->dhcp4 ? "true" : "false",
		  count(c->addrs, c->n_addrs, AF_INET6) ? "false" : "true");
	if (c->n_addrs) {
		sb_printf(b, "      addresses:\n");
		for (i = 0; i < c->n_addrs; i++)
			sb_printf(b, "        - \"%s/%u\"\n",
				  ntop(&c->addrs[i]).s, c->addrs[i].prefix);
	}
	if (c->n_gateways) {
		sb_printf(b, "      routes:\n");
		for (int fam = AF_INET; fam;
		     fam = fam == AF_INET ? AF_INET6 : 0) {
			for (size_t k = 0;
			     (a = nth(c->gateways, c->n_gateways, fam, k));
			     k++) {
				sb_printf(b,
					  "        - to: default\n"
					  "          via: \"%s\"\n",
					  ntop(a).s);
				if (k)
					sb_printf(b, "          metric: %zu\n",
						  KVP_IPCONFIG_EXTRA_GW_METRIC +
							  k - 1);
			}
		}
	}
	if (c->n_dns) {
		sb_printf(b, "      nameservers:\n        addresses:\n");
		for (i = 0; i < c->n_dns; i++)
			sb_printf(b, "          - \"%s\"\n",
				  ntop(&c->dns[i]).s);
	}
}

/* ---- ifupdown ----------------------------------------------------------- */

static void ifupdown_dns(struct sbuf *b, const struct kvp_ipconfig *c,
			 bool *done)
{
	if (*done || !c->n_dns)
		return;
	/* Read by resolvconf's ifupdown hook; ignored without it. */
	sb_printf(b, "\tdns-nameservers");
	for (size_t i = 0; i < c->n_dns; i++)
		sb_printf(b, " %s", ntop(&c->dns[i]).s);
	sb_printf(b, "\n");
	*done = true;
}

static void render_ifupdown(struct sbuf *b, const struct kvp_ipconfig *c)
{
	const struct kvp_ip_addr *a;
	bool dns_done = false;

	sb_printf(b, HEADER "\nauto %s\n", c->ifname);
	if (c->dhcp4) {
		sb_printf(b, "\niface %s inet dhcp\n", c->ifname);
		ifupdown_dns(b, c, &dns_done);
	}
	/*
	 * One stanza per address; the k-th gateway of a family goes with
	 * the k-th address, as a backup route after the first.
	 */
	for (int fam = AF_INET; fam; fam = fam == AF_INET ? AF_INET6 : 0) {
		size_t k = 0;

		for_each_family(c->addrs, c->n_addrs, fam, a)
		{
			const struct kvp_ip_addr *gw =
				nth(c->gateways, c->n_gateways, fam, k);

			sb_printf(b, "\niface %s %s static\n\taddress %s/%u\n",
				  c->ifname, fam == AF_INET ? "inet" : "inet6",
				  ntop(a).s, a->prefix);
			if (gw)
				sb_printf(b, "\tgateway %s\n", ntop(gw).s);
			if (gw && k)
				sb_printf(b, "\tmetric %zu\n",
					  KVP_IPCONFIG_EXTRA_GW_METRIC + k - 1);
			ifupdown_dns(b, c, &dns_done);
			k++;
		}
	}
	if (!count(c->addrs, c->n_addrs, AF_INET6)) {
		sb_printf(b, "\niface %s inet6 auto\n", c->ifname);
		ifupdown_dns(b, c, &dns_done);
	}
}

/* ---- ifcfg (initscripts, NetworkManager's ifcfg-rh) --------------------- */

static void render_ifcfg(struct sbuf *b, const struct kvp_ipconfig *c)
{
	const struct kvp_ip_addr *a;
	char uuid[37];
	size_t k = 0;

	kvp_ipconfig_uuid(c->ifname, uuid);
	sb_printf(b,
		  HEADER "DEVICE=%s\nNAME=hyperv-%s\nUUID=%s\nTYPE=Ethernet\n"
			 "HWADDR=%s\nONBOOT=yes\nBOOTPROTO=%s\n",
		  c->ifname, c->ifname, uuid, mac_text(c->mac, true).s,
		  c->dhcp4 ? "dhcp" : "none");
	for_each_family(c->addrs, c->n_addrs, AF_INET, a)
	{
		sb_printf(b, "IPADDR%zu=%s\nPREFIX%zu=%u\n", k, ntop(a).s, k,
			  a->prefix);
		k++;
	}
	/* ifcfg has one default gateway per family. */
	a = nth(c->gateways, c->n_gateways, AF_INET, 0);
	if (a)
		sb_printf(b, "GATEWAY=%s\n", ntop(a).s);
	for (size_t i = 0; i < c->n_dns; i++)
		sb_printf(b, "DNS%zu=%s\n", i + 1, ntop(&c->dns[i]).s);
	sb_printf(b, "IPV6INIT=yes\nIPV6_AUTOCONF=%s\n",
		  count(c->addrs, c->n_addrs, AF_INET6) ? "no" : "yes");
	k = 0;
	for_each_family(c->addrs, c->n_addrs, AF_INET6, a)
	{
		if (k == 0)
			sb_printf(b, "IPV6ADDR=%s/%u\n", ntop(a).s, a->prefix);
		else
			sb_printf(b, "%s%s/%u",
				  k == 1 ? "IPV6ADDR_SECONDARIES=\"" : " ",
				  ntop(a).s, a->prefix);
		k++;
	}
	if (k > 1)
		sb_printf(b, "\"\n");
	a = nth(c->gateways, c->n_gateways, AF_INET6, 0);
	if (a)
		sb_printf(b, "IPV6_DEFAULTGW=%s\n", ntop(a).s);
}

/*
 * §3.6, the file an hv_set_ifconfig script expects: each list in the
 * host's order, IPv4 keys counted from 0 (GATEWAY, then GATEWAY1), IPv6
 * keys suffixed "", "_1", ..., DNS counted from 1 over both families.
 */
static void render_upstream_ifcfg(struct sbuf *b, const struct kvp_ipconfig *c)
{
	size_t n4 = 0, n6 = 0, i;

	sb_printf(b, "HWADDR=%s\nDEVICE=%s\nBOOTPROTO=%s\n",
		  mac_text(c->mac, true).s, c->ifname,
		  c->dhcp4 ? "dhcp" : "none");
	for (i = 0; i < c->n_addrs; i++) {
		const struct kvp_ip_addr *a = &c->addrs[i];

		if (a->family == AF_INET)
			sb_printf(b, "IPADDR%zu=%s\n", n4++, ntop(a).s);
		else if (n6++ == 0)
			sb_printf(b, "IPV6ADDR=%s\n", ntop_expanded(a).s);
		else
			sb_printf(b, "IPV6ADDR_%zu=%s\n", n6 - 1,
				  ntop_expanded(a).s);
	}
	n4 = n6 = 0;
	for (i = 0; i < c->n_addrs; i++) {
		const struct kvp_ip_addr *a = &c->addrs[i];

		if (a->family == AF_INET)
			sb_printf(b, "NETMASK%zu=%s\n", n4++,
				  v4mask(a->prefix).s);
		else if (n6++ == 0)
			sb_printf(b, "IPV6NETMASK=%u\n", a->prefix);
		else
			sb_printf(b, "IPV6NETMASK_%zu=%u\n", n6 - 1, a->prefix);
	}
	n4 = n6 = 0;
	for (i = 0; i < c->n_gateways; i++) {
		const struct kvp_ip_addr *a = &c->gateways[i];

		if (a->family == AF_INET && n4++ == 0)
			sb_printf(b, "GATEWAY=%s\n", ntop(a).s);
		else if (a->family == AF_INET)
			sb_printf(b, "GATEWAY%zu=%s\n", n4 - 1, ntop(a).s);
		else if (n6++ == 0)
			sb_printf(b, "IPV6_DEFAULTGW=%s\n", ntop_expanded(a).s);
		else
			sb_printf(b, "IPV6_DEFAULTGW_%zu=%s\n", n6 - 1,
				  ntop_expanded(a).s);
	}
	for (i = 0; i < c->n_dns; i++)
		sb_printf(b, "DNS%zu=%s\n", i + 1, ntop(&c->dns[i]).s);
}

int kvp_ipconfig_render(enum kvp_ip_format fmt, const struct kvp_ipconfig *cfg,
			char **ret)
{
	struct sbuf b = { 0 };

	switch (fmt) {
	case KVP_IP_FMT_NM:
		render_nm(&b, cfg);
		break;
	case KVP_IP_FMT_NETWORKD:
		render_networkd(&b, cfg);
		break;
	case KVP_IP_FMT_NETPLAN:
		render_netplan(&b, cfg);
		break;
	case KVP_IP_FMT_IFUPDOWN:
		render_ifupdown(&b, cfg);
		break;
	case KVP_IP_FMT_IFCFG:
		render_ifcfg(&b, cfg);
		break;
	case KVP_IP_FMT_UPSTREAM_IFCFG:
		render_upstream_ifcfg(&b, cfg);
		break;
	default:
		return -EINVAL;
	}
	if (b.oom || !b.p) {
		free(b.p);
		return -ENOMEM;
	}
	*ret = b.p;
	return 0;
}
