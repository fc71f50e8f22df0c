/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_fcopy_daemon, the real binary, against the simulated host over both
 * transports (the UIO channel and the legacy char device with its kernel
 * model): the LISA FCopy scenarios (peers.md §(d)), names beyond ASCII,
 * CANCEL, SIGKILL and SIGTERM in the middle of a copy, a full disk, a
 * planted symlink, transport selection and loss.
 *
 * As root the suite runs in its own mount namespace on a tmpfs (fast, and
 * small filesystems can be mounted for the disk-full cases); otherwise in
 * /tmp, and the cases that need root are skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/fs.h>

#include "daemon-spawn.h"
#include "hvis/util.h"
#include "hvis/wire.h"
#include "hvsim/hvsim-fcopy.h"
#include "hvsim/hvsim.h"

#define TIMEOUT_MS HVIS_TIMEOUT(10000)
#define MIB (1024u * 1024u)
#define NOBODY 65534
#define BIG_FILE_SIZE (1024ull * MIB)

extern char **environ;

enum transport { T_UIO, T_CDEV };

/* The suite's own tree: a tmpfs in a private mount namespace as root. */
static char work[64];
static bool private_ns;

struct fx {
	enum transport t;
	char root[128];
	char dst[160];
	char src[160];
	char log[160];
	struct hvsim_cdev *cd;
	struct hvsim_uio *u;
	struct hvsim_fcopy *fc;
	pid_t pid;
	const char *opts[4]; /* extra daemon options */
	/* progress callback: what to do once `at` bytes are acknowledged */
	uint64_t at;
	int action; /* a signal to send, or 0 */
	int answer; /* what the callback returns then */
	bool fired;
};

static const char *build_dir(void)
{
	const char *b = getenv("BUILD");

	return b ? b : "build";
}

/* ---------------------------------------------------------------------- */
/* Files.                                                                 */

static void write_all(int fd, const void *buf, size_t len)
{
	assert_int_equal(hv_write_full(fd, buf, len), (ssize_t)len);
}

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	write_all(fd, text, strlen(text));
	close(fd);
}

/* size bytes of a xorshift stream (seed != 0), or zeros (seed 0). */
static void make_file(const char *path, uint64_t size, uint64_t seed)
{
	static uint64_t buf[MIB / 8];
	uint64_t done = 0, x = seed;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	if (!seed) {
		/* As fsutil file createnew: all zeros. */
		assert_int_equal(ftruncate(fd, (off_t)size), 0);
		close(fd);
		return;
	}
	while (done < size) {
		size_t n = size - done < MIB ? (size_t)(size - done) : MIB;

		for (size_t i = 0; i < ARRAY_SIZE(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = x;
		}
		write_all(fd, buf, n);
		done += n;
	}
	close(fd);
}

/* Same size and bytes (a stronger check than comparing checksums). */
static bool same_content(const char *a, const char *b)
{
	static uint8_t ba[MIB], bb[MIB];
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
	struct stat sa, sb;
	bool same = false;

	if (fa < 0 || fb < 0 || fstat(fa, &sa) < 0 || fstat(fb, &sb) < 0 ||
	    sa.st_size != sb.st_size)
		goto out;
	for (;;) {
		ssize_t na = hv_read_full(fa, ba, sizeof(ba));
		ssize_t nb = hv_read_full(fb, bb, sizeof(bb));

		if (na != nb || na < 0)
			goto out;
		if (na == 0)
			break;
		if (memcmp(ba, bb, (size_t)na) != 0)
			goto out;
	}
	same = true;
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return same;
}

/* Entries in dir other than "." and ".."; the first name in *first. */
static int entries(const char *dir, char *first, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n++ == 0 && first)
			hv_strscpy(first, de->d_name, size);
	}
	closedir(d);
	return n;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int set_immutable(const char *dir, bool on)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY), flags = 0, r;

	if (fd < 0)
		return -errno;
	r = ioctl(fd, FS_IOC_GETFLAGS, &flags);
	if (r == 0) {
		flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
		r = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	r = r < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* ---------------------------------------------------------------------- */
/* The daemon.                                                            */

static void show_log(struct fx *f)
{
	char line[512];
	FILE *fp = fopen(f->log, "r");

	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp))
		print_message("# daemon: %s", line);
	fclose(fp);
}

