/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-vmbus-bind: move a VMBus channel between hv_utils and
 * uio_hv_generic (protocol.md §6.1). The units of the UIO daemons run it
 * as ExecCondition (check), ExecStartPre (bind) and ExecStopPost
 * (release), so the kernel gets the channel back even after a crash.
 */
#include <getopt.h>
#include <limits.h>
#include <sys/utsname.h>
#include <sysexits.h>

#include "hvis/util.h"
#include "hvis/vmbus-bind.h"

#define PROG "hv-vmbus-bind"
#define EXIT_BUSY EX_TEMPFAIL

static const char *arg_sys = "/sys";
static const char *arg_instance;
static const char *arg_release;
static const char *arg_kernel_driver;
static bool arg_quiet;

static void help(void)
{
	printf("Usage: " PROG " [OPTION]... bind|release|status|check SERVICE\n"
	       "Hand a Hyper-V VMBus channel to uio_hv_generic (bind) or give "
	       "it back\nto the kernel (release). SERVICE is shutdown, fcopy "
	       "or a class GUID.\n"
	       "\n"
	       "      --sys-dir=DIR         sysfs (default /sys; anything "
	       "else never loads\n"
	       "                            modules)\n"
	       "      --instance=GUID       the device of that instance "
	       "(default: the first\n"
	       "                            of the class)\n"
	       "      --kernel-release=REL  judge the kernel by REL instead "
	       "of uname -r\n"
	       "      --kernel-driver=NAME  for a class GUID: the driver it "
	       "may be taken from\n"
	       "                            and given back to (default "
	       "hv_utils)\n"
	       "  -q, --quiet               no messages on success\n"
	       "  -h, --help                show this help\n"
	       "  -V, --version             show the version\n"
	       "\n"
	       "Exit status: 0 done (or nothing to do), 1 failed (the "
	       "channel was put\nback where it was), 10 this kernel cannot "
	       "run the channel from\nuserspace (before 6.10), 64 bad usage, "
	       "69 no such device or no\nuio_hv_generic, 75 bound to another "
	       "driver, 77 permission denied.\nSee hv-vmbus-bind(8).\n");
}

static int exit_code(int r)
{
	switch (r) {
	case -EOPNOTSUPP:
		return HV_EXIT_KERNEL_UNSUPPORTED;
	case -ENOENT:
	case -ENODEV:
		return EX_UNAVAILABLE;
	case -EBUSY:
		return EXIT_BUSY;
	case -EACCES:
	case -EPERM:
	case -EROFS:
		return EX_NOPERM;
	default:
		return 1;
	}
}

static const char *driver_label(const char *driver)
{
	return driver[0] ? driver : "(none)";
}

static const char *kernel_release(char *buf, size_t size)
{
	struct utsname u;

	if (arg_release)
		return arg_release;
	if (uname(&u) < 0)
		return "unknown";
	hv_snprintf(buf, size, "%s", u.release);
	return buf;
}

static int report_error(int r, const char *verb, const char *what,
			const struct hv_vmbus_dev *dev, const char *release)
{
	switch (r) {
	case -ENOENT:
		fprintf(stderr,
			PROG ": no VMBus device of class %s under %s/bus/vmbus"
			     "/devices (is the integration service enabled "
			     "on the host?)\n",
			what, arg_sys);
		break;
	case -EOPNOTSUPP:
		fprintf(stderr,
			PROG ": kernel %s cannot run the %s channel on "
			     "uio_hv_generic (needs %d.%d or later); the "
			     "in-kernel driver keeps it\n",
			release, what, HV_UIO_UTIL_MIN_MAJOR,
			HV_UIO_UTIL_MIN_MINOR);
		break;
	case -EBUSY:
		fprintf(stderr,
			PROG ": %s is bound to %s, which " PROG
			     " does not take channels from; left alone\n",
			dev->instance, dev->driver);
		break;
	case -ENODEV:
		fprintf(stderr,
			PROG ": uio_hv_generic is not available under "
			     "%s/bus/vmbus/drivers%s\n",
			arg_sys,
			strcmp(arg_sys, "/sys") == 0 ?
				" (modprobe uio_hv_generic failed)" :
				"");
		break;
	case -EIO:
		fprintf(stderr,
			PROG ": %s: the kernel did not take the change; %s "
			     "is bound to %s\n",
			verb, dev->instance[0] ? dev->instance : what,
			driver_label(dev->driver));
		break;
	case -EINVAL:
		fprintf(stderr,
			PROG ": bad class, instance or kernel release\n");
		break;
	default:
		fprintf(stderr, PROG ": %s %s: %s\n", verb, what, strerror(-r));
	}
	return exit_code(r);
}

