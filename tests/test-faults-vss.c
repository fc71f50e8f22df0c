/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_vss_daemon under injected faults (issue 9): the device destroyed
 * while the daemon is inside a FREEZE; the kernel's FREEZE timeout and
 * the daemon's late reply; the reply refused (hibernation's fake THAW);
 * another opener holding the device (EBUSY) at start and while running;
 * back-to-back FREEZE packets of the largest size the host sends and the
 * kernel reads; the run directory (where the frozen-state marker goes)
 * read-only.
 *
 * No filesystem is frozen here (as in tests/test-vss-daemon.c: --only
 * names an empty directory, checked with --list-targets before every
 * start); a freeze hook stands in for the filesystems and is how the
 * daemon is held inside a request: it blocks on a FIFO the test opens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fault-util.h"
#include "hvis/util.h"
#include "hvsim/hvsim-vss.h"

#define WAIT_MS 10000
#define SHORT_MS 300

struct fx {
	char root[64];
	char dev[128];
	char run[128];
	char conf[128];
	char hooks[160];
	char only[128];
	char log[128];
	char hooklog[128];
	char fifo[128];
	bool mounted;
	struct hvsim_cdev *cd;
	struct hvsim_vss *v;
	pid_t pid;
};

static bool private_ns;

static void pump(void *ctx, int ms)
{
	struct fx *f = ctx;

	if (f->cd)
		hvsim_cdev_run(f->cd, ms);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void make_sim(struct fx *f)
{
	assert_int_equal(hvsim_cdev_new(f->dev, HVSIM_CDEV_VSS, &f->cd), 0);
	assert_int_equal(hvsim_vss_new(f->cd, &f->v), 0);
	hvsim_vss_set_timeouts(f->v, WAIT_MS, WAIT_MS);
}

static void free_sim(struct fx *f)
{
	f->v = hvsim_vss_free(f->v);
	f->cd = hvsim_cdev_free(f->cd);
}

static int base_argv(struct fx *f, char **argv, char *bin, size_t size)
{
	int n = 0;

	snprintf(bin, size, "%s/hv_vss_daemon", fu_build_dir());
	argv[n++] = bin;
	argv[n++] = "--dev-dir";
	argv[n++] = f->root;
	argv[n++] = "--run-dir";
	argv[n++] = f->run;
	argv[n++] = "--conf-dir";
	argv[n++] = f->conf;
	argv[n++] = "--only";
	argv[n++] = f->only;
	return n;
}

/* The guard: this daemon would freeze nothing at all. */
static void assert_selection_empty(struct fx *f)
{
	char bin[256], out[192];
	char *argv[16];
	int n = base_argv(f, argv, bin, sizeof(bin));

	argv[n++] = "--list-targets";
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/targets", f->root);
	assert_int_equal(fu_run(out, (const char *const *)argv), 0);
	if (fu_contains(out, "freeze\t"))
		fail_msg("selection not empty:\n%s", fu_read_text(out));
}

static pid_t spawn_daemon(struct fx *f)
{
	char bin[256];
	char *argv[24];
	int n;
	pid_t pid;

	assert_selection_empty(f);
	n = base_argv(f, argv, bin, sizeof(bin));
	argv[n++] = "--log=stderr";
	argv[n++] = "--debug";
	argv[n] = NULL;
	pid = fu_spawn(argv, f->log);
	assert_true(pid > 0);
	return pid;
}

static void start(struct fx *f)
{
	f->pid = spawn_daemon(f);
	if (hvsim_cdev_wait_ready(f->cd, WAIT_MS) < 0)
		fail_msg("daemon did not register; log:\n%s",
			 fu_read_text(f->log));
}

static void wait_log(struct fx *f, const char *path, const char *needle)
{
	if (!fu_wait_contains(path, needle, WAIT_MS, f->cd ? pump : NULL, f))
		fail_msg("'%s' never appeared in %s; daemon log:\n%s", needle,
			 path, fu_read_text(f->log));
}

static void wait_registrations(struct fx *f, unsigned n)
{
	uint64_t end = fu_now_us() + WAIT_MS * 1000ull;

	while (hvsim_cdev_stats(f->cd)->registrations < n ||
	       hvsim_cdev_state(f->cd) < HVSIM_CDEV_READY) {
		if (fu_now_us() > end)
			fail_msg("no registration %u; log:\n%s", n,
				 fu_read_text(f->log));
		hvsim_cdev_run(f->cd, 5);
	}
}

/* A hook that logs its calls; on "freeze" it blocks on the FIFO. */
static void blocking_hook(struct fx *f)
{
	char path[256], text[1024];

	snprintf(path, sizeof(path), "%s/10-hold", f->hooks);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\necho \"10-hold $*\" >> %s\n"
		 "[ \"$1\" = freeze ] && cat %s > /dev/null\nexit 0\n",
		 f->hooklog, f->fifo);
	write_file(path, text, 0755);
}

