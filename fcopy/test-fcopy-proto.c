/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fcopy-proto.h"
#include "hvis/util.h"

/* Offsets from protocol.md §1.5, written out so a layout slip shows. */
#define OFF_FILE_NAME 36
#define OFF_PATH_NAME 556
#define OFF_FLAGS 1076
#define OFF_SIZE 1080
#define OFF_OFFSET 40
#define OFF_WSIZE 48
#define OFF_DATA 52

static uint8_t msg[8192];
static struct fcopy_request req;

static void put64(uint8_t *p, uint64_t v)
{
	hv_put_le32(p, (uint32_t)v);
	hv_put_le32(p + 4, (uint32_t)(v >> 32));
}

static void build(uint32_t op)
{
	memset(msg, 0xa5, sizeof(msg)); /* garbage the decoder must ignore */
	hv_put_le32(msg, op);
}

/* A host field: UTF-16 units, NUL-terminated unless n fills it. */
static void put_units(size_t off, const uint16_t *u, size_t n)
{
	memset(msg + off, 0, 2 * W_MAX_PATH);
	for (size_t i = 0; i < n; i++)
		hv_put_le16(msg + off + 2 * i, u[i]);
}

static void put_ascii16(size_t off, const char *s)
{
	uint16_t u[W_MAX_PATH];
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		u[i] = (uint8_t)s[i];
	put_units(off, u, n);
}

static void host_start(const char *path, const char *name, uint32_t flags,
		       uint64_t size)
{
	build(START_FILE_COPY);
	put_ascii16(OFF_FILE_NAME, name);
	put_ascii16(OFF_PATH_NAME, path);
	hv_put_le32(msg + OFF_FLAGS, flags);
	put64(msg + OFF_SIZE, size);
}

static void kernel_start(const char *path, const char *name, uint32_t flags)
{
	build(START_FILE_COPY);
	memset(msg + OFF_FILE_NAME, 0, 2 * 2 * W_MAX_PATH);
	memcpy(msg + OFF_FILE_NAME, name, strlen(name));
	memcpy(msg + OFF_PATH_NAME, path, strlen(path));
	hv_put_le32(msg + OFF_FLAGS, flags);
	put64(msg + OFF_SIZE, 0);
}

static int dec_host(size_t len)
{
	return fcopy_proto_decode(FCOPY_WIRE_HOST, msg, len, &req);
}

static int dec_kernel(size_t len)
{
	return fcopy_proto_decode(FCOPY_WIRE_KERNEL, msg, len, &req);
}

static void test_sizes(void **state)
{
	assert_int_equal(sizeof(struct hv_start_fcopy), 1088);
	assert_int_equal(sizeof(struct hv_do_fcopy), 6196);
	assert_int_equal(sizeof(struct hv_fcopy_hdr), 36);
	/* Too short for the header: op unknown. */
	build(COMPLETE_FCOPY);
	assert_int_equal(dec_host(35), -EBADMSG);
	assert_int_equal(req.op, UINT32_MAX);
	assert_int_equal(dec_host(0), -EBADMSG);
	assert_int_equal(fcopy_proto_decode(FCOPY_WIRE_HOST, NULL, 64, &req),
			 -EBADMSG);
	/* Each operation needs its whole struct. */
	host_start("/tmp", "a", 0, 1);
	assert_int_equal(dec_host(1087), -EBADMSG);
	assert_int_equal(req.op, START_FILE_COPY);
	assert_int_equal(dec_host(1088), 0);
	build(WRITE_TO_FILE);
	hv_put_le32(msg + OFF_WSIZE, 1);
	put64(msg + OFF_OFFSET, 0);
	assert_int_equal(dec_kernel(6195), -EBADMSG);
	assert_int_equal(dec_kernel(6196), 0);
}

