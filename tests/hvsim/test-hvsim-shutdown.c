/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shutdown host's packets against protocol.md §1.2 and §1.5 (the
 * exchanges with a guest are covered by tests/test-shutdown-daemon.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "hvsim-shutdown.h"
#include "hvsim-internal.h"

static uint8_t buf[HVSIM_SHUTDOWN_PKT_MAX];

static void test_layout(void **state)
{
	struct hvsim_shutdown_req req = {
		.flags = 5,
		.reason_code = 0x80020003,
		.timeout_seconds = 90,
		.message = "Hi \xc3\xa9",
		.encoding = HVSIM_TEXT_UTF16,
	};

	assert_int_equal(hvsim_shutdown_build(buf, sizeof(buf), 7, &req), 2088);
	assert_int_equal(hv_le32(buf + 4), 20 + 2060); /* pipe msgsize */
	assert_int_equal(hv_le16(buf + 12), ICMSGTYPE_SHUTDOWN);
	assert_int_equal(hv_le16(buf + 18), 2060); /* icmsgsize */
	assert_int_equal(buf[24], 7);
	assert_int_equal(buf[25], 3); /* TRANSACTION | REQUEST */
	assert_int_equal(hv_le32(buf + 28), 0x80020003);
	assert_int_equal(hv_le32(buf + 32), 90);
	assert_int_equal(hv_le32(buf + 36), 5);
	assert_memory_equal(buf + 40, "H\0i\0 \0\xe9\0\0\0", 10);

	req.encoding = HVSIM_TEXT_BYTES;
	assert_int_equal(hvsim_shutdown_build(buf, sizeof(buf), 8, &req), 2088);
	assert_memory_equal(buf + 40, "Hi \xc3\xa9\0", 6);
	assert_int_equal(hvsim_shutdown_build(buf, 2087, 8, &req), -ENOBUFS);
}

static void test_message_limits(void **state)
{
	char *big = malloc(2049);
	struct hvsim_shutdown_req req = { .message = big };

	assert_non_null(big);
	/* 1023 units and the NUL fill the 2048 bytes exactly. */
	memset(big, 'x', 1023);
	big[1023] = '\0';
	assert_int_equal(hvsim_shutdown_build(buf, sizeof(buf), 1, &req), 2088);
	assert_int_equal(hv_le16(buf + 40 + 2 * 1022), 'x');
	big[1023] = 'x';
	big[1024] = '\0';
	assert_int_equal(hvsim_shutdown_build(buf, sizeof(buf), 1, &req),
			 -E2BIG);
	req.encoding = HVSIM_TEXT_BYTES;
	memset(big, 'y', 2047);
	big[2047] = '\0';
	assert_int_equal(hvsim_shutdown_build(buf, sizeof(buf), 1, &req), 2088);
	big[2047] = 'y';
	big[2048] = '\0';
	assert_int_equal(hvsim_shutdown_build(buf, sizeof(buf), 1, &req),
			 -E2BIG);
	req.encoding = HVSIM_TEXT_UTF16;
	req.message = "bad \xc3";
	assert_true(hvsim_shutdown_build(buf, sizeof(buf), 1, &req) < 0);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_message_limits),
	};

	return cmocka_run_group_tests_name("hvsim-shutdown", tests, NULL, NULL);
}
