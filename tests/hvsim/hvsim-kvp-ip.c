/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvsim-internal.h"
#include "hvsim-kvp-ip.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int hvsim_kvp_ip_mac(const char *in, char out[HVSIM_KVP_IP_MAC_SIZE])
{
	static const char hex[] = "0123456789ABCDEF";
	uint8_t b[6];
	size_t i = 0, len;
	char sep = 0;

	if (!in)
		return -EINVAL;
	len = strlen(in);
	if (len == 12) {
		/* Bare hex digits. */
	} else if (len == 17 && (in[2] == ':' || in[2] == '-')) {
		sep = in[2];
	} else {
		return -EINVAL;
	}
	for (size_t k = 0; k < 6; k++) {
		int hi = hexval((unsigned char)in[i]);
		int lo = hexval((unsigned char)in[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		b[k] = (uint8_t)(hi << 4 | lo);
		i += 2;
		if (sep && k < 5 && in[i++] != sep)
			return -EINVAL;
	}
	for (size_t k = 0; k < 6; k++) {
		out[3 * k] = hex[b[k] >> 4];
		out[3 * k + 1] = hex[b[k] & 0xf];
		out[3 * k + 2] = k < 5 ? ':' : '\0';
	}
	return 0;
}

int hvsim_kvp_ip_guid(const char *in, char out[HVSIM_KVP_IP_GUID_SIZE])
{
	size_t len, o = 0;

	if (!in)
		return -EINVAL;
	len = strlen(in);
	if (len == 38 && in[0] == '{' && in[37] == '}') {
		in++;
		len = 36;
	}
	if (len != 36)
		return -EINVAL;
	out[o++] = '{';
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? in[i] != '-' : hexval((unsigned char)in[i]) < 0)
			return -EINVAL;
		out[o++] = (char)tolower((unsigned char)in[i]);
	}
	out[o++] = '}';
	out[o] = '\0';
	return 0;
}

static void why_set(char *why, size_t size, const char *fmt, ...)
	HV_PRINTF(3, 4);
