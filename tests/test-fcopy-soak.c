/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fcopy soak (issue 9, Load): HVIS_SOAK_COPIES (default 50) Copy-VMFile
 * runs back to back through the real hv_fcopy_daemon, over the UIO
 * channel and over the legacy char device, with sizes from 0 to 4 MiB,
 * random chunk sizes, some overwrites (-Force) of an earlier file and
 * CANCEL_FCOPY from the host at a random point of about a third of them.
 * Everything random comes from one seed, printed (HVIS_SOAK_SEED=N
 * repeats a run).
 *
 * After each copy: a completed file has the source's checksum; a
 * cancelled one left nothing (not its name, no temporary file) and an
 * overwrite it cancelled left the old file as it was; the destination
 * directory holds exactly the files completed so far. The daemon is idle
 * between copies, so its open fd count must be the same after every copy,
 * and its VmRSS at the end may exceed the one after warm-up (the first
 * tenth of the copies) by at most FCOPY_RSS_MARGIN_KB (plain builds: see
 * rss_meaningful()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "daemon-spawn.h"
#include "hvis/util.h"
#include "hvis/wire.h"
#include "hvsim/hvsim-fcopy.h"
#include "hvsim/hvsim.h"

#define TIMEOUT_MS HVIS_TIMEOUT(10000)
#define MIB (1024u * 1024u)
#define MAX_SIZE (4 * MIB)
#define COPIES_DEFAULT 50u
#define COPIES_MAX 10000u
/*
 * Why 256 KiB: between copies the daemon holds no file and no buffer
 * that depends on the copy, so any growth is allocator slack: the UIO
 * and chardev buffers are allocated once at start, and a copy's state
 * is a fixed-size struct. A leak of one chunk buffer (6 KiB) per copy
 * over 50 copies (300 KiB) does not fit.
 */
#define FCOPY_RSS_MARGIN_KB 256l

extern char **environ;

enum transport { T_UIO, T_CDEV };

static char work[64];
static bool private_ns;
static uint64_t seed;

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
	uint64_t cancel_at;
};

/* A file the guest should hold: its name and content checksum. */
struct held {
	char name[32];
	uint64_t sum;
	uint64_t size;
};

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* FNV-1a over a file; -1 (all ones) if it cannot be read. */
static uint64_t file_sum(const char *path, uint64_t *size)
{
	static uint8_t buf[256 * 1024];
	uint64_t h = 1469598103934665603ull, n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return UINT64_MAX;
	while ((r = hv_read_full(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
		n += (uint64_t)r;
	}
	close(fd);
	if (r < 0)
		return UINT64_MAX;
	if (size)
		*size = n;
	return h;
}

static void make_file(const char *path, uint64_t size, uint64_t x)
{
	static uint64_t buf[MIB / 8];
	uint64_t done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	x |= 1;
	while (done < size) {
		size_t n = (size_t)HV_MIN(size - done, (uint64_t)MIB);

		for (size_t i = 0; i < ARRAY_SIZE(buf); i++)
			buf[i] = next_rand(&x);
		assert_int_equal(hv_write_full(fd, buf, n), (ssize_t)n);
		done += n;
	}
	close(fd);
}

/*
 * Is the daemon's RSS a measure of its own memory? Not under a wrapper
 * (valgrind's memory is counted too), and not when built with ASan: its
 * quarantine keeps freed blocks (up to 256 MiB) and their shadow resident.
 * LeakSanitizer checks the daemon at exit instead, and the test asserts
 * that exit status.
 */
static bool rss_meaningful(void)
{
#ifdef __SANITIZE_ADDRESS__
	return false;
#else
	return !hvis_daemon_wrapped();
#endif
}

static long proc_rss_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			kb = strtol(line + flen + 1, NULL, 10);
			break;
		}
	fclose(fp);
	return kb;
}

static int count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void show_log(const struct fx *f)
{
	char line[512];
	FILE *fp = fopen(f->log, "r");
	int n = 0;

	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp) && n++ < 60)
		print_message("# daemon: %s", line);
	fclose(fp);
}

