/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * utmp is read as plain records (no libc utmp API: it locks with alarm()
 * timeouts) and every field is bounded before use.
 */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <utmpx.h>

#include "hvis/util.h"
#include "wall.h"

/* Far more sessions than a VM has; a larger file is not a utmp. */
#define UTMP_MAX_RECORDS 4096
#define MAX_TTYS 64

/* "pts/3", "tty1", "ttyS0": no "..", no leading '/', tame characters. */
static bool line_ok(const char *line)
{
	if (line[0] == '\0' || line[0] == '/' || strstr(line, ".."))
		return false;
	for (const char *p = line; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_.-", *p))
			return false;
	return true;
}

static bool write_tty(const char *dev_dir, const char *line, const char *text)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);
	struct stat st;
	ssize_t n;

	if (hv_snprintf(path, sizeof(path), "%s/%s", dev_dir, line) < 0)
		return false;
	fd = open(path,
		  O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
		return false;
	/* One try: a terminal that is full or stopped is not waited for. */
	n = write(fd, text, len);
	return n == (ssize_t)len;
}

int shutdown_wall(const char *utmp_path, const char *dev_dir, const char *text)
{
	char lines[MAX_TTYS][sizeof(((struct utmpx *)0)->ut_line) + 1];
	_cleanup_close_ int fd = -1;
	size_t nlines = 0;
	struct utmpx u;
	int written = 0;

	fd = open(utmp_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	for (int i = 0; i < UTMP_MAX_RECORDS; i++) {
		char line[sizeof(u.ut_line) + 1];
		ssize_t n = hv_read_full(fd, &u, sizeof(u));
		bool seen = false;

		if (n < 0)
			return (int)n;
		if (n != (ssize_t)sizeof(u))
			break; /* end (a torn last record is ignored) */
		if (u.ut_type != USER_PROCESS || u.ut_user[0] == '\0')
			continue;
		/* ut_line need not be terminated inside its field. */
		memcpy(line, u.ut_line, sizeof(u.ut_line));
		line[sizeof(u.ut_line)] = '\0';
		if (!line_ok(line))
			continue;
		for (size_t k = 0; k < nlines && !seen; k++)
			seen = strcmp(lines[k], line) == 0;
		if (seen || nlines == MAX_TTYS)
			continue;
		memcpy(lines[nlines++], line, sizeof(line));
		if (write_tty(dev_dir, line, text))
			written++;
	}
	return written;
}
