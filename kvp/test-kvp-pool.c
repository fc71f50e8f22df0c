/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pool store, one process: file format, operations, limits, foreign
 * records, change detection through inotify and fstat (and what each
 * costs), enumeration stability and the redo journal: when it is written,
 * how a killed writer's journal is found and redone. Other processes and
 * locks: test-kvp-pool-sync.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>

#include "kvp-journal.h"
#include "kvp-pool-internal.h"
#include "test-kvp-pool-util.h"

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

	fx_fini(f);
	free(f);
	return 0;
}

static uint64_t reloads(struct fx *f, unsigned int pool)
{
	struct kvp_pool_stats st;

	assert_int_equal(kvp_pool_get_stats(f->s, pool, &st), 0);
	return st.reloads;
}

static void assert_value(struct fx *f, unsigned int pool, const char *key,
			 const char *want)
{
	char v[VSZ + 1];

	assert_int_equal(kvp_pool_get(f->s, pool, key, v, sizeof(v)),
			 (int)strlen(want));
	assert_string_equal(v, want);
}

static void test_open_creates(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	struct stat st;
	mode_t old;
	unsigned int i;

	assert_int_equal(kvp_pool_open(NULL, &f->s), -EINVAL);
	/* A tight umask must not make the files unreadable to others. */
	old = umask(077);
	assert_int_equal(fx_open(f, 0, 0), 0);
	umask(old);
	assert_int_equal(stat(f->state, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	for (i = 0; i < KVP_POOL_NUM; i++) {
		fx_pool_path(f, i, path, sizeof(path));
		assert_int_equal(stat(path, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0644);
		assert_int_equal(st.st_size, 0);
		assert_int_equal(kvp_pool_count(f->s, i), 0);
	}
	/* Journals live under the run dir, never beside the pools. */
	snprintf(path, sizeof(path), "%s/hvis", f->run);
	assert_int_equal(stat(path, &st), 0);
	fx_journal_path(f, 1, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
}

static void test_open_never_truncates(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	uint8_t *before, *after;
	size_t blen, alen;

	assert_int_equal(mkdir(f->state, 0755), 0);
	fx_pool_path(f, 3, path, sizeof(path));
	assert_int_equal(write_pool(path, 4), 0);
	/* and a torn tail, which is not ours to cut either */
	assert_int_equal(truncate(path, 4 * REC + 100), 0);
	before = read_all(path, &blen);
	assert_non_null(before);
	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_count(f->s, 3), 4);
	f->s = kvp_pool_close(f->s);
	assert_int_equal(fx_open(f, 0, 0), 0);
	after = read_all(path, &alen);
	assert_non_null(after);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(before);
	free(after);
}

static void test_format(void **state)
{
	struct fx *f = *state;
	uint8_t want[2 * REC] = { 0 };
	char path[PATH_MAX];
	uint8_t *buf;
	size_t len;

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_set(f->s, 1, "key1", "a long value 1"), 0);
	assert_int_equal(kvp_pool_set(f->s, 1, "key2", "value2"), 0);
	fx_pool_path(f, 1, path, sizeof(path));

	/* Byte for byte: key at 0, value at 512, NUL everywhere else. */
	memcpy(want, "key1", 4);
	memcpy(want + 512, "a long value 1", 14);
	memcpy(want + REC, "key2", 4);
	memcpy(want + REC + 512, "value2", 6);
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 2 * REC);
	assert_memory_equal(buf, want, sizeof(want));
	free(buf);

	/* A shorter value leaves nothing of the longer one behind. */
	assert_int_equal(kvp_pool_set(f->s, 1, "key1", "x"), 0);
	memset(want + 512, 0, VSZ);
	want[512] = 'x';
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 2 * REC);
	assert_memory_equal(buf, want, sizeof(want));
	free(buf);
}

static void test_operations(void **state)
{
	struct fx *f = *state;
	struct kvp_pool_record rec;
	char v[8];

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_get(f->s, 0, "a", v, sizeof(v)), -ENOENT);
	assert_int_equal(kvp_pool_delete(f->s, 0, "a"), -ENOENT);
	assert_int_equal(kvp_pool_enumerate(f->s, 0, 0, &rec), -ENOENT);
	assert_int_equal(kvp_pool_set(f->s, 0, "a", "1"), 0);
	assert_int_equal(kvp_pool_set(f->s, 0, "b", ""), 0);
	assert_int_equal(kvp_pool_set(f->s, 0, "ab", "3"), 0);
	assert_value(f, 0, "a", "1");
	assert_value(f, 0, "b", "");
	assert_value(f, 0, "ab", "3");
	/* Exact match only: no prefix, no other pool. */
	assert_int_equal(kvp_pool_get(f->s, 0, "abc", v, sizeof(v)), -ENOENT);
	assert_int_equal(kvp_pool_get(f->s, 1, "a", v, sizeof(v)), -ENOENT);
	assert_int_equal(kvp_pool_count(f->s, 0), 3);

	assert_int_equal(kvp_pool_set(f->s, 0, "a", "1234567"), 0);
	assert_int_equal(kvp_pool_count(f->s, 0), 3);
	assert_value(f, 0, "a", "1234567");
	assert_int_equal(kvp_pool_get(f->s, 0, "a", v, 7), -ENOBUFS);

	assert_int_equal(kvp_pool_enumerate(f->s, 0, 1, &rec), 0);
	assert_string_equal(rec.key, "b");
	assert_int_equal(rec.key_len, 1);
	assert_string_equal(rec.value, "");
	assert_int_equal(rec.value_len, 0);
	assert_int_equal(kvp_pool_enumerate(f->s, 0, 3, &rec), -ENOENT);

	assert_int_equal(kvp_pool_delete(f->s, 0, "a"), 0);
	assert_int_equal(kvp_pool_get(f->s, 0, "a", v, sizeof(v)), -ENOENT);
	assert_int_equal(kvp_pool_delete(f->s, 0, "a"), -ENOENT);
	assert_int_equal(kvp_pool_count(f->s, 0), 2);
	assert_value(f, 0, "ab", "3");
}

