/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Redo journal for one pool file (<run>/hvis/kvp-pool-<N>.journal).
 *
 * A mutation of a pool is one write of new bytes at a record-aligned
 * offset followed, if the size shrinks, by one truncation. The journal
 * holds that intent (offset, new bytes, file size before and after) and
 * enough of the pre-image to tell, after a crash, whether the file is
 * "some prefix of the new bytes, then the old bytes" - the only states an
 * interrupted pwrite can leave. Such a file is finished (redo); anything
 * else means someone changed the file since, and the journal is dropped.
 *
 * Layout, little-endian, KVP_JOURNAL_HDR_SIZE bytes of header:
 *   0 magic "HVKVPJ01"   8 u32 flags (bit 0: shifted)   12 u32 pool
 *  16 u64 st_dev   24 u64 st_ino   32 u64 offset   40 u64 len
 *  48 u64 old_size 56 u64 new_size 64 u64 old_len  72 u32 crc32c 76 u32 0
 * then len new bytes, then old_len pre-image bytes. The crc covers the
 * header (crc field zero) and the payload. The pre-image of the region
 * [offset, offset + min(len, old_size - offset)) is the old_len stored
 * bytes, followed (when shifted: a compaction, whose old image is the
 * deleted record then the moved records) by the new bytes from the start.
 */
#ifndef HVIS_KVP_JOURNAL_H
#define HVIS_KVP_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KVP_JOURNAL_HDR_SIZE 80u

struct kvp_journal {
	uint32_t pool;
	uint64_t dev; /* of the pool file, so a replaced file is noticed */
	uint64_t ino;
	uint64_t offset;
	uint64_t len;
	uint64_t old_size;
	uint64_t new_size;
	uint64_t old_len;
	bool shifted;
};

enum kvp_journal_result {
	KVP_JOURNAL_EMPTY,
	KVP_JOURNAL_REDONE,
	KVP_JOURNAL_DISCARDED,
};

uint32_t kvp_crc32c(uint32_t crc, const void *buf, size_t len);

/* pread/pwrite the whole range (retrying EINTR and short transfers).
 * pread returns the bytes read, short only at end of file. */
ssize_t kvp_pread_full(int fd, void *buf, size_t len, uint64_t off);
int kvp_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/*
 * Write a journal to the empty file jfd. The new bytes come from data, or
 * (data NULL) are copied from src_fd at src_off; old holds old_len bytes.
 * With data, everything goes out in one pwrite() (header first); without,
 * in chunks with the header last. Either way a journal cut short is never
 * valid: its size falls short of what its header says, and the crc covers
 * every byte.
 */
int kvp_journal_write(int jfd, const struct kvp_journal *j, const void *data,
		      int src_fd, uint64_t src_off, const void *old);

/*
 * Carry out j on pool_fd: write the new bytes (from data, or from the
 * journal when data is NULL), then, if the write shrinks the file
 * (new_size < old_size), truncate to new_size; nothing else is cut, so
 * records appended after an in-place write survive its redo. limit < len
 * stops after limit bytes and returns -ECANCELED (tests simulate a kill
 * so).
 */
int kvp_journal_apply(int jfd, const struct kvp_journal *j, const void *data,
		      int pool_fd, uint64_t limit);

/* Invalidate (empty) the journal. */
int kvp_journal_clear(int jfd);

/* 1 if jfd holds a journal, 0 if empty, -errno. */
int kvp_journal_pending(int jfd);

/*
 * Check a pending journal against pool_fd (pool must match) and redo it,
 * or discard it; either way the journal ends empty. Returns a
 * kvp_journal_result; *ret_reason says why a journal was discarded.
 */
int kvp_journal_recover(int jfd, int pool_fd, uint32_t pool,
			const char **ret_reason);

#endif