static bool log_contains(struct fx *f, const char *needle)
{
	static char buf[1 << 20];
	int fd = open(f->log, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = hv_read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static pid_t spawn_daemon(struct fx *f, const char *transport,
			  const char *const *opts)
{
	posix_spawn_file_actions_t fa;
	char bin[256], targ[64];
	char *argv[16];
	int n = 0;
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/hv_fcopy_daemon", build_dir());
	snprintf(targ, sizeof(targ), "--transport=%s", transport);
	argv[n++] = bin;
	argv[n++] = "--root";
	argv[n++] = f->root;
	argv[n++] = "--log=stderr";
	argv[n++] = "--debug";
	argv[n++] = targ;
	for (; opts && *opts && n < 15; opts++)
		argv[n++] = (char *)*opts;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, f->log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	assert_int_equal(hvis_spawn_daemon(&pid, bin, &fa, NULL, argv, environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

static void wait_ready(struct fx *f)
{
	int r = f->t == T_UIO ? hvsim_uio_wait_open(f->u, TIMEOUT_MS) :
				hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS);

	if (r != 0) {
		show_log(f);
		fail_msg("daemon not ready: %s", strerror(-r));
	}
}

static void start_daemon(struct fx *f)
{
	f->pid = spawn_daemon(f, f->t == T_UIO ? "uio" : "chardev", f->opts);
	wait_ready(f);
}

/* Wait for pid to exit (pidfd: no polling loop); its wait status. */
static int wait_exit(pid_t pid, int timeout_ms)
{
	struct pollfd p = { .events = POLLIN };
	int st = -1;

	p.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	assert_true(p.fd >= 0);
	assert_int_equal(poll(&p, 1, timeout_ms), 1);
	close(p.fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* Stop the daemon with sig; once the simulator has seen it go. */
static int stop_daemon(struct fx *f, int sig)
{
	int st;

	assert_true(f->pid > 0);
	assert_int_equal(kill(f->pid, sig), 0);
	st = wait_exit(f->pid, TIMEOUT_MS);
	f->pid = 0;
	if (f->t == T_UIO)
		assert_int_equal(hvsim_uio_wait_closed(f->u, TIMEOUT_MS), 0);
	else
		assert_int_equal(hvsim_cdev_wait_closed(f->cd, TIMEOUT_MS), 0);
	return st;
}

static void make_sim(struct fx *f)
{
	char path[256];

	if (f->t == T_UIO) {
		assert_int_equal(hvsim_uio_new(f->root, HV_GUID_FCOPY,
					       HV_GUID_FCOPY_INSTANCE, 0,
					       HVSIM_FCOPY_RING_SIZE, &f->u),
				 0);
		assert_int_equal(hvsim_fcopy_new_uio(f->u, &f->fc), 0);
	} else {
		snprintf(path, sizeof(path), "%s/dev/vmbus/hv_fcopy", f->root);
		assert_int_equal(hvsim_cdev_new(path, HVSIM_CDEV_FCOPY, &f->cd),
				 0);
		assert_int_equal(hvsim_fcopy_new_cdev(f->cd, &f->fc), 0);
	}
	hvsim_fcopy_set_timeout(f->fc, TIMEOUT_MS);
}

static void free_sim(struct fx *f)
{
	f->fc = hvsim_fcopy_free(f->fc);
	f->u = hvsim_uio_free(f->u);
	f->cd = hvsim_cdev_free(f->cd);
}

static struct fx *new_fixture(enum transport t)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256];

	assert_non_null(f);
	f->t = t;
	snprintf(f->root, sizeof(f->root), "%s/t.XXXXXX", work);
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(chmod(f->root, 0755), 0);
	snprintf(p, sizeof(p), "%s/dev", f->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/dev/vmbus", f->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(f->dst, sizeof(f->dst), "%s/dst", f->root);
	assert_int_equal(mkdir(f->dst, 0755), 0);
	snprintf(f->src, sizeof(f->src), "%s/src", f->root);
	assert_int_equal(mkdir(f->src, 0755), 0);
	snprintf(f->log, sizeof(f->log), "%s/daemon.log", f->root);
	return f;
}

static int setup(void **state, enum transport t)
{
	struct fx *f = new_fixture(t);

	make_sim(f);
	start_daemon(f);
	*state = f;
	return 0;
}

static int setup_uio(void **state)
{
	return setup(state, T_UIO);
}

static int setup_cdev(void **state)
{
	return setup(state, T_CDEV);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[256];

	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	free_sim(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Start the daemon again with other options (NULL-terminated). */
static void restart_with(struct fx *f, const char *opt1, const char *opt2)
{
	stop_daemon(f, SIGTERM);
	f->opts[0] = opt1;
	f->opts[1] = opt2;
	f->opts[2] = NULL;
	start_daemon(f);
}

/* ---------------------------------------------------------------------- */
/* Copies.                                                                */

static char *S(struct fx *f, const char *name)
{
	static char bufs[4][512];
	static unsigned int next;
	char *b = bufs[next++ % ARRAY_SIZE(bufs)];

	snprintf(b, sizeof(bufs[0]), "%s/%s", f->src, name);
	return b;
}

static char *D(struct fx *f, const char *name)
{
	static char bufs[4][512];
	static unsigned int next;
	char *b = bufs[next++ % ARRAY_SIZE(bufs)];

	snprintf(b, sizeof(bufs[0]), "%s/%s", f->dst, name);
	return b;
}

static int copy(struct fx *f, const char *src, const char *dest, unsigned flags,
		const struct hvsim_fcopy_copy_opts *o,
		struct hvsim_fcopy_result *res)
{
	return hvsim_fcopy_copy_file(f->fc, src, dest, flags, o, res);
}

/* A copy that must succeed. */
static void copy_ok(struct fx *f, const char *src, const char *dest,
		    unsigned flags)
{
	struct hvsim_fcopy_result res;
	char text[256];
	int r = copy(f, src, dest, flags, NULL, &res);

	if (r != 0 || res.status != HV_S_OK) {
		show_log(f);
		fail_msg("copy %s -> %s: %d, %s", src, dest, r,
			 hvsim_fcopy_result_text(&res, text, sizeof(text)));
	}
	assert_true(res.bytes == res.size);
}

/* A copy that must fail with status at stage. */
static void copy_fails(struct fx *f, const char *src, const char *dest,
		       unsigned flags, uint32_t status,
		       enum hvsim_fcopy_stage stage)
{
	struct hvsim_fcopy_result res;
	char text[256];
	int r = copy(f, src, dest, flags, NULL, &res);

	if (r != 0 || res.status != status || res.stage != stage) {
		show_log(f);
		fail_msg("copy %s -> %s: %d, stage %d, %s (want 0x%08x)", src,
			 dest, r, res.stage,
			 hvsim_fcopy_result_text(&res, text, sizeof(text)),
			 status);
	}
}

static int progress(uint64_t done, uint64_t total, void *userdata)
{
	struct fx *f = userdata;

	if (f->fired || done < f->at)
		return HVSIM_FCOPY_GO_ON;
	f->fired = true;
	if (f->action) {
		assert_int_equal(kill(f->pid, f->action), 0);
		wait_exit(f->pid, TIMEOUT_MS);
		f->pid = 0;
	}
	return f->answer;
}

/* ---------------------------------------------------------------------- */
/* LISA FCopy scenarios.                                                  */

/* FCopy-01: 10 MiB of zeros to the directory, size and content. */
static void test_basic_10m(void **state)
{
	struct fx *f = *state;
	struct stat st;

	make_file(S(f, "testfile-10m"), 10 * MIB, 0);
	copy_ok(f, S(f, "testfile-10m"), D(f, ""), 0);
	assert_int_equal(stat(D(f, "testfile-10m"), &st), 0);
	assert_int_equal(st.st_size, 10 * MIB);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_uid, geteuid());
	assert_true(same_content(S(f, "testfile-10m"), D(f, "testfile-10m")));
	/* Nothing else is left in the directory. */
	assert_int_equal(entries(f->dst, NULL, 0), 1);
}

/* FCopy-02: a second copy without -Force fails with "The file exists". */
static void test_exists(void **state)
{
	struct fx *f = *state;
	struct hvsim_fcopy_result res;
	char text[256];

	write_text(S(f, "a.txt"), "first version\n");
	copy_ok(f, S(f, "a.txt"), D(f, ""), 0);
	write_text(S(f, "a.txt"), "second version, longer\n");
	assert_int_equal(copy(f, S(f, "a.txt"), D(f, ""), 0, NULL, &res), 0);
	assert_int_equal(res.status, HV_ERROR_ALREADY_EXISTS);
	assert_int_equal(res.stage, HVSIM_FCOPY_STAGE_START);
	assert_true(res.bytes == 0);
	hvsim_fcopy_result_text(&res, text, sizeof(text));
	assert_non_null(strstr(text, "Failed to initiate copying files to the "
				     "guest: The file exists. (0x80070050)"));
	write_text(S(f, "orig.txt"), "first version\n");
	assert_true(same_content(S(f, "orig.txt"), D(f, "a.txt")));
}

/* FCopy-03: -Force replaces the file with a shorter one: truncated. */
static void test_overwrite_truncates(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char text[128] = "";

	for (int i = 0; i < 10; i++)
		strcat(text, "123456789\n");
	write_text(S(f, "t.txt"), text);
	copy_ok(f, S(f, "t.txt"), D(f, ""), 0);
	assert_int_equal(stat(D(f, "t.txt"), &st), 0);
	assert_int_equal(st.st_size, 100);
	write_text(S(f, "t.txt"), "fifteen chars!\n");
	copy_ok(f, S(f, "t.txt"), D(f, "t.txt"), HVSIM_FCOPY_FORCE);
	assert_int_equal(stat(D(f, "t.txt"), &st), 0);
	assert_int_equal(st.st_size, 15);
	assert_true(same_content(S(f, "t.txt"), D(f, "t.txt")));
	assert_int_equal(entries(f->dst, NULL, 0), 1);
}

/* FCopy-05: non-ASCII content arrives byte for byte. */
static void test_non_ascii_content(void **state)
{
	static const char line[] = "\xc2\xa1\xc2\xa2\xc2\xa3\xc2\xa4\xc2\xa5"
				   "\xc2\xa6\xc2\xa7\xc2\xa8\xc2\xa9\xc2\xaa"
				   "\xcf\x88\xcf\x87\xcf\x86\xcf\x85 \xe2\x82"
				   "\xac\xf0\x9f\x98\x80\n";
	struct fx *f = *state;
	size_t done = 0;
	int fd;

	fd = open(S(f, "utf8.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	while (done < 4 * MIB) {
		write_all(fd, line, sizeof(line) - 1);
		done += sizeof(line) - 1;
	}
	close(fd);
	copy_ok(f, S(f, "utf8.txt"), D(f, ""), 0);
	assert_true(same_content(S(f, "utf8.txt"), D(f, "utf8.txt")));
}

/* FCopy-06: copy, check, delete, four times. */
static void test_repeat(void **state)
{
	struct fx *f = *state;

	for (unsigned i = 1; i <= 4; i++) {
		make_file(S(f, "rep.bin"), 8 * MIB + i * 1000, i);
		copy_ok(f, S(f, "rep.bin"), D(f, ""), 0);
		assert_true(same_content(S(f, "rep.bin"), D(f, "rep.bin")));
		assert_int_equal(unlink(D(f, "rep.bin")), 0);
	}
	assert_int_equal(entries(f->dst, NULL, 0), 0);
}

/* FCopy-08 (1): an immutable directory refuses the copy at START. */
static void test_immutable_dir(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkdir(D(f, "imm"), 0755), 0);
	if (set_immutable(D(f, "imm"), true) < 0) {
		print_message("# no FS_IMMUTABLE_FL on this filesystem\n");
		skip();
		return;
	}
	write_text(S(f, "a.txt"), "x");
	copy_fails(f, S(f, "a.txt"), D(f, "imm/"), 0, HV_E_FAIL,
		   HVSIM_FCOPY_STAGE_START);
	copy_fails(f, S(f, "a.txt"), D(f, "imm/"), HVSIM_FCOPY_FORCE, HV_E_FAIL,
		   HVSIM_FCOPY_STAGE_START);
	assert_int_equal(set_immutable(D(f, "imm"), false), 0);
	assert_int_equal(entries(D(f, "imm"), NULL, 0), 0);
}

/*
 * FCopy-08 (3): with the daemon stopped the copy fails, and after it is
 * started again the file must not appear (nothing queued or replayed).
 */
static void test_daemon_stopped(void **state)
{
	struct fx *f = *state;
	struct hvsim_fcopy_result res;
	char text[256];
	int r, st;

	make_file(S(f, "late.bin"), 64 * 1024, 7);
	make_file(S(f, "after.bin"), 1000, 8);
	st = stop_daemon(f, SIGTERM);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	r = copy(f, S(f, "late.bin"), D(f, ""), 0, NULL, &res);
	assert_true(r < 0 || res.status != HV_S_OK);
	assert_int_equal(res.status, HV_E_FAIL);
	assert_int_equal(res.stage, HVSIM_FCOPY_STAGE_START);
	hvsim_fcopy_result_text(&res, text, sizeof(text));
	assert_non_null(
		strstr(text, "Failed to initiate copying files to the guest"));

	start_daemon(f);
	/* The daemon has served something since: it would have by now. */
	copy_ok(f, S(f, "after.bin"), D(f, ""), 0);
	assert_false(exists(D(f, "late.bin")));
	assert_int_equal(entries(f->dst, NULL, 0), 1);
}

/* FCopy-04 and the acceptance list: 1 GiB, compared byte for byte. */
static void test_large_1g(void **state)
{
	struct fx *f = *state;
	struct timespec t0, t1;
	double secs;

	if (!private_ns) {
		/* 2 GiB in /tmp is too much to ask of a shared machine. */
		skip();
		return;
	}
	make_file(S(f, "big.bin"), BIG_FILE_SIZE, 0x9e3779b97f4a7c15ull);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	copy_ok(f, S(f, "big.bin"), D(f, ""), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("# 1 GiB over %s in %.2f s (%.0f MB/s)\n",
		      f->t == T_UIO ? "uio" : "chardev", secs,
		      (double)BIG_FILE_SIZE / secs / 1e6);
	assert_true(same_content(S(f, "big.bin"), D(f, "big.bin")));
	assert_int_equal(unlink(D(f, "big.bin")), 0);
	assert_int_equal(unlink(S(f, "big.bin")), 0);
}

/* ---------------------------------------------------------------------- */
/* Names and paths.                                                       */

static void test_unicode_names(void **state)
{
	struct fx *f = *state;
	char dest[512];

	write_text(S(f, "Gr\xc3\xbc\xc3\x9f"
			"e-\xf0\x9f\x98\x80.txt"),
		   "hallo\n");
	snprintf(dest, sizeof(dest),
		 "%s/\xc3\x9cn\xc3\xaf"
		 "c\xc3\xb8" /* Ünïcø */
		 "d\xc3\xa9-\xf0\x9f\x98\x80/",
		 f->dst);
	copy_ok(f,
		S(f, "Gr\xc3\xbc\xc3\x9f"
		     "e-\xf0\x9f\x98\x80.txt"),
		dest, HVSIM_FCOPY_CREATE_FULL_PATH);
	strcat(dest, "Gr\xc3\xbc\xc3\x9f"
		     "e-\xf0\x9f\x98\x80.txt");
	assert_true(same_content(S(f, "Gr\xc3\xbc\xc3\x9f"
				      "e-\xf0\x9f\x98\x80.txt"),
				 dest));
	/* A destination file name of its own, also beyond the BMP. */
	copy_ok(f,
		S(f, "Gr\xc3\xbc\xc3\x9f"
		     "e-\xf0\x9f\x98\x80.txt"),
		D(f, "\xf0\x9d\x84\x9e-\xe6\x97\xa5\xe6\x9c\xac"), 0);
	assert_true(exists(D(f, "\xf0\x9d\x84\x9e-\xe6\x97\xa5\xe6\x9c\xac")));
}

static void test_create_full_path(void **state)
{
	struct fx *f = *state;
	struct stat st;

	write_text(S(f, "a.txt"), "abc");
	/* Without -CreateFullPath a missing directory is HV_E_FAIL. */
	copy_fails(f, S(f, "a.txt"), D(f, "x/y/z/"), 0, HV_E_FAIL,
		   HVSIM_FCOPY_STAGE_START);
	assert_false(exists(D(f, "x")));
	/* With it, every component, the last one included (0755). */
	copy_ok(f, S(f, "a.txt"), D(f, "x/y/z/"), HVSIM_FCOPY_CREATE_FULL_PATH);
	assert_int_equal(stat(D(f, "x/y/z"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(D(f, "x"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_true(same_content(S(f, "a.txt"), D(f, "x/y/z/a.txt")));
	/* The last component without a trailing slash is a directory too. */
	copy_ok(f, S(f, "a.txt"), D(f, "p/q/b.txt"),
		HVSIM_FCOPY_CREATE_FULL_PATH);
	assert_true(same_content(S(f, "a.txt"), D(f, "p/q/b.txt")));
}

/* Names the guest refuses whatever the transport. */
static void test_bad_names(void **state)
{
	static const char *const names[] = { "..", ".", "a/b", "../escape" };
	struct fx *f = *state;
	char path[512];
	uint32_t st;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		assert_int_equal(hvsim_fcopy_start(f->fc, f->dst, names[i], 0,
						   0, &st),
				 0);
		assert_int_equal(st, HV_E_FAIL);
	}
	/* Relative, or climbing out. */
	assert_int_equal(hvsim_fcopy_start(f->fc, "dst", "a", 0, 0, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	snprintf(path, sizeof(path), "%s/../dst", f->dst);
	assert_int_equal(
		hvsim_fcopy_start(f->fc, path, "a", CREATE_PATH, 0, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_fcopy_start(f->fc, "", "a", 0, 0, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(entries(f->dst, NULL, 0), 0);
	assert_false(exists(D(f, "../a")));
	/* The daemon still serves. */
	write_text(S(f, "ok"), "ok");
	copy_ok(f, S(f, "ok"), D(f, ""), 0);
}

/*
 * Invalid UTF-16 from the host. Over UIO the daemon sees it and refuses;
 * the legacy kernel drops lone surrogates itself (§5.2, utf16s_to_utf8s),
 * so the daemon gets a valid, shorter name.
 */
static void test_invalid_utf16(void **state)
{
	struct fx *f = *state;
	uint16_t path[W_MAX_PATH], name[W_MAX_PATH];
	size_t np = strlen(f->dst);
	uint32_t st;

	for (size_t i = 0; i < np; i++)
		path[i] = (uint8_t)f->dst[i];
	name[0] = 'a';
	name[1] = 0xd800; /* a high surrogate and no low one */
	name[2] = 'b';
	assert_int_equal(hvsim_fcopy_start_utf16(f->fc, path, np, name, 3, 0, 0,
						 &st),
			 0);
	if (f->t == T_UIO) {
		assert_int_equal(st, HV_E_FAIL);
	} else {
		assert_int_equal(st, HV_S_OK);
		assert_int_equal(hvsim_fcopy_complete(f->fc, &st), 0);
		assert_int_equal(st, HV_S_OK);
		assert_true(exists(D(f, "ab")));
		assert_int_equal(unlink(D(f, "ab")), 0);
	}
	/* A low surrogate first. */
	name[0] = 0xdc00;
	name[1] = 'c';
	assert_int_equal(hvsim_fcopy_start_utf16(f->fc, path, np, name, 2, 0, 0,
						 &st),
			 0);
	if (f->t == T_UIO) {
		assert_int_equal(st, HV_E_FAIL);
		/* No NUL in the whole field. */
		for (size_t i = 0; i < W_MAX_PATH; i++)
			name[i] = 'n';
		assert_int_equal(hvsim_fcopy_start_utf16(f->fc, path, np, name,
							 W_MAX_PATH, 0, 0, &st),
				 0);
		assert_int_equal(st, HV_E_FAIL);
	} else {
		assert_int_equal(hvsim_fcopy_cancel(f->fc, &st), 0);
	}
	assert_int_equal(entries(f->dst, NULL, 0), 0);
}

/* ---------------------------------------------------------------------- */
/* Interrupted copies.                                                    */

static void test_cancel_mid_copy(void **state)
{
	struct fx *f = *state;
	struct hvsim_fcopy_copy_opts o = { .progress = progress,
					   .userdata = f };
	struct hvsim_fcopy_result res;

	make_file(S(f, "c.bin"), 4 * MIB, 3);
	f->at = MIB;
	f->answer = HVSIM_FCOPY_STOP_CANCEL;
	assert_int_equal(copy(f, S(f, "c.bin"), D(f, ""), 0, &o, &res),
			 -ECANCELED);
	assert_true(f->fired);
	assert_int_equal(res.stage, HVSIM_FCOPY_STAGE_CANCEL);
	assert_int_equal(res.status, HV_S_OK);
	assert_int_equal(entries(f->dst, NULL, 0), 0);
	/* And the same file goes through afterwards. */
	copy_ok(f, S(f, "c.bin"), D(f, ""), 0);
	assert_true(same_content(S(f, "c.bin"), D(f, "c.bin")));
}

/* Kill the daemon after `at` bytes; the copy must fail, nothing named. */
static void interrupted_copy(struct fx *f, int sig)
{
	struct hvsim_fcopy_copy_opts o = { .progress = progress,
					   .userdata = f };
	struct hvsim_fcopy_result res;
	int r;

	make_file(S(f, "k.bin"), 4 * MIB, 4);
	f->at = MIB;
	f->action = sig;
	f->answer = HVSIM_FCOPY_GO_ON;
	r = copy(f, S(f, "k.bin"), D(f, ""), 0, &o, &res);
	assert_true(f->fired);
	assert_true(r < 0 || res.status != HV_S_OK);
	assert_int_equal(res.status, HV_E_FAIL);
	assert_false(exists(D(f, "k.bin")));
}

static void test_sigkill_mid_copy(void **state)
{
	struct fx *f = *state;

	/* O_TMPFILE: a killed daemon leaves nothing at all. */
	interrupted_copy(f, SIGKILL);
	assert_int_equal(entries(f->dst, NULL, 0), 0);
	start_daemon(f);
	copy_ok(f, S(f, "k.bin"), D(f, ""), 0);
	assert_int_equal(entries(f->dst, NULL, 0), 1);
}

static void test_sigkill_mid_copy_named(void **state)
{
	struct fx *f = *state;
	char first[NAME_MAX + 1];

	restart_with(f, "--temp-files=named", NULL);
	interrupted_copy(f, SIGKILL);
	/* Our hidden temporary file, and only that, until a restart. */
	assert_int_equal(entries(f->dst, first, sizeof(first)), 1);
	assert_true(strncmp(first, ".hv-fcopy-", 10) == 0);
	start_daemon(f);
	write_text(S(f, "sync"), "s");
	copy_ok(f, S(f, "sync"), D(f, ""), 0);
	assert_int_equal(entries(f->dst, first, sizeof(first)), 1);
	assert_string_equal(first, "sync");
}

static void test_sigterm_mid_copy(void **state)
{
	struct fx *f = *state;

	restart_with(f, "--temp-files=named", NULL);
	/* A stopping daemon cleans up after itself. */
	interrupted_copy(f, SIGTERM);
	assert_int_equal(entries(f->dst, NULL, 0), 0);
	assert_true(log_contains(f, "abandoned: the daemon is stopping"));
}

/* The host gives up in the middle (no CANCEL), then starts over. */
static void test_host_restarts_copy(void **state)
{
	struct fx *f = *state;
	struct hvsim_fcopy_copy_opts o = { .progress = progress,
					   .userdata = f };
	struct hvsim_fcopy_result res;

	make_file(S(f, "r.bin"), 2 * MIB, 5);
	f->at = MIB;
	f->answer = HVSIM_FCOPY_STOP_ABANDON;
	assert_int_equal(copy(f, S(f, "r.bin"), D(f, ""), 0, &o, &res),
			 -ECANCELED);
	assert_false(exists(D(f, "r.bin")));
	copy_ok(f, S(f, "r.bin"), D(f, ""), 0);
	assert_true(same_content(S(f, "r.bin"), D(f, "r.bin")));
	assert_int_equal(entries(f->dst, NULL, 0), 1);
}

/* ---------------------------------------------------------------------- */
/* Disk full.                                                             */

static bool mount_small(struct fx *f, const char *dir)
{
	if (!private_ns)
		return false;
	assert_int_equal(mkdir(dir, 0755), 0);
	return mount("hvis-small", dir, "tmpfs", 0, "size=1m,mode=0755") == 0;
}

static void test_enospc_at_start(void **state)
{
	struct fx *f = *state;
	struct hvsim_fcopy_result res;
	char text[256];

	if (!mount_small(f, D(f, "small"))) {
		skip();
		return;
	}
	make_file(S(f, "big"), 4 * MIB, 9);
	assert_int_equal(copy(f, S(f, "big"), D(f, "small/"), 0, NULL, &res),
			 0);
	/* Refused before a single byte was sent. */
	assert_int_equal(res.status, HV_ERROR_DISK_FULL);
	assert_int_equal(res.stage, HVSIM_FCOPY_STAGE_START);
	assert_true(res.bytes == 0);
	hvsim_fcopy_result_text(&res, text, sizeof(text));
	assert_non_null(strstr(text, "(0x80070070)"));
	assert_int_equal(entries(D(f, "small"), NULL, 0), 0);
	/* What fits, fits. */
	make_file(S(f, "small"), 256 * 1024, 10);
	copy_ok(f, S(f, "small"), D(f, "small/"), 0);
	assert_int_equal(umount(D(f, "small")), 0);
}

/* Size not announced: the WRITE that hits the limit reports DISK_FULL. */
static void test_enospc_during_write(void **state)
{
	struct fx *f = *state;
	struct hvsim_fcopy_copy_opts o = { .hide_size = true };
	struct hvsim_fcopy_result res;

	if (!mount_small(f, D(f, "small"))) {
		skip();
		return;
	}
	make_file(S(f, "big"), 4 * MIB, 11);
	assert_int_equal(copy(f, S(f, "big"), D(f, "small/"), 0, &o, &res), 0);
	assert_int_equal(res.status, HV_ERROR_DISK_FULL);
	assert_int_equal(res.stage, HVSIM_FCOPY_STAGE_WRITE);
	assert_true(res.bytes > 0 && res.bytes < 4 * MIB);
	assert_int_equal(entries(D(f, "small"), NULL, 0), 0);
	assert_int_equal(umount(D(f, "small")), 0);
}

/* ---------------------------------------------------------------------- */
/* Symlinks.                                                              */

static void test_symlink_planted(void **state)
{
	struct fx *f = *state;
	char buf[64];
	int fd;

	if (geteuid() != 0) {
		skip();
		return;
	}
	/* A sticky world-writable directory like /tmp, a local user's links. */
	assert_int_equal(mkdir(D(f, "pub"), 01777), 0);
	assert_int_equal(chmod(D(f, "pub"), 01777), 0);
	assert_int_equal(mkdir(D(f, "secret"), 0755), 0);
	write_text(D(f, "secret/victim"), "precious");
	assert_int_equal(symlink(D(f, "secret"), D(f, "pub/evil")), 0);
	assert_int_equal(lchown(D(f, "pub/evil"), NOBODY, NOBODY), 0);
	assert_int_equal(symlink(D(f, "secret/victim"), D(f, "pub/target.txt")),
			 0);
	assert_int_equal(lchown(D(f, "pub/target.txt"), NOBODY, NOBODY), 0);
	write_text(S(f, "target.txt"), "from the host");
	write_text(S(f, "victim"), "from the host");

	/* Through the link: refused, nothing lands in secret/. */
	copy_fails(f, S(f, "victim"), D(f, "pub/evil/"), HVSIM_FCOPY_FORCE,
		   HV_E_FAIL, HVSIM_FCOPY_STAGE_START);
	copy_fails(f, S(f, "victim"), D(f, "pub/evil/sub/"),
		   HVSIM_FCOPY_FORCE | HVSIM_FCOPY_CREATE_FULL_PATH, HV_E_FAIL,
		   HVSIM_FCOPY_STAGE_START);
	/* At the final name: exists; with -Force still never followed. */
	copy_fails(f, S(f, "target.txt"), D(f, "pub/"), 0,
		   HV_ERROR_ALREADY_EXISTS, HVSIM_FCOPY_STAGE_START);
	copy_fails(f, S(f, "target.txt"), D(f, "pub/"), HVSIM_FCOPY_FORCE,
		   HV_E_FAIL, HVSIM_FCOPY_STAGE_START);
	fd = open(D(f, "secret/victim"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 8);
	close(fd);
	assert_memory_equal(buf, "precious", 8);
	assert_int_equal(entries(D(f, "secret"), NULL, 0), 1);
	assert_int_equal(entries(D(f, "pub"), NULL, 0), 2);

	/* Root's own link in a root-only directory is followed. */
	assert_int_equal(symlink("secret", D(f, "trusted")), 0);
	copy_ok(f, S(f, "target.txt"), D(f, "trusted/"), 0);
	assert_true(
		same_content(S(f, "target.txt"), D(f, "secret/target.txt")));
}

/* ---------------------------------------------------------------------- */
/* Protocol details.                                                      */

static void test_write_rules(void **state)
{
	static uint8_t big[DATA_FRAGMENT];
	struct fx *f = *state;
	uint32_t st;
	char buf[16];

	/* Out of sequence. */
	assert_int_equal(hvsim_fcopy_write(f->fc, 0, "x", 1, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_fcopy_complete(f->fc, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_fcopy_cancel(f->fc, &st), 0);
	assert_int_equal(st, HV_S_OK);
	/* Past the announced size: refused, and COMPLETE fails after it. */
	assert_int_equal(hvsim_fcopy_start(f->fc, f->dst, "a", 0, 10, &st), 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(hvsim_fcopy_write(f->fc, 8, "abcd", 4, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_fcopy_write(f->fc, 0, "0123456789", 10, &st), 0);
	assert_int_equal(hvsim_fcopy_complete(f->fc, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_false(exists(D(f, "a")));
	/* A size field larger than the data field. */
	assert_int_equal(hvsim_fcopy_start(f->fc, f->dst, "a", 0, 0, &st), 0);
	assert_int_equal(
		hvsim_fcopy_write(f->fc, 0, big, DATA_FRAGMENT + 1, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	/* Out of order and overlapping chunks are fine. */
	assert_int_equal(hvsim_fcopy_start(f->fc, f->dst, "b", 0, 8, &st), 0);
	assert_int_equal(hvsim_fcopy_write(f->fc, 4, "5678", 4, &st), 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(hvsim_fcopy_write(f->fc, 0, "1234", 4, &st), 0);
	assert_int_equal(hvsim_fcopy_write(f->fc, 2, "xx", 2, &st), 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(hvsim_fcopy_complete(f->fc, &st), 0);
	assert_int_equal(st, HV_S_OK);
	{
		int fd = open(D(f, "b"), O_RDONLY);

		assert_true(fd >= 0);
		assert_int_equal(read(fd, buf, sizeof(buf)), 8);
		close(fd);
		assert_memory_equal(buf, "12xx5678", 8);
	}
	/* Fewer bytes than announced. */
	assert_int_equal(hvsim_fcopy_start(f->fc, f->dst, "c", 0, 8, &st), 0);
	assert_int_equal(hvsim_fcopy_write(f->fc, 0, "1234", 4, &st), 0);
	assert_int_equal(hvsim_fcopy_complete(f->fc, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_false(exists(D(f, "c")));
	/* An operation that does not exist. */
	assert_int_equal(hvsim_fcopy_op(f->fc, 9, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(entries(f->dst, NULL, 0), 1);
}

static void test_file_mode_option(void **state)
{
	struct fx *f = *state;
	struct stat st;

	restart_with(f, "--file-mode=0600", "--no-sync");
	write_text(S(f, "m"), "mode");
	copy_ok(f, S(f, "m"), D(f, ""), 0);
	assert_int_equal(stat(D(f, "m"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* The host disables and enables Guest Service Interface (FCopy-07). */
static void test_service_toggle(void **state)
{
	struct fx *f = *state;
	char name[32];

	for (int i = 0; i < 3; i++) {
		if (f->t == T_UIO)
			assert_int_equal(hvsim_uio_rescind(f->u), 0);
		/* The channel or device goes away entirely... */
		free_sim(f);
		/* ...and comes back; the daemon finds it on its own. */
		make_sim(f);
		wait_ready(f);
		snprintf(name, sizeof(name), "after-%d", i);
		write_text(S(f, name), name);
		copy_ok(f, S(f, name), D(f, ""), 0);
	}
	assert_int_equal(entries(f->dst, NULL, 0), 3);
	assert_true(f->pid > 0 && kill(f->pid, 0) == 0);
}

/* §2: the legacy kernel's hibernation fake CANCEL and the reopen. */
static void test_hibernate_cancel(void **state)
{
	struct fx *f = *state;
	struct hvsim_fcopy_copy_opts o = { .progress = progress,
					   .userdata = f };
	struct hvsim_fcopy_result res;
	const uint8_t *m;
	size_t len;

	make_file(S(f, "h.bin"), 2 * MIB, 12);
	f->at = MIB;
	f->answer = HVSIM_FCOPY_STOP_ABANDON;
	assert_int_equal(copy(f, S(f, "h.bin"), D(f, ""), 0, &o, &res),
			 -ECANCELED);
	assert_int_equal(hvsim_fcopy_hibernate(f->fc), 0);
	m = hvsim_fcopy_last_daemon_msg(f->fc, &len);
	assert_non_null(m);
	assert_int_equal(len, 36);
	/* The daemon's answer is refused; it must reopen and register. */
	for (int i = 0; i < TIMEOUT_MS / 10; i++) {
		if (hvsim_cdev_stats(f->cd)->registrations >= 2)
			break;
		hvsim_cdev_run(f->cd, 10);
	}
	assert_int_equal(hvsim_cdev_stats(f->cd)->registrations, 2);
	assert_int_equal(hvsim_cdev_stats(f->cd)->kernel_closes, 1);
	assert_int_equal(entries(f->dst, NULL, 0), 0);
	copy_ok(f, S(f, "h.bin"), D(f, ""), 0);
	assert_true(same_content(S(f, "h.bin"), D(f, "h.bin")));
}

/* UIO: negotiation, odd packets, trans_id echo. */
static void test_uio_protocol(void **state)
{
	static const uint32_t old_fw[] = { HV_IC_VERSION(1, 0) };
	static const uint32_t fw[] = { HV_IC_VERSION(1, 0),
				       HV_IC_VERSION(3, 0) };
	static const uint32_t svc[] = { HV_IC_VERSION(1, 0),
					HV_IC_VERSION(1, 1) };
	struct fx *f = *state;
	uint8_t pkt[128], reply[HVSIM_FCOPY_PKT_MAX];
	uint32_t got_fw = 0, got_svc = 0, st;
	const struct hvsim_ic_msg hb = { .msgtype = ICMSGTYPE_HEARTBEAT };
	const struct hvsim_ic_msg fc = { .msgtype = ICMSGTYPE_FCOPY };
	ssize_t len, n;

	/* Several offered: framework 3.0 and service 1.1 are chosen. */
	assert_int_equal(hvsim_fcopy_set_offer(f->fc, fw, 2, svc, 2), 0);
	assert_int_equal(hvsim_fcopy_negotiate(f->fc), 0);
	assert_true(hvsim_fcopy_negotiated(f->fc, &got_fw, &got_svc));
	assert_int_equal(got_fw, HV_IC_VERSION(3, 0));
	assert_int_equal(got_svc, HV_IC_VERSION(1, 1));
	/* Nothing in common. */
	assert_int_equal(hvsim_fcopy_set_offer(f->fc, old_fw, 1, svc, 2), 0);
	assert_int_equal(hvsim_fcopy_negotiate(f->fc), -EPROTO);
	assert_int_equal(hvsim_fcopy_set_offer(f->fc, fw, 2, svc, 2), 0);
	assert_int_equal(hvsim_fcopy_negotiate(f->fc), 0);

	/* Another message type: HV_E_FAIL. */
	len = hvsim_ic_build(pkt, sizeof(pkt), &hb, "12345678", 8);
	n = hvsim_fcopy_exchange(f->fc, pkt, (size_t)len, reply, sizeof(reply));
	assert_true(n >= len);
	assert_int_equal(hv_le32(reply + 20), HV_E_FAIL);
	/* An FCOPY shorter than the fcopy header: HV_E_FAIL. */
	len = hvsim_ic_build(pkt, sizeof(pkt), &fc, "\0\0\0\0", 4);
	n = hvsim_fcopy_exchange(f->fc, pkt, (size_t)len, reply, sizeof(reply));
	assert_true(n >= len);
	assert_int_equal(hv_le32(reply + 20), HV_E_FAIL);
	/* Shorter than an IC header: dropped, and the next one served. */
	assert_int_equal(
		hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 77, pkt, 16), 0);
	assert_int_equal(hvsim_fcopy_cancel(f->fc, &st), 0);
	assert_int_equal(st, HV_S_OK);
	/* Every reply carried our trans_id. */
	assert_int_equal(hvsim_fcopy_stats(f->fc)->trans_id_mismatches, 0);
	assert_true(log_contains(f, "packet without an IC header dropped"));
}

/*
 * UIO: packets the host queued before the daemon opened the channel raise
 * no interrupt; the daemon must still find and answer them.
 */
static void test_uio_queued_before_open(void **state)
{
	struct fx *f = *state;
	static const uint32_t fw[] = { HV_IC_VERSION(3, 0) };
	static const uint32_t svc[] = { HV_IC_VERSION(1, 1) };
	uint8_t pkt[128], reply[256];
	struct hv_pkt_desc desc;
	ssize_t len, n;

	stop_daemon(f, SIGTERM);
	free_sim(f);
	assert_int_equal(hvsim_uio_new(f->root, HV_GUID_FCOPY,
				       HV_GUID_FCOPY_INSTANCE, 0,
				       HVSIM_FCOPY_RING_SIZE, &f->u),
			 0);
	len = hvsim_ic_build_negotiate(pkt, sizeof(pkt), 1, fw, 1, svc, 1);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 1, 500, pkt,
					(size_t)len),
			 0);
	len = hvsim_fcopy_build_hdr(pkt, sizeof(pkt), 2, CANCEL_FCOPY);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 1, 501, pkt,
					(size_t)len),
			 0);
	assert_int_equal(hvsim_fcopy_new_uio(f->u, &f->fc), 0);
	start_daemon(f);
	n = hvsim_uio_recv(f->u, &desc, reply, sizeof(reply), TIMEOUT_MS);
	assert_true(n > 0);
	assert_true(desc.trans_id == 500);
	n = hvsim_uio_recv(f->u, &desc, reply, sizeof(reply), TIMEOUT_MS);
	assert_true(n >= len);
	assert_true(desc.trans_id == 501);
	assert_int_equal(hv_le32(reply + 20), HV_S_OK);
}

/* ---------------------------------------------------------------------- */
/* Transport selection at start-up.                                       */

static void make_channel_dir(struct fx *f)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/sys/bus/vmbus/devices/%s", f->root,
		 HV_GUID_FCOPY_INSTANCE);
	assert_int_equal(hv_mkdir_parents(p, 0755), 0);
	strcat(p, "/class_id");
	write_text(p, "{" HV_GUID_FCOPY "}\n");
}

static int run_to_exit(struct fx *f, const char *transport,
		       const char *const *opts)
{
	int st = wait_exit(spawn_daemon(f, transport, opts), TIMEOUT_MS);

	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_transport_selection(void **state)
{
	static const char *const bad_mode[] = { "--file-mode=4755", NULL };
	static const char *const bad_arg[] = { "extra", NULL };
	struct fx *f = new_fixture(T_CDEV);
	char sock[256];

	*state = f;
	/* Nothing at all: 69. */
	assert_int_equal(run_to_exit(f, "auto", NULL), 69);
	assert_int_equal(run_to_exit(f, "uio", NULL), 69);
	assert_int_equal(run_to_exit(f, "chardev", NULL), 69);
	/* Bad usage: 64. */
	assert_int_equal(run_to_exit(f, "sideways", NULL), 64);
	assert_int_equal(run_to_exit(f, "auto", bad_mode), 64);
	assert_int_equal(run_to_exit(f, "auto", bad_arg), 64);
	/* The channel of 6.10+ without uio_hv_generic: 78, with the fix. */
	make_channel_dir(f);
	assert_int_equal(run_to_exit(f, "auto", NULL), 78);
	assert_true(log_contains(f, "hv-vmbus-bind bind fcopy"));
	assert_int_equal(run_to_exit(f, "uio", NULL), 78);

	/* Up to 6.9 the channel is there too, bound to hv_utils. */
	make_sim(f);
	f->pid = spawn_daemon(f, "auto", NULL);
	wait_ready(f);
	stop_daemon(f, SIGTERM);
	free_sim(f);

	/* Both transports: auto takes UIO, chardev when asked. */
	snprintf(sock, sizeof(sock), "%s/dev/vmbus/hv_fcopy", f->root);
	assert_int_equal(hvsim_cdev_new(sock, HVSIM_CDEV_FCOPY, &f->cd), 0);
	assert_int_equal(hvsim_uio_new(f->root, HV_GUID_FCOPY,
				       HV_GUID_FCOPY_INSTANCE, 0,
				       HVSIM_FCOPY_RING_SIZE, &f->u),
			 0);
	f->pid = spawn_daemon(f, "auto", NULL);
	assert_int_equal(hvsim_uio_wait_open(f->u, TIMEOUT_MS), 0);
	assert_false(hvsim_cdev_is_open(f->cd));
	kill(f->pid, SIGTERM);
	assert_int_equal(wait_exit(f->pid, TIMEOUT_MS), 0);
	assert_int_equal(hvsim_uio_wait_closed(f->u, TIMEOUT_MS), 0);
	f->pid = spawn_daemon(f, "chardev", NULL);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS), 0);
	assert_false(hvsim_uio_is_open(f->u));
	kill(f->pid, SIGTERM);
	assert_int_equal(wait_exit(f->pid, TIMEOUT_MS), 0);
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, TIMEOUT_MS), 0);
	f->pid = 0;
	/* A second daemon finds the device busy: 69. */
	f->pid = spawn_daemon(f, "chardev", NULL);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS), 0);
	{
		pid_t second = spawn_daemon(f, "chardev", NULL);
		int st;

		/* The simulator answers opens only while it runs. */
		for (int i = 0; i < TIMEOUT_MS / 10; i++) {
			if (waitpid(second, &st, WNOHANG) == second)
				break;
			hvsim_cdev_run(f->cd, 10);
		}
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 69);
	}
}

/* ---------------------------------------------------------------------- */

static int group_setup(void **state)
{
	strcpy(work, "/tmp/hvis-fcopyd.XXXXXX");
	assert_non_null(mkdtemp(work));
	if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mount("hvis-fcopy", work, "tmpfs", 0, "size=3g,mode=0755") == 0)
		private_ns = true;
	else
		print_message("# not root or no mount namespace: some cases "
			      "are skipped\n");
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	if (private_ns)
		umount2(work, MNT_DETACH);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
	return system(cmd) == 0 ? 0 : -1;
}

/* One case per transport, named after it. */
#define BOTH(t)                                              \
	{ #t "_uio", t, setup_uio, teardown, NULL },         \
	{                                                    \
#t "_chardev", t, setup_cdev, teardown, NULL \
	}
#define UIO(t)                                   \
	{                                        \
#t, t, setup_uio, teardown, NULL \
	}
#define CDEV(t)                                   \
	{                                         \
#t, t, setup_cdev, teardown, NULL \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_basic_10m),
		BOTH(test_exists),
		BOTH(test_overwrite_truncates),
		BOTH(test_non_ascii_content),
		BOTH(test_repeat),
		BOTH(test_immutable_dir),
		BOTH(test_daemon_stopped),
		BOTH(test_unicode_names),
		BOTH(test_create_full_path),
		BOTH(test_bad_names),
		BOTH(test_invalid_utf16),
		BOTH(test_cancel_mid_copy),
		BOTH(test_sigkill_mid_copy),
		BOTH(test_sigkill_mid_copy_named),
		BOTH(test_sigterm_mid_copy),
		BOTH(test_host_restarts_copy),
		BOTH(test_enospc_at_start),
		BOTH(test_enospc_during_write),
		BOTH(test_symlink_planted),
		BOTH(test_write_rules),
		BOTH(test_file_mode_option),
		BOTH(test_service_toggle),
		CDEV(test_hibernate_cancel),
		UIO(test_uio_protocol),
		UIO(test_uio_queued_before_open),
		cmocka_unit_test_teardown(test_transport_selection, teardown),
		BOTH(test_large_1g),
	};

	/* FCOPY_TEST=glob runs only the matching cases (debugging). */
	if (getenv("FCOPY_TEST"))
		cmocka_set_test_filter(getenv("FCOPY_TEST"));
	return cmocka_run_group_tests_name("fcopy-daemon", tests, group_setup,
					   group_teardown);
}
