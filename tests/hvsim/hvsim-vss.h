/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VSS as Hyper-V and the kernel's hv_snapshot see it (protocol.md §4.2):
 * the host sends NEGOTIATE and VSS packets, the kernel model answers what
 * it answers itself and forwards FREEZE, THAW and HOT_BACKUP to the daemon
 * over a HVSIM_CDEV_VSS device as a zeroed 12-byte hv_vss_msg holding only
 * the operation, with the kernel's timeouts (FREEZE 900 s, others 30 s),
 * and turns the daemon's reply into the host's status.
 *
 * Written from the spec, not from the daemon. Host-side operations are
 * thin enough to be the `hvsim backup` and `hvsim vss ...` CLI commands.
 */
#ifndef HVSIM_VSS_H
#define HVSIM_VSS_H

#include "hvsim.h"

/* §4.2: the kernel reads VSS packets into 2 pages. */
#define HVSIM_VSS_RECV_MAX 8192u
/* The smallest VSS packet the kernel acts on: IC header + hv_vss_msg. */
#define HVSIM_VSS_PKT_MIN (ICMSG_HDR + sizeof(struct hv_vss_msg))
/* VSS_HBU_NO_AUTO_RECOVERY, the flag the kernel means to report (§4.2). */
#define HVSIM_VSS_HBU_FLAG 5u

/* How the host's reply to the last hvsim_vss_exchange() came about. */
enum hvsim_vss_path {
	HVSIM_VSS_PATH_NONE, /* no reply (dropped, or simulator error) */
	HVSIM_VSS_PATH_DAEMON, /* the daemon's status */
	HVSIM_VSS_PATH_KERNEL, /* answered in the kernel (NEGOTIATE, others) */
	HVSIM_VSS_PATH_NO_DAEMON, /* forwarded op, no daemon: HV_E_FAIL */
	HVSIM_VSS_PATH_TIMEOUT, /* the daemon did not answer in time */
	HVSIM_VSS_PATH_RESET, /* daemon closed mid-transaction */
	HVSIM_VSS_PATH_SEND_FAILED, /* outbound slot busy */
	HVSIM_VSS_PATH_MAX,
};

struct hvsim_vss_stats {
	unsigned requests; /* host packets offered to the kernel */
	unsigned negotiations; /* successful host NEGOTIATEs */
	unsigned forwarded; /* messages handed to the daemon */
	unsigned daemon_replies;
	unsigned kernel_answers; /* answered without the daemon */
	unsigned kernel_failures; /* HV_E_FAIL: no daemon, timeout, reset */
	unsigned dropped; /* packets the kernel read and never answered */
};

/* What hvsim_vss_backup() saw. */
struct hvsim_vss_backup {
	int freeze_result; /* 0, or the -errno of hvsim_vss_freeze() */
	uint32_t freeze_status;
	enum hvsim_vss_path freeze_path;
	uint64_t freeze_usec; /* FREEZE sent -> reply */
	int thaw_result;
	uint32_t thaw_status;
	enum hvsim_vss_path thaw_path;
	uint64_t thaw_usec;
};

struct hvsim_vss;

/*
 * Host + kernel model on top of cd (a HVSIM_CDEV_VSS device, borrowed:
 * it must outlive *ret). Host offer: framework 3.0, 1.0; service 5.0,
 * 4.0, 1.0; the kernel supports framework 3.0 and service 5.0 (§1.3).
 */
int hvsim_vss_new(struct hvsim_cdev *cd, struct hvsim_vss **ret);
struct hvsim_vss *hvsim_vss_free(struct hvsim_vss *v);
struct hvsim_cdev *hvsim_vss_cdev(const struct hvsim_vss *v);

/* The kernel's daemon timeouts, for tests (defaults 900 s and 30 s). */
void hvsim_vss_set_timeouts(struct hvsim_vss *v, int freeze_ms, int other_ms);

/*
 * One raw host packet through the kernel model; the reply (the same
 * buffer rewritten, same length) goes to reply. Returns its length, also
 * when the kernel answered HV_E_FAIL itself (hvsim_vss_last_path()).
 * -ENOMSG: read and dropped (shorter than its minimum, or an unknown
 * message type); -EMSGSIZE: more than HVSIM_VSS_RECV_MAX; -ENOBUFS:
 * size < len; -EBUSY: a transaction opened directly on the cdev is open.
 */
ssize_t hvsim_vss_exchange(struct hvsim_vss *v, const void *pkt, size_t len,
			   void *reply, size_t size);
enum hvsim_vss_path hvsim_vss_last_path(const struct hvsim_vss *v);
const char *hvsim_vss_path_name(enum hvsim_vss_path path);
/* The 12 bytes the daemon wrote last; NULL if it has not answered yet. */
const struct hv_vss_msg *hvsim_vss_last_reply(const struct hvsim_vss *v);

/* Host NEGOTIATE (done implicitly before the first request); -EPROTO
 * when no common version was found. */
int hvsim_vss_negotiate(struct hvsim_vss *v);

/*
 * One VSS request (op, vss_cf.flags) as the host sends it. Returns 0 with
 * *status = what the host received (also HV_E_FAIL produced by the kernel:
 * see hvsim_vss_last_path()) and *ret_flags = vss_cf.flags of the reply
 * (may be NULL); -errno for simulator trouble.
 */
int hvsim_vss_request(struct hvsim_vss *v, uint8_t op, uint32_t flags,
		      uint32_t *status, uint32_t *ret_flags);
int hvsim_vss_freeze(struct hvsim_vss *v, uint32_t *status);
int hvsim_vss_thaw(struct hvsim_vss *v, uint32_t *status);
int hvsim_vss_hot_backup(struct hvsim_vss *v, uint32_t *status,
			 uint32_t *ret_flags);

/*
 * A live backup: FREEZE, then, if it succeeded, hold_ms while serving the
 * device (the host taking its snapshot), then THAW. A failed FREEZE is
 * still followed by a THAW (the host's VSS aborts the snapshot set),
 * without the hold. Returns 0 when both requests got a reply, whatever
 * their status; see *ret.
 */
int hvsim_vss_backup(struct hvsim_vss *v, int hold_ms,
		     struct hvsim_vss_backup *ret);

/*
 * The kernel's hibernation path (§2 util_pre_suspend): queue a fake THAW
 * to the daemon outside any transaction; the daemon's reply will be
 * refused (the connection closes) and it must reopen. -EINVAL when no
 * daemon has the device open, -EFAULT when the slot is busy.
 */
int hvsim_vss_hibernate(struct hvsim_vss *v);

const struct hvsim_vss_stats *hvsim_vss_stats(const struct hvsim_vss *v);

#endif
