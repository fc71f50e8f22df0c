/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The char-device simulator against a small "daemon" written here with
 * raw socket calls (not libhvis), mostly driven step by step in-process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "hvsim.h"

struct fx {
	char dir[64];
	char path[100];
	struct hvsim_cdev *cd;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/hvsim-cdev.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/hv_dev", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	hvsim_cdev_free(f->cd);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct hvsim_cdev *make(struct fx *f, enum hvsim_cdev_kind kind)
{
	assert_int_equal(hvsim_cdev_new(f->path, kind, &f->cd), 0);
	return f->cd;
}

/* ---- the test-local daemon ---- */

static int d_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* One record: its length, 0 on EOF, -ETIMEDOUT. */
static ssize_t d_recv(int fd, void *buf, size_t size, int timeout_ms)
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

/* The open status, or -1 at EOF / timeout. */
static long d_status(int fd)
{
	uint8_t b[8];

	if (d_recv(fd, b, sizeof(b), 2000) != 4)
		return -1;
	return (long)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
		      (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

static bool d_send(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len;
}

static bool d_eof(int fd)
{
	uint8_t b[16];

	return d_recv(fd, b, sizeof(b), 2000) == 0;
}

static bool d_nothing(int fd)
{
	uint8_t b[16];

	return d_recv(fd, b, sizeof(b), 0) == -ETIMEDOUT;
}

/* Connect and let the simulator answer: the daemon's open(). */
static int open_dev(struct fx *f)
{
	int fd = d_connect(f->path);

	assert_true(fd >= 0);
	assert_int_equal(hvsim_cdev_run(f->cd, 0), 0);
	assert_int_equal(d_status(fd), 0);
	return fd;
}

static void kvp_register(struct fx *f, int fd, uint8_t op)
{
	static struct hv_kvp_msg m, r;

	/* §3.1: the rest of the buffer is not cleared by the daemon. */
	memset(&m, 0xa5, sizeof(m));
	m.kvp_hdr.operation = op;
	assert_true(d_send(fd, &m, sizeof(m)));
	assert_int_equal(hvsim_cdev_run(f->cd, 0), 0);
	assert_int_equal(d_recv(fd, &r, sizeof(r), 2000), sizeof(r));
	assert_int_equal(r.kvp_hdr.operation, op);
	assert_string_equal((char *)r.body.kvp_register.version, "3.1");
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 2000), 0);
}

/* ---- tests ---- */

static void test_siocoutq(void **state)
{
	struct fx *f = *state;
	int sv[2], n = -1, fd;
	char b[16];

	/* The property everything else relies on, on a plain pair... */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(ioctl(sv[0], SIOCOUTQ, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(send(sv[0], "0123456789", 10, 0), 10);
	assert_int_equal(ioctl(sv[0], SIOCOUTQ, &n), 0);
	assert_true(n > 0);
	assert_int_equal(recv(sv[1], b, sizeof(b), 0), 10);
	assert_int_equal(ioctl(sv[0], SIOCOUTQ, &n), 0);
	assert_int_equal(n, 0);
	/* ...also for an empty record. */
	assert_int_equal(send(sv[0], b, 0, 0), 0);
	assert_int_equal(ioctl(sv[0], SIOCOUTQ, &n), 0);
	assert_true(n > 0);
	assert_int_equal(recv(sv[1], b, sizeof(b), 0), 0);
	assert_int_equal(ioctl(sv[0], SIOCOUTQ, &n), 0);
	assert_int_equal(n, 0);
	close(sv[0]);
	close(sv[1]);

	/* ...and on an accepted connection, through the simulator. */
	make(f, HVSIM_CDEV_RAW);
	assert_int_equal(hvsim_cdev_unread(f->cd), -ENOTCONN);
	fd = d_connect(f->path);
	assert_int_equal(hvsim_cdev_run(f->cd, 0), 0);
	assert_true(hvsim_cdev_unread(f->cd) > 0);
	assert_int_equal(d_status(fd), 0);
	assert_int_equal(hvsim_cdev_unread(f->cd), 0);
	close(fd);
}

static void test_exclusive_open(void **state)
{
	struct fx *f = *state;
	int a, b, c;

	make(f, HVSIM_CDEV_RAW);
	a = open_dev(f);
	b = d_connect(f->path);
	assert_true(b >= 0);
	assert_int_equal(hvsim_cdev_run(f->cd, 0), 0);
	assert_int_equal(d_status(b), EBUSY);
	assert_true(d_eof(b));
	assert_int_equal(hvsim_cdev_stats(f->cd)->opens, 1);
	assert_int_equal(hvsim_cdev_stats(f->cd)->rejected, 1);
	assert_true(hvsim_cdev_is_open(f->cd));

	/* Once the first one is closed the device can be opened again. */
	close(a);
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
	c = open_dev(f);
	assert_int_equal(hvsim_cdev_stats(f->cd)->opens, 2);
	assert_int_equal(hvsim_cdev_stats(f->cd)->resets, 1);
	assert_int_equal(hvsim_cdev_stats(f->cd)->kernel_closes, 0);
	close(b);
	close(c);
}

static void test_raw_ready_after_open(void **state)
{
	struct fx *f = *state;
	char buf[16];
	int fd;

	make(f, HVSIM_CDEV_RAW);
	fd = d_connect(f->path);
	assert_int_equal(hvsim_cdev_run(f->cd, 0), 0);
	/* open() has not returned in the daemon yet. */
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 0), -ETIMEDOUT);
	assert_int_equal(hvsim_cdev_queue(f->cd, "x", 1), -EFAULT);
	assert_int_equal(d_status(fd), 0);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 2000), 0);
	assert_int_equal(hvsim_cdev_state(f->cd), HVSIM_CDEV_READY);

	/* One outbound slot: the second message waits for the first read. */
	assert_int_equal(hvsim_cdev_queue(f->cd, "one", 3), 0);
	assert_int_equal(hvsim_cdev_queue(f->cd, "two", 3), -EFAULT);
	assert_true(hvsim_cdev_unread(f->cd) > 0);
	assert_int_equal(d_recv(fd, buf, sizeof(buf), 2000), 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(hvsim_cdev_unread(f->cd), 0);
	assert_int_equal(hvsim_cdev_queue(f->cd, "two", 3), 0);
	assert_int_equal(d_recv(fd, buf, sizeof(buf), 2000), 3);
	assert_memory_equal(buf, "two", 3);
	close(fd);
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
	assert_int_equal(hvsim_cdev_queue(f->cd, "x", 1), -EINVAL);
}

