/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SIGKILL at random points of a VSS backup (issue 9, "Process"), on real
 * filesystems, HVIS_KILL_ITERATIONS times (default 100): inside the
 * FREEZE (a random number of microseconds into it: before, between and
 * after the FIFREEZE calls), after its reply (frozen), or inside the
 * THAW. Then a new daemon is started.
 *
 * The truth being asserted (protocol.md §4.3, vss/freeze.c): a freeze is
 * a property of the superblock, not of the daemon's file descriptors, so
 * a SIGKILLed daemon can leave filesystems frozen; its marker in the run
 * directory names them, written before each FIFREEZE. So: after every
 * kill the test records what is still frozen, and after the restart
 * (which thaws what the marker lists before it registers) nothing may be
 * frozen, the marker must be gone, and the daemon must say what it
 * thawed; then a full FREEZE/THAW must work.
 *
 * Root only. As tests/test-vss-system.c: ext4 and xfs on zram devices the
 * test adds, mounted in a private mount namespace under a directory the
 * daemon is confined to with --only, checked with --list-targets before
 * every start; cleanup thaws and unmounts only those. Without root, zram
 * or the mkfs tools the suite reports SKIP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <linux/fs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fault-util.h"
#include "hvis/util.h"
#include "hvsim/hvsim-vss.h"

#define WAIT_MS 20000
#define ZRAM_CONTROL "/sys/class/zram-control"
#define N_FS 2

static const char *const fs_type[N_FS] = { "ext4", "xfs" };

static struct {
	char base[64];
	char mnt[96];
	char run[96];
	char dev[128];
	char conf[96];
	char log[96];
	char marker[160];
	int zram[N_FS];
	char fs_mnt[N_FS][128];
	bool mounted[N_FS];
	bool run_mounted;
	pid_t daemon;
	struct hvsim_cdev *cd;
	struct hvsim_vss *v;
	const char *skip_reason;
	char why[256];
} sx = { .zram = { -1, -1 } };

static void pump(void *ctx, int ms)
{
	hvsim_cdev_run(sx.cd, ms);
}

static int write_sys(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -EIO;
}

static int fs_ioctl(const char *dir, unsigned long req)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = ioctl(fd, req, 0) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/*
 * Is our filesystem frozen? FIFREEZE answers EBUSY when it is; when it
 * was not, the probe froze it and thaws it again at once.
 */
static bool frozen(int i)
{
	int r = fs_ioctl(sx.fs_mnt[i], FIFREEZE);

	if (r == 0) {
		assert_int_equal(fs_ioctl(sx.fs_mnt[i], FITHAW), 0);
		return false;
	}
	assert_int_equal(r, -EBUSY);
	return true;
}

/* Only what this test made; also from the signal handler. */
static void cleanup(void)
{
	char id[16];
	int i;

	if (sx.daemon > 0) {
		kill(sx.daemon, SIGKILL);
		waitpid(sx.daemon, NULL, 0);
		sx.daemon = 0;
	}
	for (i = N_FS; i-- > 0;) {
		if (!sx.mounted[i])
			continue;
		(void)fs_ioctl(sx.fs_mnt[i], FITHAW);
		if (umount2(sx.fs_mnt[i], 0) < 0)
			umount2(sx.fs_mnt[i], MNT_DETACH);
		sx.mounted[i] = false;
	}
	if (sx.run_mounted)
		umount2(sx.run, MNT_DETACH);
	sx.run_mounted = false;
	for (i = 0; i < N_FS; i++) {
		if (sx.zram[i] < 0)
			continue;
		snprintf(id, sizeof(id), "%d", sx.zram[i]);
		(void)write_sys(ZRAM_CONTROL "/hot_remove", id);
		sx.zram[i] = -1;
	}
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool have_program(const char *name)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin",
					    "/bin" };
	char p[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(p, sizeof(p), "%s/%s", dirs[i], name);
		if (access(p, X_OK) == 0)
			return true;
	}
	return false;
}

