/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the fault-injection and kill-loop tests
 * (tests/test-faults-*.c, tests/test-kill-*.c): spawning a daemon with
 * its log on a file, waiting for it to exit or to log a line while the
 * simulator is pumped, and a seeded PRNG whose seed goes to the TAP
 * output so a failing run can be repeated (HVIS_KILL_SEED=0x...).
 *
 * Everything is static inline: each test program is one translation
 * unit linked against libhvsim and libhvis only.
 */
#ifndef HVIS_TESTS_FAULT_UTIL_H
#define HVIS_TESTS_FAULT_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hvis/util.h"

extern char **environ;

/* Something to call while waiting: it runs the simulator for <= ms. */
typedef void (*fu_pump_fn)(void *ctx, int ms);

static inline const char *fu_build_dir(void)
{
	const char *b = getenv("BUILD");

	return b ? b : "build";
}

static inline uint64_t fu_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* argv[0] with stdout to /dev/null and stderr appended to log. */
static inline pid_t fu_spawn(char *const *argv, const char *log)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
					 O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return r == 0 ? pid : -r;
}

/*
 * Wait for pid to exit, pumping meanwhile (pump may be NULL); its wait
 * status, or -ETIMEDOUT (pid left running).
 */
static inline int fu_wait_exit(pid_t pid, int timeout_ms, fu_pump_fn pump,
			       void *ctx)
{
	uint64_t end = fu_now_us() + (uint64_t)timeout_ms * 1000u;
	struct pollfd p = { .events = POLLIN };
	int st = 0;

	p.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p.fd < 0)
		return -errno;
	for (;;) {
		if (poll(&p, 1, pump ? 0 : 10) > 0)
			break;
		if (fu_now_us() > end) {
			close(p.fd);
			return -ETIMEDOUT;
		}
		if (pump)
			pump(ctx, 5);
	}
	close(p.fd);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return st;
}

/* Exit code, or 128 + signal. */
static inline int fu_exit_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The whole of a (log) file, NUL-terminated, in a static buffer. */
static inline const char *fu_read_text(const char *path)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t k;

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	while (n + 1 < sizeof(buf) &&
	       (k = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)k;
	close(fd);
	buf[n] = '\0';
	return buf;
}

static inline bool fu_contains(const char *path, const char *needle)
{
	return strstr(fu_read_text(path), needle) != NULL;
}

/* Occurrences of needle in a file of any size (streamed). */
static inline unsigned fu_count(const char *path, const char *needle)
{
	static char buf[65536 + 1];
	size_t nlen = strlen(needle), keep = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned n = 0;
	ssize_t k;

	if (fd < 0 || nlen == 0 || nlen >= sizeof(buf) / 2) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((k = read(fd, buf + keep, sizeof(buf) - 1 - keep)) > 0) {
		size_t len = keep + (size_t)k;
		const char *p = buf;

		buf[len] = '\0';
		while ((p = strstr(p, needle))) {
			n++;
			p += nlen;
		}
		/* A match may straddle the boundary: keep its start. */
		keep = HV_MIN(len, nlen - 1);
		memmove(buf, buf + len - keep, keep);
	}
	close(fd);
	return n;
}

/*
 * Until path holds needle (the daemon's work after a reply), pumping the
 * simulator; without a pump, inotify on the file's changes. false on
 * timeout.
 */
static inline bool fu_wait_contains(const char *path, const char *needle,
				    int timeout_ms, fu_pump_fn pump, void *ctx)
{
	uint64_t end = fu_now_us() + (uint64_t)timeout_ms * 1000u;
	char ev[4096];
	int ifd = -1;
	bool ok = false;

	if (!pump) {
		ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (ifd < 0 || inotify_add_watch(ifd, path, IN_MODIFY) < 0)
			goto out;
	}
	for (;;) {
		if (fu_contains(path, needle)) {
			ok = true;
			break;
		}
		if (fu_now_us() > end)
			break;
		if (pump) {
			pump(ctx, 5);
		} else {
			struct pollfd p = { .fd = ifd, .events = POLLIN };

			if (poll(&p, 1, 100) > 0)
				while (read(ifd, ev, sizeof(ev)) > 0)
					;
		}
	}
out:
	if (ifd >= 0)
		close(ifd);
	return ok;
}

