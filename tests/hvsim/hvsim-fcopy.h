/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of Copy-VMFile (protocol.md §5) for hvsim, over both
 * transports a guest may use:
 *
 *   UIO      the host writes its packets into the fcopy channel's rings
 *            and the daemon answers them itself (§5.3): NEGOTIATE, then
 *            START (UTF-16 names), WRITE chunks, COMPLETE or CANCEL.
 *   chardev  the host's packets go to a model of the legacy hv_fcopy
 *            driver (§5.2), which answers NEGOTIATE itself, refuses
 *            everything with HV_E_FAIL until a daemon has registered,
 *            converts START names to UTF-8 (at most 259 bytes, lone
 *            surrogates dropped, as utf16s_to_utf8s does), forwards WRITE
 *            as the host's 6196-byte struct, every other operation as the
 *            packet's length in bytes from the fcopy header (so with 28
 *            stale bytes of its receive buffer), and turns the daemon's
 *            4-byte status into the host's reply.
 *
 * Written from the spec, not from the daemon: only the wire structs are
 * shared. Single-threaded like the rest of hvsim: every call runs the
 * underlying device's loop while it waits.
 */
#ifndef HVSIM_FCOPY_H
#define HVSIM_FCOPY_H

#include "hvsim.h"

/* §5.3: uio_hv_generic gives the fcopy channel VMBUS_RING_SIZE(0x4000). */
#define HVSIM_FCOPY_RING_SIZE 0x5000u
/* §5.2: hv_fcopy reads host packets into two pages. */
#define HVSIM_FCOPY_RECV_MAX (2 * 4096)
#define HVSIM_FCOPY_START_LEN (ICMSG_HDR + sizeof(struct hv_start_fcopy))
#define HVSIM_FCOPY_WRITE_LEN (ICMSG_HDR + sizeof(struct hv_do_fcopy))
#define HVSIM_FCOPY_HDR_LEN (ICMSG_HDR + sizeof(struct hv_fcopy_hdr))
/* Largest packet a host sends, and room for its reply (8-byte padded). */
#define HVSIM_FCOPY_PKT_MAX (HVSIM_FCOPY_WRITE_LEN + 8)
/* UTF-8 bytes for a whole name field (259 units, 3 bytes each). */
#define HVSIM_FCOPY_NAME_MAX (3 * (W_MAX_PATH - 1) + 1)
/* The host's wait for a reply over UIO (the kernel's is 30 s for chardev). */
#define HVSIM_FCOPY_HOST_TIMEOUT_MS 30000
#define HVSIM_FCOPY_OFFER_MAX 16u

/* How the host's reply to the last exchange came about. */
enum hvsim_fcopy_path {
	HVSIM_FCOPY_PATH_NONE, /* no reply */
	HVSIM_FCOPY_PATH_DAEMON, /* the daemon's status */
	HVSIM_FCOPY_PATH_KERNEL, /* legacy kernel: NEGOTIATE, or no daemon */
	HVSIM_FCOPY_PATH_TIMEOUT, /* legacy kernel: 30 s timeout, HV_E_FAIL */
	HVSIM_FCOPY_PATH_RESET, /* legacy kernel: daemon closed, HV_E_FAIL */
	HVSIM_FCOPY_PATH_SEND_FAILED, /* legacy kernel: slot busy, HV_E_FAIL */
	HVSIM_FCOPY_PATH_MAX,
};

struct hvsim_fcopy_stats {
	unsigned requests; /* host packets sent */
	unsigned negotiations; /* successful NEGOTIATEs */
	unsigned daemon_replies;
	unsigned kernel_failures; /* legacy: HV_E_FAIL from the kernel */
	unsigned dropped; /* legacy: packets the kernel read and ignored */
	unsigned trans_id_mismatches; /* UIO: reply without our trans_id */
};

struct hvsim_fcopy;

/*
 * Host on a UIO channel (borrowed; it must outlive *ret), normally made
 * with hvsim_uio_new(root, HV_GUID_FCOPY, HV_GUID_FCOPY_INSTANCE, n,
 * HVSIM_FCOPY_RING_SIZE). Offer: framework 3.0, service 1.1.
 */
int hvsim_fcopy_new_uio(struct hvsim_uio *u, struct hvsim_fcopy **ret);
/* Host plus the legacy kernel driver on a HVSIM_CDEV_FCOPY device. */
int hvsim_fcopy_new_cdev(struct hvsim_cdev *cd, struct hvsim_fcopy **ret);
struct hvsim_fcopy *hvsim_fcopy_free(struct hvsim_fcopy *f);

