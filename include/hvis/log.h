/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging: the journal when stderr is connected to it (JOURNAL_STREAM),
 * stderr otherwise. Levels are syslog priorities. In hold mode messages
 * are kept in memory (bounded) and written when released: the VSS daemon
 * must not touch a disk while filesystems are frozen.
 */
#ifndef HVIS_LOG_H
#define HVIS_LOG_H

#include <stdbool.h>
#include <syslog.h>

#include "hvis/util.h"

enum hv_log_target {
	HV_LOG_AUTO, /* journal if stderr is the journal stream, else stderr */
	HV_LOG_STDERR,
	HV_LOG_JOURNAL,
};

void hv_log_open(const char *ident, enum hv_log_target target);

/*
 * Where HV_LOG_JOURNAL sends its datagrams (journald's native socket,
 * /run/systemd/journal/socket, unless a test says otherwise). When the
 * journal cannot be reached a message goes to stderr instead.
 */
int hv_log_set_journal_socket(const char *path);
void hv_log_set_max_level(int level);
int hv_log_get_max_level(void);

/* Buffer messages instead of writing them (true), or write them (false). */
void hv_log_hold(bool hold);
/* Write what was buffered, oldest first; says how many were dropped. */
void hv_log_release(void);

/*
 * Log at level; err (an errno value of either sign, or 0) is appended as
 * ": <strerror>" when non-zero. Returns -abs(err) so callers can
 * `return log_error_errno(r, "...")`.
 */
int hv_log_full(int level, int err, const char *fmt, ...) HV_PRINTF(3, 4);

#define log_debug(...) hv_log_full(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) hv_log_full(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) hv_log_full(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) hv_log_full(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) hv_log_full(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) hv_log_full(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) hv_log_full(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) hv_log_full(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) hv_log_full(LOG_ERR, (e), __VA_ARGS__)

/*
 * Render untrusted bytes (a host string) for a log line: printable ASCII
 * as is, everything else as \xNN, quotes and backslashes escaped, cut at
 * dst_size with "...". Returns dst.
 */
const char *hv_log_escape(const char *src, size_t src_len, char *dst,
			  size_t dst_size);

#endif
