/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The freeze engine against fake system calls: order of the passes, the
 * marker's view at each FIFREEZE, rollback, duplicates, filesystems
 * frozen by someone else, and thaw failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "freeze.h"
#include "hvis/util.h"
#include "mounts.h"

#define FD_BASE 100
#define NFAKE 8

struct fake_fs {
	const char *path;
	uint64_t mnt_id;
	unsigned int major, minor;
	bool frozen; /* by anyone */
	bool other; /* frozen by another program */
	int open_err, freeze_err, thaw_err, sync_err, identify_err;
	uint64_t real_mnt_id; /* what statx reports; 0: mnt_id */
	bool no_mnt_id;
	bool not_root;
	int opens, freezes, thaws, syncs;
};

static struct fake {
	struct fake_fs fs[NFAKE];
	size_t n;
	char log[1024];
	int open_fds;
	/* The marker as the last record() call saw it. */
	enum freeze_state recorded[NFAKE];
	int records;
	int record_fail_at; /* fail the n-th record() call (1-based) */
	bool check_intent; /* FIFREEZE only after INTENT was recorded */
} fk;

static void logf_(const char *what, const struct fake_fs *f)
{
	size_t n = strlen(fk.log);

	snprintf(fk.log + n, sizeof(fk.log) - n, "%s%s:%s", n ? " " : "", what,
		 f->path);
}

static struct fake_fs *add_fs(const char *path, uint64_t id, unsigned maj,
			      unsigned min)
{
	struct fake_fs *f = &fk.fs[fk.n++];

	assert_true(fk.n <= NFAKE);
	memset(f, 0, sizeof(*f));
	f->path = path;
	f->mnt_id = id;
	f->major = maj;
	f->minor = min;
	return f;
}

static struct fake_fs *by_fd(int fd)
{
	assert_true(fd >= FD_BASE && fd < FD_BASE + (int)fk.n);
	return &fk.fs[fd - FD_BASE];
}

static int f_open(const char *path, void *ud)
{
	size_t i;

	for (i = 0; i < fk.n; i++) {
		if (strcmp(fk.fs[i].path, path) != 0)
			continue;
		fk.fs[i].opens++;
		logf_("open", &fk.fs[i]);
		if (fk.fs[i].open_err)
			return fk.fs[i].open_err;
		fk.open_fds++;
		return FD_BASE + (int)i;
	}
	return -ENOENT;
}

static int f_identify(int fd, struct freeze_id *ret, void *ud)
{
	struct fake_fs *f = by_fd(fd);

	memset(ret, 0, sizeof(*ret));
	if (f->identify_err)
		return f->identify_err;
	ret->has_mnt_id = !f->no_mnt_id;
	ret->mnt_id = f->real_mnt_id ? f->real_mnt_id : f->mnt_id;
	ret->dev_major = f->major;
	ret->dev_minor = f->minor;
	ret->has_mount_root = true;
	ret->mount_root = !f->not_root;
	return 0;
}

static int f_syncfs(int fd, void *ud)
{
	struct fake_fs *f = by_fd(fd);

	f->syncs++;
	logf_("sync", f);
	return f->sync_err;
}

static int f_freeze(int fd, void *ud)
{
	struct fake_fs *f = by_fd(fd);

	f->freezes++;
	logf_("freeze", f);
	/* With a record callback, INTENT is on record before FIFREEZE. */
	if (fk.check_intent && fk.records)
		assert_int_equal(fk.recorded[fd - FD_BASE], FREEZE_FS_INTENT);
	if (f->freeze_err)
		return f->freeze_err;
	if (f->frozen)
		return -EBUSY;
	f->frozen = true;
	return 0;
}

static int f_thaw(int fd, void *ud)
{
	struct fake_fs *f = by_fd(fd);

	f->thaws++;
	logf_("thaw", f);
	if (f->thaw_err)
		return f->thaw_err;
	if (!f->frozen)
		return -EINVAL;
	/* The test fails here if we thaw what someone else froze. */
	assert_false(f->other);
	f->frozen = false;
	return 0;
}