/*
 * UIO: how long the host waits for each reply (default
 * HVSIM_FCOPY_HOST_TIMEOUT_MS). chardev: the kernel's daemon timeout
 * (default 30 s), passed to the cdev.
 */
void hvsim_fcopy_set_timeout(struct hvsim_fcopy *f, int timeout_ms);
/* Versions the host offers; the next request negotiates again. */
int hvsim_fcopy_set_offer(struct hvsim_fcopy *f, const uint32_t *fw, size_t nfw,
			  const uint32_t *svc, size_t nsvc);
/*
 * The host's NEGOTIATE (done implicitly before the first request, and
 * after each reconnection of a UIO guest). -EPROTO when no common
 * version was found, -ENOTCONN when no UIO guest has the channel open.
 */
int hvsim_fcopy_negotiate(struct hvsim_fcopy *f);
bool hvsim_fcopy_negotiated(const struct hvsim_fcopy *f, uint32_t *fw,
			    uint32_t *svc);

/*
 * One raw host packet (IC header + body). Returns the reply's length
 * (UIO: padded to 8 bytes), with the reply in reply. UIO: -ENOTCONN (no
 * guest), -ECONNRESET (the guest closed while we waited), -ETIMEDOUT,
 * -EBADMSG (a malformed reply; see hvsim_fcopy_last_error()). chardev:
 * the kernel's answer, also when it is its own HV_E_FAIL (see
 * hvsim_fcopy_last_path()); -ENOMSG when the kernel drops the packet
 * (shorter than the IC header, an FCOPY shorter than the fcopy header, or
 * another message type), -EMSGSIZE when larger than two pages.
 */
ssize_t hvsim_fcopy_exchange(struct hvsim_fcopy *f, const void *pkt, size_t len,
			     void *reply, size_t size);
enum hvsim_fcopy_path hvsim_fcopy_last_path(const struct hvsim_fcopy *f);
const char *hvsim_fcopy_path_name(enum hvsim_fcopy_path path);
const char *hvsim_fcopy_last_error(const struct hvsim_fcopy *f);

/*
 * Host messages. Each returns 0 with *status = what the host received,
 * or -errno: -ETIMEDOUT, -ECONNRESET and -ENOTCONN also set *status =
 * HV_E_FAIL (the host saw the request fail); others (-ENAMETOOLONG for a
 * name over 259 UTF-16 units, -EINVAL for malformed UTF-8, ...) leave it.
 * Names are UTF-8 and converted to UTF-16 as the host does.
 */
int hvsim_fcopy_start(struct hvsim_fcopy *f, const char *path, const char *name,
		      uint32_t flags, uint64_t size, uint32_t *status);
/*
 * START with raw UTF-16 fields: n units each are copied (up to
 * W_MAX_PATH, no terminator added), the rest of the field zeroed, so
 * lone surrogates and unterminated fields can be sent.
 */
int hvsim_fcopy_start_utf16(struct hvsim_fcopy *f, const uint16_t *path,
			    size_t npath, const uint16_t *name, size_t nname,
			    uint32_t flags, uint64_t size, uint32_t *status);
/* WRITE_TO_FILE; size may exceed DATA_FRAGMENT (only that much is sent). */
int hvsim_fcopy_write(struct hvsim_fcopy *f, uint64_t offset, const void *data,
		      uint32_t size, uint32_t *status);
int hvsim_fcopy_complete(struct hvsim_fcopy *f, uint32_t *status);
int hvsim_fcopy_cancel(struct hvsim_fcopy *f, uint32_t *status);
/* Any operation code with just the fcopy header. */
int hvsim_fcopy_op(struct hvsim_fcopy *f, uint32_t op, uint32_t *status);

/*
 * chardev only: the kernel's hibernation step (§2): a 36-byte fake
 * CANCEL_FCOPY handed to the daemon, no transaction open, so the
 * daemon's reply is refused and it must reopen. -EOPNOTSUPP on UIO.
 */
int hvsim_fcopy_hibernate(struct hvsim_fcopy *f);

/*
 * chardev only: the last message the kernel handed the daemon (NULL if
 * none), for checking the conversions.
 */
