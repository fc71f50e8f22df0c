/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * KVP as Hyper-V and the kernel's hv_kvp see it (protocol.md §3.2): the
 * host builds UTF-16 requests, the kernel model converts them to the
 * daemon's UTF-8 format, hands them over the simulated char device, and
 * turns the daemon's reply back into what the host receives.
 *
 * Field positions are written out from the §1.5 table and checked against
 * <linux/hyperv.h> at compile time, so the table and the structs cannot
 * drift apart silently. Every read of the host's packet or the daemon's
 * reply is bounded by the buffer it sits in; where the kernel itself
 * would read past a field (unterminated strings, size fields used as unit
 * counts), the model reads on into the rest of the message, as the kernel
 * does, but never past the buffer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvsim-internal.h"

/* struct hv_kvp_msg (§1.5), offsets from its start. */
#define M_OP 0
#define M_POOL 1
#define M_ERROR 0
#define M_SET_TYPE 4
#define M_SET_KSIZE 8
#define M_SET_VSIZE 12
#define M_SET_KEY 16
#define M_SET_VALUE 528
#define M_ENUM_INDEX 4
#define M_ENUM_TYPE 8
#define M_ENUM_KSIZE 12
#define M_ENUM_VSIZE 16
#define M_ENUM_KEY 20
#define M_ENUM_VALUE 532
#define M_DEL_KSIZE 4
#define M_DEL_KEY 8
/* hv_kvp_ipaddr_value, from the start of the value. */
#define IPV_ADAPTER 0
#define IPV_FAMILY 256
#define IPV_DHCP 257
#define IPV_ADDR 258
#define IPV_SUBNET 2306
#define IPV_GATEWAY 4354
#define IPV_DNS 5378
/* Where that value sits: daemon hv_kvp_msg vs host hv_kvp_ip_msg. */
#define M_IPVAL 4
#define IPM_IPVAL 2

#define KEY_SIZE HV_KVP_EXCHANGE_MAX_KEY_SIZE
#define VALUE_SIZE HV_KVP_EXCHANGE_MAX_VALUE_SIZE
#define MSG_SIZE sizeof(struct hv_kvp_msg)

#define KVP_MSG offsetof(struct hv_kvp_msg, body)
_Static_assert(offsetof(struct hv_kvp_msg, body.kvp_set.data.value_type) ==
		       M_SET_TYPE,
	       "set type");
_Static_assert(offsetof(struct hv_kvp_msg, body.kvp_set.data.key_size) ==
		       M_SET_KSIZE,
	       "set key_size");
_Static_assert(offsetof(struct hv_kvp_msg, body.kvp_set.data.value_size) ==
		       M_SET_VSIZE,
	       "set value_size");
_Static_assert(offsetof(struct hv_kvp_msg, body.kvp_set.data.key) == M_SET_KEY,
	       "set key");
_Static_assert(offsetof(struct hv_kvp_msg, body.kvp_get.data.value) ==
		       M_SET_VALUE,
	       "get value");
_Static_assert(offsetof(struct hv_kvp_msg, body.kvp_enum_data.index) ==
		       M_ENUM_INDEX,
	       "enum index");
_Static_assert(offsetof(struct hv_kvp_msg,
			body.kvp_enum_data.data.value_type) == M_ENUM_TYPE,
	       "enum type");
_Static_assert(offsetof(struct hv_kvp_msg, body.kvp_enum_data.data.key) ==
		       M_ENUM_KEY,
	       "enum key");
_Static_assert(offsetof(struct hv_kvp_msg, body.kvp_enum_data.data.value) ==
		       M_ENUM_VALUE,
	       "enum value");
_Static_assert(offsetof(struct hv_kvp_msg, body.kvp_delete.key) == M_DEL_KEY,
	       "delete key");
_Static_assert(offsetof(struct hv_kvp_msg, body.kvp_ip_val) == M_IPVAL,
	       "ip_val");
_Static_assert(offsetof(struct hv_kvp_ip_msg, kvp_ip_val) == IPM_IPVAL,
	       "ip msg ip_val");
_Static_assert(offsetof(struct hv_kvp_ipaddr_value, addr_family) == IPV_FAMILY,
	       "family");
_Static_assert(offsetof(struct hv_kvp_ipaddr_value, sub_net) == IPV_SUBNET,
	       "sub_net");
_Static_assert(offsetof(struct hv_kvp_ipaddr_value, gate_way) == IPV_GATEWAY,
	       "gate_way");
_Static_assert(offsetof(struct hv_kvp_ipaddr_value, dns_addr) == IPV_DNS,
	       "dns_addr");
