/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>

#include "hvis/util.h"
#include "kvp-ipmsg.h"
#include "kvp-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvp_ip_fields f, g;
	uint8_t *msg;

	kvp_ipmsg_decode(data, size, &f);
	/* Short inputs are padded to a message so the field checks run. */
	msg = calloc(1, KVP_MSG_SIZE);
	if (!msg)
		return 0;
	memcpy(msg, data, HV_MIN(size, KVP_MSG_SIZE));
	if (kvp_ipmsg_decode(msg, KVP_MSG_SIZE, &f) == 0) {
		/* What we decoded must encode back and decode the same. */
		if (kvp_ipmsg_reply(msg, &f) != 0)
			abort();
		msg[0] = KVP_OP_SET_IP_INFO;
		if (kvp_ipmsg_decode(msg, KVP_MSG_SIZE, &g) != 0 ||
		    strcmp(f.adapter_id, g.adapter_id) ||
		    strcmp(f.ip_addr, g.ip_addr) ||
		    strcmp(f.dns_addr, g.dns_addr) ||
		    f.addr_family != g.addr_family)
			abort();
	}
	free(msg);
	return 0;
}
