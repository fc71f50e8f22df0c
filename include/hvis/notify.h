/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd readiness and watchdog notifications (no-ops outside systemd). */
#ifndef HVIS_NOTIFY_H
#define HVIS_NOTIFY_H

#include <stdint.h>

#include "hvis/util.h"

int hv_notify_ready(void);
int hv_notify_stopping(void);
int hv_notify_status(const char *fmt, ...) HV_PRINTF(1, 2);
int hv_notify_watchdog(void);

/*
 * The watchdog interval systemd asked for (WATCHDOG_USEC), in usec, or 0.
 * Daemons ping at half of it.
 */
uint64_t hv_notify_watchdog_usec(void);

#endif