_Static_assert(KVP_MSG == 4, "body");

/* What Linux supports, in its priority order (§1.3 table). */
static const uint32_t kernel_fw[] = { HV_IC_VERSION(3, 0),
				      HV_IC_VERSION(1, 0) };
static const uint32_t kernel_svc[] = { HV_IC_VERSION(4, 0), HV_IC_VERSION(3, 0),
				       HV_IC_VERSION(1, 0) };

/* The IP strings: position in hv_kvp_ipaddr_value and size in units. */
static const struct ip_field {
	size_t off;
	size_t units;
} ip_fields[] = {
	{ IPV_ADDR, MAX_IP_ADDR_SIZE },	      { IPV_SUBNET, MAX_IP_ADDR_SIZE },
	{ IPV_GATEWAY, MAX_GATEWAY_SIZE },    { IPV_DNS, MAX_IP_ADDR_SIZE },
	{ IPV_ADAPTER, MAX_ADAPTER_ID_SIZE },
};

_Static_assert(HVSIM_KVP_OFFER_MAX == HVSIM_OFFER_MAX, "offer");

struct hvsim_kvp {
	struct hvsim_cdev *cd;
	int nego_wait_ms;
	struct hvsim_offer offer;
	uint8_t txid;
	enum hvsim_kvp_path path;
	bool have_request, have_reply;
	struct hvsim_kvp_stats stats;
	/* The kernel's receive buffer: the host packet, then the reply. */
	uint8_t kbuf[HVSIM_KVP_RECV_MAX];
	struct hv_kvp_msg dreq; /* to the daemon */
	struct hv_kvp_msg drep; /* from the daemon */
	/* Host side: request and reply packets. */
	uint8_t hpkt[HVSIM_KVP_PKT_SIZE];
	uint8_t hrep[HVSIM_KVP_PKT_SIZE];
	/* UTF-16 scratch for measuring host strings before they are placed. */
	uint8_t scratch[2 * 3 * VALUE_SIZE];
};

static const char *const path_names[HVSIM_KVP_PATH_MAX] = {
	[HVSIM_KVP_PATH_NONE] = "none",
	[HVSIM_KVP_PATH_DAEMON] = "daemon",
	[HVSIM_KVP_PATH_KERNEL] = "kernel",
	[HVSIM_KVP_PATH_TIMEOUT] = "timeout",
	[HVSIM_KVP_PATH_RESET] = "reset",
	[HVSIM_KVP_PATH_SEND_FAILED] = "send-failed",
};

const char *hvsim_kvp_path_name(enum hvsim_kvp_path path)
{
	if ((unsigned)path >= HVSIM_KVP_PATH_MAX)
		return "?";
	return path_names[path];
}

const char *hvsim_kvp_status_name(uint32_t status)
{
	switch (status) {
	case HV_S_OK:
		return "HV_S_OK";
	case HV_E_FAIL:
		return "HV_E_FAIL";
	case HV_S_CONT:
		return "HV_S_CONT";
	case HV_ERROR_NOT_SUPPORTED:
		return "HV_ERROR_NOT_SUPPORTED";
	case HV_ERROR_MACHINE_LOCKED:
		return "HV_ERROR_MACHINE_LOCKED";
	case HV_ERROR_DEVICE_NOT_CONNECTED:
		return "HV_ERROR_DEVICE_NOT_CONNECTED";
	case HV_INVALIDARG:
		return "HV_INVALIDARG";
	case HV_GUID_NOTFOUND:
		return "HV_GUID_NOTFOUND";
	case HV_ERROR_ALREADY_EXISTS:
		return "HV_ERROR_ALREADY_EXISTS";
	case HV_ERROR_DISK_FULL:
		return "HV_ERROR_DISK_FULL";
	default:
		return NULL;
	}
}

int hvsim_kvp_new(struct hvsim_cdev *cd, struct hvsim_kvp **ret)
{
	struct hvsim_kvp *k;

	if (!cd || !ret)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->cd = cd;
	k->nego_wait_ms = HVSIM_KVP_NEGO_WAIT_MS;
	hvsim_offer_set(&k->offer, kernel_fw, ARRAY_SIZE(kernel_fw), kernel_svc,
			ARRAY_SIZE(kernel_svc));
	*ret = k;
	return 0;
}

struct hvsim_kvp *hvsim_kvp_free(struct hvsim_kvp *k)
{
	free(k);
	return NULL;
}

struct hvsim_cdev *hvsim_kvp_cdev(const struct hvsim_kvp *k)
{
	return k->cd;
}

