/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Freeze hooks with real programs (shell scripts written here): order,
 * arguments, skipped files, failures, timeouts, output, environment and
 * signal state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>

#include "hooks.h"
#include "hvis/util.h"

static char dir[64], hooks_dir[128], logfile[128];

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

/* A hook that appends "<name> <args>" to the log, then runs body. */
static void hook(const char *name, const char *body, mode_t mode)
{
	char path[PATH_MAX], text[2048];

	snprintf(path, sizeof(path), "%s/%s", hooks_dir, name);
	snprintf(text, sizeof(text), "#!/bin/sh\necho \"%s $# $*\" >> %s\n%s\n",
		 name, logfile, body ? body : "exit 0");
	write_file(path, text, mode);
}

static char *read_log(void)
{
	static char buf[4096];
	int fd = open(logfile, O_RDONLY);
	ssize_t n = 0;

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int setup(void **state)
{
	hv_strscpy(dir, "/tmp/hvis-vss-hooks.XXXXXX", sizeof(dir));
	if (!mkdtemp(dir))
		return -1;
	snprintf(hooks_dir, sizeof(hooks_dir), "%s/hooks.d", dir);
	snprintf(logfile, sizeof(logfile), "%s/log", dir);
	return mkdir(hooks_dir, 0755);
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *skip_of(const struct hook_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n_skipped; i++)
		if (strcmp(l->skipped[i].name, name) == 0)
			return l->skipped[i].skip;
	return NULL;
}

static void test_leftover_names(void **state)
{
	static const char *const bad[] = {
		".hidden",    "10-db~",	  "10-db.dpkg-old", "x.dpkg-dist",
		"x.dpkg-new", "x.rpmnew", "x.rpmsave",	    "x.rpmorig",
		"x.ucf-dist", "x.bak",	  "x.orig",	    "x.old",
		"x.swp",      "x.save",	  "x.tmp",	    "x.disabled",
		"#10-db#",    "",
	};
	static const char *const good[] = { "10-db", "20_app.sh", "a.b",
					    "#notclosed", "dpkg-helper" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_true(hooks_name_is_leftover(bad[i]));
	for (i = 0; i < ARRAY_SIZE(good); i++)
		assert_false(hooks_name_is_leftover(good[i]));
	assert_string_equal(hook_phase_arg(HOOK_FREEZE_FAIL), "freezeFail");
	assert_string_equal(hook_phase_arg(_HOOK_PHASE_MAX), "?");
}

static void test_scan(void **state)
{
	struct hook_list *l;
	char p[PATH_MAX], t[PATH_MAX];

	hook("20-b", NULL, 0755);
	hook("10-a", NULL, 0755);
	hook("3-c", NULL, 0700);
	hook("Z", NULL, 0755);
	hook("a", NULL, 0755);
	hook("30-x.dpkg-old", NULL, 0755);
	hook("40-y~", NULL, 0755);
	hook(".hidden", NULL, 0755);
	hook("50-z.rpmnew", NULL, 0755);
	hook("80-noexec", NULL, 0644);
	hook("95-ww", NULL, 0777);
	snprintf(p, sizeof(p), "%s/90-dir", hooks_dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/05-link", hooks_dir);
	snprintf(t, sizeof(t), "%s/10-a", hooks_dir);
	assert_int_equal(symlink(t, p), 0);
	snprintf(p, sizeof(p), "%s/06-dangling", hooks_dir);
	assert_int_equal(symlink("/nonexistent/hook", p), 0);

	assert_int_equal(hooks_scan(hooks_dir, &l), 0);
	/* Byte order, not numeric: "3-c" after "20-b". */
	assert_int_equal(l->n_run, 6);
	assert_string_equal(l->run[0].name, "05-link");
	assert_string_equal(l->run[1].name, "10-a");
	assert_string_equal(l->run[2].name, "20-b");
	assert_string_equal(l->run[3].name, "3-c");
	assert_string_equal(l->run[4].name, "Z");
	assert_string_equal(l->run[5].name, "a");
	snprintf(p, sizeof(p), "%s/20-b", hooks_dir);
	assert_string_equal(l->run[2].path, p);
	assert_null(l->run[0].skip);
	assert_int_equal(l->n_skipped, 8);
	assert_string_equal(skip_of(l, "30-x.dpkg-old"),
			    "leftover or hidden file");
	assert_non_null(skip_of(l, "40-y~"));
	assert_non_null(skip_of(l, ".hidden"));
	assert_non_null(skip_of(l, "50-z.rpmnew"));
	assert_string_equal(skip_of(l, "80-noexec"), "not executable");
	assert_string_equal(skip_of(l, "95-ww"), "writable by group or others");
	assert_string_equal(skip_of(l, "90-dir"), "not a regular file");
	assert_string_equal(skip_of(l, "06-dangling"), "does not exist");
	hooks_free(l);

	/* A missing directory is no hooks; an unsafe one is refused. */
	snprintf(p, sizeof(p), "%s/none", dir);
	assert_int_equal(hooks_scan(p, &l), 0);
	assert_int_equal(l->n_run + l->n_skipped, 0);
	hooks_free(l);
	assert_int_equal(chmod(hooks_dir, 0777), 0);
	assert_int_equal(hooks_scan(hooks_dir, &l), -EPERM);
	assert_int_equal(chmod(hooks_dir, 0755), 0);
	assert_null(hooks_free(NULL));
}

static void test_order_and_args(void **state)
{
	struct hook_options o = { .timeout_usec = 10000000 };
	struct hook_list *l;
	size_t started;

	hook("10-a", NULL, 0755);
	hook("20-b", NULL, 0755);
	hook("30-c", NULL, 0755);
	assert_int_equal(hooks_scan(hooks_dir, &l), 0);
	assert_int_equal(hooks_freeze(l, &o, &started), 0);
	assert_int_equal(started, 3);
	assert_int_equal(hooks_close(l, started, HOOK_THAW, &o), 0);
	assert_string_equal(read_log(), "10-a 1 freeze\n20-b 1 freeze\n"
					"30-c 1 freeze\n30-c 1 thaw\n"
					"20-b 1 thaw\n10-a 1 thaw\n");
	assert_int_equal(hooks_close(l, 3, HOOK_FREEZE, &o), -EINVAL);
	hooks_free(l);
}

struct calls {
	char seen[512];
	int starts;
	int fail_start_at;
};

static int on_start(const struct hook_entry *h, size_t index, void *ud)
{
	struct calls *c = ud;

	c->starts++;
	if (c->fail_start_at && c->starts == c->fail_start_at)
		return -ENOSPC;
	return 0;
}

static void on_done(const struct hook_entry *h, enum hook_phase phase,
		    const struct hook_result *res, int err, void *ud)
{
	struct calls *c = ud;
	size_t n = strlen(c->seen);

	snprintf(c->seen + n, sizeof(c->seen) - n, "%s %s %d %d;", h->name,
		 hook_phase_arg(phase), err, res->exit_status);
}

static void test_failing_hook(void **state)
{
	struct calls c = { 0 };
	struct hook_options o = { .timeout_usec = 10000000,
				  .start = on_start,
				  .done = on_done,
				  .userdata = &c };
	struct hook_list *l;
	size_t started;

	hook("10-a", NULL, 0755);
	hook("20-b", "exit 3", 0755);
	hook("30-c", NULL, 0755);
	assert_int_equal(hooks_scan(hooks_dir, &l), 0);
	assert_int_equal(hooks_freeze(l, &o, &started), -EPROTO);
	/* The failing hook was started, the next one never was. */
	assert_int_equal(started, 2);
	assert_int_equal(c.starts, 2);
	assert_string_equal(c.seen, "10-a freeze 0 0;20-b freeze -71 3;");
	/* Every started hook gets freezeFail, the failed one included. */
	assert_int_equal(hooks_close(l, started, HOOK_FREEZE_FAIL, &o),
			 -EPROTO);
	assert_string_equal(read_log(),
			    "10-a 1 freeze\n20-b 1 freeze\n"
			    "20-b 1 freezeFail\n10-a 1 freezeFail\n");
	hooks_free(l);
}

static void test_start_callback_stops(void **state)
{
	struct calls c = { .fail_start_at = 2 };
	struct hook_options o = { .start = on_start, .userdata = &c };
	struct hook_list *l;
	size_t started;

	hook("10-a", NULL, 0755);
	hook("20-b", NULL, 0755);
	assert_int_equal(hooks_scan(hooks_dir, &l), 0);
	assert_int_equal(hooks_freeze(l, &o, &started), -ENOSPC);
	assert_int_equal(started, 1);
	assert_string_equal(read_log(), "10-a 1 freeze\n");
	hooks_free(l);
}

static bool pid_gone(pid_t pid)
{
	char path[64], buf[256], *p;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && (p[2] == 'Z' || p[2] == 'X');
}

static void test_timeout_kills_group(void **state)
{
	struct hook_result res;
	struct hook_list *l;
	char body[1024], pidfile[160], buf[32];
	int fd, pfd, r;
	ssize_t n;
	pid_t child;

	snprintf(pidfile, sizeof(pidfile), "%s/child.pid", dir);
	snprintf(body, sizeof(body),
		 "sleep 100 &\necho $! > %s.tmp\nmv %s.tmp %s\nwait\n", pidfile,
		 pidfile, pidfile);
	hook("10-slow", body, 0755);
	assert_int_equal(hooks_scan(hooks_dir, &l), 0);
	r = hooks_run_one(&l->run[0], HOOK_FREEZE, 300000, NULL, NULL, &res);
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(res.spawned);
	assert_true(res.timed_out);
	assert_true(res.usec >= 300000);
	assert_true(res.usec < 5000000);
	/* The background sleep went with the hook's process group. */
	fd = open(pidfile, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	child = (pid_t)atoi(buf);
	assert_true(child > 0);
	/* It may still be a zombie of init's: its pidfd says it exited. */
	pfd = pidfd_open(child, 0);
	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 5000), 1);
		close(pfd);
	} else {
		assert_true(pid_gone(child));
	}
	hooks_free(l);
}

static void test_budget(void **state)
{
	struct hook_options o = { .timeout_usec = 60000000,
				  .budget_usec = 200000 };
	struct hook_list *l;
	size_t started;
	uint64_t t0;
	struct timespec ts;

	hook("10-slow", "exec sleep 30", 0755);
	hook("20-never", NULL, 0755);
	assert_int_equal(hooks_scan(hooks_dir, &l), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec;
	assert_int_equal(hooks_freeze(l, &o, &started), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	assert_true((uint64_t)ts.tv_sec - t0 < 10);
	assert_int_equal(started, 1);
	assert_string_equal(read_log(), "10-slow 1 freeze\n");
	hooks_free(l);
}

struct out {
	char text[8192];
	size_t lines;
};

static void on_output(const struct hook_entry *h, const char *line, void *ud)
{
	struct out *o = ud;
	size_t n = strlen(o->text);

	o->lines++;
	if (n + strlen(line) + 2 < sizeof(o->text))
		snprintf(o->text + n, sizeof(o->text) - n, "%s|", line);
}

static void test_output(void **state)
{
	struct out out = { 0 };
	struct hook_result res;
	struct hook_list *l;

	hook("10-talk", "echo hello\necho oops >&2\nprintf 'no newline'", 0755);
	hook("20-flood",
	     "i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); done",
	     0755);
	assert_int_equal(hooks_scan(hooks_dir, &l), 0);
	assert_int_equal(hooks_run_one(&l->run[0], HOOK_THAW, 5000000,
				       on_output, &out, &res),
			 0);
	assert_string_equal(out.text, "hello|oops|no newline|");
	assert_int_equal(res.exit_status, 0);
	memset(&out, 0, sizeof(out));
	assert_int_equal(hooks_run_one(&l->run[1], HOOK_THAW, 5000000,
				       on_output, &out, &res),
			 0);
	assert_int_equal(out.lines, HOOK_OUTPUT_LINES_MAX);
	assert_int_equal(res.lines_dropped, 300 - HOOK_OUTPUT_LINES_MAX);
	hooks_free(l);
}

static void test_environment_and_signals(void **state)
{
	struct hook_result res;
	struct hook_list *l;
	char body[1024], envfile[160], text[4096];
	sigset_t mask, old;
	int fd;
	ssize_t n;

	snprintf(envfile, sizeof(envfile), "%s/env", dir);
	/* env, cwd and whether stdin is at EOF. */
	snprintf(body, sizeof(body),
		 "env | sort > %s\npwd >> %s\n"
		 "if read x; then echo stdin-data >> %s; fi\n",
		 envfile, envfile, envfile);
	hook("10-env", body, 0755);
	hook("20-term", "kill -TERM $$\nsleep 5\nexit 0", 0755);
	setenv("HVIS_TEST_SECRET", "leak", 1);
	assert_int_equal(hooks_scan(hooks_dir, &l), 0);
	assert_int_equal(hooks_run_one(&l->run[0], HOOK_FREEZE, 5000000, NULL,
				       NULL, &res),
			 0);
	fd = open(envfile, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_true(n > 0);
	text[n] = '\0';
	assert_null(strstr(text, "HVIS_TEST_SECRET"));
	assert_null(strstr(text, "stdin-data"));
	assert_non_null(strstr(text, "LC_ALL=C\n"));
	assert_non_null(strstr(text, "PATH=/usr/local/sbin:"));

	/* Signals the daemon blocks are unblocked in the hook. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &old);
	assert_int_equal(hooks_run_one(&l->run[1], HOOK_FREEZE, 5000000, NULL,
				       NULL, &res),
			 -EINTR);
	assert_int_equal(res.term_signal, SIGTERM);
	assert_true(res.usec < 4000000);
	sigprocmask(SIG_SETMASK, &old, NULL);
	unsetenv("HVIS_TEST_SECRET");
	hooks_free(l);
}

static void test_spawn_failure_and_paths(void **state)
{
	struct hook_result res;
	struct hook_list *l;
	char good[PATH_MAX], bad[PATH_MAX], gone[PATH_MAX];
	const char *paths[4];

	snprintf(bad, sizeof(bad), "%s/10-badinterp", hooks_dir);
	write_file(bad, "#!/nonexistent/interpreter\n", 0755);
	hook("20-ok", NULL, 0755);
	snprintf(good, sizeof(good), "%s/20-ok", hooks_dir);
	snprintf(gone, sizeof(gone), "%s/30-gone", hooks_dir);
	paths[0] = good;
	paths[1] = gone;
	paths[2] = "relative";
	paths[3] = bad;
	assert_int_equal(hooks_from_paths(paths, 4, &l), 0);
	assert_int_equal(l->n_run, 2);
	assert_string_equal(l->run[0].name, "20-ok");
	assert_string_equal(l->run[1].name, "10-badinterp");
	assert_int_equal(l->n_skipped, 2);
	assert_string_equal(l->skipped[0].skip, "does not exist");
	assert_string_equal(l->skipped[1].skip, "not an absolute path");
	assert_int_equal(hooks_run_one(&l->run[1], HOOK_THAW, 5000000, NULL,
				       NULL, &res),
			 -ENOENT);
	assert_false(res.spawned);
	assert_int_equal(res.exit_status, -1);
	hooks_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leftover_names),
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_and_args, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failing_hook, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_start_callback_stops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_kills_group, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment_and_signals,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_spawn_failure_and_paths,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("vss-hooks", tests, NULL, NULL);
}