static void test_kvp_registration(void **state)
{
	struct fx *f = *state;
	static struct hv_kvp_msg m, r;
	static uint8_t big[8192];
	int fd;

	make(f, HVSIM_CDEV_KVP);
	fd = open_dev(f);
	memset(&m, 0, sizeof(m));
	m.kvp_hdr.operation = KVP_OP_REGISTER1;
	assert_true(d_send(fd, &m, sizeof(m)));
	assert_int_equal(hvsim_cdev_run(f->cd, 0), 0);
	/* Queued but unread: not READY yet. */
	assert_int_equal(hvsim_cdev_state(f->cd), HVSIM_CDEV_DEVICE_INIT);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 20), -ETIMEDOUT);
	assert_int_equal(d_recv(fd, big, sizeof(big), 2000), 7432);
	memcpy(&r, big, sizeof(r));
	assert_int_equal(r.kvp_hdr.operation, KVP_OP_REGISTER1);
	assert_memory_equal((uint8_t *)&r + 4, "3.1\0", 4);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 2000), 0);
	assert_int_equal(hvsim_cdev_registered_as(f->cd), KVP_OP_REGISTER1);
	assert_int_equal(hvsim_cdev_stats(f->cd)->registrations, 1);
	close(fd);
}

static void test_kvp_legacy_registration(void **state)
{
	struct fx *f = *state;
	int fd;

	make(f, HVSIM_CDEV_KVP);
	fd = open_dev(f);
	/* The kernel echoes the registering op (kvp_register(dm_reg_value)). */
	kvp_register(f, fd, KVP_OP_REGISTER);
	assert_int_equal(hvsim_cdev_registered_as(f->cd), KVP_OP_REGISTER);
	close(fd);
}

