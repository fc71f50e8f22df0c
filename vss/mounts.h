/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which filesystems a VSS FREEZE freezes, and in what order (protocol.md
 * §4.3, §7 items 9-13; peers.md §a.3 item 3). Pure apart from the sysfs
 * reads of the loop check: text of /proc/self/mountinfo in, one decision
 * per mount and an ordered freeze list out. No ioctls here.
 *
 * Rules, applied to each mount in this order; the first that matches
 * decides "skip" and its reason (enum mount_skip):
 *
 *  1. ONLY       --only prefixes are set and the mount point is not one of
 *                them or below one (path components, not bytes: "/mnt/t"
 *                covers "/mnt/t/x", not "/mnt/tx"). Keeps system tests and
 *                --only away from the machine's own filesystems. It picks
 *                mount points, and freezing acts on whole filesystems: a
 *                filesystem mounted both inside and outside the prefixes
 *                is frozen (through the inside path).
 *  2. by type, nothing on a block device of ours to freeze:
 *     PSEUDO     virtual or memory-backed: proc, sysfs, tmpfs, ramfs,
 *                devtmpfs, devpts, cgroup*, debugfs, tracefs, securityfs,
 *                pstore, bpf, configfs, fusectl, mqueue, hugetlbfs, autofs,
 *                binfmt_misc, efivarfs, nsfs, ... (tmpfs has no backing
 *                store, so a frozen tmpfs adds nothing to a disk snapshot);
 *     LAYERED    overlay, aufs, ecryptfs, ...: the filesystems holding
 *                their layers are frozen in their own right;
 *     FUSE       fuse, fuseblk, fuse.*: the freeze would wait on a
 *                userspace server that may itself be blocked by it;
 *     REMOTE     nfs, nfs4, cifs, smb3, smbfs, ceph, 9p, virtiofs, ...:
 *                virtiofs and 9p (also WSL's drvfs) are host directories,
 *                which the host's own backup covers, not the guest's disk;
 *     RO_TYPE    squashfs, iso9660, erofs, cramfs, romfs: read-only by
 *                design (LISA VSS-08, a loop-mounted squashfs);
 *     FAT        vfat, msdos, fat, exfat: no FIFREEZE support, and the EFI
 *                system partition is one (peers.md pain point 17).
 *  3. READONLY   "ro" in the per-mount options or in the super options.
 *  4. NODEV      device major 0 (an anonymous device: no block device
 *                behind it), except btrfs, whose mounts show an anonymous
 *                device although it lives on real disks. zfs ends here.
 *  5. LOOP       the block device is a loop device, or a dm/md device
 *                stacked on one at any depth (sysfs `loop` entry, then
 *                `slaves/` recursively; §7 item 11). For btrfs the device
 *                checked is the mount source, resolved to major:minor.
 *                We skip these rather than freeze inner before outer:
 *                finding the backing filesystem means trusting the path
 *                in loop/backing_file, which may be deleted or name
 *                another namespace, and a wrong order deadlocks the guest.
 *     UNCHECKED  the loop check itself failed (sysfs unreadable); the
 *                mount is not frozen and mounts_select() fails.
 *  6. EXCLUDED   the mount point matches one of the exclude globs
 *                (fnmatch(3) without flags, so '*' also matches '/').
 *  7. DUPLICATE  a filesystem already chosen through an earlier mount
 *                (bind mounts, a device mounted twice, btrfs subvolumes):
 *                the first mount, in mountinfo order, that survives rules
 *                1-6 and 8 represents it.
 *                Sameness is the superblock's major:minor, and for btrfs
 *                also the same source device: mountinfo shows each
 *                superblock's device, and stat() gives every btrfs
 *                subvolume its own anonymous device, so a caller that
 *                compares stat() numbers would see several filesystems.
 *  8. HIDDEN     the mount point path does not lead to this mount: another
 *                mount covers it (a later mount on the same directory or
 *                on a directory above it). Opening the path would reach
 *                the covering filesystem and freeze that one twice.
 *
 * Everything else is frozen. Order: deeper mount points first (more path
 * components), and among equal depths the later mount first, so a mount is
 * frozen before the mount its mount point lives on and "/" comes last.
 * Thaw in exactly the reverse order (mounts_thaw_index()).
 */
#ifndef HVIS_VSS_MOUNTS_H
#define HVIS_VSS_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest line we parse; the kernel's options lists stay well below. */
#define MOUNTS_LINE_MAX 65536
/* Most mounts we keep; more lines are counted as MOUNTS_BAD_TOO_MANY. */
#define MOUNTS_MAX 16384
/* Largest file mounts_read() accepts. */
#define MOUNTS_FILE_MAX (64u << 20)
/* Bytes incl. NUL for the filesystem type ("fuse.sshfs"). */
#define MOUNT_FSTYPE_MAX 64

enum mounts_bad {
	MOUNTS_BAD_FIELDS, /* too few or too many fields, empty type, blank */
	MOUNTS_BAD_SEPARATOR, /* no "-" between optional fields and type */
	MOUNTS_BAD_ID, /* mount or parent ID not a decimal u32 */
	MOUNTS_BAD_DEVICE, /* major:minor malformed or out of range */
	MOUNTS_BAD_PATH, /* mount point not absolute or too long */
	MOUNTS_BAD_ESCAPE, /* "\" not followed by 3 octal digits, or \000 */
	MOUNTS_BAD_FIELD_LONG, /* type or source longer than we store */
	MOUNTS_BAD_LINE_LONG, /* more than MOUNTS_LINE_MAX bytes */
	MOUNTS_BAD_NUL, /* a NUL byte inside the line */
	MOUNTS_BAD_UNTERMINATED, /* last line without '\n': truncated */
	MOUNTS_BAD_TOO_MANY, /* beyond MOUNTS_MAX */
	_MOUNTS_BAD_MAX,
};

enum mount_decision {
	MOUNT_SKIP,
	MOUNT_FREEZE,
};

enum mount_skip {
	MOUNT_SKIP_NONE, /* decision is MOUNT_FREEZE */
	MOUNT_SKIP_ONLY,
	MOUNT_SKIP_PSEUDO,
	MOUNT_SKIP_LAYERED,
	MOUNT_SKIP_FUSE,
	MOUNT_SKIP_REMOTE,
	MOUNT_SKIP_RO_TYPE,
	MOUNT_SKIP_FAT,
	MOUNT_SKIP_READONLY,
	MOUNT_SKIP_NODEV,
	MOUNT_SKIP_LOOP,
	MOUNT_SKIP_UNCHECKED,
	MOUNT_SKIP_EXCLUDED,
	MOUNT_SKIP_DUPLICATE,
	MOUNT_SKIP_HIDDEN,
	_MOUNT_SKIP_MAX,
};

struct mount_entry {
	uint32_t id; /* field 1 */
	uint32_t parent_id; /* field 2 */
	unsigned int major; /* the superblock's device */
	unsigned int minor;
	char *mount_point; /* decoded, absolute, shorter than PATH_MAX */
	char *source; /* decoded, shorter than PATH_MAX, may be "" */
	char fstype[MOUNT_FSTYPE_MAX]; /* decoded, "fuse.sshfs" */
	bool mount_ro; /* "ro" in the per-mount options */
	bool super_ro; /* "ro" in the super options */
	size_t line; /* 1-based line in the parsed text */

	/* Set by mounts_select(). */
	enum mount_decision decision;
	enum mount_skip reason;
	/* "" when frozen, else e.g. "duplicate of /home"; never NULL. */
	char *why;
};

struct mount_list {
	struct mount_entry *entries; /* in mountinfo order */
	size_t n_entries;
	size_t *freeze; /* indexes into entries, freeze order */
	size_t n_freeze;
	size_t bad[_MOUNTS_BAD_MAX]; /* skipped lines by reason */
	size_t n_bad;
	size_t first_bad_line; /* 1-based, 0 if none */
	size_t cap; /* private */
};

/*
 * Resolve a mount source ("/dev/sdb") to its device number. Returns 0 or
 * -errno; -ENOENT means "no such device node", which skips the loop check
 * for that mount (and freezes it if nothing else objects).
 */
typedef int (*mounts_resolve_fn)(const char *source, unsigned int *ret_major,
				 unsigned int *ret_minor, void *userdata);

struct mounts_config {
	const char *sys_root; /* NULL: hv_path_base(HV_PATH_SYS) */
	/* NULL-terminated fnmatch globs on the mount point; NULL for none. */
	const char *const *exclude;
	/*
	 * NULL-terminated absolute prefixes; NULL for no restriction. An
	 * empty list keeps nothing, so a caller's empty --only list can
	 * never widen to the whole machine.
	 */
	const char *const *only;
	/* For btrfs sources; NULL: stat() sources that start with /dev/. */
	mounts_resolve_fn resolve_source;
	void *userdata;
};

/*
 * Parse mountinfo text (text need not be NUL-terminated). Malformed lines
 * are skipped and counted in bad[] by reason; they never fail the call.
 * On success *ret is a new list (free with mounts_free()); every entry has
 * decision MOUNT_SKIP and why "" until mounts_select() runs.
 * Errors: -EINVAL (NULL arguments), -ENOMEM.
 */
int mounts_parse(const char *text, size_t len, struct mount_list **ret);

/*
 * Read a mountinfo file (normally /proc/self/mountinfo) whole and parse
 * it. Errors: -errno from open/read, -EFBIG beyond MOUNTS_FILE_MAX,
 * -ENOMEM.
 */
int mounts_read(const char *path, struct mount_list **ret);

/*
 * Decide every entry (rules above) and fill the freeze list. May be run
 * again with another config; earlier results are replaced. Returns 0, or
 * -EINVAL (bad config: NULL, a relative --only prefix), -ENOMEM, or the
 * first loop-check error, in which case the list is still complete, the
 * mounts concerned are MOUNT_SKIP_UNCHECKED with the error in why, and a
 * FREEZE should fail: a filesystem would be missing from the backup.
 */
int mounts_select(struct mount_list *l, const struct mounts_config *cfg);

/* Free the list; accepts NULL, returns NULL. */
struct mount_list *mounts_free(struct mount_list *l);

static inline void mounts_freep(struct mount_list **l)
{
	mounts_free(*l);
}

/* Entry index of the k-th filesystem to thaw (k < n_freeze). */
static inline size_t mounts_thaw_index(const struct mount_list *l, size_t k)
{
	return l->freeze[l->n_freeze - 1 - k];
}

/*
 * Undo mountinfo's \ooo escapes in place. -EINVAL for a backslash not
 * followed by three octal digits, or \000. Also used for the VSS marker.
 */
int mounts_unescape(char *s);

/* Short names for logs ("duplicate", "bad-device"); never NULL. */
const char *mounts_bad_str(enum mounts_bad b);
const char *mount_skip_str(enum mount_skip s);

/*
 * 1 if the block device major:minor is a loop device or stacked on one
 * (dm, md: any depth of sysfs slaves/), 0 if not or if sysfs does not list
 * the device, -ELOOP for a stack deeper than anything real, other -errno
 * if sysfs cannot be read. sys_root is the sysfs mount ("/sys").
 */
int blockdev_is_loop_backed(const char *sys_root, unsigned int major,
			    unsigned int minor);

#endif
