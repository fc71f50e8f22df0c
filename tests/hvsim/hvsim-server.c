/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "hvsim serve": the simulated devices under <root>/dev/vmbus plus a
 * control socket through which the hvsim command acts as the host.
 *
 * Control protocol (also in hvsim.h): SOCK_SEQPACKET at <root>/hvsim.sock;
 * per connection one request record and one reply record, then the server
 * closes. A record is a list of NUL-terminated fields:
 *
 *   request  status
 *            kvp-set POOL TYPE KEY VALUE     (TYPE sz, u32 or u64)
 *            kvp-modify POOL TYPE KEY VALUE  (GET first, SET if HV_S_OK)
 *            kvp-get POOL KEY
 *            kvp-delete POOL KEY
 *            kvp-enum POOL INDEX
 *            kvp-ip-get MAC
 *            kvp-ip-set ADAPTER FAMILY DHCP IP SUBNET GATEWAY DNS
 *            fcopy-copy TRANSPORT FLAGS SRC DEST
 *            vss-backup HOLD_MS
 *            vss-hot-backup
 *            shutdown-stop KIND FORCE MESSAGE
 *   reply    RESULT STATUS [FIELD...]
 *
 * RESULT is 0 or a negative errno in decimal, STATUS the host status as
 * 0x%08x. Anything else (unknown request, wrong field count, a number
 * with a sign, leading zero or out of range) gets RESULT -22 and a
 * message field.
 *
 * The kvp-ip-* fields are those of hvsim-kvp-ip.h; fcopy-copy, vss-* and
 * shutdown-stop are described in hvsim.h.
 *
 * One thread and one loop: poll() over the stop fd, the control listener
 * and the clients, with a short tick in which every device runs one
 * non-blocking pass (hvsim_cdev exposes no fds to poll on). A KVP request
 * or a file copy runs the device's own loop until the daemon answers or
 * times out, so requests are served one at a time.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hvsim-fcopy.h"
#include "hvsim-internal.h"
#include "hvsim-kvp-ip.h"
#include "hvsim-shutdown.h"
#include "hvsim-vss.h"

#define SERVE_TICK_MS 5
#define CLIENTS_MAX 16
/* A client that connects and sends nothing is dropped after this. */
#define CLIENT_IDLE_MS 10000
/* The only UIO channel the server simulates: <root>/dev/uio0. */
#define FCOPY_UIO_INDEX 0
/* The shutdown channel's UIO device: <root>/dev/uio1. */
#define SHUTDOWN_UIO_INDEX 1
/* What a planned Stop-VM tells the guest it has, in seconds. */
#define STOP_VM_TIMEOUT_S 30u

enum { DEV_KVP, DEV_VSS, DEV_FCOPY, DEV_MAX };

static const struct dev_def {
	const char *name;
	enum hvsim_cdev_kind kind;
} dev_defs[DEV_MAX] = {
	[DEV_KVP] = { "kvp", HVSIM_CDEV_KVP },
	[DEV_VSS] = { "vss", HVSIM_CDEV_VSS },
	[DEV_FCOPY] = { "fcopy", HVSIM_CDEV_FCOPY },
};

struct client {
	int fd;
	int64_t deadline;
};

struct hvsim_server {
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int reply_timeout_ms, nego_wait_ms;
	struct hvsim_cdev *cd[DEV_MAX];
	char dev_path[DEV_MAX][PATH_MAX];
	struct hvsim_kvp *kvp;
	struct hvsim_uio *fcopy_uio;
	/* Copy-VMFile hosts: over fcopy_uio, and over cd[DEV_FCOPY]. */
	struct hvsim_fcopy *fc_uio, *fc_cdev;
	struct hvsim_vss *vss;
	struct hvsim_uio *sd_uio;
	struct hvsim_shutdown *sd;
	struct hvsim_kvp_ip ip;
	struct client clients[CLIENTS_MAX];
	uint8_t req[HVSIM_CTL_MSG_MAX + 1];
	uint8_t rep[HVSIM_CTL_MSG_MAX];
	char text[8192];
	char value[HVSIM_KVP_VALUE_MAX];
	char raw[HV_KVP_EXCHANGE_MAX_VALUE_SIZE + 1];
	char key[HVSIM_KVP_KEY_MAX];
};

ssize_t hvsim_ctl_pack(void *buf, size_t size, const char *const *fields,
		       size_t n)
{
	uint8_t *b = buf;
	size_t off = 0, i;

	if (!buf || !n || n > HVSIM_CTL_FIELDS_MAX || !fields)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		size_t len;

		if (!fields[i])
			return -EINVAL;
		len = strlen(fields[i]);
		if (len + 1 > size - off)
			return -ENOBUFS;
		memcpy(b + off, fields[i], len + 1);
		off += len + 1;
	}
	if (off > HVSIM_CTL_MSG_MAX)
		return -ENOBUFS;
	return (ssize_t)off;
}

int hvsim_ctl_split(const void *buf, size_t len, const char **fields,
		    size_t max)
{
	const char *b = buf;
	size_t off = 0, n = 0;

	if (!buf || !len || len > HVSIM_CTL_MSG_MAX || b[len - 1] != '\0')
		return -EBADMSG;
	while (off < len) {
		if (n >= max || n >= HVSIM_CTL_FIELDS_MAX)
			return -EBADMSG;
		fields[n++] = b + off;
		off += strlen(b + off) + 1;
	}
	return (int)n;
}

