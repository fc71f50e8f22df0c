/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Copy-VMFile as Hyper-V does it (protocol.md §5.1), over a UIO channel
 * or through a model of the legacy hv_fcopy driver (§5.2). Byte positions
 * are written out from the §1.5 table and checked against <linux/hyperv.h>
 * at compile time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvsim-fcopy.h"
#include "hvsim-internal.h"

/* fcopy bodies (§1.5), offsets from the fcopy header. */
#define F_OP 0
#define F_HDR_LEN 36
#define F_FILE_NAME 36
#define F_PATH_NAME 556
#define F_FLAGS 1076
#define F_FILE_SIZE 1080
#define F_START_LEN 1088
#define F_OFFSET 40
#define F_SIZE 48
#define F_DATA 52
#define F_WRITE_LEN 6196

_Static_assert(sizeof(struct hv_fcopy_hdr) == F_HDR_LEN, "hdr");
_Static_assert(offsetof(struct hv_start_fcopy, file_name) == F_FILE_NAME,
	       "file_name");
_Static_assert(offsetof(struct hv_start_fcopy, path_name) == F_PATH_NAME,
	       "path_name");
_Static_assert(offsetof(struct hv_start_fcopy, copy_flags) == F_FLAGS,
	       "copy_flags");
_Static_assert(offsetof(struct hv_start_fcopy, file_size) == F_FILE_SIZE,
	       "file_size");
_Static_assert(sizeof(struct hv_start_fcopy) == F_START_LEN, "start");
_Static_assert(offsetof(struct hv_do_fcopy, offset) == F_OFFSET, "offset");
_Static_assert(offsetof(struct hv_do_fcopy, size) == F_SIZE, "size");
_Static_assert(offsetof(struct hv_do_fcopy, data) == F_DATA, "data");
_Static_assert(sizeof(struct hv_do_fcopy) == F_WRITE_LEN, "write");

/* Poll slice while waiting on a UIO guest, to notice it closing. */
#define UIO_SLICE_MS 50

/* §1.3 table: what both Linux designs answer with. */
static const uint32_t fcopy_fw[] = { HV_IC_VERSION(3, 0) };
static const uint32_t fcopy_svc[] = { HV_IC_VERSION(1, 1) };

_Static_assert(HVSIM_FCOPY_OFFER_MAX == HVSIM_OFFER_MAX, "offer");

struct hvsim_fcopy {
	struct hvsim_uio *u; /* one of these two */
	struct hvsim_cdev *cd;
	int timeout_ms;
	struct hvsim_offer offer;
	unsigned nego_opens; /* UIO: the guest connection we negotiated with */
	uint8_t txid;
	uint64_t trans_id, first_trans_id;
	enum hvsim_fcopy_path path;
	char last_error[256];
	struct hvsim_fcopy_stats stats;
	/*
	 * The legacy kernel's receive buffer: each packet overwrites its
	 * start, stale bytes of earlier ones stay behind it. 28 bytes more
	 * than two pages: recv_len bytes are read from offset 28.
	 */
	uint8_t kbuf[HVSIM_FCOPY_RECV_MAX + ICMSG_HDR];
	uint8_t dmsg[HVSIM_FCOPY_RECV_MAX];
	size_t dmsg_len;
	uint8_t hpkt[HVSIM_FCOPY_PKT_MAX];
	uint8_t hrep[HVSIM_FCOPY_PKT_MAX];
	/* Apart: a request may wait in hpkt while we negotiate. */
	uint8_t npkt[512];
	uint8_t nrep[512];
	uint8_t data[DATA_FRAGMENT];
};

static const char *const path_names[HVSIM_FCOPY_PATH_MAX] = {
	[HVSIM_FCOPY_PATH_NONE] = "none",
	[HVSIM_FCOPY_PATH_DAEMON] = "daemon",
	[HVSIM_FCOPY_PATH_KERNEL] = "kernel",
	[HVSIM_FCOPY_PATH_TIMEOUT] = "timeout",
	[HVSIM_FCOPY_PATH_RESET] = "reset",
	[HVSIM_FCOPY_PATH_SEND_FAILED] = "send-failed",
};

