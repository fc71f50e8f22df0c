/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pool store against other processes: changes made by forked writers in
 * the styles of cloud-init (flock + O_APPEND) and LISA's kvp_client
 * (classic fcntl lock, rewrite to update), lock interplay and timeouts,
 * readers (which take no flock) against appends in progress, and a
 * concurrent run of all of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "test-kvp-pool-util.h"

#define MAX_CHILDREN 8
static pid_t children[MAX_CHILDREN];

static pid_t spawn(int (*fn)(const void *), const void *arg)
{
	unsigned int i;
	pid_t pid;

	pid = fork();
	if (pid == 0)
		_exit(fn(arg));
	assert_true(pid > 0);
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == 0) {
			children[i] = pid;
			break;
		}
	return pid;
}

static void forget(pid_t pid)
{
	unsigned int i;

	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
}

static int reap(pid_t pid)
{
	int status;

	forget(pid);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fx_init(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	unsigned int i;

	/* A failed assertion leaves writers running; stop them. */
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			reap(children[i]);
		}
	fx_fini(f);
	free(f);
	return 0;
}

static void assert_value(struct fx *f, unsigned int pool, const char *key,
			 const char *want)
{
	char v[VSZ + 1];

	assert_int_equal(kvp_pool_get(f->s, pool, key, v, sizeof(v)),
			 (int)strlen(want));
	assert_string_equal(v, want);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- external writers -------------------------------------------------- */

static int child_append(const void *arg)
{
	return append_flock(arg, "from-child", "hello") == 0 ? 0 : 1;
}

static void test_external_append(void **state)
{
	struct fx *f = *state;
	struct kvp_pool_stats st;
	char path[PATH_MAX];

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_set(f->s, 1, "mine", "1"), 0);
	fx_pool_path(f, 1, path, sizeof(path));
	assert_int_equal(reap(spawn(child_append, path)), 0);
	assert_value(f, 1, "from-child", "hello");
	assert_value(f, 1, "mine", "1");
	assert_int_equal(kvp_pool_count(f->s, 1), 2);
	assert_int_equal(kvp_pool_get_stats(f->s, 1, &st), 0);
	assert_int_equal(st.reloads, 2);
}

/*
 * kvp_client updates a key by rewriting the file without it and appending
 * it anew, under a classic fcntl lock. Done right after our own write, the
 * size stays and the timestamps most likely do too.
 */
static int kvp_client_update(const char *path, const char *key,
			     const char *value)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	uint8_t *buf = NULL;
	struct stat st;
	size_t n, i, out = 0;
	int fd, r = 1;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 1;
	if (fcntl(fd, F_SETLKW, &fl) < 0 || fstat(fd, &st) < 0)
		goto out;
	n = (size_t)st.st_size / REC;
	buf = malloc((n + 1) * REC);
	if (!buf || pread(fd, buf, n * REC, 0) != (ssize_t)(n * REC))
		goto out;
	for (i = 0; i < n; i++) {
		if (strncmp((char *)buf + i * REC, key, KSZ) == 0)
			continue;
		if (out != i)
			memcpy(buf + out * REC, buf + i * REC, REC);
		out++;
	}
	make_record(buf + out * REC, key, value);
	if (out != n && (ftruncate(fd, 0) < 0 ||
			 pwrite(fd, buf, out * REC, 0) != (ssize_t)(out * REC)))
		goto out;
	if (pwrite(fd, buf + out * REC, REC, (off_t)(out * REC)) != REC)
		goto out;
	r = 0;
out:
	free(buf);
	close(fd); /* drops the lock */
	return r;
}

static int child_update_a(const void *arg)
{
	return kvp_client_update(arg, "A", "3");
}