ssize_t hvsim_ctl_call(const char *socket_path, const void *req, size_t len,
		       void *reply, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (!socket_path || !req || !len || !reply)
		return -EINVAL;
	if (hv_strscpy(sa.sun_path, socket_path, sizeof(sa.sun_path)) < 0)
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	n = send(fd, req, len, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	do
		n = recv(fd, reply, size, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* The server closes without a reply only when it is going away. */
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n > size)
		return -EMSGSIZE;
	return n;
}

/* ---------------------------------------------------------------------- */

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

struct hvsim_server *hvsim_server_free(struct hvsim_server *s)
{
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < CLIENTS_MAX; i++)
		client_close(&s->clients[i]);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->sock_path);
	}
	hvsim_kvp_free(s->kvp);
	hvsim_fcopy_free(s->fc_uio);
	hvsim_fcopy_free(s->fc_cdev);
	hvsim_uio_free(s->fcopy_uio);
	hvsim_vss_free(s->vss);
	hvsim_shutdown_free(s->sd);
	hvsim_uio_free(s->sd_uio);
	for (i = 0; i < DEV_MAX; i++)
		hvsim_cdev_free(s->cd[i]);
	free(s);
	return NULL;
}

/* A live server answers on its socket: do not steal it. */
static bool socket_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (hv_strscpy(sa.sun_path, path, sizeof(sa.sun_path)) < 0)
		return false;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	return connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

int hvsim_server_new(const struct hvsim_server_config *cfg,
		     struct hvsim_server **ret)
{
	const bool want[DEV_MAX] = { cfg ? cfg->kvp : false,
				     cfg ? cfg->vss : false,
				     cfg ? cfg->fcopy : false };
	struct hvsim_server *s;
	char dir[PATH_MAX];
	size_t i;
	int r;