static void f_close(int fd, void *ud)
{
	by_fd(fd);
	fk.open_fds--;
}

static const struct freeze_ops ops = {
	.open = f_open,
	.identify = f_identify,
	.syncfs = f_syncfs,
	.freeze = f_freeze,
	.thaw = f_thaw,
	.close = f_close,
};

/* The set entries are in fake order, so indexes match. */
static int record(const struct freeze_set *s, void *ud)
{
	size_t i;

	fk.records++;
	for (i = 0; i < s->n && i < NFAKE; i++)
		fk.recorded[i] = s->fs[i].state;
	if (fk.record_fail_at && fk.records == fk.record_fail_at)
		return -ENOSPC;
	return 0;
}

static struct freeze_set *make_set(void)
{
	struct freeze_set *s;
	size_t i;

	assert_int_equal(freeze_set_new(&s), 0);
	for (i = 0; i < fk.n; i++)
		assert_int_equal(freeze_set_add(s, fk.fs[i].path, "ext4",
						fk.fs[i].major, fk.fs[i].minor,
						fk.fs[i].mnt_id,
						FREEZE_FS_PENDING),
				 0);
	return s;
}

static int setup(void **state)
{
	memset(&fk, 0, sizeof(fk));
	fk.check_intent = true;
	return 0;
}

static void test_order(void **state)
{
	struct freeze_set *s;

	add_fs("/mnt/a/b", 30, 8, 1);
	add_fs("/mnt/a", 29, 8, 2);
	add_fs("/", 20, 8, 3);
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, record, NULL), 0);
	/* All synced before the first freeze; frozen in the given order. */
	assert_string_equal(fk.log,
			    "open:/mnt/a/b open:/mnt/a open:/ sync:/mnt/a/b "
			    "sync:/mnt/a sync:/ freeze:/mnt/a/b freeze:/mnt/a "
			    "freeze:/");
	assert_int_equal(freeze_set_count(s, FREEZE_FS_FROZEN), 3);
	assert_true(freeze_set_any_frozen(s));
	/* INTENT and FROZEN recorded around each of the three. */
	assert_int_equal(fk.records, 6);
	assert_int_equal(fk.recorded[2], FREEZE_FS_FROZEN);
	assert_int_equal(fk.open_fds, 3);

	fk.log[0] = '\0';
	assert_int_equal(freeze_thaw(s, &ops, record, NULL), 0);
	assert_string_equal(fk.log, "thaw:/ thaw:/mnt/a thaw:/mnt/a/b");
	assert_int_equal(freeze_set_count(s, FREEZE_FS_THAWED), 3);
	assert_false(freeze_set_any_frozen(s));
	assert_int_equal(fk.open_fds, 0);
	assert_int_equal(fk.recorded[0], FREEZE_FS_THAWED);
	freeze_set_free(s, &ops);
}

static void test_duplicate(void **state)
{
	struct freeze_set *s;

	add_fs("/data", 40, 8, 16);
	add_fs("/srv/data", 41, 8, 16); /* bind mount: same superblock */
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, record, NULL), 0);
	assert_int_equal(s->fs[1].state, FREEZE_FS_DUPLICATE);
	assert_int_equal(fk.fs[1].opens, 0);
	assert_int_equal(fk.fs[0].freezes, 1);
	assert_int_equal(freeze_thaw(s, &ops, NULL, NULL), 0);
	assert_int_equal(fk.fs[0].thaws, 1);
	assert_int_equal(fk.fs[1].thaws, 0);
	freeze_set_free(s, &ops);
}

