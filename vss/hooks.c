/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hooks.h"
#include "hvis/loop.h"
#include "hvis/spawn.h"
#include "hvis/util.h"

/* Without pidfd_open (Linux < 5.3) the child is polled this often. */
#define POLL_FALLBACK_MS 20

static const char *const hook_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C",
	NULL,
};

const char *hook_phase_arg(enum hook_phase phase)
{
	static const char *const names[_HOOK_PHASE_MAX] = {
		[HOOK_FREEZE] = "freeze",
		[HOOK_THAW] = "thaw",
		[HOOK_FREEZE_FAIL] = "freezeFail",
	};

	return (unsigned)phase < _HOOK_PHASE_MAX ? names[phase] : "?";
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool hooks_name_is_leftover(const char *name)
{
	static const char *const suffixes[] = {
		"~",	 ".rpmnew", ".rpmsave", ".rpmorig", ".bak",	 ".old",
		".orig", ".save",   ".swp",	".tmp",	    ".disabled",
	};
	size_t i;

	if (name[0] == '\0' || name[0] == '.')
		return true;
	if (name[0] == '#' && ends_with(name, "#"))
		return true;
	if (strstr(name, ".dpkg-") || strstr(name, ".ucf-"))
		return true;
	for (i = 0; i < ARRAY_SIZE(suffixes); i++)
		if (ends_with(name, suffixes[i]))
			return true;
	return false;
}

/* Root (or we) must own it and nobody else may change it. */
static const char *unsafe_owner(const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return "not owned by root";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	return NULL;
}

static const char *check_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? "does not exist" : "cannot be read";
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (!(st.st_mode & S_IXUSR))
		return "not executable";
	return unsafe_owner(&st);
}

