/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvsim: plays the kernel side of the hv_utils char devices and the host
 * side of UIO VMBus channels, so the daemons can be tested without Hyper-V.
 *
 * Written from protocol.md, not from libhvis: it shares the wire structs
 * (hvis/wire.h) but none of the logic, so a misreading of the protocol on
 * the guest side shows up as a failing test instead of being mirrored.
 *
 * Single-threaded and without hidden threads: every call that waits runs
 * the object's own poll loop with a timeout (timeout_ms < 0 waits forever,
 * 0 does one non-blocking pass). Objects do not make progress while the
 * caller waits on a different object.
 *
 * Open protocol (design.md §3): a daemon connect()s to the socket with
 * SOCK_SEQPACKET and first receives a 4-byte little-endian open status
 * (0 or a positive errno). For UIO the success message carries the ring
 * memfd (2*R bytes, TX ring first) via SCM_RIGHTS.
 */
#ifndef HVSIM_H
#define HVSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hvis/wire.h"

#define HVSIM_STATUS_SIZE 4u

/* §2: HV_UTIL_TIMEOUT and VSS_FREEZE_TIMEOUT. */
#define HVSIM_UTIL_TIMEOUT_MS 30000
#define HVSIM_VSS_FREEZE_TIMEOUT_MS 900000

/* §3.1: HV_DRV_VERSION as sent in the KVP registration reply. */
#define HVSIM_KVP_DRV_VERSION "3.1"

/* Largest daemon write the simulator accepts; longer ones are refused. */
#define HVSIM_CDEV_MSG_MAX 65536u

/* ---------------------------------------------------------------------- */
/* Char device: the kernel side of /dev/vmbus/hv_{kvp,vss,fcopy} (§2).     */

enum hvsim_cdev_kind {
	HVSIM_CDEV_RAW, /* no registration, no length rules */
	HVSIM_CDEV_KVP,
	HVSIM_CDEV_VSS,
	HVSIM_CDEV_FCOPY,
	HVSIM_CDEV_KIND_MAX,
};

/* Service state, numbered like the kernel's hvutil_device_state. */
enum hvsim_cdev_state {
	HVSIM_CDEV_DEVICE_INIT = 0,
	HVSIM_CDEV_READY = 1,
	HVSIM_CDEV_USERSPACE_REQ = 3,
	HVSIM_CDEV_USERSPACE_RECV = 4,
};

/*
 * Why the simulator closed the daemon's connection: each is a write the
 * kernel would have refused (EINVAL, or EFAULT for a busy slot), which a
 * socket cannot return, so the daemon sees the connection drop instead.
 */
enum hvsim_cdev_error {
	HVSIM_CDEV_ERR_NONE,
	HVSIM_CDEV_ERR_BAD_LENGTH, /* wrong write size for the service */
	HVSIM_CDEV_ERR_BAD_REGISTRATION, /* unknown op or version */
	HVSIM_CDEV_ERR_REGISTRATION_BUSY, /* slot full or transaction open */
	HVSIM_CDEV_ERR_SPURIOUS, /* a reply with no request outstanding */
	HVSIM_CDEV_ERR_EARLY_WRITE, /* write before reading the open status */
	HVSIM_CDEV_ERR_IO, /* socket error */
	HVSIM_CDEV_ERR_MAX,
};

struct hvsim_cdev_stats {
	unsigned opens; /* connections accepted */
	unsigned rejected; /* connections refused with EBUSY */
	unsigned resets; /* connections ended, for any reason */
	unsigned kernel_closes; /* of those, closed for a refused write */
	unsigned registrations; /* completed handshakes */
	unsigned sent; /* messages handed over, registration replies too */
	unsigned replies; /* replies accepted */
	unsigned timeouts; /* transactions that ran out of time */
};

struct hvsim_cdev;

/*
 * Create the listening socket at socket_path (a stale socket there is
 * removed; anything else is -EEXIST). *ret owns it until hvsim_cdev_free().
 */
int hvsim_cdev_new(const char *socket_path, enum hvsim_cdev_kind kind,
		   struct hvsim_cdev **ret);
/* Close everything and unlink the socket. Accepts NULL, returns NULL. */
struct hvsim_cdev *hvsim_cdev_free(struct hvsim_cdev *cd);

