/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvis/chardev-conn.h"
#include "hvis/util.h"

static const uint8_t reg_msg[] = { 'R', 'E', 'G', 0, 1, 2, 3, 0xff };

struct fixture {
	char dir[64];
	char path[128];
	int listen_fd;
	struct hv_chardev_conn conn;
};

/* The simulator's side of one open(): accept, then status 0. */
static void *accept_thread(void *arg)
{
	struct fixture *f = arg;
	uint8_t status[4];
	int fd;

	fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return (void *)(intptr_t)-1;
	hv_put_le32(status, 0);
	if (send(fd, status, sizeof(status), 0) != sizeof(status)) {
		close(fd);
		return (void *)(intptr_t)-1;
	}
	return (void *)(intptr_t)fd;
}

static void device_appear(struct fixture *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	f->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(f->listen_fd >= 0);
	assert_true(hv_strscpy(sa.sun_path, f->path, sizeof(sa.sun_path)) > 0);
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)),
			 0);
	assert_int_equal(listen(f->listen_fd, 4), 0);
}

static void device_vanish(struct fixture *f)
{
	if (f->listen_fd >= 0)
		close(f->listen_fd);
	f->listen_fd = -1;
	unlink(f->path);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hv_chardev_conn null = HV_CHARDEV_CONN_NULL;

	assert_non_null(f);
	assert_true(hv_strscpy(f->dir, "/tmp/hvis-conn.XXXXXX",
			       sizeof(f->dir)) > 0);
	assert_non_null(mkdtemp(f->dir));
	assert_true(hv_snprintf(f->path, sizeof(f->path), "%s/dev", f->dir) >=
		    0);
	f->conn = null;
	device_appear(f);
	assert_int_equal(hv_chardev_conn_init(&f->conn, f->path, reg_msg,
					      sizeof(reg_msg)),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hv_chardev_conn_done(&f->conn);
	device_vanish(f);
	rmdir(f->dir);
	free(f);
	return 0;
}

/*
 * Run op (connect, reconnect or lost) against the listening socket and
 * return the server's end, after checking that the registration message
 * arrived on it.
 */
static int run_with_server(struct fixture *f,
			   int (*op)(struct hv_chardev_conn *c))
{
	uint8_t buf[64];
	pthread_t t;
	void *ret;
	ssize_t n;
	int fd;

	assert_int_equal(pthread_create(&t, NULL, accept_thread, f), 0);
	assert_int_equal(op(&f->conn), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	fd = (int)(intptr_t)ret;
	assert_true(fd >= 0);
	n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
	assert_int_equal(n, sizeof(reg_msg));
	assert_memory_equal(buf, reg_msg, sizeof(reg_msg));
	return fd;
}

static int op_lost(struct hv_chardev_conn *c)
{
	return hv_chardev_conn_lost(c, NULL);
}

static uint64_t timer_left_usec(const struct fixture *f)
{
	struct itimerspec its;

	assert_int_equal(
		timerfd_gettime(hv_chardev_conn_timer_fd(&f->conn), &its), 0);
	return (uint64_t)its.it_value.tv_sec * 1000000 +
	       (uint64_t)its.it_value.tv_nsec / 1000;
}

static void test_init_errors(void **state)
{
	struct hv_chardev_conn c = HV_CHARDEV_CONN_NULL;
	char long_path[PATH_MAX + 8];

	(void)state;
	assert_int_equal(hv_chardev_conn_init(&c, "/dev/x", reg_msg, 0),
			 -EINVAL);
	assert_int_equal(hv_chardev_conn_init(&c, "/dev/x", NULL, 4), -EINVAL);
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(hv_chardev_conn_init(&c, long_path, reg_msg,
					      sizeof(reg_msg)),
			 -E2BIG);
	assert_int_equal(hv_chardev_conn_timer_fd(&c), -1);
	hv_chardev_conn_done(&c);
}

static void test_connect_registers(void **state)
{
	struct fixture *f = *state;
	uint8_t copy[sizeof(reg_msg)];
	int fd;

	assert_int_equal(hv_chardev_conn_fd(&f->conn), -1);
	assert_int_equal(hv_chardev_conn_state(&f->conn), HV_CONN_CLOSED);
	assert_string_equal(hv_chardev_conn_path(&f->conn), f->path);
	/* The message is the object's own copy. */
	hv_chardev_conn_done(&f->conn);
	memcpy(copy, reg_msg, sizeof(copy));
	assert_int_equal(
		hv_chardev_conn_init(&f->conn, f->path, copy, sizeof(copy)), 0);
	memset(copy, 0, sizeof(copy));
	fd = run_with_server(f, hv_chardev_conn_connect);
	assert_int_equal(hv_chardev_conn_state(&f->conn), HV_CONN_REGISTERING);
	assert_true(hv_chardev_conn_fd(&f->conn) >= 0);
	assert_int_equal(hv_chardev_conn_fd(&f->conn), f->conn.dev.fd);
	assert_int_equal(hv_chardev_conn_reconnects(&f->conn), 0);

	assert_true(hv_chardev_conn_mark_registered(&f->conn));
	assert_int_equal(hv_chardev_conn_state(&f->conn), HV_CONN_READY);
	assert_false(hv_chardev_conn_mark_registered(&f->conn));
	close(fd);
}

static void test_connect_missing(void **state)
{
	struct fixture *f = *state;

	device_vanish(f);
	assert_int_equal(hv_chardev_conn_connect(&f->conn), -ENOENT);
	assert_int_equal(hv_chardev_conn_state(&f->conn), HV_CONN_CLOSED);
	assert_int_equal(hv_chardev_conn_fd(&f->conn), -1);
	/* A first connect failing is the caller's to report, not to retry. */
	assert_int_equal(hv_chardev_conn_retry_usec(&f->conn), 0);
	assert_int_equal(timer_left_usec(f), 0);
}

static void test_lost_reconnects_at_once(void **state)
{
	struct fixture *f = *state;
	bool was_open = false;
	int fd, fd2;
	pthread_t t;
	void *ret;

	fd = run_with_server(f, hv_chardev_conn_connect);
	assert_true(hv_chardev_conn_mark_registered(&f->conn));

	assert_int_equal(pthread_create(&t, NULL, accept_thread, f), 0);
	assert_int_equal(hv_chardev_conn_lost(&f->conn, &was_open), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	fd2 = (int)(intptr_t)ret;
	assert_true(fd2 >= 0);
	assert_true(was_open);
	assert_int_equal(hv_chardev_conn_state(&f->conn), HV_CONN_REGISTERING);
	assert_int_equal(hv_chardev_conn_reconnects(&f->conn), 1);
	assert_int_equal(hv_chardev_conn_retry_usec(&f->conn), 0);
	assert_int_equal(timer_left_usec(f), 0);
	/* The old connection was closed: its server end sees the hang-up. */
	{
		uint8_t b;

		assert_int_equal(recv(fd, &b, 1, 0), 0);
	}
	/* READY=1 is sent once over the whole life, not per connection. */
	assert_false(hv_chardev_conn_mark_registered(&f->conn));
	close(fd);
	close(fd2);
}

static void test_backoff(void **state)
{
	static const uint64_t steps[] = { 50000,  100000,  200000,  400000,
					  800000, 1600000, 2000000, 2000000 };
	struct fixture *f = *state;
	bool was_open = false;
	size_t i;
	int fd;

	fd = run_with_server(f, hv_chardev_conn_connect);
	device_vanish(f);
	assert_int_equal(hv_chardev_conn_lost(&f->conn, &was_open), -ENOENT);
	assert_true(was_open);
	assert_int_equal(hv_chardev_conn_fd(&f->conn), -1);
	assert_int_equal(hv_chardev_conn_retry_usec(&f->conn), steps[0]);
	assert_true(timer_left_usec(f) > 0);
	assert_true(timer_left_usec(f) <= steps[0]);
	for (i = 1; i < ARRAY_SIZE(steps); i++) {
		assert_int_equal(hv_chardev_conn_lost(&f->conn, &was_open),
				 -ENOENT);
		/* Only the first report is a loss to log. */
		assert_false(was_open);
		assert_int_equal(hv_chardev_conn_retry_usec(&f->conn),
				 steps[i]);
		assert_true(timer_left_usec(f) > steps[i - 1] / 2);
		assert_true(timer_left_usec(f) <= steps[i]);
	}
	assert_int_equal(hv_chardev_conn_reconnects(&f->conn),
			 ARRAY_SIZE(steps));
	assert_int_equal(hv_chardev_conn_fd(&f->conn), -1);
	close(fd);

	/* Back: a successful reconnect starts the backoff over. */
	device_appear(f);
	fd = run_with_server(f, op_lost);
	assert_int_equal(hv_chardev_conn_retry_usec(&f->conn), 0);
	assert_true(hv_chardev_conn_fd(&f->conn) >= 0);
	close(fd);
	device_vanish(f);
	assert_int_equal(hv_chardev_conn_lost(&f->conn, &was_open), -ENOENT);
	assert_true(was_open);
	assert_int_equal(hv_chardev_conn_retry_usec(&f->conn), steps[0]);
}

static void test_timer(void **state)
{
	struct fixture *f = *state;
	struct pollfd p;
	int fd;

	/* Nothing armed: not due. */
	assert_false(hv_chardev_conn_on_timer(&f->conn));
	device_vanish(f);
	assert_int_equal(hv_chardev_conn_reconnect(&f->conn), -ENOENT);
	p = (struct pollfd){ hv_chardev_conn_timer_fd(&f->conn), POLLIN, 0 };
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_true(hv_chardev_conn_on_timer(&f->conn));
	/* Consumed. */
	assert_false(hv_chardev_conn_on_timer(&f->conn));

	/* Fired, but the device is open by then: nothing to do. */
	assert_int_equal(hv_chardev_conn_reconnect(&f->conn), -ENOENT);
	device_appear(f);
	fd = run_with_server(f, hv_chardev_conn_connect);
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_false(hv_chardev_conn_on_timer(&f->conn));
	close(fd);
}

static void test_close_and_done(void **state)
{
	struct fixture *f = *state;
	int fd;

	assert_false(hv_chardev_conn_close(&f->conn));
	fd = run_with_server(f, hv_chardev_conn_connect);
	assert_true(hv_chardev_conn_close(&f->conn));
	assert_false(hv_chardev_conn_close(&f->conn));
	assert_int_equal(hv_chardev_conn_fd(&f->conn), -1);
	assert_int_equal(f->conn.dev.fd, -1);
	close(fd);
	hv_chardev_conn_done(&f->conn);
	assert_int_equal(hv_chardev_conn_timer_fd(&f->conn), -1);
	assert_null(f->conn.reg);
	/* Twice is harmless (teardown does it again). */
	hv_chardev_conn_done(&f->conn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test_setup_teardown(test_connect_registers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_connect_missing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lost_reconnects_at_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_and_done, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("chardev-conn", tests, NULL, NULL);
}
