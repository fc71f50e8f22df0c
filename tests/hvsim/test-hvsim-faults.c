/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulator's fault hooks (hvsim_cdev_set_busy, hvsim_cdev_cancel,
 * hvsim_uio_set_busy, the shutdown host dropping late replies) against a
 * small guest written here with raw socket calls and ring accesses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvis/util.h"
#include "hvsim-shutdown.h"
#include "hvsim.h"

struct fx {
	char root[64];
	char path[128];
	struct hvsim_cdev *cd;
	struct hvsim_uio *u;
	struct hvsim_shutdown *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->root, "/tmp/hvsim-faults.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/hv_kvp", f->root);
	*state = f;
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(p);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	hvsim_shutdown_free(f->s);
	hvsim_uio_free(f->u);
	hvsim_cdev_free(f->cd);
	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- the test-local guest ---- */

static int g_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* One record within timeout_ms: its length, 0 at EOF, -ETIMEDOUT. */
static ssize_t g_recv(int fd, void *buf, size_t size, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	n = recv(fd, buf, size, MSG_DONTWAIT);
	if (n < 0)
		return errno == ECONNRESET ? 0 : -errno;
	return n;
}

/* The open status; the memfd that came with it, if any, in *memfd. */
static long g_status(int fd, int *memfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	uint8_t b[8];
	struct iovec iov = { .iov_base = b, .iov_len = sizeof(b) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *cm;
	ssize_t n;

	*memfd = -1;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n != 4)
		return -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(memfd, CMSG_DATA(cm), sizeof(int));
	return (long)hv_le32(b);
}

/* Connect and let the simulator answer; the open status. */
static long g_open_status(int fd, struct fx *f)
{
	int memfd;
	long st;

	if (f->cd)
		assert_int_equal(hvsim_cdev_run(f->cd, 0), 0);
	else
		assert_int_equal(hvsim_uio_run(f->u, 0), 0);
	st = g_status(fd, &memfd);
	if (memfd >= 0)
		close(memfd);
	return st;
}

static void kvp_register(struct fx *f, int fd)
{
	static struct hv_kvp_msg m, r;

	memset(&m, 0, sizeof(m));
	m.kvp_hdr.operation = KVP_OP_REGISTER1;
	assert_int_equal(send(fd, &m, sizeof(m), MSG_NOSIGNAL), sizeof(m));
	assert_int_equal(hvsim_cdev_run(f->cd, 0), 0);
	assert_int_equal(g_recv(fd, &r, sizeof(r), 2000), sizeof(r));
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 2000), 0);
}

/* ---- tests ---- */

/* A phantom opener: EBUSY for everyone, the current holder unaffected. */
static void test_cdev_busy(void **state)
{
	struct fx *f = *state;
	int a, b, c;

	assert_int_equal(hvsim_cdev_new(f->path, HVSIM_CDEV_KVP, &f->cd), 0);
	hvsim_cdev_set_busy(f->cd, true);
	a = g_connect(f->path);
	assert_int_equal(g_open_status(a, f), EBUSY);
	assert_int_equal(g_recv(a, &c, sizeof(c), 2000), 0);
	close(a);
	assert_int_equal(hvsim_cdev_stats(f->cd)->rejected, 1);
	assert_false(hvsim_cdev_is_open(f->cd));

	hvsim_cdev_set_busy(f->cd, false);
	b = g_connect(f->path);
	assert_int_equal(g_open_status(b, f), 0);
	kvp_register(f, b);
	/* Busy again: the one who has it keeps it, a newcomer is refused. */
	hvsim_cdev_set_busy(f->cd, true);
	a = g_connect(f->path);
	assert_int_equal(g_open_status(a, f), EBUSY);
	close(a);
	assert_int_equal(hvsim_cdev_state(f->cd), HVSIM_CDEV_READY);
	assert_int_equal(hvsim_cdev_stats(f->cd)->rejected, 2);
	assert_int_equal(hvsim_cdev_stats(f->cd)->opens, 1);
	close(b);
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
}