static void test_limits(void **state)
{
	struct fx *f = *state;
	char key[KSZ + 1], val[VSZ + 1], out[VSZ + 1];
	struct kvp_pool_record rec;

	assert_int_equal(fx_open(f, 0, 0), 0);
	memset(key, 'k', sizeof(key));
	memset(val, 'v', sizeof(val));

	key[KSZ - 1] = '\0'; /* 511 bytes */
	val[VSZ - 1] = '\0'; /* 2047 bytes */
	assert_int_equal(kvp_pool_set(f->s, 4, key, val), 0);
	assert_int_equal(kvp_pool_get(f->s, 4, key, out, sizeof(out)), VSZ - 1);
	assert_memory_equal(out, val, VSZ);
	assert_int_equal(kvp_pool_enumerate(f->s, 4, 0, &rec), 0);
	assert_int_equal(rec.key_len, KSZ - 1);
	assert_int_equal(rec.value_len, VSZ - 1);

	key[KSZ - 1] = 'k';
	key[KSZ] = '\0'; /* 512 bytes */
	assert_int_equal(kvp_pool_set(f->s, 4, key, "x"), -E2BIG);
	assert_int_equal(kvp_pool_get(f->s, 4, key, out, sizeof(out)), -E2BIG);
	assert_int_equal(kvp_pool_delete(f->s, 4, key), -E2BIG);
	val[VSZ - 1] = 'v';
	val[VSZ] = '\0'; /* 2048 bytes */
	assert_int_equal(kvp_pool_set(f->s, 4, "k", val), -E2BIG);
	assert_int_equal(kvp_pool_set(f->s, 4, "", "x"), -EINVAL);
	assert_int_equal(kvp_pool_get(f->s, 4, "", out, sizeof(out)), -EINVAL);
	assert_int_equal(kvp_pool_set(f->s, 5, "k", "x"), -EINVAL);
	assert_int_equal(kvp_pool_count(f->s, 5), -EINVAL);
	assert_int_equal(kvp_pool_set(f->s, 4, NULL, "x"), -EINVAL);
	assert_int_equal(kvp_pool_set(f->s, 4, "k", NULL), -EINVAL);
	/* Pool 2 is the daemon's to synthesise. */
	assert_int_equal(kvp_pool_set(f->s, KVP_POOL_AUTO, "k", "x"), -EPERM);
	assert_int_equal(kvp_pool_delete(f->s, KVP_POOL_AUTO, "k"), -EPERM);
	assert_int_equal(kvp_pool_count(f->s, 4), 1);
}

static void test_foreign_records(void **state)
{
	struct fx *f = *state;
	uint8_t file[3 * REC + 100], *buf;
	struct kvp_pool_record rec;
	char path[PATH_MAX];
	size_t len;

	/* a: garbage after both NULs; 2: no NUL at all; b: bad UTF-8;
	 * then a torn 100-byte tail. */
	memset(file, 0, sizeof(file));
	memcpy(file, "a\0garbage", 9);
	memcpy(file + KSZ, "1\0junk", 6);
	memset(file + REC, 'K', KSZ);
	memset(file + REC + KSZ, 'V', VSZ);
	memcpy(file + 2 * REC, "b", 1);
	memcpy(file + 2 * REC + KSZ, "\xff\xfe\xc0", 3);
	memset(file + 3 * REC, 'T', 100);
	assert_int_equal(mkdir(f->state, 0755), 0);
	fx_pool_path(f, 1, path, sizeof(path));
	assert_int_equal(write_all(path, file, sizeof(file)), 0);

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_count(f->s, 1), 3);
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 0, &rec), 0);
	assert_string_equal(rec.key, "a");
	assert_string_equal(rec.value, "1");
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 1, &rec), 0);
	assert_int_equal(rec.key_len, KSZ);
	assert_int_equal(rec.value_len, VSZ);
	assert_int_equal(rec.key[KSZ], '\0');
	assert_int_equal(rec.value[VSZ], '\0');
	assert_int_equal(rec.value[VSZ - 1], 'V');
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 2, &rec), 0);
	assert_string_equal(rec.value, "\xff\xfe\xc0");
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 3, &rec), -ENOENT);
	assert_value(f, 1, "a", "1");
	assert_value(f, 1, "b", "\xff\xfe\xc0");

	/* The append lands on the record boundary, over the torn tail,
	 * and leaves the foreign bytes alone. */
	assert_int_equal(kvp_pool_set(f->s, 1, "c", "3"), 0);
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 4 * REC);
	assert_memory_equal(buf, file, 3 * REC);
	assert_string_equal((char *)buf + 3 * REC, "c");
	assert_int_equal(buf[3 * REC + 1], 0);
	free(buf);
	assert_value(f, 1, "c", "3");

	/* Overwriting "a" rewrites that record alone, zero-padded. */
	assert_int_equal(kvp_pool_set(f->s, 1, "a", "2"), 0);
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_memory_equal(buf + REC, file + REC, 2 * REC);
	assert_int_equal(buf[2], 0);
	assert_int_equal(buf[KSZ + 2], 0);
	free(buf);
}

static void test_duplicate_keys(void **state)
{
	struct fx *f = *state;
	uint8_t file[3 * REC];
	char path[PATH_MAX];

	make_record(file, "a", "1");
	make_record(file + REC, "b", "2");
	make_record(file + 2 * REC, "a", "3");
	assert_int_equal(mkdir(f->state, 0755), 0);
	fx_pool_path(f, 0, path, sizeof(path));
	assert_int_equal(write_all(path, file, sizeof(file)), 0);
	assert_int_equal(fx_open(f, 0, 0), 0);

	/* Like the reference daemon: the first match wins. */
	assert_value(f, 0, "a", "1");
	assert_int_equal(kvp_pool_set(f->s, 0, "a", "9"), 0);
	assert_int_equal(kvp_pool_count(f->s, 0), 3);
	assert_value(f, 0, "a", "9");
	assert_int_equal(kvp_pool_delete(f->s, 0, "a"), 0);
	assert_value(f, 0, "a", "3");
	assert_int_equal(kvp_pool_delete(f->s, 0, "a"), 0);
	assert_int_equal(kvp_pool_count(f->s, 0), 1);
}

static void expect_records(const char *path, const char *const *keys, size_t n)
{
	uint8_t *buf, want[REC];
	size_t len, i;
	char v[32];

	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, n * REC);
	for (i = 0; i < n; i++) {
		snprintf(v, sizeof(v), "v%s", keys[i] + 1);
		make_record(want, keys[i], v);
		assert_memory_equal(buf + i * REC, want, REC);
	}
	free(buf);
}

