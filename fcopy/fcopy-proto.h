/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File copy messages (protocol.md §5): decode and validate
 * START_FILE_COPY, WRITE_TO_FILE, COMPLETE_FCOPY and CANCEL_FCOPY as they
 * arrive over either transport. No I/O.
 *
 *   FCOPY_WIRE_HOST    the host's message, the body of an IC packet read
 *                      from the UIO channel (§5.3): names in UTF-16LE.
 *   FCOPY_WIRE_KERNEL  what the legacy hv_fcopy driver hands the daemon
 *                      through /dev/vmbus/hv_fcopy (§5.2): START rebuilt
 *                      with UTF-8 names, WRITE forwarded verbatim, other
 *                      operations recv_len bytes from the fcopy header.
 *
 * A decoded request holds UTF-8 names that are known to be valid: the
 * file name is a single component and the path absolute without ".."
 * components.
 */
#ifndef HVIS_FCOPY_PROTO_H
#define HVIS_FCOPY_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "hvis/wire.h"

enum fcopy_wire {
	FCOPY_WIRE_HOST,
	FCOPY_WIRE_KERNEL,
};

/*
 * UTF-8 room for a W_MAX_PATH field: at most 259 units before the NUL,
 * each at most 3 bytes (a surrogate pair is 2 units for 4 bytes). The
 * kernel's UTF-8 fields are shorter (519 bytes in a 520-byte field).
 */
#define FCOPY_NAME_SIZE (3 * (W_MAX_PATH - 1) + 1)

/* The copy_flags bits we know (§5.1); any other bit is refused. */
#define FCOPY_KNOWN_FLAGS (OVER_WRITE | CREATE_PATH)

struct fcopy_request {
	uint32_t op; /* enum hv_fcopy_op */
	/* START_FILE_COPY */
	uint32_t copy_flags;
	uint64_t file_size;
	char file_name[FCOPY_NAME_SIZE];
	char path_name[FCOPY_NAME_SIZE];
	/* WRITE_TO_FILE */
	uint64_t offset;
	uint32_t size;
	const uint8_t *data; /* points into the caller's message */
};

/*
 * Decode one message (msg, len: for FCOPY_WIRE_HOST the IC body after the
 * 28-byte header, for FCOPY_WIRE_KERNEL the whole message read from the
 * device). Returns 0, or:
 *   -EBADMSG     shorter than the fcopy header or than its operation's
 *                struct, or a name without a NUL inside its field;
 *   -EOPNOTSUPP  an operation we do not know;
 *   -EILSEQ      a name that is not valid UTF-16 (lone or reversed
 *                surrogates) or, from the kernel, not valid UTF-8;
 *   -EINVAL      an unknown copy flag, an empty, ".", ".." or multi-
 *                component file name, a relative path or one with a ".."
 *                component, a WRITE larger than DATA_FRAGMENT or whose end
 *                overflows;
 *   -ENAMETOOLONG a file name longer than NAME_MAX bytes in UTF-8.
 * Whenever the header was long enough, req->op is set, even on error;
 * nothing else is meaningful after a failure.
 */
int fcopy_proto_decode(enum fcopy_wire wire, const void *msg, size_t len,
		       struct fcopy_request *req);

/* The checks applied to decoded names, for callers that build their own. */
int fcopy_proto_check_name(const char *name);
int fcopy_proto_check_path(const char *path);

/* Legacy transport (§5.2): every message to the kernel is one 4-byte int. */
#define FCOPY_LEGACY_REPLY_SIZE 4u

/* The registration the daemon writes first: FCOPY_CURRENT_VERSION. */
void fcopy_proto_build_register(uint8_t out[FCOPY_LEGACY_REPLY_SIZE]);

/*
 * The kernel's answer to the registration: exactly 4 bytes holding its
 * version. Returns 0 with *ret_version set, or -EBADMSG.
 */
int fcopy_proto_parse_register_reply(const void *msg, size_t len,
				     uint32_t *ret_version);

/* A status reply for the kernel to pass on to the host. */
void fcopy_proto_build_reply(uint8_t out[FCOPY_LEGACY_REPLY_SIZE],
			     uint32_t status);

/* "START_FILE_COPY", ... or "?" for logs. */
const char *fcopy_proto_op_name(uint32_t op);

#endif
