/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The freeze engine (protocol.md §4.3, §7 items 9-13; peers.md §a.3):
 * freeze a selected, ordered set of filesystems and thaw exactly what we
 * froze. Every system call goes through struct freeze_ops so the logic is
 * tested with an injected fake; the real ops are freeze_sys_ops.
 *
 * freeze_run():
 *  1. opens every mount point (O_DIRECTORY|O_NOFOLLOW) and checks that the
 *     descriptor is the root of the mount mountinfo named (statx mount id,
 *     else the device number): a mount point covered or replaced since the
 *     mount table was read fails the freeze (-ESTALE) before anything is
 *     frozen. An entry whose superblock (major:minor) an earlier entry
 *     already has is a DUPLICATE and is never frozen on its own;
 *  2. syncfs() on all of them, so the dirty data is written while nothing
 *     is frozen yet and the frozen window that follows is short (a syncfs
 *     error is recorded, not fatal: FIFREEZE syncs again and fails if it
 *     cannot);
 *  3. FIFREEZE in order, each announced to the record callback before
 *     (INTENT) and after (FROZEN), so the marker on /run always lists
 *     anything that may be frozen.
 * Failures: EBUSY from FIFREEZE means another program froze that
 * filesystem (our own duplicates were removed in step 1): the freeze fails
 * and that filesystem is left as it is. EOPNOTSUPP (a type without freeze
 * support) fails too: a backup must not claim consistency for a
 * filesystem that was not frozen; the administrator can exclude it. On any
 * failure everything we froze is thawed again in reverse order.
 *
 * The descriptors of frozen filesystems stay open until they are thawed,
 * and FITHAW is issued on them, so a thaw reaches the superblock we froze
 * even if its mount point was covered in between.
 *
 * No logging here (it could write to a frozen disk); callers log after
 * thawing, from the per-entry err/step fields.
 */
#ifndef HVIS_VSS_FREEZE_H
#define HVIS_VSS_FREEZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mounts.h"

enum freeze_state {
	FREEZE_FS_PENDING, /* not opened yet, or closed again: not frozen */
	FREEZE_FS_OPEN, /* open, identity checked, not frozen */
	FREEZE_FS_INTENT, /* FIFREEZE about to be issued */
	FREEZE_FS_FROZEN, /* frozen by us: ours to thaw */
	FREEZE_FS_THAWED, /* was frozen by us, thawed again */
	FREEZE_FS_DUPLICATE, /* same superblock as an earlier entry */
	FREEZE_FS_FAILED, /* the step in `step` failed; not frozen by us */
	_FREEZE_FS_MAX,
};

/* Where an entry's err happened. */
enum freeze_step {
	FREEZE_STEP_NONE,
	FREEZE_STEP_OPEN,
	FREEZE_STEP_IDENTIFY,
	FREEZE_STEP_SYNCFS,
	FREEZE_STEP_RECORD,
	FREEZE_STEP_FREEZE,
	FREEZE_STEP_THAW,
	_FREEZE_STEP_MAX,
};

struct freeze_fs {
	char *mount_point;
	char fstype[MOUNT_FSTYPE_MAX];
	unsigned int major, minor; /* the superblock's, from mountinfo */
	uint64_t mnt_id; /* mountinfo mount ID, 0 if unknown */
	int fd;
	enum freeze_state state;
	enum freeze_step step;
	int err; /* -errno of the last failure on this entry, 0 */
	int sync_err; /* -errno of syncfs, 0 */
	bool thaw_was_noop; /* FITHAW said "not frozen": thawed behind us */
};

struct freeze_set {
	struct freeze_fs *fs;
	size_t n;
	size_t cap;
	/* After freeze_run() failed: the entry that failed, else SIZE_MAX. */
	size_t failed;
};

/* What identify() learns about an open mount point. */
struct freeze_id {
	bool has_mnt_id;
	uint64_t mnt_id;
	unsigned int dev_major, dev_minor; /* st_dev */
	bool has_mount_root;
	bool mount_root; /* the descriptor is the root of its mount */
};

struct freeze_ops {
	/* Open a mount point directory: a descriptor or -errno. */
	int (*open)(const char *path, void *userdata);
	int (*identify)(int fd, struct freeze_id *ret, void *userdata);
	int (*syncfs)(int fd, void *userdata);
	/* FIFREEZE / FITHAW: 0 or -errno. */
	int (*freeze)(int fd, void *userdata);
	int (*thaw)(int fd, void *userdata);
	void (*close)(int fd, void *userdata);
	void *userdata;
};

extern const struct freeze_ops freeze_sys_ops;

/*
 * Called after every state change the frozen-state marker must reflect.
 * A negative return during freeze_run() fails the freeze (the marker could
 * not be written, so a crash would leave filesystems frozen that nobody
 * knows about); during thawing it is ignored.
 */
typedef int (*freeze_record_fn)(const struct freeze_set *s, void *userdata);

/* An empty set. Errors: -ENOMEM. */
int freeze_set_new(struct freeze_set **ret);

/*
 * Append a filesystem (state PENDING, or FROZEN with fd -1 for a set
 * rebuilt from a marker). Errors: -EINVAL, -ENOMEM.
 */
int freeze_set_add(struct freeze_set *s, const char *mount_point,
		   const char *fstype, unsigned int major, unsigned int minor,
		   uint64_t mnt_id, enum freeze_state state);

/* A set of the selection's MOUNT_FREEZE entries, in freeze order. */
int freeze_set_from_mounts(const struct mount_list *l, struct freeze_set **ret);

/* Close every descriptor and free; never thaws. Accepts NULL. */
struct freeze_set *freeze_set_free(struct freeze_set *s,
				   const struct freeze_ops *ops);

/*
 * Freeze the set as described above. Returns 0 when every non-duplicate
 * entry is FROZEN, or the -errno of the failure, with s->failed set and
 * everything thawed again (check freeze_set_any_frozen(): a thaw during
 * the rollback can itself fail, and such entries stay FROZEN).
 */
int freeze_run(struct freeze_set *s, const struct freeze_ops *ops,
	       freeze_record_fn record, void *userdata);

/*
 * Thaw every FROZEN (or INTENT) entry in reverse order, opening and
 * checking entries without a descriptor first. FITHAW's EINVAL means the
 * filesystem was no longer frozen (someone thawed it behind us): THAWED
 * with thaw_was_noop. Entries that cannot be thawed stay FROZEN with err
 * set. Returns 0 or the first error.
 */
int freeze_thaw(struct freeze_set *s, const struct freeze_ops *ops,
		freeze_record_fn record, void *userdata);

/* Any entry in FROZEN or INTENT state. */
bool freeze_set_any_frozen(const struct freeze_set *s);
size_t freeze_set_count(const struct freeze_set *s, enum freeze_state st);

/*
 * One line on an entry's failure for logs and the reply report, e.g.
 * "/mnt/2 (xfs 253:2): FIFREEZE: already frozen by another program".
 * Returns buf.
 */
const char *freeze_describe(const struct freeze_fs *e, char *buf, size_t size);

const char *freeze_state_str(enum freeze_state st);
const char *freeze_step_str(enum freeze_step st);

#endif
