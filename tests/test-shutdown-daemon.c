/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_shutdown_daemon, the real binary, against the simulated host on a
 * UIO channel, a real private dbus-daemon and a login1 stand-in
 * (tests/helpers/login1-service) that records every call: the actions
 * and their inhibitor flags, CanHibernate, the fallback without logind,
 * the reply going out before the action, the hand-back around a
 * hibernation, malformed host messages, the users' terminals, hooks and
 * the refusals at start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <utmpx.h>

#include "daemon-spawn.h"
#include "hvis/util.h"
#include "hvis/wire.h"
#include "hvsim/hvsim-shutdown.h"
#include "hvsim/hvsim.h"

#define TIMEOUT_MS HVIS_TIMEOUT(10000)
#define MAX_ARGS 24

extern char **environ;

struct fx {
	char root[64];
	char log[128], rec[128], fallback_log[128], helper_log[128];
	char bus_sock[128], bus_addr[160];
	struct hvsim_uio *u;
	struct hvsim_shutdown *s;
	pid_t dbus, login1, daemon;
};

static const char *build_dir(void)
{
	const char *b = getenv("BUILD");

	return b ? b : "build";
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void fpath(struct fx *f, char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", f->root, rel);
}

static void mkdir_rel(struct fx *f, const char *rel)
{
	char p[256], cmd[300];

	fpath(f, p, sizeof(p), rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", p);
	assert_int_equal(system(cmd), 0);
}

static bool file_has(const char *path, const char *needle)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

/* Count lines of path starting with prefix. */
static int count_lines(const char *path, const char *prefix)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			n++;
	fclose(f);
	return n;
}

static void dump_logs(struct fx *f)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "cd %s && for f in daemon.log login1.log fallback.log "
		 "helper.log; do [ -e $f ] && sed \"s/^/$f: /\" $f; done >&2",
		 f->root);
	(void)!system(cmd);
}

/*
 * Wait until path holds needle; the simulator is pumped meanwhile (it
 * answers the daemon's opens only while it runs).
 */
static void wait_for(struct fx *f, const char *path, const char *needle)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (file_has(path, needle))
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 > TIMEOUT_MS) {
			dump_logs(f);
			fail_msg("'%s' never showed up in %s", needle, path);
		}
		hvsim_uio_run(f->u, 10);
	}
}

/* wrap: argv is the daemon under test (HVIS_DAEMON_WRAPPER applies). */
static pid_t spawn(char **argv, const char *log, int keep_fd, bool wrap)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
					 O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (keep_fd >= 0 && keep_fd != 3)
		posix_spawn_file_actions_adddup2(&fa, keep_fd, 3);
	if (wrap)
		assert_int_equal(hvis_spawn_daemon(&pid, argv[0], &fa, NULL,
						   argv, environ),
				 0);
	else
		assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv,
					     environ),
				 0);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* Read one line from a pipe within the timeout. */
static void read_ready(int fd, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t k;

		assert_int_equal(poll(&p, 1, TIMEOUT_MS), 1);
		k = read(fd, buf + n, size - 1 - n);
		assert_true(k > 0);
		n += (size_t)k;
		if (memchr(buf, '\n', n) || buf[0] == '1')
			break;
	}
	buf[n] = '\0';
}

static void start_bus(struct fx *f)
{
	char conf[128], text[1024], line[256];
	char *argv[] = { "/usr/bin/dbus-daemon", NULL, "--nofork",
			 "--print-address=3", NULL };
	char arg[160];
	int p[2];

	fpath(f, conf, sizeof(conf), "bus.conf");
	snprintf(text, sizeof(text),
		 "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus "
		 "Configuration 1.0//EN\" \"http://www.freedesktop.org/"
		 "standards/dbus/1.0/busconfig.dtd\">\n"
		 "<busconfig><type>custom</type>"
		 "<listen>unix:path=%s</listen><auth>EXTERNAL</auth>"
		 "<policy context=\"default\"><allow user=\"*\"/>"
		 "<allow own=\"*\"/><allow send_destination=\"*\"/>"
		 "<allow receive_sender=\"*\"/></policy></busconfig>\n",
		 f->bus_sock);
	write_file(conf, text, 0644);
	snprintf(arg, sizeof(arg), "--config-file=%s", conf);
	argv[1] = arg;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	f->dbus = spawn(argv, f->log, p[1], false);
	close(p[1]);
	read_ready(p[0], line, sizeof(line));
	close(p[0]);
	assert_non_null(strstr(line, "unix:path="));
}

