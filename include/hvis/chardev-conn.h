/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One connection to an hv_utils char device as the daemons keep it: open
 * and send the service's registration message, wait for the kernel's
 * answer, and after any error close, reopen at once or, while the device
 * is gone (service disabled, hibernation), retry on a timer with
 * exponential backoff (50 ms doubling to 2 s).
 *
 * Nothing here logs: the daemons own their messages, and the order in
 * which they log the loss, undo their own state and reopen.
 */
#ifndef HVIS_CHARDEV_CONN_H
#define HVIS_CHARDEV_CONN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvis/chardev.h"

#define HV_CONN_RETRY_MIN_USEC 50000
#define HV_CONN_RETRY_MAX_USEC 2000000

enum hv_conn_state {
	HV_CONN_CLOSED,
	HV_CONN_REGISTERING,
	HV_CONN_READY,
};

struct hv_chardev_conn {
	struct hv_chardev dev;
	char path[PATH_MAX];
	enum hv_conn_state state;
	bool announced;
	uint8_t *reg;
	size_t reg_len;
	int timerfd;
	uint64_t retry_usec;
	unsigned int reconnects;
};

/* A closed connection; hv_chardev_conn_init() may follow, done() always. */
#define HV_CHARDEV_CONN_NULL                                                \
	{                                                                   \
		.dev = { .fd = -1 }, .state = HV_CONN_CLOSED, .timerfd = -1 \
	}

/*
 * Remember path and a copy of the registration message, and open the
 * retry timerfd. Nothing is opened yet. Returns 0 or -errno (-E2BIG for a
 * path that does not fit, -EINVAL for an empty message).
 */
int hv_chardev_conn_init(struct hv_chardev_conn *c, const char *path,
			 const void *reg, size_t reg_len);

/* Close everything and free the message. Safe on a NULL-initialised one. */
void hv_chardev_conn_done(struct hv_chardev_conn *c);

/*
 * Open the device and write the registration message: REGISTERING. On
 * success the backoff starts again from its minimum. On failure the
 * device is left closed and the timer untouched. Returns 0 or -errno.
 */
int hv_chardev_conn_connect(struct hv_chardev_conn *c);

/*
 * Close the device (CLOSED). Returns true if it was open, i.e. this is
 * the first report of a loss and the caller logs it; false for the retry
 * timer's calls while the device stays away.
 */
bool hv_chardev_conn_close(struct hv_chardev_conn *c);

/*
 * Count a reconnect and try hv_chardev_conn_connect(). If that fails, arm
 * the timer with the next backoff step and return its error.
 */
int hv_chardev_conn_reconnect(struct hv_chardev_conn *c);

/*
 * hv_chardev_conn_close() then hv_chardev_conn_reconnect(): the device
 * failed. *ret_was_open (if not NULL) gets close()'s answer, so the caller
 * logs the loss once. Returns the reconnect's 0 or -errno.
 */
int hv_chardev_conn_lost(struct hv_chardev_conn *c, bool *ret_was_open);

/*
 * The timerfd polled readable: consume the expiry. True if it fired while
 * the device is closed, so the caller reconnects now (after undoing what
 * it must, as for a loss).
 */
bool hv_chardev_conn_on_timer(struct hv_chardev_conn *c);

/*
 * The kernel accepted the registration: READY. Returns true only the
 * first time over the connection's life, for the one READY=1 to systemd.
 */
bool hv_chardev_conn_mark_registered(struct hv_chardev_conn *c);

/* The device fd to poll, or -1 while closed (poll() ignores it). */
static inline int hv_chardev_conn_fd(const struct hv_chardev_conn *c)
{
	return c->state == HV_CONN_CLOSED ? -1 : c->dev.fd;
}

static inline int hv_chardev_conn_timer_fd(const struct hv_chardev_conn *c)
{
	return c->timerfd;
}

static inline const char *hv_chardev_conn_path(const struct hv_chardev_conn *c)
{
	return c->path;
}

static inline enum hv_conn_state
hv_chardev_conn_state(const struct hv_chardev_conn *c)
{
	return c->state;
}

/* The delay the timer was last armed with, 0 after a successful connect. */
static inline uint64_t
hv_chardev_conn_retry_usec(const struct hv_chardev_conn *c)
{
	return c->retry_usec;
}

static inline unsigned int
hv_chardev_conn_reconnects(const struct hv_chardev_conn *c)
{
	return c->reconnects;
}

#endif