void hvsim_kvp_set_nego_wait(struct hvsim_kvp *k, int timeout_ms)
{
	k->nego_wait_ms = timeout_ms;
}

int hvsim_kvp_set_offer(struct hvsim_kvp *k, const uint32_t *fw, size_t nfw,
			const uint32_t *svc, size_t nsvc)
{
	return hvsim_offer_set(&k->offer, fw, nfw, svc, nsvc);
}

bool hvsim_kvp_negotiated(const struct hvsim_kvp *k, uint32_t *fw,
			  uint32_t *svc)
{
	return hvsim_offer_negotiated(&k->offer, fw, svc);
}

enum hvsim_kvp_path hvsim_kvp_last_path(const struct hvsim_kvp *k)
{
	return k->path;
}

const struct hv_kvp_msg *hvsim_kvp_last_request(const struct hvsim_kvp *k)
{
	return k->have_request ? &k->dreq : NULL;
}

const struct hv_kvp_msg *hvsim_kvp_last_reply(const struct hvsim_kvp *k)
{
	return k->have_reply ? &k->drep : NULL;
}

const struct hvsim_kvp_stats *hvsim_kvp_stats(const struct hvsim_kvp *k)
{
	return &k->stats;
}

/* ---------------------------------------------------------------------- */
/* The kernel model.                                                       */

/*
 * The unit count the kernel passes for a host string: the host's size
 * field (bytes, used as units), bounded only by the receive buffer.
 */
static size_t units_at(size_t off, uint32_t count)
{
	size_t room = (HVSIM_KVP_RECV_MAX - off) / 2;

	return HV_MIN((size_t)count, room);
}

/* UTF-16 from the host packet to UTF-8 in the daemon message (§3.2). */
static uint32_t k_to_utf8(struct hvsim_kvp *k, size_t host_off, uint32_t count,
			  size_t dmsg_off, size_t out_max)
{
	ssize_t n;

	n = hvsim_utf16le_to_utf8(k->kbuf + host_off, units_at(host_off, count),
				  (char *)&k->dreq + dmsg_off, out_max + 1);
	return n < 0 ? 0 : (uint32_t)n;
}

/*
 * strlen() of a daemon string: the kernel's strlen would run on past an
 * unterminated field; here it stops at the end of the message.
 */
static size_t d_strlen(const struct hv_kvp_msg *m, size_t off)
{
	return strnlen((const char *)m + off, MSG_SIZE - off);
}

/* UTF-8 from the daemon's reply to UTF-16 in the host packet. */
static ssize_t k_to_utf16(struct hvsim_kvp *k, size_t dmsg_off, size_t host_off,
			  size_t max_units)
{
	return hvsim_utf8_to_utf16le((const char *)&k->drep + dmsg_off,
				     d_strlen(&k->drep, dmsg_off),
				     k->kbuf + host_off, max_units);
}

