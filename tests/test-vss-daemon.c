/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_vss_daemon, the real binary, against the simulated kernel and host
 * (tests/hvsim/hvsim-vss.h): registration, the operations, hooks and their
 * contract, the auto-thaw watchdog, SIGTERM and SIGKILL while frozen, the
 * marker, the hibernation THAW, device loss and bad input.
 *
 * No filesystem is frozen here: every daemon runs with --only pointing at
 * a directory of the test that is not a mount point, and each start first
 * asserts with --list-targets that the selection is empty. Real freezing
 * is tests/test-vss-system.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "daemon-spawn.h"
#include "hvis/util.h"
#include "hvsim/hvsim-vss.h"

#define WAIT_MS HVIS_TIMEOUT(10000)

extern char **environ;

struct fx {
	char root[64];
	char dev[128];
	char run[128];
	char conf[128];
	char hooks[160];
	char only[128];
	char marker[160];
	char log[128];
	char hooklog[128];
	struct hvsim_cdev *cd;
	struct hvsim_vss *v;
	pid_t pid;
};

static const char *build_dir(void)
{
	const char *b = getenv("BUILD");

	return b ? b : "build";
}

static void bin_path(char *p, size_t size)
{
	snprintf(p, size, "%s/hv_vss_daemon", build_dir());
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static bool file_contains(const char *path, const char *needle)
{
	static char buf[262144];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, needle) != NULL;
}

static const char *read_text(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Serve the device until needle shows up in path (work after a reply). */
static void wait_contains(struct fx *f, const char *path, const char *needle)
{
	struct timespec ts;
	time_t end;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + WAIT_MS / 1000;
	while (!file_contains(path, needle)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec > end)
			fail_msg("'%s' never appeared in %s; daemon log:\n%s",
				 needle, path, read_text(f->log));
		hvsim_cdev_run(f->cd, 10);
	}
}

/* Serve the device until path is gone (the daemon's work after a reply). */
static void wait_gone(struct fx *f, const char *path)
{
	struct timespec ts;
	time_t end;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + WAIT_MS / 1000;
	while (access(path, F_OK) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec > end)
			fail_msg("%s never went away; daemon log:\n%s", path,
				 read_text(f->log));
		hvsim_cdev_run(f->cd, 10);
	}
}

/* The same, with no device to serve: inotify on the file's directory. */
static void wait_contains_nodev(struct fx *f, const char *path,
				const char *needle)
{
	char buf[4096];
	int fd = inotify_init1(IN_CLOEXEC);
	struct pollfd p = { .fd = fd, .events = POLLIN };

	assert_true(fd >= 0);
	assert_true(inotify_add_watch(fd, f->root, IN_MODIFY | IN_CREATE) >= 0);
	while (!file_contains(path, needle)) {
		if (poll(&p, 1, WAIT_MS) != 1)
			fail_msg("'%s' never appeared in %s; daemon log:\n%s",
				 needle, path, read_text(f->log));
		assert_true(read(fd, buf, sizeof(buf)) > 0);
	}
	close(fd);
}

/* Serve the device until the daemon has registered n times in all. */
static void wait_registrations(struct fx *f, unsigned n)
{
	struct timespec ts;
	time_t end;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + WAIT_MS / 1000;
	while (hvsim_cdev_stats(f->cd)->registrations < n ||
	       hvsim_cdev_state(f->cd) < HVSIM_CDEV_READY) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec > end)
			fail_msg("no registration %u; daemon log:\n%s", n,
				 read_text(f->log));
		hvsim_cdev_run(f->cd, 10);
	}
}

/* A hook appending "<name> <args>" to the hook log, then running body. */
static void hook(struct fx *f, const char *name, const char *body)
{
	char path[256], text[1024];

	snprintf(path, sizeof(path), "%s/%s", f->hooks, name);
	snprintf(text, sizeof(text), "#!/bin/sh\necho \"%s $*\" >> %s\n%s\n",
		 name, f->hooklog, body ? body : "exit 0");
	write_file(path, text, 0755);
}

