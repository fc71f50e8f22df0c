/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>

#include "hooks.h"
#include "hvis/loop.h"
#include "hvis/spawn.h"
#include "hvis/util.h"

#define MAX_HOOKS 256
#define MAX_ENV 512

extern char **environ;

static bool hook_name_ok(const char *name)
{
	if (name[0] == '.' || name[0] == '\0' || strlen(name) > NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return true;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The sorted hook names; *ret_n of them. */
static int list_hooks(const char *dir, char ***ret, size_t *ret_n)
{
	char **names = calloc(MAX_HOOKS, sizeof(*names));
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if (!names)
		return -ENOMEM;
	d = opendir(dir);
	if (!d) {
		int r = errno == ENOENT ? 0 : -errno;

		free(names);
		*ret = NULL;
		*ret_n = 0;
		return r;
	}
	while ((de = readdir(d)) && n < MAX_HOOKS) {
		if (!hook_name_ok(de->d_name))
			continue;
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			closedir(d);
			free_names(names, n);
			return -ENOMEM;
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	*ret = names;
	*ret_n = n;
	return 0;
}

static int check_hook(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
		return -ENOEXEC;
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

/* env, then the daemon's environment: the first match wins in getenv. */
static char **build_env(char *const *env)
{
	size_t n = 0, k = 0;
	char **out;

	while (environ && environ[n] && n < MAX_ENV)
		n++;
	while (env && env[k])
		k++;
	out = calloc(n + k + 1, sizeof(*out));
	if (!out)
		return NULL;
	memcpy(out, env, k * sizeof(*out));
	if (n)
		memcpy(out + k, environ, n * sizeof(*out));
	return out;
}

int shutdown_hooks_run(const char *dir, const char *arg, char *const *env,
		       uint64_t budget_usec, shutdown_hook_report_fn report,
		       void *userdata)
{
	struct hv_spawn_opts o = { .new_pgrp = true,
				   .stdin_fd = -1,
				   .stdout_fd = STDERR_FILENO,
				   .stderr_fd = STDERR_FILENO };
	uint64_t deadline = hv_now_usec() + budget_usec;
	_cleanup_free_ char **envp = NULL;
	char **names;
	size_t n;
	int started = 0, r;

	r = list_hooks(dir, &names, &n);
	if (r < 0 || n == 0)
		return r;
	envp = build_env(env);
	if (!envp) {
		free_names(names, n);
		return -ENOMEM;
	}
	o.envp = envp;
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		uint64_t now = hv_now_usec();
		pid_t pid;
		int status;

		if (now >= deadline) {
			report(names[i], -ETIME, userdata);
			continue;
		}
		if (hv_snprintf(path, sizeof(path), "%s/%s", dir, names[i]) <
		    0) {
			report(names[i], -ENAMETOOLONG, userdata);
			continue;
		}
		r = check_hook(path);
		if (r == 0)
			r = hv_spawn(path,
				     (char *[]){ path, (char *)arg, NULL }, &o,
				     &pid);
		if (r < 0) {
			report(names[i], r, userdata);
			continue;
		}
		started++;
		r = hv_spawn_wait(pid, deadline - now, &status);
		if (r == 0)
			r = WIFEXITED(status) ? WEXITSTATUS(status) : -ECHILD;
		report(names[i], r, userdata);
	}
	free_names(names, n);
	return started;
}