static void start_daemon(struct fx *f)
{
	posix_spawn_file_actions_t fa;
	char bin[256];
	char *argv[] = { bin,
			 "--root",
			 f->root,
			 "--log=stderr",
			 f->t == T_UIO ? "--transport=uio" :
					 "--transport=chardev",
			 NULL };
	int r;

	snprintf(bin, sizeof(bin), "%s/hv_fcopy_daemon",
		 getenv("BUILD") ? getenv("BUILD") : "build");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, f->log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	assert_int_equal(
		hvis_spawn_daemon(&f->pid, bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	r = f->t == T_UIO ? hvsim_uio_wait_open(f->u, TIMEOUT_MS) :
			    hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS);
	if (r != 0) {
		show_log(f);
		fail_msg("daemon not ready: %s", strerror(-r));
	}
}

/* SIGTERM, then its exit status within the timeout (pidfd, no polling). */
static int stop_daemon(pid_t pid)
{
	struct pollfd p = { .events = POLLIN };
	int st = -1;

	assert_int_equal(kill(pid, SIGTERM), 0);
	p.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	assert_true(p.fd >= 0);
	if (poll(&p, 1, TIMEOUT_MS) != 1) {
		close(p.fd);
		fail_msg("the daemon did not exit on SIGTERM");
	}
	close(p.fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static int setup(void **state, enum transport t)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256];

	assert_non_null(f);
	f->t = t;
	snprintf(f->root, sizeof(f->root), "%s/t.XXXXXX", work);
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(chmod(f->root, 0755), 0);
	snprintf(p, sizeof(p), "%s/dev/vmbus", f->root);
	assert_int_equal(hv_mkdir_parents(p, 0755), 0);
	snprintf(f->dst, sizeof(f->dst), "%s/dst", f->root);
	assert_int_equal(mkdir(f->dst, 0755), 0);
	snprintf(f->src, sizeof(f->src), "%s/src", f->root);
	assert_int_equal(mkdir(f->src, 0755), 0);
	snprintf(f->log, sizeof(f->log), "%s/daemon.log", f->root);
	if (t == T_UIO) {
		assert_int_equal(hvsim_uio_new(f->root, HV_GUID_FCOPY,
					       HV_GUID_FCOPY_INSTANCE, 0,
					       HVSIM_FCOPY_RING_SIZE, &f->u),
				 0);
		assert_int_equal(hvsim_fcopy_new_uio(f->u, &f->fc), 0);
	} else {
		snprintf(p, sizeof(p), "%s/dev/vmbus/hv_fcopy", f->root);
		assert_int_equal(hvsim_cdev_new(p, HVSIM_CDEV_FCOPY, &f->cd),
				 0);
		assert_int_equal(hvsim_fcopy_new_cdev(f->cd, &f->fc), 0);
	}
	hvsim_fcopy_set_timeout(f->fc, TIMEOUT_MS);
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
	f->fc = hvsim_fcopy_free(f->fc);
	f->u = hvsim_uio_free(f->u);
	f->cd = hvsim_cdev_free(f->cd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int cancel_cb(uint64_t done, uint64_t total, void *userdata)
{
	const struct fx *f = userdata;

	return done >= f->cancel_at ? HVSIM_FCOPY_STOP_CANCEL :
				      HVSIM_FCOPY_GO_ON;
}

static unsigned copies(void)
{
	const char *v = getenv("HVIS_SOAK_COPIES");
	unsigned long n = COPIES_DEFAULT;
	char *end;

	if (v && *v) {
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || *end || n == 0 || n > COPIES_MAX)
			fail_msg("HVIS_SOAK_COPIES=%s: not 1..%u", v,
				 COPIES_MAX);
	}
	return (unsigned)n;
}

static void test_soak(void **state)
{
	struct fx *f = *state;
	unsigned n = copies(), warm_at = HV_MAX(n / 10, 1u), done = 0;
	unsigned cancelled = 0, overwrites = 0, nheld = 0;
	struct held *held = calloc(n, sizeof(*held));
	uint64_t x = seed ^ (f->t == T_UIO ? 0x51ull : 0xc4ull), bytes = 0;
	long warm_rss = -1, rss = -1, anon = -1, warm_anon = -1;
	int fds0 = -1, fds, st;
	struct timespec t0, t1;
	char src[256], dst[256], text[256];

	assert_non_null(held);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < n; i++) {
		uint64_t r = next_rand(&x), size, sum, got_size = 0;
		struct hvsim_fcopy_copy_opts o = { .userdata = f };
		struct hvsim_fcopy_result res;
		struct held *h = NULL, old = { .sum = 0 };
		bool cancel;
		unsigned flags = 0;
		int ret;

		switch (r % 10) {
		case 0:
			size = 0;
			break;
		case 1:
		case 2:
		case 3:
			size = 1 + next_rand(&x) % (64 * 1024);
			break;
		default:
			size = next_rand(&x) % (MAX_SIZE + 1);
		}
		cancel = size > 0 && next_rand(&x) % 3 == 0;
		if (cancel) {
			f->cancel_at = 1 + next_rand(&x) % size;
			o.progress = cancel_cb;
		}
		if (next_rand(&x) % 4 == 0)
			o.chunk = 1 + (uint32_t)(next_rand(&x) % DATA_FRAGMENT);
		o.hide_size = next_rand(&x) % 8 == 0;
		if (nheld > 0 && next_rand(&x) % 5 == 0) {
			/* -Force over a file copied earlier. */
			h = &held[next_rand(&x) % nheld];
			old = *h;
			flags |= HVSIM_FCOPY_FORCE;
			overwrites++;
		} else {
			h = &held[nheld];
			snprintf(h->name, sizeof(h->name), "f%04u.bin", i);
		}
		snprintf(src, sizeof(src), "%s/%s", f->src, h->name);
		snprintf(dst, sizeof(dst), "%s/%s", f->dst, h->name);
		make_file(src, size, next_rand(&x));
		sum = file_sum(src, NULL);

		ret = hvsim_fcopy_copy_file(f->fc, src, dst, flags, &o, &res);
		if (cancel) {
			if (ret != -ECANCELED ||
			    res.stage != HVSIM_FCOPY_STAGE_CANCEL ||
			    res.status != HV_S_OK) {
				show_log(f);
				fail_msg(
					"copy %u (%ju bytes, cancel at %ju): %d,"
					" stage %d, %s",
					i, (uintmax_t)size,
					(uintmax_t)f->cancel_at, ret, res.stage,
					hvsim_fcopy_result_text(&res, text,
								sizeof(text)));
			}
			cancelled++;
			if (flags & HVSIM_FCOPY_FORCE) {
				/* The old file, untouched. */
				if (file_sum(dst, &got_size) != old.sum ||
				    got_size != old.size)
					fail_msg("copy %u: cancelled overwrite "
						 "changed %s",
						 i, h->name);
			} else if (access(dst, F_OK) == 0 || errno != ENOENT) {
				fail_msg("copy %u: cancelled, yet %s exists", i,
					 h->name);
			}
		} else {
			if (ret != 0 || res.status != HV_S_OK ||
			    res.bytes != size) {
				show_log(f);
				fail_msg("copy %u (%ju bytes): %d, %s", i,
					 (uintmax_t)size, ret,
					 hvsim_fcopy_result_text(&res, text,
								 sizeof(text)));
			}
			if (file_sum(dst, &got_size) != sum || got_size != size)
				fail_msg("copy %u: %s has the wrong content "
					 "(%ju bytes, want %ju)",
					 i, h->name, (uintmax_t)got_size,
					 (uintmax_t)size);
			h->sum = sum;
			h->size = size;
			if (!(flags & HVSIM_FCOPY_FORCE))
				nheld++;
			bytes += size;
		}
		assert_int_equal(unlink(src), 0);
		/* Nothing but the completed files: no temporary left. */
		assert_int_equal(count_entries(f->dst), (int)nheld);
		done++;

		snprintf(text, sizeof(text), "/proc/%d/fd", (int)f->pid);
		fds = count_entries(text);
		if (fds0 < 0)
			fds0 = fds;
		else if (fds != fds0)
			fail_msg(
				"copy %u: the daemon has %d fds open, %d after "
				"the first copy",
				i, fds, fds0);
		rss = proc_rss_kb(f->pid, "VmRSS");
		anon = proc_rss_kb(f->pid, "RssAnon");
		if (done == warm_at) {
			warm_rss = rss;
			warm_anon = anon;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Every file completed earlier is still there, intact. */
	for (unsigned i = 0; i < nheld; i++) {
		uint64_t got_size = 0;

		snprintf(dst, sizeof(dst), "%s/%s", f->dst, held[i].name);
		if (file_sum(dst, &got_size) != held[i].sum ||
		    got_size != held[i].size)
			fail_msg("%s changed after its copy", held[i].name);
	}
	print_message("# %s: %u copies (%u cancelled, %u overwrites, %u "
		      "files, %.1f MiB completed) in %.2f s; daemon fds %d "
		      "throughout; VmRSS %ld kB after %u copies, %ld kB at the "
		      "end (RssAnon %ld -> %ld kB; margin %ld kB)\n",
		      f->t == T_UIO ? "uio" : "chardev", n, cancelled,
		      overwrites, nheld, (double)bytes / MIB,
		      (double)(t1.tv_sec - t0.tv_sec) +
			      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		      fds0, warm_rss, warm_at, rss, warm_anon, anon,
		      FCOPY_RSS_MARGIN_KB);
	if (rss_meaningful() && rss > warm_rss + FCOPY_RSS_MARGIN_KB)
		fail_msg("daemon RSS grew from %ld to %ld kB", warm_rss, rss);
	free(held);

	st = stop_daemon(f->pid);
	f->pid = 0;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int group_setup(void **state)
{
	const char *v = getenv("HVIS_SOAK_SEED");
	struct timespec t;

	if (v && *v) {
		seed = strtoull(v, NULL, 0);
	} else {
		clock_gettime(CLOCK_REALTIME, &t);
		seed = (uint64_t)t.tv_nsec ^ (uint64_t)t.tv_sec << 20 ^
		       (uint64_t)getpid();
	}
	if (!seed)
		seed = 1;
	print_message("# seed %ju (HVIS_SOAK_SEED=%ju repeats this run)\n",
		      (uintmax_t)seed, (uintmax_t)seed);
	hv_strscpy(work, "/tmp/hvis-fcopy-soak.XXXXXX", sizeof(work));
	assert_non_null(mkdtemp(work));
	if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mount("hvis-fcopy-soak", work, "tmpfs", 0, "size=256m,mode=0755") ==
		    0)
		private_ns = true;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		{ "fcopy_soak_uio", test_soak, setup_uio, teardown, NULL },
		{ "fcopy_soak_chardev", test_soak, setup_cdev, teardown, NULL },
	};

	return cmocka_run_group_tests_name("fcopy-soak", tests, group_setup,
					   group_teardown);
}
