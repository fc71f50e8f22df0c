/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hvis/utf16.h"
#include "hvis/util.h"
#include "kvp-text.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void test_decode_valid(void **state)
{
	static const struct {
		const char *s;
		int len;
		uint32_t cp;
	} ok[] = {
		{ "A", 1, 'A' },
		{ "\x7f", 1, 0x7f },
		{ "\xc2\x80", 2, 0x80 },
		{ "\xdf\xbf", 2, 0x7ff },
		{ "\xe0\xa0\x80", 3, 0x800 },
		{ "\xed\x9f\xbf", 3, 0xd7ff },
		{ "\xee\x80\x80", 3, 0xe000 },
		{ "\xef\xbf\xbf", 3, 0xffff },
		{ "\xf0\x90\x80\x80", 4, 0x10000 },
		{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
	};
	uint32_t cp;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		cp = 0xdeadbeef;
		assert_int_equal(kvp_utf8_decode(ok[i].s, strlen(ok[i].s), &cp),
				 ok[i].len);
		assert_int_equal(cp, ok[i].cp);
	}
	/* NUL is a character, and only the first one is decoded. */
	assert_int_equal(kvp_utf8_decode("\0x", 2, &cp), 1);
	assert_int_equal(cp, 0);
	assert_int_equal(kvp_utf8_decode("ab", 2, &cp), 1);
	assert_int_equal(cp, 'a');
}

static void test_decode_invalid(void **state)
{
	static const char *const bad[] = {
		"\x80", /* lone continuation */
		"\xbf",
		"\xc0\x80", /* overlong NUL */
		"\xc1\xbf", /* overlong */
		"\xe0\x9f\xbf", /* overlong 3-byte */
		"\xed\xa0\x80", /* surrogate */
		"\xed\xbf\xbf",
		"\xf0\x8f\xbf\xbf", /* overlong 4-byte */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xf5\x80\x80\x80",
		"\xff",
		"\xc3\x28", /* bad continuation */
		"\xe2\x28\xa1",
		"\xe2\x82\x28",
		"\xf0\x9f\x98\x28",
	};
	uint32_t cp = 7;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(kvp_utf8_decode(bad[i], strlen(bad[i]), &cp),
				 -EILSEQ);
	/* Cut short by the length, whatever follows in memory. */
	assert_int_equal(kvp_utf8_decode("\xe2\x82\xac", 2, &cp), -EILSEQ);
	assert_int_equal(kvp_utf8_decode("\xf0\x9f\x98\x80", 3, &cp), -EILSEQ);
	assert_int_equal(kvp_utf8_decode("x", 0, &cp), -EILSEQ);
	assert_int_equal(cp, 7);
}

static void test_utf16_units(void **state)
{
	assert_int_equal(kvp_utf16_units("", 0), 0);
	assert_int_equal(kvp_utf16_units(S("abc")), 3);
	assert_int_equal(kvp_utf16_units(S("caf\xc3\xa9")), 4);
	assert_int_equal(kvp_utf16_units(S("\xe2\x82\xac")), 1);
	assert_int_equal(kvp_utf16_units(S("\xf0\x9f\x98\x80")), 2);
	assert_int_equal(kvp_utf16_units(S("a\0b")), 3);
	assert_int_equal(kvp_utf16_units(S("abc\xff")), -EILSEQ);
	assert_int_equal(kvp_utf16_units(S("\xe2\x82")), -EILSEQ);
	assert_int_equal(kvp_utf16_units("\xe2\x82\xac", 2), -EILSEQ);
}

/* The kernel-side converter we model must agree on every string. */
static void test_utf16_units_agree(void **state)
{
	static const char *const samples[] = {
		"",
		"plain",
		"\xc3\xa9t\xc3\xa9",
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80x",
		"\xef\xbf\xbf\xf4\x8f\xbf\xbf",
		"\xc0\x80",
		"\xed\xa0\x80",
		"\xf4\x90\x80\x80",
		"ok\xe2\x82",
		"\x80",
	};
	uint16_t buf[64];
	ssize_t a, b;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(samples); i++) {
		a = kvp_utf16_units(samples[i], strlen(samples[i]));
		b = hv_utf8_to_utf16(samples[i], strlen(samples[i]), buf,
				     ARRAY_SIZE(buf));
		assert_int_equal(a, b);
	}
}

static const char *json(const char *s, size_t len)
{
	static char buf[256];

	assert_true(kvp_json_string(s, len, buf, sizeof(buf)) >= 0);
	return buf;
}

