/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SIGKILL at random points of KVP pool writes (issue 9, "Process"),
 * HVIS_KILL_ITERATIONS times each (default 100):
 *
 *   host   hv_kvp_daemon killed inside a host SET or DELETE (the kernel's
 *          message for it), after a random number of earlier requests
 *          and a random number of microseconds into this one; then
 *          restarted (its open finishes a killed write's journal).
 *   cli    `hv-kvp set` / `hv-kvp delete` killed a random number of
 *          microseconds after it started (up to its whole run time, as
 *          measured first), with the daemon running; the daemon's next
 *          request finishes the journal, and every tenth iteration the
 *          daemon is restarted as well.
 *
 * Values are up to 2047 bytes and DELETE compacts the file, so writes
 * cross page boundaries (the journaled path) and move records. After
 * every kill the pool file must be a whole number of 2560-byte records,
 * each well-formed (a known key, a value that is exactly one version of
 * that key's value, never a mix), no key twice, and each key as the last
 * acknowledged operation left it or as the killed one would have. The
 * daemon's ENUMERATE must see the same number of records.
 *
 * The seed (HVIS_KILL_SEED to repeat) and the time per loop go to the
 * TAP output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "fault-util.h"
#include "hvis/util.h"
#include "hvis/wire.h"
#include "hvsim/hvsim.h"

#define TIMEOUT_MS 10000
#define REC 2560
#define NKEYS 24
#define POOL 1

struct fx {
	char root[64];
	char dev[128];
	char pool[160];
	char log[128];
	struct hvsim_cdev *cd;
	pid_t pid;
	/* The model: the acknowledged generation per key (0: absent). */
	unsigned acked[NKEYS];
	/* The operation a kill may have cut short. */
	int in_key; /* -1: none */
	unsigned in_gen; /* 0: a delete */
};

static struct hv_kvp_msg msg, reply;

static void pump(void *ctx, int ms)
{
	struct fx *f = ctx;

	hvsim_cdev_run(f->cd, ms);
}

/* ---------------------------------------------------------------------- */
/* Values: "k<key>g<gen>:" and then one letter up to a length that        */
/* depends on both, so any mix of two versions is caught.                 */

static size_t value_len(unsigned k, unsigned g)
{
	uint64_t h = (uint64_t)(k + 1) * 0x9e3779b97f4a7c15ull ^
		     (uint64_t)g * 0xbf58476d1ce4e5b9ull;

	h ^= h >> 31;
	return 16 + (size_t)(h % (2047 - 16 + 1));
}

static void make_value(unsigned k, unsigned g, char *buf)
{
	size_t len = value_len(k, g);
	int n = snprintf(buf, 32, "k%ug%u:", k, g);

	memset(buf + n, 'a' + (int)((k * 7 + g) % 26), len - (size_t)n);
	buf[len] = '\0';
}

static void make_key(unsigned k, char *buf, size_t size)
{
	snprintf(buf, size, "key-%02u", k);
}

/* ---------------------------------------------------------------------- */

static void start(struct fx *f)
{
	char bin[256];
	char *argv[] = { bin, "--root", f->root, "--log=stderr", NULL };

	snprintf(bin, sizeof(bin), "%s/hv_kvp_daemon", fu_build_dir());
	unlink(f->log);
	f->pid = fu_spawn(argv, f->log);
	assert_true(f->pid > 0);
	if (hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS) < 0)
		fail_msg("daemon did not register; log:\n%s",
			 fu_read_text(f->log));
}

static void reap(struct fx *f)
{
	int st = fu_wait_exit(f->pid, TIMEOUT_MS, pump, f);

	assert_true(st >= 0);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	f->pid = 0;
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, TIMEOUT_MS), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256];
	int fd;

	assert_non_null(f);
	hv_strscpy(f->root, "/tmp/hvis-kkvp.XXXXXX", sizeof(f->root));
	assert_non_null(mkdtemp(f->root));
	snprintf(p, sizeof(p), "%s/dev/vmbus", f->root);
	assert_int_equal(hv_mkdir_parents(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/run", f->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc", f->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc/os-release", f->root);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(f->dev, sizeof(f->dev), "%s/dev/vmbus/hv_kvp", f->root);
	snprintf(f->pool, sizeof(f->pool), "%s/var/lib/hyperv/.kvp_pool_%d",
		 f->root, POOL);
	snprintf(f->log, sizeof(f->log), "%s/daemon.log", f->root);
	assert_int_equal(hvsim_cdev_new(f->dev, HVSIM_CDEV_KVP, &f->cd), 0);
	hvsim_cdev_set_reply_timeout(f->cd, TIMEOUT_MS);
	f->in_key = -1;
	assert_int_equal(fu_kill_init(), 0);
	start(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fu_kill_cancel();
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	hvsim_cdev_free(f->cd);
	assert_int_equal(fu_rm_rf(f->root), 0);
	free(f);
	return 0;
}

/* A killed writer's journal, not yet redone: the kill hit a write. */
static bool journal_pending(struct fx *f)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/run/hvis/kvp-pool-%d.journal", f->root,
		 POOL);
	return stat(p, &st) == 0 && st.st_size > 0;
}

