/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mountinfo parsing and the freeze selection. The rules and the order are
 * documented in mounts.h; this file keeps to them in the same order.
 */
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "hvis/paths.h"
#include "hvis/util.h"
#include "mounts.h"

/* Six fixed fields, a handful of optional ones, "-", three more. */
#define MOUNTS_TOKENS_MAX 32
/* The kernel's dev_t: 12 bits of major, 20 of minor. */
#define DEV_MAJOR_MAX 0xfffu
#define DEV_MINOR_MAX 0xfffffu
#define NO_MOUNT SIZE_MAX

/* Shared "no reason" text, so parse need not allocate one per entry. */
static char why_none[] = "";

static const char *const bad_names[_MOUNTS_BAD_MAX] = {
	[MOUNTS_BAD_FIELDS] = "bad-field-count",
	[MOUNTS_BAD_SEPARATOR] = "no-separator",
	[MOUNTS_BAD_ID] = "bad-id",
	[MOUNTS_BAD_DEVICE] = "bad-device",
	[MOUNTS_BAD_PATH] = "bad-mount-point",
	[MOUNTS_BAD_ESCAPE] = "bad-escape",
	[MOUNTS_BAD_FIELD_LONG] = "field-too-long",
	[MOUNTS_BAD_LINE_LONG] = "line-too-long",
	[MOUNTS_BAD_NUL] = "embedded-nul",
	[MOUNTS_BAD_UNTERMINATED] = "unterminated",
	[MOUNTS_BAD_TOO_MANY] = "too-many-mounts",
};

static const char *const skip_names[_MOUNT_SKIP_MAX] = {
	[MOUNT_SKIP_NONE] = "none",
	[MOUNT_SKIP_ONLY] = "only",
	[MOUNT_SKIP_PSEUDO] = "pseudo",
	[MOUNT_SKIP_LAYERED] = "layered",
	[MOUNT_SKIP_FUSE] = "fuse",
	[MOUNT_SKIP_REMOTE] = "remote",
	[MOUNT_SKIP_RO_TYPE] = "read-only-type",
	[MOUNT_SKIP_FAT] = "fat",
	[MOUNT_SKIP_READONLY] = "read-only",
	[MOUNT_SKIP_NODEV] = "no-device",
	[MOUNT_SKIP_LOOP] = "loop",
	[MOUNT_SKIP_UNCHECKED] = "unchecked",
	[MOUNT_SKIP_EXCLUDED] = "excluded",
	[MOUNT_SKIP_DUPLICATE] = "duplicate",
	[MOUNT_SKIP_HIDDEN] = "hidden",
};

const char *mounts_bad_str(enum mounts_bad b)
{
	if ((unsigned int)b >= _MOUNTS_BAD_MAX)
		return "unknown";
	return bad_names[b];
}

const char *mount_skip_str(enum mount_skip s)
{
	if ((unsigned int)s >= _MOUNT_SKIP_MAX)
		return "unknown";
	return skip_names[s];
}

