/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel side of the hv_utils char devices (protocol.md §2), reached
 * over a SOCK_SEQPACKET socket: one record per read()/write().
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hvsim-internal.h"

enum xact {
	XACT_NONE,
	XACT_PENDING, /* message handed over, no reply yet */
	XACT_DONE, /* reply stored, not yet collected */
	XACT_FAILED, /* daemon went away while pending */
};

struct hvsim_cdev {
	enum hvsim_cdev_kind kind;
	char *path;
	int listen_fd;
	int conn_fd;
	bool status_unread; /* open() has not returned in the daemon yet */
	bool reg_pending; /* registration reply queued, unread */
	bool registered;
	bool busy; /* a phantom opener holds the device */
	uint32_t reg_value;
	enum xact xact;
	int reply_timeout_ms;
	uint8_t *rx; /* one daemon write */
	uint8_t *reply;
	size_t reply_len;
	enum hvsim_cdev_error last_error;
	char last_error_str[256];
	struct hvsim_cdev_stats stats;
};

static const char *const error_names[HVSIM_CDEV_ERR_MAX] = {
	[HVSIM_CDEV_ERR_NONE] = "none",
	[HVSIM_CDEV_ERR_BAD_LENGTH] = "bad-length",
	[HVSIM_CDEV_ERR_BAD_REGISTRATION] = "bad-registration",
	[HVSIM_CDEV_ERR_REGISTRATION_BUSY] = "registration-busy",
	[HVSIM_CDEV_ERR_SPURIOUS] = "spurious-reply",
	[HVSIM_CDEV_ERR_EARLY_WRITE] = "early-write",
	[HVSIM_CDEV_ERR_IO] = "io",
};

const char *hvsim_cdev_error_name(enum hvsim_cdev_error err)
{
	if ((unsigned)err >= HVSIM_CDEV_ERR_MAX)
		return "?";
	return error_names[err];
}

static const char *const kind_names[HVSIM_CDEV_KIND_MAX] = {
	[HVSIM_CDEV_RAW] = "raw",
	[HVSIM_CDEV_KVP] = "kvp",
	[HVSIM_CDEV_VSS] = "vss",
	[HVSIM_CDEV_FCOPY] = "fcopy",
};

/* Record why the kernel refused a write; the caller closes. */
static int HV_PRINTF(3, 4)
	cdev_fail(struct hvsim_cdev *cd, enum hvsim_cdev_error err,
		  const char *fmt, ...)
{
	int n;
	va_list ap;

	cd->last_error = err;
	n = snprintf(cd->last_error_str, sizeof(cd->last_error_str),
		     "%s: ", kind_names[cd->kind]);
	if (n < 0 || (size_t)n >= sizeof(cd->last_error_str))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(cd->last_error_str + n, sizeof(cd->last_error_str) - n, fmt,
		  ap);
	va_end(ap);
	return -EINVAL;
}

/* §2 close(): back to DEVICE_INIT, pending message dropped. */
static void cdev_reset(struct hvsim_cdev *cd, bool by_kernel)
{
	if (cd->conn_fd < 0)
		return;
	close(cd->conn_fd);
	cd->conn_fd = -1;
	cd->status_unread = false;
	cd->reg_pending = false;
	cd->registered = false;
	cd->reg_value = 0;
	if (cd->xact == XACT_PENDING)
		cd->xact = XACT_FAILED;
	cd->stats.resets++;
	if (by_kernel)
		cd->stats.kernel_closes++;
}

/* The one outbound slot of hv_utils_transport. */
static int cdev_put(struct hvsim_cdev *cd, const void *msg, size_t len)
{
	ssize_t n;
	int q;

	if (cd->conn_fd < 0)
		return -EINVAL;
	q = hvsim_outq(cd->conn_fd);
	if (q < 0)
		return q;
	if (q > 0)
		return -EFAULT;
	n = send(cd->conn_fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
		/*
		 * The daemon closed (or died) since we last looked: the
		 * kernel would have reset the device on its release, and a
		 * request now finds no daemon.
		 */
		cdev_reset(cd, false);
		return -ENOTCONN;
	}
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	cd->stats.sent++;
	return 0;
}

