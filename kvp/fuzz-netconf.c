/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>

#include "hvis/util.h"
#include "netconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Every state-file parser over the same text (each gets its own copy:
 * they split lines in place), then the list must still be well formed.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char list[256], nf[64], uuid[64], addr[64];
	struct iplist dns;
	bool a, b;
	char *t;

	if (size > 65536)
		return 0;
	t = malloc(size + 1);
	if (!t)
		return 0;
	iplist_init(&dns, list, sizeof(list));
#define FRESH() (memcpy(t, data, size), t[size] = '\0', t)
	netconf_parse_networkd_link(FRESH(), &dns, &a, nf, sizeof(nf));
	netconf_parse_networkd_dhcp(FRESH());
	netconf_parse_nm_device(FRESH(), uuid, sizeof(uuid));
	netconf_parse_nm_profile(FRESH(), "u", &dns, &a, &b);
	netconf_parse_resolv(FRESH(), true, &dns);
	netconf_parse_ifupdown(FRESH(), "eth0");
	netconf_parse_ifcfg(FRESH());
	netconf_parse_dns_entry((const char *)data, HV_MIN(size, 128), addr,
				sizeof(addr));
#undef FRESH
	if (strlen(list) != dns.len || dns.len >= sizeof(list) ||
	    (dns.n == 0) != (dns.len == 0) || strstr(list, ";;") ||
	    list[0] == ';')
		abort();
	free(t);
	return 0;
}