/* LISA VSS-06: one filesystem was frozen with fsfreeze -f beforehand. */
static void test_frozen_by_other(void **state)
{
	struct freeze_set *s;
	char line[256];

	add_fs("/mnt/1", 50, 8, 17);
	add_fs("/mnt/2", 51, 8, 18)->frozen = true;
	fk.fs[1].other = true;
	add_fs("/", 20, 8, 3);
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, record, NULL), -EBUSY);
	assert_int_equal(s->failed, 1);
	assert_int_equal(s->fs[1].state, FREEZE_FS_FAILED);
	assert_int_equal(s->fs[1].step, FREEZE_STEP_FREEZE);
	/* Ours thawed, theirs untouched (f_thaw asserts), "/" never frozen. */
	assert_false(fk.fs[0].frozen);
	assert_int_equal(fk.fs[0].thaws, 1);
	assert_true(fk.fs[1].frozen);
	assert_int_equal(fk.fs[1].thaws, 0);
	assert_int_equal(fk.fs[2].freezes, 0);
	assert_false(freeze_set_any_frozen(s));
	assert_int_equal(fk.open_fds, 0);
	freeze_describe(&s->fs[1], line, sizeof(line));
	assert_non_null(strstr(line, "/mnt/2 (ext4 8:18): FIFREEZE: already "
				     "frozen by another program"));
	/* The marker's last view lists nothing frozen. */
	assert_int_equal(fk.recorded[0], FREEZE_FS_THAWED);
	assert_int_not_equal(fk.recorded[1], FREEZE_FS_FROZEN);
	freeze_set_free(s, &ops);
}

static void test_unsupported(void **state)
{
	struct freeze_set *s;
	char line[256];

	add_fs("/a", 60, 8, 1);
	add_fs("/b", 61, 8, 2);
	add_fs("/c", 62, 8, 3)->freeze_err = -EOPNOTSUPP;
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, record, NULL), -EOPNOTSUPP);
	assert_string_equal(fk.log, "open:/a open:/b open:/c sync:/a sync:/b "
				    "sync:/c freeze:/a freeze:/b freeze:/c "
				    "thaw:/b thaw:/a");
	assert_int_equal(s->failed, 2);
	freeze_describe(&s->fs[2], line, sizeof(line));
	assert_non_null(strstr(line, "cannot be frozen"));
	assert_non_null(strstr(line, "--exclude"));
	freeze_set_free(s, &ops);
}

static void test_open_fails(void **state)
{
	struct freeze_set *s;
	char line[256];

	add_fs("/a", 60, 8, 1);
	add_fs("/gone", 61, 8, 2)->open_err = -ENOENT;
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, record, NULL), -ENOENT);
	/* Nothing frozen, nothing synced, every descriptor closed. */
	assert_string_equal(fk.log, "open:/a open:/gone");
	assert_int_equal(fk.records, 0);
	assert_int_equal(fk.open_fds, 0);
	assert_int_equal(s->failed, 1);
	assert_int_equal(s->fs[0].state, FREEZE_FS_PENDING);
	freeze_describe(&s->fs[1], line, sizeof(line));
	assert_string_equal(
		line, "/gone (ext4 8:2): open: No such file or directory");
	freeze_set_free(s, &ops);
}

static void test_identity(void **state)
{
	struct freeze_set *s;
	char line[256];

	/* A new mount on top of the mount point: another mount ID. */
	add_fs("/a", 60, 8, 1)->real_mnt_id = 99;
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, NULL, NULL), -ESTALE);
	assert_int_equal(fk.fs[0].freezes, 0);
	freeze_describe(&s->fs[0], line, sizeof(line));
	assert_non_null(strstr(line, "mount table changed"));
	freeze_set_free(s, &ops);

	/* Not the root of its mount (the mount is gone, a directory is left). */
	setup(NULL);
	add_fs("/a", 60, 8, 1)->not_root = true;
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, NULL, NULL), -ESTALE);
	freeze_set_free(s, &ops);

	/* Without mount IDs the device decides; btrfs cannot be checked. */
	setup(NULL);
	add_fs("/a", 60, 8, 1)->no_mnt_id = true;
	s = make_set();
	s->fs[0].minor = 5;
	assert_int_equal(freeze_run(s, &ops, NULL, NULL), -ESTALE);
	freeze_set_free(s, &ops);

	setup(NULL);
	add_fs("/a", 60, 0, 41)->no_mnt_id = true;
	assert_int_equal(freeze_set_new(&s), 0);
	assert_int_equal(freeze_set_add(s, "/a", "btrfs", 0, 40, 60,
					FREEZE_FS_PENDING),
			 0);
	assert_int_equal(freeze_run(s, &ops, NULL, NULL), 0);
	assert_int_equal(freeze_thaw(s, &ops, NULL, NULL), 0);
	freeze_set_free(s, &ops);

	/* statx itself failing. */
	setup(NULL);
	add_fs("/a", 60, 8, 1)->identify_err = -EIO;
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, NULL, NULL), -EIO);
	assert_int_equal(s->fs[0].step, FREEZE_STEP_IDENTIFY);
	assert_int_equal(fk.open_fds, 0);
	freeze_set_free(s, &ops);
}

