/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>

#include "hvis/spawn.h"
#include "hvis/util.h"

extern char **environ;

/*
 * Without pidfd_open (Linux < 5.3; valgrind 3.19 does not know the
 * syscall either) the child is polled this often.
 */
#define POLL_FALLBACK_MS 20

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int add_fd(posix_spawn_file_actions_t *fa, int fd, int target, int flags)
{
	if (fd >= 0) {
		if (fd == target)
			return 0; /* inherited as is */
		return -posix_spawn_file_actions_adddup2(fa, fd, target);
	}
	return -posix_spawn_file_actions_addopen(fa, target, "/dev/null", flags,
						 0);
}

int hv_spawn(const char *path, char *const argv[],
	     const struct hv_spawn_opts *opts, pid_t *ret_pid)
{
	static const struct hv_spawn_opts defaults = {
		.stdin_fd = -1,
		.stdout_fd = -1,
		.stderr_fd = -1,
	};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	pid_t pid;
	int r;

	if (!path || !argv || !argv[0] || !ret_pid)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	sigemptyset(&none);
	sigfillset(&all);

	r = -posix_spawn_file_actions_init(&fa);
	if (r < 0)
		return r;
	r = -posix_spawnattr_init(&attr);
	if (r < 0) {
		posix_spawn_file_actions_destroy(&fa);
		return r;
	}
	if (opts->new_pgrp)
		flags |= POSIX_SPAWN_SETPGROUP;
	r = -posix_spawnattr_setflags(&attr, flags);
	if (r == 0)
		r = -posix_spawnattr_setsigmask(&attr, &none);
	/* SIGPIPE ignored in the daemon must not stay ignored in a hook. */
	if (r == 0)
		r = -posix_spawnattr_setsigdefault(&attr, &all);
	if (r == 0 && opts->new_pgrp)
		r = -posix_spawnattr_setpgroup(&attr, 0);
	if (r == 0)
		r = add_fd(&fa, opts->stdin_fd, STDIN_FILENO, O_RDONLY);
	if (r == 0)
		r = add_fd(&fa, opts->stdout_fd, STDOUT_FILENO, O_WRONLY);
	if (r == 0)
		r = add_fd(&fa, opts->stderr_fd, STDERR_FILENO, O_WRONLY);
	if (r == 0) {
		char *const *envp = opts->envp ? opts->envp : environ;

		if (strchr(path, '/'))
			r = -posix_spawn(&pid, path, &fa, &attr, argv, envp);
		else
			r = -posix_spawnp(&pid, path, &fa, &attr, argv, envp);
	}
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (r < 0)
		return r;
	*ret_pid = pid;
	return 0;
}

static int reap(pid_t pid, int *ret_status)
{
	int status;
	pid_t w;

	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	if (ret_status)
		*ret_status = status;
	return 0;
}

int hv_spawn_wait(pid_t pid, uint64_t timeout_usec, int *ret_status)
{
	uint64_t deadline = timeout_usec == UINT64_MAX ?
				    UINT64_MAX :
				    now_usec() + timeout_usec;
	_cleanup_close_ int pfd = -1;
	int r;

	if (pid <= 0)
		return -EINVAL;
	if (timeout_usec == UINT64_MAX)
		return reap(pid, ret_status);

	pfd = pidfd_open(pid, 0);
	if (pfd < 0 && errno != ENOSYS)
		return -errno;
	for (;;) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		uint64_t now = now_usec();
		int ms;

		if (now >= deadline)
			break;
		ms = (int)HV_MIN((deadline - now + 999) / 1000,
				 (uint64_t)INT32_MAX);
		if (pfd < 0)
			ms = HV_MIN(ms, POLL_FALLBACK_MS);
		r = poll(&p, 1, ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			return reap(pid, ret_status);
		if (pfd < 0) {
			int status;
			pid_t w = waitpid(pid, &status, WNOHANG);

			if (w < 0 && errno != EINTR)
				return -errno;
			if (w == pid) {
				if (ret_status)
					*ret_status = status;
				return 0;
			}
		}
	}
	/* Out of time: the whole group if it has one (hooks and children). */
	if (getpgid(pid) == pid)
		kill(-pid, SIGKILL);
	else
		kill(pid, SIGKILL);
	r = reap(pid, NULL);
	return r < 0 ? r : -ETIME;
}

int hv_spawn_run(const char *path, char *const argv[],
		 const struct hv_spawn_opts *opts, uint64_t timeout_usec)
{
	pid_t pid;
	int status, r;

	r = hv_spawn(path, argv, opts, &pid);
	if (r < 0)
		return r;
	r = hv_spawn_wait(pid, timeout_usec, &status);
	if (r < 0)
		return r;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -ECHILD;
}