/* kvp_send_key: the daemon-format message for the host's request. */
static void k_build_daemon_msg(struct hvsim_kvp *k)
{
	const size_t h = ICMSG_HDR;
	uint8_t *d = (uint8_t *)&k->dreq;
	uint8_t op = k->kbuf[h + M_OP];
	char num[24];
	size_t i;
	int n;

	memset(&k->dreq, 0, sizeof(k->dreq));
	d[M_OP] = op;
	d[M_POOL] = k->kbuf[h + M_POOL];

	switch (op) {
	case KVP_OP_SET:
		switch (hv_le32(k->kbuf + h + M_SET_TYPE)) {
		case REG_SZ:
			n = (int)k_to_utf8(k, h + M_SET_VALUE,
					   hv_le32(k->kbuf + h + M_SET_VSIZE),
					   M_SET_VALUE, VALUE_SIZE - 1);
			hv_put_le32(d + M_SET_VSIZE, (uint32_t)n + 1);
			break;
		case REG_U32:
			n = snprintf(num, sizeof(num), "%" PRIu32,
				     hv_le32(k->kbuf + h + M_SET_VALUE));
			memcpy(d + M_SET_VALUE, num, (size_t)n);
			hv_put_le32(d + M_SET_VSIZE, (uint32_t)n + 1);
			break;
		case REG_U64:
			n = snprintf(
				num, sizeof(num), "%" PRIu64,
				(uint64_t)hv_le32(k->kbuf + h + M_SET_VALUE) |
					(uint64_t)hv_le32(k->kbuf + h +
							  M_SET_VALUE + 4)
						<< 32);
			memcpy(d + M_SET_VALUE, num, (size_t)n);
			hv_put_le32(d + M_SET_VSIZE, (uint32_t)n + 1);
			break;
		default:
			/* Other types: value empty, value_size 0. */
			break;
		}
		/* The key is converted as for GET. */
		__attribute__((__fallthrough__));
	case KVP_OP_GET:
		n = (int)k_to_utf8(k, h + M_SET_KEY,
				   hv_le32(k->kbuf + h + M_SET_KSIZE),
				   M_SET_KEY, KEY_SIZE - 1);
		hv_put_le32(d + M_SET_KSIZE, (uint32_t)n + 1);
		/* GET: value_size stays 0 (the quirk of §3.2). */
		break;
	case KVP_OP_DELETE:
		n = (int)k_to_utf8(k, h + M_DEL_KEY,
				   hv_le32(k->kbuf + h + M_DEL_KSIZE),
				   M_DEL_KEY, KEY_SIZE - 1);
		hv_put_le32(d + M_DEL_KSIZE, (uint32_t)n + 1);
		break;
	case KVP_OP_ENUMERATE:
		memcpy(d + M_ENUM_INDEX, k->kbuf + h + M_ENUM_INDEX, 4);
		break;
	case KVP_OP_SET_IP_INFO:
		/* Output capped at half of each field: always terminated. */
		for (i = 0; i < ARRAY_SIZE(ip_fields) - 1; i++)
			k_to_utf8(k, h + IPM_IPVAL + ip_fields[i].off,
				  (uint32_t)ip_fields[i].units,
				  M_IPVAL + ip_fields[i].off,
				  ip_fields[i].units);
		d[M_IPVAL + IPV_DHCP] = k->kbuf[h + IPM_IPVAL + IPV_DHCP];
		/* Adapter and family as for GET_IP_INFO. */
		__attribute__((__fallthrough__));
	case KVP_OP_GET_IP_INFO:
		k_to_utf8(k, h + IPM_IPVAL + IPV_ADAPTER, MAX_ADAPTER_ID_SIZE,
			  M_IPVAL + IPV_ADAPTER, MAX_ADAPTER_ID_SIZE);
		d[M_IPVAL + IPV_FAMILY] = k->kbuf[h + IPM_IPVAL + IPV_FAMILY];
		break;
	default:
		/* Unknown operations reach the daemon with op and pool only. */
		break;
	}
}

static void k_set_status(struct hvsim_kvp *k, uint32_t status)
{
	hv_put_le32(k->kbuf + IC_STATUS, status);
}

/* kvp_respond_to_host: rewrite the host's buffer from the daemon reply. */
static void k_respond(struct hvsim_kvp *k, uint32_t error)
{
	const size_t h = ICMSG_HDR;
	uint8_t *hm = k->kbuf + h;
	ssize_t kl = 0, vl;
	size_t i, data;

	k_set_status(k, error);
	/* Non-zero status: the host's request goes back untouched. */
	if (error)
		return;
	switch (hm[M_OP]) {
	case KVP_OP_GET_IP_INFO:
		for (i = 0; i < ARRAY_SIZE(ip_fields); i++) {
			vl = k_to_utf16(k, M_IPVAL + ip_fields[i].off,
					h + IPM_IPVAL + ip_fields[i].off,
					ip_fields[i].units);
			if (vl < 0) {
				k_set_status(k, HV_E_FAIL);
				return;
			}
		}
		hm[IPM_IPVAL + IPV_DHCP] =
			((uint8_t *)&k->drep)[M_IPVAL + IPV_DHCP];
		hm[IPM_IPVAL + IPV_FAMILY] =
			((uint8_t *)&k->drep)[M_IPVAL + IPV_FAMILY];
		return;
	case KVP_OP_SET_IP_INFO:
	case KVP_OP_SET:
	case KVP_OP_DELETE:
		return;
	case KVP_OP_GET:
		/* The host's GET layout, but the value from the daemon's
		 * ENUMERATE position: §7 item 15. */
		data = M_SET_TYPE;
		break;
	default:
		/* ENUMERATE, and whatever else the host sent. */
		data = M_ENUM_TYPE;
		kl = k_to_utf16(k, M_ENUM_KEY, h + M_ENUM_KEY,
				KEY_SIZE / 2 - 2);
		hv_put_le32(hm + M_ENUM_KSIZE, (uint32_t)(2 * (kl + 1)));
		break;
	}
	/* value_type, key_size, value_size, key[512], value[2048]. */
	vl = k_to_utf16(k, M_ENUM_VALUE, h + data + 12 + KEY_SIZE,
			VALUE_SIZE / 2 - 2);
	hv_put_le32(hm + data + 8, (uint32_t)(2 * (vl + 1)));
	if (kl < 0 || vl < 0)
		k_set_status(k, HV_E_FAIL);
	hv_put_le32(hm + data, REG_SZ);
}