static int run_cmd(char *const argv[], const char *out)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out,
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
					 O_WRONLY, 0);
	assert_int_equal(
		hvis_spawn_daemon(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The common options: the simulator's device, the test's dirs. */
static int base_argv(struct fx *f, char **argv, char *bin, size_t binsize)
{
	int n = 0;

	bin_path(bin, binsize);
	argv[n++] = bin;
	argv[n++] = "--dev-dir";
	argv[n++] = (char *)f->root;
	argv[n++] = "--run-dir";
	argv[n++] = f->run;
	argv[n++] = "--conf-dir";
	argv[n++] = f->conf;
	argv[n++] = "--only";
	argv[n++] = f->only;
	return n;
}

/* The guard: what this daemon would freeze must be nothing at all. */
static void assert_selection_empty(struct fx *f)
{
	char bin[256], out[192];
	char *argv[16];
	int n = base_argv(f, argv, bin, sizeof(bin));

	argv[n++] = "--list-targets";
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/targets", f->root);
	assert_int_equal(run_cmd(argv, out), 0);
	if (file_contains(out, "freeze\t"))
		fail_msg("selection not empty:\n%s", read_text(out));
}

static pid_t spawn_daemon(struct fx *f, const char *const *extra)
{
	char bin[256];
	posix_spawn_file_actions_t fa;
	char *argv[32];
	int n;
	pid_t pid;

	assert_selection_empty(f);
	n = base_argv(f, argv, bin, sizeof(bin));
	argv[n++] = "--log=stderr";
	argv[n++] = "--debug";
	while (extra && *extra)
		argv[n++] = (char *)*extra++;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, f->log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	assert_int_equal(hvis_spawn_daemon(&pid, bin, &fa, NULL, argv, environ),
			 0);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

static void start(struct fx *f, const char *const *extra)
{
	f->pid = spawn_daemon(f, extra);
	if (hvsim_cdev_wait_ready(f->cd, WAIT_MS) < 0)
		fail_msg("daemon did not register; log:\n%s",
			 read_text(f->log));
}

/* Wait for the daemon to exit while serving the device; its status. */
static int wait_exit(struct fx *f, pid_t pid)
{
	struct timespec ts;
	time_t end;
	int st;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + WAIT_MS / 1000;
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec > end)
			fail_msg("daemon did not exit; log:\n%s",
				 read_text(f->log));
		hvsim_cdev_run(f->cd, 10);
	}
	if (pid == f->pid) {
		/* Its connection must be seen closed before a restart. */
		f->pid = 0;
		if (f->cd)
			assert_int_equal(hvsim_cdev_wait_closed(f->cd, WAIT_MS),
					 0);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256];

	assert_non_null(f);
	hv_strscpy(f->root, "/tmp/hvis-vssd.XXXXXX", sizeof(f->root));
	assert_non_null(mkdtemp(f->root));
	snprintf(p, sizeof(p), "%s/vmbus", f->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(f->dev, sizeof(f->dev), "%s/vmbus/hv_vss", f->root);
	snprintf(f->run, sizeof(f->run), "%s/run", f->root);
	snprintf(f->conf, sizeof(f->conf), "%s/etc", f->root);
	snprintf(f->hooks, sizeof(f->hooks), "%s/hvis/vss-hooks.d", f->conf);
	snprintf(f->only, sizeof(f->only), "%s/mnt", f->root);
	snprintf(f->marker, sizeof(f->marker), "%s/hvis/vss-frozen", f->run);
	snprintf(f->log, sizeof(f->log), "%s/daemon.log", f->root);
	snprintf(f->hooklog, sizeof(f->hooklog), "%s/hooks.log", f->root);
	assert_int_equal(mkdir(f->conf, 0755), 0);
	snprintf(p, sizeof(p), "%s/hvis", f->conf);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(mkdir(f->hooks, 0755), 0);
	assert_int_equal(mkdir(f->only, 0755), 0);
	assert_int_equal(hvsim_cdev_new(f->dev, HVSIM_CDEV_VSS, &f->cd), 0);
	assert_int_equal(hvsim_vss_new(f->cd, &f->v), 0);
	hvsim_vss_set_timeouts(f->v, WAIT_MS, WAIT_MS);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	hvsim_vss_free(f->v);
	hvsim_cdev_free(f->cd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static uint32_t freeze(struct fx *f)
{
	uint32_t st;

	assert_int_equal(hvsim_vss_freeze(f->v, &st), 0);
	return st;
}

static uint32_t thaw(struct fx *f)
{
	uint32_t st;

	assert_int_equal(hvsim_vss_thaw(f->v, &st), 0);
	return st;
}

/* ---- tests ---- */

static void test_register_and_ops(void **state)
{
	struct fx *f = *state;
	uint32_t st, flags;

	start(f, NULL);
	assert_int_equal(hvsim_cdev_registered_as(f->cd), VSS_OP_REGISTER1);
	assert_int_equal(hvsim_vss_hot_backup(f->v, &st, &flags), 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(hvsim_vss_last_path(f->v), HVSIM_VSS_PATH_DAEMON);
	/* A THAW with nothing frozen is fine. */
	assert_int_equal(thaw(f), HV_S_OK);
	/* Nothing selected: an empty freeze succeeds and thaws. */
	assert_int_equal(freeze(f), HV_S_OK);
	assert_int_equal(thaw(f), HV_S_OK);
	wait_contains(f, f->log, "thawed 0 filesystems");
	assert_int_equal(access(f->marker, F_OK), -1);
	assert_int_equal(hvsim_cdev_stats(f->cd)->resets, 0);
}

/* Logging is held from the freeze to the thaw. */
static void test_log_held_while_frozen(void **state)
{
	struct fx *f = *state;

	start(f, NULL);
	assert_int_equal(freeze(f), HV_S_OK);
	assert_true(file_contains(f->log, "FREEZE requested"));
	assert_false(file_contains(f->log, "froze 0 filesystems"));
	assert_int_equal(thaw(f), HV_S_OK);
	wait_contains(f, f->log, "froze 0 filesystems");
}

static void test_hooks_order_and_args(void **state)
{
	struct fx *f = *state;

	hook(f, "20-b", NULL);
	hook(f, "10-a", NULL);
	hook(f, "30-c.dpkg-old", NULL);
	hook(f, "40-d~", NULL);
	start(f, NULL);
	assert_int_equal(freeze(f), HV_S_OK);
	/* The freeze hooks ran before the reply, and are in the marker. */
	assert_string_equal(read_text(f->hooklog),
			    "10-a freeze\n20-b freeze\n");
	assert_true(file_contains(f->marker, "hook "));
	assert_true(file_contains(f->marker, "/10-a\n"));
	assert_int_equal(thaw(f), HV_S_OK);
	wait_contains(f, f->hooklog, "10-a thaw\n");
	assert_string_equal(read_text(f->hooklog),
			    "10-a freeze\n20-b freeze\n20-b thaw\n10-a thaw\n");
	/* The marker goes once the hooks have had their thaw. */
	wait_gone(f, f->marker);
}

static void test_failing_hook(void **state)
{
	struct fx *f = *state;

	hook(f, "10-a", NULL);
	hook(f, "20-b", "exit 7");
	hook(f, "30-c", NULL);
	start(f, NULL);
	assert_int_equal(freeze(f), HV_E_FAIL);
	wait_contains(f, f->hooklog, "10-a freezeFail\n");
	assert_string_equal(read_text(f->hooklog),
			    "10-a freeze\n20-b freeze\n20-b freezeFail\n"
			    "10-a freezeFail\n");
	assert_true(file_contains(f->log, "hook 20-b freeze: exit status 7"));
	assert_true(file_contains(f->log, "FREEZE failed: hook 20-b failed"));
	wait_gone(f, f->marker);
	/* The host's THAW after the failed FREEZE: nothing to do. */
	assert_int_equal(thaw(f), HV_S_OK);
}

static void test_hook_timeout(void **state)
{
	static const char *const extra[] = { "--hook-timeout=300ms", NULL };
	struct fx *f = *state;
	struct timespec a, b;

	hook(f, "10-slow", "exec sleep 60");
	start(f, extra);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(freeze(f), HV_E_FAIL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 10);
	assert_true(file_contains(f->log, "hook 10-slow freeze: killed after"));
	wait_contains(f, f->hooklog, "10-slow freezeFail\n");
}

static void test_hook_output_logged(void **state)
{
	struct fx *f = *state;

	hook(f, "10-talk", "echo \"quiescing db\"\necho 'to stderr' >&2");
	start(f, NULL);
	assert_int_equal(freeze(f), HV_S_OK);
	assert_true(file_contains(f->log, "hook 10-talk: quiescing db"));
	assert_true(file_contains(f->log, "hook 10-talk: to stderr"));
	assert_int_equal(thaw(f), HV_S_OK);
}

static void test_watchdog(void **state)
{
	static const char *const extra[] = { "--thaw-timeout=300ms", NULL };
	struct fx *f = *state;

	hook(f, "10-a", NULL);
	start(f, extra);
	assert_int_equal(freeze(f), HV_S_OK);
	/* No THAW: the watchdog thaws and the hooks get their thaw. */
	wait_contains(f, f->hooklog, "10-a thaw\n");
	wait_contains(f, f->log, "no THAW from the host within 0.3 s");
	wait_gone(f, f->marker);
	/* The late THAW is told the truth. */
	assert_int_equal(thaw(f), HV_E_FAIL);
	assert_true(file_contains(f->log, "may not be consistent"));
	/* Only once: the next backup is clean. */
	assert_int_equal(thaw(f), HV_S_OK);
	assert_int_equal(freeze(f), HV_S_OK);
	assert_int_equal(thaw(f), HV_S_OK);
}

static void test_second_freeze_refused(void **state)
{
	struct fx *f = *state;

	hook(f, "10-a", NULL);
	start(f, NULL);
	assert_int_equal(freeze(f), HV_S_OK);
	assert_int_equal(freeze(f), HV_E_FAIL);
	assert_string_equal(read_text(f->hooklog), "10-a freeze\n");
	assert_int_equal(thaw(f), HV_S_OK);
	wait_contains(f, f->hooklog, "10-a thaw\n");
}

static void test_sigterm_while_frozen(void **state)
{
	struct fx *f = *state;

	hook(f, "10-a", NULL);
	start(f, NULL);
	assert_int_equal(freeze(f), HV_S_OK);
	assert_int_equal(access(f->marker, F_OK), 0);
	assert_int_equal(kill(f->pid, SIGTERM), 0);
	assert_int_equal(wait_exit(f, f->pid), 0);
	assert_string_equal(read_text(f->hooklog), "10-a freeze\n10-a thaw\n");
	assert_true(file_contains(f->log, "while frozen: thawed first"));
	assert_int_equal(access(f->marker, F_OK), -1);
}

static void test_sigkill_then_restart(void **state)
{
	struct fx *f = *state;

	hook(f, "10-a", NULL);
	hook(f, "20-b", NULL);
	start(f, NULL);
	assert_int_equal(freeze(f), HV_S_OK);
	assert_int_equal(kill(f->pid, SIGKILL), 0);
	assert_int_equal(wait_exit(f, f->pid), 128 + SIGKILL);
	/* The marker outlived it. */
	assert_true(file_contains(f->marker, "/20-b\n"));
	/* The next daemon undoes the freeze before it registers. */
	start(f, NULL);
	assert_string_equal(read_text(f->hooklog),
			    "10-a freeze\n20-b freeze\n20-b thaw\n10-a thaw\n");
	assert_int_equal(access(f->marker, F_OK), -1);
	assert_true(file_contains(f->log, "left 0 filesystems and 2 hooks"));
	assert_int_equal(freeze(f), HV_S_OK);
	assert_int_equal(thaw(f), HV_S_OK);
}

static void test_thaw_stale(void **state)
{
	struct fx *f = *state;
	char bin[256], out[192];
	char *argv[16];
	int n;

	hook(f, "10-a", NULL);
	start(f, NULL);
	assert_int_equal(freeze(f), HV_S_OK);
	assert_int_equal(kill(f->pid, SIGKILL), 0);
	wait_exit(f, f->pid);
	/* What the unit's ExecStopPost runs. */
	n = base_argv(f, argv, bin, sizeof(bin));
	argv[n++] = "--thaw-stale";
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/stale.out", f->root);
	assert_int_equal(run_cmd(argv, out), 0);
	assert_string_equal(read_text(f->hooklog), "10-a freeze\n10-a thaw\n");
	assert_int_equal(access(f->marker, F_OK), -1);
	/* Nothing left: a second run is a no-op. */
	assert_int_equal(run_cmd(argv, out), 0);
	assert_string_equal(read_text(f->hooklog), "10-a freeze\n10-a thaw\n");
}

static void test_corrupt_marker(void **state)
{
	struct fx *f = *state;
	char p[256], bad[200];

	snprintf(p, sizeof(p), "%s/hvis", f->run);
	assert_int_equal(mkdir(f->run, 0755), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(f->marker, "this is not a marker\n", 0600);
	start(f, NULL);
	snprintf(bad, sizeof(bad), "%s.bad", f->marker);
	assert_int_equal(access(bad, F_OK), 0);
	assert_int_equal(access(f->marker, F_OK), -1);
	assert_true(file_contains(f->log, "unusable frozen-state marker"));
	assert_int_equal(freeze(f), HV_S_OK);
	assert_int_equal(thaw(f), HV_S_OK);
}

static void test_hibernation_thaw(void **state)
{
	struct fx *f = *state;

	hook(f, "10-a", NULL);
	start(f, NULL);
	assert_int_equal(freeze(f), HV_S_OK);
	/* §2: the kernel fakes a THAW and refuses the daemon's reply. */
	assert_int_equal(hvsim_vss_hibernate(f->v), 0);
	wait_contains(f, f->hooklog, "10-a thaw\n");
	/* It reopens and registers again. */
	wait_registrations(f, 2);
	assert_int_equal(hvsim_cdev_last_error(f->cd), HVSIM_CDEV_ERR_SPURIOUS);
	assert_int_equal(hvsim_cdev_stats(f->cd)->kernel_closes, 1);
	assert_int_equal(access(f->marker, F_OK), -1);
	assert_int_equal(freeze(f), HV_S_OK);
	assert_int_equal(thaw(f), HV_S_OK);
}

/* The device goes away while frozen: thaw at once, tell the next THAW. */
static void test_device_lost_while_frozen(void **state)
{
	struct fx *f = *state;

	hook(f, "10-a", NULL);
	start(f, NULL);
	assert_int_equal(freeze(f), HV_S_OK);
	hvsim_vss_free(f->v);
	f->v = NULL;
	f->cd = hvsim_cdev_free(f->cd);
	/* Thawed without a host THAW (no device to serve meanwhile). */
	wait_contains_nodev(f, f->hooklog, "10-a thaw\n");
	/* The device comes back. */
	assert_int_equal(hvsim_cdev_new(f->dev, HVSIM_CDEV_VSS, &f->cd), 0);
	assert_int_equal(hvsim_vss_new(f->cd, &f->v), 0);
	hvsim_vss_set_timeouts(f->v, WAIT_MS, WAIT_MS);
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, WAIT_MS), 0);
	assert_int_equal(thaw(f), HV_E_FAIL);
	assert_true(file_contains(f->log, "the device was reset while frozen"));
}

static void test_bad_messages(void **state)
{
	struct fx *f = *state;
	struct hv_vss_msg m = { 0 }, r;
	uint8_t longer[16] = { VSS_OP_THAW };
	ssize_t n;

	start(f, NULL);
	/* Operations the kernel never forwards are refused. */
	m.vss_hdr.operation = VSS_OP_CREATE;
	n = hvsim_cdev_transact(f->cd, &m, sizeof(m), &r, sizeof(r));
	assert_int_equal(n, sizeof(r));
	assert_int_equal((uint32_t)r.error, HV_E_FAIL);
	/* Non-zero reserved bytes: FREEZE refused, THAW still done. */
	m.vss_hdr.operation = VSS_OP_FREEZE;
	m.vss_hdr.reserved[3] = 1;
	n = hvsim_cdev_transact(f->cd, &m, sizeof(m), &r, sizeof(r));
	assert_int_equal(n, sizeof(r));
	assert_int_equal((uint32_t)r.error, HV_E_FAIL);
	m.vss_hdr.operation = VSS_OP_THAW;
	n = hvsim_cdev_transact(f->cd, &m, sizeof(m), &r, sizeof(r));
	assert_int_equal(n, sizeof(r));
	assert_int_equal(r.error, HV_S_OK);
	/* The reply keeps the rest of the message. */
	memset(&m, 0, sizeof(m));
	m.vss_hdr.operation = VSS_OP_HOT_BACKUP;
	m.vss_cf.flags = 0x1234;
	n = hvsim_cdev_transact(f->cd, &m, sizeof(m), &r, sizeof(r));
	assert_int_equal(r.error, HV_S_OK);
	assert_int_equal(r.vss_cf.flags, 0x1234);
	/* A message of the wrong size: the daemon reopens. */
	assert_int_equal(hvsim_cdev_queue(f->cd, longer, sizeof(longer)), 0);
	wait_registrations(f, 2);
	assert_int_equal(hvsim_cdev_stats(f->cd)->resets, 1);
	assert_true(file_contains(f->log, "16-byte message from the kernel"));
	assert_int_equal(freeze(f), HV_S_OK);
	assert_int_equal(thaw(f), HV_S_OK);
}

static void test_command_line(void **state)
{
	struct fx *f = *state;
	char bin[256], out[192];
	char *argv[16];
	int n;
	pid_t second;

	snprintf(out, sizeof(out), "%s/cmd.out", f->root);
	bin_path(bin, sizeof(bin));
	argv[0] = bin;
	argv[1] = "--help";
	argv[2] = NULL;
	assert_int_equal(run_cmd(argv, out), 0);
	assert_true(file_contains(out, "--thaw-timeout"));
	assert_true(file_contains(out, "--list-targets"));
	argv[1] = "--only=relative";
	assert_int_equal(run_cmd(argv, out), 64);
	argv[1] = "--thaw-timeout=soon";
	assert_int_equal(run_cmd(argv, out), 64);
	argv[1] = "--hook-timeout=0";
	assert_int_equal(run_cmd(argv, out), 64);
	argv[1] = "--thaw-timeout=2days";
	assert_int_equal(run_cmd(argv, out), 64);
	argv[1] = "--bogus";
	assert_int_equal(run_cmd(argv, out), 64);
	argv[1] = "--list-targets";
	argv[2] = "--thaw-stale";
	argv[3] = NULL;
	assert_int_equal(run_cmd(argv, out), 64);

	/* --list-targets: every mount with a decision, --only honoured. */
	n = base_argv(f, argv, bin, sizeof(bin));
	argv[n++] = "--list-targets";
	argv[n] = NULL;
	assert_int_equal(run_cmd(argv, out), 0);
	assert_true(file_contains(out, "skip\t/proc\tproc\t"));
	assert_false(file_contains(out, "freeze\t"));

	/* A second daemon finds the device busy. */
	start(f, NULL);
	second = spawn_daemon(f, NULL);
	assert_int_equal(wait_exit(f, second), 69);
	/* No device at all. */
	n = base_argv(f, argv, bin, sizeof(bin));
	argv[n++] = "--device";
	argv[n++] = "/nonexistent/hv_vss";
	argv[n] = NULL;
	assert_int_equal(run_cmd(argv, out), 69);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_and_ops, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_log_held_while_frozen,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hooks_order_and_args,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_hook, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hook_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hook_output_logged, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_freeze_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_while_frozen,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_then_restart,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_thaw_stale, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_marker, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hibernation_thaw, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_device_lost_while_frozen,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_messages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_command_line, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("vss-daemon", tests, NULL, NULL);
}