const char *hvsim_fcopy_path_name(enum hvsim_fcopy_path path)
{
	if ((unsigned)path >= HVSIM_FCOPY_PATH_MAX)
		return "?";
	return path_names[path];
}

static void put_le64(uint8_t *p, uint64_t v)
{
	hv_put_le32(p, (uint32_t)v);
	hv_put_le32(p + 4, (uint32_t)(v >> 32));
}

static struct hvsim_fcopy *fcopy_alloc(void)
{
	struct hvsim_fcopy *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->timeout_ms = HVSIM_FCOPY_HOST_TIMEOUT_MS;
	hvsim_offer_set(&f->offer, fcopy_fw, ARRAY_SIZE(fcopy_fw), fcopy_svc,
			ARRAY_SIZE(fcopy_svc));
	/* Any start will do; not 0, which a guest might send blindly. */
	f->trans_id = f->first_trans_id = 0x1000;
	return f;
}

int hvsim_fcopy_new_uio(struct hvsim_uio *u, struct hvsim_fcopy **ret)
{
	struct hvsim_fcopy *f;

	if (!u || !ret)
		return -EINVAL;
	f = fcopy_alloc();
	if (!f)
		return -ENOMEM;
	f->u = u;
	*ret = f;
	return 0;
}

int hvsim_fcopy_new_cdev(struct hvsim_cdev *cd, struct hvsim_fcopy **ret)
{
	struct hvsim_fcopy *f;

	if (!cd || !ret)
		return -EINVAL;
	f = fcopy_alloc();
	if (!f)
		return -ENOMEM;
	f->cd = cd;
	f->timeout_ms = HVSIM_UTIL_TIMEOUT_MS;
	*ret = f;
	return 0;
}

struct hvsim_fcopy *hvsim_fcopy_free(struct hvsim_fcopy *f)
{
	free(f);
	return NULL;
}

void hvsim_fcopy_set_timeout(struct hvsim_fcopy *f, int timeout_ms)
{
	f->timeout_ms = timeout_ms;
	if (f->cd)
		hvsim_cdev_set_reply_timeout(f->cd, timeout_ms);
}

int hvsim_fcopy_set_offer(struct hvsim_fcopy *f, const uint32_t *fw, size_t nfw,
			  const uint32_t *svc, size_t nsvc)
{
	return hvsim_offer_set(&f->offer, fw, nfw, svc, nsvc);
}

bool hvsim_fcopy_negotiated(const struct hvsim_fcopy *f, uint32_t *fw,
			    uint32_t *svc)
{
	return hvsim_offer_negotiated(&f->offer, fw, svc);
}

enum hvsim_fcopy_path hvsim_fcopy_last_path(const struct hvsim_fcopy *f)
{
	return f->path;
}

const char *hvsim_fcopy_last_error(const struct hvsim_fcopy *f)
{
	return f->last_error;
}

const struct hvsim_fcopy_stats *hvsim_fcopy_stats(const struct hvsim_fcopy *f)
{
	return &f->stats;
}

const uint8_t *hvsim_fcopy_last_daemon_msg(const struct hvsim_fcopy *f,
					   size_t *len)
{
	if (!f->cd || !f->dmsg_len)
		return NULL;
	if (len)
		*len = f->dmsg_len;
	return f->dmsg;
}

/* ---------------------------------------------------------------------- */
/* Packets.                                                               */

static ssize_t build_fcopy(void *buf, size_t size, uint8_t txid,
			   const void *body, size_t body_len)
{
	const struct hvsim_ic_msg m = {
		.msgtype = ICMSGTYPE_FCOPY,
		.txid = txid,
		.fw_version = fcopy_fw[0],
		.msg_version = fcopy_svc[0],
	};

	return hvsim_ic_build(buf, size, &m, body, body_len);
}

static void put_units(uint8_t *field, const uint16_t *units, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hv_put_le16(field + 2 * i, units[i]);
}

