/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host names the file; everything on the way there belongs to the
 * guest and may be shared with unprivileged users (/tmp). Every step is
 * taken relative to a directory fd we hold, no path is resolved twice,
 * and nothing we did not create is ever written to.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "fcopy-file.h"
#include "fcopy-proto.h"
#include "hvis/util.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* As the kernel's MAXSYMLINKS: enough for any sane chain. */
#define MAX_LINKS 40
/* Attempts at a random name before giving up (each collision is 2^-64). */
#define TEMP_TRIES 16
/*
 * Writeback is started every WRITEBACK_CHUNK bytes and the previous chunk
 * waited for, so the final fsync flushes at most two chunks: the legacy
 * kernel gives a reply 30 s before failing the host's request.
 */
#define WRITEBACK_CHUNK (8ull << 20)

static bool is_hex_lower(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

bool fcopy_is_temp_name(const char *name)
{
	const size_t plen = sizeof(FCOPY_TEMP_PREFIX) - 1;
	const size_t slen = sizeof(FCOPY_TEMP_SUFFIX) - 1;

	if (strnlen(name, FCOPY_TEMP_NAME_LEN + 1) != FCOPY_TEMP_NAME_LEN)
		return false;
	if (strncmp(name, FCOPY_TEMP_PREFIX, plen) != 0 ||
	    strcmp(name + FCOPY_TEMP_NAME_LEN - slen, FCOPY_TEMP_SUFFIX) != 0)
		return false;
	for (size_t i = plen; i < FCOPY_TEMP_NAME_LEN - slen; i++)
		if (!is_hex_lower(name[i]))
			return false;
	return true;
}

static void temp_name(char out[FCOPY_TEMP_NAME_LEN + 1])
{
	static uint64_t counter;
	uint64_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
		struct timespec ts;

		/* Only uniqueness matters here: O_EXCL guards the rest. */
		clock_gettime(CLOCK_REALTIME, &ts);
		v = ((uint64_t)ts.tv_sec << 32 ^ (uint64_t)ts.tv_nsec ^
		     (uint64_t)getpid() << 16) +
		    ++counter * 0x9e3779b97f4a7c15ull;
	}
	hv_snprintf(out, FCOPY_TEMP_NAME_LEN + 1,
		    FCOPY_TEMP_PREFIX "%016" PRIx64 FCOPY_TEMP_SUFFIX, v);
}

/* ---------------------------------------------------------------------- */
/* Directory walk.                                                        */

/*
 * Only root could have made this link: it is root's, in a directory that
 * is root's and writable by no one else.
 */
static bool link_trusted(int dirfd, const struct stat *link)
{
	struct stat dir;

	if (link->st_uid != 0 || fstat(dirfd, &dir) < 0)
		return false;
	return dir.st_uid == 0 && !(dir.st_mode & (S_IWGRP | S_IWOTH));
}

/*
 * Open comp under dirfd as a directory: 0 with *ret_fd, 1 when comp is a
 * symlink we may follow, or -errno.
 */
