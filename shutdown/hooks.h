/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pre-shutdown hooks: the executables of a directory, run one after the
 * other in lexical order (C locale) with a common deadline.
 */
#ifndef SHUTDOWN_HOOKS_H
#define SHUTDOWN_HOOKS_H

#include <stdint.h>

/* result: exit code (>= 0), -ETIME (killed at the deadline), -errno. */
typedef void (*shutdown_hook_report_fn)(const char *name, int result,
					void *userdata);

/*
 * Run each hook in dir as "<hook> <arg>" with the daemon's environment
 * plus env (NAME=value strings, NULL-terminated), stdin /dev/null and
 * stdout/stderr to ours, in its own process group. All of them together
 * get budget_usec: a hook running at the deadline is killed with its
 * group, and the hooks after it are not started (reported as -ETIME
 * too). Hooks are regular executable files named [A-Za-z0-9_.-]+ (not
 * starting with '.'), owned by root or by us and not writable by group
 * or others; others are reported as -EPERM and skipped.
 * Returns the number of hooks started, 0 if dir does not exist, -errno
 * if it cannot be read.
 */
int shutdown_hooks_run(const char *dir, const char *arg, char *const *env,
		       uint64_t budget_usec, shutdown_hook_report_fn report,
		       void *userdata);

#endif