static void test_start_host(void **state)
{
	host_start("/tmp/x/", "file.txt", OVER_WRITE | CREATE_PATH,
		   0x123456789aULL);
	/* An 8-byte padded ring payload is longer: fine. */
	assert_int_equal(dec_host(1088 + 4), 0);
	assert_int_equal(req.op, START_FILE_COPY);
	assert_string_equal(req.file_name, "file.txt");
	assert_string_equal(req.path_name, "/tmp/x/");
	assert_int_equal(req.copy_flags, OVER_WRITE | CREATE_PATH);
	assert_true(req.file_size == 0x123456789aULL);
}

static void test_start_host_unicode(void **state)
{
	/* "Grüße-😀.txt": U+00FC, U+00DF, U+1F600 as a surrogate pair. */
	static const uint16_t name[] = { 'G', 'r', 0x00fc, 0x00df,
					 'e', '-', 0xd83d, 0xde00,
					 '.', 't', 'x',	   't' };
	static const uint16_t path[] = { '/', 0x00dc, 'n', 'i' };

	build(START_FILE_COPY);
	put_units(OFF_FILE_NAME, name, ARRAY_SIZE(name));
	put_units(OFF_PATH_NAME, path, ARRAY_SIZE(path));
	hv_put_le32(msg + OFF_FLAGS, 0);
	put64(msg + OFF_SIZE, 5);
	assert_int_equal(dec_host(1088), 0);
	assert_string_equal(req.file_name, "Gr\xc3\xbc\xc3\x9f"
					   "e-\xf0\x9f\x98\x80.txt");
	assert_string_equal(req.path_name, "/\xc3\x9cni");
}

static void test_start_host_bad_utf16(void **state)
{
	static const uint16_t lone_high[] = { 'a', 0xd83d, 'b' };
	static const uint16_t lone_low[] = { 'a', 0xde00 };
	static const uint16_t reversed[] = { 0xde00, 0xd83d };
	uint16_t full[W_MAX_PATH];

	host_start("/tmp", "x", 0, 0);
	put_units(OFF_FILE_NAME, lone_high, ARRAY_SIZE(lone_high));
	assert_int_equal(dec_host(1088), -EILSEQ);
	put_units(OFF_FILE_NAME, lone_low, ARRAY_SIZE(lone_low));
	assert_int_equal(dec_host(1088), -EILSEQ);
	put_units(OFF_FILE_NAME, reversed, ARRAY_SIZE(reversed));
	assert_int_equal(dec_host(1088), -EILSEQ);
	/* A high surrogate in the last unit before the NUL. */
	for (size_t i = 0; i < W_MAX_PATH; i++)
		full[i] = 'a';
	full[W_MAX_PATH - 2] = 0xd800;
	put_units(OFF_FILE_NAME, full, W_MAX_PATH - 1);
	assert_int_equal(dec_host(1088), -EILSEQ);
	/* The path is checked the same way. */
	put_ascii16(OFF_FILE_NAME, "x");
	put_units(OFF_PATH_NAME, lone_low, ARRAY_SIZE(lone_low));
	assert_int_equal(dec_host(1088), -EILSEQ);
}

static void test_start_host_unterminated(void **state)
{
	uint16_t full[W_MAX_PATH];

	for (size_t i = 0; i < W_MAX_PATH; i++)
		full[i] = 'a';
	host_start("/tmp", "x", 0, 0);
	put_units(OFF_FILE_NAME, full, W_MAX_PATH);
	assert_int_equal(dec_host(1088), -EBADMSG);
	put_ascii16(OFF_FILE_NAME, "x");
	put_units(OFF_PATH_NAME, full, W_MAX_PATH);
	assert_int_equal(dec_host(1088), -EBADMSG);
	/* 259 units and the NUL: the longest path the field holds. */
	full[0] = '/';
	put_units(OFF_PATH_NAME, full, W_MAX_PATH - 1);
	assert_int_equal(dec_host(1088), 0);
	assert_int_equal(strlen(req.path_name), W_MAX_PATH - 1);
}