/*
 * Until pid sleeps in poll()/ppoll() (its idle point: every daemon waits
 * there and nowhere else), pumping meanwhile. /proc/PID/syscall names the
 * system call a blocked task is in. false on timeout.
 */
static inline bool fu_wait_idle(pid_t pid, int timeout_ms, fu_pump_fn pump,
				void *ctx)
{
	uint64_t end = fu_now_us() + (uint64_t)timeout_ms * 1000u;
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	for (;;) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		long nr;

		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = '\0';
			nr = strtol(buf, NULL, 10);
			if (nr == SYS_ppoll
#ifdef SYS_poll
			    || nr == SYS_poll
#endif
			)
				return true;
		}
		if (fu_now_us() > end)
			return false;
		if (pump)
			pump(ctx, 1);
		else
			poll(NULL, 0, 1);
	}
}

/* ---------------------------------------------------------------------- */
/* A seeded PRNG (xorshift64*), the seed printed for reproduction.        */

struct fu_rng {
	uint64_t s;
};

/* HVIS_KILL_SEED (decimal or 0x hex) if set, else from the clock. */
static inline uint64_t fu_seed(void)
{
	const char *e = getenv("HVIS_KILL_SEED");
	uint64_t s;

	if (e && *e)
		return strtoull(e, NULL, 0);
	s = fu_now_us() ^ ((uint64_t)getpid() << 32);
	return s ? s : 1;
}

static inline uint64_t fu_rand(struct fu_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n) (n > 0; the bias is irrelevant here). */
static inline uint64_t fu_below(struct fu_rng *r, uint64_t n)
{
	return fu_rand(r) % n;
}

/* HVIS_KILL_ITERATIONS, default 100 (at least 1). */
static inline unsigned fu_iterations(void)
{
	const char *e = getenv("HVIS_KILL_ITERATIONS");
	long v = e ? strtol(e, NULL, 10) : 100;

	return v > 0 ? (unsigned)v : 1;
}

/* ---------------------------------------------------------------------- */
/* A SIGKILL after a delay, from a POSIX timer's signal handler, so the   */
/* main thread can sit in the simulator's loop meanwhile.                 */

static volatile sig_atomic_t fu_kill_pid;
static volatile sig_atomic_t fu_kill_fired;
static timer_t fu_kill_timer;
static bool fu_kill_ready;

static inline void fu_kill_handler(int sig)
{
	(void)sig;
	if (fu_kill_pid > 0) {
		kill((pid_t)fu_kill_pid, SIGKILL);
		fu_kill_fired = 1;
	}
}

static inline int fu_kill_init(void)
{
	/* SA_RESTART: the tests' own reads and waits go on; poll() in the
	 * simulator returns EINTR, which it treats as a wake-up. */
	struct sigaction sa = { .sa_handler = fu_kill_handler,
				.sa_flags = SA_RESTART };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL,
				.sigev_signo = SIGUSR1 };

	if (fu_kill_ready)
		return 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0 ||
	    timer_create(CLOCK_MONOTONIC, &sev, &fu_kill_timer) < 0)
		return -errno;
	fu_kill_ready = true;
	return 0;
}

/* SIGKILL pid usec from now (0: at once, from here). */
static inline int fu_kill_after(pid_t pid, uint64_t usec)
{
	struct itimerspec its = { 0 };

	fu_kill_fired = 0;
	fu_kill_pid = pid;
	if (usec == 0) {
		fu_kill_handler(SIGUSR1);
		return 0;
	}
	its.it_value.tv_sec = (time_t)(usec / 1000000u);
	its.it_value.tv_nsec = (long)(usec % 1000000u) * 1000;
	return timer_settime(fu_kill_timer, 0, &its, NULL) < 0 ? -errno : 0;
}

/* Disarm; true if the kill was sent. */
static inline bool fu_kill_cancel(void)
{
	struct itimerspec its = { 0 };

	timer_settime(fu_kill_timer, 0, &its, NULL);
	fu_kill_pid = 0;
	return fu_kill_fired != 0;
}

/* ---------------------------------------------------------------------- */

/* Run argv (PATH lookup), output to out (or /dev/null); exit status. */
static inline int fu_run(const char *out, const char *const *argv)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO,
					 out ? out : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
			 environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline int fu_rm_rf(const char *path)
{
	const char *argv[] = { "rm", "-rf", "--one-file-system", path, NULL };

	return fu_run(NULL, argv);
}

#endif