/* §2 util_pre_suspend for KVP: the daemon's answer comes too late. */
static void test_cdev_cancel(void **state)
{
	struct fx *f = *state;
	static struct hv_kvp_msg m, r;
	int fd;

	assert_int_equal(hvsim_cdev_new(f->path, HVSIM_CDEV_KVP, &f->cd), 0);
	assert_int_equal(hvsim_cdev_cancel(f->cd), -EINVAL);
	fd = g_connect(f->path);
	assert_int_equal(g_open_status(fd, f), 0);
	kvp_register(f, fd);

	memset(&m, 0, sizeof(m));
	m.kvp_hdr.operation = KVP_OP_ENUMERATE;
	assert_int_equal(hvsim_cdev_send(f->cd, &m, sizeof(m)), 0);
	assert_int_equal(g_recv(fd, &r, sizeof(r), 2000), sizeof(r));
	assert_int_equal(hvsim_cdev_state(f->cd), HVSIM_CDEV_USERSPACE_REQ);
	assert_int_equal(hvsim_cdev_cancel(f->cd), 0);
	assert_int_equal(hvsim_cdev_state(f->cd), HVSIM_CDEV_READY);
	assert_int_equal(hvsim_cdev_wait_reply(f->cd, &r, sizeof(r), 0),
			 -EINVAL);
	/* The late answer: refused, and the connection goes with it. */
	assert_int_equal(send(fd, &r, sizeof(r), MSG_NOSIGNAL), sizeof(r));
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
	assert_int_equal(hvsim_cdev_last_error(f->cd), HVSIM_CDEV_ERR_SPURIOUS);
	assert_int_equal(hvsim_cdev_stats(f->cd)->kernel_closes, 1);
	assert_int_equal(g_recv(fd, &r, sizeof(r), 2000), 0);
	close(fd);

	/* An answer already in: nothing left to cancel, it is delivered. */
	fd = g_connect(f->path);
	assert_int_equal(g_open_status(fd, f), 0);
	kvp_register(f, fd);
	assert_int_equal(hvsim_cdev_send(f->cd, &m, sizeof(m)), 0);
	assert_int_equal(g_recv(fd, &r, sizeof(r), 2000), sizeof(r));
	r.kvp_hdr.operation = 0x42;
	assert_int_equal(send(fd, &r, sizeof(r), MSG_NOSIGNAL), sizeof(r));
	/* Let the simulator see the write before the cancel does. */
	while (hvsim_cdev_state(f->cd) != HVSIM_CDEV_USERSPACE_RECV)
		assert_int_equal(hvsim_cdev_run(f->cd, 10), 0);
	assert_int_equal(hvsim_cdev_cancel(f->cd), -EINVAL);
	assert_int_equal(hvsim_cdev_wait_reply(f->cd, &m, sizeof(m), 0),
			 sizeof(m));
	assert_int_equal(m.kvp_hdr.operation, 0x42);
	close(fd);
}

