/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The frozen-state marker (format, strict parsing, atomic files, mapping
 * back onto the mount table) and the auto-thaw watchdog.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>

#include "hvis/loop.h"
#include "hvis/util.h"
#include "state.h"

static char tmpdir[64];

static int setup_dir(void **state)
{
	hv_strscpy(tmpdir, "/tmp/hvis-vss-state.XXXXXX", sizeof(tmpdir));
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct freeze_set *sample_set(void)
{
	struct freeze_set *s;

	assert_int_equal(freeze_set_new(&s), 0);
	assert_int_equal(freeze_set_add(s, "/mnt/with space\\and\ttab", "ext4",
					253, 1, 40, FREEZE_FS_PENDING),
			 0);
	assert_int_equal(freeze_set_add(s, "/srv", "xfs", 8, 17, 41,
					FREEZE_FS_PENDING),
			 0);
	assert_int_equal(freeze_set_add(s, "/", "btrfs", 0, 33, 1,
					FREEZE_FS_PENDING),
			 0);
	return s;
}

static void test_escape(void **state)
{
	char *e;

	assert_int_equal(vss_escape("/a b\\c\n\xff", &e), 0);
	assert_string_equal(e, "/a\\040b\\134c\\012\\377");
	assert_int_equal(vss_unescape(e), 0);
	assert_string_equal(e, "/a b\\c\n\xff");
	free(e);
	{
		char bad1[] = "/a\\04", bad2[] = "/a\\000", bad3[] = "/a\\089",
		     bad4[] = "/a\\400";

		assert_int_equal(vss_unescape(bad1), -EBADMSG);
		assert_int_equal(vss_unescape(bad2), -EBADMSG);
		assert_int_equal(vss_unescape(bad3), -EBADMSG);
		assert_int_equal(vss_unescape(bad4), -EBADMSG);
	}
}

static void test_format_parse(void **state)
{
	static const char *const hooks[] = { "/etc/hvis/vss-hooks.d/10-db",
					     "/etc/hvis/vss-hooks.d/20 app" };
	struct freeze_set *s = sample_set();
	struct vss_marker *m;
	char *text;
	size_t len;

	/* Only INTENT and FROZEN entries are listed. */
	s->fs[0].state = FREEZE_FS_FROZEN;
	s->fs[1].state = FREEZE_FS_INTENT;
	s->fs[2].state = FREEZE_FS_OPEN;
	assert_int_equal(vss_marker_format(s, hooks, 2, 1234, 1700000000, &text,
					   &len),
			 0);
	assert_int_equal(strlen(text), len);
	assert_string_equal(
		text,
		"hvis-vss-frozen 1\n"
		"pid 1234\n"
		"since 1700000000\n"
		"hook /etc/hvis/vss-hooks.d/10-db\n"
		"hook /etc/hvis/vss-hooks.d/20\\040app\n"
		"fs frozen 253:1 40 ext4 /mnt/with\\040space\\134and\\011tab\n"
		"fs intent 8:17 41 xfs /srv\n");
	assert_int_equal(vss_marker_parse(text, len, &m), 0);
	assert_int_equal(m->pid, 1234);
	assert_int_equal(m->since, 1700000000);
	assert_int_equal(m->n_hooks, 2);
	assert_string_equal(m->hooks[1], "/etc/hvis/vss-hooks.d/20 app");
	assert_int_equal(m->n_fs, 2);
	assert_true(m->fs[0].frozen);
	assert_false(m->fs[1].frozen);
	assert_string_equal(m->fs[0].mount_point, "/mnt/with space\\and\ttab");
	assert_int_equal(m->fs[0].major, 253);
	assert_int_equal(m->fs[0].minor, 1);
	assert_int_equal(m->fs[0].mnt_id, 40);
	assert_string_equal(m->fs[1].fstype, "xfs");
	assert_true(vss_marker_pending(m));
	vss_marker_free(m);
	free(text);

	/* Nothing at all: a marker with only its header is not pending. */
	assert_int_equal(vss_marker_format(NULL, NULL, 0, 1, 2, &text, &len),
			 0);
	assert_int_equal(vss_marker_parse(text, len, &m), 0);
	assert_false(vss_marker_pending(m));
	vss_marker_free(m);
	free(text);
	freeze_set_free(s, NULL);
}

static void expect_bad(const char *text, int err)
{
	struct vss_marker *m = NULL;

	assert_int_equal(vss_marker_parse(text, strlen(text), &m), err);
	assert_null(m);
}

#define HDR "hvis-vss-frozen 1\npid 7\nsince 9\n"

static void test_parse_strict(void **state)
{
	struct vss_marker *m;

	expect_bad("", -EBADMSG);
	expect_bad("hvis-vss-frozen 2\npid 7\nsince 9\n", -EBADMSG);
	expect_bad("pid 7\nhvis-vss-frozen 1\nsince 9\n", -EBADMSG);
	expect_bad("hvis-vss-frozen 1\nsince 9\n", -EBADMSG); /* no pid */
	expect_bad("hvis-vss-frozen 1\npid 7\n", -EBADMSG); /* no since */
	expect_bad(HDR "pid 8\n", -EBADMSG); /* twice */
	expect_bad("hvis-vss-frozen 1\npid 0\nsince 9\n", -EBADMSG);
	expect_bad("hvis-vss-frozen 1\npid -1\nsince 9\n", -EBADMSG);
	expect_bad("hvis-vss-frozen 1\npid 7\nsince 9", -EBADMSG); /* cut */
	expect_bad(HDR "colour blue\n", -EBADMSG);
	expect_bad(HDR "hook\n", -EBADMSG);
	expect_bad(HDR "hook relative/path\n", -EBADMSG);
	expect_bad(HDR "hook /a b\n", -EBADMSG); /* unescaped space */
	expect_bad(HDR "fs frozen 8:1 4 ext4\n", -EBADMSG);
	expect_bad(HDR "fs frozen 8:1 4 ext4 /a extra\n", -EBADMSG);
	expect_bad(HDR "fs melted 8:1 4 ext4 /a\n", -EBADMSG);
	expect_bad(HDR "fs frozen 8-1 4 ext4 /a\n", -EBADMSG);
	expect_bad(HDR "fs frozen 8:1 x ext4 /a\n", -EBADMSG);
	expect_bad(HDR "fs frozen 4096:1 4 ext4 /a\n", -EBADMSG);
	expect_bad(HDR "fs frozen 8:1 4 ext4 rel\n", -EBADMSG);
	expect_bad(HDR "fs frozen 8:1 4 ext4 /a\\0\n", -EBADMSG);
	expect_bad(HDR "fs frozen 8:1 4 "
		       "a-type-name-that-is-far-too-long-for-the-field-of-"
		       "sixty-four-bytes /a\n",
		   -EBADMSG);
	{
		static const char nul[] = HDR "hook /a\0b\n";
		struct vss_marker *mm = NULL;

		assert_int_equal(vss_marker_parse(nul, sizeof(nul) - 1, &mm),
				 -EBADMSG);
	}
	assert_int_equal(vss_marker_parse(NULL, 0, &m), -EBADMSG);
	assert_int_equal(vss_marker_parse("x", VSS_MARKER_MAX + 1, &m), -E2BIG);
	/* A "-" type is the empty one. */
	{
		static const char dash[] = HDR "fs intent 8:1 0 - /a\n";

		assert_int_equal(vss_marker_parse(dash, sizeof(dash) - 1, &m),
				 0);
	}
	assert_string_equal(m->fs[0].fstype, "");
	vss_marker_free(m);
}

static void test_too_many_hooks(void **state)
{
	size_t cap = strlen(HDR) + (VSS_MARKER_HOOKS_MAX + 1) * 8 + 1, i;
	char *t = malloc(cap);
	struct vss_marker *m;
	size_t n;

	assert_non_null(t);
	n = (size_t)snprintf(t, cap, "%s", HDR);
	for (i = 0; i <= VSS_MARKER_HOOKS_MAX; i++)
		n += (size_t)snprintf(t + n, cap - n, "hook /h\n");
	assert_int_equal(vss_marker_parse(t, n, &m), -E2BIG);
	free(t);
}

static void test_files(void **state)
{
	struct freeze_set *s = sample_set();
	struct vss_marker *m;
	char path[128], text[160];
	char *fmt;
	size_t len;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/run/hvis/vss-frozen", tmpdir);
	assert_int_equal(vss_marker_load(path, &m), -ENOENT);
	assert_int_equal(vss_marker_remove(path), 0);

	s->fs[2].state = FREEZE_FS_FROZEN;
	assert_int_equal(vss_marker_format(s, NULL, 0, 55, 66, &fmt, &len), 0);
	/* The directory is created; the file is private. */
	assert_int_equal(vss_marker_write(path, fmt, len), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(vss_marker_load(path, &m), 0);
	assert_int_equal(m->n_fs, 1);
	assert_string_equal(m->fs[0].mount_point, "/");
	assert_string_equal(m->fs[0].fstype, "btrfs");
	vss_marker_free(m);
	/* Replaced whole, no temporary left. */
	assert_int_equal(vss_marker_write(path, "junk\n", 5), 0);
	assert_int_equal(vss_marker_load(path, &m), -EBADMSG);
	snprintf(text, sizeof(text), "%s.tmp", path);
	assert_int_equal(access(text, F_OK), -1);
	assert_int_equal(vss_marker_remove(path), 0);
	assert_int_equal(access(path, F_OK), -1);

	/* Too large, and not a regular file. */
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, VSS_MARKER_MAX + 1), 0);
	close(fd);
	assert_int_equal(vss_marker_load(path, &m), -EFBIG);
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(vss_marker_load(path, &m), -EBADMSG);
	rmdir(path);
	free(fmt);
	freeze_set_free(s, NULL);
}

