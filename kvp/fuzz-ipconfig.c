/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SET_IP_INFO lists from the host through validation and every renderer:
 * no crash, and a request that validates renders in every format with
 * no byte outside printable ASCII and newlines (nothing the host sent
 * passes through as text).
 */
#include <stdint.h>
#include <stdlib.h>

#include "hvis/util.h"
#include "ipconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Input: dhcp byte, then ip, mask, gateway and DNS fields split at '\n'. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvp_ip_fields *f;
	struct kvp_ipconfig *cfg;
	char *fields[4], err[256];
	size_t sizes[4], pos = 1;

	if (size < 1)
		return 0;
	f = calloc(1, sizeof(*f));
	cfg = calloc(1, sizeof(*cfg));
	if (!f || !cfg)
		goto out;
	f->dhcp_enabled = data[0] & 1;
	fields[0] = f->ip_addr;
	sizes[0] = sizeof(f->ip_addr);
	fields[1] = f->sub_net;
	sizes[1] = sizeof(f->sub_net);
	fields[2] = f->gate_way;
	sizes[2] = sizeof(f->gate_way);
	fields[3] = f->dns_addr;
	sizes[3] = sizeof(f->dns_addr);
	for (int i = 0; i < 4 && pos <= size; i++) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;

		/* The kernel caps each field at half its size (§3.2). */
		memcpy(fields[i], data + pos, HV_MIN(len, sizes[i] - 1));
		pos += len + 1;
	}
	if (kvp_ipconfig_parse(f, cfg, err, sizeof(err)) < 0) {
		if (err[0] == '\0' || strlen(err) >= sizeof(err))
			abort();
		goto out;
	}
	if (cfg->n_addrs > KVP_IPCONFIG_MAX_ADDRS ||
	    cfg->n_gateways > KVP_IPCONFIG_MAX_GATEWAYS ||
	    cfg->n_dns > KVP_IPCONFIG_MAX_DNS)
		abort();
	hv_strscpy(cfg->ifname, "eth0", sizeof(cfg->ifname));
	for (int fmt = 0; fmt < _KVP_IP_FMT_MAX; fmt++) {
		char *text;

		if (kvp_ipconfig_render(fmt, cfg, &text) < 0)
			continue; /* only ENOMEM */
		for (const char *p = text; *p; p++)
			if ((*p < 0x20 && *p != '\n' && *p != '\t') ||
			    *p == 0x7f || (unsigned char)*p >= 0x80)
				abort();
		free(text);
	}
out:
	free(f);
	free(cfg);
	return 0;
}