static void test_external_same_size_rewrite(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	struct stat before, after;

	assert_int_equal(fx_open(f, 0, 0), 0);
	fx_pool_path(f, 0, path, sizeof(path));
	assert_int_equal(kvp_pool_set(f->s, 0, "A", "1"), 0);
	assert_int_equal(kvp_pool_set(f->s, 0, "B", "2"), 0);
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(reap(spawn(child_update_a, path)), 0);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	/* The file is now [B, A]: a stale index would read B's value as
	 * A's and vice versa. */
	assert_value(f, 0, "A", "3");
	assert_value(f, 0, "B", "2");
	assert_int_equal(kvp_pool_set(f->s, 0, "B", "4"), 0);
	assert_value(f, 0, "A", "3");
	assert_value(f, 0, "B", "4");
	assert_int_equal(kvp_pool_count(f->s, 0), 2);
}

/* ---- locks ------------------------------------------------------------- */

enum lock_kind { FCNTL_WR, FCNTL_RD, FLOCK_EX, FLOCK_SH };

struct holder {
	const char *path;
	enum lock_kind kind;
	int ready; /* we write a byte here once locked */
	int release; /* and unlock when this reads EOF or a byte */
};

static int child_hold(const void *arg)
{
	const struct holder *h = arg;
	struct flock fl = { .l_whence = SEEK_SET };
	char c;
	int fd, r;

	fd = open(h->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 1;
	switch (h->kind) {
	case FCNTL_WR:
	case FCNTL_RD:
		fl.l_type = h->kind == FCNTL_WR ? F_WRLCK : F_RDLCK;
		r = fcntl(fd, F_SETLKW, &fl);
		break;
	case FLOCK_EX:
		r = flock(fd, LOCK_EX);
		break;
	default:
		r = flock(fd, LOCK_SH);
		break;
	}
	if (r < 0 || write(h->ready, "L", 1) != 1)
		return 1;
	if (read(h->release, &c, 1) < 0)
		return 1;
	close(fd);
	return 0;
}

static void lock_case(struct fx *f, enum lock_kind kind)
{
	int ready[2], release[2];
	struct holder h;
	char path[PATH_MAX], v[16], c;
	bool shared = kind == FCNTL_RD || kind == FLOCK_SH;
	uint64_t t0, dt;
	struct stat st;
	pid_t pid;

	assert_int_equal(fx_open(f, 0, 200), 0);
	assert_int_equal(kvp_pool_set(f->s, 1, "k", "before"), 0);
	fx_pool_path(f, 1, path, sizeof(path));
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(release, O_CLOEXEC), 0);
	h = (struct holder){ path, kind, ready[1], release[0] };
	pid = spawn(child_hold, &h);
	assert_int_equal(read(ready[0], &c, 1), 1);

	t0 = now_ms();
	assert_int_equal(kvp_pool_set(f->s, 1, "k", "during"), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 200);
	assert_true(dt < 3000);
	/* A reader gets past a reader, and past a flock holder (flock alone
	 * is cloud-init's, which only appends), not past an fcntl writer. */
	assert_int_equal(kvp_pool_get(f->s, 1, "k", v, sizeof(v)),
			 shared || kind == FLOCK_EX ? 6 : -ETIMEDOUT);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, REC);

	assert_int_equal(write(release[1], "U", 1), 1);
	assert_int_equal(reap(pid), 0);
	close(ready[0]);
	close(ready[1]);
	close(release[0]);
	close(release[1]);
	assert_int_equal(kvp_pool_set(f->s, 1, "k", "after"), 0);
	assert_value(f, 1, "k", "after");
	assert_int_equal(kvp_pool_count(f->s, 1), 1);
}

static void test_lock_fcntl_write(void **state)
{
	lock_case(*state, FCNTL_WR);
}

static void test_lock_fcntl_read(void **state)
{
	lock_case(*state, FCNTL_RD);
}

static void test_lock_flock_ex(void **state)
{
	lock_case(*state, FLOCK_EX);
}

static void test_lock_flock_sh(void **state)
{
	lock_case(*state, FLOCK_SH);
}

/* ---- readers against a flock appender ---------------------------------- */

struct half_append {
	const char *path;
	int ready; /* we write a byte once half a record is in */
	int release; /* and write the rest when this reads a byte */
};

