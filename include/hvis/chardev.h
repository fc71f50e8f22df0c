/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hv_utils char devices (/dev/vmbus/hv_kvp, hv_vss, hv_fcopy):
 * one message per read(), one reply per write(), exact sizes (§2).
 *
 * Simulation: when the path is a UNIX socket, opening it connects with
 * SOCK_SEQPACKET (message boundaries as on the device) and receives a
 * 4-byte open status (0 or a positive errno, e.g. EBUSY for a second
 * opener). Everything after the open is the production path.
 */
#ifndef HVIS_CHARDEV_H
#define HVIS_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct hv_chardev {
	int fd;
	bool is_socket;
	char path[256];
};

/* Open path (O_RDWR|O_CLOEXEC). Returns 0 or -errno. */
int hv_chardev_open(struct hv_chardev *d, const char *path);

void hv_chardev_close(struct hv_chardev *d);

/*
 * Read one message. Returns its length, -EMSGSIZE if it was larger than
 * size (the device refuses such reads with EINVAL; both mean the caller's
 * buffer is wrong), -ECONNRESET if the other side went away, -EAGAIN if
 * the fd is non-blocking and nothing is queued, or another -errno.
 */
ssize_t hv_chardev_read(struct hv_chardev *d, void *buf, size_t size);

/* Write one message entirely. A short write is -EIO. */
int hv_chardev_write(struct hv_chardev *d, const void *buf, size_t len);

/*
 * Close, reopen and call register_fn (the service's handshake). On
 * failure the device is left closed. Returns 0 or -errno.
 */
int hv_chardev_reopen(struct hv_chardev *d,
		      int (*register_fn)(struct hv_chardev *d, void *userdata),
		      void *userdata);

#endif