const uint8_t *hvsim_fcopy_last_daemon_msg(const struct hvsim_fcopy *f,
					   size_t *len);

/* Packet builders (IC header + body), as the host lays them out. */
ssize_t hvsim_fcopy_build_start(void *buf, size_t size, uint8_t txid,
				const uint16_t *path, size_t npath,
				const uint16_t *name, size_t nname,
				uint32_t flags, uint64_t file_size);
ssize_t hvsim_fcopy_build_write(void *buf, size_t size, uint8_t txid,
				uint64_t offset, const void *data,
				uint32_t data_len, uint32_t size_field);
ssize_t hvsim_fcopy_build_hdr(void *buf, size_t size, uint8_t txid,
			      uint32_t op);

/* ---------------------------------------------------------------------- */
/* Copy-VMFile -FileSource Host (learn.microsoft.com Copy-VMFile,          */
/* Msvm_CopyFileToGuestSettingData).                                       */

#define HVSIM_FCOPY_FORCE 0x1u /* -Force: OVER_WRITE */
#define HVSIM_FCOPY_CREATE_FULL_PATH 0x2u /* -CreateFullPath: CREATE_PATH */

/*
 * DestinationPath is "the complete path of the destination file". The
 * guest, not the host, knows whether it names an existing directory, and
 * the Linux protocol has no way to ask; this model takes a trailing '/'
 * as "a directory: use SourcePath's file name" (the LISA tests copy to
 * "/tmp/"). Otherwise path = up to the last '/', name = the rest. -EINVAL
 * for an empty destination or source name, -E2BIG if a buffer is short.
 */
int hvsim_fcopy_split_dest(const char *src, const char *dest, char *path,
			   size_t path_size, char *name, size_t name_size);

/* What a progress callback may answer (0 goes on). */
enum {
	HVSIM_FCOPY_GO_ON = 0,
	HVSIM_FCOPY_STOP_CANCEL = 1, /* send CANCEL_FCOPY and stop */
	HVSIM_FCOPY_STOP_ABANDON = 2, /* stop sending (host crash) */
};

struct hvsim_fcopy_copy_opts {
	uint32_t chunk; /* bytes per WRITE, 1..DATA_FRAGMENT; 0: 6144 */
	bool hide_size; /* START announces file_size 0 */
	/* After each acknowledged WRITE (done = bytes so far). */
	int (*progress)(uint64_t done, uint64_t total, void *userdata);
	void *userdata;
};

enum hvsim_fcopy_stage {
	HVSIM_FCOPY_STAGE_NONE,
	HVSIM_FCOPY_STAGE_START,
	HVSIM_FCOPY_STAGE_WRITE,
	HVSIM_FCOPY_STAGE_COMPLETE,
	HVSIM_FCOPY_STAGE_CANCEL,
};

struct hvsim_fcopy_result {
	uint32_t status; /* HV_S_OK, or the status that stopped the copy */
	enum hvsim_fcopy_stage stage; /* the message that status answered */
	uint64_t bytes; /* bytes the guest acknowledged */
	uint64_t size; /* the source's size */
};

/*
 * Copy-VMFile SRC DEST [-Force] [-CreateFullPath] -FileSource Host:
 * split DEST, START with the source's size, WRITE chunks in order, then
 * COMPLETE; a failed WRITE is followed by CANCEL, as the host gives up.
 * Returns 0 when the guest answered every message (res->status says
 * whether the copy succeeded), -ECANCELED when the progress callback
 * stopped it, or -errno: -ENOENT/-EISDIR/... for the source, -ENOTCONN
 * (the guest service is not running), -ETIMEDOUT, -ECONNRESET (those
 * three with res->status = HV_E_FAIL). res (may be NULL) is filled as
 * far as the copy got.
 */
int hvsim_fcopy_copy_file(struct hvsim_fcopy *f, const char *src,
			  const char *dest, unsigned flags,
			  const struct hvsim_fcopy_copy_opts *opts,
			  struct hvsim_fcopy_result *res);

/*
 * PowerShell's words for a result, e.g. "Failed to initiate copying files
 * to the guest: The file exists. (0x80070050)" ("" on success).
 */
const char *hvsim_fcopy_result_text(const struct hvsim_fcopy_result *res,
				    char *buf, size_t size);

const struct hvsim_fcopy_stats *hvsim_fcopy_stats(const struct hvsim_fcopy *f);

#endif