static void start_login1(struct fx *f, const char *const *extra)
{
	char bin[256], line[16];
	char *argv[MAX_ARGS];
	int n = 0, p[2];

	snprintf(bin, sizeof(bin), "%s/tests/helpers/login1-service",
		 build_dir());
	argv[n++] = bin;
	argv[n++] = "--address";
	argv[n++] = f->bus_addr;
	argv[n++] = "--record";
	argv[n++] = f->rec;
	argv[n++] = "--ready-fd=3";
	for (; extra && *extra; extra++)
		argv[n++] = (char *)*extra;
	argv[n] = NULL;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	f->login1 = spawn(argv, f->log, p[1], false);
	close(p[1]);
	read_ready(p[0], line, sizeof(line));
	close(p[0]);
	assert_int_equal(line[0], '1');
}

static void start_daemon(struct fx *f, const char *const *extra)
{
	char bin[256], fb[128], helper[128];
	char *argv[MAX_ARGS];
	int n = 0;

	snprintf(bin, sizeof(bin), "%s/hv_shutdown_daemon", build_dir());
	fpath(f, fb, sizeof(fb), "fallback.sh");
	fpath(f, helper, sizeof(helper), "helper.sh");
	argv[n++] = bin;
	argv[n++] = "--root";
	argv[n++] = f->root;
	argv[n++] = "--log=stderr";
	argv[n++] = "--debug";
	argv[n++] = "--bus-address";
	argv[n++] = f->bus_addr;
	argv[n++] = "--fallback-command";
	argv[n++] = fb;
	argv[n++] = "--bind-helper";
	argv[n++] = helper;
	for (; extra && *extra; extra++)
		argv[n++] = (char *)*extra;
	argv[n] = NULL;
	f->daemon = spawn(argv, f->log, -1, true);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256], text[512];

	assert_non_null(f);
	strcpy(f->root, "/tmp/hvis-sd.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	fpath(f, f->log, sizeof(f->log), "daemon.log");
	fpath(f, f->rec, sizeof(f->rec), "login1.log");
	fpath(f, f->fallback_log, sizeof(f->fallback_log), "fallback.log");
	fpath(f, f->helper_log, sizeof(f->helper_log), "helper.log");
	fpath(f, f->bus_sock, sizeof(f->bus_sock), "bus.sock");
	snprintf(f->bus_addr, sizeof(f->bus_addr), "unix:path=%s", f->bus_sock);
	mkdir_rel(f, "etc/hvis");
	mkdir_rel(f, "run");
	mkdir_rel(f, "sys/power");
	/* Recorded, never executed: what systemctl and hv-vmbus-bind got. */
	fpath(f, p, sizeof(p), "fallback.sh");
	snprintf(text, sizeof(text), "#!/bin/sh\necho \"$*\" >> %s\n",
		 f->fallback_log);
	write_file(p, text, 0755);
	fpath(f, p, sizeof(p), "helper.sh");
	snprintf(text, sizeof(text), "#!/bin/sh\necho \"$*\" >> %s\n",
		 f->helper_log);
	write_file(p, text, 0755);
	f->dbus = f->login1 = f->daemon = -1;
	*state = f;
	return 0;
}

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
		*pid = -1;
	}
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[256];
	int st;

	if (f->daemon > 0) {
		assert_int_equal(kill(f->daemon, SIGTERM), 0);
		assert_int_equal(waitpid(f->daemon, &st, 0), f->daemon);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			snprintf(cmd, sizeof(cmd), "cat %s >&2", f->log);
			(void)!system(cmd);
			fail_msg("daemon ended with status 0x%x", st);
		}
	}
	stop(&f->login1);
	stop(&f->dbus);
	hvsim_shutdown_free(f->s);
	hvsim_uio_free(f->u);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void make_channel(struct fx *f)
{
	assert_int_equal(hvsim_uio_new(f->root, HV_GUID_SHUTDOWN,
				       HVSIM_SHUTDOWN_INSTANCE, 0,
				       HVSIM_SHUTDOWN_RING_SIZE, &f->u),
			 0);
	assert_int_equal(hvsim_shutdown_new(f->u, &f->s), 0);
	hvsim_shutdown_set_timeout(f->s, TIMEOUT_MS);
}

