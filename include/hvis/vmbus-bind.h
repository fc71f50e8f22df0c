/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Moving a VMBus channel between kernel drivers through sysfs
 * (protocol.md §5.3, §6.1): find the device of a class, see which driver
 * has it, hand it to uio_hv_generic (new_id, unbind, bind) and give it
 * back (remove_id, unbind, bind to the kernel's driver).
 *
 * What the kernel accepts (drivers/hv/vmbus_drv.c, drivers/base/bus.c):
 * new_id and remove_id take a GUID in the 36-character form; new_id fails
 * with EEXIST when the id is already there and attaches every *unbound*
 * device of that class at once; remove_id fails with ENODEV when the id
 * is not there and does not unbind anything; bind and unbind take the
 * device (instance) name, fail with ENODEV for a device that does not
 * match the driver or is not bound to it. Whether a bind really took is
 * only visible in the device's "driver" link (older kernels swallow probe
 * errors), so every step is checked there.
 */
#ifndef HVIS_VMBUS_BIND_H
#define HVIS_VMBUS_BIND_H

#include <stdbool.h>
#include <stddef.h>

#define HV_GUID_STR_LEN 36
#define HV_VMBUS_UIO_DRIVER "uio_hv_generic"
#define HV_VMBUS_UTILS_DRIVER "hv_utils"
/* Name of a driver as the "driver" link shows it. */
#define HV_VMBUS_DRIVER_NAME_MAX 64

/*
 * Exit status shared by hv-vmbus-bind and the UIO daemons: this kernel
 * cannot drive the channel from userspace (uio_hv_generic before 6.10
 * refuses channels without a monitor page), the in-kernel handler stays.
 */
#define HV_EXIT_KERNEL_UNSUPPORTED 10
/* Util channels on uio_hv_generic need this kernel (protocol.md §6.1). */
#define HV_UIO_UTIL_MIN_MAJOR 6
#define HV_UIO_UTIL_MIN_MINOR 10

/* A channel we know by name. */
struct hv_vmbus_service {
	const char *name; /* "shutdown", "fcopy" */
	const char *class_guid;
	/* The driver that serves it when we do not (NULL: none). */
	const char *kernel_driver;
	/* No monitor page: only kernels >= 6.10 run it on uio. */
	bool util_channel;
};

/* "shutdown" or "fcopy"; NULL for anything else. */
const struct hv_vmbus_service *hv_vmbus_service_by_name(const char *name);

/*
 * Reduce a GUID, with or without braces, to its 36 characters in lower
 * case. -EINVAL unless it has the 8-4-4-4-12 hex shape.
 */
int hv_guid_normalize(const char *in, char out[HV_GUID_STR_LEN + 1]);

/*
 * The device directory name (the instance GUID) of class_guid under
 * <sysfs_root>/bus/vmbus/devices/: with an instance, that one, which must
 * have the class; without, the lexically first instance of the class.
 * Returns 0, -EINVAL for a malformed class or instance, -ENOENT if there
 * is no such device, -ENAMETOOLONG, or another -errno from reading sysfs.
 */
int hv_vmbus_find_device(const char *sysfs_root, const char *class_guid,
			 const char *instance, char *ret_instance, size_t size);

struct hv_vmbus_dev {
	char instance[HV_GUID_STR_LEN + 1];
	char class_guid[HV_GUID_STR_LEN + 1];
	char driver[HV_VMBUS_DRIVER_NAME_MAX]; /* "" when unbound */
};

/* hv_vmbus_find_device() plus the driver the device is bound to. */
int hv_vmbus_device_state(const char *sysfs_root, const char *class_guid,
			  const char *instance, struct hv_vmbus_dev *ret);

/*
 * Compare a kernel release ("6.1.0-18-amd64") with major.minor: 1 if it
 * is at least that, 0 if older, -EINVAL if it does not start with
 * "<major>.<minor>".
 */
int hv_kernel_at_least(const char *release, unsigned int major,
		       unsigned int minor);

struct hv_vmbus_ctx {
	const char *sysfs_root; /* "/sys" */
	const char *kernel_release; /* NULL: uname(2) */
	/* Load a missing driver module with modprobe (never under a test root). */
	bool allow_modprobe;
	/*
	 * Tests: stands in for writing value to the sysfs attribute at path
	 * (the kernel's side effects included). Returns 0 or -errno.
	 */
	int (*write_attr)(const char *path, const char *value, void *userdata);
	void *userdata;
};

/*
 * Can svc's channel be run on uio_hv_generic with this kernel? 1 yes,
 * 0 no (a util channel and a kernel before 6.10), -EINVAL if the release
 * cannot be parsed.
 */
int hv_vmbus_kernel_supports(const struct hv_vmbus_ctx *ctx,
			     const struct hv_vmbus_service *svc);

enum {
	HV_VMBUS_CHANGED = 0, /* the channel moved */
	HV_VMBUS_UNCHANGED = 1, /* it already was where it should be */
	HV_VMBUS_UNBOUND = 2, /* release: no kernel driver took it back */
};

/*
 * Bind the channel of svc (and instance, if not NULL) to uio_hv_generic:
 * check the kernel, load uio_hv_generic if its driver directory is
 * missing (ctx->allow_modprobe), add the class to its new_id (EEXIST is
 * fine), unbind from svc->kernel_driver, bind, and check the driver link.
 * A failure after the unbind puts the channel back where it was (and
 * takes the id out again if we added it).
 * Returns HV_VMBUS_CHANGED or HV_VMBUS_UNCHANGED (already on uio);
 * -ENOENT no such device, -EOPNOTSUPP the kernel cannot (too old, or the
 * driver refused the channel), -EBUSY bound to another driver than
 * svc->kernel_driver (ret->driver names it), -ENODEV uio_hv_generic is
 * not available, -EIO the bind did not take, or a write's -errno.
 * *ret (may be NULL) describes the device as last seen, also on failure
 * once it was found.
 */
int hv_vmbus_bind_uio(const struct hv_vmbus_ctx *ctx,
		      const struct hv_vmbus_service *svc, const char *instance,
		      struct hv_vmbus_dev *ret);

/*
 * Give the channel back: take the class out of uio_hv_generic's ids
 * (ENODEV: it was not there, fine), unbind it from uio_hv_generic if it is
 * bound there, and bind it to svc->kernel_driver (loading the module if
 * allowed and needed). A channel bound to any other driver is left alone.
 * Returns HV_VMBUS_CHANGED, HV_VMBUS_UNCHANGED (not on uio and already
 * with its kernel driver, or with another driver), HV_VMBUS_UNBOUND (no
 * kernel driver for it, or that driver does not take it); -ENOENT no such
 * device, -EIO the kernel driver's bind did not take, or a write's -errno.
 */
int hv_vmbus_release(const struct hv_vmbus_ctx *ctx,
		     const struct hv_vmbus_service *svc, const char *instance,
		     struct hv_vmbus_dev *ret);

#endif
