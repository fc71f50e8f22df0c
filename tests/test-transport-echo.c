/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The transports end to end: tests/helpers/echo-service (libhvis, the
 * production open path) against the simulator, 100,000 messages of random
 * sizes over each transport; none may be lost, reordered or corrupted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "daemon-spawn.h"
#include "hvis/util.h"
#include "hvis/wire.h"
#include "hvsim/hvsim.h"

#define MESSAGES 100000
#define TIMEOUT_MS HVIS_TIMEOUT(10000)
#define UIO_MAX_PAYLOAD 6224 /* a WRITE_TO_FILE packet with its IC header */
#define TEST_GUID "11111111-2222-3333-4444-555555555555"
#define TEST_INSTANCE "66666666-7777-8888-9999-aaaaaaaaaaaa"

extern char **environ;

struct fixture {
	char root[64];
	pid_t pid;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->root, "/tmp/hvis-echo.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	f->pid = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static pid_t spawn_echo(char *const argv[])
{
	pid_t pid;

	assert_int_equal(
		hvis_spawn_daemon(&pid, argv[0], NULL, NULL, argv, environ), 0);
	return pid;
}

static void stop_echo(struct fixture *f)
{
	int status;

	assert_int_equal(kill(f->pid, SIGTERM), 0);
	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	f->pid = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static const char *helper_path(void)
{
	static char path[256];
	const char *build = getenv("BUILD");

	snprintf(path, sizeof(path), "%s/tests/helpers/echo-service",
		 build ? build : "build");
	return path;
}

static void fill(uint8_t *buf, size_t len, uint32_t seq)
{
	/* Sequence number first, then a pattern that depends on it. */
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 31 + i * 7);
	if (len >= 4)
		hv_put_le32(buf, seq);
}

static void test_chardev_echo(void **state)
{
	static uint8_t msg[8192], reply[8192];
	struct fixture *f = *state;
	struct hvsim_cdev *cd;
	char path[128], dir[96];
	uint32_t seq;

	snprintf(dir, sizeof(dir), "%s/dev", f->root);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/echo", dir);
	assert_int_equal(hvsim_cdev_new(path, HVSIM_CDEV_RAW, &cd), 0);
	hvsim_cdev_set_reply_timeout(cd, TIMEOUT_MS);
	f->pid = spawn_echo(
		(char *[]){ (char *)helper_path(), "chardev", path, NULL });
	assert_int_equal(hvsim_cdev_wait_ready(cd, TIMEOUT_MS), 0);

	srandom(1);
	for (seq = 0; seq < MESSAGES; seq++) {
		size_t len = 1 + (size_t)random() % sizeof(msg);
		ssize_t n;

		fill(msg, len, seq);
		n = hvsim_cdev_transact(cd, msg, len, reply, sizeof(reply));
		if (n != (ssize_t)len || memcmp(msg, reply, len) != 0)
			fail_msg("message %u (%zu bytes): got %zd bytes", seq,
				 len, n);
	}
	assert_int_equal(hvsim_cdev_stats(cd)->replies, MESSAGES);
	assert_int_equal(hvsim_cdev_stats(cd)->timeouts, 0);
	assert_int_equal(hvsim_cdev_stats(cd)->resets, 0);
	stop_echo(f);
	hvsim_cdev_free(cd);
}

/*
 * Up to `window` packets are in flight at once, so the rings wrap
 * constantly and the guest finds several packets per interrupt, some of
 * them written while its interrupts were masked.
 */
static void echo_uio(struct fixture *f, uint32_t ring_size, unsigned window,
		     uint32_t start_index)
{
	static uint8_t msg[UIO_MAX_PAYLOAD], reply[UIO_MAX_PAYLOAD + 8];
	char sys[96], dev[96];
	struct hvsim_uio *u;
	uint32_t sent = 0, received = 0;
	uint32_t lens[64];

	assert_true(window <= ARRAY_SIZE(lens));
	assert_int_equal(hvsim_uio_new(f->root, TEST_GUID, TEST_INSTANCE, 3,
				       ring_size, &u),
			 0);
	if (start_index) {
		assert_int_equal(hvsim_uio_set_start_index(u, HVSIM_RING_RX,
							   start_index),
				 0);
		assert_int_equal(hvsim_uio_set_start_index(u, HVSIM_RING_TX,
							   start_index),
				 0);
	}
	snprintf(sys, sizeof(sys), "%s/sys", f->root);
	snprintf(dev, sizeof(dev), "%s/dev", f->root);
	f->pid = spawn_echo((char *[]){ (char *)helper_path(), "uio", sys, dev,
					TEST_GUID, NULL });
	assert_int_equal(hvsim_uio_wait_open(u, TIMEOUT_MS), 0);

	srandom(2);
	while (received < MESSAGES) {
		struct hv_pkt_desc desc;
		uint32_t seq;
		ssize_t n;

		while (sent < MESSAGES && sent - received < window) {
			size_t len = 4 + (size_t)random() % (sizeof(msg) - 3);
			int r;

			fill(msg, len, sent);
			r = hvsim_uio_send(u, VM_PKT_DATA_INBAND, 0, sent, msg,
					   len);
			if (r == -EAGAIN)
				break; /* ring full: collect replies first */
			assert_int_equal(r, 0);
			lens[sent % window] = (uint32_t)len;
			sent++;
		}
		n = hvsim_uio_recv(u, &desc, reply, sizeof(reply), TIMEOUT_MS);
		if (n < 0)
			fail_msg("reply %u: %s (%s)", received,
				 strerror((int)-n),
				 hvsim_uio_last_error_str(u));
		seq = received;
		if (desc.trans_id != seq)
			fail_msg("reply %u carries trans_id %llu", seq,
				 (unsigned long long)desc.trans_id);
		/* The payload comes back padded to 8 bytes. */
		if ((size_t)n < lens[seq % window] ||
		    (size_t)n != HV_ALIGN8(lens[seq % window]))
			fail_msg("reply %u: %zd bytes for %u", seq, n,
				 lens[seq % window]);
		fill(msg, lens[seq % window], seq);
		if (memcmp(msg, reply, lens[seq % window]) != 0)
			fail_msg("reply %u corrupted", seq);
		received++;
	}
	assert_int_equal(hvsim_uio_stats(u)->pkts_from_guest, MESSAGES);
	assert_int_equal(hvsim_uio_last_error(u), HVSIM_UIO_ERR_NONE);
	stop_echo(f);
	hvsim_uio_free(u);
}

static void test_uio_echo_lockstep(void **state)
{
	/* fcopy's ring size: 16 KiB of data after the header page. */
	echo_uio(*state, 0x5000, 1, 0);
}

static void test_uio_echo_pipelined(void **state)
{
	/* Indexes start near the end so the first packets wrap at once. */
	echo_uio(*state, 0x5000, 8, 0x4000 - 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chardev_echo, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uio_echo_lockstep, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uio_echo_pipelined, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("transport-echo", tests, NULL, NULL);
}