/* Channel, bus, login1 (unless login1 is NULL), daemon; then open. */
static void start_all(struct fx *f, const char *const *login1,
		      const char *const *daemon)
{
	make_channel(f);
	start_bus(f);
	if (login1)
		start_login1(f, login1);
	start_daemon(f, daemon);
	if (hvsim_uio_wait_open(f->u, TIMEOUT_MS) < 0) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "cat %s >&2", f->log);
		(void)!system(cmd);
		fail_msg("the daemon never opened the channel");
	}
}

static const char *const no_args[] = { NULL };

static uint32_t stop_vm(struct fx *f, enum hvsim_stop_kind kind, bool force,
			const char *msg)
{
	uint32_t status = 0xdeadbeef;
	int r = hvsim_stop_vm(f->s, kind, force, msg, 60, &status);

	if (r < 0)
		fail_msg("stop-vm: %s (%s)", strerror(-r),
			 hvsim_uio_last_error_str(f->u));
	return status;
}

static void test_poweroff(void **state)
{
	struct fx *f = *state;
	uint32_t fw, svc;

	start_all(f, no_args, no_args);
	assert_int_equal(stop_vm(f, HVSIM_STOP_POWEROFF, false,
				 "Planned maintenance"),
			 HV_S_OK);
	assert_true(hvsim_shutdown_negotiated(f->s, &fw, &svc));
	assert_int_equal(fw, HV_IC_VERSION(3, 0));
	assert_int_equal(svc, HV_IC_VERSION(3, 2));
	/* Not forced: logind must honour inhibitors, even for root. */
	wait_for(f, f->rec, "PowerOffWithFlags flags=0x1 interactive=0");
	wait_for(f, f->log, "reason code 0x80000000");
	wait_for(f, f->log, "\"Planned maintenance\"");
	assert_int_equal(count_lines(f->rec, "Inhibit what=sleep mode=delay"),
			 1);
	/* Replies echo the host's transaction id. */
	assert_int_equal(hvsim_shutdown_stats(f->s)->trans_id_mismatches, 0);
	assert_int_equal(hvsim_uio_last_error(f->u), HVSIM_UIO_ERR_NONE);
}

static void test_reboot_forced(void **state)
{
	struct fx *f = *state;

	start_all(f, no_args, no_args);
	assert_int_equal(stop_vm(f, HVSIM_STOP_RESTART, true, NULL), HV_S_OK);
	wait_for(f, f->rec, "RebootWithFlags flags=0x10 interactive=0");
	assert_int_equal(count_lines(f->rec, "PowerOff"), 0);
	assert_false(file_has(f->fallback_log, "reboot"));
}

static void test_forced_older_logind(void **state)
{
	struct fx *f = *state;
	const char *const login1[] = { "--max-flags=0x3", NULL };

	/* Before v257 SKIP_INHIBITORS is refused; root then passes 0. */
	start_all(f, login1, no_args);
	assert_int_equal(stop_vm(f, HVSIM_STOP_POWEROFF, true, NULL), HV_S_OK);
	wait_for(f, f->rec, "PowerOffWithFlags flags=0x0");
	assert_true(file_has(f->rec, "PowerOffWithFlags flags=0x10 "
				     "interactive=0\nPowerOffWithFlags "
				     "flags=0x0"));
}

static void test_inhibited_unless_forced(void **state)
{
	struct fx *f = *state;
	const char *const login1[] = { "--blocked", NULL };

	start_all(f, login1, no_args);
	/* The host is answered OK first, as the kernel does; logind says no. */
	assert_int_equal(stop_vm(f, HVSIM_STOP_POWEROFF, false, NULL), HV_S_OK);
	wait_for(f, f->log, "inhibitor lock blocks it");
	assert_int_equal(count_lines(f->rec, "PowerOffWithFlags flags=0x1 "),
			 1);
	assert_false(file_has(f->fallback_log, "poweroff"));
	/* Forced, the inhibitor is skipped. */
	assert_int_equal(stop_vm(f, HVSIM_STOP_POWEROFF, true, NULL), HV_S_OK);
	wait_for(f, f->log, "asked logind to power off");
	assert_int_equal(count_lines(f->rec, "PowerOffWithFlags flags=0x10"),
			 1);
}