static void test_kvp_refused_writes(void **state)
{
	struct fx *f = *state;
	static struct hv_kvp_msg m;
	int fd;

	make(f, HVSIM_CDEV_KVP);

	fd = open_dev(f);
	memset(&m, 0, sizeof(m));
	m.kvp_hdr.operation = 5;
	assert_true(d_send(fd, &m, sizeof(m)));
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
	assert_true(d_eof(fd));
	assert_int_equal(hvsim_cdev_last_error(f->cd),
			 HVSIM_CDEV_ERR_BAD_REGISTRATION);
	assert_non_null(strstr(hvsim_cdev_last_error_str(f->cd), "5"));
	close(fd);

	fd = open_dev(f);
	m.kvp_hdr.operation = KVP_OP_REGISTER1;
	assert_true(d_send(fd, &m, sizeof(m) - 1));
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
	assert_true(d_eof(fd));
	assert_int_equal(hvsim_cdev_last_error(f->cd),
			 HVSIM_CDEV_ERR_BAD_LENGTH);
	close(fd);

	/* Registering again before reading the reply: the slot is busy. */
	fd = open_dev(f);
	assert_true(d_send(fd, &m, sizeof(m)));
	assert_true(d_send(fd, &m, sizeof(m)));
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
	assert_int_equal(hvsim_cdev_last_error(f->cd),
			 HVSIM_CDEV_ERR_REGISTRATION_BUSY);
	close(fd);

	/* A reply nobody asked for. */
	fd = open_dev(f);
	kvp_register(f, fd, KVP_OP_REGISTER1);
	assert_true(d_send(fd, &m, sizeof(m)));
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
	assert_int_equal(hvsim_cdev_last_error(f->cd), HVSIM_CDEV_ERR_SPURIOUS);
	assert_int_equal(hvsim_cdev_state(f->cd), HVSIM_CDEV_DEVICE_INIT);
	assert_int_equal(hvsim_cdev_stats(f->cd)->kernel_closes, 4);
	close(fd);
}

static void test_early_write(void **state)
{
	struct fx *f = *state;
	static struct hv_kvp_msg m;
	int fd;

	make(f, HVSIM_CDEV_KVP);
	fd = d_connect(f->path);
	assert_int_equal(hvsim_cdev_run(f->cd, 0), 0);
	m.kvp_hdr.operation = KVP_OP_REGISTER1;
	assert_true(d_send(fd, &m, sizeof(m)));
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
	assert_int_equal(hvsim_cdev_last_error(f->cd),
			 HVSIM_CDEV_ERR_EARLY_WRITE);
	close(fd);
}

static void test_vss_registration(void **state)
{
	struct fx *f = *state;
	struct hv_vss_msg m;
	uint8_t r[16];
	uint32_t v;
	int fd;

	make(f, HVSIM_CDEV_VSS);
	fd = open_dev(f);
	memset(&m, 0, sizeof(m));
	m.vss_hdr.operation = VSS_OP_REGISTER1;
	assert_true(d_send(fd, &m, sizeof(m)));
	assert_int_equal(hvsim_cdev_run(f->cd, 0), 0);
	assert_int_equal(d_recv(fd, r, sizeof(r), 2000), 4);
	memcpy(&v, r, 4);
	assert_int_equal(v, VSS_OP_REGISTER1);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 2000), 0);
	close(fd);
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);

	/* Legacy op 128: no reply. */
	fd = open_dev(f);
	m.vss_hdr.operation = VSS_OP_REGISTER;
	assert_true(d_send(fd, &m, sizeof(m)));
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 2000), 0);
	assert_true(d_nothing(fd));
	assert_int_equal(hvsim_cdev_registered_as(f->cd), VSS_OP_REGISTER);
	close(fd);
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);

	/* Every VSS write is exactly 12 bytes. */
	fd = open_dev(f);
	m.vss_hdr.operation = VSS_OP_REGISTER1;
	assert_true(d_send(fd, &m, 8));
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
	assert_int_equal(hvsim_cdev_last_error(f->cd),
			 HVSIM_CDEV_ERR_BAD_LENGTH);
	close(fd);

	/* Anything else before registering is a reply to nothing. */
	fd = open_dev(f);
	m.vss_hdr.operation = VSS_OP_FREEZE;
	assert_true(d_send(fd, &m, sizeof(m)));
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
	assert_int_equal(hvsim_cdev_last_error(f->cd), HVSIM_CDEV_ERR_SPURIOUS);
	close(fd);
}