static void test_name_too_long(void **state)
{
	char name[300];

	/* NAME_MAX bytes pass, one more does not. */
	memset(name, 'n', 255);
	name[255] = '\0';
	host_start("/tmp", name, 0, 0);
	assert_int_equal(dec_host(1088), 0);
	memset(name, 'n', 256);
	name[256] = '\0';
	host_start("/tmp", name, 0, 0);
	assert_int_equal(dec_host(1088), -ENAMETOOLONG);
}

static void test_start_kernel(void **state)
{
	kernel_start("/tmp/\xc3\x9c",
		     "Gr\xc3\xbc\xc3\x9f"
		     "e-\xf0\x9f\x98\x80.txt",
		     CREATE_PATH);
	assert_int_equal(dec_kernel(1088), 0);
	assert_string_equal(req.path_name, "/tmp/\xc3\x9c");
	assert_string_equal(req.file_name, "Gr\xc3\xbc\xc3\x9f"
					   "e-\xf0\x9f\x98\x80.txt");
	assert_int_equal(req.copy_flags, CREATE_PATH);
}

static void test_start_kernel_bad_utf8(void **state)
{
	static const char *const bad[] = {
		"a\xc3(", /* bad continuation */
		"\xc0\xaf", /* overlong '/' */
		"\xed\xa0\x80", /* an encoded surrogate */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"x\xe2\x82", /* cut short by the NUL */
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		kernel_start("/tmp", bad[i], 0);
		assert_int_equal(dec_kernel(1088), -EILSEQ);
		kernel_start(bad[i], "x", 0);
		assert_int_equal(dec_kernel(1088), -EILSEQ);
	}
	/* No NUL in the whole 520-byte field. */
	kernel_start("/tmp", "x", 0);
	memset(msg + OFF_FILE_NAME, 'a', 2 * W_MAX_PATH);
	assert_int_equal(dec_kernel(1088), -EBADMSG);
	/* 519 bytes and the NUL: fine as UTF-8, too long as a name. */
	msg[OFF_FILE_NAME + 2 * W_MAX_PATH - 1] = '\0';
	assert_int_equal(dec_kernel(1088), -ENAMETOOLONG);
}

static void test_names(void **state)
{
	static const char *const bad_names[] = {
		"", ".", "..", "a/b", "/", "x/"
	};
	static const char *const bad_paths[] = {
		"", "tmp", "tmp/x", "/..", "/a/../b", "/a/..", "//..//", "./a",
	};
	static const char *const good_paths[] = { "/",	    "//x//", "/a/..b/",
						  "/a/b..", "/.a",   "/./a" };

	for (size_t i = 0; i < ARRAY_SIZE(bad_names); i++) {
		host_start("/tmp", bad_names[i], 0, 0);
		assert_int_equal(dec_host(1088), -EINVAL);
		assert_int_equal(fcopy_proto_check_name(bad_names[i]), -EINVAL);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_paths); i++) {
		host_start(bad_paths[i], "x", 0, 0);
		assert_int_equal(dec_host(1088), -EINVAL);
		kernel_start(bad_paths[i], "x", 0);
		assert_int_equal(dec_kernel(1088), -EINVAL);
	}
	for (size_t i = 0; i < ARRAY_SIZE(good_paths); i++) {
		host_start(good_paths[i], "..x", 0, 0);
		assert_int_equal(dec_host(1088), 0);
		assert_string_equal(req.path_name, good_paths[i]);
	}
}

static void test_flags(void **state)
{
	host_start("/tmp", "x", 0x4, 0);
	assert_int_equal(dec_host(1088), -EINVAL);
	host_start("/tmp", "x", 0x80000000u | OVER_WRITE, 0);
	assert_int_equal(dec_host(1088), -EINVAL);
	host_start("/tmp", "x", OVER_WRITE, 0);
	assert_int_equal(dec_host(1088), 0);
}