static void test_legacy_logind(void **state)
{
	struct fx *f = *state;
	const char *const login1[] = { "--legacy", NULL };

	start_all(f, login1, no_args);
	assert_int_equal(stop_vm(f, HVSIM_STOP_RESTART, false, NULL), HV_S_OK);
	wait_for(f, f->rec, "Reboot interactive=0");
	assert_false(file_has(f->fallback_log, "reboot"));
}

static void test_hibernate(void **state)
{
	struct fx *f = *state;
	char expect[256], check[160];
	const char *login1[] = { check, NULL };
	uint32_t status;

	snprintf(check, sizeof(check), "--check=%s", f->helper_log);
	start_all(f, login1, no_args);
	assert_int_equal(stop_vm(f, HVSIM_STOP_HIBERNATE, false, "bye"),
			 HV_S_OK);
	wait_for(f, f->rec, "HibernateWithFlags flags=0x1");
	assert_true(file_has(f->rec, "CanHibernate\nHibernateWithFlags"));
	/*
	 * When logind let the sleep proceed (every delay inhibitor gone),
	 * the channel was already back with hv_utils.
	 */
	snprintf(expect, sizeof(expect),
		 "sleep released=yes check=--quiet --sys-dir %s/sys release "
		 "shutdown|",
		 f->root);
	wait_for(f, f->rec, expect);
	/* After the resume it takes the channel again and serves it. */
	wait_for(f, f->helper_log, "release shutdown\n--quiet --sys-dir");
	wait_for(f, f->helper_log, "bind shutdown");
	for (int i = 0; i < TIMEOUT_MS / 10 && hvsim_uio_stats(f->u)->opens < 2;
	     i++)
		hvsim_uio_run(f->u, 10);
	assert_int_equal(hvsim_uio_stats(f->u)->opens, 2);
	assert_int_equal(hvsim_uio_stats(f->u)->closes, 1);
	assert_true(hvsim_uio_is_open(f->u));
	wait_for(f, f->rec, "resume\nInhibit what=sleep");
	/* A fresh channel: the host negotiates again. */
	hvsim_shutdown_set_offer(f->s,
				 (const uint32_t[]){ HV_IC_VERSION(3, 0) }, 1,
				 (const uint32_t[]){ HV_IC_VERSION(3, 0) }, 1);
	assert_int_equal(hvsim_stop_vm(f->s, HVSIM_STOP_POWEROFF, false, NULL,
				       30, &status),
			 0);
	assert_int_equal(status, HV_S_OK);
	wait_for(f, f->rec, "PowerOffWithFlags flags=0x1");
}

static void test_hibernate_refused(void **state)
{
	struct fx *f = *state;
	const char *const login1[] = { "--can-hibernate=na", NULL };

	start_all(f, login1, no_args);
	assert_int_equal(stop_vm(f, HVSIM_STOP_HIBERNATE, true, NULL),
			 HV_E_FAIL);
	wait_for(f, f->log, "cannot hibernate, answered HV_E_FAIL");
	assert_int_equal(count_lines(f->rec, "CanHibernate"), 1);
	assert_int_equal(count_lines(f->rec, "Hibernate"), 0);
	assert_false(file_has(f->helper_log, "release"));
}

static void test_logind_absent(void **state)
{
	struct fx *f = *state;

	/* A bus without login1 on it. */
	start_all(f, NULL, no_args);
	assert_int_equal(stop_vm(f, HVSIM_STOP_POWEROFF, false, NULL), HV_S_OK);
	wait_for(f, f->fallback_log, "--no-block poweroff");
	assert_int_equal(stop_vm(f, HVSIM_STOP_RESTART, true, NULL), HV_S_OK);
	wait_for(f, f->fallback_log, "--no-block --check-inhibitors=no reboot");
	assert_false(file_has(f->rec, "PowerOff"));
}

