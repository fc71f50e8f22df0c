/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest side of one host-to-guest file copy: where the data goes
 * while it arrives, and how it reaches its name.
 *
 * - The destination directory is opened one component at a time from "/"
 *   with O_NOFOLLOW (fcopy_open_dir()); the final name is never followed.
 * - Data goes to a temporary file in that directory: an O_TMPFILE inode
 *   where the filesystem has them (nothing to clean up after a crash),
 *   else a hidden ".hv-fcopy-<16 hex digits>.part" created with
 *   O_EXCL|O_NOFOLLOW whose full path is kept in a record file while it
 *   exists, so a daemon restarted after a crash removes it.
 * - COMPLETE checks the size, fsyncs and moves the file into place
 *   atomically: no replacement without OVER_WRITE (linkat or
 *   renameat2(RENAME_NOREPLACE)), rename over the old file with it.
 *   CANCEL, an error or an abort removes the temporary file; nothing
 *   partial ever carries the final name.
 * - With a known size, START reserves the space (fallocate, KEEP_SIZE), so
 *   a full disk fails before the data is sent.
 * - Consecutive chunks are gathered and written FCOPY_STAGE_SIZE bytes at a
 *   time: one pwrite() per 42 chunks instead of one each, where a system
 *   call and a trip through the filesystem cost more than copying 6 KiB.
 *   A write error thus surfaces at a later chunk or at COMPLETE; either
 *   way the copy fails and nothing is published.
 */
#ifndef HVIS_FCOPY_FILE_H
#define HVIS_FCOPY_FILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FCOPY_TEMP_PREFIX ".hv-fcopy-"
#define FCOPY_TEMP_SUFFIX ".part"
/* prefix + 16 hex digits + suffix */
#define FCOPY_TEMP_NAME_LEN 31

#define FCOPY_STAGE_SIZE (256u * 1024)

#define FCOPY_DEFAULT_FILE_MODE 0644
#define FCOPY_DIR_MODE 0755

struct fcopy_file_opts {
	mode_t file_mode; /* exact mode of new files (umask not applied) */
	bool sync; /* fsync file and directory before COMPLETE succeeds */
	bool named_temp; /* never use O_TMPFILE */
	const char *record_path; /* NULL: no crash record for named files */
};

struct fcopy_copy {
	const struct fcopy_file_opts *opts;
	bool active;
	bool anonymous; /* O_TMPFILE: the data has no name yet */
	bool overwrite;
	bool failed; /* a WRITE failed: COMPLETE must not publish */
	int dirfd;
	int fd;
	uint64_t size; /* announced by START; 0: not announced */
	uint64_t end; /* highest byte written (or staged) + 1 */
	uint8_t *stage; /* consecutive chunks not yet written, or NULL */
	uint64_t stage_off; /* file offset of stage[0] */
	size_t stage_len;
	uint64_t flushed; /* writeback started below this offset */
	uint64_t waited; /* writeback finished below this offset */
	int record_err; /* last failure to update the record, or 0 */
	char tmp[FCOPY_TEMP_NAME_LEN + 1]; /* named temporary file or "" */
	char name[NAME_MAX + 1];
	char dir[PATH_MAX];
};

/* An idle copy (no fds). */
void fcopy_copy_init(struct fcopy_copy *c, const struct fcopy_file_opts *o);

/*
 * Begin a copy of name into the directory path (absolute; ".."
 * components refused). flags: OVER_WRITE, CREATE_PATH (§5.1). size: the
 * announced length, 0 if none. A copy still active is aborted first.
 * Returns 0, or -EEXIST (the name exists and OVER_WRITE is not set),
 * -ENOENT (a directory is missing and CREATE_PATH is not set), -ELOOP (a
 * symlink we do not follow, in the path or at the name), -EISDIR (the
 * name is a directory), -ENOSPC / -EDQUOT (the space cannot be reserved),
 * or another -errno.
 */
int fcopy_file_start(struct fcopy_copy *c, const char *path, const char *name,
		     uint32_t flags, uint64_t size);

/*
 * Write len bytes at offset (or stage them: see above). Chunks may come in
 * any order and overlap; when the size was announced nothing may end past
 * it (-EFBIG). -EPROTO when no copy is active. Any failure marks the copy
 * failed: COMPLETE will refuse it. ENOSPC and EDQUOT are passed on as
 * such.
 */
int fcopy_file_write(struct fcopy_copy *c, uint64_t offset, const void *data,
		     size_t len);

/*
 * Finish: with a size announced, exactly that much must have been written
 * (-EIO otherwise); fsync (if opts->sync); move into place. The copy is
 * over whatever the result. -EEXIST if the name appeared meanwhile and
 * OVER_WRITE is not set, -ELOOP / -EISDIR if a symlink or directory took
 * its place, -EIO after a failed WRITE, -EPROTO if no copy is active.
 */
int fcopy_file_complete(struct fcopy_copy *c);

/* Drop the copy and its temporary file. No-op when idle. */
void fcopy_file_abort(struct fcopy_copy *c);

/*
 * At start-up: remove the named temporary file left by a copy that never
 * ended (crash, SIGKILL), as recorded in o->record_path. Only a regular
 * file whose name matches our pattern is removed. Returns 1 if one was
 * removed, 0 if there was nothing to do, or -errno; the record is gone
 * afterwards in every case but a read error.
 */
int fcopy_file_recover(const struct fcopy_file_opts *o);

/* Does name have the shape of our named temporary files? */
bool fcopy_is_temp_name(const char *name);

/*
 * Open the absolute directory path (O_RDONLY|O_DIRECTORY), walking it one
 * component at a time with O_NOFOLLOW. A symlink component is followed
 * only when it is owned by root and sits in a root-owned directory that
 * no one else may write (e.g. /var/run -> /run, /home -> var/home): no
 * other user could have planted it. Any other symlink: -ELOOP. With
 * create, missing components are made with dir_mode (exactly, whatever
 * the umask); without, -ENOENT. ret_fd is set only on success.
 */
int fcopy_open_dir(const char *path, bool create, mode_t dir_mode, int *ret_fd);

#endif
