/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * KVP benchmark: our hv_kvp_daemon against the reference (Debian's
 * hyperv-daemons) through the same host simulator, with the same pool
 * files written before each start, in alternating runs.
 *
 * Per run (one daemon, one pool size): startup-to-ready time, RSS when
 * ready, then timed round trips of NOOP (ENUMERATE past the end of pool
 * 2: no pool work, the daemon's floor), SET (overwrite of an existing
 * key), GET (existing key) and ENUMERATE (sequential indexes wrapping over
 * the pool), RSS afterwards, and a check of every reply and of the pool
 * file the daemon left. A chardev echo (tests/helpers/echo-service)
 * measures a round trip that does no work at all.
 *
 * Both daemons run in a private mount namespace where /var/lib/hyperv is
 * a bind mount of the run's state directory: the reference knows no other
 * path, and ours gets the same. The machine's /var/lib/hyperv is never
 * touched. The reference's device open is redirected to the simulator by
 * bench/preload-devshim.so. CPU pinning is inherited: run under taskset.
 */
#include <getopt.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "bench.h"
#include "hvis/wire.h"
#include "hvsim/hvsim.h"

#define POOL 0 /* EXTERNAL: where the host's Add/ModifyKvpItems go */
#define VALUE_LEN 64 /* a typical short value */
#define REPLY_TIMEOUT_MS 120000
#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 5000
#define MAX_SIZES 8
#define MAX_ROUNDS 64
#define REF_STATE BENCH_REF_STATE

enum op { OP_NOOP, OP_SET, OP_GET, OP_ENUM, OP_MAX };
static const char *const op_names[OP_MAX] = { "noop", "set", "get",
					      "enumerate" };

enum daemon_id { D_OURS, D_REF, D_MAX };
static const char *const daemon_names[D_MAX] = { "ours", "reference" };

struct run {
	bool done; /* ran to the end */
	double startup_ms;
	long rss_ready_kb, rss_after_kb, anon_ready_kb, anon_after_kb, hwm_kb;
	struct bench_stats op[OP_MAX];
	unsigned int bad_replies;
	unsigned int bad_records; /* pool file check after stopping */
	unsigned int reconnects;
};

struct bench {
	const char *ours, *ref, *shim, *echo, *json, *label;
	bool have_ref, use_ns, keep;
	unsigned int rounds, ops, ops_large, large_at, noop_ops;
	unsigned int sizes[MAX_SIZES + 1]; /* [0] = 0: startup only */
	unsigned int nsizes;
	char work[256], dev_dir[300], sock[320], state[300], run_dir[300];
	char log[D_MAX][300];
	char affinity[128];
	const char *fs; /* of the state directory */
	int ncpus;
	uint32_t *gen; /* per key: how many times it was SET */
	double *lat;
	struct run runs[D_MAX][MAX_SIZES + 1][MAX_ROUNDS];
	struct bench_stats echo_rt[MAX_ROUNDS];
	unsigned int failures;
};

static struct hv_kvp_msg msg, reply;

static void key_of(char *buf, size_t size, unsigned int i)
{
	snprintf(buf, size, "bench-key-%06u", i);
}

