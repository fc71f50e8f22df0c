/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the benchmark drivers (the bench/ programs): clocks,
 * percentiles, child processes, RSS, work directories, arguments, JSON.
 * Header-only because each bench program is built from one file.
 */
#ifndef HVIS_BENCH_H
#define HVIS_BENCH_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "hvis/util.h"
#include "hvsim/hvsim.h"

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

/* Most rounds bench_stats_median() looks at; each bench allows fewer. */
#define BENCH_MAX_ROUNDS 128

/*
 * Median over rounds of each figure of the per-round stats v[0..n-1];
 * n is the last round's.
 */
static inline struct bench_stats bench_stats_median(const struct bench_stats *v,
						    size_t n)
{
	double med[BENCH_MAX_ROUNDS], p99[BENCH_MAX_ROUNDS],
		ops[BENCH_MAX_ROUNDS];
	struct bench_stats s = { 0 };

	n = HV_MIN(n, (size_t)BENCH_MAX_ROUNDS);
	if (n == 0)
		return s;
	for (size_t i = 0; i < n; i++) {
		med[i] = v[i].median_ms;
		p99[i] = v[i].p99_ms;
		ops[i] = v[i].ops_per_s;
	}
	s.n = v[n - 1].n;
	s.median_ms = bench_median(med, n);
	s.p99_ms = bench_median(p99, n);
	s.ops_per_s = bench_median(ops, n);
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

/*
 * A schedstat file (/proc/PID/schedstat or .../task/TID/schedstat): time
 * on a CPU in ns and the number of times run. 0, or -errno / -EINVAL.
 */
static inline int bench_schedstat(const char *path, uint64_t *cpu_ns,
				  uint64_t *runs)
{
	unsigned long long cpu = 0, wait, run = 0;
	FILE *f = fopen(path, "re");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%llu %llu %llu", &cpu, &wait, &run);
	fclose(f);
	if (n != 3)
		return -EINVAL;
	if (cpu_ns)
		*cpu_ns = cpu;
	if (runs)
		*runs = run;
	return 0;
}

/* "Key:   123 kB" lines of a /proc file: the number, or -errno. */
static inline long bench_proc_kb(const char *path, const char *field)
{
	char line[256];
	size_t flen = strlen(field);
	long kb = -ENOENT;
	FILE *f = fopen(path, "re");

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

/* VmRSS-style field of /proc/PID/status in KiB, or -errno. */
static inline long bench_proc_status_kb(pid_t pid, const char *field)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return bench_proc_kb(path, field);
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

/* Parse a decimal in 1..max for an option. */
static inline int bench_parse_uint(const char *arg, unsigned int max,
				   unsigned int *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || v == 0 || v > max)
		return -EINVAL;
	*ret = (unsigned int)v;
	return 0;
}

static inline int bench_rm_entry(const char *path, const struct stat *st,
				 int type, struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Remove a work directory and all below it; best effort. */
static inline void bench_rm_tree(const char *path)
{
	nftw(path, bench_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int bench_mkdir_p(const char *path)
{
	char p[PATH_MAX];

	if (hv_snprintf(p, sizeof(p), "%s", path) < 0)
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/*
 * In a forked child: stdout and stderr append to log. A log that cannot
 * be opened leaves them as they are: the run goes on without it.
 */
static inline void bench_redirect(const char *log)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		return;
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* Option strings and argv of a KVP daemon under test. */
struct bench_kvp_argv {
	char dev[320], run[320], state[320];
	char *argv[8];
};

/*
 * Ours runs with the bench's directories (dev_dir set); the reference
 * knows no such options and gets -n alone (dev_dir NULL).
 */
static inline char **bench_kvp_argv(struct bench_kvp_argv *a, const char *prog,
				    const char *dev_dir, const char *run_dir,
				    const char *state_dir)
{
	int argc = 0;

	a->argv[argc++] = (char *)prog;
	a->argv[argc++] = "-n";
	if (dev_dir) {
		snprintf(a->dev, sizeof(a->dev), "--dev-dir=%s", dev_dir);
		snprintf(a->run, sizeof(a->run), "--run-dir=%s", run_dir);
		snprintf(a->state, sizeof(a->state), "--state-dir=%s",
			 state_dir);
		a->argv[argc++] = a->dev;
		a->argv[argc++] = a->run;
		a->argv[argc++] = a->state;
		a->argv[argc++] = "--log=stderr";
	}
	a->argv[argc] = NULL;
	return a->argv;
}

/*
 * Wait for the daemon pid to register on cd, in slices so one that dies
 * at startup is noticed: then it is reaped, *pid becomes -1 and the
 * answer is -ECHILD. Else 0 or hvsim_cdev_wait_ready()'s error.
 */
static inline int bench_wait_cdev_ready(struct hvsim_cdev *cd, pid_t *pid,
					unsigned int timeout_ms)
{
	int r, status;

	for (unsigned int waited = 0;; waited += 100) {
		r = hvsim_cdev_wait_ready(cd, 100);
		if (r == 0)
			return 0;
		if (bench_exited(*pid, &status)) {
			*pid = -1;
			return -ECHILD;
		}
		if (waited >= timeout_ms)
			return r;
	}
}

/*
 * The opening of a results file: {"label", "cpus_allowed", "pinned",
 * each on a line; the caller goes on with ",\n" and its own keys.
 */
static inline void bench_json_head(FILE *f, const char *label,
				   const char *affinity, int ncpus)
{
	fprintf(f, "{\n  \"label\": ");
	bench_json_str(f, label);
	fprintf(f, ",\n  \"cpus_allowed\": ");
	bench_json_str(f, affinity);
	fprintf(f, ",\n  \"pinned\": %s", ncpus == 1 ? "true" : "false");
}

/* "n", "median_ms", "p99_ms" and the rate under rate_key, no braces. */
static inline void bench_json_stats(FILE *f, const struct bench_stats *s,
				    const char *rate_key)
{
	fprintf(f, "\"n\": %u, \"median_ms\": ", s->n);
	bench_json_num(f, s->median_ms);
	fprintf(f, ", \"p99_ms\": ");
	bench_json_num(f, s->p99_ms);
	fprintf(f, ", \"%s\": ", rate_key);
	bench_json_num(f, s->ops_per_s);
}

#endif
