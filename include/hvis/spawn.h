/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running helper programs without a shell: posix_spawn with a clean
 * signal state, and waiting for them with a deadline (pidfd + poll, so no
 * SIGCHLD handling is needed and nothing blocks past the deadline).
 */
#ifndef HVIS_SPAWN_H
#define HVIS_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct hv_spawn_opts {
	char *const *envp; /* NULL: the caller's environment */
	bool new_pgrp; /* own process group, so a timeout kills it all */
	int stdin_fd; /* < 0: /dev/null */
	int stdout_fd; /* < 0: /dev/null; use STDOUT_FILENO to inherit */
	int stderr_fd; /* < 0: /dev/null; use STDERR_FILENO to inherit */
};

/*
 * Start path (not searched in PATH unless it has no '/') with argv.
 * Signals blocked by the daemon (hv_signalfd_open) are unblocked and all
 * dispositions reset to default in the child. Returns 0 and the pid in
 * *ret_pid, or -errno (-ENOENT if the program does not exist).
 */
int hv_spawn(const char *path, char *const argv[],
	     const struct hv_spawn_opts *opts, pid_t *ret_pid);

/*
 * Wait until pid exits or timeout_usec passes (UINT64_MAX: no limit).
 * On timeout the process (its group, if it has its own) is killed with
 * SIGKILL and reaped, and -ETIME is returned. Otherwise returns 0 and
 * the wait status in *ret_status (may be NULL). -errno on failure.
 */
int hv_spawn_wait(pid_t pid, uint64_t timeout_usec, int *ret_status);

/*
 * hv_spawn + hv_spawn_wait. Returns the exit code (0-255), -ETIME on
 * timeout, -ECHILD if it was killed by a signal, or -errno.
 */
int hv_spawn_run(const char *path, char *const argv[],
		 const struct hv_spawn_opts *opts, uint64_t timeout_usec);

#endif
