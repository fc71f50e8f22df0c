/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_shutdown_daemon under injected faults (issue 9), on its UIO channel:
 * the host rescinding the channel while idle and while a request waits in
 * the ring; another opener holding /dev/uioN (EBUSY); the host giving up
 * on a request and the daemon's late answer; the RX ring filled with
 * maximum-size SHUTDOWN messages (2047-byte text) twice over.
 *
 * There is no D-Bus here (the bus address names nothing), so accepted
 * requests go to the fallback command, a script that only records its
 * arguments: nothing is ever powered off. The daemon is held with SIGSTOP
 * where a request must wait for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "fault-util.h"
#include "hvis/util.h"
#include "hvis/wire.h"
#include "hvsim/hvsim-shutdown.h"
#include "hvsim/hvsim.h"

#define TIMEOUT_MS 10000
#define SHORT_MS 300

struct fx {
	char root[64];
	char log[128];
	char fallback_log[128];
	struct hvsim_uio *u;
	struct hvsim_shutdown *s;
	pid_t pid;
};

static void pump(void *ctx, int ms)
{
	struct fx *f = ctx;

	if (f->u)
		hvsim_uio_run(f->u, ms);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void make_channel(struct fx *f)
{
	assert_int_equal(hvsim_uio_new(f->root, HV_GUID_SHUTDOWN,
				       HVSIM_SHUTDOWN_INSTANCE, 0,
				       HVSIM_SHUTDOWN_RING_SIZE, &f->u),
			 0);
	assert_int_equal(hvsim_shutdown_new(f->u, &f->s), 0);
	hvsim_shutdown_set_timeout(f->s, TIMEOUT_MS);
}

static void free_channel(struct fx *f)
{
	f->s = hvsim_shutdown_free(f->s);
	f->u = hvsim_uio_free(f->u);
}

static pid_t spawn_daemon(struct fx *f)
{
	char bin[256], fb[128], helper[128], bus[128];
	char *argv[] = {
		bin,	   "--root",	    f->root, "--log=stderr",
		"--debug", "--bus-address", bus,     "--fallback-command",
		fb,	   "--bind-helper", helper,  "--hook-timeout=0",
		NULL
	};
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/hv_shutdown_daemon", fu_build_dir());
	snprintf(fb, sizeof(fb), "%s/fallback.sh", f->root);
	snprintf(helper, sizeof(helper), "%s/helper.sh", f->root);
	snprintf(bus, sizeof(bus), "unix:path=%s/no-bus", f->root);
	pid = fu_spawn(argv, f->log);
	assert_true(pid > 0);
	return pid;
}

static void start(struct fx *f)
{
	f->pid = spawn_daemon(f);
	if (hvsim_uio_wait_open(f->u, TIMEOUT_MS) < 0)
		fail_msg("the daemon never opened the channel; log:\n%s",
			 fu_read_text(f->log));
}

static void wait_log(struct fx *f, const char *path, const char *needle)
{
	if (!fu_wait_contains(path, needle, TIMEOUT_MS, f->u ? pump : NULL, f))
		fail_msg("'%s' never appeared in %s; log:\n%s", needle, path,
			 fu_read_text(f->log));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256], text[512];

	assert_non_null(f);
	hv_strscpy(f->root, "/tmp/hvis-fsd.XXXXXX", sizeof(f->root));
	assert_non_null(mkdtemp(f->root));
	snprintf(f->log, sizeof(f->log), "%s/daemon.log", f->root);
	snprintf(f->fallback_log, sizeof(f->fallback_log), "%s/fallback.log",
		 f->root);
	snprintf(p, sizeof(p), "%s/etc/hvis", f->root);
	assert_int_equal(hv_mkdir_parents(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/run", f->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sys/power", f->root);
	assert_int_equal(hv_mkdir_parents(p, 0755), 0);
	/* Recorded, never executed. */
	snprintf(p, sizeof(p), "%s/fallback.sh", f->root);
	snprintf(text, sizeof(text), "#!/bin/sh\necho \"$*\" >> %s\n",
		 f->fallback_log);
	write_file(p, text, 0755);
	snprintf(p, sizeof(p), "%s/helper.sh", f->root);
	write_file(p, "#!/bin/sh\nexit 0\n", 0755);
	make_channel(f);
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
	free_channel(f);
	assert_int_equal(fu_rm_rf(f->root), 0);
	free(f);
	return 0;
}

static uint32_t stop_vm(struct fx *f, enum hvsim_stop_kind kind)
{
	uint32_t status = 0xdead;
	int r = hvsim_stop_vm(f->s, kind, false, NULL, 30, &status);

	if (r < 0)
		fail_msg("stop-vm: %s (%s); log:\n%s", strerror(-r),
			 hvsim_uio_last_error_str(f->u), fu_read_text(f->log));
	return status;
}

/* The daemon's exit status, pumping the channel meanwhile. */
static int wait_exit(struct fx *f)
{
	int st = fu_wait_exit(f->pid, TIMEOUT_MS, f->u ? pump : NULL, f);

	if (st < 0)
		fail_msg("the daemon did not exit; log:\n%s",
			 fu_read_text(f->log));
	f->pid = 0;
	return fu_exit_code(st);
}

/* The channel is offered again and a new daemon serves it. */
static void comes_back(struct fx *f)
{
	free_channel(f);
	make_channel(f);
	start(f);
	assert_int_equal(stop_vm(f, HVSIM_STOP_POWEROFF), HV_S_OK);
	wait_log(f, f->fallback_log, "--no-block poweroff");
}

/* ---------------------------------------------------------------------- */

/*
 * The host rescinds the idle channel (shutdown IC disabled): the daemon
 * says so and exits 69; the unit's Restart= and udev bring it back when
 * the channel returns.
 */
static void test_rescind_idle(void **state)
{
	struct fx *f = *state;
	struct hvsim_ic_nego nego;

	start(f);
	assert_int_equal(hvsim_shutdown_negotiate(f->s, &nego), 0);
	/* Idle: its reply sent, the interrupt re-armed, back in poll(). */
	assert_true(fu_wait_idle(f->pid, TIMEOUT_MS, pump, f));
	assert_int_equal(hvsim_uio_rescind(f->u), 0);
	{
		int code = wait_exit(f);

		if (code != 69)
			fail_msg("exit %d; log:\n%s", code,
				 fu_read_text(f->log));
	}
	assert_true(fu_contains(f->log, "error: the host took the shutdown "
					"channel away (rescinded)"));
	assert_int_equal(access(f->fallback_log, F_OK), -1);
	comes_back(f);
}

/*
 * A Stop-VM waits in the ring, unanswered (the daemon is stopped), when
 * the host rescinds the channel. The daemon must not act on a request it
 * cannot answer, and it exits with an error. (uio_read() says EIO once
 * the device is gone, pending interrupt or not; the simulator cannot take
 * back the interrupt record it already queued on the socket, so here the
 * daemon serves the ring first and meets the rescind at its signalling
 * write: exit 1, "shutdown channel: Broken pipe", where a kernel gives
 * 69. Either way nothing is acted on.)
 */
static void test_rescind_with_request(void **state)
{
	static uint8_t pkt[HVSIM_SHUTDOWN_PKT_MAX];
	struct hvsim_shutdown_req req = { .flags = HV_SHUTDOWN_FLAG_REBOOT,
					  .reason_code = 1 };
	struct fx *f = *state;
	struct hvsim_ic_nego nego;
	ssize_t len;

	start(f);
	assert_int_equal(hvsim_shutdown_negotiate(f->s, &nego), 0);
	assert_int_equal(kill(f->pid, SIGSTOP), 0);
	len = hvsim_shutdown_build(pkt, sizeof(pkt), 3, &req);
	assert_true(len > 0);
	assert_int_equal(
		hvsim_uio_send(f->u, VM_PKT_DATA_INBAND,
			       VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED, 99,
			       pkt, (size_t)len),
		0);
	assert_int_equal(hvsim_uio_rescind(f->u), 0);
	assert_int_equal(kill(f->pid, SIGCONT), 0);
	assert_true(wait_exit(f) != 0);
	assert_true(fu_contains(f->log, "error: the host took the shutdown "
					"channel away (rescinded)") ||
		    fu_contains(f->log, "error: shutdown channel: "));
	/* Whatever it read, it never acted on a request it could not answer. */
	assert_int_equal(access(f->fallback_log, F_OK), -1);
	comes_back(f);
}

/* Another program has /dev/uioN open: 69 and a line; then it is free. */
static void test_busy(void **state)
{
	struct fx *f = *state;

	hvsim_uio_set_busy(f->u, true);
	f->pid = spawn_daemon(f);
	assert_int_equal(wait_exit(f), 69);
	assert_true(fu_contains(f->log, "cannot open the shutdown channel: "
					"Device or resource busy"));
	hvsim_uio_set_busy(f->u, false);
	start(f);
	assert_int_equal(stop_vm(f, HVSIM_STOP_RESTART), HV_S_OK);
	wait_log(f, f->fallback_log, "--no-block reboot");
}

/*
 * The host stops waiting for a Restart-VM (the guest was stopped): the
 * host's request failed. The guest, resumed, still answers and acts (as
 * the kernel's own driver would: the request was valid); the host drops
 * the late answer and the next request gets its own.
 */
static void test_timeout_then_late_reply(void **state)
{
	struct fx *f = *state;
	uint32_t st = 0;

	start(f);
	assert_int_equal(hvsim_shutdown_negotiate(f->s, NULL), 0);
	hvsim_shutdown_set_timeout(f->s, SHORT_MS);
	assert_int_equal(kill(f->pid, SIGSTOP), 0);
	assert_int_equal(hvsim_stop_vm(f->s, HVSIM_STOP_RESTART, false, NULL,
				       30, &st),
			 -ETIMEDOUT);
	assert_int_equal(kill(f->pid, SIGCONT), 0);
	hvsim_shutdown_set_timeout(f->s, TIMEOUT_MS);
	wait_log(f, f->fallback_log, "--no-block reboot");
	assert_int_equal(stop_vm(f, HVSIM_STOP_POWEROFF), HV_S_OK);
	assert_int_equal(hvsim_shutdown_stats(f->s)->late_replies, 1);
	assert_int_equal(hvsim_shutdown_stats(f->s)->trans_id_mismatches, 0);
	wait_log(f, f->fallback_log, "--no-block poweroff");
	assert_true(fu_contains(f->log, "host asks to restart"));
}

/*
 * The RX ring (2 MiB) filled to the last byte with SHUTDOWN messages of
 * the largest size (2047 bytes of text) and flags no host sends, while
 * the daemon is stopped; then all answered in order, twice (the second
 * round wraps around the ring). Then a real request.
 */
static void test_ring_full_of_max_messages(void **state)
{
	static uint8_t pkt[HVSIM_SHUTDOWN_PKT_MAX];
	static uint8_t rep[HVSIM_SHUTDOWN_PKT_MAX + 8];
	static char text[2048];
	struct hvsim_shutdown_req req = { .flags = 0x40,
					  .reason_code = 2,
					  .encoding = HVSIM_TEXT_BYTES,
					  .message = text };
	struct fx *f = *state;
	struct hvsim_ic_nego nego;
	struct hv_pkt_desc desc;
	uint64_t tid = 1000;
	unsigned total = 0;
	ssize_t len, n;

	memset(text, 'm', sizeof(text) - 1);
	start(f);
	assert_int_equal(hvsim_shutdown_negotiate(f->s, &nego), 0);
	len = hvsim_shutdown_build(pkt, sizeof(pkt), 4, &req);
	assert_int_equal(len, HVSIM_SHUTDOWN_PKT_LEN);
	for (int round = 0; round < 2; round++) {
		unsigned sent = 0;
		uint64_t first = tid;

		assert_int_equal(kill(f->pid, SIGSTOP), 0);
		for (;;) {
			int r = hvsim_uio_send(
				f->u, VM_PKT_DATA_INBAND,
				VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED,
				tid, pkt, (size_t)len);

			if (r == -EAGAIN)
				break;
			assert_int_equal(r, 0);
			sent++;
			tid++;
		}
		/* 2 MiB of 2112-byte packets, less than one: the ring's gap. */
		assert_true(sent > 900);
		assert_int_equal(kill(f->pid, SIGCONT), 0);
		for (unsigned i = 0; i < sent; i++) {
			n = hvsim_uio_recv(f->u, &desc, rep, sizeof(rep),
					   TIMEOUT_MS);
			assert_true(n >= len);
			assert_true(desc.trans_id == first + i);
			assert_int_equal(hv_le32(rep + 20), HV_E_FAIL);
		}
		total += sent;
	}
	assert_int_equal(hvsim_uio_ring_used(f->u, HVSIM_RING_TX), 0);
	wait_log(f, f->log, "flags 0x40 are not a request we know");
	assert_int_equal(fu_count(f->log, "flags 0x40 are not a request we "
					  "know"),
			 total);
	assert_int_equal(access(f->fallback_log, F_OK), -1);
	print_message("# %u messages of %zd bytes in two full rings\n", total,
		      len);
	assert_int_equal(stop_vm(f, HVSIM_STOP_POWEROFF), HV_S_OK);
	wait_log(f, f->fallback_log, "--no-block poweroff");
	assert_int_equal(hvsim_uio_last_error(f->u), HVSIM_UIO_ERR_NONE);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_rescind_idle),
		T(test_rescind_with_request),
		T(test_busy),
		T(test_timeout_then_late_reply),
		T(test_ring_full_of_max_messages),
	};

	signal(SIGPIPE, SIG_IGN);
	if (getenv("FAULTS_TEST"))
		cmocka_set_test_filter(getenv("FAULTS_TEST"));
	return cmocka_run_group_tests_name("faults-shutdown", tests, NULL,
					   NULL);
}