static void test_json(void **state)
{
	assert_string_equal(json("", 0), "\"\"");
	assert_string_equal(json(S("plain text")), "\"plain text\"");
	assert_string_equal(json(S("q\"b\\s/")), "\"q\\\"b\\\\s/\"");
	assert_string_equal(json(S("\b\f\n\r\t")), "\"\\b\\f\\n\\r\\t\"");
	assert_string_equal(json(S("\x01\x1f\x7f")),
			    "\"\\u0001\\u001f\\u007f\"");
	assert_string_equal(json(S("a\0b")), "\"a\\u0000b\"");
	assert_string_equal(json(S("\xc2\x80\xc2\x9b\xc2\xa0")),
			    "\"\\u0080\\u009b\xc2\xa0\"");
	assert_string_equal(json(S("\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaa")),
			    "\"\\u2028\\u2029\xe2\x80\xaa\"");
	assert_string_equal(json(S("caf\xc3\xa9 \xf0\x9f\x98\x80")),
			    "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
}

static void test_json_invalid_utf8(void **state)
{
	/* One U+FFFD per byte that starts no valid character. */
	assert_string_equal(json(S("a\xff"
				   "b")),
			    "\"a\xef\xbf\xbd"
			    "b\"");
	assert_string_equal(json(S("\xc3\x28")), "\"\xef\xbf\xbd(\"");
	assert_string_equal(json(S("\xed\xa0\x80")),
			    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_equal(json(S("ok\xe2\x82")),
			    "\"ok\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void test_json_sizes(void **state)
{
	char in[100], out[KVP_JSON_SIZE(100)];
	char small[8];

	/* The worst case fits exactly. */
	memset(in, 0x01, sizeof(in));
	assert_int_equal(kvp_json_string(in, sizeof(in), out, sizeof(out)),
			 (ssize_t)sizeof(out) - 1);
	assert_int_equal(kvp_json_string(in, sizeof(in), out, sizeof(out) - 1),
			 -E2BIG);
	/* Exactly enough: "abc" plus quotes plus NUL. */
	assert_int_equal(kvp_json_string(S("abc"), small, 6), 5);
	assert_string_equal(small, "\"abc\"");
	assert_int_equal(kvp_json_string(S("abc"), small, 5), -E2BIG);
	assert_string_equal(small, "\"abc");
	/* Never half an escape. */
	assert_int_equal(kvp_json_string(S("ab\x01"), small, 8), -E2BIG);
	assert_string_equal(small, "\"ab");
	assert_int_equal(kvp_json_string(S("a"), small, 0), -E2BIG);
}

static const char *text(const char *s, size_t len, unsigned int flags)
{
	static char buf[256];

	assert_true(kvp_text_escape(s, len, flags, buf, sizeof(buf)) >= 0);
	return buf;
}

static void test_text(void **state)
{
	assert_string_equal(text("", 0, 0), "");
	assert_string_equal(text(S("plain = text #1"), 0), "plain = text #1");
	assert_string_equal(text(S("a\\b\nc\td\re"), 0), "a\\\\b\\nc\\td\\re");
	assert_string_equal(text(S("\x01\x1b[31m\x7f"), 0),
			    "\\x01\\x1b[31m\\x7f");
	assert_string_equal(text(S("a\0b"), 0), "a\\x00b");
	/* C1 controls (U+009B is CSI) as their bytes; U+00A0 is text. */
	assert_string_equal(text(S("\xc2\x9b\xc2\xa0"), 0),
			    "\\xc2\\x9b\xc2\xa0");
	assert_string_equal(text(S("caf\xc3\xa9 \xf0\x9f\x98\x80"), 0),
			    "caf\xc3\xa9 \xf0\x9f\x98\x80");
	assert_string_equal(text(S("\xff\xc3\x28\xe2\x82"), 0),
			    "\\xff\\xc3(\\xe2\\x82");
}

static void test_text_key(void **state)
{
	assert_string_equal(text(S("a=b"), KVP_TEXT_KEY), "a\\x3db");
	assert_string_equal(text(S("#x#"), KVP_TEXT_KEY), "\\x23x#");
	assert_string_equal(text(S("#x"), 0), "#x");
	assert_string_equal(text(S("a=b"), 0), "a=b");
}

static void test_text_sizes(void **state)
{
	char in[50], out[KVP_TEXT_SIZE(50)], small[6];

	memset(in, 0xff, sizeof(in));
	assert_int_equal(kvp_text_escape(in, sizeof(in), 0, out, sizeof(out)),
			 (ssize_t)sizeof(out) - 1);
	assert_int_equal(kvp_text_escape(in, sizeof(in), 0, out,
					 sizeof(out) - 1),
			 -E2BIG);
	assert_int_equal(kvp_text_escape(S("ab\x01"), 0, small, sizeof(small)),
			 -E2BIG);
	assert_string_equal(small, "ab");
	assert_int_equal(kvp_text_escape(S("abcde"), 0, small, sizeof(small)),
			 5);
	assert_int_equal(kvp_text_escape(S("a"), 0, small, 0), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_valid),
		cmocka_unit_test(test_decode_invalid),
		cmocka_unit_test(test_utf16_units),
		cmocka_unit_test(test_utf16_units_agree),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_invalid_utf8),
		cmocka_unit_test(test_json_sizes),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_key),
		cmocka_unit_test(test_text_sizes),
	};

	return cmocka_run_group_tests_name("kvp-text", tests, NULL, NULL);
}
