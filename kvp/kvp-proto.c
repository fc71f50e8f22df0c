/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>

#include "hvis/util.h"
#include "kvp-proto.h"

#define OFF_BODY offsetof(struct hv_kvp_msg, body)

/*
 * Copy a string field of declared size `size` (which counts the NUL, as
 * the kernel sets it) out of a field of `cap` bytes. The string must end
 * with a NUL inside the declared size.
 */
static int take_string(const uint8_t *field, size_t cap, uint32_t size,
		       char *dst, size_t dst_size, int allow_empty)
{
	size_t len;

	if (size > cap || (size == 0 && !allow_empty))
		return -EINVAL;
	if (size == 0) {
		dst[0] = '\0';
		return 0;
	}
	len = strnlen((const char *)field, size);
	if (len == size || len >= dst_size)
		return -EINVAL;
	memcpy(dst, field, len);
	dst[len] = '\0';
	return 0;
}

/* The value fields of GET, SET and ENUMERATE share one layout. */
static int take_key(const uint8_t *v, struct kvp_request *req)
{
	return take_string(
		v + offsetof(struct hv_kvp_exchg_msg_value, key), KVP_KEY_MAX,
		hv_le32(v + offsetof(struct hv_kvp_exchg_msg_value, key_size)),
		req->key, sizeof(req->key), 0);
}

int kvp_proto_decode(const void *msg, size_t len, struct kvp_request *req)
{
	const uint8_t *m = msg;
	const uint8_t *v;
	int r;

	memset(req, 0, offsetof(struct kvp_request, key));
	req->key[0] = '\0';
	req->value[0] = '\0';
	if (len != KVP_MSG_SIZE)
		return -EBADMSG;
	req->op = m[offsetof(struct hv_kvp_hdr, operation)];
	req->pool = m[offsetof(struct hv_kvp_hdr, pool)];

	switch (req->op) {
	case KVP_OP_REGISTER1:
		/* The kernel's version string, e.g. "3.1": force a NUL. */
		v = m + OFF_BODY;
		len = strnlen((const char *)v, KVP_KEY_MAX - 1);
		memcpy(req->value, v, len);
		req->value[len] = '\0';
		return 0;
	case KVP_OP_GET_IP_INFO:
	case KVP_OP_SET_IP_INFO:
		return 0;
	case KVP_OP_GET:
	case KVP_OP_SET:
	case KVP_OP_DELETE:
	case KVP_OP_ENUMERATE:
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (req->pool >= KVP_POOL_COUNT)
		return -EINVAL;

	switch (req->op) {
	case KVP_OP_ENUMERATE:
		req->index = hv_le32(m + OFF_BODY);
		return 0;
	case KVP_OP_DELETE:
		v = m + OFF_BODY;
		return take_string(
			v + offsetof(struct hv_kvp_msg_delete, key),
			KVP_KEY_MAX,
			hv_le32(v +
				offsetof(struct hv_kvp_msg_delete, key_size)),
			req->key, sizeof(req->key), 0);
	case KVP_OP_GET:
		/* §3.2 GET quirk: only the key is meaningful. */
		return take_key(m + OFF_BODY, req);
	default: /* KVP_OP_SET */
		v = m + OFF_BODY;
		r = take_key(v, req);
		if (r < 0)
			return r;
		req->value_type =
			hv_le32(v + offsetof(struct hv_kvp_exchg_msg_value,
					     value_type));
		/*
		 * The kernel renders REG_U32/REG_U64 as decimal text, so
		 * every value reaching us is a string; an empty one is legal.
		 */
		return take_string(
			v + offsetof(struct hv_kvp_exchg_msg_value, value),
			KVP_VALUE_MAX,
			hv_le32(v + offsetof(struct hv_kvp_exchg_msg_value,
					     value_size)),
			req->value, sizeof(req->value), 1);
	}
}

void kvp_proto_set_status(void *msg, uint32_t status)
{
	/* `int error` in host byte order, as the kernel reads it. */
	memcpy(msg, &status, sizeof(status));
}

static int put_value(uint8_t *v, const char *key, const char *value)
{
	size_t vlen = strlen(value), klen;

	if (vlen >= KVP_VALUE_MAX)
		return -E2BIG;
	if (key) {
		klen = strlen(key);
		if (klen >= KVP_KEY_MAX)
			return -E2BIG;
		memset(v + offsetof(struct hv_kvp_exchg_msg_value, key), 0,
		       KVP_KEY_MAX);
		memcpy(v + offsetof(struct hv_kvp_exchg_msg_value, key), key,
		       klen);
		hv_put_le32(v + offsetof(struct hv_kvp_exchg_msg_value,
					 key_size),
			    (uint32_t)klen + 1);
	}
	memset(v + offsetof(struct hv_kvp_exchg_msg_value, value), 0,
	       KVP_VALUE_MAX);
	memcpy(v + offsetof(struct hv_kvp_exchg_msg_value, value), value, vlen);
	hv_put_le32(v + offsetof(struct hv_kvp_exchg_msg_value, value_size),
		    (uint32_t)vlen + 1);
	hv_put_le32(v + offsetof(struct hv_kvp_exchg_msg_value, value_type),
		    REG_SZ);
	return 0;
}

int kvp_proto_reply_get(void *msg, const char *value)
{
	return put_value((uint8_t *)msg + OFF_BODY, NULL, value);
}

int kvp_proto_reply_enumerate(void *msg, const char *key, const char *value)
{
	return put_value((uint8_t *)msg + OFF_BODY +
				 offsetof(struct hv_kvp_msg_enumerate, data),
			 key, value);
}

void kvp_proto_build_register(void *msg)
{
	memset(msg, 0, KVP_MSG_SIZE);
	((uint8_t *)msg)[offsetof(struct hv_kvp_hdr, operation)] =
		KVP_OP_REGISTER1;
}
