/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text checks and renderings for the hv-kvp CLI. Pool records are
 * hostile bytes (any program may write the files, peers.md §(c)): they
 * may hold invalid UTF-8 and control characters, and what we print must
 * neither break JSON nor drive the user's terminal. Pure functions: bytes
 * in, bytes out, no I/O.
 *
 * UTF-8 is decoded strictly, by the same rules as hv_utf8_to_utf16()
 * (lib/utf16.c), so what we accept is exactly what the kernel can pass
 * to the host: no overlong forms, no encoded surrogates, nothing above
 * U+10FFFF, no truncated sequences.
 */
#ifndef HVIS_KVP_TEXT_H
#define HVIS_KVP_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Output sizes (with the NUL) that always suffice for len input bytes. */
#define KVP_JSON_SIZE(len) (6 * (size_t)(len) + 3)
#define KVP_TEXT_SIZE(len) (4 * (size_t)(len) + 1)

enum {
	/*
	 * Also escape '=' anywhere and '#' at the start, so a KEY=VALUE line
	 * splits at its first '=' and never looks like a "# pool" header.
	 */
	KVP_TEXT_KEY = 1u << 0,
};

/*
 * Decode the character at s[0..len). Returns its length in bytes (1..4)
 * and the code point in *ret_cp, or -EILSEQ (also for len 0). A NUL
 * byte is the character U+0000.
 */
int kvp_utf8_decode(const char *s, size_t len, uint32_t *ret_cp);

/*
 * The UTF-16 code units s[0..len) converts to (NUL bytes count as U+0000),
 * or -EILSEQ if it is not valid UTF-8.
 */
ssize_t kvp_utf16_units(const char *s, size_t len);

/*
 * Render s[0..len) as a JSON string literal, quotes included, into
 * dst[size], NUL-terminated. Valid UTF-8 is copied except that '"', '\\',
 * control characters (C0, DEL, C1) and U+2028/U+2029 are escaped; each
 * byte that does not start a valid character becomes U+FFFD. Returns the
 * length written, or -E2BIG (dst then holds a terminated prefix, if
 * size > 0).
 */
ssize_t kvp_json_string(const char *s, size_t len, char *dst, size_t size);

/*
 * Render s[0..len) visibly on one line into dst[size], NUL-terminated:
 * printable UTF-8 as is; '\\' as "\\\\"; newline, tab and carriage return
 * as "\\n", "\\t", "\\r"; other control characters (C0, DEL, C1) and every
 * byte that does not start a valid character as "\\xNN" per byte. flags:
 * KVP_TEXT_*. Returns the length written, or -E2BIG (dst then holds a
 * terminated prefix, if size > 0).
 */
ssize_t kvp_text_escape(const char *s, size_t len, unsigned int flags,
			char *dst, size_t size);

#endif
