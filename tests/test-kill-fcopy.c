/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SIGKILL at random points of a Copy-VMFile (issue 9, "Process"), over
 * both transports, HVIS_KILL_ITERATIONS times each (default 100).
 *
 * Each iteration copies a file of random size (0..160 KiB) as START,
 * WRITEs of up to 6144 bytes and COMPLETE, sometimes over an existing
 * file with OVER_WRITE, with O_TMPFILE or named temporary files in turn.
 * The kill point is a message (by byte count: START, the WRITE at some
 * offset, COMPLETE) and either right after its reply or a random number
 * of microseconds after it was sent, so inside the daemon's handling of
 * it (fsync and rename included). Then a new daemon is started, serves
 * one small copy, and the destination must hold:
 *   - no file of ours under a temporary name (the restart removes it);
 *   - under the final name, nothing (a new file), the old content (an
 *     overwrite), or the whole new content: never a partial file;
 *   - the whole new content whenever the host was told COMPLETE worked.
 * What the host was told for the message the kill hit is checked too:
 * the daemon's answer or HV_E_FAIL, nothing else.
 *
 * The seed (HVIS_KILL_SEED to repeat) and the time per loop go to the
 * TAP output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fault-util.h"
#include "hvis/util.h"
#include "hvis/wire.h"
#include "hvsim/hvsim-fcopy.h"
#include "hvsim/hvsim.h"

#define TIMEOUT_MS 10000
#define MAX_SIZE (160 * 1024)

enum transport { T_UIO, T_CDEV };
enum { KILL_AFTER_REPLY, KILL_DURING };

static char work[64];
static bool private_ns;

struct fx {
	enum transport t;
	char root[128];
	char dst[160];
	char src[192];
	char log[160];
	char record[192];
	struct hvsim_cdev *cd;
	struct hvsim_uio *u;
	struct hvsim_fcopy *fc;
	pid_t pid;
	/* per message kind: the longest round trip seen, in microseconds */
	uint64_t rtt[3];
};

static void pump(void *ctx, int ms)
{
	struct fx *f = ctx;

	if (f->u)
		hvsim_uio_run(f->u, ms);
	else
		hvsim_cdev_run(f->cd, ms);
}

static void fill(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
}

/* The file at path holds exactly len bytes equal to data. */
static bool holds(const char *path, const uint8_t *data, size_t len)
{
	static uint8_t buf[MAX_SIZE + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = hv_read_full(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)len && memcmp(buf, data, len) == 0;
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

static void start(struct fx *f, bool named)
{
	char bin[256];
	char *argv[] = { bin,
			 "--root",
			 f->root,
			 "--log=stderr",
			 f->t == T_UIO ? "--transport=uio" :
					 "--transport=chardev",
			 "--temp-files=named",
			 NULL };
	int r;

	if (!named)
		argv[5] = NULL;
	snprintf(bin, sizeof(bin), "%s/hv_fcopy_daemon", fu_build_dir());
	/* A fresh log per daemon: the last one is what a failure shows. */
	unlink(f->log);
	f->pid = fu_spawn(argv, f->log);
	assert_true(f->pid > 0);
	r = f->t == T_UIO ? hvsim_uio_wait_open(f->u, TIMEOUT_MS) :
			    hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS);
	if (r < 0)
		fail_msg("daemon not ready: %s; log:\n%s", strerror(-r),
			 fu_read_text(f->log));
}

static void reap(struct fx *f)
{
	int st = fu_wait_exit(f->pid, TIMEOUT_MS, pump, f);

	assert_true(st >= 0);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	f->pid = 0;
	if (f->t == T_UIO)
		assert_int_equal(hvsim_uio_wait_closed(f->u, TIMEOUT_MS), 0);
	else
		assert_int_equal(hvsim_cdev_wait_closed(f->cd, TIMEOUT_MS), 0);
}

/* Our temporary files left in dst. */
static int temp_files(struct fx *f)
{
	DIR *d = opendir(f->dst);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, ".hv-fcopy-", 10) == 0)
			n++;
	closedir(d);
	return n;
}

