/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Is a block device backed by a loop device? Walks sysfs: a loop device
 * has a "loop" directory, a partition is checked through its disk, and a
 * dm or md device through every entry of its "slaves" directory.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "hvis/util.h"
#include "mounts.h"

/*
 * Real stacks are a few levels deep (dm-crypt on LVM on md on partitions);
 * the bounds only stop a crafted or corrupt tree from looping forever.
 */
#define BLOCKDEV_DEPTH_MAX 16
#define BLOCKDEV_NODES_MAX 1024

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* 1 if present, 0 if absent, -errno if it cannot be told. */
static int has_entry(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, 0) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

static int loop_below(int dfd, unsigned int depth, unsigned int *budget);

static int loop_at(int dfd, const char *name, unsigned int depth,
		   unsigned int *budget)
{
	_cleanup_close_ int fd = -1;

	if (depth > BLOCKDEV_DEPTH_MAX || *budget == 0)
		return -ELOOP;
	(*budget)--;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		/* A slave that went away while we looked backs nothing. */
		return errno == ENOENT ? 0 : -errno;
	return loop_below(fd, depth, budget);
}

static int loop_below(int dfd, unsigned int depth, unsigned int *budget)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int fd, r;

	r = has_entry(dfd, "loop");
	if (r != 0)
		return r;

	/*
	 * A partition has neither "loop" nor "slaves"; its disk, the
	 * directory above it, does (loop0p1 lives in loop0).
	 */
	r = has_entry(dfd, "partition");
	if (r < 0)
		return r;
	if (r > 0)
		return loop_at(dfd, "..", depth + 1, budget);

	fd = openat(dfd, "slaves", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			return errno ? -errno : 0;
		if (de->d_name[0] == '.')
			continue;
		r = loop_at(dirfd(d), de->d_name, depth + 1, budget);
		if (r != 0)
			return r;
	}
}

int blockdev_is_loop_backed(const char *sys_root, unsigned int major,
			    unsigned int minor)
{
	unsigned int budget = BLOCKDEV_NODES_MAX;
	char path[PATH_MAX];
	int r;

	if (!sys_root)
		return -EINVAL;
	r = hv_snprintf(path, sizeof(path), "%s/dev/block/%u:%u", sys_root,
			major, minor);
	if (r < 0)
		return r;
	return loop_at(AT_FDCWD, path, 0, &budget);
}