static void why_set(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!why || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

static bool is_sep(char c)
{
	return c == ',' || c == ';';
}

/*
 * Re-join a user list with ';' into out[size]: entries trimmed, none
 * empty. Returns the entry count and the families seen in *families.
 */
static int join(const char *what, const char *in, char *out, size_t size,
		unsigned int *families, char *why, size_t why_size)
{
	size_t o = 0;
	int n = 0;

	out[0] = '\0';
	if (!in || !*in)
		return 0;
	for (const char *p = in;;) {
		const char *e = p;
		size_t len;

		while (*e && !is_sep(*e))
			e++;
		while (p < e && isspace((unsigned char)*p))
			p++;
		len = (size_t)(e - p);
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (!len) {
			why_set(why, why_size, "%s: empty entry", what);
			return -EINVAL;
		}
		if (o + (o ? 1 : 0) + len + 1 > size) {
			why_set(why, why_size, "%s: longer than the host field",
				what);
			return -E2BIG;
		}
		if (o)
			out[o++] = ';';
		memcpy(out + o, p, len);
		o += len;
		out[o] = '\0';
		/* A family guess for addr_family only; nothing is validated. */
		*families |= memchr(p, ':', len) ? ADDR_FAMILY_IPV6 :
						   ADDR_FAMILY_IPV4;
		n++;
		if (!*e)
			break;
		p = e + 1;
	}
	return n;
}

int hvsim_kvp_ip_build_set(const struct hvsim_kvp_ip_set_args *a,
			   struct hvsim_kvp_ip *ret, char *why, size_t why_size)
{
	/* The host fields in units, NUL included; ASCII: one byte each. */
	struct hvsim_kvp_ip ip;
	unsigned int fam = 0, ignored = 0;
	int nip, nsn, r;

	if (!a || !ret || !a->adapter) {
		why_set(why, why_size, "no adapter");
		return -EINVAL;
	}
	memset(&ip, 0, sizeof(ip));
	if (a->raw_adapter) {
		if (strlen(a->adapter) >= MAX_ADAPTER_ID_SIZE) {
			why_set(why, why_size, "adapter: too long");
			return -E2BIG;
		}
		memcpy(ip.adapter_id, a->adapter, strlen(a->adapter) + 1);
	} else if (hvsim_kvp_ip_guid(a->adapter, ip.adapter_id) < 0) {
		why_set(why, why_size, "adapter: not a GUID");
		return -EINVAL;
	}
	nip = join("ip", a->ip, ip.ip_addr, MAX_IP_ADDR_SIZE, &fam, why,
		   why_size);
	if (nip < 0)
		return nip;
	nsn = join("subnet", a->subnet, ip.sub_net, MAX_IP_ADDR_SIZE, &ignored,
		   why, why_size);
	if (nsn < 0)
		return nsn;
	if (nsn != nip) {
		why_set(why, why_size, "%d address(es) but %d subnet(s)", nip,
			nsn);
		return -EINVAL;
	}
	r = join("gateway", a->gateway, ip.gate_way, MAX_GATEWAY_SIZE, &fam,
		 why, why_size);
	if (r < 0)
		return r;
	r = join("dns", a->dns, ip.dns_addr, MAX_IP_ADDR_SIZE, &fam, why,
		 why_size);
	if (r < 0)
		return r;
	ip.dhcp_enabled = a->dhcp ? 1 : 0;
	if (a->family >= 0)
		ip.addr_family = (uint8_t)a->family;
	else
		ip.addr_family = (uint8_t)(fam ? fam : ADDR_FAMILY_IPV4);
	memcpy(ret, &ip, sizeof(ip));
	return 0;
}

int hvsim_kvp_ip_get(struct hvsim_kvp *k, const char *mac,
		     struct hvsim_kvp_ip *ret, uint32_t *status)
{
	char m[HVSIM_KVP_IP_MAC_SIZE];

	if (hvsim_kvp_ip_mac(mac, m) < 0)
		return -EINVAL;
	return hvsim_kvp_get_ip_info(k, m, ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6,
				     ret, status);
}

int hvsim_kvp_ip_set(struct hvsim_kvp *k, const struct hvsim_kvp_ip_set_args *a,
		     uint32_t *status, char *why, size_t why_size)
{
	struct hvsim_kvp_ip *ip = malloc(sizeof(*ip));
	int r;

	if (!ip)
		return -ENOMEM;
	r = hvsim_kvp_ip_build_set(a, ip, why, why_size);
	if (r >= 0)
		r = hvsim_kvp_set_ip_info(k, ip, status);
	free(ip);
	return r;
}

int hvsim_kvp_ip_split(const char *list, char *buf, size_t size,
		       const char **items, size_t max)
{
	size_t n = 0, len = list ? strlen(list) : 0;
	char *p, *save = NULL;

	if (len + 1 > size)
		return -E2BIG;
	memcpy(buf, list ? list : "", len + 1);
	for (p = strtok_r(buf, ";", &save); p; p = strtok_r(NULL, ";", &save)) {
		if (n == max)
			return -E2BIG;
		items[n++] = p;
	}
	return (int)n;
}

void hvsim_kvp_ip_to_fields(const struct hvsim_kvp_ip *ip, char num[2][4],
			    const char *fields[HVSIM_KVP_IP_FIELDS])
{
	snprintf(num[0], 4, "%u", ip->addr_family);
	snprintf(num[1], 4, "%u", ip->dhcp_enabled);
	fields[0] = num[0];
	fields[1] = num[1];
	fields[2] = ip->ip_addr;
	fields[3] = ip->sub_net;
	fields[4] = ip->gate_way;
	fields[5] = ip->dns_addr;
}

static int byte_of(const char *s, uint8_t *ret)
{
	char *end;
	unsigned long v;

	if (!*s || (s[0] == '0' && s[1]) || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 255)
		return -EINVAL;
	*ret = (uint8_t)v;
	return 0;
}

int hvsim_kvp_ip_from_fields(const char *const *fields, size_t n,
			     struct hvsim_kvp_ip *ret)
{
	struct hvsim_kvp_ip ip;
	char *const dst[] = { ip.ip_addr, ip.sub_net, ip.gate_way,
			      ip.dns_addr };
	const size_t dsz[] = { sizeof(ip.ip_addr), sizeof(ip.sub_net),
			       sizeof(ip.gate_way), sizeof(ip.dns_addr) };

	if (n != HVSIM_KVP_IP_FIELDS)
		return -EINVAL;
	memset(&ip, 0, sizeof(ip));
	if (byte_of(fields[0], &ip.addr_family) < 0 ||
	    byte_of(fields[1], &ip.dhcp_enabled) < 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(dst); i++) {
		size_t len = strlen(fields[2 + i]);

		if (len >= dsz[i])
			return -E2BIG;
		memcpy(dst[i], fields[2 + i], len + 1);
	}
	memcpy(ret, &ip, sizeof(ip));
	return 0;
}

/* The guest's bytes, control characters and quotes escaped. */
static void put_escaped(FILE *f, const char *s, bool json)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			fprintf(f, json ? "\\u%04x" : "\\x%02x", c);
		else if (json && (c == '"' || c == '\\'))
			fprintf(f, "\\%c", c);
		else
			fputc(c, f);
	}
}

