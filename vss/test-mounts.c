/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>

#include "hvis/util.h"
#include "mounts.h"

/* A fake sysfs, built once for the group (see setup_sysfs). */
static char sysroot[PATH_MAX];

static void path_in(char *dst, size_t size, const char *rel)
{
	assert_true(hv_snprintf(dst, size, "%s/%s", sysroot, rel) > 0);
}

static void mkdir_p(const char *rel)
{
	char p[PATH_MAX];
	char *s;

	path_in(p, sizeof(p), rel);
	for (s = p + strlen(sysroot) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
		*s = '/';
	}
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

static void touch(const char *rel)
{
	char p[PATH_MAX];
	int fd;

	path_in(p, sizeof(p), rel);
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void link_to(const char *target, const char *rel)
{
	char p[PATH_MAX];

	path_in(p, sizeof(p), rel);
	assert_int_equal(symlink(target, p), 0);
}

/*
 * Shaped like the real thing: /sys/dev/block/M:m are symlinks into
 * /sys/devices, slaves/ entries are symlinks to sibling devices, and a
 * partition is a directory inside its disk.
 */
static int setup_sysfs(void **state)
{
	hv_strscpy(sysroot, "/tmp/hvis-test-mounts.XXXXXX", sizeof(sysroot));
	if (!mkdtemp(sysroot))
		return -1;
	mkdir_p("dev/block");
	mkdir_p("devices/virtual/block/loop0/loop");
	mkdir_p("devices/virtual/block/loop0/loop0p1");
	touch("devices/virtual/block/loop0/loop0p1/partition");
	mkdir_p("devices/virtual/block/loop1/loop");
	mkdir_p("devices/virtual/block/loop2/loop");
	mkdir_p("devices/pci/sda/sda1");
	touch("devices/pci/sda/sda1/partition");
	mkdir_p("devices/pci/sda/sda2");
	touch("devices/pci/sda/sda2/partition");
	mkdir_p("devices/virtual/block/dm-0/slaves");
	link_to("../../loop2", "devices/virtual/block/dm-0/slaves/loop2");
	mkdir_p("devices/virtual/block/dm-1/slaves");
	link_to("../../../../pci/sda/sda2",
		"devices/virtual/block/dm-1/slaves/sda2");
	mkdir_p("devices/virtual/block/dm-2/slaves");
	link_to("../../dm-1", "devices/virtual/block/dm-2/slaves/dm-1");
	link_to("../../dm-0", "devices/virtual/block/dm-2/slaves/dm-0");
	mkdir_p("devices/virtual/block/dm-3/slaves");
	link_to("../../loop0/loop0p1",
		"devices/virtual/block/dm-3/slaves/loop0p1");
	mkdir_p("devices/virtual/block/dm-4/slaves");
	mkdir_p("devices/virtual/block/dm-5/slaves");
	link_to("../../dm-5", "devices/virtual/block/dm-4/slaves/dm-5");
	link_to("../../dm-4", "devices/virtual/block/dm-5/slaves/dm-4");
	mkdir_p("devices/virtual/block/dm-6/slaves");
	link_to("../../gone", "devices/virtual/block/dm-6/slaves/gone");

	link_to("../../devices/virtual/block/loop0", "dev/block/7:0");
	link_to("../../devices/virtual/block/loop1", "dev/block/7:1");
	link_to("../../devices/virtual/block/loop2", "dev/block/7:2");
	link_to("../../devices/virtual/block/loop0/loop0p1", "dev/block/259:0");
	link_to("../../devices/virtual/block/dm-0", "dev/block/253:0");
	link_to("../../devices/virtual/block/dm-1", "dev/block/253:1");
	link_to("../../devices/virtual/block/dm-2", "dev/block/253:2");
	link_to("../../devices/virtual/block/dm-3", "dev/block/253:3");
	link_to("../../devices/virtual/block/dm-4", "dev/block/253:4");
	link_to("../../devices/virtual/block/dm-6", "dev/block/253:6");
	link_to("../../devices/pci/sda", "dev/block/8:0");
	link_to("../../devices/pci/sda/sda1", "dev/block/8:1");
	link_to("../../devices/pci/sda/sda2", "dev/block/8:2");
	/* Not a directory: the check must fail, not guess. */
	touch("dev/block/9:9");
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int type,
		  struct FTW *ftw)
{
	return remove(p);
}

static int teardown_sysfs(void **state)
{
	return nftw(sysroot, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- helpers ---- */

static struct mount_list *parse_ok(const char *text)
{
	struct mount_list *l = NULL;

	assert_int_equal(mounts_parse(text, strlen(text), &l), 0);
	assert_non_null(l);
	return l;
}

static const struct mount_entry *at(const struct mount_list *l, const char *mp)
{
	size_t i;

	for (i = 0; i < l->n_entries; i++)
		if (strcmp(l->entries[i].mount_point, mp) == 0)
			return &l->entries[i];
	fail_msg("no mount at %s", mp);
	return NULL;
}

static const struct mount_entry *by_id(const struct mount_list *l, uint32_t id)
{
	size_t i;

	for (i = 0; i < l->n_entries; i++)
		if (l->entries[i].id == id)
			return &l->entries[i];
	fail_msg("no mount %u", id);
	return NULL;
}

static void expect_freeze(const struct mount_list *l, const char *mp)
{
	const struct mount_entry *e = at(l, mp);

	assert_int_equal(e->decision, MOUNT_FREEZE);
	assert_int_equal(e->reason, MOUNT_SKIP_NONE);
	assert_string_equal(e->why, "");
}

static void expect_skip(const struct mount_list *l, const char *mp,
			enum mount_skip reason, const char *why)
{
	const struct mount_entry *e = at(l, mp);

	if (e->decision != MOUNT_SKIP || e->reason != reason)
		fail_msg("%s: decision %d reason %s (%s), want skip %s", mp,
			 e->decision, mount_skip_str(e->reason), e->why,
			 mount_skip_str(reason));
	assert_string_equal(e->why, why);
}

/* The freeze list, as mount points joined by '|'. */
static const char *freeze_order(const struct mount_list *l, bool thaw)
{
	static char buf[4096];
	size_t k, off = 0;

	buf[0] = '\0';
	for (k = 0; k < l->n_freeze; k++) {
		size_t i = thaw ? mounts_thaw_index(l, k) : l->freeze[k];
		int r = hv_snprintf(buf + off, sizeof(buf) - off, "%s%s",
				    k ? "|" : "", l->entries[i].mount_point);

		assert_true(r >= 0);
		off += (size_t)r;
	}
	return buf;
}

/* What must hold after any successful select. */
static void check_invariants(const struct mount_list *l)
{
	size_t i, k, frozen = 0;

	for (i = 0; i < l->n_entries; i++) {
		const struct mount_entry *e = &l->entries[i];

		assert_non_null(e->why);
		assert_int_equal(e->decision == MOUNT_FREEZE,
				 e->reason == MOUNT_SKIP_NONE);
		if (e->decision == MOUNT_FREEZE)
			frozen++;
	}
	assert_int_equal(frozen, l->n_freeze);
	for (k = 0; k < l->n_freeze; k++) {
		assert_true(l->freeze[k] < l->n_entries);
		assert_int_equal(l->entries[l->freeze[k]].decision,
				 MOUNT_FREEZE);
		for (i = 0; i < k; i++)
			assert_true(l->freeze[i] != l->freeze[k]);
	}
}

static int fake_resolve(const char *source, unsigned int *ret_major,
			unsigned int *ret_minor, void *userdata)
{
	int *calls = userdata;

	if (calls)
		(*calls)++;
	if (strcmp(source, "/dev/loop0") == 0) {
		*ret_major = 7;
		*ret_minor = 0;
		return 0;
	}
	if (strcmp(source, "/dev/denied") == 0)
		return -EACCES;
	if (strncmp(source, "/dev/sd", 7) == 0) {
		/* Disks the fake sysfs does not list: not loops. */
		*ret_major = 8;
		*ret_minor = 64;
		return 0;
	}
	return -ENOENT;
}

/* ---- a whole Debian VM ---- */

static const char debian[] =
	"22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	"23 28 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw\n"
	"24 28 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=4017604k,nr_inodes=1004401,mode=755,inode64\n"
	"25 24 0:23 / /dev/pts rw,nosuid,noexec,relatime shared:3 - devpts devpts rw,gid=5,mode=620,ptmxmode=000\n"
	"26 28 0:24 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=807336k,mode=755,inode64\n"
	"28 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
	"29 22 0:6 / /sys/kernel/security rw,nosuid,nodev,noexec,relatime shared:8 - securityfs securityfs rw\n"
	"30 24 0:26 / /dev/shm rw,nosuid,nodev shared:4 - tmpfs tmpfs rw,inode64\n"
	"32 22 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
	"33 22 0:29 / /sys/fs/pstore rw,nosuid,nodev,noexec,relatime shared:10 - pstore pstore rw\n"
	"34 22 0:30 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:11 - bpf bpf rw,mode=700\n"
	"35 23 0:31 / /proc/sys/fs/binfmt_misc rw,relatime shared:14 - autofs systemd-1 rw,fd=29,pgrp=1,timeout=0,minproto=5,maxproto=5,direct,pipe_ino=17729\n"
	"36 24 0:20 / /dev/mqueue rw,nosuid,nodev,noexec,relatime shared:15 - mqueue mqueue rw\n"
	"37 24 0:32 / /dev/hugepages rw,relatime shared:16 - hugetlbfs hugetlbfs rw,pagesize=2M\n"
	"38 22 0:7 / /sys/kernel/debug rw,nosuid,nodev,noexec,relatime shared:17 - debugfs debugfs rw\n"
	"39 22 0:12 / /sys/kernel/tracing rw,nosuid,nodev,noexec,relatime shared:18 - tracefs tracefs rw\n"
	"40 22 0:33 / /sys/fs/fuse/connections rw,nosuid,nodev,noexec,relatime shared:19 - fusectl fusectl rw\n"
	"41 22 0:34 / /sys/kernel/config rw,nosuid,nodev,noexec,relatime shared:20 - configfs configfs rw\n"
	"60 28 0:36 / /tmp rw,nosuid,nodev shared:32 - tmpfs tmpfs rw,size=4036680k,nr_inodes=1048576,inode64\n"
	"61 28 8:15 / /boot/efi rw,relatime shared:33 - vfat /dev/sda15 rw,fmask=0022,dmask=0022,codepage=437,iocharset=ascii,shortname=mixed,utf8,errors=remount-ro\n"
	"62 28 8:17 / /home rw,relatime shared:34 - xfs /dev/sdb1 rw,attr2,inode64,logbufs=8,logbsize=32k,noquota\n"
	"63 62 8:49 / /home/user/scratch rw,relatime shared:35 - ext4 /dev/sdd1 rw\n"
	"64 28 8:17 /x /srv/x rw,relatime shared:34 - xfs /dev/sdb1 rw,attr2,inode64,logbufs=8,logbsize=32k,noquota\n"
	"65 28 8:33 / /data rw,noatime shared:36 - ext4 /dev/sdc1 rw\n"
	"66 28 8:33 / /mnt/data2 rw,noatime shared:37 - ext4 /dev/sdc1 rw\n"
	"67 28 0:45 /@vol1 /vol1 rw,relatime shared:38 - btrfs /dev/sde rw,space_cache=v2,subvolid=256,subvol=/@vol1\n"
	"68 28 0:46 /@vol2 /vol2 rw,relatime shared:39 - btrfs /dev/sde rw,space_cache=v2,subvolid=257,subvol=/@vol2\n"
	"69 28 7:0 / /snap/core/123 ro,nodev,relatime shared:40 - squashfs /dev/loop0 ro,errors=continue\n"
	"70 28 0:50 / /var/lib/docker/overlay2/3f2a/merged rw,relatime shared:41 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC:/var/lib/docker/overlay2/l/DEF,upperdir=/var/lib/docker/overlay2/3f2a/diff,workdir=/var/lib/docker/overlay2/3f2a/work\n"
	"71 28 0:52 / /mnt/nfs rw,relatime shared:42 - nfs4 fileserver:/export rw,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,hard,proto=tcp,timeo=600,retrans=2,sec=sys,clientaddr=10.0.0.5,local_lock=none,addr=10.0.0.2\n"
	"72 28 8:65 / /mnt/my\\040disk rw,relatime shared:43 - ext4 /dev/sdf1 rw\n"
	"73 28 8:81 / /archive ro,relatime shared:44 - ext4 /dev/sdg1 ro\n"
	"74 28 0:55 / /mnt/ssh rw,nosuid,nodev,relatime shared:45 - fuse.sshfs user@host:/srv rw,user_id=0,group_id=0\n"
	"75 28 7:1 / /mnt/img rw,relatime shared:46 - ext4 /dev/loop1 rw\n"
	"76 28 253:0 / /mnt/lvm-on-loop rw,relatime shared:47 - xfs /dev/mapper/vgloop-lv rw\n"
	"77 28 253:1 / /var rw,relatime shared:48 - ext4 /dev/mapper/vg-var rw\n"
	"78 28 8:97 / /srv/ro-view ro,relatime shared:49 - ext4 /dev/sdh1 rw\n"
	"79 28 8:97 / /srv/rw-view rw,relatime shared:50 - ext4 /dev/sdh1 rw\n"
	"80 28 0:57 / /mnt/cifs rw,relatime shared:51 - cifs //srv/share rw,vers=3.1.1\n"
	"81 28 259:0 / /mnt/part-on-loop rw,relatime shared:52 - ext4 /dev/loop0p1 rw\n";

static void test_debian_vm(void **state)
{
	_cleanup_(mounts_freep) struct mount_list *l = parse_ok(debian);
	struct mounts_config cfg = { .sys_root = sysroot,
				     .resolve_source = fake_resolve };
	const char *pseudo[] = {
		"/sys",
		"/proc",
		"/dev",
		"/dev/pts",
		"/run",
		"/sys/kernel/security",
		"/dev/shm",
		"/sys/fs/cgroup",
		"/sys/fs/pstore",
		"/sys/fs/bpf",
		"/proc/sys/fs/binfmt_misc",
		"/dev/mqueue",
		"/dev/hugepages",
		"/sys/kernel/debug",
		"/sys/kernel/tracing",
		"/sys/fs/fuse/connections",
		"/sys/kernel/config",
		"/tmp",
	};
	char why[128];
	size_t i;

	assert_int_equal(l->n_entries, 40);
	assert_int_equal(l->n_bad, 0);
	assert_int_equal(mounts_select(l, &cfg), 0);
	check_invariants(l);

	for (i = 0; i < ARRAY_SIZE(pseudo); i++) {
		hv_snprintf(why, sizeof(why), "pseudo filesystem (%s)",
			    at(l, pseudo[i])->fstype);
		expect_skip(l, pseudo[i], MOUNT_SKIP_PSEUDO, why);
	}
	expect_freeze(l, "/");
	expect_freeze(l, "/home");
	expect_freeze(l, "/home/user/scratch");
	expect_freeze(l, "/data");
	expect_freeze(l, "/vol1");
	expect_freeze(l, "/mnt/my disk");
	expect_freeze(l, "/var");
	expect_freeze(l, "/srv/rw-view");
	expect_skip(l, "/boot/efi", MOUNT_SKIP_FAT,
		    "FAT filesystem (vfat) cannot be frozen");
	expect_skip(l, "/srv/x", MOUNT_SKIP_DUPLICATE, "duplicate of /home");
	expect_skip(l, "/mnt/data2", MOUNT_SKIP_DUPLICATE,
		    "duplicate of /data");
	expect_skip(l, "/vol2", MOUNT_SKIP_DUPLICATE, "duplicate of /vol1");
	expect_skip(l, "/snap/core/123", MOUNT_SKIP_RO_TYPE,
		    "read-only filesystem type (squashfs)");
	expect_skip(
		l, "/var/lib/docker/overlay2/3f2a/merged", MOUNT_SKIP_LAYERED,
		"layered filesystem (overlay): its layers are frozen on their own");
	expect_skip(l, "/mnt/nfs", MOUNT_SKIP_REMOTE,
		    "remote or host-shared filesystem (nfs4)");
	expect_skip(l, "/mnt/cifs", MOUNT_SKIP_REMOTE,
		    "remote or host-shared filesystem (cifs)");
	expect_skip(l, "/archive", MOUNT_SKIP_READONLY, "read-only filesystem");
	expect_skip(l, "/srv/ro-view", MOUNT_SKIP_READONLY, "read-only mount");
	expect_skip(
		l, "/mnt/ssh", MOUNT_SKIP_FUSE,
		"FUSE filesystem (fuse.sshfs): its server could block the freeze");
	expect_skip(l, "/mnt/img", MOUNT_SKIP_LOOP,
		    "backed by a loop device (7:1)");
	expect_skip(l, "/mnt/lvm-on-loop", MOUNT_SKIP_LOOP,
		    "backed by a loop device (253:0)");
	expect_skip(l, "/mnt/part-on-loop", MOUNT_SKIP_LOOP,
		    "backed by a loop device (259:0)");

	/* Children before parents, "/" last; thaw is the mirror image. */
	assert_string_equal(freeze_order(l, false),
			    "/home/user/scratch|/srv/rw-view|/mnt/my disk|"
			    "/var|/vol1|/data|/home|/");
	assert_string_equal(freeze_order(l, true),
			    "/|/home|/data|/vol1|/var|/mnt/my disk|"
			    "/srv/rw-view|/home/user/scratch");

	/* The parsed fields themselves. */
	assert_int_equal(at(l, "/")->id, 28);
	assert_int_equal(at(l, "/")->parent_id, 1);
	assert_int_equal(at(l, "/")->major, 8);
	assert_int_equal(at(l, "/")->minor, 1);
	assert_string_equal(at(l, "/")->source, "/dev/sda1");
	assert_string_equal(at(l, "/")->fstype, "ext4");
	assert_int_equal(at(l, "/")->line, 6);
	assert_int_equal(at(l, "/mnt/lvm-on-loop")->major, 253);
	assert_string_equal(at(l, "/mnt/nfs")->source, "fileserver:/export");
	assert_true(at(l, "/srv/ro-view")->mount_ro);
	assert_false(at(l, "/srv/ro-view")->super_ro);
	assert_true(at(l, "/archive")->super_ro);
}

/* Without a sysfs that knows the devices, loops go unnoticed: say so. */
static void test_debian_vm_no_sysfs(void **state)
{
	_cleanup_(mounts_freep) struct mount_list *l = parse_ok(debian);
	struct mounts_config cfg = { .sys_root = "/nonexistent/hvis-sys",
				     .resolve_source = fake_resolve };

	assert_int_equal(mounts_select(l, &cfg), 0);
	expect_freeze(l, "/mnt/img");
	/* Type and option rules need no sysfs. */
	expect_skip(l, "/snap/core/123", MOUNT_SKIP_RO_TYPE,
		    "read-only filesystem type (squashfs)");
}

/* ---- rules one at a time ---- */

static void test_escapes(void **state)
{
	_cleanup_(mounts_freep) struct mount_list *l = parse_ok(
		"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"2 1 8:2 / /mnt/a\\040b\\011c\\012d\\134e rw - ext4 /dev/disk/by-label/my\\040label rw\n"
		"3 1 0:40 / /mnt/f rw - fuse.my\\040fs srv rw\n"
		"4 1 8:3 /dir\\040x /mnt/\\134\\134 rw - ext4 /dev/sda3 rw\n");
	struct mounts_config cfg = { .sys_root = sysroot };

	assert_int_equal(l->n_entries, 4);
	assert_string_equal(l->entries[1].mount_point, "/mnt/a b\tc\nd\\e");
	assert_string_equal(l->entries[1].source,
			    "/dev/disk/by-label/my label");
	assert_string_equal(l->entries[2].fstype, "fuse.my fs");
	assert_string_equal(l->entries[3].mount_point, "/mnt/\\\\");
	assert_int_equal(mounts_select(l, &cfg), 0);
	expect_freeze(l, "/mnt/a b\tc\nd\\e");
	expect_skip(
		l, "/mnt/f", MOUNT_SKIP_FUSE,
		"FUSE filesystem (fuse.my fs): its server could block the freeze");
	expect_freeze(l, "/mnt/\\\\");
}

static void test_btrfs(void **state)
{
	_cleanup_(mounts_freep) struct mount_list *l = parse_ok(
		"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
		/* One superblock: the kernel shows the same 0:N for both. */
		"2 1 0:45 /@a /a rw - btrfs /dev/sde rw,subvol=/@a\n"
		"3 1 0:45 /@b /b rw - btrfs /dev/sde rw,subvol=/@b\n"
		"4 1 0:50 / /c rw - btrfs /dev/sdf rw\n"
		/* Same source, another anonymous device: still one fs. */
		"5 1 0:51 /@h /h rw - btrfs /dev/sdf rw,subvol=/@h\n"
		"6 1 0:52 / /d rw - btrfs /dev/loop0 rw\n"
		"7 1 0:53 / /e rw - btrfs /dev/denied rw\n"
		"8 1 0:54 / /f rw - btrfs /dev/gone rw\n"
		"9 1 0:55 / /g rw - zfs tank/g rw,xattr,noacl\n"
		/* Anonymous devices of other types never dedupe by source. */
		"10 1 0:56 / /i rw - ext4 /dev/sdf rw\n");
	int calls = 0;
	struct mounts_config cfg = { .sys_root = sysroot,
				     .resolve_source = fake_resolve,
				     .userdata = &calls };

	assert_int_equal(mounts_select(l, &cfg), -EACCES);
	check_invariants(l);
	expect_freeze(l, "/a");
	expect_skip(l, "/b", MOUNT_SKIP_DUPLICATE, "duplicate of /a");
	expect_freeze(l, "/c");
	expect_skip(l, "/h", MOUNT_SKIP_DUPLICATE, "duplicate of /c");
	expect_skip(l, "/d", MOUNT_SKIP_LOOP, "backed by a loop device (7:0)");
	expect_skip(l, "/e", MOUNT_SKIP_UNCHECKED,
		    "cannot check 0:53 for a loop device: Permission denied");
	/* No device node to check: frozen, as the kernel daemon does. */
	expect_freeze(l, "/f");
	expect_skip(l, "/g", MOUNT_SKIP_NODEV, "no block device (zfs on 0:55)");
	expect_skip(l, "/i", MOUNT_SKIP_NODEV,
		    "no block device (ext4 on 0:56)");
	/* Every btrfs mount that reached rule 5 was resolved once. */
	assert_int_equal(calls, 7);
	assert_string_equal(freeze_order(l, false), "/f|/c|/a|/");
}

static void test_btrfs_default_resolver(void **state)
{
	_cleanup_(mounts_freep) struct mount_list *l = parse_ok(
		"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
		/* A character device and a missing node: nothing to check. */
		"2 1 0:45 / /a rw - btrfs /dev/null rw\n"
		"3 1 0:46 / /b rw - btrfs /dev/hvis-test-no-such-node rw\n"
		"4 1 0:47 / /c rw - btrfs relative rw\n");
	struct mounts_config cfg = { .sys_root = sysroot };

	assert_int_equal(mounts_select(l, &cfg), 0);
	expect_freeze(l, "/a");
	expect_freeze(l, "/b");
	expect_freeze(l, "/c");
}

static void test_readonly(void **state)
{
	_cleanup_(mounts_freep) struct mount_list *l = parse_ok(
		"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"2 1 8:2 / /a ro - ext4 /dev/sda2 rw\n"
		"3 1 8:2 / /b rw - ext4 /dev/sda2 rw\n"
		"4 1 8:3 / /c rw,relatime - ext4 /dev/sda3 ro,errors=continue\n"
		/* Options that merely start with "ro" are not "ro". */
		"5 1 8:4 / /d rw,rootcontext=x - ext4 /dev/sda4 rw,roundrobin\n"
		"6 1 8:5 / /e nosuid,ro - ext4 /dev/sda5 rw\n");
	struct mounts_config cfg = { .sys_root = sysroot };

	assert_int_equal(mounts_select(l, &cfg), 0);
	expect_skip(l, "/a", MOUNT_SKIP_READONLY, "read-only mount");
	/* The read-only bind does not stand for its filesystem. */
	expect_freeze(l, "/b");
	expect_skip(l, "/c", MOUNT_SKIP_READONLY, "read-only filesystem");
	expect_freeze(l, "/d");
	expect_skip(l, "/e", MOUNT_SKIP_READONLY, "read-only mount");
}

static void test_exclude(void **state)
{
	_cleanup_(mounts_freep) struct mount_list *l =
		parse_ok("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
			 "2 1 8:17 / /mnt/a rw - ext4 /dev/sdb1 rw\n"
			 "3 1 8:17 / /srv/a rw - ext4 /dev/sdb1 rw\n"
			 "4 1 8:33 / /mnt/b/deep rw - ext4 /dev/sdc1 rw\n"
			 "5 1 8:49 / /scratch rw - xfs /dev/sdd1 rw\n"
			 "6 1 8:50 / /scratch2 rw - xfs /dev/sdd2 rw\n"
			 "7 1 8:51 / /mnt rw - xfs /dev/sdd3 rw\n");
	static const char *const exclude[] = { "/mnt/*", "/scratch", NULL };
	static const char *const none[] = { NULL };
	struct mounts_config cfg = { .sys_root = sysroot, .exclude = exclude };

	assert_int_equal(mounts_select(l, &cfg), 0);
	check_invariants(l);
	expect_freeze(l, "/");
	expect_skip(l, "/mnt/a", MOUNT_SKIP_EXCLUDED, "excluded by \"/mnt/*\"");
	/* An excluded path does not speak for its filesystem. */
	expect_freeze(l, "/srv/a");
	/* '*' crosses '/'. */
	expect_skip(l, "/mnt/b/deep", MOUNT_SKIP_EXCLUDED,
		    "excluded by \"/mnt/*\"");
	expect_skip(l, "/scratch", MOUNT_SKIP_EXCLUDED,
		    "excluded by \"/scratch\"");
	expect_freeze(l, "/scratch2");
	expect_freeze(l, "/mnt");

	/*
	 * Re-select: an empty list excludes nothing, old results go. /mnt
	 * was mounted after /mnt/a and /mnt/b/deep and hides both.
	 */
	cfg.exclude = none;
	assert_int_equal(mounts_select(l, &cfg), 0);
	check_invariants(l);
	expect_skip(l, "/mnt/a", MOUNT_SKIP_HIDDEN,
		    "mount point covered by mount 7 (xfs on /mnt)");
	expect_skip(l, "/mnt/b/deep", MOUNT_SKIP_HIDDEN,
		    "mount point covered by mount 7 (xfs on /mnt)");
	expect_freeze(l, "/srv/a");
	expect_freeze(l, "/scratch");
	assert_int_equal(l->n_freeze, 5);
}

static void test_only(void **state)
{
	_cleanup_(mounts_freep) struct mount_list *l =
		parse_ok("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
			 "2 1 8:17 / /mnt/test rw - ext4 /dev/sdb1 rw\n"
			 "3 2 8:33 / /mnt/test/sub rw - ext4 /dev/sdc1 rw\n"
			 "4 1 8:49 / /mnt/testx rw - ext4 /dev/sdd1 rw\n"
			 "5 2 0:30 / /mnt/test/tmp rw - tmpfs tmpfs rw\n"
			 "6 1 8:1 /srv /srv rw - ext4 /dev/sda1 rw\n");
	static const char *const only[] = { "/mnt/test/", "/srv", NULL };
	static const char *const root[] = { "/", NULL };
	static const char *const empty[] = { NULL };
	static const char *const relative[] = { "/ok", "mnt", NULL };
	struct mounts_config cfg = { .sys_root = sysroot, .only = only };

	assert_int_equal(mounts_select(l, &cfg), 0);
	check_invariants(l);
	expect_skip(l, "/", MOUNT_SKIP_ONLY, "outside the --only paths");
	expect_freeze(l, "/mnt/test");
	expect_freeze(l, "/mnt/test/sub");
	expect_skip(l, "/mnt/testx", MOUNT_SKIP_ONLY,
		    "outside the --only paths");
	expect_skip(l, "/mnt/test/tmp", MOUNT_SKIP_PSEUDO,
		    "pseudo filesystem (tmpfs)");
	/* "/" is out, so the root filesystem is frozen through /srv. */
	expect_freeze(l, "/srv");
	assert_string_equal(freeze_order(l, false),
			    "/mnt/test/sub|/mnt/test|/srv");

	cfg.only = root;
	assert_int_equal(mounts_select(l, &cfg), 0);
	assert_int_equal(l->n_freeze, 4);
	expect_skip(l, "/srv", MOUNT_SKIP_DUPLICATE, "duplicate of /");

	/* An empty list keeps nothing rather than everything. */
	cfg.only = empty;
	assert_int_equal(mounts_select(l, &cfg), 0);
	assert_int_equal(l->n_freeze, 0);
	expect_skip(l, "/", MOUNT_SKIP_ONLY, "outside the --only paths");

	cfg.only = relative;
	assert_int_equal(mounts_select(l, &cfg), -EINVAL);
	assert_int_equal(mounts_select(l, NULL), -EINVAL);
	assert_int_equal(mounts_select(NULL, &cfg), -EINVAL);
}

static void test_order(void **state)
{
	/* "/" listed anywhere still comes last; deeper mounts first. */
	_cleanup_(mounts_freep) struct mount_list *l =
		parse_ok("10 1 8:2 / /a rw - ext4 /dev/sda2 rw\n"
			 "11 10 8:3 / /a/b rw - ext4 /dev/sda3 rw\n"
			 "12 11 8:4 / /a/b/c rw - ext4 /dev/sda4 rw\n"
			 "13 1 8:5 / /z rw - ext4 /dev/sda5 rw\n"
			 "14 13 8:6 / /z/y rw - ext4 /dev/sda6 rw\n"
			 "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
			 "15 1 8:7 / /a\\040b rw - ext4 /dev/sda7 rw\n");
	struct mounts_config cfg = { .sys_root = sysroot };

	assert_int_equal(mounts_select(l, &cfg), 0);
	assert_string_equal(freeze_order(l, false),
			    "/a/b/c|/z/y|/a/b|/a b|/z|/a|/");
	assert_string_equal(freeze_order(l, true),
			    "/|/a|/z|/a b|/a/b|/z/y|/a/b/c");
	/* Mount 10 (/a) is frozen after its child, before its parent. */
	assert_int_equal(l->entries[mounts_thaw_index(l, 1)].id, 10);
}

static void test_hidden(void **state)
{
	_cleanup_(mounts_freep) struct mount_list *l = parse_ok(
		"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"2 1 8:17 / /mnt rw - ext4 /dev/sdb1 rw\n"
		/* Mounted on top of 2 at the same place. */
		"3 2 8:33 / /mnt rw - ext4 /dev/sdc1 rw\n"
		"4 1 8:49 / /srv/a rw - ext4 /dev/sdd1 rw\n"
		/* Mounted over /srv after /srv/a: hides it. */
		"5 1 8:65 / /srv rw - ext4 /dev/sde1 rw\n"
		/* sdb1 again, in sight this time. */
		"6 1 8:17 / /other rw - ext4 /dev/sdb1 rw\n"
		"7 5 8:81 / /srv/b rw - ext4 /dev/sdf1 rw\n"
		/* Duplicate of a chosen fs, at a hidden place: a duplicate. */
		"8 1 8:33 / /srv/c rw - ext4 /dev/sdc1 rw\n");
	struct mounts_config cfg = { .sys_root = sysroot };

	assert_int_equal(mounts_select(l, &cfg), 0);
	check_invariants(l);
	assert_int_equal(by_id(l, 2)->reason, MOUNT_SKIP_HIDDEN);
	assert_string_equal(by_id(l, 2)->why,
			    "mount point covered by mount 3 (ext4 on /mnt)");
	assert_int_equal(by_id(l, 3)->decision, MOUNT_FREEZE);
	expect_skip(l, "/srv/a", MOUNT_SKIP_HIDDEN,
		    "mount point covered by mount 5 (ext4 on /srv)");
	expect_freeze(l, "/srv");
	expect_freeze(l, "/other");
	expect_freeze(l, "/srv/b");
	expect_skip(l, "/srv/c", MOUNT_SKIP_DUPLICATE, "duplicate of /mnt");
	assert_string_equal(freeze_order(l, false),
			    "/srv/b|/other|/srv|/mnt|/");
}

static void test_tree_oddities(void **state)
{
	struct mounts_config cfg = { .sys_root = sysroot };
	struct mount_list *l;

	/* A child whose parent line was unparseable stays reachable. */
	l = parse_ok("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
		     "2 1 8:17 / /data rw - ext4\n"
		     "3 2 8:33 / /data/sub rw - ext4 /dev/sdc1 rw\n");
	assert_int_equal(l->n_bad, 1);
	assert_int_equal(mounts_select(l, &cfg), 0);
	expect_freeze(l, "/data/sub");
	mounts_free(l);

	/* Chroot: no "/" entry, mounts hang off a parent we cannot see. */
	l = parse_ok("5 99 8:17 / /mnt/x rw - ext4 /dev/sdb1 rw\n"
		     "6 5 8:33 / /mnt/x/y rw - ext4 /dev/sdc1 rw\n");
	assert_int_equal(mounts_select(l, &cfg), 0);
	assert_string_equal(freeze_order(l, false), "/mnt/x/y|/mnt/x");
	mounts_free(l);

	/* Parents in a cycle: unreachable, skipped, and no hang. */
	l = parse_ok("1 2 8:1 / / rw - ext4 /dev/sda1 rw\n"
		     "2 1 8:2 / / rw - ext4 /dev/sda2 rw\n");
	assert_int_equal(mounts_select(l, &cfg), 0);
	assert_int_equal(l->n_freeze, 0);
	assert_string_equal(l->entries[0].why, "mount point not reachable");
	mounts_free(l);

	/* Its own parent: treated as top-level. */
	l = parse_ok("1 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
	assert_int_equal(mounts_select(l, &cfg), 0);
	assert_int_equal(l->n_freeze, 1);
	mounts_free(l);

	/* Duplicate IDs (never from the kernel) must not crash. */
	l = parse_ok("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
		     "1 0 8:2 / / rw - ext4 /dev/sda2 rw\n"
		     "2 1 8:3 / /a// rw - ext4 /dev/sda3 rw\n"
		     "3 1 8:4 / //b rw - ext4 /dev/sda4 rw\n");
	assert_int_equal(mounts_select(l, &cfg), 0);
	check_invariants(l);
	assert_int_equal(l->entries[0].reason, MOUNT_SKIP_HIDDEN);
	mounts_free(l);

	/* Nothing at all. */
	assert_int_equal(mounts_parse(NULL, 0, &l), 0);
	assert_int_equal(l->n_entries, 0);
	assert_int_equal(mounts_select(l, &cfg), 0);
	assert_int_equal(l->n_freeze, 0);
	mounts_free(l);
	assert_null(mounts_free(NULL));
	assert_int_equal(mounts_parse(NULL, 1, &l), -EINVAL);
	assert_int_equal(mounts_parse("", 0, NULL), -EINVAL);
}

/* ---- loop detection in sysfs ---- */

static void test_loop_sysfs(void **state)
{
	assert_int_equal(blockdev_is_loop_backed(sysroot, 7, 0), 1);
	assert_int_equal(blockdev_is_loop_backed(sysroot, 7, 1), 1);
	/* A partition of a loop device. */
	assert_int_equal(blockdev_is_loop_backed(sysroot, 259, 0), 1);
	/* dm on loop; dm on (dm on sda2, dm on loop); dm on a loop partition. */
	assert_int_equal(blockdev_is_loop_backed(sysroot, 253, 0), 1);
	assert_int_equal(blockdev_is_loop_backed(sysroot, 253, 2), 1);
	assert_int_equal(blockdev_is_loop_backed(sysroot, 253, 3), 1);
	/* dm on a disk partition; a partition; a disk. */
	assert_int_equal(blockdev_is_loop_backed(sysroot, 253, 1), 0);
	assert_int_equal(blockdev_is_loop_backed(sysroot, 8, 1), 0);
	assert_int_equal(blockdev_is_loop_backed(sysroot, 8, 0), 0);
	/* A slave that vanished; a device sysfs does not know. */
	assert_int_equal(blockdev_is_loop_backed(sysroot, 253, 6), 0);
	assert_int_equal(blockdev_is_loop_backed(sysroot, 8, 200), 0);
	assert_int_equal(blockdev_is_loop_backed("/nonexistent/sys", 7, 0), 0);
	/* A cycle ends; a file where a directory belongs is an error. */
	assert_int_equal(blockdev_is_loop_backed(sysroot, 253, 4), -ELOOP);
	assert_int_equal(blockdev_is_loop_backed(sysroot, 9, 9), -ENOTDIR);
	assert_int_equal(blockdev_is_loop_backed(NULL, 7, 0), -EINVAL);
}

static void test_unchecked(void **state)
{
	_cleanup_(mounts_freep) struct mount_list *l =
		parse_ok("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
			 "2 1 9:9 / /md rw - ext4 /dev/md9 rw\n"
			 "3 1 253:4 / /cyc rw - ext4 /dev/dm-4 rw\n"
			 "4 1 7:0 / /loop rw - ext4 /dev/loop0 rw\n");
	struct mounts_config cfg = { .sys_root = sysroot };

	/* The first error is returned; every mount is still decided. */
	assert_int_equal(mounts_select(l, &cfg), -ENOTDIR);
	check_invariants(l);
	expect_freeze(l, "/");
	expect_skip(l, "/md", MOUNT_SKIP_UNCHECKED,
		    "cannot check 9:9 for a loop device: Not a directory");
	expect_skip(
		l, "/cyc", MOUNT_SKIP_UNCHECKED,
		"cannot check 253:4 for a loop device: Too many levels of symbolic links");
	expect_skip(l, "/loop", MOUNT_SKIP_LOOP,
		    "backed by a loop device (7:0)");
}

/* ---- malformed input ---- */

static void test_malformed(void **state)
{
	static const char text[] =
		"1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"2 1 8:2 / /a rw\n" /* fields */
		"3 1 8:2 / /a rw shared:1 ext4 /dev/sda2 rw\n" /* separator */
		"4 1 8:2 / /a rw - ext4 /dev/sda2\n" /* fields */
		"x 1 8:2 / /a rw - ext4 /dev/sda2 rw\n" /* id */
		"5 -1 8:2 / /a rw - ext4 /dev/sda2 rw\n" /* id */
		"99999999999 1 8:2 / /a rw - ext4 /dev/sda2 rw\n" /* id */
		"6 1 8-2 / /a rw - ext4 /dev/sda2 rw\n" /* device */
		"7 1 8: / /a rw - ext4 /dev/sda2 rw\n" /* device */
		"8 1 :2 / /a rw - ext4 /dev/sda2 rw\n" /* device */
		"9 1 4096:0 / /a rw - ext4 /dev/sda2 rw\n" /* device */
		"10 1 8:1048576 / /a rw - ext4 /dev/sda2 rw\n" /* device */
		"11 1 8:2:3 / /a rw - ext4 /dev/sda2 rw\n" /* device */
		"12 1 +8:2 / /a rw - ext4 /dev/sda2 rw\n" /* device */
		"13 1 8:2 / a rw - ext4 /dev/sda2 rw\n" /* path */
		"14 1 8:2 /  rw - ext4 /dev/sda2 rw\n" /* path (empty) */
		"15 1 8:2 / /a\\04 rw - ext4 /dev/sda2 rw\n" /* escape */
		"16 1 8:2 / /a\\000 rw - ext4 /dev/sda2 rw\n" /* escape */
		"17 1 8:2 / /a\\ rw - ext4 /dev/sda2 rw\n" /* escape */
		"18 1 8:2 / /a\\8xx rw - ext4 /dev/sda2 rw\n" /* escape */
		"19 1 8:2 / /a rw - ext4 /dev/sda\\9 rw\n" /* escape */
		"20 1 8:2 / /a rw -  /dev/sda2 rw\n" /* fields: no type */
		"21 1 8:2 / /a rw - "
		"t234567890123456789012345678901234567890123456789012345678901234"
		" /dev/sda2 rw\n" /* field too long */
		"\n" /* fields */
		"22 1 8:2 / /a rw x - ext4 /dev/sda2 rw extra fields\n" /* ok */
		"23 1 8:3 / /b rw - ext4 /dev/sda3 rw\n"
		"24 1 8:4 / /c rw - ext4 /dev/sda4 rw"; /* unterminated */
	_cleanup_(mounts_freep) struct mount_list *l = parse_ok(text);

	assert_int_equal(l->n_entries, 3);
	assert_int_equal(l->entries[0].id, 1);
	assert_int_equal(l->entries[1].id, 22);
	assert_int_equal(l->entries[1].line, 25);
	assert_string_equal(l->entries[1].fstype, "ext4");
	assert_string_equal(l->entries[1].source, "/dev/sda2");
	assert_int_equal(l->entries[2].id, 23);
	assert_int_equal(l->bad[MOUNTS_BAD_FIELDS], 4);
	assert_int_equal(l->bad[MOUNTS_BAD_SEPARATOR], 1);
	assert_int_equal(l->bad[MOUNTS_BAD_ID], 3);
	assert_int_equal(l->bad[MOUNTS_BAD_DEVICE], 7);
	assert_int_equal(l->bad[MOUNTS_BAD_PATH], 2);
	assert_int_equal(l->bad[MOUNTS_BAD_ESCAPE], 5);
	assert_int_equal(l->bad[MOUNTS_BAD_FIELD_LONG], 1);
	assert_int_equal(l->bad[MOUNTS_BAD_UNTERMINATED], 1);
	assert_int_equal(l->n_bad, 24);
	assert_int_equal(l->first_bad_line, 2);
	assert_string_equal(mounts_bad_str(MOUNTS_BAD_DEVICE), "bad-device");
	assert_string_equal(mounts_bad_str(_MOUNTS_BAD_MAX), "unknown");
	assert_string_equal(mount_skip_str(MOUNT_SKIP_HIDDEN), "hidden");
	assert_string_equal(mount_skip_str(_MOUNT_SKIP_MAX), "unknown");
}

static void test_nul_and_lengths(void **state)
{
	static const char good[] = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n";
	static const char nul[] = "2 1 8:2 / /a\0b rw - ext4 /dev/sda2 rw\n";
	const size_t max = MOUNTS_LINE_MAX;
	_cleanup_free_ char *buf = NULL;
	struct mount_list *l;
	size_t off, n;

	buf = malloc(8 * max);
	assert_non_null(buf);

	/* NUL inside a line: that line only. */
	memcpy(buf, nul, sizeof(nul) - 1);
	memcpy(buf + sizeof(nul) - 1, good, sizeof(good) - 1);
	assert_int_equal(
		mounts_parse(buf, sizeof(nul) - 1 + sizeof(good) - 1, &l), 0);
	assert_int_equal(l->n_entries, 1);
	assert_int_equal(l->bad[MOUNTS_BAD_NUL], 1);
	mounts_free(l);

	/* A line of exactly MOUNTS_LINE_MAX bytes is parsed ... */
	n = strlen("3 1 8:3 / /b rw - ext4 /dev/sda3 rw,");
	memcpy(buf, "3 1 8:3 / /b rw - ext4 /dev/sda3 rw,", n);
	memset(buf + n, 'o', max - n);
	buf[max] = '\n';
	off = max + 1;
	/* ... one byte more is not, and the next line still is. */
	memcpy(buf + off, "4 1 8:4 / /c rw - ext4 /dev/sda4 rw,", n);
	memset(buf + off + n, 'o', max + 1 - n);
	off += max + 1;
	buf[off++] = '\n';
	memcpy(buf + off, good, sizeof(good) - 1);
	off += sizeof(good) - 1;
	assert_int_equal(mounts_parse(buf, off, &l), 0);
	assert_int_equal(l->n_entries, 2);
	assert_int_equal(l->entries[0].id, 3);
	assert_int_equal(l->entries[1].id, 1);
	assert_int_equal(l->bad[MOUNTS_BAD_LINE_LONG], 1);
	assert_int_equal(l->first_bad_line, 2);
	mounts_free(l);

	/* Mount points: PATH_MAX - 1 bytes fit, PATH_MAX do not. */
	off = (size_t)hv_snprintf(buf, 64, "5 1 8:5 / /");
	memset(buf + off, 'p', PATH_MAX - 2);
	off += PATH_MAX - 2;
	memcpy(buf + off, " rw - ext4 /dev/sda5 rw\n", 24);
	off += 24;
	memcpy(buf + off, "6 1 8:6 / /", 11);
	off += 11;
	memset(buf + off, 'p', PATH_MAX - 1);
	off += PATH_MAX - 1;
	memcpy(buf + off, " rw - ext4 /dev/sda6 rw\n", 24);
	off += 24;
	/* Escapes count after decoding: 1500 x "\134" is 1500 bytes. */
	memcpy(buf + off, "7 1 8:7 / /", 11);
	off += 11;
	for (size_t i = 0; i < 1500; i++, off += 4)
		memcpy(buf + off, "\\134", 4);
	memcpy(buf + off, " rw - ext4 /dev/sda7 rw\n", 24);
	off += 24;
	/* A source of PATH_MAX bytes is too long to keep. */
	memcpy(buf + off, "8 1 8:8 / /s rw - ext4 /", 24);
	off += 24;
	memset(buf + off, 's', PATH_MAX - 1);
	off += PATH_MAX - 1;
	memcpy(buf + off, " rw\n", 4);
	off += 4;
	assert_int_equal(mounts_parse(buf, off, &l), 0);
	assert_int_equal(l->n_entries, 2);
	assert_int_equal(l->entries[0].id, 5);
	assert_int_equal(strlen(l->entries[0].mount_point), PATH_MAX - 1);
	assert_int_equal(l->entries[1].id, 7);
	assert_int_equal(strlen(l->entries[1].mount_point), 1501);
	assert_int_equal(l->bad[MOUNTS_BAD_PATH], 1);
	assert_int_equal(l->bad[MOUNTS_BAD_FIELD_LONG], 1);
	assert_int_equal(l->first_bad_line, 2);
	mounts_free(l);
}

static void test_too_many(void **state)
{
	const size_t lines = MOUNTS_MAX + 3;
	_cleanup_free_ char *buf = NULL;
	_cleanup_(mounts_freep) struct mount_list *l = NULL;
	struct mounts_config cfg = { .sys_root = "/nonexistent/hvis-sys" };
	size_t off = 0, i;

	buf = malloc(lines * 64);
	assert_non_null(buf);
	for (i = 0; i < lines; i++) {
		int r = hv_snprintf(buf + off, 64,
				    "%zu 1 8:%zu / /m/%zu rw - ext4 x rw\n",
				    i + 2, i % 1000, i);

		assert_true(r > 0);
		off += (size_t)r;
	}
	assert_int_equal(mounts_parse(buf, off, &l), 0);
	assert_int_equal(l->n_entries, MOUNTS_MAX);
	assert_int_equal(l->bad[MOUNTS_BAD_TOO_MANY], 3);
	assert_int_equal(l->first_bad_line, MOUNTS_MAX + 1);
	/* Large, all orphans of an absent root: still reachable. */
	assert_int_equal(mounts_select(l, &cfg), 0);
	check_invariants(l);
	assert_int_equal(l->n_freeze, 1000);
}

static void test_read(void **state)
{
	char path[PATH_MAX];
	struct mount_list *l = NULL;
	int fd;

	path_in(path, sizeof(path), "mountinfo");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(hv_write_full(fd, debian, strlen(debian)),
			 (ssize_t)strlen(debian));
	close(fd);
	assert_int_equal(mounts_read(path, &l), 0);
	assert_int_equal(l->n_entries, 40);
	mounts_free(l);

	path_in(path, sizeof(path), "no-such-file");
	assert_int_equal(mounts_read(path, &l), -ENOENT);
	assert_int_equal(mounts_read(NULL, &l), -EINVAL);

	/* This machine's own table parses cleanly. */
	assert_int_equal(mounts_read("/proc/self/mountinfo", &l), 0);
	assert_true(l->n_entries > 0);
	assert_int_equal(l->n_bad, 0);
	mounts_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_vm),
		cmocka_unit_test(test_debian_vm_no_sysfs),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_btrfs),
		cmocka_unit_test(test_btrfs_default_resolver),
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_exclude),
		cmocka_unit_test(test_only),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_hidden),
		cmocka_unit_test(test_tree_oddities),
		cmocka_unit_test(test_loop_sysfs),
		cmocka_unit_test(test_unchecked),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_nul_and_lengths),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests_name("mounts", tests, setup_sysfs,
					   teardown_sysfs);
}
