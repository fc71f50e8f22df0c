/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VSS host + kernel model against a fake daemon written here with raw
 * socket calls (a forked child): what the kernel answers itself, what it
 * forwards and how, its timeouts, the HOT_BACKUP flag quirk, backups and
 * the hibernation THAW.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hvsim-vss.h"

#define WAIT_MS 5000

/* What the fake daemon does with each message. */
enum mode {
	MODE_OK, /* status 0 */
	MODE_FAIL, /* status HV_E_FAIL */
	MODE_TWO, /* status 2: the byte the kernel mistakes for HOT_BACKUP */
	MODE_SILENT, /* never answers */
	MODE_CLOSE, /* closes on the first message */
};

struct fx {
	char dir[64];
	char path[100];
	struct hvsim_cdev *cd;
	struct hvsim_vss *v;
	pid_t pid;
	int ops_fd; /* the child writes each op it received here */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/hvsim-vss.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/hv_vss", f->dir);
	f->ops_fd = -1;
	if (hvsim_cdev_new(f->path, HVSIM_CDEV_VSS, &f->cd) < 0 ||
	    hvsim_vss_new(f->cd, &f->v) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	if (f->ops_fd >= 0)
		close(f->ops_fd);
	hvsim_vss_free(f->v);
	hvsim_cdev_free(f->cd);
	rmdir(f->dir);
	free(f);
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The fake daemon: register with REGISTER1, answer by mode, report ops
 * (0xee for a message that is not a zeroed 12-byte op). */
static void child(const char *path, enum mode mode, int ops)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t m[64];
	ssize_t n;
	int fd;

	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		_exit(2);
	if (recv(fd, m, sizeof(m), 0) != 4 || le32(m) != 0)
		_exit(3);
	memset(m, 0, 12);
	m[0] = VSS_OP_REGISTER1;
	if (send(fd, m, 12, 0) != 12)
		_exit(4);
	if (recv(fd, m, sizeof(m), 0) != 4 || le32(m) != VSS_OP_REGISTER1)
		_exit(5);
	for (;;) {
		uint8_t op;
		size_t i;
		bool zero = true;

		n = recv(fd, m, sizeof(m), 0);
		if (n <= 0)
			_exit(0);
		for (i = 1; i < (size_t)n; i++)
			zero = zero && m[i] == 0;
		op = n == 12 && zero ? m[0] : 0xee;
		if (write(ops, &op, 1) != 1)
			_exit(6);
		if (mode == MODE_CLOSE)
			_exit(0);
		if (mode == MODE_SILENT)
			continue;
		/* HV_E_FAIL is 0x80004005, little-endian. */
		m[0] = mode == MODE_TWO ? 2 : mode == MODE_FAIL ? 0x05 : 0;
		m[1] = mode == MODE_FAIL ? 0x40 : 0;
		m[2] = 0;
		m[3] = mode == MODE_FAIL ? 0x80 : 0;
		if (send(fd, m, 12, MSG_NOSIGNAL) != 12)
			_exit(0);
	}
}

static void start_daemon(struct fx *f, enum mode mode)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		close(p[0]);
		child(f->path, mode, p[1]);
		_exit(0);
	}
	close(p[1]);
	f->ops_fd = p[0];
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, WAIT_MS), 0);
}

