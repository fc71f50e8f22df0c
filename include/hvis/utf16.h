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
 * NUL), -EILSEQ on a lone surrogate, -E2BIG if it does not fit.
 */
ssize_t hv_utf16_to_utf8(const void *src, size_t max_units, char *dst,
			 size_t dst_size);

/*
 * Convert src_len bytes of UTF-8 (stopping early at a NUL byte) into
 * dst_units UTF-16LE code units at dst, NUL-terminated. Returns the units
 * written (without the NUL), -EILSEQ on invalid UTF-8, -E2BIG if it does
 * not fit.
 */
ssize_t hv_utf8_to_utf16(const char *src, size_t src_len, void *dst,
			 size_t dst_units);

#endif