static void test_no_bus_hibernate(void **state)
{
	struct fx *f = *state;
	char p[160];
	int st;

	/* No bus at all; sysfs decides whether hibernation is possible. */
	fpath(f, p, sizeof(p), "sys/power/state");
	write_file(p, "freeze mem\n", 0644);
	make_channel(f);
	strcat(f->bus_addr, ".none");
	start_daemon(f, no_args);
	assert_int_equal(hvsim_uio_wait_open(f->u, TIMEOUT_MS), 0);
	assert_int_equal(stop_vm(f, HVSIM_STOP_HIBERNATE, false, NULL),
			 HV_E_FAIL);
	write_file(p, "freeze mem disk\n", 0644);
	assert_int_equal(stop_vm(f, HVSIM_STOP_HIBERNATE, false, NULL),
			 HV_S_OK);
	/* Nobody will say when we resume: hand back for good and leave. */
	wait_for(f, f->fallback_log, "--no-block hibernate");
	assert_true(file_has(f->helper_log, "release shutdown"));
	assert_int_equal(waitpid(f->daemon, &st, 0), f->daemon);
	f->daemon = -1;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(hvsim_uio_wait_closed(f->u, TIMEOUT_MS), 0);
}

static void test_reply_before_action(void **state)
{
	struct fx *f = *state;
	char gate[128], arg[160];
	const char *login1[] = { arg, NULL };

	fpath(f, gate, sizeof(gate), "gate");
	snprintf(arg, sizeof(arg), "--gate=%s", gate);
	start_all(f, login1, no_args);
	/*
	 * login1 holds the PowerOff call until the gate opens, and opens
	 * only after the host has its reply: a daemon acting first would
	 * leave the host waiting past this timeout.
	 */
	hvsim_shutdown_set_timeout(f->s, 5000);
	assert_int_equal(stop_vm(f, HVSIM_STOP_POWEROFF, false, NULL), HV_S_OK);
	assert_false(file_has(f->rec, "gate="));
	write_file(gate, "", 0644);
	wait_for(f, f->rec, "gate=open");
	assert_true(file_has(f->rec, "PowerOffWithFlags flags=0x1 "
				     "interactive=0\ngate=open"));
}

/* A packet the daemon must not answer, then one it must. */
static void expect_dropped(struct fx *f, const void *pkt, size_t len)
{
	uint8_t hb[ICMSG_HDR + 40], reply[HVSIM_SHUTDOWN_PKT_MAX + 8];
	struct hvsim_ic_msg m = { .msgtype = ICMSGTYPE_HEARTBEAT, .txid = 77 };
	struct hvsim_ic_reply rep;
	struct hv_pkt_desc desc;
	ssize_t n, hlen;

	assert_int_equal(
		hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 1, pkt, len), 0);
	hlen = hvsim_ic_build(hb, sizeof(hb), &m, (uint8_t[40]){ 0 }, 40);
	assert_true(hlen > 0);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 2, hb,
					(size_t)hlen),
			 0);
	/* The first reply is the heartbeat's: nothing for the other. */
	n = hvsim_uio_recv(f->u, &desc, reply, sizeof(reply), TIMEOUT_MS);
	assert_true(n > 0);
	assert_int_equal(desc.trans_id, 2);
	assert_int_equal(hvsim_ic_check_reply(hb, (size_t)hlen, reply,
					      (size_t)n, &rep, NULL, 0),
			 0);
	assert_int_equal(rep.status, HV_E_FAIL);
}

