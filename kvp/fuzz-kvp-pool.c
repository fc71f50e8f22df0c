/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Arbitrary bytes as a pool file (and optionally a pending journal), then
 * the store's whole life on it: open (journal recovery, index load),
 * enumerate, get, set, delete. Must never crash or read out of bounds, and
 * every key enumeration hands out must be found again by get.
 *
 * Input: byte 0 flags - bits 0-2 pool (mod 5), bit 3 a journal follows,
 * bit 4 no inotify, bit 5 stamp the journal with the real file's device
 * and inode and a correct checksum (which the fuzzer could not guess).
 * With a journal: bytes 1-2 the pool file's length (LE), then the pool
 * file, then the journal. Without: the rest is the pool file.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvis/util.h"
#include "kvp-journal.h"
#include "kvp-pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int put_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (hv_write_full(fd, buf, len) < 0)
		r = -EIO;
	close(fd);
	return r;
}

static void stamp_journal(uint8_t *j, size_t len, const char *pool_path)
{
	struct stat st;
	uint32_t crc;
	int i;

	if (len < KVP_JOURNAL_HDR_SIZE || stat(pool_path, &st) < 0)
		return;
	for (i = 0; i < 8; i++) {
		j[16 + i] = (uint8_t)((uint64_t)st.st_dev >> (8 * i));
		j[24 + i] = (uint8_t)((uint64_t)st.st_ino >> (8 * i));
	}
	hv_put_le32(j + 72, 0);
	crc = kvp_crc32c(0, j, len);
	hv_put_le32(j + 72, crc);
}

static void exercise(struct kvp_pool_store *s, unsigned int pool)
{
	char first[KVP_POOL_KEY_SIZE + 1] = "";
	struct kvp_pool_record *rec;
	char *value;
	uint32_t i;
	int r;

	rec = malloc(sizeof(*rec));
	value = malloc(KVP_POOL_VALUE_SIZE + 1);
	if (!rec || !value)
		goto out;
	for (i = 0; kvp_pool_enumerate(s, pool, i, rec) == 0; i++) {
		if (rec->key_len > KVP_POOL_KEY_SIZE || rec->key[rec->key_len])
			abort();
		if (rec->value_len > KVP_POOL_VALUE_SIZE ||
		    rec->value[rec->value_len])
			abort();
		if (i < 8 && rec->key_len > 0 &&
		    rec->key_len < KVP_POOL_KEY_SIZE) {
			r = kvp_pool_get(s, pool, rec->key, value,
					 KVP_POOL_VALUE_SIZE + 1);
			if (r < 0)
				abort();
			if (!first[0])
				memcpy(first, rec->key, rec->key_len + 1);
		}
	}
	if ((uint32_t)kvp_pool_count(s, pool) != i)
		abort();
	kvp_pool_set(s, pool, "fuzz-key", "fuzz-value");
	if (first[0]) {
		kvp_pool_set(s, pool, first, "new");
		kvp_pool_delete(s, pool, first);
	}
	kvp_pool_delete(s, pool, "fuzz-key");
	for (i = 0; kvp_pool_enumerate(s, pool, i, rec) == 0; i++)
		;
out:
	free(rec);
	free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* tmpfs where there is one: the store fsyncs, and ext4 made it 22/s. */
	static const char *tmp;
	char base[64];
	char state[80], run[80], hvis[96], path[160], jpath[160];
	struct kvp_pool_options o = { .state_dir = state,
				      .run_dir = run,
				      .lock_timeout_ms = 100 };
	struct kvp_pool_store *s = NULL;
	const uint8_t *pool_data = data + 1, *jdata = NULL;
	size_t pool_len = size ? size - 1 : 0, jlen = 0;
	uint8_t flags = size ? data[0] : 0;
	unsigned int pool = (flags & 7) % KVP_POOL_NUM;

	if (flags & 8) {
		if (size < 3)
			return 0;
		pool_data = data + 3;
		pool_len = HV_MIN((size_t)hv_le16(data + 1), size - 3);
		jdata = pool_data + pool_len;
		jlen = size - 3 - pool_len;
	}
	if (flags & 16)
		o.flags |= KVP_POOL_OPEN_NO_INOTIFY;

	if (!tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(base, sizeof(base), "%s/fuzz-kvp-pool.XXXXXX", tmp);
	if (!mkdtemp(base))
		return 0;
	snprintf(state, sizeof(state), "%s/hyperv", base);
	snprintf(run, sizeof(run), "%s/run", base);
	snprintf(hvis, sizeof(hvis), "%s/hvis", run);
	snprintf(path, sizeof(path), "%s/.kvp_pool_%u", state, pool);
	snprintf(jpath, sizeof(jpath), "%s/kvp-pool-%u.journal", hvis, pool);
	if (mkdir(state, 0755) < 0 || mkdir(run, 0755) < 0 ||
	    mkdir(hvis, 0755) < 0)
		goto out;
	if (put_file(path, pool_data, pool_len) < 0)
		goto out;
	if (jdata) {
		uint8_t *j = malloc(jlen ? jlen : 1);

		if (!j)
			goto out;
		memcpy(j, jdata, jlen);
		if (flags & 32)
			stamp_journal(j, jlen, path);
		if (put_file(jpath, j, jlen) < 0) {
			free(j);
			goto out;
		}
		free(j);
	}
	if (kvp_pool_open(&o, &s) == 0)
		exercise(s, pool);
	kvp_pool_close(s);
out:
	nftw(base, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
