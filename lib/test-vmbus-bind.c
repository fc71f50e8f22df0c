/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Driver binding against a fake sysfs tree: plain files stand in for the
 * attribute files and a small model of the kernel (the write hook) plays
 * the driver core's side effects, so each test can assert what was
 * written where, in what order, and what the driver link says after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>

#include "hvis/util.h"
#include "hvis/vmbus-bind.h"
#include "hvis/wire.h"

#define INST "b6650ff7-33bc-4840-8048-e0676786f393"
#define INST2 "0a0b0c0d-33bc-4840-8048-e0676786f393"
#define FCOPY_INST HV_GUID_FCOPY_INSTANCE
#define MAX_LOG 16

enum probe_mode { PROBE_OK, PROBE_REFUSE, PROBE_SWALLOW };

struct fake {
	char sys[64];
	char log[MAX_LOG][160];
	int nlog;
	bool uio_has_id[2]; /* shutdown, fcopy */
	enum probe_mode uio_probe;
	bool utils_swallow;
};

static void mkdirs(const char *path)
{
	assert_int_equal(hv_mkdir_parents(path, 0755), 0);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void readf(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void add_driver(struct fake *f, const char *name)
{
	static const char *const attrs[] = { "bind", "unbind", "new_id",
					     "remove_id" };
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/bus/vmbus/drivers/%s", f->sys, name);
	mkdirs(p);
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		snprintf(p, sizeof(p), "%s/bus/vmbus/drivers/%s/%s", f->sys,
			 name, attrs[i]);
		put(p, "");
	}
}

static void add_device(struct fake *f, const char *inst, const char *class)
{
	char p[PATH_MAX], v[64];

	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/%s", f->sys, inst);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/%s/class_id", f->sys,
		 inst);
	snprintf(v, sizeof(v), "{%s}\n", class);
	put(p, v);
}

static void set_link(struct fake *f, const char *inst, const char *drv)
{
	char p[PATH_MAX], t[PATH_MAX];

	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/%s/driver", f->sys, inst);
	unlink(p);
	if (drv) {
		snprintf(t, sizeof(t), "../../drivers/%s", drv);
		assert_int_equal(symlink(t, p), 0);
	}
}

static void get_link(struct fake *f, const char *inst, char *out, size_t n)
{
	char p[PATH_MAX], t[PATH_MAX];
	ssize_t k;

	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/%s/driver", f->sys, inst);
	k = readlink(p, t, sizeof(t) - 1);
	if (k < 0) {
		out[0] = '\0';
		return;
	}
	t[k] = '\0';
	snprintf(out, n, "%s", strrchr(t, '/') + 1);
}

static const char *class_of(struct fake *f, const char *inst)
{
	char p[PATH_MAX], buf[64];
	static char out[40];

	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/%s/class_id", f->sys,
		 inst);
	if (hv_read_line_file(p, buf, sizeof(buf)) < 0)
		return NULL;
	snprintf(out, sizeof(out), "%.36s", buf + 1);
	return out;
}

static int id_slot(const char *class)
{
	if (strcmp(class, HV_GUID_SHUTDOWN) == 0)
		return 0;
	if (strcmp(class, HV_GUID_FCOPY) == 0)
		return 1;
	return -1;
}

static bool matches(struct fake *f, const char *drv, const char *inst)
{
	const char *class = class_of(f, inst);
	int slot;

	if (!class)
		return false;
	slot = id_slot(class);
	if (strcmp(drv, HV_VMBUS_UIO_DRIVER) == 0)
		return slot >= 0 && f->uio_has_id[slot];
	/* Since 6.10 hv_utils has shutdown but no longer fcopy. */
	if (strcmp(drv, HV_VMBUS_UTILS_DRIVER) == 0)
		return slot == 0;
	return false;
}

static int probe(struct fake *f, const char *drv, const char *inst)
{
	if (strcmp(drv, HV_VMBUS_UIO_DRIVER) == 0) {
		if (f->uio_probe == PROBE_REFUSE)
			return -524;
		if (f->uio_probe == PROBE_SWALLOW)
			return 0;
	}
	if (strcmp(drv, HV_VMBUS_UTILS_DRIVER) == 0 && f->utils_swallow)
		return 0;
	set_link(f, inst, drv);
	return 0;
}