static int open_component(int dirfd, const char *comp, bool create, mode_t mode,
			  int *ret_fd)
{
	struct stat st;
	bool made = false;
	int fd, r;

	fd = openat(dirfd, comp, DIR_FLAGS);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dirfd, comp, mode) == 0)
			made = true;
		else if (errno != EEXIST)
			return -errno;
		fd = openat(dirfd, comp, DIR_FLAGS);
	}
	if (fd >= 0) {
		/* mkdir applied the umask; the mode is ours to state. */
		if (made && fchmod(fd, mode) < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		*ret_fd = fd;
		return 0;
	}
	/* O_NOFOLLOW on a symlink: ELOOP, or ENOTDIR with O_DIRECTORY. */
	if (errno != ELOOP && errno != ENOTDIR)
		return -errno;
	if (fstatat(dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISLNK(st.st_mode))
		return -ENOTDIR;
	return link_trusted(dirfd, &st) ? 1 : -ELOOP;
}

int fcopy_open_dir(const char *path, bool create, mode_t dir_mode, int *ret_fd)
{
	char rest[PATH_MAX], target[PATH_MAX], joined[PATH_MAX];
	_cleanup_close_ int cur = -1;
	unsigned int links = 0;
	size_t pos = 0;

	if (!path || path[0] != '/' || !ret_fd)
		return -EINVAL;
	if (hv_strscpy(rest, path, sizeof(rest)) < 0)
		return -ENAMETOOLONG;
	cur = open("/", DIR_FLAGS);
	if (cur < 0)
		return -errno;

	for (;;) {
		char comp[NAME_MAX + 1];
		size_t len;
		ssize_t n;
		int fd = -1, r;

		while (rest[pos] == '/')
			pos++;
		if (rest[pos] == '\0')
			break;
		len = strcspn(rest + pos, "/");
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, rest + pos, len);
		comp[len] = '\0';
		pos += len;
		if (strcmp(comp, ".") == 0)
			continue;

		r = open_component(cur, comp, create, dir_mode, &fd);
		if (r < 0)
			return r;
		if (r == 0) {
			close(cur);
			cur = fd;
			continue;
		}

		/* A trusted link: its target, then what was left of ours. */
		if (++links > MAX_LINKS)
			return -ELOOP;
		n = readlinkat(cur, comp, target, sizeof(target));
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENOENT;
		if ((size_t)n >= sizeof(target))
			return -ENAMETOOLONG;
		target[n] = '\0';
		if (hv_snprintf(joined, sizeof(joined), "%s/%s", target,
				rest + pos) < 0)
			return -ENAMETOOLONG;
		memcpy(rest, joined, sizeof(rest));
		pos = 0;
		if (target[0] == '/') {
			fd = open("/", DIR_FLAGS);
			if (fd < 0)
				return -errno;
			close(cur);
			cur = fd;
		}
	}
	*ret_fd = TAKE_FD(cur);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The crash record for named temporary files.                            */

static void record_set(struct fcopy_copy *c)
{
	const char *path = c->opts->record_path;
	_cleanup_close_ int fd = -1;
	char line[PATH_MAX + 64];
	ssize_t n;
	int r;

	if (!path)
		return;
	r = hv_snprintf(line, sizeof(line), "%s/%s\n",
			strcmp(c->dir, "/") == 0 ? "" : c->dir, c->tmp);
	if (r < 0) {
		c->record_err = r;
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		c->record_err = -errno;
		return;
	}
	n = hv_write_full(fd, line, (size_t)r);
	if (n < 0) {
		c->record_err = (int)n;
		return;
	}
	if (c->opts->sync && fsync(fd) < 0) {
		c->record_err = -errno;
		return;
	}
	c->record_err = 0;
}

static void record_clear(struct fcopy_copy *c)
{
	if (c->opts->record_path && unlink(c->opts->record_path) < 0 &&
	    errno != ENOENT)
		c->record_err = -errno;
}

/* The recorded leftover, if it is still one of ours: 1 when removed. */
static int remove_recorded(char *line)
{
	_cleanup_close_ int dirfd = -1;
	char *slash = strrchr(line, '/');
	const char *base, *dir;
	struct stat st;
	int r;

	if (line[0] != '/' || !slash)
		return 0;
	base = slash + 1;
	if (!fcopy_is_temp_name(base))
		return 0;
	*slash = '\0';
	dir = line[0] ? line : "/";
	if (fcopy_proto_check_path(dir) < 0)
		return 0;
	r = fcopy_open_dir(dir, false, 0, &dirfd);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return r;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	/* A file of that name that is not ours stays. */
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return 0;
	if (unlinkat(dirfd, base, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 1;
}

int fcopy_file_recover(const struct fcopy_file_opts *o)
{
	char line[PATH_MAX + 64];
	int r, removed = 0;

	if (!o || !o->record_path)
		return 0;
	r = hv_read_line_file(o->record_path, line, sizeof(line));
	if (r == -ENOENT)
		return 0;
	/* A torn or foreign record names nothing we would remove. */
	if (r >= 0)
		removed = remove_recorded(line);
	else if (r != -E2BIG && r != -EBADMSG)
		return r;
	if (unlink(o->record_path) < 0 && errno != ENOENT && removed >= 0)
		return -errno;
	return removed;
}

/* ---------------------------------------------------------------------- */
/* One copy.                                                              */

void fcopy_copy_init(struct fcopy_copy *c, const struct fcopy_file_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->opts = o;
	c->dirfd = -1;
	c->fd = -1;
}

void fcopy_file_abort(struct fcopy_copy *c)
{
	const struct fcopy_file_opts *o = c->opts;
	int record_err = c->record_err;

	if (c->stage)
		munmap(c->stage, FCOPY_STAGE_SIZE);
	if (c->fd >= 0)
		close(c->fd);
	if (c->tmp[0]) {
		if (c->dirfd >= 0)
			unlinkat(c->dirfd, c->tmp, 0);
		record_clear(c);
		record_err = c->record_err;
	}
	if (c->dirfd >= 0)
		close(c->dirfd);
	fcopy_copy_init(c, o);
	c->record_err = record_err;
}

/*
 * What is at the final name now: nothing (0), or something we may not
 * replace. A symlink is never replaced, even with OVER_WRITE: it was
 * planted by someone, and the host asked for a file.
 */
static int check_target(int dirfd, const char *name, bool overwrite)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!overwrite)
		return -EEXIST;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	/* Devices, FIFOs and sockets are not files to overwrite. */
	if (!S_ISREG(st.st_mode))
		return -EPERM;
	return 0;
}

/* A named temporary file: recorded first, so a crash cannot orphan it. */
static int create_named(struct fcopy_copy *c)
{
	int fd, r;

	for (int i = 0; i < TEMP_TRIES; i++) {
		temp_name(c->tmp);
		record_set(c);
		fd = openat(c->dirfd, c->tmp,
			    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    c->opts->file_mode);
		if (fd >= 0)
			return fd;
		r = -errno;
		c->tmp[0] = '\0';
		record_clear(c);
		if (r != -EEXIST)
			return r;
	}
	return -EBUSY;
}

static int create_temp(struct fcopy_copy *c)
{
	int fd;

	if (!c->opts->named_temp) {
		fd = openat(c->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
			    c->opts->file_mode);
		if (fd >= 0) {
			c->anonymous = true;
			return fd;
		}
		/* The ways a kernel or filesystem says "no O_TMPFILE". */
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return -errno;
	}
	return create_named(c);
}

int fcopy_file_start(struct fcopy_copy *c, const char *path, const char *name,
		     uint32_t flags, uint64_t size)
{
	size_t len;
	int r;

	fcopy_file_abort(c);
	if (!path || !name)
		return -EINVAL;
	r = fcopy_proto_check_name(name);
	if (r < 0)
		return r;
	r = fcopy_proto_check_path(path);
	if (r < 0)
		return r;
	if (size > INT64_MAX)
		return -EFBIG;
	if (hv_strscpy(c->name, name, sizeof(c->name)) < 0 ||
	    hv_strscpy(c->dir, path, sizeof(c->dir)) < 0)
		return -ENAMETOOLONG;
	len = strlen(c->dir);
	while (len > 1 && c->dir[len - 1] == '/')
		c->dir[--len] = '\0';
	c->overwrite = flags & OVER_WRITE;
	c->size = size;

	r = fcopy_open_dir(path, flags & CREATE_PATH, FCOPY_DIR_MODE,
			   &c->dirfd);
	if (r < 0)
		goto fail;
	r = check_target(c->dirfd, c->name, c->overwrite);
	if (r < 0)
		goto fail;
	r = create_temp(c);
	if (r < 0)
		goto fail;
	c->fd = r;
	/* O_TMPFILE and O_CREAT applied the umask. */
	if (fchmod(c->fd, c->opts->file_mode) < 0) {
		r = -errno;
		goto fail;
	}
	/*
	 * Reserve the space now, so a disk that cannot hold the file fails
	 * START instead of the WRITE after gigabytes. KEEP_SIZE: the size
	 * the file ends up with is what was written.
	 */
	if (size > 0 &&
	    fallocate(c->fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)size) < 0 &&
	    errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL) {
		r = -errno;
		goto fail;
	}
	c->active = true;
	return 0;

fail:
	fcopy_file_abort(c);
	return r;
}

