/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hvis/util.h"
#include "iplist.h"

static void test_join(void **state)
{
	char buf[64];
	struct iplist l;

	iplist_init(&l, buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(iplist_add(&l, "10.0.0.1"), 0);
	assert_int_equal(iplist_add(&l, "fe80::1"), 0);
	assert_string_equal(buf, "10.0.0.1;fe80::1");
	assert_int_equal(l.n, 2);
	assert_int_equal(l.len, strlen(buf));
	assert_true(iplist_has(&l, "fe80::1"));
	assert_true(iplist_has(&l, "10.0.0.1"));
	/* Whole items only: prefixes and suffixes are other items. */
	assert_false(iplist_has(&l, "10.0.0"));
	assert_false(iplist_has(&l, "0.0.1"));
	assert_false(iplist_has(&l, "fe80::10"));
}

static void test_invalid(void **state)
{
	char buf[16];
	struct iplist l;

	iplist_init(&l, buf, sizeof(buf));
	assert_int_equal(iplist_add(&l, ""), -EINVAL);
	assert_int_equal(iplist_add(&l, "a;b"), -EINVAL);
	assert_false(iplist_fits(&l, ""));
	/* A refused item does not fill the list. */
	assert_false(l.full);
	assert_int_equal(iplist_add(&l, "a"), 0);
}

static void test_bound(void **state)
{
	char buf[16];
	struct iplist l;

	/* 15 bytes of text: "1.2.3.4;5.6.7.8" is exactly that. */
	iplist_init(&l, buf, sizeof(buf));
	assert_int_equal(iplist_add(&l, "1.2.3.4"), 0);
	assert_true(iplist_fits(&l, "5.6.7.8"));
	assert_false(iplist_fits(&l, "5.6.7.89"));
	assert_int_equal(iplist_add(&l, "5.6.7.8"), 0);
	assert_string_equal(buf, "1.2.3.4;5.6.7.8");
	assert_int_equal(iplist_add(&l, "9"), -E2BIG);
	assert_string_equal(buf, "1.2.3.4;5.6.7.8");

	/* Once an item did not fit, shorter later ones are refused too. */
	iplist_init(&l, buf, sizeof(buf));
	assert_int_equal(iplist_add(&l, "1.2.3.4"), 0);
	assert_int_equal(iplist_add(&l, "10.20.30.40"), -E2BIG);
	assert_true(l.full);
	assert_false(iplist_fits(&l, "1"));
	assert_int_equal(iplist_add(&l, "1"), -E2BIG);
	assert_string_equal(buf, "1.2.3.4");

	/* A first item that fills the buffer exactly. */
	iplist_init(&l, buf, sizeof(buf));
	assert_int_equal(iplist_add(&l, "123456789012345"), 0);
	iplist_init(&l, buf, sizeof(buf));
	assert_int_equal(iplist_add(&l, "1234567890123456"), -E2BIG);
	assert_string_equal(buf, "");
}

static void test_unique(void **state)
{
	char buf[64];
	struct iplist l;

	iplist_init(&l, buf, sizeof(buf));
	assert_int_equal(iplist_add_unique(&l, "a"), 0);
	assert_int_equal(iplist_add_unique(&l, "b"), 0);
	assert_int_equal(iplist_add_unique(&l, "a"), 0);
	assert_int_equal(iplist_add_unique(&l, "b"), 0);
	assert_string_equal(buf, "a;b");
	assert_int_equal(l.n, 2);
	assert_int_equal(iplist_add_unique(&l, ""), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_unique),
	};

	return cmocka_run_group_tests_name("iplist", tests, NULL, NULL);
}
