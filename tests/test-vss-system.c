/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_vss_daemon freezing real filesystems (root, real kernel): ext4, xfs
 * and btrfs on zram devices the test creates, plus a bind mount, the same
 * device mounted twice and a loop-mounted squashfs, all inside a private
 * mount namespace. The host is the simulator (hvsim-vss).
 *
 * Safety, because a mistake here freezes the machine:
 *  - the daemon always runs with --only <base>/mnt, a directory this test
 *    created and mounted its filesystems under;
 *  - before every daemon start, --list-targets with the same options must
 *    list only this test's filesystems, else the test stops;
 *  - cleanup (also on SIGTERM/SIGINT/exit) kills the daemon, runs FITHAW
 *    on this test's mount points only, unmounts them and removes the zram
 *    devices it added.
 * Frozen means "a writer blocks": a child creating a file must reach the
 * uninterruptible sleep of a frozen superblock and complete only after
 * the thaw; no sleep is taken as proof.
 *
 * Without root, zram or the mkfs tools the whole suite reports SKIP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "daemon-spawn.h"
#include "hvis/util.h"
#include "hvsim/hvsim-vss.h"

#define WAIT_MS HVIS_TIMEOUT(20000)
#define ZRAM_CONTROL "/sys/class/zram-control"
#define MAX_ZRAM 4
#define MAX_MOUNTS 8

extern char **environ;

enum { FS_EXT4, FS_XFS, FS_BTRFS, N_FS };

static const char *const fs_type[N_FS] = { "ext4", "xfs", "btrfs" };

static struct {
	char base[64];
	char mnt[96]; /* the --only prefix */
	char run[96]; /* tmpfs: the daemon's run dir */
	char dev[128]; /* the simulator's socket */
	char conf[96];
	char hooks[160];
	char log[96];
	char hooklog[96];
	char marker[160];
	int zram[MAX_ZRAM]; /* ids we added, -1 when none */
	char fs_mnt[N_FS][128];
	/* Every mount we made, deepest last (unmounted in reverse). */
	char mounts[MAX_MOUNTS][128];
	int n_mounts;
	bool have_squashfs;
	pid_t daemon;
	struct hvsim_cdev *cd;
	struct hvsim_vss *v;
	const char *skip_reason;
	char why[512];
} sx = { .zram = { -1, -1, -1, -1 } };

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

static int write_sys(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -errno;
}