/* cloud-init with a buffered writer: one record in two write() calls. */
static int child_half_append(const void *arg)
{
	const struct half_append *h = arg;
	uint8_t rec[REC];
	char c;
	int fd;

	make_record(rec, "appended", "whole");
	fd = open(h->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return 1;
	if (write(fd, rec, 1000) != 1000 || write(h->ready, "H", 1) != 1)
		return 2;
	if (read(h->release, &c, 1) != 1)
		return 3;
	if (write(fd, rec + 1000, REC - 1000) != REC - 1000)
		return 4;
	close(fd);
	return 0;
}

/*
 * A reader does not wait for a flock appender, and does not see its half
 * written record: the records before it are whole, the partial one is not
 * a record. Writers still wait for flock.
 */
static void test_reader_during_flock_append(void **state)
{
	struct fx *f = *state;
	struct kvp_pool_record rec;
	int ready[2], release[2];
	struct half_append h;
	char path[PATH_MAX], v[16], c;
	pid_t pid;

	assert_int_equal(fx_open(f, 0, 200), 0);
	assert_int_equal(kvp_pool_set(f->s, 1, "a", "1"), 0);
	assert_int_equal(kvp_pool_set(f->s, 1, "b", "2"), 0);
	fx_pool_path(f, 1, path, sizeof(path));
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(release, O_CLOEXEC), 0);
	h = (struct half_append){ path, ready[1], release[0] };
	pid = spawn(child_half_append, &h);
	assert_int_equal(read(ready[0], &c, 1), 1);

	/* The half record's event is queued: this reloads, under flock. */
	assert_int_equal(kvp_pool_count(f->s, 1), 2);
	assert_value(f, 1, "a", "1");
	assert_value(f, 1, "b", "2");
	assert_int_equal(kvp_pool_get(f->s, 1, "appended", v, sizeof(v)),
			 -ENOENT);
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 1, &rec), 0);
	assert_string_equal(rec.key, "b");
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 2, &rec), -ENOENT);
	assert_int_equal(kvp_pool_set(f->s, 1, "c", "3"), -ETIMEDOUT);

	assert_int_equal(write(release[1], "R", 1), 1);
	assert_int_equal(reap(pid), 0);
	close(ready[0]);
	close(ready[1]);
	close(release[0]);
	close(release[1]);
	assert_int_equal(kvp_pool_count(f->s, 1), 3);
	assert_value(f, 1, "appended", "whole");
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 2, &rec), 0);
	assert_string_equal(rec.key, "appended");
	assert_int_equal(kvp_pool_set(f->s, 1, "c", "3"), 0);
}

#define SPLIT_OPS 500

/* The reader's rounds, in shared memory: the appender holds each half
 * record until the reader has been round once more, so every partial
 * state is seen. */
static uint32_t *reader_rounds;

static void wait_rounds(uint32_t want)
{
	while (__atomic_load_n(reader_rounds, __ATOMIC_ACQUIRE) < want)
		sched_yield();
}

/* cloud-init, each record split at a different byte. */
static int child_split_appender(const void *arg)
{
	const char *path = arg;
	char k[32], v[32];
	uint8_t rec[REC];
	unsigned int i;
	size_t cut;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return 1;
	for (i = 0; i < SPLIT_OPS; i++) {
		uint32_t r0;

		snprintf(k, sizeof(k), "ci-%u", i);
		snprintf(v, sizeof(v), "val-%u", i);
		make_record(rec, k, v);
		cut = 1 + (i * 997) % (REC - 1);
		if (flock(fd, LOCK_EX) < 0)
			return 2;
		r0 = __atomic_load_n(reader_rounds, __ATOMIC_ACQUIRE);
		if (write(fd, rec, cut) != (ssize_t)cut)
			return 2;
		/* Until a whole round has run with the half record in. */
		wait_rounds(r0 + 2);
		if (write(fd, rec + cut, REC - cut) != (ssize_t)(REC - cut))
			return 3;
		flock(fd, LOCK_UN);
	}
	close(fd);
	return 0;
}