static void test_compaction_order(void **state)
{
	static const char *const after1[] = { "k0", "k1", "k2", "k4", "k5",
					      "k6", "k7", "k8", "k9" };
	static const char *const after3[] = { "k1", "k2", "k4", "k5",
					      "k6", "k7", "k8" };
	struct fx *f = *state;
	char path[PATH_MAX];

	assert_int_equal(mkdir(f->state, 0755), 0);
	fx_pool_path(f, 0, path, sizeof(path));
	assert_int_equal(write_pool(path, 10), 0);
	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_delete(f->s, 0, "k3"), 0);
	expect_records(path, after1, ARRAY_SIZE(after1));
	assert_int_equal(kvp_pool_delete(f->s, 0, "k9"), 0);
	assert_int_equal(kvp_pool_delete(f->s, 0, "k0"), 0);
	expect_records(path, after3, ARRAY_SIZE(after3));
	assert_value(f, 0, "k8", "v8");
	assert_value(f, 0, "k1", "v1");
	assert_int_equal(kvp_pool_count(f->s, 0), 7);
}

/* Enumerate from index 0 until -ENOENT, calling mid() after index at. */
static unsigned int enumerate_all(struct fx *f, unsigned int pool, uint32_t at,
				  void (*mid)(struct fx *), char seen[][16],
				  unsigned int max)
{
	struct kvp_pool_record rec;
	unsigned int n = 0;
	uint32_t i;

	for (i = 0;; i++) {
		int r = kvp_pool_enumerate(f->s, pool, i, &rec);

		if (r == -ENOENT)
			break;
		assert_int_equal(r, 0);
		assert_true(n < max);
		hv_strscpy(seen[n++], rec.key, 16);
		if (i == at && mid)
			mid(f);
	}
	return n;
}

static void assert_each_once(char seen[][16], unsigned int n, unsigned int keys)
{
	unsigned int i, j, count;
	char k[16];

	for (i = 0; i < keys; i++) {
		snprintf(k, sizeof(k), "k%u", i);
		for (count = 0, j = 0; j < n; j++)
			count += strcmp(seen[j], k) == 0;
		assert_int_equal(count, 1);
	}
	assert_int_equal(n, keys);
}

static void delete_k1_own(struct fx *f)
{
	assert_int_equal(kvp_pool_delete(f->s, 1, "k1"), 0);
}

static void delete_k1_external(struct fx *f)
{
	_cleanup_kvp_pool_ struct kvp_pool_store *other = NULL;
	struct kvp_pool_options o = { .state_dir = f->state,
				      .run_dir = f->run };

	/* Another process's store (here: another instance) deletes. */
	assert_int_equal(kvp_pool_open(&o, &other), 0);
	assert_int_equal(kvp_pool_delete(other, 1, "k1"), 0);
}

static void delete_k0(struct fx *f)
{
	assert_int_equal(kvp_pool_delete(f->s, 1, "k0"), 0);
}

static void delete_k3(struct fx *f)
{
	assert_int_equal(kvp_pool_delete(f->s, 1, "k3"), 0);
}

static void append_k10(struct fx *f)
{
	char path[PATH_MAX];

	fx_pool_path(f, 1, path, sizeof(path));
	assert_int_equal(append_flock(path, "k10", "v10"), 0);
}

static void enum_case(struct fx *f, unsigned int flags, uint32_t at,
		      void (*mid)(struct fx *), unsigned int keys)
{
	char seen[32][16], path[PATH_MAX];
	unsigned int n;

	fx_pool_path(f, 1, path, sizeof(path));
	mkdir(f->state, 0755);
	assert_int_equal(write_pool(path, 10), 0);
	assert_int_equal(fx_open(f, flags, 0), 0);
	n = enumerate_all(f, 1, at, mid, seen, ARRAY_SIZE(seen));
	assert_each_once(seen, n, keys);
}

static void test_enum_stable(void **state)
{
	struct fx *f = *state;

	/* Deleted before the cursor: nothing skipped, nothing repeated. */
	enum_case(f, 0, 3, delete_k1_own, 10);
	enum_case(f, 0, 3, delete_k1_external, 10);
	enum_case(f, KVP_POOL_OPEN_NO_INOTIFY, 3, delete_k1_external, 10);
	/* The record just returned is deleted: continue with its successor. */
	enum_case(f, 0, 3, delete_k3, 10);
	/* An append during the walk shows up at the end. */
	enum_case(f, 0, 3, append_k10, 11);
	/* The first record, deleted once returned. */
	enum_case(f, 0, 0, delete_k0, 10);
}

static void reappend_k3(struct fx *f)
{
	uint8_t file[10 * REC];
	char path[PATH_MAX], k[16], v[16];
	unsigned int i, n = 0;

	/* kvp_client's update: the key leaves its slot, goes to the end. */
	fx_pool_path(f, 1, path, sizeof(path));
	for (i = 0; i < 10; i++) {
		if (i == 3)
			continue;
		snprintf(k, sizeof(k), "k%u", i);
		snprintf(v, sizeof(v), "v%u", i);
		make_record(file + n++ * REC, k, v);
	}
	make_record(file + n * REC, "k3", "new");
	assert_int_equal(write_all(path, file, sizeof(file)), 0);
}

static void test_enum_reappended(void **state)
{
	struct fx *f = *state;
	char seen[32][16], path[PATH_MAX];
	unsigned int n, i, j;

	fx_pool_path(f, 1, path, sizeof(path));
	assert_int_equal(mkdir(f->state, 0755), 0);
	assert_int_equal(write_pool(path, 10), 0);
	assert_int_equal(fx_open(f, 0, 0), 0);
	n = enumerate_all(f, 1, 3, reappend_k3, seen, ARRAY_SIZE(seen));
	/* k3 twice (it moved behind the cursor), but no key skipped. */
	assert_int_equal(n, 11);
	for (i = 0; i < 10; i++) {
		char k[16];
		bool found = false;

		snprintf(k, sizeof(k), "k%u", i);
		for (j = 0; j < n; j++)
			found |= strcmp(seen[j], k) == 0;
		assert_true(found);
	}
}

static void test_enum_retry(void **state)
{
	struct fx *f = *state;
	struct kvp_pool_record rec;
	char path[PATH_MAX];

	fx_pool_path(f, 1, path, sizeof(path));
	assert_int_equal(mkdir(f->state, 0755), 0);
	assert_int_equal(write_pool(path, 5), 0);
	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 0, &rec), 0);
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 1, &rec), 0);
	assert_string_equal(rec.key, "k1");
	assert_int_equal(kvp_pool_delete(f->s, 1, "k0"), 0);
	/* The host asks again for index 1: same record, then the next. */
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 1, &rec), 0);
	assert_string_equal(rec.key, "k1");
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 2, &rec), 0);
	assert_string_equal(rec.key, "k2");
	/* A jump is positional. */
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 0, &rec), 0);
	assert_string_equal(rec.key, "k1");
	assert_int_equal(kvp_pool_enumerate(f->s, 1, 3, &rec), 0);
	assert_string_equal(rec.key, "k4");
}

