/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>

#include "hvis/loop.h"
#include "hvis/paths.h"
#include "hvis/util.h"

static void test_paths(void **state)
{
	char p[64];

	assert_int_equal(hv_path(HV_PATH_DEV, "vmbus/hv_kvp", p, sizeof(p)),
			 strlen("/dev/vmbus/hv_kvp"));
	assert_string_equal(p, "/dev/vmbus/hv_kvp");
	assert_int_equal(hv_path_set_base(HV_PATH_STATE, "/tmp/x/"), 0);
	hv_path(HV_PATH_STATE, "/.kvp_pool_0", p, sizeof(p));
	assert_string_equal(p, "/tmp/x/.kvp_pool_0");
	assert_int_equal(hv_path_set_root("/srv/sim"), 0);
	hv_path(HV_PATH_SYS, "bus/vmbus", p, sizeof(p));
	assert_string_equal(p, "/srv/sim/sys/bus/vmbus");
	hv_path(HV_PATH_RUN, "", p, sizeof(p));
	assert_string_equal(p, "/srv/sim/run");
	assert_int_equal(hv_path(HV_PATH_CONF,
				 "a-very-long-name-to-overflow-it", p, 20),
			 -E2BIG);
	assert_int_equal(hv_path_set_base(HV_PATH_DEV, ""), -EINVAL);
	assert_int_equal(hv_path_set_base(_HV_PATH_MAX, "/x"), -EINVAL);
	assert_int_equal(hv_path_set_base(HV_PATH_DEV, "/"), 0);
	hv_path(HV_PATH_DEV, "uio0", p, sizeof(p));
	assert_string_equal(p, "/uio0");
}

static void test_signalfd(void **state)
{
	int fd = hv_signalfd_open();
	struct pollfd pfd;

	assert_true(fd >= 0);
	assert_int_equal(hv_signalfd_read(fd), 0);
	kill(getpid(), SIGTERM);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(hv_signalfd_read(fd), SIGTERM);
	assert_int_equal(hv_signalfd_read(fd), 0);
	close(fd);
}

static void test_timerfd(void **state)
{
	int fd = hv_timerfd_open();
	struct pollfd pfd = { .events = POLLIN };
	uint64_t t0 = hv_now_usec();

	assert_true(fd >= 0);
	pfd.fd = fd;
	assert_int_equal(hv_timerfd_read(fd), 0);
	assert_int_equal(hv_timerfd_arm(fd, 2000), 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(hv_timerfd_read(fd), 1);
	assert_true(hv_now_usec() - t0 >= 2000);
	/* Disarmed: nothing fires. */
	assert_int_equal(hv_timerfd_arm(fd, 1000000), 0);
	assert_int_equal(hv_timerfd_arm(fd, 0), 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_signalfd),
		cmocka_unit_test(test_timerfd),
	};

	return cmocka_run_group_tests_name("paths-loop", tests, NULL, NULL);
}