/* The driver core's answers to each write (hvis/vmbus-bind.h). */
static int fake_write(const char *path, const char *value, void *userdata)
{
	struct fake *f = userdata;
	char drv[64], attr[32], cur[64], prefix[PATH_MAX];
	int fd, slot;

	snprintf(prefix, sizeof(prefix), "%s/bus/vmbus/drivers/", f->sys);
	assert_memory_equal(path, prefix, strlen(prefix));
	assert_int_equal(
		sscanf(path + strlen(prefix), "%63[^/]/%31s", drv, attr), 2);
	assert_true(f->nlog < MAX_LOG);
	snprintf(f->log[f->nlog++], sizeof(f->log[0]), "%s/%s=%s", drv, attr,
		 value);
	/* The plain file records the value too. */
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	assert_int_equal(write(fd, value, strlen(value)), (int)strlen(value));
	close(fd);

	if (strcmp(attr, "new_id") == 0 || strcmp(attr, "remove_id") == 0) {
		slot = id_slot(value);
		assert_true(slot >= 0);
		assert_string_equal(drv, HV_VMBUS_UIO_DRIVER);
		if (attr[0] == 'r') {
			if (!f->uio_has_id[slot])
				return -ENODEV;
			f->uio_has_id[slot] = false;
			return 0;
		}
		if (f->uio_has_id[slot])
			return -EEXIST;
		f->uio_has_id[slot] = true;
		/* driver_attach: every unbound device of the class. */
		for (const char *const *i =
			     (const char *const[]){ INST, INST2, FCOPY_INST,
						    NULL };
		     *i; i++) {
			get_link(f, *i, cur, sizeof(cur));
			if (!cur[0] && class_of(f, *i) &&
			    id_slot(class_of(f, *i)) == slot)
				probe(f, drv, *i);
		}
		return 0;
	}
	if (!class_of(f, value))
		return -ENODEV;
	get_link(f, value, cur, sizeof(cur));
	if (strcmp(attr, "unbind") == 0) {
		if (strcmp(cur, drv) != 0)
			return -ENODEV;
		set_link(f, value, NULL);
		return 0;
	}
	assert_string_equal(attr, "bind");
	if (!matches(f, drv, value))
		return -ENODEV;
	if (cur[0])
		return -EBUSY;
	return probe(f, drv, value);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->sys, "/tmp/hvis-bind.XXXXXX");
	assert_non_null(mkdtemp(f->sys));
	add_driver(f, HV_VMBUS_UIO_DRIVER);
	add_driver(f, HV_VMBUS_UTILS_DRIVER);
	add_device(f, INST, HV_GUID_SHUTDOWN);
	set_link(f, INST, HV_VMBUS_UTILS_DRIVER);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->sys);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct hv_vmbus_ctx ctx_for(struct fake *f, const char *release)
{
	return (struct hv_vmbus_ctx){
		.sysfs_root = f->sys,
		.kernel_release = release,
		.write_attr = fake_write,
		.userdata = f,
	};
}

static const struct hv_vmbus_service *shutdown_svc(void)
{
	const struct hv_vmbus_service *s = hv_vmbus_service_by_name("shutdown");

	assert_non_null(s);
	return s;
}

static void assert_log(struct fake *f, const char *const *want)
{
	int n = 0;

	for (; want[n]; n++) {
		if (n >= f->nlog)
			fail_msg("missing write %d: %s", n, want[n]);
		assert_string_equal(f->log[n], want[n]);
	}
	if (f->nlog != n)
		fail_msg("unexpected write %d: %s", n, f->log[n]);
}

static void assert_link(struct fake *f, const char *inst, const char *want)
{
	char cur[64];

	get_link(f, inst, cur, sizeof(cur));
	assert_string_equal(cur, want);
}

