/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <time.h>
#include <systemd/sd-bus.h>

#include "hvis/spawn.h"
#include "hvis/util.h"
#include "logind.h"

#define LOGIND_NAME "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define LOGIND_IFACE "org.freedesktop.login1.Manager"
#define DEFAULT_TIMEOUT_USEC (25 * 1000000ull)

static void busp(sd_bus **b)
{
	sd_bus_flush_close_unref(*b);
}

static void errorp(sd_bus_error *e)
{
	sd_bus_error_free(e);
}

static void msgp(sd_bus_message **m)
{
	sd_bus_message_unref(*m);
}

const char *logind_path_name(enum logind_path p)
{
	static const char *const names[_LOGIND_PATH_MAX] = {
		[LOGIND_PATH_WITH_FLAGS] = "logind",
		[LOGIND_PATH_LEGACY] = "logind (legacy method)",
		[LOGIND_PATH_FALLBACK] = "fallback command",
	};

	return p >= 0 && p < _LOGIND_PATH_MAX ? names[p] : "?";
}

static int bus_open(const struct logind_config *cfg, sd_bus **ret)
{
	sd_bus *b = NULL;
	int r;

	if (!cfg->bus_address)
		return sd_bus_open_system(ret);
	r = sd_bus_new(&b);
	if (r < 0)
		return r;
	r = sd_bus_set_address(b, cfg->bus_address);
	if (r >= 0)
		r = sd_bus_set_bus_client(b, 1);
	if (r >= 0)
		r = sd_bus_start(b);
	if (r < 0) {
		sd_bus_unref(b);
		return r;
	}
	*ret = b;
	return 0;
}

