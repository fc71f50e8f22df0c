/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A stand-in for systemd-logind on a private bus, for the shutdown
 * daemon's tests. It owns org.freedesktop.login1, implements the
 * Manager methods the daemon uses and appends one line per call to a
 * record file:
 *
 *   CanHibernate
 *   PowerOffWithFlags flags=0x1 interactive=0   (also Reboot, Hibernate)
 *   PowerOff interactive=0                      (legacy methods)
 *   Inhibit what=sleep mode=delay
 *   sleep released=yes check=<check file, '|' for newlines>
 *   resume
 *
 *   login1-service --address ADDR --record FILE [--ready-fd N]
 *       [--can-hibernate ANSWER] [--max-flags MASK] [--legacy]
 *       [--blocked] [--gate FILE] [--check FILE]
 *
 * --max-flags: flags outside MASK are refused with InvalidArgs (0x3 plays
 * logind before v257, which lacks SKIP_INHIBITORS). --legacy: no
 * *WithFlags methods (logind before v246). --blocked: a block inhibitor
 * is active, so a call is refused unless it skips inhibitors (flags 0x10,
 * or 0 from root with an old logind). --gate: a power call is answered
 * only once FILE exists (10 s at most; "gate=open" or "gate=timeout" is
 * recorded). Hibernate emits PrepareForSleep(true), waits (5 s at most)
 * for every delay inhibitor to be closed, records the sleep line with the
 * check file's contents at that moment, then emits PrepareForSleep(false).
 */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <sys/inotify.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "hvis/util.h"

#define MAX_INHIBITORS 16
#define GATE_TIMEOUT_MS 10000
#define SLEEP_TIMEOUT_MS 5000

static const char *arg_address, *arg_record, *arg_can = "yes", *arg_gate,
					     *arg_check;
static uint64_t arg_max_flags = 0x13;
static bool arg_legacy, arg_blocked;
static int arg_ready_fd = -1;

static int inhibit_fds[MAX_INHIBITORS];
static size_t ninhibit;
static bool sleep_requested;

static void record(const char *fmt, ...) HV_PRINTF(1, 2);
static void record(const char *fmt, ...)
{
	FILE *f = fopen(arg_record, "a");
	va_list ap;

	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for arg_gate to exist, with inotify on its directory. */
static bool wait_gate(void)
{
	char dir[PATH_MAX];
	int64_t end = now_ms() + GATE_TIMEOUT_MS;
	char *slash;
	int fd;
	bool open_ = false;

	hv_strscpy(dir, arg_gate, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd >= 0)
		inotify_add_watch(fd, slash ? dir : ".",
				  IN_CREATE | IN_MOVED_TO);
	for (;;) {
		char buf[4096];
		int64_t left = end - now_ms();

		if (access(arg_gate, F_OK) == 0) {
			open_ = true;
			break;
		}
		if (left <= 0 || fd < 0)
			break;
		poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1,
		     (int)left);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	}
	if (fd >= 0)
		close(fd);
	return open_;
}

static bool blocked(uint64_t flags)
{
	if (!arg_blocked)
		return false;
	/* SKIP_INHIBITORS, or root's old "flags 0 ignores them" rule. */
	if (flags & 0x10)
		return false;
	return arg_max_flags & 0x10 ? true : flags != 0;
}

static int power(sd_bus_message *m, sd_bus_error *error, bool with_flags)
{
	const char *member = sd_bus_message_get_member(m);
	uint64_t flags = 0;
	int interactive = 0, r;

	if (with_flags) {
		r = sd_bus_message_read(m, "t", &flags);
		interactive =
			sd_bus_message_get_allow_interactive_authorization(m);
	} else {
		r = sd_bus_message_read(m, "b", &interactive);
	}
	if (r < 0)
		return r;
	if (with_flags)
		record("%s flags=0x%llx interactive=%d", member,
		       (unsigned long long)flags, interactive ? 1 : 0);
	else
		record("%s interactive=%d", member, interactive ? 1 : 0);
	if (with_flags && (flags & ~arg_max_flags))
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
					"Invalid flags parameter");
	if (blocked(flags))
		return sd_bus_error_set(
			error, "org.freedesktop.login1.BlockedByInhibitorLock",
			"Operation denied due to active block inhibitor");
	if (arg_gate)
		record("gate=%s", wait_gate() ? "open" : "timeout");
	if (strncmp(member, "Hibernate", 9) == 0)
		sleep_requested = true;
	return sd_bus_reply_method_return(m, NULL);
}

static int method_flags(sd_bus_message *m, void *ud, sd_bus_error *error)
{
	return power(m, error, true);
}

static int method_legacy(sd_bus_message *m, void *ud, sd_bus_error *error)
{
	return power(m, error, false);
}

static int method_can(sd_bus_message *m, void *ud, sd_bus_error *error)
{
	record("%s", sd_bus_message_get_member(m));
	return sd_bus_reply_method_return(m, "s", arg_can);
}

static int method_inhibit(sd_bus_message *m, void *ud, sd_bus_error *error)
{
	const char *what, *who, *why, *mode;
	int p[2], r;

	r = sd_bus_message_read(m, "ssss", &what, &who, &why, &mode);
	if (r < 0)
		return r;
	record("Inhibit what=%s mode=%s", what, mode);
	if (ninhibit == MAX_INHIBITORS || pipe2(p, O_CLOEXEC) < 0)
		return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
					"too many");
	r = sd_bus_reply_method_return(m, "h", p[1]);
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		return r;
	}
	inhibit_fds[ninhibit++] = p[0];
	return 1; /* handled (0 would make sd-bus answer UnknownMethod too) */
}

