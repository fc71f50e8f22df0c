/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The KVP pool store: the five files <state>/.kvp_pool_<0..4> (protocol.md
 * §3.3), shared with cloud-init, WALinuxAgent, LISA's kvp_client and the
 * hv-kvp CLI (peers.md §(c)). Pure file logic, used by hv_kvp_daemon and
 * hv-kvp. Not thread-safe: one store per thread.
 *
 * Format (byte-compatible with every other reader): a headerless array of
 * 2560-byte records, key[512] then value[2048], each a NUL-terminated UTF-8
 * string. We write whole zero-padded records. Records written by others may
 * carry garbage after the NUL, no NUL at all (the field then ends at its
 * last byte) or invalid UTF-8 (kept as bytes; callers convert). A trailing
 * partial record is not a record; our next append overwrites it.
 *
 * A mutation takes flock(LOCK_EX) (what cloud-init uses) and then an
 * exclusive OFD record lock (conflicts with the classic fcntl locks of
 * kvp_client and the reference daemon). A read (get, enumerate, count)
 * takes only a shared OFD lock: the programs that use flock alone
 * (cloud-init) only append whole records at the end of the file and never
 * change one that is already there, so they cannot change what a reader
 * looks up; those that do rewrite records (kvp_client, the reference
 * daemon, our own writers) hold fcntl or OFD locks that the read lock
 * excludes. A read that overlaps an append sees the file without the
 * partial record, and the next one sees the record. Each wait is bounded
 * by the lock timeout (-ETIMEDOUT). Files are updated in place, never
 * replaced.
 *
 * Each pool keeps an in-memory key index, re-read only when the file
 * changed (inotify, with an fstat fallback), so an operation on an
 * unchanged pool costs the same at 10 and at 10,000 records. While the
 * watches work, an unchanged pool is not even stat'ed: every change of a
 * file's data, size, name or inode is an event.
 *
 * Mutations are made kill-safe by a redo journal in
 * <run>/hvis/kvp-pool-<N>.journal, written (in one pwrite) before a record
 * write that crosses a page boundary and before every compaction; a write
 * inside one page is all or nothing under SIGKILL and goes without (see
 * write_needs_journal() in kvp-pool.c for the argument and its one narrow
 * window; KVP_POOL_OPEN_JOURNAL_ALL journals everything). The journal is
 * watched too: a journal that a killed writer left behind is noticed by
 * its event and redone by the next operation, read or write; without the
 * watch it is checked with fstat every time. The journal covers process
 * death only, never power loss (/run does not survive it).
 *
 * Pool 2 (AUTO) is synthesised by the daemon from live system state
 * (protocol.md §3.4). The store creates and reads its file like any other
 * (it is normally empty, and LISA expects all five files), but refuses to
 * write it (-EPERM); the daemon must answer host requests on pool 2 itself.
 *
 * Stable enumeration: the host enumerates with index 0, 1, 2, ... one
 * request at a time, and the file may change between requests. The store
 * remembers, per pool, the last index and key it returned. Index 0 starts
 * afresh, and any index other than the last one or the one after it is
 * served by position (slot = index). For the last index + 1 (or the same
 * index again, a retry): if the pool has not changed, the next slot;
 * otherwise the store finds the last returned key at or before its old slot
 * (only a deletion earlier in the file moves a record up) and continues
 * right after it. If that key is gone, it continues at the key's old slot,
 * where its successor now sits. If the key is only found further down (it
 * was deleted and re-appended, as kvp_client does on update), the old
 * position is kept rather than skipping the records in between. Appends
 * never disturb the cursor: they show up at the end.
 */
#ifndef HVIS_KVP_POOL_H
#define HVIS_KVP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvis/util.h"
#include "hvis/wire.h"

#define KVP_POOL_KEY_SIZE HV_KVP_EXCHANGE_MAX_KEY_SIZE /* 512, incl. NUL */
#define KVP_POOL_VALUE_SIZE HV_KVP_EXCHANGE_MAX_VALUE_SIZE /* 2048 */
#define KVP_POOL_RECORD_SIZE (KVP_POOL_KEY_SIZE + KVP_POOL_VALUE_SIZE)
#define KVP_POOL_NUM KVP_POOL_COUNT /* 5 */
#define KVP_POOL_LOCK_TIMEOUT_MS 5000u

_Static_assert(KVP_POOL_RECORD_SIZE == sizeof(struct hv_kvp_record),
	       "pool record");

/* One record as found in the file. Fields are always NUL-terminated: the
 * extra byte holds a foreign field that had no NUL of its own. */
