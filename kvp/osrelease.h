/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * os-release(5) parsing and the legacy /etc/SuSE-release and
 * /etc/redhat-release line reader, for the OS keys of the KVP AUTO pool
 * (protocol.md §3.4). Pure functions over a byte buffer, plus one bounded
 * file reader; no shell expansion anywhere.
 */
#ifndef HVIS_KVP_OSRELEASE_H
#define HVIS_KVP_OSRELEASE_H

#include <stddef.h>

/* A bigger file is refused, not cut: os-release files are tiny. */
#define OSRELEASE_FILE_MAX (64 * 1024)
/* Bytes in one line, without its '\n'; longer lines are skipped. */
#define OSRELEASE_LINE_MAX 4096
/* A value (or key) plus its NUL always fits in this many bytes. */
#define OSRELEASE_VALUE_SIZE (OSRELEASE_LINE_MAX + 1)

/*
 * Called for each valid assignment, in file order; key and value are
 * NUL-terminated and valid only during the call. A negative return stops
 * the parse and is passed on; a positive one stops it with success.
 */
typedef int (*osrelease_cb_t)(const char *key, const char *value, void *ud);

/*
 * Parse buf[len] as os-release(5): newline-separated KEY=VALUE lines, key
 * [A-Za-z_][A-Za-z0-9_]*, '#' comment lines and blank lines ignored, an
 * optional trailing '\r' ignored. A value is a run of unquoted text,
 * '...' (literal) and "..." (backslash escapes only $ ` " \, as in the
 * shell) parts; an unquoted backslash takes the next character literally.
 * Leading blanks of a value are dropped, trailing blanks too, and a blank
 * followed by '#' starts a comment; blanks between words are kept (as
 * systemd does; the shell would run a command). Lines that break these
 * rules are skipped: no '=', bad key, unterminated quote, a backslash at
 * the end of the line (no continuation lines), a NUL or other control
 * character other than tab, or longer than OSRELEASE_LINE_MAX. Bytes
 * >= 0x80 pass through unchecked; callers validate UTF-8.
 * Returns 0, or what the callback returned to stop the parse.
 */
int osrelease_parse(const char *buf, size_t len, osrelease_cb_t cb, void *ud);

/*
 * Value of the last assignment of key in buf[len] (later ones win, as in
 * the shell) copied into value[size]. Returns its length, -ENOENT if key
 * is not assigned, -E2BIG if it does not fit (value then holds a
 * truncated, terminated prefix), -EINVAL if size is 0.
 */
int osrelease_get(const char *buf, size_t len, const char *key, char *value,
		  size_t size);

/*
 * Line n (0-based) of buf[len] without its '\n' and a trailing '\r', into
 * dst[size]. Returns its length, -ENOENT if there are not that many
 * lines (text after the last '\n' counts as a line if not empty),
 * -EBADMSG if the line contains a NUL byte, -E2BIG if it does not fit
 * (dst then holds a truncated, terminated prefix), -EINVAL if size is 0.
 */
int osrelease_line(const char *buf, size_t len, unsigned int n, char *dst,
		   size_t size);

/*
 * Read the regular file at path (at most OSRELEASE_FILE_MAX bytes) into a
 * new NUL-terminated buffer the caller frees. Opened non-blocking so a
 * FIFO planted there cannot hang the caller. Returns 0, -errno from open
 * or read, -EINVAL if it is not a regular file, -EFBIG if too big.
 */
int osrelease_read_file(const char *path, char **ret, size_t *ret_len);

#endif