/* An unchanged pool is never re-read, however large; a change is. */
static void no_reload_case(struct fx *f, unsigned int flags)
{
	struct kvp_pool_record rec;
	char path[PATH_MAX], k[32], v[32];
	unsigned int i;
	uint64_t r0;

	fx_pool_path(f, 1, path, sizeof(path));
	mkdir(f->state, 0755);
	assert_int_equal(write_pool(path, 10000), 0);
	assert_int_equal(fx_open(f, flags, 0), 0);
	r0 = reloads(f, 1);
	assert_int_equal(r0, 1);
	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "k%u", (i * 7919) % 10000);
		snprintf(v, sizeof(v), "v%u", (i * 7919) % 10000);
		assert_value(f, 1, k, v);
	}
	for (i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "k%u", i * 97);
		assert_int_equal(kvp_pool_set(f->s, 1, k, "changed"), 0);
		snprintf(k, sizeof(k), "new%u", i);
		assert_int_equal(kvp_pool_set(f->s, 1, k, "n"), 0);
	}
	for (i = 0; i < 100; i++)
		assert_int_equal(kvp_pool_enumerate(f->s, 1, i, &rec), 0);
	assert_int_equal(kvp_pool_count(f->s, 1), 10100);
	assert_value(f, 1, "k97", "changed");
	assert_int_equal(reloads(f, 1), r0);

	/* Someone else appends: seen, at the price of one reload. */
	assert_int_equal(append_flock(path, "external", "e"), 0);
	assert_value(f, 1, "external", "e");
	assert_int_equal(reloads(f, 1), r0 + 1);
}

static void test_no_reload_when_unchanged(void **state)
{
	no_reload_case(*state, 0);
}

static void test_no_reload_when_unchanged_fallback(void **state)
{
	no_reload_case(*state, KVP_POOL_OPEN_NO_INOTIFY);
}

static void swap_records(const char *path)
{
	uint8_t file[2 * REC];

	make_record(file, "B", "2");
	make_record(file + REC, "A", "1");
	assert_int_equal(write_all(path, file, sizeof(file)), 0);
}

/*
 * A same-size rewrite of pool 0 is seen by the drain that follows our own
 * write to pool 1, and must not be lost there.
 */
static void test_other_pool_events_kept(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_set(f->s, 0, "A", "1"), 0);
	assert_int_equal(kvp_pool_set(f->s, 0, "B", "2"), 0);
	fx_pool_path(f, 0, path, sizeof(path));
	swap_records(path);
	assert_int_equal(kvp_pool_set(f->s, 1, "x", "y"), 0);
	assert_value(f, 0, "A", "1");
	assert_value(f, 0, "B", "2");
	assert_int_equal(reloads(f, 0), 2);
}

static void test_replaced_by_rename(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX], tmp[PATH_MAX];
	struct kvp_pool_stats st;
	uint8_t rec[REC], *buf;
	size_t len;

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_set(f->s, 1, "old", "1"), 0);
	fx_pool_path(f, 1, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s/tmp", f->state);
	make_record(rec, "new", "2");
	assert_int_equal(write_all(tmp, rec, REC), 0);
	assert_int_equal(rename(tmp, path), 0);

	assert_value(f, 1, "new", "2");
	assert_int_equal(kvp_pool_get(f->s, 1, "old", tmp, sizeof(tmp)),
			 -ENOENT);
	assert_int_equal(kvp_pool_get_stats(f->s, 1, &st), 0);
	assert_int_equal(st.reopens, 1);
	/* and our writes go to the new file */
	assert_int_equal(kvp_pool_set(f->s, 1, "more", "3"), 0);
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 2 * REC);
	assert_string_equal((char *)buf + REC, "more");
	free(buf);

	/* Removed altogether: recreated with the right mode. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(kvp_pool_set(f->s, 1, "again", "4"), 0);
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, REC);
	assert_string_equal((char *)buf, "again");
	free(buf);
	assert_int_equal(kvp_pool_get_stats(f->s, 1, &st), 0);
	assert_int_equal(st.reopens, 2);
}

static void test_queue_overflow(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	unsigned int max = 0, i;
	uint64_t before[KVP_POOL_NUM];
	int fd[2];
	FILE *q;

	q = fopen("/proc/sys/fs/inotify/max_queued_events", "re");
	if (q) {
		if (fscanf(q, "%u", &max) != 1)
			max = 0;
		fclose(q);
	}
	if (max == 0 || max > 100000)
		skip();
	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_set(f->s, 0, "a", "1"), 0);
	assert_int_equal(kvp_pool_set(f->s, 1, "a", "1"), 0);
	for (i = 0; i < KVP_POOL_NUM; i++)
		before[i] = reloads(f, i);
	for (i = 0; i < 2; i++) {
		fx_pool_path(f, i, path, sizeof(path));
		fd[i] = open(path, O_WRONLY | O_CLOEXEC);
		assert_true(fd[i] >= 0);
	}
	/* Alternate files so the kernel cannot merge the events; rewrite
	 * the same byte so the data does not change. */
	for (i = 0; i < 2 * max + 10; i++)
		assert_int_equal(pwrite(fd[i & 1], "a", 1, 0), 1);
	close(fd[0]);
	close(fd[1]);
	assert_int_equal(kvp_pool_count(f->s, 3), 0);
	for (i = 0; i < KVP_POOL_NUM; i++) {
		assert_int_equal(kvp_pool_count(f->s, i), i < 2 ? 1 : 0);
		assert_int_equal(reloads(f, i), before[i] + 1);
	}
}

/*
 * More events queued than one read takes: the one that matters comes
 * last, and the drain before an operation must get to it.
 */