/* A record we can check: "ci-<i>" holds "val-<i>", "st-<i>" "s<i>". */
static void check_pair(const char *key, const char *value)
{
	unsigned int i;
	char want[32];

	if (sscanf(key, "ci-%u", &i) == 1) {
		assert_true(i < SPLIT_OPS);
		snprintf(want, sizeof(want), "val-%u", i);
	} else {
		assert_int_equal(sscanf(key, "st-%u", &i), 1);
		snprintf(want, sizeof(want), "s%u", i);
	}
	assert_string_equal(value, want);
}

/*
 * Readers racing a flock appender that splits every record: every record
 * they ever return is whole and in place, counts never go back, and the
 * store's own records keep their values throughout.
 */
static void test_readers_never_see_torn_appends(void **state)
{
	struct fx *f = *state;
	struct kvp_pool_record rec;
	char path[PATH_MAX], k[32], v[VSZ + 1];
	int count, last = 0, r, status;
	uint32_t i, rounds = 0;
	uint64_t t0;
	pid_t pid, w;

	reader_rounds = mmap(NULL, sizeof(*reader_rounds),
			     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			     -1, 0);
	assert_true(reader_rounds != MAP_FAILED);
	*reader_rounds = 0;
	assert_int_equal(fx_open(f, 0, 0), 0);
	for (i = 0; i < 8; i++) {
		snprintf(k, sizeof(k), "st-%u", i);
		snprintf(v, sizeof(v), "s%u", i);
		assert_int_equal(kvp_pool_set(f->s, 1, k, v), 0);
	}
	fx_pool_path(f, 1, path, sizeof(path));
	t0 = now_ms();
	pid = spawn(child_split_appender, path);
	do {
		count = kvp_pool_count(f->s, 1);
		assert_true(count >= last);
		last = count;
		for (i = 0; i < 8; i++) {
			snprintf(k, sizeof(k), "st-%u", i);
			snprintf(v, sizeof(v), "s%u", i);
			assert_value(f, 1, k, v);
		}
		/* The newest records are the ones being written. */
		for (i = (uint32_t)HV_MAX(count - 4, 8); (int)i < count; i++) {
			assert_int_equal(kvp_pool_enumerate(f->s, 1, i, &rec),
					 0);
			check_pair(rec.key, rec.value);
			r = kvp_pool_get(f->s, 1, rec.key, v, sizeof(v));
			assert_true(r >= 0);
			check_pair(rec.key, v);
		}
		__atomic_store_n(reader_rounds, ++rounds, __ATOMIC_RELEASE);
		/* An appender stuck (on a lock we should not hold) would
		 * keep us here for ever. */
		assert_true(now_ms() - t0 < 60000);
	} while ((w = waitpid(pid, &status, WNOHANG)) == 0);
	assert_int_equal(w, pid);
	forget(pid);
	munmap(reader_rounds, sizeof(*reader_rounds));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The appender waited for us at every record. */
	assert_true(rounds >= 2 * SPLIT_OPS);
	assert_int_equal(kvp_pool_count(f->s, 1), 8 + SPLIT_OPS);
	for (i = 0; i < 8 + SPLIT_OPS; i++) {
		assert_int_equal(kvp_pool_enumerate(f->s, 1, i, &rec), 0);
		check_pair(rec.key, rec.value);
	}
}

/* ---- everybody at once ------------------------------------------------- */

#define CI_WRITERS 2
#define CI_OPS 1000
#define KC_WRITERS 2
#define KC_OPS 1000
#define KC_KEYS 20
#define ST_OPS 6000
#define ST_KEYS 50

struct writer {
	const char *path;
	unsigned int id;
};

/*
 * The store's progress, in shared memory: writer op i waits until the
 * store has done its share of the run, so all of them overlap from start
 * to end instead of the children finishing before the store gets going.
 */
static uint32_t *progress;

static void pace(unsigned int i, unsigned int total)
{
	uint32_t want = (uint32_t)((uint64_t)i * ST_OPS / total);

	while (__atomic_load_n(progress, __ATOMIC_ACQUIRE) < want)
		sched_yield();
}

