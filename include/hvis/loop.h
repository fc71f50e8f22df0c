/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pieces of the one-thread event loop every daemon runs: poll() over the
 * device, a signalfd and timerfds.
 */
#ifndef HVIS_LOOP_H
#define HVIS_LOOP_H

#include <signal.h>
#include <stdint.h>

/*
 * Block SIGTERM, SIGINT, SIGHUP, SIGCHLD (and SIGPIPE is ignored) and
 * return a non-blocking signalfd for them, or -errno.
 */
int hv_signalfd_open(void);

/* Read one signal from the signalfd: its number, 0 if none, or -errno. */
int hv_signalfd_read(int fd);

/* A non-blocking CLOCK_MONOTONIC timerfd, or -errno. */
int hv_timerfd_open(void);

/* Arm a one-shot timer usec from now (0 disarms). */
int hv_timerfd_arm(int fd, uint64_t usec);

/* Consume a timerfd expiry: 1 if it fired, 0 if not, -errno. */
int hv_timerfd_read(int fd);

/* CLOCK_MONOTONIC in usec. */
uint64_t hv_now_usec(void);

#endif