static void test_drain_more_than_a_buffer(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	unsigned int i;
	uint64_t before;
	int fd[2];

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_set(f->s, 0, "A", "1"), 0);
	assert_int_equal(kvp_pool_set(f->s, 0, "B", "2"), 0);
	before = reloads(f, 0);
	for (i = 0; i < 2; i++) {
		fx_pool_path(f, 3 + i, path, sizeof(path));
		fd[i] = open(path, O_WRONLY | O_CLOEXEC);
		assert_true(fd[i] >= 0);
	}
	/* 600 unmergeable 16-byte events: over two reads' worth. */
	for (i = 0; i < 600; i++)
		assert_int_equal(pwrite(fd[i & 1], "a", 1, 0), 1);
	close(fd[0]);
	close(fd[1]);
	fx_pool_path(f, 0, path, sizeof(path));
	swap_records(path);
	assert_value(f, 0, "A", "1");
	assert_value(f, 0, "B", "2");
	assert_int_equal(reloads(f, 0), before + 1);
}

static struct kvp_pool_test_counts counts(struct fx *f, unsigned int pool)
{
	struct kvp_pool_test_counts c;

	assert_int_equal(kvp_pool_test_get_counts(f->s, pool, &c), 0);
	return c;
}

/*
 * While the watches work, an unchanged pool is neither stat'ed nor is its
 * journal looked at, whatever we do to it ourselves; the fallback does
 * both every time.
 */
static void unchanged_case(struct fx *f, unsigned int flags, bool watched)
{
	struct kvp_pool_test_counts c0, c1;
	struct kvp_pool_record rec;
	char k[32];
	unsigned int i;

	assert_int_equal(fx_open(f, flags, 0), 0);
	/* Twelve slots: some cross a page boundary, so are journaled. */
	for (i = 0; i < 12; i++) {
		snprintf(k, sizeof(k), "k%u", i);
		assert_int_equal(kvp_pool_set(f->s, 1, k, "v"), 0);
	}
	c0 = counts(f, 1);
	assert_true(c0.journal_writes > 0);
	for (i = 0; i < 12; i++) {
		snprintf(k, sizeof(k), "k%u", i);
		assert_value(f, 1, k, "v");
		assert_int_equal(kvp_pool_set(f->s, 1, k, "w"), 0);
		assert_int_equal(kvp_pool_enumerate(f->s, 1, i, &rec), 0);
		assert_string_equal(rec.value, "w");
		assert_int_equal(kvp_pool_count(f->s, 1), 12);
	}
	assert_int_equal(kvp_pool_delete(f->s, 1, "k0"), 0);
	assert_int_equal(kvp_pool_count(f->s, 1), 11);
	c1 = counts(f, 1);
	if (watched) {
		assert_int_equal(c1.pool_stats, c0.pool_stats);
		assert_int_equal(c1.journal_looks, c0.journal_looks);
	} else {
		/* 50 operations: at least one look at each per operation */
		assert_true(c1.pool_stats - c0.pool_stats >= 50);
		assert_int_equal(c1.journal_looks - c0.journal_looks, 50);
	}
}

static void test_unchanged_pool_not_stated(void **state)
{
	unchanged_case(*state, 0, true);
}

static void test_unchanged_pool_fallback_stats(void **state)
{
	unchanged_case(*state, KVP_POOL_OPEN_NO_INOTIFY, false);
}

static void test_inotify_fd(void **state)
{
	struct fx *f = *state;
	struct pollfd pfd;
	char path[PATH_MAX];

	assert_int_equal(fx_open(f, 0, 0), 0);
	pfd.fd = kvp_pool_inotify_fd(f->s);
	pfd.events = POLLIN;
	assert_true(pfd.fd >= 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	fx_pool_path(f, 0, path, sizeof(path));
	assert_int_equal(append_flock(path, "a", "1"), 0);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	kvp_pool_process_events(f->s);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	/* drained, but not forgotten */
	assert_value(f, 0, "a", "1");

	assert_int_equal(fx_open(f, KVP_POOL_OPEN_NO_INOTIFY, 0), 0);
	assert_int_equal(kvp_pool_inotify_fd(f->s), -EOPNOTSUPP);
}

static void test_read_only(void **state)
{
	struct fx *f = *state;
	struct kvp_pool_options o = { .state_dir = f->state,
				      .flags = KVP_POOL_OPEN_READ_ONLY };

	assert_int_equal(kvp_pool_open(&o, &f->s), -ENOENT);
	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_set(f->s, 3, "k", "v"), 0);
	f->s = kvp_pool_close(f->s);
	assert_int_equal(kvp_pool_open(&o, &f->s), 0);
	assert_value(f, 3, "k", "v");
	assert_int_equal(kvp_pool_set(f->s, 3, "k", "w"), -EROFS);
	assert_int_equal(kvp_pool_delete(f->s, 3, "k"), -EROFS);
	assert_value(f, 3, "k", "v");
}

static void test_pool_names(void **state)
{
	static const char *const names[] = { "external", "guest", "auto",
					     "auto_external", "auto_internal" };
	unsigned int i;

	for (i = 0; i < KVP_POOL_NUM; i++) {
		char num[4];

		assert_string_equal(kvp_pool_name(i), names[i]);
		assert_int_equal(kvp_pool_from_string(names[i]), (int)i);
		snprintf(num, sizeof(num), "%u", i);
		assert_int_equal(kvp_pool_from_string(num), (int)i);
	}
	assert_null(kvp_pool_name(5));
	assert_int_equal(kvp_pool_from_string("Auto-External"), 3);
	assert_int_equal(kvp_pool_from_string("GUEST"), 1);
	assert_int_equal(kvp_pool_from_string("5"), -EINVAL);
	assert_int_equal(kvp_pool_from_string("-1"), -EINVAL);
	assert_int_equal(kvp_pool_from_string(" 1"), -EINVAL);
	assert_int_equal(kvp_pool_from_string(""), -EINVAL);
	assert_int_equal(kvp_pool_from_string("autox"), -EINVAL);
	assert_int_equal(kvp_pool_from_string(NULL), -EINVAL);
}

/* ---- journal ---------------------------------------------------------- */

static struct kvp_pool_stats stats(struct fx *f, unsigned int pool)
{
	struct kvp_pool_stats st;

	assert_int_equal(kvp_pool_get_stats(f->s, pool, &st), 0);
	return st;
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_journal_tear_set(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX], jpath[PATH_MAX];
	uint8_t want[REC], *buf;
	size_t len;

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_set(f->s, 1, "a", "0"), 0);
	assert_int_equal(kvp_pool_set(f->s, 1, "k", "old old old"), 0);
	fx_pool_path(f, 1, path, sizeof(path));
	fx_journal_path(f, 1, jpath, sizeof(jpath));

	/* Killed after 514 bytes: two bytes of the new value are in. */
	kvp_pool_test_tear(f->s, 514);
	assert_int_equal(kvp_pool_set(f->s, 1, "k", "new"), -ECANCELED);
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 2 * REC);
	assert_string_equal((char *)buf + REC + KSZ, "ned old old");
	free(buf);
	assert_true(file_size(jpath) > 0);

	f->s = kvp_pool_close(f->s);
	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(stats(f, 1).journal_redone, 1);
	assert_int_equal(file_size(jpath), 0);
	make_record(want, "k", "new");
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 2 * REC);
	assert_memory_equal(buf + REC, want, REC);
	free(buf);
	assert_value(f, 1, "k", "new");
}

