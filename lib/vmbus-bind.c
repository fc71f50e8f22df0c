/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VMBus driver binding through sysfs (see hvis/vmbus-bind.h for what the
 * kernel accepts). Everything read from sysfs is untrusted.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/utsname.h>

#include "hvis/spawn.h"
#include "hvis/util.h"
#include "hvis/vmbus-bind.h"
#include "hvis/wire.h"

#define MODPROBE_TIMEOUT_USEC (30 * 1000000ull)

static const struct hv_vmbus_service services[] = {
	{
		.name = "shutdown",
		.class_guid = HV_GUID_SHUTDOWN,
		.kernel_driver = HV_VMBUS_UTILS_DRIVER,
		.util_channel = true,
	},
	{
		/*
		 * hv_utils stopped claiming fcopy in 6.10, the first kernel
		 * where uio can run it; before, it drove the char device.
		 */
		.name = "fcopy",
		.class_guid = HV_GUID_FCOPY,
		.kernel_driver = HV_VMBUS_UTILS_DRIVER,
		.util_channel = true,
	},
};

const struct hv_vmbus_service *hv_vmbus_service_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(services); i++)
		if (strcmp(services[i].name, name) == 0)
			return &services[i];
	return NULL;
}

int hv_guid_normalize(const char *in, char out[HV_GUID_STR_LEN + 1])
{
	size_t n = strnlen(in, HV_GUID_STR_LEN + 3);

	if (n == HV_GUID_STR_LEN + 2 && in[0] == '{' && in[n - 1] == '}') {
		in++;
		n -= 2;
	}
	if (n != HV_GUID_STR_LEN)
		return -EINVAL;
	for (size_t i = 0; i < HV_GUID_STR_LEN; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (ch != '-')
				return -EINVAL;
		} else if (!isxdigit(ch)) {
			return -EINVAL;
		}
		out[i] = (char)tolower(ch);
	}
	out[HV_GUID_STR_LEN] = '\0';
	return 0;
}

/* A single path component from sysfs or a caller, shorter than max. */
static bool name_ok(const char *name, size_t max)
{
	size_t n = strnlen(name, max);

	if (n == 0 || n == max || strchr(name, '/'))
		return false;
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int class_matches(const char *devdir, const char *want)
{
	char path[PATH_MAX], buf[64], got[HV_GUID_STR_LEN + 1];
	int r;

	r = hv_snprintf(path, sizeof(path), "%s/class_id", devdir);
	if (r < 0)
		return -ENAMETOOLONG;
	r = hv_read_line_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	if (hv_guid_normalize(buf, got) < 0)
		return -EBADMSG;
	return strcmp(got, want) == 0;
}

int hv_vmbus_find_device(const char *sysfs_root, const char *class_guid,
			 const char *instance, char *ret_instance, size_t size)
{
	char want[HV_GUID_STR_LEN + 1], devices[PATH_MAX], path[PATH_MAX];
	char best[NAME_MAX + 1] = "";
	struct dirent *de;
	DIR *d;
	int r;

	if (!sysfs_root || !class_guid || !ret_instance)
		return -EINVAL;
	if (hv_guid_normalize(class_guid, want) < 0)
		return -EINVAL;
	r = hv_snprintf(devices, sizeof(devices), "%s/bus/vmbus/devices",
			sysfs_root);
	if (r < 0)
		return -ENAMETOOLONG;

	if (instance) {
		if (!name_ok(instance, size))
			return -EINVAL;
		r = hv_snprintf(path, sizeof(path), "%s/%s", devices, instance);
		if (r < 0)
			return -ENAMETOOLONG;
		r = class_matches(path, want);
		/* Absent, another class or no sane class_id: not ours. */
		if (r == 0 || r == -ENOENT || r == -ENOTDIR || r == -EBADMSG ||
		    r == -E2BIG)
			return -ENOENT;
		if (r < 0)
			return r;
		hv_strscpy(ret_instance, instance, size);
		return 0;
	}

	/*
	 * The lexically first match wins, so the answer does not depend on
	 * readdir order.
	 */
	d = opendir(devices);
	if (!d)
		return errno == ENOTDIR ? -ENOENT : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !name_ok(de->d_name, size))
			continue;
		if (best[0] && strcmp(de->d_name, best) >= 0)
			continue;
		r = hv_snprintf(path, sizeof(path), "%s/%s", devices,
				de->d_name);
		if (r < 0)
			continue;
		/* Entries without a sane class_id are not channels. */
		if (class_matches(path, want) <= 0)
			continue;
		hv_strscpy(best, de->d_name, sizeof(best));
	}
	closedir(d);
	if (!best[0])
		return -ENOENT;
	return hv_strscpy(ret_instance, best, size) < 0 ? -ENAMETOOLONG : 0;
}