static const char *read_text(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static bool file_contains(const char *path, const char *needle)
{
	return strstr(read_text(path), needle) != NULL;
}

static size_t count_in(const char *path, const char *needle)
{
	const char *p = read_text(path);
	size_t n = 0;

	while ((p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* Run a program (no shell), output to out (or /dev/null); exit status. */
static int run(const char *out, const char *const *argv)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO,
					 out ? out : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO,
					 out ? out : "/dev/null",
					 O_WRONLY | O_APPEND, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
			 environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool have_program(const char *name)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin",
					    "/bin" };
	char p[PATH_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(p, sizeof(p), "%s/%s", dirs[i], name);
		if (access(p, X_OK) == 0)
			return true;
	}
	return false;
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

/* ------------------------------------------------------------------ */
/* Setup and cleanup.                                                  */

/*
 * Undo everything, only on what this test made. Async-signal-safe
 * enough for the signal handler: system calls only.
 */
static void cleanup(void)
{
	char p[128], id[16];
	int i;

	if (sx.daemon > 0) {
		kill(sx.daemon, SIGKILL);
		waitpid(sx.daemon, NULL, 0);
		sx.daemon = 0;
	}
	for (i = 0; i < N_FS; i++)
		if (sx.fs_mnt[i][0])
			(void)fs_ioctl(sx.fs_mnt[i], FITHAW);
	for (i = sx.n_mounts; i-- > 0;)
		if (umount2(sx.mounts[i], 0) < 0)
			umount2(sx.mounts[i], MNT_DETACH);
	sx.n_mounts = 0;
	for (i = 0; i < MAX_ZRAM; i++) {
		if (sx.zram[i] < 0)
			continue;
		snprintf(id, sizeof(id), "%d", sx.zram[i]);
		snprintf(p, sizeof(p), ZRAM_CONTROL "/hot_remove");
		(void)write_sys(p, id);
		sx.zram[i] = -1;
	}
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int add_mount(const char *src, const char *dir, const char *type,
		     unsigned long flags)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mount(src, dir, type, flags, NULL) < 0)
		return -errno;
	hv_strscpy(sx.mounts[sx.n_mounts++], dir, sizeof(sx.mounts[0]));
	return 0;
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
	/* Virtual size: memory is used only for what is written. */
	snprintf(p, sizeof(p), "/sys/block/zram%d/disksize", id);
	if (write_sys(p, "512M") < 0)
		return -EIO;
	snprintf(devpath, size, "/dev/zram%d", id);
	if (access(devpath, F_OK) < 0)
		return -ENODEV;
	return 0;
}

static const char *setup_world(void)
{
	static const char *const tools[] = { "mkfs.ext4", "mkfs.xfs",
					     "mkfs.btrfs" };
	char devs[N_FS][64], p[160], out[160];
	size_t i;
	int r;

	if (geteuid() != 0)
		return "needs root";
	if (access(ZRAM_CONTROL "/hot_add", R_OK) < 0)
		return "no zram (" ZRAM_CONTROL " missing; modprobe zram)";
	for (i = 0; i < ARRAY_SIZE(tools); i++)
		if (!have_program(tools[i])) {
			snprintf(sx.why, sizeof(sx.why),
				 "%s missing (apt-get install e2fsprogs "
				 "xfsprogs btrfs-progs)",
				 tools[i]);
			return sx.why;
		}
	/* Our own mount namespace: nothing we mount leaks out. */
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		snprintf(sx.why, sizeof(sx.why),
			 "no private mount namespace: %s", strerror(errno));
		return sx.why;
	}
	hv_strscpy(sx.base, "/tmp/hvis-vss-sys.XXXXXX", sizeof(sx.base));
	if (!mkdtemp(sx.base))
		return "mkdtemp failed";
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	atexit(cleanup);

	snprintf(sx.mnt, sizeof(sx.mnt), "%s/mnt", sx.base);
	snprintf(sx.run, sizeof(sx.run), "%s/run", sx.base);
	snprintf(sx.conf, sizeof(sx.conf), "%s/etc", sx.base);
	snprintf(sx.hooks, sizeof(sx.hooks), "%s/hvis/vss-hooks.d", sx.conf);
	snprintf(sx.dev, sizeof(sx.dev), "%s/vmbus/hv_vss", sx.base);
	snprintf(sx.log, sizeof(sx.log), "%s/daemon.log", sx.base);
	snprintf(sx.hooklog, sizeof(sx.hooklog), "%s/hooks.log", sx.base);
	snprintf(sx.marker, sizeof(sx.marker), "%s/hvis/vss-frozen", sx.run);
	snprintf(p, sizeof(p), "%s/vmbus", sx.base);
	if (mkdir(sx.mnt, 0755) < 0 || mkdir(p, 0755) < 0 ||
	    mkdir(sx.conf, 0755) < 0)
		return "mkdir failed";
	snprintf(p, sizeof(p), "%s/hvis", sx.conf);
	if (mkdir(p, 0755) < 0 || mkdir(sx.hooks, 0755) < 0)
		return "mkdir failed";
	/* /run is a tmpfs in production: the marker must not be frozen. */
	if (add_mount("tmpfs", sx.run, "tmpfs", 0) < 0)
		return "cannot mount a tmpfs";

	for (i = 0; i < N_FS; i++) {
		const char *mkfs[] = { NULL, NULL, NULL, NULL };

		r = zram_new((int)i, devs[i], sizeof(devs[i]));
		if (r < 0) {
			snprintf(sx.why, sizeof(sx.why),
				 "cannot set up a zram device: %s",
				 strerror(-r));
			return sx.why;
		}
		snprintf(p, sizeof(p), "mkfs.%s", fs_type[i]);
		mkfs[0] = p;
		mkfs[1] = i == FS_EXT4 ? "-qF" : "-qf";
		mkfs[2] = devs[i];
		snprintf(out, sizeof(out), "%s/mkfs.out", sx.base);
		if (run(out, mkfs) != 0) {
			snprintf(sx.why, sizeof(sx.why), "%s failed: %.150s", p,
				 read_text(out));
			return sx.why;
		}
		snprintf(sx.fs_mnt[i], sizeof(sx.fs_mnt[i]), "%s/%s", sx.mnt,
			 fs_type[i]);
		if (add_mount(devs[i], sx.fs_mnt[i], fs_type[i], 0) < 0) {
			snprintf(sx.why, sizeof(sx.why), "cannot mount %s: %s",
				 fs_type[i], strerror(errno));
			sx.fs_mnt[i][0] = '\0';
			return sx.why;
		}
	}
	/* The same ext4 through a bind mount and a second mount (LISA VSS-07). */
	snprintf(p, sizeof(p), "%s/bind", sx.mnt);
	if (add_mount(sx.fs_mnt[FS_EXT4], p, NULL, MS_BIND) < 0)
		return "bind mount failed";
	snprintf(p, sizeof(p), "%s/ext4-again", sx.mnt);
	if (add_mount(devs[FS_EXT4], p, "ext4", 0) < 0)
		return "second ext4 mount failed";
	/* A loop-mounted read-only squashfs (LISA VSS-08), if we can. */
	if (have_program("mksquashfs")) {
		const char *mk[] = { "mksquashfs", sx.conf,	NULL,
				     "-quiet",	   "-noappend", NULL };
		const char *mnt[] = { "mount",	 "-t", "squashfs", "-o",
				      "loop,ro", NULL, NULL,	   NULL };
		char img[128], dir[128];

		snprintf(img, sizeof(img), "%s/img.sqfs", sx.base);
		snprintf(dir, sizeof(dir), "%s/squash", sx.mnt);
		mk[2] = img;
		mnt[5] = img;
		mnt[6] = dir;
		if (mkdir(dir, 0755) == 0 && run(NULL, mk) == 0 &&
		    run(NULL, mnt) == 0) {
			hv_strscpy(sx.mounts[sx.n_mounts++], dir,
				   sizeof(sx.mounts[0]));
			sx.have_squashfs = true;
		}
	}
	return NULL;
}

static int group_setup(void **state)
{
	sx.skip_reason = setup_world();
	if (sx.skip_reason)
		cleanup();
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[160];

	cleanup();
	if (sx.base[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sx.base);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

/* Before each test: a clean device, no hooks, nothing frozen. */
static int setup(void **state)
{
	char cmd[1024];
	int i;

	for (i = 0; i < N_FS; i++)
		(void)fs_ioctl(sx.fs_mnt[i], FITHAW);
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/* '%s' '%s' '%s'", sx.hooks,
		 sx.hooklog, sx.log, sx.marker);
	if (system(cmd) != 0)
		return -1;
	if (hvsim_cdev_new(sx.dev, HVSIM_CDEV_VSS, &sx.cd) < 0 ||
	    hvsim_vss_new(sx.cd, &sx.v) < 0)
		return -1;
	hvsim_vss_set_timeouts(sx.v, WAIT_MS, WAIT_MS);
	return 0;
}

static int teardown(void **state)
{
	int i;

	if (sx.daemon > 0) {
		kill(sx.daemon, SIGKILL);
		waitpid(sx.daemon, NULL, 0);
		sx.daemon = 0;
	}
	for (i = 0; i < N_FS; i++)
		(void)fs_ioctl(sx.fs_mnt[i], FITHAW);
	sx.v = hvsim_vss_free(sx.v);
	sx.cd = hvsim_cdev_free(sx.cd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The daemon.                                                         */

static int daemon_argv(const char **argv, const char *const *extra)
{
	static char bin[256];
	const char *b = getenv("BUILD");
	int n = 0;

	snprintf(bin, sizeof(bin), "%s/hv_vss_daemon", b ? b : "build");
	argv[n++] = bin;
	/* A stuck test still gets its filesystems back (tests may override). */
	argv[n++] = "--thaw-timeout=30s";
	argv[n++] = "--dev-dir";
	argv[n++] = sx.base;
	argv[n++] = "--run-dir";
	argv[n++] = sx.run;
	argv[n++] = "--conf-dir";
	argv[n++] = sx.conf;
	argv[n++] = "--only";
	argv[n++] = sx.mnt;
	while (extra && *extra)
		argv[n++] = *extra++;
	argv[n] = NULL;
	return n;
}

static bool is_ours(const char *mp)
{
	size_t len = strlen(sx.mnt);

	return strncmp(mp, sx.mnt, len) == 0 && mp[len] == '/';
}

/*
 * The guard: --list-targets with these options must list exactly ext4,
 * xfs and btrfs under our prefix, in freeze order. Anything else stops
 * the whole program before a FREEZE can be sent.
 */
static void guard(const char *const *extra, size_t expected)
{
	const char *argv[32];
	char out[160], line[512];
	int n = daemon_argv(argv, extra);
	size_t count = 0;
	FILE *fp;

	argv[n++] = "--list-targets";
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/targets", sx.base);
	if (run(out, argv) != 0)
		fail_msg("--list-targets failed: %s", read_text(out));
	fp = fopen(out, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		char *mp, *tab;

		if (strncmp(line, "freeze\t", 7) != 0)
			continue;
		mp = line + 7;
		tab = strchr(mp, '\t');
		assert_non_null(tab);
		*tab = '\0';
		if (!is_ours(mp)) {
			fclose(fp);
			cleanup();
			fprintf(stderr, "# SAFETY: would freeze %s; stopping\n",
				mp);
			abort();
		}
		count++;
	}
	fclose(fp);
	assert_int_equal(count, expected);
}

static void start_expect(const char *const *extra, size_t expected)
{
	const char *argv[32];
	posix_spawn_file_actions_t fa;
	int n;

	guard(extra, expected);
	n = daemon_argv(argv, extra);
	argv[n++] = "--log=stderr";
	argv[n++] = "--debug";
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, sx.log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	assert_int_equal(hvis_spawn_daemon(&sx.daemon, argv[0], &fa, NULL,
					   (char *const *)argv, environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	if (hvsim_cdev_wait_ready(sx.cd, WAIT_MS) < 0)
		fail_msg("daemon did not register:\n%s", read_text(sx.log));
}

static void start(const char *const *extra)
{
	start_expect(extra, N_FS);
}

static int wait_exit(void)
{
	int st;

	for (int ms = 0; waitpid(sx.daemon, &st, WNOHANG) == 0; ms += 10) {
		if (ms > WAIT_MS)
			fail_msg("daemon did not exit:\n%s", read_text(sx.log));
		hvsim_cdev_run(sx.cd, 10);
	}
	sx.daemon = 0;
	assert_int_equal(hvsim_cdev_wait_closed(sx.cd, WAIT_MS), 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Serve the device until the daemon has logged needle. */
static void wait_log(const char *needle)
{
	for (int ms = 0; !file_contains(sx.log, needle); ms += 10) {
		if (ms > WAIT_MS)
			fail_msg("'%s' never logged:\n%s", needle,
				 read_text(sx.log));
		hvsim_cdev_run(sx.cd, 10);
	}
}

static uint32_t host(uint8_t op)
{
	uint32_t st = 0xdead;

	assert_int_equal(hvsim_vss_request(sx.v, op, 0, &st, NULL), 0);
	if (hvsim_vss_last_path(sx.v) != HVSIM_VSS_PATH_DAEMON)
		fail_msg("%u: answered by %s", op,
			 hvsim_vss_path_name(hvsim_vss_last_path(sx.v)));
	return st;
}

/* ------------------------------------------------------------------ */
/* Writers: the proof that a filesystem is frozen.                     */

struct writer {
	pid_t pid;
	int done_fd; /* readable once the write completed */
};

static void writer_start(struct writer *w, int fs)
{
	char path[192];
	int p[2];

	snprintf(path, sizeof(path), "%s/written", sx.fs_mnt[fs]);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	w->pid = fork();
	assert_true(w->pid >= 0);
	if (w->pid == 0) {
		/* Only the child touches the filesystem: it may be frozen. */
		int fd;

		(void)unlink(path);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || write(fd, "x", 1) != 1)
			_exit(1);
		close(fd);
		(void)!write(p[1], "w", 1);
		_exit(0);
	}
	close(p[1]);
	w->done_fd = p[0];
}

static char proc_state(pid_t pid)
{
	char p[64];
	const char *s;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	s = strrchr(read_text(p), ')');
	return s && s[1] == ' ' ? s[2] : '?';
}

/*
 * Blocked: the writer sleeps uninterruptibly (a frozen superblock) and has
 * not completed. Waits for it to get there, serving the device.
 */
static void writer_assert_blocked(struct writer *w)
{
	struct pollfd p = { .fd = w->done_fd, .events = POLLIN };

	for (int ms = 0;; ms += 5) {
		if (poll(&p, 1, 5) == 1)
			fail_msg("a write completed on a filesystem that "
				 "should be frozen");
		if (proc_state(w->pid) == 'D')
			break;
		if (ms > WAIT_MS)
			fail_msg("writer never blocked (state %c)",
				 proc_state(w->pid));
		hvsim_cdev_run(sx.cd, 0);
	}
	/* Still not done after the state check. */
	assert_int_equal(poll(&p, 1, 0), 0);
}

/* Completes (after a thaw), serving the device meanwhile. */
static void writer_assert_completes(struct writer *w)
{
	struct pollfd p = { .fd = w->done_fd, .events = POLLIN };
	int st;

	for (int ms = 0; poll(&p, 1, 0) == 0; ms += 10) {
		if (ms > WAIT_MS)
			fail_msg("write still blocked; daemon log:\n%s",
				 read_text(sx.log));
		hvsim_cdev_run(sx.cd, 10);
	}
	assert_int_equal(waitpid(w->pid, &st, 0), w->pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(w->done_fd);
}

static void writers_start(struct writer *w)
{
	for (int i = 0; i < N_FS; i++)
		writer_start(&w[i], i);
}

/* Frozen by someone, still: FITHAW from the test succeeds (and thaws). */
static void assert_still_frozen_then_thaw(int fs)
{
	assert_int_equal(fs_ioctl(sx.fs_mnt[fs], FITHAW), 0);
}

static void hook(const char *name, const char *body)
{
	char path[256], text[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", sx.hooks, name);
	snprintf(text, sizeof(text), "#!/bin/sh\necho \"%s $*\" >> %s\n%s\n",
		 name, sx.hooklog, body ? body : "exit 0");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

#define NEED_WORLD()                                                         \
	do {                                                                 \
		if (sx.skip_reason)                                          \
			fail_msg("no test filesystems: %s", sx.skip_reason); \
	} while (0)

/* ------------------------------------------------------------------ */
/* Scenarios.                                                          */

static void test_selection(void **state)
{
	char out[160], line[256];
	const char *text;

	NEED_WORLD();
	guard(NULL, N_FS);
	snprintf(out, sizeof(out), "%s/targets", sx.base);
	text = read_text(out);
	/* Freeze order: later mounts first at equal depth. */
	snprintf(line, sizeof(line), "freeze\t%s\tbtrfs", sx.fs_mnt[FS_BTRFS]);
	assert_non_null(strstr(text, line));
	assert_true(strstr(text, line) < strstr(text, sx.fs_mnt[FS_XFS]));
	snprintf(line, sizeof(line), "skip\t%s/bind\text4\tduplicate", sx.mnt);
	assert_non_null(strstr(text, line));
	snprintf(line, sizeof(line), "skip\t%s/ext4-again\text4\tduplicate",
		 sx.mnt);
	assert_non_null(strstr(text, line));
	if (sx.have_squashfs) {
		snprintf(line, sizeof(line), "skip\t%s/squash\tsquashfs\t",
			 sx.mnt);
		assert_non_null(strstr(text, line));
	} else {
		print_message("# squashfs not available: VSS-08 case not set "
			      "up\n");
	}
	/* The machine's root is outside --only. */
	assert_non_null(strstr(text, "skip\t/\t"));
}

/* LISA VSS-01 (ext4, xfs, btrfs) with VSS-07 (same fs twice) and VSS-08
 * (squashfs) present. */
static void test_multi_fs(void **state)
{
	struct writer w[N_FS];
	struct hvsim_vss_backup b;

	NEED_WORLD();
	start(NULL);
	assert_int_equal(host(VSS_OP_FREEZE), HV_S_OK);
	writers_start(w);
	for (int i = 0; i < N_FS; i++)
		writer_assert_blocked(&w[i]);
	/* The marker on the tmpfs lists all three. */
	assert_int_equal(count_in(sx.marker, "\nfs frozen "), N_FS);
	assert_int_equal(host(VSS_OP_THAW), HV_S_OK);
	for (int i = 0; i < N_FS; i++)
		writer_assert_completes(&w[i]);
	assert_int_equal(access(sx.marker, F_OK), -1);
	assert_true(file_contains(sx.log, "froze 3 filesystems"));
	assert_true(file_contains(sx.log, "thawed 3 filesystems"));
	/* A whole backup through the simulator's host. */
	assert_int_equal(hvsim_vss_backup(sx.v, 100, &b), 0);
	assert_int_equal(b.freeze_status, HV_S_OK);
	assert_int_equal(b.thaw_status, HV_S_OK);
	print_message("# FREEZE reply %.1f ms, THAW reply %.1f ms\n",
		      (double)b.freeze_usec / 1e3, (double)b.thaw_usec / 1e3);
}

/* LISA VSS-06: a filesystem frozen beforehand fails the backup and stays
 * frozen; the ones frozen before it are thawed again. */
static void test_prefrozen(void **state)
{
	struct writer w[N_FS];

	NEED_WORLD();
	/* Freeze order is btrfs, xfs, ext4: ext4 fails last, mid-backup. */
	assert_int_equal(fs_ioctl(sx.fs_mnt[FS_EXT4], FIFREEZE), 0);
	start(NULL);
	assert_int_equal(host(VSS_OP_FREEZE), HV_E_FAIL);
	assert_true(file_contains(sx.log, "already frozen by another program"));
	assert_true(file_contains(sx.log, sx.fs_mnt[FS_EXT4]));
	/* Rolled back: btrfs and xfs take writes, ext4 is still frozen. */
	writer_start(&w[FS_BTRFS], FS_BTRFS);
	writer_start(&w[FS_XFS], FS_XFS);
	writer_assert_completes(&w[FS_BTRFS]);
	writer_assert_completes(&w[FS_XFS]);
	assert_int_equal(access(sx.marker, F_OK), -1);
	/* The host's THAW must not thaw what the daemon did not freeze. */
	assert_int_equal(host(VSS_OP_THAW), HV_S_OK);
	writer_start(&w[FS_EXT4], FS_EXT4);
	writer_assert_blocked(&w[FS_EXT4]);
	assert_still_frozen_then_thaw(FS_EXT4);
	writer_assert_completes(&w[FS_EXT4]);
}

/* The first filesystem in freeze order frozen by someone else. */
static void test_prefrozen_first(void **state)
{
	struct writer w;

	NEED_WORLD();
	assert_int_equal(fs_ioctl(sx.fs_mnt[FS_BTRFS], FIFREEZE), 0);
	start(NULL);
	assert_int_equal(host(VSS_OP_FREEZE), HV_E_FAIL);
	assert_int_equal(host(VSS_OP_THAW), HV_S_OK);
	writer_start(&w, FS_BTRFS);
	writer_assert_blocked(&w);
	assert_still_frozen_then_thaw(FS_BTRFS);
	writer_assert_completes(&w);
}

/* Hooks around a real freeze: the freeze hook writes to a filesystem
 * about to be frozen, the thaw hook after the thaw; neither may block. */
static void test_hooks(void **state)
{
	char body[512];
	struct writer w;

	NEED_WORLD();
	snprintf(body, sizeof(body), "echo $1 >> %s/hook-$1",
		 sx.fs_mnt[FS_XFS]);
	hook("10-a", body);
	hook("20-b", NULL);
	hook("20-b.dpkg-old", NULL);
	start(NULL);
	assert_int_equal(host(VSS_OP_FREEZE), HV_S_OK);
	/* Logging is held in memory while frozen. */
	assert_false(file_contains(sx.log, "froze 3 filesystems"));
	writer_start(&w, FS_XFS);
	writer_assert_blocked(&w);
	assert_int_equal(host(VSS_OP_THAW), HV_S_OK);
	writer_assert_completes(&w);
	assert_true(file_contains(sx.log, "froze 3 filesystems"));
	wait_log("hook 10-a thaw: done");
	assert_string_equal(read_text(sx.hooklog),
			    "10-a freeze\n20-b freeze\n20-b thaw\n10-a thaw\n");
	{
		char p[192];

		snprintf(p, sizeof(p), "%s/hook-thaw", sx.fs_mnt[FS_XFS]);
		assert_string_equal(read_text(p), "thaw\n");
	}
}

static void test_hook_timeout(void **state)
{
	static const char *const extra[] = { "--hook-timeout=500ms", NULL };
	struct writer w[N_FS];

	NEED_WORLD();
	hook("10-slow", "exec sleep 60");
	start(extra);
	assert_int_equal(host(VSS_OP_FREEZE), HV_E_FAIL);
	assert_true(file_contains(sx.log, "killed after"));
	/* Nothing was frozen. */
	writers_start(w);
	for (int i = 0; i < N_FS; i++)
		writer_assert_completes(&w[i]);
}

static void test_watchdog(void **state)
{
	static const char *const extra[] = { "--thaw-timeout=1s", NULL };
	struct writer w[N_FS];

	NEED_WORLD();
	start(extra);
	assert_int_equal(host(VSS_OP_FREEZE), HV_S_OK);
	writers_start(w);
	for (int i = 0; i < N_FS; i++)
		writer_assert_blocked(&w[i]);
	/* No THAW from the host: the daemon thaws by itself. */
	for (int i = 0; i < N_FS; i++)
		writer_assert_completes(&w[i]);
	/* The daemon logs after the thaw, so the writers may be first. */
	wait_log("no THAW from the host");
	assert_int_equal(access(sx.marker, F_OK), -1);
	assert_int_equal(host(VSS_OP_THAW), HV_E_FAIL);
}

static void test_sigterm(void **state)
{
	struct writer w[N_FS];

	NEED_WORLD();
	start(NULL);
	assert_int_equal(host(VSS_OP_FREEZE), HV_S_OK);
	writers_start(w);
	for (int i = 0; i < N_FS; i++)
		writer_assert_blocked(&w[i]);
	assert_int_equal(kill(sx.daemon, SIGTERM), 0);
	assert_int_equal(wait_exit(), 0);
	for (int i = 0; i < N_FS; i++)
		writer_assert_completes(&w[i]);
	assert_int_equal(access(sx.marker, F_OK), -1);
}

static void test_sigkill_restart(void **state)
{
	struct writer w[N_FS];

	NEED_WORLD();
	start(NULL);
	assert_int_equal(host(VSS_OP_FREEZE), HV_S_OK);
	writers_start(w);
	assert_int_equal(kill(sx.daemon, SIGKILL), 0);
	assert_int_equal(wait_exit(), 128 + SIGKILL);
	/* Dead daemon, filesystems still frozen, marker still there. */
	for (int i = 0; i < N_FS; i++)
		writer_assert_blocked(&w[i]);
	assert_int_equal(count_in(sx.marker, "\nfs frozen "), N_FS);
	/* The next daemon thaws them before it registers. */
	start(NULL);
	for (int i = 0; i < N_FS; i++)
		writer_assert_completes(&w[i]);
	assert_int_equal(access(sx.marker, F_OK), -1);
	assert_true(file_contains(sx.log, "left 3 filesystems"));
	assert_int_equal(host(VSS_OP_FREEZE), HV_S_OK);
	assert_int_equal(host(VSS_OP_THAW), HV_S_OK);
}

static void test_thaw_stale(void **state)
{
	const char *argv[32];
	struct writer w;
	int n;

	NEED_WORLD();
	start(NULL);
	assert_int_equal(host(VSS_OP_FREEZE), HV_S_OK);
	assert_int_equal(kill(sx.daemon, SIGKILL), 0);
	wait_exit();
	writer_start(&w, FS_XFS);
	writer_assert_blocked(&w);
	/* The unit's ExecStopPost. */
	n = daemon_argv(argv, NULL);
	argv[n++] = "--thaw-stale";
	argv[n] = NULL;
	assert_int_equal(run(NULL, argv), 0);
	writer_assert_completes(&w);
	assert_int_equal(access(sx.marker, F_OK), -1);
}

/* A run directory on a filesystem that would be frozen is refused. */
static void test_marker_location(void **state)
{
	char run_dir[192];
	const char *extra[] = { "--run-dir", run_dir, NULL };
	struct writer w[N_FS];

	NEED_WORLD();
	snprintf(run_dir, sizeof(run_dir), "%s/run", sx.fs_mnt[FS_XFS]);
	start(extra);
	assert_int_equal(host(VSS_OP_FREEZE), HV_E_FAIL);
	assert_true(file_contains(sx.log, "must be on a tmpfs"));
	writers_start(w);
	for (int i = 0; i < N_FS; i++)
		writer_assert_completes(&w[i]);
}

/* --exclude takes a filesystem out; the rest is frozen. */
static void test_exclude(void **state)
{
	char glob[160];
	const char *extra[] = { "--exclude", glob, NULL };
	struct writer w[N_FS];

	NEED_WORLD();
	snprintf(glob, sizeof(glob), "%s/x*", sx.mnt);
	start_expect(extra, N_FS - 1);
	{
		char out[160];

		snprintf(out, sizeof(out), "%s/targets", sx.base);
		assert_int_equal(count_in(out, "\texcluded\t"), 1);
	}
	assert_int_equal(host(VSS_OP_FREEZE), HV_S_OK);
	writers_start(w);
	writer_assert_completes(&w[FS_XFS]);
	writer_assert_blocked(&w[FS_EXT4]);
	writer_assert_blocked(&w[FS_BTRFS]);
	assert_int_equal(host(VSS_OP_THAW), HV_S_OK);
	writer_assert_completes(&w[FS_EXT4]);
	writer_assert_completes(&w[FS_BTRFS]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_selection, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_multi_fs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefrozen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prefrozen_first, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_thaw_stale, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_marker_location, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exclude, setup, teardown),
	};

	group_setup(NULL);
	if (sx.skip_reason) {
		/* TAP by hand: cmocka reports a skip as "not ok". */
		printf("1..1\nok 1 - vss system tests # SKIP %s\n",
		       sx.skip_reason);
		group_teardown(NULL);
		return 0;
	}
	return cmocka_run_group_tests_name("vss-system", tests, NULL,
					   group_teardown);
}