static int zram_new(int slot, char *devpath, size_t size)
{
	char buf[32], p[128];
	int fd, id;
	ssize_t n;

	fd = open(ZRAM_CONTROL "/hot_add", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	id = atoi(buf);
	sx.zram[slot] = id;
	snprintf(p, sizeof(p), "/sys/block/zram%d/disksize", id);
	if (write_sys(p, "512M") < 0)
		return -EIO;
	snprintf(devpath, size, "/dev/zram%d", id);
	return access(devpath, F_OK) < 0 ? -ENODEV : 0;
}

static const char *setup_world(void)
{
	char dev[64], p[160], out[160];
	int r;

	if (geteuid() != 0)
		return "needs root";
	if (access(ZRAM_CONTROL "/hot_add", R_OK) < 0)
		return "no zram (" ZRAM_CONTROL " missing; modprobe zram)";
	if (!have_program("mkfs.ext4") || !have_program("mkfs.xfs"))
		return "mkfs.ext4 or mkfs.xfs missing (e2fsprogs, xfsprogs)";
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return "no private mount namespace";
	hv_strscpy(sx.base, "/tmp/hvis-kvss.XXXXXX", sizeof(sx.base));
	if (!mkdtemp(sx.base))
		return "mkdtemp failed";
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	atexit(cleanup);
	snprintf(sx.mnt, sizeof(sx.mnt), "%s/mnt", sx.base);
	snprintf(sx.run, sizeof(sx.run), "%s/run", sx.base);
	snprintf(sx.conf, sizeof(sx.conf), "%s/etc", sx.base);
	snprintf(sx.dev, sizeof(sx.dev), "%s/vmbus/hv_vss", sx.base);
	snprintf(sx.log, sizeof(sx.log), "%s/daemon.log", sx.base);
	snprintf(sx.marker, sizeof(sx.marker), "%s/hvis/vss-frozen", sx.run);
	snprintf(p, sizeof(p), "%s/vmbus", sx.base);
	if (mkdir(sx.mnt, 0755) < 0 || mkdir(p, 0755) < 0 ||
	    mkdir(sx.conf, 0755) < 0 || mkdir(sx.run, 0755) < 0)
		return "mkdir failed";
	/* /run is a tmpfs in production: the marker is never frozen. */
	if (mount("tmpfs", sx.run, "tmpfs", 0, NULL) < 0)
		return "cannot mount a tmpfs";
	sx.run_mounted = true;
	snprintf(out, sizeof(out), "%s/mkfs.out", sx.base);
	for (int i = 0; i < N_FS; i++) {
		char mkfs[32];
		const char *argv[] = { mkfs, i == 0 ? "-qF" : "-qf", dev,
				       NULL };

		r = zram_new(i, dev, sizeof(dev));
		if (r < 0) {
			snprintf(sx.why, sizeof(sx.why),
				 "cannot set up a zram device: %s",
				 strerror(-r));
			return sx.why;
		}
		snprintf(mkfs, sizeof(mkfs), "mkfs.%s", fs_type[i]);
		if (fu_run(out, argv) != 0) {
			snprintf(sx.why, sizeof(sx.why), "%s failed: %.120s",
				 mkfs, fu_read_text(out));
			return sx.why;
		}
		snprintf(sx.fs_mnt[i], sizeof(sx.fs_mnt[i]), "%s/%s", sx.mnt,
			 fs_type[i]);
		if (mkdir(sx.fs_mnt[i], 0755) < 0 ||
		    mount(dev, sx.fs_mnt[i], fs_type[i], 0, NULL) < 0) {
			snprintf(sx.why, sizeof(sx.why), "cannot mount %s: %s",
				 fs_type[i], strerror(errno));
			return sx.why;
		}
		sx.mounted[i] = true;
	}
	return NULL;
}

/* ---------------------------------------------------------------------- */

static int daemon_argv(const char **argv)
{
	static char bin[256];
	int n = 0;

	snprintf(bin, sizeof(bin), "%s/hv_vss_daemon", fu_build_dir());
	argv[n++] = bin;
	/* A stuck test still gets its filesystems back. */
	argv[n++] = "--thaw-timeout=30s";
	argv[n++] = "--dev-dir";
	argv[n++] = sx.base;
	argv[n++] = "--run-dir";
	argv[n++] = sx.run;
	argv[n++] = "--conf-dir";
	argv[n++] = sx.conf;
	argv[n++] = "--only";
	argv[n++] = sx.mnt;
	argv[n] = NULL;
	return n;
}

/*
 * The guard: --list-targets with these options lists exactly our two
 * filesystems. Anything else stops the program before any FREEZE.
 */
static void guard(void)
{
	const char *argv[16];
	char out[160], line[512];
	size_t len = strlen(sx.mnt), count = 0;
	int n = daemon_argv(argv);
	FILE *fp;

	argv[n++] = "--list-targets";
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/targets", sx.base);
	if (fu_run(out, argv) != 0)
		fail_msg("--list-targets failed: %s", fu_read_text(out));
	fp = fopen(out, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, "freeze\t", 7) != 0)
			continue;
		if (strncmp(line + 7, sx.mnt, len) != 0 ||
		    line[7 + len] != '/') {
			fclose(fp);
			cleanup();
			fprintf(stderr, "# SAFETY: would freeze %s", line + 7);
			abort();
		}
		count++;
	}
	fclose(fp);
	assert_int_equal(count, N_FS);
}