int main(int argc, char **argv)
{
	enum { OPT_SYS = 0x100, OPT_INST, OPT_REL, OPT_KDRV };
	static const struct option opts[] = {
		{ "sys-dir", required_argument, NULL, OPT_SYS },
		{ "instance", required_argument, NULL, OPT_INST },
		{ "kernel-release", required_argument, NULL, OPT_REL },
		{ "kernel-driver", required_argument, NULL, OPT_KDRV },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	char guid[HV_GUID_STR_LEN + 1], inst[HV_GUID_STR_LEN + 1];
	char relbuf[256];
	struct hv_vmbus_service custom = { 0 };
	const struct hv_vmbus_service *svc;
	struct hv_vmbus_ctx ctx = { 0 };
	struct hv_vmbus_dev dev = { 0 };
	const char *verb, *what, *release;
	int c, r;

	while ((c = getopt_long(argc, argv, "qhV", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SYS:
			arg_sys = optarg;
			break;
		case OPT_INST:
			arg_instance = optarg;
			break;
		case OPT_REL:
			arg_release = optarg;
			break;
		case OPT_KDRV:
			arg_kernel_driver = optarg;
			break;
		case 'q':
			arg_quiet = true;
			break;
		case 'h':
			help();
			return 0;
		case 'V':
			printf(PROG " (hvis) %s\n", HVIS_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return EX_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, PROG ": expected a command and a service\n"
				     "Try '" PROG " --help'.\n");
		return EX_USAGE;
	}
	verb = argv[optind];
	what = argv[optind + 1];
	svc = hv_vmbus_service_by_name(what);
	if (!svc) {
		if (hv_guid_normalize(what, guid) < 0) {
			fprintf(stderr,
				PROG ": '%s' is neither shutdown, fcopy nor "
				     "a GUID\n",
				what);
			return EX_USAGE;
		}
		custom.name = guid;
		custom.class_guid = guid;
		custom.kernel_driver = arg_kernel_driver ?
					       arg_kernel_driver :
					       HV_VMBUS_UTILS_DRIVER;
		svc = &custom;
	} else if (arg_kernel_driver) {
		fprintf(stderr, PROG ": --kernel-driver is only for a class "
				     "GUID\n");
		return EX_USAGE;
	}
	if (arg_instance) {
		if (hv_guid_normalize(arg_instance, inst) < 0) {
			fprintf(stderr, PROG ": bad instance '%s'\n",
				arg_instance);
			return EX_USAGE;
		}
		arg_instance = inst;
	}

	ctx.sysfs_root = arg_sys;
	ctx.kernel_release = arg_release;
	ctx.allow_modprobe = strcmp(arg_sys, "/sys") == 0;
	release = kernel_release(relbuf, sizeof(relbuf));

	if (strcmp(verb, "status") == 0 || strcmp(verb, "check") == 0) {
		r = hv_vmbus_device_state(arg_sys, svc->class_guid,
					  arg_instance, &dev);
		if (r < 0)
			return report_error(r, verb, what, &dev, release);
		c = hv_vmbus_kernel_supports(&ctx, svc);
		if (verb[0] == 's') {
			printf("service=%s\nclass=%s\ninstance=%s\ndriver=%s\n"
			       "kernel=%s\nuio=%s\n",
			       svc->name, dev.class_guid, dev.instance,
			       dev.driver, release,
			       c > 0  ? "supported" :
			       c == 0 ? "unsupported" :
					"unknown");
			return 0;
		}
		if (c <= 0)
			return report_error(c == 0 ? -EOPNOTSUPP : c, verb,
					    what, &dev, release);
		if (dev.driver[0] &&
		    strcmp(dev.driver, HV_VMBUS_UIO_DRIVER) != 0 &&
		    (!svc->kernel_driver ||
		     strcmp(dev.driver, svc->kernel_driver) != 0))
			return report_error(-EBUSY, verb, what, &dev, release);
		if (!arg_quiet)
			printf("%s can run on uio_hv_generic (now: %s)\n",
			       dev.instance, driver_label(dev.driver));
		return 0;
	}

	if (strcmp(verb, "bind") == 0) {
		r = hv_vmbus_bind_uio(&ctx, svc, arg_instance, &dev);
		if (r < 0)
			return report_error(r, verb, what, &dev, release);
		if (!arg_quiet)
			printf(r == HV_VMBUS_UNCHANGED ?
				       "%s already on uio_hv_generic\n" :
				       "%s now on uio_hv_generic\n",
			       dev.instance);
		return 0;
	}
	if (strcmp(verb, "release") == 0) {
		r = hv_vmbus_release(&ctx, svc, arg_instance, &dev);
		if (r < 0)
			return report_error(r, verb, what, &dev, release);
		if (!arg_quiet) {
			if (r == HV_VMBUS_UNBOUND)
				printf("%s released; no kernel driver takes "
				       "it\n",
				       dev.instance);
			else
				printf("%s %s %s\n", dev.instance,
				       r == HV_VMBUS_CHANGED ? "back on" :
							       "stays on",
				       driver_label(dev.driver));
		}
		return 0;
	}
	fprintf(stderr, PROG ": unknown command '%s'\nTry '" PROG " --help'.\n",
		verb);
	return EX_USAGE;
}