static int cdev_queue_reg_reply(struct hvsim_cdev *cd, const void *msg,
				size_t len, uint32_t value)
{
	int r = cdev_put(cd, msg, len);

	if (r < 0)
		return cdev_fail(cd, HVSIM_CDEV_ERR_REGISTRATION_BUSY,
				 "registration %u: reply slot busy (%s)", value,
				 strerror(-r));
	cd->reg_pending = true;
	cd->reg_value = value;
	return 0;
}

static void cdev_registered(struct hvsim_cdev *cd, uint32_t value)
{
	cd->registered = true;
	cd->reg_value = value;
	cd->stats.registrations++;
}

/* Notice what the daemon has read: there is no event for it. */
static void cdev_check_outq(struct hvsim_cdev *cd)
{
	if (cd->conn_fd < 0 || !(cd->status_unread || cd->reg_pending))
		return;
	if (hvsim_outq(cd->conn_fd) != 0)
		return;
	if (cd->status_unread) {
		cd->status_unread = false;
		if (cd->kind == HVSIM_CDEV_RAW)
			cdev_registered(cd, 0);
	}
	if (cd->reg_pending) {
		cd->reg_pending = false;
		cdev_registered(cd, cd->reg_value);
	}
}

/* §3.1: the reply carries the op the daemon registered with. */
static int kvp_handshake(struct hvsim_cdev *cd, const uint8_t *buf)
{
	struct hv_kvp_msg reply;
	uint8_t op = buf[0];

	if (cd->reg_pending)
		return cdev_fail(cd, HVSIM_CDEV_ERR_REGISTRATION_BUSY,
				 "registration while the reply is unread");
	if (op != KVP_OP_REGISTER && op != KVP_OP_REGISTER1)
		return cdev_fail(cd, HVSIM_CDEV_ERR_BAD_REGISTRATION,
				 "registration with operation %u", op);
	memset(&reply, 0, sizeof(reply));
	reply.kvp_hdr.operation = op;
	memcpy(reply.body.kvp_register.version, HVSIM_KVP_DRV_VERSION,
	       sizeof(HVSIM_KVP_DRV_VERSION));
	return cdev_queue_reg_reply(cd, &reply, sizeof(reply), op);
}

/* §4.1: REGISTER1 gets a u32 129; legacy REGISTER gets nothing. */
static int vss_handshake(struct hvsim_cdev *cd, uint8_t op)
{
	uint32_t ver = VSS_OP_REGISTER1;

	if (cd->xact == XACT_PENDING)
		return cdev_fail(cd, HVSIM_CDEV_ERR_REGISTRATION_BUSY,
				 "registration %u during a transaction", op);
	if (cd->reg_pending)
		return cdev_fail(cd, HVSIM_CDEV_ERR_REGISTRATION_BUSY,
				 "registration while the reply is unread");
	if (op == VSS_OP_REGISTER) {
		cdev_registered(cd, op);
		return 0;
	}
	return cdev_queue_reg_reply(cd, &ver, sizeof(ver), op);
}

/* §5.2: version 1 gets a u32 1, version 0 nothing, others EINVAL. */
static int fcopy_handshake(struct hvsim_cdev *cd, int32_t version)
{
	uint32_t ours = FCOPY_CURRENT_VERSION;

	if (cd->reg_pending)
		return cdev_fail(cd, HVSIM_CDEV_ERR_REGISTRATION_BUSY,
				 "registration while the reply is unread");
	if (version == FCOPY_VERSION_0) {
		cdev_registered(cd, 0);
		return 0;
	}
	if (version != FCOPY_VERSION_1)
		return cdev_fail(cd, HVSIM_CDEV_ERR_BAD_REGISTRATION,
				 "registration with version %d", version);
	return cdev_queue_reg_reply(cd, &ours, sizeof(ours), 1);
}

static int cdev_take_reply(struct hvsim_cdev *cd, const uint8_t *buf,
			   size_t len)
{
	uint8_t *copy;

	if (cd->xact != XACT_PENDING)
		return cdev_fail(cd, HVSIM_CDEV_ERR_SPURIOUS,
				 "%zu-byte write with no request outstanding",
				 len);
	copy = malloc(len ? len : 1);
	if (!copy)
		return cdev_fail(cd, HVSIM_CDEV_ERR_IO, "out of memory");
	memcpy(copy, buf, len);
	free(cd->reply);
	cd->reply = copy;
	cd->reply_len = len;
	cd->xact = XACT_DONE;
	cd->stats.replies++;
	return 0;
}