static void test_malformed(void **state)
{
	struct fx *f = *state;
	static const uint32_t bad_flags[] = { 6, 8, 0x80000000, 0xffffffff };
	struct hvsim_shutdown_req req = { .reason_code = 1 };
	uint8_t pkt[HVSIM_SHUTDOWN_PKT_MAX], reply[HVSIM_SHUTDOWN_PKT_MAX + 8];
	struct hvsim_ic_nego nego;
	struct hvsim_ic_reply rep;
	uint32_t status;
	ssize_t len, n;

	start_all(f, no_args, no_args);
	assert_int_equal(hvsim_shutdown_negotiate(f->s, &nego), 0);

	/* Unknown flags: HV_E_FAIL and no action. */
	for (size_t i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		req.flags = bad_flags[i];
		assert_int_equal(hvsim_shutdown_request(f->s, &req, &status),
				 0);
		assert_int_equal(status, HV_E_FAIL);
	}

	/* A SHUTDOWN shorter than its struct (by a padding unit): dropped. */
	len = hvsim_shutdown_build(pkt, sizeof(pkt), 5, &req);
	assert_int_equal(len, HVSIM_SHUTDOWN_PKT_LEN);
	expect_dropped(f, pkt, (size_t)len - 8);
	/* Shorter than the IC header: dropped. */
	expect_dropped(f, pkt, 20);

	/* Unknown message types: HV_E_FAIL. */
	pkt[12] = 7;
	n = hvsim_shutdown_exchange(f->s, pkt, (size_t)len, reply,
				    sizeof(reply), -1);
	assert_true(n > 0);
	assert_int_equal(hvsim_ic_check_reply(pkt, (size_t)len, reply,
					      (size_t)n, &rep, NULL, 0),
			 0);
	assert_int_equal(rep.status, HV_E_FAIL);

	/* Nothing in common: a failure reply (counts 0/0), not silence. */
	assert_int_equal(hvsim_shutdown_set_offer(
				 f->s,
				 (const uint32_t[]){ HV_IC_VERSION(2, 0) }, 1,
				 (const uint32_t[]){ HV_IC_VERSION(3, 2) }, 1),
			 0);
	assert_int_equal(hvsim_shutdown_negotiate(f->s, &nego), -EPROTO);
	assert_false(nego.found);
	/* Over 100 versions: refused the same way, same length back. */
	len = hvsim_ic_build_negotiate(
		pkt, sizeof(pkt), 9, (const uint32_t[]){ HV_IC_VERSION(3, 0) },
		1, (const uint32_t[]){ HV_IC_VERSION(3, 0) }, 1);
	hv_put_le16(pkt + ICMSG_HDR + 2, 101);
	n = hvsim_shutdown_exchange(f->s, pkt, (size_t)len, reply,
				    sizeof(reply), -1);
	assert_int_equal(n, HV_ALIGN8((size_t)len));
	assert_int_equal(hvsim_ic_check_reply(pkt, (size_t)len, reply,
					      (size_t)n, &rep, NULL, 0),
			 0);
	assert_int_equal(rep.status, HV_E_FAIL);
	/* Only the oldest versions: still a pair. */
	assert_int_equal(hvsim_shutdown_set_offer(
				 f->s,
				 (const uint32_t[]){ HV_IC_VERSION(1, 0) }, 1,
				 (const uint32_t[]){ HV_IC_VERSION(1, 0) }, 1),
			 0);
	assert_int_equal(hvsim_shutdown_negotiate(f->s, &nego), 0);
	assert_int_equal(nego.fw, HV_IC_VERSION(1, 0));
	assert_int_equal(nego.svc, HV_IC_VERSION(1, 0));

	/* None of it reached logind, and the daemon is still fine. */
	assert_int_equal(count_lines(f->rec, "PowerOff"), 0);
	assert_int_equal(count_lines(f->rec, "Reboot"), 0);
	assert_int_equal(stop_vm(f, HVSIM_STOP_POWEROFF, false, NULL), HV_S_OK);
	wait_for(f, f->rec, "PowerOffWithFlags");
}

static void add_utmp(int fd, const char *line, const char *user)
{
	struct utmpx u = { .ut_type = USER_PROCESS, .ut_pid = 1 };

	strncpy(u.ut_line, line, sizeof(u.ut_line));
	strncpy(u.ut_user, user, sizeof(u.ut_user));
	assert_int_equal(write(fd, &u, sizeof(u)), (ssize_t)sizeof(u));
}

