/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UTF-16LE <-> UTF-8. Expected encodings are written out as bytes; the
 * randomized round trip uses glibc iconv as an independent oracle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <iconv.h>

#include "hvis/utf16.h"
#include "hvis/util.h"

#define CANARY 0xc3

/* Host-style UTF-16LE bytes from a unit array, in a fresh exact buffer. */
static uint8_t *le_units(const uint16_t *u, size_t n)
{
	uint8_t *b = malloc(n ? 2 * n : 1);

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		b[2 * i] = (uint8_t)(u[i] & 0xff);
		b[2 * i + 1] = (uint8_t)(u[i] >> 8);
	}
	return b;
}

static uint16_t unit_at(const uint8_t *b, size_t i)
{
	return (uint16_t)(b[2 * i] | b[2 * i + 1] << 8);
}

/* utf16 -> utf8 of n units with a roomy output; returns the result. */
static ssize_t to8(const uint16_t *u, size_t n, char *out, size_t out_size)
{
	uint8_t *b = le_units(u, n);
	ssize_t r = hv_utf16_to_utf8(b, n, out, out_size);

	free(b);
	return r;
}

/* Both directions agree on this pair of encodings. */
static void check_pair(const uint16_t *u, size_t n, const char *utf8)
{
	size_t len8 = strlen(utf8);
	char out8[256];
	uint8_t out16[512];

	assert_int_equal(to8(u, n, out8, sizeof(out8)), len8);
	assert_memory_equal(out8, utf8, len8 + 1);

	assert_int_equal(hv_utf8_to_utf16(utf8, len8, out16, 256), n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(unit_at(out16, i), u[i]);
	assert_int_equal(unit_at(out16, n), 0);
}

static void test_ascii(void **state)
{
	const uint16_t u[] = { 'h', 'e', 'l', 'l', 'o', ' ', '~', 0x7f };

	check_pair(u, ARRAY_SIZE(u), "hello ~\x7f");
	check_pair(u, 0, "");
}

static void test_multibyte(void **state)
{
	check_pair((const uint16_t[]){ 0xe9 }, 1, "\xc3\xa9"); /* é */
	check_pair((const uint16_t[]){ 0x20ac }, 1, "\xe2\x82\xac"); /* € */
	check_pair((const uint16_t[]){ 0xd83d, 0xde00 }, 2,
		   "\xf0\x9f\x98\x80"); /* U+1F600 */
	check_pair((const uint16_t[]){ 0xd834, 0xdd1e }, 2,
		   "\xf0\x9d\x84\x9e"); /* U+1D11E */
}

/* The edges of each encoding length and around the surrogate block. */
static void test_boundaries(void **state)
{
	check_pair((const uint16_t[]){ 0x80 }, 1, "\xc2\x80");
	check_pair((const uint16_t[]){ 0x7ff }, 1, "\xdf\xbf");
	check_pair((const uint16_t[]){ 0x800 }, 1, "\xe0\xa0\x80");
	check_pair((const uint16_t[]){ 0xd7ff }, 1, "\xed\x9f\xbf");
	check_pair((const uint16_t[]){ 0xe000 }, 1, "\xee\x80\x80");
	check_pair((const uint16_t[]){ 0xfffd }, 1, "\xef\xbf\xbd");
	check_pair((const uint16_t[]){ 0xffff }, 1, "\xef\xbf\xbf");
	check_pair((const uint16_t[]){ 0xd800, 0xdc00 }, 2, "\xf0\x90\x80\x80");
	check_pair((const uint16_t[]){ 0xdbff, 0xdfff }, 2, "\xf4\x8f\xbf\xbf");
}

static void test_mixed_scripts(void **state)
{
	/* "Zoë-файл-文件-😀.txt" */
	const uint16_t u[] = { 'Z',    'o',    0xeb, '-',    0x444,  0x430,
			       0x439,  0x43b,  '-',  0x6587, 0x4ef6, '-',
			       0xd83d, 0xde00, '.',  't',    'x',    't' };

	check_pair(u, ARRAY_SIZE(u),
		   "Zo\xc3\xab-\xd1\x84\xd0\xb0\xd0\xb9\xd0\xbb-"
		   "\xe6\x96\x87\xe4\xbb\xb6-\xf0\x9f\x98\x80.txt");
}

static void test_max_units_bound(void **state)
{
	const uint16_t u[] = { 'a', 'b', 'c', 'd', 'e', 'f' };
	char out[16];

	/* No NUL anywhere: max_units alone stops the scan (ASan: exact). */
	assert_int_equal(to8(u, 3, out, sizeof(out)), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(to8(u, 6, out, sizeof(out)), 6);
	assert_string_equal(out, "abcdef");
	memset(out, 'x', sizeof(out));
	assert_int_equal(to8(u, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void test_utf16_nul_stops(void **state)
{
	const uint16_t u[] = { 'a', 0xe9, 0, 'z', 0xdc00 };
	char out[16];

	/* Whatever follows the NUL, even a lone surrogate, is not read. */
	assert_int_equal(to8(u, ARRAY_SIZE(u), out, sizeof(out)), 3);
	assert_string_equal(out, "a\xc3\xa9");
	assert_int_equal(to8((const uint16_t[]){ 0, 'a' }, 2, out, sizeof(out)),
			 0);
	assert_string_equal(out, "");
}

static void test_utf8_dst_bounds(void **state)
{
	const uint16_t u[] = { 0xe9, 0x20ac }; /* 2 + 3 bytes */
	char out[16];

	memset(out, CANARY, sizeof(out));
	assert_int_equal(to8(u, 2, out, 6), 5);
	assert_memory_equal(out, "\xc3\xa9\xe2\x82\xac", 6);
	assert_int_equal((uint8_t)out[6], CANARY);

	/* One short: a terminated prefix of whole characters, no overrun. */
	memset(out, CANARY, sizeof(out));
	assert_int_equal(to8(u, 2, out, 5), -E2BIG);
	assert_string_equal(out, "\xc3\xa9");
	assert_int_equal((uint8_t)out[3], CANARY);
	assert_int_equal((uint8_t)out[5], CANARY);

	memset(out, CANARY, sizeof(out));
	assert_int_equal(to8(u, 2, out, 1), -E2BIG);
	assert_int_equal(out[0], '\0');
	assert_int_equal((uint8_t)out[1], CANARY);

	memset(out, CANARY, sizeof(out));
	assert_int_equal(to8(u, 2, out, 0), -E2BIG);
	assert_int_equal((uint8_t)out[0], CANARY);

	/* ASCII: "abc" needs 4 bytes. */
	assert_int_equal(to8((const uint16_t[]){ 'a', 'b', 'c' }, 3, out, 4),
			 3);
	assert_int_equal(to8((const uint16_t[]){ 'a', 'b', 'c' }, 3, out, 3),
			 -E2BIG);
	assert_string_equal(out, "ab");
}

static void test_lone_surrogates(void **state)
{
	char out[16];

	memset(out, CANARY, sizeof(out));
	/* High at the end of the input */
	assert_int_equal(to8((const uint16_t[]){ 'a', 0xd800 }, 2, out,
			     sizeof(out)),
			 -EILSEQ);
	assert_string_equal(out, "a");
	/* A pair split by max_units is a lone high within the field. */
	assert_int_equal(to8((const uint16_t[]){ 0xd83d, 0xde00 }, 1, out,
			     sizeof(out)),
			 -EILSEQ);
	/* High then NUL */
	assert_int_equal(to8((const uint16_t[]){ 0xdbff, 0 }, 2, out,
			     sizeof(out)),
			 -EILSEQ);
	/* High then a non-surrogate, then high then high */
	assert_int_equal(to8((const uint16_t[]){ 0xd800, 'x' }, 2, out,
			     sizeof(out)),
			 -EILSEQ);
	assert_int_equal(to8((const uint16_t[]){ 0xd800, 0xdbff, 0xdc00 }, 3,
			     out, sizeof(out)),
			 -EILSEQ);
	/* Lone low, alone and after a complete pair */
	assert_int_equal(to8((const uint16_t[]){ 0xdc00 }, 1, out, sizeof(out)),
			 -EILSEQ);
	assert_int_equal(to8((const uint16_t[]){ 0xd83d, 0xde00, 0xdfff }, 3,
			     out, sizeof(out)),
			 -EILSEQ);
	assert_string_equal(out, "\xf0\x9f\x98\x80");
}

/* Each rejected UTF-8 class, alone and after a valid prefix. */
static void test_invalid_utf8(void **state)
{
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {
#define B(x) { x, sizeof(x) - 1 }
		B("\xc0\x80"), /* overlong NUL */
		B("\xc1\xbf"), /* overlong 0x7f */
		B("\xe0\x80\x80"), /* overlong 3-byte */
		B("\xe0\x9f\xbf"), /* overlong 0x7ff */
		B("\xf0\x80\x80\x80"), /* overlong 4-byte */
		B("\xf0\x8f\xbf\xbf"), /* overlong 0xffff */
		B("\xed\xa0\x80"), /* encoded U+D800 */
		B("\xed\xbf\xbf"), /* encoded U+DFFF */
		B("\xed\xa0\xbd\xed\xb8\x80"), /* CESU-8 U+1F600 */
		B("\xf4\x90\x80\x80"), /* U+110000 */
		B("\xf5\x80\x80\x80"),
		B("\xf7\xbf\xbf\xbf"),
		B("\xf8\x88\x80\x80\x80"),
		B("\xfe"),
		B("\xff"),
		B("\x80"), /* stray continuation */
		B("\xbf"),
		B("\xc3"), /* truncated */
		B("\xe2\x82"),
		B("\xf0\x9f\x98"),
		B("\xc3\x00"), /* cut by a NUL */
		B("\xe2\x00\xac"),
		B("\xc3\x41"), /* non-continuation */
		B("\xe2\x28\xa1"),
		B("\xe2\x82\x28"),
		B("\xf0\x9f\x98\x28"),
		B("\xf0\x9f\xc3\xa9"),
#undef B
	};
	uint8_t out[64];
	char buf[16];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(out, CANARY, sizeof(out));
		assert_int_equal(hv_utf8_to_utf16(bad[i].s, bad[i].len, out,
						  32),
				 -EILSEQ);
		assert_int_equal(unit_at(out, 0), 0);

		assert_true(bad[i].len + 2 < sizeof(buf));
		buf[0] = 'o';
		buf[1] = 'k';
		memcpy(buf + 2, bad[i].s, bad[i].len);
		assert_int_equal(hv_utf8_to_utf16(buf, bad[i].len + 2, out, 32),
				 -EILSEQ);
		assert_int_equal(unit_at(out, 0), 'o');
		assert_int_equal(unit_at(out, 1), 'k');
		assert_int_equal(unit_at(out, 2), 0);
	}

	/* A sequence complete in memory but cut by src_len is truncated. */
	assert_int_equal(hv_utf8_to_utf16("\xe2\x82\xac", 2, out, 32), -EILSEQ);
	assert_int_equal(hv_utf8_to_utf16("\xe2\x82\xac", 3, out, 32), 1);
}

static void test_utf8_nul_stops(void **state)
{
	uint8_t out[32];

	memset(out, CANARY, sizeof(out));
	assert_int_equal(hv_utf8_to_utf16("ab\0\xff", 4, out, 16), 2);
	assert_int_equal(unit_at(out, 2), 0);
	assert_int_equal(out[6], CANARY);
	assert_int_equal(hv_utf8_to_utf16("", 1, out, 16), 0);
	assert_int_equal(unit_at(out, 0), 0);
	/* src_len 0 reads nothing at all */
	assert_int_equal(hv_utf8_to_utf16(NULL, 0, out, 16), 0);
	assert_int_equal(unit_at(out, 0), 0);
}

static void test_utf16_dst_bounds(void **state)
{
	const char *s = "a\xf0\x9f\x98\x80"; /* 'a' + a pair: 3 units */
	uint8_t out[16];

	memset(out, CANARY, sizeof(out));
	assert_int_equal(hv_utf8_to_utf16(s, strlen(s), out, 4), 3);
	assert_int_equal(unit_at(out, 3), 0);
	assert_int_equal(out[8], CANARY);

	/* One short: the pair is not split, the NUL follows 'a'. */
	memset(out, CANARY, sizeof(out));
	assert_int_equal(hv_utf8_to_utf16(s, strlen(s), out, 3), -E2BIG);
	assert_int_equal(unit_at(out, 0), 'a');
	assert_int_equal(unit_at(out, 1), 0);
	assert_int_equal(out[4], CANARY);
	assert_int_equal(out[6], CANARY);

	memset(out, CANARY, sizeof(out));
	assert_int_equal(hv_utf8_to_utf16(s, strlen(s), out, 1), -E2BIG);
	assert_int_equal(unit_at(out, 0), 0);
	assert_int_equal(out[2], CANARY);

	memset(out, CANARY, sizeof(out));
	assert_int_equal(hv_utf8_to_utf16(s, strlen(s), out, 0), -E2BIG);
	assert_int_equal(out[0], CANARY);
}

static void test_unaligned(void **state)
{
	uint8_t raw[32], out[32];
	char s8[16];

	/* "é😀" as UTF-16LE at an odd address */
	memcpy(raw + 1, "\xe9\x00\x3d\xd8\x00\xde\x00\x00", 8);
	assert_int_equal(hv_utf16_to_utf8(raw + 1, 4, s8, sizeof(s8)), 6);
	assert_string_equal(s8, "\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(hv_utf16_len(raw + 1, 4), 3);

	assert_int_equal(hv_utf8_to_utf16(s8, strlen(s8), out + 1, 8), 3);
	assert_memory_equal(out + 1, "\xe9\x00\x3d\xd8\x00\xde\x00\x00", 8);
}

static void test_utf16_len(void **state)
{
	const uint16_t u[] = { 'a', 'b', 'c', 0, 'd' };
	uint8_t *b = le_units(u, ARRAY_SIZE(u));

	assert_int_equal(hv_utf16_len(b, 5), 3);
	assert_int_equal(hv_utf16_len(b, 4), 3);
	assert_int_equal(hv_utf16_len(b, 3), -EBADMSG);
	assert_int_equal(hv_utf16_len(b, 0), -EBADMSG);
	assert_int_equal(hv_utf16_len(b + 6, 1), 0);
	/* 0x0100 and 0x0001 are not NUL although one byte is zero */
	free(b);
	b = le_units((const uint16_t[]){ 0x100, 0x1, 0 }, 3);
	assert_int_equal(hv_utf16_len(b, 3), 2);
	assert_int_equal(hv_utf16_len(b, 2), -EBADMSG);
	free(b);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible, no libc state */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* A random scalar value, spread over all four UTF-8 lengths. */
static uint32_t random_code_point(void)
{
	uint32_t cp;

	switch (rnd() % 4) {
	case 0:
		return 1 + rnd() % 0x7f;
	case 1:
		return 0x80 + rnd() % (0x800 - 0x80);
	case 2:
		do
			cp = 0x800 + rnd() % (0x10000 - 0x800);
		while (cp >= 0xd800 && cp <= 0xdfff);
		return cp;
	default:
		return 0x10000 + rnd() % (0x110000 - 0x10000);
	}
}

static void test_random_round_trip(void **state)
{
	iconv_t cd = iconv_open("UTF-8", "UTF-16LE");

	assert_true(cd != (iconv_t)-1);
	for (int iter = 0; iter < 5000; iter++) {
		uint8_t in16[2 * 64], back16[2 * 65];
		char out8[4 * 64 + 1], ref8[4 * 64 + 1];
		size_t n = 0, want = rnd() % 40;
		char *ip = (char *)in16, *op = ref8;
		size_t il, ol = sizeof(ref8);
		ssize_t r;

		while (n < want) {
			uint32_t cp = random_code_point();

			if (cp >= 0x10000) {
				cp -= 0x10000;
				hv_put_le16(in16 + 2 * n, 0xd800 + (cp >> 10));
				hv_put_le16(in16 + 2 * n + 2,
					    0xdc00 + (cp & 0x3ff));
				n += 2;
			} else {
				hv_put_le16(in16 + 2 * n, (uint16_t)cp);
				n++;
			}
		}
		il = 2 * n;
		assert_int_not_equal(iconv(cd, &ip, &il, &op, &ol), (size_t)-1);

		r = hv_utf16_to_utf8(in16, n, out8, sizeof(out8));
		assert_int_equal(r, op - ref8);
		assert_memory_equal(out8, ref8, (size_t)r);
		assert_int_equal(out8[r], '\0');

		assert_int_equal(hv_utf8_to_utf16(out8, (size_t)r, back16, 65),
				 n);
		assert_memory_equal(back16, in16, 2 * n);
		assert_int_equal(unit_at(back16, n), 0);
		assert_int_equal(hv_utf16_len(back16, n + 1), n);
	}
	iconv_close(cd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_multibyte),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_mixed_scripts),
		cmocka_unit_test(test_max_units_bound),
		cmocka_unit_test(test_utf16_nul_stops),
		cmocka_unit_test(test_utf8_dst_bounds),
		cmocka_unit_test(test_lone_surrogates),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_utf8_nul_stops),
		cmocka_unit_test(test_utf16_dst_bounds),
		cmocka_unit_test(test_unaligned),
		cmocka_unit_test(test_utf16_len),
		cmocka_unit_test(test_random_round_trip),
	};

	return cmocka_run_group_tests_name("utf16", tests, NULL, NULL);
}
