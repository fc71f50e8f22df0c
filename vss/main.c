/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_vss_daemon: freezes the guest's filesystems for the host's live
 * backups and production checkpoints (protocol.md §4), through
 * /dev/vmbus/hv_vss.
 *
 * One thread, one poll() over the device, a signalfd, a retry timer for
 * the device and the auto-thaw watchdog. A FREEZE runs the hooks, then the
 * freeze engine (freeze.h) with logging held in memory, and replies; the
 * THAW, the watchdog, a SIGTERM or the loss of the device thaw what was
 * frozen and run the hooks' closing calls after the reply. The marker
 * (state.h) lets a restarted daemon undo a freeze its predecessor left.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include "freeze.h"
#include "hooks.h"
#include "hvis/chardev-conn.h"
#include "hvis/cmdline.h"
#include "hvis/log.h"
#include "hvis/loop.h"
#include "hvis/notify.h"
#include "hvis/paths.h"
#include "mounts.h"
#include "state.h"
#include "vss-proto.h"

#define USEC_PER_SEC 1000000ull
/* While the device is gone: retry soon, then back off. */
/* A thaw that failed is tried again this often. */
#define THAW_RETRY_USEC (5 * USEC_PER_SEC)
/*
 * Auto-thaw deadline, from a successful FREEZE to the host's THAW. The
 * kernel's 900 s FREEZE timeout only bounds our reply; after it nothing
 * does. Hyper-V takes its snapshot within seconds of our reply, and VSS
 * on the host gives its own writers about 60 s between freeze and thaw,
 * so a backup still waiting after twice that has failed on the host side,
 * while every writer in the guest has been blocked for two minutes.
 */
#define DEFAULT_THAW_TIMEOUT_USEC (120 * USEC_PER_SEC)
#define DEFAULT_HOOK_TIMEOUT_USEC (30 * USEC_PER_SEC)
/* All freeze hooks together stay well inside the kernel's 900 s. */
#define FREEZE_HOOKS_BUDGET_USEC (600 * USEC_PER_SEC)
#define MAX_DURATION_USEC (86400 * USEC_PER_SEC)
#define MOUNTINFO "/proc/self/mountinfo"
#define ARG_LIST_MAX 64

enum {
	OPT_HOOKS_DIR = 0x2000,
	OPT_HOOK_TIMEOUT,
	OPT_THAW_TIMEOUT,
	OPT_EXCLUDE,
	OPT_ONLY,
	OPT_LIST_TARGETS,
	OPT_THAW_STALE,
};

struct daemon {
	struct hv_chardev_conn conn;
	int sigfd;
	struct vss_watchdog wd;
	char marker[PATH_MAX];
	char marker_dir[PATH_MAX];
	char hooks_dir[PATH_MAX];

	/* The freeze in progress, if any. */
	struct freeze_set *set;
	struct hook_list *hooks;
	size_t hooks_started; /* owed a closing call */
	int pending_close; /* hook phase to run after the reply, or -1 */
	uint64_t since; /* wall clock, for the marker */
	uint64_t frozen_at; /* monotonic */
	bool thaw_failed; /* the watchdog is retrying a failed thaw */
	const char *failed_hook; /* the freeze hook that failed */
	/* Why we thawed before the host's THAW; that THAW then fails. */
	char early_thaw[128];

	uint8_t msg[64];
};

static const char *arg_device;
static const char *arg_hooks_dir;
static uint64_t arg_hook_timeout = DEFAULT_HOOK_TIMEOUT_USEC;
static uint64_t arg_thaw_timeout = DEFAULT_THAW_TIMEOUT_USEC;
static const char *arg_exclude[ARG_LIST_MAX + 1];
static size_t arg_n_exclude;
static const char *arg_only[ARG_LIST_MAX + 1];
static size_t arg_n_only;
static bool arg_list_targets, arg_thaw_stale;