/* One daemon write, as the service's on_msg sees it (§2, §3.1, §4.1, §5.2). */
static int cdev_on_write(struct hvsim_cdev *cd, const uint8_t *buf, size_t len)
{
	int32_t ival;

	/*
	 * The daemon may have read the status or a registration reply just
	 * before writing this, after our last look: look again.
	 */
	cdev_check_outq(cd);
	if (cd->status_unread)
		return cdev_fail(cd, HVSIM_CDEV_ERR_EARLY_WRITE,
				 "write before the open status was read");

	switch (cd->kind) {
	case HVSIM_CDEV_KVP:
		if (len != sizeof(struct hv_kvp_msg))
			return cdev_fail(cd, HVSIM_CDEV_ERR_BAD_LENGTH,
					 "%zu-byte write, expected %zu", len,
					 sizeof(struct hv_kvp_msg));
		if (!cd->registered)
			return kvp_handshake(cd, buf);
		return cdev_take_reply(cd, buf, len);
	case HVSIM_CDEV_VSS:
		if (len != sizeof(struct hv_vss_msg))
			return cdev_fail(cd, HVSIM_CDEV_ERR_BAD_LENGTH,
					 "%zu-byte write, expected %zu", len,
					 sizeof(struct hv_vss_msg));
		/*
		 * The kernel tests the operation byte even in replies,
		 * where the daemon has overwritten it with the error code.
		 */
		if (buf[0] == VSS_OP_REGISTER || buf[0] == VSS_OP_REGISTER1)
			return vss_handshake(cd, buf[0]);
		return cdev_take_reply(cd, buf, len);
	case HVSIM_CDEV_FCOPY:
		if (len != sizeof(int32_t))
			return cdev_fail(cd, HVSIM_CDEV_ERR_BAD_LENGTH,
					 "%zu-byte write, expected 4", len);
		if (!cd->registered) {
			memcpy(&ival, buf, sizeof(ival));
			return fcopy_handshake(cd, ival);
		}
		return cdev_take_reply(cd, buf, len);
	case HVSIM_CDEV_RAW:
	default:
		return cdev_take_reply(cd, buf, len);
	}
}

/* Read every record the daemon has written; a refused one closes. */
static void cdev_drain(struct hvsim_cdev *cd)
{
	while (cd->conn_fd >= 0) {
		ssize_t n = recv(cd->conn_fd, cd->rx, HVSIM_CDEV_MSG_MAX,
				 MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno != ECONNRESET)
				cdev_fail(cd, HVSIM_CDEV_ERR_IO, "recv: %s",
					  strerror(errno));
			cdev_reset(cd, false);
			return;
		}
		if (n == 0 && hvsim_peer_gone(cd->conn_fd)) {
			cdev_reset(cd, false);
			return;
		}
		if ((size_t)n > HVSIM_CDEV_MSG_MAX) {
			cdev_fail(cd, HVSIM_CDEV_ERR_BAD_LENGTH,
				  "%zd-byte write, more than %u", n,
				  HVSIM_CDEV_MSG_MAX);
			cdev_reset(cd, true);
			return;
		}
		if (cdev_on_write(cd, cd->rx, (size_t)n) < 0) {
			cdev_reset(cd, true);
			return;
		}
	}
}

static void cdev_accept(struct hvsim_cdev *cd)
{
	for (;;) {
		int fd = hvsim_accept(cd->listen_fd);

		if (fd < 0)
			return;
		if (cd->conn_fd >= 0 || cd->busy) {
			/* §2 exclusive open. */
			(void)hvsim_send_status(fd, EBUSY, -1);
			close(fd);
			cd->stats.rejected++;
			continue;
		}
		if (hvsim_send_status(fd, 0, -1) < 0) {
			close(fd);
			continue;
		}
		cd->conn_fd = fd;
		cd->status_unread = true;
		cd->stats.opens++;
	}
}