/* Until a daemon is registered: the kernel reads nothing before that. */
static int k_wait_ready(struct hvsim_kvp *k, bool *waited)
{
	int r = hvsim_cdev_wait_ready(k->cd, 0);

	if (r != -ETIMEDOUT)
		return r;
	if (!*waited) {
		*waited = true;
		k->stats.waited++;
	}
	r = hvsim_cdev_wait_ready(k->cd, k->nego_wait_ms);
	return r == -ETIMEDOUT ? -ENOTCONN : r;
}

/* One KVPEXCHANGE: daemon transaction and the reply in kbuf. */
static int k_kvp(struct hvsim_kvp *k, bool *waited)
{
	ssize_t n;
	uint32_t error;
	int r;

	k_build_daemon_msg(k);
	k->have_request = true;
	k->have_reply = false;
	for (;;) {
		n = hvsim_cdev_transact(k->cd, &k->dreq, sizeof(k->dreq),
					&k->drep, sizeof(k->drep));
		if (n != -ENOTCONN)
			break;
		/* The daemon went away between the wait and the send. */
		r = k_wait_ready(k, waited);
		if (r < 0)
			return r;
	}
	switch (n) {
	case -ETIMEDOUT:
		k->path = HVSIM_KVP_PATH_TIMEOUT;
		break;
	case -ECONNRESET:
		k->path = HVSIM_KVP_PATH_RESET;
		break;
	case -EFAULT:
		k->path = HVSIM_KVP_PATH_SEND_FAILED;
		break;
	default:
		if (n < 0)
			return (int)n;
		if ((size_t)n < sizeof(k->drep))
			return -EPROTO; /* only on a non-KVP device */
		k->have_reply = true;
		k->stats.daemon_replies++;
		if (hvsim_cdev_registered_as(k->cd) == KVP_OP_REGISTER)
			/* Legacy daemons report errors with an empty key. */
			error = ((uint8_t *)&k->drep)[M_ENUM_KEY] ? HV_S_OK :
								    HV_S_CONT;
		else
			error = hv_le32((uint8_t *)&k->drep + M_ERROR);
		k_respond(k, error);
		k->path = HVSIM_KVP_PATH_DAEMON;
		return 0;
	}
	k->stats.kernel_failures++;
	k_respond(k, HV_E_FAIL);
	return 0;
}

ssize_t hvsim_kvp_exchange(struct hvsim_kvp *k, const void *pkt, size_t len,
			   void *reply, size_t size)
{
	bool waited = false;
	uint16_t type;
	int r;

	if (!k || (!pkt && len) || (!reply && size))
		return -EINVAL;
	k->path = HVSIM_KVP_PATH_NONE;
	if (len > HVSIM_KVP_RECV_MAX)
		return -EMSGSIZE;
	if (size < len)
		return -ENOBUFS;
	r = k_wait_ready(k, &waited);
	if (r < 0)
		return r;
	k->stats.requests++;
	memset(k->kbuf, 0, sizeof(k->kbuf));
	if (len)
		memcpy(k->kbuf, pkt, len);
	if (len < ICMSG_HDR) {
		k->stats.dropped++;
		return -ENOMSG;
	}
	type = hv_le16(k->kbuf + IC_MSGTYPE);
	if (type == ICMSGTYPE_NEGOTIATE) {
		hvsim_ic_kernel_negotiate(k->kbuf, len, kernel_fw,
					  ARRAY_SIZE(kernel_fw), kernel_svc,
					  ARRAY_SIZE(kernel_svc));
		k->path = HVSIM_KVP_PATH_KERNEL;
	} else if (type == ICMSGTYPE_KVPEXCHANGE) {
		r = k_kvp(k, &waited);
		if (r < 0)
			return r;
	} else {
		k->stats.dropped++;
		return -ENOMSG;
	}
	k->kbuf[IC_FLAGS] = IC_FLAGS_RESPONSE;
	memcpy(reply, k->kbuf, len);
	return (ssize_t)len;
}

/* ---------------------------------------------------------------------- */
/* The host.                                                               */

