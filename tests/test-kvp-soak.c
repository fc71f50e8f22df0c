/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * KVP soak (issue 9, Load): the host enumerates pool 1 without pause
 * through the real hv_kvp_daemon on the simulated device while four
 * processes write the same pool file:
 *
 *   cloud-init  its own HyperVKvpReportingHandler (the Python code, via
 *               tests/interop/cloudinit-kvp-soak-writer.py): flock appends
 *   appender    records laid out and appended as that handler does, in C,
 *               each record in two write() calls so readers meet a partial
 *               trailing record as often as possible
 *   hv-kvp      the CLI binary, one run per set or delete, and now and
 *               then a get of the value it set last
 *   host        SET and DELETE through hvsim and the daemon
 *
 * HVIS_SOAK_OPS (default 5000; make soak: 100000) operations in all, a
 * quarter each. Every key space has one writer, so the final pool is
 * known in advance:
 *
 *   cloud-init, appender  event i appended once. The host consumes (deletes
 *                         through the daemon) every event it enumerates
 *                         except the last SOAK_KEEP of each writer, and
 *                         hands the writer a token per event consumed; a
 *                         writer runs at most SOAK_WINDOW events ahead, so
 *                         the pool stays small and the daemon's memory
 *                         should stay flat. Each event must be seen, and
 *                         consumed or kept, exactly once.
 *   hv-kvp, host          set/delete over SOAK_KEYS keys each in a fixed
 *                         pseudo-random order; values carry the key, the
 *                         op number and filler derived from both.
 *
 * Every record the host enumerates during the run is checked: key and
 * value belong together (a torn or mixed record fails), an event seen
 * twice in one pass or after it was consumed is a duplicate, a host key
 * must hold exactly what the host wrote last, an hv-kvp key a value the
 * CLI has written. At the end the pool file (read raw, kvp_client-style)
 * and a host enumeration must both hold exactly the expected records.
 * The daemon's VmRSS and open fds are sampled every ops/50 operations: the
 * last RSS may exceed the one after warm-up (10% of the ops) by at most
 * SOAK_RSS_MARGIN_KB (plain builds: see rss_meaningful()), and the fd
 * count must be the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "daemon-spawn.h"
#include "hvis/util.h"
#include "hvis/wire.h"
#include "hvsim/hvsim.h"

#define TIMEOUT_MS HVIS_TIMEOUT(10000)
/* No operation finished by anyone for this long: something is stuck. */
#define STALL_MS HVIS_TIMEOUT(120000)
#define REC 2560
#define KEYSZ 512
#define VALSZ 2048
#define POOL 1

#define SOAK_OPS_DEFAULT 5000ul
#define SOAK_OPS_MIN 2000ul
#define SOAK_KEEP 64ul /* events of each appender left in the pool */
#define SOAK_WINDOW 256ul /* events an appender may run ahead */
#define SOAK_KEYS 128u /* keys of hv-kvp, keys of the host */
#define SOAK_SAMPLES 50ul
/*
 * Why 512 KiB: what the daemon may legitimately hold more at the end
 * than after warm-up is its pool-1 index at a larger record count. The
 * pool never holds more than 2 * SOAK_WINDOW events + 2 * SOAK_KEYS keys
 * (768 records); an index entry is a 16-byte slot, a malloc'ed key of up
 * to 96 bytes and a hash bucket, and a reload builds a second index
 * before freeing the first: 2 * 768 * ~128 B = 192 KiB, rounded up for
 * malloc's free lists and page granularity. A leak of 8 bytes per
 * operation over 100,000 operations (800 KiB) does not fit in it.
 */
#define SOAK_RSS_MARGIN_KB 512l
#define CLI_GET_EVERY 64ul

extern char **environ;

enum writer { W_PY, W_APPEND, W_CLI, W_HOST, W_MAX };
static const char *const writer_names[W_MAX] = { "cloud-init", "appender",
						 "hv-kvp", "host" };
static const char *const event_prefix[2] = { "soak-py", "soak-c" };

/* Progress of the child writers, shared with them. */
struct shared {
	atomic_ulong done[W_MAX];
	atomic_ulong cli_issued; /* ops the CLI writer has started */
};

struct plan_op {
	uint16_t key;
	bool del;
};

enum ev_state { EV_UNSEEN, EV_CONSUMED, EV_KEPT };

struct events {
	unsigned long n;
	uint8_t *state;
	uint32_t *pass; /* the pass a kept event was last seen in */
	unsigned long consumed, kept;
	pid_t pid;
	int tokens; /* write end of the writer's token pipe */
};

struct sample {
	unsigned long ops;
	long rss_kb;
	int fds;
};

struct soak {
	char root[64];
	char state[128];
	char pool[160];
	char log[160];
	char run[128];
	struct hvsim_cdev *cd;
	struct hvsim_kvp *k;
	pid_t daemon;
	unsigned long ops, n[W_MAX];
	struct shared *sh;
	bool python;

