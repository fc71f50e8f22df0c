/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fcopy transport's ceiling for bench/fcopy-bench.c: a guest that
 * answers every file copy message with status 0 and touches no file, so
 * what remains is the transport (ring or char device), the IC framing and
 * the host simulator.
 *
 *   fcopy-sink chardev PATH           legacy hv_fcopy device (§5.2)
 *   fcopy-sink uio SYSROOT DEVDIR     fcopy UIO channel (§5.3)
 *
 * It does what a daemon must do on each transport and nothing else:
 * chardev: register (version 1), then one 4-byte status per message;
 * UIO: answer NEGOTIATE (fw 3.0, svc 1.1) and send every other packet
 * back with its IC status set, as the daemon's reply is built.
 */
#include <poll.h>

#include "hvis/chardev.h"
#include "hvis/icmsg.h"
#include "hvis/log.h"
#include "hvis/loop.h"
#include "hvis/uio.h"

#define MAX_MSG (64 * 1024)

static uint8_t buf[MAX_MSG];

static int wait_readable(int fd, int sigfd)
{
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[1].revents && hv_signalfd_read(sigfd) > 0)
			return 0;
		if (p[0].revents)
			return 1;
	}
}

static int serve_chardev(const char *path, int sigfd)
{
	static const uint8_t reg[4] = { 1, 0, 0, 0 }; /* FCOPY version 1 */
	static const uint8_t ok[4] = { 0 };
	struct hv_chardev d;
	bool registered = false;
	int r;

	r = hv_chardev_open(&d, path);
	if (r < 0)
		return log_error_errno(r, "open %s", path);
	r = hv_chardev_write(&d, reg, sizeof(reg));
	while (r >= 0) {
		ssize_t n;

		r = wait_readable(d.fd, sigfd);
		if (r <= 0)
			break;
		n = hv_chardev_read(&d, buf, sizeof(buf));
		if (n < 0) {
			r = (int)n;
			break;
		}
		/* The first message is the kernel's registration reply. */
		if (!registered) {
			registered = true;
			continue;
		}
		r = hv_chardev_write(&d, ok, sizeof(ok));
	}
	if (r < 0)
		log_error_errno(r, "%s", path);
	hv_chardev_close(&d);
	return r;
}

static int answer(struct hv_uio_chan *c, struct hv_pkt *pkt, void *ud)
{
	static const uint32_t fw[] = { HV_IC_VERSION(3, 0) };
	static const uint32_t svc[] = { HV_IC_VERSION(1, 1) };
	struct hv_ic_msg m;
	int64_t ev;
	int r;

	if (hv_ic_parse(pkt->payload, pkt->payload_len, &m) < 0)
		return 0;
	if (m.hdr.icmsgtype == ICMSGTYPE_NEGOTIATE)
		(void)hv_ic_negotiate(&m, fw, 1, svc, 1, NULL, NULL);
	else
		hv_ic_set_response(&m, HV_S_OK);
	while ((r = hv_uio_send(c, pkt->desc.trans_id, pkt->payload,
				pkt->payload_len)) == -EAGAIN) {
		ev = hv_uio_wait(c);
		if (ev < 0)
			return (int)ev;
	}
	return r;
}

static int serve_uio(const char *sysroot, const char *devdir, int sigfd)
{
	struct hv_uio_info info;
	struct hv_uio_chan c;
	char path[512];
	int r;

	r = hv_uio_find(sysroot, HV_GUID_FCOPY, HV_GUID_FCOPY_INSTANCE, &info);
	if (r < 0)
		return log_error_errno(r, "find the fcopy channel");
	if (hv_snprintf(path, sizeof(path), "%s/%s", devdir, info.uio_name) < 0)
		return log_error_errno(E2BIG, "device path");
	r = hv_uio_open(&c, path, info.ring_size);
	if (r < 0)
		return log_error_errno(r, "open %s", path);
	r = hv_uio_process(&c, buf, sizeof(buf), answer, NULL, NULL);
	while (r >= 0) {
		int64_t ev;

		r = wait_readable(c.fd, sigfd);
		if (r <= 0)
			break;
		ev = hv_uio_wait(&c);
		if (ev < 0) {
			r = (int)ev;
			break;
		}
		r = hv_uio_process(&c, buf, sizeof(buf), answer, NULL, NULL);
	}
	if (r < 0)
		log_error_errno(r, "%s", path);
	hv_uio_close(&c);
	return r;
}

int main(int argc, char **argv)
{
	int sigfd, r;

	hv_log_open("fcopy-sink", HV_LOG_STDERR);
	sigfd = hv_signalfd_open();
	if (sigfd < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "chardev") == 0)
		r = serve_chardev(argv[2], sigfd);
	else if (argc == 4 && strcmp(argv[1], "uio") == 0)
		r = serve_uio(argv[2], argv[3], sigfd);
	else {
		fprintf(stderr, "usage: fcopy-sink chardev PATH\n"
				"       fcopy-sink uio SYSROOT DEVDIR\n");
		return 64;
	}
	return r < 0 ? 1 : 0;
}