int hvsim_kvp_negotiate(struct hvsim_kvp *k)
{
	ssize_t len, n;
	int r;

	len = hvsim_offer_build(&k->offer, k->hpkt, sizeof(k->hpkt), k->txid++);
	if (len < 0)
		return (int)len;
	n = hvsim_kvp_exchange(k, k->hpkt, (size_t)len, k->hrep,
			       sizeof(k->hrep));
	if (n < 0)
		return (int)n;
	r = hvsim_offer_check(&k->offer, k->hpkt, (size_t)len, k->hrep,
			      (size_t)n, NULL, NULL, 0);
	if (r < 0)
		return r;
	k->stats.negotiations++;
	return 0;
}

/*
 * Place a host string: UTF-16LE, NUL-terminated, in a field of max_units;
 * *ret_size = its size in bytes with the terminator, as Hyper-V counts.
 */
static int h_put_str(struct hvsim_kvp *k, uint8_t *field, size_t max_units,
		     const char *s, uint32_t *ret_size)
{
	size_t len = strlen(s);
	ssize_t n;

	/* Never more units than bytes; measure in the scratch buffer. */
	if (len > sizeof(k->scratch) / 2)
		return -E2BIG;
	n = hvsim_utf8_to_utf16le(s, len, k->scratch, len);
	if (n < 0)
		return (int)n;
	if ((size_t)n + 1 > max_units)
		return -E2BIG;
	memcpy(field, k->scratch, 2 * (size_t)n);
	hv_put_le16(field + 2 * n, 0);
	if (ret_size)
		*ret_size = 2 * ((uint32_t)n + 1);
	return 0;
}

/*
 * What the host reads back: size_bytes/2 - 1 units (the terminator not
 * included), within the field, stopping at a NUL unit.
 */
static void h_get_str(const uint8_t *field, size_t field_units,
		      uint32_t size_bytes, char *out, size_t out_size)
{
	size_t units = size_bytes / 2;

	if (!out || !out_size)
		return;
	units = units ? units - 1 : 0;
	units = HV_MIN(units, field_units);
	(void)hvsim_utf16le_to_utf8(field, units, out, out_size);
}

/* Host-side KVP message bytes, for the request being built. */
static uint8_t *h_msg(struct hvsim_kvp *k)
{
	return k->hpkt + ICMSG_HDR;
}

static void h_begin(struct hvsim_kvp *k, uint8_t op, uint8_t pool)
{
	memset(k->hpkt, 0, sizeof(k->hpkt));
	h_msg(k)[M_OP] = op;
	h_msg(k)[M_POOL] = pool;
}

/*
 * Send the request in hpkt (body_len bytes of host message), check the
 * IC reply, leave it in hrep. 0 or the errors of the host operations.
 */
static int h_transact(struct hvsim_kvp *k, size_t body_len, uint32_t *status)
{
	struct hvsim_ic_reply rep;
	struct hvsim_ic_msg m = {
		.msgtype = ICMSGTYPE_KVPEXCHANGE,
	};
	uint8_t body[sizeof(struct hv_kvp_msg)];
	ssize_t len, n;
	int r;

	if (!status)
		return -EINVAL;
	/* Negotiating reuses hpkt: keep the message built there. */
	memcpy(body, h_msg(k), body_len);
	if (!k->offer.negotiated) {
		r = hvsim_kvp_negotiate(k);
		if (r < 0)
			return r;
	}
	m.txid = k->txid++;
	m.fw_version = k->offer.agreed_fw;
	m.msg_version = k->offer.agreed_svc;
	len = hvsim_ic_build(k->hpkt, sizeof(k->hpkt), &m, body, body_len);
	if (len < 0)
		return (int)len;
	n = hvsim_kvp_exchange(k, k->hpkt, (size_t)len, k->hrep,
			       sizeof(k->hrep));
	if (n < 0)
		return (int)n;
	r = hvsim_ic_check_reply(k->hpkt, (size_t)len, k->hrep, (size_t)n, &rep,
				 NULL, 0);
	if (r < 0)
		return r;
	*status = rep.status;
	switch (k->path) {
	case HVSIM_KVP_PATH_TIMEOUT:
		return -ETIMEDOUT;
	case HVSIM_KVP_PATH_RESET:
		return -ECONNRESET;
	case HVSIM_KVP_PATH_SEND_FAILED:
		return -EFAULT;
	default:
		return 0;
	}
}

/* The host message of the reply. */
static const uint8_t *h_rep(const struct hvsim_kvp *k)
{
	return k->hrep + ICMSG_HDR;
}