static void test_fcopy_registration(void **state)
{
	struct fx *f = *state;
	int32_t ver;
	uint8_t r[16];
	uint32_t v;
	int fd;

	make(f, HVSIM_CDEV_FCOPY);
	fd = open_dev(f);
	ver = FCOPY_CURRENT_VERSION;
	assert_true(d_send(fd, &ver, sizeof(ver)));
	assert_int_equal(hvsim_cdev_run(f->cd, 0), 0);
	assert_int_equal(d_recv(fd, r, sizeof(r), 2000), 4);
	memcpy(&v, r, 4);
	assert_int_equal(v, 1);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 2000), 0);
	close(fd);
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);

	fd = open_dev(f);
	ver = 0;
	assert_true(d_send(fd, &ver, sizeof(ver)));
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 2000), 0);
	assert_true(d_nothing(fd));
	close(fd);
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);

	fd = open_dev(f);
	ver = 2;
	assert_true(d_send(fd, &ver, sizeof(ver)));
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
	assert_int_equal(hvsim_cdev_last_error(f->cd),
			 HVSIM_CDEV_ERR_BAD_REGISTRATION);
	close(fd);
}

static void test_split_transaction(void **state)
{
	struct fx *f = *state;
	static struct hv_kvp_msg m, r, got;
	int fd;

	make(f, HVSIM_CDEV_KVP);
	assert_int_equal(hvsim_cdev_send(f->cd, &m, sizeof(m)), -ENOTCONN);
	fd = open_dev(f);
	kvp_register(f, fd, KVP_OP_REGISTER1);

	memset(&m, 0, sizeof(m));
	m.kvp_hdr.operation = KVP_OP_GET;
	m.kvp_hdr.pool = KVP_POOL_AUTO;
	strcpy((char *)m.body.kvp_get.data.key, "FullyQualifiedDomainName");
	assert_int_equal(hvsim_cdev_send(f->cd, &m, sizeof(m)), 0);
	assert_int_equal(hvsim_cdev_state(f->cd), HVSIM_CDEV_USERSPACE_REQ);
	assert_int_equal(hvsim_cdev_send(f->cd, &m, sizeof(m)), -EBUSY);
	assert_int_equal(hvsim_cdev_queue(f->cd, &m, sizeof(m)), -EFAULT);

	assert_int_equal(d_recv(fd, &r, sizeof(r), 2000), sizeof(r));
	assert_memory_equal(&r, &m, sizeof(m));
	r.error = HV_S_OK;
	strcpy((char *)r.body.kvp_get.data.value, "guest.example");
	assert_true(d_send(fd, &r, sizeof(r)));

	assert_int_equal(hvsim_cdev_wait_reply(f->cd, &got, sizeof(got) - 1,
					       2000),
			 -ENOBUFS);
	assert_int_equal(hvsim_cdev_state(f->cd), HVSIM_CDEV_USERSPACE_RECV);
	assert_int_equal(hvsim_cdev_wait_reply(f->cd, &got, sizeof(got), 2000),
			 sizeof(got));
	assert_memory_equal(&got, &r, sizeof(r));
	assert_int_equal(hvsim_cdev_state(f->cd), HVSIM_CDEV_READY);
	assert_int_equal(hvsim_cdev_wait_reply(f->cd, &got, sizeof(got), 0),
			 -EINVAL);
	assert_int_equal(hvsim_cdev_stats(f->cd)->replies, 1);
	close(fd);
}