static void start(void)
{
	const char *argv[24];
	int n = daemon_argv(argv);

	guard();
	argv[n++] = "--log=stderr";
	argv[n] = NULL;
	unlink(sx.log);
	sx.daemon = fu_spawn((char *const *)argv, sx.log);
	assert_true(sx.daemon > 0);
	if (hvsim_cdev_wait_ready(sx.cd, WAIT_MS) < 0)
		fail_msg("daemon did not register:\n%s", fu_read_text(sx.log));
}

static void reap(void)
{
	int st = fu_wait_exit(sx.daemon, WAIT_MS, pump, NULL);

	assert_true(st >= 0);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	sx.daemon = 0;
	assert_int_equal(hvsim_cdev_wait_closed(sx.cd, WAIT_MS), 0);
}

/* FREEZE or THAW with a kill armed (d > 0) or not; its status. */
static uint32_t host(uint8_t op)
{
	uint32_t st = 0xdead;

	assert_int_equal(hvsim_vss_request(sx.v, op, 0, &st, NULL), 0);
	return st;
}

enum { K_IN_FREEZE, K_FROZEN, K_IN_THAW, K_MAX };

static void test_kill_loop(void **state)
{
	static const char *const names[K_MAX] = { "inside FREEZE",
						  "after FREEZE's reply",
						  "inside THAW" };
	unsigned n = fu_iterations(), phase_count[K_MAX] = { 0 };
	unsigned left_frozen = 0, left_some = 0, answered_frozen = 0;
	struct fu_rng rng = { fu_seed() };
	uint64_t seed = rng.s, t0, t_freeze = 2000, t_thaw = 1000;

	if (sx.skip_reason)
		fail_msg("no test filesystems: %s", sx.skip_reason);
	assert_int_equal(fu_kill_init(), 0);
	print_message("# seed 0x%llx (HVIS_KILL_SEED), %u iterations\n",
		      (unsigned long long)seed, n);
	t0 = fu_now_us();
	start();
	for (unsigned it = 0; it < n; it++) {
		int phase = (int)fu_below(&rng, K_MAX);
		uint64_t d, t;
		uint32_t st;
		unsigned still = 0;

		phase_count[phase]++;
		if (phase == K_IN_FREEZE) {
			d = fu_below(&rng, t_freeze + 1);
			assert_int_equal(fu_kill_after(sx.daemon, d), 0);
			st = host(VSS_OP_FREEZE);
			answered_frozen += st == HV_S_OK &&
					   hvsim_vss_last_path(sx.v) ==
						   HVSIM_VSS_PATH_DAEMON;
		} else {
			t = fu_now_us();
			if (host(VSS_OP_FREEZE) != HV_S_OK)
				fail_msg("iteration %u: FREEZE failed:\n%s", it,
					 fu_read_text(sx.log));
			t_freeze = (3 * t_freeze + (fu_now_us() - t)) / 4;
			if (phase == K_FROZEN) {
				fu_kill_after(sx.daemon, 0);
			} else {
				d = fu_below(&rng, t_thaw + 1);
				assert_int_equal(fu_kill_after(sx.daemon, d),
						 0);
				(void)host(VSS_OP_THAW);
			}
		}
		if (!fu_kill_cancel())
			fu_kill_after(sx.daemon, 0);
		fu_kill_cancel();
		reap();
		for (int i = 0; i < N_FS; i++)
			still += frozen(i);
		left_frozen += still == N_FS;
		left_some += still > 0 && still < N_FS;

		/* The next daemon thaws them before it registers. */
		start();
		for (int i = 0; i < N_FS; i++)
			if (frozen(i))
				fail_msg(
					"iteration %u (seed 0x%llx, killed %s):"
					" %s still frozen after the restart; "
					"log:\n%s",
					it, (unsigned long long)seed,
					names[phase], sx.fs_mnt[i],
					fu_read_text(sx.log));
		if (access(sx.marker, F_OK) == 0)
			fail_msg("iteration %u: the marker outlived the "
				 "restart",
				 it);
		if (still && !fu_contains(sx.log, "left "))
			fail_msg("iteration %u: %u thawed without a word:\n%s",
				 it, still, fu_read_text(sx.log));
		/* And serves: a whole backup, timed for the next kill. */
		t = fu_now_us();
		if (host(VSS_OP_FREEZE) != HV_S_OK)
			fail_msg("iteration %u: FREEZE after the restart:\n%s",
				 it, fu_read_text(sx.log));
		t_freeze = (3 * t_freeze + (fu_now_us() - t)) / 4;
		for (int i = 0; i < N_FS; i++)
			assert_true(frozen(i));
		t = fu_now_us();
		assert_int_equal(host(VSS_OP_THAW), HV_S_OK);
		t_thaw = (3 * t_thaw + (fu_now_us() - t)) / 4;
	}
	for (int i = 0; i < N_FS; i++)
		assert_false(frozen(i));
	kill(sx.daemon, SIGTERM);
	assert_int_equal(
		fu_exit_code(fu_wait_exit(sx.daemon, WAIT_MS, pump, NULL)), 0);
	sx.daemon = 0;
	print_message("# %u iterations in %.1f s: killed %u times inside "
		      "FREEZE (%u of them after answering OK), %u frozen, %u "
		      "inside THAW; the kill left both filesystems frozen %u "
		      "times and one of two %u times; every restart thawed "
		      "them\n",
		      n, (double)(fu_now_us() - t0) / 1e6,
		      phase_count[K_IN_FREEZE], answered_frozen,
		      phase_count[K_FROZEN], phase_count[K_IN_THAW],
		      left_frozen, left_some);
}

