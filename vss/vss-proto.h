/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel <-> daemon VSS messages (struct hv_vss_msg, 12 bytes,
 * protocol.md §4.1-4.2): the REGISTER1 handshake, decoding a forwarded
 * host request, and the reply written back in place. No I/O.
 */
#ifndef HVIS_VSS_PROTO_H
#define HVIS_VSS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "hvis/wire.h"

#define VSS_MSG_SIZE sizeof(struct hv_vss_msg)
/* §4.1: the kernel's answer to REGISTER1 is a bare u32. */
#define VSS_REGISTER_REPLY_SIZE 4u

struct vss_request {
	uint8_t op; /* VSS_OP_FREEZE, VSS_OP_THAW, VSS_OP_HOT_BACKUP, ... */
	uint32_t flags; /* vss_cf.flags as the kernel passed it (it sends 0) */
};

/*
 * Decode one message read from the device. Returns 0 for FREEZE, THAW and
 * HOT_BACKUP with the reserved header bytes zero (the kernel sends a
 * zeroed message with only the operation set, §4.2), or:
 * -EBADMSG    not exactly VSS_MSG_SIZE bytes (req->op is 0xff);
 * -EOPNOTSUPP an operation the kernel never forwards (req->op set);
 * -EINVAL     non-zero reserved bytes (req->op and req->flags set).
 */
int vss_proto_decode(const void *msg, size_t len, struct vss_request *req);

/*
 * The registration reply: 0 if it is exactly 4 bytes holding
 * VSS_OP_REGISTER1, -EBADMSG for another length, -EPROTO another value.
 */
int vss_proto_check_register_reply(const void *msg, size_t len);

/* The 12-byte REGISTER1 message the daemon writes first (zeroed). */
void vss_proto_build_register(void *msg);

/*
 * Turn a request buffer (VSS_MSG_SIZE bytes) into the reply: the status
 * goes in the first four bytes (`error` aliases the header), the rest is
 * written back as received. Only HV_S_OK and HV_E_FAIL are used: a first
 * byte of 128 or 129 would make the kernel take the reply for a
 * registration (§4.1), which this refuses with -EINVAL.
 */
int vss_proto_set_status(void *msg, uint32_t status);

/* "FREEZE", "THAW", "HOT_BACKUP", ..., "?" for unknown values. */
const char *vss_op_name(uint8_t op);

#endif
