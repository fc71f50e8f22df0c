/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VSS benchmark (root): four ext4 filesystems on zram devices this
 * program creates, in a private mount namespace, each given 256 MiB of
 * dirty data (written, not synced) right before each measurement:
 *
 *   daemon  our hv_vss_daemon driven by hvsim-vss: FREEZE reply latency,
 *           THAW reply latency, and the frozen window minus the host's
 *           hold;
 *   loop    a plain FIFREEZE of all four then FITHAW of all four, no
 *           sync pass first: its frozen window.
 *
 * The daemon's frozen window is taken from its frozen-state marker in
 * the run directory (a tmpfs): it rewrites it (rename) just before and
 * after each FIFREEZE and updates or removes it after the FITHAWs, so the
 * first marker event of a backup to the last one bounds first FIFREEZE
 * to last FITHAW from above. A watcher
 * process with SCHED_FIFO priority timestamps the inotify events.
 *
 * Safety, as in tests/test-vss-system.c: the daemon runs with --only
 * <base>/mnt, and --list-targets with the same options must list exactly
 * our four mount points before it starts, else nothing is frozen. Cleanup
 * (also on SIGINT/SIGTERM) kills the daemon, thaws our mount points only,
 * unmounts them and removes our zram devices. The reference VSS daemon is
 * never run. Exit 0 with a message when not root or zram is missing.
 */
#include <getopt.h>
#include <linux/fs.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "bench.h"
#include "hvis/wire.h"
#include "hvsim/hvsim-vss.h"

#define ZRAM_CONTROL "/sys/class/zram-control"
#define NFS 4
#define MAX_ROUNDS 16
#define WAIT_MS 30000
#define BUF_SIZE (1u << 20)

extern char **environ;

static struct {
	const char *daemon, *json, *label;
	unsigned int rounds, mib, hold_ms;
	char base[64], mnt[96], run[96], conf[96], dev[128], log[128];
	char marker_dir[128];
	char fs[NFS][128];
	int zram[NFS];
	bool mounted[NFS], run_mounted;
	pid_t pid, watcher;
	int events; /* read end of the watcher's pipe */
	struct hvsim_cdev *cd;
	struct hvsim_vss *v;
	/* per round, ms */
	double freeze_ms[MAX_ROUNDS], thaw_ms[MAX_ROUNDS];
	double window_ms[MAX_ROUNDS], loop_ms[MAX_ROUNDS];
	unsigned int n_daemon, n_loop, failures;
} bx = { .zram = { -1, -1, -1, -1 }, .pid = -1, .watcher = -1, .events = -1 };

static uint8_t buf[BUF_SIZE];

static int write_sys(const char *path, const char *value)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return write(fd, value, strlen(value)) == (ssize_t)strlen(value) ? 0 :
									   -EIO;
}

static int run(const char *out, const char *const *argv)
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
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int fs_ioctl(const char *dir, unsigned long req)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return ioctl(fd, req, 0) < 0 ? -errno : 0;
}