static void test_record_fails(void **state)
{
	struct freeze_set *s;

	add_fs("/a", 60, 8, 1);
	add_fs("/b", 61, 8, 2);
	/* Records: 1 INTENT a, 2 FROZEN a, 3 INTENT b fails. */
	fk.record_fail_at = 3;
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, record, NULL), -ENOSPC);
	assert_int_equal(fk.fs[1].freezes, 0);
	assert_false(fk.fs[0].frozen);
	assert_int_equal(s->fs[1].step, FREEZE_STEP_RECORD);
	assert_int_equal(s->failed, 1);
	freeze_set_free(s, &ops);

	/* Failing right after a FIFREEZE: that one is thawed too. */
	setup(NULL);
	add_fs("/a", 60, 8, 1);
	fk.record_fail_at = 2;
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, record, NULL), -ENOSPC);
	assert_false(fk.fs[0].frozen);
	assert_int_equal(fk.fs[0].thaws, 1);
	assert_int_equal(s->fs[0].state, FREEZE_FS_THAWED);
	freeze_set_free(s, &ops);
}

static void test_rollback_thaw_fails(void **state)
{
	struct freeze_set *s;

	add_fs("/a", 60, 8, 1)->thaw_err = -EIO;
	add_fs("/b", 61, 8, 2)->freeze_err = -EIO;
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, record, NULL), -EIO);
	/* /a could not be thawed: still ours, still open, still listed. */
	assert_int_equal(s->fs[0].state, FREEZE_FS_FROZEN);
	assert_int_equal(s->fs[0].step, FREEZE_STEP_THAW);
	assert_true(freeze_set_any_frozen(s));
	assert_int_equal(fk.recorded[0], FREEZE_FS_FROZEN);
	assert_int_equal(fk.open_fds, 1);
	/* A later attempt succeeds. */
	fk.fs[0].thaw_err = 0;
	assert_int_equal(freeze_thaw(s, &ops, record, NULL), 0);
	assert_false(fk.fs[0].frozen);
	assert_int_equal(fk.open_fds, 0);
	freeze_set_free(s, &ops);
}

static void test_thaw_results(void **state)
{
	struct freeze_set *s;

	add_fs("/a", 60, 8, 1);
	add_fs("/b", 61, 8, 2);
	add_fs("/c", 62, 8, 3);
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, NULL, NULL), 0);
	/* Someone thawed /b behind our back; /c refuses for now. */
	fk.fs[1].frozen = false;
	fk.fs[2].thaw_err = -EIO;
	assert_int_equal(freeze_thaw(s, &ops, NULL, NULL), -EIO);
	assert_int_equal(s->fs[2].state, FREEZE_FS_FROZEN);
	assert_int_equal(s->fs[1].state, FREEZE_FS_THAWED);
	assert_true(s->fs[1].thaw_was_noop);
	assert_int_equal(s->fs[0].state, FREEZE_FS_THAWED);
	assert_false(s->fs[0].thaw_was_noop);
	/* Retried: only /c is touched again. */
	fk.fs[2].thaw_err = 0;
	fk.log[0] = '\0';
	assert_int_equal(freeze_thaw(s, &ops, NULL, NULL), 0);
	assert_string_equal(fk.log, "thaw:/c");
	freeze_set_free(s, &ops);
}

static void test_sync_error_not_fatal(void **state)
{
	struct freeze_set *s;

	add_fs("/a", 60, 8, 1)->sync_err = -EIO;
	s = make_set();
	assert_int_equal(freeze_run(s, &ops, NULL, NULL), 0);
	assert_int_equal(s->fs[0].sync_err, -EIO);
	assert_int_equal(freeze_thaw(s, &ops, NULL, NULL), 0);
	freeze_set_free(s, &ops);
}

