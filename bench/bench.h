/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the benchmark drivers (bench/kvp-bench.c,
 * bench/uio-bench.c): clocks, percentiles, child processes, RSS, JSON.
 * Header-only because each bench program is built from one file.
 */
#ifndef HVIS_BENCH_H
#define HVIS_BENCH_H

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "hvis/util.h"

struct bench_stats {
	unsigned int n;
	double median_ms;
	double p99_ms;
	double ops_per_s; /* n / wall time of the whole loop */
};

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array (n > 0). */
static inline double bench_percentile(const double *sorted, size_t n,
				      double pct)
{
	size_t rank = (size_t)(pct / 100.0 * (double)n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static inline double bench_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Sorts lat_ms in place. */
static inline struct bench_stats bench_summarize(double *lat_ms, size_t n,
						 uint64_t wall_ns)
{
	struct bench_stats s = { .n = (unsigned int)n };

	if (n == 0)
		return s;
	qsort(lat_ms, n, sizeof(*lat_ms), bench_cmp_double);
	s.median_ms = n % 2 ? lat_ms[n / 2] :
			      (lat_ms[n / 2 - 1] + lat_ms[n / 2]) / 2;
	s.p99_ms = bench_percentile(lat_ms, n, 99.0);
	s.ops_per_s = wall_ns ? (double)n * 1e9 / (double)wall_ns : 0;
	return s;
}

/* "CPU 0" when pinned to one CPU, else "CPUs 0-1" style list. */
static inline int bench_affinity(char *buf, size_t size, int *ncpus)
{
	cpu_set_t set;
	size_t used = 0;
	int i, first = -1, count = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	buf[0] = '\0';
	for (i = 0; i <= CPU_SETSIZE; i++) {
		bool on = i < CPU_SETSIZE && CPU_ISSET(i, &set);
		int r;

		if (on) {
			count++;
			if (first < 0)
				first = i;
			continue;
		}
		if (first < 0)
			continue;
		if (first == i - 1)
			r = snprintf(buf + used, size - used, "%s%d",
				     used ? "," : "", first);
		else
			r = snprintf(buf + used, size - used, "%s%d-%d",
				     used ? "," : "", first, i - 1);
		if (r < 0 || (size_t)r >= size - used)
			return -E2BIG;
		used += (size_t)r;
		first = -1;
	}
	*ncpus = count;
	return 0;
}

/* VmRSS-style field of /proc/PID/status in KiB, or -errno. */
static inline long bench_proc_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long kb = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			kb = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

/*
 * Wait up to timeout_ms for the child to exit (pidfd: no polling loop);
 * SIGKILL it if it does not. Returns its wait status or -errno.
 */
static inline int bench_reap(pid_t pid, int timeout_ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status;

	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int r;

		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		close(pfd);
		if (r == 0)
			kill(pid, SIGKILL);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return status;
}

/* SIGTERM, then bench_reap(). */
static inline int bench_stop(pid_t pid, int timeout_ms)
{
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
		return -errno;
	return bench_reap(pid, timeout_ms);
}

/* True once the child has exited (reaped here). */
static inline bool bench_exited(pid_t pid, int *status)
{
	return waitpid(pid, status, WNOHANG) == pid;
}

/* Where the reference daemon keeps its pools; it knows no other path. */
#define BENCH_REF_STATE "/var/lib/hyperv"

/*
 * In a child about to exec a daemon: a private mount namespace whose
 * /var/lib/hyperv is a bind mount of state. If the machine has no
 * /var/lib/hyperv, a tmpfs over /var/lib (in the namespace only)
 * provides the mount point. The machine's own directory is never
 * touched. Returns 0 or -errno.
 */
static inline int bench_private_state(const char *state)
{
	char src[64];
	int fd;

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	/* Opened in the new namespace: a bind source must belong to it. */
	fd = open(state, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (access(BENCH_REF_STATE, F_OK) < 0) {
		if (mount("tmpfs", "/var/lib", "tmpfs", 0, "mode=0755") < 0 ||
		    mkdir(BENCH_REF_STATE, 0755) < 0) {
			close(fd);
			return -errno;
		}
	}
	/* The state dir may have been under /var/lib: bind it by fd. */
	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	if (mount(src, BENCH_REF_STATE, NULL, MS_BIND, NULL) < 0) {
		close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

/*
 * After bench_private_state(): join the network namespace
 * /run/netns/<name> (ip-netns(8)) and mount a sysfs of it over /sys, as
 * `ip netns exec` does, so /sys/class/net lists its interfaces.
 */
static inline int bench_enter_netns(const char *name)
{
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0) {
		close(fd);
		return -errno;
	}
	close(fd);
	if (umount2("/sys", MNT_DETACH) < 0 ||
	    mount(name, "/sys", "sysfs", 0, NULL) < 0)
		return -errno;
	return 0;
}

/* A JSON string literal for s (quotes, backslashes, control bytes). */
static inline void bench_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* A JSON number with enough digits for microsecond latencies. */
static inline void bench_json_num(FILE *f, double v)
{
	fprintf(f, "%.6g", v);
}

#endif