static int h_set(struct hvsim_kvp *k, uint8_t pool, const char *key,
		 uint32_t type, const void *value, size_t vlen,
		 uint32_t *status)
{
	uint8_t *m;
	uint32_t ksize, vsize = (uint32_t)vlen;
	int r;

	if (!key || !value)
		return -EINVAL;
	h_begin(k, KVP_OP_SET, pool);
	m = h_msg(k);
	r = h_put_str(k, m + M_SET_KEY, KEY_SIZE / 2, key, &ksize);
	if (r < 0)
		return r;
	if (type == REG_SZ) {
		r = h_put_str(k, m + M_SET_VALUE, VALUE_SIZE / 2, value,
			      &vsize);
		if (r < 0)
			return r;
	} else {
		memcpy(m + M_SET_VALUE, value, vlen);
	}
	hv_put_le32(m + M_SET_TYPE, type);
	hv_put_le32(m + M_SET_KSIZE, ksize);
	hv_put_le32(m + M_SET_VSIZE, vsize);
	return h_transact(k, sizeof(struct hv_kvp_msg), status);
}

int hvsim_kvp_set(struct hvsim_kvp *k, uint8_t pool, const char *key,
		  const char *value, uint32_t *status)
{
	return h_set(k, pool, key, REG_SZ, value, 0, status);
}

int hvsim_kvp_set_u32(struct hvsim_kvp *k, uint8_t pool, const char *key,
		      uint32_t value, uint32_t *status)
{
	uint8_t v[4];

	hv_put_le32(v, value);
	return h_set(k, pool, key, REG_U32, v, sizeof(v), status);
}

int hvsim_kvp_set_u64(struct hvsim_kvp *k, uint8_t pool, const char *key,
		      uint64_t value, uint32_t *status)
{
	uint8_t v[8];

	hv_put_le32(v, (uint32_t)value);
	hv_put_le32(v + 4, (uint32_t)(value >> 32));
	return h_set(k, pool, key, REG_U64, v, sizeof(v), status);
}

int hvsim_kvp_get(struct hvsim_kvp *k, uint8_t pool, const char *key,
		  char *value, size_t size, uint32_t *status)
{
	uint32_t ksize;
	int r;

	if (!key || !value || !size)
		return -EINVAL;
	value[0] = '\0';
	h_begin(k, KVP_OP_GET, pool);
	r = h_put_str(k, h_msg(k) + M_SET_KEY, KEY_SIZE / 2, key, &ksize);
	if (r < 0)
		return r;
	hv_put_le32(h_msg(k) + M_SET_KSIZE, ksize);
	r = h_transact(k, sizeof(struct hv_kvp_msg), status);
	if (r < 0 || *status != HV_S_OK)
		return r;
	h_get_str(h_rep(k) + M_SET_VALUE, VALUE_SIZE / 2,
		  hv_le32(h_rep(k) + M_SET_VSIZE), value, size);
	return 0;
}

int hvsim_kvp_daemon_get_value(const struct hvsim_kvp *k, char *out,
			       size_t size)
{
	const char *v = (const char *)&k->drep + M_SET_VALUE;
	size_t len;

	if (!out || !size)
		return -EINVAL;
	if (!k->have_reply || k->dreq.kvp_hdr.operation != KVP_OP_GET)
		return -ENODATA;
	/* The daemon's bytes, cut at the field's end if unterminated. */
	len = strnlen(v, VALUE_SIZE);
	if (len + 1 > size)
		return -ENOBUFS;
	memcpy(out, v, len);
	out[len] = '\0';
	return 0;
}

int hvsim_kvp_delete(struct hvsim_kvp *k, uint8_t pool, const char *key,
		     uint32_t *status)
{
	uint32_t ksize;
	int r;

	if (!key)
		return -EINVAL;
	h_begin(k, KVP_OP_DELETE, pool);
	r = h_put_str(k, h_msg(k) + M_DEL_KEY, KEY_SIZE / 2, key, &ksize);
	if (r < 0)
		return r;
	hv_put_le32(h_msg(k) + M_DEL_KSIZE, ksize);
	return h_transact(k, sizeof(struct hv_kvp_msg), status);
}

int hvsim_kvp_enumerate(struct hvsim_kvp *k, uint8_t pool, uint32_t index,
			char *key, size_t ksize, char *value, size_t vsize,
			uint32_t *status)
{
	int r;

	if (!key || !ksize || !value || !vsize)
		return -EINVAL;
	key[0] = value[0] = '\0';
	h_begin(k, KVP_OP_ENUMERATE, pool);
	hv_put_le32(h_msg(k) + M_ENUM_INDEX, index);
	r = h_transact(k, sizeof(struct hv_kvp_msg), status);
	if (r < 0 || *status != HV_S_OK)
		return r;
	h_get_str(h_rep(k) + M_ENUM_KEY, KEY_SIZE / 2,
		  hv_le32(h_rep(k) + M_ENUM_KSIZE), key, ksize);
	h_get_str(h_rep(k) + M_ENUM_VALUE, VALUE_SIZE / 2,
		  hv_le32(h_rep(k) + M_ENUM_VSIZE), value, vsize);
	return 0;
}

