/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_fcopy_daemon: receives the files the host sends with Copy-VMFile
 * (protocol.md §5), over whichever transport the kernel offers:
 *
 *   uio      kernel 6.10 and later: the file copy VMBus channel bound to
 *            uio_hv_generic; we negotiate versions and answer the host's
 *            packets on the rings ourselves (§5.3);
 *   chardev  up to 6.9: /dev/vmbus/hv_fcopy of hv_utils, which negotiates,
 *            converts names and hands us one message at a time (§5.2).
 *
 * One thread, one poll() over the transport, a signalfd and a retry
 * timer. When the transport goes away (the host disabled the service, or
 * hibernation reset the device) the copy in progress is dropped and the
 * transport reopened as soon as it is back.
 */
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "fcopy-proto.h"
#include "fcopy-service.h"
#include "hvis/chardev-conn.h"
#include "hvis/cmdline.h"
#include "hvis/icmsg.h"
#include "hvis/log.h"
#include "hvis/loop.h"
#include "hvis/notify.h"
#include "hvis/paths.h"
#include "hvis/uio.h"

/* While the UIO channel is gone: retry as the char device does. */
#define RETRY_MIN_USEC HV_CONN_RETRY_MIN_USEC
#define RETRY_MAX_USEC HV_CONN_RETRY_MAX_USEC
/* How long a reply may wait for room in a TX ring the host is not reading. */
#define TX_ROOM_TIMEOUT_MS 30000
/* Larger than any packet a 16 KiB fcopy ring, or the kernel, can carry. */
#define BUF_SIZE (64 * 1024)
/* The helper the unit runs as ExecStartPre (tools/hv-vmbus-bind). */
#define BIND_HELPER "/usr/libexec/hvis/hv-vmbus-bind"

enum transport_arg { ARG_AUTO, ARG_UIO, ARG_CHARDEV };
enum link_state { LINK_CLOSED, LINK_READY };

struct daemon {
	bool uio; /* the transport in use */
	/* The char device keeps its own state, timer and backoff. */
	struct hv_chardev_conn conn;
	/* UIO only: */
	enum link_state state;
	struct hv_uio_chan chan;
	int timerfd;
	uint64_t retry_usec;
	char sys_dir[PATH_MAX];
	bool announced, recovered, lost_logged;
	int sigfd;
	struct fcopy_service svc;
	struct fcopy_request req;
	uint8_t buf[BUF_SIZE] __attribute__((__aligned__(8)));
};

/* §1.3 table: file copy offers framework 3.0 and service 1.1. */
static const uint32_t fw_versions[] = { HV_IC_VERSION(3, 0) };
static const uint32_t svc_versions[] = { HV_IC_VERSION(1, 1) };

static enum transport_arg arg_transport = ARG_AUTO;
static mode_t arg_file_mode = FCOPY_DEFAULT_FILE_MODE;
static bool arg_sync = true;
static bool arg_named_temp;

static void help(void)
{
	printf("Usage: hv_fcopy_daemon [OPTION]...\n"
	       "Receive the files a Hyper-V host copies into this guest "
	       "(Copy-VMFile).\n"
	       "\n"
	       "  -t, --transport=WHICH\n"
	       "                       auto (default), uio or chardev\n"
	       "      --file-mode=MODE mode of copied files (octal, default "
	       "0644)\n"
	       "      --no-sync        do not fsync a file before reporting "
	       "it copied\n"
	       "      --temp-files=KIND\n"
	       "                       auto (O_TMPFILE where possible) or "
	       "named\n" HV_COMMON_OPTIONS_HELP "\n"
	       "Exit status: 0 stopped by a signal, 64 bad usage, 69 no file "
	       "copy\n"
	       "channel or device (or it is busy), 78 the channel is not "
	       "bound to\n"
	       "uio_hv_generic (run hv-vmbus-bind bind fcopy), 1 other errors.\n"
	       "See hv_fcopy_daemon(8).\n");
}

