/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Arbitrary bytes as a message from the kernel: decode, and check that
 * whatever decodes can be answered in place without touching the rest.
 */
#include <stdlib.h>

#include "hvis/util.h"
#include "vss-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vss_request req;
	uint8_t msg[VSS_MSG_SIZE], before[VSS_MSG_SIZE];
	int r;

	(void)vss_proto_check_register_reply(data, size);
	r = vss_proto_decode(data, size, &req);
	if (r == 0 && size != VSS_MSG_SIZE)
		abort();
	/* Short inputs are padded so the field checks run too. */
	memset(msg, 0, sizeof(msg));
	memcpy(msg, data, HV_MIN(size, sizeof(msg)));
	r = vss_proto_decode(msg, sizeof(msg), &req);
	if (r == -EBADMSG || req.op != msg[0])
		abort();
	if (r == 0 && req.op != VSS_OP_FREEZE && req.op != VSS_OP_THAW &&
	    req.op != VSS_OP_HOT_BACKUP)
		abort();
	memcpy(before, msg, sizeof(msg));
	if (vss_proto_set_status(msg, HV_E_FAIL) != 0 ||
	    hv_le32(msg) != HV_E_FAIL || memcmp(msg + 4, before + 4, 8) != 0)
		abort();
	return 0;
}