static void help(void)
{
	printf("Usage: hv_vss_daemon [OPTION]...\n"
	       "Freeze and thaw filesystems for Hyper-V live backups and "
	       "production\ncheckpoints (VSS).\n"
	       "\n"
	       "  -D, --device=PATH    VSS device (default <dev-dir>/vmbus/hv_vss)\n"
	       "      --hooks-dir=DIR  freeze hooks (default <conf-dir>/hvis/vss-hooks.d)\n"
	       "      --hook-timeout=T time limit per hook (default 30s)\n"
	       "      --thaw-timeout=T auto-thaw when the host's THAW has not come\n"
	       "                       T after a freeze (default 120s, 0: never)\n"
	       "      --exclude=GLOB   never freeze mount points matching GLOB\n"
	       "                       (repeatable)\n"
	       "      --only=PATH      freeze only mount points at or below PATH\n"
	       "                       (repeatable)\n"
	       "      --list-targets   print what a FREEZE would freeze and exit\n"
	       "      --thaw-stale     thaw what a dead daemon left frozen and exit\n" HV_COMMON_OPTIONS_HELP
	       "\n"
	       "Durations: a number with an optional unit ms, s (default) or min.\n"
	       "Exit status: 0 stopped by a signal with nothing left frozen (or\n"
	       "--thaw-stale/--list-targets succeeded), 1 other errors or a thaw\n"
	       "failed, 64 bad usage, 69 no VSS device or another daemon has it,\n"
	       "73 the run directory cannot be created. See hv_vss_daemon(8).\n");
}

/* "30", "30s", "500ms", "2min" -> usec, at most a day. */
static int parse_duration(const char *s, uint64_t *ret)
{
	static const struct {
		const char *unit;
		uint64_t usec;
	} units[] = {
		{ "", USEC_PER_SEC },
		{ "s", USEC_PER_SEC },
		{ "ms", 1000 },
		{ "min", 60 * USEC_PER_SEC },
	};
	char num[24];
	size_t n = 0, i;
	uint64_t v;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	if (hv_parse_u64(num, &v) < 0)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(s + n, units[i].unit) != 0)
			continue;
		if (v > MAX_DURATION_USEC / units[i].usec)
			return -ERANGE;
		*ret = v * units[i].usec;
		return 0;
	}
	return -EINVAL;
}

static int add_arg(const char **list, size_t *n, const char *opt,
		   const char *arg)
{
	if (*n >= ARG_LIST_MAX) {
		fprintf(stderr, "hv_vss_daemon: at most %d --%s options\n",
			ARG_LIST_MAX, opt);
		return -E2BIG;
	}
	list[(*n)++] = arg;
	list[*n] = NULL;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		HV_COMMON_LONG_OPTIONS,
		{ "device", required_argument, NULL, 'D' },
		{ "hooks-dir", required_argument, NULL, OPT_HOOKS_DIR },
		{ "hook-timeout", required_argument, NULL, OPT_HOOK_TIMEOUT },
		{ "thaw-timeout", required_argument, NULL, OPT_THAW_TIMEOUT },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "list-targets", no_argument, NULL, OPT_LIST_TARGETS },
		{ "thaw-stale", no_argument, NULL, OPT_THAW_STALE },
		{},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, HV_COMMON_SHORT_OPTIONS "D:", opts,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			help();
			exit(0);
		case 'V':
			printf("hv_vss_daemon (hvis) %s\n", HVIS_VERSION);
			exit(0);
		case 'D':
			arg_device = optarg;
			break;
		case OPT_HOOKS_DIR:
			arg_hooks_dir = optarg;
			break;
		case OPT_HOOK_TIMEOUT:
		case OPT_THAW_TIMEOUT:
			r = parse_duration(optarg, c == OPT_HOOK_TIMEOUT ?
							   &arg_hook_timeout :
							   &arg_thaw_timeout);
			if (r < 0 ||
			    (c == OPT_HOOK_TIMEOUT && !arg_hook_timeout)) {
				fprintf(stderr,
					"hv_vss_daemon: bad duration '%s' "
					"(e.g. 30s, 500ms, 2min; at most a "
					"day%s)\n",
					optarg,
					c == OPT_HOOK_TIMEOUT ? ", not 0" : "");
				return -EINVAL;
			}
			break;
		case OPT_EXCLUDE:
			if (add_arg(arg_exclude, &arg_n_exclude, "exclude",
				    optarg) < 0)
				return -EINVAL;
			break;
		case OPT_ONLY:
			if (optarg[0] != '/') {
				fprintf(stderr,
					"hv_vss_daemon: --only needs an "
					"absolute path, not '%s'\n",
					optarg);
				return -EINVAL;
			}
			if (add_arg(arg_only, &arg_n_only, "only", optarg) < 0)
				return -EINVAL;
			break;
		case OPT_LIST_TARGETS:
			arg_list_targets = true;
			break;
		case OPT_THAW_STALE:
			arg_thaw_stale = true;
			break;
		default:
			r = hv_common_option_or_fail(c, optarg);
			if (r < 0)
				return r;
		}
	}
	r = hv_cmdline_no_operands("hv_vss_daemon", argc, argv);
	if (r < 0)
		return r;
	if (arg_list_targets && arg_thaw_stale) {
		fprintf(stderr, "hv_vss_daemon: --list-targets and "
				"--thaw-stale exclude each other\n");
		return -EINVAL;
	}
	return 0;
}