static int parse_mode(const char *s, mode_t *ret)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '7')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 8);
	/* Permission bits only: never set-id bits on data from the host. */
	if (errno || *end || v > 0777)
		return -EINVAL;
	*ret = (mode_t)v;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	enum { OPT_FILE_MODE = 0x100, OPT_NO_SYNC, OPT_TEMP_FILES };
	static const struct option opts[] = {
		HV_COMMON_LONG_OPTIONS,
		{ "transport", required_argument, NULL, 't' },
		{ "file-mode", required_argument, NULL, OPT_FILE_MODE },
		{ "no-sync", no_argument, NULL, OPT_NO_SYNC },
		{ "temp-files", required_argument, NULL, OPT_TEMP_FILES },
		{},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, HV_COMMON_SHORT_OPTIONS "t:", opts,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			help();
			exit(0);
		case 'V':
			printf("hv_fcopy_daemon (hvis) %s\n", HVIS_VERSION);
			exit(0);
		case 't':
			if (strcmp(optarg, "auto") == 0)
				arg_transport = ARG_AUTO;
			else if (strcmp(optarg, "uio") == 0)
				arg_transport = ARG_UIO;
			else if (strcmp(optarg, "chardev") == 0)
				arg_transport = ARG_CHARDEV;
			else {
				fprintf(stderr,
					"hv_fcopy_daemon: --transport: "
					"expected auto, uio or chardev\n");
				return -EINVAL;
			}
			break;
		case OPT_FILE_MODE:
			if (parse_mode(optarg, &arg_file_mode) < 0) {
				fprintf(stderr,
					"hv_fcopy_daemon: --file-mode: "
					"expected an octal mode up to 0777\n");
				return -EINVAL;
			}
			break;
		case OPT_NO_SYNC:
			arg_sync = false;
			break;
		case OPT_TEMP_FILES:
			if (strcmp(optarg, "auto") == 0)
				arg_named_temp = false;
			else if (strcmp(optarg, "named") == 0)
				arg_named_temp = true;
			else {
				fprintf(stderr,
					"hv_fcopy_daemon: --temp-files: "
					"expected auto or named\n");
				return -EINVAL;
			}
			break;
		default:
			r = hv_common_option_or_fail(c, optarg);
			if (r < 0)
				return r;
		}
	}
	return hv_cmdline_no_operands("hv_fcopy_daemon", argc, argv);
}

static void announce(struct daemon *d)
{
	if (!d->announced) {
		hv_notify_ready();
		d->announced = true;
	}
	hv_notify_status("Serving file copy requests (%s)",
			 d->uio ? "uio" : "chardev");
}

/*
 * Leftovers of a copy a crash interrupted, once the transport is ours
 * (so a second daemon that will fail to open it cannot remove the first
 * one's file). FCopy-08: nothing is ever resumed, only removed.
 */
static void recover_once(struct daemon *d)
{
	int r;

	if (d->recovered)
		return;
	d->recovered = true;
	r = fcopy_file_recover(&d->svc.opts);
	if (r > 0)
		log_info("removed the temporary file of an interrupted copy");
	else if (r < 0)
		log_warning_errno(r, "cannot clean up after an interrupted "
				     "copy");
}

/* ---------------------------------------------------------------------- */
/* UIO transport (§5.3).                                                  */

/*
 * A reply the TX ring has no room for: the host is not reading. Wait for
 * its signal (hv_uio_send() asked for one), then try again.
 */
static int uio_reply(struct daemon *d, uint64_t trans_id, const void *buf,
		     size_t len)
{
	for (;;) {
		struct pollfd p = { .fd = d->chan.fd, .events = POLLIN };
		int64_t ev;
		int r;

		r = hv_uio_send(&d->chan, trans_id, buf, len);
		if (r != -EAGAIN)
			return r;
		r = poll(&p, 1, TX_ROOM_TIMEOUT_MS);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		ev = hv_uio_wait(&d->chan);
		if (ev < 0 && ev != -EINTR && ev != -EAGAIN)
			return (int)ev;
	}
}

static int on_packet(struct hv_uio_chan *c, struct hv_pkt *pkt, void *userdata)
{
	struct daemon *d = userdata;
	struct hv_ic_msg m;
	uint32_t fw, svc, status;
	int r;

	/* §7 item 20: too short for an IC header: nothing to answer. */
	if (hv_ic_parse(pkt->payload, pkt->payload_len, &m) < 0) {
		log_warning("%zu-byte packet without an IC header dropped",
			    pkt->payload_len);
		return 0;
	}
	switch (m.hdr.icmsgtype) {
	case ICMSGTYPE_NEGOTIATE:
		r = hv_ic_negotiate(&m, fw_versions, ARRAY_SIZE(fw_versions),
				    svc_versions, ARRAY_SIZE(svc_versions), &fw,
				    &svc);
		if (r == 0)
			log_info("file copy IC version %u.%u, framework %u.%u",
				 HV_IC_VERSION_MAJOR(svc),
				 HV_IC_VERSION_MINOR(svc),
				 HV_IC_VERSION_MAJOR(fw),
				 HV_IC_VERSION_MINOR(fw));
		else
			log_warning_errno(r, "version negotiation failed");
		break;
	case ICMSGTYPE_FCOPY:
		r = fcopy_proto_decode(FCOPY_WIRE_HOST, m.body, m.body_len,
				       &d->req);
		status = fcopy_service_handle(&d->svc, r, &d->req);
		hv_ic_set_response(&m, status);
		break;
	default:
		log_warning("IC message type %u refused", m.hdr.icmsgtype);
		hv_ic_set_response(&m, HV_E_FAIL);
		break;
	}
	/* In place, same length, the host's trans_id echoed (§1.1, §1.2). */
	r = uio_reply(d, pkt->desc.trans_id, m.buf, m.len);
	if (r < 0)
		return log_warning_errno(r, "cannot send a reply");
	(void)c;
	return 0;
}