ssize_t hvsim_fcopy_build_start(void *buf, size_t size, uint8_t txid,
				const uint16_t *path, size_t npath,
				const uint16_t *name, size_t nname,
				uint32_t flags, uint64_t file_size)
{
	uint8_t body[F_START_LEN];

	if (npath > W_MAX_PATH || nname > W_MAX_PATH || (npath && !path) ||
	    (nname && !name))
		return -EINVAL;
	memset(body, 0, sizeof(body));
	hv_put_le32(body + F_OP, START_FILE_COPY);
	put_units(body + F_FILE_NAME, name, nname);
	put_units(body + F_PATH_NAME, path, npath);
	hv_put_le32(body + F_FLAGS, flags);
	put_le64(body + F_FILE_SIZE, file_size);
	return build_fcopy(buf, size, txid, body, sizeof(body));
}

ssize_t hvsim_fcopy_build_write(void *buf, size_t size, uint8_t txid,
				uint64_t offset, const void *data,
				uint32_t data_len, uint32_t size_field)
{
	uint8_t body[F_WRITE_LEN];

	if (data_len > DATA_FRAGMENT || (data_len && !data))
		return -EINVAL;
	memset(body, 0, sizeof(body));
	hv_put_le32(body + F_OP, WRITE_TO_FILE);
	put_le64(body + F_OFFSET, offset);
	hv_put_le32(body + F_SIZE, size_field);
	if (data_len)
		memcpy(body + F_DATA, data, data_len);
	return build_fcopy(buf, size, txid, body, sizeof(body));
}

ssize_t hvsim_fcopy_build_hdr(void *buf, size_t size, uint8_t txid, uint32_t op)
{
	uint8_t body[F_HDR_LEN];

	memset(body, 0, sizeof(body));
	hv_put_le32(body + F_OP, op);
	return build_fcopy(buf, size, txid, body, sizeof(body));
}

/* ---------------------------------------------------------------------- */
/* UIO: the host and the guest's daemon on the rings.                     */