int hvsim_kvp_list(struct hvsim_kvp *k, uint8_t pool, hvsim_kvp_list_cb cb,
		   void *userdata, uint32_t *status)
{
	_cleanup_free_ char *key = malloc(HVSIM_KVP_KEY_MAX);
	_cleanup_free_ char *value = malloc(HVSIM_KVP_VALUE_MAX);
	uint32_t i, st;
	int r;

	if (!status)
		return -EINVAL;
	if (!key || !value)
		return -ENOMEM;
	for (i = 0; i < HVSIM_KVP_LIST_MAX; i++) {
		r = hvsim_kvp_enumerate(k, pool, i, key, HVSIM_KVP_KEY_MAX,
					value, HVSIM_KVP_VALUE_MAX, &st);
		if (r < 0) {
			if (r == -ETIMEDOUT || r == -ECONNRESET || r == -EFAULT)
				*status = st;
			return r;
		}
		if (st != HV_S_OK) {
			*status = st;
			return (int)i;
		}
		if (cb) {
			r = cb(i, key, value, userdata);
			if (r < 0)
				return r;
		}
	}
	return -E2BIG;
}

/* Host-view IP strings: up to a NUL unit or the end of the field. */
static void h_get_ip(const uint8_t *val, struct hvsim_kvp_ip *ip)
{
	char *const out[] = { ip->ip_addr, ip->sub_net, ip->gate_way,
			      ip->dns_addr, ip->adapter_id };
	const size_t outsz[] = { sizeof(ip->ip_addr), sizeof(ip->sub_net),
				 sizeof(ip->gate_way), sizeof(ip->dns_addr),
				 sizeof(ip->adapter_id) };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ip_fields); i++)
		(void)hvsim_utf16le_to_utf8(val + ip_fields[i].off,
					    ip_fields[i].units, out[i],
					    outsz[i]);
	ip->addr_family = val[IPV_FAMILY];
	ip->dhcp_enabled = val[IPV_DHCP];
}

int hvsim_kvp_get_ip_info(struct hvsim_kvp *k, const char *adapter_id,
			  uint8_t addr_family, struct hvsim_kvp_ip *ret,
			  uint32_t *status)
{
	uint8_t *val;
	int r;

	if (!adapter_id || !ret)
		return -EINVAL;
	h_begin(k, KVP_OP_GET_IP_INFO, 0);
	val = h_msg(k) + IPM_IPVAL;
	r = h_put_str(k, val + IPV_ADAPTER, MAX_ADAPTER_ID_SIZE, adapter_id,
		      NULL);
	if (r < 0)
		return r;
	val[IPV_FAMILY] = addr_family;
	r = h_transact(k, sizeof(struct hv_kvp_ip_msg), status);
	if (r < 0 && r != -ETIMEDOUT && r != -ECONNRESET && r != -EFAULT)
		return r;
	memset(ret, 0, sizeof(*ret));
	if (*status == HV_S_OK)
		h_get_ip(h_rep(k) + IPM_IPVAL, ret);
	return r;
}

int hvsim_kvp_set_ip_info(struct hvsim_kvp *k, const struct hvsim_kvp_ip *ip,
			  uint32_t *status)
{
	const char *const in[] = { ip ? ip->ip_addr : NULL,
				   ip ? ip->sub_net : NULL,
				   ip ? ip->gate_way : NULL,
				   ip ? ip->dns_addr : NULL,
				   ip ? ip->adapter_id : NULL };
	uint8_t *val;
	size_t i;
	int r;

	if (!ip)
		return -EINVAL;
	h_begin(k, KVP_OP_SET_IP_INFO, 0);
	val = h_msg(k) + IPM_IPVAL;
	for (i = 0; i < ARRAY_SIZE(ip_fields); i++) {
		r = h_put_str(k, val + ip_fields[i].off, ip_fields[i].units,
			      in[i], NULL);
		if (r < 0)
			return r;
	}
	val[IPV_FAMILY] = ip->addr_family;
	val[IPV_DHCP] = ip->dhcp_enabled;
	return h_transact(k, sizeof(struct hv_kvp_ip_msg), status);
}
