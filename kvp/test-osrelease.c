/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "hvis/util.h"
#include "osrelease.h"

/* Every assignment the parser reports, as "KEY=value\n" lines. */
struct collect {
	char out[16384];
	size_t len;
	int stop_after; /* > 0: return 1 after this many */
	int fail_after; /* > 0: return -EIO after this many */
	int calls;
};

static int collect_cb(const char *key, const char *value, void *ud)
{
	struct collect *c = ud;
	int r;

	r = hv_snprintf(c->out + c->len, sizeof(c->out) - c->len, "%s=%s\n",
			key, value);
	assert_true(r >= 0);
	c->len += (size_t)r;
	c->calls++;
	if (c->stop_after && c->calls == c->stop_after)
		return 1;
	if (c->fail_after && c->calls == c->fail_after)
		return -EIO;
	return 0;
}

static const char *parse(const char *text, size_t len)
{
	static struct collect c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(osrelease_parse(text, len, collect_cb, &c), 0);
	return c.out;
}

#define PARSE(s) parse((s), sizeof(s) - 1)

static void test_basic(void **state)
{
	assert_string_equal(PARSE("NAME=\"Debian GNU/Linux\"\n"
				  "VERSION_ID=\"12\"\n"
				  "ID=debian\n"
				  "HOME_URL=\"https://www.debian.org/\"\n"),
			    "NAME=Debian GNU/Linux\n"
			    "VERSION_ID=12\n"
			    "ID=debian\n"
			    "HOME_URL=https://www.debian.org/\n");
	/* No newline at the end of the last line. */
	assert_string_equal(PARSE("A=1\nB=2"), "A=1\nB=2\n");
	assert_string_equal(PARSE(""), "");
	assert_string_equal(PARSE("\n\n\n"), "");
	assert_string_equal(PARSE("_x9=y"), "_x9=y\n");
	assert_string_equal(PARSE("EMPTY=\nQ=\"\"\nS=''"), "EMPTY=\nQ=\nS=\n");
}

static void test_quoting(void **state)
{
	/* Single quotes: everything literal, backslash included. */
	assert_string_equal(PARSE("A='x \\\" $y `z`'"), "A=x \\\" $y `z`\n");
	/* Double quotes: backslash escapes only $ ` \" \\. */
	assert_string_equal(PARSE("A=\"a\\\"b\\\\c\\$d\\`e\\nf\""),
			    "A=a\"b\\c$d`e\\nf\n");
	assert_string_equal(PARSE("A=\"it's\""), "A=it's\n");
	assert_string_equal(PARSE("A='say \"hi\"'"), "A=say \"hi\"\n");
	/* Unquoted backslash takes the next character. */
	assert_string_equal(PARSE("A=a\\ b\\\"c\\#"), "A=a b\"c#\n");
	/* Concatenated parts, as the shell joins them. */
	assert_string_equal(PARSE("A=\"x\"'y'z\"\""), "A=xyz\n");
	/* No expansion of any kind. */
	assert_string_equal(PARSE("A=$HOME\nB=\"$(id)\"\nC=`id`"),
			    "A=$HOME\nB=$(id)\nC=`id`\n");
	/* Non-ASCII bytes pass through. */
	assert_string_equal(PARSE("NAME=\"D\xc3\xa9"
				  "bian\""),
			    "NAME=D\xc3\xa9"
			    "bian\n");
}

static void test_blanks_comments(void **state)
{
	assert_string_equal(PARSE("# comment\n"
				  "   # indented comment\n"
				  "\t\n"
				  "  A=1\n"
				  "B=2 # trailing\n"
				  "C=\"3\" # trailing\n"
				  "D=a#b\n"
				  "E=   lead\n"
				  "F=trail   \t\n"
				  "G=Foo  Linux\n"
				  "H= #only comment\n"
				  "I=\"x\"#y\n"
				  "J=#x\n"),
			    "A=1\nB=2\nC=3\nD=a#b\nE=lead\nF=trail\n"
			    "G=Foo  Linux\nH=\nI=x#y\nJ=#x\n");
	/* CRLF line ends. */
	assert_string_equal(PARSE("A=1\r\nB=\"2\"\r\n"), "A=1\nB=2\n");
}

