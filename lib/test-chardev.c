/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "hvis/chardev.h"
#include "hvis/util.h"

struct fixture {
	char dir[64];
	char path[128];
	int listen_fd;
};

static int setup(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/hvis-chardev.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/dev", f->dir);
	f->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(f->listen_fd >= 0);
	strcpy(sa.sun_path, f->path);
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)),
			 0);
	assert_int_equal(listen(f->listen_fd, 4), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->listen_fd);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The simulator's side of open(): accept and send the 4-byte status. */
static int accept_with_status(struct fixture *f, uint32_t status)
{
	uint8_t msg[4];
	int fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	assert_true(fd >= 0);
	hv_put_le32(msg, status);
	assert_int_equal(send(fd, msg, sizeof(msg), 0), 4);
	return fd;
}

static void test_open_socket_ok(void **state)
{
	struct fixture *f = *state;
	struct hv_chardev d;
	uint8_t buf[16];
	pid_t pid;

	/* open() waits for the status record, so the server side runs in a
	 * child process. */
	pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = accept_with_status(f, 0);

		/* Echo one message back, then send one too long for the
		 * reader's buffer, then hang up. */
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		send(fd, buf, (size_t)n, 0);
		memset(buf, 'x', sizeof(buf));
		send(fd, buf, sizeof(buf), 0);
		close(fd);
		_exit(0);
	}
	assert_int_equal(hv_chardev_open(&d, f->path), 0);
	assert_true(d.is_socket);
	assert_int_equal(hv_chardev_write(&d, "hello", 5), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(hv_chardev_read(&d, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(hv_chardev_read(&d, buf, 8), -EMSGSIZE);
	assert_int_equal(hv_chardev_read(&d, buf, sizeof(buf)), -ECONNRESET);
	hv_chardev_close(&d);
	assert_int_equal(d.fd, -1);
	assert_int_equal(hv_chardev_read(&d, buf, sizeof(buf)), -EBADF);
}

static void test_open_socket_busy(void **state)
{
	struct fixture *f = *state;
	struct hv_chardev d;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = accept_with_status(f, EBUSY);

		close(fd);
		_exit(0);
	}
	assert_int_equal(hv_chardev_open(&d, f->path), -EBUSY);
	assert_int_equal(d.fd, -1);
}

static void test_open_socket_bad_status(void **state)
{
	struct fixture *f = *state;
	struct hv_chardev d;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = accept4(f->listen_fd, NULL, NULL, 0);

		send(fd, "toolong", 7, 0);
		close(fd);
		_exit(0);
	}
	assert_int_equal(hv_chardev_open(&d, f->path), -EBADMSG);
	pid = fork();
	if (pid == 0) {
		int fd = accept4(f->listen_fd, NULL, NULL, 0);

		close(fd);
		_exit(0);
	}
	assert_int_equal(hv_chardev_open(&d, f->path), -ECONNRESET);
}

static void test_open_missing_and_plain(void **state)
{
	struct fixture *f = *state;
	char path[160];
	struct hv_chardev d;
	uint8_t buf[4];
	int fd;

	snprintf(path, sizeof(path), "%s/missing", f->dir);
	assert_int_equal(hv_chardev_open(&d, path), -ENOENT);
	/* A regular file stands in for a device node: same open path. */
	snprintf(path, sizeof(path), "%s/plain", f->dir);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(hv_chardev_open(&d, path), 0);
	assert_false(d.is_socket);
	assert_int_equal(hv_chardev_write(&d, "abcd", 4), 0);
	/* Read at EOF: the device went away. */
	assert_int_equal(hv_chardev_read(&d, buf, sizeof(buf)), -ECONNRESET);
	hv_chardev_close(&d);
	unlink(path);
}

static int register_calls;
static int register_result;

static int fake_register(struct hv_chardev *d, void *userdata)
{
	register_calls++;
	assert_ptr_equal(userdata, &register_calls);
	assert_true(d->fd >= 0);
	return register_result;
}

static void test_reopen(void **state)
{
	struct fixture *f = *state;
	struct hv_chardev d;
	int i;

	for (i = 0; i < 2; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			int fd = accept_with_status(f, 0);
			char c;

			/* Stay until the client hangs up. */
			while (recv(fd, &c, 1, 0) > 0)
				;
			_exit(0);
		}
	}
	assert_int_equal(hv_chardev_open(&d, f->path), 0);
	register_calls = 0;
	register_result = 0;
	assert_int_equal(hv_chardev_reopen(&d, fake_register, &register_calls),
			 0);
	assert_int_equal(register_calls, 1);
	assert_true(d.fd >= 0);
	/* A failed registration leaves the device closed. */
	register_result = -EINVAL;
	{
		pid_t pid = fork();

		if (pid == 0) {
			int fd = accept_with_status(f, 0);
			char c;

			while (recv(fd, &c, 1, 0) > 0)
				;
			_exit(0);
		}
	}
	assert_int_equal(hv_chardev_reopen(&d, fake_register, &register_calls),
			 -EINVAL);
	assert_int_equal(d.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_socket_ok, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_socket_busy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_socket_bad_status,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_missing_and_plain,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	};

	return cmocka_run_group_tests_name("chardev", tests, NULL, NULL);
}
