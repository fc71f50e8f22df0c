/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

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

/* From here on pidfd_open fails with ENOSYS, as on Linux < 5.3. */
static int deny_pidfd_open(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -errno;
	return syscall(SYS_pidfd_open, getpid(), 0) < 0 && errno == ENOSYS ?
		       0 :
		       -EOPNOTSUPP;
}

/*
 * Without pidfd_open (old kernels, valgrind 3.19) a deadline still holds
 * and an exit status still arrives. In a child: the filter stays with it.
 */
static void test_wait_without_pidfd(void **state)
{
	pid_t child;
	int st;

#if !defined(__x86_64__)
	skip();
#endif
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		uint64_t t0;

		if (deny_pidfd_open() < 0)
			_exit(10);
		if (hv_spawn_run("/bin/sh",
				 (char *[]){ "sh", "-c", "sleep 0.1; exit 7",
					     NULL },
				 NULL, 5000000) != 7)
			_exit(11);
		t0 = hv_now_usec();
		if (hv_spawn_run("/bin/sh",
				 (char *[]){ "sh", "-c", "sleep 10", NULL },
				 NULL, 100000) != -ETIME)
			_exit(12);
		if (hv_now_usec() - t0 > 2000000)
			_exit(13);
		_exit(0);
	}
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_signals_reset),
		cmocka_unit_test(test_output_fd),
		cmocka_unit_test(test_wait_without_pidfd),
	};

	return cmocka_run_group_tests_name("spawn", tests, NULL, NULL);
}
