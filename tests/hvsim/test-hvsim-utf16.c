/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "hvsim.h"

/* Host-order units to a little-endian byte buffer. */
static void le(uint8_t *dst, const uint16_t *u, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = (uint8_t)u[i];
		dst[2 * i + 1] = (uint8_t)(u[i] >> 8);
	}
}

static void check16to8(const uint16_t *u, size_t n, size_t out_size,
		       const char *expect)
{
	uint8_t in[64];
	char out[64];

	assert_true(n * 2 <= sizeof(in) && out_size <= sizeof(out));
	le(in, u, n);
	memset(out, 0x7f, sizeof(out));
	assert_int_equal(hvsim_utf16le_to_utf8(in, n, out, out_size),
			 strlen(expect));
	assert_string_equal(out, expect);
}

static void test_utf16_to_utf8(void **state)
{
	static const uint16_t ascii[] = { 'k', 'e', 'y' };
	static const uint16_t mixed[] = { 'A', 0xe9, 0x20ac, 0xd83d, 0xde00 };
	static const uint16_t lone_low[] = { 'A', 0xdc00, 'B' };
	static const uint16_t high_then_ascii[] = { 0xd83d, 'A' };
	static const uint16_t high_at_end[] = { 'A', 0xd83d };
	static const uint16_t nul[] = { 'A', 0, 'B' };
	static const uint16_t tight[] = { 'A', 0xd83d, 0xde00, 'B' };
	static const uint16_t euro_b[] = { 0x20ac, 'B' };

	check16to8(ascii, 3, 64, "key");
	check16to8(mixed, 5, 64, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	check16to8(lone_low, 3, 64, "AB");
	check16to8(high_then_ascii, 2, 64, "A");
	check16to8(high_at_end, 2, 64, "A");
	check16to8(nul, 3, 64, "A");
	/* in_units bounds the read even without a NUL. */
	check16to8(ascii, 2, 64, "ke");
	/* A character that does not fit ends the string: no skipping. */
	check16to8(tight, 4, 4, "A");
	check16to8(tight, 4, 6, "A\xf0\x9f\x98\x80");
	check16to8(euro_b, 2, 3, "");
	check16to8(ascii, 3, 3, "ke");
	check16to8(ascii, 3, 1, "");
}

static void test_utf16_fcopy_field(void **state)
{
	/* §5.2: a full 260-unit name becomes at most 259 bytes. */
	uint8_t in[2 * W_MAX_PATH];
	char out[W_MAX_PATH];
	size_t i;

	for (i = 0; i < W_MAX_PATH; i++) {
		in[2 * i] = 'a';
		in[2 * i + 1] = 0;
	}
	assert_int_equal(hvsim_utf16le_to_utf8(in, W_MAX_PATH, out,
					       sizeof(out)),
			 W_MAX_PATH - 1);
	assert_int_equal(out[W_MAX_PATH - 1], '\0');
	assert_int_equal(hvsim_utf16le_to_utf8(in, 1, out, 0), -EINVAL);
}

static void test_utf8_to_utf16(void **state)
{
	static const uint8_t expect[] = { 'A',	0,    0xe9, 0,	  0xac,
					  0x20, 0x3d, 0xd8, 0x00, 0xde };
	const char *s = "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
	uint8_t out[32];

	memset(out, 0xee, sizeof(out));
	assert_int_equal(hvsim_utf8_to_utf16le(s, strlen(s), out, 16), 5);
	assert_memory_equal(out, expect, sizeof(expect));
	/* No terminator written. */
	assert_int_equal(out[10], 0xee);

	/* Stops at NUL and at in_len. */
	assert_int_equal(hvsim_utf8_to_utf16le("ab\0cd", 5, out, 16), 2);
	assert_int_equal(hvsim_utf8_to_utf16le("abcd", 3, out, 16), 3);
	/* Output bound: a pair never split. */
	assert_int_equal(hvsim_utf8_to_utf16le("ab", 2, out, 1), 1);
	assert_int_equal(hvsim_utf8_to_utf16le("\xf0\x9f\x98\x80", 4, out, 1),
			 0);
	assert_int_equal(hvsim_utf8_to_utf16le("A\xf0\x9f\x98\x80", 5, out, 2),
			 1);
}

static void test_utf8_malformed(void **state)
{
	static const char *const bad[] = {
		"\xc0\x80", /* overlong NUL */
		"\xe0\x80\xaf", /* overlong '/' */
		"\xed\xa0\x80", /* surrogate */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xe2\x82", /* truncated */
		"\xe2\x41\x41", /* bad continuation */
		"\x80", /* lone continuation */
		"\xf8\x88\x80\x80\x80", /* five-byte form */
		"\xff",
	};
	uint8_t out[32];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hvsim_utf8_to_utf16le(bad[i], strlen(bad[i]),
						       out, 16),
				 -EINVAL);
	/* in_len cuts a valid sequence short: malformed too. */
	assert_int_equal(hvsim_utf8_to_utf16le("\xe2\x82\xac", 2, out, 16),
			 -EINVAL);
	/* Largest valid code point. */
	assert_int_equal(hvsim_utf8_to_utf16le("\xf4\x8f\xbf\xbf", 4, out, 16),
			 2);
	assert_int_equal(out[0] | out[1] << 8, 0xdbff);
	assert_int_equal(out[2] | out[3] << 8, 0xdfff);
}

static void test_round_trip(void **state)
{
	const char *s = "Gr\xc3\xbc\xc3\x9f"
			"e \xe6\x97\xa5\xe6\x9c\xac \xf0\x90\x8d\x88";
	uint8_t u16[64];
	char back[64];
	ssize_t n;

	n = hvsim_utf8_to_utf16le(s, strlen(s), u16, 32);
	assert_true(n > 0);
	assert_int_equal(hvsim_utf16le_to_utf8(u16, (size_t)n, back,
					       sizeof(back)),
			 strlen(s));
	assert_string_equal(back, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf16_to_utf8),
		cmocka_unit_test(test_utf16_fcopy_field),
		cmocka_unit_test(test_utf8_to_utf16),
		cmocka_unit_test(test_utf8_malformed),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests_name("hvsim-utf16", tests, NULL, NULL);
}