static void remove_hook(struct fx *f)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/10-hold", f->hooks);
	assert_int_equal(unlink(path), 0);
}

/* Let the blocked hook finish (opening blocks until it reads). */
static void release_hook(struct fx *f)
{
	int fd = open(f->fifo, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	close(fd);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256];

	assert_non_null(f);
	hv_strscpy(f->root, "/tmp/hvis-fvss.XXXXXX", sizeof(f->root));
	assert_non_null(mkdtemp(f->root));
	snprintf(p, sizeof(p), "%s/vmbus", f->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(f->dev, sizeof(f->dev), "%s/vmbus/hv_vss", f->root);
	snprintf(f->run, sizeof(f->run), "%s/run", f->root);
	snprintf(f->conf, sizeof(f->conf), "%s/etc", f->root);
	snprintf(f->hooks, sizeof(f->hooks), "%s/hvis/vss-hooks.d", f->conf);
	snprintf(f->only, sizeof(f->only), "%s/mnt", f->root);
	snprintf(f->log, sizeof(f->log), "%s/daemon.log", f->root);
	snprintf(f->hooklog, sizeof(f->hooklog), "%s/hooks.log", f->root);
	snprintf(f->fifo, sizeof(f->fifo), "%s/hold.fifo", f->root);
	assert_int_equal(hv_mkdir_parents(f->hooks, 0755), 0);
	assert_int_equal(mkdir(f->only, 0755), 0);
	assert_int_equal(mkdir(f->run, 0755), 0);
	assert_int_equal(mkfifo(f->fifo, 0600), 0);
	make_sim(f);
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
	free_sim(f);
	if (f->mounted)
		umount2(f->run, MNT_DETACH);
	assert_int_equal(fu_rm_rf(f->root), 0);
	free(f);
	return 0;
}

static uint32_t host_op(struct fx *f, uint8_t op)
{
	uint32_t st = 0xdead;

	assert_int_equal(hvsim_vss_request(f->v, op, 0, &st, NULL), 0);
	return st;
}

/* A FREEZE in the daemon's format, sent without waiting for the reply. */
static void send_freeze(struct fx *f)
{
	struct hv_vss_msg m = { 0 };

	m.vss_hdr.operation = VSS_OP_FREEZE;
	assert_int_equal(hvsim_cdev_send(f->cd, &m, sizeof(m)), 0);
}

/* ---------------------------------------------------------------------- */

/*
 * The device is destroyed while the daemon is inside a FREEZE (in its
 * freeze hook). Nobody hears the answer; the daemon must not stay frozen
 * on the word of a host that is gone: it thaws (the hook gets "thaw"),
 * waits for the device, and the next THAW is told the truth.
 */
static void test_device_gone_mid_freeze(void **state)
{
	struct fx *f = *state;

	blocking_hook(f);
	start(f);
	send_freeze(f);
	wait_log(f, f->hooklog, "10-hold freeze");
	free_sim(f);
	release_hook(f);
	wait_log(f, f->log,
		 "thawed before the host's THAW: the device was "
		 "reset while frozen");
	assert_true(fu_contains(f->log, "warning: lost "));
	wait_log(f, f->hooklog, "10-hold thaw");
	make_sim(f);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, WAIT_MS), 0);
	assert_int_equal(host_op(f, VSS_OP_THAW), HV_E_FAIL);
	assert_true(fu_contains(f->log, "the snapshot may not be consistent"));
	remove_hook(f);
	assert_int_equal(host_op(f, VSS_OP_FREEZE), HV_S_OK);
	assert_int_equal(host_op(f, VSS_OP_THAW), HV_S_OK);
	assert_int_equal(fu_count(f->log, "warning: lost "), 1);
}