static void test_timeout_then_late_reply(void **state)
{
	struct fx *f = *state;
	static struct hv_kvp_msg m, r;
	int fd;

	make(f, HVSIM_CDEV_KVP);
	fd = open_dev(f);
	kvp_register(f, fd, KVP_OP_REGISTER1);

	/* The daemon never answers: transact gives up after the timeout. */
	hvsim_cdev_set_reply_timeout(f->cd, 50);
	m.kvp_hdr.operation = KVP_OP_ENUMERATE;
	assert_int_equal(hvsim_cdev_transact(f->cd, &m, sizeof(m), &r,
					     sizeof(r)),
			 -ETIMEDOUT);
	assert_int_equal(hvsim_cdev_state(f->cd), HVSIM_CDEV_READY);
	assert_int_equal(hvsim_cdev_stats(f->cd)->timeouts, 1);
	/* The timed-out message is still unread, so the slot is busy. */
	assert_int_equal(hvsim_cdev_send(f->cd, &m, sizeof(m)), -EFAULT);

	/* It reads it late and replies: a reply with nothing outstanding. */
	assert_int_equal(d_recv(fd, &r, sizeof(r), 2000), sizeof(r));
	assert_true(d_send(fd, &r, sizeof(r)));
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, 2000), 0);
	assert_int_equal(hvsim_cdev_last_error(f->cd), HVSIM_CDEV_ERR_SPURIOUS);
	assert_true(d_eof(fd));
	close(fd);
}

static void test_reset_on_close(void **state)
{
	struct fx *f = *state;
	static struct hv_kvp_msg m, r;
	int fd;

	make(f, HVSIM_CDEV_KVP);
	fd = open_dev(f);
	kvp_register(f, fd, KVP_OP_REGISTER1);
	m.kvp_hdr.operation = KVP_OP_SET;
	assert_int_equal(hvsim_cdev_send(f->cd, &m, sizeof(m)), 0);
	close(fd);
	assert_int_equal(hvsim_cdev_wait_reply(f->cd, &r, sizeof(r), 2000),
			 -ECONNRESET);
	assert_int_equal(hvsim_cdev_state(f->cd), HVSIM_CDEV_DEVICE_INIT);
	assert_false(hvsim_cdev_is_open(f->cd));

	/* Reopened: nothing goes through until it registers again. */
	fd = open_dev(f);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 20), -ETIMEDOUT);
	assert_int_equal(hvsim_cdev_send(f->cd, &m, sizeof(m)), -ENOTCONN);
	/* The message sent before the close is gone. */
	assert_true(d_nothing(fd));
	kvp_register(f, fd, KVP_OP_REGISTER1);
	assert_int_equal(hvsim_cdev_stats(f->cd)->registrations, 2);
	assert_int_equal(hvsim_cdev_send(f->cd, &m, sizeof(m)), 0);
	close(fd);
}

static void test_vss_register_mid_transaction(void **state)
{
	struct fx *f = *state;
	struct hv_vss_msg m = { 0 }, r;
	uint8_t b[16];
	int fd;

	make(f, HVSIM_CDEV_VSS);
	fd = open_dev(f);
	m.vss_hdr.operation = VSS_OP_REGISTER1;
	assert_true(d_send(fd, &m, sizeof(m)));
	assert_int_equal(hvsim_cdev_run(f->cd, 0), 0);
	assert_int_equal(d_recv(fd, b, sizeof(b), 2000), 4);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 2000), 0);

	memset(&m, 0, sizeof(m));
	m.vss_hdr.operation = VSS_OP_FREEZE;
	assert_int_equal(hvsim_cdev_send(f->cd, &m, sizeof(m)), 0);
	assert_int_equal(d_recv(fd, &r, sizeof(r), 2000), sizeof(r));
	assert_int_equal(r.vss_hdr.operation, VSS_OP_FREEZE);
	r.vss_hdr.operation = VSS_OP_REGISTER1;
	assert_true(d_send(fd, &r, sizeof(r)));
	assert_int_equal(hvsim_cdev_wait_reply(f->cd, &r, sizeof(r), 2000),
			 -ECONNRESET);
	assert_int_equal(hvsim_cdev_last_error(f->cd),
			 HVSIM_CDEV_ERR_REGISTRATION_BUSY);
	close(fd);
}

