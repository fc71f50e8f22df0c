/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UTF-16LE <-> UTF-8 the way the kernel's fs/nls helpers behave when
 * hv_kvp/hv_fcopy convert host strings, so the simulator hands daemons
 * exactly what a real kernel would (including what it silently drops).
 */
#include <errno.h>
#include <string.h>

#include "hvsim-internal.h"

#define SURR_FIRST 0xd800u
#define SURR_LOW 0xdc00u
#define SURR_LAST 0xdfffu
#define UNICODE_LAST 0x10ffffu

static unsigned utf8_len(uint32_t c)
{
	if (c < 0x80)
		return 1;
	if (c < 0x800)
		return 2;
	if (c < 0x10000)
		return 3;
	return 4;
}

static void utf8_put(uint8_t *p, uint32_t c, unsigned n)
{
	static const uint8_t lead[5] = { 0, 0x00, 0xc0, 0xe0, 0xf0 };
	unsigned i;

	for (i = n - 1; i > 0; i--) {
		p[i] = (uint8_t)(0x80 | (c & 0x3f));
		c >>= 6;
	}
	p[0] = (uint8_t)(lead[n] | c);
}

ssize_t hvsim_utf16le_to_utf8(const void *in, size_t in_units, char *out,
			      size_t out_size)
{
	const uint8_t *src = in;
	size_t i = 0, o = 0, max;

	if (out_size == 0)
		return -EINVAL;
	max = out_size - 1;
	while (i < in_units && o < max) {
		uint32_t c = hv_le16(src + 2 * i);
		unsigned n;

		if (c == 0)
			break;
		i++;
		if (c >= SURR_FIRST && c <= SURR_LAST) {
			uint32_t lo;

			/* A low half on its own is dropped. */
			if (c >= SURR_LOW)
				continue;
			if (i >= in_units)
				break;
			lo = hv_le16(src + 2 * i);
			/* A high half not followed by a low one: dropped,
			 * and the next unit is looked at afresh. */
			if (lo < SURR_LOW || lo > SURR_LAST)
				continue;
			i++;
			c = 0x10000 + ((c - SURR_FIRST) << 10) +
			    (lo - SURR_LOW);
		}
		n = utf8_len(c);
		if (n > max - o)
			break;
		utf8_put((uint8_t *)out + o, c, n);
		o += n;
	}
	out[o] = '\0';
	return (ssize_t)o;
}

/* One UTF-8 sequence at s (avail bytes): its length, or -EINVAL. */
static int utf8_decode(const uint8_t *s, size_t avail, uint32_t *ret)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t c;
	unsigned n, k;

	if (s[0] < 0x80) {
		*ret = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return -EINVAL;
	}
	if (avail < n)
		return -EINVAL;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return -EINVAL;
		c = c << 6 | (s[k] & 0x3f);
	}
	if (c < min[n] || c > UNICODE_LAST ||
	    (c >= SURR_FIRST && c <= SURR_LAST))
		return -EINVAL;
	*ret = c;
	return (int)n;
}

ssize_t hvsim_utf8_to_utf16le(const char *in, size_t in_len, void *out,
			      size_t out_units)
{
	const uint8_t *s = (const uint8_t *)in;
	uint8_t *dst = out;
	size_t i = 0, o = 0;

	while (i < in_len && o < out_units && s[i]) {
		uint32_t c;
		int n = utf8_decode(s + i, in_len - i, &c);

		if (n < 0)
			return n;
		if (c >= 0x10000) {
			if (out_units - o < 2)
				break;
			c -= 0x10000;
			hv_put_le16(dst + 2 * o,
				    (uint16_t)(SURR_FIRST | c >> 10));
			hv_put_le16(dst + 2 * o + 2,
				    (uint16_t)(SURR_LOW | (c & 0x3ff)));
			o += 2;
		} else {
			hv_put_le16(dst + 2 * o, (uint16_t)c);
			o++;
		}
		i += (size_t)n;
	}
	return (ssize_t)o;
}