static const sd_bus_vtable vtable_new[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("PowerOffWithFlags", "t", "", method_flags, 0),
	SD_BUS_METHOD("RebootWithFlags", "t", "", method_flags, 0),
	SD_BUS_METHOD("HibernateWithFlags", "t", "", method_flags, 0),
	SD_BUS_METHOD("PowerOff", "b", "", method_legacy, 0),
	SD_BUS_METHOD("Reboot", "b", "", method_legacy, 0),
	SD_BUS_METHOD("Hibernate", "b", "", method_legacy, 0),
	SD_BUS_METHOD("CanHibernate", "", "s", method_can, 0),
	SD_BUS_METHOD("Inhibit", "ssss", "h", method_inhibit, 0),
	SD_BUS_SIGNAL("PrepareForSleep", "b", 0),
	SD_BUS_VTABLE_END,
};

static const sd_bus_vtable vtable_legacy[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("PowerOff", "b", "", method_legacy, 0),
	SD_BUS_METHOD("Reboot", "b", "", method_legacy, 0),
	SD_BUS_METHOD("Hibernate", "b", "", method_legacy, 0),
	SD_BUS_METHOD("CanHibernate", "", "s", method_can, 0),
	SD_BUS_METHOD("Inhibit", "ssss", "h", method_inhibit, 0),
	SD_BUS_SIGNAL("PrepareForSleep", "b", 0),
	SD_BUS_VTABLE_END,
};

static void check_contents(char *out, size_t size)
{
	FILE *f = arg_check ? fopen(arg_check, "r") : NULL;
	size_t n = 0;
	int c;

	out[0] = '\0';
	if (!f)
		return;
	while ((c = fgetc(f)) != EOF && n + 1 < size)
		out[n++] = c == '\n' ? '|' : (char)c;
	out[n] = '\0';
	fclose(f);
}

/* PrepareForSleep(true), wait for the delay inhibitors, (false). */
static void do_sleep(sd_bus *bus)
{
	struct pollfd p[MAX_INHIBITORS];
	int64_t end;
	size_t open_ = ninhibit;
	char check[512];

	sd_bus_emit_signal(bus, "/org/freedesktop/login1",
			   "org.freedesktop.login1.Manager", "PrepareForSleep",
			   "b", 1);
	sd_bus_flush(bus);
	end = now_ms() + SLEEP_TIMEOUT_MS;
	while (open_ > 0 && now_ms() < end) {
		for (size_t i = 0; i < ninhibit; i++)
			p[i] = (struct pollfd){ .fd = inhibit_fds[i] };
		if (poll(p, ninhibit, (int)(end - now_ms())) <= 0)
			break;
		open_ = 0;
		for (size_t i = 0; i < ninhibit; i++)
			if (!(p[i].revents & (POLLHUP | POLLERR)))
				open_++;
	}
	check_contents(check, sizeof(check));
	record("sleep released=%s check=%s", open_ ? "no" : "yes", check);
	for (size_t i = 0; i < ninhibit; i++)
		close(inhibit_fds[i]);
	ninhibit = 0;
	record("resume");
	sd_bus_emit_signal(bus, "/org/freedesktop/login1",
			   "org.freedesktop.login1.Manager", "PrepareForSleep",
			   "b", 0);
	sd_bus_flush(bus);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "record", required_argument, NULL, 'r' },
		{ "ready-fd", required_argument, NULL, 'R' },
		{ "can-hibernate", required_argument, NULL, 'c' },
		{ "max-flags", required_argument, NULL, 'm' },
		{ "legacy", no_argument, NULL, 'l' },
		{ "blocked", no_argument, NULL, 'b' },
		{ "gate", required_argument, NULL, 'g' },
		{ "check", required_argument, NULL, 'k' },
		{},
	};
	sd_bus *bus = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			arg_address = optarg;
			break;
		case 'r':
			arg_record = optarg;
			break;
		case 'R':
			arg_ready_fd = atoi(optarg);
			break;
		case 'c':
			arg_can = optarg;
			break;
		case 'm':
			arg_max_flags = strtoull(optarg, NULL, 0);
			break;
		case 'l':
			arg_legacy = true;
			break;
		case 'b':
			arg_blocked = true;
			break;
		case 'g':
			arg_gate = optarg;
			break;
		case 'k':
			arg_check = optarg;
			break;
		default:
			return 64;
		}
	}
	if (!arg_address || !arg_record)
		return 64;
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, arg_address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_add_object_vtable(
			bus, NULL, "/org/freedesktop/login1",
			"org.freedesktop.login1.Manager",
			arg_legacy ? vtable_legacy : vtable_new, NULL);
	if (r >= 0)
		r = sd_bus_request_name(bus, "org.freedesktop.login1", 0);
	if (r < 0) {
		fprintf(stderr, "login1-service: %s\n", strerror(-r));
		return 1;
	}
	if (arg_ready_fd >= 0) {
		(void)!write(arg_ready_fd, "1", 1);
		close(arg_ready_fd);
	}
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			break;
		if (sleep_requested) {
			sleep_requested = false;
			sd_bus_flush(bus);
			do_sleep(bus);
			continue;
		}
		if (r > 0)
			continue;
		r = sd_bus_wait(bus, UINT64_MAX);
		if (r < 0 && r != -EINTR)
			break;
	}
	sd_bus_flush_close_unref(bus);
	return 0;
}
