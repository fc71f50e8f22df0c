/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The options every daemon shares: logging and the path bases of
 * hvis/paths.h. Each main() puts HV_COMMON_LONG_OPTIONS in its getopt
 * table and passes unknown option codes to hv_common_option().
 */
#ifndef HVIS_CMDLINE_H
#define HVIS_CMDLINE_H

#include <getopt.h>

enum {
	HV_OPT_ROOT = 0x1000,
	HV_OPT_DEV_DIR,
	HV_OPT_SYS_DIR,
	HV_OPT_STATE_DIR,
	HV_OPT_RUN_DIR,
	HV_OPT_CONF_DIR,
	HV_OPT_LOG_TARGET,
};

#define HV_COMMON_SHORT_OPTIONS "dnhV"
#define HV_COMMON_LONG_OPTIONS                                              \
	{ "debug", no_argument, NULL, 'd' },                                \
		{ "no-daemon", no_argument, NULL, 'n' },                    \
		{ "help", no_argument, NULL, 'h' },                         \
		{ "version", no_argument, NULL, 'V' },                      \
		{ "root", required_argument, NULL, HV_OPT_ROOT },           \
		{ "dev-dir", required_argument, NULL, HV_OPT_DEV_DIR },     \
		{ "sys-dir", required_argument, NULL, HV_OPT_SYS_DIR },     \
		{ "state-dir", required_argument, NULL, HV_OPT_STATE_DIR }, \
		{ "run-dir", required_argument, NULL, HV_OPT_RUN_DIR },     \
		{ "conf-dir", required_argument, NULL, HV_OPT_CONF_DIR },   \
	{                                                                   \
		"log", required_argument, NULL, HV_OPT_LOG_TARGET           \
	}

#define HV_COMMON_OPTIONS_HELP                                                    \
	"  -d, --debug          log debug messages\n"                             \
	"  -n, --no-daemon      accepted for compatibility (always foreground)\n" \
	"      --log=TARGET     auto (default), stderr or journal\n"              \
	"      --root=DIR       prefix for all the directories below\n"           \
	"      --dev-dir=DIR    devices (default /dev)\n"                         \
	"      --sys-dir=DIR    sysfs (default /sys)\n"                           \
	"      --state-dir=DIR  state (default /var/lib/hyperv)\n"                \
	"      --run-dir=DIR    runtime state (default /run)\n"                   \
	"      --conf-dir=DIR   configuration (default /etc)\n"                   \
	"  -h, --help           show this help\n"                                 \
	"  -V, --version        show the version\n"

/*
 * Handle one of the shared options ('d', 'n', HV_OPT_*). Returns 1 if it
 * was ours, 0 if not, or -errno for a bad argument (with a message on
 * stderr naming the option).
 */
int hv_common_option(int opt, const char *arg);

/*
 * The default: branch of a daemon's getopt loop: a shared option, or a
 * usage error ('?' included, getopt has already said why). Returns 0 or
 * -errno.
 */
int hv_common_option_or_fail(int opt, const char *arg);

/*
 * After the getopt loop: the daemons take no operands. Returns 0, or
 * -EINVAL with "<prog>: unexpected argument '...'" on stderr.
 */
int hv_cmdline_no_operands(const char *prog, int argc, char **argv);

/* The log target chosen with --log (HV_LOG_AUTO by default). */
int hv_common_log_target(void);

#endif