	struct events ev[2];
	struct plan_op *cli_plan, *host_plan;
	long cli_final[SOAK_KEYS];
	long host_final[SOAK_KEYS];
	long host_model[SOAK_KEYS]; /* op number of the value, -1 absent */
	pid_t cli;

	uint32_t pass, index;
	unsigned long enumerated, host_ops, passes, checked;
	struct sample samples[SOAK_SAMPLES + 8];
	size_t nsamples;
	unsigned long next_sample;
	long warm_rss;
	int warm_fds;
};

/* ---------------------------------------------------------------------- */
/* Values. */

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* "KEY=SEQ:" and 100..899 characters of filler that depend on both. */
static void make_value(char *buf, size_t size, const char *key,
		       unsigned long seq)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint32_t h = fnv1a(key);
	uint64_t x = ((uint64_t)h << 32 | (uint32_t)seq) ^
		     0x9e3779b97f4a7c15ull;
	size_t len = 100 + (seq * 131 + h) % 800, n;
	int w = snprintf(buf, size, "%s=%lu:", key, seq);

	assert_true(w > 0 && (size_t)w + len < size);
	n = (size_t)w;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[n++] = alnum[(x >> 33) % 36];
	}
	buf[n] = '\0';
}

/* A value made by make_value() for key: its op number, or -1. */
static long value_seq(const char *key, const char *value)
{
	static char want[VALSZ];
	size_t klen = strlen(key);
	unsigned long seq;
	char *end;

	if (strncmp(value, key, klen) != 0 || value[klen] != '=' ||
	    value[klen + 1] < '0' || value[klen + 1] > '9')
		return -1;
	errno = 0;
	seq = strtoul(value + klen + 1, &end, 10);
	if (errno || *end != ':' || seq > (unsigned long)LONG_MAX)
		return -1;
	make_value(want, sizeof(want), key, seq);
	return strcmp(want, value) == 0 ? (long)seq : -1;
}

/* Keep in step with desc() in cloudinit-kvp-soak-writer.py. */
static void soak_desc(char *buf, size_t size, unsigned long i)
{
	char base[9];
	size_t n = 64 + (i * 37) % 700, w;

	snprintf(base, sizeof(base), "%08lx", (i * 2654435761ul) & 0xffffffff);
	w = (size_t)snprintf(buf, size, "event %lu ", i);
	assert_true(w + n < size);
	for (size_t k = 0; k < n; k++)
		buf[w + k] = base[k % 8];
	buf[w + n] = '\0';
}

/*
 * An event record as cloud-init writes it: key
 * CLOUD_INIT|<incarnation>|start|<prefix>/<i>|<uuid>, value
 * {"name":"<prefix>/<i>","type":"start","ts":"<iso>Z","msg":"<desc>"}.
 * Returns the writer (0, 1) with *seq, -1 if it is none of ours.
 */
static int event_parse(const char *key, const char *value, unsigned long *seq)
{
	static char want[VALSZ];
	const char *p = key, *u;
	unsigned long i;
	char *end;
	int w;
	size_t n;

	if (strncmp(p, "CLOUD_INIT|", 11) != 0)
		return -1;
	p += 11;
	n = strspn(p, "0123456789");
	if (n == 0 || strncmp(p + n, "|start|", 7) != 0)
		return -1;
	p += n + 7;
	for (w = 0; w < 2; w++) {
		n = strlen(event_prefix[w]);
		if (strncmp(p, event_prefix[w], n) == 0 && p[n] == '/')
			break;
	}
	if (w == 2)
		return -1;
	p += n + 1;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	i = strtoul(p, &end, 10);
	if (errno || *end != '|')
		return -1;
	u = end + 1;
	if (strlen(u) != 36 || strspn(u, "0123456789abcdef-") != 36 ||
	    u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-')
		return -1;

	n = (size_t)snprintf(
		want, sizeof(want),
		"{\"name\":\"%s/%lu\",\"type\":\"start\",\"ts\":\"",
		event_prefix[w], i);
	if (strncmp(value, want, n) != 0)
		return -1;
	p = value + n;
	n = strspn(p, "0123456789-T:.");
	if (n < 19)
		return -1;
	p += n;
	n = (size_t)snprintf(want, sizeof(want), "Z\",\"msg\":\"");
	soak_desc(want + n, sizeof(want) - n, i);
	n = strlen(want);
	if (strncmp(p, want, n) != 0 || strcmp(p + n, "\"}") != 0)
		return -1;
	*seq = i;
	return w;
}

/* ---------------------------------------------------------------------- */
/* Plans of the set/delete writers. */

static struct plan_op *make_plan(unsigned long n, uint32_t salt, long *final)
{
	struct plan_op *plan = calloc(n, sizeof(*plan));
	uint64_t x = 0x2545f4914f6cdd1dull ^ salt;

	assert_non_null(plan);
	for (unsigned k = 0; k < SOAK_KEYS; k++)
		final[k] = -1;
	for (unsigned long j = 0; j < n; j++) {
		uint16_t key = (uint16_t)((j * 77 + salt) % SOAK_KEYS);

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		plan[j].key = key;
		plan[j].del = final[key] >= 0 && x % 4 == 0;
		final[key] = plan[j].del ? -1 : (long)j;
	}
	return plan;
}

/* ---------------------------------------------------------------------- */
/* The daemon. */

/*
 * Is the daemon's RSS a measure of its own memory? Not under a wrapper
 * (valgrind's memory is counted too), and not when built with ASan: its
 * quarantine keeps freed blocks (up to 256 MiB) and their shadow resident.
 * LeakSanitizer checks the daemon at exit instead, and the test asserts
 * that exit status.
 */
static bool rss_meaningful(void)
{
#ifdef __SANITIZE_ADDRESS__
	return false;
#else
	return !hvis_daemon_wrapped();
#endif
}

static long proc_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

static int proc_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void show_log(const struct soak *s)
{
	char line[512];
	FILE *fp = fopen(s->log, "r");
	int n = 0;

	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp) && n++ < 40)
		print_message("# daemon: %s", line);
	fclose(fp);
}

