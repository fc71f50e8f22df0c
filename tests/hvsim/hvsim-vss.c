/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host and the kernel's hv_snapshot around a VSS daemon (protocol.md
 * §4.2, §1.2, §1.3). Offsets are written out from the §1.5 table and
 * checked against <linux/hyperv.h> at compile time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hvsim-internal.h"
#include "hvsim-vss.h"

/* hv_vss_msg (§1.5), offsets from its start. */
#define M_OP 0
#define M_ERROR 0
#define M_FLAGS 8
#define VSS_SIZE sizeof(struct hv_vss_msg)

_Static_assert(VSS_SIZE == 12, "hv_vss_msg");
_Static_assert(offsetof(struct hv_vss_msg, vss_cf.flags) == M_FLAGS, "flags");
_Static_assert(offsetof(struct hv_vss_msg, dm_info.flags) == M_FLAGS, "dm");

/* What the kernel supports (§1.3 table) and what the host offers. */
static const uint32_t kernel_fw[] = { HV_IC_VERSION(3, 0) };
static const uint32_t kernel_svc[] = { HV_IC_VERSION(5, 0) };
static const uint32_t host_fw[] = { HV_IC_VERSION(3, 0), HV_IC_VERSION(1, 0) };
static const uint32_t host_svc[] = { HV_IC_VERSION(5, 0), HV_IC_VERSION(4, 0),
				     HV_IC_VERSION(1, 0) };

struct hvsim_vss {
	struct hvsim_cdev *cd;
	int freeze_ms, other_ms;
	struct hvsim_offer offer; /* host_fw, host_svc */
	uint8_t txid;
	enum hvsim_vss_path path;
	bool have_reply;
	struct hvsim_vss_stats stats;
	uint8_t kbuf[HVSIM_VSS_RECV_MAX]; /* the kernel's receive buffer */
	uint8_t dreq[VSS_SIZE]; /* to the daemon */
	uint8_t drep[VSS_SIZE]; /* from the daemon */
	uint8_t hpkt[HVSIM_VSS_RECV_MAX]; /* host request */
	uint8_t hrep[HVSIM_VSS_RECV_MAX]; /* host reply */
};

static const char *const path_names[HVSIM_VSS_PATH_MAX] = {
	[HVSIM_VSS_PATH_NONE] = "none",
	[HVSIM_VSS_PATH_DAEMON] = "daemon",
	[HVSIM_VSS_PATH_KERNEL] = "kernel",
	[HVSIM_VSS_PATH_NO_DAEMON] = "no-daemon",
	[HVSIM_VSS_PATH_TIMEOUT] = "timeout",
	[HVSIM_VSS_PATH_RESET] = "reset",
	[HVSIM_VSS_PATH_SEND_FAILED] = "send-failed",
};

const char *hvsim_vss_path_name(enum hvsim_vss_path path)
{
	if ((unsigned)path >= HVSIM_VSS_PATH_MAX)
		return "?";
	return path_names[path];
}

int hvsim_vss_new(struct hvsim_cdev *cd, struct hvsim_vss **ret)
{
	struct hvsim_vss *v;

	if (!cd || !ret)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->cd = cd;
	v->freeze_ms = HVSIM_VSS_FREEZE_TIMEOUT_MS;
	v->other_ms = HVSIM_UTIL_TIMEOUT_MS;
	hvsim_offer_set(&v->offer, host_fw, ARRAY_SIZE(host_fw), host_svc,
			ARRAY_SIZE(host_svc));
	*ret = v;
	return 0;
}

struct hvsim_vss *hvsim_vss_free(struct hvsim_vss *v)
{
	free(v);
	return NULL;
}

struct hvsim_cdev *hvsim_vss_cdev(const struct hvsim_vss *v)
{
	return v->cd;
}

void hvsim_vss_set_timeouts(struct hvsim_vss *v, int freeze_ms, int other_ms)
{
	v->freeze_ms = freeze_ms;
	v->other_ms = other_ms;
}

enum hvsim_vss_path hvsim_vss_last_path(const struct hvsim_vss *v)
{
	return v->path;
}

const struct hv_vss_msg *hvsim_vss_last_reply(const struct hvsim_vss *v)
{
	return v->have_reply ? (const struct hv_vss_msg *)v->drep : NULL;
}

const struct hvsim_vss_stats *hvsim_vss_stats(const struct hvsim_vss *v)
{
	return &v->stats;
}

/* ---------------------------------------------------------------------- */
/* The kernel model.                                                       */

/*
 * vmbus_prep_negotiate_resp (§1.3): the choice comes from the shared
 * expectation helper; an unmatched answer carries the host's counts as
 * majors. Status is left as the host sent it.
 */