/* Only what we made, system calls only (also from a signal handler). */
static void cleanup(void)
{
	char id[16];
	int i;

	if (bx.pid > 0) {
		kill(bx.pid, SIGKILL);
		waitpid(bx.pid, NULL, 0);
		bx.pid = -1;
	}
	if (bx.watcher > 0) {
		kill(bx.watcher, SIGKILL);
		waitpid(bx.watcher, NULL, 0);
		bx.watcher = -1;
	}
	for (i = 0; i < NFS; i++)
		if (bx.mounted[i])
			(void)fs_ioctl(bx.fs[i], FITHAW);
	for (i = NFS; i-- > 0;) {
		if (bx.mounted[i] && umount2(bx.fs[i], 0) < 0)
			umount2(bx.fs[i], MNT_DETACH);
		bx.mounted[i] = false;
	}
	if (bx.run_mounted)
		umount2(bx.run, MNT_DETACH);
	bx.run_mounted = false;
	for (i = 0; i < NFS; i++) {
		if (bx.zram[i] < 0)
			continue;
		snprintf(id, sizeof(id), "%d", bx.zram[i]);
		(void)write_sys(ZRAM_CONTROL "/hot_remove", id);
		bx.zram[i] = -1;
	}
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int zram_new(int slot, char *devpath, size_t size)
{
	char id[32], p[128];
	_cleanup_close_ int fd =
		open(ZRAM_CONTROL "/hot_add", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, id, sizeof(id) - 1);
	if (n <= 0)
		return -EIO;
	id[n] = '\0';
	bx.zram[slot] = atoi(id);
	snprintf(p, sizeof(p), "/sys/block/zram%d/disksize", bx.zram[slot]);
	if (write_sys(p, "768M") < 0)
		return -EIO;
	snprintf(devpath, size, "/dev/zram%d", bx.zram[slot]);
	return access(devpath, F_OK) < 0 ? -ENODEV : 0;
}

/* NULL when ready, else why not (a skip reason or an error). */
static const char *setup(char *why, size_t size)
{
	char dev[64], p[160];
	int i;

	if (geteuid() != 0)
		return "not root";
	if (access(ZRAM_CONTROL "/hot_add", R_OK) < 0)
		return "no zram (modprobe zram)";
	if (access("/usr/sbin/mkfs.ext4", X_OK) < 0 &&
	    access("/sbin/mkfs.ext4", X_OK) < 0)
		return "no mkfs.ext4 (apt-get install e2fsprogs)";
	/* Our own mount namespace: nothing we mount leaks out. */
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return "no private mount namespace";
	hv_strscpy(bx.base, "/tmp/hvis-vss-bench.XXXXXX", sizeof(bx.base));
	if (!mkdtemp(bx.base))
		return "mkdtemp failed";
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	atexit(cleanup);
	snprintf(bx.mnt, sizeof(bx.mnt), "%s/mnt", bx.base);
	snprintf(bx.run, sizeof(bx.run), "%s/run", bx.base);
	snprintf(bx.conf, sizeof(bx.conf), "%s/etc", bx.base);
	snprintf(bx.dev, sizeof(bx.dev), "%s/vmbus/hv_vss", bx.base);
	snprintf(bx.log, sizeof(bx.log), "%s/daemon.log", bx.base);
	snprintf(bx.marker_dir, sizeof(bx.marker_dir), "%s/hvis", bx.run);
	snprintf(p, sizeof(p), "%s/vmbus", bx.base);
	if (mkdir(bx.mnt, 0755) < 0 || mkdir(bx.run, 0755) < 0 ||
	    mkdir(bx.conf, 0755) < 0 || mkdir(p, 0755) < 0)
		return "mkdir failed";
	/* /run is a tmpfs in production: the marker is never frozen. */
	if (mount("tmpfs", bx.run, "tmpfs", 0, "mode=0755") < 0)
		return "cannot mount a tmpfs";
	bx.run_mounted = true;
	if (mkdir(bx.marker_dir, 0755) < 0)
		return "mkdir failed";
	for (i = 0; i < NFS; i++) {
		const char *mkfs[] = { "mkfs.ext4", "-qF", dev, NULL };
		int r = zram_new(i, dev, sizeof(dev));

		if (r < 0) {
			snprintf(why, size, "cannot set up a zram device: %s",
				 strerror(-r));
			return why;
		}
		snprintf(p, sizeof(p), "%s/mkfs.out", bx.base);
		if (run(p, mkfs) != 0)
			return "mkfs.ext4 failed";
		snprintf(bx.fs[i], sizeof(bx.fs[i]), "%s/fs%d", bx.mnt, i);
		if (mkdir(bx.fs[i], 0755) < 0 ||
		    mount(dev, bx.fs[i], "ext4", 0, "discard") < 0) {
			snprintf(why, size, "cannot mount %s: %s", dev,
				 strerror(errno));
			return why;
		}
		bx.mounted[i] = true;
	}
	return NULL;
}

static int daemon_argv(const char **argv)
{
	static char only[128], runopt[128], conf[128], devopt[128];
	int n = 0;

	snprintf(only, sizeof(only), "--only=%s", bx.mnt);
	snprintf(runopt, sizeof(runopt), "--run-dir=%s", bx.run);
	snprintf(conf, sizeof(conf), "--conf-dir=%s", bx.conf);
	snprintf(devopt, sizeof(devopt), "--dev-dir=%s", bx.base);
	argv[n++] = bx.daemon;
	argv[n++] = "--thaw-timeout=30s";
	argv[n++] = devopt;
	argv[n++] = runopt;
	argv[n++] = conf;
	argv[n++] = only;
	argv[n] = NULL;
	return n;
}

/*
 * The guard: --list-targets must list exactly our four mount points, or
 * nothing is started. Returns 0 or -EPERM.
 */
static int guard(void)
{
	const char *argv[16];
	char out[160], line[512];
	size_t len = strlen(bx.mnt), count = 0;
	int n = daemon_argv(argv);
	FILE *fp;

	argv[n++] = "--list-targets";
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/targets", bx.base);
	if (run(out, argv) != 0)
		return -EPERM;
	fp = fopen(out, "re");
	if (!fp)
		return -EPERM;
	while (fgets(line, sizeof(line), fp)) {
		char *mp = line + 7, *tab;

		if (strncmp(line, "freeze\t", 7) != 0)
			continue;
		tab = strchr(mp, '\t');
		if (tab)
			*tab = '\0';
		if (strncmp(mp, bx.mnt, len) != 0 || mp[len] != '/') {
			fprintf(stderr,
				"vss-bench: SAFETY: would freeze %s; "
				"stopping\n",
				mp);
			fclose(fp);
			return -EPERM;
		}
		count++;
	}
	fclose(fp);
	if (count != NFS) {
		fprintf(stderr, "vss-bench: SAFETY: %zu targets, not %d\n",
			count, NFS);
		return -EPERM;
	}
	return 0;
}

/*
 * The watcher: one CLOCK_MONOTONIC timestamp per rename into the marker
 * directory, written to a pipe. SCHED_FIFO so it runs at once even when
 * pinned to the daemon's CPU.
 */
static int start_watcher(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	bx.watcher = fork();
	if (bx.watcher < 0)
		return -errno;
	if (bx.watcher == 0) {
		struct sched_param sp = { .sched_priority = 1 };
		char ev[4096] __attribute__((aligned(8)));
		uint64_t t;
		int in = inotify_init1(IN_CLOEXEC);

		close(p[0]);
		(void)sched_setscheduler(0, SCHED_FIFO, &sp);
		if (in < 0 || inotify_add_watch(in, bx.marker_dir,
						IN_MOVED_TO | IN_DELETE) < 0)
			_exit(1);
		/* Ready: the parent waits for this first timestamp. */
		t = bench_now_ns();
		if (write(p[1], &t, sizeof(t)) != sizeof(t))
			_exit(0);
		for (;;) {
			ssize_t n = read(in, ev, sizeof(ev));

			t = bench_now_ns();
			if (n <= 0)
				_exit(1);
			/* One timestamp per event: a read may batch some. */
			for (ssize_t off = 0; off < n;) {
				const struct inotify_event *e =
					(const void *)(ev + off);

				if (write(p[1], &t, sizeof(t)) != sizeof(t))
					_exit(0);
				off += (ssize_t)(sizeof(*e) + e->len);
			}
		}
	}
	close(p[1]);
	bx.events = p[0];
	return 0;
}

/* Timestamps that arrive until none has for quiet_ms. */
static size_t collect(uint64_t *ts, size_t max, int quiet_ms)
{
	struct pollfd pfd = { .fd = bx.events, .events = POLLIN };
	size_t n = 0;
	uint64_t t;

	while (poll(&pfd, 1, quiet_ms) == 1) {
		if (read(bx.events, &t, sizeof(t)) != sizeof(t))
			break;
		if (n < max)
			ts[n++] = t;
	}
	return n;
}

/* 256 MiB (default) per filesystem, left dirty in the page cache. */
static int dirty(unsigned int round)
{
	for (int i = 0; i < NFS; i++) {
		char p[160];
		_cleanup_close_ int fd = -1;

		snprintf(p, sizeof(p), "%s/data", bx.fs[i]);
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		for (unsigned int m = 0; m < bx.mib; m++) {
			/* Distinct pages: zram stores same-filled ones free. */
			hv_put_le32(buf, round << 24 | (unsigned)i << 16 | m);
			if (write(fd, buf, BUF_SIZE) != BUF_SIZE)
				return -EIO;
		}
	}
	return 0;
}

static int daemon_round(unsigned int round)
{
	struct hvsim_vss_backup res;
	uint64_t ts[64];
	size_t n;
	int r;

	r = dirty(round);
	if (r < 0)
		return r;
	(void)collect(ts, ARRAY_SIZE(ts), 0);
	r = hvsim_vss_backup(bx.v, (int)bx.hold_ms, &res);
	if (r < 0)
		return r;
	if (res.freeze_result < 0 || res.freeze_status != HV_S_OK ||
	    res.thaw_result < 0 || res.thaw_status != HV_S_OK ||
	    res.freeze_path != HVSIM_VSS_PATH_DAEMON ||
	    res.thaw_path != HVSIM_VSS_PATH_DAEMON)
		return -EPROTO;
	/* The marker is rewritten twice per FIFREEZE, then per FITHAW. */
	n = collect(ts, ARRAY_SIZE(ts), 200);
	if (n < 2 * NFS + 1) {
		fprintf(stderr, "vss-bench: %zu marker updates\n", n);
		return -ENODATA;
	}
	bx.freeze_ms[bx.n_daemon] = (double)res.freeze_usec / 1e3;
	bx.thaw_ms[bx.n_daemon] = (double)res.thaw_usec / 1e3;
	bx.window_ms[bx.n_daemon] =
		(double)(ts[n - 1] - ts[0]) / 1e6 - bx.hold_ms;
	bx.n_daemon++;
	return 0;
}

static int loop_round(unsigned int round)
{
	int fds[NFS], i, r = 0;
	uint64_t t0, t1;

	for (i = 0; i < NFS; i++)
		fds[i] = -1;
	r = dirty(round);
	for (i = 0; i < NFS && r == 0; i++) {
		fds[i] = open(bx.fs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fds[i] < 0)
			r = -errno;
	}
	if (r < 0)
		goto out;
	t0 = bench_now_ns();
	for (i = 0; i < NFS; i++)
		if (ioctl(fds[i], FIFREEZE, 0) < 0)
			r = r ? r : -errno;
	for (i = 0; i < NFS; i++)
		if (ioctl(fds[i], FITHAW, 0) < 0)
			r = r ? r : -errno;
	t1 = bench_now_ns();
	if (r == 0)
		bx.loop_ms[bx.n_loop++] = (double)(t1 - t0) / 1e6;
out:
	for (i = 0; i < NFS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

static int start_daemon(void)
{
	posix_spawn_file_actions_t fa;
	const char *argv[16];
	int n, r;

	r = guard();
	if (r < 0)
		return r;
	r = hvsim_cdev_new(bx.dev, HVSIM_CDEV_VSS, &bx.cd);
	if (r == 0)
		r = hvsim_vss_new(bx.cd, &bx.v);
	if (r < 0)
		return r;
	hvsim_vss_set_timeouts(bx.v, WAIT_MS, WAIT_MS);
	n = daemon_argv(argv);
	argv[n++] = "--log=stderr";
	argv[n++] = "--debug";
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, bx.log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	r = posix_spawn(&bx.pid, argv[0], &fa, NULL, (char *const *)argv,
			environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		bx.pid = -1;
		return -r;
	}
	return hvsim_cdev_wait_ready(bx.cd, WAIT_MS);
}

static void stats(const double *v, unsigned int n, double *med, double *lo,
		  double *hi)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), bench_cmp_double);
	*med = bench_median(s, n);
	*lo = n ? s[0] : 0;
	*hi = n ? s[n - 1] : 0;
}

