/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>

#include "hvis/util.h"
#include "kvp-ipmsg.h"
#include "kvp-proto.h"

#define OFF_IPVAL offsetof(struct hv_kvp_msg, body.kvp_ip_val)
#define IPV(field) (OFF_IPVAL + offsetof(struct hv_kvp_ipaddr_value, field))
/* Bytes of each u16 array in the daemon message (UTF-8 lives there). */
#define FIELD_BYTES(field) sizeof(((struct hv_kvp_ipaddr_value *)0)->field)

/*
 * The strings in message order. Capacities are the kvp_ip_fields sizes:
 * a string needs its NUL inside them, which for SET_IP_INFO is always
 * true of what the kernel writes (§3.2: output capped at half a field).
 */
struct ipstr {
	size_t off; /* in the daemon message */
	size_t bytes; /* of the message field */
	size_t cap; /* of the kvp_ip_fields member, NUL included */
	size_t member; /* offset in struct kvp_ip_fields */
};

#define IPSTR(f)                                                \
	{                                                       \
		IPV(f), FIELD_BYTES(f),                         \
			sizeof(((struct kvp_ip_fields *)0)->f), \
			offsetof(struct kvp_ip_fields, f)       \
	}

static const struct ipstr ipstrs[] = {
	IPSTR(adapter_id), IPSTR(ip_addr),  IPSTR(sub_net),
	IPSTR(gate_way),   IPSTR(dns_addr),
};

_Static_assert(KVP_IP_ADAPTER_SIZE <= FIELD_BYTES(adapter_id), "adapter");
_Static_assert(KVP_IP_ADDR_SIZE <= FIELD_BYTES(ip_addr), "ip_addr");
_Static_assert(KVP_IP_GATEWAY_SIZE <= FIELD_BYTES(gate_way), "gate_way");

/* The string must end inside the smaller of the field and our member. */
static int take(const uint8_t *m, const struct ipstr *s, char *dst)
{
	size_t max = HV_MIN(s->bytes, s->cap);
	size_t len = strnlen((const char *)m + s->off, max);

	if (len == max)
		return -EINVAL;
	memcpy(dst, m + s->off, len);
	dst[len] = '\0';
	return 0;
}

int kvp_ipmsg_decode(const void *msg, size_t len, struct kvp_ip_fields *ret)
{
	const uint8_t *m = msg;
	struct kvp_ip_fields f;
	size_t n;
	uint8_t op;
	int r;

	if (len != KVP_MSG_SIZE)
		return -EBADMSG;
	op = m[offsetof(struct hv_kvp_hdr, operation)];
	if (op != KVP_OP_GET_IP_INFO && op != KVP_OP_SET_IP_INFO)
		return -EINVAL;
	memset(&f, 0, sizeof(f));
	f.addr_family = m[IPV(addr_family)];
	/* §3.2: GET_IP_INFO carries only the adapter and the family. */
	n = op == KVP_OP_GET_IP_INFO ? 1 : ARRAY_SIZE(ipstrs);
	for (size_t i = 0; i < n; i++) {
		r = take(m, &ipstrs[i], (char *)&f + ipstrs[i].member);
		if (r < 0)
			return r;
	}
	if (op == KVP_OP_SET_IP_INFO)
		f.dhcp_enabled = m[IPV(dhcp_enabled)] != 0;
	memcpy(ret, &f, sizeof(f));
	return 0;
}

int kvp_ipmsg_reply(void *msg, const struct kvp_ip_fields *f)
{
	uint8_t *m = msg;
	size_t i;

	/* Check every string first: a refused reply leaves msg untouched. */
	for (i = 0; i < ARRAY_SIZE(ipstrs); i++) {
		const char *s = (const char *)f + ipstrs[i].member;

		if (strnlen(s, ipstrs[i].cap) == ipstrs[i].cap)
			return -E2BIG;
	}
	for (i = 0; i < ARRAY_SIZE(ipstrs); i++) {
		const char *s = (const char *)f + ipstrs[i].member;

		/* Zero the whole field: no stale request bytes after it. */
		memset(m + ipstrs[i].off, 0, ipstrs[i].bytes);
		memcpy(m + ipstrs[i].off, s, strlen(s));
	}
	m[IPV(addr_family)] = f->addr_family;
	m[IPV(dhcp_enabled)] = f->dhcp_enabled ? 1 : 0;
	return 0;
}
