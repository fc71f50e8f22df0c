/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_kvp_daemon under injected faults (issue 9, "Fault injection"), the
 * real binary against the simulated kernel and host:
 *
 *   host/kernel  the device destroyed while the daemon holds a request;
 *                the reply refused (KVP's hibernation step, §2); the
 *                kernel's 30 s timeout and the daemon's late reply, also
 *                when the next request is already out (the kernel takes
 *                the late reply for it); the device held by another
 *                opener (EBUSY) at start and while running; a stream of
 *                the largest records the daemon format and the host
 *                format can carry.
 *   disk         a pool file truncated mid-record; a directory where a
 *                pool file should be, at start and while running; EIO
 *                from the pool's filesystem (ext4 shut down, root); the
 *                state directory read-only (root, private mount ns).
 *
 * Each case checks what the host was told, the daemon's log line, and
 * that the daemon answers the next request. The daemon is held inside a
 * request by holding the pool's flock (writers take it first), which is
 * how "the daemon holds a message" is made deterministic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <linux/types.h>

#include "fault-util.h"
#include "hvis/util.h"
#include "hvis/wire.h"
#include "hvsim/hvsim.h"

#define TIMEOUT_MS 10000
#define SHORT_MS 300
#define REC 2560

/* ext4's (and xfs's) "the device is gone" ioctl: every later I/O is EIO. */
#ifndef EXT4_IOC_SHUTDOWN
#define EXT4_IOC_SHUTDOWN _IOR('X', 125, __u32)
#endif
#define EXT4_GOING_FLAGS_NOLOGFLUSH 0x2

struct fx {
	char root[64];
	char dev[128];
	char state[128];
	char log[128];
	char mnt[128]; /* a loop-mounted ext4, when a test made one */
	struct hvsim_cdev *cd;
	struct hvsim_kvp *k;
	pid_t pid;
};

static bool private_ns;
static struct hv_kvp_msg msg, reply;

static void pump(void *ctx, int ms)
{
	struct fx *f = ctx;

	if (f->cd)
		hvsim_cdev_run(f->cd, ms);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(hv_write_full(fd, data, len), (ssize_t)len);
	close(fd);
}

static void make_sim(struct fx *f)
{
	assert_int_equal(hvsim_cdev_new(f->dev, HVSIM_CDEV_KVP, &f->cd), 0);
	hvsim_cdev_set_reply_timeout(f->cd, TIMEOUT_MS);
	assert_int_equal(hvsim_kvp_new(f->cd, &f->k), 0);
	hvsim_kvp_set_nego_wait(f->k, TIMEOUT_MS);
}

static void free_sim(struct fx *f)
{
	f->k = hvsim_kvp_free(f->k);
	f->cd = hvsim_cdev_free(f->cd);
}

static pid_t spawn_daemon(struct fx *f, const char *extra)
{
	char bin[256];
	char *argv[] = { bin,	    "--root",	   f->root, "--log=stderr",
			 "--debug", (char *)extra, NULL };
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/hv_kvp_daemon", fu_build_dir());
	pid = fu_spawn(argv, f->log);
	assert_true(pid > 0);
	return pid;
}

static void start(struct fx *f, const char *extra)
{
	f->pid = spawn_daemon(f, extra);
	if (hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS) < 0)
		fail_msg("daemon did not register; log:\n%s",
			 fu_read_text(f->log));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256];

	assert_non_null(f);
	hv_strscpy(f->root, "/tmp/hvis-fkvp.XXXXXX", sizeof(f->root));
	assert_non_null(mkdtemp(f->root));
	snprintf(p, sizeof(p), "%s/dev/vmbus", f->root);
	assert_int_equal(hv_mkdir_parents(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/run", f->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc", f->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc/os-release", f->root);
	write_file(p, "NAME=\"Fault Linux\"\n", 19);
	snprintf(f->dev, sizeof(f->dev), "%s/dev/vmbus/hv_kvp", f->root);
	snprintf(f->state, sizeof(f->state), "%s/var/lib/hyperv", f->root);
	snprintf(f->log, sizeof(f->log), "%s/daemon.log", f->root);
	make_sim(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	free_sim(f);
	if (f->mnt[0]) {
		umount2(f->state, MNT_DETACH);
		umount2(f->mnt, MNT_DETACH);
	}
	assert_int_equal(fu_rm_rf(f->root), 0);
	free(f);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Requests.                                                              */

/* A daemon-format message (what the kernel hands the daemon, §1.5). */
static void m_value(uint8_t op, uint8_t pool, const char *key,
		    const char *value)
{
	memset(&msg, 0, sizeof(msg));
	msg.kvp_hdr.operation = op;
	msg.kvp_hdr.pool = pool;
	msg.body.kvp_set.data.value_type = REG_SZ;
	msg.body.kvp_set.data.key_size = (uint32_t)strlen(key) + 1;
	memcpy(msg.body.kvp_set.data.key, key, strlen(key));
	if (value) {
		msg.body.kvp_set.data.value_size = (uint32_t)strlen(value) + 1;
		memcpy(msg.body.kvp_set.data.value, value, strlen(value));
	}
}

static uint32_t transact(struct fx *f)
{
	ssize_t n = hvsim_cdev_transact(f->cd, &msg, sizeof(msg), &reply,
					sizeof(reply));

	if (n != (ssize_t)sizeof(reply))
		fail_msg("transaction: %zd (%s); log:\n%s", n,
			 hvsim_cdev_last_error_str(f->cd),
			 fu_read_text(f->log));
	return hv_le32(&reply);
}

/* GET in the daemon's format: the value comes back (no GET quirk). */
static uint32_t raw_get(struct fx *f, uint8_t pool, const char *key,
			char *value, size_t size)
{
	uint32_t st;

	m_value(KVP_OP_GET, pool, key, NULL);
	st = transact(f);
	if (st == HV_S_OK && value)
		hv_strscpy(value, (char *)reply.body.kvp_get.data.value, size);
	return st;
}

static uint32_t host_set(struct fx *f, uint8_t pool, const char *key,
			 const char *value)
{
	uint32_t st = 0xdead;
	int r = hvsim_kvp_set(f->k, pool, key, value, &st);

	if (r < 0)
		fail_msg("host SET %s: %s; log:\n%s", key, strerror(-r),
			 fu_read_text(f->log));
	return st;
}

/* The host's ENUMERATE of a pool: the number of items. */
static int host_count(struct fx *f, uint8_t pool)
{
	uint32_t st;
	int n = hvsim_kvp_list(f->k, pool, NULL, NULL, &st);

	assert_true(n >= 0);
	assert_int_equal(st, HV_S_CONT);
	return n;
}

/* Until the daemon has read what the kernel queued (SIOCOUTQ empty). */
static void wait_read(struct fx *f)
{
	uint64_t end = fu_now_us() + TIMEOUT_MS * 1000ull;

	while (hvsim_cdev_unread(f->cd) != 0) {
		if (fu_now_us() > end)
			fail_msg("the daemon never read its message");
		hvsim_cdev_run(f->cd, 1);
	}
}

static void wait_registrations(struct fx *f, unsigned n)
{
	uint64_t end = fu_now_us() + TIMEOUT_MS * 1000ull;

	while (hvsim_cdev_stats(f->cd)->registrations < n ||
	       hvsim_cdev_state(f->cd) < HVSIM_CDEV_READY) {
		if (fu_now_us() > end)
			fail_msg("no registration %u; log:\n%s", n,
				 fu_read_text(f->log));
		hvsim_cdev_run(f->cd, 5);
	}
}

static void wait_log(struct fx *f, const char *needle)
{
	if (!fu_wait_contains(f->log, needle, TIMEOUT_MS, f->cd ? pump : NULL,
			      f))
		fail_msg("'%s' never logged:\n%s", needle,
			 fu_read_text(f->log));
}

static void pool_path(struct fx *f, int pool, char *p, size_t size)
{
	snprintf(p, size, "%s/.kvp_pool_%d", f->state, pool);
}

/* cloud-init's lock: a writing daemon waits for it (bounded, 5 s). */
static int lock_pool(struct fx *f, int pool)
{
	char p[256];
	int fd;

	pool_path(f, pool, p, sizeof(p));
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	return fd;
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* ---------------------------------------------------------------------- */
/* Host and kernel side.                                                  */

/*
 * The device goes away (hv_utils unloaded, channel gone) while the daemon
 * holds a SET: nothing reaches the host; the daemon finishes the SET,
 * finds the device gone, waits for it and registers again.
 */
static void test_device_gone_mid_request(void **state)
{
	struct fx *f = *state;
	char v[64];
	int lk;

	start(f, NULL);
	assert_int_equal(host_set(f, 0, "before", "1"), HV_S_OK);
	lk = lock_pool(f, 0);
	m_value(KVP_OP_SET, 0, "held", "in-flight");
	assert_int_equal(hvsim_cdev_send(f->cd, &msg, sizeof(msg)), 0);
	wait_read(f);
	free_sim(f);
	close(lk);
	/* The write of its reply fails: logged once, then retries. */
	wait_log(f, "warning: lost ");
	assert_true(fu_contains(f->log, ", reopening"));
	make_sim(f);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS), 0);
	/* The SET was carried out although its reply was lost. */
	assert_int_equal(raw_get(f, 0, "held", v, sizeof(v)), HV_S_OK);
	assert_string_equal(v, "in-flight");
	assert_int_equal(host_set(f, 0, "after", "2"), HV_S_OK);
	assert_int_equal(host_count(f, 0), 3);
	assert_int_equal(fu_count(f->log, "warning: lost "), 1);
	assert_int_equal(fu_count(f->log, "registered with the kernel"), 2);
}

/*
 * §2 util_pre_suspend for KVP: the kernel drops the transaction (forced
 * READY, no host reply); the daemon's reply is refused with EINVAL, and
 * the daemon reopens and registers again.
 */
static void test_reply_refused(void **state)
{
	struct fx *f = *state;
	char v[64];
	int lk;

	start(f, NULL);
	lk = lock_pool(f, 0);
	m_value(KVP_OP_SET, 0, "suspended", "x");
	assert_int_equal(hvsim_cdev_send(f->cd, &msg, sizeof(msg)), 0);
	wait_read(f);
	assert_int_equal(hvsim_cdev_cancel(f->cd), 0);
	close(lk);
	wait_registrations(f, 2);
	/* Nothing for the host: the kernel had dropped the request. */
	assert_int_equal(hvsim_cdev_wait_reply(f->cd, &reply, sizeof(reply), 0),
			 -EINVAL);
	assert_int_equal(hvsim_cdev_last_error(f->cd), HVSIM_CDEV_ERR_SPURIOUS);
	assert_int_equal(hvsim_cdev_stats(f->cd)->kernel_closes, 1);
	wait_log(f, "warning: lost ");
	assert_true(fu_contains(f->log, ", reopening"));
	assert_int_equal(raw_get(f, 0, "suspended", v, sizeof(v)), HV_S_OK);
	assert_int_equal(host_set(f, 0, "next", "y"), HV_S_OK);
}

/*
 * The kernel's daemon timeout (30 s, shortened here) answers the host
 * HV_E_FAIL; the daemon's reply then finds no request outstanding and is
 * refused (§3.2); it reopens and serves.
 */
static void test_timeout_then_late_reply(void **state)
{
	struct fx *f = *state;
	uint32_t st = 0;
	char v[64];
	int lk;

	start(f, NULL);
	assert_int_equal(host_set(f, 1, "warm", "up"), HV_S_OK);
	hvsim_cdev_set_reply_timeout(f->cd, SHORT_MS);
	lk = lock_pool(f, 1);
	assert_int_equal(hvsim_kvp_set(f->k, 1, "slow", "late", &st),
			 -ETIMEDOUT);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_kvp_last_path(f->k), HVSIM_KVP_PATH_TIMEOUT);
	hvsim_cdev_set_reply_timeout(f->cd, TIMEOUT_MS);
	close(lk);
	wait_registrations(f, 2);
	assert_int_equal(hvsim_cdev_last_error(f->cd), HVSIM_CDEV_ERR_SPURIOUS);
	assert_int_equal(hvsim_cdev_stats(f->cd)->timeouts, 1);
	wait_log(f, "warning: lost ");
	assert_true(fu_contains(f->log, ", reopening"));
	/* The SET itself happened, late. */
	assert_int_equal(raw_get(f, 1, "slow", v, sizeof(v)), HV_S_OK);
	assert_string_equal(v, "late");
	assert_int_equal(host_set(f, 1, "after", "ok"), HV_S_OK);
	assert_int_equal(hvsim_kvp_last_path(f->k), HVSIM_KVP_PATH_DAEMON);
}

/*
 * The same timeout, but the host's next request is already with the
 * daemon when the late reply comes: the kernel (state USERSPACE_REQ
 * again) takes the late reply as the answer to the new request, and
 * refuses the daemon's real answer to it. The daemon recovers.
 */
static void test_late_reply_taken_for_next(void **state)
{
	struct fx *f = *state;
	uint32_t st = 0;
	ssize_t n;
	int lk;

	start(f, NULL);
	assert_int_equal(host_set(f, 0, "present", "yes"), HV_S_OK);
	hvsim_cdev_set_reply_timeout(f->cd, SHORT_MS);
	lk = lock_pool(f, 0);
	assert_int_equal(hvsim_kvp_set(f->k, 0, "a", "1", &st), -ETIMEDOUT);
	assert_int_equal(st, HV_E_FAIL);
	/* The daemon read the SET: the slot is free for the next request. */
	wait_read(f);
	m_value(KVP_OP_GET, 0, "present", NULL);
	assert_int_equal(hvsim_cdev_send(f->cd, &msg, sizeof(msg)), 0);
	close(lk);
	n = hvsim_cdev_wait_reply(f->cd, &reply, sizeof(reply), TIMEOUT_MS);
	assert_int_equal(n, sizeof(reply));
	/* The SET's answer: its key, and no value for the GET. */
	assert_string_equal((char *)reply.body.kvp_set.data.key, "a");
	assert_int_equal(hv_le32(&reply), HV_S_OK);
	hvsim_cdev_set_reply_timeout(f->cd, TIMEOUT_MS);
	wait_registrations(f, 2);
	assert_int_equal(hvsim_cdev_last_error(f->cd), HVSIM_CDEV_ERR_SPURIOUS);
	wait_log(f, "warning: lost ");
	assert_int_equal(host_set(f, 0, "b", "2"), HV_S_OK);
	assert_int_equal(host_count(f, 0), 3);
}

/*
 * Another program has the device open. At start: exit 69 and one line.
 * While running (after a loss): retries with backoff, one warning, and
 * registers once the device is free.
 */
static void test_busy(void **state)
{
	struct fx *f = *state;
	uint8_t junk[100] = { KVP_OP_GET };
	uint64_t end, t0;
	pid_t pid;
	int st;

	hvsim_cdev_set_busy(f->cd, true);
	pid = spawn_daemon(f, NULL);
	st = fu_wait_exit(pid, TIMEOUT_MS, pump, f);
	assert_true(st >= 0);
	assert_int_equal(fu_exit_code(st), 69);
	assert_true(fu_contains(f->log, "is busy: is another KVP daemon "
					"running?"));
	hvsim_cdev_set_busy(f->cd, false);

	start(f, NULL);
	hvsim_cdev_set_busy(f->cd, true);
	/* Out of step: the daemon drops the device and reopens. */
	t0 = fu_now_us();
	assert_int_equal(hvsim_cdev_queue(f->cd, junk, sizeof(junk)), 0);
	end = t0 + TIMEOUT_MS * 1000ull;
	while (hvsim_cdev_stats(f->cd)->rejected < 6) {
		if (fu_now_us() > end)
			fail_msg("no retries; log:\n%s", fu_read_text(f->log));
		hvsim_cdev_run(f->cd, 5);
	}
	/* Five refusals after the first: 50 + 100 + 200 + 400 ms at least. */
	assert_true(fu_now_us() - t0 >= 700000);
	hvsim_cdev_set_busy(f->cd, false);
	wait_registrations(f, 2);
	assert_int_equal(host_set(f, 0, "free", "again"), HV_S_OK);
	assert_int_equal(fu_count(f->log, "warning: lost "), 1);
	assert_true(fu_count(f->log, "yet: Device or resource busy") >= 5);
	assert_true(kill(f->pid, 0) == 0);
}

/* The largest record the daemon format carries, 100 times over. */
static void test_max_records(void **state)
{
	enum { N = 100 };
	struct fx *f = *state;
	static char key[HV_KVP_EXCHANGE_MAX_KEY_SIZE];
	static char val[HV_KVP_EXCHANGE_MAX_VALUE_SIZE];
	static char got[HV_KVP_EXCHANGE_MAX_VALUE_SIZE + 1];
	static struct hv_kvp_record rec;
	static char hkey[HVSIM_KVP_KEY_MAX], hval[HVSIM_KVP_VALUE_MAX];
	char path[256];
	uint32_t st;
	int fd;

	start(f, NULL);
	for (int i = 0; i < N; i++) {
		memset(key, 'k', sizeof(key) - 1);
		key[sizeof(key) - 1] = '\0';
		memcpy(key,
		       (char[]){ (char)('0' + i / 10), (char)('0' + i % 10) },
		       2);
		memset(val, 'a' + i % 26, sizeof(val) - 1);
		val[sizeof(val) - 1] = '\0';
		m_value(KVP_OP_SET, 4, key, val);
		assert_int_equal(transact(f), HV_S_OK);
	}
	pool_path(f, 4, path, sizeof(path));
	assert_int_equal(file_size(path), (off_t)N * REC);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(read(fd, &rec, REC), REC);
		assert_int_equal(strnlen(rec.key, sizeof(rec.key)), 511);
		assert_int_equal(strnlen(rec.value, sizeof(rec.value)), 2047);
		assert_int_equal(rec.value[100], 'a' + i % 26);
	}
	close(fd);
	for (int i = 0; i < N; i += 9) {
		memset(key, 'k', sizeof(key) - 1);
		memcpy(key,
		       (char[]){ (char)('0' + i / 10), (char)('0' + i % 10) },
		       2);
		assert_int_equal(raw_get(f, 4, key, got, sizeof(got)), HV_S_OK);
		assert_int_equal(strlen(got), 2047);
		/* ENUMERATE in the daemon format: the whole record. */
		memset(&msg, 0, sizeof(msg));
		msg.kvp_hdr.operation = KVP_OP_ENUMERATE;
		msg.kvp_hdr.pool = 4;
		msg.body.kvp_enum_data.index = (uint32_t)i;
		assert_int_equal(transact(f), HV_S_OK);
		assert_string_equal((char *)reply.body.kvp_enum_data.data.key,
				    key);
		assert_int_equal(
			strlen((char *)reply.body.kvp_enum_data.data.value),
			2047);
	}
	/* The host's largest that comes back whole: 254 and 1022 units. */
	memset(hkey, 'K', 254);
	hkey[254] = '\0';
	memset(hval, 'V', 1022);
	hval[1022] = '\0';
	assert_int_equal(host_set(f, 3, hkey, hval), HV_S_OK);
	assert_int_equal(hvsim_kvp_enumerate(f->k, 3, 0, hkey, sizeof(hkey),
					     hval, sizeof(hval), &st),
			 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(strlen(hkey), 254);
	assert_int_equal(strlen(hval), 1022);
	/* A 255-unit key fits the host's SET; ENUMERATE hands back 254. */
	memset(hkey, 'L', 255);
	hkey[255] = '\0';
	assert_int_equal(host_set(f, 3, hkey, "x"), HV_S_OK);
	assert_int_equal(hvsim_kvp_enumerate(f->k, 3, 1, hkey, sizeof(hkey),
					     hval, sizeof(hval), &st),
			 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(strlen(hkey), 254);
	assert_int_equal(hvsim_cdev_stats(f->cd)->resets, 0);
	assert_false(fu_contains(f->log, "warning:"));
}

/* ---------------------------------------------------------------------- */
/* Disk.                                                                  */

static void fill_record(struct hv_kvp_record *r, const char *k, const char *v)
{
	memset(r, 0, sizeof(*r));
	hv_strscpy(r->key, k, sizeof(r->key));
	hv_strscpy(r->value, v, sizeof(r->value));
}

/*
 * A pool file cut in the middle of a record (a writer that died, a full
 * disk): the whole records are served, the rest is reported and left
 * alone, and the next append replaces it.
 */
static void test_truncated_pool(void **state)
{
	struct fx *f = *state;
	static struct hv_kvp_record recs[4];
	char path[256], k[512], v[2048];
	uint32_t st;
	int fd;

	assert_int_equal(hv_mkdir_parents(f->state, 0755), 0);
	fill_record(&recs[0], "one", "1");
	fill_record(&recs[1], "two", "2");
	fill_record(&recs[2], "three", "3");
	fill_record(&recs[3], "torn-record", "never complete");
	pool_path(f, 0, path, sizeof(path));
	write_file(path, recs, 3 * REC + 1000);
	start(f, NULL);
	wait_log(f, "warning: pool 0: 1000 bytes after its last whole record");
	assert_int_equal(host_count(f, 0), 3);
	assert_int_equal(hvsim_kvp_enumerate(f->k, 0, 2, k, sizeof(k), v,
					     sizeof(v), &st),
			 0);
	assert_string_equal(k, "three");
	/* Loading changed nothing on disk. */
	assert_int_equal(file_size(path), 3 * REC + 1000);
	assert_int_equal(host_set(f, 0, "four", "4"), HV_S_OK);
	assert_int_equal(file_size(path), 4 * REC);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, recs, sizeof(recs)), sizeof(recs));
	close(fd);
	assert_string_equal(recs[2].value, "3");
	assert_string_equal(recs[3].key, "four");
	assert_string_equal(recs[3].value, "4");
	assert_int_equal(host_count(f, 0), 4);
}

