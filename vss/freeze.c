/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "freeze.h"
#include "hvis/util.h"

/* ------------------------------------------------------------------ */
/* The real system calls.                                              */

static int sys_open(const char *path, void *userdata)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC |
				    O_NOCTTY);

	return fd < 0 ? -errno : fd;
}

static int sys_identify(int fd, struct freeze_id *ret, void *userdata)
{
	struct statx stx;

	memset(ret, 0, sizeof(*ret));
	if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_MNT_ID, &stx) < 0)
		return -errno;
	ret->dev_major = stx.stx_dev_major;
	ret->dev_minor = stx.stx_dev_minor;
	if (stx.stx_mask & STATX_MNT_ID) {
		ret->has_mnt_id = true;
		ret->mnt_id = stx.stx_mnt_id;
	}
	if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
		ret->has_mount_root = true;
		ret->mount_root = stx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
	}
	return 0;
}

static int sys_syncfs(int fd, void *userdata)
{
	return syncfs(fd) < 0 ? -errno : 0;
}

static int sys_freeze(int fd, void *userdata)
{
	return ioctl(fd, FIFREEZE, 0) < 0 ? -errno : 0;
}

static int sys_thaw(int fd, void *userdata)
{
	return ioctl(fd, FITHAW, 0) < 0 ? -errno : 0;
}

static void sys_close(int fd, void *userdata)
{
	close(fd);
}

const struct freeze_ops freeze_sys_ops = {
	.open = sys_open,
	.identify = sys_identify,
	.syncfs = sys_syncfs,
	.freeze = sys_freeze,
	.thaw = sys_thaw,
	.close = sys_close,
};

/* ------------------------------------------------------------------ */
/* The set.                                                            */

int freeze_set_new(struct freeze_set **ret)
{
	struct freeze_set *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->failed = SIZE_MAX;
	*ret = s;
	return 0;
}

int freeze_set_add(struct freeze_set *s, const char *mount_point,
		   const char *fstype, unsigned int major, unsigned int minor,
		   uint64_t mnt_id, enum freeze_state state)
{
	struct freeze_fs *e;

	if (!s || !mount_point || mount_point[0] != '/' || !fstype ||
	    (state != FREEZE_FS_PENDING && state != FREEZE_FS_FROZEN))
		return -EINVAL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct freeze_fs *n = reallocarray(s->fs, cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->fs = n;
		s->cap = cap;
	}
	e = &s->fs[s->n];
	memset(e, 0, sizeof(*e));
	e->mount_point = strdup(mount_point);
	if (!e->mount_point)
		return -ENOMEM;
	if (hv_strscpy(e->fstype, fstype, sizeof(e->fstype)) < 0) {
		free(e->mount_point);
		return -EINVAL;
	}
	e->major = major;
	e->minor = minor;
	e->mnt_id = mnt_id;
	e->fd = -1;
	e->state = state;
	s->n++;
	return 0;
}

int freeze_set_from_mounts(const struct mount_list *l, struct freeze_set **ret)
{
	struct freeze_set *s;
	size_t k;
	int r;

	if (!l || !ret)
		return -EINVAL;
	r = freeze_set_new(&s);
	if (r < 0)
		return r;
	for (k = 0; k < l->n_freeze; k++) {
		const struct mount_entry *e = &l->entries[l->freeze[k]];

		r = freeze_set_add(s, e->mount_point, e->fstype, e->major,
				   e->minor, e->id, FREEZE_FS_PENDING);
		if (r < 0) {
			freeze_set_free(s, NULL);
			return r;
		}
	}
	*ret = s;
	return 0;
}

static void close_entry(struct freeze_fs *e, const struct freeze_ops *ops)
{
	if (e->fd < 0)
		return;
	if (ops && ops->close)
		ops->close(e->fd, ops->userdata);
	else
		close(e->fd);
	e->fd = -1;
}

struct freeze_set *freeze_set_free(struct freeze_set *s,
				   const struct freeze_ops *ops)
{
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < s->n; i++) {
		close_entry(&s->fs[i], ops);
		free(s->fs[i].mount_point);
	}
	free(s->fs);
	free(s);
	return NULL;
}

bool freeze_set_any_frozen(const struct freeze_set *s)
{
	return s && (freeze_set_count(s, FREEZE_FS_FROZEN) > 0 ||
		     freeze_set_count(s, FREEZE_FS_INTENT) > 0);
}

size_t freeze_set_count(const struct freeze_set *s, enum freeze_state st)
{
	size_t i, n = 0;

	for (i = 0; s && i < s->n; i++)
		n += s->fs[i].state == st;
	return n;
}