/* No logind on the bus (or no bus): time for the fallback. */
static bool logind_absent(const sd_bus_error *e)
{
	return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN,
				      SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
	       (e->name &&
		strncmp(e->name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0);
}

static uint64_t timeout(const struct logind_config *cfg)
{
	return cfg->call_timeout_usec ? cfg->call_timeout_usec :
					DEFAULT_TIMEOUT_USEC;
}

static void keep_error(const sd_bus_error *e, char *dst, size_t size)
{
	hv_snprintf(dst, size, "%s: %s", e->name ? e->name : "?",
		    e->message ? e->message : "");
}

static int can_hibernate_sysfs(const struct logind_config *cfg, char *answer,
			       size_t size)
{
	char path[PATH_MAX], buf[256];
	int r;

	r = hv_snprintf(path, sizeof(path), "%s/power/state",
			cfg->sysfs_root ? cfg->sysfs_root : "/sys");
	if (r < 0)
		return -ENAMETOOLONG;
	r = hv_read_line_file(path, buf, sizeof(buf));
	if (r < 0) {
		if (answer)
			hv_snprintf(answer, size, "sysfs: %s", strerror(-r));
		return 0;
	}
	/* Space-separated words, "disk" among them. */
	for (char *save = NULL, *w = strtok_r(buf, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		if (strcmp(w, "disk") == 0) {
			if (answer)
				hv_snprintf(answer, size, "sysfs: disk");
			return 1;
		}
	}
	if (answer)
		hv_snprintf(answer, size, "sysfs: no disk state");
	return 0;
}

int logind_can_hibernate(const struct logind_config *cfg, char *answer,
			 size_t answer_size)
{
	_cleanup_(busp) sd_bus *bus = NULL;
	_cleanup_(errorp) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(msgp) sd_bus_message *m = NULL, *reply = NULL;
	const char *s;
	int r;

	if (bus_open(cfg, &bus) < 0)
		return can_hibernate_sysfs(cfg, answer, answer_size);
	r = sd_bus_message_new_method_call(bus, &m, LOGIND_NAME, LOGIND_PATH,
					   LOGIND_IFACE, "CanHibernate");
	if (r < 0)
		return r;
	r = sd_bus_call(bus, m, timeout(cfg), &error, &reply);
	if (r < 0) {
		if (logind_absent(&error) || !sd_bus_error_is_set(&error))
			return can_hibernate_sysfs(cfg, answer, answer_size);
		if (answer)
			keep_error(&error, answer, answer_size);
		return 0;
	}
	r = sd_bus_message_read(reply, "s", &s);
	if (r < 0)
		return r;
	if (answer)
		hv_snprintf(answer, answer_size, "logind: %s", s);
	return strcmp(s, "yes") == 0;
}

static int call(sd_bus *bus, const struct logind_config *cfg,
		const char *method, bool with_flags, uint64_t flags,
		sd_bus_error *error)
{
	_cleanup_(msgp) sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, LOGIND_NAME, LOGIND_PATH,
					   LOGIND_IFACE, method);
	if (r < 0)
		return r;
	/* Nobody is there to answer a polkit prompt. */
	r = sd_bus_message_set_allow_interactive_authorization(m, 0);
	if (r < 0)
		return r;
	if (with_flags)
		r = sd_bus_message_append(m, "t", flags);
	else
		r = sd_bus_message_append(m, "b", 0);
	if (r < 0)
		return r;
	return sd_bus_call(bus, m, timeout(cfg), error, NULL);
}

static int fallback(const struct logind_config *cfg, enum shutdown_action a,
		    bool force, struct logind_result *ret)
{
	const char *cmd = cfg->fallback_command ? cfg->fallback_command :
						  "systemctl";
	char *argv[5];
	int n = 0;
	struct hv_spawn_opts o = { .stdin_fd = -1,
				   .stdout_fd = STDERR_FILENO,
				   .stderr_fd = STDERR_FILENO };

	argv[n++] = (char *)cmd;
	argv[n++] = "--no-block";
	if (force)
		argv[n++] = "--check-inhibitors=no";
	argv[n++] = (char *)shutdown_action_name(a);
	argv[n] = NULL;
	ret->path = LOGIND_PATH_FALLBACK;
	hv_snprintf(ret->method, sizeof(ret->method), "%s", cmd);
	return hv_spawn(cmd, argv, &o, &ret->fallback_pid);
}

int logind_act(const struct logind_config *cfg, enum shutdown_action action,
	       bool force, struct logind_result *ret)
{
	static const char *const methods[_SHUTDOWN_ACTION_MAX] = {
		[SHUTDOWN_POWEROFF] = "PowerOff",
		[SHUTDOWN_REBOOT] = "Reboot",
		[SHUTDOWN_HIBERNATE] = "Hibernate",
	};
	_cleanup_(busp) sd_bus *bus = NULL;
	_cleanup_(errorp) sd_bus_error error = SD_BUS_ERROR_NULL;
	uint64_t flags = force ? SD_LOGIND_SKIP_INHIBITORS :
				 SD_LOGIND_ROOT_CHECK_INHIBITORS;
	int r;

	if (action < 0 || action >= _SHUTDOWN_ACTION_MAX || !ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (bus_open(cfg, &bus) < 0)
		return fallback(cfg, action, force, ret);

	ret->path = LOGIND_PATH_WITH_FLAGS;
	hv_snprintf(ret->method, sizeof(ret->method), "%sWithFlags",
		    methods[action]);
	ret->flags = flags;
	r = call(bus, cfg, ret->method, true, flags, &error);
	if (r < 0 && force &&
	    sd_bus_error_has_name(&error, SD_BUS_ERROR_INVALID_ARGS)) {
		/* Before v257 there is no SKIP flag; root skips with 0. */
		sd_bus_error_free(&error);
		ret->flags = 0;
		r = call(bus, cfg, ret->method, true, 0, &error);
	}
	if (r < 0 &&
	    sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_METHOD)) {
		sd_bus_error_free(&error);
		ret->path = LOGIND_PATH_LEGACY;
		ret->flags = 0;
		hv_snprintf(ret->method, sizeof(ret->method), "%s",
			    methods[action]);
		r = call(bus, cfg, ret->method, false, 0, &error);
	}
	if (r >= 0)
		return 0;
	if (logind_absent(&error) || !sd_bus_error_is_set(&error))
		return fallback(cfg, action, force, ret);
	keep_error(&error, ret->error, sizeof(ret->error));
	if (sd_bus_error_has_name(
		    &error, "org.freedesktop.login1.BlockedByInhibitorLock"))
		return -EBUSY;
	if (sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED) ||
	    sd_bus_error_has_name(
		    &error,
		    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"))
		return -EACCES;
	return -EIO;
}

struct logind_watch {
	sd_bus *bus;
	sd_bus_slot *match;
	int inhibit_fd;
	enum logind_event pending;
	uint64_t timeout_usec;
};

static int on_prepare_for_sleep(sd_bus_message *m, void *userdata,
				sd_bus_error *error)
{
	struct logind_watch *w = userdata;
	int start;

	if (sd_bus_message_read(m, "b", &start) < 0)
		return 0; /* not the signal we know: ignore it */
	w->pending = start ? LOGIND_EVENT_SLEEP : LOGIND_EVENT_RESUME;
	return 0;
}

int logind_watch_inhibit(struct logind_watch *w)
{
	_cleanup_(errorp) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(msgp) sd_bus_message *reply = NULL;
	int fd, r;

	if (w->inhibit_fd >= 0)
		return 0;
	r = sd_bus_call_method(w->bus, LOGIND_NAME, LOGIND_PATH, LOGIND_IFACE,
			       "Inhibit", &error, &reply, "ssss", "sleep",
			       "hv_shutdown_daemon",
			       "Give the Hyper-V shutdown channel back to "
			       "hv_utils first",
			       "delay");
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "h", &fd);
	if (r < 0)
		return r;
	/* The message owns fd; ours must outlive it. */
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	w->inhibit_fd = fd;
	return 0;
}

void logind_watch_release(struct logind_watch *w)
{
	if (w && w->inhibit_fd >= 0) {
		close(w->inhibit_fd);
		w->inhibit_fd = -1;
	}
}

int logind_watch_new(const struct logind_config *cfg, struct logind_watch **ret)
{
	struct logind_watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->inhibit_fd = -1;
	w->timeout_usec = timeout(cfg);
	r = bus_open(cfg, &w->bus);
	if (r < 0)
		goto fail;
	r = sd_bus_set_method_call_timeout(w->bus, w->timeout_usec);
	if (r < 0)
		goto fail;
	r = sd_bus_match_signal(w->bus, &w->match, LOGIND_NAME, LOGIND_PATH,
				LOGIND_IFACE, "PrepareForSleep",
				on_prepare_for_sleep, w);
	if (r < 0)
		goto fail;
	/* Also tells whether logind is there at all. */
	r = logind_watch_inhibit(w);
	if (r < 0)
		goto fail;
	*ret = w;
	return 0;
fail:
	logind_watch_free(w);
	return r;
}

struct logind_watch *logind_watch_free(struct logind_watch *w)
{
	if (!w)
		return NULL;
	logind_watch_release(w);
	sd_bus_slot_unref(w->match);
	sd_bus_flush_close_unref(w->bus);
	free(w);
	return NULL;
}

int logind_watch_fd(struct logind_watch *w)
{
	return w ? sd_bus_get_fd(w->bus) : -1;
}

short logind_watch_events(struct logind_watch *w)
{
	int e = w ? sd_bus_get_events(w->bus) : 0;

	return e > 0 ? (short)e : 0;
}

enum logind_event logind_watch_process(struct logind_watch *w)
{
	enum logind_event e;
	int r;

	if (!w)
		return LOGIND_EVENT_NONE;
	while (w->pending == LOGIND_EVENT_NONE) {
		r = sd_bus_process(w->bus, NULL);
		if (r < 0)
			return LOGIND_EVENT_GONE;
		if (r == 0)
			break;
	}
	e = w->pending;
	w->pending = LOGIND_EVENT_NONE;
	return e;
}

int logind_watch_timeout_ms(struct logind_watch *w)
{
	uint64_t until, now;
	struct timespec ts;

	if (!w || sd_bus_get_timeout(w->bus, &until) < 0 || until == UINT64_MAX)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	if (until <= now)
		return 0;
	return (int)HV_MIN((until - now + 999) / 1000, (uint64_t)INT32_MAX);
}
