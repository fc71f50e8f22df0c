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

/*
 * Fault: another process holds the device open (§2 exclusive open), so
 * every open is answered EBUSY (counted in stats.rejected) until busy is
 * cleared. A daemon that has the device open now keeps it.
 */
void hvsim_cdev_set_busy(struct hvsim_cdev *cd, bool busy);

/*
 * Fault: the kernel drops the open transaction with nothing sent to the
 * daemon, as KVP's hibernation step does (§2 util_pre_suspend: work
 * cancelled, service forced back to READY). The daemon's reply to it then
 * finds no request outstanding and is refused (EINVAL: the connection is
 * closed, HVSIM_CDEV_ERR_SPURIOUS). Returns 0, or -EINVAL when no
 * transaction is waiting for its reply.
 */
int hvsim_cdev_cancel(struct hvsim_cdev *cd);

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

/*
 * Fault: another process holds /dev/uioN open (uio_hv_generic allows one
 * opener), so guest opens are answered EBUSY until busy is cleared. A
 * guest that has the channel open now keeps it.
 */
void hvsim_uio_set_busy(struct hvsim_uio *u, bool busy);

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

/* ---------------------------------------------------------------------- */
/* KVP host: Hyper-V and the kernel's hv_kvp around a daemon (§3.2).      */

/*
 * A host request travels as Hyper-V sends it: pipe header + IC header +
 * host-format struct hv_kvp_msg (UTF-16LE strings, sizes in bytes) or, for
 * the IP ops, struct hv_kvp_ip_msg. The "kernel" here reads it the way
 * hv_kvp does (only once a daemon has registered), builds the daemon-format
 * message, transacts over the hvsim_cdev, and rewrites the host's buffer in
 * place into the reply. NEGOTIATE is answered by this kernel model itself;
 * the daemon never sees it.
 *
 * Malformed daemon-format messages need no help from this layer: use
 * hvsim_cdev_transact() on the same device directly (7432 bytes for KVP).
 * Malformed host packets go through hvsim_kvp_exchange().
 */

/* HV_UTIL_NEGO_TIMEOUT: the kernel re-kicks the channel after 55 s. */
#define HVSIM_KVP_NEGO_WAIT_MS 55000
/* The kernel reads KVP packets into 4 pages; larger ones are not read. */
#define HVSIM_KVP_RECV_MAX (4 * 4096)
#define HVSIM_KVP_PKT_SIZE (ICMSG_HDR + sizeof(struct hv_kvp_msg))
#define HVSIM_KVP_IP_PKT_SIZE (ICMSG_HDR + sizeof(struct hv_kvp_ip_msg))
/* UTF-8 buffers that hold any decoded host string (3 bytes per unit). */
#define HVSIM_KVP_KEY_MAX (3 * HV_KVP_EXCHANGE_MAX_KEY_SIZE / 2 + 1)
#define HVSIM_KVP_VALUE_MAX (3 * HV_KVP_EXCHANGE_MAX_VALUE_SIZE / 2 + 1)
/* hvsim_kvp_list() gives up after this many items (a daemon never ending). */
#define HVSIM_KVP_LIST_MAX 65536u
#define HVSIM_KVP_OFFER_MAX 16u

/* How the host's reply to the last hvsim_kvp_exchange() came about. */
enum hvsim_kvp_path {
	HVSIM_KVP_PATH_NONE, /* no reply (dropped, or simulator error) */
	HVSIM_KVP_PATH_DAEMON, /* converted from the daemon's reply */
	HVSIM_KVP_PATH_KERNEL, /* answered by the kernel (NEGOTIATE) */
	HVSIM_KVP_PATH_TIMEOUT, /* 30 s timeout fired: HV_E_FAIL */
	HVSIM_KVP_PATH_RESET, /* daemon closed mid-transaction: HV_E_FAIL */
	HVSIM_KVP_PATH_SEND_FAILED, /* outbound slot busy: HV_E_FAIL */
	HVSIM_KVP_PATH_MAX,
};

struct hvsim_kvp_stats {
	unsigned requests; /* host packets offered to the kernel */
	unsigned negotiations; /* successful host NEGOTIATEs */
	unsigned waited; /* packets that waited for a registration */
	unsigned daemon_replies;
	unsigned kernel_failures; /* HV_E_FAIL by timeout, reset, busy slot */
	unsigned dropped; /* packets the kernel read and never answered */
};

struct hvsim_kvp;

