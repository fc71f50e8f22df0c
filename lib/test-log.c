/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "hvis/log.h"

/* Capture stderr in a temp file to see what was written and when. */
static FILE *capture;
static int saved_stderr;

static int setup(void **state)
{
	capture = tmpfile();
	assert_non_null(capture);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fileno(capture), STDERR_FILENO);
	hv_log_open("t", HV_LOG_STDERR);
	hv_log_set_max_level(LOG_INFO);
	return 0;
}

static int teardown(void **state)
{
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	fclose(capture);
	return 0;
}

static const char *captured(void)
{
	static char buf[65536];
	size_t n;

	fflush(stderr);
	rewind(capture);
	n = fread(buf, 1, sizeof(buf) - 1, capture);
	buf[n] = '\0';
	return buf;
}

static void test_levels_and_errno(void **state)
{
	assert_int_equal(log_error_errno(ENOENT, "open %s", "x"), -ENOENT);
	assert_int_equal(log_error_errno(-EIO, "write"), -EIO);
	assert_int_equal(log_info("plain"), 0);
	assert_int_equal(log_debug("hidden %d", 1), 0);
	hv_log_set_max_level(LOG_DEBUG);
	log_debug("shown");
	assert_string_equal(captured(),
			    "t: error: open x: No such file or directory\n"
			    "t: error: write: Input/output error\n"
			    "t: plain\n"
			    "t: debug: shown\n");
}

static void test_hold_and_release(void **state)
{
	hv_log_hold(true);
	log_info("one");
	log_warning("two");
	assert_string_equal(captured(), "");
	hv_log_release();
	log_info("three");
	assert_string_equal(captured(), "t: one\nt: warning: two\nt: three\n");
}

static void test_hold_overflow_drops_oldest(void **state)
{
	int i;

	hv_log_hold(true);
	for (i = 0; i < 1100; i++)
		log_info("m%d", i);
	hv_log_release();
	const char *out = captured();

	/* 1024 kept: the first 76 dropped, then a count of them. */
	assert_null(strstr(out, "t: m75\n"));
	assert_non_null(strstr(out, "t: m76\n"));
	assert_non_null(strstr(out, "t: m1099\n"));
	assert_non_null(strstr(out, "76 log messages were dropped"));
}

static void test_escape(void **state)
{
	char dst[16];

	assert_string_equal(hv_log_escape("a\"b\\c", 5, dst, sizeof(dst)),
			    "a\\\"b\\\\c");
	assert_string_equal(hv_log_escape("\x01\n\xff", 3, dst, sizeof(dst)),
			    "\\x01\\x0a\\xff");
	assert_string_equal(hv_log_escape("0123456789abcdefghij", 20, dst,
					  sizeof(dst)),
			    "0123456789ab...");
	assert_int_equal(
		strlen(hv_log_escape("\x01\x02\x03\x04", 4, dst, sizeof(dst))),
		15);
	assert_string_equal(hv_log_escape("abc", 3, dst, 2), "");
	/* An embedded NUL is data, not the end. */
	assert_string_equal(hv_log_escape("a\0b", 3, dst, sizeof(dst)),
			    "a\\x00b");
}

static void test_journal_datagram(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/hvis-journal.XXXXXX";
	uint8_t buf[512];
	const char *text = "two\nlines";
	static const char head[] = "PRIORITY=3\nSYSLOG_IDENTIFIER=t\nMESSAGE\n";
	ssize_t n;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/socket", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(hv_log_set_journal_socket(sa.sun_path), 0);
	hv_log_open("t", HV_LOG_JOURNAL);
	log_error("%s", text);
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	/* Fields, then MESSAGE in the binary form: length, data, newline. */
	assert_int_equal(n, sizeof(head) - 1 + 8 + strlen(text) + 1);
	assert_memory_equal(buf, head, sizeof(head) - 1);
	assert_int_equal(buf[sizeof(head) - 1], strlen(text));
	for (int i = 1; i < 8; i++)
		assert_int_equal(buf[sizeof(head) - 1 + i], 0);
	assert_memory_equal(buf + sizeof(head) - 1 + 8, text, strlen(text));
	assert_int_equal(buf[n - 1], '\n');
	assert_string_equal(captured(), "");

	/* No journal: the message still goes somewhere. */
	close(fd);
	unlink(sa.sun_path);
	rmdir(dir);
	log_error("fallback");
	assert_string_equal(captured(), "t: error: fallback\n");
	hv_log_set_journal_socket("/run/systemd/journal/socket");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_levels_and_errno, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hold_and_release, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hold_overflow_drops_oldest,
						setup, teardown),
		cmocka_unit_test(test_escape),
		cmocka_unit_test_setup_teardown(test_journal_datagram, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
