/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sd_notify protocol (sd_notify(3)): one datagram of "KEY=VALUE"
 * lines to the AF_UNIX socket named by $NOTIFY_SOCKET ('@' = abstract).
 * Spoken here directly so the daemons need not map libsystemd and the
 * libraries it pulls in: that alone is about a megabyte of idle RSS.
 */
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hvis/notify.h"

static int notify_send(const char *text)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen;
	size_t len;
	ssize_t n;
	int fd;

	if (!path || !*path)
		return 0; /* not under systemd: nothing to tell */
	len = strlen(path);
	if (len >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   salen);
	close(fd);
	return n < 0 ? -errno : 1;
}

int hv_notify_ready(void)
{
	return notify_send("READY=1");
}

int hv_notify_stopping(void)
{
	return notify_send("STOPPING=1");
}

int hv_notify_watchdog(void)
{
	return notify_send("WATCHDOG=1");
}

int hv_notify_status(const char *fmt, ...)
{
	char text[512];
	va_list ap;
	int n;

	memcpy(text, "STATUS=", 7);
	va_start(ap, fmt);
	n = vsnprintf(text + 7, sizeof(text) - 7, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	/* One line: a newline would start another assignment. */
	for (char *p = text; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return notify_send(text);
}

uint64_t hv_notify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	uint64_t v, p;

	if (!usec || hv_parse_u64(usec, &v) < 0 || v == 0)
		return 0;
	/* Meant for another process (we were forked by the service). */
	if (pid && (hv_parse_u64(pid, &p) < 0 || p != (uint64_t)getpid()))
		return 0;
	return v;
}