/*
 * A directory where a pool file should be. At start the pools cannot be
 * opened: exit 73. While running: that pool's requests fail with
 * HV_E_FAIL and a warning, the others are served, and the pool comes back
 * when the file does.
 */
static void test_pool_is_directory(void **state)
{
	struct fx *f = *state;
	char path[256], saved[300], v[64];
	pid_t pid;
	int st;

	pool_path(f, 0, path, sizeof(path));
	assert_int_equal(hv_mkdir_parents(path, 0755), 0);
	pid = spawn_daemon(f, NULL);
	st = fu_wait_exit(pid, TIMEOUT_MS, pump, f);
	assert_true(st >= 0);
	assert_int_equal(fu_exit_code(st), 73);
	assert_true(fu_contains(f->log, "cannot open the pools in"));
	assert_int_equal(rmdir(path), 0);

	start(f, NULL);
	assert_int_equal(host_set(f, 0, "k0", "v0"), HV_S_OK);
	assert_int_equal(host_set(f, 1, "k1", "v1"), HV_S_OK);
	snprintf(saved, sizeof(saved), "%s.saved", path);
	assert_int_equal(rename(path, saved), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(raw_get(f, 0, "k0", NULL, 0), HV_E_FAIL);
	assert_int_equal(host_set(f, 0, "k0", "new"), HV_E_FAIL);
	wait_log(f, "on pool 0 failed: Is a directory");
	/* The other pools are unaffected. */
	assert_int_equal(raw_get(f, 1, "k1", v, sizeof(v)), HV_S_OK);
	assert_string_equal(v, "v1");
	assert_int_equal(host_set(f, 1, "k2", "v2"), HV_S_OK);
	/* The file is back: so is the pool. */
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rename(saved, path), 0);
	assert_int_equal(raw_get(f, 0, "k0", v, sizeof(v)), HV_S_OK);
	assert_string_equal(v, "v0");
	assert_int_equal(host_set(f, 0, "k0", "new"), HV_S_OK);
	assert_int_equal(hvsim_cdev_stats(f->cd)->resets, 0);
}