static int setup(void **state)
{
	if (hvsim_cdev_new(sx.dev, HVSIM_CDEV_VSS, &sx.cd) < 0 ||
	    hvsim_vss_new(sx.cd, &sx.v) < 0)
		return -1;
	hvsim_vss_set_timeouts(sx.v, WAIT_MS, WAIT_MS);
	return 0;
}

static int teardown(void **state)
{
	fu_kill_cancel();
	if (sx.daemon > 0) {
		kill(sx.daemon, SIGKILL);
		waitpid(sx.daemon, NULL, 0);
		sx.daemon = 0;
	}
	for (int i = 0; i < N_FS; i++)
		if (sx.mounted[i])
			(void)fs_ioctl(sx.fs_mnt[i], FITHAW);
	sx.v = hvsim_vss_free(sx.v);
	sx.cd = hvsim_cdev_free(sx.cd);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill_loop, setup,
						teardown),
	};
	int r;

	sx.skip_reason = setup_world();
	if (sx.skip_reason) {
		cleanup();
		/* TAP by hand: cmocka reports a skip as "not ok". */
		printf("1..1\nok 1 - vss kill loop # SKIP %s\n",
		       sx.skip_reason);
		if (sx.base[0])
			fu_rm_rf(sx.base);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	r = cmocka_run_group_tests_name("kill-vss", tests, NULL, NULL);
	cleanup();
	fu_rm_rf(sx.base);
	return r;
}
