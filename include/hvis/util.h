/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers every module uses: scoped cleanup, ownership hand-off and
 * bounded string copies.
 */
#ifndef HVIS_UTIL_H
#define HVIS_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define HV_MIN(a, b) ((a) < (b) ? (a) : (b))
#define HV_MAX(a, b) ((a) > (b) ? (a) : (b))
#define HV_ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

#define HV_PRINTF(fmt, args) __attribute__((__format__(printf, fmt, args)))
#define HV_UNUSED __attribute__((__unused__))
#define HV_WARN_UNUSED __attribute__((__warn_unused_result__))

static inline void hv_freep(void *p)
{
	free(*(void **)p);
}

static inline void hv_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

static inline void hv_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_(f) __attribute__((__cleanup__(f)))
#define _cleanup_free_ _cleanup_(hv_freep)
#define _cleanup_close_ _cleanup_(hv_closep)
#define _cleanup_fclose_ _cleanup_(hv_fclosep)

/* Hand ownership out of a cleanup-scoped variable. */
#define TAKE_PTR(p)                     \
	({                              \
		__typeof__(p) _p = (p); \
		(p) = NULL;             \
		_p;                     \
	})
#define TAKE_FD(fd)             \
	({                      \
		int _fd = (fd); \
		(fd) = -1;      \
		_fd;            \
	})

/*
 * Copy a NUL-terminated string into dst[size]. Returns the length copied,
 * or -E2BIG (with dst holding a terminated prefix) when it does not fit.
 */
static inline int hv_strscpy(char *dst, const char *src, size_t size)
{
	size_t n;

	if (size == 0)
		return -E2BIG;
	n = strnlen(src, size);
	if (n == size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -E2BIG;
	}
	memcpy(dst, src, n + 1);
	return (int)n;
}

/* snprintf that reports truncation as -E2BIG instead of a length. */
int hv_snprintf(char *dst, size_t size, const char *fmt, ...) HV_PRINTF(3, 4);

/* Little-endian loads and stores for bytes that may be unaligned. */
static inline uint16_t hv_le16(const void *p)
{
	const uint8_t *b = p;

	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t hv_le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline void hv_put_le16(void *p, uint16_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static inline void hv_put_le32(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

/* Strict unsigned parsers: whole string, no sign, no overflow. */
int hv_parse_u32(const char *s, uint32_t *ret);
int hv_parse_u64(const char *s, uint64_t *ret);

/* read()/write() that loop over partial transfers and EINTR. */
ssize_t hv_read_full(int fd, void *buf, size_t len);
ssize_t hv_write_full(int fd, const void *buf, size_t len);

/*
 * Read a small file into buf (NUL-terminated, trailing newline stripped).
 * Returns its length or -errno; -E2BIG if it does not fit.
 */
int hv_read_line_file(const char *path, char *buf, size_t size);

/*
 * mkdir -p: create path and any missing parents with mode (subject to the
 * umask). Existing directories are fine. Returns 0 or -errno.
 */
int hv_mkdir_parents(const char *path, mode_t mode);

#endif