static void assert_file(struct fake *f, const char *drv, const char *attr,
			const char *want)
{
	char p[PATH_MAX], buf[128];

	snprintf(p, sizeof(p), "%s/bus/vmbus/drivers/%s/%s", f->sys, drv, attr);
	readf(p, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_bind_from_hv_utils(void **state)
{
	struct fake *f = *state;
	struct hv_vmbus_ctx ctx = ctx_for(f, "6.10.0-1-amd64");
	struct hv_vmbus_dev dev;

	assert_int_equal(hv_vmbus_bind_uio(&ctx, shutdown_svc(), NULL, &dev),
			 HV_VMBUS_CHANGED);
	assert_log(f, (const char *const[]){
			      "uio_hv_generic/new_id=" HV_GUID_SHUTDOWN,
			      "hv_utils/unbind=" INST,
			      "uio_hv_generic/bind=" INST, NULL });
	assert_string_equal(dev.instance, INST);
	assert_string_equal(dev.driver, HV_VMBUS_UIO_DRIVER);
	assert_link(f, INST, HV_VMBUS_UIO_DRIVER);
	assert_file(f, HV_VMBUS_UIO_DRIVER, "new_id", HV_GUID_SHUTDOWN);
	assert_file(f, HV_VMBUS_UTILS_DRIVER, "unbind", INST);
	assert_file(f, HV_VMBUS_UIO_DRIVER, "bind", INST);

	/* A second bind finds it in place and writes nothing. */
	f->nlog = 0;
	assert_int_equal(hv_vmbus_bind_uio(&ctx, shutdown_svc(), INST, &dev),
			 HV_VMBUS_UNCHANGED);
	assert_int_equal(f->nlog, 0);
}

static void test_bind_id_already_there(void **state)
{
	struct fake *f = *state;
	struct hv_vmbus_ctx ctx = ctx_for(f, "6.12");

	f->uio_has_id[0] = true;
	assert_int_equal(hv_vmbus_bind_uio(&ctx, shutdown_svc(), NULL, NULL),
			 HV_VMBUS_CHANGED);
	assert_log(f, (const char *const[]){
			      "uio_hv_generic/new_id=" HV_GUID_SHUTDOWN,
			      "hv_utils/unbind=" INST,
			      "uio_hv_generic/bind=" INST, NULL });
	assert_link(f, INST, HV_VMBUS_UIO_DRIVER);
}

static void test_bind_old_kernel(void **state)
{
	struct fake *f = *state;
	static const char *const old[] = { "6.1.0-18-amd64", "6.9.12", "5.15.0",
					   "4.19" };
	struct hv_vmbus_ctx ctx;

	for (size_t i = 0; i < ARRAY_SIZE(old); i++) {
		ctx = ctx_for(f, old[i]);
		assert_int_equal(hv_vmbus_kernel_supports(&ctx, shutdown_svc()),
				 0);
		assert_int_equal(hv_vmbus_bind_uio(&ctx, shutdown_svc(), NULL,
						   NULL),
				 -EOPNOTSUPP);
	}
	ctx = ctx_for(f, "garbage");
	assert_int_equal(hv_vmbus_bind_uio(&ctx, shutdown_svc(), NULL, NULL),
			 -EINVAL);
	/* Nothing written: hv_utils keeps the channel. */
	assert_int_equal(f->nlog, 0);
	assert_link(f, INST, HV_VMBUS_UTILS_DRIVER);
}

static void test_kernel_at_least(void **state)
{
	assert_int_equal(hv_kernel_at_least("6.10.0-rc1", 6, 10), 1);
	assert_int_equal(hv_kernel_at_least("6.9.0", 6, 10), 0);
	assert_int_equal(hv_kernel_at_least("7.0", 6, 10), 1);
	assert_int_equal(hv_kernel_at_least("5.99", 6, 10), 0);
	assert_int_equal(hv_kernel_at_least("6.100.1", 6, 10), 1);
	assert_int_equal(hv_kernel_at_least("6", 6, 10), -EINVAL);
	assert_int_equal(hv_kernel_at_least("v6.10", 6, 10), -EINVAL);
	assert_int_equal(hv_kernel_at_least("", 6, 10), -EINVAL);
	assert_int_equal(hv_kernel_at_least(NULL, 6, 10), -EINVAL);
	assert_int_equal(hv_kernel_at_least("99999999999.1", 6, 10), -EINVAL);
}

static void test_bind_refused_rolls_back(void **state)
{
	struct fake *f = *state;
	struct hv_vmbus_ctx ctx = ctx_for(f, "6.10");
	struct hv_vmbus_dev dev;

	f->uio_probe = PROBE_REFUSE;
	assert_int_equal(hv_vmbus_bind_uio(&ctx, shutdown_svc(), NULL, &dev),
			 -EOPNOTSUPP);
	assert_log(f,
		   (const char *const[]){
			   "uio_hv_generic/new_id=" HV_GUID_SHUTDOWN,
			   "hv_utils/unbind=" INST, "uio_hv_generic/bind=" INST,
			   "hv_utils/bind=" INST,
			   "uio_hv_generic/remove_id=" HV_GUID_SHUTDOWN,
			   NULL });
	assert_link(f, INST, HV_VMBUS_UTILS_DRIVER);
	assert_string_equal(dev.driver, HV_VMBUS_UTILS_DRIVER);
	assert_false(f->uio_has_id[0]);
}

static void test_bind_swallowed_probe(void **state)
{
	struct fake *f = *state;
	struct hv_vmbus_ctx ctx = ctx_for(f, "6.10");

	/* Older driver cores report success for a failed probe. */
	f->uio_probe = PROBE_SWALLOW;
	f->uio_has_id[0] = true; /* not ours: must stay */
	assert_int_equal(hv_vmbus_bind_uio(&ctx, shutdown_svc(), NULL, NULL),
			 -EIO);
	assert_log(f,
		   (const char *const[]){
			   "uio_hv_generic/new_id=" HV_GUID_SHUTDOWN,
			   "hv_utils/unbind=" INST, "uio_hv_generic/bind=" INST,
			   "hv_utils/bind=" INST, NULL });
	assert_link(f, INST, HV_VMBUS_UTILS_DRIVER);
	assert_true(f->uio_has_id[0]);
}

static void test_bind_foreign_driver(void **state)
{
	struct fake *f = *state;
	struct hv_vmbus_ctx ctx = ctx_for(f, "6.10");
	struct hv_vmbus_dev dev;

	set_link(f, INST, "hv_netvsc");
	assert_int_equal(hv_vmbus_bind_uio(&ctx, shutdown_svc(), NULL, &dev),
			 -EBUSY);
	assert_string_equal(dev.driver, "hv_netvsc");
	assert_int_equal(f->nlog, 0);
	/* Release leaves it alone as well (but takes the id out). */
	assert_int_equal(hv_vmbus_release(&ctx, shutdown_svc(), NULL, &dev),
			 HV_VMBUS_UNCHANGED);
	assert_log(f, (const char *const[]){
			      "uio_hv_generic/remove_id=" HV_GUID_SHUTDOWN,
			      NULL });
	assert_link(f, INST, "hv_netvsc");
}

static void test_no_device(void **state)
{
	struct fake *f = *state;
	struct hv_vmbus_ctx ctx = ctx_for(f, "6.10");
	const struct hv_vmbus_service *fc = hv_vmbus_service_by_name("fcopy");

	assert_non_null(fc);
	assert_int_equal(hv_vmbus_bind_uio(&ctx, fc, NULL, NULL), -ENOENT);
	assert_int_equal(hv_vmbus_release(&ctx, fc, NULL, NULL), -ENOENT);
	/* An instance of another class is not the device either. */
	assert_int_equal(hv_vmbus_bind_uio(&ctx, fc, INST, NULL), -ENOENT);
	assert_int_equal(hv_vmbus_bind_uio(&ctx, shutdown_svc(), "../x", NULL),
			 -EINVAL);
	assert_int_equal(f->nlog, 0);
}

static void test_uio_missing(void **state)
{
	struct fake *f = *state;
	struct hv_vmbus_ctx ctx = ctx_for(f, "6.10");
	char cmd[PATH_MAX];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/bus/vmbus/drivers/uio_hv_generic",
		 f->sys);
	assert_int_equal(system(cmd), 0);
	/* Under a test root modprobe is never run. */
	assert_int_equal(hv_vmbus_bind_uio(&ctx, shutdown_svc(), NULL, NULL),
			 -ENODEV);
	assert_int_equal(f->nlog, 0);
	assert_link(f, INST, HV_VMBUS_UTILS_DRIVER);
}

static void test_bind_unbound_fcopy(void **state)
{
	struct fake *f = *state;
	struct hv_vmbus_ctx ctx = ctx_for(f, "6.10");
	const struct hv_vmbus_service *fc = hv_vmbus_service_by_name("fcopy");
	struct hv_vmbus_dev dev;

	/* Since 6.10 nobody claims fcopy: new_id alone attaches it. */
	add_device(f, FCOPY_INST, HV_GUID_FCOPY);
	assert_int_equal(hv_vmbus_bind_uio(&ctx, fc, NULL, &dev),
			 HV_VMBUS_CHANGED);
	assert_log(f, (const char *const[]){
			      "uio_hv_generic/new_id=" HV_GUID_FCOPY, NULL });
	assert_link(f, FCOPY_INST, HV_VMBUS_UIO_DRIVER);
	assert_link(f, INST, HV_VMBUS_UTILS_DRIVER);

	/* Given back: hv_utils does not match it, so it stays unbound. */
	f->nlog = 0;
	assert_int_equal(hv_vmbus_release(&ctx, fc, NULL, &dev),
			 HV_VMBUS_UNBOUND);
	assert_log(f, (const char *const[]){
			      "uio_hv_generic/remove_id=" HV_GUID_FCOPY,
			      "uio_hv_generic/unbind=" FCOPY_INST,
			      "hv_utils/bind=" FCOPY_INST, NULL });
	assert_link(f, FCOPY_INST, "");
	assert_string_equal(dev.driver, "");
}

static void test_release(void **state)
{
	struct fake *f = *state;
	struct hv_vmbus_ctx ctx = ctx_for(f, "6.10");
	struct hv_vmbus_dev dev;

	assert_int_equal(hv_vmbus_bind_uio(&ctx, shutdown_svc(), NULL, NULL),
			 HV_VMBUS_CHANGED);
	f->nlog = 0;
	assert_int_equal(hv_vmbus_release(&ctx, shutdown_svc(), NULL, &dev),
			 HV_VMBUS_CHANGED);
	assert_log(f, (const char *const[]){
			      "uio_hv_generic/remove_id=" HV_GUID_SHUTDOWN,
			      "uio_hv_generic/unbind=" INST,
			      "hv_utils/bind=" INST, NULL });
	assert_link(f, INST, HV_VMBUS_UTILS_DRIVER);
	assert_string_equal(dev.driver, HV_VMBUS_UTILS_DRIVER);
	assert_false(f->uio_has_id[0]);

	/* Again (ExecStopPost after the daemon released it itself). */
	f->nlog = 0;
	assert_int_equal(hv_vmbus_release(&ctx, shutdown_svc(), NULL, &dev),
			 HV_VMBUS_UNCHANGED);
	assert_log(f, (const char *const[]){
			      "uio_hv_generic/remove_id=" HV_GUID_SHUTDOWN,
			      NULL });

	/* Unbound (say, a crash half way): bound to hv_utils again. */
	set_link(f, INST, NULL);
	f->nlog = 0;
	assert_int_equal(hv_vmbus_release(&ctx, shutdown_svc(), NULL, &dev),
			 HV_VMBUS_CHANGED);
	assert_link(f, INST, HV_VMBUS_UTILS_DRIVER);
}

static void test_release_bind_does_not_take(void **state)
{
	struct fake *f = *state;
	struct hv_vmbus_ctx ctx = ctx_for(f, "6.10");

	set_link(f, INST, HV_VMBUS_UIO_DRIVER);
	f->uio_has_id[0] = true;
	f->utils_swallow = true;
	assert_int_equal(hv_vmbus_release(&ctx, shutdown_svc(), NULL, NULL),
			 -EIO);
	assert_link(f, INST, "");
}

/* Without the hook: the values land in the plain files. */
static void test_plain_files(void **state)
{
	struct fake *f = *state;
	struct hv_vmbus_ctx ctx = { .sysfs_root = f->sys,
				    .kernel_release = "6.10" };
	struct hv_vmbus_dev dev;

	set_link(f, INST, NULL);
	/* Nothing reacts to the writes, so the bind cannot take. */
	assert_int_equal(hv_vmbus_bind_uio(&ctx, shutdown_svc(), NULL, &dev),
			 -EIO);
	assert_file(f, HV_VMBUS_UIO_DRIVER, "new_id", HV_GUID_SHUTDOWN);
	assert_file(f, HV_VMBUS_UIO_DRIVER, "bind", INST);
	/* The id we added is taken out again. */
	assert_file(f, HV_VMBUS_UIO_DRIVER, "remove_id", HV_GUID_SHUTDOWN);
	assert_file(f, HV_VMBUS_UTILS_DRIVER, "unbind", "");
	assert_file(f, HV_VMBUS_UTILS_DRIVER, "bind", "");
}

static void test_find_device(void **state)
{
	struct fake *f = *state;
	char inst[HV_GUID_STR_LEN + 1], norm[HV_GUID_STR_LEN + 1];
	struct hv_vmbus_dev dev;
	char p[PATH_MAX];

	add_device(f, INST2, HV_GUID_SHUTDOWN);
	/* Lexically first wins, whatever readdir says. */
	assert_int_equal(hv_vmbus_find_device(f->sys, HV_GUID_SHUTDOWN, NULL,
					      inst, sizeof(inst)),
			 0);
	assert_string_equal(inst, INST2);
	assert_int_equal(hv_vmbus_find_device(f->sys,
					      "{0E0B6031-5213-4934-818B-"
					      "38D90CED39DB}",
					      INST, inst, sizeof(inst)),
			 0);
	assert_string_equal(inst, INST);
	assert_int_equal(hv_vmbus_find_device(f->sys, "not-a-guid", NULL, inst,
					      sizeof(inst)),
			 -EINVAL);
	/* A junk class_id is skipped, not an error. */
	snprintf(p, sizeof(p), "%s/bus/vmbus/devices/%s/class_id", f->sys,
		 INST2);
	put(p, "garbage\n");
	assert_int_equal(
		hv_vmbus_device_state(f->sys, HV_GUID_SHUTDOWN, NULL, &dev), 0);
	assert_string_equal(dev.instance, INST);
	assert_string_equal(dev.class_guid, HV_GUID_SHUTDOWN);
	assert_string_equal(dev.driver, HV_VMBUS_UTILS_DRIVER);
	/* A driver link that does not name a driver is refused. */
	set_link(f, INST, "bad name!");
	assert_int_equal(hv_vmbus_device_state(f->sys, HV_GUID_SHUTDOWN, NULL,
					       &dev),
			 -EBADMSG);
	assert_int_equal(hv_guid_normalize("{ABCDEF01-2345-6789-abcd-"
					   "ef0123456789}",
					   norm),
			 0);
	assert_string_equal(norm, "abcdef01-2345-6789-abcd-ef0123456789");
	assert_int_equal(
		hv_guid_normalize("abcdef01-2345-6789-abcd-ef012345678", norm),
		-EINVAL);
	assert_null(hv_vmbus_service_by_name("kvp"));
	assert_null(hv_vmbus_service_by_name(NULL));
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_bind_from_hv_utils),
		T(test_bind_id_already_there),
		T(test_bind_old_kernel),
		T(test_kernel_at_least),
		T(test_bind_refused_rolls_back),
		T(test_bind_swallowed_probe),
		T(test_bind_foreign_driver),
		T(test_no_device),
		T(test_uio_missing),
		T(test_bind_unbound_fcopy),
		T(test_release),
		T(test_release_bind_does_not_take),
		T(test_plain_files),
		T(test_find_device),
	};

	return cmocka_run_group_tests_name("vmbus-bind", tests, NULL, NULL);
}