static void put_list(FILE *f, const char *list, bool json)
{
	bool first = true;

	fputs(json ? "[" : "{", f);
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ";");

		if (n) {
			char item[256];

			snprintf(item, sizeof(item), "%.*s", (int)n, p);
			fputs(first ? "" : ", ", f);
			if (json)
				fputc('"', f);
			put_escaped(f, item, json);
			if (json)
				fputc('"', f);
			first = false;
		}
		p += n;
		if (*p)
			p++;
	}
	fputs(json ? "]" : "}", f);
}

static const char *family_text(uint8_t fam)
{
	switch (fam & (ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6)) {
	case ADDR_FAMILY_IPV4:
		return "IPv4";
	case ADDR_FAMILY_IPV6:
		return "IPv6";
	case ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6:
		return "IPv4, IPv6";
	default:
		return "None";
	}
}

int hvsim_kvp_ip_print(FILE *f, const char *adapter,
		       const struct hvsim_kvp_ip *ip, uint32_t status,
		       bool json)
{
	const char *name = hvsim_kvp_status_name(status);
	char st[16];
	static const char *const labels[] = { "IPAddresses", "Subnets",
					      "Gateways", "DnsServers" };
	const char *lists[] = { ip->ip_addr, ip->sub_net, ip->gate_way,
				ip->dns_addr };

	if (!name) {
		snprintf(st, sizeof(st), "0x%08x", status);
		name = st;
	}
	if (json) {
		fputs("{\"adapter\": \"", f);
		put_escaped(f, adapter ? adapter : "", true);
		fprintf(f, "\", \"status\": \"%s\"", name);
		for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
			fprintf(f, ", \"%s\": ", labels[i]);
			put_list(f, lists[i], true);
		}
		fprintf(f, ", \"DhcpEnabled\": %s, \"AddressFamily\": %u}\n",
			ip->dhcp_enabled ? "true" : "false", ip->addr_family);
	} else {
		fputs("MacAddress    : ", f);
		put_escaped(f, adapter ? adapter : "", false);
		fprintf(f, "\nStatus        : %s\n", name);
		for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
			fprintf(f, "%-14s: ", labels[i]);
			put_list(f, lists[i], false);
			fputc('\n', f);
		}
		fprintf(f, "DhcpEnabled   : %s\nAddressFamily : %s\n",
			ip->dhcp_enabled ? "True" : "False",
			family_text(ip->addr_family));
	}
	return ferror(f) ? -EIO : 0;
}
