/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hvis/notify.h"

static int bind_dgram(struct sockaddr_un *sa, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sa, len), 0);
	return fd;
}

static void expect(int fd, const char *text)
{
	char buf[600];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, text);
}

static void test_path_socket(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/hvis-notify.XXXXXX";
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
	fd = bind_dgram(&sa, sizeof(sa));
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	assert_int_equal(hv_notify_ready(), 1);
	expect(fd, "READY=1");
	assert_int_equal(hv_notify_status("a\nb %d", 7), 1);
	expect(fd, "STATUS=a b 7");
	assert_int_equal(hv_notify_stopping(), 1);
	expect(fd, "STOPPING=1");
	assert_int_equal(hv_notify_watchdog(), 1);
	expect(fd, "WATCHDOG=1");
	close(fd);
	unlink(sa.sun_path);
	rmdir(dir);
	/* The manager went away: an error, not a crash or a hang. */
	assert_int_equal(hv_notify_ready(), -ENOENT);
}

static void test_abstract_socket(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char name[64];
	socklen_t len;
	int fd;

	snprintf(name, sizeof(name), "@hvis-test-notify-%d", getpid());
	memcpy(sa.sun_path, name, strlen(name));
	sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			  strlen(name));
	fd = bind_dgram(&sa, len);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(hv_notify_ready(), 1);
	expect(fd, "READY=1");
	close(fd);
}

static void test_not_under_systemd(void **state)
{
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(hv_notify_ready(), 0);
	setenv("NOTIFY_SOCKET", "relative", 1);
	assert_int_equal(hv_notify_ready(), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_usec(void **state)
{
	char pid[32];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(hv_notify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(hv_notify_watchdog_usec(), 30000000);
	snprintf(pid, sizeof(pid), "%d", getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(hv_notify_watchdog_usec(), 30000000);
	/* Meant for another process. */
	snprintf(pid, sizeof(pid), "%d", getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(hv_notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "x", 1);
	assert_int_equal(hv_notify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_not_under_systemd),
		cmocka_unit_test(test_watchdog_usec),
	};

	return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