static void test_wall(void **state)
{
	struct fx *f = *state;
	char p[160], got[4096] = "", line[64], notatty[160];
	const char *const daemon[] = { "--hook-timeout=0", NULL };
	struct stat st;
	size_t n = 0;
	int master, fd;

	/* A real terminal for a logged-in user, and two bogus entries. */
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	assert_true(strncmp(ptsname(master), "/dev/", 5) == 0);
	snprintf(line, sizeof(line), "%s", ptsname(master) + 5);
	mkdir_rel(f, "dev");
	fpath(f, p, sizeof(p), "dev/pts");
	assert_int_equal(symlink("/dev/pts", p), 0);
	fpath(f, notatty, sizeof(notatty), "dev/notatty");
	write_file(notatty, "", 0666);
	fpath(f, p, sizeof(p), "run/utmp");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	add_utmp(fd, "notatty", "mallory");
	add_utmp(fd, "../../etc/passwd", "mallory");
	add_utmp(fd, line, "tester");
	add_utmp(fd, line, "tester"); /* once per terminal */
	close(fd);

	start_all(f, no_args, daemon);
	assert_int_equal(stop_vm(f, HVSIM_STOP_RESTART, false,
				 "Host \x1b[2J update"),
			 HV_S_OK);
	wait_for(f, f->rec, "RebootWithFlags");
	for (;;) {
		struct pollfd pf = { .fd = master, .events = POLLIN };
		ssize_t k;

		if (strstr(got, "update") || n + 1 >= sizeof(got))
			break;
		assert_int_equal(poll(&pf, 1, TIMEOUT_MS), 1);
		k = read(master, got + n, sizeof(got) - 1 - n);
		assert_true(k > 0);
		n += (size_t)k;
		got[n] = '\0';
	}
	assert_non_null(strstr(got, "Broadcast message from "
				    "hv_shutdown_daemon"));
	assert_non_null(strstr(got, "asked this machine to restart within "
				    "60 seconds"));
	assert_non_null(strstr(got, "Reason code 0x80000000"));
	/* The host's escape sequence reaches nobody's terminal raw. */
	assert_non_null(strstr(got, "Host \\x1b[2J update"));
	assert_null(strchr(got, '\x1b'));
	assert_int_equal(stat(notatty, &st), 0);
	assert_int_equal(st.st_size, 0);
	close(master);
}

static void test_hooks(void **state)
{
	struct fx *f = *state;
	char dir[160], p[200], text[512], env[160], late[160];
	const char *const daemon[] = { "--hook-timeout=30", NULL };
	struct hvsim_shutdown_req req = {
		.flags = HV_SHUTDOWN_FLAG_REBOOT,
		.reason_code = 0x80020003,
		.timeout_seconds = 2, /* the host's limit beats ours */
		.message = "patch Tuesday",
		.encoding = HVSIM_TEXT_BYTES,
	};
	struct timespec t0, t1;
	uint32_t status;
	long ms;

	fpath(f, dir, sizeof(dir), "etc/hvis/shutdown.d");
	mkdir_rel(f, "etc/hvis/shutdown.d");
	fpath(f, env, sizeof(env), "hook-env");
	fpath(f, late, sizeof(late), "hook-late");
	snprintf(p, sizeof(p), "%s/10-env", dir);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\necho \"$1 $HV_SHUTDOWN_ACTION $HV_SHUTDOWN_FORCE "
		 "$HV_SHUTDOWN_REASON $HV_SHUTDOWN_TIMEOUT "
		 "$HV_SHUTDOWN_MESSAGE\" > %s\n",
		 env);
	write_file(p, text, 0755);
	snprintf(p, sizeof(p), "%s/20-slow", dir);
	write_file(p, "#!/bin/sh\nsleep 30\n", 0755);
	snprintf(p, sizeof(p), "%s/30-late", dir);
	snprintf(text, sizeof(text), "#!/bin/sh\ntouch %s\n", late);
	write_file(p, text, 0755);
	snprintf(p, sizeof(p), "%s/05-writable", dir);
	snprintf(text, sizeof(text), "#!/bin/sh\ntouch %s\n", late);
	write_file(p, text, 0777);
	snprintf(p, sizeof(p), "%s/.hidden", dir);
	write_file(p, text, 0755);

	start_all(f, no_args, daemon);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(hvsim_shutdown_request(f->s, &req, &status), 0);
	assert_int_equal(status, HV_S_OK);
	wait_for(f, f->rec, "RebootWithFlags flags=0x1");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* The slow hook was cut at the host's 2 s, not at our 30 s. */
	assert_true(ms >= 1900);
	assert_true(ms < 8000);
	assert_true(file_has(env, "reboot reboot 0 0x80020003 2 patch "
				  "Tuesday"));
	assert_false(file_has(late, "")); /* neither 30-late nor 05-... */
	assert_int_equal(access(late, F_OK), -1);
	wait_for(f, f->log, "hook 20-slow did not finish in time");
	assert_true(file_has(f->log, "hook 05-writable not run"));
	assert_true(file_has(f->log, "hook 30-late did not finish in time"));
	assert_false(file_has(f->log, ".hidden"));
}

