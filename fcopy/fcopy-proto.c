/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every byte here comes from the host (UIO) or from the host through the
 * kernel (legacy): each field is read only after the length covering it
 * has been checked, strings must end inside their field, and sizes are
 * bounded by what they describe (protocol.md §1.5, §5).
 */
#include <limits.h>
#include <stdbool.h>

#include "fcopy-proto.h"
#include "hvis/utf16.h"
#include "hvis/util.h"

/* §1.5 offsets, from the start of the fcopy header. */
#define OFF_OP 0
#define OFF_FILE_NAME 36
#define OFF_PATH_NAME 556
#define OFF_COPY_FLAGS 1076
#define OFF_FILE_SIZE 1080
#define OFF_WRITE_OFFSET 40
#define OFF_WRITE_SIZE 48
#define OFF_WRITE_DATA 52
#define NAME_FIELD_BYTES (2 * W_MAX_PATH)

_Static_assert(offsetof(struct hv_start_fcopy, file_name) == OFF_FILE_NAME,
	       "file_name");
_Static_assert(offsetof(struct hv_start_fcopy, path_name) == OFF_PATH_NAME,
	       "path_name");
_Static_assert(offsetof(struct hv_start_fcopy, copy_flags) == OFF_COPY_FLAGS,
	       "copy_flags");
_Static_assert(offsetof(struct hv_start_fcopy, file_size) == OFF_FILE_SIZE,
	       "file_size");
_Static_assert(offsetof(struct hv_do_fcopy, offset) == OFF_WRITE_OFFSET,
	       "offset");
_Static_assert(offsetof(struct hv_do_fcopy, size) == OFF_WRITE_SIZE, "size");
_Static_assert(offsetof(struct hv_do_fcopy, data) == OFF_WRITE_DATA, "data");
_Static_assert(sizeof(struct hv_fcopy_hdr) == 36, "fcopy hdr");

static const char *const op_names[] = {
	[START_FILE_COPY] = "START_FILE_COPY",
	[WRITE_TO_FILE] = "WRITE_TO_FILE",
	[COMPLETE_FCOPY] = "COMPLETE_FCOPY",
	[CANCEL_FCOPY] = "CANCEL_FCOPY",
};

const char *fcopy_proto_op_name(uint32_t op)
{
	return op < ARRAY_SIZE(op_names) ? op_names[op] : "?";
}

static uint64_t le64_at(const uint8_t *p)
{
	return (uint64_t)hv_le32(p) | (uint64_t)hv_le32(p + 4) << 32;
}