static void k_negotiate(struct hvsim_vss *v, size_t len)
{
	struct hvsim_ic_nego nego;
	uint8_t *b = v->kbuf;
	uint16_t fc, sc;

	if (len < NEGO_SVCCNT + 2)
		return;
	fc = hv_le16(b + NEGO_FWCNT);
	sc = hv_le16(b + NEGO_SVCCNT);
	(void)hvsim_ic_negotiate_expect(b, len, kernel_fw,
					ARRAY_SIZE(kernel_fw), kernel_svc,
					ARRAY_SIZE(kernel_svc), &nego);
	hv_put_le16(b + IC_MSGSIZE, 0x10);
	hv_put_le16(b + NEGO_FWCNT, nego.found ? 1 : 0);
	hv_put_le16(b + NEGO_SVCCNT, nego.found ? 1 : 0);
	/* The data slots exist only in a packet long enough to hold them. */
	if (len >= NEGO_DATA + 8) {
		hvsim_ic_put_version(b + NEGO_DATA,
				     nego.found ? nego.fw :
						  HV_IC_VERSION(fc, 0));
		hvsim_ic_put_version(b + NEGO_DATA + 4,
				     nego.found ? nego.svc :
						  HV_IC_VERSION(sc, 0));
	}
}

static void k_status(struct hvsim_vss *v, uint32_t status)
{
	hv_put_le32(v->kbuf + IC_STATUS, status);
}

static void k_fail(struct hvsim_vss *v, enum hvsim_vss_path path)
{
	v->path = path;
	v->stats.kernel_failures++;
	k_status(v, HV_E_FAIL);
}

/* FREEZE, THAW, HOT_BACKUP: one daemon transaction (vss_send_op). */
static int k_forward(struct hvsim_vss *v, uint8_t op)
{
	uint8_t *hm = v->kbuf + ICMSG_HDR;
	ssize_t n;
	int r;

	if (!hvsim_cdev_is_open(v->cd) ||
	    hvsim_cdev_state(v->cd) < HVSIM_CDEV_READY) {
		/* Pick up a registration that completed meanwhile. */
		(void)hvsim_cdev_run(v->cd, 0);
		if (hvsim_cdev_state(v->cd) < HVSIM_CDEV_READY) {
			k_fail(v, HVSIM_VSS_PATH_NO_DAEMON);
			return 0;
		}
	}
	memset(v->dreq, 0, sizeof(v->dreq));
	v->dreq[M_OP] = op;
	r = hvsim_cdev_send(v->cd, v->dreq, sizeof(v->dreq));
	if (r == -ENOTCONN) {
		k_fail(v, HVSIM_VSS_PATH_NO_DAEMON);
		return 0;
	}
	if (r == -EFAULT) {
		k_fail(v, HVSIM_VSS_PATH_SEND_FAILED);
		return 0;
	}
	if (r < 0)
		return r;
	v->stats.forwarded++;
	n = hvsim_cdev_wait_reply(v->cd, v->drep, sizeof(v->drep),
				  op == VSS_OP_FREEZE ? v->freeze_ms :
							v->other_ms);
	if (n == -ETIMEDOUT) {
		k_fail(v, HVSIM_VSS_PATH_TIMEOUT);
		return 0;
	}
	if (n == -ECONNRESET) {
		k_fail(v, HVSIM_VSS_PATH_RESET);
		return 0;
	}
	if (n < 0)
		return (int)n;
	if ((size_t)n != sizeof(v->drep))
		return -EPROTO; /* only on a device that is not VSS */
	v->have_reply = true;
	v->stats.daemon_replies++;
	/*
	 * §4.2 quirk: the kernel tests the operation byte of the daemon's
	 * reply, where the daemon has put its status.
	 */
	if (v->drep[M_OP] == VSS_OP_HOT_BACKUP)
		hv_put_le32(hm + M_FLAGS, HVSIM_VSS_HBU_FLAG);
	k_status(v, hv_le32(v->drep + M_ERROR));
	v->path = HVSIM_VSS_PATH_DAEMON;
	return 0;
}

ssize_t hvsim_vss_exchange(struct hvsim_vss *v, const void *pkt, size_t len,
			   void *reply, size_t size)
{
	uint8_t op;
	int r;

	if (!v || (!pkt && len) || (!reply && size))
		return -EINVAL;
	v->path = HVSIM_VSS_PATH_NONE;
	if (len > HVSIM_VSS_RECV_MAX)
		return -EMSGSIZE;
	if (size < len)
		return -ENOBUFS;
	v->stats.requests++;
	memset(v->kbuf, 0, sizeof(v->kbuf));
	if (len)
		memcpy(v->kbuf, pkt, len);
	if (len < ICMSG_HDR) {
		v->stats.dropped++;
		return -ENOMSG;
	}
	switch (hv_le16(v->kbuf + IC_MSGTYPE)) {
	case ICMSGTYPE_NEGOTIATE:
		/* Answered with or without a daemon (§4.2). */
		k_negotiate(v, len);
		v->path = HVSIM_VSS_PATH_KERNEL;
		v->stats.kernel_answers++;
		break;
	case ICMSGTYPE_VSS:
		if (len < HVSIM_VSS_PKT_MIN) {
			v->stats.dropped++;
			return -ENOMSG;
		}
		op = v->kbuf[ICMSG_HDR + M_OP];
		switch (op) {
		case VSS_OP_FREEZE:
		case VSS_OP_THAW:
		case VSS_OP_HOT_BACKUP:
			r = k_forward(v, op);
			if (r < 0)
				return r;
			break;
		case VSS_OP_GET_DM_INFO:
			hv_put_le32(v->kbuf + ICMSG_HDR + M_FLAGS, 0);
			__attribute__((__fallthrough__));
		default:
			/* Every other operation: success, in the kernel. */
			k_status(v, HV_S_OK);
			v->path = HVSIM_VSS_PATH_KERNEL;
			v->stats.kernel_answers++;
			break;
		}
		break;
	default:
		v->stats.dropped++;
		return -ENOMSG;
	}
	v->kbuf[IC_FLAGS] = IC_FLAGS_RESPONSE;
	memcpy(reply, v->kbuf, len);
	return (ssize_t)len;
}