/* Process events for timeout_ms (all of it), one pass for 0; < 0: -EINVAL. */
int hvsim_cdev_run(struct hvsim_cdev *cd, int timeout_ms);
/* Until a daemon is connected and registered (READY): 0 or -ETIMEDOUT. */
int hvsim_cdev_wait_ready(struct hvsim_cdev *cd, int timeout_ms);
/* Until a daemon has the device open (open status read): 0, -ETIMEDOUT. */
int hvsim_cdev_wait_open(struct hvsim_cdev *cd, int timeout_ms);
/* Until no daemon has the device open: 0 or -ETIMEDOUT. */
int hvsim_cdev_wait_closed(struct hvsim_cdev *cd, int timeout_ms);

/* Default for hvsim_cdev_transact(); < 0 waits forever. */
void hvsim_cdev_set_reply_timeout(struct hvsim_cdev *cd, int timeout_ms);

/*
 * Hand the daemon one message without expecting a reply (e.g. the fake
 * THAW/CANCEL of §2 hibernation). -EINVAL when no daemon has the device
 * open, -EFAULT while the previous message is unread (one outbound slot).
 */
int hvsim_cdev_queue(struct hvsim_cdev *cd, const void *msg, size_t len);

/*
 * Start a transaction: hand msg to the registered daemon. -ENOTCONN if not
 * READY, -EBUSY if a transaction is open or its reply not yet collected,
 * -EFAULT while the previous message is unread.
 */
int hvsim_cdev_send(struct hvsim_cdev *cd, const void *msg, size_t len);

/*
 * Wait for the reply to the open transaction and copy it to reply.
 * Returns its length; -ETIMEDOUT (transaction dropped, service READY: the
 * host would get HV_E_FAIL), -ECONNRESET (daemon closed or was closed),
 * -ENOBUFS (reply larger than size; kept for another call), -EINVAL (no
 * transaction open).
 */
ssize_t hvsim_cdev_wait_reply(struct hvsim_cdev *cd, void *reply, size_t size,
			      int timeout_ms);

/* hvsim_cdev_send() + hvsim_cdev_wait_reply() with the reply timeout. */
ssize_t hvsim_cdev_transact(struct hvsim_cdev *cd, const void *msg, size_t len,
			    void *reply, size_t reply_size);

/* Bytes queued to the daemon and not yet read by it (SIOCOUTQ). */
int hvsim_cdev_unread(const struct hvsim_cdev *cd);

enum hvsim_cdev_state hvsim_cdev_state(const struct hvsim_cdev *cd);
bool hvsim_cdev_is_open(const struct hvsim_cdev *cd);
/* The op/version the daemon registered with (the kernel's dm_reg_value). */
uint32_t hvsim_cdev_registered_as(const struct hvsim_cdev *cd);
enum hvsim_cdev_error hvsim_cdev_last_error(const struct hvsim_cdev *cd);
const char *hvsim_cdev_last_error_str(const struct hvsim_cdev *cd);
const struct hvsim_cdev_stats *hvsim_cdev_stats(const struct hvsim_cdev *cd);
const char *hvsim_cdev_error_name(enum hvsim_cdev_error err);

/* ---------------------------------------------------------------------- */
/* UIO VMBus channel: the host plus uio_hv_generic (§1.1, §5.3, §6.1).    */

enum hvsim_ring {
	HVSIM_RING_TX, /* guest -> host, first in the memfd */
	HVSIM_RING_RX, /* host -> guest, second */
	HVSIM_RING_MAX,
};

enum hvsim_uio_error {
	HVSIM_UIO_ERR_NONE,
	HVSIM_UIO_ERR_BAD_WRITE, /* guest write to the device not 4 bytes */
	HVSIM_UIO_ERR_BAD_INDEX, /* guest-owned index out of range */
	HVSIM_UIO_ERR_INDEX_CHANGED, /* guest wrote a host-owned index */
	HVSIM_UIO_ERR_SHORT_PACKET, /* less than a descriptor + trailer */
	HVSIM_UIO_ERR_BAD_OFFSET, /* offset8 != 2 */
	HVSIM_UIO_ERR_BAD_LEN, /* len8 < offset8 or beyond the written data */
	HVSIM_UIO_ERR_BAD_TYPE, /* not VM_PKT_DATA_INBAND */
	HVSIM_UIO_ERR_BAD_FLAGS, /* unknown descriptor flags */
	HVSIM_UIO_ERR_BAD_TRAILER, /* trailer != read_index << 32 */
	HVSIM_UIO_ERR_IO,
	HVSIM_UIO_ERR_MAX,
};

struct hvsim_uio_stats {
	unsigned opens;
	unsigned rejected; /* second open (EBUSY) or after rescind (ENODEV) */
	unsigned closes; /* guest closed its connection */
	unsigned interrupts; /* interrupts raised to the guest */
	unsigned guest_signals; /* guest writes of v != 0 */
	unsigned guest_masks; /* guest writes of 0 */
	unsigned pkts_to_guest;
	unsigned pkts_from_guest;
	unsigned send_full; /* hvsim_uio_send() refused with -EAGAIN */
};

