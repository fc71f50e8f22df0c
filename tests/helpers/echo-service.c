/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal service built on libhvis for the transport tests: it sends
 * every message it receives straight back.
 *
 *   echo-service chardev PATH
 *   echo-service uio SYSROOT DEVDIR CLASS_GUID
 *
 * Char device: one reply per message. UIO: each packet's payload is sent
 * back as an INBAND packet with the same trans_id; all pending packets are
 * drained per interrupt, then interrupts are re-armed and the ring checked
 * once more (a packet that arrived while masked raises no interrupt).
 */
#include <poll.h>

#include "hvis/chardev.h"
#include "hvis/log.h"
#include "hvis/loop.h"
#include "hvis/uio.h"

#define MAX_MSG (64 * 1024)

static uint8_t buf[MAX_MSG];

static int serve_chardev(const char *path, int sigfd)
{
	struct hv_chardev d;
	int r;

	r = hv_chardev_open(&d, path);
	if (r < 0)
		return log_error_errno(r, "open %s", path);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = d.fd, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
		};
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return log_error_errno(errno, "poll");
		}
		if (p[1].revents && hv_signalfd_read(sigfd) > 0)
			break;
		if (!p[0].revents)
			continue;
		n = hv_chardev_read(&d, buf, sizeof(buf));
		if (n >= 0)
			r = hv_chardev_write(&d, buf, (size_t)n);
		else
			r = (int)n;
		if (r < 0) {
			log_warning_errno(r, "transport error, reopening");
			r = hv_chardev_reopen(&d, NULL, NULL);
			if (r < 0)
				return log_error_errno(r, "reopen %s", path);
		}
	}
	hv_chardev_close(&d);
	return 0;
}

static int echo_packet(struct hv_uio_chan *c, struct hv_pkt *pkt, void *ud)
{
	int64_t ev;
	int r;

	/*
	 * TX full: hv_uio_send() asked the host (pending_send_sz) to signal
	 * us once it has read enough; wait for that and retry.
	 */
	while ((r = hv_uio_send(c, pkt->desc.trans_id, pkt->payload,
				pkt->payload_len)) == -EAGAIN) {
		ev = hv_uio_wait(c);
		if (ev < 0)
			return log_error_errno((int)ev, "interrupt read");
	}
	return r < 0 ? log_error_errno(r, "ring write") : 0;
}

static int serve_uio(const char *sysroot, const char *devdir, const char *guid,
		     int sigfd)
{
	struct hv_uio_info info;
	struct hv_uio_chan c;
	char path[512];
	int r;

	r = hv_uio_find(sysroot, guid, NULL, &info);
	if (r < 0)
		return log_error_errno(r, "find channel %s", guid);
	if (hv_snprintf(path, sizeof(path), "%s/%s", devdir, info.uio_name) < 0)
		return log_error_errno(E2BIG, "device path");
	r = hv_uio_open(&c, path, info.ring_size);
	if (r < 0)
		return log_error_errno(r, "open %s", path);
	r = hv_uio_process(&c, buf, sizeof(buf), echo_packet, NULL, NULL);
	while (r >= 0) {
		struct pollfd p[2] = {
			{ .fd = c.fd, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
		};
		int64_t ev;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = log_error_errno(errno, "poll");
			break;
		}
		if (p[1].revents && hv_signalfd_read(sigfd) > 0) {
			r = 0;
			break;
		}
		if (!p[0].revents)
			continue;
		ev = hv_uio_wait(&c);
		if (ev < 0) {
			r = log_error_errno((int)ev, "interrupt read");
			break;
		}
		r = hv_uio_process(&c, buf, sizeof(buf), echo_packet, NULL,
				   NULL);
	}
	hv_uio_close(&c);
	return r;
}

int main(int argc, char **argv)
{
	int sigfd, r;

	hv_log_open("echo-service", HV_LOG_STDERR);
	sigfd = hv_signalfd_open();
	if (sigfd < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "chardev") == 0)
		r = serve_chardev(argv[2], sigfd);
	else if (argc == 5 && strcmp(argv[1], "uio") == 0)
		r = serve_uio(argv[2], argv[3], argv[4], sigfd);
	else {
		fprintf(stderr,
			"usage: echo-service chardev PATH\n"
			"       echo-service uio SYSROOT DEVDIR GUID\n");
		return 2;
	}
	return r < 0 ? 1 : 0;
}
