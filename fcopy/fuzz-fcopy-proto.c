/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The first byte picks the transport (even: the host's UTF-16 message,
 * odd: the legacy kernel's UTF-8 one); the rest is the message. What
 * decodes must satisfy every promise the decoder makes.
 */
#include <limits.h>
#include <stdlib.h>

#include "fcopy-proto.h"
#include "hvis/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fcopy_request req;
	enum fcopy_wire wire;
	const uint8_t *msg;
	size_t len;

	if (size < 1)
		return 0;
	wire = data[0] & 1 ? FCOPY_WIRE_KERNEL : FCOPY_WIRE_HOST;
	msg = data + 1;
	len = size - 1;
	if (fcopy_proto_decode(wire, msg, len, &req) != 0)
		return 0;
	switch (req.op) {
	case START_FILE_COPY:
		if (!memchr(req.file_name, 0, sizeof(req.file_name)) ||
		    !memchr(req.path_name, 0, sizeof(req.path_name)))
			abort();
		if (fcopy_proto_check_name(req.file_name) != 0 ||
		    fcopy_proto_check_path(req.path_name) != 0)
			abort();
		if (req.copy_flags & ~(uint32_t)FCOPY_KNOWN_FLAGS)
			abort();
		break;
	case WRITE_TO_FILE:
		if (req.size > DATA_FRAGMENT || !req.data || req.data < msg ||
		    req.data + req.size > msg + len)
			abort();
		if (req.offset > UINT64_MAX - req.size)
			abort();
		break;
	case COMPLETE_FCOPY:
	case CANCEL_FCOPY:
		break;
	default:
		abort();
	}
	return 0;
}