static int cdev_step(struct hvsim_cdev *cd, int timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = cd->listen_fd, .events = POLLIN },
		{ .fd = cd->conn_fd, .events = POLLIN },
	};
	nfds_t n = cd->conn_fd >= 0 ? 2 : 1;

	cdev_check_outq(cd);
	if (cd->conn_fd >= 0 && (cd->status_unread || cd->reg_pending) &&
	    (timeout_ms < 0 || timeout_ms > HVSIM_OUTQ_POLL_MS))
		timeout_ms = HVSIM_OUTQ_POLL_MS;
	if (poll(p, n, timeout_ms) < 0)
		return errno == EINTR ? 0 : -errno;
	/* Closed connections first, so a reopen is not taken for a second. */
	if (n == 2 && p[1].revents)
		cdev_drain(cd);
	if (p[0].revents & POLLIN)
		cdev_accept(cd);
	cdev_check_outq(cd);
	return 0;
}

typedef bool (*cdev_cond)(const struct hvsim_cdev *cd);

static int cdev_wait(struct hvsim_cdev *cd, int timeout_ms, cdev_cond done)
{
	int64_t deadline = hvsim_deadline(timeout_ms);

	for (;;) {
		int left, r;

		cdev_check_outq(cd);
		if (done && done(cd))
			return 0;
		left = hvsim_remaining(deadline);
		if (left == 0 && timeout_ms != 0)
			return done ? -ETIMEDOUT : 0;
		r = cdev_step(cd, left);
		if (r < 0)
			return r;
		if (timeout_ms == 0)
			return done && !done(cd) ? -ETIMEDOUT : 0;
	}
}

int hvsim_cdev_new(const char *socket_path, enum hvsim_cdev_kind kind,
		   struct hvsim_cdev **ret)
{
	struct hvsim_cdev *cd;
	int r;

	if (!socket_path || (unsigned)kind >= HVSIM_CDEV_KIND_MAX || !ret)
		return -EINVAL;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	cd->kind = kind;
	cd->listen_fd = -1;
	cd->conn_fd = -1;
	cd->reply_timeout_ms = HVSIM_UTIL_TIMEOUT_MS;
	cd->path = strdup(socket_path);
	cd->rx = malloc(HVSIM_CDEV_MSG_MAX);
	if (!cd->path || !cd->rx) {
		hvsim_cdev_free(cd);
		return -ENOMEM;
	}
	r = hvsim_listen(socket_path, &cd->listen_fd);
	if (r < 0) {
		free(cd->path);
		cd->path = NULL; /* not ours to unlink */
		hvsim_cdev_free(cd);
		return r;
	}
	*ret = cd;
	return 0;
}

struct hvsim_cdev *hvsim_cdev_free(struct hvsim_cdev *cd)
{
	if (!cd)
		return NULL;
	if (cd->conn_fd >= 0)
		close(cd->conn_fd);
	if (cd->listen_fd >= 0) {
		close(cd->listen_fd);
		if (cd->path)
			unlink(cd->path);
	}
	free(cd->path);
	free(cd->rx);
	free(cd->reply);
	free(cd);
	return NULL;
}

int hvsim_cdev_run(struct hvsim_cdev *cd, int timeout_ms)
{
	if (timeout_ms < 0)
		return -EINVAL;
	return cdev_wait(cd, timeout_ms, NULL);
}

static bool cond_ready(const struct hvsim_cdev *cd)
{
	return cd->conn_fd >= 0 && cd->registered;
}

static bool cond_open(const struct hvsim_cdev *cd)
{
	return cd->conn_fd >= 0 && !cd->status_unread;
}

static bool cond_closed(const struct hvsim_cdev *cd)
{
	return cd->conn_fd < 0;
}

static bool cond_replied(const struct hvsim_cdev *cd)
{
	return cd->xact != XACT_PENDING;
}

int hvsim_cdev_wait_ready(struct hvsim_cdev *cd, int timeout_ms)
{
	return cdev_wait(cd, timeout_ms, cond_ready);
}

int hvsim_cdev_wait_open(struct hvsim_cdev *cd, int timeout_ms)
{
	return cdev_wait(cd, timeout_ms, cond_open);
}

int hvsim_cdev_wait_closed(struct hvsim_cdev *cd, int timeout_ms)
{
	return cdev_wait(cd, timeout_ms, cond_closed);
}

