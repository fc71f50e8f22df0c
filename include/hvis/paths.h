/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every file system location a daemon touches comes from here, so tests
 * and the simulator can point a daemon at a private tree. Each base can be
 * changed by a command-line option (--dev-dir, --sys-dir, --state-dir,
 * --run-dir, --conf-dir) or, for all at once, --root.
 */
#ifndef HVIS_PATHS_H
#define HVIS_PATHS_H

#include <stddef.h>

enum hv_path_base {
	HV_PATH_DEV, /* /dev */
	HV_PATH_SYS, /* /sys */
	HV_PATH_STATE, /* /var/lib/hyperv */
	HV_PATH_RUN, /* /run */
	HV_PATH_CONF, /* /etc */
	_HV_PATH_MAX,
};

const char *hv_path_base(enum hv_path_base base);

/* Replace one base. The string is copied; -E2BIG if too long. */
int hv_path_set_base(enum hv_path_base base, const char *dir);

/* Prefix every default base with root (e.g. a simulator tree). */
int hv_path_set_root(const char *root);

/*
 * Join base and rel ("vmbus/hv_kvp") into dst[size].
 * Returns the length or -E2BIG.
 */
int hv_path(enum hv_path_base base, const char *rel, char *dst, size_t size);

#endif