static void test_invalid_lines(void **state)
{
	/* Each bad line is skipped; the good ones around it still count. */
	assert_string_equal(PARSE("OK1=a\n"
				  "no equals sign\n"
				  "1A=digit first\n"
				  "A-B=dash\n"
				  "A B=space\n"
				  "A =space before\n"
				  "export X=y\n"
				  "=novar\n"
				  "U1=\"unterminated\n"
				  "U2='unterminated\n"
				  "U3=\"ends in backslash\\\"\n"
				  "C1=continued\\\n"
				  "CTL=a\x01z\n"
				  "CTLQ=\"a\x1bz\"\n"
				  "DEL='\x7f'\n"
				  "CR=a\rb\n"
				  "OK2=b\n"),
			    "OK1=a\nOK2=b\n");
}

static void test_nul_bytes(void **state)
{
	static const char text[] = "NAME=a\0b\n"
				   "# comment \0 with nul\n"
				   "Q=\"x\0y\"\n"
				   "K\0EY=z\n"
				   "ID=ok\n";

	assert_string_equal(parse(text, sizeof(text) - 1), "ID=ok\n");
	/* A NUL right after '=' is an invalid value too. */
	assert_string_equal(parse("A=\0", 3), "");
}

static void test_long_lines(void **state)
{
	size_t len = OSRELEASE_LINE_MAX + 64;
	_cleanup_free_ char *buf = malloc(len + 16);
	struct collect *c = calloc(1, sizeof(*c));
	char *v = malloc(OSRELEASE_VALUE_SIZE);

	assert_non_null(buf);
	assert_non_null(c);
	assert_non_null(v);

	/* Exactly OSRELEASE_LINE_MAX bytes: accepted. */
	memcpy(buf, "A=", 2);
	memset(buf + 2, 'x', OSRELEASE_LINE_MAX - 2);
	buf[OSRELEASE_LINE_MAX] = '\n';
	memcpy(buf + OSRELEASE_LINE_MAX + 1, "B=1\n", 4);
	assert_int_equal(osrelease_get(buf, OSRELEASE_LINE_MAX + 5, "A", v,
				       OSRELEASE_VALUE_SIZE),
			 OSRELEASE_LINE_MAX - 2);
	assert_int_equal(osrelease_get(buf, OSRELEASE_LINE_MAX + 5, "B", v,
				       OSRELEASE_VALUE_SIZE),
			 1);

	/* One byte longer: the whole line is skipped, the next one read. */
	memcpy(buf, "A=", 2);
	memset(buf + 2, 'x', OSRELEASE_LINE_MAX - 1);
	buf[OSRELEASE_LINE_MAX + 1] = '\n';
	memcpy(buf + OSRELEASE_LINE_MAX + 2, "B=2\n", 4);
	assert_int_equal(osrelease_get(buf, OSRELEASE_LINE_MAX + 6, "A", v,
				       OSRELEASE_VALUE_SIZE),
			 -ENOENT);
	assert_int_equal(osrelease_get(buf, OSRELEASE_LINE_MAX + 6, "B", v,
				       OSRELEASE_VALUE_SIZE),
			 1);
	assert_string_equal(v, "2");

	/* A huge line with no newline at all. */
	memset(buf, 'y', len);
	memcpy(buf, "C=", 2);
	assert_int_equal(osrelease_parse(buf, len, collect_cb, c), 0);
	assert_int_equal(c->calls, 0);
	free(c);
	free(v);
}

static void test_get(void **state)
{
	static const char text[] = "NAME=first\nID=x\nNAME=\"second\"\n";
	char v[8];

	assert_int_equal(
		osrelease_get(text, sizeof(text) - 1, "NAME", v, sizeof(v)), 6);
	assert_string_equal(v, "second");
	assert_int_equal(osrelease_get(text, sizeof(text) - 1, "VERSION_ID", v,
				       sizeof(v)),
			 -ENOENT);
	assert_int_equal(osrelease_get(text, sizeof(text) - 1, "NAM", v,
				       sizeof(v)),
			 -ENOENT);
	assert_int_equal(osrelease_get(text, sizeof(text) - 1, "name", v,
				       sizeof(v)),
			 -ENOENT);
	assert_int_equal(osrelease_get(text, sizeof(text) - 1, "NAME", v, 4),
			 -E2BIG);
	assert_string_equal(v, "sec");
	assert_int_equal(osrelease_get(text, sizeof(text) - 1, "NAME", v, 0),
			 -EINVAL);
}