/* Filesystem types by rule 2 (mounts.h). */
static const char *const pseudo_types[] = {
	"anon_inodefs", "apparmorfs", "autofs",	   "bdev",
	"binfmt_misc",	"bpf",	      "cgroup",	   "cgroup2",
	"configfs",	"cpuset",     "dax",	   "debugfs",
	"devpts",	"devtmpfs",   "efivarfs",  "functionfs",
	"fusectl",	"gadgetfs",   "hugetlbfs", "ipathfs",
	"mqueue",	"nfsd",	      "nsfs",	   "ocfs2_dlmfs",
	"openpromfs",	"pipefs",     "proc",	   "pstore",
	"ramfs",	"resctrl",    "rootfs",	   "rpc_pipefs",
	"securityfs",	"selinuxfs",  "smackfs",   "sockfs",
	"spufs",	"sysfs",      "tmpfs",	   "tracefs",
	"usbfs",	"xenfs",
};
static const char *const layered_types[] = {
	"aufs", "ecryptfs", "overlay", "shiftfs", "unionfs",
};
static const char *const remote_types[] = {
	"9p",	 "afs",	  "beegfs",    "ceph",	   "cifs",   "coda",
	"davfs", "drvfs", "glusterfs", "gpfs",	   "lustre", "ncp",
	"ncpfs", "nfs",	  "nfs4",      "orangefs", "pvfs2",  "smb3",
	"smbfs", "sshfs", "vboxsf",    "virtiofs", "vmhgfs",
};
static const char *const ro_types[] = {
	"cramfs", "erofs", "iso9660", "romfs", "squashfs",
};
static const char *const fat_types[] = {
	"exfat", "fat", "msdos", "umsdos", "vfat",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

static enum mount_skip classify_type(const char *t)
{
	if (strcmp(t, "fuse") == 0 || strcmp(t, "fuseblk") == 0 ||
	    strncmp(t, "fuse.", 5) == 0)
		return MOUNT_SKIP_FUSE;
	if (in_list(t, pseudo_types, ARRAY_SIZE(pseudo_types)))
		return MOUNT_SKIP_PSEUDO;
	if (in_list(t, layered_types, ARRAY_SIZE(layered_types)))
		return MOUNT_SKIP_LAYERED;
	if (in_list(t, remote_types, ARRAY_SIZE(remote_types)))
		return MOUNT_SKIP_REMOTE;
	if (in_list(t, ro_types, ARRAY_SIZE(ro_types)))
		return MOUNT_SKIP_RO_TYPE;
	if (in_list(t, fat_types, ARRAY_SIZE(fat_types)))
		return MOUNT_SKIP_FAT;
	return MOUNT_SKIP_NONE;
}

static bool is_btrfs(const struct mount_entry *e)
{
	return strcmp(e->fstype, "btrfs") == 0;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

/*
 * Undo the kernel's escaping of " \t\n\\" as \ooo, in place (the result
 * is never longer). The kernel never writes a bare backslash or \000, so
 * either marks a line that did not come from it.
 */
int mounts_unescape(char *s)
{
	const char *r = s;
	char *w = s;

	while (*r) {
		unsigned int v;

		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		/* Short-circuit: never looks past the terminating NUL. */
		if (!is_octal(r[1]) || !is_octal(r[2]) || !is_octal(r[3]))
			return -EINVAL;
		v = (unsigned int)(r[1] - '0') << 6 |
		    (unsigned int)(r[2] - '0') << 3 |
		    (unsigned int)(r[3] - '0');
		if (v == 0 || v > 0377)
			return -EINVAL;
		*w++ = (char)v;
		r += 4;
	}
	*w = '\0';
	return 0;
}

/* Whether a comma-separated options field has the option "ro". */
static bool opts_have_ro(const char *opts)
{
	const char *p = opts;

	for (;;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);

		if (n == 2 && p[0] == 'r' && p[1] == 'o')
			return true;
		if (!c)
			return false;
		p = c + 1;
	}
}

static int parse_device(char *s, unsigned int *ret_major,
			unsigned int *ret_minor)
{
	uint32_t maj, min;
	char *colon;

	colon = strchr(s, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (hv_parse_u32(s, &maj) < 0 || hv_parse_u32(colon + 1, &min) < 0)
		return -EINVAL;
	if (maj > DEV_MAJOR_MAX || min > DEV_MINOR_MAX)
		return -ERANGE;
	*ret_major = maj;
	*ret_minor = min;
	return 0;
}

/*
 * Parse one NUL-terminated line (modified in place) into e. The strings
 * of e are only allocated on success. Returns 0, -ENOMEM, or -EBADMSG with
 * *bad set.
 */
static int parse_line(char *line, struct mount_entry *e, enum mounts_bad *bad)
{
	char *tok[MOUNTS_TOKENS_MAX];
	size_t nt = 0, sep, len;
	char *s = line;

	/* Single spaces separate fields; an empty field stays a field. */
	for (;;) {
		char *sp;

		if (nt == MOUNTS_TOKENS_MAX) {
			*bad = MOUNTS_BAD_FIELDS;
			return -EBADMSG;
		}
		tok[nt++] = s;
		sp = strchr(s, ' ');
		if (!sp)
			break;
		*sp = '\0';
		s = sp + 1;
	}
	if (nt < 7) {
		*bad = MOUNTS_BAD_FIELDS;
		return -EBADMSG;
	}
	/* The root (field 4) may look like anything; the search starts after. */
	for (sep = 6; sep < nt; sep++)
		if (strcmp(tok[sep], "-") == 0)
			break;
	if (sep == nt) {
		*bad = MOUNTS_BAD_SEPARATOR;
		return -EBADMSG;
	}
	/* Later kernels may append fields; we need the first three. */
	if (nt - sep - 1 < 3) {
		*bad = MOUNTS_BAD_FIELDS;
		return -EBADMSG;
	}

	if (hv_parse_u32(tok[0], &e->id) < 0 ||
	    hv_parse_u32(tok[1], &e->parent_id) < 0) {
		*bad = MOUNTS_BAD_ID;
		return -EBADMSG;
	}
	if (parse_device(tok[2], &e->major, &e->minor) < 0) {
		*bad = MOUNTS_BAD_DEVICE;
		return -EBADMSG;
	}

	if (mounts_unescape(tok[4]) < 0 || mounts_unescape(tok[sep + 1]) < 0 ||
	    mounts_unescape(tok[sep + 2]) < 0) {
		*bad = MOUNTS_BAD_ESCAPE;
		return -EBADMSG;
	}
	len = strlen(tok[4]);
	if (tok[4][0] != '/' || len >= PATH_MAX) {
		*bad = MOUNTS_BAD_PATH;
		return -EBADMSG;
	}
	if (tok[sep + 1][0] == '\0') {
		*bad = MOUNTS_BAD_FIELDS;
		return -EBADMSG;
	}
	if (hv_strscpy(e->fstype, tok[sep + 1], sizeof(e->fstype)) < 0 ||
	    strlen(tok[sep + 2]) >= PATH_MAX) {
		*bad = MOUNTS_BAD_FIELD_LONG;
		return -EBADMSG;
	}
	e->mount_ro = opts_have_ro(tok[5]);
	e->super_ro = opts_have_ro(tok[sep + 3]);

	e->mount_point = strdup(tok[4]);
	e->source = strdup(tok[sep + 2]);
	if (!e->mount_point || !e->source) {
		free(e->mount_point);
		free(e->source);
		e->mount_point = e->source = NULL;
		return -ENOMEM;
	}
	e->why = why_none;
	return 0;
}

static void entry_done(struct mount_entry *e)
{
	free(e->mount_point);
	free(e->source);
	if (e->why != why_none)
		free(e->why);
}

struct mount_list *mounts_free(struct mount_list *l)
{
	size_t i;

	if (!l)
		return NULL;
	for (i = 0; i < l->n_entries; i++)
		entry_done(&l->entries[i]);
	free(l->entries);
	free(l->freeze);
	free(l);
	return NULL;
}

static int list_append(struct mount_list *l, const struct mount_entry *e)
{
	if (l->n_entries == l->cap) {
		/* Bounded by MOUNTS_MAX, so the product cannot overflow. */
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct mount_entry *n;

		n = realloc(l->entries, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		l->entries = n;
		l->cap = cap;
	}
	l->entries[l->n_entries++] = *e;
	return 0;
}

static void count_bad(struct mount_list *l, enum mounts_bad b, size_t line)
{
	l->bad[b]++;
	l->n_bad++;
	if (!l->first_bad_line)
		l->first_bad_line = line;
}

int mounts_parse(const char *text, size_t len, struct mount_list **ret)
{
	_cleanup_(mounts_freep) struct mount_list *l = NULL;
	_cleanup_free_ char *scratch = NULL;
	size_t pos = 0, lineno = 0;
	int r;

	if ((!text && len) || !ret)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	scratch = malloc(MOUNTS_LINE_MAX + 1);
	if (!l || !scratch)
		return -ENOMEM;

	while (pos < len) {
		const char *p = text + pos;
		const char *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;
		struct mount_entry e = { 0 };
		enum mounts_bad bad;

		lineno++;
		pos += n + (nl ? 1 : 0);
		if (!nl) {
			/* The kernel ends every line; this one was cut. */
			count_bad(l, MOUNTS_BAD_UNTERMINATED, lineno);
			continue;
		}
		if (n > MOUNTS_LINE_MAX) {
			count_bad(l, MOUNTS_BAD_LINE_LONG, lineno);
			continue;
		}
		if (memchr(p, '\0', n)) {
			count_bad(l, MOUNTS_BAD_NUL, lineno);
			continue;
		}
		if (l->n_entries >= MOUNTS_MAX) {
			count_bad(l, MOUNTS_BAD_TOO_MANY, lineno);
			continue;
		}
		memcpy(scratch, p, n);
		scratch[n] = '\0';
		r = parse_line(scratch, &e, &bad);
		if (r == -EBADMSG) {
			count_bad(l, bad, lineno);
			continue;
		}
		if (r < 0)
			return r;
		e.line = lineno;
		r = list_append(l, &e);
		if (r < 0) {
			entry_done(&e);
			return r;
		}
	}
	*ret = TAKE_PTR(l);
	return 0;
}

int mounts_read(const char *path, struct mount_list **ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t cap = 0, len = 0;

	if (!path || !ret)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* proc files report size 0: read until EOF, one byte past the cap. */
	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *nb;

			if (cap > MOUNTS_FILE_MAX)
				return -EFBIG;
			if (ncap > (size_t)MOUNTS_FILE_MAX + 1)
				ncap = (size_t)MOUNTS_FILE_MAX + 1;
			nb = realloc(buf, ncap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > MOUNTS_FILE_MAX)
		return -EFBIG;
	return mounts_parse(buf, len, ret);
}

/* ------------------------------------------------------------------ */
/* Selection                                                           */

static int set_why(struct mount_entry *e, enum mount_skip reason,
		   const char *fmt, ...) HV_PRINTF(3, 4);

static int set_why(struct mount_entry *e, enum mount_skip reason,
		   const char *fmt, ...)
{
	char buf[PATH_MAX + 256];
	va_list ap;
	char *s;

	/* Only a message: a cut-off pattern or path is still informative. */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s = strdup(buf);
	if (!s)
		return -ENOMEM;
	if (e->why != why_none)
		free(e->why);
	e->why = s;
	e->decision = MOUNT_SKIP;
	e->reason = reason;
	return 0;
}

static void reset_entry(struct mount_entry *e)
{
	if (e->why != why_none)
		free(e->why);
	e->why = why_none;
	e->decision = MOUNT_SKIP;
	e->reason = MOUNT_SKIP_NONE;
}

/* prefix has no trailing '/' unless it is "/" (plen counts it). */
static bool path_below(const char *path, const char *prefix, size_t plen)
{
	if (plen == 1 && prefix[0] == '/')
		return true;
	return strncmp(path, prefix, plen) == 0 &&
	       (path[plen] == '\0' || path[plen] == '/');
}

static size_t prefix_len(const char *prefix)
{
	size_t n = strlen(prefix);

	while (n > 1 && prefix[n - 1] == '/')
		n--;
	return n;
}

static bool under_only(const char *path, const char *const *only)
{
	size_t i;

	for (i = 0; only[i]; i++)
		if (path_below(path, only[i], prefix_len(only[i])))
			return true;
	return false;
}

static int default_resolve(const char *source, unsigned int *ret_major,
			   unsigned int *ret_minor, void *userdata)
{
	struct stat st;

	if (strncmp(source, "/dev/", 5) != 0)
		return -ENOENT;
	if (stat(source, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOENT;
	*ret_major = major(st.st_rdev);
	*ret_minor = minor(st.st_rdev);
	return 0;
}

/*
 * Rule 5 for one entry: MOUNT_SKIP_NONE, MOUNT_SKIP_LOOP, or
 * MOUNT_SKIP_UNCHECKED with *err set.
 */
static enum mount_skip check_loop(const struct mount_entry *e,
				  const struct mounts_config *cfg,
				  const char *sys, unsigned int *dmaj,
				  unsigned int *dmin, int *err)
{
	int r;

	*dmaj = e->major;
	*dmin = e->minor;
	if (e->major == 0) {
		/* Only btrfs gets here (rule 4): check its source device. */
		mounts_resolve_fn fn = cfg->resolve_source ?: default_resolve;

		r = fn(e->source, dmaj, dmin, cfg->userdata);
		if (r == -ENOENT)
			return MOUNT_SKIP_NONE;
		if (r < 0) {
			*err = r;
			return MOUNT_SKIP_UNCHECKED;
		}
	}
	r = blockdev_is_loop_backed(sys, *dmaj, *dmin);
	if (r < 0) {
		*err = r;
		return MOUNT_SKIP_UNCHECKED;
	}
	return r > 0 ? MOUNT_SKIP_LOOP : MOUNT_SKIP_NONE;
}

/*
 * Rules 1 to 6 for one entry: 0 when one of them decided it, 1 when it is
 * still a candidate, or -ENOMEM.
 */
static int decide_alone(struct mount_entry *e, const struct mounts_config *cfg,
			const char *sys, int *first_err)
{
	enum mount_skip s;
	unsigned int dmaj, dmin;
	size_t i;
	int err = 0;

	if (cfg->only && !under_only(e->mount_point, cfg->only))
		return set_why(e, MOUNT_SKIP_ONLY, "outside the --only paths");

	s = classify_type(e->fstype);
	switch (s) {
	case MOUNT_SKIP_PSEUDO:
		return set_why(e, s, "pseudo filesystem (%s)", e->fstype);
	case MOUNT_SKIP_LAYERED:
		return set_why(
			e, s,
			"layered filesystem (%s): its layers are frozen on their own",
			e->fstype);
	case MOUNT_SKIP_FUSE:
		return set_why(
			e, s,
			"FUSE filesystem (%s): its server could block the freeze",
			e->fstype);
	case MOUNT_SKIP_REMOTE:
		return set_why(e, s, "remote or host-shared filesystem (%s)",
			       e->fstype);
	case MOUNT_SKIP_RO_TYPE:
		return set_why(e, s, "read-only filesystem type (%s)",
			       e->fstype);
	case MOUNT_SKIP_FAT:
		return set_why(e, s, "FAT filesystem (%s) cannot be frozen",
			       e->fstype);
	default:
		break;
	}

	if (e->mount_ro || e->super_ro)
		return set_why(e, MOUNT_SKIP_READONLY, "read-only %s",
			       e->super_ro ? "filesystem" : "mount");

	if (e->major == 0 && !is_btrfs(e))
		return set_why(e, MOUNT_SKIP_NODEV,
			       "no block device (%s on %u:%u)", e->fstype,
			       e->major, e->minor);

	s = check_loop(e, cfg, sys, &dmaj, &dmin, &err);
	if (s == MOUNT_SKIP_LOOP)
		return set_why(e, s, "backed by a loop device (%u:%u)", dmaj,
			       dmin);
	if (s == MOUNT_SKIP_UNCHECKED) {
		if (!*first_err)
			*first_err = err;
		return set_why(e, s, "cannot check %u:%u for a loop device: %s",
			       dmaj, dmin, strerror(-err));
	}

	for (i = 0; cfg->exclude && cfg->exclude[i]; i++)
		if (fnmatch(cfg->exclude[i], e->mount_point, 0) == 0)
			return set_why(e, MOUNT_SKIP_EXCLUDED,
				       "excluded by \"%s\"", cfg->exclude[i]);
	return 1;
}

static bool same_fs(const struct mount_entry *a, const struct mount_entry *b)
{
	if (a->major == b->major && a->minor == b->minor)
		return true;
	/* Subvolume mounts may show different anonymous devices (mounts.h). */
	return is_btrfs(a) && is_btrfs(b) && a->source[0] == '/' &&
	       strcmp(a->source, b->source) == 0;
}

struct mount_tree {
	const struct mount_list *l;
	size_t *parent; /* entry index of the parent, NO_MOUNT if absent */
	size_t *mp_len; /* strlen(mount_point) */
};

struct id_index {
	uint32_t id;
	size_t idx;
};

static int cmp_id(const void *a, const void *b)
{
	const struct id_index *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void tree_done(struct mount_tree *t)
{
	free(t->parent);
	free(t->mp_len);
}

static int tree_build(struct mount_tree *t, const struct mount_list *l)
{
	_cleanup_free_ struct id_index *ids = NULL;
	size_t i, n = l->n_entries ? l->n_entries : 1;

	t->l = l;
	t->parent = calloc(n, sizeof(*t->parent));
	t->mp_len = calloc(n, sizeof(*t->mp_len));
	ids = calloc(n, sizeof(*ids));
	if (!t->parent || !t->mp_len || !ids)
		return -ENOMEM;
	for (i = 0; i < l->n_entries; i++) {
		ids[i].id = l->entries[i].id;
		ids[i].idx = i;
		t->mp_len[i] = strlen(l->entries[i].mount_point);
	}
	qsort(ids, l->n_entries, sizeof(*ids), cmp_id);
	for (i = 0; i < l->n_entries; i++) {
		struct id_index key = { .id = l->entries[i].parent_id };
		size_t lo = 0, hi = l->n_entries;

		/* The first entry with that ID; duplicates only in junk. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (ids[mid].id < key.id)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < l->n_entries && ids[lo].id == key.id &&
		    ids[lo].idx != i)
			t->parent[i] = ids[lo].idx;
		else
			t->parent[i] = NO_MOUNT;
	}
	return 0;
}

static bool mp_is(const struct mount_tree *t, size_t i, const char *path,
		  size_t plen)
{
	return t->mp_len[i] == plen &&
	       memcmp(t->l->entries[i].mount_point, path, plen) == 0;
}

/*
 * The mount on top of path[0..plen) as seen from mount cur: the last
 * child of cur mounted there (a later mount on the same spot sits on the
 * earlier). When cur has none, a mount whose parent line is missing and
 * that came after cur may sit there, which keeps a skipped parent line
 * from hiding its children.
 */
static size_t mount_on(const struct mount_tree *t, size_t cur, const char *path,
		       size_t plen)
{
	size_t i, n = t->l->n_entries, found = NO_MOUNT;

	for (i = 0; i < n; i++)
		if (t->parent[i] == cur && i != cur && mp_is(t, i, path, plen))
			found = i;
	if (found != NO_MOUNT || cur == NO_MOUNT)
		return found;
	for (i = cur + 1; i < n; i++)
		if (t->parent[i] == NO_MOUNT && mp_is(t, i, path, plen))
			found = i;
	return found;
}

/*
 * Which mount a lookup of path ends on: walk from above every top-level
 * mount down through "/", "/a", "/a/b", ..., at each step following the
 * mounts stacked on that directory. NO_MOUNT if none.
 */
static size_t resolve(const struct mount_tree *t, const char *path, size_t plen)
{
	size_t cur = NO_MOUNT, end = 1, steps = 0, next;

	for (;;) {
		while ((next = mount_on(t, cur, path, end)) != NO_MOUNT) {
			/* Each step is a new mount; more means a cycle. */
			if (++steps > t->l->n_entries)
				return NO_MOUNT;
			cur = next;
		}
		if (end >= plen)
			return cur;
		{
			size_t start = path[end] == '/' ? end + 1 : end;
			const char *slash = start < plen ?
						    memchr(path + start, '/',
							   plen - start) :
						    NULL;

			end = slash ? (size_t)(slash - path) : plen;
		}
	}
}

struct ranked {
	size_t idx;
	size_t depth;
};

static size_t path_depth(const char *p)
{
	size_t d = 0;

	for (; *p; p++)
		if (p[0] == '/' && p[1] != '/' && p[1] != '\0')
			d++;
	return d;
}

/* Deeper first; at equal depth the later mount first; "/" has depth 0. */
static int cmp_freeze(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth > y->depth ? -1 : 1;
	return x->idx > y->idx ? -1 : x->idx < y->idx;
}

static int order_freeze(struct mount_list *l)
{
	_cleanup_free_ struct ranked *rk = NULL;
	size_t i;

	rk = calloc(l->n_freeze ? l->n_freeze : 1, sizeof(*rk));
	if (!rk)
		return -ENOMEM;
	for (i = 0; i < l->n_freeze; i++) {
		rk[i].idx = l->freeze[i];
		rk[i].depth = path_depth(l->entries[l->freeze[i]].mount_point);
	}
	qsort(rk, l->n_freeze, sizeof(*rk), cmp_freeze);
	for (i = 0; i < l->n_freeze; i++)
		l->freeze[i] = rk[i].idx;
	return 0;
}

/* Rules 7 and 8, over the entries rules 1-6 left, in mountinfo order. */
static int decide_together(struct mount_list *l, const bool *candidate)
{
	struct mount_tree t = { 0 };
	size_t i, k;
	int r;

	r = tree_build(&t, l);
	if (r < 0)
		goto out;
	for (i = 0; i < l->n_entries; i++) {
		struct mount_entry *e = &l->entries[i];
		size_t top;

		if (!candidate[i])
			continue;
		for (k = 0; k < l->n_freeze; k++)
			if (same_fs(e, &l->entries[l->freeze[k]]))
				break;
		if (k < l->n_freeze) {
			r = set_why(e, MOUNT_SKIP_DUPLICATE, "duplicate of %s",
				    l->entries[l->freeze[k]].mount_point);
			if (r < 0)
				goto out;
			continue;
		}
		top = resolve(&t, e->mount_point, t.mp_len[i]);
		if (top != i) {
			if (top == NO_MOUNT)
				r = set_why(e, MOUNT_SKIP_HIDDEN,
					    "mount point not reachable");
			else
				r = set_why(
					e, MOUNT_SKIP_HIDDEN,
					"mount point covered by mount %" PRIu32
					" (%s on %s)",
					l->entries[top].id,
					l->entries[top].fstype,
					l->entries[top].mount_point);
			if (r < 0)
				goto out;
			continue;
		}
		e->decision = MOUNT_FREEZE;
		l->freeze[l->n_freeze++] = i;
	}
	r = order_freeze(l);
out:
	tree_done(&t);
	return r;
}

int mounts_select(struct mount_list *l, const struct mounts_config *cfg)
{
	_cleanup_free_ bool *candidate = NULL;
	const char *sys;
	int first_err = 0, r;
	size_t i;

	if (!l || !cfg)
		return -EINVAL;
	for (i = 0; cfg->only && cfg->only[i]; i++)
		if (cfg->only[i][0] != '/')
			return -EINVAL;
	sys = cfg->sys_root ?: hv_path_base(HV_PATH_SYS);

	for (i = 0; i < l->n_entries; i++)
		reset_entry(&l->entries[i]);
	free(l->freeze);
	l->n_freeze = 0;
	l->freeze = calloc(l->n_entries ? l->n_entries : 1, sizeof(*l->freeze));
	candidate = calloc(l->n_entries ? l->n_entries : 1, sizeof(*candidate));
	if (!l->freeze || !candidate)
		return -ENOMEM;

	for (i = 0; i < l->n_entries; i++) {
		r = decide_alone(&l->entries[i], cfg, sys, &first_err);
		if (r < 0)
			return r;
		candidate[i] = r > 0;
	}
	r = decide_together(l, candidate);
	if (r < 0)
		return r;
	return first_err;
}