static void mounts_config_init(struct mounts_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->exclude = arg_exclude;
	/* No --only: no restriction (NULL); never an empty list. */
	cfg->only = arg_n_only ? arg_only : NULL;
}

/* ------------------------------------------------------------------ */
/* The marker.                                                         */

static int save_marker(struct daemon *d)
{
	const char *paths[HOOKS_MAX];
	_cleanup_free_ char *text = NULL;
	size_t i, len;
	int r;

	if (!freeze_set_any_frozen(d->set) && d->hooks_started == 0)
		return vss_marker_remove(d->marker);
	for (i = 0; i < d->hooks_started && i < HOOKS_MAX; i++)
		paths[i] = d->hooks->run[i].path;
	r = vss_marker_format(d->set, paths, i, getpid(), d->since, &text,
			      &len);
	if (r < 0)
		return r;
	return vss_marker_write(d->marker, text, len);
}

static int record_cb(const struct freeze_set *s, void *userdata)
{
	return save_marker(userdata);
}

/* ------------------------------------------------------------------ */
/* Hooks.                                                              */

static void hook_output(const struct hook_entry *h, const char *line,
			void *userdata)
{
	char esc[HOOK_OUTPUT_LINE_MAX * 4 + 4];

	log_info("hook %s: %s", h->name,
		 hv_log_escape(line, strlen(line), esc, sizeof(esc)));
}

static void hook_done(const struct hook_entry *h, enum hook_phase phase,
		      const struct hook_result *res, int err, void *userdata)
{
	const char *arg = hook_phase_arg(phase);
	double secs = (double)res->usec / 1e6;
	struct daemon *d = userdata;

	if (err < 0 && phase == HOOK_FREEZE)
		d->failed_hook = h->name;
	if (res->lines_dropped)
		log_warning("hook %s %s: %zu more output lines dropped",
			    h->name, arg, res->lines_dropped);
	if (err == 0)
		log_info("hook %s %s: done in %.3f s", h->name, arg, secs);
	else if (err == -ETIMEDOUT)
		log_error("hook %s %s: killed after %.3f s (timeout)", h->name,
			  arg, secs);
	else if (err == -EPROTO)
		log_error("hook %s %s: exit status %d", h->name, arg,
			  res->exit_status);
	else if (err == -EINTR)
		log_error("hook %s %s: killed by signal %d", h->name, arg,
			  res->term_signal);
	else
		log_error_errno(err, "hook %s %s: cannot run %s", h->name, arg,
				h->path);
}

static int hook_start(const struct hook_entry *h, size_t index, void *userdata)
{
	struct daemon *d = userdata;
	int r;

	/* In the marker before it runs: a crash now still gets it a thaw. */
	d->hooks_started = index + 1;
	r = save_marker(d);
	if (r < 0) {
		d->hooks_started = index;
		return log_error_errno(r, "cannot write %s", d->marker);
	}
	log_debug("hook %s freeze: starting", h->name);
	return 0;
}

static void hook_options(struct daemon *d, struct hook_options *o)
{
	*o = (struct hook_options){
		.timeout_usec = arg_hook_timeout,
		.budget_usec = FREEZE_HOOKS_BUDGET_USEC,
		.output = hook_output,
		.start = hook_start,
		.done = hook_done,
		.userdata = d,
	};
}

static void log_skipped_hooks(const struct hook_list *l)
{
	size_t i;

	for (i = 0; i < l->n_skipped; i++) {
		const struct hook_entry *h = &l->skipped[i];

		if (hooks_name_is_leftover(h->name))
			log_debug("hook %s skipped: %s", h->name, h->skip);
		else
			log_warning("hook %s skipped: %s", h->path, h->skip);
	}
}

/* The closing calls owed to the hooks of this freeze, then forget it. */
static void close_hooks(struct daemon *d, enum hook_phase phase)
{
	struct hook_options o;

	if (d->hooks && d->hooks_started) {
		hook_options(d, &o);
		(void)hooks_close(d->hooks, d->hooks_started, phase, &o);
	}
	d->hooks = hooks_free(d->hooks);
	d->hooks_started = 0;
	if (save_marker(d) < 0)
		log_warning("cannot update %s", d->marker);
}

/* ------------------------------------------------------------------ */
/* Freezing and thawing.                                               */