/* A set rebuilt from a marker: no descriptors yet. */
static void test_thaw_from_marker(void **state)
{
	struct freeze_set *s;

	add_fs("/a", 60, 8, 1)->frozen = true;
	add_fs("/b", 61, 8, 2)->real_mnt_id = 77; /* not the same mount */
	fk.fs[1].frozen = true;
	fk.fs[1].other = true;
	assert_int_equal(freeze_set_new(&s), 0);
	assert_int_equal(
		freeze_set_add(s, "/a", "ext4", 8, 1, 60, FREEZE_FS_FROZEN), 0);
	assert_int_equal(
		freeze_set_add(s, "/b", "ext4", 8, 2, 61, FREEZE_FS_FROZEN), 0);
	assert_int_equal(freeze_thaw(s, &ops, NULL, NULL), -ESTALE);
	assert_false(fk.fs[0].frozen);
	assert_true(fk.fs[1].frozen);
	assert_int_equal(fk.fs[1].thaws, 0);
	assert_int_equal(s->fs[1].state, FREEZE_FS_FROZEN);
	/* freeze_run refuses a set that is not fresh. */
	assert_int_equal(freeze_run(s, &ops, NULL, NULL), -EINVAL);
	freeze_set_free(s, &ops);
}

static void test_set_api(void **state)
{
	static const char mi[] = "20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
				 "21 20 0:5 / /proc rw - proc proc rw\n"
				 "22 20 8:2 / /home rw - xfs /dev/sda2 rw\n";
	struct mounts_config cfg = { .sys_root = "/nonexistent-sysfs" };
	struct mount_list *l;
	struct freeze_set *s;

	assert_int_equal(freeze_set_new(&s), 0);
	assert_int_equal(freeze_set_add(s, "rel", "ext4", 1, 1, 1,
					FREEZE_FS_PENDING),
			 -EINVAL);
	assert_int_equal(freeze_set_add(s, "/x", "ext4", 1, 1, 1,
					FREEZE_FS_THAWED),
			 -EINVAL);
	freeze_set_free(s, NULL);
	assert_null(freeze_set_free(NULL, NULL));

	assert_int_equal(mounts_parse(mi, sizeof(mi) - 1, &l), 0);
	assert_int_equal(mounts_select(l, &cfg), 0);
	assert_int_equal(freeze_set_from_mounts(l, &s), 0);
	assert_int_equal(s->n, 2);
	assert_string_equal(s->fs[0].mount_point, "/home");
	assert_string_equal(s->fs[0].fstype, "xfs");
	assert_int_equal(s->fs[0].mnt_id, 22);
	assert_string_equal(s->fs[1].mount_point, "/");
	assert_int_equal(s->fs[1].state, FREEZE_FS_PENDING);
	freeze_set_free(s, NULL);
	mounts_free(l);

	assert_string_equal(freeze_state_str(FREEZE_FS_DUPLICATE), "duplicate");
	assert_string_equal(freeze_step_str(FREEZE_STEP_THAW), "FITHAW");
	assert_string_equal(freeze_state_str(_FREEZE_FS_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_order, setup),
		cmocka_unit_test_setup(test_duplicate, setup),
		cmocka_unit_test_setup(test_frozen_by_other, setup),
		cmocka_unit_test_setup(test_unsupported, setup),
		cmocka_unit_test_setup(test_open_fails, setup),
		cmocka_unit_test_setup(test_identity, setup),
		cmocka_unit_test_setup(test_record_fails, setup),
		cmocka_unit_test_setup(test_rollback_thaw_fails, setup),
		cmocka_unit_test_setup(test_thaw_results, setup),
		cmocka_unit_test_setup(test_sync_error_not_fatal, setup),
		cmocka_unit_test_setup(test_thaw_from_marker, setup),
		cmocka_unit_test_setup(test_set_api, setup),
	};

	return cmocka_run_group_tests_name("freeze", tests, NULL, NULL);
}
