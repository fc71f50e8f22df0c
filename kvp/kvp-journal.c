/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Redo journal for pool mutations (format in kvp-journal.h).
 *
 * What it protects against: the writer dying inside a pwrite(). A SIGKILL
 * (OOM killer, systemd's stop timeout, an admin) is noticed by the kernel
 * between the pages of a write, and a 2560-byte record often straddles a
 * page boundary, so half a record can reach the file. The journal lets the
 * next user of the pool finish the write. A write that stays inside one
 * page cannot be torn that way; the store journals only writes that cross
 * a page boundary, and every compaction (kvp-pool.c says why).
 *
 * Why no fsync: process death does not lose the page cache. The journal's
 * pwrite() returned before the pool write began, so whoever opens the
 * journal next reads it, whether or not it ever reached a disk (and
 * <run> is normally a tmpfs anyway). A power cut is a different failure:
 * the journal in /run is gone with it, and the pool file itself is only as
 * durable as the other writers make it (none of them fsync); making every
 * SET wait for a disk flush to survive that would cost more than it saves.
 *
 * The journal lives outside the state directory on purpose: other tools
 * glob .kvp_pool_* there and must not trip over our files.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvis/util.h"
#include "kvp-journal.h"
#include "kvp-pool.h"

#define REC KVP_POOL_RECORD_SIZE
#define CHUNK (16u * KVP_POOL_RECORD_SIZE)
#define HDR KVP_JOURNAL_HDR_SIZE
#define MAGIC "HVKVPJ01"
#define FLAG_SHIFTED 1u
/* No pool comes near this; it keeps every offset sum far from overflow. */
#define MAX_BYTES ((uint64_t)1 << 40)

/*
 * CRC-32C (Castagnoli, reflected 0x82f63b78), eight bytes at a time
 * ("slicing by 8"). Every journaled SET checksums some 5 KiB, and a table
 * of 16 entries, four bits a step, made that half the cost of the SET;
 * eight tables of 256 cost 8 KiB once per process.
 */
#define CRC32C_POLY 0x82f63b78u

static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_init(void)
{
	uint32_t i, c;
	int k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc32c_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			crc32c_table[k][i] =
				(crc32c_table[k - 1][i] >> 8) ^
				crc32c_table[0][crc32c_table[k - 1][i] & 0xff];
}

uint32_t kvp_crc32c(uint32_t crc, const void *buf, size_t len)
{
	uint32_t(*t)[256] = crc32c_table;
	const uint8_t *p = buf;

	pthread_once(&crc32c_once, crc32c_init);
	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo = hv_le32(p) ^ crc, hi = hv_le32(p + 4);

		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
		      t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
		      t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		      t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

ssize_t kvp_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int kvp_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const uint8_t *)buf + done, len - done,
				   (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

static void put_le64(uint8_t *b, uint64_t v)
{
	hv_put_le32(b, (uint32_t)v);
	hv_put_le32(b + 4, (uint32_t)(v >> 32));
}

static uint64_t get_le64(const uint8_t *b)
{
	return (uint64_t)hv_le32(b) | (uint64_t)hv_le32(b + 4) << 32;
}

static void journal_encode(uint8_t *hdr, const struct kvp_journal *j,
			   uint32_t crc)
{
	memset(hdr, 0, HDR);
	memcpy(hdr, MAGIC, 8);
	hv_put_le32(hdr + 8, j->shifted ? FLAG_SHIFTED : 0);
	hv_put_le32(hdr + 12, j->pool);
	put_le64(hdr + 16, j->dev);
	put_le64(hdr + 24, j->ino);
	put_le64(hdr + 32, j->offset);
	put_le64(hdr + 40, j->len);
	put_le64(hdr + 48, j->old_size);
	put_le64(hdr + 56, j->new_size);
	put_le64(hdr + 64, j->old_len);
	hv_put_le32(hdr + 72, crc);
}

/* Returns NULL or why the header cannot be one of ours. */
static const char *journal_decode(const uint8_t *hdr, struct kvp_journal *j,
				  uint32_t *crc)
{
	uint32_t flags;

	if (memcmp(hdr, MAGIC, 8) != 0)
		return "bad magic";
	flags = hv_le32(hdr + 8);
	if (flags & ~FLAG_SHIFTED || hv_le32(hdr + 76) != 0)
		return "unknown flags";
	j->shifted = flags & FLAG_SHIFTED;
	j->pool = hv_le32(hdr + 12);
	j->dev = get_le64(hdr + 16);
	j->ino = get_le64(hdr + 24);
	j->offset = get_le64(hdr + 32);
	j->len = get_le64(hdr + 40);
	j->old_size = get_le64(hdr + 48);
	j->new_size = get_le64(hdr + 56);
	j->old_len = get_le64(hdr + 64);
	*crc = hv_le32(hdr + 72);
	return NULL;
}

/* Bytes of the written region that existed before the write. */
static uint64_t region_old_len(const struct kvp_journal *j)
{
	if (j->old_size <= j->offset)
		return 0;
	return HV_MIN(j->len, j->old_size - j->offset);
}

/* Returns NULL or why these numbers cannot describe one of our writes. */
static const char *journal_check_shape(const struct kvp_journal *j)
{
	uint64_t old_region;

	if (j->offset > MAX_BYTES || j->len > MAX_BYTES ||
	    j->old_size > MAX_BYTES || j->new_size > MAX_BYTES ||
	    j->old_len > MAX_BYTES)
		return "sizes out of range";
	if (j->offset % REC || j->len % REC)
		return "write not record-aligned";
	/* The new bytes lie inside the new file, which is never longer than
	 * the write or the old file made it. */
	if (j->new_size < j->offset + j->len ||
	    j->new_size > HV_MAX(j->old_size, j->offset + j->len))
		return "inconsistent sizes";
	old_region = region_old_len(j);
	if (j->old_len > REC ||
	    (j->shifted ? j->old_len > old_region : j->old_len != old_region))
		return "bad pre-image length";
	return NULL;
}

/*
 * The one-buffer form: header, new bytes and pre-image leave in a single
 * pwrite(). The header need not go last for a journal cut short to be
 * recognised: the file was empty, so a cut leaves it shorter than the
 * header's own arithmetic says (and the crc covers every byte anyway).
 */
static int journal_write_one(int jfd, const struct kvp_journal *j,
			     const void *data, const void *old)
{
	_cleanup_free_ uint8_t *heap = NULL;
	uint8_t stack[HDR + 2 * REC], *buf = stack;
	size_t total = HDR + (size_t)j->len + (size_t)j->old_len;
	uint32_t crc;

	if (total > sizeof(stack)) {
		heap = malloc(total);
		if (!heap)
			return -ENOMEM;
		buf = heap;
	}
	memcpy(buf + HDR, data, (size_t)j->len);
	if (j->old_len > 0)
		memcpy(buf + HDR + j->len, old, (size_t)j->old_len);
	journal_encode(buf, j, 0);
	crc = kvp_crc32c(0, buf, total);
	journal_encode(buf, j, crc);
	return kvp_pwrite_full(jfd, buf, total, 0);
}

int kvp_journal_write(int jfd, const struct kvp_journal *j, const void *data,
		      int src_fd, uint64_t src_off, const void *old)
{
	_cleanup_free_ uint8_t *buf = NULL;
	uint8_t hdr[HDR];
	uint32_t crc;
	uint64_t pos;
	int r;

	if (data)
		return journal_write_one(jfd, j, data, old);
	/* A compaction's new bytes may be megabytes: copied in chunks, the
	 * header last. */
	journal_encode(hdr, j, 0);
	crc = kvp_crc32c(0, hdr, HDR);
	if (j->len > 0) {
		buf = malloc(CHUNK);
		if (!buf)
			return -ENOMEM;
		for (pos = 0; pos < j->len;) {
			size_t c =
				(size_t)HV_MIN((uint64_t)CHUNK, j->len - pos);
			ssize_t n =
				kvp_pread_full(src_fd, buf, c, src_off + pos);

			if (n < 0)
				return (int)n;
			if ((size_t)n != c)
				return -ENODATA;
			r = kvp_pwrite_full(jfd, buf, c, HDR + pos);
			if (r < 0)
				return r;
			crc = kvp_crc32c(crc, buf, c);
			pos += c;
		}
	}
	if (j->old_len > 0) {
		r = kvp_pwrite_full(jfd, old, j->old_len, HDR + j->len);
		if (r < 0)
			return r;
		crc = kvp_crc32c(crc, old, j->old_len);
	}
	journal_encode(hdr, j, crc);
	return kvp_pwrite_full(jfd, hdr, HDR, 0);
}

int kvp_journal_apply(int jfd, const struct kvp_journal *j, const void *data,
		      int pool_fd, uint64_t limit)
{
	_cleanup_free_ uint8_t *buf = NULL;
	uint64_t todo = HV_MIN(j->len, limit), pos;
	int r;

	if (data) {
		r = kvp_pwrite_full(pool_fd, data, todo, j->offset);
		if (r < 0)
			return r;
	} else if (todo > 0) {
		buf = malloc(CHUNK);
		if (!buf)
			return -ENOMEM;
		/* Front to back: for a compaction each chunk moves up, so its
		 * destination never overlaps a source still to be read. */
		for (pos = 0; pos < todo;) {
			size_t c = (size_t)HV_MIN((uint64_t)CHUNK, todo - pos);
			ssize_t n = kvp_pread_full(jfd, buf, c, HDR + pos);

			if (n < 0)
				return (int)n;
			if ((size_t)n != c)
				return -ENODATA;
			r = kvp_pwrite_full(pool_fd, buf, c, j->offset + pos);
			if (r < 0)
				return r;
			pos += c;
		}
	}
	if (todo < j->len)
		return -ECANCELED;
	/*
	 * Only a shrinking write (a compaction) needs the cut; recovery has
	 * checked that the file is then at its old or its new size. A write
	 * that grows the file ends exactly at new_size, and one in place
	 * must not cut: records appended since (cloud-init) lie beyond it.
	 */
	if (j->new_size < j->old_size &&
	    ftruncate(pool_fd, (off_t)j->new_size) < 0)
		return -errno;
	return 0;
}

int kvp_journal_clear(int jfd)
{
	if (ftruncate(jfd, 0) < 0)
		return -errno;
	return 0;
}

int kvp_journal_pending(int jfd)
{
	struct stat st;

	if (fstat(jfd, &st) < 0)
		return -errno;
	return st.st_size > 0;
}

/* Read [from, to) of the region's pre-image into buf. */
static int old_image_read(int jfd, const struct kvp_journal *j, uint64_t from,
			  uint64_t to, uint8_t *buf)
{
	while (from < to) {
		uint64_t src, c;
		ssize_t n;

		if (from < j->old_len) {
			src = HDR + j->len + from;
			c = HV_MIN(to, j->old_len) - from;
		} else {
			/* Shifted: the rest of the pre-image is the new bytes
			 * from their start (checked by the caller). */
			src = HDR + (from - j->old_len);
			c = to - from;
		}
		n = kvp_pread_full(jfd, buf, (size_t)c, src);
		if (n < 0)
			return (int)n;
		if ((uint64_t)n != c)
			return -ENODATA;
		buf += c;
		from += c;
	}
	return 0;
}

static size_t first_mismatch(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i;

	if (memcmp(a, b, n) == 0)
		return n;
	for (i = 0; a[i] == b[i]; i++)
		;
	return i;
}

/*
 * Is the pool's region "a prefix of the new bytes, then the pre-image"?
 * 0 yes, 1 no (*reason set), -errno on I/O errors.
 */
static int journal_check_content(int jfd, const struct kvp_journal *j,
				 int pool_fd, uint64_t cur_size,
				 const char **reason)
{
	_cleanup_free_ uint8_t *bufs = malloc(3 * (size_t)CHUNK);
	uint64_t end = HV_MIN(j->len, cur_size - j->offset);
	uint64_t old_region = region_old_len(j), pos;
	bool in_new = true;
	int r;

	if (!bufs)
		return -ENOMEM;
	for (pos = 0; pos < end;) {
		size_t c = (size_t)HV_MIN((uint64_t)CHUNK, end - pos), i = 0;
		uint8_t *f = bufs, *nb = bufs + CHUNK, *ob = bufs + 2 * CHUNK;
		ssize_t n;

		n = kvp_pread_full(pool_fd, f, c, j->offset + pos);
		if (n < 0)
			return (int)n;
		if ((size_t)n != c) {
			*reason = "pool file shrank";
			return 1;
		}
		if (in_new) {
			n = kvp_pread_full(jfd, nb, c, HDR + pos);
			if (n < 0)
				return (int)n;
			if ((size_t)n != c)
				return -ENODATA;
			i = first_mismatch(f, nb, c);
			if (i < c)
				in_new = false;
		}
		if (!in_new) {
			if (pos + c > old_region) {
				*reason = "pool region matches neither image";
				return 1;
			}
			r = old_image_read(jfd, j, pos + i, pos + c, ob);
			if (r < 0)
				return r;
			if (memcmp(f + i, ob, c - i) != 0) {
				*reason = "pool region matches neither image";
				return 1;
			}
		}
		pos += c;
	}
	return 0;
}

/* 0: journal j is valid and fits the pool; 1: not (*reason); -errno. */
static int journal_check(int jfd, uint64_t jsize, int pool_fd, uint32_t pool,
			 struct kvp_journal *j, const char **reason)
{
	_cleanup_free_ uint8_t *buf = NULL;
	uint8_t hdr[HDR];
	uint32_t want, crc;
	struct stat st;
	uint64_t pos, cur;
	ssize_t n;
	int r;

	if (jsize < HDR) {
		*reason = "truncated header";
		return 1;
	}
	n = kvp_pread_full(jfd, hdr, HDR, 0);
	if (n < 0)
		return (int)n;
	if (n != HDR) {
		*reason = "truncated header";
		return 1;
	}
	*reason = journal_decode(hdr, j, &want);
	if (!*reason && j->pool != pool)
		*reason = "journal of another pool";
	if (!*reason)
		*reason = journal_check_shape(j);
	if (!*reason && jsize != HDR + j->len + j->old_len)
		*reason = "journal length mismatch";
	if (*reason)
		return 1;

	hv_put_le32(hdr + 72, 0);
	crc = kvp_crc32c(0, hdr, HDR);
	buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	for (pos = HDR; pos < jsize;) {
		size_t c = (size_t)HV_MIN((uint64_t)CHUNK, jsize - pos);

		n = kvp_pread_full(jfd, buf, c, pos);
		if (n < 0)
			return (int)n;
		if ((size_t)n != c) {
			*reason = "journal shrank";
			return 1;
		}
		crc = kvp_crc32c(crc, buf, c);
		pos += c;
	}
	if (crc != want) {
		*reason = "checksum mismatch";
		return 1;
	}

	if (fstat(pool_fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_dev != j->dev || (uint64_t)st.st_ino != j->ino) {
		*reason = "pool file replaced";
		return 1;
	}
	cur = (uint64_t)st.st_size;
	if (j->old_size == j->new_size && j->offset + j->len <= j->old_size) {
		/* An overwrite in place: records appended or removed since
		 * do not matter as long as the region is still there and
		 * holds one of the two images. */
		if (cur < j->offset + j->len) {
			*reason = "pool file size changed";
			return 1;
		}
	} else if (cur != j->new_size &&
		   (cur < j->old_size ||
		    cur > HV_MAX(j->old_size, j->offset + j->len))) {
		/* A size-changing write must be exact: redoing it over a
		 * file that others have since grown would cut their data. */
		*reason = "pool file size changed";
		return 1;
	}
	if (cur < j->offset) {
		*reason = "pool file size changed";
		return 1;
	}
	r = journal_check_content(jfd, j, pool_fd, cur, reason);
	if (r != 0)
		return r;
	return 0;
}

int kvp_journal_recover(int jfd, int pool_fd, uint32_t pool,
			const char **ret_reason)
{
	struct kvp_journal j = { 0 };
	const char *reason = NULL;
	struct stat st;
	int r;

	if (fstat(jfd, &st) < 0)
		return -errno;
	if (st.st_size == 0)
		return KVP_JOURNAL_EMPTY;
	r = journal_check(jfd, (uint64_t)st.st_size, pool_fd, pool, &j,
			  &reason);
	if (r < 0)
		return r;
	if (r > 0) {
		r = kvp_journal_clear(jfd);
		if (r < 0)
			return r;
		*ret_reason = reason;
		return KVP_JOURNAL_DISCARDED;
	}
	r = kvp_journal_apply(jfd, &j, NULL, pool_fd, UINT64_MAX);
	if (r < 0)
		return r;
	r = kvp_journal_clear(jfd);
	if (r < 0)
		return r;
	return KVP_JOURNAL_REDONE;
}