/*
 * Host + kernel model on top of cd (a HVSIM_CDEV_KVP device, borrowed:
 * it must outlive *ret). Host offer: framework 3.0, 1.0; service 4.0,
 * 3.0, 1.0. Registration wait: HVSIM_KVP_NEGO_WAIT_MS.
 */
int hvsim_kvp_new(struct hvsim_cdev *cd, struct hvsim_kvp **ret);
struct hvsim_kvp *hvsim_kvp_free(struct hvsim_kvp *k);
struct hvsim_cdev *hvsim_kvp_cdev(const struct hvsim_kvp *k);

/*
 * How long a host packet waits for a daemon to register before the
 * simulator gives up with -ENOTCONN (< 0: forever). The kernel itself
 * leaves such packets in the ring; the wait models the host's patience.
 */
void hvsim_kvp_set_nego_wait(struct hvsim_kvp *k, int timeout_ms);
/* Versions the host offers in its NEGOTIATE; resets the negotiation. */
int hvsim_kvp_set_offer(struct hvsim_kvp *k, const uint32_t *fw, size_t nfw,
			const uint32_t *svc, size_t nsvc);
/*
 * Host NEGOTIATE through the kernel model (done implicitly before the
 * first request). -EPROTO when the kernel found no common version.
 */
int hvsim_kvp_negotiate(struct hvsim_kvp *k);
bool hvsim_kvp_negotiated(const struct hvsim_kvp *k, uint32_t *fw,
			  uint32_t *svc);

/*
 * One raw host packet through the kernel model; the reply (same length,
 * rewritten in place as hv_kvp does) goes to reply. Returns its length,
 * also when the kernel answered HV_E_FAIL on its own (see
 * hvsim_kvp_last_path()). -ENOMSG: the kernel read the packet and dropped
 * it (shorter than the IC header, or not NEGOTIATE/KVPEXCHANGE);
 * -EMSGSIZE: larger than HVSIM_KVP_RECV_MAX; -ENOTCONN: no daemon
 * registered within the wait (nothing was read); -ENOBUFS: size < len;
 * -EBUSY: a transaction opened directly on the cdev is still open.
 */
ssize_t hvsim_kvp_exchange(struct hvsim_kvp *k, const void *pkt, size_t len,
			   void *reply, size_t size);
enum hvsim_kvp_path hvsim_kvp_last_path(const struct hvsim_kvp *k);
const char *hvsim_kvp_path_name(enum hvsim_kvp_path path);

/*
 * The daemon-format message of the last transaction and the daemon's
 * reply to it (whole 7432 bytes), NULL when there is none: the raw view
 * behind what the host was told.
 */
const struct hv_kvp_msg *hvsim_kvp_last_request(const struct hvsim_kvp *k);
const struct hv_kvp_msg *hvsim_kvp_last_reply(const struct hvsim_kvp *k);

/*
 * Host operations (Msvm_KvpExchangeComponent-like). Each returns 0 when
 * the transaction completed, with *status = what the host received;
 * -ETIMEDOUT (the kernel's daemon timeout fired), -ECONNRESET (daemon
 * closed mid-transaction) and -EFAULT (the device's outbound slot was
 * busy) also set *status = HV_E_FAIL, as the host got that. Other
 * -errno: simulator trouble (-E2BIG a string does not fit the host
 * field with its terminator, -EINVAL malformed UTF-8, -ENOTCONN, ...),
 * *status untouched.
 */
int hvsim_kvp_set(struct hvsim_kvp *k, uint8_t pool, const char *key,
		  const char *value, uint32_t *status);
int hvsim_kvp_set_u32(struct hvsim_kvp *k, uint8_t pool, const char *key,
		      uint32_t value, uint32_t *status);
int hvsim_kvp_set_u64(struct hvsim_kvp *k, uint8_t pool, const char *key,
		      uint64_t value, uint32_t *status);
/*
 * The host's view of a GET: the kernel converts the value for the host
 * from the ENUMERATE position of the daemon's reply (offset 532), 4 bytes
 * after where a GET reply carries it (528), so the host never gets the
 * value intact (§3.2, §7 item 15). value is "" unless status is HV_S_OK.
 * hvsim_kvp_daemon_get_value() returns what the daemon actually sent.
 */
int hvsim_kvp_get(struct hvsim_kvp *k, uint8_t pool, const char *key,
		  char *value, size_t size, uint32_t *status);
/* The value at the GET position of the last daemon reply; -ENODATA if
 * the last transaction was not a GET answered by the daemon. */
int hvsim_kvp_daemon_get_value(const struct hvsim_kvp *k, char *out,
			       size_t size);
