/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>

#include "hvis/loop.h"
#include "hvis/util.h"
#include "state.h"

#define MARKER_HEADER "hvis-vss-frozen 1"

/* ------------------------------------------------------------------ */
/* Escaping.                                                           */

static bool needs_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '\\';
}

int vss_escape(const char *s, char **ret)
{
	size_t n = 0, i, o = 0;
	char *out;

	for (i = 0; s[i]; i++)
		n += needs_escape((unsigned char)s[i]) ? 4 : 1;
	out = malloc(n + 1);
	if (!out)
		return -ENOMEM;
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (needs_escape(c)) {
			out[o++] = '\\';
			out[o++] = (char)('0' + (c >> 6));
			out[o++] = (char)('0' + ((c >> 3) & 7));
			out[o++] = (char)('0' + (c & 7));
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	*ret = out;
	return 0;
}

int vss_unescape(char *s)
{
	return mounts_unescape(s) < 0 ? -EBADMSG : 0;
}

/* ------------------------------------------------------------------ */
/* Formatting.                                                         */

struct buf {
	char *p;
	size_t len, cap;
};

static int HV_PRINTF(2, 3) buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return 0;
		}
		size_t cap = HV_MAX(2 * b->cap, b->len + (size_t)n + 1);
		char *p = realloc(b->p, cap);

		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
}