static void test_journal_tear_append(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];
	uint8_t want[REC], *buf;
	size_t len;

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_set(f->s, 3, "a", "0"), 0);
	fx_pool_path(f, 3, path, sizeof(path));
	/* A writer before us died too: 100 bytes of a record. */
	assert_int_equal(truncate(path, REC + 100), 0);
	kvp_pool_test_tear(f->s, 50);
	assert_int_equal(kvp_pool_set(f->s, 3, "b", "1"), -ECANCELED);
	assert_int_equal(file_size(path), REC + 100);

	/* A second user of the pool finishes it before its own work. */
	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(stats(f, 3).journal_redone, 1);
	make_record(want, "b", "1");
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 2 * REC);
	assert_memory_equal(buf + REC, want, REC);
	free(buf);
	assert_int_equal(kvp_pool_count(f->s, 3), 2);
}

static void test_journal_tear_delete(void **state)
{
	static const char *const after[] = { "k0", "k1", "k3", "k4", "k5",
					     "k6", "k7", "k8", "k9" };
	struct fx *f = *state;
	_cleanup_kvp_pool_ struct kvp_pool_store *other = NULL;
	struct kvp_pool_options o = { .state_dir = f->state,
				      .run_dir = f->run };
	char path[PATH_MAX];

	assert_int_equal(mkdir(f->state, 0755), 0);
	fx_pool_path(f, 0, path, sizeof(path));
	assert_int_equal(write_pool(path, 10), 0);
	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_open(&o, &other), 0);
	kvp_pool_test_tear(other, 3 * REC + 100);
	assert_int_equal(kvp_pool_delete(other, 0, "k2"), -ECANCELED);
	assert_int_equal(file_size(path), 10 * REC);

	/* The first store is mid-life: a read finds the journal, takes the
	 * exclusive locks and finishes the compaction. */
	assert_value(f, 0, "k9", "v9");
	assert_int_equal(stats(f, 0).journal_redone, 1);
	expect_records(path, after, ARRAY_SIZE(after));
	assert_int_equal(kvp_pool_count(f->s, 0), 9);
}

/*
 * A compaction torn by a kill, then cloud-init appends: redoing it would
 * cut the appended record, so the journal is dropped instead (the torn
 * record stays: the lesser loss).
 */
static void test_journal_stale_after_append(void **state)
{
	struct fx *f = *state;
	_cleanup_kvp_pool_ struct kvp_pool_store *other = NULL;
	struct kvp_pool_options o = { .state_dir = f->state,
				      .run_dir = f->run };
	char path[PATH_MAX];
	uint8_t *buf;
	size_t len;

	assert_int_equal(mkdir(f->state, 0755), 0);
	fx_pool_path(f, 0, path, sizeof(path));
	assert_int_equal(write_pool(path, 5), 0);
	assert_int_equal(kvp_pool_open(&o, &other), 0);
	kvp_pool_test_tear(other, REC + 100);
	assert_int_equal(kvp_pool_delete(other, 0, "k1"), -ECANCELED);
	other = kvp_pool_close(other);
	assert_int_equal(append_flock(path, "late", "x"), 0);

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(stats(f, 0).journal_redone, 0);
	assert_int_equal(stats(f, 0).journal_discarded, 1);
	assert_string_equal(stats(f, 0).journal_reason,
			    "pool file size changed");
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 6 * REC);
	assert_string_equal((char *)buf + 5 * REC, "late");
	free(buf);
	assert_value(f, 0, "late", "x");
}

/* CRC-32C written out bit by bit, independent of the module's. */
static uint32_t crc32c_bitwise(uint32_t crc, const uint8_t *p, size_t n)
{
	int k;

	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

static void put64(uint8_t *b, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

/*
 * A journal built by hand from the layout documented in kvp-journal.h:
 * overwrite slot 0 of a 2-record pool 1 file with newrec.
 */
static void write_hand_journal(struct fx *f, const char *path,
			       const uint8_t *newrec, const uint8_t *oldrec,
			       int flip)
{
	uint8_t j[KVP_JOURNAL_HDR_SIZE + 2 * REC] = { 0 };
	char jpath[PATH_MAX];
	struct stat st;
	uint32_t crc;

	assert_int_equal(stat(path, &st), 0);
	memcpy(j, "HVKVPJ01", 8);
	j[12] = 1; /* pool */
	put64(j + 16, (uint64_t)st.st_dev);
	put64(j + 24, (uint64_t)st.st_ino);
	put64(j + 32, 0); /* offset */
	put64(j + 40, REC); /* len */
	put64(j + 48, 2 * REC); /* old size */
	put64(j + 56, 2 * REC); /* new size */
	put64(j + 64, REC); /* old_len */
	memcpy(j + KVP_JOURNAL_HDR_SIZE, newrec, REC);
	memcpy(j + KVP_JOURNAL_HDR_SIZE + REC, oldrec, REC);
	crc = crc32c_bitwise(0, j, sizeof(j));
	j[72] = (uint8_t)crc;
	j[73] = (uint8_t)(crc >> 8);
	j[74] = (uint8_t)(crc >> 16);
	j[75] = (uint8_t)(crc >> 24);
	if (flip >= 0)
		j[flip] ^= 1;
	fx_journal_path(f, 1, jpath, sizeof(jpath));
	assert_int_equal(write_all(jpath, j, sizeof(j)), 0);
}

static void hand_pool(struct fx *f, char *path, size_t size, uint8_t *oldrec,
		      uint8_t *newrec)
{
	uint8_t file[2 * REC];

	/* Create the tree (and the journal dir) through the store. */
	assert_int_equal(fx_open(f, 0, 0), 0);
	f->s = kvp_pool_close(f->s);
	fx_pool_path(f, 1, path, size);
	make_record(oldrec, "key", "the old value");
	make_record(newrec, "key", "brand new");
	memcpy(file, oldrec, REC);
	make_record(file + REC, "other", "x");
	assert_int_equal(write_all(path, file, sizeof(file)), 0);
}

static void test_journal_by_hand(void **state)
{
	struct fx *f = *state;
	uint8_t oldrec[REC], newrec[REC], *buf;
	char path[PATH_MAX];
	int fd;
	size_t len;

	hand_pool(f, path, sizeof(path), oldrec, newrec);
	write_hand_journal(f, path, newrec, oldrec, -1);
	/* the torn state: first half new, second half old */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, newrec, REC / 2, 0), REC / 2);
	close(fd);

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(stats(f, 1).journal_redone, 1);
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 2 * REC);
	assert_memory_equal(buf, newrec, REC);
	free(buf);
	assert_value(f, 1, "key", "brand new");
	assert_value(f, 1, "other", "x");
}

