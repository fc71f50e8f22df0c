/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>

#include "hvis/util.h"
#include "kvp-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvp_request req;
	uint8_t *msg;

	/* Short inputs are padded to a message so the field checks run. */
	msg = calloc(1, KVP_MSG_SIZE);
	if (!msg)
		return 0;
	memcpy(msg, data, HV_MIN(size, KVP_MSG_SIZE));
	kvp_proto_decode(data, size, &req);
	if (kvp_proto_decode(msg, KVP_MSG_SIZE, &req) == 0 &&
	    req.op <= KVP_OP_ENUMERATE) {
		/* What we decoded must always be encodable back. */
		if (kvp_proto_reply_enumerate(msg, req.key, req.value) != 0)
			abort();
		if (kvp_proto_reply_get(msg, req.value) != 0)
			abort();
	}
	free(msg);
	return 0;
}
