/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pool store (see kvp-pool.h for the contract). One operation is:
 *
 *   lock: a writer takes flock, then an exclusive OFD lock; a reader only
 *         a shared OFD lock (bounded wait either way)
 *   drain inotify; reopen if the file was replaced under its name
 *   finish a journal left by a killed writer, if an event says there may
 *         be one
 *   reload the key index if an event says the file changed
 *   do the work (pread a value, or pwrite one record, journaled first
 *         when the write crosses a page boundary)
 *   after a write: drain inotify again, discarding our own events
 *   unlock
 *
 * With inotify working, an unchanged pool costs a reader four syscalls
 * (lock, an empty inotify read, pread, unlock) and a writer seven to ten.
 * Without it (no instance, a watch lost) every operation falls back to
 * fstat() of the pool and the journal and stat() of the path.
 *
 * The index is trusted only while nobody else wrote the file. Every writer
 * we know of holds a lock while it writes (cloud-init: flock; kvp_client
 * and the reference daemon: classic fcntl locks; hv-kvp: both), and
 * inotify events are queued by the writer's own write() call, before it
 * can unlock. So once a writer of ours holds both locks every foreign
 * change is already in its inotify queue, and whatever arrives for this
 * pool (or its journal) while it still holds them is its own.
 *
 * A reader takes no flock. The only programs that write under flock alone
 * are cloud-init's, and they only append whole records at the end: they
 * never touch a record below the end of file, so they cannot change a
 * record the index knows. The OFD read lock keeps out everyone who does
 * rewrite records (kvp_client and the reference daemon, with classic
 * fcntl locks that conflict with it; our own writers, which hold an
 * exclusive OFD lock). A reload that overlaps an append sees at most a
 * trailing partial record, which is not a record, and the append's own
 * inotify event makes the next operation reload again. A program that
 * rewrote records under flock alone would already race kvp_client and the
 * reference daemon, which never take flock.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hvis/util.h"
#include "kvp-index.h"
#include "kvp-journal.h"
#include "kvp-pool-internal.h"
#include "kvp-pool.h"

#define REC KVP_POOL_RECORD_SIZE
#define RELOAD_CHUNK 32u /* records per read when loading the index */
/* 40 GiB of records; beyond this the file is not a pool. */
#define MAX_RECORDS (16u * 1024 * 1024)

#define FILE_EVENTS \
	(IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVE_SELF | IN_DELETE_SELF)
#define DIR_EVENTS (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)
/*
 * Every change of a journal's content (write, truncate) is an IN_MODIFY;
 * a close changes nothing, so IN_CLOSE_WRITE would only cost us a look
 * after every foreign hv-kvp run. The rest say the file went away.
 */
#define JOURNAL_EVENTS (IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)
/*
 * The largest inotify event: the header and a name of NAME_MAX bytes plus
 * its NUL, which the kernel pads to a multiple of the header size (and
 * 256 already is one). A read that leaves at least this much of the
 * buffer unused has emptied the queue.
 */
#define MAX_EVENT (sizeof(struct inotify_event) + NAME_MAX + 1)
/* The source buffer of unjournaled writes (see pool_write_direct()). */
#define WBUF_SIZE 4096u

_Static_assert(REC <= WBUF_SIZE, "a record fits the write buffer");

struct pool_file {
	unsigned int id;
	char path[PATH_MAX];
	int fd;
	int jfd; /* journal; -1 when we never write this pool */
	int wd; /* inotify watch; -1: fstat fallback for this pool */
	int jwd; /* watch on the journal; -1: fstat it every time */
	int ro_err; /* why we may not write, or 0 */
	bool dirty; /* index may not match the file */
	bool check_path; /* the name may point to another file now */
	bool jcheck; /* the journal may not be empty: look at it */
	bool flocked; /* we hold flock now (writers only) */
	struct kvp_index ix;
	struct stat st; /* the file as of our last reload or write */
	uint64_t gen; /* bumped on every change we know of */

	/* Enumeration cursor: what we last returned to the host. */
	bool cur_valid;
	uint32_t cur_index;
	size_t cur_slot;
	uint64_t cur_gen;
	size_t cur_key_len;
	char cur_key[KVP_POOL_KEY_SIZE + 1];

	struct kvp_pool_stats stats;
	struct kvp_pool_test_counts counts;
};

struct kvp_pool_store {
	int ifd;
	int dir_wd;
	unsigned int flags;
	unsigned int timeout_ms;
	uint64_t tear; /* test hook: bytes the next pool write may write */
	/* WBUF_SIZE bytes, WBUF_SIZE-aligned, so inside one page; NULL (or
	 * page 0) means every write is journaled */
	uint8_t *wbuf;
	size_t page; /* sysconf(_SC_PAGESIZE) */
	struct pool_file pools[KVP_POOL_NUM];
};

static const char *const pool_names[KVP_POOL_NUM] = {
	[KVP_POOL_EXTERNAL] = "external",
	[KVP_POOL_GUEST] = "guest",
	[KVP_POOL_AUTO] = "auto",
	[KVP_POOL_AUTO_EXTERNAL] = "auto_external",
	[KVP_POOL_AUTO_INTERNAL] = "auto_internal",
};

const char *kvp_pool_name(unsigned int pool)
{
	return pool < KVP_POOL_NUM ? pool_names[pool] : NULL;
}

