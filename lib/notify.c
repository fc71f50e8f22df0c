/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <systemd/sd-daemon.h>

#include "hvis/notify.h"

int hv_notify_ready(void)
{
	return sd_notify(0, "READY=1");
}

int hv_notify_stopping(void)
{
	return sd_notify(0, "STOPPING=1");
}

int hv_notify_watchdog(void)
{
	return sd_notify(0, "WATCHDOG=1");
}

int hv_notify_status(const char *fmt, ...)
{
	char status[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	return sd_notifyf(0, "STATUS=%s", status);
}

uint64_t hv_notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	/* 0 unset means: no watchdog for us, or not under systemd. */
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}