static void test_to_set(void **state)
{
	static const char mi[] =
		"20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"30 20 8:17 / /srv rw - xfs /dev/sdb1 rw\n"
		"31 20 8:17 / /bind/srv rw - xfs /dev/sdb1 rw\n"
		"45 20 253:1 / /new rw - ext4 /dev/dm-1 rw\n";
	static const char marker[] = HDR
		"fs frozen 8:17 30 xfs /srv\n"
		"fs intent 253:1 40 ext4 /old\n" /* remounted: new id */
		"fs frozen 8:33 50 ext4 /gone\n";
	struct mount_list *l;
	struct vss_marker *m;
	struct freeze_set *s;
	size_t missing;

	assert_int_equal(mounts_parse(mi, sizeof(mi) - 1, &l), 0);
	assert_int_equal(vss_marker_parse(marker, sizeof(marker) - 1, &m), 0);
	assert_int_equal(vss_marker_to_set(m, l, &s, &missing), 0);
	assert_int_equal(missing, 1);
	assert_int_equal(s->n, 2);
	assert_string_equal(s->fs[0].mount_point, "/srv");
	assert_int_equal(s->fs[0].mnt_id, 30);
	assert_int_equal(s->fs[0].state, FREEZE_FS_FROZEN);
	assert_int_equal(s->fs[0].fd, -1);
	/* Found by its device at its new place. */
	assert_string_equal(s->fs[1].mount_point, "/new");
	assert_int_equal(s->fs[1].mnt_id, 45);
	freeze_set_free(s, NULL);
	vss_marker_free(m);
	mounts_free(l);
}