int hvsim_kvp_delete(struct hvsim_kvp *k, uint8_t pool, const char *key,
		     uint32_t *status);
/* key/value are "" unless status is HV_S_OK; strings longer than the
 * buffers are cut at a character boundary. */
int hvsim_kvp_enumerate(struct hvsim_kvp *k, uint8_t pool, uint32_t index,
			char *key, size_t ksize, char *value, size_t vsize,
			uint32_t *status);

/* < 0 stops hvsim_kvp_list(), which then returns that value. */
typedef int (*hvsim_kvp_list_cb)(uint32_t index, const char *key,
				 const char *value, void *userdata);
/*
 * ENUMERATE from index 0 until a status other than HV_S_OK (normally
 * HV_S_CONT, left in *status). Returns the number of items, -E2BIG after
 * HVSIM_KVP_LIST_MAX, or an error as the single operations.
 */
int hvsim_kvp_list(struct hvsim_kvp *k, uint8_t pool, hvsim_kvp_list_cb cb,
		   void *userdata, uint32_t *status);

/* GET_IP_INFO / SET_IP_INFO strings, UTF-8 (hv_kvp_ipaddr_value). */
struct hvsim_kvp_ip {
	char adapter_id[3 * MAX_ADAPTER_ID_SIZE + 1];
	uint8_t addr_family;
	uint8_t dhcp_enabled;
	char ip_addr[3 * MAX_IP_ADDR_SIZE + 1];
	char sub_net[3 * MAX_IP_ADDR_SIZE + 1];
	char gate_way[3 * MAX_GATEWAY_SIZE + 1];
	char dns_addr[3 * MAX_IP_ADDR_SIZE + 1];
};

/* *ret is filled (all "" unless status is HV_S_OK) whenever *status is. */
int hvsim_kvp_get_ip_info(struct hvsim_kvp *k, const char *adapter_id,
			  uint8_t addr_family, struct hvsim_kvp_ip *ret,
			  uint32_t *status);
int hvsim_kvp_set_ip_info(struct hvsim_kvp *k, const struct hvsim_kvp_ip *ip,
			  uint32_t *status);

const struct hvsim_kvp_stats *hvsim_kvp_stats(const struct hvsim_kvp *k);
/* "HV_S_OK", "HV_S_CONT", ... or NULL for a code <linux/hyperv.h> lacks. */
const char *hvsim_kvp_status_name(uint32_t status);

/* ---------------------------------------------------------------------- */
/* The simulator as a server (hvsim serve) and its control protocol.       */

/*
 * Control socket: SOCK_SEQPACKET at <root>/hvsim.sock. A client connects,
 * sends one request record, receives one reply record, and the server
 * closes. A record is a list of fields, each terminated by a NUL byte
 * (so the record ends with NUL; no empty record, at most
 * HVSIM_CTL_FIELDS_MAX fields, at most HVSIM_CTL_MSG_MAX bytes).
 *
 * Requests (numbers in decimal, no sign, no leading zeros but "0"):
 *   status
 *   kvp-set POOL TYPE KEY VALUE    TYPE: sz, u32 or u64
 *   kvp-modify POOL TYPE KEY VALUE GET first; SET only if it says HV_S_OK
 *   kvp-get POOL KEY
 *   kvp-delete POOL KEY
 *   kvp-enum POOL INDEX
 * POOL is 0..255 (the host field is a byte; the kernel does not check it).
 *
 * Reply: RESULT STATUS [FIELD...]: RESULT is "0" or a negative errno in
 * decimal (the hvsim_kvp_* return value, or -EINVAL for a bad request),
 * STATUS the host status as "0x%08x" ("0x00000000" when none).
 *   status      TEXT: one line per device, "name key=value ..."
 *   kvp-get     HOST_VALUE DAEMON_VALUE (the GET quirk made visible)
 *   kvp-enum    KEY VALUE
 *   kvp-modify  "missing" when the GET found no item (no SET was sent)
 *   errors      MESSAGE
 */
#define HVSIM_CTL_SOCKET "hvsim.sock"
#define HVSIM_CTL_MSG_MAX 16384u
#define HVSIM_CTL_FIELDS_MAX 8u

/* Fields into buf; returns the record length, -ENOBUFS, -EINVAL. */
ssize_t hvsim_ctl_pack(void *buf, size_t size, const char *const *fields,
		       size_t n);
/*
 * Split a record: fields[i] point into buf. Returns the number of fields;
 * -EBADMSG if empty, not NUL-terminated, or more than max fields.
 */