static void pace_writeback(struct fcopy_copy *c)
{
	if (!c->opts->sync || c->end < c->flushed + WRITEBACK_CHUNK)
		return;
	/* Errors surface in the final fsync; these only start the work. */
	if (c->flushed > c->waited)
		(void)sync_file_range(c->fd, (off_t)c->waited,
				      (off_t)(c->flushed - c->waited),
				      SYNC_FILE_RANGE_WAIT_BEFORE |
					      SYNC_FILE_RANGE_WRITE |
					      SYNC_FILE_RANGE_WAIT_AFTER);
	c->waited = c->flushed;
	(void)sync_file_range(c->fd, (off_t)c->flushed,
			      (off_t)(c->end - c->flushed),
			      SYNC_FILE_RANGE_WRITE);
	c->flushed = c->end;
}

static int write_at(struct fcopy_copy *c, uint64_t offset, const uint8_t *p,
		    size_t len)
{
	while (len > 0) {
		ssize_t n = pwrite(c->fd, p, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->failed = true;
			return n < 0 ? -errno : -EIO;
		}
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

/* Write out the gathered chunks. */
static int flush_stage(struct fcopy_copy *c)
{
	int r;

	if (c->stage_len == 0)
		return 0;
	r = write_at(c, c->stage_off, c->stage, c->stage_len);
	c->stage_len = 0;
	if (r == 0)
		pace_writeback(c);
	return r;
}

/* Gather the chunk if it continues the stage (or starts one): 1 if taken. */
static int stage_chunk(struct fcopy_copy *c, uint64_t offset, const void *data,
		       size_t len)
{
	int r;

	if (len > FCOPY_STAGE_SIZE / 2)
		return 0;
	if (!c->stage) {
		/*
		 * Mapped, not malloc()ed: it goes back to the system when
		 * the copy ends, whatever the allocator would keep.
		 */
		void *p = mmap(NULL, FCOPY_STAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		/* Without it, chunk by chunk as before. */
		if (p == MAP_FAILED)
			return 0;
		c->stage = p;
	}
	if (c->stage_len && (offset != c->stage_off + c->stage_len ||
			     c->stage_len + len > FCOPY_STAGE_SIZE)) {
		r = flush_stage(c);
		if (r < 0)
			return r;
	}
	if (c->stage_len == 0)
		c->stage_off = offset;
	memcpy(c->stage + c->stage_len, data, len);
	c->stage_len += len;
	return 1;
}

int fcopy_file_write(struct fcopy_copy *c, uint64_t offset, const void *data,
		     size_t len)
{
	int r;

	if (!c->active)
		return -EPROTO;
	if (c->failed)
		return -EIO;
	if (offset > INT64_MAX || len > INT64_MAX - offset ||
	    (c->size && offset + len > c->size)) {
		c->failed = true;
		return -EFBIG;
	}
	r = stage_chunk(c, offset, data, len);
	if (r == 0) {
		/* Too large to gather: what was gathered goes first. */
		r = flush_stage(c);
		if (r == 0)
			r = write_at(c, offset, data, len);
	}
	if (r < 0)
		return r;
	if (offset + len > c->end)
		c->end = offset + len;
	if (c->stage_len == FCOPY_STAGE_SIZE)
		return flush_stage(c);
	if (c->stage_len == 0)
		pace_writeback(c);
	return 0;
}

/* Give the O_TMPFILE inode the name as; -EEXIST if it is taken. */
static int link_anonymous(struct fcopy_copy *c, const char *as)
{
	char proc[64];

	if (linkat(c->fd, "", c->dirfd, as, AT_EMPTY_PATH) == 0)
		return 0;
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc does not. */
	if (errno != ENOENT)
		return -errno;
	if (hv_snprintf(proc, sizeof(proc), "/proc/self/fd/%d", c->fd) < 0)
		return -ENAMETOOLONG;
	if (linkat(AT_FDCWD, proc, c->dirfd, as, AT_SYMLINK_FOLLOW) < 0)
		return -errno;
	return 0;
}

static int publish_named(struct fcopy_copy *c)
{
	int r;

	if (c->overwrite) {
		r = check_target(c->dirfd, c->name, true);
		if (r < 0)
			return r;
		/* Atomic: readers see the old file or the whole new one. */
		if (renameat(c->dirfd, c->tmp, c->dirfd, c->name) < 0)
			return -errno;
	} else if (renameat2(c->dirfd, c->tmp, c->dirfd, c->name,
			     RENAME_NOREPLACE) < 0) {
		if (errno != EINVAL && errno != ENOSYS)
			return -errno;
		/* No RENAME_NOREPLACE here; link() refuses a taken name too. */
		if (linkat(c->dirfd, c->tmp, c->dirfd, c->name, 0) < 0)
			return -errno;
		unlinkat(c->dirfd, c->tmp, 0);
	}
	c->tmp[0] = '\0';
	record_clear(c);
	return 0;
}

static int publish_anonymous(struct fcopy_copy *c)
{
	int r = -EBUSY;

	if (!c->overwrite)
		return link_anonymous(c, c->name);
	/* linkat() cannot replace: name it, then rename over the old. */
	r = check_target(c->dirfd, c->name, true);
	if (r < 0)
		return r;
	for (int i = 0; i < TEMP_TRIES; i++) {
		temp_name(c->tmp);
		record_set(c);
		r = link_anonymous(c, c->tmp);
		if (r != -EEXIST)
			break;
	}
	if (r < 0) {
		c->tmp[0] = '\0';
		record_clear(c);
		return r == -EEXIST ? -EBUSY : r;
	}
	c->anonymous = false;
	return publish_named(c);
}

static int finish(struct fcopy_copy *c)
{
	int r;

	if (c->opts->sync && fsync(c->fd) < 0)
		return -errno;
	r = c->anonymous ? publish_anonymous(c) : publish_named(c);
	if (r < 0)
		return r;
	/* The new name itself must survive a crash too. */
	if (c->opts->sync && fsync(c->dirfd) < 0)
		return -errno;
	return 0;
}

int fcopy_file_complete(struct fcopy_copy *c)
{
	int r;

	if (!c->active)
		return -EPROTO;
	if (c->failed)
		r = -EIO;
	else if ((r = flush_stage(c)) < 0)
		; /* as it is: ENOSPC must reach the host as "disk full" */
	else if (c->size && c->end != c->size)
		r = -EIO; /* fewer bytes than announced: not the host's file */
	else
		r = finish(c);
	fcopy_file_abort(c);
	return r;
}