static void start_daemon(struct soak *s)
{
	posix_spawn_file_actions_t fa;
	char bin[256];
	char *argv[] = { bin, "--root", s->root, "--log=stderr", NULL };

	snprintf(bin, sizeof(bin), "%s/hv_kvp_daemon",
		 getenv("BUILD") ? getenv("BUILD") : "build");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, s->log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	assert_int_equal(hvis_spawn_daemon(&s->daemon, bin, &fa, NULL, argv,
					   environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	if (hvsim_cdev_wait_ready(s->cd, TIMEOUT_MS) != 0) {
		show_log(s);
		fail_msg("daemon did not register");
	}
}

/* SIGTERM, then its exit status within the timeout (pidfd, no polling). */
static int stop_daemon(pid_t pid)
{
	struct pollfd p = { .events = POLLIN };
	int st = -1;

	assert_int_equal(kill(pid, SIGTERM), 0);
	p.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	assert_true(p.fd >= 0);
	if (poll(&p, 1, TIMEOUT_MS) != 1) {
		close(p.fd);
		fail_msg("the daemon did not exit on SIGTERM");
	}
	close(p.fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* ---------------------------------------------------------------------- */
/* Writers (children: they report by exit status, never return). */

static void child_fail(const char *who, const char *fmt, ...) HV_PRINTF(2, 3);
static void child_fail(const char *who, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "# %s: ", who);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

static void take_token(int fd, const char *who)
{
	char b;
	ssize_t r;

	do
		r = read(fd, &b, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		child_fail(who, "token pipe ended early");
}

/* The record cloud-init's handler would write for event i. */
static void appender_record(uint8_t *rec, int w, unsigned long i,
			    long incarnation)
{
	char key[KEYSZ], value[VALSZ], ts[32], desc[1024];
	struct timespec now;
	struct tm tm;
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull, y;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	x ^= x >> 31;
	y = x * 0xbf58476d1ce4e5b9ull;
	snprintf(key, sizeof(key),
		 "CLOUD_INIT|%ld|start|%s/%lu|%08x-%04x-4%03x-%04x-%012" PRIx64,
		 incarnation, event_prefix[w], i, (unsigned)(x >> 32),
		 (unsigned)(x >> 16) & 0xffff, (unsigned)x & 0xfff,
		 0x8000 | ((unsigned)(y >> 48) & 0x3fff),
		 (uint64_t)(y & 0xffffffffffffull));
	soak_desc(desc, sizeof(desc), i);
	snprintf(value, sizeof(value),
		 "{\"name\":\"%s/%lu\",\"type\":\"start\",\"ts\":\"%s.%06ldZ\","
		 "\"msg\":\"%s\"}",
		 event_prefix[w], i, ts, now.tv_nsec / 1000, desc);
	memset(rec, 0, REC);
	memcpy(rec, key, strlen(key));
	memcpy(rec + KEYSZ, value, strlen(value));
}

/*
 * As _append_kvp_item(): open for append, flock, the queued records,
 * unlock, close. One to three records per lock, like a handler thread
 * that found more events in its queue.
 */
static void appender_child(struct soak *s, int w, unsigned long n, int tokens)
{
	static uint8_t recs[3][REC];
	long incarnation = (long)time(NULL);

	for (unsigned long i = 0; i < n;) {
		unsigned long batch = HV_MIN(1 + i % 3, n - i);
		int fd;

		for (unsigned long b = 0; b < batch; b++) {
			if (i + b >= SOAK_WINDOW)
				take_token(tokens, "appender");
			appender_record(recs[b], w, i + b, incarnation);
		}
		fd = open(s->pool, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			child_fail("appender", "open/flock: %m");
		for (unsigned long b = 0; b < batch; b++)
			if (hv_write_full(fd, recs[b], 1000) != 1000 ||
			    hv_write_full(fd, recs[b] + 1000, REC - 1000) !=
				    REC - 1000)
				child_fail("appender", "write: %m");
		flock(fd, LOCK_UN);
		close(fd);
		i += batch;
		/* Python's progress is what the host sees; ours is known. */
		if (w == W_APPEND)
			atomic_store(&s->sh->done[W_APPEND], i);
	}
	_exit(0);
}

/* Run hv-kvp; its exit status, its stdout in out (may be NULL). */
static int run_cli(struct soak *s, char **args, char *out, size_t size)
{
	char bin[256];
	char *argv[8] = { bin, "--root", s->root };
	posix_spawn_file_actions_t fa;
	int pipefd[2] = { -1, -1 }, st, n = 3;
	size_t got = 0;
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/hv-kvp",
		 getenv("BUILD") ? getenv("BUILD") : "build");
	while (*args && n < 7)
		argv[n++] = *args++;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	if (out) {
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			child_fail("hv-kvp", "pipe: %m");
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	}
	/* Never under the daemon wrapper: 25,000 runs under valgrind would
	 * take hours, and tests/scripts/hv-kvp.sh covers the CLI. */
	errno = posix_spawn(&pid, bin, &fa, NULL, argv, environ);
	if (errno)
		child_fail("hv-kvp", "spawn: %m");
	posix_spawn_file_actions_destroy(&fa);
	if (out) {
		ssize_t r;

		close(pipefd[1]);
		while (got + 1 < size &&
		       (r = read(pipefd[0], out + got, size - 1 - got)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				break;
			got += (size_t)r;
		}
		out[got] = '\0';
		close(pipefd[0]);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			child_fail("hv-kvp", "waitpid: %m");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void cli_child(struct soak *s)
{
	static char key[32], value[VALSZ], out[VALSZ + 8];
	long model[SOAK_KEYS];

	for (unsigned k = 0; k < SOAK_KEYS; k++)
		model[k] = -1;
	for (unsigned long j = 0; j < s->n[W_CLI]; j++) {
		const struct plan_op *op = &s->cli_plan[j];
		int st;

		snprintf(key, sizeof(key), "cli/%u", op->key);
		atomic_store(&s->sh->cli_issued, j + 1);
		if (op->del) {
			st = run_cli(s, (char *[]){ "delete", key, NULL }, NULL,
				     0);
			model[op->key] = -1;
		} else {
			make_value(value, sizeof(value), key, j);
			st = run_cli(s, (char *[]){ "set", key, value, NULL },
				     NULL, 0);
			model[op->key] = (long)j;
		}
		if (st != 0)
			child_fail("hv-kvp", "op %lu (%s %s): exit %d", j,
				   op->del ? "delete" : "set", key, st);
		if (j % CLI_GET_EVERY == CLI_GET_EVERY - 1 &&
		    model[op->key] >= 0) {
			st = run_cli(s,
				     (char *[]){ "get", "--pool", "guest", key,
						 NULL },
				     out, sizeof(out));
			make_value(value, sizeof(value), key, j);
			if (st != 0 || strncmp(out, value, strlen(value)) ||
			    strcmp(out + strlen(value), "\n") != 0)
				child_fail("hv-kvp", "get %s: exit %d, '%.40s'",
					   key, st, out);
		}
		atomic_store(&s->sh->done[W_CLI], j + 1);
	}
	_exit(0);
}

static pid_t start_python(struct soak *s, unsigned long n, int *tokens)
{
	char script[256], count[24], window[24];
	char *argv[] = { "python3", script, s->pool, (char *)event_prefix[0],
			 count,	    window, NULL };
	posix_spawn_file_actions_t fa;
	int p[2];
	pid_t pid;

	snprintf(script, sizeof(script),
		 "%s/tests/interop/cloudinit-kvp-soak-writer.py",
		 getenv("HVIS_SRCDIR") ? getenv("HVIS_SRCDIR") : ".");
	snprintf(count, sizeof(count), "%lu", n);
	snprintf(window, sizeof(window), "%lu", SOAK_WINDOW);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
	assert_int_equal(posix_spawn(&pid, "/usr/bin/python3", &fa, NULL, argv,
				     environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	*tokens = p[1];
	return pid;
}

static pid_t start_appender(struct soak *s, int w, unsigned long n, int *tokens)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[1]);
		appender_child(s, w, n, p[0]);
	}
	close(p[0]);
	*tokens = p[1];
	return pid;
}

/* ---------------------------------------------------------------------- */
/* The host. */

static void sample(struct soak *s, unsigned long ops)
{
	struct sample *sm;

	if (s->nsamples >= ARRAY_SIZE(s->samples))
		s->nsamples = ARRAY_SIZE(s->samples) - 1;
	sm = &s->samples[s->nsamples++];
	sm->ops = ops;
	sm->rss_kb = proc_rss_kb(s->daemon);
	sm->fds = proc_fds(s->daemon);
	if (s->warm_rss < 0 && ops >= s->ops / 10) {
		s->warm_rss = sm->rss_kb;
		s->warm_fds = sm->fds;
	}
}

static unsigned long progress(struct soak *s)
{
	return atomic_load(&s->sh->done[W_PY]) +
	       atomic_load(&s->sh->done[W_APPEND]) +
	       atomic_load(&s->sh->done[W_CLI]) + s->host_ops;
}

static void host_op(struct soak *s)
{
	static char key[32], value[VALSZ];
	unsigned long j = s->host_ops;
	const struct plan_op *op = &s->host_plan[j];
	uint32_t status = 0;
	int r;

	snprintf(key, sizeof(key), "host/%u", op->key);
	if (op->del) {
		r = hvsim_kvp_delete(s->k, POOL, key, &status);
		s->host_model[op->key] = -1;
	} else {
		make_value(value, sizeof(value), key, j);
		r = hvsim_kvp_set(s->k, POOL, key, value, &status);
		s->host_model[op->key] = (long)j;
	}
	if (r != 0 || status != HV_S_OK) {
		show_log(s);
		fail_msg("host op %lu (%s %s): %d, status 0x%08x", j,
			 op->del ? "DELETE" : "SET", key, r, status);
	}
	s->host_ops++;
	atomic_store(&s->sh->done[W_HOST], s->host_ops);
}

/* An event the host enumerated: consume it, or note a kept one. */
static void host_event(struct soak *s, int w, unsigned long i, const char *key)
{
	struct events *e = &s->ev[w];
	uint32_t status = 0;
	int r;

	if (i >= e->n)
		fail_msg("%s event %lu: beyond the %lu written",
			 writer_names[w], i, e->n);
	if (e->state[i] == EV_CONSUMED)
		fail_msg("%s event %lu seen again after it was consumed "
			 "(duplicate)",
			 writer_names[w], i);
	if (i + SOAK_KEEP >= e->n) {
		if (e->state[i] == EV_KEPT && e->pass[i] == s->pass)
			fail_msg("%s event %lu twice in pass %u (duplicate)",
				 writer_names[w], i, s->pass);
		if (e->state[i] == EV_UNSEEN) {
			e->kept++;
			if (w == W_PY)
				atomic_fetch_add(&s->sh->done[W_PY], 1);
		}
		e->state[i] = EV_KEPT;
		e->pass[i] = s->pass;
		return;
	}
	r = hvsim_kvp_delete(s->k, POOL, key, &status);
	if (r != 0 || status != HV_S_OK) {
		show_log(s);
		fail_msg("consuming %s event %lu: %d, status 0x%08x",
			 writer_names[w], i, r, status);
	}
	e->state[i] = EV_CONSUMED;
	e->consumed++;
	if (w == W_PY)
		atomic_fetch_add(&s->sh->done[W_PY], 1);
	/* The writer may have finished and gone: EPIPE is no news then. */
	(void)!write(e->tokens, "t", 1);
}

/* Check one record the host got; classify, consume. */
static void host_record(struct soak *s, const char *key, const char *value)
{
	unsigned long seq;
	unsigned k;
	int w;
	long v;

	s->checked++;
	w = event_parse(key, value, &seq);
	if (w >= 0) {
		host_event(s, w, seq, key);
		return;
	}
	if (sscanf(key, "host/%u", &k) == 1 && k < SOAK_KEYS) {
		v = value_seq(key, value);
		if (v < 0 || v != s->host_model[k])
			fail_msg(
				"host key %s: value op %ld, the host wrote %ld "
				"last",
				key, v, s->host_model[k]);
		return;
	}
	if (sscanf(key, "cli/%u", &k) == 1 && k < SOAK_KEYS) {
		v = value_seq(key, value);
		if (v < 0 ||
		    (unsigned long)v >= atomic_load(&s->sh->cli_issued) ||
		    s->cli_plan[v].del || s->cli_plan[v].key != k)
			fail_msg("hv-kvp key %s: bad value (op %ld): '%.60s'",
				 key, v, value);
		return;
	}
	fail_msg("torn or foreign record: key '%.80s' value '%.80s'", key,
		 value);
}

/* One ENUMERATE; returns true at the end of a pass. */
static bool host_enumerate(struct soak *s)
{
	static char key[HVSIM_KVP_KEY_MAX], value[HVSIM_KVP_VALUE_MAX];
	uint32_t status = 0;
	int r;

	r = hvsim_kvp_enumerate(s->k, POOL, s->index, key, sizeof(key), value,
				sizeof(value), &status);
	if (r != 0 || (status != HV_S_OK && status != HV_S_CONT)) {
		show_log(s);
		fail_msg("ENUMERATE %u: %d, status 0x%08x", s->index, r,
			 status);
	}
	s->enumerated++;
	if (status == HV_S_CONT) {
		s->index = 0;
		s->pass++;
		s->passes++;
		return true;
	}
	host_record(s, key, value);
	s->index++;
	return false;
}

static void reap(struct soak *s, pid_t *pid, const char *who)
{
	int st;
	pid_t r;

	if (*pid <= 0)
		return;
	r = waitpid(*pid, &st, WNOHANG);
	assert_true(r >= 0);
	if (r == 0)
		return;
	*pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		show_log(s);
		fail_msg("writer %s failed: status 0x%x", who, st);
	}
}

static bool writers_running(const struct soak *s)
{
	return s->ev[0].pid > 0 || s->ev[1].pid > 0 || s->cli > 0;
}

static bool events_complete(const struct soak *s)
{
	for (int w = 0; w < 2; w++)
		if (s->ev[w].consumed + s->ev[w].kept != s->ev[w].n)
			return false;
	return true;
}

static void events_lost(const struct soak *s)
{
	for (int w = 0; w < 2; w++)
		for (unsigned long i = 0; i < s->ev[w].n; i++)
			if (s->ev[w].state[i] == EV_UNSEEN)
				fail_msg(
					"%s event %lu lost: the writers are "
					"done and whole passes never showed it",
					writer_names[w], i);
}

/* ---------------------------------------------------------------------- */
/* The final state. */

/* What the end state check has found so far. */
struct final_seen {
	struct soak *s;
	uint8_t *ev[2];
	bool cli[SOAK_KEYS];
	bool host[SOAK_KEYS];
	unsigned long records;
};

static void final_init(struct final_seen *f, struct soak *s)
{
	memset(f, 0, sizeof(*f));
	f->s = s;
	for (int w = 0; w < 2; w++) {
		f->ev[w] = calloc(s->ev[w].n, 1);
		assert_non_null(f->ev[w]);
	}
}

/* Is key=value one of the records the pool must end with? Marks it. */
static void final_record(struct final_seen *f, const char *key,
			 const char *value)
{
	struct soak *s = f->s;
	unsigned long seq;
	unsigned k;
	int w;

	w = event_parse(key, value, &seq);
	if (w >= 0) {
		if (seq >= s->ev[w].n || seq + SOAK_KEEP < s->ev[w].n)
			fail_msg("final: %s event %lu should be gone",
				 writer_names[w], seq);
		if (f->ev[w][seq]++)
			fail_msg("final: %s event %lu twice", writer_names[w],
				 seq);
	} else if (sscanf(key, "host/%u", &k) == 1 && k < SOAK_KEYS) {
		if (s->host_final[k] < 0 ||
		    value_seq(key, value) != s->host_final[k])
			fail_msg("final: %s is not what the host wrote last",
				 key);
		if (f->host[k])
			fail_msg("final: %s twice", key);
		f->host[k] = true;
	} else if (sscanf(key, "cli/%u", &k) == 1 && k < SOAK_KEYS) {
		if (s->cli_final[k] < 0 ||
		    value_seq(key, value) != s->cli_final[k])
			fail_msg(
				"final: %s is not what hv-kvp wrote last (%ld)",
				key, s->cli_final[k]);
		if (f->cli[k])
			fail_msg("final: %s twice", key);
		f->cli[k] = true;
	} else {
		fail_msg("final: foreign record '%.80s'", key);
	}
	f->records++;
	s->checked++;
}

/* Every expected record was there, once (final_record() saw to that). */
static void final_done(struct final_seen *f)
{
	struct soak *s = f->s;
	unsigned long total = 0;

	for (int w = 0; w < 2; w++) {
		for (unsigned long i = s->ev[w].n - SOAK_KEEP; i < s->ev[w].n;
		     i++) {
			if (!f->ev[w][i])
				fail_msg("final: %s event %lu lost",
					 writer_names[w], i);
			total++;
		}
		free(f->ev[w]);
		f->ev[w] = NULL;
	}
	for (unsigned k = 0; k < SOAK_KEYS; k++) {
		if ((s->cli_final[k] >= 0) != f->cli[k])
			fail_msg("final: cli/%u %s", k,
				 f->cli[k] ? "should be deleted" : "lost");
		if ((s->host_final[k] >= 0) != f->host[k])
			fail_msg("final: host/%u %s", k,
				 f->host[k] ? "should be deleted" : "lost");
		total += f->cli[k] + f->host[k];
	}
	assert_int_equal(f->records, total);
}

/* The file as kvp_client reads it: fcntl read lock, whole records. */
static unsigned long check_file(struct soak *s)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	static uint8_t rec[REC];
	struct final_seen f;
	struct stat st;
	int fd;

	final_init(&f, s);
	fd = open(s->pool, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_SETLKW, &fl), 0);
	assert_int_equal(fstat(fd, &st), 0);
	if (st.st_size % REC != 0)
		fail_msg("final: pool size %jd is not whole records",
			 (intmax_t)st.st_size);
	while (hv_read_full(fd, rec, REC) == REC) {
		if (!memchr(rec, '\0', KEYSZ) ||
		    !memchr(rec + KEYSZ, '\0', VALSZ))
			fail_msg("final: record %lu without NUL", f.records);
		final_record(&f, (char *)rec, (char *)rec + KEYSZ);
	}
	close(fd);
	final_done(&f);
	return f.records;
}

static int final_cb(uint32_t index, const char *key, const char *value,
		    void *userdata)
{
	final_record(userdata, key, value);
	return 0;
}

/* The same through the host: a plain enumeration, nothing else running. */
static unsigned long check_host_view(struct soak *s)
{
	struct final_seen f;
	uint32_t status = 0;
	int r;

	final_init(&f, s);
	r = hvsim_kvp_list(s->k, POOL, final_cb, &f, &status);
	assert_true(r >= 0);
	assert_int_equal(status, HV_S_CONT);
	assert_int_equal((unsigned long)r, f.records);
	final_done(&f);
	return f.records;
}

/* ---------------------------------------------------------------------- */

static unsigned long soak_ops(void)
{
	const char *v = getenv("HVIS_SOAK_OPS");
	unsigned long n = SOAK_OPS_DEFAULT;
	char *end;

	if (v && *v) {
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || *end)
			fail_msg("HVIS_SOAK_OPS=%s: not a number", v);
	}
	return HV_MAX(n, SOAK_OPS_MIN);
}

static bool have_cloud_init(void)
{
	return access("/usr/bin/python3", X_OK) == 0 &&
	       access("/usr/lib/python3/dist-packages/cloudinit/reporting/"
		      "handlers.py",
		      R_OK) == 0;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct soak *s = calloc(1, sizeof(*s));
	char p[256];

	assert_non_null(s);
	hv_strscpy(s->root, "/tmp/hvis-kvp-soak.XXXXXX", sizeof(s->root));
	assert_non_null(mkdtemp(s->root));
	assert_int_equal(chmod(s->root, 0755), 0);
	snprintf(p, sizeof(p), "%s/dev/vmbus", s->root);
	assert_int_equal(hv_mkdir_parents(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc", s->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc/os-release", s->root);
	write_text(p, "NAME=\"Soak Linux\"\nVERSION_ID=\"12\"\n");
	snprintf(s->run, sizeof(s->run), "%s/run", s->root);
	assert_int_equal(mkdir(s->run, 0755), 0);
	snprintf(s->state, sizeof(s->state), "%s/var/lib/hyperv", s->root);
	snprintf(s->pool, sizeof(s->pool), "%s/.kvp_pool_%d", s->state, POOL);
	snprintf(s->log, sizeof(s->log), "%s/daemon.log", s->root);
	snprintf(p, sizeof(p), "%s/dev/vmbus/hv_kvp", s->root);
	assert_int_equal(hvsim_cdev_new(p, HVSIM_CDEV_KVP, &s->cd), 0);
	hvsim_cdev_set_reply_timeout(s->cd, TIMEOUT_MS);
	assert_int_equal(hvsim_kvp_new(s->cd, &s->k), 0);
	hvsim_kvp_set_nego_wait(s->k, TIMEOUT_MS);
	s->sh = mmap(NULL, sizeof(*s->sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(s->sh != MAP_FAILED);
	signal(SIGPIPE, SIG_IGN);
	start_daemon(s);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct soak *s = *state;
	pid_t *pids[] = { &s->ev[0].pid, &s->ev[1].pid, &s->cli, &s->daemon };
	char cmd[128];

	for (size_t i = 0; i < ARRAY_SIZE(pids); i++)
		if (*pids[i] > 0) {
			kill(*pids[i], SIGKILL);
			waitpid(*pids[i], NULL, 0);
		}
	for (int w = 0; w < 2; w++) {
		if (s->ev[w].tokens > 0)
			close(s->ev[w].tokens);
		free(s->ev[w].state);
		free(s->ev[w].pass);
	}
	free(s->cli_plan);
	free(s->host_plan);
	s->k = hvsim_kvp_free(s->k);
	s->cd = hvsim_cdev_free(s->cd);
	munmap(s->sh, sizeof(*s->sh));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->root);
	assert_int_equal(system(cmd), 0);
	free(s);
	return 0;
}

static void test_kvp_soak(void **state)
{
	struct soak *s = *state;
	uint64_t t0 = now_ms(), last_move = t0, t_writers = 0;
	unsigned long last_progress = 0, others, quiet_from = 0;
	int st;

	s->ops = soak_ops();
	for (int w = 0; w < W_MAX; w++)
		s->n[w] = s->ops / W_MAX;
	s->n[W_HOST] += s->ops % W_MAX;
	others = s->n[W_PY] + s->n[W_APPEND] + s->n[W_CLI];
	s->python = have_cloud_init();
	s->cli_plan = make_plan(s->n[W_CLI], 1, s->cli_final);
	s->host_plan = make_plan(s->n[W_HOST], 2, s->host_final);
	for (unsigned k = 0; k < SOAK_KEYS; k++)
		s->host_model[k] = -1;
	for (int w = 0; w < 2; w++) {
		s->ev[w].n = s->n[w];
		s->ev[w].state = calloc(s->ev[w].n, 1);
		s->ev[w].pass = calloc(s->ev[w].n, sizeof(uint32_t));
		assert_non_null(s->ev[w].state);
		assert_non_null(s->ev[w].pass);
	}
	s->warm_rss = -1;
	s->next_sample = 0;
	print_message("# %lu operations: %lu cloud-init events (%s), %lu "
		      "appended, %lu hv-kvp runs, %lu host SET/DELETE\n",
		      s->ops, s->n[W_PY],
		      s->python ? "cloud-init's handler" :
				  "no cloud-init: C appender",
		      s->n[W_APPEND], s->n[W_CLI], s->n[W_HOST]);

	/* The pool file exists once the daemon has registered. */
	if (s->python)
		s->ev[0].pid = start_python(s, s->n[W_PY], &s->ev[0].tokens);
	else
		s->ev[0].pid =
			start_appender(s, W_PY, s->n[W_PY], &s->ev[0].tokens);
	s->ev[1].pid =
		start_appender(s, W_APPEND, s->n[W_APPEND], &s->ev[1].tokens);
	s->cli = fork();
	assert_true(s->cli >= 0);
	if (s->cli == 0)
		cli_child(s);

	/* The run: enumerate without pause, host writes in proportion. */
	for (;;) {
		unsigned long done = progress(s), o;

		host_enumerate(s);
		o = done - s->host_ops;
		if (s->host_ops < s->n[W_HOST] &&
		    (!writers_running(s) ||
		     s->host_ops * others <= o * s->n[W_HOST]))
			host_op(s);
		reap(s, &s->ev[0].pid, writer_names[W_PY]);
		reap(s, &s->ev[1].pid, writer_names[W_APPEND]);
		reap(s, &s->cli, writer_names[W_CLI]);
		if (!t_writers && !writers_running(s))
			t_writers = now_ms();
		done = progress(s);
		if (done >= s->next_sample) {
			sample(s, done);
			s->next_sample = done + s->ops / SOAK_SAMPLES;
		}
		if (done != last_progress) {
			last_progress = done;
			last_move = now_ms();
		} else if (now_ms() - last_move > (uint64_t)STALL_MS) {
			show_log(s);
			fail_msg("stalled at %lu ops: py %lu, appender %lu, "
				 "hv-kvp %lu, host %lu",
				 done, atomic_load(&s->sh->done[W_PY]),
				 atomic_load(&s->sh->done[W_APPEND]),
				 atomic_load(&s->sh->done[W_CLI]), s->host_ops);
		}
		if (writers_running(s) || s->host_ops < s->n[W_HOST]) {
			quiet_from = s->passes;
		} else if (s->index == 0) {
			/* Everyone is done: a whole pass must now show every
			 * event that is still unseen. */
			if (events_complete(s))
				break;
			if (s->passes - quiet_from > 2)
				events_lost(s);
		}
	}
	for (unsigned k = 0; k < SOAK_KEYS; k++)
		assert_int_equal(s->host_model[k], s->host_final[k]);
	sample(s, progress(s));

	{
		unsigned long in_file = check_file(s);
		unsigned long in_host = check_host_view(s);
		double secs = (double)(now_ms() - t0) / 1000.0;
		const struct sample *last = &s->samples[s->nsamples - 1];

		print_message("# %lu ops in %.1f s (writers done at %.1f s): "
			      "%lu ENUMERATEs in %lu passes, %lu records "
			      "checked, %lu + %lu events consumed, %lu "
			      "records at the end (file and host)\n",
			      s->ops, secs, (double)(t_writers - t0) / 1000.0,
			      s->enumerated, s->passes, s->checked,
			      s->ev[0].consumed, s->ev[1].consumed, in_file);
		assert_int_equal(in_file, in_host);
		print_message("# daemon VmRSS kB / fds by ops:");
		for (size_t i = 0; i < s->nsamples; i++)
			print_message("%s%lu:%ld/%d", i % 8 ? " " : "\n#   ",
				      s->samples[i].ops, s->samples[i].rss_kb,
				      s->samples[i].fds);
		print_message("\n# warm-up %ld kB, %d fds; last %ld kB, %d fds "
			      "(margin %ld kB)\n",
			      s->warm_rss, s->warm_fds, last->rss_kb, last->fds,
			      SOAK_RSS_MARGIN_KB);
		assert_int_equal(last->fds, s->warm_fds);
		assert_true(s->warm_rss > 0);
		if (rss_meaningful() &&
		    last->rss_kb > s->warm_rss + SOAK_RSS_MARGIN_KB)
			fail_msg(
				"daemon RSS grew: %ld kB after warm-up, %ld kB "
				"at the end",
				s->warm_rss, last->rss_kb);
	}

	/* And it stops cleanly. */
	st = stop_daemon(s->daemon);
	s->daemon = 0;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kvp_soak, setup, teardown),
	};

	return cmocka_run_group_tests_name("kvp-soak", tests, NULL, NULL);
}
