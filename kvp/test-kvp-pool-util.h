/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the pool store tests: a private state/run tree per
 * test, and raw record and file access that does not go through the store
 * (so the tests check the bytes other programs see).
 */
#ifndef HVIS_TEST_KVP_POOL_UTIL_H
#define HVIS_TEST_KVP_POOL_UTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvis/util.h"
#include "kvp-pool.h"

#define REC KVP_POOL_RECORD_SIZE
#define KSZ KVP_POOL_KEY_SIZE
#define VSZ KVP_POOL_VALUE_SIZE

struct fx {
	char base[64];
	char state[128];
	char run[128];
	struct kvp_pool_store *s;
};

static inline int fx_rm_one(const char *path, const struct stat *st, int flag,
			    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void fx_init(struct fx *f)
{
	char tmpl[] = "/tmp/test-kvp-pool.XXXXXX";

	memset(f, 0, sizeof(*f));
	if (!mkdtemp(tmpl))
		abort();
	snprintf(f->base, sizeof(f->base), "%s", tmpl);
	snprintf(f->state, sizeof(f->state), "%s/hyperv", tmpl);
	snprintf(f->run, sizeof(f->run), "%s/run", tmpl);
	if (mkdir(f->run, 0755) < 0)
		abort();
}

static inline void fx_fini(struct fx *f)
{
	f->s = kvp_pool_close(f->s);
	nftw(f->base, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int fx_open(struct fx *f, unsigned int flags,
			  unsigned int timeout_ms)
{
	struct kvp_pool_options o = {
		.state_dir = f->state,
		.run_dir = f->run,
		.lock_timeout_ms = timeout_ms,
		.flags = flags,
	};

	f->s = kvp_pool_close(f->s);
	return kvp_pool_open(&o, &f->s);
}

static inline void fx_pool_path(const struct fx *f, unsigned int pool,
				char *buf, size_t size)
{
	snprintf(buf, size, "%s/.kvp_pool_%u", f->state, pool);
}

static inline void fx_journal_path(const struct fx *f, unsigned int pool,
				   char *buf, size_t size)
{
	snprintf(buf, size, "%s/hvis/kvp-pool-%u.journal", f->run, pool);
}

/* A zero-padded record, as struct.pack("512s2048s") makes it. */
static inline void make_record(uint8_t *rec, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);

	memset(rec, 0, REC);
	memcpy(rec, key, HV_MIN(kl, (size_t)KSZ));
	memcpy(rec + KSZ, value, HV_MIN(vl, (size_t)VSZ));
}

static inline uint8_t *read_all(const char *path, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf;
	int fd;

	*ret_len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf &&
	    hv_read_full(fd, buf, (size_t)st.st_size) != (ssize_t)st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*ret_len = (size_t)st.st_size;
	return buf;
}

static inline int write_all(const char *path, const void *buf, size_t len)
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

/* Append one record the way cloud-init does: flock(LOCK_EX), O_APPEND. */
static inline int append_flock(const char *path, const char *key,
			       const char *value)
{
	uint8_t rec[REC];
	int fd, r = 0;

	make_record(rec, key, value);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0 || write(fd, rec, REC) != REC)
		r = -EIO;
	close(fd);
	return r;
}

/* Write a whole pool file of records "k<i>" = "v<i>", i < n. */
static inline int write_pool(const char *path, unsigned int n)
{
	uint8_t *buf = calloc(n ? n : 1, REC);
	char k[32], v[32];
	unsigned int i;
	int r;

	if (!buf)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "k%u", i);
		snprintf(v, sizeof(v), "v%u", i);
		make_record(buf + (size_t)i * REC, k, v);
	}
	r = write_all(path, buf, (size_t)n * REC);
	free(buf);
	return r;
}

#endif