static void test_uio_busy(void **state)
{
	struct fx *f = *state;
	int a, b;

	assert_int_equal(hvsim_uio_new(f->root, HV_GUID_FCOPY,
				       HV_GUID_FCOPY_INSTANCE, 0, 0x5000,
				       &f->u),
			 0);
	hvsim_uio_set_busy(f->u, true);
	a = g_connect(hvsim_uio_dev_path(f->u));
	assert_int_equal(g_open_status(a, f), EBUSY);
	close(a);
	assert_int_equal(hvsim_uio_stats(f->u)->rejected, 1);
	hvsim_uio_set_busy(f->u, false);
	b = g_connect(hvsim_uio_dev_path(f->u));
	assert_int_equal(g_open_status(b, f), 0);
	assert_true(hvsim_uio_is_open(f->u));
	hvsim_uio_set_busy(f->u, true);
	a = g_connect(hvsim_uio_dev_path(f->u));
	assert_int_equal(g_open_status(a, f), EBUSY);
	close(a);
	assert_true(hvsim_uio_is_open(f->u));
	assert_int_equal(hvsim_uio_stats(f->u)->opens, 1);
	/* Rescind wins over busy: ENODEV. */
	assert_int_equal(hvsim_uio_rescind(f->u), 0);
	a = g_connect(hvsim_uio_dev_path(f->u));
	assert_int_equal(g_open_status(a, f), ENODEV);
	close(a);
	close(b);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Write one reply packet (payload len bytes) into the guest's TX ring. */
static void tx_put(uint8_t *mem, uint32_t R, uint64_t tid, const uint8_t *p,
		   size_t len)
{
	uint8_t *hdr = mem, *data = mem + 4096;
	uint32_t D = R - 4096, w = hv_le32(hdr), i;
	size_t padded = (len + 7) & ~(size_t)7, total = 16 + padded + 8;
	uint8_t pkt[4096] = { 0 };

	assert_true(total <= sizeof(pkt));
	hv_put_le16(pkt, VM_PKT_DATA_INBAND);
	hv_put_le16(pkt + 2, 2);
	hv_put_le16(pkt + 4, (uint16_t)((16 + padded) / 8));
	put_le64(pkt + 8, tid);
	memcpy(pkt + 16, p, len);
	put_le64(pkt + 16 + padded, (uint64_t)w << 32);
	for (i = 0; i < total; i++)
		data[(w + i) % D] = pkt[i];
	hv_put_le32(hdr, (uint32_t)((w + total) % D));
}

/* The host gives up on one request; its late answer is not the next's. */
static void test_shutdown_late_reply(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[HVSIM_SHUTDOWN_PKT_MAX], reply[HVSIM_SHUTDOWN_PKT_MAX + 8];
	struct hvsim_shutdown_req req = { .flags = 0x40 };
	const uint32_t R = 16384;
	uint8_t *mem;
	int fd, memfd;
	ssize_t len, n;

	assert_int_equal(hvsim_uio_new(f->root, HV_GUID_SHUTDOWN,
				       HVSIM_SHUTDOWN_INSTANCE, 1, R, &f->u),
			 0);
	assert_int_equal(hvsim_shutdown_new(f->u, &f->s), 0);
	fd = g_connect(hvsim_uio_dev_path(f->u));
	assert_int_equal(hvsim_uio_run(f->u, 0), 0);
	assert_int_equal(g_status(fd, &memfd), 0);
	mem = mmap(NULL, 2 * (size_t)R, PROT_READ | PROT_WRITE, MAP_SHARED,
		   memfd, 0);
	assert_true(mem != MAP_FAILED);
	close(memfd);

	len = hvsim_shutdown_build(pkt, sizeof(pkt), 1, &req);
	assert_true(len > 0);
	/* Request 1 goes unanswered. */
	assert_int_equal(hvsim_shutdown_exchange(f->s, pkt, (size_t)len, reply,
						 sizeof(reply), 50),
			 -ETIMEDOUT);
	/* Then come its answer and the answer to request 2, in that order. */
	pkt[ICMSG_HDR - 8] = 0x11;
	tx_put(mem, R, 1, pkt, (size_t)len);
	pkt[ICMSG_HDR - 8] = 0x22;
	tx_put(mem, R, 2, pkt, (size_t)len);
	n = hvsim_shutdown_exchange(f->s, pkt, (size_t)len, reply,
				    sizeof(reply), 2000);
	assert_true(n >= len);
	assert_int_equal(reply[ICMSG_HDR - 8], 0x22);
	assert_int_equal(hvsim_shutdown_stats(f->s)->late_replies, 1);
	assert_int_equal(hvsim_shutdown_stats(f->s)->trans_id_mismatches, 0);
	/* A late answer and nothing else: still a timeout. */
	tx_put(mem, R, 2, pkt, (size_t)len);
	assert_int_equal(hvsim_shutdown_exchange(f->s, pkt, (size_t)len, reply,
						 sizeof(reply), 50),
			 -ETIMEDOUT);
	assert_int_equal(hvsim_shutdown_stats(f->s)->late_replies, 2);
	munmap(mem, 2 * (size_t)R);
	close(fd);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_cdev_busy),
		T(test_cdev_cancel),
		T(test_uio_busy),
		T(test_shutdown_late_reply),
	};

	return cmocka_run_group_tests_name("hvsim-faults", tests, NULL, NULL);
}