static int uio_connect(struct daemon *d)
{
	struct hv_uio_info info;
	char path[PATH_MAX];
	int r;

	r = hv_uio_find(d->sys_dir, HV_GUID_FCOPY, HV_GUID_FCOPY_INSTANCE,
			&info);
	if (r < 0)
		return r;
	r = hv_path(HV_PATH_DEV, info.uio_name, path, sizeof(path));
	if (r < 0)
		return r;
	r = hv_uio_open(&d->chan, path, info.ring_size);
	if (r < 0)
		return r;
	log_info("serving %s (%s, rings of %u bytes)", info.instance, path,
		 info.ring_size);
	d->state = LINK_READY;
	recover_once(d);
	announce(d);
	return 0;
}

/* Packets the host queued before the open raised no interrupt. */
static int uio_first_drain(struct daemon *d)
{
	unsigned int skipped = 0;
	int r;

	r = hv_uio_process(&d->chan, d->buf, sizeof(d->buf), on_packet, d,
			   &skipped);
	if (skipped)
		log_warning("%u oversized packets skipped", skipped);
	return r < 0 ? r : 0;
}

static int handle_uio(struct daemon *d)
{
	unsigned int skipped = 0;
	int64_t ev;
	int r;

	ev = hv_uio_wait(&d->chan);
	if (ev == -EAGAIN || ev == -EINTR)
		return 0;
	if (ev < 0)
		return (int)ev;
	r = hv_uio_process(&d->chan, d->buf, sizeof(d->buf), on_packet, d,
			   &skipped);
	if (skipped)
		log_warning("%u oversized packets skipped", skipped);
	return r < 0 ? r : 0;
}

/* ---------------------------------------------------------------------- */
/* Legacy char device (§5.2).                                             */

static int chardev_connect(struct daemon *d, bool again)
{
	int r;

	r = again ? hv_chardev_conn_reconnect(&d->conn) :
		    hv_chardev_conn_connect(&d->conn);
	if (r < 0)
		return r;
	recover_once(d);
	return 0;
}

static int handle_chardev(struct daemon *d)
{
	uint8_t reply[FCOPY_LEGACY_REPLY_SIZE];
	uint32_t version, status;
	ssize_t n;
	int r;

	n = hv_chardev_read(&d->conn.dev, d->buf, sizeof(d->buf));
	if (n == -EAGAIN || n == -EINTR)
		return 0;
	if (n < 0)
		return (int)n;
	if (hv_chardev_conn_state(&d->conn) == HV_CONN_REGISTERING) {
		r = fcopy_proto_parse_register_reply(d->buf, (size_t)n,
						     &version);
		if (r < 0)
			return log_warning_errno(
				r,
				"%zd-byte message instead of the "
				"registration reply",
				n);
		hv_chardev_conn_mark_registered(&d->conn);
		log_info("registered with hv_fcopy (%s, version %u)",
			 hv_chardev_conn_path(&d->conn), version);
		announce(d);
		return 0;
	}
	r = fcopy_proto_decode(FCOPY_WIRE_KERNEL, d->buf, (size_t)n, &d->req);
	status = fcopy_service_handle(&d->svc, r, &d->req);
	fcopy_proto_build_reply(reply, status);
	/*
	 * After the kernel's fake CANCEL on hibernation this write fails
	 * (§2): the caller reopens, as the kernel expects.
	 */
	return hv_chardev_write(&d->conn.dev, reply, sizeof(reply));
}

/* ---------------------------------------------------------------------- */

/*
 * Open (and register): failing here at start-up ends the daemon. Again
 * (a reopen), a char device that fails arms its own retry timer.
 */