void hvsim_cdev_set_reply_timeout(struct hvsim_cdev *cd, int timeout_ms)
{
	cd->reply_timeout_ms = timeout_ms;
}

int hvsim_cdev_queue(struct hvsim_cdev *cd, const void *msg, size_t len)
{
	cdev_check_outq(cd);
	return cdev_put(cd, msg, len);
}

int hvsim_cdev_send(struct hvsim_cdev *cd, const void *msg, size_t len)
{
	int r;

	/* Pick up a close or a late write that happened meanwhile. */
	r = cdev_step(cd, 0);
	if (r < 0)
		return r;
	if (!cond_ready(cd))
		return -ENOTCONN;
	if (cd->xact == XACT_PENDING || cd->xact == XACT_DONE)
		return -EBUSY;
	cd->xact = XACT_NONE;
	r = cdev_put(cd, msg, len);
	if (r < 0)
		return r;
	cd->xact = XACT_PENDING;
	return 0;
}

ssize_t hvsim_cdev_wait_reply(struct hvsim_cdev *cd, void *reply, size_t size,
			      int timeout_ms)
{
	ssize_t len;
	int r;

	if (cd->xact == XACT_NONE)
		return -EINVAL;
	r = cdev_wait(cd, timeout_ms, cond_replied);
	if (r == -ETIMEDOUT) {
		/* The kernel's timeout work: HV_E_FAIL to the host, READY. */
		cd->xact = XACT_NONE;
		cd->stats.timeouts++;
		return -ETIMEDOUT;
	}
	if (r < 0)
		return r;
	if (cd->xact == XACT_FAILED) {
		cd->xact = XACT_NONE;
		return -ECONNRESET;
	}
	if (cd->reply_len > size)
		return -ENOBUFS;
	memcpy(reply, cd->reply, cd->reply_len);
	len = (ssize_t)cd->reply_len;
	free(cd->reply);
	cd->reply = NULL;
	cd->reply_len = 0;
	cd->xact = XACT_NONE;
	return len;
}

ssize_t hvsim_cdev_transact(struct hvsim_cdev *cd, const void *msg, size_t len,
			    void *reply, size_t reply_size)
{
	int r = hvsim_cdev_send(cd, msg, len);

	if (r < 0)
		return r;
	return hvsim_cdev_wait_reply(cd, reply, reply_size,
				     cd->reply_timeout_ms);
}

int hvsim_cdev_unread(const struct hvsim_cdev *cd)
{
	return hvsim_outq(cd->conn_fd);
}

void hvsim_cdev_set_busy(struct hvsim_cdev *cd, bool busy)
{
	cd->busy = busy;
}

int hvsim_cdev_cancel(struct hvsim_cdev *cd)
{
	/* A reply that came in meanwhile has already gone to the host. */
	cdev_step(cd, 0);
	if (cd->xact != XACT_PENDING)
		return -EINVAL;
	cd->xact = XACT_NONE;
	return 0;
}

enum hvsim_cdev_state hvsim_cdev_state(const struct hvsim_cdev *cd)
{
	if (!cond_ready(cd))
		return HVSIM_CDEV_DEVICE_INIT;
	switch (cd->xact) {
	case XACT_PENDING:
		return HVSIM_CDEV_USERSPACE_REQ;
	case XACT_DONE:
		return HVSIM_CDEV_USERSPACE_RECV;
	default:
		return HVSIM_CDEV_READY;
	}
}

bool hvsim_cdev_is_open(const struct hvsim_cdev *cd)
{
	return cd->conn_fd >= 0;
}

uint32_t hvsim_cdev_registered_as(const struct hvsim_cdev *cd)
{
	return cd->registered ? cd->reg_value : 0;
}

enum hvsim_cdev_error hvsim_cdev_last_error(const struct hvsim_cdev *cd)
{
	return cd->last_error;
}

const char *hvsim_cdev_last_error_str(const struct hvsim_cdev *cd)
{
	return cd->last_error == HVSIM_CDEV_ERR_NONE ? "" : cd->last_error_str;
}

const struct hvsim_cdev_stats *hvsim_cdev_stats(const struct hvsim_cdev *cd)
{
	return &cd->stats;
}