static int list_add(struct hook_entry **arr, size_t *n, const char *name,
		    const char *path, const char *skip)
{
	struct hook_entry *a = reallocarray(*arr, *n + 1, sizeof(**arr));
	struct hook_entry *e;

	if (!a)
		return -ENOMEM;
	*arr = a;
	e = &a[*n];
	e->name = strdup(name);
	e->path = strdup(path);
	e->skip = skip;
	if (!e->name || !e->path) {
		free(e->name);
		free(e->path);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

static int add_checked(struct hook_list *l, const char *name, const char *path,
		       bool check_name)
{
	const char *skip = NULL;

	if (check_name && hooks_name_is_leftover(name))
		skip = "leftover or hidden file";
	if (!skip)
		skip = check_file(path);
	if (!skip && l->n_run >= HOOKS_MAX)
		skip = "too many hooks";
	if (skip)
		return list_add(&l->skipped, &l->n_skipped, name, path, skip);
	return list_add(&l->run, &l->n_run, name, path, NULL);
}

struct hook_list *hooks_free(struct hook_list *l)
{
	size_t i;

	if (!l)
		return NULL;
	for (i = 0; i < l->n_run; i++) {
		free(l->run[i].name);
		free(l->run[i].path);
	}
	for (i = 0; i < l->n_skipped; i++) {
		free(l->skipped[i].name);
		free(l->skipped[i].path);
	}
	free(l->run);
	free(l->skipped);
	free(l);
	return NULL;
}

static void hooks_freep(struct hook_list **l)
{
	hooks_free(*l);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int hooks_scan(const char *dir, struct hook_list **ret)
{
	_cleanup_(hooks_freep) struct hook_list *l = NULL;
	char **names = NULL;
	size_t n = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = 0;

	if (!dir || !ret)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			return -errno;
		*ret = TAKE_PTR(l);
		return 0;
	}
	if (fstat(dirfd(d), &st) < 0)
		r = -errno;
	else if (unsafe_owner(&st))
		r = -EPERM;
	if (r < 0) {
		closedir(d);
		return r;
	}
	for (;;) {
		char **nn;

		errno = 0;
		de = readdir(d);
		if (!de) {
			r = errno ? -errno : 0;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		/* Read beyond HOOKS_MAX, so the extra ones are reported. */
		if (n >= 4 * HOOKS_MAX) {
			r = -E2BIG;
			break;
		}
		nn = reallocarray(names, n + 1, sizeof(*names));
		if (!nn) {
			r = -ENOMEM;
			break;
		}
		names = nn;
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r < 0) {
		free_names(names, n);
		return r;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n && r == 0; i++) {
		char path[PATH_MAX];

		if (hv_snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < 0)
			r = list_add(&l->skipped, &l->n_skipped, names[i],
				     names[i], "path too long");
		else
			r = add_checked(l, names[i], path, true);
	}
	free_names(names, n);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(l);
	return 0;
}

int hooks_from_paths(const char *const *paths, size_t n, struct hook_list **ret)
{
	_cleanup_(hooks_freep) struct hook_list *l = NULL;
	size_t i;
	int r;

	if ((n && !paths) || !ret)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *slash = strrchr(paths[i], '/');
		const char *name = slash ? slash + 1 : paths[i];

		if (paths[i][0] != '/')
			r = list_add(&l->skipped, &l->n_skipped, name, paths[i],
				     "not an absolute path");
		else
			r = add_checked(l, name, paths[i], false);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Running.                                                            */

struct out_buf {
	char line[HOOK_OUTPUT_LINE_MAX + 1];
	size_t len;
	size_t lines;
	size_t dropped;
};

static void out_emit(struct out_buf *ob, const struct hook_entry *h,
		     hook_output_fn output, void *userdata)
{
	ob->line[ob->len] = '\0';
	if (ob->lines < HOOK_OUTPUT_LINES_MAX) {
		if (output)
			output(h, ob->line, userdata);
		ob->lines++;
	} else {
		ob->dropped++;
	}
	ob->len = 0;
}

/* Read what is there now; returns false at EOF or error. */
static bool out_read(int fd, struct out_buf *ob, const struct hook_entry *h,
		     hook_output_fn output, void *userdata)
{
	char buf[4096];
	ssize_t n, i;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN;
		if (n == 0)
			return false;
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				out_emit(ob, h, output, userdata);
				continue;
			}
			/* A NUL would cut the line short in the log. */
			ob->line[ob->len++] = buf[i] ? buf[i] : '?';
			if (ob->len == HOOK_OUTPUT_LINE_MAX)
				out_emit(ob, h, output, userdata);
		}
	}
}

static int spawn_hook(const struct hook_entry *h, enum hook_phase phase,
		      int out_fd, pid_t *ret_pid)
{
	char *argv[] = { h->path, (char *)hook_phase_arg(phase), NULL };
	const struct hv_spawn_opts opts = {
		.envp = (char *const *)hook_env,
		.new_pgrp = true,
		.stdin_fd = -1,
		.stdout_fd = out_fd,
		.stderr_fd = out_fd,
	};

	return hv_spawn(h->path, argv, &opts, ret_pid);
}

static void reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

int hooks_run_one(const struct hook_entry *h, enum hook_phase phase,
		  uint64_t timeout_usec, hook_output_fn output, void *userdata,
		  struct hook_result *res)
{
	_cleanup_close_ int pidfd = -1, rd = -1;
	struct out_buf *ob = NULL;
	uint64_t start = hv_now_usec();
	int fds[2], status = 0, r;
	bool out_open = true, exited = false;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	res->exit_status = -1;
	if (!h || !h->path)
		return -EINVAL;
	ob = calloc(1, sizeof(*ob));
	if (!ob)
		return -ENOMEM;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(ob);
		return -errno;
	}
	rd = fds[0];
	r = spawn_hook(h, phase, fds[1], &pid);
	close(fds[1]);
	if (r < 0) {
		free(ob);
		return r;
	}
	res->spawned = true;
	(void)fcntl(rd, F_SETFL, O_NONBLOCK);
	pidfd = pidfd_open(pid, 0);

	while (!exited) {
		struct pollfd p[2] = {
			{ .fd = pidfd, .events = POLLIN },
			{ .fd = out_open ? rd : -1, .events = POLLIN },
		};
		int wait_ms = -1;
		uint64_t now = hv_now_usec();

		if (timeout_usec) {
			uint64_t end = start + timeout_usec;

			if (now >= end) {
				res->timed_out = true;
				break;
			}
			wait_ms = (int)HV_MIN((end - now + 999) / 1000,
					      (uint64_t)INT_MAX);
		}
		if (pidfd < 0 && (wait_ms < 0 || wait_ms > POLL_FALLBACK_MS))
			wait_ms = POLL_FALLBACK_MS;
		if (poll(p, 2, wait_ms) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (p[1].revents)
			out_open = out_read(rd, ob, h, output, userdata);
		if (pidfd < 0 || p[0].revents) {
			pid_t w = waitpid(pid, &status, WNOHANG);

			if (w == pid)
				exited = true;
		}
	}
	if (!exited) {
		/* Timed out (or poll failed): the whole process group goes. */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		reap(pid, &status);
	}
	/* What it printed before exiting; background children may keep the
	 * pipe open, so no waiting for EOF. */
	if (out_open)
		(void)out_read(rd, ob, h, output, userdata);
	if (ob->len)
		out_emit(ob, h, output, userdata);
	res->lines_dropped = ob->dropped;
	free(ob);
	res->usec = hv_now_usec() - start;
	if (r < 0)
		return r;
	if (res->timed_out)
		return -ETIMEDOUT;
	if (WIFSIGNALED(status)) {
		res->term_signal = WTERMSIG(status);
		return -EINTR;
	}
	res->exit_status = WEXITSTATUS(status);
	return res->exit_status == 0 ? 0 : -EPROTO;
}

int hooks_freeze(const struct hook_list *l, const struct hook_options *o,
		 size_t *ret_started)
{
	uint64_t start = hv_now_usec();
	struct hook_result res;
	size_t i;
	int r = 0;

	*ret_started = 0;
	if (!l || !o)
		return -EINVAL;
	for (i = 0; i < l->n_run; i++) {
		uint64_t timeout = o->timeout_usec;

		if (o->budget_usec) {
			uint64_t used = hv_now_usec() - start;

			if (used >= o->budget_usec)
				return -ETIMEDOUT;
			if (!timeout || timeout > o->budget_usec - used)
				timeout = o->budget_usec - used;
		}
		if (o->start) {
			r = o->start(&l->run[i], i, o->userdata);
			if (r < 0)
				return r;
		}
		*ret_started = i + 1;
		r = hooks_run_one(&l->run[i], HOOK_FREEZE, timeout, o->output,
				  o->userdata, &res);
		if (o->done)
			o->done(&l->run[i], HOOK_FREEZE, &res, r, o->userdata);
		if (r < 0)
			return r;
	}
	return 0;
}

int hooks_close(const struct hook_list *l, size_t started,
		enum hook_phase phase, const struct hook_options *o)
{
	struct hook_result res;
	int first = 0, r;
	size_t i;

	if (!l || !o || phase == HOOK_FREEZE)
		return -EINVAL;
	started = HV_MIN(started, l->n_run);
	for (i = started; i-- > 0;) {
		r = hooks_run_one(&l->run[i], phase, o->timeout_usec, o->output,
				  o->userdata, &res);
		if (o->done)
			o->done(&l->run[i], phase, &res, r, o->userdata);
		if (r < 0 && first == 0)
			first = r;
	}
	return first;
}