static void log_selection(const struct mount_list *l)
{
	char esc[PATH_MAX];
	size_t i, k;

	if (hv_log_get_max_level() < LOG_DEBUG)
		return;
	for (k = 0; k < l->n_freeze; k++) {
		const struct mount_entry *e = &l->entries[l->freeze[k]];

		log_debug("target %zu: %s (%s %u:%u)", k + 1,
			  hv_log_escape(e->mount_point, strlen(e->mount_point),
					esc, sizeof(esc)),
			  e->fstype, e->major, e->minor);
	}
	for (i = 0; i < l->n_entries; i++) {
		const struct mount_entry *e = &l->entries[i];

		if (e->decision == MOUNT_SKIP && e->reason != MOUNT_SKIP_ONLY)
			log_debug("skip %s (%s): %s: %s",
				  hv_log_escape(e->mount_point,
						strlen(e->mount_point), esc,
						sizeof(esc)),
				  e->fstype, mount_skip_str(e->reason), e->why);
	}
}

/*
 * Writing the marker must never wait on a frozen filesystem: refuse to
 * freeze the one the marker lives on (a --run-dir on a disk).
 */
static int check_marker_location(struct daemon *d, const struct mount_list *l)
{
	struct statx stx;
	size_t k;

	if (statx(AT_FDCWD, d->marker_dir, 0, STATX_MNT_ID, &stx) < 0)
		return log_error_errno(errno, "cannot check %s", d->marker_dir);
	for (k = 0; k < l->n_freeze; k++) {
		const struct mount_entry *e = &l->entries[l->freeze[k]];

		if ((e->major == stx.stx_dev_major &&
		     e->minor == stx.stx_dev_minor) ||
		    ((stx.stx_mask & STATX_MNT_ID) &&
		     e->id == stx.stx_mnt_id)) {
			log_error("the marker directory %s is on %s, which "
				  "would be frozen; it must be on a tmpfs",
				  d->marker_dir, e->mount_point);
			return -EDEADLK;
		}
	}
	return 0;
}

static void log_freeze_failure(const struct freeze_set *s)
{
	char line[PATH_MAX + 256];
	size_t i;

	if (s->failed < s->n)
		log_error("FREEZE failed: %s",
			  freeze_describe(&s->fs[s->failed], line,
					  sizeof(line)));
	for (i = 0; i < s->n; i++)
		if (s->fs[i].state == FREEZE_FS_FROZEN)
			log_error("rollback could not thaw %s",
				  freeze_describe(&s->fs[i], line,
						  sizeof(line)));
}

static void log_thaw_result(const struct freeze_set *s)
{
	char line[PATH_MAX + 256];
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct freeze_fs *e = &s->fs[i];

		if (e->state == FREEZE_FS_THAWED && e->thaw_was_noop)
			log_warning("%s was no longer frozen: someone else "
				    "thawed it during the backup",
				    e->mount_point);
		else if (e->state == FREEZE_FS_FROZEN && e->err)
			log_error("cannot thaw %s",
				  freeze_describe(e, line, sizeof(line)));
	}
}

/*
 * Thaw what we froze and release the log. On failure the set is kept (the
 * watchdog retries) and the marker still lists what is left.
 */
static int thaw_all(struct daemon *d)
{
	size_t n;
	int r = 0;

	(void)vss_watchdog_disarm(&d->wd);
	if (!d->set) {
		hv_log_release();
		return 0;
	}
	n = freeze_set_count(d->set, FREEZE_FS_FROZEN);
	r = freeze_thaw(d->set, &freeze_sys_ops, record_cb, d);
	hv_log_release();
	log_thaw_result(d->set);
	if (r < 0) {
		log_error("%zu filesystems still frozen; retrying in %llu s",
			  freeze_set_count(d->set, FREEZE_FS_FROZEN),
			  THAW_RETRY_USEC / USEC_PER_SEC);
		d->thaw_failed = true;
		(void)vss_watchdog_arm(&d->wd, THAW_RETRY_USEC);
		return r;
	}
	log_info("thawed %zu filesystems after %.3f s frozen", n,
		 (double)(hv_now_usec() - d->frozen_at) / 1e6);
	d->thaw_failed = false;
	d->set = freeze_set_free(d->set, &freeze_sys_ops);
	if (save_marker(d) < 0)
		log_warning("cannot update %s", d->marker);
	return 0;
}

/* Thaw outside a host THAW: the next THAW reports that the host's
 * snapshot may not be consistent. Runs the thaw hooks. */
static int thaw_early(struct daemon *d, const char *why)
{
	int r;

	if (!d->set && !d->hooks_started)
		return 0;
	r = thaw_all(d);
	if (why) {
		hv_strscpy(d->early_thaw, why, sizeof(d->early_thaw));
		log_warning("thawed before the host's THAW: %s", why);
	}
	close_hooks(d, HOOK_THAW);
	return r;
}

