/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UTF-16LE <-> UTF-8 for the host's strings. Inputs may be unaligned and
 * are read byte by byte. Lone surrogates and invalid UTF-8 (overlong
 * forms, encoded surrogates, values above U+10FFFF, truncated sequences)
 * are errors; outputs are always NUL-terminated and never exceed their
 * stated size.
 */
#ifndef HVIS_UTF16_H
#define HVIS_UTF16_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Convert at most max_units UTF-16LE code units from src, stopping at a
 * NUL unit, into dst[dst_size]. Returns the UTF-8 length (without the
 * NUL), -EILSEQ on a lone surrogate (a high surrogate as the last unit
 * within max_units counts as lone), -E2BIG if the string plus its NUL
 * does not fit (also when dst_size is 0). The input is scanned in order
 * and the first problem met decides the error. On error dst holds a
 * NUL-terminated prefix of whole characters (if dst_size > 0).
 */
ssize_t hv_utf16_to_utf8(const void *src, size_t max_units, char *dst,
			 size_t dst_size);

/*
 * Convert src_len bytes of UTF-8 (stopping early at a NUL byte) into
 * dst_units UTF-16LE code units at dst, NUL-terminated. Returns the units
 * written (without the NUL), -EILSEQ on invalid UTF-8 (including a
 * sequence cut short by src_len or by a NUL byte), -E2BIG if the units
 * plus the NUL unit exceed dst_units (also when dst_units is 0). The first
 * problem met decides the error; on error dst holds a NUL-terminated
 * prefix of whole characters (if dst_units > 0). dst may be unaligned.
 */
ssize_t hv_utf8_to_utf16(const char *src, size_t src_len, void *dst,
			 size_t dst_units);

/*
 * Number of UTF-16 units before the first NUL unit among the first
 * max_units at src, or -EBADMSG if there is no NUL unit within them:
 * the "string is terminated inside its field" check for host messages.
 */
ssize_t hv_utf16_len(const void *src, size_t max_units);

#endif