static int transport_open(struct daemon *d, bool again)
{
	return d->uio ? uio_connect(d) : chardev_connect(d, again);
}

/* The first steps on an open transport; failing here is a lost one. */
static int transport_started(struct daemon *d)
{
	return d->uio ? uio_first_drain(d) : 0;
}

/* Returns true if the transport was open. */
static bool transport_close(struct daemon *d)
{
	bool was_open = d->state != LINK_CLOSED;

	if (!d->uio)
		return hv_chardev_conn_close(&d->conn);
	hv_uio_close(&d->chan);
	d->state = LINK_CLOSED;
	return was_open;
}

static int transport_fd(const struct daemon *d)
{
	if (!d->uio)
		return hv_chardev_conn_fd(&d->conn);
	return d->state == LINK_CLOSED ? -1 : d->chan.fd;
}

static int timer_fd(const struct daemon *d)
{
	return d->uio ? d->timerfd : hv_chardev_conn_timer_fd(&d->conn);
}

/* The retry timer fired while the transport is closed. */
static bool retry_due(struct daemon *d)
{
	if (!d->uio)
		return hv_chardev_conn_on_timer(&d->conn);
	return hv_timerfd_read(d->timerfd) > 0 && d->state == LINK_CLOSED;
}

static void schedule_retry(struct daemon *d)
{
	d->retry_usec = d->retry_usec ?
				HV_MIN(d->retry_usec * 2, RETRY_MAX_USEC) :
				RETRY_MIN_USEC;
	hv_timerfd_arm(d->timerfd, d->retry_usec);
}

/* The transport failed: drop the copy, reopen now or later. */
static void transport_lost(struct daemon *d, int err)
{
	int r;

	if (transport_close(d))
		log_warning_errno(err, "lost the %s transport, reopening",
				  d->uio ? "uio" : "chardev");
	fcopy_service_abort(&d->svc, "the transport was reset");
	r = transport_open(d, true);
	if (r == 0)
		r = transport_started(d);
	if (r < 0) {
		transport_close(d);
		/* Gone (service disabled) or not bound yet: wait for it. */
		if (!d->lost_logged)
			log_info("waiting for the file copy %s to come back",
				 d->uio ? "channel" : "device");
		d->lost_logged = true;
		log_debug_errno(r, "reopen");
		if (d->uio)
			schedule_retry(d);
		return;
	}
	d->lost_logged = false;
	d->retry_usec = 0;
}