static bool pool_torn(struct fx *f)
{
	struct stat st;

	return stat(f->pool, &st) == 0 && st.st_size % REC != 0;
}

/* ---------------------------------------------------------------------- */
/* The check.                                                             */

static uint32_t enumerate(struct fx *f, uint32_t index)
{
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.kvp_hdr.operation = KVP_OP_ENUMERATE;
	msg.kvp_hdr.pool = POOL;
	msg.body.kvp_enum_data.index = index;
	n = hvsim_cdev_transact(f->cd, &msg, sizeof(msg), &reply,
				sizeof(reply));
	if (n != (ssize_t)sizeof(reply))
		fail_msg("ENUMERATE: %zd; log:\n%s", n, fu_read_text(f->log));
	return hv_le32(&reply);
}

/*
 * The daemon's ENUMERATE first (it finishes any killed writer's
 * journal), then the file byte by byte against the model. Afterwards
 * the model holds what the file holds.
 */
static void check_pool(struct fx *f, unsigned it, uint64_t seed)
{
	static struct hv_kvp_record recs[NKEYS + 2];
	static char want[2048];
	bool seen[NKEYS] = { false };
	unsigned gen_of[NKEYS] = { 0 };
	uint32_t count = 0;
	struct stat st;
	ssize_t n;
	int fd;

	while (enumerate(f, count) == HV_S_OK)
		count++;
	assert_int_equal(stat(f->pool, &st), 0);
	if (st.st_size % REC != 0 || st.st_size / REC > NKEYS)
		fail_msg("iteration %u (seed 0x%llx): pool file of %lld bytes",
			 it, (unsigned long long)seed, (long long)st.st_size);
	fd = open(f->pool, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = hv_read_full(fd, recs, sizeof(recs));
	close(fd);
	assert_int_equal(n, st.st_size);
	if ((off_t)count != st.st_size / REC)
		fail_msg("iteration %u: ENUMERATE saw %u records, the file "
			 "has %lld",
			 it, count, (long long)(st.st_size / REC));
	for (ssize_t i = 0; i < n / REC; i++) {
		const struct hv_kvp_record *r = &recs[i];
		unsigned k, g;
		char key[16];

		if (!memchr(r->key, '\0', sizeof(r->key)) ||
		    !memchr(r->value, '\0', sizeof(r->value)) ||
		    sscanf(r->key, "key-%u", &k) != 1 || k >= NKEYS ||
		    sscanf(r->value, "k%*ug%u:", &g) != 1)
			fail_msg("iteration %u (seed 0x%llx): record %zd is "
				 "not well-formed",
				 it, (unsigned long long)seed, i);
		make_key(k, key, sizeof(key));
		make_value(k, g, want);
		if (strcmp(r->key, key) != 0 || strcmp(r->value, want) != 0)
			fail_msg("iteration %u (seed 0x%llx): record %zd "
				 "(%s) is torn",
				 it, (unsigned long long)seed, i, r->key);
		if (seen[k])
			fail_msg("iteration %u: %s twice", it, key);
		seen[k] = true;
		gen_of[k] = g;
	}
	for (unsigned k = 0; k < NKEYS; k++) {
		bool ok = gen_of[k] == f->acked[k];

		if (!ok && f->in_key == (int)k)
			ok = gen_of[k] == f->in_gen;
		if (!ok)
			fail_msg("iteration %u (seed 0x%llx): key-%02u is at "
				 "version %u; acknowledged %u, in flight %d/%u",
				 it, (unsigned long long)seed, k, gen_of[k],
				 f->acked[k], f->in_key, f->in_gen);
		f->acked[k] = gen_of[k];
	}
	f->in_key = -1;
}

/* ---------------------------------------------------------------------- */
/* Host requests.                                                         */

/* SET (gen > 0) or DELETE (gen 0) of key k; -1 if the daemon died. */
static int host_op(struct fx *f, unsigned k, unsigned gen)
{
	static char value[2048];
	char key[16];
	ssize_t n;

	make_key(k, key, sizeof(key));
	memset(&msg, 0, sizeof(msg));
	msg.kvp_hdr.pool = POOL;
	if (gen) {
		make_value(k, gen, value);
		msg.kvp_hdr.operation = KVP_OP_SET;
		msg.body.kvp_set.data.value_type = REG_SZ;
		msg.body.kvp_set.data.key_size = (uint32_t)strlen(key) + 1;
		memcpy(msg.body.kvp_set.data.key, key, strlen(key));
		msg.body.kvp_set.data.value_size = (uint32_t)strlen(value) + 1;
		memcpy(msg.body.kvp_set.data.value, value, strlen(value));
	} else {
		msg.kvp_hdr.operation = KVP_OP_DELETE;
		msg.body.kvp_delete.key_size = (uint32_t)strlen(key) + 1;
		memcpy(msg.body.kvp_delete.key, key, strlen(key));
	}
	n = hvsim_cdev_transact(f->cd, &msg, sizeof(msg), &reply,
				sizeof(reply));
	/* The daemon died under the request, or before it went out. */
	if (n == -ECONNRESET || n == -ENOTCONN)
		return -1;
	if (n != (ssize_t)sizeof(reply) || hv_le32(&reply) != HV_S_OK)
		fail_msg("%s %s: %zd, 0x%08x; log:\n%s", gen ? "SET" : "DELETE",
			 key, n, n > 0 ? hv_le32(&reply) : 0,
			 fu_read_text(f->log));
	return 0;
}

/* A random SET, or a DELETE of a present key; sets *k and *gen. */
static void pick_op(struct fx *f, struct fu_rng *rng, unsigned *next_gen,
		    unsigned *k, unsigned *gen)
{
	*k = (unsigned)fu_below(rng, NKEYS);
	if (f->acked[*k] && fu_below(rng, 4) == 0)
		*gen = 0;
	else
		*gen = (*next_gen)++;
}

static void test_kill_host_writes(void **state)
{
	struct fx *f = *state;
	unsigned n = fu_iterations(), next_gen = 1, died = 0, survived = 0;
	unsigned dels = 0, journals = 0, torn = 0;
	struct fu_rng rng = { fu_seed() };
	uint64_t seed = rng.s, t0 = fu_now_us(), avg = 100;

	print_message("# seed 0x%llx (HVIS_KILL_SEED), %u iterations\n",
		      (unsigned long long)seed, n);
	for (unsigned it = 0; it < n; it++) {
		unsigned before = (unsigned)fu_below(&rng, 12), k, gen;
		uint64_t d, t;

		for (unsigned j = 0; j < before; j++) {
			pick_op(f, &rng, &next_gen, &k, &gen);
			t = fu_now_us();
			assert_int_equal(host_op(f, k, gen), 0);
			/* A running mean of the round trip: the window. */
			avg = (7 * avg + (fu_now_us() - t)) / 8;
			f->acked[k] = gen;
		}
		pick_op(f, &rng, &next_gen, &k, &gen);
		dels += gen == 0;
		f->in_key = (int)k;
		f->in_gen = gen;
		d = fu_below(&rng, avg + 1);
		assert_int_equal(fu_kill_after(f->pid, d), 0);
		if (host_op(f, k, gen) == 0) {
			/* Answered: it counts as done, kill or not. */
			f->acked[k] = gen;
			f->in_key = -1;
			survived++;
		} else {
			died++;
		}
		if (!fu_kill_cancel())
			fu_kill_after(f->pid, 0);
		fu_kill_cancel();
		reap(f);
		journals += journal_pending(f);
		torn += pool_torn(f);
		start(f);
		check_pool(f, it, seed);
	}
	print_message("# %u iterations in %.1f s: %u kills inside the "
		      "request, %u just after its reply (%u DELETEs); %u left "
		      "a journal, %u a torn file, all repaired on restart\n",
		      n, (double)(fu_now_us() - t0) / 1e6, died, survived, dels,
		      journals, torn);
}

/* ---------------------------------------------------------------------- */
/* hv-kvp.                                                                */

static pid_t spawn_cli(struct fx *f, unsigned k, unsigned gen)
{
	static char value[2048];
	char bin[256], key[16];
	char *set[] = { bin,	   "--root", f->root, "--pool", "guest",
			"--force", "set",    key,     value,	NULL };
	char *del[] = { bin,	 "--root", f->root, "--pool",
			"guest", "delete", key,	    NULL };
	char out[192];

	snprintf(bin, sizeof(bin), "%s/hv-kvp", fu_build_dir());
	snprintf(out, sizeof(out), "%s/cli.log", f->root);
	make_key(k, key, sizeof(key));
	if (gen)
		make_value(k, gen, value);
	return fu_spawn(gen ? set : del, out);
}

/* Run hv-kvp to the end: its run time in microseconds. */
static uint64_t cli_ok(struct fx *f, unsigned k, unsigned gen)
{
	uint64_t t0 = fu_now_us();
	pid_t pid = spawn_cli(f, k, gen);
	int st;

	assert_true(pid > 0);
	st = fu_wait_exit(pid, TIMEOUT_MS, NULL, NULL);
	assert_true(st >= 0);
	if (fu_exit_code(st) != 0)
		fail_msg("hv-kvp: exit %d: %s", fu_exit_code(st),
			 fu_read_text(f->log));
	return fu_now_us() - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_kill_cli_writes(void **state)
{
	struct fx *f = *state;
	unsigned n = fu_iterations(), next_gen = 1, died = 0, done = 0;
	unsigned journals = 0, torn = 0;
	struct fu_rng rng = { fu_seed() };
	uint64_t seed = rng.s, t0, runs[9], span;

	/*
	 * How long an hv-kvp run takes here (median of 9, then a running
	 * mean): its write is at the end, so the kills fall in the last
	 * part of a run and a bit beyond.
	 */
	for (unsigned k = 0; k < ARRAY_SIZE(runs); k++) {
		runs[k] = cli_ok(f, k, next_gen);
		f->acked[k] = next_gen++;
	}
	qsort(runs, ARRAY_SIZE(runs), sizeof(runs[0]), cmp_u64);
	span = runs[ARRAY_SIZE(runs) / 2];
	check_pool(f, 0, seed);
	print_message("# seed 0x%llx (HVIS_KILL_SEED), %u iterations, kills "
		      "at 0.6..1.1 times a run (%llu us at first)\n",
		      (unsigned long long)seed, n, (unsigned long long)span);
	t0 = fu_now_us();
	for (unsigned it = 0; it < n; it++) {
		unsigned k, gen;
		uint64_t t, d;
		pid_t pid;
		int st;

		pick_op(f, &rng, &next_gen, &k, &gen);
		f->in_key = (int)k;
		f->in_gen = gen;
		pid = spawn_cli(f, k, gen);
		assert_true(pid > 0);
		t = fu_now_us();
		d = span * 3 / 5 + fu_below(&rng, span / 2 + 1);
		assert_int_equal(fu_kill_after(pid, d), 0);
		st = fu_wait_exit(pid, TIMEOUT_MS, NULL, NULL);
		fu_kill_cancel();
		assert_true(st >= 0);
		if (WIFEXITED(st)) {
			/* Follow the machine's pace: a running mean. */
			span = (3 * span + (fu_now_us() - t)) / 4;
			if (WEXITSTATUS(st) != 0)
				fail_msg("hv-kvp: exit %d", WEXITSTATUS(st));
			f->acked[k] = gen;
			f->in_key = -1;
			done++;
		} else {
			died++;
		}
		journals += journal_pending(f);
		torn += pool_torn(f);
		if (it % 10 == 9) {
			fu_kill_after(f->pid, 0);
			fu_kill_cancel();
			reap(f);
			start(f);
		}
		check_pool(f, it, seed);
	}
	print_message("# %u iterations in %.1f s: %u killed, %u finished "
		      "first; %u left a journal, %u a torn file, all repaired "
		      "by the daemon's next request\n",
		      n, (double)(fu_now_us() - t0) / 1e6, died, done, journals,
		      torn);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_kill_host_writes),
		T(test_kill_cli_writes),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("kill-kvp", tests, NULL, NULL);
}