int hvsim_ctl_split(const void *buf, size_t len, const char **fields,
		    size_t max);
/* One request, one reply (waits for it); returns the reply length. */
ssize_t hvsim_ctl_call(const char *socket_path, const void *req, size_t len,
		       void *reply, size_t size);

struct hvsim_server_config {
	const char *root; /* devices under root/dev/vmbus, socket in root */
	bool kvp, vss, fcopy; /* which devices to simulate */
	int reply_timeout_ms; /* the kernel's daemon timeout; < 0: 30 s */
	int nego_wait_ms; /* registration wait; < 0: 55 s */
	/* The fcopy UIO channel (HV_GUID_FCOPY_INSTANCE, <root>/dev/uio0). */
	bool fcopy_uio;
};

struct hvsim_server;

/* Create the devices and the control socket (listening on return). */
int hvsim_server_new(const struct hvsim_server_config *cfg,
		     struct hvsim_server **ret);
/* Close everything and unlink the sockets. NULL-safe, returns NULL. */
struct hvsim_server *hvsim_server_free(struct hvsim_server *s);
/*
 * Serve until stop_fd (e.g. a signalfd) is readable: returns 0 then,
 * or -errno. Single-threaded: one request is served at a time, and a
 * KVP request blocks the loop until the daemon answers or times out.
 */
int hvsim_server_run(struct hvsim_server *s, int stop_fd);
const char *hvsim_server_socket_path(const struct hvsim_server *s);

/*
 * More control requests (hvsim-server.c):
 *
 *   kvp-ip-get MAC
 *     GET_IP_INFO for MAC (any spelling hvsim_kvp_ip_mac() takes), both
 *     families. Reply RESULT STATUS FAMILY DHCP IP SUBNET GATEWAY DNS
 *     (hvsim_kvp_ip_to_fields(); all empty unless STATUS is HV_S_OK).
 *   kvp-ip-set ADAPTER FAMILY DHCP IP SUBNET GATEWAY DNS
 *     SET_IP_INFO with those host strings (ADAPTER sent as given).
 *     Reply RESULT STATUS.
 *   fcopy-copy TRANSPORT FLAGS SRC DEST
 *     Copy-VMFile SRC (absolute, read by the server) to the guest's DEST
 *     (hvsim_fcopy_copy_file()); TRANSPORT uio, chardev or auto (one a
 *     guest is on, UIO first; waits for one as long as a KVP request
 *     waits for a registration); FLAGS the HVSIM_FCOPY_FORCE and
 *     HVSIM_FCOPY_CREATE_FULL_PATH bits in decimal. Reply RESULT STATUS
 *     TRANSPORT STAGE BYTES SIZE: the transport used, the message
 *     STATUS answered (none, start, write, complete, cancel), the bytes
 *     the guest acknowledged and the source's size. RESULT -107
 *     (ENOTCONN: no guest), -110 and -104 come with STATUS HV_E_FAIL.
 */

/*
 * VSS and shutdown requests (hvsim-server.c). Each waits, like a KVP
 * request, up to the registration wait for the guest (a registered VSS
 * daemon; the shutdown channel open), then goes out either way.
 *
 *   vss-backup HOLD_MS
 *     hvsim_vss_backup(): FREEZE, HOLD_MS of snapshot, THAW. Reply RESULT
 *     FREEZE_STATUS FREEZE_RESULT FREEZE_PATH THAW_RESULT THAW_STATUS
 *     THAW_PATH FROZEN_USEC: the -errno and hvsim_vss_path_name() of each
 *     step, and the time from the FREEZE's reply to the THAW's.
 *   vss-hot-backup
 *     HOT_BACKUP. Reply RESULT STATUS FLAGS PATH (FLAGS the reply's
 *     vss_cf.flags as 0x%08x).
 *   shutdown-stop KIND FORCE MESSAGE
 *     hvsim_stop_vm(): KIND poweroff, restart or hibernate, FORCE 0 or 1,
 *     MESSAGE UTF-8 ("" for none), 30 s for the guest. Reply RESULT
 *     STATUS; RESULT -110 when the guest did not answer.
 * Without the device: RESULT -19 (ENODEV) and a message.
 */

/*
 * Also simulate the shutdown channel bound to uio_hv_generic (class
 * HV_GUID_SHUTDOWN, instance HVSIM_SHUTDOWN_INSTANCE, <root>/dev/uio1)
 * with the host attached; root as given to hvsim_server_new(). -EEXIST
 * if already added.
 */
int hvsim_server_add_shutdown(struct hvsim_server *s, const char *root);

#endif