static uint32_t do_freeze(struct daemon *d)
{
	_cleanup_(mounts_freep) struct mount_list *l = NULL;
	struct mounts_config cfg;
	struct hook_options o;
	struct freeze_set *set = NULL;
	size_t started = 0;
	uint64_t t0;
	int r;

	if (d->set || d->hooks_started) {
		log_warning("FREEZE while a freeze is in progress: refused");
		return HV_E_FAIL;
	}
	d->early_thaw[0] = '\0';
	r = mounts_read(MOUNTINFO, &l);
	if (r < 0) {
		log_error_errno(r, "FREEZE failed: cannot read %s", MOUNTINFO);
		return HV_E_FAIL;
	}
	mounts_config_init(&cfg);
	r = mounts_select(l, &cfg);
	log_selection(l);
	if (r < 0) {
		size_t i;

		for (i = 0; i < l->n_entries; i++)
			if (l->entries[i].reason == MOUNT_SKIP_UNCHECKED)
				log_error("FREEZE failed: cannot tell whether "
					  "%s is loop-backed: %s",
					  l->entries[i].mount_point,
					  l->entries[i].why);
		log_error_errno(r, "FREEZE failed: mount selection");
		return HV_E_FAIL;
	}
	if (check_marker_location(d, l) < 0)
		return HV_E_FAIL;
	r = freeze_set_from_mounts(l, &set);
	if (r < 0) {
		log_error_errno(r, "FREEZE failed");
		return HV_E_FAIL;
	}
	r = hooks_scan(d->hooks_dir, &d->hooks);
	if (r < 0) {
		log_error_errno(r, "FREEZE failed: hook directory %s",
				d->hooks_dir);
		freeze_set_free(set, NULL);
		return HV_E_FAIL;
	}
	log_skipped_hooks(d->hooks);
	d->since = (uint64_t)time(NULL);

	hook_options(d, &o);
	d->failed_hook = NULL;
	r = hooks_freeze(d->hooks, &o, &started);
	if (r < 0) {
		if (d->failed_hook)
			log_error("FREEZE failed: hook %s failed",
				  d->failed_hook);
		else if (r == -ETIMEDOUT)
			log_error("FREEZE failed: the freeze hooks took longer "
				  "than %llu s together",
				  FREEZE_HOOKS_BUDGET_USEC / USEC_PER_SEC);
		else
			log_error_errno(r, "FREEZE failed: hooks");
		freeze_set_free(set, NULL);
		d->pending_close = HOOK_FREEZE_FAIL;
		return HV_E_FAIL;
	}

	/* From here until the thaw nothing may write to a disk. */
	hv_log_hold(true);
	t0 = hv_now_usec();
	d->set = set;
	r = freeze_run(set, &freeze_sys_ops, record_cb, d);
	if (r < 0) {
		hv_log_release();
		log_freeze_failure(set);
		if (freeze_set_any_frozen(set)) {
			/* The rollback failed: keep trying. */
			d->thaw_failed = true;
			(void)vss_watchdog_arm(&d->wd, THAW_RETRY_USEC);
		} else {
			d->set = freeze_set_free(set, &freeze_sys_ops);
		}
		d->pending_close = HOOK_FREEZE_FAIL;
		return HV_E_FAIL;
	}
	d->frozen_at = hv_now_usec();
	(void)vss_watchdog_arm(&d->wd, 0);
	/* Held until the thaw. */
	log_info("froze %zu filesystems in %.3f ms",
		 freeze_set_count(set, FREEZE_FS_FROZEN),
		 (double)(d->frozen_at - t0) / 1e3);
	return HV_S_OK;
}

static uint32_t do_thaw(struct daemon *d)
{
	if (!d->set && !d->hooks_started) {
		if (d->early_thaw[0]) {
			log_error("THAW: the filesystems were thawed before "
				  "it came (%s); the snapshot may not be "
				  "consistent",
				  d->early_thaw);
			d->early_thaw[0] = '\0';
			return HV_E_FAIL;
		}
		log_info("THAW: nothing is frozen");
		return HV_S_OK;
	}
	d->pending_close = HOOK_THAW;
	return thaw_all(d) < 0 ? HV_E_FAIL : HV_S_OK;
}

/* ------------------------------------------------------------------ */
/* A marker left behind by a daemon that died while frozen.            */