int vss_marker_format(const struct freeze_set *s, const char *const *hooks,
		      size_t n_hooks, pid_t pid, uint64_t since, char **ret,
		      size_t *ret_len)
{
	struct buf b = { 0 };
	size_t i;
	int r;

	if (!ret || (n_hooks && !hooks))
		return -EINVAL;
	r = buf_printf(&b, MARKER_HEADER "\npid %ld\nsince %" PRIu64 "\n",
		       (long)pid, since);
	for (i = 0; r == 0 && i < n_hooks; i++) {
		_cleanup_free_ char *esc = NULL;

		r = vss_escape(hooks[i], &esc);
		if (r == 0)
			r = buf_printf(&b, "hook %s\n", esc);
	}
	for (i = 0; r == 0 && s && i < s->n; i++) {
		const struct freeze_fs *e = &s->fs[i];
		_cleanup_free_ char *mp = NULL, *type = NULL;

		if (e->state != FREEZE_FS_INTENT &&
		    e->state != FREEZE_FS_FROZEN)
			continue;
		r = vss_escape(e->mount_point, &mp);
		if (r == 0)
			r = vss_escape(e->fstype, &type);
		if (r == 0)
			r = buf_printf(&b, "fs %s %u:%u %" PRIu64 " %s %s\n",
				       e->state == FREEZE_FS_FROZEN ? "frozen" :
								      "intent",
				       e->major, e->minor, e->mnt_id,
				       type[0] ? type : "-", mp);
	}
	if (r < 0) {
		free(b.p);
		return r;
	}
	*ret = b.p;
	if (ret_len)
		*ret_len = b.len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parsing.                                                            */

struct vss_marker *vss_marker_free(struct vss_marker *m)
{
	size_t i;

	if (!m)
		return NULL;
	for (i = 0; i < m->n_hooks; i++)
		free(m->hooks[i]);
	free(m->hooks);
	for (i = 0; i < m->n_fs; i++)
		free(m->fs[i].mount_point);
	free(m->fs);
	free(m);
	return NULL;
}

static void marker_freep(struct vss_marker **m)
{
	vss_marker_free(*m);
}

bool vss_marker_pending(const struct vss_marker *m)
{
	return m && (m->n_hooks > 0 || m->n_fs > 0);
}

/* Split off the next space-separated field; NULL if there is none. */
static char *next_field(char **cur)
{
	char *s = *cur, *sp;

	if (!s || !*s)
		return NULL;
	sp = strchr(s, ' ');
	if (sp) {
		*sp = '\0';
		*cur = sp + 1;
	} else {
		*cur = NULL;
	}
	return s;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	return hv_parse_u64(s, ret) < 0 ? -EBADMSG : 0;
}

static int parse_dev(char *s, unsigned int *maj, unsigned int *min)
{
	char *colon = strchr(s, ':');
	uint32_t a, b;

	if (!colon)
		return -EBADMSG;
	*colon = '\0';
	if (hv_parse_u32(s, &a) < 0 || hv_parse_u32(colon + 1, &b) < 0 ||
	    a > 0xfff || b > 0xfffff)
		return -EBADMSG;
	*maj = a;
	*min = b;
	return 0;
}

static int add_hook(struct vss_marker *m, char *arg)
{
	char **n;
	int r;

	if (m->n_hooks >= VSS_MARKER_HOOKS_MAX)
		return -E2BIG;
	r = vss_unescape(arg);
	if (r < 0 || arg[0] != '/')
		return -EBADMSG;
	n = reallocarray(m->hooks, m->n_hooks + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->hooks = n;
	m->hooks[m->n_hooks] = strdup(arg);
	if (!m->hooks[m->n_hooks])
		return -ENOMEM;
	m->n_hooks++;
	return 0;
}

static int add_fs(struct vss_marker *m, char *rest)
{
	char *state = next_field(&rest), *dev = next_field(&rest);
	char *id = next_field(&rest), *type = next_field(&rest);
	char *mp = next_field(&rest);
	struct vss_marker_fs f = { 0 }, *n;

	if (!state || !dev || !id || !type || !mp || rest)
		return -EBADMSG;
	if (m->n_fs >= MOUNTS_MAX)
		return -E2BIG;
	if (strcmp(state, "frozen") == 0)
		f.frozen = true;
	else if (strcmp(state, "intent") != 0)
		return -EBADMSG;
	if (parse_dev(dev, &f.major, &f.minor) < 0 ||
	    parse_u64(id, &f.mnt_id) < 0 || vss_unescape(type) < 0 ||
	    vss_unescape(mp) < 0 || mp[0] != '/' || strlen(mp) >= PATH_MAX)
		return -EBADMSG;
	if (strcmp(type, "-") == 0)
		type[0] = '\0';
	if (hv_strscpy(f.fstype, type, sizeof(f.fstype)) < 0)
		return -EBADMSG;
	n = reallocarray(m->fs, m->n_fs + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->fs = n;
	f.mount_point = strdup(mp);
	if (!f.mount_point)
		return -ENOMEM;
	m->fs[m->n_fs++] = f;
	return 0;
}

static int parse_line(struct vss_marker *m, char *line, bool *seen)
{
	char *rest = line, *key;
	uint64_t v;

	if (!seen[0]) {
		if (strcmp(line, MARKER_HEADER) != 0)
			return -EBADMSG;
		seen[0] = true;
		return 0;
	}
	key = next_field(&rest);
	if (!key || !rest)
		return -EBADMSG;
	if (strcmp(key, "pid") == 0) {
		if (seen[1] || parse_u64(rest, &v) < 0 || v == 0 ||
		    v > INT32_MAX)
			return -EBADMSG;
		seen[1] = true;
		m->pid = (pid_t)v;
		return 0;
	}
	if (strcmp(key, "since") == 0) {
		if (seen[2] || parse_u64(rest, &m->since) < 0)
			return -EBADMSG;
		seen[2] = true;
		return 0;
	}
	if (strcmp(key, "hook") == 0) {
		char *path = next_field(&rest);

		if (!path || rest)
			return -EBADMSG;
		return add_hook(m, path);
	}
	if (strcmp(key, "fs") == 0)
		return add_fs(m, rest);
	return -EBADMSG;
}

int vss_marker_parse(const char *text, size_t len, struct vss_marker **ret)
{
	_cleanup_(marker_freep) struct vss_marker *m = NULL;
	_cleanup_free_ char *copy = NULL;
	bool seen[3] = { false, false, false };
	char *line, *nl;
	int r;

	if (!ret || (!text && len))
		return -EINVAL;
	if (len > VSS_MARKER_MAX)
		return -E2BIG;
	if (len == 0 || text[len - 1] != '\n' || memchr(text, '\0', len))
		return -EBADMSG;
	copy = malloc(len + 1);
	m = calloc(1, sizeof(*m));
	if (!copy || !m)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		r = parse_line(m, line, seen);
		if (r < 0)
			return r;
	}
	if (!seen[1] || !seen[2])
		return -EBADMSG;
	*ret = TAKE_PTR(m);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Files.                                                              */

int vss_marker_write(const char *path, const char *text, size_t len)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r;

	if (hv_strscpy(dir, path, sizeof(dir)) < 0 ||
	    hv_snprintf(tmp, sizeof(tmp), "%s.tmp", path) < 0)
		return -ENAMETOOLONG;
	r = hv_mkdir_parents(dirname(dir), 0755);
	if (r < 0)
		return r;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	if (hv_write_full(fd, text, len) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	/*
	 * No fsync: /run is a tmpfs and the marker only has to outlive the
	 * daemon, not the machine (a reboot thaws everything anyway).
	 */
	if (rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	return 0;
}

int vss_marker_load(const char *path, struct vss_marker **ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if (st.st_size > (off_t)VSS_MARKER_MAX)
		return -EFBIG;
	buf = malloc(VSS_MARKER_MAX + 1);
	if (!buf)
		return -ENOMEM;
	n = hv_read_full(fd, buf, VSS_MARKER_MAX + 1);
	if (n < 0)
		return -errno;
	if ((size_t)n > VSS_MARKER_MAX)
		return -EFBIG;
	return vss_marker_parse(buf, (size_t)n, ret);
}

int vss_marker_remove(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int vss_marker_to_set(const struct vss_marker *m, const struct mount_list *l,
		      struct freeze_set **ret, size_t *ret_missing)
{
	struct freeze_set *s;
	size_t i, j, missing = 0;
	int r;

	if (!m || !l || !ret)
		return -EINVAL;
	r = freeze_set_new(&s);
	if (r < 0)
		return r;
	for (i = 0; i < m->n_fs; i++) {
		const struct vss_marker_fs *f = &m->fs[i];
		const struct mount_entry *hit = NULL;

		/* The same mount if still there, else any mount of the sb. */
		for (j = 0; j < l->n_entries && !hit; j++)
			if (f->mnt_id && l->entries[j].id == f->mnt_id &&
			    l->entries[j].major == f->major &&
			    l->entries[j].minor == f->minor)
				hit = &l->entries[j];
		for (j = 0; j < l->n_entries && !hit; j++)
			if (l->entries[j].major == f->major &&
			    l->entries[j].minor == f->minor &&
			    strcmp(l->entries[j].fstype, f->fstype) == 0)
				hit = &l->entries[j];
		if (!hit) {
			missing++;
			continue;
		}
		r = freeze_set_add(s, hit->mount_point, hit->fstype, hit->major,
				   hit->minor, hit->id, FREEZE_FS_FROZEN);
		if (r < 0) {
			freeze_set_free(s, NULL);
			return r;
		}
	}
	*ret = s;
	if (ret_missing)
		*ret_missing = missing;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Watchdog.                                                           */

int vss_watchdog_init(struct vss_watchdog *w, uint64_t timeout_usec)
{
	int fd = hv_timerfd_open();

	w->fd = -1;
	if (fd < 0)
		return fd;
	w->fd = fd;
	w->timeout_usec = timeout_usec;
	w->armed_at = 0;
	return 0;
}

void vss_watchdog_done(struct vss_watchdog *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

int vss_watchdog_arm(struct vss_watchdog *w, uint64_t usec)
{
	int r;

	if (!usec)
		usec = w->timeout_usec;
	if (!usec)
		return 0;
	r = hv_timerfd_arm(w->fd, usec);
	if (r < 0)
		return r;
	w->armed_at = hv_now_usec();
	return 0;
}

int vss_watchdog_disarm(struct vss_watchdog *w)
{
	w->armed_at = 0;
	/* A pending expiry is consumed too, so it cannot fire later. */
	(void)hv_timerfd_read(w->fd);
	return hv_timerfd_arm(w->fd, 0);
}

int vss_watchdog_fired(struct vss_watchdog *w)
{
	int r = hv_timerfd_read(w->fd);

	if (r <= 0)
		return r;
	if (!w->armed_at)
		return 0;
	w->armed_at = 0;
	return 1;
}