/* The guest's packet-header check in recv: only IC traffic is expected. */
#define HVSIM_UIO_ALLOWED_FLAGS VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED

struct hvsim_uio;

/*
 * Create the channel under root:
 *   sys/bus/vmbus/devices/<instance>/class_id        "{class_guid}\n"
 *   sys/bus/vmbus/devices/<instance>/device_id       "{instance}\n"
 *   .../uio/uio<N>/name, maps/map0/{name,size,offset} size = "0x%x\n" of 2R
 *   .../channels/<relid>/ring                         a file of 2R bytes
 *   dev/uio<N>                                        the socket
 * ring_size R is per direction including the 4096-byte header; a multiple
 * of 4096, at least 8192. Both ring headers zeroed, feature_bits bit0 set.
 */
int hvsim_uio_new(const char *root, const char *class_guid,
		  const char *instance, unsigned uio_index, uint32_t ring_size,
		  struct hvsim_uio **ret);
/* Unmap, close, unlink the socket (the sysfs tree stays). NULL-safe. */
struct hvsim_uio *hvsim_uio_free(struct hvsim_uio *u);

/*
 * Test option: put a ring's read and write index at index (a multiple of
 * 8 below R - 4096) so packets wrap early. Only while no guest is
 * connected and the ring is empty; applies now and after each reopen.
 */
int hvsim_uio_set_start_index(struct hvsim_uio *u, enum hvsim_ring ring,
			      uint32_t index);
/*
 * Test option: interrupt only when the RX ring goes empty -> non-empty
 * (as Linux does for its own outbound ring), not on every packet sent
 * while unmasked. Stricter on guests that do not drain.
 */
void hvsim_uio_set_signal_on_empty_only(struct hvsim_uio *u, bool on);

/* Process guest opens and writes for timeout_ms, as hvsim_cdev_run(). */
int hvsim_uio_run(struct hvsim_uio *u, int timeout_ms);
int hvsim_uio_wait_open(struct hvsim_uio *u, int timeout_ms);
int hvsim_uio_wait_closed(struct hvsim_uio *u, int timeout_ms);
/* Until the guest signals the host (writes v != 0) once more. */
int hvsim_uio_wait_signal(struct hvsim_uio *u, int timeout_ms);

/*
 * Rescind: close the guest's connection (its 4-byte read sees EOF) and
 * refuse later opens with ENODEV.
 */
int hvsim_uio_rescind(struct hvsim_uio *u);

/*
 * Host writes one packet into the RX ring (§1.1): descriptor with
 * offset8 = 2, payload, zero padding, trailer = old write_index << 32;
 * publishes write_index, then interrupts the guest if its RX
 * interrupt_mask is 0 (setting it to 1, like the ISR). -EAGAIN when it
 * does not fit (the ring is never completely full; RX pending_send_sz is
 * then set to the packet size), -EMSGSIZE when it never can, -ENOTCONN
 * after the guest closed, -ENODEV after rescind, -EBADMSG if the guest
 * corrupted the ring indexes.
 */
int hvsim_uio_send(struct hvsim_uio *u, uint16_t type, uint16_t flags,
		   uint64_t trans_id, const void *payload, size_t len);

/*
 * Host reads one guest packet from the TX ring, validating it strictly.
 * Returns the payload length (len8*8 - 16, so including padding) and the
 * descriptor; waits for guest signals while the ring is empty. -EAGAIN
 * (empty, timeout 0), -ETIMEDOUT, -ENOBUFS (payload larger than size; left
 * in the ring), -EBADMSG (malformed: see hvsim_uio_last_error()).
 */
ssize_t hvsim_uio_recv(struct hvsim_uio *u, struct hv_pkt_desc *desc,
		       void *payload, size_t size, int timeout_ms);

/* Raise an interrupt as the host's signal would, whatever the mask. */
int hvsim_uio_signal_guest(struct hvsim_uio *u);

/* Bytes written and not yet consumed in a ring. */
uint32_t hvsim_uio_ring_used(const struct hvsim_uio *u, enum hvsim_ring ring);
/* The shared ring memory (2R bytes, TX first), for byte-level checks. */
uint8_t *hvsim_uio_mem(const struct hvsim_uio *u);
uint32_t hvsim_uio_ring_size(const struct hvsim_uio *u);
uint32_t hvsim_uio_relid(const struct hvsim_uio *u);
const char *hvsim_uio_dev_path(const struct hvsim_uio *u);
bool hvsim_uio_is_open(const struct hvsim_uio *u);
const struct hvsim_uio_stats *hvsim_uio_stats(const struct hvsim_uio *u);
enum hvsim_uio_error hvsim_uio_last_error(const struct hvsim_uio *u);
const char *hvsim_uio_last_error_str(const struct hvsim_uio *u);
const char *hvsim_uio_error_name(enum hvsim_uio_error err);