static void test_idle_no_wakeups(void **state)
{
	struct fx *f = *state;
	char path[64], link[256], status[4096];
	struct dirent *de;
	DIR *d;
	long before = -1, after = -2;

	start_all(f, no_args, no_args);
	assert_int_equal(stop_vm(f, HVSIM_STOP_POWEROFF, false, NULL), HV_S_OK);
	wait_for(f, f->rec, "PowerOffWithFlags");
	/* No timer exists at all... */
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)f->daemon);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d))) {
		char p[400];
		ssize_t k;

		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		k = readlink(p, link, sizeof(link) - 1);
		if (k < 0)
			continue;
		link[k] = '\0';
		assert_null(strstr(link, "timerfd"));
	}
	closedir(d);
	/* A wrapper's own scheduler (valgrind's) wakes the process itself. */
	if (hvis_daemon_wrapped())
		return;
	/* ...and an idle daemon is not scheduled while the host is quiet. */
	for (int i = 0; i < 2; i++) {
		FILE *fp;
		char *v;

		snprintf(path, sizeof(path), "/proc/%d/status", (int)f->daemon);
		fp = fopen(path, "r");
		assert_non_null(fp);
		status[fread(status, 1, sizeof(status) - 1, fp)] = '\0';
		fclose(fp);
		v = strstr(status, "voluntary_ctxt_switches:");
		assert_non_null(v);
		if (i == 0) {
			before = strtol(v + 24, NULL, 10);
			poll(NULL, 0, 500);
		} else {
			after = strtol(v + 24, NULL, 10);
		}
	}
	assert_int_equal(before, after);
}

static int run_daemon_to_exit(struct fx *f, const char *const *extra)
{
	int st;

	start_daemon(f, extra);
	assert_int_equal(waitpid(f->daemon, &st, 0), f->daemon);
	f->daemon = -1;
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	const char *const old[] = { "--kernel-release=6.1.0-18-amd64", NULL };
	const char *const new[] = { "--kernel-release=6.10.0", NULL };
	char p[200];

	/* No channel at all (the host has the service disabled). */
	assert_int_equal(run_daemon_to_exit(f, no_args), 69);
	assert_true(file_has(f->log, "no shutdown channel"));

	/* A channel still with hv_utils (no uio entry). */
	snprintf(p, sizeof(p), "sys/bus/vmbus/devices/%s",
		 HVSIM_SHUTDOWN_INSTANCE);
	mkdir_rel(f, p);
	snprintf(p, sizeof(p), "%s/sys/bus/vmbus/devices/%s/class_id", f->root,
		 HVSIM_SHUTDOWN_INSTANCE);
	write_file(p, "{" HV_GUID_SHUTDOWN "}\n", 0644);
	assert_int_equal(run_daemon_to_exit(f, old), 10);
	assert_true(file_has(f->log, "this kernel cannot run the shutdown "
				     "channel"));
	assert_int_equal(run_daemon_to_exit(f, new), 69);
	assert_true(file_has(f->log, "not bound to uio_hv_generic"));
	assert_int_equal(
		run_daemon_to_exit(f, (const char *const[]){ "--bogus", NULL }),
		64);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_poweroff),
		T(test_reboot_forced),
		T(test_forced_older_logind),
		T(test_inhibited_unless_forced),
		T(test_legacy_logind),
		T(test_hibernate),
		T(test_hibernate_refused),
		T(test_logind_absent),
		T(test_no_bus_hibernate),
		T(test_reply_before_action),
		T(test_malformed),
		T(test_wall),
		T(test_hooks),
		T(test_idle_no_wakeups),
		T(test_refusals),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("shutdown-daemon", tests, NULL,
					   NULL);
}