static void test_callback_stops(void **state)
{
	static const char text[] = "A=1\nB=2\nC=3\n";
	struct collect c;

	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(
		osrelease_parse(text, sizeof(text) - 1, collect_cb, &c), 0);
	assert_string_equal(c.out, "A=1\nB=2\n");

	memset(&c, 0, sizeof(c));
	c.fail_after = 1;
	assert_int_equal(
		osrelease_parse(text, sizeof(text) - 1, collect_cb, &c), -EIO);
	assert_int_equal(c.calls, 1);
}

static void test_line(void **state)
{
	static const char text[] = "SUSE Linux Enterprise Server 11\r\n"
				   "VERSION = 11\n"
				   "\n"
				   "last";
	char v[64], small[5];

	assert_int_equal(
		osrelease_line(text, sizeof(text) - 1, 0, v, sizeof(v)), 31);
	assert_string_equal(v, "SUSE Linux Enterprise Server 11");
	assert_int_equal(
		osrelease_line(text, sizeof(text) - 1, 1, v, sizeof(v)), 12);
	assert_string_equal(v, "VERSION = 11");
	assert_int_equal(
		osrelease_line(text, sizeof(text) - 1, 2, v, sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(
		osrelease_line(text, sizeof(text) - 1, 3, v, sizeof(v)), 4);
	assert_string_equal(v, "last");
	assert_int_equal(osrelease_line(text, sizeof(text) - 1, 4, v,
					sizeof(v)),
			 -ENOENT);
	assert_int_equal(osrelease_line(text, sizeof(text) - 1, 0, small,
					sizeof(small)),
			 -E2BIG);
	assert_string_equal(small, "SUSE");
	assert_int_equal(osrelease_line(text, sizeof(text) - 1, 0, v, 0),
			 -EINVAL);
	/* "a\n" is one line, not two. */
	assert_int_equal(osrelease_line("a\n", 2, 1, v, sizeof(v)), -ENOENT);
	assert_int_equal(osrelease_line("", 0, 0, v, sizeof(v)), -ENOENT);
	assert_int_equal(osrelease_line("a\0b\nc", 5, 0, v, sizeof(v)),
			 -EBADMSG);
	assert_int_equal(osrelease_line("a\0b\nc", 5, 1, v, sizeof(v)), 1);
	assert_string_equal(v, "c");
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	return remove(path);
}

static void write_file(const char *path, const char *data, size_t len)
{
	_cleanup_close_ int fd = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(hv_write_full(fd, data, len), (ssize_t)len);
}

static void test_read_file(void **state)
{
	char dir[] = "/tmp/test-osrelease.XXXXXX", path[256];
	_cleanup_free_ char *big = NULL;
	char *buf = NULL;
	size_t len = 0;

	assert_non_null(mkdtemp(dir));

	hv_snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(osrelease_read_file(path, &buf, &len), -ENOENT);
	assert_null(buf);

	/* A directory and a FIFO are refused, the FIFO without hanging. */
	assert_int_equal(osrelease_read_file(dir, &buf, &len), -EINVAL);
	hv_snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(osrelease_read_file(path, &buf, &len), -EINVAL);

	hv_snprintf(path, sizeof(path), "%s/ok", dir);
	write_file(path, "NAME=x\n", 7);
	assert_int_equal(osrelease_read_file(path, &buf, &len), 0);
	assert_int_equal(len, 7);
	assert_string_equal(buf, "NAME=x\n");
	free(buf);
	buf = NULL;

	hv_snprintf(path, sizeof(path), "%s/empty", dir);
	write_file(path, "", 0);
	assert_int_equal(osrelease_read_file(path, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	buf = NULL;

	big = malloc(OSRELEASE_FILE_MAX + 1);
	assert_non_null(big);
	memset(big, '#', OSRELEASE_FILE_MAX + 1);
	hv_snprintf(path, sizeof(path), "%s/max", dir);
	write_file(path, big, OSRELEASE_FILE_MAX);
	assert_int_equal(osrelease_read_file(path, &buf, &len), 0);
	assert_int_equal(len, OSRELEASE_FILE_MAX);
	free(buf);
	buf = NULL;
	hv_snprintf(path, sizeof(path), "%s/big", dir);
	write_file(path, big, OSRELEASE_FILE_MAX + 1);
	assert_int_equal(osrelease_read_file(path, &buf, &len), -EFBIG);
	assert_null(buf);

	assert_int_equal(nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_blanks_comments),
		cmocka_unit_test(test_invalid_lines),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests_name("osrelease", tests, NULL, NULL);
}