static void test_fcopy_reply_length(void **state)
{
	struct fx *f = *state;
	static struct hv_start_fcopy m, r;
	int32_t ver = 0;
	int fd;

	make(f, HVSIM_CDEV_FCOPY);
	fd = open_dev(f);
	assert_true(d_send(fd, &ver, sizeof(ver)));
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 2000), 0);
	m.hdr.operation = START_FILE_COPY;
	assert_int_equal(hvsim_cdev_send(f->cd, &m, sizeof(m)), 0);
	assert_int_equal(d_recv(fd, &r, sizeof(r), 2000), 1088);
	assert_true(d_send(fd, "\0\0\0\0\0\0\0\0", 8));
	assert_int_equal(hvsim_cdev_wait_reply(f->cd, &r, sizeof(r), 2000),
			 -ECONNRESET);
	assert_int_equal(hvsim_cdev_last_error(f->cd),
			 HVSIM_CDEV_ERR_BAD_LENGTH);
	close(fd);
}

/* A daemon in a child process for the blocking transact(). */
static int child_daemon(const char *path)
{
	static struct hv_kvp_msg m;
	int fd, i;

	fd = d_connect(path);
	if (fd < 0 || d_status(fd) != 0)
		return 10;
	memset(&m, 0, sizeof(m));
	m.kvp_hdr.operation = KVP_OP_REGISTER1;
	if (!d_send(fd, &m, sizeof(m)))
		return 11;
	if (d_recv(fd, &m, sizeof(m), 5000) != sizeof(m) ||
	    m.kvp_hdr.operation != KVP_OP_REGISTER1)
		return 12;
	for (i = 0;; i++) {
		ssize_t n = d_recv(fd, &m, sizeof(m), 5000);

		if (n == 0)
			return i == 2 ? 0 : 13;
		if (n != sizeof(m))
			return 14;
		m.error = HV_S_OK;
		m.body.kvp_get.data.value[0] = (uint8_t)('a' + i);
		if (!d_send(fd, &m, sizeof(m)))
			return 15;
	}
}

static void test_transact_round_trip(void **state)
{
	struct fx *f = *state;
	static struct hv_kvp_msg m, r;
	int status;
	pid_t pid;

	make(f, HVSIM_CDEV_KVP);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_daemon(f->path));

	assert_int_equal(hvsim_cdev_wait_ready(f->cd, 5000), 0);
	m.kvp_hdr.operation = KVP_OP_GET;
	m.kvp_hdr.pool = KVP_POOL_EXTERNAL;
	assert_int_equal(hvsim_cdev_transact(f->cd, &m, sizeof(m), &r,
					     sizeof(r)),
			 sizeof(r));
	assert_int_equal(r.error, HV_S_OK);
	assert_int_equal(r.body.kvp_get.data.value[0], 'a');
	assert_int_equal(hvsim_cdev_transact(f->cd, &m, sizeof(m), &r,
					     sizeof(r)),
			 sizeof(r));
	assert_int_equal(r.body.kvp_get.data.value[0], 'b');
	assert_int_equal(hvsim_cdev_stats(f->cd)->sent, 3);

	/* Closing the device is the daemon's EOF. */
	f->cd = hvsim_cdev_free(f->cd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_new_errors(void **state)
{
	struct fx *f = *state;
	struct hvsim_cdev *cd = NULL;
	struct sockaddr_un sa;
	int fd;

	/* Not a socket: left alone. */
	fd = open(f->path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(hvsim_cdev_new(f->path, HVSIM_CDEV_KVP, &cd), -EEXIST);
	assert_null(cd);
	unlink(f->path);
	assert_int_equal(hvsim_cdev_new(f->path, HVSIM_CDEV_KIND_MAX, &cd),
			 -EINVAL);

	/* A stale socket from a dead simulator is replaced. */
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(d_connect(f->path), -ECONNREFUSED);
	assert_int_equal(hvsim_cdev_new(f->path, HVSIM_CDEV_KVP, &cd), 0);
	fd = d_connect(f->path);
	assert_true(fd >= 0);
	close(fd);
	hvsim_cdev_free(cd);
	assert_int_equal(access(f->path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_siocoutq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_open, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_raw_ready_after_open,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_kvp_registration, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kvp_legacy_registration,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_kvp_refused_writes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_early_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vss_registration, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fcopy_registration, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_split_transaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeout_then_late_reply,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_on_close, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_vss_register_mid_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fcopy_reply_length, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_transact_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_new_errors, setup,
						teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("hvsim-cdev", tests, NULL, NULL);
}