/* cloud-init: unique keys, appended under flock only. */
static int child_cloud_init(const void *arg)
{
	const struct writer *w = arg;
	char k[32], v[32];
	uint8_t rec[REC];
	unsigned int i;
	int fd;

	fd = open(w->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return 1;
	for (i = 0; i < CI_OPS; i++) {
		pace(i, CI_OPS);
		snprintf(k, sizeof(k), "ci%u-%u", w->id, i);
		snprintf(v, sizeof(v), "val-%u-%u", w->id, i);
		make_record(rec, k, v);
		if (flock(fd, LOCK_EX) < 0 || write(fd, rec, REC) != REC)
			return 2;
		flock(fd, LOCK_UN);
		sched_yield();
	}
	return 0;
}

/* kvp_client: a small key set, each update a rewrite + append. */
static int child_kvp_client(const void *arg)
{
	const struct writer *w = arg;
	char k[32], v[32];
	unsigned int i;

	for (i = 0; i < KC_OPS; i++) {
		pace(i, KC_OPS);
		snprintf(k, sizeof(k), "kc%u-%u", w->id, i % KC_KEYS);
		snprintf(v, sizeof(v), "%u", i);
		if (kvp_client_update(w->path, k, v) != 0)
			return 2;
		sched_yield();
	}
	return 0;
}

/* A record we (and the children) wrote: both fields NUL-padded. */
static bool record_clean(const uint8_t *rec)
{
	size_t kl = strnlen((const char *)rec, KSZ), i;
	size_t vl = strnlen((const char *)rec + KSZ, VSZ);

	if (kl == 0 || kl == KSZ || vl == VSZ)
		return false;
	for (i = kl; i < KSZ; i++)
		if (rec[i])
			return false;
	for (i = KSZ + vl; i < REC; i++)
		if (rec[i])
			return false;
	return true;
}

static void check_final(const char *path, unsigned int pool,
			const int model[ST_KEYS])
{
	unsigned int ci[CI_WRITERS][CI_OPS] = { { 0 } };
	unsigned int kc[KC_WRITERS][KC_KEYS] = { { 0 } };
	unsigned int st[ST_KEYS] = { 0 };
	unsigned int a, b, p;
	char want[32];
	uint8_t *buf;
	size_t len, i;

	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len % REC, 0);
	for (i = 0; i < len / REC; i++) {
		const uint8_t *rec = buf + i * REC;
		const char *key = (const char *)rec;
		const char *val = (const char *)rec + KSZ;

		assert_true(record_clean(rec));
		if (pool == 1 && sscanf(key, "ci%u-%u", &a, &b) == 2) {
			assert_true(a < CI_WRITERS && b < CI_OPS);
			snprintf(want, sizeof(want), "val-%u-%u", a, b);
			assert_string_equal(val, want);
			ci[a][b]++;
		} else if (pool == 0 && sscanf(key, "kc%u-%u", &a, &b) == 2) {
			assert_true(a < KC_WRITERS && b < KC_KEYS);
			/* the last update of key b */
			snprintf(want, sizeof(want), "%u",
				 b + (KC_OPS - 1 - b) / KC_KEYS * KC_KEYS);
			assert_string_equal(val, want);
			kc[a][b]++;
		} else {
			assert_int_equal(sscanf(key, "st%u-%u", &p, &a), 2);
			assert_int_equal(p, pool);
			assert_true(a < ST_KEYS);
			assert_true(model[a] >= 0);
			snprintf(want, sizeof(want), "s%d", model[a]);
			assert_string_equal(val, want);
			st[a]++;
		}
	}
	free(buf);
	for (a = 0; pool == 1 && a < CI_WRITERS; a++)
		for (b = 0; b < CI_OPS; b++)
			assert_int_equal(ci[a][b], 1);
	for (a = 0; pool == 0 && a < KC_WRITERS; a++)
		for (b = 0; b < KC_KEYS; b++)
			assert_int_equal(kc[a][b], 1);
	for (a = 0; a < ST_KEYS; a++)
		assert_int_equal(st[a], model[a] >= 0 ? 1 : 0);
}

