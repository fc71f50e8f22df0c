/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hvis/cmdline.h"
#include "hvis/log.h"
#include "hvis/paths.h"

static int log_target = HV_LOG_AUTO;

static int set_base(enum hv_path_base base, const char *opt, const char *arg)
{
	int r = hv_path_set_base(base, arg);

	if (r < 0)
		fprintf(stderr, "invalid --%s: %s\n", opt, strerror(-r));
	return r < 0 ? r : 1;
}

int hv_common_option(int opt, const char *arg)
{
	int r;

	switch (opt) {
	case 'd':
		hv_log_set_max_level(LOG_DEBUG);
		return 1;
	case 'n':
		return 1;
	case HV_OPT_ROOT:
		r = hv_path_set_root(arg);
		if (r < 0)
			fprintf(stderr, "invalid --root: %s\n", strerror(-r));
		return r < 0 ? r : 1;
	case HV_OPT_DEV_DIR:
		return set_base(HV_PATH_DEV, "dev-dir", arg);
	case HV_OPT_SYS_DIR:
		return set_base(HV_PATH_SYS, "sys-dir", arg);
	case HV_OPT_STATE_DIR:
		return set_base(HV_PATH_STATE, "state-dir", arg);
	case HV_OPT_RUN_DIR:
		return set_base(HV_PATH_RUN, "run-dir", arg);
	case HV_OPT_CONF_DIR:
		return set_base(HV_PATH_CONF, "conf-dir", arg);
	case HV_OPT_LOG_TARGET:
		if (strcmp(arg, "auto") == 0)
			log_target = HV_LOG_AUTO;
		else if (strcmp(arg, "stderr") == 0)
			log_target = HV_LOG_STDERR;
		else if (strcmp(arg, "journal") == 0)
			log_target = HV_LOG_JOURNAL;
		else {
			fprintf(stderr,
				"invalid --log: %s (auto, stderr or journal)\n",
				arg);
			return -EINVAL;
		}
		return 1;
	default:
		return 0;
	}
}

int hv_common_option_or_fail(int opt, const char *arg)
{
	int r = hv_common_option(opt, arg);

	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	return 0;
}

int hv_cmdline_no_operands(const char *prog, int argc, char **argv)
{
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int hv_common_log_target(void)
{
	return log_target;
}
