/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "hvis/chardev.h"
#include "hvis/util.h"

/*
 * The simulator's stand-in for open(): after connect() it sends one
 * 4-byte record holding 0 or the errno the real open() would have failed
 * with (EBUSY for a second opener).
 */
static int open_socket(const char *path)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t status[4];
	ssize_t n;
	uint32_t err;

	if (hv_strscpy(sa.sun_path, path, sizeof(sa.sun_path)) < 0)
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	do
		n = recv(fd, status, sizeof(status), MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	if (n != sizeof(status))
		return -EBADMSG;
	err = hv_le32(status);
	if (err != 0)
		return err < 4096 ? -(int)err : -EIO;
	return TAKE_FD(fd);
}

int hv_chardev_open(struct hv_chardev *d, const char *path)
{
	struct stat st;
	int fd;

	d->fd = -1;
	d->is_socket = false;
	if (hv_strscpy(d->path, path, sizeof(d->path)) < 0)
		return -ENAMETOOLONG;
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISSOCK(st.st_mode)) {
		fd = open_socket(path);
		if (fd < 0)
			return fd;
		d->is_socket = true;
	} else {
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return -errno;
	}
	d->fd = fd;
	return 0;
}

void hv_chardev_close(struct hv_chardev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

ssize_t hv_chardev_read(struct hv_chardev *d, void *buf, size_t size)
{
	ssize_t n;

	if (d->fd < 0)
		return -EBADF;
	do {
		if (d->is_socket)
			/* MSG_TRUNC: learn the real length of a long record. */
			n = recv(d->fd, buf, size, MSG_TRUNC);
		else
			n = read(d->fd, buf, size);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* The device refuses a short buffer with EINVAL. */
		if (errno == EINVAL && !d->is_socket)
			return -EMSGSIZE;
		return -errno;
	}
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n > size)
		return -EMSGSIZE;
	return n;
}

int hv_chardev_write(struct hv_chardev *d, const void *buf, size_t len)
{
	ssize_t n;

	if (d->fd < 0)
		return -EBADF;
	do {
		if (d->is_socket)
			n = send(d->fd, buf, len, MSG_NOSIGNAL);
		else
			n = write(d->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* The device takes a message whole or not at all. */
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

int hv_chardev_reopen(struct hv_chardev *d,
		      int (*register_fn)(struct hv_chardev *d, void *userdata),
		      void *userdata)
{
	char path[sizeof(d->path)];
	int r;

	memcpy(path, d->path, sizeof(path));
	hv_chardev_close(d);
	r = hv_chardev_open(d, path);
	if (r < 0)
		return r;
	if (register_fn) {
		r = register_fn(d, userdata);
		if (r < 0) {
			hv_chardev_close(d);
			return r;
		}
	}
	return 0;
}