/* VALUE_LEN bytes, distinct for every (key, generation). */
static void value_of(char *buf, size_t size, unsigned int i, uint32_t gen)
{
	int n = snprintf(buf, size, "bench-value-%06u-gen-%08u-", i, gen);

	while (n > 0 && (size_t)n < VALUE_LEN && (size_t)n + 1 < size)
		buf[n++] = 'x';
	buf[n] = '\0';
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Pool 0 holds `records` zero-padded records, the other pools are empty. */
static int write_pools(const struct bench *b, unsigned int records)
{
	static struct hv_kvp_record chunk[256];
	char path[400];
	unsigned int pool, i = 0;

	for (pool = 0; pool < 5; pool++) {
		_cleanup_close_ int fd = -1;

		snprintf(path, sizeof(path), "%s/.kvp_pool_%u", b->state, pool);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		while (pool == POOL && i < records) {
			unsigned int k, n = HV_MIN(records - i,
						   (unsigned)ARRAY_SIZE(chunk));
			int r;

			memset(chunk, 0, sizeof(chunk));
			for (k = 0; k < n; k++) {
				key_of(chunk[k].key, sizeof(chunk[k].key),
				       i + k);
				value_of(chunk[k].value, sizeof(chunk[k].value),
					 i + k, 0);
			}
			r = write_all(fd, chunk, n * sizeof(chunk[0]));
			if (r < 0)
				return r;
			i += n;
		}
	}
	return 0;
}

/* Check the pool file the daemon left against what we SET. */
static unsigned int check_pool(const struct bench *b, unsigned int records)
{
	struct hv_kvp_record rec;
	char path[400], want[VALUE_LEN + 64];
	_cleanup_close_ int fd = -1;
	unsigned int i, bad = 0;
	struct stat st;

	snprintf(path, sizeof(path), "%s/.kvp_pool_%u", b->state, POOL);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return records ? records : 1;
	if ((uint64_t)st.st_size != (uint64_t)records * sizeof(rec))
		bad++;
	for (i = 0; i < records; i++) {
		if (read(fd, &rec, sizeof(rec)) != (ssize_t)sizeof(rec)) {
			bad += records - i;
			break;
		}
		key_of(want, sizeof(want), i);
		if (strncmp(rec.key, want, sizeof(rec.key)) != 0) {
			bad++;
			continue;
		}
		value_of(want, sizeof(want), i, b->gen[i]);
		if (strncmp(rec.value, want, sizeof(rec.value)) != 0)
			bad++;
	}
	return bad;
}

static pid_t spawn(const struct bench *b, enum daemon_id d)
{
	struct bench_kvp_argv a;
	char **argv = d == D_OURS ?
			      bench_kvp_argv(&a, b->ours, b->dev_dir,
					     b->run_dir,
					     b->use_ns ? REF_STATE : b->state) :
			      bench_kvp_argv(&a, b->ref, NULL, NULL, NULL);
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid != 0)
		return pid;

	/* Child. */
	{
		int r;

		bench_redirect(b->log[d]);
		if (b->use_ns) {
			r = bench_private_state(b->state);
			if (r < 0) {
				fprintf(stderr, "kvp-bench: namespace: %s\n",
					strerror(-r));
				_exit(126);
			}
		}
		if (d == D_REF) {
			setenv("LD_PRELOAD", b->shim, 1);
			setenv("HVIS_SHIM_SOCKET", b->sock, 1);
		}
		execv(argv[0], argv);
		fprintf(stderr, "kvp-bench: exec %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
}

static void build(enum op op, unsigned int idx, uint32_t gen)
{
	struct hv_kvp_exchg_msg_value *v = &msg.body.kvp_set.data;

	memset(&msg, 0, sizeof(msg));
	switch (op) {
	case OP_NOOP:
		/* Pool 2 has 10 items (§3.4); index 10 ends an enumeration. */
		msg.kvp_hdr.operation = KVP_OP_ENUMERATE;
		msg.kvp_hdr.pool = KVP_POOL_AUTO;
		msg.body.kvp_enum_data.index = 10;
		return;
	case OP_ENUM:
		msg.kvp_hdr.operation = KVP_OP_ENUMERATE;
		msg.kvp_hdr.pool = POOL;
		msg.body.kvp_enum_data.index = idx;
		return;
	case OP_SET:
		/* As the kernel hands a REG_SZ SET over (§3.2). */
		msg.kvp_hdr.operation = KVP_OP_SET;
		msg.kvp_hdr.pool = POOL;
		key_of((char *)v->key, sizeof(v->key), idx);
		value_of((char *)v->value, sizeof(v->value), idx, gen);
		v->value_type = REG_SZ;
		v->key_size = (uint32_t)strlen((char *)v->key) + 1;
		v->value_size = (uint32_t)strlen((char *)v->value) + 1;
		return;
	case OP_GET:
		/* §3.2 GET quirk: the kernel passes value_size 0. */
		msg.kvp_hdr.operation = KVP_OP_GET;
		msg.kvp_hdr.pool = POOL;
		key_of((char *)v->key, sizeof(v->key), idx);
		v->key_size = (uint32_t)strlen((char *)v->key) + 1;
		return;
	default:
		return;
	}
}

static bool reply_ok(const struct bench *b, enum op op, unsigned int idx)
{
	const struct hv_kvp_exchg_msg_value *v = &reply.body.kvp_enum_data.data;
	uint32_t status = hv_le32(&reply);
	char want[VALUE_LEN + 64];

	switch (op) {
	case OP_NOOP:
		return status == HV_S_CONT;
	case OP_SET:
	case OP_GET:
		return status == HV_S_OK;
	case OP_ENUM:
		if (status != HV_S_OK)
			return false;
		key_of(want, sizeof(want), idx);
		if (strncmp((const char *)v->key, want, sizeof(v->key)) != 0)
			return false;
		value_of(want, sizeof(want), idx, b->gen[idx]);
		return strncmp((const char *)v->value, want,
			       sizeof(v->value)) == 0;
	default:
		return false;
	}
}

/* warmup + n round trips of one kind; the first warmup are not timed. */
static int phase(struct bench *b, struct hvsim_cdev *cd, enum op op,
		 unsigned int records, unsigned int n, unsigned int warmup,
		 uint64_t seed, struct run *run)
{
	uint64_t rng = seed | 1, start = 0;
	unsigned int k;

	for (k = 0; k < warmup + n; k++) {
		unsigned int idx = 0;
		uint32_t gen = 0;
		uint64_t t0, t1;
		ssize_t len;

		if (op == OP_SET || op == OP_GET)
			idx = (unsigned int)(rng_next(&rng) % records);
		else if (op == OP_ENUM)
			idx = k % records;
		if (op == OP_SET)
			gen = b->gen[idx] + 1;
		build(op, idx, gen);
		if (k == warmup)
			start = bench_now_ns();
		t0 = bench_now_ns();
		len = hvsim_cdev_transact(cd, &msg, sizeof(msg), &reply,
					  sizeof(reply));
		t1 = bench_now_ns();
		if (len < 0)
			return (int)len;
		if (len != (ssize_t)sizeof(reply))
			return -EBADMSG;
		if (op == OP_SET && hv_le32(&reply) == HV_S_OK)
			b->gen[idx] = gen;
		if (!reply_ok(b, op, idx))
			run->bad_replies++;
		if (k >= warmup)
			b->lat[k - warmup] = (double)(t1 - t0) / 1e6;
	}
	run->op[op] = bench_summarize(b->lat, n, bench_now_ns() - start);
	return 0;
}

static unsigned int ops_for(const struct bench *b, enum daemon_id d, enum op op,
			    unsigned int records)
{
	if (op == OP_NOOP)
		return b->noop_ops;
	if (d == D_REF && records >= b->large_at)
		return b->ops_large;
	return b->ops;
}

static void read_rss(pid_t pid, long *rss, long *anon)
{
	*rss = bench_proc_status_kb(pid, "VmRSS");
	*anon = bench_proc_status_kb(pid, "RssAnon");
}

static int one_run(struct bench *b, enum daemon_id d, unsigned int records,
		   unsigned int round, struct run *run)
{
	struct hvsim_cdev *cd = NULL;
	uint64_t t0;
	pid_t pid;
	int r;
	enum op op;

	memset(b->gen, 0, sizeof(*b->gen) * (records ? records : 1));
	bench_rm_tree(b->run_dir);
	if (mkdir(b->run_dir, 0755) < 0)
		return -errno;
	r = write_pools(b, records);
	if (r < 0)
		return r;
	r = hvsim_cdev_new(b->sock, HVSIM_CDEV_KVP, &cd);
	if (r < 0)
		return r;
	hvsim_cdev_set_reply_timeout(cd, REPLY_TIMEOUT_MS);

	t0 = bench_now_ns();
	pid = spawn(b, d);
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	r = bench_wait_cdev_ready(cd, &pid, START_TIMEOUT_MS);
	if (r < 0)
		goto out;
	run->startup_ms = (double)(bench_now_ns() - t0) / 1e6;
	read_rss(pid, &run->rss_ready_kb, &run->anon_ready_kb);

	for (op = 0; op < OP_MAX && records > 0; op++) {
		unsigned int n = ops_for(b, d, op, records);
		/* The same key sequence for both daemons in a round. */
		uint64_t seed = 0x9e3779b97f4a7c15ull * (round + 1) ^
				(uint64_t)records << 8 ^ op;

		r = phase(b, cd, op, records, n, HV_MAX(n / 20, 5u), seed, run);
		if (r < 0)
			goto out;
	}
	read_rss(pid, &run->rss_after_kb, &run->anon_after_kb);
	run->hwm_kb = bench_proc_status_kb(pid, "VmHWM");
	run->reconnects = hvsim_cdev_stats(cd)->opens - 1;

	/* Ours exits on SIGTERM, the reference dies of it: both fine. */
	(void)bench_stop(pid, STOP_TIMEOUT_MS);
	pid = -1;
	run->bad_records = check_pool(b, records);
	run->done = true;
	r = 0;
out:
	if (pid > 0)
		bench_stop(pid, STOP_TIMEOUT_MS);
	hvsim_cdev_free(cd);
	return r;
}

/* The floor: hvsim to tests/helpers/echo-service and back, 7432 bytes. */
static int echo_run(struct bench *b, struct bench_stats *ret)
{
	struct hvsim_cdev *cd = NULL;
	uint64_t start = 0;
	pid_t pid;
	int r;

	r = hvsim_cdev_new(b->sock, HVSIM_CDEV_RAW, &cd);
	if (r < 0)
		return r;
	hvsim_cdev_set_reply_timeout(cd, REPLY_TIMEOUT_MS);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execl(b->echo, b->echo, "chardev", b->sock, (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	r = hvsim_cdev_wait_ready(cd, START_TIMEOUT_MS);
	if (r < 0)
		goto out;
	memset(&msg, 0x5a, sizeof(msg));
	for (unsigned int k = 0; k < b->noop_ops + 100; k++) {
		uint64_t t0, t1;
		ssize_t len;

		if (k == 100)
			start = bench_now_ns();
		t0 = bench_now_ns();
		len = hvsim_cdev_transact(cd, &msg, sizeof(msg), &reply,
					  sizeof(reply));
		t1 = bench_now_ns();
		if (len != (ssize_t)sizeof(msg)) {
			r = len < 0 ? (int)len : -EBADMSG;
			goto out;
		}
		if (k >= 100)
			b->lat[k - 100] = (double)(t1 - t0) / 1e6;
	}
	*ret = bench_summarize(b->lat, b->noop_ops, bench_now_ns() - start);
out:
	if (pid > 0)
		bench_stop(pid, STOP_TIMEOUT_MS);
	hvsim_cdev_free(cd);
	return r;
}

/* Summary over rounds: medians of the per-run figures. */
struct summary {
	unsigned int runs;
	double startup_ms;
	double rss_ready_kb, rss_after_kb, anon_ready_kb, anon_after_kb;
	double hwm_kb;
	struct bench_stats op[OP_MAX];
	unsigned int bad_replies, bad_records, reconnects;
};

static void summarize(const struct bench *b, enum daemon_id d, unsigned int si,
		      struct summary *s)
{
	double v[7 + 3 * OP_MAX][MAX_ROUNDS];
	unsigned int i, n = 0, j;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < b->rounds; i++) {
		const struct run *r = &b->runs[d][si][i];

		if (!r->done)
			continue;
		v[0][n] = r->startup_ms;
		v[1][n] = (double)r->rss_ready_kb;
		v[2][n] = (double)r->rss_after_kb;
		v[3][n] = (double)r->anon_ready_kb;
		v[4][n] = (double)r->anon_after_kb;
		v[5][n] = (double)r->hwm_kb;
		for (j = 0; j < OP_MAX; j++) {
			v[7 + 3 * j][n] = r->op[j].median_ms;
			v[8 + 3 * j][n] = r->op[j].p99_ms;
			v[9 + 3 * j][n] = r->op[j].ops_per_s;
			s->op[j].n = r->op[j].n;
		}
		s->bad_replies += r->bad_replies;
		s->bad_records += r->bad_records;
		s->reconnects += r->reconnects;
		n++;
	}
	s->runs = n;
	if (!n)
		return;
	s->startup_ms = bench_median(v[0], n);
	s->rss_ready_kb = bench_median(v[1], n);
	s->rss_after_kb = bench_median(v[2], n);
	s->anon_ready_kb = bench_median(v[3], n);
	s->anon_after_kb = bench_median(v[4], n);
	s->hwm_kb = bench_median(v[5], n);
	for (j = 0; j < OP_MAX; j++) {
		s->op[j].median_ms = bench_median(v[7 + 3 * j], n);
		s->op[j].p99_ms = bench_median(v[8 + 3 * j], n);
		s->op[j].ops_per_s = bench_median(v[9 + 3 * j], n);
	}
}

static double ratio(double ref, double ours)
{
	return ours > 0 && ref > 0 ? ref / ours : 0;
}

static int size_index(const struct bench *b, unsigned int records)
{
	for (unsigned int i = 0; i < b->nsizes; i++)
		if (b->sizes[i] == records)
			return (int)i;
	return -1;
}

static void print_table(const struct bench *b,
			struct summary sum[D_MAX][MAX_SIZES + 1])
{
	struct bench_stats echo, e[MAX_ROUNDS];
	unsigned int i, n = 0;
	enum op op;

	for (i = 0; i < b->rounds; i++)
		if (b->echo_rt[i].n)
			e[n++] = b->echo_rt[i];
	printf("\nKVP, %s: %s (CPUs %s); pools on %s; medians over %u "
	       "round(s)\n",
	       b->label,
	       b->ncpus == 1 ? "driver, simulator and daemon pinned together" :
			       "unpinned",
	       b->affinity, b->fs, b->rounds);
	printf("  latency in ms per round trip, median and p99; ops/s; "
	       "ref/ours = reference median / our median\n");
	if (n) {
		echo = bench_stats_median(e, n);
		printf("  no-work round trip (hvsim <-> echo-service, 7432 "
		       "bytes): %.4f / %.4f ms, %.0f ops/s\n",
		       echo.median_ms, echo.p99_ms, echo.ops_per_s);
	}
	printf("  %-8s %-9s %9s %9s %9s | %9s %9s %9s | %8s\n", "records", "op",
	       "ours med", "p99", "ops/s", "ref med", "p99", "ops/s",
	       "ref/ours");
	for (i = 1; i < b->nsizes; i++) {
		for (op = 0; op < OP_MAX; op++) {
			const struct summary *o = &sum[D_OURS][i];
			const struct summary *f = &sum[D_REF][i];

			printf("  %-8u %-9s", b->sizes[i], op_names[op]);
			if (o->runs)
				printf(" %9.4f %9.4f %9.0f",
				       o->op[op].median_ms, o->op[op].p99_ms,
				       o->op[op].ops_per_s);
			else
				printf(" %9s %9s %9s", "-", "-", "-");
			if (f->runs)
				printf(" | %9.4f %9.4f %9.0f",
				       f->op[op].median_ms, f->op[op].p99_ms,
				       f->op[op].ops_per_s);
			else
				printf(" | %9s %9s %9s", "-", "-", "-");
			if (o->runs && f->runs)
				printf(" | %7.1fx\n",
				       ratio(f->op[op].median_ms,
					     o->op[op].median_ms));
			else
				printf(" | %8s\n", "-");
		}
	}
	printf("\n  startup = spawn to registered with hvsim (which polls "
	       "the handshake every 2 ms);\n  RSS (VmRSS, KiB) and its "
	       "anonymous part, when ready and after the round trips\n");
	printf("  %-8s %-10s %10s %10s %10s %10s %10s\n", "records", "daemon",
	       "startup ms", "RSS ready", "anon", "RSS after", "anon");
	for (i = 0; i < b->nsizes; i++) {
		for (int d = 0; d < D_MAX; d++) {
			const struct summary *s = &sum[d][i];

			if (!s->runs)
				continue;
			printf("  %-8u %-10s %10.2f %10.0f %10.0f", b->sizes[i],
			       daemon_names[d], s->startup_ms, s->rss_ready_kb,
			       s->anon_ready_kb);
			if (b->sizes[i])
				printf(" %10.0f %10.0f\n", s->rss_after_kb,
				       s->anon_after_kb);
			else
				printf(" %10s %10s\n", "-", "-");
		}
	}
	fflush(stdout);
}

struct target {
	const char *name;
	double value, limit;
	bool pass, lower_is_better;
};

static unsigned int targets(const struct bench *b,
			    struct summary sum[D_MAX][MAX_SIZES + 1],
			    struct target *t)
{
	static const enum op timed[] = { OP_SET, OP_GET, OP_ENUM };
	static char names[32][64];
	int s10 = size_index(b, 10), s1k = size_index(b, 1000),
	    s10k = size_index(b, 10000), s0 = size_index(b, 0);
	unsigned int n = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(timed); i++) {
		enum op op = timed[i];

		if (s10 >= 0 && s10k >= 0 && sum[D_OURS][s10].runs &&
		    sum[D_OURS][s10k].runs) {
			snprintf(names[n], sizeof(names[n]),
				 "%s growth 10 -> 10000 records (ours)",
				 op_names[op]);
			t[n].name = names[n];
			t[n].value = ratio(sum[D_OURS][s10k].op[op].median_ms,
					   sum[D_OURS][s10].op[op].median_ms);
			t[n].limit = 2;
			t[n].lower_is_better = true;
			n++;
		}
		for (int k = 0; k < 2; k++) {
			int si = k ? s10k : s1k;

			if (si < 0 || !sum[D_OURS][si].runs ||
			    !sum[D_REF][si].runs)
				continue;
			snprintf(names[n], sizeof(names[n]),
				 "%s ref/ours at %u records", op_names[op],
				 b->sizes[si]);
			t[n].name = names[n];
			t[n].value = ratio(sum[D_REF][si].op[op].median_ms,
					   sum[D_OURS][si].op[op].median_ms);
			t[n].limit = k ? 50 : 10;
			t[n].lower_is_better = false;
			n++;
		}
	}
	for (int k = 0; k < 2; k++) {
		int si = k ? s10k : s0;

		if (si < 0 || !sum[D_OURS][si].runs || !sum[D_REF][si].runs)
			continue;
		snprintf(names[n], sizeof(names[n]),
			 k ? "RSS KiB holding 10000 records, ours - ref" :
			     "RSS KiB idle after start, ours - ref");
		t[n].name = names[n];
		t[n].value = k ? sum[D_OURS][si].rss_after_kb -
					     sum[D_REF][si].rss_after_kb :
				 sum[D_OURS][si].rss_ready_kb -
					     sum[D_REF][si].rss_ready_kb;
		t[n].limit = 1024;
		t[n].lower_is_better = true;
		n++;
	}
	for (unsigned int i = 0; i < n; i++)
		t[i].pass = t[i].lower_is_better ? t[i].value <= t[i].limit :
						   t[i].value >= t[i].limit;
	return n;
}

static void json_stats(FILE *f, const struct bench_stats *s)
{
	fprintf(f, "{");
	bench_json_stats(f, s, "ops_per_s");
	fprintf(f, "}");
}

static int write_json(const struct bench *b,
		      struct summary sum[D_MAX][MAX_SIZES + 1],
		      const struct target *t, unsigned int nt)
{
	FILE *f = fopen(b->json, "we");
	unsigned int i, k;

	if (!f)
		return -errno;
	bench_json_head(f, b->label, b->affinity, b->ncpus);
	fprintf(f, ",\n  \"rounds\": %u,\n", b->rounds);
	fprintf(f, "  \"ours\": ");
	bench_json_str(f, b->ours);
	fprintf(f, ",\n  \"reference\": ");
	if (b->have_ref)
		bench_json_str(f, b->ref);
	else
		fprintf(f, "null");
	fprintf(f, ",\n  \"pool\": %u,\n  \"value_bytes\": %u,\n", POOL,
		VALUE_LEN);
	fprintf(f, "  \"private_mount_namespace\": %s,\n",
		b->use_ns ? "true" : "false");
	fprintf(f, "  \"state_dir_fs\": ");
	bench_json_str(f, b->fs);
	fprintf(f, ",\n  \"ops_per_measurement\": %u,\n", b->ops);
	fprintf(f, "  \"ops_per_measurement_ref_large\": %u,\n", b->ops_large);
	fprintf(f, "  \"large_pool_from_records\": %u,\n", b->large_at);
	fprintf(f, "  \"noop_roundtrip_echo\": {\"runs\": [");
	for (i = k = 0; i < b->rounds; i++) {
		if (!b->echo_rt[i].n)
			continue;
		fprintf(f, "%s", k++ ? ", " : "");
		json_stats(f, &b->echo_rt[i]);
	}
	fprintf(f, "]},\n  \"results\": [");
	k = 0;
	for (i = 0; i < b->nsizes; i++) {
		for (int d = 0; d < D_MAX; d++) {
			const struct summary *s = &sum[d][i];

			if (!s->runs)
				continue;
			fprintf(f, "%s\n    {\"daemon\": \"%s\", ",
				k++ ? "," : "", daemon_names[d]);
			fprintf(f, "\"records\": %u, \"runs\": %u, ",
				b->sizes[i], s->runs);
			fprintf(f, "\"startup_ms\": ");
			bench_json_num(f, s->startup_ms);
			fprintf(f,
				", \"rss_ready_kib\": %.0f, "
				"\"rss_after_kib\": %.0f, "
				"\"rss_anon_ready_kib\": %.0f, "
				"\"rss_anon_after_kib\": %.0f, "
				"\"vm_hwm_kib\": %.0f, ",
				s->rss_ready_kb, s->rss_after_kb,
				s->anon_ready_kb, s->anon_after_kb, s->hwm_kb);
			fprintf(f,
				"\"bad_replies\": %u, \"bad_records\": %u, "
				"\"reconnects\": %u, \"ops\": {",
				s->bad_replies, s->bad_records, s->reconnects);
			for (int op = 0; op < OP_MAX && b->sizes[i]; op++) {
				const struct summary *o = &sum[D_OURS][i];

				fprintf(f, "%s\"%s\": ", op ? ", " : "",
					op_names[op]);
				fprintf(f, "{\"median\": ");
				json_stats(f, &s->op[op]);
				if (d == D_REF && o->runs) {
					fprintf(f,
						", \"ratio_ref_over_ours\": ");
					bench_json_num(
						f, ratio(s->op[op].median_ms,
							 o->op[op].median_ms));
				}
				fprintf(f, ", \"runs\": [");
				for (unsigned int r = 0, m = 0; r < b->rounds;
				     r++) {
					const struct run *x = &b->runs[d][i][r];

					if (!x->done)
						continue;
					fprintf(f, "%s", m++ ? ", " : "");
					json_stats(f, &x->op[op]);
				}
				fprintf(f, "]}");
			}
			fprintf(f, "}, \"startup_ms_runs\": [");
			for (unsigned int r = 0, m = 0; r < b->rounds; r++) {
				const struct run *x = &b->runs[d][i][r];

				if (!x->done)
					continue;
				fprintf(f, "%s", m++ ? ", " : "");
				bench_json_num(f, x->startup_ms);
			}
			fprintf(f, "]}");
		}
	}
	fprintf(f, "\n  ],\n  \"targets\": [");
	for (i = 0; i < nt; i++) {
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		bench_json_str(f, t[i].name);
		fprintf(f, ", \"value\": ");
		bench_json_num(f, t[i].value);
		fprintf(f, ", \"limit\": ");
		bench_json_num(f, t[i].limit);
		fprintf(f, ", \"pass\": %s}", t[i].pass ? "true" : "false");
	}
	fprintf(f, "\n  ]\n}\n");
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

static int parse_sizes(struct bench *b, const char *arg)
{
	char *end;

	b->nsizes = 1; /* sizes[0] = 0 */
	while (*arg) {
		unsigned long v = strtoul(arg, &end, 10);

		if (end == arg || v == 0 || v > 1000000 ||
		    b->nsizes > MAX_SIZES)
			return -EINVAL;
		b->sizes[b->nsizes++] = (unsigned int)v;
		arg = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -EINVAL;
	}
	return 0;
}

static const char *fs_name(const char *path)
{
	static char other[32];
	struct statfs st;

	if (statfs(path, &st) < 0)
		return "unknown";
	switch ((unsigned long)st.f_type) {
	case TMPFS_MAGIC:
		return "tmpfs";
	case EXT4_SUPER_MAGIC:
		return "ext2/3/4";
	case XFS_SUPER_MAGIC:
		return "xfs";
	case BTRFS_SUPER_MAGIC:
		return "btrfs";
	case OVERLAYFS_SUPER_MAGIC:
		return "overlayfs";
	default:
		snprintf(other, sizeof(other), "0x%lx",
			 (unsigned long)st.f_type);
		return other;
	}
}

static int setup_paths(struct bench *b)
{
	char vm[320];

	if (hv_snprintf(b->dev_dir, sizeof(b->dev_dir), "%s/dev", b->work) <
		    0 ||
	    hv_snprintf(b->sock, sizeof(b->sock), "%s/vmbus/hv_kvp",
			b->dev_dir) < 0 ||
	    hv_snprintf(vm, sizeof(vm), "%s/vmbus", b->dev_dir) < 0 ||
	    hv_snprintf(b->state, sizeof(b->state), "%s/state", b->work) < 0 ||
	    hv_snprintf(b->run_dir, sizeof(b->run_dir), "%s/run", b->work) <
		    0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (int d = 0; d < D_MAX; d++)
		if (hv_snprintf(b->log[d], sizeof(b->log[d]), "%s/%s.log",
				b->work, daemon_names[d]) < 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
	if (mkdir(b->dev_dir, 0755) < 0 || mkdir(vm, 0755) < 0 ||
	    mkdir(b->state, 0755) < 0)
		return -1;
	b->fs = fs_name(b->state);
	return 0;
}

static void usage(void)
{
	printf("Usage: kvp-bench --ours=PATH --echo=PATH [OPTION]...\n"
	       "  --ours=PATH        our hv_kvp_daemon\n"
	       "  --echo=PATH        tests/helpers/echo-service\n"
	       "  --ref=PATH         reference daemon (default "
	       "/usr/sbin/hv_kvp_daemon)\n"
	       "  --shim=PATH        preload-devshim.so for the reference\n"
	       "  --sizes=LIST       pool sizes (default 10,1000,10000)\n"
	       "  --rounds=N         alternating runs per daemon and size "
	       "(default 5)\n"
	       "  --ops=N            timed round trips per operation "
	       "(default 2000)\n"
	       "  --ops-large=N      the same for the reference at large "
	       "pools (default 100)\n"
	       "  --large-at=N       what counts as large (default 5000)\n"
	       "  --noop-ops=N       no-work round trips (default 2000)\n"
	       "  --label=TEXT       name of this configuration\n"
	       "  --json=FILE        write the figures as JSON\n"
	       "  --keep             keep the work directory\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ours", required_argument, NULL, 'o' },
		{ "ref", required_argument, NULL, 'r' },
		{ "shim", required_argument, NULL, 's' },
		{ "echo", required_argument, NULL, 'e' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "ops", required_argument, NULL, 'n' },
		{ "ops-large", required_argument, NULL, 'N' },
		{ "large-at", required_argument, NULL, 'L' },
		{ "noop-ops", required_argument, NULL, 'm' },
		{ "label", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static struct bench bb;
	static struct summary sum[D_MAX][MAX_SIZES + 1];
	struct target t[32];
	struct bench *b = &bb;
	unsigned int maxrec = 0, nt, i, round;
	int c, r = 0;

	b->ref = "/usr/sbin/hv_kvp_daemon";
	b->label = "default";
	b->rounds = 5;
	b->ops = 2000;
	b->ops_large = 100;
	b->large_at = 5000;
	b->noop_ops = 2000;
	parse_sizes(b, "10,1000,10000");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			b->ours = optarg;
			break;
		case 'r':
			b->ref = optarg;
			break;
		case 's':
			b->shim = optarg;
			break;
		case 'e':
			b->echo = optarg;
			break;
		case 'z':
			r = parse_sizes(b, optarg);
			break;
		case 'R':
			r = bench_parse_uint(optarg, MAX_ROUNDS, &b->rounds);
			break;
		case 'n':
			r = bench_parse_uint(optarg, 10000000, &b->ops);
			break;
		case 'N':
			r = bench_parse_uint(optarg, 10000000, &b->ops_large);
			break;
		case 'L':
			r = bench_parse_uint(optarg, 10000000, &b->large_at);
			break;
		case 'm':
			r = bench_parse_uint(optarg, 10000000, &b->noop_ops);
			break;
		case 'l':
			b->label = optarg;
			break;
		case 'j':
			b->json = optarg;
			break;
		case 'k':
			b->keep = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 64;
		}
		if (r < 0) {
			fprintf(stderr, "kvp-bench: bad argument '%s'\n",
				optarg);
			return 64;
		}
	}
	if (!b->ours || !b->echo || optind < argc) {
		usage();
		return 64;
	}
	if (bench_affinity(b->affinity, sizeof(b->affinity), &b->ncpus) < 0)
		return 1;

	b->use_ns = geteuid() == 0;
	b->have_ref = b->ref && *b->ref && access(b->ref, X_OK) == 0;
	if (!b->have_ref)
		printf("kvp-bench: reference daemon %s not found: measuring "
		       "ours alone\n",
		       b->ref ? b->ref : "(none)");
	else if (!b->shim || access(b->shim, R_OK) < 0) {
		printf("kvp-bench: no device shim (--shim): measuring ours "
		       "alone\n");
		b->have_ref = false;
	} else if (!b->use_ns) {
		printf("kvp-bench: not root, so no private /var/lib/hyperv "
		       "for the reference: measuring ours alone\n");
		b->have_ref = false;
	}

	for (i = 0; i < b->nsizes; i++)
		maxrec = HV_MAX(maxrec, b->sizes[i]);
	b->gen = calloc(maxrec + 1, sizeof(*b->gen));
	b->lat = calloc(HV_MAX(HV_MAX(b->ops, b->ops_large), b->noop_ops),
			sizeof(*b->lat));
	if (!b->gen || !b->lat)
		return 1;

	snprintf(b->work, sizeof(b->work), "%s/hvis-kvp-bench.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(b->work)) {
		perror("kvp-bench: mkdtemp");
		return 1;
	}
	if (setup_paths(b) < 0) {
		fprintf(stderr, "kvp-bench: cannot set up %s: %s\n", b->work,
			strerror(errno));
		return 1;
	}

	for (round = 0; round < b->rounds; round++) {
		r = echo_run(b, &b->echo_rt[round]);
		if (r < 0) {
			fprintf(stderr, "kvp-bench: echo round trip: %s\n",
				strerror(-r));
			b->failures++;
		}
		for (i = 0; i < b->nsizes; i++) {
			/* Alternate who goes first. */
			for (int k = 0; k < D_MAX; k++) {
				enum daemon_id d =
					(enum daemon_id)((k + round + i) % 2);
				struct run *run = &b->runs[d][i][round];

				if (d == D_REF && !b->have_ref)
					continue;
				r = one_run(b, d, b->sizes[i], round, run);
				if (r < 0 || run->bad_replies ||
				    run->bad_records) {
					fprintf(stderr,
						"kvp-bench: %s, %u records, "
						"round %u: %s, %u bad "
						"replies, %u bad records "
						"(log: %s)\n",
						daemon_names[d], b->sizes[i],
						round + 1,
						r < 0 ? strerror(-r) : "done",
						run->bad_replies,
						run->bad_records, b->log[d]);
					b->failures++;
					b->keep = true;
				}
			}
		}
		fflush(stdout);
		fprintf(stderr, "kvp-bench: %s: round %u/%u done\n", b->label,
			round + 1, b->rounds);
	}

	for (i = 0; i < b->nsizes; i++)
		for (int d = 0; d < D_MAX; d++)
			summarize(b, (enum daemon_id)d, i, &sum[d][i]);
	print_table(b, sum);
	nt = targets(b, sum, t);
	if (nt)
		printf("\n  targets (issue 3):\n");
	for (i = 0; i < nt; i++)
		printf("    %-46s %10.1f  %s %-6.0f %s\n", t[i].name,
		       t[i].value,
		       t[i].lower_is_better ? "<=" : ">=", t[i].limit,
		       t[i].pass ? "met" : "NOT MET");
	if (b->json) {
		r = write_json(b, sum, t, nt);
		if (r < 0) {
			fprintf(stderr, "kvp-bench: %s: %s\n", b->json,
				strerror(-r));
			b->failures++;
		}
	}
	if (b->keep)
		fprintf(stderr, "kvp-bench: work directory kept: %s\n",
			b->work);
	else
		bench_rm_tree(b->work);
	return b->failures ? 1 : 0;
}