struct kvp_pool_record {
	char key[KVP_POOL_KEY_SIZE + 1];
	char value[KVP_POOL_VALUE_SIZE + 1];
	size_t key_len;
	size_t value_len;
};

enum {
	/* Open existing files read-only; create nothing, no journal. */
	KVP_POOL_OPEN_READ_ONLY = 1u << 0,
	/* Detect changes by fstat only (tests of the fallback). */
	KVP_POOL_OPEN_NO_INOTIFY = 1u << 1,
	/* Journal every write, even one inside a page (3 more syscalls). */
	KVP_POOL_OPEN_JOURNAL_ALL = 1u << 2,
};

struct kvp_pool_options {
	const char *state_dir; /* e.g. /var/lib/hyperv; created 0755 */
	const char *run_dir; /* e.g. /run; journals go in <run>/hvis */
	unsigned int lock_timeout_ms; /* 0: KVP_POOL_LOCK_TIMEOUT_MS */
	unsigned int flags; /* KVP_POOL_OPEN_* */
};

struct kvp_pool_stats {
	uint64_t reloads; /* full reads of the file */
	uint64_t reopens; /* file replaced or removed under its name */
	uint64_t journal_redone;
	uint64_t journal_discarded;
	const char *journal_reason; /* why the last one was discarded */
	/* Bytes after the last whole record at the last load: what a writer
	 * that died mid-append (or a full disk) left, not a record. */
	uint64_t partial_bytes;
};

struct kvp_pool_store;

/*
 * Open (creating if missing: the state dir 0755, the five files 0644, the
 * journal dir) the pools. Existing files are never truncated. A file we may
 * not write (EACCES, EROFS) is opened read-only, and then set/delete on it
 * fail with that error. Pending journals are recovered when the pool lock is
 * free now, else by the first operation. Does not block on locks.
 */
int kvp_pool_open(const struct kvp_pool_options *opts,
		  struct kvp_pool_store **ret);
/* Close everything; accepts NULL; returns NULL. */
struct kvp_pool_store *kvp_pool_close(struct kvp_pool_store *s);
static inline void kvp_pool_closep(struct kvp_pool_store **s)
{
	*s = kvp_pool_close(*s);
}
#define _cleanup_kvp_pool_ _cleanup_(kvp_pool_closep)

void kvp_pool_set_lock_timeout(struct kvp_pool_store *s, unsigned int ms);

/*
 * Copy the value of key (exact match, first record with it) into
 * value[size], NUL-terminated. Returns the value length, -ENOENT,
 * -ENOBUFS if size is too small (KVP_POOL_VALUE_SIZE + 1 always fits),
 * -EINVAL (empty key, bad pool), -E2BIG (key over 511 bytes), -ETIMEDOUT.
 */
int kvp_pool_get(struct kvp_pool_store *s, unsigned int pool, const char *key,
		 char *value, size_t size);
/*
 * Overwrite the record of key in place, or append one. Key 1..511 bytes,
 * value 0..2047 bytes (else -EINVAL/-E2BIG). -EPERM for pool 2.
 */
int kvp_pool_set(struct kvp_pool_store *s, unsigned int pool, const char *key,
		 const char *value);
/* Remove key's record, moving later records up (order kept). -ENOENT. */
int kvp_pool_delete(struct kvp_pool_store *s, unsigned int pool,
		    const char *key);
/* The record at index (see "Stable enumeration" above); -ENOENT past end. */
int kvp_pool_enumerate(struct kvp_pool_store *s, unsigned int pool,
		       uint32_t index, struct kvp_pool_record *ret);
/* Number of records (>= 0). */
int kvp_pool_count(struct kvp_pool_store *s, unsigned int pool);

/*
 * The store's inotify fd (readable when a pool changed), or -EOPNOTSUPP.
 * A daemon may poll it and call kvp_pool_process_events() so the queue
 * never overflows; operations drain it themselves anyway.
 */
int kvp_pool_inotify_fd(const struct kvp_pool_store *s);
void kvp_pool_process_events(struct kvp_pool_store *s);

int kvp_pool_get_stats(const struct kvp_pool_store *s, unsigned int pool,
		       struct kvp_pool_stats *ret);

/* "external", "guest", "auto", "auto_external", "auto_internal"; NULL
 * when out of range. */
const char *kvp_pool_name(unsigned int pool);
/* A pool name (case-insensitive, '-' for '_') or number 0..4; -EINVAL. */
int kvp_pool_from_string(const char *s);

#endif