/* Is pid a live hv_vss_daemon (not us, not a zombie)? */
static bool daemon_alive(pid_t pid)
{
	char path[64], buf[256], *comm, *end;

	if (pid <= 0 || pid == getpid())
		return false;
	if (hv_snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid) < 0 ||
	    hv_read_line_file(path, buf, sizeof(buf)) < 0)
		return false;
	comm = strchr(buf, '(');
	end = strrchr(buf, ')');
	if (!comm || !end || end < comm || end[1] != ' ')
		return false;
	*end = '\0';
	if (end[2] == 'Z' || end[2] == 'X')
		return false;
	return strcmp(comm + 1, "hv_vss_daemon") == 0;
}

static int thaw_stale(struct daemon *d)
{
	struct vss_marker *m = NULL;
	struct mount_list *l = NULL;
	struct freeze_set *s = NULL;
	struct hook_list *hooks = NULL;
	struct hook_options o;
	char bad[PATH_MAX + 8];
	size_t missing = 0;
	int r, r2 = 0;

	r = vss_marker_load(d->marker, &m);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		log_error_errno(r, "unusable frozen-state marker %s",
				d->marker);
		if (hv_snprintf(bad, sizeof(bad), "%s.bad", d->marker) >= 0)
			(void)rename(d->marker, bad);
		return r;
	}
	if (daemon_alive(m->pid)) {
		log_error("%s belongs to the running hv_vss_daemon %ld",
			  d->marker, (long)m->pid);
		vss_marker_free(m);
		return -EBUSY;
	}
	log_warning("hv_vss_daemon %ld left %zu filesystems and %zu hooks in "
		    "a freeze (since %llu): undoing it",
		    (long)m->pid, m->n_fs, m->n_hooks,
		    (unsigned long long)m->since);
	r = mounts_read(MOUNTINFO, &l);
	if (r == 0)
		r = vss_marker_to_set(m, l, &s, &missing);
	if (r < 0) {
		log_error_errno(r, "cannot read the mount table");
		goto out;
	}
	if (missing)
		log_warning("%zu filesystems of the marker are no longer "
			    "mounted",
			    missing);
	r = freeze_thaw(s, &freeze_sys_ops, NULL, NULL);
	log_thaw_result(s);
	log_info("thawed %zu filesystems",
		 freeze_set_count(s, FREEZE_FS_THAWED));

	r2 = hooks_from_paths((const char *const *)m->hooks, m->n_hooks,
			      &hooks);
	if (r2 == 0) {
		log_skipped_hooks(hooks);
		hook_options(d, &o);
		(void)hooks_close(hooks, hooks->n_run, HOOK_THAW, &o);
		hooks_free(hooks);
	}
	if (r < 0) {
		/* Keep what is left for the next attempt; the hooks ran. */
		_cleanup_free_ char *text = NULL;
		size_t len;

		if (vss_marker_format(s, NULL, 0, m->pid, m->since, &text,
				      &len) == 0)
			(void)vss_marker_write(d->marker, text, len);
	} else {
		(void)vss_marker_remove(d->marker);
	}
out:
	freeze_set_free(s, &freeze_sys_ops);
	mounts_free(l);
	vss_marker_free(m);
	return r < 0 ? r : r2;
}

/* ------------------------------------------------------------------ */
/* The device.                                                         */

static void device_lost(struct daemon *d, int err)
{
	int r;

	if (hv_chardev_conn_close(&d->conn))
		log_warning_errno(err, "lost %s, reopening",
				  hv_chardev_conn_path(&d->conn));
	/*
	 * The kernel ended the transaction with the fd (§2 close()): the host
	 * will not get our FREEZE reply, and nothing guarantees a THAW.
	 */
	thaw_early(d, "the device was reset while frozen");
	r = hv_chardev_conn_reconnect(&d->conn);
	if (r < 0)
		log_debug_errno(r, "cannot open %s yet",
				hv_chardev_conn_path(&d->conn));
}

static uint32_t dispatch(struct daemon *d, const struct vss_request *req,
			 int decoded)
{
	if (decoded == -EOPNOTSUPP) {
		log_warning("unexpected operation %u (%s): refused", req->op,
			    vss_op_name(req->op));
		return HV_E_FAIL;
	}
	if (decoded == -EINVAL && req->op != VSS_OP_THAW) {
		/* The kernel zeroes them; thawing is safe regardless. */
		log_warning("%s with non-zero reserved bytes: refused",
			    vss_op_name(req->op));
		return HV_E_FAIL;
	}
	switch (req->op) {
	case VSS_OP_FREEZE:
		log_info("FREEZE requested");
		return do_freeze(d);
	case VSS_OP_THAW:
		return do_thaw(d);
	case VSS_OP_HOT_BACKUP:
		log_info("HOT_BACKUP: live backups are supported");
		return HV_S_OK;
	default:
		return HV_E_FAIL;
	}
}