/* Everything in dst but name (when keep) must be gone; returns count. */
static int other_entries(struct fx *f, const char *keep)
{
	DIR *d = opendir(f->dst);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (keep && !strcmp(de->d_name, keep))
			continue;
		print_message("# unexpected: %s\n", de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static int setup(void **state, enum transport t)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256];

	assert_non_null(f);
	f->t = t;
	snprintf(f->root, sizeof(f->root), "%s/k.XXXXXX", work);
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(chmod(f->root, 0755), 0);
	snprintf(p, sizeof(p), "%s/dev/vmbus", f->root);
	assert_int_equal(hv_mkdir_parents(p, 0755), 0);
	snprintf(f->dst, sizeof(f->dst), "%s/dst", f->root);
	assert_int_equal(mkdir(f->dst, 0755), 0);
	snprintf(f->src, sizeof(f->src), "%s/sync.src", f->root);
	snprintf(f->log, sizeof(f->log), "%s/daemon.log", f->root);
	snprintf(f->record, sizeof(f->record),
		 "%s/var/lib/hyperv/fcopy-partial", f->root);
	for (size_t i = 0; i < ARRAY_SIZE(f->rtt); i++)
		f->rtt[i] = 300;
	make_sim(f);
	assert_int_equal(fu_kill_init(), 0);
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

	fu_kill_cancel();
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	f->fc = hvsim_fcopy_free(f->fc);
	f->u = hvsim_uio_free(f->u);
	f->cd = hvsim_cdev_free(f->cd);
	assert_int_equal(fu_rm_rf(f->root), 0);
	free(f);
	return 0;
}

/* ---------------------------------------------------------------------- */

/*
 * Send message idx of the copy (0 START, 1..nw WRITE, nw+1 COMPLETE).
 * Returns false when the host saw it fail (the daemon died), true when
 * the daemon answered HV_S_OK; any other outcome fails the test.
 */
static bool send_msg(struct fx *f, unsigned idx, unsigned nw,
		     const uint8_t *data, size_t size, uint32_t flags,
		     const char *name)
{
	uint64_t t0 = fu_now_us(), dt;
	uint32_t st = 0xdead;
	int r, kind;

	if (idx == 0) {
		kind = 0;
		r = hvsim_fcopy_start(f->fc, f->dst, name, flags, size, &st);
	} else if (idx <= nw) {
		uint64_t off = (uint64_t)(idx - 1) * DATA_FRAGMENT;
		uint32_t len =
			(uint32_t)HV_MIN((uint64_t)DATA_FRAGMENT, size - off);

		kind = 1;
		r = hvsim_fcopy_write(f->fc, off, data + off, len, &st);
	} else {
		kind = 2;
		r = hvsim_fcopy_complete(f->fc, &st);
	}
	dt = fu_now_us() - t0;
	if (r == 0 && st == HV_S_OK) {
		f->rtt[kind] = HV_MAX(f->rtt[kind], dt);
		return true;
	}
	/* The daemon died under the request: the host saw HV_E_FAIL. */
	if ((r == 0 || r == -ECONNRESET || r == -ENOTCONN) && st == HV_E_FAIL)
		return false;
	fail_msg("message %u: %d, status 0x%08x; log:\n%s", idx, r, st,
		 fu_read_text(f->log));
	return false;
}