static int run(struct daemon *d)
{
	enum { PFD_SIGNAL, PFD_TIMER, PFD_DEVICE, PFD_MAX };
	struct pollfd pfd[PFD_MAX];
	int sig, r;

	for (;;) {
		pfd[PFD_SIGNAL] = (struct pollfd){ d->sigfd, POLLIN, 0 };
		pfd[PFD_TIMER] = (struct pollfd){ timer_fd(d), POLLIN, 0 };
		pfd[PFD_DEVICE] = (struct pollfd){ transport_fd(d), POLLIN, 0 };
		if (poll(pfd, PFD_MAX, -1) < 0) {
			if (errno == EINTR)
				continue;
			return log_error_errno(errno, "poll");
		}
		if (pfd[PFD_SIGNAL].revents) {
			sig = hv_signalfd_read(d->sigfd);
			if (sig == SIGTERM || sig == SIGINT) {
				log_info("stopping on %s", strsignal(sig));
				hv_notify_stopping();
				fcopy_service_abort(&d->svc,
						    "the daemon is stopping");
				return 0;
			}
		}
		if (pfd[PFD_TIMER].revents && retry_due(d))
			transport_lost(d, 0);
		if (pfd[PFD_DEVICE].revents) {
			if (d->uio)
				r = handle_uio(d);
			else if (pfd[PFD_DEVICE].revents & POLLIN)
				r = handle_chardev(d);
			else
				r = -ECONNRESET;
			if (r < 0)
				transport_lost(d, r);
		}
	}
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/*
 * auto: the UIO channel when it is bound to uio_hv_generic, else the
 * char device. A channel that exists unbound, with no char device, is a
 * setup step missed: -ENODEV, for a message that says which.
 */
static int pick_transport(struct daemon *d)
{
	struct hv_uio_info info;
	int r;

	if (arg_transport == ARG_CHARDEV) {
		d->uio = false;
		return 0;
	}
	r = hv_uio_find(d->sys_dir, HV_GUID_FCOPY, HV_GUID_FCOPY_INSTANCE,
			&info);
	if (r == 0 || arg_transport == ARG_UIO) {
		d->uio = true;
		return r;
	}
	/* Up to 6.9 the channel exists too, bound to hv_utils. */
	if (r == -ENODEV && !exists(hv_chardev_conn_path(&d->conn)))
		return r;
	if (r != -ENOENT && r != -ENODEV)
		log_warning_errno(r, "cannot look for the file copy channel");
	d->uio = false;
	return 0;
}

static int start_error(struct daemon *d, int r)
{
	if (r == -ENODEV) {
		log_error("the file copy channel %s/bus/vmbus/devices/%s is "
			  "not bound to uio_hv_generic. Since Linux 6.10 it "
			  "must be; run '" BIND_HELPER " bind fcopy' (the "
			  "hv-fcopy-daemon unit does so before starting), or "
			  "write %s to "
			  "/sys/bus/vmbus/drivers/uio_hv_generic/new_id",
			  d->sys_dir, HV_GUID_FCOPY_INSTANCE, HV_GUID_FCOPY);
		return EX_CONFIG;
	}
	if (r == -EBUSY) {
		log_error("the file copy %s is busy: is another file copy "
			  "daemon running?",
			  d->uio ? "channel" : "device");
		return EX_UNAVAILABLE;
	}
	if (d->uio)
		log_error_errno(r,
				"no usable file copy channel under "
				"%s/bus/vmbus/devices/%s (is Guest Service "
				"Interface enabled for this VM?)",
				d->sys_dir, HV_GUID_FCOPY_INSTANCE);
	else
		log_error_errno(r,
				"cannot open %s (is this a Hyper-V guest with "
				"Guest Service Interface enabled and hv_utils "
				"loaded?)",
				hv_chardev_conn_path(&d->conn));
	return EX_UNAVAILABLE;
}

int main(int argc, char **argv)
{
	static struct daemon d = { .conn = HV_CHARDEV_CONN_NULL,
				   .chan = { .fd = -1 },
				   .sigfd = -1,
				   .timerfd = -1 };
	char dev_path[PATH_MAX], state_dir[PATH_MAX], record[PATH_MAX];
	uint8_t reg[FCOPY_LEGACY_REPLY_SIZE];
	int r;

	r = parse_args(argc, argv);
	if (r < 0) {
		fprintf(stderr, "Try 'hv_fcopy_daemon --help'.\n");
		return EX_USAGE;
	}
	hv_log_open("hv_fcopy_daemon", hv_common_log_target());

	if (hv_path(HV_PATH_DEV, "vmbus/hv_fcopy", dev_path, sizeof(dev_path)) <
		    0 ||
	    hv_path(HV_PATH_SYS, "", d.sys_dir, sizeof(d.sys_dir)) < 0 ||
	    hv_path(HV_PATH_STATE, "", state_dir, sizeof(state_dir)) < 0 ||
	    hv_path(HV_PATH_STATE, "fcopy-partial", record, sizeof(record)) <
		    0) {
		log_error("a path is too long");
		return EX_USAGE;
	}

	d.svc.opts = (struct fcopy_file_opts){
		.file_mode = arg_file_mode,
		.sync = arg_sync,
		.named_temp = arg_named_temp,
		.record_path = record,
	};
	r = hv_mkdir_parents(state_dir, 0755);
	if (r < 0) {
		/* Copies still work; only crash clean-up of named files lacks. */
		log_warning_errno(r, "cannot create %s", state_dir);
		d.svc.opts.record_path = NULL;
	}
	fcopy_service_init(&d.svc);

	d.sigfd = hv_signalfd_open();
	d.timerfd = hv_timerfd_open();
	fcopy_proto_build_register(reg);
	r = hv_chardev_conn_init(&d.conn, dev_path, reg, sizeof(reg));
	if (d.sigfd < 0 || d.timerfd < 0 || r < 0) {
		log_error_errno(d.sigfd < 0   ? d.sigfd :
				d.timerfd < 0 ? d.timerfd :
						r,
				"event loop setup");
		return 1;
	}

	r = pick_transport(&d);
	if (r == 0)
		r = transport_open(&d, false);
	if (r < 0) {
		transport_close(&d);
		r = start_error(&d, r);
	} else {
		r = transport_started(&d);
		if (r < 0)
			transport_lost(&d, r);
		r = run(&d) < 0 ? 1 : 0;
	}

	fcopy_service_abort(&d.svc, "the daemon is stopping");
	transport_close(&d);
	hv_chardev_conn_done(&d.conn);
	close(d.sigfd);
	close(d.timerfd);
	return r;
}