static void handle_device(struct daemon *d)
{
	struct vss_request req;
	uint32_t status;
	ssize_t n;
	int r, w;

	n = hv_chardev_read(&d->conn.dev, d->msg, sizeof(d->msg));
	if (n == -EAGAIN)
		return;
	if (n < 0) {
		device_lost(d, (int)n);
		return;
	}
	if (hv_chardev_conn_state(&d->conn) == HV_CONN_REGISTERING) {
		r = vss_proto_check_register_reply(d->msg, (size_t)n);
		if (r < 0) {
			log_error("unexpected registration reply (%zd bytes)",
				  n);
			device_lost(d, r);
			return;
		}
		log_info("registered with the kernel");
		if (hv_chardev_conn_mark_registered(&d->conn))
			hv_notify_ready();
		hv_notify_status("Waiting for backup requests");
		return;
	}
	r = vss_proto_decode(d->msg, (size_t)n, &req);
	if (r == -EBADMSG) {
		/* Not a VSS message: the stream is out of step. */
		log_warning("%zd-byte message from the kernel", n);
		device_lost(d, r);
		return;
	}
	d->pending_close = -1;
	status = dispatch(d, &req, r);
	vss_proto_set_status(d->msg, status);
	w = hv_chardev_write(&d->conn.dev, d->msg, VSS_MSG_SIZE);
	log_debug("%s answered with 0x%08x", vss_op_name(req.op), status);
	/* The hooks' closing calls come after the reply: the kernel gives a
	 * THAW only 30 s. */
	if (d->pending_close >= 0)
		close_hooks(d, (enum hook_phase)d->pending_close);
	d->pending_close = -1;
	if (w < 0) {
		/*
		 * Also the normal end of the kernel's hibernation THAW (§2):
		 * it resets the service, so the reply is refused.
		 */
		device_lost(d, w);
	}
}

static void handle_watchdog(struct daemon *d)
{
	char why[96];

	if (vss_watchdog_fired(&d->wd) <= 0)
		return;
	if (d->thaw_failed) {
		(void)thaw_all(d);
		if (!d->set)
			close_hooks(d, HOOK_THAW);
		return;
	}
	if (!d->set)
		return;
	hv_snprintf(why, sizeof(why), "no THAW from the host within %.1f s",
		    (double)arg_thaw_timeout / 1e6);
	thaw_early(d, why);
}

/* SIGTERM/SIGINT: undo any freeze, then 0, or 1 if a thaw failed. */
static int stop(struct daemon *d, int sig)
{
	int r = 0;

	if (d->set || d->hooks_started) {
		r = thaw_all(d);
		log_warning("%s while frozen: thawed first", strsignal(sig));
		close_hooks(d, HOOK_THAW);
	}
	log_info("stopping on %s", strsignal(sig));
	hv_notify_stopping();
	return r < 0 ? 1 : 0;
}

