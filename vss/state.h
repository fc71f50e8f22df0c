/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What survives the daemon: the frozen-state marker and the auto-thaw
 * watchdog (peers.md §a.3 item 1, pain point 19).
 *
 * The marker, <run>/hvis/vss-frozen, lists everything a freeze in progress
 * may have left behind: the hooks that were started with `freeze` and the
 * filesystems that are frozen or about to be. It is rewritten (temporary
 * file + rename, on the tmpfs /run, never on a disk that could be frozen)
 * before each hook starts and around each FIFREEZE, and removed once all
 * is thawed. A daemon that starts and finds it (the previous one was
 * killed while frozen) thaws those filesystems and runs those hooks with
 * `thaw`; so does `hv_vss_daemon --thaw-stale` from the unit's
 * ExecStopPost.
 *
 * Format, one item per line, fields separated by one space, paths escaped
 * as in mountinfo (\ooo octal for space, control characters, bytes >= 0x7f
 * and the backslash):
 *   hvis-vss-frozen 1
 *   pid <decimal>
 *   since <seconds since the epoch>
 *   hook <path>                                   (any number, run order)
 *   fs <intent|frozen> <major>:<minor> <mount id> <fstype> <mount point>
 * "intent" means FIFREEZE was being issued: it may or may not have taken
 * effect, so it is thawed like "frozen".
 */
#ifndef HVIS_VSS_STATE_H
#define HVIS_VSS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "freeze.h"
#include "mounts.h"

#define VSS_MARKER_REL "hvis/vss-frozen"
#define VSS_MARKER_MAX (1u << 20) /* largest marker we read */
#define VSS_MARKER_HOOKS_MAX 1024u

struct vss_marker_fs {
	bool frozen; /* "frozen", else "intent" */
	unsigned int major, minor;
	uint64_t mnt_id;
	char fstype[MOUNT_FSTYPE_MAX];
	char *mount_point;
};

struct vss_marker {
	pid_t pid;
	uint64_t since;
	char **hooks;
	size_t n_hooks;
	struct vss_marker_fs *fs;
	size_t n_fs;
};

/*
 * The marker text for a freeze in progress: the INTENT and FROZEN entries
 * of s (s may be NULL) and the hooks. *ret is malloc'ed and
 * NUL-terminated. Errors: -EINVAL, -ENOMEM.
 */
int vss_marker_format(const struct freeze_set *s, const char *const *hooks,
		      size_t n_hooks, pid_t pid, uint64_t since, char **ret,
		      size_t *ret_len);

/*
 * Parse marker text (not necessarily NUL-terminated). Strict: an unknown
 * line, a bad escape or number, a missing header is -EBADMSG; more than
 * VSS_MARKER_HOOKS_MAX hooks or MOUNTS_MAX filesystems -E2BIG.
 */
int vss_marker_parse(const char *text, size_t len, struct vss_marker **ret);

struct vss_marker *vss_marker_free(struct vss_marker *m);

/* Has the marker anything left to undo? */
bool vss_marker_pending(const struct vss_marker *m);

/*
 * Replace the marker at path atomically (0600), creating its directory.
 * Errors: -errno.
 */
int vss_marker_write(const char *path, const char *text, size_t len);

/* Read and parse; -ENOENT when there is no marker, -EFBIG if too large. */
int vss_marker_load(const char *path, struct vss_marker **ret);

/* Remove the marker; a missing one is fine. */
int vss_marker_remove(const char *path);

/*
 * The filesystems of a marker, as a set to hand to freeze_thaw(): each
 * located in the current mount table by its mount ID, else by its device
 * (any mount of the same superblock reaches it). Entries no longer
 * mounted are left out and counted in *ret_missing.
 */
int vss_marker_to_set(const struct vss_marker *m, const struct mount_list *l,
		      struct freeze_set **ret, size_t *ret_missing);

/* Escaping used by the marker and --list-targets. *ret is malloc'ed. */
int vss_escape(const char *s, char **ret);
/* Decode in place; -EBADMSG on a malformed or NUL escape. */
int vss_unescape(char *s);

/* ------------------------------------------------------------------ */
/* The auto-thaw watchdog: a CLOCK_MONOTONIC timerfd armed from a
 * successful FREEZE until the host's THAW. */

struct vss_watchdog {
	int fd;
	uint64_t timeout_usec; /* 0: disabled */
	uint64_t armed_at; /* monotonic usec, 0 when disarmed */
};

int vss_watchdog_init(struct vss_watchdog *w, uint64_t timeout_usec);
void vss_watchdog_done(struct vss_watchdog *w);
/* Arm for timeout_usec (or usec when non-zero: a retry). */
int vss_watchdog_arm(struct vss_watchdog *w, uint64_t usec);
int vss_watchdog_disarm(struct vss_watchdog *w);
/* Consume an expiry: 1 if it fired while armed, 0 if not, -errno. */
int vss_watchdog_fired(struct vss_watchdog *w);

#endif