/* The ops the fake daemon has received so far, as a string of bytes. */
static size_t ops_seen(struct fx *f, uint8_t *ops, size_t max)
{
	struct pollfd p = { .fd = f->ops_fd, .events = POLLIN };
	size_t n = 0;

	while (n < max && poll(&p, 1, 0) == 1) {
		if (read(f->ops_fd, ops + n, 1) != 1)
			break;
		n++;
	}
	return n;
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the kernel on its own ---- */

static void test_negotiate_without_daemon(void **state)
{
	struct fx *f = *state;
	static const uint32_t fw[] = { HV_IC_VERSION(3, 0) };
	static const uint32_t svc4[] = { HV_IC_VERSION(4, 0) };
	uint8_t req[256], rep[256];
	struct hvsim_ic_nego nego;
	ssize_t len, n;

	/* §4.2: answered even with no daemon; §1.3: VSS is 3.0 / 5.0. */
	assert_int_equal(hvsim_vss_negotiate(f->v), 0);
	assert_int_equal(hvsim_vss_last_path(f->v), HVSIM_VSS_PATH_KERNEL);
	assert_int_equal(hvsim_vss_stats(f->v)->negotiations, 1);

	/* A host offering only service 4.0: no match, counts 0/0. */
	len = hvsim_ic_build_negotiate(req, sizeof(req), 9, fw, 1, svc4, 1);
	assert_true(len > 0);
	n = hvsim_vss_exchange(f->v, req, (size_t)len, rep, sizeof(rep));
	assert_int_equal(n, len);
	assert_int_equal(hvsim_ic_check_negotiate(req, (size_t)len, rep,
						  (size_t)n, &nego, NULL, 0),
			 0);
	assert_false(nego.found);
	/* The unmatched slots carry the host's counts as majors. */
	assert_int_equal(rep[ICMSG_HDR + 8], 1);
	assert_int_equal(rep[ICMSG_HDR + 12], 1);
}

static void test_ops_without_daemon(void **state)
{
	struct fx *f = *state;
	uint32_t st, flags;
	uint64_t t0 = ms_now();

	/* Forwarded ops fail at once without a daemon. */
	assert_int_equal(hvsim_vss_freeze(f->v, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_vss_last_path(f->v), HVSIM_VSS_PATH_NO_DAEMON);
	assert_int_equal(hvsim_vss_thaw(f->v, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_vss_hot_backup(f->v, &st, NULL), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_true(ms_now() - t0 < 1000);
	/* Everything else is answered by the kernel with success. */
	assert_int_equal(
		hvsim_vss_request(f->v, VSS_OP_GET_DM_INFO, 7, &st, &flags), 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(flags, 0);
	assert_int_equal(hvsim_vss_last_path(f->v), HVSIM_VSS_PATH_KERNEL);
	assert_int_equal(hvsim_vss_request(f->v, VSS_OP_CREATE, 7, &st, &flags),
			 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(flags, 7);
	assert_int_equal(
		hvsim_vss_request(f->v, VSS_OP_AUTO_RECOVER, 0, &st, NULL), 0);
	assert_int_equal(hvsim_vss_request(f->v, 200, 0, &st, NULL), 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(hvsim_vss_stats(f->v)->kernel_failures, 3);
}

static void test_bad_packets(void **state)
{
	struct fx *f = *state;
	struct hvsim_ic_msg m = { .msgtype = ICMSGTYPE_VSS };
	uint8_t pkt[HVSIM_VSS_RECV_MAX + 8], rep[HVSIM_VSS_RECV_MAX + 8];
	uint8_t body[12] = { VSS_OP_FREEZE };
	static uint8_t lun[6260];
	ssize_t len;

	len = hvsim_ic_build(pkt, sizeof(pkt), &m, body, sizeof(body));
	assert_int_equal(len, HVSIM_VSS_PKT_MIN);
	assert_int_equal(hvsim_vss_exchange(f->v, pkt, 27, rep, sizeof(rep)),
			 -ENOMSG);
	assert_int_equal(hvsim_vss_exchange(f->v, pkt, (size_t)len - 1, rep,
					    sizeof(rep)),
			 -ENOMSG);
	assert_int_equal(hvsim_vss_exchange(f->v, pkt, (size_t)len, rep, 10),
			 -ENOBUFS);
	assert_int_equal(hvsim_vss_exchange(f->v, pkt, HVSIM_VSS_RECV_MAX + 1,
					    rep, sizeof(rep)),
			 -EMSGSIZE);
	m.msgtype = ICMSGTYPE_KVPEXCHANGE;
	len = hvsim_ic_build(pkt, sizeof(pkt), &m, body, sizeof(body));
	assert_int_equal(hvsim_vss_exchange(f->v, pkt, (size_t)len, rep,
					    sizeof(rep)),
			 -ENOMSG);
	assert_int_equal(hvsim_vss_stats(f->v)->dropped, 3);
	/* A FREEZE with LUN data (§4.2): the reply keeps its length. */
	memset(lun, 0, sizeof(lun));
	lun[0] = VSS_OP_FREEZE;
	m.msgtype = ICMSGTYPE_VSS;
	len = hvsim_ic_build(pkt, sizeof(pkt), &m, lun, sizeof(lun));
	assert_int_equal(len, ICMSG_HDR + 6260);
	assert_int_equal(hvsim_vss_exchange(f->v, pkt, (size_t)len, rep,
					    sizeof(rep)),
			 len);
	assert_int_equal(rep[25],
			 ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_RESPONSE);
}

/* ---- with a daemon ---- */

static void test_forwarding(void **state)
{
	struct fx *f = *state;
	const struct hv_vss_msg *last;
	uint8_t ops[8];
	uint32_t st, flags;

	start_daemon(f, MODE_OK);
	assert_int_equal(hvsim_vss_freeze(f->v, &st), 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(hvsim_vss_last_path(f->v), HVSIM_VSS_PATH_DAEMON);
	last = hvsim_vss_last_reply(f->v);
	assert_non_null(last);
	assert_int_equal(last->error, 0);
	assert_int_equal(hvsim_vss_thaw(f->v, &st), 0);
	assert_int_equal(st, HV_S_OK);
	/* §4.2 quirk: success overwrote the op byte, the flag is not set. */
	assert_int_equal(
		hvsim_vss_request(f->v, VSS_OP_HOT_BACKUP, 9, &st, &flags), 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(flags, 9);
	/* GET_DM_INFO never reaches the daemon. */
	assert_int_equal(
		hvsim_vss_request(f->v, VSS_OP_GET_DM_INFO, 0, &st, NULL), 0);
	/* Zeroed 12-byte messages holding only the operation. */
	assert_int_equal(ops_seen(f, ops, sizeof(ops)), 3);
	assert_int_equal(ops[0], VSS_OP_FREEZE);
	assert_int_equal(ops[1], VSS_OP_THAW);
	assert_int_equal(ops[2], VSS_OP_HOT_BACKUP);
	assert_int_equal(hvsim_vss_stats(f->v)->forwarded, 3);
	assert_int_equal(hvsim_vss_stats(f->v)->daemon_replies, 3);
}

static void test_daemon_status(void **state)
{
	struct fx *f = *state;
	uint32_t st;

	start_daemon(f, MODE_FAIL);
	assert_int_equal(hvsim_vss_freeze(f->v, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_vss_last_path(f->v), HVSIM_VSS_PATH_DAEMON);
}

static void test_hot_backup_quirk(void **state)
{
	struct fx *f = *state;
	uint32_t st, flags;

	start_daemon(f, MODE_TWO);
	/* A status whose low byte is 2 makes the kernel set the flag. */
	assert_int_equal(hvsim_vss_hot_backup(f->v, &st, &flags), 0);
	assert_int_equal(st, 2);
	assert_int_equal(flags, HVSIM_VSS_HBU_FLAG);
}

static void test_timeouts(void **state)
{
	struct fx *f = *state;
	uint32_t st;
	uint64_t t0;

	start_daemon(f, MODE_SILENT);
	hvsim_vss_set_timeouts(f->v, 600, 100);
	t0 = ms_now();
	assert_int_equal(hvsim_vss_freeze(f->v, &st), 0);
	assert_true(ms_now() - t0 >= 600);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_vss_last_path(f->v), HVSIM_VSS_PATH_TIMEOUT);
	/* Other ops use the short timeout. */
	t0 = ms_now();
	assert_int_equal(hvsim_vss_thaw(f->v, &st), 0);
	assert_true(ms_now() - t0 >= 100);
	assert_true(ms_now() - t0 < 550);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_cdev_stats(f->cd)->timeouts, 2);
}

static void test_reset(void **state)
{
	struct fx *f = *state;
	uint32_t st;

	start_daemon(f, MODE_CLOSE);
	assert_int_equal(hvsim_vss_freeze(f->v, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_vss_last_path(f->v), HVSIM_VSS_PATH_RESET);
	/* Closed: the next forwarded op fails at once. */
	assert_int_equal(hvsim_vss_thaw(f->v, &st), 0);
	assert_int_equal(hvsim_vss_last_path(f->v), HVSIM_VSS_PATH_NO_DAEMON);
}

static void test_backup(void **state)
{
	struct fx *f = *state;
	struct hvsim_vss_backup b;
	uint8_t ops[8];

	start_daemon(f, MODE_OK);
	assert_int_equal(hvsim_vss_backup(f->v, 50, &b), 0);
	assert_int_equal(b.freeze_status, HV_S_OK);
	assert_int_equal(b.thaw_status, HV_S_OK);
	assert_int_equal(b.freeze_path, HVSIM_VSS_PATH_DAEMON);
	assert_int_equal(b.thaw_path, HVSIM_VSS_PATH_DAEMON);
	assert_int_equal(ops_seen(f, ops, sizeof(ops)), 2);
	assert_int_equal(ops[0], VSS_OP_FREEZE);
	assert_int_equal(ops[1], VSS_OP_THAW);
	assert_int_equal(hvsim_vss_backup(f->v, -1, &b), -EINVAL);
}

static void test_backup_failed_freeze(void **state)
{
	struct fx *f = *state;
	struct hvsim_vss_backup b;
	uint8_t ops[8];

	start_daemon(f, MODE_FAIL);
	assert_int_equal(hvsim_vss_backup(f->v, 10000, &b), 0);
	assert_int_equal(b.freeze_status, HV_E_FAIL);
	/* No hold after a failure, and the THAW still goes out. */
	assert_true(b.freeze_usec + b.thaw_usec < 5000000);
	assert_int_equal(ops_seen(f, ops, sizeof(ops)), 2);
	assert_int_equal(ops[1], VSS_OP_THAW);
}

static void test_hibernate(void **state)
{
	struct fx *f = *state;
	uint8_t ops[8];
	uint32_t st;

	assert_int_equal(hvsim_vss_hibernate(f->v), -EINVAL);
	start_daemon(f, MODE_OK);
	assert_int_equal(hvsim_vss_hibernate(f->v), 0);
	/* The daemon answers a THAW nobody asked for: the kernel refuses
	 * it and the connection ends. */
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, WAIT_MS), 0);
	assert_int_equal(hvsim_cdev_last_error(f->cd), HVSIM_CDEV_ERR_SPURIOUS);
	assert_int_equal(ops_seen(f, ops, sizeof(ops)), 1);
	assert_int_equal(ops[0], VSS_OP_THAW);
	assert_int_equal(hvsim_vss_freeze(f->v, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_string_equal(hvsim_vss_path_name(hvsim_vss_last_path(f->v)),
			    "no-daemon");
	assert_string_equal(hvsim_vss_path_name(HVSIM_VSS_PATH_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_negotiate_without_daemon,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ops_without_daemon, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_packets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forwarding, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_daemon_status, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hot_backup_quirk, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_failed_freeze,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hibernate, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("hvsim-vss", tests, NULL, NULL);
}
