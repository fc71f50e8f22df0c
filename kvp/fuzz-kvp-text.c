/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pool records are arbitrary bytes; whatever they hold, hv-kvp's JSON
 * must parse and its text must stay on one line with no control bytes.
 * The first input byte picks a short output size for the truncation
 * checks; the rest is the field.
 */
#include <stdlib.h>

#include "hvis/utf16.h"
#include "hvis/util.h"
#include "kvp-text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IN 4096

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* Valid UTF-8 with no control character (C0, DEL, C1) at all. */
static bool clean_utf8(const char *s, size_t len)
{
	uint32_t cp;
	size_t i = 0;
	int n;

	while (i < len) {
		n = kvp_utf8_decode(s + i, len - i, &cp);
		if (n < 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return false;
		i += (size_t)n;
	}
	return true;
}

/* A JSON string literal (RFC 8259 §7) and nothing else. */
static bool json_literal(const char *s, size_t len)
{
	size_t i;

	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return false;
	for (i = 1; i < len - 1; i++) {
		if (s[i] == '"')
			return false;
		if (s[i] != '\\')
			continue;
		if (++i >= len - 1)
			return false;
		if (s[i] == 'u') {
			if (i + 4 >= len - 1)
				return false;
			for (int k = 1; k <= 4; k++)
				if (!strchr("0123456789abcdef", s[i + k]) ||
				    !s[i + k])
					return false;
			i += 4;
		} else if (!strchr("\"\\/bfnrt", s[i]) || !s[i]) {
			return false;
		}
	}
	return clean_utf8(s, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char json[KVP_JSON_SIZE(MAX_IN)], text[KVP_TEXT_SIZE(MAX_IN)];
	static uint16_t u16[MAX_IN + 1];
	const char *in = (const char *)data + 1;
	size_t len, small, nul;
	ssize_t n, m;

	if (size < 1 || size - 1 > MAX_IN)
		return 0;
	len = size - 1;
	small = data[0];

	/* Validity and unit count agree with the kernel-side converter,
	 * which stops at a NUL byte. */
	nul = strnlen(in, len);
	n = kvp_utf16_units(in, nul);
	m = hv_utf8_to_utf16(in, nul, u16, ARRAY_SIZE(u16));
	check(n == m);

	n = kvp_json_string(in, len, json, sizeof(json));
	check(n >= 0 && (size_t)n == strlen(json) &&
	      json_literal(json, (size_t)n));
	m = kvp_json_string(in, len, json, small);
	check(m == n || (m == -E2BIG && (small == 0 || strlen(json) < small)));

	n = kvp_text_escape(in, len, KVP_TEXT_KEY, text, sizeof(text));
	check(n >= 0 && (size_t)n == strlen(text) &&
	      clean_utf8(text, (size_t)n));
	check(!memchr(text, '=', (size_t)n) && text[0] != '#');
	m = kvp_text_escape(in, len, 0, text, small);
	check(m >= 0 || (m == -E2BIG && (small == 0 || strlen(text) < small)));
	return 0;
}