/* The driver's name from the device's "driver" link, "" if unbound. */
static int read_driver(const char *sysfs_root, const char *instance, char *ret,
		       size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;
	int r;

	r = hv_snprintf(path, sizeof(path), "%s/bus/vmbus/devices/%s/driver",
			sysfs_root, instance);
	if (r < 0)
		return -ENAMETOOLONG;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno == ENOENT) {
			ret[0] = '\0';
			return 0;
		}
		return -errno;
	}
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!name_ok(base, size))
		return -EBADMSG;
	for (const char *p = base; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return -EBADMSG;
	hv_strscpy(ret, base, size);
	return 0;
}

int hv_vmbus_device_state(const char *sysfs_root, const char *class_guid,
			  const char *instance, struct hv_vmbus_dev *ret)
{
	struct hv_vmbus_dev dev = { 0 };
	int r;

	if (!ret)
		return -EINVAL;
	r = hv_vmbus_find_device(sysfs_root, class_guid, instance, dev.instance,
				 sizeof(dev.instance));
	if (r < 0)
		return r;
	hv_guid_normalize(class_guid, dev.class_guid);
	r = read_driver(sysfs_root, dev.instance, dev.driver,
			sizeof(dev.driver));
	if (r < 0)
		return r;
	*ret = dev;
	return 0;
}

static int parse_uint(const char **s, unsigned int *ret)
{
	unsigned long v = 0;
	const char *p = *s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 100000)
			return -EINVAL;
		p++;
	}
	*ret = (unsigned int)v;
	*s = p;
	return 0;
}

int hv_kernel_at_least(const char *release, unsigned int major,
		       unsigned int minor)
{
	unsigned int ma, mi;
	const char *p = release;

	if (!p || parse_uint(&p, &ma) < 0 || *p++ != '.' ||
	    parse_uint(&p, &mi) < 0)
		return -EINVAL;
	if (ma != major)
		return ma > major;
	return mi >= minor;
}

int hv_vmbus_kernel_supports(const struct hv_vmbus_ctx *ctx,
			     const struct hv_vmbus_service *svc)
{
	struct utsname u;
	const char *release = ctx->kernel_release;

	if (!svc->util_channel)
		return 1;
	if (!release) {
		if (uname(&u) < 0)
			return -errno;
		release = u.release;
	}
	return hv_kernel_at_least(release, HV_UIO_UTIL_MIN_MAJOR,
				  HV_UIO_UTIL_MIN_MINOR);
}

static int write_attr(const struct hv_vmbus_ctx *ctx, const char *path,
		      const char *value)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);
	ssize_t n;

	if (ctx->write_attr)
		return ctx->write_attr(path, value, ctx->userdata);
	/* No O_CREAT: a missing attribute means the driver is not there. */
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* A sysfs store takes the whole value in one write, or fails. */
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int driver_attr(const struct hv_vmbus_ctx *ctx, const char *driver,
		       const char *attr, const char *value)
{
	char path[PATH_MAX];

	if (hv_snprintf(path, sizeof(path), "%s/bus/vmbus/drivers/%s/%s",
			ctx->sysfs_root, driver, attr) < 0)
		return -ENAMETOOLONG;
	return write_attr(ctx, path, value);
}

