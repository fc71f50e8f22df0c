/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How the integration tests start the programs under test, so that one
 * environment variable runs every daemon under a tool:
 *
 *   HVIS_DAEMON_WRAPPER  a command put in front of the daemon's argv,
 *                        split at blanks (no quoting), looked up in PATH,
 *                        e.g. "valgrind --error-exitcode=99 -q"
 *   HVIS_TIMEOUT_FACTOR  1..1000 (default 1): a wrapped daemon runs that
 *                        many times slower, so every wait a test bounds
 *                        by a timeout is scaled by it instead of being
 *                        made longer for everyone
 *
 * The daemon's pid is the wrapper's: valgrind runs the program in its own
 * process, so signals, /proc/PID and waitpid() reach the daemon.
 */
#ifndef HVIS_TESTS_DAEMON_SPAWN_H
#define HVIS_TESTS_DAEMON_SPAWN_H

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define HVIS_WRAPPER_ARGS_MAX 32
#define HVIS_SPAWN_ARGS_MAX 64

static inline int hvis_timeout_factor(void)
{
	static int factor;
	const char *s;
	char *end;
	long v;

	if (factor)
		return factor;
	factor = 1;
	s = getenv("HVIS_TIMEOUT_FACTOR");
	if (s && *s) {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno == 0 && *end == '\0' && v >= 1 && v <= 1000)
			factor = (int)v;
	}
	return factor;
}

/* A timeout in ms (or any time bound) scaled for a wrapped daemon. */
#define HVIS_TIMEOUT(ms) ((ms)*hvis_timeout_factor())

/* True when daemons run under a wrapper: checks of the process itself
 * (its name in /proc, its exact fd set) do not hold then. */
static inline bool hvis_daemon_wrapped(void)
{
	const char *w = getenv("HVIS_DAEMON_WRAPPER");

	return w && strspn(w, " \t") < strlen(w);
}

/*
 * posix_spawn(path, argv) with the wrapper in front, if any. Returns 0,
 * -E2BIG when the combined argv does not fit, or -errno of posix_spawn.
 */
static inline int hvis_spawn_daemon(pid_t *pid, const char *path,
				    const posix_spawn_file_actions_t *fa,
				    const posix_spawnattr_t *attr,
				    char *const argv[], char *const envp[])
{
	static char words[4096];
	char *args[HVIS_SPAWN_ARGS_MAX + 1];
	const char *w = getenv("HVIS_DAEMON_WRAPPER");
	size_t n = 0, len;
	char *p, *save = NULL;
	int r;

	if (!hvis_daemon_wrapped()) {
		r = posix_spawn(pid, path, fa, attr, argv, envp);
		return -r;
	}
	len = strlen(w);
	if (len >= sizeof(words))
		return -E2BIG;
	memcpy(words, w, len + 1);
	for (p = strtok_r(words, " \t", &save); p;
	     p = strtok_r(NULL, " \t", &save)) {
		if (n >= HVIS_WRAPPER_ARGS_MAX)
			return -E2BIG;
		args[n++] = p;
	}
	/* The program by the path we were given, whatever argv[0] says. */
	args[n++] = (char *)path;
	for (size_t i = 1; argv[0] && argv[i]; i++) {
		if (n >= HVIS_SPAWN_ARGS_MAX)
			return -E2BIG;
		args[n++] = argv[i];
	}
	args[n] = NULL;
	r = posix_spawnp(pid, args[0], fa, attr, args, envp);
	return -r;
}

#endif