/*
 * The kernel's FREEZE timeout (900 s, shortened) answers the host
 * HV_E_FAIL while the hook still runs. The daemon's late reply is
 * refused; it thaws at once, reopens and registers again.
 */
static void test_freeze_timeout_then_late_reply(void **state)
{
	struct fx *f = *state;
	uint32_t st = 0;

	blocking_hook(f);
	start(f);
	hvsim_vss_set_timeouts(f->v, SHORT_MS, WAIT_MS);
	assert_int_equal(hvsim_vss_freeze(f->v, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_vss_last_path(f->v), HVSIM_VSS_PATH_TIMEOUT);
	hvsim_vss_set_timeouts(f->v, WAIT_MS, WAIT_MS);
	release_hook(f);
	wait_registrations(f, 2);
	assert_int_equal(hvsim_cdev_last_error(f->cd), HVSIM_CDEV_ERR_SPURIOUS);
	wait_log(f, f->hooklog, "10-hold thaw");
	wait_log(f, f->log, "thawed before the host's THAW");
	assert_true(fu_contains(f->log, "warning: lost "));
	/* The host's VSS aborts with a THAW: the truth, then a clean run. */
	assert_int_equal(host_op(f, VSS_OP_THAW), HV_E_FAIL);
	remove_hook(f);
	assert_int_equal(host_op(f, VSS_OP_FREEZE), HV_S_OK);
	assert_int_equal(host_op(f, VSS_OP_THAW), HV_S_OK);
}

/*
 * §2 hibernation: a fake THAW queued outside any transaction; the
 * daemon's reply to it is refused (EINVAL), it reopens and serves.
 */
static void test_reply_refused(void **state)
{
	struct fx *f = *state;

	start(f);
	assert_int_equal(host_op(f, VSS_OP_FREEZE), HV_S_OK);
	assert_int_equal(hvsim_vss_hibernate(f->v), 0);
	wait_registrations(f, 2);
	assert_int_equal(hvsim_cdev_last_error(f->cd), HVSIM_CDEV_ERR_SPURIOUS);
	assert_int_equal(hvsim_cdev_stats(f->cd)->kernel_closes, 1);
	wait_log(f, f->log, "warning: lost ");
	assert_true(fu_contains(f->log, ", reopening"));
	assert_int_equal(host_op(f, VSS_OP_FREEZE), HV_S_OK);
	assert_int_equal(host_op(f, VSS_OP_THAW), HV_S_OK);
}

static void test_busy(void **state)
{
	struct fx *f = *state;
	uint8_t junk[16] = { VSS_OP_THAW };
	uint64_t end;
	pid_t pid;
	int st;

	hvsim_cdev_set_busy(f->cd, true);
	pid = spawn_daemon(f);
	st = fu_wait_exit(pid, WAIT_MS, pump, f);
	assert_true(st >= 0);
	assert_int_equal(fu_exit_code(st), 69);
	assert_true(fu_contains(f->log, "is busy: is another VSS daemon "
					"running?"));
	hvsim_cdev_set_busy(f->cd, false);

	start(f);
	hvsim_cdev_set_busy(f->cd, true);
	assert_int_equal(hvsim_cdev_queue(f->cd, junk, sizeof(junk)), 0);
	for (end = fu_now_us() + WAIT_MS * 1000ull;
	     hvsim_cdev_stats(f->cd)->rejected < 5;)
		if (fu_now_us() > end)
			fail_msg("no retries; log:\n%s", fu_read_text(f->log));
		else
			hvsim_cdev_run(f->cd, 5);
	hvsim_cdev_set_busy(f->cd, false);
	wait_registrations(f, 2);
	assert_int_equal(host_op(f, VSS_OP_FREEZE), HV_S_OK);
	assert_int_equal(host_op(f, VSS_OP_THAW), HV_S_OK);
	assert_int_equal(fu_count(f->log, "warning: lost "), 1);
	assert_true(fu_count(f->log, "yet: Device or resource busy") >= 4);
}

/*
 * FREEZE packets as large as the host sends them (LUN data: 6260 bytes)
 * and THAWs as large as the kernel reads (8192), 50 backups back to
 * back; one byte more is not read by the kernel at all.
 */
static void test_max_packets(void **state)
{
	static uint8_t pkt[HVSIM_VSS_RECV_MAX + 1], rep[HVSIM_VSS_RECV_MAX + 1];
	static uint8_t body[HVSIM_VSS_RECV_MAX];
	struct fx *f = *state;
	struct hvsim_ic_msg m = { .msgtype = ICMSGTYPE_VSS,
				  .fw_version = HV_IC_VERSION(3, 0),
				  .msg_version = HV_IC_VERSION(5, 0) };
	ssize_t len, n;

	start(f);
	assert_int_equal(hvsim_vss_negotiate(f->v), 0);
	for (int i = 0; i < 50; i++) {
		for (int k = 0; k < 2; k++) {
			size_t total = k == 0 ? 6260 : HVSIM_VSS_RECV_MAX;

			memset(body, 0x5a, sizeof(body));
			memset(body, 0, sizeof(struct hv_vss_msg));
			body[0] = k == 0 ? VSS_OP_FREEZE : VSS_OP_THAW;
			m.txid = (uint8_t)(2 * i + k);
			len = hvsim_ic_build(pkt, sizeof(pkt), &m, body,
					     total - ICMSG_HDR);
			assert_int_equal(len, (ssize_t)total);
			n = hvsim_vss_exchange(f->v, pkt, (size_t)len, rep,
					       sizeof(rep));
			assert_int_equal(n, len);
			assert_int_equal(hvsim_vss_last_path(f->v),
					 HVSIM_VSS_PATH_DAEMON);
			assert_int_equal(hv_le32(rep + 20), HV_S_OK);
		}
	}
	len = hvsim_ic_build(pkt, sizeof(pkt), &m, body,
			     HVSIM_VSS_RECV_MAX + 1 - ICMSG_HDR);
	assert_int_equal(hvsim_vss_exchange(f->v, pkt, (size_t)len, rep,
					    sizeof(rep)),
			 -EMSGSIZE);
	wait_log(f, f->log, "thawed 0 filesystems");
	assert_int_equal(fu_count(f->log, "FREEZE requested"), 50);
	assert_false(fu_contains(f->log, "warning:"));
	assert_int_equal(hvsim_cdev_stats(f->cd)->resets, 0);
	assert_int_equal(host_op(f, VSS_OP_HOT_BACKUP), HV_S_OK);
}

/*
 * The run directory turns read-only: the frozen-state marker cannot be
 * written, so nothing is frozen (a crash could not be undone) and the
 * FREEZE fails with HV_E_FAIL and the reason; writable again, it works.
 */
static void test_run_dir_readonly(void **state)
{
	struct fx *f = *state;

	if (!private_ns) {
		print_message("# needs root and a mount namespace\n");
		skip();
		return;
	}
	/* A hook makes the daemon record its state before running it. */
	{
		char path[256], text[512];

		snprintf(path, sizeof(path), "%s/10-note", f->hooks);
		snprintf(text, sizeof(text),
			 "#!/bin/sh\necho \"10-note $*\" >> %s\n", f->hooklog);
		write_file(path, text, 0755);
	}
	start(f);
	assert_int_equal(mount(f->run, f->run, NULL, MS_BIND, NULL), 0);
	f->mounted = true;
	assert_int_equal(mount(NULL, f->run, NULL,
			       MS_REMOUNT | MS_BIND | MS_RDONLY, NULL),
			 0);
	assert_int_equal(host_op(f, VSS_OP_FREEZE), HV_E_FAIL);
	wait_log(f, f->log, "FREEZE failed: hooks: Read-only file system");
	assert_true(fu_contains(f->log, "vss-frozen: Read-only file system"));
	assert_int_equal(host_op(f, VSS_OP_THAW), HV_S_OK);
	assert_int_equal(mount(NULL, f->run, NULL, MS_REMOUNT | MS_BIND, NULL),
			 0);
	assert_int_equal(host_op(f, VSS_OP_FREEZE), HV_S_OK);
	assert_int_equal(host_op(f, VSS_OP_THAW), HV_S_OK);
}

static int group_setup(void **state)
{
	if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		private_ns = true;
	return 0;
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_device_gone_mid_freeze),
		T(test_freeze_timeout_then_late_reply),
		T(test_reply_refused),
		T(test_busy),
		T(test_max_packets),
		T(test_run_dir_readonly),
	};

	signal(SIGPIPE, SIG_IGN);
	if (getenv("FAULTS_TEST"))
		cmocka_set_test_filter(getenv("FAULTS_TEST"));
	return cmocka_run_group_tests_name("faults-vss", tests, group_setup,
					   NULL);
}
