/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>

#include "hvis/util.h"
#include "vss-proto.h"

#define OFF_OP offsetof(struct hv_vss_msg, vss_hdr.operation)
#define OFF_RESERVED offsetof(struct hv_vss_msg, vss_hdr.reserved)
#define OFF_FLAGS offsetof(struct hv_vss_msg, vss_cf.flags)

_Static_assert(VSS_MSG_SIZE == 12, "hv_vss_msg");
_Static_assert(OFF_OP == 0 && OFF_RESERVED == 1 && OFF_FLAGS == 8,
	       "hv_vss_msg layout (protocol.md §1.5)");

int vss_proto_decode(const void *msg, size_t len, struct vss_request *req)
{
	const uint8_t *m = msg;
	size_t i;

	req->op = 0xff;
	req->flags = 0;
	if (!msg || len != VSS_MSG_SIZE)
		return -EBADMSG;
	req->op = m[OFF_OP];
	req->flags = hv_le32(m + OFF_FLAGS);
	switch (req->op) {
	case VSS_OP_FREEZE:
	case VSS_OP_THAW:
	case VSS_OP_HOT_BACKUP:
		break;
	default:
		return -EOPNOTSUPP;
	}
	for (i = OFF_RESERVED; i < OFF_FLAGS; i++)
		if (m[i] != 0)
			return -EINVAL;
	return 0;
}

int vss_proto_check_register_reply(const void *msg, size_t len)
{
	if (!msg || len != VSS_REGISTER_REPLY_SIZE)
		return -EBADMSG;
	return hv_le32(msg) == VSS_OP_REGISTER1 ? 0 : -EPROTO;
}

void vss_proto_build_register(void *msg)
{
	memset(msg, 0, VSS_MSG_SIZE);
	((uint8_t *)msg)[OFF_OP] = VSS_OP_REGISTER1;
}

int vss_proto_set_status(void *msg, uint32_t status)
{
	uint8_t low = (uint8_t)status;

	if (low == VSS_OP_REGISTER || low == VSS_OP_REGISTER1)
		return -EINVAL;
	hv_put_le32(msg, status);
	return 0;
}

const char *vss_op_name(uint8_t op)
{
	static const char *const names[] = {
		[VSS_OP_CREATE] = "CREATE",
		[VSS_OP_DELETE] = "DELETE",
		[VSS_OP_HOT_BACKUP] = "HOT_BACKUP",
		[VSS_OP_GET_DM_INFO] = "GET_DM_INFO",
		[VSS_OP_BU_COMPLETE] = "BU_COMPLETE",
		[VSS_OP_FREEZE] = "FREEZE",
		[VSS_OP_THAW] = "THAW",
		[VSS_OP_AUTO_RECOVER] = "AUTO_RECOVER",
	};

	if (op == VSS_OP_REGISTER)
		return "REGISTER";
	if (op == VSS_OP_REGISTER1)
		return "REGISTER1";
	if (op < ARRAY_SIZE(names) && names[op])
		return names[op];
	return "?";
}