static void discard_case(struct fx *f, int flip, void (*change)(const char *),
			 const char *reason)
{
	uint8_t oldrec[REC], newrec[REC], *before, *after;
	char path[PATH_MAX], jpath[PATH_MAX];
	struct kvp_pool_stats st;
	size_t blen, alen;

	hand_pool(f, path, sizeof(path), oldrec, newrec);
	write_hand_journal(f, path, newrec, oldrec, flip);
	if (change)
		change(path);
	before = read_all(path, &blen);
	assert_non_null(before);

	assert_int_equal(fx_open(f, 0, 0), 0);
	st = stats(f, 1);
	assert_int_equal(st.journal_redone, 0);
	assert_int_equal(st.journal_discarded, 1);
	assert_non_null(st.journal_reason);
	assert_string_equal(st.journal_reason, reason);
	fx_journal_path(f, 1, jpath, sizeof(jpath));
	assert_int_equal(file_size(jpath), 0);
	after = read_all(path, &alen);
	assert_non_null(after);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(before);
	free(after);
	f->s = kvp_pool_close(f->s);
}

static void rewrite_slot0(const char *path)
{
	uint8_t rec[REC];
	int fd;

	/* Someone else rewrote the record since: neither image. */
	make_record(rec, "key", "third party");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, rec, REC, 0), REC);
	close(fd);
}

static void replace_file(const char *path)
{
	char tmp[PATH_MAX + 8];
	uint8_t *buf;
	size_t len;

	/* Same bytes, another inode (made while the old one still exists,
	 * so its number cannot be reused). */
	buf = read_all(path, &len);
	assert_non_null(buf);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(write_all(tmp, buf, len), 0);
	assert_int_equal(rename(tmp, path), 0);
	free(buf);
}

static void shrink_file(const char *path)
{
	assert_int_equal(truncate(path, REC / 2), 0);
}

static void test_journal_discarded(void **state)
{
	struct fx *f = *state;
	char jpath[PATH_MAX];

	discard_case(f, -1, rewrite_slot0, "pool region matches neither image");
	discard_case(f, KVP_JOURNAL_HDR_SIZE + 700, NULL, "checksum mismatch");
	discard_case(f, 0, NULL, "bad magic");
	discard_case(f, 12, NULL, "journal of another pool");
	discard_case(f, -1, replace_file, "pool file replaced");
	discard_case(f, -1, shrink_file, "pool file size changed");

	/* A journal cut short while being written. */
	fx_journal_path(f, 1, jpath, sizeof(jpath));
	assert_int_equal(write_all(jpath, "HVKVPJ01", 8), 0);
	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_string_equal(stats(f, 1).journal_reason, "truncated header");
}

/*
 * A writer killed mid-write in another process leaves a journal; we are
 * mid-life and hear of it only through the journal's watch (no fstat per
 * operation: the reads before it looked at nothing). The next operation,
 * a read, finishes the write. With torn: the pool write had begun (half
 * the record is new); without: it had not (killed right after
 * journaling), so only the journal changed.
 */
static void journal_event_case(struct fx *f, bool torn)
{
	uint8_t oldrec[REC], newrec[REC], *buf;
	struct kvp_pool_test_counts c0, c1;
	char path[PATH_MAX], jpath[PATH_MAX];
	unsigned int i;
	size_t len;
	int fd;

	hand_pool(f, path, sizeof(path), oldrec, newrec);
	assert_int_equal(fx_open(f, 0, 0), 0);
	c0 = counts(f, 1);
	for (i = 0; i < 20; i++)
		assert_value(f, 1, "key", "the old value");
	assert_int_equal(counts(f, 1).journal_looks, c0.journal_looks);
	assert_int_equal(counts(f, 1).pool_stats, c0.pool_stats);

	write_hand_journal(f, path, newrec, oldrec, -1);
	if (torn) {
		fd = open(path, O_WRONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, newrec, REC / 2, 0), REC / 2);
		close(fd);
	}
	assert_value(f, 1, "other", "x");
	assert_int_equal(stats(f, 1).journal_redone, 1);
	c1 = counts(f, 1);
	assert_true(c1.journal_looks > c0.journal_looks);
	fx_journal_path(f, 1, jpath, sizeof(jpath));
	assert_int_equal(file_size(jpath), 0);
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 2 * REC);
	assert_memory_equal(buf, newrec, REC);
	free(buf);
	assert_value(f, 1, "key", "brand new");
	/* and quiet again */
	for (i = 0; i < 20; i++)
		assert_value(f, 1, "key", "brand new");
	assert_int_equal(counts(f, 1).journal_looks, c1.journal_looks);
}

static void test_journal_found_by_event_torn(void **state)
{
	journal_event_case(*state, true);
}

static void test_journal_found_by_event_untouched(void **state)
{
	journal_event_case(*state, false);
}

/* Another store's writes reach us as events; one look, then quiet. */
static void test_journal_other_store(void **state)
{
	struct fx *f = *state;
	_cleanup_kvp_pool_ struct kvp_pool_store *other = NULL;
	struct kvp_pool_options o = { .state_dir = f->state,
				      .run_dir = f->run };
	struct kvp_pool_test_counts c0, c1;
	char k[32];
	unsigned int i;

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(kvp_pool_open(&o, &other), 0);
	for (i = 0; i < 4; i++) {
		snprintf(k, sizeof(k), "k%u", i);
		assert_int_equal(kvp_pool_set(other, 1, k, "v"), 0);
	}
	c0 = counts(f, 1);
	assert_value(f, 1, "k3", "v");
	c1 = counts(f, 1);
	assert_int_equal(c1.journal_looks, c0.journal_looks + 1);
	assert_value(f, 1, "k1", "v");
	assert_int_equal(counts(f, 1).journal_looks, c1.journal_looks);
	assert_int_equal(stats(f, 1).journal_redone, 0);
}

