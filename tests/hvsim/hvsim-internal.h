/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the simulator's modules. libhvsim is linked without
 * libhvis, so only the inline parts of hvis/util.h are usable here.
 */
#ifndef HVSIM_INTERNAL_H
#define HVSIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hvis/util.h"
#include "hvsim.h"

/* How often to re-check SIOCOUTQ: no event says "the peer has read". */
#define HVSIM_OUTQ_POLL_MS 2

/* snprintf that reports truncation as -E2BIG. */
int hvsim_fmt(char *dst, size_t size, const char *fmt, ...) HV_PRINTF(3, 4);

/* Monotonic deadlines; timeout_ms < 0 means never. */
int64_t hvsim_deadline(int timeout_ms);
/* Milliseconds left (0 when passed), -1 for no deadline. */
int hvsim_remaining(int64_t deadline);

int hvsim_mkdir_p(const char *path, mode_t mode);
/* Create or truncate path and write content. */
int hvsim_write_file(const char *path, const char *content);

/* Non-blocking SOCK_SEQPACKET listener at path; a stale socket is removed. */
int hvsim_listen(const char *path, int *ret_fd);
/* One pending connection as a non-blocking fd, or -EAGAIN. */
int hvsim_accept(int listen_fd);
/* The open status record; pass_fd >= 0 rides along via SCM_RIGHTS. */
int hvsim_send_status(int fd, uint32_t status, int pass_fd);
/* Bytes sent on fd and not yet received by the peer. */
int hvsim_outq(int fd);
/* Is the peer of fd gone (POLLHUP)? */
bool hvsim_peer_gone(int fd);

#endif