static ssize_t uio_exchange(struct hvsim_fcopy *f, const void *pkt, size_t len,
			    void *reply, size_t size)
{
	int64_t deadline = hvsim_deadline(f->timeout_ms);
	struct hvsim_ic_reply rep;
	struct hv_pkt_desc desc;
	uint64_t id;
	ssize_t n;
	int r, left;

	if (!hvsim_uio_is_open(f->u))
		return -ENOTCONN;
	id = ++f->trans_id;
	for (;;) {
		r = hvsim_uio_send(f->u, VM_PKT_DATA_INBAND,
				   VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED,
				   id, pkt, len);
		if (r != -EAGAIN)
			break;
		/* The guest has not read our last packets yet. */
		left = hvsim_remaining(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		hvsim_uio_wait_signal(f->u, left < 0 || left > UIO_SLICE_MS ?
						    UIO_SLICE_MS :
						    left);
		if (!hvsim_uio_is_open(f->u))
			return -ECONNRESET;
	}
	if (r == -ENOTCONN || r == -ENODEV)
		return -ENOTCONN;
	if (r < 0)
		return r;
	f->stats.requests++;

	for (;;) {
		n = hvsim_uio_recv(f->u, &desc, reply, size, 0);
		if (n >= 0) {
			/* A late answer to a request we gave up on. */
			if (desc.trans_id > f->first_trans_id &&
			    desc.trans_id < id)
				continue;
			break;
		}
		if (n != -EAGAIN) {
			hvsim_fmt(f->last_error, sizeof(f->last_error),
				  "reply: %s (%s)", strerror((int)-n),
				  hvsim_uio_last_error_str(f->u));
			return n;
		}
		if (!hvsim_uio_is_open(f->u))
			return -ECONNRESET;
		left = hvsim_remaining(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		r = hvsim_uio_wait_signal(
			f->u,
			left < 0 || left > UIO_SLICE_MS ? UIO_SLICE_MS : left);
		if (r < 0 && r != -ETIMEDOUT)
			return r;
	}
	/* §1.1: a simulator must not require the echo, only count it. */
	if (desc.trans_id != id)
		f->stats.trans_id_mismatches++;
	if (hvsim_ic_check_reply(pkt, len, reply, (size_t)n, &rep,
				 f->last_error, sizeof(f->last_error)) < 0)
		return -EBADMSG;
	f->stats.daemon_replies++;
	f->path = HVSIM_FCOPY_PATH_DAEMON;
	return n;
}

/* ---------------------------------------------------------------------- */
/* chardev: the legacy hv_fcopy driver between host and daemon (§5.2).    */

/* fcopy_send_data: the daemon's message for the packet in kbuf. */
static void k_build_daemon_msg(struct hvsim_fcopy *f, size_t len)
{
	const uint8_t *in = f->kbuf + ICMSG_HDR;
	uint8_t *d = f->dmsg;

	switch (hv_le32(in + F_OP)) {
	case START_FILE_COPY:
		memset(d, 0, F_START_LEN);
		hv_put_le32(d + F_OP, START_FILE_COPY);
		/* W_MAX_PATH units in, at most 259 bytes out, zero after. */
		hvsim_utf16le_to_utf8(in + F_FILE_NAME, W_MAX_PATH,
				      (char *)d + F_FILE_NAME, W_MAX_PATH);
		hvsim_utf16le_to_utf8(in + F_PATH_NAME, W_MAX_PATH,
				      (char *)d + F_PATH_NAME, W_MAX_PATH);
		memcpy(d + F_FLAGS, in + F_FLAGS, 4);
		memcpy(d + F_FILE_SIZE, in + F_FILE_SIZE, 8);
		f->dmsg_len = F_START_LEN;
		break;
	case WRITE_TO_FILE:
		/* The struct's size whatever the packet's: stale bytes too. */
		memcpy(d, in, F_WRITE_LEN);
		f->dmsg_len = F_WRITE_LEN;
		break;
	default:
		/* recv_len bytes from the fcopy header: 28 beyond the packet. */
		memcpy(d, in, len);
		f->dmsg_len = len;
		break;
	}
}

static int k_fcopy(struct hvsim_fcopy *f, size_t len)
{
	uint8_t reply[8];
	uint32_t status = HV_E_FAIL;
	ssize_t n;

	if (hvsim_cdev_state(f->cd) == HVSIM_CDEV_DEVICE_INIT) {
		/* "Userspace is not registered yet": refused at once. */
		f->path = HVSIM_FCOPY_PATH_KERNEL;
		f->stats.kernel_failures++;
		hv_put_le32(f->kbuf + IC_STATUS, status);
		return 0;
	}
	k_build_daemon_msg(f, len);
	n = hvsim_cdev_transact(f->cd, f->dmsg, f->dmsg_len, reply,
				sizeof(reply));
	switch (n) {
	case -ETIMEDOUT:
		f->path = HVSIM_FCOPY_PATH_TIMEOUT;
		break;
	case -ECONNRESET:
		f->path = HVSIM_FCOPY_PATH_RESET;
		break;
	case -EFAULT:
		f->path = HVSIM_FCOPY_PATH_SEND_FAILED;
		break;
	case -ENOTCONN:
		/* The daemon went away since we looked. */
		f->path = HVSIM_FCOPY_PATH_KERNEL;
		break;
	default:
		if (n < 0)
			return (int)n;
		/* The cdev refuses any write but 4 bytes (§5.2). */
		if (n != 4)
			return -EPROTO;
		status = hv_le32(reply);
		f->path = HVSIM_FCOPY_PATH_DAEMON;
		f->stats.daemon_replies++;
		break;
	}
	if (f->path != HVSIM_FCOPY_PATH_DAEMON)
		f->stats.kernel_failures++;
	hv_put_le32(f->kbuf + IC_STATUS, status);
	return 0;
}

static ssize_t k_exchange(struct hvsim_fcopy *f, const void *pkt, size_t len,
			  void *reply, size_t size)
{
	uint16_t type;
	int r;

	if (len > HVSIM_FCOPY_RECV_MAX)
		return -EMSGSIZE;
	if (size < len)
		return -ENOBUFS;
	f->stats.requests++;
	if (len)
		memcpy(f->kbuf, pkt, len);
	/* Packets the kernel reads and drops without a reply (§7 item 20). */
	if (len < ICMSG_HDR) {
		f->stats.dropped++;
		return -ENOMSG;
	}
	type = hv_le16(f->kbuf + IC_MSGTYPE);
	if (type == ICMSGTYPE_NEGOTIATE) {
		hvsim_ic_kernel_negotiate(f->kbuf, len, fcopy_fw,
					  ARRAY_SIZE(fcopy_fw), fcopy_svc,
					  ARRAY_SIZE(fcopy_svc));
		f->path = HVSIM_FCOPY_PATH_KERNEL;
	} else if (type == ICMSGTYPE_FCOPY && len >= ICMSG_HDR + F_HDR_LEN) {
		r = k_fcopy(f, len);
		if (r < 0)
			return r;
	} else {
		f->stats.dropped++;
		return -ENOMSG;
	}
	f->kbuf[IC_FLAGS] = IC_FLAGS_RESPONSE;
	memcpy(reply, f->kbuf, len);
	return (ssize_t)len;
}

ssize_t hvsim_fcopy_exchange(struct hvsim_fcopy *f, const void *pkt, size_t len,
			     void *reply, size_t size)
{
	if (!f || (!pkt && len) || (!reply && size))
		return -EINVAL;
	f->path = HVSIM_FCOPY_PATH_NONE;
	f->last_error[0] = '\0';
	return f->u ? uio_exchange(f, pkt, len, reply, size) :
		      k_exchange(f, pkt, len, reply, size);
}

int hvsim_fcopy_hibernate(struct hvsim_fcopy *f)
{
	uint8_t hdr[F_HDR_LEN];

	if (f->u)
		return -EOPNOTSUPP;
	memset(hdr, 0, sizeof(hdr));
	hv_put_le32(hdr + F_OP, CANCEL_FCOPY);
	memcpy(f->dmsg, hdr, sizeof(hdr));
	f->dmsg_len = sizeof(hdr);
	return hvsim_cdev_queue(f->cd, hdr, sizeof(hdr));
}

/* ---------------------------------------------------------------------- */
/* The host's requests.                                                   */

int hvsim_fcopy_negotiate(struct hvsim_fcopy *f)
{
	ssize_t len, n;
	int r;

	len = hvsim_offer_build(&f->offer, f->npkt, sizeof(f->npkt), f->txid++);
	if (len < 0)
		return (int)len;
	n = hvsim_fcopy_exchange(f, f->npkt, (size_t)len, f->nrep,
				 sizeof(f->nrep));
	if (n < 0)
		return (int)n;
	r = hvsim_offer_check(&f->offer, f->npkt, (size_t)len, f->nrep,
			      (size_t)n, NULL, f->last_error,
			      sizeof(f->last_error));
	if (r < 0)
		return r;
	if (f->u)
		f->nego_opens = hvsim_uio_stats(f->u)->opens;
	f->stats.negotiations++;
	return 0;
}

/* A host negotiates once per channel open; a new guest open resets it. */
static int ensure_negotiated(struct hvsim_fcopy *f)
{
	if (f->u && !hvsim_uio_is_open(f->u))
		return -ENOTCONN;
	if (f->offer.negotiated &&
	    (!f->u || f->nego_opens == hvsim_uio_stats(f->u)->opens))
		return 0;
	f->offer.negotiated = false;
	return hvsim_fcopy_negotiate(f);
}

static bool host_saw_failure(int r)
{
	return r == -ETIMEDOUT || r == -ECONNRESET || r == -ENOTCONN;
}

/* Send the packet built in hpkt (len bytes); the status from the reply. */
static int host_request(struct hvsim_fcopy *f, size_t len, uint32_t *status)
{
	ssize_t n;
	int r;

	r = ensure_negotiated(f);
	if (r == 0) {
		n = hvsim_fcopy_exchange(f, f->hpkt, len, f->hrep,
					 sizeof(f->hrep));
		r = n < 0 ? (int)n : 0;
	}
	if (host_saw_failure(r))
		*status = HV_E_FAIL;
	if (r < 0)
		return r;
	*status = hv_le32(f->hrep + IC_STATUS);
	return 0;
}

int hvsim_fcopy_start_utf16(struct hvsim_fcopy *f, const uint16_t *path,
			    size_t npath, const uint16_t *name, size_t nname,
			    uint32_t flags, uint64_t size, uint32_t *status)
{
	ssize_t len;

	len = hvsim_fcopy_build_start(f->hpkt, sizeof(f->hpkt), f->txid++, path,
				      npath, name, nname, flags, size);
	if (len < 0)
		return (int)len;
	return host_request(f, (size_t)len, status);
}

/* UTF-8 to the host's UTF-16 units; the NUL must fit in the field. */
static int to_units(const char *s, uint16_t *units, size_t *n)
{
	uint8_t tmp[2 * (W_MAX_PATH + 4)];
	size_t len = strlen(s);
	ssize_t r;

	/* One unit more than the field holds tells a name too long. */
	r = hvsim_utf8_to_utf16le(s, len, tmp, W_MAX_PATH + 2);
	if (r < 0)
		return (int)r;
	if (r > W_MAX_PATH - 1)
		return -ENAMETOOLONG;
	for (ssize_t i = 0; i < r; i++)
		units[i] = hv_le16(tmp + 2 * i);
	*n = (size_t)r;
	return 0;
}

int hvsim_fcopy_start(struct hvsim_fcopy *f, const char *path, const char *name,
		      uint32_t flags, uint64_t size, uint32_t *status)
{
	uint16_t upath[W_MAX_PATH], uname[W_MAX_PATH];
	size_t npath, nname;
	int r;

	if (!path || !name)
		return -EINVAL;
	r = to_units(path, upath, &npath);
	if (r < 0)
		return r;
	r = to_units(name, uname, &nname);
	if (r < 0)
		return r;
	return hvsim_fcopy_start_utf16(f, upath, npath, uname, nname, flags,
				       size, status);
}

int hvsim_fcopy_write(struct hvsim_fcopy *f, uint64_t offset, const void *data,
		      uint32_t size, uint32_t *status)
{
	uint32_t n = size > DATA_FRAGMENT ? DATA_FRAGMENT : size;
	ssize_t len;

	len = hvsim_fcopy_build_write(f->hpkt, sizeof(f->hpkt), f->txid++,
				      offset, data, n, size);
	if (len < 0)
		return (int)len;
	return host_request(f, (size_t)len, status);
}

int hvsim_fcopy_op(struct hvsim_fcopy *f, uint32_t op, uint32_t *status)
{
	ssize_t len;

	len = hvsim_fcopy_build_hdr(f->hpkt, sizeof(f->hpkt), f->txid++, op);
	if (len < 0)
		return (int)len;
	return host_request(f, (size_t)len, status);
}

int hvsim_fcopy_complete(struct hvsim_fcopy *f, uint32_t *status)
{
	return hvsim_fcopy_op(f, COMPLETE_FCOPY, status);
}

int hvsim_fcopy_cancel(struct hvsim_fcopy *f, uint32_t *status)
{
	return hvsim_fcopy_op(f, CANCEL_FCOPY, status);
}

/* ---------------------------------------------------------------------- */
/* Copy-VMFile.                                                           */

int hvsim_fcopy_split_dest(const char *src, const char *dest, char *path,
			   size_t path_size, char *name, size_t name_size)
{
	const char *slash, *base;
	size_t plen;

	if (!src || !dest || !dest[0] || !path || !name)
		return -EINVAL;
	slash = strrchr(dest, '/');
	if (slash) {
		base = slash + 1;
		plen = slash == dest ? 1 : (size_t)(slash - dest);
	} else {
		base = dest;
		plen = 0;
	}
	if (!*base) {
		const char *s = strrchr(src, '/');

		base = s ? s + 1 : src;
	}
	if (!*base)
		return -EINVAL;
	if (plen >= path_size || strlen(base) >= name_size)
		return -E2BIG;
	memcpy(path, dest, plen);
	path[plen] = '\0';
	memcpy(name, base, strlen(base) + 1);
	return 0;
}

static int read_chunk(int fd, uint8_t *buf, size_t n, uint64_t offset)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r =
			pread(fd, buf + done, n - done, (off_t)(offset + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* the source shrank under us */
		done += (size_t)r;
	}
	return 0;
}

static int copy_body(struct hvsim_fcopy *f, int fd,
		     const struct hvsim_fcopy_copy_opts *o,
		     struct hvsim_fcopy_result *res)
{
	uint32_t chunk = o->chunk ? o->chunk : DATA_FRAGMENT;
	uint32_t ignored;
	int r, v;

	if (chunk > DATA_FRAGMENT)
		return -EINVAL;
	while (res->bytes < res->size) {
		uint64_t left = res->size - res->bytes;
		uint32_t n = left < chunk ? (uint32_t)left : chunk;

		r = read_chunk(fd, f->data, n, res->bytes);
		if (r < 0)
			return r;
		res->stage = HVSIM_FCOPY_STAGE_WRITE;
		r = hvsim_fcopy_write(f, res->bytes, f->data, n, &res->status);
		if (r < 0)
			return r;
		if (res->status != HV_S_OK) {
			/* The host gives up on the file. */
			(void)hvsim_fcopy_cancel(f, &ignored);
			return 1;
		}
		res->bytes += n;
		if (!o->progress)
			continue;
		v = o->progress(res->bytes, res->size, o->userdata);
		if (v == HVSIM_FCOPY_STOP_CANCEL) {
			res->stage = HVSIM_FCOPY_STAGE_CANCEL;
			r = hvsim_fcopy_cancel(f, &res->status);
			return r < 0 ? r : -ECANCELED;
		}
		if (v != HVSIM_FCOPY_GO_ON)
			return -ECANCELED;
	}
	return 0;
}

int hvsim_fcopy_copy_file(struct hvsim_fcopy *f, const char *src,
			  const char *dest, unsigned flags,
			  const struct hvsim_fcopy_copy_opts *opts,
			  struct hvsim_fcopy_result *res)
{
	static const struct hvsim_fcopy_copy_opts defaults;
	struct hvsim_fcopy_result scratch;
	char path[HVSIM_FCOPY_NAME_MAX], name[HVSIM_FCOPY_NAME_MAX];
	uint32_t cflags = 0;
	struct stat st;
	int fd, r;

	if (!res)
		res = &scratch;
	memset(res, 0, sizeof(*res));
	if (!f || !src || !dest)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	r = hvsim_fcopy_split_dest(src, dest, path, sizeof(path), name,
				   sizeof(name));
	if (r < 0)
		return r;
	if (flags & HVSIM_FCOPY_FORCE)
		cflags |= OVER_WRITE;
	if (flags & HVSIM_FCOPY_CREATE_FULL_PATH)
		cflags |= CREATE_PATH;

	fd = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (r < 0) {
		close(fd);
		return r;
	}
	res->size = (uint64_t)st.st_size;
	res->stage = HVSIM_FCOPY_STAGE_START;
	r = hvsim_fcopy_start(f, path, name, cflags,
			      opts->hide_size ? 0 : res->size, &res->status);
	/* Refused at START: "Failed to initiate copying", nothing more. */
	if (r == 0 && res->status != HV_S_OK)
		r = 1;
	if (r == 0)
		r = copy_body(f, fd, opts, res);
	if (r == 0) {
		res->stage = HVSIM_FCOPY_STAGE_COMPLETE;
		r = hvsim_fcopy_complete(f, &res->status);
	}
	close(fd);
	return r > 0 ? 0 : r;
}

static const char *status_words(uint32_t status)
{
	switch (status) {
	case HV_ERROR_ALREADY_EXISTS:
		return "The file exists.";
	case HV_ERROR_DISK_FULL:
		return "There is not enough space on the disk.";
	case HV_E_FAIL:
		return "Unspecified error";
	default:
		return "Error";
	}
}

const char *hvsim_fcopy_result_text(const struct hvsim_fcopy_result *res,
				    char *buf, size_t size)
{
	if (!buf || !size)
		return "";
	buf[0] = '\0';
	if (!res || res->status == HV_S_OK)
		return buf;
	hvsim_fmt(buf, size, "%s: %s (0x%08X)",
		  res->stage == HVSIM_FCOPY_STAGE_START ?
			  "Failed to initiate copying files to the guest" :
			  "Failed to copy the source file to the guest",
		  status_words(res->status), res->status);
	return buf;
}
