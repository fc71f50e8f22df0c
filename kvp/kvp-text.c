/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "kvp-text.h"

int kvp_utf8_decode(const char *s, size_t len, uint32_t *ret_cp)
{
	const uint8_t *b = (const uint8_t *)s;
	uint8_t lo = 0x80, hi = 0xbf;
	size_t n, i;
	uint32_t cp;

	if (len == 0)
		return -EILSEQ;
	if (b[0] < 0x80) {
		*ret_cp = b[0];
		return 1;
	}
	/* The second byte's range rules out overlong forms, surrogates and
	 * code points above U+10FFFF (RFC 3629 §4). */
	if (b[0] < 0xc2)
		return -EILSEQ;
	if (b[0] < 0xe0) {
		n = 2;
		cp = b[0] & 0x1fu;
	} else if (b[0] < 0xf0) {
		n = 3;
		cp = b[0] & 0x0fu;
		if (b[0] == 0xe0)
			lo = 0xa0;
		else if (b[0] == 0xed)
			hi = 0x9f;
	} else if (b[0] < 0xf5) {
		n = 4;
		cp = b[0] & 0x07u;
		if (b[0] == 0xf0)
			lo = 0x90;
		else if (b[0] == 0xf4)
			hi = 0x8f;
	} else {
		return -EILSEQ;
	}
	if (len < n || b[1] < lo || b[1] > hi)
		return -EILSEQ;
	for (i = 1; i < n; i++) {
		if ((b[i] & 0xc0) != 0x80)
			return -EILSEQ;
		cp = cp << 6 | (b[i] & 0x3fu);
	}
	*ret_cp = cp;
	return (int)n;
}

ssize_t kvp_utf16_units(const char *s, size_t len)
{
	size_t i = 0, units = 0;
	uint32_t cp;
	int n;

	while (i < len) {
		n = kvp_utf8_decode(s + i, len - i, &cp);
		if (n < 0)
			return n;
		units += cp >= 0x10000 ? 2 : 1;
		i += (size_t)n;
	}
	return (ssize_t)units;
}

/* An output buffer that remembers whether anything did not fit. */
struct out {
	char *p;
	size_t size, len;
	bool full;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	if (o->full || o->size - o->len <= n) {
		/* Keep the prefix whole: never half an escape. */
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void out_hex(struct out *o, const char *prefix, unsigned int v,
		    int digits)
{
	static const char hex[] = "0123456789abcdef";
	char buf[8];
	size_t n = strlen(prefix);

	memcpy(buf, prefix, n);
	while (digits-- > 0)
		buf[n++] = hex[(v >> (4 * digits)) & 0xf];
	out_put(o, buf, n);
}

static ssize_t out_end(struct out *o)
{
	if (o->size > 0)
		o->p[o->len] = '\0';
	return o->full ? -E2BIG : (ssize_t)o->len;
}

ssize_t kvp_json_string(const char *s, size_t len, char *dst, size_t size)
{
	struct out o = { .p = dst, .size = size };
	size_t i = 0;
	uint32_t cp;
	int n;

	out_put(&o, "\"", 1);
	while (i < len) {
		n = kvp_utf8_decode(s + i, len - i, &cp);
		if (n < 0) {
			out_put(&o, "\xef\xbf\xbd", 3); /* U+FFFD */
			i++;
			continue;
		}
		switch (cp) {
		case '"':
			out_put(&o, "\\\"", 2);
			break;
		case '\\':
			out_put(&o, "\\\\", 2);
			break;
		case '\b':
			out_put(&o, "\\b", 2);
			break;
		case '\f':
			out_put(&o, "\\f", 2);
			break;
		case '\n':
			out_put(&o, "\\n", 2);
			break;
		case '\r':
			out_put(&o, "\\r", 2);
			break;
		case '\t':
			out_put(&o, "\\t", 2);
			break;
		default:
			/* U+2028/9 are valid JSON but end a line in
			 * JavaScript; DEL and C1 are escaped for the
			 * terminal (U+009B is CSI to some). */
			if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
			    cp == 0x2028 || cp == 0x2029)
				out_hex(&o, "\\u", cp, 4);
			else
				out_put(&o, s + i, (size_t)n);
		}
		i += (size_t)n;
	}
	out_put(&o, "\"", 1);
	return out_end(&o);
}

ssize_t kvp_text_escape(const char *s, size_t len, unsigned int flags,
			char *dst, size_t size)
{
	struct out o = { .p = dst, .size = size };
	size_t i = 0;
	uint32_t cp;
	int n, k;

	while (i < len) {
		n = kvp_utf8_decode(s + i, len - i, &cp);
		if (n < 0) {
			out_hex(&o, "\\x", (uint8_t)s[i], 2);
			i++;
			continue;
		}
		if (cp == '\\')
			out_put(&o, "\\\\", 2);
		else if (cp == '\n')
			out_put(&o, "\\n", 2);
		else if (cp == '\t')
			out_put(&o, "\\t", 2);
		else if (cp == '\r')
			out_put(&o, "\\r", 2);
		else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
			 ((flags & KVP_TEXT_KEY) &&
			  (cp == '=' || (cp == '#' && i == 0))))
			for (k = 0; k < n; k++)
				out_hex(&o, "\\x", (uint8_t)s[i + (size_t)k],
					2);
		else
			out_put(&o, s + i, (size_t)n);
		i += (size_t)n;
	}
	return out_end(&o);
}
