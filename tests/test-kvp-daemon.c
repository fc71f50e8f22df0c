/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_kvp_daemon, the real binary, against the simulated kernel: the LISA
 * KVP scenarios (peers.md §(d)), the status semantics, every kind of bad
 * input, device loss and return, and concurrent writers of the pool files.
 * Messages here are in the daemon's format (what the kernel hands it);
 * the host-side conversions are the simulator's and are tested there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "daemon-spawn.h"
#include "hvis/util.h"
#include "hvis/wire.h"
#include "hvsim/hvsim.h"

#define TIMEOUT_MS HVIS_TIMEOUT(10000)
#define REC 2560
#define LOCK_WAIT_S HVIS_TIMEOUT(30)

extern char **environ;

struct fx {
	char root[64];
	char dev[128];
	char state[128];
	char log[128];
	struct hvsim_cdev *cd;
	pid_t pid;
};

static struct hv_kvp_msg msg, reply;

static const char *build_dir(void)
{
	const char *b = getenv("BUILD");

	return b ? b : "build";
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void start_daemon(struct fx *f, const char *extra)
{
	char bin[256];
	posix_spawn_file_actions_t fa;
	char *argv[8];
	int n = 0;

	snprintf(bin, sizeof(bin), "%s/hv_kvp_daemon", build_dir());
	argv[n++] = bin;
	argv[n++] = "--root";
	argv[n++] = f->root;
	argv[n++] = "--log=stderr";
	argv[n++] = "--debug";
	if (extra)
		argv[n++] = (char *)extra;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, f->log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	assert_int_equal(
		hvis_spawn_daemon(&f->pid, bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256];

	assert_non_null(f);
	strcpy(f->root, "/tmp/hvis-kvpd.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(p, sizeof(p), "%s/dev", f->root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/dev/vmbus", f->root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc", f->root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/run", f->root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/os-release", f->root);
	write_file(p, "NAME=\"Test Linux\"\nVERSION_ID=\"12\"\n");
	snprintf(f->dev, sizeof(f->dev), "%s/dev/vmbus/hv_kvp", f->root);
	snprintf(f->state, sizeof(f->state), "%s/var/lib/hyperv", f->root);
	snprintf(f->log, sizeof(f->log), "%s/daemon.log", f->root);
	assert_int_equal(hvsim_cdev_new(f->dev, HVSIM_CDEV_KVP, &f->cd), 0);
	hvsim_cdev_set_reply_timeout(f->cd, TIMEOUT_MS);
	start_daemon(f, NULL);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	int st;

	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, &st, 0);
	}
	hvsim_cdev_free(f->cd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Daemon-format messages, laid out per protocol.md §1.5. */
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
	uint32_t status;

	if (n != (ssize_t)sizeof(reply))
		fail_msg("transaction: %zd (%s)", n,
			 hvsim_cdev_last_error_str(f->cd));
	memcpy(&status, &reply, sizeof(status));
	return status;
}

static uint32_t kvp_set(struct fx *f, uint8_t pool, const char *k,
			const char *v)
{
	m_value(KVP_OP_SET, pool, k, v);
	return transact(f);
}

static uint32_t kvp_get(struct fx *f, uint8_t pool, const char *k, char *value)
{
	uint32_t st;

	m_value(KVP_OP_GET, pool, k, NULL);
	st = transact(f);
	if (st == HV_S_OK && value)
		strcpy(value, (char *)reply.body.kvp_get.data.value);
	return st;
}

static uint32_t kvp_delete(struct fx *f, uint8_t pool, const char *k)
{
	memset(&msg, 0, sizeof(msg));
	msg.kvp_hdr.operation = KVP_OP_DELETE;
	msg.kvp_hdr.pool = pool;
	msg.body.kvp_delete.key_size = (uint32_t)strlen(k) + 1;
	memcpy(msg.body.kvp_delete.key, k, strlen(k));
	return transact(f);
}

static uint32_t kvp_enum(struct fx *f, uint8_t pool, uint32_t index, char *key,
			 char *value)
{
	uint32_t st;

	memset(&msg, 0, sizeof(msg));
	msg.kvp_hdr.operation = KVP_OP_ENUMERATE;
	msg.kvp_hdr.pool = pool;
	msg.body.kvp_enum_data.index = index;
	st = transact(f);
	if (st == HV_S_OK) {
		strcpy(key, (char *)reply.body.kvp_enum_data.data.key);
		strcpy(value, (char *)reply.body.kvp_enum_data.data.value);
	}
	return st;
}

static void pool_path(struct fx *f, int pool, char *p, size_t size)
{
	snprintf(p, size, "%s/.kvp_pool_%d", f->state, pool);
}

/* Read a pool file the way kvp_client does: fcntl read lock, records. */
static int read_pool(struct fx *f, int pool, struct hv_kvp_record *recs,
		     int max)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	char p[256];
	int fd, n = 0;

	pool_path(f, pool, p, sizeof(p));
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	/* A lock never released is a daemon bug: fail, don't hang. */
	alarm(LOCK_WAIT_S);
	assert_int_equal(fcntl(fd, F_SETLKW, &fl), 0);
	alarm(0);
	while (n < max && read(fd, &recs[n], REC) == REC)
		n++;
	close(fd);
	return n;
}

/* A cloud-init style append: flock, O_APPEND, one 2560-byte record. */
static void append_record(struct fx *f, int pool, const char *k, const char *v)
{
	struct hv_kvp_record rec;
	char p[256];
	int fd;

	memset(&rec, 0, sizeof(rec));
	strcpy(rec.key, k);
	strcpy(rec.value, v);
	pool_path(f, pool, p, sizeof(p));
	fd = open(p, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	alarm(LOCK_WAIT_S);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	alarm(0);
	assert_int_equal(write(fd, &rec, REC), REC);
	close(fd);
}

static bool log_contains(struct fx *f, const char *needle)
{
	char buf[65536];
	FILE *fp = fopen(f->log, "r");
	size_t n;

	if (!fp)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static int count_fds(pid_t pid)
{
	char p[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(p, sizeof(p), "/proc/%d/fd", pid);
	d = opendir(p);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * A record is whole when both fields end inside themselves and it is one
 * of ours: a host key with its value, or a cloud-init event.
 */
static bool record_ok(const struct hv_kvp_record *r)
{
	char want[64];

	if (!memchr(r->key, '\0', sizeof(r->key)) ||
	    !memchr(r->value, '\0', sizeof(r->value)))
		return false;
	if (strncmp(r->key, "host-", 5) == 0) {
		snprintf(want, sizeof(want), "value-%s", r->key + 5);
		return strcmp(r->value, want) == 0;
	}
	if (strncmp(r->key, "tmp-", 4) == 0)
		return strcmp(r->value, "t") == 0;
	return strncmp(r->key, "CLOUD_INIT|", 11) == 0 &&
	       strncmp(r->value, "{\"name\":\"interop/", 17) == 0;
}

/* kvp_client: fcntl read lock, whole file, every record checked. */
static void reader_child(struct fx *f, int stop_fd)
{
	static struct hv_kvp_record recs[4096];
	struct flock fl = { .l_whence = SEEK_SET };
	struct pollfd p = { .fd = stop_fd, .events = POLLIN };
	char path[256];
	unsigned passes = 0;

	pool_path(f, 1, path, sizeof(path));
	while (poll(&p, 1, 0) == 0) {
		int fd = open(path, O_RDONLY);
		ssize_t n;

		if (fd < 0)
			_exit(2);
		fl.l_type = F_RDLCK;
		alarm(LOCK_WAIT_S);
		if (fcntl(fd, F_SETLKW, &fl) < 0)
			_exit(3);
		alarm(0);
		n = read(fd, recs, sizeof(recs));
		close(fd);
		for (ssize_t i = 0; i < n / REC; i++)
			if (!record_ok(&recs[i]))
				_exit(4);
		passes++;
	}
	_exit(passes > 0 ? 0 : 5);
}

static bool have_cloud_init(void)
{
	return access("/usr/lib/python3/dist-packages/cloudinit/reporting/"
		      "handlers.py",
		      R_OK) == 0;
}

/*
 * The host works on pool 1 (8,000 requests) while cloud-init's own
 * handler appends 2,000 events under flock and a kvp_client-style reader
 * checks every record under an fcntl lock: afterwards every record is
 * there exactly once, intact.
 */
static void test_interop_concurrent(void **state)
{
	enum { EVENTS = 2000, HOST_OPS = 8000, HOST_KEYS = 500 };
	struct fx *f = *state;
	char path[256], count[16], k[512], v[2048];
	static bool seen_event[EVENTS], seen_host[HOST_KEYS];
	pid_t writer, reader;
	int stop[2], st;
	uint32_t index = 0, total = 0;

	if (!have_cloud_init())
		skip();
	pool_path(f, 1, path, sizeof(path));
	snprintf(count, sizeof(count), "%d", EVENTS);
	assert_int_equal(pipe(stop), 0);
	reader = fork();
	assert_true(reader >= 0);
	if (reader == 0) {
		close(stop[1]);
		reader_child(f, stop[0]);
	}
	close(stop[0]);
	{
		char script[256];

		snprintf(script, sizeof(script),
			 "%s/tests/interop/cloudinit-kvp-writer.py",
			 getenv("HVIS_SRCDIR") ? getenv("HVIS_SRCDIR") : ".");
		assert_int_equal(posix_spawn(&writer, "/usr/bin/python3", NULL,
					     NULL,
					     (char *[]){ "python3", script,
							 path, count, NULL },
					     environ),
				 0);
	}

	for (uint32_t i = 0; i < HOST_OPS; i++) {
		uint32_t n = i / 4;
		char key[32], val[32];
		struct hv_kvp_record rec;

		snprintf(key, sizeof(key), "host-%u", n % HOST_KEYS);
		snprintf(val, sizeof(val), "value-%u", n % HOST_KEYS);
		switch (i % 4) {
		case 0:
			assert_int_equal(kvp_set(f, 1, key, val), HV_S_OK);
			break;
		case 1:
			assert_int_equal(kvp_get(f, 1, key, v), HV_S_OK);
			assert_string_equal(v, val);
			break;
		case 2:
			memset(&rec, 0, sizeof(rec));
			if (kvp_enum(f, 1, index, rec.key, rec.value) ==
			    HV_S_OK) {
				if (!record_ok(&rec))
					fail_msg("enumerated a bad record '%s'",
						 rec.key);
				index++;
			} else {
				index = 0;
			}
			break;
		default:
			if (n % 2 == 0) {
				snprintf(key, sizeof(key), "tmp-%u", n);
				assert_int_equal(kvp_set(f, 1, key, "t"),
						 HV_S_OK);
			} else {
				snprintf(key, sizeof(key), "tmp-%u", n - 1);
				assert_int_equal(kvp_delete(f, 1, key),
						 HV_S_OK);
			}
		}
	}
	assert_int_equal(waitpid(writer, &st, 0), writer);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(stop[1]);
	assert_int_equal(waitpid(reader, &st, 0), reader);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("reader saw a bad record or failed (%d)", st);

	/* Everything once, as the host sees it. */
	for (index = 0; kvp_enum(f, 1, index, k, v) == HV_S_OK; index++) {
		unsigned id;

		if (sscanf(k, "host-%u", &id) == 1 && id < HOST_KEYS) {
			assert_false(seen_host[id]);
			seen_host[id] = true;
		} else if (strstr(k, "|interop/") &&
			   sscanf(strstr(k, "|interop/"), "|interop/%u", &id) ==
				   1 &&
			   id < EVENTS) {
			assert_false(seen_event[id]);
			seen_event[id] = true;
		} else {
			fail_msg("unexpected record '%s'", k);
		}
		total++;
	}
	assert_int_equal(total, EVENTS + HOST_KEYS);
	{
		struct stat sb;

		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_size, (off_t)total * REC);
	}
}

/* KVP-01: process name, five pool files with mode 0644. */
static void test_basic(void **state)
{
	struct fx *f = *state;
	char p[256], comm[64];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/comm", f->pid);
	assert_true(hv_read_line_file(p, comm, sizeof(comm)) > 0);
	/* Under HVIS_DAEMON_WRAPPER the process bears the tool's name. */
	if (!hvis_daemon_wrapped())
		assert_string_equal(comm, "hv_kvp_daemon");
	for (int i = 0; i < 5; i++) {
		pool_path(f, i, p, sizeof(p));
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0644);
	}
	assert_int_equal(hvsim_cdev_registered_as(f->cd), KVP_OP_REGISTER1);
}

/* KVP-02/03/04: host adds EEE=555, modifies to 999, removes it. */
static void test_add_modify_delete(void **state)
{
	struct fx *f = *state;
	struct hv_kvp_record recs[4];
	char v[2048];

	assert_int_equal(kvp_set(f, 0, "EEE", "555"), HV_S_OK);
	assert_int_equal(read_pool(f, 0, recs, 4), 1);
	assert_string_equal(recs[0].key, "EEE");
	assert_string_equal(recs[0].value, "555");
	assert_int_equal(kvp_set(f, 0, "EEE", "999"), HV_S_OK);
	assert_int_equal(read_pool(f, 0, recs, 4), 1);
	assert_string_equal(recs[0].value, "999");
	assert_int_equal(kvp_get(f, 0, "EEE", v), HV_S_OK);
	assert_string_equal(v, "999");
	assert_int_equal(kvp_delete(f, 0, "EEE"), HV_S_OK);
	assert_int_equal(read_pool(f, 0, recs, 4), 0);
	/* KVP-06: a missing key is HV_S_CONT, not a failure. */
	assert_int_equal(kvp_delete(f, 0, "AAA"), HV_S_CONT);
	assert_int_equal(kvp_get(f, 0, "AAA", v), HV_S_CONT);
}

/* KVP-05 and KVP-12: guest-written records reach the host, in order. */
static void test_guest_items(void **state)
{
	struct fx *f = *state;
	char k[512], v[2048], want[32];
	uint32_t i;

	append_record(f, 1, "BBB", "111");
	assert_int_equal(kvp_enum(f, 1, 0, k, v), HV_S_OK);
	assert_string_equal(k, "BBB");
	assert_string_equal(v, "111");
	assert_int_equal(kvp_enum(f, 1, 1, k, v), HV_S_CONT);

	for (i = 0; i <= 250; i++) {
		snprintf(want, sizeof(want), "test%u", i);
		append_record(f, 1, want, "value");
	}
	for (i = 0; i <= 250; i++) {
		snprintf(want, sizeof(want), "test%u", i);
		assert_int_equal(kvp_enum(f, 1, i + 1, k, v), HV_S_OK);
		assert_string_equal(k, want);
		assert_string_equal(v, "value");
	}
	assert_int_equal(kvp_enum(f, 1, 252, k, v), HV_S_CONT);
}

/* KVP-01b: the intrinsic pool, its ten keys in order. */
static void test_intrinsic(void **state)
{
	static const char *const keys[] = {
		"FullyQualifiedDomainName",
		"IntegrationServicesVersion",
		"NetworkAddressIPv4",
		"NetworkAddressIPv6",
		"OSBuildNumber",
		"OSName",
		"OSMajorVersion",
		"OSMinorVersion",
		"OSVersion",
		"ProcessorArchitecture",
	};
	struct fx *f = *state;
	char k[512], v[2048];

	for (uint32_t i = 0; i < ARRAY_SIZE(keys); i++) {
		assert_int_equal(kvp_enum(f, 2, i, k, v), HV_S_OK);
		assert_string_equal(k, keys[i]);
		if (i == 1)
			assert_string_equal(v, HVSIM_KVP_DRV_VERSION);
		if (i == 5)
			assert_string_equal(v, "Test Linux");
		if (i == 6)
			assert_string_equal(v, "12");
	}
	assert_int_equal(kvp_enum(f, 2, 10, k, v), HV_S_CONT);
	assert_int_equal(kvp_get(f, 2, "OSName", v), HV_S_OK);
	assert_string_equal(v, "Test Linux");
	/* Pool 2 is the guest's report: the host cannot write it. */
	assert_int_equal(kvp_set(f, 2, "OSName", "x"), HV_E_FAIL);
	assert_int_equal(kvp_delete(f, 2, "OSName"), HV_E_FAIL);
}

/* Every malformed request: an error reply, and service continues. */
static void test_bad_input(void **state)
{
	struct fx *f = *state;
	char v[2048];

	assert_int_equal(kvp_set(f, 3, "good", "1"), HV_S_OK);

	m_value(KVP_OP_SET, 3, "key", "v");
	msg.body.kvp_set.data.key_size = 513;
	assert_int_equal(transact(f), HV_E_FAIL);
	m_value(KVP_OP_SET, 3, "key", "v");
	msg.body.kvp_set.data.value_size = 2049;
	assert_int_equal(transact(f), HV_E_FAIL);
	m_value(KVP_OP_SET, 3, "key", "v");
	memset(msg.body.kvp_set.data.key, 'k',
	       sizeof(msg.body.kvp_set.data.key));
	msg.body.kvp_set.data.key_size = 512;
	assert_int_equal(transact(f), HV_E_FAIL);
	m_value(KVP_OP_SET, 3, "key", "value");
	msg.body.kvp_set.data.value_size = 3; /* no NUL inside */
	assert_int_equal(transact(f), HV_E_FAIL);
	m_value(KVP_OP_GET, 3, "key", NULL);
	msg.body.kvp_get.data.key_size = 0;
	assert_int_equal(transact(f), HV_E_FAIL);
	m_value(9, 3, "key", "v");
	assert_int_equal(transact(f), HV_E_FAIL);
	m_value(KVP_OP_SET, 5, "key", "v");
	assert_int_equal(transact(f), HV_E_FAIL);
	m_value(KVP_OP_ENUMERATE, 255, "key", "v");
	assert_int_equal(transact(f), HV_E_FAIL);
	/* Nothing was written by any of them. */
	assert_int_equal(kvp_get(f, 3, "key", v), HV_S_CONT);

	/* Still serving, and the refusals were logged. */
	assert_int_equal(kvp_get(f, 3, "good", v), HV_S_OK);
	assert_string_equal(v, "1");
	assert_true(log_contains(f, "bad SET request"));
	assert_true(log_contains(f, "(op 9, pool 3)"));
	assert_int_equal(hvsim_cdev_stats(f->cd)->resets, 0);
}

/* A message that is not a KVP message: reopen, re-register, serve. */
static void test_truncated_message(void **state)
{
	struct fx *f = *state;
	uint8_t small[100] = { KVP_OP_GET };
	char v[2048];

	assert_int_equal(kvp_set(f, 0, "k", "v"), HV_S_OK);
	assert_int_equal(hvsim_cdev_queue(f->cd, small, sizeof(small)), 0);
	/*
	 * The daemon reopens at once, so the simulator may see the hang-up
	 * and the new open in one step: wait for the second registration.
	 */
	for (int i = 0;
	     i < TIMEOUT_MS / 10 && hvsim_cdev_stats(f->cd)->registrations < 2;
	     i++)
		assert_int_equal(hvsim_cdev_run(f->cd, 10), 0);
	assert_int_equal(hvsim_cdev_stats(f->cd)->registrations, 2);
	assert_int_equal(hvsim_cdev_stats(f->cd)->resets, 1);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS), 0);
	assert_int_equal(kvp_get(f, 0, "k", v), HV_S_OK);
	assert_string_equal(v, "v");
}

/* KVP-11: the host disables and re-enables the service 20 times. */
static void test_disable_enable_cycles(void **state)
{
	struct fx *f = *state;
	int fds_before = count_fds(f->pid);
	char v[2048];

	assert_int_equal(kvp_set(f, 0, "persist", "yes"), HV_S_OK);
	for (int i = 0; i < 20; i++) {
		/* The device goes away with the channel, then comes back. */
		hvsim_cdev_free(f->cd);
		assert_int_equal(hvsim_cdev_new(f->dev, HVSIM_CDEV_KVP, &f->cd),
				 0);
		hvsim_cdev_set_reply_timeout(f->cd, TIMEOUT_MS);
		assert_int_equal(hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS), 0);
		assert_int_equal(kvp_get(f, 0, "persist", v), HV_S_OK);
	}
	/*
	 * No growth. Fewer is fine: the FQDN lookup's thread holds a pipe
	 * end and a DNS socket only while it runs.
	 */
	assert_true(count_fds(f->pid) <= fds_before);
	assert_int_equal(kill(f->pid, 0), 0);
}

/* A second daemon finds the device busy and says so. */
static void test_second_instance(void **state)
{
	struct fx *f = *state;
	pid_t first = f->pid;
	int st = -1;

	start_daemon(f, NULL);
	/* The simulated kernel answers the open only while it runs. */
	for (int i = 0; i < TIMEOUT_MS / 10; i++) {
		assert_int_equal(hvsim_cdev_run(f->cd, 10), 0);
		if (waitpid(f->pid, &st, WNOHANG) == f->pid)
			break;
	}
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 69);
	assert_true(log_contains(f, "is busy"));
	f->pid = first;
	assert_int_equal(hvsim_cdev_stats(f->cd)->rejected, 1);
}

/* SIGTERM: a clean exit with status 0. */
static void test_sigterm(void **state)
{
	struct fx *f = *state;
	int st;

	assert_int_equal(kill(f->pid, SIGTERM), 0);
	assert_int_equal(waitpid(f->pid, &st, 0), f->pid);
	f->pid = -1;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_modify_delete, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_guest_items, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_intrinsic, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_truncated_message, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_disable_enable_cycles,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_instance, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sigterm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interop_concurrent, setup,
						teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("kvp-daemon", tests, NULL, NULL);
}