int hvsim_vss_hibernate(struct hvsim_vss *v)
{
	uint8_t msg[VSS_SIZE] = { 0 };

	msg[M_OP] = VSS_OP_THAW;
	return hvsim_cdev_queue(v->cd, msg, sizeof(msg));
}

/* ---------------------------------------------------------------------- */
/* The host.                                                               */

int hvsim_vss_negotiate(struct hvsim_vss *v)
{
	ssize_t len, n;
	int r;

	len = hvsim_offer_build(&v->offer, v->hpkt, sizeof(v->hpkt), v->txid++);
	if (len < 0)
		return (int)len;
	n = hvsim_vss_exchange(v, v->hpkt, (size_t)len, v->hrep,
			       sizeof(v->hrep));
	if (n < 0)
		return (int)n;
	r = hvsim_offer_check(&v->offer, v->hpkt, (size_t)len, v->hrep,
			      (size_t)n, NULL, NULL, 0);
	if (r < 0)
		return r;
	v->stats.negotiations++;
	return 0;
}

int hvsim_vss_request(struct hvsim_vss *v, uint8_t op, uint32_t flags,
		      uint32_t *status, uint32_t *ret_flags)
{
	struct hvsim_ic_msg m = {
		.msgtype = ICMSGTYPE_VSS,
		.fw_version = HV_IC_VERSION(3, 0),
		.msg_version = HV_IC_VERSION(5, 0),
	};
	struct hvsim_ic_reply rep;
	uint8_t body[VSS_SIZE] = { 0 };
	ssize_t len, n;
	int r;

	if (!v || !status)
		return -EINVAL;
	if (!v->offer.negotiated) {
		r = hvsim_vss_negotiate(v);
		if (r < 0)
			return r;
	}
	body[M_OP] = op;
	hv_put_le32(body + M_FLAGS, flags);
	m.txid = v->txid++;
	len = hvsim_ic_build(v->hpkt, sizeof(v->hpkt), &m, body, sizeof(body));
	if (len < 0)
		return (int)len;
	v->have_reply = false;
	n = hvsim_vss_exchange(v, v->hpkt, (size_t)len, v->hrep,
			       sizeof(v->hrep));
	if (n < 0)
		return (int)n;
	r = hvsim_ic_check_reply(v->hpkt, (size_t)len, v->hrep, (size_t)n, &rep,
				 NULL, 0);
	if (r < 0)
		return r;
	if (rep.body_len < VSS_SIZE)
		return -EPROTO;
	*status = rep.status;
	if (ret_flags)
		*ret_flags = hv_le32(rep.body + M_FLAGS);
	return 0;
}

int hvsim_vss_freeze(struct hvsim_vss *v, uint32_t *status)
{
	return hvsim_vss_request(v, VSS_OP_FREEZE, 0, status, NULL);
}

int hvsim_vss_thaw(struct hvsim_vss *v, uint32_t *status)
{
	return hvsim_vss_request(v, VSS_OP_THAW, 0, status, NULL);
}

int hvsim_vss_hot_backup(struct hvsim_vss *v, uint32_t *status,
			 uint32_t *ret_flags)
{
	return hvsim_vss_request(v, VSS_OP_HOT_BACKUP, 0, status, ret_flags);
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int hvsim_vss_backup(struct hvsim_vss *v, int hold_ms,
		     struct hvsim_vss_backup *ret)
{
	struct hvsim_vss_backup b = { 0 };
	uint64_t t;
	int r;

	if (!v || !ret || hold_ms < 0)
		return -EINVAL;
	t = now_usec();
	b.freeze_result = hvsim_vss_freeze(v, &b.freeze_status);
	b.freeze_usec = now_usec() - t;
	b.freeze_path = v->path;
	if (b.freeze_result == 0 && b.freeze_status == HV_S_OK && hold_ms > 0) {
		r = hvsim_cdev_run(v->cd, hold_ms);
		if (r < 0)
			return r;
	}
	t = now_usec();
	b.thaw_result = hvsim_vss_thaw(v, &b.thaw_status);
	b.thaw_usec = now_usec() - t;
	b.thaw_path = v->path;
	*ret = b;
	return b.freeze_result < 0 ? b.freeze_result : b.thaw_result;
}
