/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <time.h>

#include "hvis/loop.h"
#include "hvis/spawn.h"
#include "hvis/util.h"

static void test_exit_codes(void **state)
{
	assert_int_equal(hv_spawn_run("/bin/sh",
				      (char *[]){ "sh", "-c", "exit 0", NULL },
				      NULL, 5000000),
			 0);
	assert_int_equal(hv_spawn_run("sh",
				      (char *[]){ "sh", "-c", "exit 7", NULL },
				      NULL, UINT64_MAX),
			 7);
	assert_int_equal(hv_spawn_run("/nonexistent/prog",
				      (char *[]){ "prog", NULL }, NULL,
				      1000000),
			 -ENOENT);
	assert_int_equal(hv_spawn_run(NULL, (char *[]){ "x", NULL }, NULL, 1),
			 -EINVAL);
}

static void test_timeout_kills_group(void **state)
{
	struct hv_spawn_opts o = { .new_pgrp = true,
				   .stdin_fd = -1,
				   .stdout_fd = -1,
				   .stderr_fd = -1 };
	char path[] = "/tmp/hvis-spawn.XXXXXX", cmd[256];
	uint64_t t0 = hv_now_usec();
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	/* The grandchild must die with its parent's group. */
	snprintf(cmd, sizeof(cmd), "(sleep 0.5; echo alive > %s) & sleep 10",
		 path);
	assert_int_equal(hv_spawn_run("/bin/sh",
				      (char *[]){ "sh", "-c", cmd, NULL }, &o,
				      100000),
			 -ETIME);
	assert_true(hv_now_usec() - t0 < 2000000);
	usleep(800000);
	{
		struct stat st;

		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 0);
	}
	unlink(path);
}

static void test_signals_reset(void **state)
{
	int sfd = hv_signalfd_open();

	/* The daemon blocks SIGTERM and ignores SIGPIPE; children must not. */
	assert_true(sfd >= 0);
	assert_int_equal(
		hv_spawn_run("/bin/sh",
			     (char *[]){ "sh", "-c", "kill -TERM $$", NULL },
			     NULL, 5000000),
		-ECHILD);
	close(sfd);
}

static void test_output_fd(void **state)
{
	char path[] = "/tmp/hvis-spawn.XXXXXX", buf[16] = "";
	int fd = mkstemp(path);
	struct hv_spawn_opts o = { .stdin_fd = -1,
				   .stdout_fd = fd,
				   .stderr_fd = -1 };

	assert_true(fd >= 0);
	assert_int_equal(hv_spawn_run("/bin/echo",
				      (char *[]){ "echo", "hi", NULL }, &o,
				      5000000),
			 0);
	assert_int_equal(pread(fd, buf, sizeof(buf) - 1, 0), 3);
	assert_string_equal(buf, "hi\n");
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_signals_reset),
		cmocka_unit_test(test_output_fd),
	};

	return cmocka_run_group_tests_name("spawn", tests, NULL, NULL);
}