static void test_watchdog(void **state)
{
	struct vss_watchdog w;
	struct pollfd p;

	assert_int_equal(vss_watchdog_init(&w, 20000), 0);
	/* Not armed: never fires. */
	assert_int_equal(vss_watchdog_fired(&w), 0);
	assert_int_equal(vss_watchdog_arm(&w, 0), 0);
	assert_true(w.armed_at > 0);
	p = (struct pollfd){ .fd = w.fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(vss_watchdog_fired(&w), 1);
	assert_int_equal(w.armed_at, 0);
	assert_int_equal(vss_watchdog_fired(&w), 0);

	/* Disarmed in time: the expiry never shows. */
	assert_int_equal(vss_watchdog_arm(&w, 1000), 0);
	assert_int_equal(vss_watchdog_disarm(&w), 0);
	assert_int_equal(poll(&p, 1, 50), 0);
	assert_int_equal(vss_watchdog_fired(&w), 0);
	vss_watchdog_done(&w);
	assert_int_equal(w.fd, -1);

	/* Disabled (0): arming is a no-op. */
	assert_int_equal(vss_watchdog_init(&w, 0), 0);
	assert_int_equal(vss_watchdog_arm(&w, 0), 0);
	assert_int_equal(w.armed_at, 0);
	vss_watchdog_done(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_parse_strict),
		cmocka_unit_test(test_too_many_hooks),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_to_set),
		cmocka_unit_test(test_watchdog),
	};

	return cmocka_run_group_tests_name("vss-state", tests, setup_dir,
					   teardown_dir);
}