static bool driver_present(const struct hv_vmbus_ctx *ctx, const char *driver)
{
	char path[PATH_MAX];
	struct stat st;

	if (hv_snprintf(path, sizeof(path), "%s/bus/vmbus/drivers/%s",
			ctx->sysfs_root, driver) < 0)
		return false;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The driver's directory exists, after loading its module if allowed. */
static int ensure_driver(const struct hv_vmbus_ctx *ctx, const char *driver)
{
	static const char *const modprobe[] = { "/usr/sbin/modprobe",
						"/sbin/modprobe" };
	char *argv[] = { "modprobe", "-q", (char *)driver, NULL };
	int r = -ENOENT;

	if (driver_present(ctx, driver))
		return 0;
	if (!ctx->allow_modprobe)
		return -ENODEV;
	for (size_t i = 0; i < ARRAY_SIZE(modprobe) && r == -ENOENT; i++)
		r = hv_spawn_run(modprobe[i], argv, NULL,
				 MODPROBE_TIMEOUT_USEC);
	if (r != 0 || !driver_present(ctx, driver))
		return -ENODEV;
	return 0;
}

static int refresh(const struct hv_vmbus_ctx *ctx, struct hv_vmbus_dev *dev)
{
	return read_driver(ctx->sysfs_root, dev->instance, dev->driver,
			   sizeof(dev->driver));
}

/* Write the instance to <driver>/bind and check that it took. */
static int bind_to(const struct hv_vmbus_ctx *ctx, struct hv_vmbus_dev *dev,
		   const char *driver)
{
	int r, w;

	w = driver_attr(ctx, driver, "bind", dev->instance);
	r = refresh(ctx, dev);
	if (r < 0)
		return r;
	if (strcmp(dev->driver, driver) == 0)
		return 0;
	/* ENOTSUPP (524) is what uio_hv_generic's probe says before 6.10. */
	if (w == -EOPNOTSUPP || w == -524)
		return -EOPNOTSUPP;
	return w < 0 ? w : -EIO;
}

int hv_vmbus_bind_uio(const struct hv_vmbus_ctx *ctx,
		      const struct hv_vmbus_service *svc, const char *instance,
		      struct hv_vmbus_dev *ret)
{
	struct hv_vmbus_dev dev, scratch;
	char previous[HV_VMBUS_DRIVER_NAME_MAX];
	bool added_id = false;
	int r;

	if (!ctx || !ctx->sysfs_root || !svc || !svc->class_guid)
		return -EINVAL;
	if (!ret)
		ret = &scratch;
	r = hv_vmbus_device_state(ctx->sysfs_root, svc->class_guid, instance,
				  &dev);
	if (r < 0)
		return r;
	*ret = dev;
	if (strcmp(dev.driver, HV_VMBUS_UIO_DRIVER) == 0)
		return HV_VMBUS_UNCHANGED;
	if (dev.driver[0] && (!svc->kernel_driver ||
			      strcmp(dev.driver, svc->kernel_driver) != 0))
		return -EBUSY;

	/* Before touching anything: refuse on a kernel that cannot. */
	r = hv_vmbus_kernel_supports(ctx, svc);
	if (r < 0)
		return r;
	if (r == 0)
		return -EOPNOTSUPP;
	r = ensure_driver(ctx, HV_VMBUS_UIO_DRIVER);
	if (r < 0)
		return r;

	r = driver_attr(ctx, HV_VMBUS_UIO_DRIVER, "new_id", dev.class_guid);
	if (r < 0 && r != -EEXIST)
		return r;
	added_id = r == 0;
	hv_strscpy(previous, dev.driver, sizeof(previous));

	/* new_id attaches unbound devices of the class by itself. */
	r = refresh(ctx, &dev);
	if (r < 0)
		goto undo_id;
	if (dev.driver[0] && strcmp(dev.driver, HV_VMBUS_UIO_DRIVER) != 0) {
		r = driver_attr(ctx, dev.driver, "unbind", dev.instance);
		if (r < 0)
			goto undo_id;
		r = refresh(ctx, &dev);
		if (r < 0)
			goto undo;
		if (dev.driver[0]) {
			r = -EIO;
			goto undo;
		}
	}
	if (!dev.driver[0]) {
		r = bind_to(ctx, &dev, HV_VMBUS_UIO_DRIVER);
		if (r < 0)
			goto undo;
	} else if (strcmp(dev.driver, HV_VMBUS_UIO_DRIVER) != 0) {
		r = -EIO;
		goto undo;
	}
	*ret = dev;
	return HV_VMBUS_CHANGED;

undo:
	/* Best effort: back to where it was, so the kernel keeps serving. */
	if (previous[0] && refresh(ctx, &dev) == 0 && !dev.driver[0])
		(void)bind_to(ctx, &dev, previous);
undo_id:
	if (added_id)
		(void)driver_attr(ctx, HV_VMBUS_UIO_DRIVER, "remove_id",
				  dev.class_guid);
	(void)refresh(ctx, &dev);
	*ret = dev;
	return r;
}

int hv_vmbus_release(const struct hv_vmbus_ctx *ctx,
		     const struct hv_vmbus_service *svc, const char *instance,
		     struct hv_vmbus_dev *ret)
{
	struct hv_vmbus_dev dev, scratch;
	int r;

	if (!ctx || !ctx->sysfs_root || !svc || !svc->class_guid)
		return -EINVAL;
	if (!ret)
		ret = &scratch;
	r = hv_vmbus_device_state(ctx->sysfs_root, svc->class_guid, instance,
				  &dev);
	if (r < 0)
		return r;
	*ret = dev;

	/*
	 * The id out first: a channel the host offers again later (or one
	 * we unbind below) must not be picked up by uio with nobody there.
	 */
	if (driver_present(ctx, HV_VMBUS_UIO_DRIVER)) {
		r = driver_attr(ctx, HV_VMBUS_UIO_DRIVER, "remove_id",
				dev.class_guid);
		if (r < 0 && r != -ENODEV)
			return r;
	}
	if (strcmp(dev.driver, HV_VMBUS_UIO_DRIVER) == 0) {
		r = driver_attr(ctx, HV_VMBUS_UIO_DRIVER, "unbind",
				dev.instance);
		if (r < 0)
			return r;
		r = refresh(ctx, &dev);
		*ret = dev;
		if (r < 0)
			return r;
		if (dev.driver[0])
			return -EIO;
	} else if (dev.driver[0]) {
		return HV_VMBUS_UNCHANGED; /* its kernel driver, or another */
	}

	if (!svc->kernel_driver)
		return HV_VMBUS_UNBOUND;
	r = ensure_driver(ctx, svc->kernel_driver);
	if (r == -ENODEV)
		return HV_VMBUS_UNBOUND;
	if (r < 0)
		return r;
	r = bind_to(ctx, &dev, svc->kernel_driver);
	*ret = dev;
	/* ENODEV from bind: the driver does not match this class (any more). */
	if (r == -ENODEV && !dev.driver[0])
		return HV_VMBUS_UNBOUND;
	if (r < 0)
		return r;
	return HV_VMBUS_CHANGED;
}