static int sh(const char *fmt, ...) HV_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A 16 MiB ext4 on a loop device at dir (root, private mount ns). */
static bool mount_ext4(struct fx *f, const char *dir)
{
	char img[160];

	if (!private_ns)
		return false;
	snprintf(img, sizeof(img), "%s/ext4.img", f->root);
	assert_int_equal(hv_mkdir_parents(dir, 0755), 0);
	if (sh("truncate -s 16M '%s' && mkfs.ext4 -q -F '%s' >/dev/null 2>&1 "
	       "&& mount -o loop '%s' '%s'",
	       img, img, img, dir) != 0)
		return false;
	hv_strscpy(f->mnt, dir, sizeof(f->mnt));
	return true;
}

static int shut_down_fs(const char *dir)
{
	__u32 flags = EXT4_GOING_FLAGS_NOLOGFLUSH;
	int fd = open(dir, O_RDONLY | O_DIRECTORY), r;

	if (fd < 0)
		return -errno;
	r = ioctl(fd, EXT4_IOC_SHUTDOWN, &flags) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/*
 * The pools' filesystem starts failing every I/O (ext4 shut down, as
 * when its disk went away): requests on the file pools fail with
 * HV_E_FAIL and a warning naming EIO; the daemon stays up and keeps
 * answering what needs no disk (pool 2).
 */
static void test_pool_eio(void **state)
{
	struct fx *f = *state;
	char k[512], v[2048];
	uint32_t st;

	if (!mount_ext4(f, f->state)) {
		print_message(
			"# needs root, a mount namespace and mkfs.ext4\n");
		skip();
		return;
	}
	start(f, NULL);
	assert_int_equal(host_set(f, 0, "k", "v"), HV_S_OK);
	assert_int_equal(shut_down_fs(f->state), 0);
	assert_int_equal(raw_get(f, 0, "k", NULL, 0), HV_E_FAIL);
	assert_int_equal(host_set(f, 0, "k2", "v2"), HV_E_FAIL);
	wait_log(f, "on pool 0 failed: Input/output error");
	assert_int_equal(hvsim_kvp_enumerate(f->k, 2, 5, k, sizeof(k), v,
					     sizeof(v), &st),
			 0);
	assert_int_equal(st, HV_S_OK);
	assert_string_equal(k, "OSName");
	assert_string_equal(v, "Fault Linux");
	assert_int_equal(kill(f->pid, 0), 0);
	assert_int_equal(hvsim_cdev_stats(f->cd)->resets, 0);
}

/*
 * /var/lib/hyperv read-only (a read-only bind mount in our private mount
 * namespace): host SET and DELETE get HV_E_FAIL with a warning naming
 * EROFS, GET and ENUMERATE still work.
 */
static void test_readonly_state(void **state)
{
	struct fx *f = *state;
	char v[64], k[512], vv[2048];
	uint32_t st;
	pid_t pid;

	if (!private_ns) {
		print_message("# needs root and a mount namespace\n");
		skip();
		return;
	}
	start(f, NULL);
	assert_int_equal(host_set(f, 0, "kept", "value"), HV_S_OK);
	kill(f->pid, SIGTERM);
	assert_int_equal(
		fu_exit_code(fu_wait_exit(f->pid, TIMEOUT_MS, pump, f)), 0);
	f->pid = 0;
	assert_int_equal(mount(f->state, f->state, NULL, MS_BIND, NULL), 0);
	hv_strscpy(f->mnt, f->state, sizeof(f->mnt));
	assert_int_equal(mount(NULL, f->state, NULL,
			       MS_REMOUNT | MS_BIND | MS_RDONLY, NULL),
			 0);
	assert_int_equal(hvsim_cdev_wait_closed(f->cd, TIMEOUT_MS), 0);
	pid = spawn_daemon(f, NULL);
	f->pid = pid;
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS), 0);
	assert_int_equal(host_set(f, 0, "new", "x"), HV_E_FAIL);
	wait_log(f, "SET on pool 0 failed: Read-only file system");
	assert_int_equal(hvsim_kvp_delete(f->k, 0, "kept", &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_true(fu_contains(
		f->log, "DELETE on pool 0 failed: Read-only file system"));
	assert_int_equal(raw_get(f, 0, "kept", v, sizeof(v)), HV_S_OK);
	assert_string_equal(v, "value");
	assert_int_equal(hvsim_kvp_enumerate(f->k, 0, 0, k, sizeof(k), vv,
					     sizeof(vv), &st),
			 0);
	assert_int_equal(st, HV_S_OK);
	assert_string_equal(k, "kept");
	assert_int_equal(host_count(f, 0), 1);
}

/* ---------------------------------------------------------------------- */

static int group_setup(void **state)
{
	if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		private_ns = true;
	else
		print_message("# not root or no mount namespace: the EIO and "
			      "read-only cases are skipped\n");
	return 0;
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_device_gone_mid_request),
		T(test_reply_refused),
		T(test_timeout_then_late_reply),
		T(test_late_reply_taken_for_next),
		T(test_busy),
		T(test_max_records),
		T(test_truncated_pool),
		T(test_pool_is_directory),
		T(test_pool_eio),
		T(test_readonly_state),
	};

	signal(SIGPIPE, SIG_IGN);
	if (getenv("FAULTS_TEST"))
		cmocka_set_test_filter(getenv("FAULTS_TEST"));
	return cmocka_run_group_tests_name("faults-kvp", tests, group_setup,
					   NULL);
}