static bool crosses_page(unsigned int slot)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), off = slot * REC;

	return off / page != (off + REC - 1) / page;
}

/*
 * Only a write that crosses a page boundary is journaled; the others are
 * all or nothing, so the test hook's kill there leaves the file as it was
 * and no journal at all. KVP_POOL_OPEN_JOURNAL_ALL journals every write.
 */
static void test_journal_only_across_pages(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX], jpath[PATH_MAX], k[32];
	unsigned int i, crossing = 0;
	uint8_t want[REC], *buf;
	uint64_t w;
	size_t len;

	assert_int_equal(fx_open(f, 0, 0), 0);
	fx_pool_path(f, 3, path, sizeof(path));
	fx_journal_path(f, 3, jpath, sizeof(jpath));
	for (i = 0; i < 16; i++) {
		w = counts(f, 3).journal_writes;
		snprintf(k, sizeof(k), "k%u", i);
		assert_int_equal(kvp_pool_set(f->s, 3, k, "v"), 0);
		assert_int_equal(counts(f, 3).journal_writes - w,
				 crosses_page(i) ? 1 : 0);
		w = counts(f, 3).journal_writes;
		assert_int_equal(kvp_pool_set(f->s, 3, k, "updated"), 0);
		assert_int_equal(counts(f, 3).journal_writes - w,
				 crosses_page(i) ? 1 : 0);
		crossing += crosses_page(i);
	}
	assert_true(crossing > 0 && crossing < 16);
	assert_int_equal(file_size(path), 16 * REC);

	/* Slot 0 never crosses: a kill leaves nothing behind. */
	assert_false(crosses_page(0));
	w = counts(f, 3).journal_writes;
	kvp_pool_test_tear(f->s, 100);
	assert_int_equal(kvp_pool_set(f->s, 3, "k0", "torn?"), -ECANCELED);
	assert_int_equal(counts(f, 3).journal_writes, w);
	assert_int_equal(file_size(jpath), 0);
	make_record(want, "k0", "updated");
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 16 * REC);
	assert_memory_equal(buf, want, REC);
	free(buf);
	assert_value(f, 3, "k0", "updated");
	/* A new record at the end that stays in its page: not added. */
	for (i = 16; crosses_page(i); i++) {
		snprintf(k, sizeof(k), "filler%u", i);
		assert_int_equal(kvp_pool_set(f->s, 3, k, "x"), 0);
	}
	kvp_pool_test_tear(f->s, REC - 1);
	assert_int_equal(kvp_pool_set(f->s, 3, "late", "y"), -ECANCELED);
	assert_int_equal(file_size(jpath), 0);
	assert_int_equal(kvp_pool_get(f->s, 3, "late", (char *)want, REC),
			 -ENOENT);
	assert_int_equal(kvp_pool_set(f->s, 3, "late", "y"), 0);
	assert_value(f, 3, "late", "y");

	assert_int_equal(fx_open(f, KVP_POOL_OPEN_JOURNAL_ALL, 0), 0);
	assert_int_equal(kvp_pool_set(f->s, 3, "k0", "again"), 0);
	assert_int_equal(counts(f, 3).journal_writes, 1);
	assert_value(f, 3, "k0", "again");
}

/*
 * A torn overwrite in place, then cloud-init appends before anyone redoes
 * it: the redo finishes the record and keeps the appended one (the file
 * stays at three records, not cut back to the journal's two).
 */
static void test_journal_redo_keeps_append(void **state)
{
	struct fx *f = *state;
	uint8_t oldrec[REC], newrec[REC], *buf;
	char path[PATH_MAX];
	size_t len;
	int fd;

	hand_pool(f, path, sizeof(path), oldrec, newrec);
	write_hand_journal(f, path, newrec, oldrec, -1);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, newrec, REC / 2, 0), REC / 2);
	close(fd);
	assert_int_equal(append_flock(path, "late", "x"), 0);

	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(stats(f, 1).journal_redone, 1);
	buf = read_all(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 3 * REC);
	assert_memory_equal(buf, newrec, REC);
	assert_string_equal((char *)buf + 2 * REC, "late");
	free(buf);
	assert_value(f, 1, "key", "brand new");
	assert_value(f, 1, "late", "x");
}

static void test_crc32c(void **state)
{
	uint8_t buf[64 + 8];
	size_t len, off, k;

	/* The standard check value. */
	assert_int_equal(kvp_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(kvp_crc32c(kvp_crc32c(0, "1234", 4), "56789", 5),
			 0xe3069283);
	/* Every length and alignment against the bit-by-bit form: the
	 * eight-byte steps and the byte tail must agree. */
	for (k = 0; k < sizeof(buf); k++)
		buf[k] = (uint8_t)(k * 131 + 7);
	for (off = 0; off < 8; off++)
		for (len = 0; len <= 64; len++)
			assert_int_equal(kvp_crc32c(0x12345678, buf + off, len),
					 crc32c_bitwise(0x12345678, buf + off,
							len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
		T(test_open_creates),
		T(test_open_never_truncates),
		T(test_format),
		T(test_operations),
		T(test_limits),
		T(test_foreign_records),
		T(test_duplicate_keys),
		T(test_compaction_order),
		T(test_enum_stable),
		T(test_enum_reappended),
		T(test_enum_retry),
		T(test_no_reload_when_unchanged),
		T(test_no_reload_when_unchanged_fallback),
		T(test_other_pool_events_kept),
		T(test_replaced_by_rename),
		T(test_queue_overflow),
		T(test_drain_more_than_a_buffer),
		T(test_unchanged_pool_not_stated),
		T(test_unchanged_pool_fallback_stats),
		T(test_inotify_fd),
		T(test_read_only),
		T(test_pool_names),
		T(test_journal_tear_set),
		T(test_journal_tear_append),
		T(test_journal_tear_delete),
		T(test_journal_by_hand),
		T(test_journal_discarded),
		T(test_journal_stale_after_append),
		T(test_journal_found_by_event_torn),
		T(test_journal_found_by_event_untouched),
		T(test_journal_other_store),
		T(test_journal_only_across_pages),
		T(test_journal_redo_keeps_append),
		T(test_crc32c),
#undef T
	};

	return cmocka_run_group_tests_name("kvp-pool", tests, NULL, NULL);
}