static int run(struct daemon *d)
{
	enum { PFD_SIGNAL, PFD_RETRY, PFD_WATCHDOG, PFD_DEVICE, _PFD_MAX };
	struct pollfd pfd[_PFD_MAX];
	int sig;

	for (;;) {
		pfd[PFD_SIGNAL] = (struct pollfd){ d->sigfd, POLLIN, 0 };
		pfd[PFD_RETRY] =
			(struct pollfd){ hv_chardev_conn_timer_fd(&d->conn),
					 POLLIN, 0 };
		pfd[PFD_WATCHDOG] = (struct pollfd){ d->wd.fd, POLLIN, 0 };
		pfd[PFD_DEVICE] = (struct pollfd){ hv_chardev_conn_fd(&d->conn),
						   POLLIN, 0 };
		if (poll(pfd, _PFD_MAX, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error_errno(errno, "poll");
			(void)stop(d, SIGTERM);
			return 1;
		}
		if (pfd[PFD_SIGNAL].revents) {
			sig = hv_signalfd_read(d->sigfd);
			if (sig == SIGTERM || sig == SIGINT)
				return stop(d, sig);
		}
		if (pfd[PFD_WATCHDOG].revents)
			handle_watchdog(d);
		if (pfd[PFD_RETRY].revents &&
		    hv_chardev_conn_on_timer(&d->conn))
			device_lost(d, 0);
		if (pfd[PFD_DEVICE].revents & POLLIN)
			handle_device(d);
		else if (pfd[PFD_DEVICE].revents &
			 (POLLERR | POLLHUP | POLLNVAL))
			device_lost(d, -ECONNRESET);
	}
}

static int list_targets(void)
{
	_cleanup_(mounts_freep) struct mount_list *l = NULL;
	struct mounts_config cfg;
	size_t i, k;
	int r, sel;

	r = mounts_read(MOUNTINFO, &l);
	if (r < 0) {
		fprintf(stderr, "hv_vss_daemon: cannot read %s: %s\n",
			MOUNTINFO, strerror(-r));
		return 1;
	}
	mounts_config_init(&cfg);
	sel = mounts_select(l, &cfg);
	for (k = 0; k < l->n_freeze; k++) {
		const struct mount_entry *e = &l->entries[l->freeze[k]];
		_cleanup_free_ char *mp = NULL;

		if (vss_escape(e->mount_point, &mp) < 0)
			return 1;
		printf("freeze\t%s\t%s\t%u:%u\n", mp, e->fstype, e->major,
		       e->minor);
	}
	for (i = 0; i < l->n_entries; i++) {
		const struct mount_entry *e = &l->entries[i];
		_cleanup_free_ char *mp = NULL;

		if (e->decision != MOUNT_SKIP)
			continue;
		if (vss_escape(e->mount_point, &mp) < 0)
			return 1;
		printf("skip\t%s\t%s\t%s\t%s\n", mp, e->fstype,
		       mount_skip_str(e->reason), e->why);
	}
	if (sel < 0) {
		fprintf(stderr, "hv_vss_daemon: selection failed: %s\n",
			strerror(-sel));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct daemon d = { .conn = HV_CHARDEV_CONN_NULL,
				   .sigfd = -1,
				   .wd = { .fd = -1 },
				   .pending_close = -1 };
	char dev_path[PATH_MAX];
	int r, c;

	r = parse_args(argc, argv);
	if (r < 0) {
		fprintf(stderr, "Try 'hv_vss_daemon --help'.\n");
		return EX_USAGE;
	}
	if (arg_list_targets)
		return list_targets();
	hv_log_open("hv_vss_daemon", hv_common_log_target());

	if (arg_device)
		r = hv_snprintf(dev_path, sizeof(dev_path), "%s", arg_device);
	else
		r = hv_path(HV_PATH_DEV, "vmbus/hv_vss", dev_path,
			    sizeof(dev_path));
	if (r >= 0 && arg_hooks_dir)
		r = hv_snprintf(d.hooks_dir, sizeof(d.hooks_dir), "%s",
				arg_hooks_dir);
	else if (r >= 0)
		r = hv_path(HV_PATH_CONF, "hvis/vss-hooks.d", d.hooks_dir,
			    sizeof(d.hooks_dir));
	if (r < 0 ||
	    hv_path(HV_PATH_RUN, VSS_MARKER_REL, d.marker, sizeof(d.marker)) <
		    0 ||
	    hv_path(HV_PATH_RUN, "hvis", d.marker_dir, sizeof(d.marker_dir)) <
		    0) {
		log_error("a path is too long");
		return EX_USAGE;
	}
	r = hv_mkdir_parents(d.marker_dir, 0755);
	if (r < 0) {
		log_error_errno(r, "cannot create %s", d.marker_dir);
		return EX_CANTCREAT;
	}

	if (arg_thaw_stale) {
		r = thaw_stale(&d);
		return r == -EBUSY ? EX_UNAVAILABLE : r < 0 ? 1 : 0;
	}
	r = thaw_stale(&d);
	if (r == -EBUSY)
		return EX_UNAVAILABLE;

	if (!arg_thaw_timeout)
		log_warning("--thaw-timeout=0: no auto-thaw; a lost THAW "
			    "leaves the filesystems frozen");
	d.sigfd = hv_signalfd_open();
	vss_proto_build_register(d.msg);
	c = hv_chardev_conn_init(&d.conn, dev_path, d.msg, VSS_MSG_SIZE);
	r = vss_watchdog_init(&d.wd, arg_thaw_timeout);
	if (d.sigfd < 0 || c < 0 || r < 0) {
		log_error_errno(d.sigfd < 0 ? d.sigfd :
				c < 0	    ? c :
					      r,
				"event loop setup");
		return 1;
	}

	r = hv_chardev_conn_connect(&d.conn);
	if (r < 0) {
		if (r == -EBUSY)
			log_error("%s is busy: is another VSS daemon running?",
				  dev_path);
		else
			log_error_errno(
				r,
				"cannot open %s (is this a Hyper-V guest "
				"with hv_utils loaded?)",
				dev_path);
		r = EX_UNAVAILABLE;
	} else {
		r = run(&d);
	}

	hv_chardev_conn_done(&d.conn);
	freeze_set_free(d.set, &freeze_sys_ops);
	hooks_free(d.hooks);
	vss_watchdog_done(&d.wd);
	close(d.sigfd);
	return r;
}