static void json_series(FILE *f, const char *key, const double *v,
			unsigned int n, bool last)
{
	double med, lo, hi;

	stats(v, n, &med, &lo, &hi);
	fprintf(f, "  \"%s\": {\"median\": ", key);
	bench_json_num(f, med);
	fprintf(f, ", \"runs\": [");
	for (unsigned int i = 0; i < n; i++) {
		fprintf(f, "%s", i ? ", " : "");
		bench_json_num(f, v[i]);
	}
	fprintf(f, "]}%s\n", last ? "" : ",");
}

static void report(const char *affinity, int ncpus)
{
	static const char *const names[] = {
		"daemon FREEZE reply",
		"daemon THAW reply",
		"daemon frozen window - hold",
		"FIFREEZE loop frozen window",
	};
	const double *series[] = { bx.freeze_ms, bx.thaw_ms, bx.window_ms,
				   bx.loop_ms };
	unsigned int counts[] = { bx.n_daemon, bx.n_daemon, bx.n_daemon,
				  bx.n_loop };
	double med[4], lo[4], hi[4];
	FILE *f;

	printf("\nVSS, %s: %s (CPUs %s); %d ext4 on zram, %u MiB dirty "
	       "each; host hold %u ms; ms, median of %u round(s)\n",
	       bx.label, ncpus == 1 ? "pinned" : "unpinned", affinity, NFS,
	       bx.mib, bx.hold_ms, bx.rounds);
	printf("  daemon window: first marker rename (just before the first "
	       "FIFREEZE) to the last\n  (after the last FITHAW), minus the "
	       "hold: an upper bound. The loop does no\n  sync pass, so its "
	       "FIFREEZEs write the dirty data back while frozen.\n");
	printf("  %-30s %9s %9s %9s\n", "", "median", "min", "max");
	for (int i = 0; i < 4; i++) {
		stats(series[i], counts[i], &med[i], &lo[i], &hi[i]);
		if (counts[i])
			printf("  %-30s %9.2f %9.2f %9.2f\n", names[i], med[i],
			       lo[i], hi[i]);
		else
			printf("  %-30s %9s\n", names[i], "failed");
	}
	if (bx.n_daemon && bx.n_loop && med[2] > 0)
		printf("  frozen window, loop / daemon: %.1fx\n",
		       med[3] / med[2]);
	if (!bx.json)
		return;
	f = fopen(bx.json, "we");
	if (!f)
		return;
	fprintf(f, "{\"label\": ");
	bench_json_str(f, bx.label);
	fprintf(f, ", \"cpus\": ");
	bench_json_str(f, affinity);
	fprintf(f,
		", \"filesystems\": %d, \"dirty_mib_each\": %u, "
		"\"hold_ms\": %u, \"unit\": \"ms\", \"window_method\": "
		"\"daemon: first to last rename of its frozen-state marker "
		"(inotify), minus the hold: upper bound\",\n",
		NFS, bx.mib, bx.hold_ms);
	json_series(f, "daemon_freeze_reply_ms", bx.freeze_ms, bx.n_daemon,
		    false);
	json_series(f, "daemon_thaw_reply_ms", bx.thaw_ms, bx.n_daemon, false);
	json_series(f, "daemon_window_minus_hold_ms", bx.window_ms, bx.n_daemon,
		    false);
	json_series(f, "loop_window_ms", bx.loop_ms, bx.n_loop, true);
	fprintf(f, "}\n");
	fclose(f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "daemon", required_argument, NULL, 'd' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "mib", required_argument, NULL, 'm' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "label", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{},
	};
	char why[256], affinity[128];
	const char *skip;
	int c, ncpus = 0, r;

	bx.label = "default";
	bx.rounds = 3;
	bx.mib = 256;
	bx.hold_ms = 100;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		unsigned long v = 0;

		if (c != 'd' && c != 'l' && c != 'j') {
			if (!optarg)
				return 64;
			v = strtoul(optarg, NULL, 10);
		}
		switch (c) {
		case 'd':
			bx.daemon = optarg;
			break;
		case 'R':
			bx.rounds = (unsigned int)HV_MAX(
				1ul, HV_MIN(v, (unsigned long)MAX_ROUNDS));
			break;
		case 'm':
			bx.mib = (unsigned int)HV_MAX(1ul, HV_MIN(v, 512ul));
			break;
		case 'H':
			bx.hold_ms = (unsigned int)HV_MIN(v, 10000ul);
			break;
		case 'l':
			bx.label = optarg;
			break;
		case 'j':
			bx.json = optarg;
			break;
		default:
			fprintf(stderr, "usage: vss-bench --daemon=PATH "
					"[--rounds=N] [--mib=N] [--hold-ms=N] "
					"[--label=L] [--json=FILE]\n");
			return 64;
		}
	}
	if (!bx.daemon)
		return 64;
	if (bench_affinity(affinity, sizeof(affinity), &ncpus) < 0)
		return 1;
	skip = setup(why, sizeof(why));
	if (skip) {
		printf("vss-bench: skipped: %s\n", skip);
		cleanup();
		return 0;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)((i * 2654435761u) >> 13);
	r = start_watcher();
	if (r == 0) {
		struct pollfd pfd = { .fd = bx.events, .events = POLLIN };
		uint64_t t;

		/* The watcher's first timestamp: its watch is in place. */
		if (poll(&pfd, 1, WAIT_MS) != 1 ||
		    read(bx.events, &t, sizeof(t)) != sizeof(t))
			r = -EIO;
	}
	if (r == 0)
		r = start_daemon();
	if (r < 0) {
		fprintf(stderr, "vss-bench: cannot start: %s (log: %s)\n",
			strerror(-r), bx.log);
		cleanup();
		return 1;
	}
	for (unsigned int round = 0; round < bx.rounds; round++) {
		/* Alternate who goes first. */
		for (int k = 0; k < 2; k++) {
			bool daemon = (k + round) % 2 == 0;

			r = daemon ? daemon_round(round) : loop_round(round);
			if (r < 0) {
				fprintf(stderr,
					"vss-bench: %s, round %u: %s (log: "
					"%s)\n",
					daemon ? "daemon" : "loop", round + 1,
					strerror(-r), bx.log);
				bx.failures++;
			}
		}
		fprintf(stderr, "vss-bench: %s: round %u/%u done\n", bx.label,
			round + 1, bx.rounds);
	}
	report(affinity, ncpus);
	if (bx.pid > 0 && bench_stop(bx.pid, WAIT_MS) >= 0)
		bx.pid = -1;
	bx.v = hvsim_vss_free(bx.v);
	bx.cd = hvsim_cdev_free(bx.cd);
	if (bx.failures)
		fprintf(stderr, "vss-bench: daemon log kept: %s\n", bx.log);
	cleanup();
	if (!bx.failures) {
		const char *rm[] = { "rm", "-rf", bx.base, NULL };

		(void)run(NULL, rm);
	}
	return bx.failures ? 1 : 0;
}
