/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>

#include "hvis/util.h"

static void test_strscpy(void **state)
{
	char buf[4];

	assert_int_equal(hv_strscpy(buf, "abc", sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(hv_strscpy(buf, "abcd", sizeof(buf)), -E2BIG);
	assert_string_equal(buf, "abc");
	assert_int_equal(hv_strscpy(buf, "", sizeof(buf)), 0);
	assert_int_equal(hv_strscpy(buf, "x", 0), -E2BIG);
}

static void test_snprintf(void **state)
{
	char buf[4];

	assert_int_equal(hv_snprintf(buf, sizeof(buf), "%d", 123), 3);
	assert_int_equal(hv_snprintf(buf, sizeof(buf), "%d", 1234), -E2BIG);
}

static void test_parse(void **state)
{
	uint32_t v32;
	uint64_t v64;

	assert_int_equal(hv_parse_u32("4294967295", &v32), 0);
	assert_int_equal(v32, UINT32_MAX);
	assert_int_equal(hv_parse_u32("4294967296", &v32), -ERANGE);
	assert_int_equal(hv_parse_u32("-1", &v32), -EINVAL);
	assert_int_equal(hv_parse_u32(" 1", &v32), -EINVAL);
	assert_int_equal(hv_parse_u32("1x", &v32), -EINVAL);
	assert_int_equal(hv_parse_u32("", &v32), -EINVAL);
	assert_int_equal(hv_parse_u64("18446744073709551616", &v64), -ERANGE);
	assert_int_equal(hv_parse_u64("007", &v64), 0);
	assert_int_equal(v64, 7);
}

static void test_le(void **state)
{
	uint8_t b[5] = { 0 };

	hv_put_le32(b + 1, 0x11223344);
	assert_int_equal(b[1], 0x44);
	assert_int_equal(b[4], 0x11);
	assert_int_equal(hv_le32(b + 1), 0x11223344);
	hv_put_le16(b, 0xabcd);
	assert_int_equal(hv_le16(b), 0xabcd);
}

static void test_read_line_file(void **state)
{
	char path[] = "/tmp/hvis-test-util.XXXXXX";
	char buf[8];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello\n", 6), 6);
	assert_int_equal(hv_read_line_file(path, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, "12345678", 8, 0), 8);
	assert_int_equal(hv_read_line_file(path, buf, sizeof(buf)), -E2BIG);
	assert_int_equal(pwrite(fd, "a\0b\n", 4, 0), 4);
	assert_int_equal(ftruncate(fd, 4), 0);
	assert_int_equal(hv_read_line_file(path, buf, sizeof(buf)), -EBADMSG);
	close(fd);
	unlink(path);
	assert_int_equal(hv_read_line_file(path, buf, sizeof(buf)), -ENOENT);
}

static void test_mkdir_parents(void **state)
{
	char root[] = "/tmp/hvis-test-mkdir.XXXXXX";
	char path[128], file[160];
	struct stat st;
	int fd;

	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/a/b/c/", root);
	assert_int_equal(hv_mkdir_parents(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", root);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Existing directories are fine. */
	assert_int_equal(hv_mkdir_parents(path, 0755), 0);
	/* A file in the way is not. */
	snprintf(file, sizeof(file), "%s/a/f", root);
	fd = open(file, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/a/f/g", root);
	assert_int_equal(hv_mkdir_parents(path, 0755), -ENOTDIR);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strscpy),
		cmocka_unit_test(test_snprintf),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_le),
		cmocka_unit_test(test_read_line_file),
		cmocka_unit_test(test_mkdir_parents),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