	if (!cfg || !cfg->root || !cfg->root[0] || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->listen_fd = -1;
	for (i = 0; i < CLIENTS_MAX; i++)
		s->clients[i].fd = -1;
	s->reply_timeout_ms = cfg->reply_timeout_ms < 0 ?
				      HVSIM_UTIL_TIMEOUT_MS :
				      cfg->reply_timeout_ms;
	s->nego_wait_ms = cfg->nego_wait_ms < 0 ? HVSIM_KVP_NEGO_WAIT_MS :
						  cfg->nego_wait_ms;

	r = hvsim_fmt(s->sock_path, sizeof(s->sock_path), "%s/%s", cfg->root,
		      HVSIM_CTL_SOCKET);
	if (r < 0) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	if (socket_in_use(s->sock_path)) {
		r = -EADDRINUSE;
		goto fail;
	}
	r = hvsim_fmt(dir, sizeof(dir), "%s/dev/vmbus", cfg->root);
	if (r < 0)
		goto fail;
	r = hvsim_mkdir_p(dir, 0755);
	if (r < 0)
		goto fail;
	for (i = 0; i < DEV_MAX; i++) {
		if (!want[i])
			continue;
		r = hvsim_fmt(s->dev_path[i], sizeof(s->dev_path[i]),
			      "%s/hv_%s", dir, dev_defs[i].name);
		if (r < 0)
			goto fail;
		r = hvsim_cdev_new(s->dev_path[i], dev_defs[i].kind, &s->cd[i]);
		if (r < 0)
			goto fail;
		hvsim_cdev_set_reply_timeout(s->cd[i], s->reply_timeout_ms);
	}
	if (s->cd[DEV_KVP]) {
		r = hvsim_kvp_new(s->cd[DEV_KVP], &s->kvp);
		if (r < 0)
			goto fail;
		hvsim_kvp_set_nego_wait(s->kvp, s->nego_wait_ms);
	}
	if (s->cd[DEV_VSS]) {
		r = hvsim_vss_new(s->cd[DEV_VSS], &s->vss);
		if (r < 0)
			goto fail;
	}
	if (s->cd[DEV_FCOPY]) {
		r = hvsim_fcopy_new_cdev(s->cd[DEV_FCOPY], &s->fc_cdev);
		if (r < 0)
			goto fail;
		hvsim_fcopy_set_timeout(s->fc_cdev, s->reply_timeout_ms);
	}
	if (cfg->fcopy_uio) {
		r = hvsim_uio_new(cfg->root, HV_GUID_FCOPY,
				  HV_GUID_FCOPY_INSTANCE, FCOPY_UIO_INDEX,
				  HVSIM_FCOPY_RING_SIZE, &s->fcopy_uio);
		if (r < 0)
			goto fail;
		r = hvsim_fcopy_new_uio(s->fcopy_uio, &s->fc_uio);
		if (r < 0)
			goto fail;
		/* The host's own patience, the same as the kernel's here. */
		hvsim_fcopy_set_timeout(s->fc_uio, s->reply_timeout_ms);
	}
	r = hvsim_listen(s->sock_path, &s->listen_fd);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	hvsim_server_free(s);
	return r;
}

const char *hvsim_server_socket_path(const struct hvsim_server *s)
{
	return s->sock_path;
}

int hvsim_server_add_shutdown(struct hvsim_server *s, const char *root)
{
	int r;

	if (!s || !root || !root[0])
		return -EINVAL;
	if (s->sd_uio)
		return -EEXIST;
	r = hvsim_uio_new(root, HV_GUID_SHUTDOWN, HVSIM_SHUTDOWN_INSTANCE,
			  SHUTDOWN_UIO_INDEX, HVSIM_SHUTDOWN_RING_SIZE,
			  &s->sd_uio);
	if (r < 0)
		return r;
	r = hvsim_shutdown_new(s->sd_uio, &s->sd);
	if (r < 0) {
		s->sd_uio = hvsim_uio_free(s->sd_uio);
		return r;
	}
	/* The host's patience, the same as the kernel's here. */
	hvsim_shutdown_set_timeout(s->sd, s->reply_timeout_ms);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Requests.                                                               */

/* Decimal, no sign, no leading zero (but "0"), at most max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (!s[0] || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int reply(struct hvsim_server *s, int fd, int result, uint32_t status,
		 const char *const *extra, size_t nextra)
{
	const char *f[HVSIM_CTL_FIELDS_MAX];
	char res[16], st[16];
	ssize_t len;
	size_t i;

	(void)hvsim_fmt(res, sizeof(res), "%d", result);
	(void)hvsim_fmt(st, sizeof(st), "0x%08" PRIx32, status);
	f[0] = res;
	f[1] = st;
	for (i = 0; i < nextra && i + 2 < HVSIM_CTL_FIELDS_MAX; i++)
		f[i + 2] = extra[i];
	len = hvsim_ctl_pack(s->rep, sizeof(s->rep), f, i + 2);
	if (len < 0)
		return (int)len;
	/* A client that cannot take its reply loses it. */
	(void)send(fd, s->rep, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return 0;
}

static int reply_error(struct hvsim_server *s, int fd, int result,
		       const char *msg)
{
	return reply(s, fd, result, 0, &msg, 1);
}

static const char *state_name(enum hvsim_cdev_state st)
{
	switch (st) {
	case HVSIM_CDEV_DEVICE_INIT:
		return "DEVICE_INIT";
	case HVSIM_CDEV_READY:
		return "READY";
	case HVSIM_CDEV_USERSPACE_REQ:
		return "USERSPACE_REQ";
	case HVSIM_CDEV_USERSPACE_RECV:
		return "USERSPACE_RECV";
	default:
		return "?";
	}
}

/* Append to s->text; a line that does not fit is cut. */
static void HV_PRINTF(3, 4)
	text_add(struct hvsim_server *s, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= sizeof(s->text) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->text + *off, sizeof(s->text) - *off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*off = HV_MIN(*off + (size_t)n, sizeof(s->text) - 1);
}

static void fcopy_host_status(struct hvsim_server *s, size_t *off,
			      const char *name, const struct hvsim_fcopy *f)
{
	const struct hvsim_fcopy_stats *fs = hvsim_fcopy_stats(f);
	uint32_t fw, svc;

	if (hvsim_fcopy_negotiated(f, &fw, &svc))
		text_add(s, off, "%s negotiated=%u.%u/%u.%u", name,
			 HV_IC_VERSION_MAJOR(fw), HV_IC_VERSION_MINOR(fw),
			 HV_IC_VERSION_MAJOR(svc), HV_IC_VERSION_MINOR(svc));
	else
		text_add(s, off, "%s negotiated=no", name);
	text_add(s, off,
		 " requests=%u negotiations=%u daemon-replies=%u"
		 " kernel-failures=%u dropped=%u trans-id-mismatches=%u\n",
		 fs->requests, fs->negotiations, fs->daemon_replies,
		 fs->kernel_failures, fs->dropped, fs->trans_id_mismatches);
}

static int do_status(struct hvsim_server *s, int fd)
{
	const char *text = s->text;
	size_t off = 0, i;
	uint32_t fw, svc;

	s->text[0] = '\0';
	for (i = 0; i < DEV_MAX; i++) {
		const struct hvsim_cdev *cd = s->cd[i];
		const struct hvsim_cdev_stats *st;

		if (!cd)
			continue;
		st = hvsim_cdev_stats(cd);
		text_add(s, &off,
			 "%s path=%s open=%s state=%s registered-as=%" PRIu32
			 " opens=%u rejected=%u resets=%u kernel-closes=%u"
			 " registrations=%u sent=%u replies=%u timeouts=%u"
			 " reply-timeout-ms=%d last-error=%s",
			 dev_defs[i].name, s->dev_path[i],
			 hvsim_cdev_is_open(cd) ? "yes" : "no",
			 state_name(hvsim_cdev_state(cd)),
			 hvsim_cdev_registered_as(cd), st->opens, st->rejected,
			 st->resets, st->kernel_closes, st->registrations,
			 st->sent, st->replies, st->timeouts,
			 s->reply_timeout_ms,
			 hvsim_cdev_error_name(hvsim_cdev_last_error(cd)));
		if (hvsim_cdev_last_error(cd) != HVSIM_CDEV_ERR_NONE)
			text_add(s, &off, " (%s)",
				 hvsim_cdev_last_error_str(cd));
		text_add(s, &off, "\n");
		if (i == DEV_KVP && s->kvp) {
			const struct hvsim_kvp_stats *ks =
				hvsim_kvp_stats(s->kvp);

			if (hvsim_kvp_negotiated(s->kvp, &fw, &svc))
				text_add(s, &off,
					 "kvp-host negotiated=%u.%u/%u.%u",
					 HV_IC_VERSION_MAJOR(fw),
					 HV_IC_VERSION_MINOR(fw),
					 HV_IC_VERSION_MAJOR(svc),
					 HV_IC_VERSION_MINOR(svc));
			else
				text_add(s, &off, "kvp-host negotiated=no");
			text_add(s, &off,
				 " requests=%u waited=%u daemon-replies=%u"
				 " kernel-failures=%u dropped=%u"
				 " nego-wait-ms=%d\n",
				 ks->requests, ks->waited, ks->daemon_replies,
				 ks->kernel_failures, ks->dropped,
				 s->nego_wait_ms);
		}
		if (i == DEV_FCOPY && s->fc_cdev)
			fcopy_host_status(s, &off, "fcopy-host", s->fc_cdev);
	}
	if (s->fcopy_uio) {
		const struct hvsim_uio *u = s->fcopy_uio;
		const struct hvsim_uio_stats *us = hvsim_uio_stats(u);

		text_add(s, &off,
			 "fcopy-uio path=%s instance=%s open=%s opens=%u"
			 " rejected=%u closes=%u interrupts=%u"
			 " guest-signals=%u pkts-to-guest=%u"
			 " pkts-from-guest=%u ring-size=0x%" PRIx32
			 " last-error=%s",
			 hvsim_uio_dev_path(u), HV_GUID_FCOPY_INSTANCE,
			 hvsim_uio_is_open(u) ? "yes" : "no", us->opens,
			 us->rejected, us->closes, us->interrupts,
			 us->guest_signals, us->pkts_to_guest,
			 us->pkts_from_guest, hvsim_uio_ring_size(u),
			 hvsim_uio_error_name(hvsim_uio_last_error(u)));
		if (hvsim_uio_last_error(u) != HVSIM_UIO_ERR_NONE)
			text_add(s, &off, " (%s)", hvsim_uio_last_error_str(u));
		text_add(s, &off, "\n");
		fcopy_host_status(s, &off, "fcopy-uio-host", s->fc_uio);
	}
	if (s->vss) {
		const struct hvsim_vss_stats *vs = hvsim_vss_stats(s->vss);

		text_add(s, &off,
			 "vss-host requests=%u negotiations=%u forwarded=%u"
			 " daemon-replies=%u kernel-answers=%u"
			 " kernel-failures=%u dropped=%u\n",
			 vs->requests, vs->negotiations, vs->forwarded,
			 vs->daemon_replies, vs->kernel_answers,
			 vs->kernel_failures, vs->dropped);
	}
	if (s->sd_uio) {
		const struct hvsim_shutdown_stats *ss =
			hvsim_shutdown_stats(s->sd);

		text_add(s, &off,
			 "shutdown-uio path=%s instance=%s open=%s"
			 " requests=%u replies=%u negotiations=%u"
			 " trans-id-mismatches=%u\n",
			 hvsim_uio_dev_path(s->sd_uio), HVSIM_SHUTDOWN_INSTANCE,
			 hvsim_uio_is_open(s->sd_uio) ? "yes" : "no",
			 ss->requests, ss->replies, ss->negotiations,
			 ss->trans_id_mismatches);
	}
	return reply(s, fd, 0, 0, &text, 1);
}

/* The errors after which the host did get a status (HV_E_FAIL). */
static bool host_answered(int r)
{
	return r >= 0 || r == -ETIMEDOUT || r == -ECONNRESET || r == -EFAULT;
}

static int do_kvp_set(struct hvsim_server *s, int fd, uint8_t pool,
		      const char *type, const char *key, const char *value,
		      bool modify)
{
	static const char *const missing = "missing";
	uint32_t st = 0;
	uint64_t v = 0;
	int r;

	if (strcmp(type, "sz") != 0) {
		uint64_t max = strcmp(type, "u32") == 0 ? UINT32_MAX :
			       strcmp(type, "u64") == 0 ? UINT64_MAX :
							  0;

		if (max == 0)
			return reply_error(s, fd, -EINVAL,
					   "type must be sz, u32 or u64");
		if (parse_u64(value, max, &v) < 0)
			return reply_error(s, fd, -EINVAL,
					   "value is not a number in range");
	}
	if (modify) {
		/* ModifyKvpItems fails for a key the guest does not have. */
		r = hvsim_kvp_get(s->kvp, pool, key, s->value, sizeof(s->value),
				  &st);
		if (!host_answered(r))
			return reply(s, fd, r, 0, NULL, 0);
		if (r < 0 || st != HV_S_OK)
			return reply(s, fd, r, st, &missing, r < 0 ? 0 : 1);
	}
	if (strcmp(type, "sz") == 0)
		r = hvsim_kvp_set(s->kvp, pool, key, value, &st);
	else if (strcmp(type, "u32") == 0)
		r = hvsim_kvp_set_u32(s->kvp, pool, key, (uint32_t)v, &st);
	else
		r = hvsim_kvp_set_u64(s->kvp, pool, key, v, &st);
	return reply(s, fd, r, host_answered(r) ? st : 0, NULL, 0);
}

static int do_kvp_get(struct hvsim_server *s, int fd, uint8_t pool,
		      const char *key)
{
	const char *f[2] = { s->value, s->raw };
	uint32_t st = 0;
	int r;

	r = hvsim_kvp_get(s->kvp, pool, key, s->value, sizeof(s->value), &st);
	if (!host_answered(r))
		return reply(s, fd, r, 0, NULL, 0);
	if (hvsim_kvp_daemon_get_value(s->kvp, s->raw, sizeof(s->raw)) < 0)
		s->raw[0] = '\0';
	return reply(s, fd, r, st, f, 2);
}

static int do_kvp_enum(struct hvsim_server *s, int fd, uint8_t pool,
		       uint32_t index)
{
	const char *f[2] = { s->key, s->value };
	uint32_t st = 0;
	int r;

	r = hvsim_kvp_enumerate(s->kvp, pool, index, s->key, sizeof(s->key),
				s->value, sizeof(s->value), &st);
	if (!host_answered(r))
		return reply(s, fd, r, 0, NULL, 0);
	return reply(s, fd, r, st, f, 2);
}

static int do_kvp_delete(struct hvsim_server *s, int fd, uint8_t pool,
			 const char *key)
{
	uint32_t st = 0;
	int r;

	r = hvsim_kvp_delete(s->kvp, pool, key, &st);
	return reply(s, fd, r, host_answered(r) ? st : 0, NULL, 0);
}

static int do_kvp_ip_get(struct hvsim_server *s, int fd, const char *mac)
{
	const char *f[HVSIM_KVP_IP_FIELDS];
	char m[HVSIM_KVP_IP_MAC_SIZE];
	char num[2][4];
	uint32_t st = 0;
	int r;

	if (hvsim_kvp_ip_mac(mac, m) < 0)
		return reply_error(s, fd, -EINVAL, "not a MAC address");
	r = hvsim_kvp_ip_get(s->kvp, m, &s->ip, &st);
	if (!host_answered(r))
		return reply(s, fd, r, 0, NULL, 0);
	hvsim_kvp_ip_to_fields(&s->ip, num, f);
	return reply(s, fd, r, st, f, ARRAY_SIZE(f));
}

/* f: ADAPTER FAMILY DHCP IP SUBNET GATEWAY DNS. */
static int do_kvp_ip_set(struct hvsim_server *s, int fd, const char *const *f)
{
	size_t len = strlen(f[0]);
	uint32_t st = 0;
	int r;

	r = hvsim_kvp_ip_from_fields(f + 1, HVSIM_KVP_IP_FIELDS, &s->ip);
	if (r == -E2BIG || len >= sizeof(s->ip.adapter_id))
		return reply_error(s, fd, -EINVAL,
				   "a field is longer than the host's");
	if (r < 0)
		return reply_error(s, fd, -EINVAL,
				   "FAMILY and DHCP must be 0..255");
	/* As given: spelling the adapter is the host tool's business. */
	memcpy(s->ip.adapter_id, f[0], len + 1);
	r = hvsim_kvp_set_ip_info(s->kvp, &s->ip, &st);
	if (r == -E2BIG)
		return reply_error(s, fd, -EINVAL,
				   "a list is longer than its host field");
	return reply(s, fd, r, host_answered(r) ? st : 0, NULL, 0);
}

static const char *const stage_names[] = {
	[HVSIM_FCOPY_STAGE_NONE] = "none",
	[HVSIM_FCOPY_STAGE_START] = "start",
	[HVSIM_FCOPY_STAGE_WRITE] = "write",
	[HVSIM_FCOPY_STAGE_COMPLETE] = "complete",
	[HVSIM_FCOPY_STAGE_CANCEL] = "cancel",
};

static bool fcopy_guest_there(const struct hvsim_server *s,
			      const struct hvsim_fcopy *f)
{
	if (f == s->fc_uio)
		return hvsim_uio_is_open(s->fcopy_uio);
	return hvsim_cdev_state(s->cd[DEV_FCOPY]) != HVSIM_CDEV_DEVICE_INIT &&
	       hvsim_cdev_is_open(s->cd[DEV_FCOPY]);
}

/* One non-blocking pass over every device. */
static int run_devices(struct hvsim_server *s)
{
	size_t i;
	int r;

	for (i = 0; i < DEV_MAX; i++) {
		if (!s->cd[i])
			continue;
		r = hvsim_cdev_run(s->cd[i], 0);
		if (r < 0)
			return r;
	}
	if (s->sd_uio) {
		r = hvsim_uio_run(s->sd_uio, 0);
		if (r < 0)
			return r;
	}
	return s->fcopy_uio ? hvsim_uio_run(s->fcopy_uio, 0) : 0;
}

/*
 * The transport for a copy: the one named, or (want NULL) one a guest
 * is on, UIO first. Like a KVP request, a copy waits up to the
 * registration wait for a guest to turn up, serving every device
 * meanwhile; after that the copy fails as the host's would.
 */
static struct hvsim_fcopy *fcopy_pick(struct hvsim_server *s,
				      struct hvsim_fcopy *want)
{
	struct hvsim_fcopy *const cands[] = { s->fc_uio, s->fc_cdev };
	int64_t deadline = hvsim_deadline(s->nego_wait_ms);

	for (;;) {
		int left, r;

		for (size_t i = 0; i < ARRAY_SIZE(cands); i++)
			if (cands[i] && (!want || want == cands[i]) &&
			    fcopy_guest_there(s, cands[i]))
				return cands[i];
		left = hvsim_remaining(deadline);
		if (left == 0)
			break;
		if (left < 0 || left > SERVE_TICK_MS)
			left = SERVE_TICK_MS;
		/* Block on one device for the tick, then pass over all. */
		if (s->fcopy_uio)
			r = hvsim_uio_run(s->fcopy_uio, left);
		else
			r = hvsim_cdev_run(s->cd[DEV_FCOPY], left);
		if (r >= 0)
			r = run_devices(s);
		if (r < 0)
			break;
	}
	if (want)
		return want;
	return s->fc_uio ? s->fc_uio : s->fc_cdev;
}

static const char *fcopy_error_text(int r)
{
	switch (r) {
	case -ENAMETOOLONG:
		return "a name is longer than the host's 259 UTF-16 units";
	case -E2BIG:
		return "DEST is too long";
	case -EINVAL:
		return "DEST is empty, or a name is not valid UTF-8";
	case -EISDIR:
		return "SRC is a directory";
	default:
		return strerror(-r);
	}
}

static int do_fcopy_copy(struct hvsim_server *s, int fd, const char *transport,
			 const char *flags, const char *src, const char *dest)
{
	struct hvsim_fcopy_result res;
	struct hvsim_fcopy *f;
	char bytes[24], size[24];
	const char *out[4];
	uint64_t fl;
	int r;

	if (parse_u64(flags, HVSIM_FCOPY_FORCE | HVSIM_FCOPY_CREATE_FULL_PATH,
		      &fl) < 0)
		return reply_error(s, fd, -EINVAL, "FLAGS must be 0..3");
	if (strcmp(transport, "uio") == 0)
		f = s->fc_uio;
	else if (strcmp(transport, "chardev") == 0)
		f = s->fc_cdev;
	else if (strcmp(transport, "auto") == 0)
		f = NULL;
	else
		return reply_error(s, fd, -EINVAL,
				   "TRANSPORT must be uio, chardev or auto");
	if (!f &&
	    (strcmp(transport, "auto") != 0 || (!s->fc_uio && !s->fc_cdev)))
		return reply_error(s, fd, -ENODEV,
				   strcmp(transport, "uio") == 0 ?
					   "the fcopy UIO channel is not"
					   " simulated (serve --fcopy-uio)" :
					   "the fcopy device is not simulated"
					   " (serve --fcopy)");
	if (src[0] != '/')
		return reply_error(s, fd, -EINVAL, "SRC must be absolute");
	f = fcopy_pick(s, f);
	r = hvsim_fcopy_copy_file(f, src, dest, (unsigned)fl, NULL, &res);
	if (r < 0 && r != -ETIMEDOUT && r != -ECONNRESET && r != -ENOTCONN)
		return reply_error(s, fd, r, fcopy_error_text(r));
	(void)hvsim_fmt(bytes, sizeof(bytes), "%" PRIu64, res.bytes);
	(void)hvsim_fmt(size, sizeof(size), "%" PRIu64, res.size);
	out[0] = f == s->fc_uio ? "uio" : "chardev";
	out[1] = (unsigned)res.stage < ARRAY_SIZE(stage_names) ?
			 stage_names[res.stage] :
			 "none";
	out[2] = bytes;
	out[3] = size;
	return reply(s, fd, r, res.status, out, ARRAY_SIZE(out));
}

static int handle_fcopy(struct hvsim_server *s, int fd, const char **f, int n)
{
	if (strcmp(f[0], "fcopy-copy") != 0)
		return reply_error(s, fd, -EINVAL, "unknown request");
	if (n != 5)
		return reply_error(s, fd, -EINVAL,
				   "expected TRANSPORT FLAGS SRC DEST");
	return do_fcopy_copy(s, fd, f[1], f[2], f[3], f[4]);
}

/*
 * Serve every device for up to the registration wait, or until there()
 * says the guest is on the device a request needs. A host request then
 * goes out either way and fails as the host's would.
 */
static void wait_for_guest(struct hvsim_server *s,
			   bool (*there)(const struct hvsim_server *))
{
	int64_t deadline = hvsim_deadline(s->nego_wait_ms);

	while (!there(s)) {
		int left = hvsim_remaining(deadline);

		if (left == 0)
			return;
		if (left < 0 || left > SERVE_TICK_MS)
			left = SERVE_TICK_MS;
		/* run_devices() does not block: take the tick here. */
		(void)poll(NULL, 0, left);
		if (run_devices(s) < 0)
			return;
	}
}

static bool vss_daemon_there(const struct hvsim_server *s)
{
	return hvsim_cdev_is_open(s->cd[DEV_VSS]) &&
	       hvsim_cdev_state(s->cd[DEV_VSS]) >= HVSIM_CDEV_READY;
}

static bool shutdown_guest_there(const struct hvsim_server *s)
{
	return hvsim_uio_is_open(s->sd_uio);
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int do_vss_backup(struct hvsim_server *s, int fd, const char *hold)
{
	struct hvsim_vss_backup b = { 0 };
	char fres[16], tres[16], tst[16], frozen[24];
	const char *out[6];
	uint64_t ms, t0, total;
	int r;

	if (parse_u64(hold, INT32_MAX, &ms) < 0)
		return reply_error(s, fd, -EINVAL,
				   "HOLD_MS must be 0..2147483647");
	wait_for_guest(s, vss_daemon_there);
	t0 = now_usec();
	r = hvsim_vss_backup(s->vss, (int)ms, &b);
	total = now_usec() - t0;
	if (r < 0)
		return reply(s, fd, r, 0, NULL, 0);
	(void)hvsim_fmt(fres, sizeof(fres), "%d", b.freeze_result);
	(void)hvsim_fmt(tres, sizeof(tres), "%d", b.thaw_result);
	(void)hvsim_fmt(tst, sizeof(tst), "0x%08" PRIx32, b.thaw_status);
	/* From the FREEZE's reply to the THAW's, as the host saw it. */
	(void)hvsim_fmt(frozen, sizeof(frozen), "%" PRIu64,
			total > b.freeze_usec ? total - b.freeze_usec : 0);
	out[0] = fres;
	out[1] = hvsim_vss_path_name(b.freeze_path);
	out[2] = tres;
	out[3] = tst;
	out[4] = hvsim_vss_path_name(b.thaw_path);
	out[5] = frozen;
	return reply(s, fd, 0, b.freeze_status, out, ARRAY_SIZE(out));
}

static int do_vss_hot_backup(struct hvsim_server *s, int fd)
{
	char flags[16];
	const char *out[2] = { flags, NULL };
	uint32_t st = 0, fl = 0;
	int r;

	wait_for_guest(s, vss_daemon_there);
	r = hvsim_vss_hot_backup(s->vss, &st, &fl);
	if (r < 0)
		return reply(s, fd, r, 0, NULL, 0);
	(void)hvsim_fmt(flags, sizeof(flags), "0x%08" PRIx32, fl);
	out[1] = hvsim_vss_path_name(hvsim_vss_last_path(s->vss));
	return reply(s, fd, 0, st, out, ARRAY_SIZE(out));
}

static int handle_vss(struct hvsim_server *s, int fd, const char **f, int n)
{
	if (!s->vss)
		return reply_error(s, fd, -ENODEV,
				   "the VSS device is not simulated"
				   " (serve --vss)");
	if (strcmp(f[0], "vss-backup") == 0) {
		if (n != 2)
			return reply_error(s, fd, -EINVAL, "expected HOLD_MS");
		return do_vss_backup(s, fd, f[1]);
	}
	if (strcmp(f[0], "vss-hot-backup") == 0) {
		if (n != 1)
			return reply_error(s, fd, -EINVAL,
					   "vss-hot-backup takes no arguments");
		return do_vss_hot_backup(s, fd);
	}
	return reply_error(s, fd, -EINVAL, "unknown request");
}

static int do_shutdown_stop(struct hvsim_server *s, int fd, const char **f,
			    int n)
{
	static const char *const kinds[HVSIM_STOP_KIND_MAX] = {
		[HVSIM_STOP_POWEROFF] = "poweroff",
		[HVSIM_STOP_RESTART] = "restart",
		[HVSIM_STOP_HIBERNATE] = "hibernate",
	};
	uint32_t st = 0;
	uint64_t force;
	size_t k;
	int r;

	if (strcmp(f[0], "shutdown-stop") != 0)
		return reply_error(s, fd, -EINVAL, "unknown request");
	if (!s->sd)
		return reply_error(s, fd, -ENODEV,
				   "the shutdown channel is not simulated"
				   " (serve --shutdown)");
	if (n != 4)
		return reply_error(s, fd, -EINVAL,
				   "expected KIND FORCE MESSAGE");
	for (k = 0; k < ARRAY_SIZE(kinds); k++)
		if (strcmp(f[1], kinds[k]) == 0)
			break;
	if (k == ARRAY_SIZE(kinds))
		return reply_error(s, fd, -EINVAL,
				   "KIND must be poweroff, restart or"
				   " hibernate");
	if (parse_u64(f[2], 1, &force) < 0)
		return reply_error(s, fd, -EINVAL, "FORCE must be 0 or 1");
	wait_for_guest(s, shutdown_guest_there);
	r = hvsim_stop_vm(s->sd, (enum hvsim_stop_kind)k, force != 0,
			  f[3][0] ? f[3] : NULL, STOP_VM_TIMEOUT_S, &st);
	if (r == -E2BIG)
		return reply_error(s, fd, r,
				   "the message does not fit the host's 1023"
				   " UTF-16 units");
	if (r == -EINVAL)
		return reply_error(s, fd, r, "the message is not UTF-8");
	return reply(s, fd, r, r < 0 ? 0 : st, NULL, 0);
}

static int handle(struct hvsim_server *s, int fd, size_t len)
{
	const char *f[HVSIM_CTL_FIELDS_MAX];
	const char *cmd;
	uint64_t pool, idx;
	int n;

	n = hvsim_ctl_split(s->req, len, f, ARRAY_SIZE(f));
	if (n < 0)
		return reply_error(s, fd, -EINVAL, "malformed request");
	cmd = f[0];
	if (strcmp(cmd, "status") == 0) {
		if (n != 1)
			return reply_error(s, fd, -EINVAL,
					   "status takes no arguments");
		return do_status(s, fd);
	}
	if (strncmp(cmd, "fcopy-", 6) == 0)
		return handle_fcopy(s, fd, f, n);
	if (strncmp(cmd, "vss-", 4) == 0)
		return handle_vss(s, fd, f, n);
	if (strncmp(cmd, "shutdown-", 9) == 0)
		return do_shutdown_stop(s, fd, f, n);
	if (strncmp(cmd, "kvp-", 4) != 0)
		return reply_error(s, fd, -EINVAL, "unknown request");
	if (!s->kvp)
		return reply_error(s, fd, -ENODEV,
				   "the KVP device is not simulated");
	if (strcmp(cmd, "kvp-ip-get") == 0) {
		if (n != 2)
			return reply_error(s, fd, -EINVAL, "expected MAC");
		return do_kvp_ip_get(s, fd, f[1]);
	}
	if (strcmp(cmd, "kvp-ip-set") == 0) {
		if (n != 2 + HVSIM_KVP_IP_FIELDS)
			return reply_error(s, fd, -EINVAL,
					   "expected ADAPTER FAMILY DHCP IP"
					   " SUBNET GATEWAY DNS");
		return do_kvp_ip_set(s, fd, f + 1);
	}
	if (n < 2 || parse_u64(f[1], UINT8_MAX, &pool) < 0)
		return reply_error(s, fd, -EINVAL, "pool must be 0..255");
	if (strcmp(cmd, "kvp-set") == 0 || strcmp(cmd, "kvp-modify") == 0) {
		if (n != 5)
			return reply_error(s, fd, -EINVAL,
					   "expected POOL TYPE KEY VALUE");
		return do_kvp_set(s, fd, (uint8_t)pool, f[2], f[3], f[4],
				  cmd[4] == 'm');
	}
	if (n != 3)
		return reply_error(s, fd, -EINVAL, "expected two arguments");
	if (strcmp(cmd, "kvp-get") == 0)
		return do_kvp_get(s, fd, (uint8_t)pool, f[2]);
	if (strcmp(cmd, "kvp-delete") == 0)
		return do_kvp_delete(s, fd, (uint8_t)pool, f[2]);
	if (strcmp(cmd, "kvp-enum") == 0) {
		if (parse_u64(f[2], UINT32_MAX, &idx) < 0)
			return reply_error(s, fd, -EINVAL,
					   "index must be 0..4294967295");
		return do_kvp_enum(s, fd, (uint8_t)pool, (uint32_t)idx);
	}
	return reply_error(s, fd, -EINVAL, "unknown request");
}

/* One record from a client, answered; the client is done either way. */
static void client_read(struct hvsim_server *s, struct client *c)
{
	ssize_t n;

	n = recv(c->fd, s->req, sizeof(s->req), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > (ssize_t)HVSIM_CTL_MSG_MAX)
		reply_error(s, c->fd, -EMSGSIZE, "request too large");
	else if (n > 0)
		(void)handle(s, c->fd, (size_t)n);
	else if (n == 0 && !hvsim_peer_gone(c->fd))
		reply_error(s, c->fd, -EINVAL, "malformed request");
	client_close(c);
}

static void accept_clients(struct hvsim_server *s)
{
	for (;;) {
		int fd = hvsim_accept(s->listen_fd);
		size_t i;

		if (fd < 0)
			return;
		for (i = 0; i < CLIENTS_MAX; i++)
			if (s->clients[i].fd < 0)
				break;
		if (i == CLIENTS_MAX) {
			close(fd);
			continue;
		}
		s->clients[i].fd = fd;
		s->clients[i].deadline = hvsim_deadline(CLIENT_IDLE_MS);
	}
}

int hvsim_server_run(struct hvsim_server *s, int stop_fd)
{
	if (!s || stop_fd < 0)
		return -EINVAL;
	for (;;) {
		struct pollfd p[2 + CLIENTS_MAX];
		struct client *who[2 + CLIENTS_MAX];
		nfds_t n = 2, i;
		int r;

		p[0] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		for (i = 0; i < CLIENTS_MAX; i++) {
			if (s->clients[i].fd < 0)
				continue;
			who[n] = &s->clients[i];
			p[n++] = (struct pollfd){ .fd = s->clients[i].fd,
						  .events = POLLIN };
		}
		r = poll(p, n, SERVE_TICK_MS);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && p[0].revents)
			return 0;
		if (r > 0 && (p[1].revents & POLLIN))
			accept_clients(s);
		for (i = 2; r > 0 && i < n; i++)
			if (p[i].revents)
				client_read(s, who[i]);
		for (i = 0; i < CLIENTS_MAX; i++)
			if (s->clients[i].fd >= 0 &&
			    hvsim_remaining(s->clients[i].deadline) == 0)
				client_close(&s->clients[i]);
		r = run_devices(s);
		if (r < 0)
			return r;
	}
}
