/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The power action through logind (org.freedesktop.login1.Manager over
 * D-Bus, sd-bus), with a fallback to systemctl when logind is absent.
 *
 * Inhibitors: logind before v257 lets root ignore inhibitor locks unless
 * the caller passes SD_LOGIND_ROOT_CHECK_INHIBITORS (1 << 0) to the
 * *WithFlags methods (v246+); v257 added SD_LOGIND_SKIP_INHIBITORS
 * (1 << 4) and made block inhibitors bind root too. So a request without
 * the host's force flag always asks logind to honour inhibitors, and a
 * forced one asks it to skip them: SKIP_INHIBITORS first, flags 0 when an
 * older logind refuses that flag as invalid.
 */
#ifndef SHUTDOWN_LOGIND_H
#define SHUTDOWN_LOGIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "shutdown-proto.h"

#define SD_LOGIND_ROOT_CHECK_INHIBITORS (UINT64_C(1) << 0)
#define SD_LOGIND_SKIP_INHIBITORS (UINT64_C(1) << 4)

struct logind_config {
	const char *bus_address; /* NULL: the system bus */
	const char *fallback_command; /* NULL: "systemctl" (PATH) */
	const char *sysfs_root; /* CanHibernate without logind */
	uint64_t call_timeout_usec; /* 0: 25 s */
};

enum logind_path {
	LOGIND_PATH_WITH_FLAGS, /* <Action>WithFlags */
	LOGIND_PATH_LEGACY, /* <Action>(interactive=false), logind < 246 */
	LOGIND_PATH_FALLBACK, /* systemctl, logind absent */
	_LOGIND_PATH_MAX,
};

struct logind_result {
	enum logind_path path;
	char method[64]; /* the last method called */
	uint64_t flags; /* its flags (WITH_FLAGS) */
	pid_t fallback_pid; /* FALLBACK: the child, for the caller to reap */
	char error[256]; /* a D-Bus error's name and message, or "" */
};

/*
 * Can the guest hibernate? logind's CanHibernate must say "yes"; without
 * logind, <sysfs_root>/power/state must offer "disk". Returns 1 or 0 and,
 * in answer (may be NULL), what decided it ("logind: na",
 * "sysfs: disk"...); -errno only for a broken reply.
 */
int logind_can_hibernate(const struct logind_config *cfg, char *answer,
			 size_t answer_size);

/*
 * Ask for the action (see above for force). Returns 0 once logind
 * accepted the request or the fallback was started (ret says how),
 * -EBUSY if logind refused because of an inhibitor, -EACCES if it denied
 * it, -EIO for another D-Bus error (ret->error says which), or -errno if
 * the fallback could not be started.
 */
int logind_act(const struct logind_config *cfg, enum shutdown_action action,
	       bool force, struct logind_result *ret);

const char *logind_path_name(enum logind_path p);

#endif

/*
 * Hibernation and uio_hv_generic: the driver has no suspend callback, so
 * the kernel refuses to hibernate while it holds a channel. The daemon
 * therefore holds a "sleep" delay inhibitor, and on PrepareForSleep(true)
 * hands the channel back to hv_utils before letting go of it; on
 * PrepareForSleep(false) (resumed, or the sleep failed) it takes the
 * channel again.
 */
enum logind_event {
	LOGIND_EVENT_NONE,
	LOGIND_EVENT_SLEEP, /* PrepareForSleep(true) */
	LOGIND_EVENT_RESUME, /* PrepareForSleep(false) */
	LOGIND_EVENT_GONE, /* the bus connection ended */
};

struct logind_watch;

/*
 * Connect, subscribe to PrepareForSleep and take the delay inhibitor.
 * -errno if there is no bus or no logind (the caller goes on without).
 */
int logind_watch_new(const struct logind_config *cfg,
		     struct logind_watch **ret);
struct logind_watch *logind_watch_free(struct logind_watch *w);
/* For poll(): the bus fd and the events it waits for. */
int logind_watch_fd(struct logind_watch *w);
short logind_watch_events(struct logind_watch *w);
/* Process what the bus has; returns the next event, or NONE when idle. */
enum logind_event logind_watch_process(struct logind_watch *w);
/* Let go of the delay inhibitor (the sleep may proceed). */
void logind_watch_release(struct logind_watch *w);
/* Take it again (after a resume); 0 or -errno. */
int logind_watch_inhibit(struct logind_watch *w);
/* poll() timeout the bus needs: -1 (none), 0 (messages queued), or ms. */
int logind_watch_timeout_ms(struct logind_watch *w);