static void test_write(void **state)
{
	build(WRITE_TO_FILE);
	put64(msg + OFF_OFFSET, 0x100000000ULL);
	hv_put_le32(msg + OFF_WSIZE, DATA_FRAGMENT);
	assert_int_equal(dec_host(6196), 0);
	assert_int_equal(req.op, WRITE_TO_FILE);
	assert_true(req.offset == 0x100000000ULL);
	assert_int_equal(req.size, DATA_FRAGMENT);
	assert_ptr_equal(req.data, msg + OFF_DATA);
	/* More than the data field holds. */
	hv_put_le32(msg + OFF_WSIZE, DATA_FRAGMENT + 1);
	assert_int_equal(dec_host(6196), -EINVAL);
	hv_put_le32(msg + OFF_WSIZE, UINT32_MAX);
	assert_int_equal(dec_kernel(6196), -EINVAL);
	/* An end past 2^64. */
	put64(msg + OFF_OFFSET, UINT64_MAX - 10);
	hv_put_le32(msg + OFF_WSIZE, 11);
	assert_int_equal(dec_host(6196), -EINVAL);
	hv_put_le32(msg + OFF_WSIZE, 10);
	assert_int_equal(dec_host(6196), 0);
	/* Zero bytes is a valid (empty) write. */
	hv_put_le32(msg + OFF_WSIZE, 0);
	assert_int_equal(dec_host(6196), 0);
}

static void test_complete_cancel_unknown(void **state)
{
	build(COMPLETE_FCOPY);
	assert_int_equal(dec_host(36), 0);
	assert_int_equal(req.op, COMPLETE_FCOPY);
	/* The legacy kernel adds 28 stale bytes: accepted. */
	assert_int_equal(dec_kernel(64), 0);
	build(CANCEL_FCOPY);
	assert_int_equal(dec_kernel(36), 0);
	assert_int_equal(req.op, CANCEL_FCOPY);
	build(4);
	assert_int_equal(dec_host(64), -EOPNOTSUPP);
	assert_int_equal(req.op, 4);
	build(0xffffffffu);
	assert_int_equal(dec_kernel(6196), -EOPNOTSUPP);
	assert_string_equal(fcopy_proto_op_name(START_FILE_COPY),
			    "START_FILE_COPY");
	assert_string_equal(fcopy_proto_op_name(CANCEL_FCOPY), "CANCEL_FCOPY");
	assert_string_equal(fcopy_proto_op_name(4), "?");
}

static void test_legacy_messages(void **state)
{
	uint8_t out[FCOPY_LEGACY_REPLY_SIZE];
	uint32_t v = 0;

	fcopy_proto_build_register(out);
	assert_int_equal(hv_le32(out), FCOPY_CURRENT_VERSION);
	assert_int_equal(fcopy_proto_parse_register_reply(out, 4, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(fcopy_proto_parse_register_reply(out, 3, &v),
			 -EBADMSG);
	assert_int_equal(fcopy_proto_parse_register_reply(msg, 36, &v),
			 -EBADMSG);
	fcopy_proto_build_reply(out, HV_ERROR_ALREADY_EXISTS);
	assert_memory_equal(out, "\x50\x00\x07\x80", 4);
	fcopy_proto_build_reply(out, HV_E_FAIL);
	assert_memory_equal(out, "\x05\x40\x00\x80", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_start_host),
		cmocka_unit_test(test_start_host_unicode),
		cmocka_unit_test(test_start_host_bad_utf16),
		cmocka_unit_test(test_start_host_unterminated),
		cmocka_unit_test(test_name_too_long),
		cmocka_unit_test(test_start_kernel),
		cmocka_unit_test(test_start_kernel_bad_utf8),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_complete_cancel_unknown),
		cmocka_unit_test(test_legacy_messages),
	};

	return cmocka_run_group_tests_name("fcopy-proto", tests, NULL, NULL);
}