static void kill_loop(struct fx *f)
{
	static uint8_t data[MAX_SIZE], old[64];
	unsigned n = fu_iterations(), during = 0, after = 0, temps = 0;
	unsigned completed = 0, published = 0, kept_old = 0;
	struct fu_rng rng = { fu_seed() };
	uint64_t seed = rng.s, t0 = fu_now_us();
	char name[32], path[256];
	struct hvsim_fcopy_result res;

	print_message("# seed 0x%llx (HVIS_KILL_SEED), %u iterations\n",
		      (unsigned long long)seed, n);
	fill(old, sizeof(old), 7);
	start(f, false);
	for (unsigned i = 0; i < n; i++) {
		size_t size = (size_t)fu_below(&rng, MAX_SIZE + 1);
		unsigned nw =
			(unsigned)((size + DATA_FRAGMENT - 1) / DATA_FRAGMENT);
		unsigned k = (unsigned)fu_below(&rng, nw + 2);
		int how = fu_below(&rng, 3) ? KILL_DURING : KILL_AFTER_REPLY;
		bool overwrite = i % 4 >= 2, named = i % 2 == 1;
		bool complete_ok = false, up = true;
		int fd;

		snprintf(name, sizeof(name), "f%u", i);
		snprintf(path, sizeof(path), "%s/%s", f->dst, name);
		fill(data, size, rng.s);
		if (overwrite) {
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			assert_true(fd >= 0);
			assert_int_equal(write(fd, old, sizeof(old)),
					 sizeof(old));
			close(fd);
		}
		for (unsigned m = 0; m < k && up; m++)
			up = send_msg(f, m, nw, data, size,
				      overwrite ? OVER_WRITE : 0, name);
		if (!up)
			fail_msg("iteration %u: message before the kill "
				 "failed",
				 i);
		if (how == KILL_DURING) {
			uint64_t d = fu_below(&rng, f->rtt[k == 0  ? 0 :
							   k <= nw ? 1 :
								     2] +
							    1);

			assert_int_equal(fu_kill_after(f->pid, d), 0);
			up = send_msg(f, k, nw, data, size,
				      overwrite ? OVER_WRITE : 0, name);
			if (!fu_kill_cancel())
				fu_kill_after(f->pid, 0);
			during++;
		} else {
			up = send_msg(f, k, nw, data, size,
				      overwrite ? OVER_WRITE : 0, name);
			assert_true(up);
			fu_kill_after(f->pid, 0);
			fu_kill_cancel();
			after++;
		}
		complete_ok = up && k == nw + 1;
		reap(f);
		if (temp_files(f) > 0)
			temps++;

		/* The next daemon cleans up, and serves. */
		start(f, named);
		fd = open(f->src, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "sync", 4), 4);
		close(fd);
		{
			char dest[256];

			snprintf(dest, sizeof(dest), "%s/sync", f->dst);
			assert_int_equal(hvsim_fcopy_copy_file(f->fc, f->src,
							       dest, 0, NULL,
							       &res),
					 0);
			assert_int_equal(res.status, HV_S_OK);
			assert_int_equal(unlink(dest), 0);
		}
		if (temp_files(f) != 0)
			fail_msg("iteration %u (seed 0x%llx, size %zu, kill at "
				 "message %u %s): a temporary file is left",
				 i, (unsigned long long)seed, size, k,
				 how == KILL_DURING ? "during" : "after");
		/* Under the final name: nothing partial, ever. */
		{
			struct stat sb;
			bool there = stat(path, &sb) == 0;

			if (complete_ok && !there)
				fail_msg("iteration %u: COMPLETE answered OK "
					 "but %s is missing",
					 i, name);
			if (!there && overwrite)
				fail_msg("iteration %u: the old %s is gone", i,
					 name);
			if (there && overwrite &&
			    holds(path, old, sizeof(old)) && !complete_ok) {
				kept_old++;
			} else if (there) {
				if (!holds(path, data, size))
					fail_msg("iteration %u (seed 0x%llx, "
						 "size %zu, kill at message %u "
						 "%s): %s is not the whole "
						 "copy (%lld bytes)",
						 i, (unsigned long long)seed,
						 size, k,
						 how == KILL_DURING ? "during" :
								      "after",
						 name, (long long)sb.st_size);
				published++;
			}
			if (there)
				assert_int_equal(unlink(path), 0);
		}
		if (other_entries(f, NULL) != 0)
			fail_msg("iteration %u: more in %s than expected", i,
				 f->dst);
		completed += complete_ok;
		assert_int_equal(access(f->record, F_OK), -1);
	}
	print_message("# %u iterations in %.1f s: %u kills during a message, "
		      "%u after its reply; %u left a temporary file (removed "
		      "by the restart); %u complete copies, %u files "
		      "published, %u old files kept\n",
		      n, (double)(fu_now_us() - t0) / 1e6, during, after, temps,
		      completed, published, kept_old);
}

static void test_kill_loop(void **state)
{
	kill_loop(*state);
}

static int group_setup(void **state)
{
	hv_strscpy(work, "/tmp/hvis-kfcopy.XXXXXX", sizeof(work));
	assert_non_null(mkdtemp(work));
	if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mount("hvis-kfcopy", work, "tmpfs", 0, "size=256m,mode=0755") == 0)
		private_ns = true;
	return 0;
}

static int group_teardown(void **state)
{
	if (private_ns)
		umount2(work, MNT_DETACH);
	return fu_rm_rf(work) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{ "kill_loop_uio", test_kill_loop, setup_uio, teardown, NULL },
		{ "kill_loop_chardev", test_kill_loop, setup_cdev, teardown,
		  NULL },
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("kill-fcopy", tests, group_setup,
					   group_teardown);
}