int fcopy_proto_check_name(const char *name)
{
	size_t n = strnlen(name, NAME_MAX + 1);

	if (n == 0 || strchr(name, '/'))
		return -EINVAL;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if (n > NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int fcopy_proto_check_path(const char *path)
{
	const char *p = path;

	if (path[0] != '/')
		return -EINVAL;
	/* ".." anywhere could climb out of what the host named. */
	while (*p) {
		size_t len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		p += len;
	}
	return 0;
}

/* A host UTF-16LE field: terminated inside it, valid, then UTF-8. */
static int utf16_field(const uint8_t *field, char *out, size_t out_size)
{
	ssize_t n;

	if (hv_utf16_len(field, W_MAX_PATH) < 0)
		return -EBADMSG;
	n = hv_utf16_to_utf8(field, W_MAX_PATH, out, out_size);
	if (n == -E2BIG)
		return -ENAMETOOLONG;
	return n < 0 ? (int)n : 0;
}

/*
 * A kernel UTF-8 field (§5.2: converted by utf16s_to_utf8s into a zeroed
 * struct): terminated inside it and valid UTF-8.
 */
static int utf8_field(const uint8_t *field, char *out, size_t out_size)
{
	uint8_t units[NAME_FIELD_BYTES];
	const uint8_t *nul = memchr(field, 0, NAME_FIELD_BYTES);
	size_t len;
	ssize_t n;

	if (!nul)
		return -EBADMSG;
	len = (size_t)(nul - field);
	/* Converting is the validation: the result is thrown away. */
	n = hv_utf8_to_utf16((const char *)field, len, units, W_MAX_PATH);
	if (n < 0)
		return n == -E2BIG ? -ENAMETOOLONG : (int)n;
	if (len >= out_size)
		return -ENAMETOOLONG;
	memcpy(out, field, len);
	out[len] = '\0';
	return 0;
}

static int decode_start(enum fcopy_wire wire, const uint8_t *m, size_t len,
			struct fcopy_request *req)
{
	int r;

	if (len < sizeof(struct hv_start_fcopy))
		return -EBADMSG;
	if (wire == FCOPY_WIRE_HOST) {
		r = utf16_field(m + OFF_FILE_NAME, req->file_name,
				sizeof(req->file_name));
		if (r == 0)
			r = utf16_field(m + OFF_PATH_NAME, req->path_name,
					sizeof(req->path_name));
	} else {
		r = utf8_field(m + OFF_FILE_NAME, req->file_name,
			       sizeof(req->file_name));
		if (r == 0)
			r = utf8_field(m + OFF_PATH_NAME, req->path_name,
				       sizeof(req->path_name));
	}
	if (r < 0)
		return r;
	req->copy_flags = hv_le32(m + OFF_COPY_FLAGS);
	req->file_size = le64_at(m + OFF_FILE_SIZE);
	/* A flag we do not know could change what the host expects. */
	if (req->copy_flags & ~(uint32_t)FCOPY_KNOWN_FLAGS)
		return -EINVAL;
	r = fcopy_proto_check_name(req->file_name);
	if (r < 0)
		return r;
	return fcopy_proto_check_path(req->path_name);
}

static int decode_write(const uint8_t *m, size_t len, struct fcopy_request *req)
{
	if (len < sizeof(struct hv_do_fcopy))
		return -EBADMSG;
	req->offset = le64_at(m + OFF_WRITE_OFFSET);
	req->size = hv_le32(m + OFF_WRITE_SIZE);
	req->data = m + OFF_WRITE_DATA;
	/* The reference daemon trusted size and wrote past the message. */
	if (req->size > DATA_FRAGMENT)
		return -EINVAL;
	if (req->offset > UINT64_MAX - req->size)
		return -EINVAL;
	return 0;
}

int fcopy_proto_decode(enum fcopy_wire wire, const void *msg, size_t len,
		       struct fcopy_request *req)
{
	const uint8_t *m = msg;

	memset(req, 0, sizeof(*req));
	req->op = UINT32_MAX;
	if (!m || len < sizeof(struct hv_fcopy_hdr))
		return -EBADMSG;
	if (wire != FCOPY_WIRE_HOST && wire != FCOPY_WIRE_KERNEL)
		return -EINVAL;
	req->op = hv_le32(m + OFF_OP);

	switch (req->op) {
	case START_FILE_COPY:
		return decode_start(wire, m, len, req);
	case WRITE_TO_FILE:
		return decode_write(m, len, req);
	case COMPLETE_FCOPY:
	case CANCEL_FCOPY:
		/* The header is all there is; the kernel adds stale bytes. */
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

void fcopy_proto_build_register(uint8_t out[FCOPY_LEGACY_REPLY_SIZE])
{
	hv_put_le32(out, FCOPY_CURRENT_VERSION);
}

int fcopy_proto_parse_register_reply(const void *msg, size_t len,
				     uint32_t *ret_version)
{
	if (!msg || len != FCOPY_LEGACY_REPLY_SIZE)
		return -EBADMSG;
	*ret_version = hv_le32(msg);
	return 0;
}

void fcopy_proto_build_reply(uint8_t out[FCOPY_LEGACY_REPLY_SIZE],
			     uint32_t status)
{
	hv_put_le32(out, status);
}