/* ------------------------------------------------------------------ */
/* Freezing and thawing.                                               */

static void set_err(struct freeze_fs *e, enum freeze_step step, int err)
{
	e->step = step;
	e->err = err;
}

/*
 * Open an entry and make sure the descriptor is the mount mountinfo
 * listed: the path may lead elsewhere by now (unmounted, covered by a new
 * mount, replaced by a symlink), and freezing whatever it leads to would
 * freeze a filesystem nobody selected.
 */
static int open_entry(struct freeze_fs *e, const struct freeze_ops *ops)
{
	struct freeze_id id;
	int fd, r;

	fd = ops->open(e->mount_point, ops->userdata);
	if (fd < 0) {
		set_err(e, FREEZE_STEP_OPEN, fd);
		return fd;
	}
	e->fd = fd;
	r = ops->identify(fd, &id, ops->userdata);
	if (r < 0) {
		set_err(e, FREEZE_STEP_IDENTIFY, r);
		close_entry(e, ops);
		return r;
	}
	if ((id.has_mnt_id && e->mnt_id && id.mnt_id != e->mnt_id) ||
	    (id.has_mount_root && !id.mount_root) ||
	    /* Without a mount ID only the device can tell; btrfs gives each
	     * subvolume its own st_dev, so it is not comparable there. */
	    (!id.has_mnt_id && strcmp(e->fstype, "btrfs") != 0 &&
	     (id.dev_major != e->major || id.dev_minor != e->minor))) {
		set_err(e, FREEZE_STEP_IDENTIFY, -ESTALE);
		close_entry(e, ops);
		return -ESTALE;
	}
	return 0;
}

static bool same_sb_earlier(const struct freeze_set *s, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (s->fs[j].state != FREEZE_FS_DUPLICATE &&
		    s->fs[j].major == s->fs[i].major &&
		    s->fs[j].minor == s->fs[i].minor)
			return true;
	return false;
}

static void record_quiet(const struct freeze_set *s, freeze_record_fn record,
			 void *userdata)
{
	if (record)
		(void)record(s, userdata);
}

/* Thaw one entry we froze; the state says how it went. */
static int thaw_entry(struct freeze_fs *e, const struct freeze_ops *ops)
{
	int r;

	if (e->fd < 0) {
		r = open_entry(e, ops);
		if (r < 0)
			return r;
	}
	r = ops->thaw(e->fd, ops->userdata);
	if (r == -EINVAL) {
		/* Not frozen any more: thawed by someone else meanwhile. */
		e->thaw_was_noop = true;
		r = 0;
	}
	if (r < 0) {
		set_err(e, FREEZE_STEP_THAW, r);
		return r;
	}
	e->state = FREEZE_FS_THAWED;
	close_entry(e, ops);
	return 0;
}

int freeze_thaw(struct freeze_set *s, const struct freeze_ops *ops,
		freeze_record_fn record, void *userdata)
{
	int first = 0, r;
	size_t i;

	if (!s || !ops)
		return -EINVAL;
	for (i = s->n; i-- > 0;) {
		struct freeze_fs *e = &s->fs[i];

		if (e->state != FREEZE_FS_FROZEN &&
		    e->state != FREEZE_FS_INTENT)
			continue;
		r = thaw_entry(e, ops);
		if (r < 0 && first == 0)
			first = r;
		record_quiet(s, record, userdata);
	}
	return first;
}

static int fail(struct freeze_set *s, size_t i, const struct freeze_ops *ops,
		freeze_record_fn record, void *userdata, int err)
{
	size_t k;

	s->failed = i;
	if (s->fs[i].state != FREEZE_FS_FROZEN)
		s->fs[i].state = FREEZE_FS_FAILED;
	(void)freeze_thaw(s, ops, record, userdata);
	for (k = 0; k < s->n; k++) {
		struct freeze_fs *e = &s->fs[k];

		if (e->state == FREEZE_FS_FROZEN)
			continue; /* the rollback could not thaw it */
		close_entry(e, ops);
		if (e->state == FREEZE_FS_OPEN)
			e->state = FREEZE_FS_PENDING;
	}
	return err;
}

