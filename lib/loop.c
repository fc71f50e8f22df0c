/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>

#include "hvis/loop.h"
#include "hvis/util.h"

int hv_signalfd_open(void)
{
	sigset_t mask;
	int fd;

	/* A daemon writing to a closed socket must see EPIPE, not die. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

int hv_signalfd_read(int fd)
{
	struct signalfd_siginfo si;
	ssize_t n;

	n = read(fd, &si, sizeof(si));
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (n != sizeof(si))
		return -EIO;
	return (int)si.ssi_signo;
}

int hv_timerfd_open(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int hv_timerfd_arm(int fd, uint64_t usec)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = (time_t)(usec / 1000000);
	its.it_value.tv_nsec = (long)(usec % 1000000) * 1000;
	if (timerfd_settime(fd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

int hv_timerfd_read(int fd)
{
	uint64_t expirations;
	ssize_t n;

	n = read(fd, &expirations, sizeof(expirations));
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return n == sizeof(expirations) && expirations > 0;
}

uint64_t hv_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
