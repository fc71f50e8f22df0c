/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UTF-16LE <-> UTF-8 conversion for host strings (style.md rule 7). Both
 * directions are strict so that a string that converts one way converts
 * back to the same code units: no lone surrogates, no CESU-8, no overlong
 * forms.
 */
#include <stdbool.h>

#include "hvis/utf16.h"
#include "hvis/util.h"

#define SURR_HIGH_FIRST 0xd800u
#define SURR_LOW_FIRST 0xdc00u
#define SURR_LAST 0xdfffu
#define UNICODE_MAX 0x10ffffu

static bool is_high(uint32_t u)
{
	return u >= SURR_HIGH_FIRST && u < SURR_LOW_FIRST;
}

static bool is_low(uint32_t u)
{
	return u >= SURR_LOW_FIRST && u <= SURR_LAST;
}

static size_t utf8_encode(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

ssize_t hv_utf16_to_utf8(const void *src, size_t max_units, char *dst,
			 size_t dst_size)
{
	const uint8_t *s = src;
	size_t pos = 0;
	ssize_t r = 0;

	if (dst_size == 0)
		return -E2BIG;

	for (size_t i = 0; i < max_units; i++) {
		uint32_t cp = hv_le16(s + 2 * i);
		uint8_t enc[4];
		size_t n;

		if (cp == 0)
			break;
		if (is_low(cp)) {
			r = -EILSEQ;
			break;
		}
		if (is_high(cp)) {
			uint32_t lo;

			if (i + 1 >= max_units) {
				r = -EILSEQ;
				break;
			}
			lo = hv_le16(s + 2 * (i + 1));
			if (!is_low(lo)) {
				r = -EILSEQ;
				break;
			}
			cp = 0x10000 + ((cp - SURR_HIGH_FIRST) << 10) +
			     (lo - SURR_LOW_FIRST);
			i++;
		}

		n = utf8_encode(cp, enc);
		/* pos < dst_size always holds, so this cannot wrap. */
		if (n >= dst_size - pos) {
			r = -E2BIG;
			break;
		}
		memcpy(dst + pos, enc, n);
		pos += n;
	}

	dst[pos] = '\0';
	return r < 0 ? r : (ssize_t)pos;
}

/*
 * Decode one strict UTF-8 sequence starting at s[0] (s[0] != 0), with
 * avail bytes readable. Returns its length and sets *ret_cp, or -EILSEQ.
 * The lead byte fixes the allowed range of the second byte, which is how
 * overlong forms, UTF-16 surrogates and values past U+10FFFF are refused.
 */
static int utf8_decode(const uint8_t *s, size_t avail, uint32_t *ret_cp)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	uint32_t cp;
	size_t n;

	if (c < 0x80) {
		*ret_cp = c;
		return 1;
	}
	if (c < 0xc2) /* continuation byte, or C0/C1 (overlong) */
		return -EILSEQ;
	if (c < 0xe0) {
		n = 2;
		cp = c & 0x1f;
	} else if (c < 0xf0) {
		n = 3;
		cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		n = 4;
		cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return -EILSEQ;
	}

	if (avail < n)
		return -EILSEQ;
	if (s[1] < lo || s[1] > hi)
		return -EILSEQ;
	cp = cp << 6 | (s[1] & 0x3f);
	for (size_t k = 2; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return -EILSEQ;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	*ret_cp = cp;
	return (int)n;
}

ssize_t hv_utf8_to_utf16(const char *src, size_t src_len, void *dst,
			 size_t dst_units)
{
	const uint8_t *s = (const uint8_t *)src;
	uint8_t *d = dst;
	size_t i = 0, pos = 0;
	ssize_t r = 0;

	if (dst_units == 0)
		return -E2BIG;

	while (i < src_len && s[i] != 0) {
		uint32_t cp;
		size_t need;
		int n;

		n = utf8_decode(s + i, src_len - i, &cp);
		if (n < 0) {
			r = n;
			break;
		}
		need = cp >= 0x10000 ? 2 : 1;
		/* pos < dst_units always holds, so this cannot wrap. */
		if (need >= dst_units - pos) {
			r = -E2BIG;
			break;
		}
		if (need == 2) {
			cp -= 0x10000;
			hv_put_le16(d + 2 * pos,
				    (uint16_t)(SURR_HIGH_FIRST + (cp >> 10)));
			hv_put_le16(d + 2 * pos + 2,
				    (uint16_t)(SURR_LOW_FIRST + (cp & 0x3ff)));
		} else {
			hv_put_le16(d + 2 * pos, (uint16_t)cp);
		}
		pos += need;
		i += (size_t)n;
	}

	hv_put_le16(d + 2 * pos, 0);
	return r < 0 ? r : (ssize_t)pos;
}

ssize_t hv_utf16_len(const void *src, size_t max_units)
{
	const uint8_t *s = src;

	for (size_t i = 0; i < max_units; i++) {
		if (hv_le16(s + 2 * i) == 0)
			return (ssize_t)i;
	}
	return -EBADMSG;
}