int freeze_run(struct freeze_set *s, const struct freeze_ops *ops,
	       freeze_record_fn record, void *userdata)
{
	size_t i;
	int r;

	if (!s || !ops)
		return -EINVAL;
	s->failed = SIZE_MAX;
	for (i = 0; i < s->n; i++)
		if (s->fs[i].state != FREEZE_FS_PENDING)
			return -EINVAL;

	for (i = 0; i < s->n; i++) {
		struct freeze_fs *e = &s->fs[i];

		if (same_sb_earlier(s, i)) {
			e->state = FREEZE_FS_DUPLICATE;
			continue;
		}
		r = open_entry(e, ops);
		if (r < 0)
			return fail(s, i, ops, record, userdata, r);
		e->state = FREEZE_FS_OPEN;
	}

	for (i = 0; i < s->n; i++)
		if (s->fs[i].state == FREEZE_FS_OPEN)
			s->fs[i].sync_err =
				ops->syncfs(s->fs[i].fd, ops->userdata);

	for (i = 0; i < s->n; i++) {
		struct freeze_fs *e = &s->fs[i];

		if (e->state != FREEZE_FS_OPEN)
			continue;
		e->state = FREEZE_FS_INTENT;
		r = record ? record(s, userdata) : 0;
		if (r < 0) {
			e->state = FREEZE_FS_OPEN;
			set_err(e, FREEZE_STEP_RECORD, r);
			return fail(s, i, ops, record, userdata, r);
		}
		r = ops->freeze(e->fd, ops->userdata);
		if (r < 0) {
			/*
			 * EBUSY: frozen already, and not by us (duplicates
			 * were taken out above), so not ours to thaw.
			 */
			e->state = FREEZE_FS_OPEN;
			set_err(e, FREEZE_STEP_FREEZE, r);
			return fail(s, i, ops, record, userdata, r);
		}
		e->state = FREEZE_FS_FROZEN;
		r = record ? record(s, userdata) : 0;
		if (r < 0) {
			set_err(e, FREEZE_STEP_RECORD, r);
			return fail(s, i, ops, record, userdata, r);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reporting.                                                          */

const char *freeze_state_str(enum freeze_state st)
{
	static const char *const names[_FREEZE_FS_MAX] = {
		[FREEZE_FS_PENDING] = "pending",
		[FREEZE_FS_OPEN] = "open",
		[FREEZE_FS_INTENT] = "intent",
		[FREEZE_FS_FROZEN] = "frozen",
		[FREEZE_FS_THAWED] = "thawed",
		[FREEZE_FS_DUPLICATE] = "duplicate",
		[FREEZE_FS_FAILED] = "failed",
	};

	return (unsigned)st < _FREEZE_FS_MAX ? names[st] : "?";
}

const char *freeze_step_str(enum freeze_step st)
{
	static const char *const names[_FREEZE_STEP_MAX] = {
		[FREEZE_STEP_NONE] = "none",
		[FREEZE_STEP_OPEN] = "open",
		[FREEZE_STEP_IDENTIFY] = "check",
		[FREEZE_STEP_SYNCFS] = "syncfs",
		[FREEZE_STEP_RECORD] = "marker",
		[FREEZE_STEP_FREEZE] = "FIFREEZE",
		[FREEZE_STEP_THAW] = "FITHAW",
	};

	return (unsigned)st < _FREEZE_STEP_MAX ? names[st] : "?";
}

static const char *explain(const struct freeze_fs *e)
{
	switch (e->step) {
	case FREEZE_STEP_FREEZE:
		if (e->err == -EBUSY)
			return "already frozen by another program (e.g. "
			       "fsfreeze -f); left frozen, not ours to thaw";
		if (e->err == -EOPNOTSUPP || e->err == -ENOTTY)
			return "this filesystem type cannot be frozen; "
			       "exclude it (--exclude) to back up without it";
		if (e->err == -EPERM)
			return "not permitted (needs CAP_SYS_ADMIN)";
		break;
	case FREEZE_STEP_IDENTIFY:
		if (e->err == -ESTALE)
			return "the mount point no longer leads to the mount "
			       "that was selected (mount table changed)";
		break;
	case FREEZE_STEP_RECORD:
		return "cannot record the frozen state in the run directory";
	default:
		break;
	}
	return NULL;
}

const char *freeze_describe(const struct freeze_fs *e, char *buf, size_t size)
{
	const char *why = explain(e);
	char tmp[128];

	if (!why) {
		hv_snprintf(tmp, sizeof(tmp), "%s",
			    strerror(e->err < 0 ? -e->err : e->err));
		why = tmp;
	}
	/* A cut-off line still names the mount first. */
	(void)hv_snprintf(buf, size, "%s (%s %u:%u): %s: %s", e->mount_point,
			  e->fstype, e->major, e->minor,
			  freeze_step_str(e->step), why);
	return buf;
}