int kvp_pool_from_string(const char *s)
{
	char buf[32];
	unsigned int i;
	uint32_t n;

	if (!s)
		return -EINVAL;
	if (hv_parse_u32(s, &n) == 0)
		return n < KVP_POOL_NUM ? (int)n : -EINVAL;
	if (hv_strscpy(buf, s, sizeof(buf)) < 0)
		return -EINVAL;
	for (i = 0; buf[i]; i++)
		if (buf[i] == '-')
			buf[i] = '_';
	for (i = 0; i < KVP_POOL_NUM; i++)
		if (strcasecmp(buf, pool_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool pool_watched(const struct kvp_pool_store *s,
			 const struct pool_file *p)
{
	return s->ifd >= 0 && s->dir_wd >= 0 && p->wd >= 0;
}

static bool journal_watched(const struct kvp_pool_store *s,
			    const struct pool_file *p)
{
	return s->ifd >= 0 && p->jwd >= 0;
}

static void pool_mark(struct pool_file *p, bool path)
{
	p->dirty = true;
	if (path)
		p->check_path = true;
}

/* Events were lost: assume everything changed, journals included. */
static void store_mark_all(struct kvp_pool_store *s)
{
	unsigned int i;

	for (i = 0; i < KVP_POOL_NUM; i++) {
		pool_mark(&s->pools[i], true);
		s->pools[i].jcheck = true;
	}
}

/* ".kvp_pool_<N>" from a NUL-padded inotify name; -1 if not a pool. */
static int pool_from_filename(const char *name, size_t len)
{
	static const char prefix[] = ".kvp_pool_";
	size_t n = strnlen(name, len);

	if (n != sizeof(prefix) || memcmp(name, prefix, sizeof(prefix) - 1))
		return -1;
	if (name[n - 1] < '0' || name[n - 1] >= '0' + KVP_POOL_NUM)
		return -1;
	return name[n - 1] - '0';
}

static void store_event(struct kvp_pool_store *s,
			const struct inotify_event *ev, const char *name,
			int own)
{
	unsigned int i;
	int id;

	if (ev->mask & IN_Q_OVERFLOW) {
		store_mark_all(s);
		return;
	}
	if (ev->wd == s->dir_wd) {
		if (ev->mask & IN_IGNORED) {
			/* The directory went away: names can no longer be
			 * watched, every pool falls back to fstat. */
			s->dir_wd = -1;
			store_mark_all(s);
			return;
		}
		id = pool_from_filename(name, ev->len);
		if (id >= 0)
			pool_mark(&s->pools[id], true);
		return;
	}
	for (i = 0; i < KVP_POOL_NUM; i++) {
		struct pool_file *p = &s->pools[i];

		if (p->jwd >= 0 && p->jwd == ev->wd) {
			/* A foreign writer journals under the pool's locks, so
			 * only its own pool's journal can be written while we
			 * hold them; anything else may be a killed writer's
			 * journal. */
			if (ev->mask & IN_IGNORED)
				p->jwd = -1;
			if ((int)i != own || ev->mask != IN_MODIFY)
				p->jcheck = true;
			return;
		}
		if (p->wd < 0 || p->wd != ev->wd)
			continue;
		if (ev->mask & IN_IGNORED) {
			p->wd = -1;
			pool_mark(p, true);
		} else if (ev->mask &
			   (IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB)) {
			/* Renames and unlinks need no lock on the file, so
			 * they are never ours to ignore. */
			pool_mark(p, true);
		} else if ((int)i != own) {
			pool_mark(p, false);
		}
		return;
	}
}

/*
 * Read every queued inotify event without blocking. Events mark their pool
 * dirty, except data events on pool own (-1: none), which are ours: we
 * hold its locks, so nobody else can have written it. The kernel hands out
 * events until the next one does not fit, so a read that leaves room for
 * the largest event emptied the queue: no second read to see EAGAIN.
 */
static void store_drain(struct kvp_pool_store *s, int own)
{
	union {
		struct inotify_event ev;
		char buf[4096];
	} u;

	if (s->ifd < 0)
		return;
	for (;;) {
		ssize_t n = read(s->ifd, u.buf, sizeof(u.buf));
		size_t off = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				store_mark_all(s);
			return;
		}
		if (n == 0)
			return;
		while (off + sizeof(struct inotify_event) <= (size_t)n) {
			struct inotify_event ev;
			size_t next;

			memcpy(&ev, u.buf + off, sizeof(ev));
			next = off + sizeof(ev) + ev.len;
			if (next > (size_t)n) {
				store_mark_all(s);
				break;
			}
			store_event(s, &ev, u.buf + off + sizeof(ev), own);
			off = next;
		}
		if ((size_t)n <= sizeof(u.buf) - MAX_EVENT)
			return;
	}
}

static int make_dir(const char *path, mode_t mode)
{
	struct stat st;
	int r;

	r = mkdir(path, mode) < 0 ? -errno : 0;
	/* A fresh root (a test tree, an image build) may lack parents. */
	if (r == -ENOENT)
		r = hv_mkdir_parents(path, 0755);
	if (r == 0) {
		/* Our mode, not the caller's umask: other readers need it. */
		if (chmod(path, mode) < 0)
			return -errno;
		return 0;
	}
	if (r != -EEXIST)
		return r;
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/*
 * (Re)open p->path, creating it 0644 unless read-only, and watch it. The
 * old descriptor is replaced only on success.
 */
static int pool_open_file(struct kvp_pool_store *s, struct pool_file *p)
{
	_cleanup_close_ int fd = -1;
	struct stat st, pst;
	int ro_err = 0;

	if (s->flags & KVP_POOL_OPEN_READ_ONLY) {
		fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		ro_err = EROFS;
	} else {
		fd = open(p->path,
			  O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NONBLOCK,
			  0644);
		/* LISA and other readers expect 0644 whatever our umask. */
		if (fd >= 0 && fchmod(fd, 0644) < 0)
			return -errno;
		if (fd < 0 && errno == EEXIST)
			fd = open(p->path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0 &&
		    (errno == EACCES || errno == EROFS || errno == EPERM)) {
			ro_err = errno;
			fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		}
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;

	if (p->fd >= 0)
		close(p->fd);
	p->fd = TAKE_FD(fd);
	p->ro_err = ro_err;
	p->st = st;
	p->dirty = true;
	p->check_path = false;
	if (s->ifd >= 0) {
		if (p->wd >= 0)
			inotify_rm_watch(s->ifd, p->wd);
		p->wd = inotify_add_watch(s->ifd, p->path, FILE_EVENTS);
		/* The watch follows the name; if the name moved on between
		 * open() and here, look again at the next operation. */
		if (p->wd >= 0 &&
		    (stat(p->path, &pst) < 0 || pst.st_ino != st.st_ino ||
		     pst.st_dev != st.st_dev))
			p->check_path = true;
	}
	return 0;
}

static void pool_unlock(struct pool_file *p)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	/* Reverse order of taking. */
	fcntl(p->fd, F_OFD_SETLK, &fl);
	if (p->flocked)
		flock(p->fd, LOCK_UN);
	p->flocked = false;
}

/*
 * A writer: flock() first (cloud-init's lock), then a whole-file OFD lock
 * (conflicts with classic fcntl locks, and is not dropped when some other
 * descriptor of the file is closed, unlike the classic lock the reference
 * daemon loses that way). A reader: the shared OFD lock alone (see the top
 * of this file for why flock is not needed to read). Neither call has a
 * timed form and a signal-based timeout does not belong in a library, so
 * poll with a growing pause (capped at 1 ms: a blocked waiter is woken by
 * the unlock, a poller only sees the gap if it looks often) until the
 * deadline: -ETIMEDOUT, holding nothing.
 */
static int pool_lock(struct pool_file *p, bool excl, uint64_t deadline)
{
	struct flock fl = {
		.l_type = excl ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
	};
	uint64_t pause = 50000, now;
	bool have_flock = !excl;
	int r;

	for (;;) {
		if (!have_flock) {
			if (flock(p->fd, LOCK_EX | LOCK_NB) == 0)
				have_flock = true;
			else if (errno != EWOULDBLOCK && errno != EINTR)
				return -errno;
		}
		if (have_flock) {
			if (fcntl(p->fd, F_OFD_SETLK, &fl) == 0) {
				p->flocked = excl;
				return 0;
			}
			if (errno != EAGAIN && errno != EACCES &&
			    errno != EINTR) {
				r = -errno;
				if (excl)
					flock(p->fd, LOCK_UN);
				return r;
			}
		}
		now = now_ns();
		if (now >= deadline) {
			if (excl && have_flock)
				flock(p->fd, LOCK_UN);
			return -ETIMEDOUT;
		}
		{
			uint64_t d = HV_MIN(pause, deadline - now);
			struct timespec ts = {
				.tv_sec = (time_t)(d / 1000000000u),
				.tv_nsec = (long)(d % 1000000000u),
			};

			nanosleep(&ts, NULL);
		}
		pause = HV_MIN(pause * 2, (uint64_t)1000000);
	}
}

/*
 * The file at p->path is no longer the one we hold (replaced by rename,
 * or removed): reopen it. Without watches we cannot know, so we look every
 * time. Returns 0 (same file, still locked), 1 (reopened) or -errno, both
 * unlocked.
 */
static int pool_check_path(struct kvp_pool_store *s, struct pool_file *p)
{
	struct stat a, b;
	int r;

	if (pool_watched(s, p) && !p->check_path)
		return 0;
	p->counts.pool_stats++;
	if (fstat(p->fd, &a) < 0)
		r = -errno;
	else if (stat(p->path, &b) == 0)
		r = a.st_dev == b.st_dev && a.st_ino == b.st_ino ? 0 : 1;
	else
		r = errno == ENOENT ? 1 : -errno;
	if (r == 0) {
		p->check_path = false;
		return 0;
	}
	pool_unlock(p);
	if (r < 0)
		return r;
	r = pool_open_file(s, p);
	if (r < 0)
		return r;
	p->stats.reopens++;
	return 1;
}

/* Re-read every key of the file into a fresh index. */
static int pool_reload(struct pool_file *p, const struct stat *st)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct kvp_index ix;
	uint64_t n = (uint64_t)st->st_size / REC, i;
	int r = 0;

	if (n > MAX_RECORDS)
		return -EFBIG;
	buf = malloc(RELOAD_CHUNK * REC);
	if (!buf)
		return -ENOMEM;
	kvp_index_init(&ix, p->ix.seed);
	for (i = 0; i < n && r >= 0;) {
		size_t want = (size_t)HV_MIN((uint64_t)RELOAD_CHUNK, n - i), k;
		ssize_t got = kvp_pread_full(p->fd, buf, want * REC, i * REC);

		if (got < 0) {
			r = (int)got;
			break;
		}
		for (k = 0; k < (size_t)got / REC && r >= 0; k++) {
			const char *key = (const char *)buf + k * REC;

			r = kvp_index_append(&ix, key,
					     strnlen(key, KVP_POOL_KEY_SIZE));
		}
		i += (size_t)got / REC;
		if ((size_t)got < want * REC)
			break; /* shrank under a writer that takes no lock */
	}
	if (r < 0) {
		kvp_index_free(&ix);
		return r;
	}
	kvp_index_free(&p->ix);
	p->ix = ix;
	p->st = *st;
	p->gen++;
	p->stats.reloads++;
	p->stats.partial_bytes = (uint64_t)st->st_size % REC;
	p->dirty = i != n;
	return 0;
}

static int pool_recover(struct kvp_pool_store *s, struct pool_file *p)
{
	const char *reason = NULL;
	int r;

	r = kvp_journal_recover(p->jfd, p->fd, p->id, &reason);
	if (r < 0)
		return r;
	p->jcheck = false;
	if (r == KVP_JOURNAL_REDONE) {
		p->stats.journal_redone++;
		store_drain(s, (int)p->id);
	} else if (r == KVP_JOURNAL_DISCARDED) {
		p->stats.journal_discarded++;
		p->stats.journal_reason = reason;
	}
	p->dirty = true;
	return 0;
}

/*
 * Does the file still match our index? With inotify the events said so
 * already (p->dirty), and this runs only on the way to a reload. Without
 * inotify (no instance left, no watch, no directory) this comparison of
 * size, inode and timestamps is all we have, and it is weaker: mtime and
 * ctime move in timer ticks (several ms, a second on some file systems),
 * so a rewrite of the same size within one tick of our last look - exactly
 * what kvp_client does when it updates a key (delete + append) - leaves
 * size, mtime and ctime unchanged and goes unnoticed. That is why it is
 * only the fallback.
 */
static void pool_check_stat(struct kvp_pool_store *s, struct pool_file *p,
			    const struct stat *st)
{
	const struct stat *o = &p->st;

	if (st->st_size != o->st_size || st->st_ino != o->st_ino ||
	    st->st_dev != o->st_dev)
		p->dirty = true;
	else if (!pool_watched(s, p) &&
		 (st->st_mtim.tv_sec != o->st_mtim.tv_sec ||
		  st->st_mtim.tv_nsec != o->st_mtim.tv_nsec ||
		  st->st_ctim.tv_sec != o->st_ctim.tv_sec ||
		  st->st_ctim.tv_nsec != o->st_ctim.tv_nsec))
		p->dirty = true;
}

/*
 * Is a killed writer's journal waiting? With a watch on the journal only
 * when an event (or a lost queue) said it changed since we last saw it
 * empty: every writer writes the journal before the pool, under the
 * pool's locks, so its event is queued before we can hold them. Without a
 * watch, look every time. 1: pending, 0: empty, -errno.
 */
static int pool_journal_pending(struct kvp_pool_store *s, struct pool_file *p)
{
	int r;

	if (p->jfd < 0 || p->ro_err)
		return 0;
	if (journal_watched(s, p) && !p->jcheck)
		return 0;
	p->counts.journal_looks++;
	r = kvp_journal_pending(p->jfd);
	if (r == 0)
		p->jcheck = false;
	return r;
}

/* Lock p and bring its index up to date with the file. */
static int pool_begin_until(struct kvp_pool_store *s, struct pool_file *p,
			    bool excl, uint64_t deadline)
{
	unsigned int reopened = 0;
	struct stat st;
	int r;

	for (;;) {
		r = pool_lock(p, excl, deadline);
		if (r < 0)
			return r;
		store_drain(s, -1);
		r = pool_check_path(s, p);
		if (r < 0)
			return r;
		if (r > 0) {
			if (++reopened > 8)
				return -ESTALE;
			continue;
		}
		r = pool_journal_pending(s, p);
		if (r > 0 && !excl) {
			/* Finishing a killed writer's work needs the exclusive
			 * locks. */
			pool_unlock(p);
			excl = true;
			continue;
		}
		if (r > 0)
			r = pool_recover(s, p);
		if (r < 0)
			goto fail;
		/* With the watch in place an unchanged file needs no look:
		 * every change of its data, size, name or inode is an
		 * event (pool_check_stat() says why fstat alone is weak). */
		if (!p->dirty && pool_watched(s, p))
			return 0;
		p->counts.pool_stats++;
		if (fstat(p->fd, &st) < 0) {
			r = -errno;
			goto fail;
		}
		pool_check_stat(s, p, &st);
		if (p->dirty) {
			r = pool_reload(p, &st);
			if (r < 0)
				goto fail;
		}
		return 0;
	}
fail:
	pool_unlock(p);
	return r;
}

static int pool_begin(struct kvp_pool_store *s, struct pool_file *p, bool excl)
{
	return pool_begin_until(s, p, excl,
				now_ns() + (uint64_t)s->timeout_ms * 1000000u);
}

static void pool_end(struct pool_file *p)
{
	pool_unlock(p);
}

/*
 * After our own write, still under the locks: our events are in the queue
 * now (inotify queues them inside the write calls), so one drain takes
 * them out as ours. The size we wrote is already in p->st; the fallback
 * re-reads the whole stat for the timestamps it compares.
 */
static void pool_end_write(struct kvp_pool_store *s, struct pool_file *p)
{
	store_drain(s, (int)p->id);
	if (!pool_watched(s, p)) {
		p->counts.pool_stats++;
		if (fstat(p->fd, &p->st) < 0)
			p->dirty = true;
	}
	pool_unlock(p);
}

/* Empty the journal; if that fails, the next operation looks at it. */
static void pool_journal_clear(struct pool_file *p)
{
	if (kvp_journal_clear(p->jfd) < 0)
		p->jcheck = true;
}

/*
 * Journal j, carry it out, drop the journal. If the write fails (a full
 * disk while appending) put the old bytes back so no torn record stays;
 * should that fail too, the journal stays and the next operation redoes.
 * Our own journal events are dropped as ours by the drain that ends the
 * operation, so whenever the journal may stay behind, say so in jcheck.
 */
static int pool_mutate(struct kvp_pool_store *s, struct pool_file *p,
		       const struct kvp_journal *j, const void *data,
		       uint64_t src_off, const void *old)
{
	uint64_t tear = s->tear;
	int r;

	p->counts.journal_writes++;
	r = kvp_journal_write(p->jfd, j, data, p->fd, src_off, old);
	if (r < 0) {
		pool_journal_clear(p);
		return r;
	}
	s->tear = UINT64_MAX;
	r = kvp_journal_apply(p->jfd, j, data, p->fd, tear);
	if (r == -ECANCELED) {
		p->dirty = true;
		p->jcheck = true;
		return r;
	}
	if (r < 0) {
		p->dirty = true;
		p->jcheck = true;
		if (j->shifted)
			return r;
		if (kvp_pwrite_full(p->fd, old, j->old_len, j->offset) < 0)
			return r;
		if (j->new_size > j->old_size &&
		    ftruncate(p->fd, (off_t)j->old_size) < 0)
			return r;
		pool_journal_clear(p);
		return r;
	}
	/* Should this fail, the journal still describes what the file now
	 * holds, and redoing it later changes nothing. */
	pool_journal_clear(p);
	return 0;
}

/*
 * Does a write of len bytes at off need the journal? The journal exists
 * for one failure: the writer killed (SIGKILL: the OOM killer, systemd's
 * stop timeout, an admin) inside pwrite(), leaving part of a record new
 * and the rest old. A buffered write copies into the page cache one page
 * (or one naturally aligned folio, which never splits a page) at a time,
 * checks for a fatal signal only between those steps, and a kill can
 * only make it stop there. Within a page, a copy stops short only where
 * our source buffer faults, i.e. at a page boundary of our own memory;
 * pool_write_direct() copies from one page-aligned page (s->wbuf), so
 * there is none inside the record (and a copy that brings in nothing
 * commits nothing). A write that stays inside one page of the file is
 * therefore all or nothing, and only one that crosses a boundary can be
 * torn: with 2560-byte records and 4 KiB pages about half of them. Errors
 * (ENOSPC, EIO) are found by write_begin before the page's copy, so they
 * too leave it untouched.
 *
 * Power loss and kernel crashes are not in question: the journal never
 * covered them (it lives in /run and is never fsync'ed, and the pool file
 * is only as durable as its writers make it; none of them fsync). What
 * this gives up is one narrow window: our source page unmapped (migrated,
 * or swapped out) during the kernel's copy, after write() faulted it in,
 * in the same instant as a SIGKILL. KVP_POOL_OPEN_JOURNAL_ALL closes even
 * that, at three more syscalls per write.
 */
static bool write_needs_journal(const struct kvp_pool_store *s, uint64_t off,
				uint64_t len)
{
	if (!s->wbuf || !s->page || (s->flags & KVP_POOL_OPEN_JOURNAL_ALL))
		return true;
	return len == 0 || off / s->page != (off + len - 1) / s->page;
}

/*
 * The unjournaled write of j (inside one page, from s->wbuf): one pwrite.
 * On failure nothing was written (see above); an append that somehow left
 * bytes behind anyway is cut back to the old end.
 */
static int pool_write_direct(struct kvp_pool_store *s, struct pool_file *p,
			     const struct kvp_journal *j)
{
	uint64_t tear = s->tear;
	int r;

	assert(j->len <= WBUF_SIZE);
	s->tear = UINT64_MAX;
	/* The test hook's kill: the only torn state a kill can leave
	 * here is the write not having happened at all. */
	if (tear < j->len)
		return -ECANCELED;
	r = kvp_pwrite_full(p->fd, s->wbuf, (size_t)j->len, j->offset);
	if (r < 0) {
		p->dirty = true;
		if (j->new_size > j->old_size)
			(void)!ftruncate(p->fd, (off_t)j->old_size);
		return r;
	}
	return 0;
}

static struct pool_file *store_pool(struct kvp_pool_store *s, unsigned int pool)
{
	if (!s || pool >= KVP_POOL_NUM)
		return NULL;
	return &s->pools[pool];
}

static int check_key(const char *key, size_t *ret_len)
{
	size_t n;

	if (!key)
		return -EINVAL;
	n = strnlen(key, KVP_POOL_KEY_SIZE);
	if (n == 0)
		return -EINVAL;
	if (n == KVP_POOL_KEY_SIZE)
		return -E2BIG;
	*ret_len = n;
	return 0;
}

static int check_writable(const struct pool_file *p)
{
	if (p->id == KVP_POOL_AUTO)
		return -EPERM;
	if (p->ro_err)
		return -p->ro_err;
	if (p->jfd < 0)
		return -EROFS;
	return 0;
}

int kvp_pool_get(struct kvp_pool_store *s, unsigned int pool, const char *key,
		 char *value, size_t size)
{
	struct pool_file *p = store_pool(s, pool);
	char buf[KVP_POOL_VALUE_SIZE];
	size_t klen, vlen;
	ssize_t slot, n;
	int r;

	if (!p || !value)
		return -EINVAL;
	r = check_key(key, &klen);
	if (r < 0)
		return r;
	r = pool_begin(s, p, false);
	if (r < 0)
		return r;
	slot = kvp_index_find(&p->ix, key, klen);
	if (slot < 0) {
		r = -ENOENT;
		goto out;
	}
	n = kvp_pread_full(p->fd, buf, sizeof(buf),
			   (uint64_t)slot * REC + KVP_POOL_KEY_SIZE);
	if (n < 0 || (size_t)n != sizeof(buf)) {
		p->dirty = true;
		r = n < 0 ? (int)n : -EIO;
		goto out;
	}
	vlen = strnlen(buf, sizeof(buf));
	if (vlen >= size) {
		r = -ENOBUFS;
		goto out;
	}
	memcpy(value, buf, vlen);
	value[vlen] = '\0';
	r = (int)vlen;
out:
	pool_end(p);
	return r;
}

int kvp_pool_set(struct kvp_pool_store *s, unsigned int pool, const char *key,
		 const char *value)
{
	struct pool_file *p = store_pool(s, pool);
	uint8_t stack_rec[REC], old[REC], *rec;
	struct kvp_journal j = { 0 };
	size_t klen, vlen;
	ssize_t slot, n;
	int r;

	if (!p || !value)
		return -EINVAL;
	r = check_key(key, &klen);
	if (r < 0)
		return r;
	vlen = strnlen(value, KVP_POOL_VALUE_SIZE);
	if (vlen == KVP_POOL_VALUE_SIZE)
		return -E2BIG;
	r = check_writable(p);
	if (r < 0)
		return r;
	/* Built where an unjournaled write needs its source (one page). */
	rec = s->wbuf ? s->wbuf : stack_rec;
	memset(rec, 0, REC);
	memcpy(rec, key, klen);
	memcpy(rec + KVP_POOL_KEY_SIZE, value, vlen);

	r = pool_begin(s, p, true);
	if (r < 0)
		return r;
	j.pool = p->id;
	j.dev = (uint64_t)p->st.st_dev;
	j.ino = (uint64_t)p->st.st_ino;
	j.old_size = (uint64_t)p->st.st_size;
	j.len = REC;
	slot = kvp_index_find(&p->ix, key, klen);
	if (slot >= 0) {
		j.offset = (uint64_t)slot * REC;
		j.new_size = j.old_size;
	} else {
		/* Record-aligned: a torn record at the end is overwritten. */
		j.offset = (uint64_t)p->ix.n * REC;
		j.new_size = j.offset + REC;
	}
	j.old_len = j.old_size > j.offset ? HV_MIN(j.old_size - j.offset, REC) :
					    0;
	if (slot < 0 && j.old_len == REC) {
		/* The index is short of the file; never overwrite a record
		 * we have not indexed. */
		p->dirty = true;
		r = -EIO;
		goto out;
	}
	if (!write_needs_journal(s, j.offset, j.len)) {
		r = pool_write_direct(s, p, &j);
	} else {
		/* The pre-image only the journal needs. */
		n = kvp_pread_full(p->fd, old, j.old_len, j.offset);
		if (n < 0 || (uint64_t)n != j.old_len) {
			p->dirty = true;
			r = n < 0 ? (int)n : -EIO;
			goto out;
		}
		r = pool_mutate(s, p, &j, rec, 0, old);
	}
	if (r < 0)
		goto out;
	p->gen++;
	p->st.st_size = (off_t)j.new_size;
	if (slot < 0 && kvp_index_append(&p->ix, key, klen) < 0)
		p->dirty = true; /* the file is right; reload next time */
out:
	pool_end_write(s, p);
	return r;
}

int kvp_pool_delete(struct kvp_pool_store *s, unsigned int pool,
		    const char *key)
{
	struct pool_file *p = store_pool(s, pool);
	struct kvp_journal j = { 0 };
	uint8_t old[REC];
	size_t klen, nrec;
	ssize_t slot, n;
	int r;

	if (!p)
		return -EINVAL;
	r = check_key(key, &klen);
	if (r < 0)
		return r;
	r = check_writable(p);
	if (r < 0)
		return r;
	r = pool_begin(s, p, true);
	if (r < 0)
		return r;
	slot = kvp_index_find(&p->ix, key, klen);
	if (slot < 0) {
		r = -ENOENT;
		goto out;
	}
	nrec = p->ix.n;
	if ((uint64_t)nrec * REC > (uint64_t)p->st.st_size) {
		p->dirty = true;
		r = -EIO;
		goto out;
	}
	/* Compaction, as the reference does: the records after the deleted
	 * one move up a slot, then the file is cut by one record. */
	j.pool = p->id;
	j.dev = (uint64_t)p->st.st_dev;
	j.ino = (uint64_t)p->st.st_ino;
	j.offset = (uint64_t)slot * REC;
	j.len = (uint64_t)(nrec - (size_t)slot - 1) * REC;
	j.old_size = (uint64_t)p->st.st_size;
	j.new_size = (uint64_t)(nrec - 1) * REC;
	j.shifted = true;
	j.old_len = j.len ? REC : 0;
	n = kvp_pread_full(p->fd, old, j.old_len, j.offset);
	if (n < 0 || (uint64_t)n != j.old_len) {
		p->dirty = true;
		r = n < 0 ? (int)n : -EIO;
		goto out;
	}
	r = pool_mutate(s, p, &j, NULL, j.offset + REC, old);
	if (r < 0)
		goto out;
	p->gen++;
	p->st.st_size = (off_t)j.new_size;
	if (kvp_index_remove(&p->ix, (size_t)slot) < 0)
		p->dirty = true;
out:
	pool_end_write(s, p);
	return r;
}

static bool slot_has_key(const struct pool_file *p, size_t slot)
{
	const struct kvp_index_slot *sl = &p->ix.slots[slot];

	return sl->len == p->cur_key_len &&
	       memcmp(sl->key, p->cur_key, sl->len) == 0;
}

/*
 * Where is the record we returned last? *found false: it is gone (or was
 * re-appended further down), and its old slot is returned.
 */
static size_t enum_relocate(const struct pool_file *p, bool *found)
{
	const struct kvp_index *ix = &p->ix;
	size_t old = p->cur_slot, i;
	ssize_t f;

	*found = true;
	if (p->cur_gen == p->gen)
		return old;
	if (old < ix->n && slot_has_key(p, old))
		return old;
	f = kvp_index_find(ix, p->cur_key, p->cur_key_len);
	if (f < 0 || (size_t)f > old) {
		*found = false;
		return old;
	}
	if (ix->ndup == 0)
		return (size_t)f;
	/* Duplicate keys: the copy nearest above the old slot is ours. */
	for (i = HV_MIN(old, ix->n - 1); i > (size_t)f; i--)
		if (slot_has_key(p, i))
			return i;
	return (size_t)f;
}

static size_t enum_slot(const struct pool_file *p, uint32_t index)
{
	bool found;
	size_t at;

	if (!p->cur_valid || index == 0)
		return index;
	if (index == p->cur_index) {
		at = enum_relocate(p, &found);
		return at;
	}
	if ((uint64_t)index == (uint64_t)p->cur_index + 1) {
		at = enum_relocate(p, &found);
		return found ? at + 1 : at;
	}
	return index;
}

int kvp_pool_enumerate(struct kvp_pool_store *s, unsigned int pool,
		       uint32_t index, struct kvp_pool_record *ret)
{
	struct pool_file *p = store_pool(s, pool);
	uint8_t rec[REC];
	size_t slot;
	ssize_t n;
	int r;

	if (!p || !ret)
		return -EINVAL;
	r = pool_begin(s, p, false);
	if (r < 0)
		return r;
	slot = enum_slot(p, index);
	if (slot >= p->ix.n) {
		p->cur_valid = false;
		r = -ENOENT;
		goto out;
	}
	n = kvp_pread_full(p->fd, rec, REC, (uint64_t)slot * REC);
	if (n < 0 || (size_t)n != REC) {
		p->dirty = true;
		r = n < 0 ? (int)n : -EIO;
		goto out;
	}
	ret->key_len = strnlen((const char *)rec, KVP_POOL_KEY_SIZE);
	memcpy(ret->key, rec, ret->key_len);
	ret->key[ret->key_len] = '\0';
	ret->value_len = strnlen((const char *)rec + KVP_POOL_KEY_SIZE,
				 KVP_POOL_VALUE_SIZE);
	memcpy(ret->value, rec + KVP_POOL_KEY_SIZE, ret->value_len);
	ret->value[ret->value_len] = '\0';

	p->cur_valid = true;
	p->cur_index = index;
	p->cur_slot = slot;
	p->cur_gen = p->gen;
	p->cur_key_len = ret->key_len;
	memcpy(p->cur_key, ret->key, ret->key_len + 1);
	r = 0;
out:
	pool_end(p);
	return r;
}

int kvp_pool_count(struct kvp_pool_store *s, unsigned int pool)
{
	struct pool_file *p = store_pool(s, pool);
	size_t n;
	int r;

	if (!p)
		return -EINVAL;
	r = pool_begin(s, p, false);
	if (r < 0)
		return r;
	n = p->ix.n;
	pool_end(p);
	return (int)HV_MIN(n, (size_t)INT_MAX);
}

int kvp_pool_inotify_fd(const struct kvp_pool_store *s)
{
	return s && s->ifd >= 0 ? s->ifd : -EOPNOTSUPP;
}

void kvp_pool_process_events(struct kvp_pool_store *s)
{
	if (s)
		store_drain(s, -1);
}

int kvp_pool_get_stats(const struct kvp_pool_store *s, unsigned int pool,
		       struct kvp_pool_stats *ret)
{
	if (!s || pool >= KVP_POOL_NUM || !ret)
		return -EINVAL;
	*ret = s->pools[pool].stats;
	return 0;
}

void kvp_pool_set_lock_timeout(struct kvp_pool_store *s, unsigned int ms)
{
	if (s)
		s->timeout_ms = ms ? ms : KVP_POOL_LOCK_TIMEOUT_MS;
}

void kvp_pool_test_tear(struct kvp_pool_store *s, uint64_t bytes)
{
	s->tear = bytes;
}

int kvp_pool_test_get_counts(const struct kvp_pool_store *s, unsigned int pool,
			     struct kvp_pool_test_counts *ret)
{
	if (!s || pool >= KVP_POOL_NUM || !ret)
		return -EINVAL;
	*ret = s->pools[pool].counts;
	return 0;
}

struct kvp_pool_store *kvp_pool_close(struct kvp_pool_store *s)
{
	unsigned int i;

	if (!s)
		return NULL;
	for (i = 0; i < KVP_POOL_NUM; i++) {
		struct pool_file *p = &s->pools[i];

		if (p->fd >= 0)
			close(p->fd);
		if (p->jfd >= 0)
			close(p->jfd);
		kvp_index_free(&p->ix);
	}
	if (s->ifd >= 0)
		close(s->ifd);
	free(s->wbuf);
	free(s);
	return NULL;
}

static uint32_t random_seed(void)
{
	uint32_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	return (uint32_t)now_ns() ^ (uint32_t)getpid();
}

/*
 * Open the journal and watch it, so that a journal another process leaves
 * behind (killed mid-write) is noticed by its event instead of an fstat()
 * per operation. The watch follows the name: if that is no longer our
 * file, do without it (fstat every time) rather than watch another.
 */
static int open_journal(struct kvp_pool_store *s, const char *run_dir,
			struct pool_file *p)
{
	char path[PATH_MAX];
	struct stat a, b;
	int r;

	r = hv_snprintf(path, sizeof(path), "%s/hvis/kvp-pool-%u.journal",
			run_dir, p->id);
	if (r < 0)
		return -ENAMETOOLONG;
	p->jfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (p->jfd < 0)
		return -errno;
	if (s->ifd < 0)
		return 0;
	p->jwd = inotify_add_watch(s->ifd, path,
				   JOURNAL_EVENTS | IN_DONT_FOLLOW);
	if (p->jwd >= 0 && (fstat(p->jfd, &a) < 0 || stat(path, &b) < 0 ||
			    a.st_dev != b.st_dev || a.st_ino != b.st_ino)) {
		inotify_rm_watch(s->ifd, p->jwd);
		p->jwd = -1;
	}
	return 0;
}

/* The write buffer: one page-aligned page, unless pages are odd. */
static int store_init_wbuf(struct kvp_pool_store *s)
{
	long page = sysconf(_SC_PAGESIZE);

	/* A WBUF_SIZE-aligned block lies inside one page of any
	 * power-of-two size at least as big. */
	if (page < (long)WBUF_SIZE || (page & (page - 1)))
		return 0;
	s->wbuf = aligned_alloc(WBUF_SIZE, WBUF_SIZE);
	if (!s->wbuf)
		return -ENOMEM;
	s->page = (size_t)page;
	return 0;
}

int kvp_pool_open(const struct kvp_pool_options *o, struct kvp_pool_store **ret)
{
	_cleanup_kvp_pool_ struct kvp_pool_store *s = NULL;
	char jdir[PATH_MAX];
	bool ro;
	uint32_t seed;
	unsigned int i;
	int r;

	if (!o || !ret || !o->state_dir || !*o->state_dir)
		return -EINVAL;
	ro = o->flags & KVP_POOL_OPEN_READ_ONLY;
	if (!ro && (!o->run_dir || !*o->run_dir))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ifd = -1;
	s->dir_wd = -1;
	s->flags = o->flags;
	s->timeout_ms = o->lock_timeout_ms ? o->lock_timeout_ms :
					     KVP_POOL_LOCK_TIMEOUT_MS;
	s->tear = UINT64_MAX;
	r = store_init_wbuf(s);
	if (r < 0)
		return r;
	seed = random_seed();
	for (i = 0; i < KVP_POOL_NUM; i++) {
		s->pools[i].id = i;
		s->pools[i].fd = -1;
		s->pools[i].jfd = -1;
		s->pools[i].wd = -1;
		s->pools[i].jwd = -1;
		s->pools[i].jcheck = true;
		kvp_index_init(&s->pools[i].ix, seed);
		r = hv_snprintf(s->pools[i].path, sizeof(s->pools[i].path),
				"%s/.kvp_pool_%u", o->state_dir, i);
		if (r < 0)
			return -ENAMETOOLONG;
	}

	if (!ro) {
		r = make_dir(o->state_dir, 0755);
		if (r < 0)
			return r;
		r = hv_snprintf(jdir, sizeof(jdir), "%s/hvis", o->run_dir);
		if (r < 0)
			return -ENAMETOOLONG;
		r = make_dir(jdir, 0755);
		if (r < 0)
			return r;
	}
	if (!(o->flags & KVP_POOL_OPEN_NO_INOTIFY)) {
		/* No inotify (instances used up, old kernel): fall back to
		 * fstat, see pool_check_stat(). */
		s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (s->ifd >= 0)
			s->dir_wd = inotify_add_watch(s->ifd, o->state_dir,
						      DIR_EVENTS);
		if (s->ifd >= 0 && s->dir_wd < 0) {
			close(s->ifd);
			s->ifd = -1;
		}
	}
	for (i = 0; i < KVP_POOL_NUM; i++) {
		struct pool_file *p = &s->pools[i];

		r = pool_open_file(s, p);
		if (r < 0)
			return r;
		if (!ro && !p->ro_err && i != KVP_POOL_AUTO) {
			r = open_journal(s, o->run_dir, p);
			if (r < 0)
				return r;
		}
	}
	/* Load every pool (and finish any killed writer's journal) now if
	 * nobody holds a lock; otherwise the first operation does it. */
	for (i = 0; i < KVP_POOL_NUM; i++) {
		struct pool_file *p = &s->pools[i];

		if (pool_begin_until(s, p, false, 0) == 0)
			pool_end(p);
	}
	*ret = TAKE_PTR(s);
	return 0;
}