/* ---------------------------------------------------------------------- */
/* IC framing, host side (§1.2, §1.3).                                     */

struct hvsim_ic_msg {
	uint16_t msgtype;
	uint8_t txid; /* ictransaction_id */
	uint32_t fw_version; /* icverframe, HV_IC_VERSION(major, minor) */
	uint32_t msg_version; /* icvermsg */
	uint32_t status; /* what the host puts in status (normally 0) */
	uint32_t pipe_flags; /* vmbuspipe_hdr.flags; unspecified in §1.2 */
};

/*
 * Build pipe header + IC header + body into buf: icflags
 * TRANSACTION|REQUEST, icmsgsize = body_len, pipe msgsize = 20 + body_len.
 * Returns the total length, -ENOBUFS if buf is too small, -EMSGSIZE if
 * body_len does not fit icmsgsize.
 */
ssize_t hvsim_ic_build(void *buf, size_t size, const struct hvsim_ic_msg *m,
		       const void *body, size_t body_len);

/*
 * Build a NEGOTIATE offering nfw framework then nsvc service versions
 * (any counts up to 65535, including the > 100 the guest must refuse);
 * icverframe/icvermsg carry the first offered versions (or 0). Cut the
 * returned length for truncated-packet tests.
 */
ssize_t hvsim_ic_build_negotiate(void *buf, size_t size, uint8_t txid,
				 const uint32_t *fw, size_t nfw,
				 const uint32_t *svc, size_t nsvc);

struct hvsim_ic_reply {
	uint16_t msgtype;
	uint8_t txid;
	uint16_t icmsgsize;
	uint32_t status;
	const uint8_t *body; /* points into the reply */
	size_t body_len;
};

/*
 * Check a guest reply against the request it answers: both hold the IC
 * header, same length up to 8-byte padding (ring payloads are padded),
 * icflags == TRANSACTION|RESPONSE, same msgtype, transaction id, pipe
 * header and versions. -EBADMSG with the reason in why (may be NULL).
 */
int hvsim_ic_check_reply(const void *req, size_t req_len, const void *reply,
			 size_t reply_len, struct hvsim_ic_reply *ret,
			 char *why, size_t why_size);

struct hvsim_ic_nego {
	bool found;
	uint32_t fw; /* valid when found */
	uint32_t svc;
};

/*
 * Check a NEGOTIATE reply (§1.3): hvsim_ic_check_reply() plus icmsgsize
 * 0x10 and counts 1/1 with a pair the request offered, or 0/0.
 */
int hvsim_ic_check_negotiate(const void *req, size_t req_len, const void *reply,
			     size_t reply_len, struct hvsim_ic_nego *ret,
			     char *why, size_t why_size);

/*
 * What a guest supporting guest_fw/guest_svc (its priority order) must
 * answer to the NEGOTIATE request req (§1.3), including the refusals of
 * short packets and counts above 100.
 */
int hvsim_ic_negotiate_expect(const void *req, size_t req_len,
			      const uint32_t *guest_fw, size_t ngfw,
			      const uint32_t *guest_svc, size_t ngsvc,
			      struct hvsim_ic_nego *ret);

/* ---------------------------------------------------------------------- */
/* UTF-16 as the kernel converts it (fs/nls behaviour, §5.2, §3.2).         */

/*
 * UTF-16LE (in_units units, stops at a NUL unit) to UTF-8 in out, at most
 * out_size - 1 bytes, always NUL-terminated (out_size > 0). Lone or
 * mismatched surrogates are dropped; conversion stops at the first
 * character that does not fit whole. Returns the bytes written.
 */
ssize_t hvsim_utf16le_to_utf8(const void *in, size_t in_units, char *out,
			      size_t out_size);

/*
 * UTF-8 (in_len bytes, stops at a NUL byte) to UTF-16LE, at most
 * out_units units, no terminator; a supplementary character that needs
 * two units when one is left ends the conversion. Returns the units
 * written, or -EINVAL for malformed UTF-8 (overlong, surrogate, above
 * U+10FFFF, truncated, bad continuation).
 */
ssize_t hvsim_utf8_to_utf16le(const char *in, size_t in_len, void *out,
			      size_t out_units);

#endif