static void store_matches_file(struct fx *f, unsigned int pool,
			       const char *path, int foreign,
			       const int model[ST_KEYS])
{
	struct kvp_pool_record rec;
	uint8_t *buf;
	size_t len;
	int i, n = foreign;

	for (i = 0; i < ST_KEYS; i++)
		n += model[i] >= 0;
	assert_int_equal(kvp_pool_count(f->s, pool), n);
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, (size_t)n * REC);
	for (i = 0; i < n; i++) {
		assert_int_equal(
			kvp_pool_enumerate(f->s, pool, (uint32_t)i, &rec), 0);
		assert_string_equal(rec.key, (char *)buf + (size_t)i * REC);
	}
	assert_int_equal(kvp_pool_enumerate(f->s, pool, (uint32_t)n, &rec),
			 -ENOENT);
	free(buf);
}

static void test_concurrent_writers(void **state)
{
	struct fx *f = *state;
	struct writer ci[CI_WRITERS], kc[KC_WRITERS];
	char p0[PATH_MAX], p1[PATH_MAX], key[32], val[32], v[32];
	int model[2][ST_KEYS];
	pid_t pids[CI_WRITERS + KC_WRITERS];
	unsigned int i, n = 0;

	memset(model, 0xff, sizeof(model)); /* -1: absent */
	progress = mmap(NULL, sizeof(*progress), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(progress != MAP_FAILED);
	*progress = 0;
	assert_int_equal(fx_open(f, 0, 0), 0);
	fx_pool_path(f, 0, p0, sizeof(p0));
	fx_pool_path(f, 1, p1, sizeof(p1));
	/*
	 * cloud-init (flock only) and kvp_client (fcntl only) do not
	 * exclude each other, so a kvp_client rewrite can lose a
	 * cloud-init append with no help from us. Each kind gets its own
	 * pool; the store works on both.
	 */
	for (i = 0; i < CI_WRITERS; i++) {
		ci[i] = (struct writer){ p1, i };
		pids[n++] = spawn(child_cloud_init, &ci[i]);
	}
	for (i = 0; i < KC_WRITERS; i++) {
		kc[i] = (struct writer){ p0, i };
		pids[n++] = spawn(child_kvp_client, &kc[i]);
	}

	for (i = 0; i < ST_OPS; i++) {
		unsigned int pool = i & 1, k = (i / 2 * 7) % ST_KEYS;
		int *m = &model[pool][k];

		__atomic_store_n(progress, i, __ATOMIC_RELEASE);
		snprintf(key, sizeof(key), "st%u-%u", pool, k);
		switch (i % 5) {
		case 0:
		case 1:
		case 2:
			snprintf(val, sizeof(val), "s%u", i);
			assert_int_equal(kvp_pool_set(f->s, pool, key, val), 0);
			*m = (int)i;
			break;
		case 3:
			assert_int_equal(kvp_pool_delete(f->s, pool, key),
					 *m >= 0 ? 0 : -ENOENT);
			*m = -1;
			break;
		default:
			if (*m < 0) {
				assert_int_equal(kvp_pool_get(f->s, pool, key,
							      v, sizeof(v)),
						 -ENOENT);
			} else {
				snprintf(val, sizeof(val), "s%d", *m);
				assert_value(f, pool, key, val);
			}
			break;
		}
	}
	__atomic_store_n(progress, ST_OPS, __ATOMIC_RELEASE);
	for (i = 0; i < n; i++)
		assert_int_equal(reap(pids[i]), 0);
	munmap(progress, sizeof(*progress));

	check_final(p0, 0, model[0]);
	check_final(p1, 1, model[1]);
	/* and the store sees what the file holds, in file order */
	store_matches_file(f, 0, p0, KC_WRITERS * KC_KEYS, model[0]);
	store_matches_file(f, 1, p1, CI_WRITERS * CI_OPS, model[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
		T(test_external_append),
		T(test_external_same_size_rewrite),
		T(test_lock_fcntl_write),
		T(test_lock_fcntl_read),
		T(test_lock_flock_ex),
		T(test_lock_flock_sh),
		T(test_reader_during_flock_append),
		T(test_readers_never_see_torn_appends),
		T(test_concurrent_writers),
#undef T
	};

	return cmocka_run_group_tests_name("kvp-pool-sync", tests, NULL, NULL);
}
