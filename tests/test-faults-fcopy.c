/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_fcopy_daemon under injected faults (issue 9), over both transports:
 *
 *   host/kernel  the device destroyed (chardev) or the channel rescinded
 *                (UIO) while the daemon holds an unanswered WRITE; the
 *                legacy kernel's timeout and the daemon's late reply, and
 *                the busy outbound slot meanwhile; the UIO host giving up
 *                on a WRITE and dropping its late answer; another opener
 *                holding the device (EBUSY) at start and while running;
 *                the rings filled with maximum-size WRITEs; names and
 *                paths of the maximum length.
 *   disk         ENOSPC at START and during the WRITEs (a 1 MiB tmpfs);
 *                EIO in the middle of a copy, with the size announced
 *                (data written through a mapping) and without (pwrite),
 *                from an ext4 on a loop device shut down with
 *                EXT4_IOC_SHUTDOWN: the kernel has no device-mapper here
 *                (no dm-error), and a shut-down filesystem returns real
 *                EIO from the kernel without an LD_PRELOAD shim.
 *
 * Each case checks what the host was told, the daemon's log line, that
 * nothing partial carries the final name, and one more good copy. The
 * daemon is stopped with SIGSTOP to hold it before a message it has not
 * read yet, which makes "the daemon holds a message" deterministic.
 *
 * As root the suite runs in a private mount namespace on a tmpfs; the
 * disk cases need that and are skipped otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <limits.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <linux/types.h>

#include "fault-util.h"
#include "hvis/util.h"
#include "hvis/wire.h"
#include "hvsim/hvsim-fcopy.h"
#include "hvsim/hvsim.h"

#define TIMEOUT_MS 10000
#define SHORT_MS 300
#define KIB 1024u
#define MIB (1024u * 1024u)

#ifndef EXT4_IOC_SHUTDOWN
#define EXT4_IOC_SHUTDOWN _IOR('X', 125, __u32)
#endif
#define EXT4_GOING_FLAGS_NOLOGFLUSH 0x2

enum transport { T_UIO, T_CDEV };

static char work[64];
static bool private_ns;

struct fx {
	enum transport t;
	char root[128];
	char dst[160];
	char src[160];
	char log[160];
	char mnt[192]; /* a mount made by the test, unmounted at teardown */
	struct hvsim_cdev *cd;
	struct hvsim_uio *u;
	struct hvsim_fcopy *fc;
	pid_t pid;
	/* progress callback */
	uint64_t at;
	void (*action)(struct fx *f);
	int answer;
	bool fired;
};

static void pump(void *ctx, int ms)
{
	struct fx *f = ctx;

	if (f->u)
		hvsim_uio_run(f->u, ms);
	else if (f->cd)
		hvsim_cdev_run(f->cd, ms);
}

/* ---------------------------------------------------------------------- */
/* Files.                                                                 */

static void make_file(const char *path, uint64_t size, uint64_t seed)
{
	static uint64_t buf[64 * KIB / 8];
	uint64_t done = 0, x = seed | 1;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	while (done < size) {
		size_t n = size - done < sizeof(buf) ? (size_t)(size - done) :
						       sizeof(buf);

		for (size_t i = 0; i < ARRAY_SIZE(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = x;
		}
		assert_int_equal(hv_write_full(fd, buf, n), (ssize_t)n);
		done += n;
	}
	close(fd);
}

static bool same_content(const char *a, const char *b)
{
	static uint8_t ba[64 * KIB], bb[64 * KIB];
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
	bool same = fa >= 0 && fb >= 0;

	while (same) {
		ssize_t na = hv_read_full(fa, ba, sizeof(ba));
		ssize_t nb = hv_read_full(fb, bb, sizeof(bb));

		if (na != nb || na < 0 || memcmp(ba, bb, (size_t)na) != 0)
			same = false;
		if (na <= 0)
			break;
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return same;
}

/* Entries of dir other than "." and ".."; the first name in *first. */
static int entries(const char *dir, char *first, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n++ == 0 && first)
			hv_strscpy(first, de->d_name, size);
	}
	closedir(d);
	return n;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static char *S(struct fx *f, const char *name)
{
	static char bufs[4][512];
	static unsigned int next;
	char *b = bufs[next++ % ARRAY_SIZE(bufs)];

	snprintf(b, sizeof(bufs[0]), "%s/%s", f->src, name);
	return b;
}

static char *D(struct fx *f, const char *name)
{
	static char bufs[4][512];
	static unsigned int next;
	char *b = bufs[next++ % ARRAY_SIZE(bufs)];

	snprintf(b, sizeof(bufs[0]), "%s/%s", f->dst, name);
	return b;
}

/* ---------------------------------------------------------------------- */
/* Simulator and daemon.                                                  */

static void make_sim(struct fx *f)
{
	char path[256];

	if (f->t == T_UIO) {
		assert_int_equal(hvsim_uio_new(f->root, HV_GUID_FCOPY,
					       HV_GUID_FCOPY_INSTANCE, 0,
					       HVSIM_FCOPY_RING_SIZE, &f->u),
				 0);
		assert_int_equal(hvsim_fcopy_new_uio(f->u, &f->fc), 0);
	} else {
		snprintf(path, sizeof(path), "%s/dev/vmbus/hv_fcopy", f->root);
		assert_int_equal(hvsim_cdev_new(path, HVSIM_CDEV_FCOPY, &f->cd),
				 0);
		assert_int_equal(hvsim_fcopy_new_cdev(f->cd, &f->fc), 0);
	}
	hvsim_fcopy_set_timeout(f->fc, TIMEOUT_MS);
}

static void free_sim(struct fx *f)
{
	f->fc = hvsim_fcopy_free(f->fc);
	f->u = hvsim_uio_free(f->u);
	f->cd = hvsim_cdev_free(f->cd);
}

static pid_t spawn_daemon(struct fx *f, const char *extra)
{
	char bin[256];
	char *argv[] = {
		bin,
		"--root",
		f->root,
		"--log=stderr",
		"--debug",
		f->t == T_UIO ? "--transport=uio" : "--transport=chardev",
		(char *)extra,
		NULL
	};
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/hv_fcopy_daemon", fu_build_dir());
	pid = fu_spawn(argv, f->log);
	assert_true(pid > 0);
	return pid;
}

static void wait_ready(struct fx *f)
{
	int r = f->t == T_UIO ? hvsim_uio_wait_open(f->u, TIMEOUT_MS) :
				hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS);

	if (r != 0)
		fail_msg("daemon not ready: %s; log:\n%s", strerror(-r),
			 fu_read_text(f->log));
}

static void start(struct fx *f)
{
	f->pid = spawn_daemon(f, NULL);
	wait_ready(f);
}

static void wait_log(struct fx *f, const char *needle)
{
	if (!fu_wait_contains(f->log, needle, TIMEOUT_MS,
			      f->u || f->cd ? pump : NULL, f))
		fail_msg("'%s' never logged:\n%s", needle,
			 fu_read_text(f->log));
}

static struct fx *new_fixture(enum transport t)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256];

	assert_non_null(f);
	f->t = t;
	snprintf(f->root, sizeof(f->root), "%s/t.XXXXXX", work);
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(chmod(f->root, 0755), 0);
	snprintf(p, sizeof(p), "%s/dev/vmbus", f->root);
	assert_int_equal(hv_mkdir_parents(p, 0755), 0);
	snprintf(f->dst, sizeof(f->dst), "%s/dst", f->root);
	assert_int_equal(mkdir(f->dst, 0755), 0);
	snprintf(f->src, sizeof(f->src), "%s/src", f->root);
	assert_int_equal(mkdir(f->src, 0755), 0);
	snprintf(f->log, sizeof(f->log), "%s/daemon.log", f->root);
	return f;
}

static int setup_uio(void **state)
{
	struct fx *f = new_fixture(T_UIO);

	make_sim(f);
	start(f);
	*state = f;
	return 0;
}

static int setup_cdev(void **state)
{
	struct fx *f = new_fixture(T_CDEV);

	make_sim(f);
	start(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	free_sim(f);
	if (f->mnt[0])
		umount2(f->mnt, MNT_DETACH);
	assert_int_equal(fu_rm_rf(f->root), 0);
	free(f);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Copies.                                                                */

static void copy_ok(struct fx *f, const char *src, const char *dest)
{
	struct hvsim_fcopy_result res;
	char text[256];
	int r = hvsim_fcopy_copy_file(f->fc, src, dest, 0, NULL, &res);

	if (r != 0 || res.status != HV_S_OK)
		fail_msg("copy %s -> %s: %d, %s; log:\n%s", src, dest, r,
			 hvsim_fcopy_result_text(&res, text, sizeof(text)),
			 fu_read_text(f->log));
}

/* One more copy, checked byte for byte: the daemon still serves. */
static void still_serving(struct fx *f, const char *name)
{
	make_file(S(f, name), 100 * KIB + 7, 99);
	copy_ok(f, S(f, name), D(f, ""));
	assert_true(same_content(S(f, name), D(f, name)));
}

static int progress(uint64_t done, uint64_t total, void *userdata)
{
	struct fx *f = userdata;

	if (f->fired || done < f->at)
		return HVSIM_FCOPY_GO_ON;
	f->fired = true;
	if (f->action)
		f->action(f);
	return f->answer;
}

/* START and n bytes of src in 6144-byte WRITEs, all acknowledged. */
static void start_and_write(struct fx *f, const char *src, const char *name,
			    uint64_t size, uint64_t n)
{
	static uint8_t chunk[DATA_FRAGMENT];
	uint32_t st = 0xdead;
	int fd = open(src, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(hvsim_fcopy_start(f->fc, f->dst, name, 0, size, &st),
			 0);
	assert_int_equal(st, HV_S_OK);
	for (uint64_t off = 0; off < n; off += DATA_FRAGMENT) {
		size_t len = (size_t)HV_MIN((uint64_t)DATA_FRAGMENT, n - off);

		assert_int_equal(pread(fd, chunk, len, (off_t)off),
				 (ssize_t)len);
		assert_int_equal(hvsim_fcopy_write(f->fc, off, chunk,
						   (uint32_t)len, &st),
				 0);
		assert_int_equal(st, HV_S_OK);
	}
	close(fd);
}

/* The host's WRITE packet (IC header + hv_do_fcopy) for offset. */
static ssize_t write_packet(uint8_t *pkt, size_t size, uint64_t off)
{
	static uint8_t chunk[DATA_FRAGMENT];

	memset(chunk, 0x5a, sizeof(chunk));
	return hvsim_fcopy_build_write(pkt, size, 9, off, chunk, DATA_FRAGMENT,
				       DATA_FRAGMENT);
}

/* ---------------------------------------------------------------------- */
/* Host and kernel side.                                                  */

/*
 * The device is destroyed (chardev: hv_utils gone) or the channel
 * rescinded (UIO) while the daemon holds a WRITE it has not answered:
 * no answer reaches the host, the partial copy is dropped, the daemon
 * waits for the transport and serves when it is back.
 */
static void test_transport_gone_mid_write(void **state)
{
	static uint8_t pkt[HVSIM_FCOPY_PKT_MAX];
	struct fx *f = *state;
	ssize_t len;

	make_file(S(f, "m.bin"), MIB, 1);
	start_and_write(f, S(f, "m.bin"), "m.bin", MIB, 256 * KIB);
	assert_int_equal(kill(f->pid, SIGSTOP), 0);
	len = write_packet(pkt, sizeof(pkt), 256 * KIB);
	assert_true(len > 0);
	if (f->t == T_CDEV) {
		/* The legacy kernel hands the host's struct on as it is. */
		assert_int_equal(hvsim_cdev_send(f->cd, pkt + ICMSG_HDR,
						 sizeof(struct hv_do_fcopy)),
				 0);
		free_sim(f);
	} else {
		assert_int_equal(
			hvsim_uio_send(
				f->u, VM_PKT_DATA_INBAND,
				VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED, 77,
				pkt, (size_t)len),
			0);
		assert_int_equal(hvsim_uio_rescind(f->u), 0);
	}
	assert_int_equal(kill(f->pid, SIGCONT), 0);
	wait_log(f, "abandoned: the transport was reset");
	assert_true(fu_contains(
		f->log, f->t == T_UIO ? "warning: lost the uio transport" :
					"warning: lost the chardev "
					"transport"));
	wait_log(f, f->t == T_UIO ? "waiting for the file copy channel to "
				    "come back" :
				    "waiting for the file copy device to "
				    "come back");
	/*
	 * UIO: the interrupt came before the rescind, so the daemon may have
	 * answered into the ring, which nobody reads any more; signalling
	 * the host failed. Either way the host heard nothing.
	 */
	if (f->t == T_UIO)
		free_sim(f);
	assert_false(exists(D(f, "m.bin")));
	assert_int_equal(entries(f->dst, NULL, 0), 0);
	make_sim(f);
	wait_ready(f);
	still_serving(f, "after.bin");
	assert_int_equal(entries(f->dst, NULL, 0), 1);
	assert_int_equal(fu_count(f->log, "warning: lost the "), 1);
}

/*
 * chardev: the kernel's daemon timeout answers the host HV_E_FAIL; while
 * the daemon still has not read the WRITE, the host's next message finds
 * the outbound slot busy (§2, EFAULT: HV_E_FAIL at once); the late reply
 * is refused, the daemon drops the copy, reopens and serves.
 */
static void test_cdev_timeout_then_late_reply(void **state)
{
	struct fx *f = *state;
	static uint8_t chunk[DATA_FRAGMENT];
	uint32_t st = 0;

	make_file(S(f, "t.bin"), MIB, 2);
	start_and_write(f, S(f, "t.bin"), "t.bin", MIB, 64 * KIB);
	hvsim_fcopy_set_timeout(f->fc, SHORT_MS);
	assert_int_equal(kill(f->pid, SIGSTOP), 0);
	/* The legacy kernel answers the host itself: 0 and HV_E_FAIL. */
	assert_int_equal(hvsim_fcopy_write(f->fc, 64 * KIB, chunk,
					   DATA_FRAGMENT, &st),
			 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_fcopy_last_path(f->fc),
			 HVSIM_FCOPY_PATH_TIMEOUT);
	st = 0;
	assert_int_equal(hvsim_fcopy_cancel(f->fc, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_fcopy_last_path(f->fc),
			 HVSIM_FCOPY_PATH_SEND_FAILED);
	hvsim_fcopy_set_timeout(f->fc, TIMEOUT_MS);
	assert_int_equal(kill(f->pid, SIGCONT), 0);
	for (uint64_t end = fu_now_us() + TIMEOUT_MS * 1000ull;
	     hvsim_cdev_stats(f->cd)->registrations < 2;)
		if (fu_now_us() > end)
			fail_msg("no second registration; log:\n%s",
				 fu_read_text(f->log));
		else
			hvsim_cdev_run(f->cd, 5);
	assert_int_equal(hvsim_cdev_last_error(f->cd), HVSIM_CDEV_ERR_SPURIOUS);
	wait_log(f, "abandoned: the transport was reset");
	assert_true(fu_contains(f->log, "warning: lost the chardev transport"));
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS), 0);
	/* The host's own clean-up after the failed WRITE. */
	assert_int_equal(hvsim_fcopy_cancel(f->fc, &st), 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(entries(f->dst, NULL, 0), 0);
	still_serving(f, "after.bin");
}

/*
 * UIO: the host stops waiting for a WRITE (HV_E_FAIL on its side) and
 * cancels; the daemon's late answer is dropped by the host (an older
 * trans_id), the CANCEL gets its own, and nothing is left behind.
 */
static void test_uio_timeout_then_late_reply(void **state)
{
	struct fx *f = *state;
	static uint8_t chunk[DATA_FRAGMENT];
	uint32_t st = 0;

	make_file(S(f, "t.bin"), MIB, 3);
	start_and_write(f, S(f, "t.bin"), "t.bin", MIB, 64 * KIB);
	hvsim_fcopy_set_timeout(f->fc, SHORT_MS);
	assert_int_equal(kill(f->pid, SIGSTOP), 0);
	assert_int_equal(hvsim_fcopy_write(f->fc, 64 * KIB, chunk,
					   DATA_FRAGMENT, &st),
			 -ETIMEDOUT);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(kill(f->pid, SIGCONT), 0);
	hvsim_fcopy_set_timeout(f->fc, TIMEOUT_MS);
	assert_int_equal(hvsim_fcopy_cancel(f->fc, &st), 0);
	assert_int_equal(st, HV_S_OK);
	wait_log(f, "copy to \"");
	assert_true(fu_contains(f->log, "cancelled by the host"));
	assert_int_equal(entries(f->dst, NULL, 0), 0);
	assert_int_equal(hvsim_fcopy_stats(f->fc)->trans_id_mismatches, 0);
	still_serving(f, "after.bin");
	assert_int_equal(hvsim_uio_stats(f->u)->opens, 1);
}

/* The transport disappears and comes back held by someone else. */
static void reappear_busy(struct fx *f)
{
	free_sim(f);
	make_sim(f);
	if (f->u)
		hvsim_uio_set_busy(f->u, true);
	else
		hvsim_cdev_set_busy(f->cd, true);
}

static unsigned rejected(const struct fx *f)
{
	return f->u ? hvsim_uio_stats(f->u)->rejected :
		      hvsim_cdev_stats(f->cd)->rejected;
}

/*
 * Another program has the device or channel open. At start: exit 69 with
 * one error line. While running: retries with backoff, one warning and
 * one "waiting" line, and serves as soon as it is free.
 */
static void test_busy(void **state)
{
	struct fx *f = *state;
	uint64_t end;
	pid_t pid;
	int st;

	reappear_busy(f);
	for (end = fu_now_us() + TIMEOUT_MS * 1000ull; rejected(f) < 4;)
		if (fu_now_us() > end)
			fail_msg("no retries; log:\n%s", fu_read_text(f->log));
		else
			pump(f, 5);
	assert_int_equal(fu_count(f->log, "warning: lost the "), 1);
	assert_int_equal(fu_count(f->log, "waiting for the file copy "), 1);
	if (f->u)
		hvsim_uio_set_busy(f->u, false);
	else
		hvsim_cdev_set_busy(f->cd, false);
	wait_ready(f);
	still_serving(f, "free.bin");

	/* A second daemon finds it taken. */
	pid = spawn_daemon(f, NULL);
	st = fu_wait_exit(pid, TIMEOUT_MS, pump, f);
	assert_true(st >= 0);
	assert_int_equal(fu_exit_code(st), 69);
	assert_true(fu_contains(
		f->log, f->t == T_UIO ? "the file copy channel is busy" :
					"the file copy device is busy"));
	/* The first one did not notice. */
	still_serving(f, "again.bin");
}

/*
 * UIO: the host rescinds the channel in the middle of a copy: its next
 * WRITE cannot go out (HV_E_FAIL for the host), the daemon drops the
 * copy, waits, and serves the channel when it is offered again.
 */
static void rescind_now(struct fx *f)
{
	assert_int_equal(hvsim_uio_rescind(f->u), 0);
}

static void test_uio_rescind_mid_copy(void **state)
{
	struct fx *f = *state;
	struct hvsim_fcopy_copy_opts o = { .progress = progress,
					   .userdata = f };
	struct hvsim_fcopy_result res;

	make_file(S(f, "r.bin"), MIB, 4);
	f->at = 300 * KIB;
	f->action = rescind_now;
	assert_int_equal(hvsim_fcopy_copy_file(f->fc, S(f, "r.bin"), D(f, ""),
					       0, &o, &res),
			 -ENOTCONN);
	assert_true(f->fired);
	assert_int_equal(res.status, HV_E_FAIL);
	assert_int_equal(res.stage, HVSIM_FCOPY_STAGE_WRITE);
	wait_log(f, "abandoned: the transport was reset");
	assert_true(fu_contains(f->log, "warning: lost the uio transport"));
	wait_log(f, "waiting for the file copy channel to come back");
	assert_int_equal(entries(f->dst, NULL, 0), 0);
	free_sim(f);
	make_sim(f);
	wait_ready(f);
	still_serving(f, "back.bin");
}

/*
 * UIO: the host fills the RX ring with maximum-size WRITEs (6144 data
 * bytes each) and reads no reply until the ring is full; the daemon's
 * replies fill the TX ring and it must wait for room. Repeated until a
 * 60-chunk file is through; every reply is checked.
 */
static void test_uio_rings_full(void **state)
{
	enum { CHUNKS = 60 };
	static uint8_t data[CHUNKS * DATA_FRAGMENT];
	static uint8_t pkt[HVSIM_FCOPY_PKT_MAX], rep[HVSIM_FCOPY_PKT_MAX];
	struct fx *f = *state;
	struct hv_pkt_desc desc;
	unsigned sent = 0, got = 0, most = 0;
	uint32_t st = 0;
	ssize_t len, n;
	int fd;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 6144);
	fd = open(S(f, "ring.bin"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(hv_write_full(fd, data, sizeof(data)), sizeof(data));
	close(fd);
	assert_int_equal(hvsim_fcopy_start(f->fc, f->dst, "ring.bin", 0,
					   sizeof(data), &st),
			 0);
	assert_int_equal(st, HV_S_OK);
	while (got < CHUNKS) {
		while (sent < CHUNKS) {
			len = hvsim_fcopy_build_write(
				pkt, sizeof(pkt), (uint8_t)sent,
				(uint64_t)sent * DATA_FRAGMENT,
				data + (size_t)sent * DATA_FRAGMENT,
				DATA_FRAGMENT, DATA_FRAGMENT);
			assert_true(len > 0);
			n = hvsim_uio_send(
				f->u, VM_PKT_DATA_INBAND,
				VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED,
				0x100000 + sent, pkt, (size_t)len);
			if (n == -EAGAIN)
				break;
			assert_int_equal(n, 0);
			sent++;
		}
		most = HV_MAX(most, sent - got);
		/* Let the daemon fill its side too before we read. */
		n = hvsim_uio_recv(f->u, &desc, rep, sizeof(rep), TIMEOUT_MS);
		do {
			assert_true(n >= (ssize_t)HVSIM_FCOPY_WRITE_LEN);
			assert_true(desc.trans_id == 0x100000 + got);
			assert_int_equal(hv_le32(rep + 20), HV_S_OK);
			got++;
			n = hvsim_uio_recv(f->u, &desc, rep, sizeof(rep), 0);
		} while (n > 0);
		assert_int_equal(n, -EAGAIN);
	}
	assert_true(hvsim_uio_stats(f->u)->send_full > 0);
	assert_true(most >= 2);
	assert_int_equal(hvsim_fcopy_complete(f->fc, &st), 0);
	assert_int_equal(st, HV_S_OK);
	assert_true(same_content(S(f, "ring.bin"), D(f, "ring.bin")));
	wait_log(f, "copied \"");
	assert_false(fu_contains(f->log, "warning:"));
	still_serving(f, "after.bin");
}

/*
 * Names and paths of the maximum length the wire carries (259 units),
 * and the longest name Linux takes (255 bytes), in maximum-size chunks.
 */
static void test_max_names(void **state)
{
	struct fx *f = *state;
	char name[W_MAX_PATH + 1], path[W_MAX_PATH + 1], full[600];
	uint32_t st;
	size_t n;

	memset(name, 'n', 255);
	name[255] = '\0';
	make_file(S(f, "long"), 3 * DATA_FRAGMENT, 5);
	snprintf(full, sizeof(full), "%s/%s", f->dst, name);
	copy_ok(f, S(f, "long"), full);
	assert_true(same_content(S(f, "long"), full));
	/* 259 units: the wire's limit, beyond NAME_MAX. */
	memset(name, 'o', W_MAX_PATH - 1);
	name[W_MAX_PATH - 1] = '\0';
	assert_int_equal(hvsim_fcopy_start(f->fc, f->dst, name, 0, 0, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	wait_log(f, "refused: File name too long");
	/* A 259-unit directory path, made with CREATE_PATH. */
	n = (size_t)snprintf(path, sizeof(path), "%s/", f->dst);
	while (n < W_MAX_PATH - 1) {
		size_t k = HV_MIN((size_t)200, W_MAX_PATH - 1 - n);

		memset(path + n, 'p', k);
		n += k;
		if (n < W_MAX_PATH - 1)
			path[n++] = '/';
	}
	path[n] = '\0';
	assert_int_equal(strlen(path), W_MAX_PATH - 1);
	assert_int_equal(
		hvsim_fcopy_start(f->fc, path, "x", CREATE_PATH, 0, &st), 0);
	assert_int_equal(st, HV_S_OK);
	assert_int_equal(hvsim_fcopy_write(f->fc, 0, "xyz", 3, &st), 0);
	assert_int_equal(hvsim_fcopy_complete(f->fc, &st), 0);
	assert_int_equal(st, HV_S_OK);
	snprintf(full, sizeof(full), "%s/x", path);
	assert_true(exists(full));
	still_serving(f, "after.bin");
}

/* ---------------------------------------------------------------------- */
/* Disk.                                                                  */

static bool mount_tmpfs(struct fx *f, const char *dir, const char *opts)
{
	if (!private_ns)
		return false;
	assert_int_equal(mkdir(dir, 0755), 0);
	if (mount("hvis-small", dir, "tmpfs", 0, opts) != 0)
		return false;
	hv_strscpy(f->mnt, dir, sizeof(f->mnt));
	return true;
}

/* A full disk at START (size announced) and during WRITEs (not). */
static void test_enospc(void **state)
{
	struct fx *f = *state;
	struct hvsim_fcopy_copy_opts hide = { .hide_size = true };
	struct hvsim_fcopy_result res;

	if (!mount_tmpfs(f, D(f, "small"), "size=1m,mode=0755")) {
		skip();
		return;
	}
	make_file(S(f, "big"), 4 * MIB, 6);
	assert_int_equal(hvsim_fcopy_copy_file(f->fc, S(f, "big"),
					       D(f, "small/"), 0, NULL, &res),
			 0);
	assert_int_equal(res.status, HV_ERROR_DISK_FULL);
	assert_int_equal(res.stage, HVSIM_FCOPY_STAGE_START);
	wait_log(f, "refused: No space left on device");
	assert_int_equal(entries(D(f, "small"), NULL, 0), 0);

	assert_int_equal(hvsim_fcopy_copy_file(f->fc, S(f, "big"),
					       D(f, "small/"), 0, &hide, &res),
			 0);
	assert_int_equal(res.status, HV_ERROR_DISK_FULL);
	assert_int_equal(res.stage, HVSIM_FCOPY_STAGE_WRITE);
	assert_true(res.bytes > 0 && res.bytes < 4 * MIB);
	wait_log(f, "failed: No space left on device");
	assert_true(fu_contains(f->log, "writing 6144 bytes at "));
	/* The host's CANCEL removed the partial data: the space is back. */
	assert_int_equal(entries(D(f, "small"), NULL, 0), 0);
	make_file(S(f, "fits"), 512 * KIB, 7);
	copy_ok(f, S(f, "fits"), D(f, "small/"));
	assert_true(same_content(S(f, "fits"), D(f, "small/fits")));
	still_serving(f, "after.bin");
}

static int sh(const char *fmt, ...) HV_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static bool mount_ext4(struct fx *f, const char *dir)
{
	char img[192];

	if (!private_ns)
		return false;
	snprintf(img, sizeof(img), "%s/ext4.img", f->root);
	assert_int_equal(mkdir(dir, 0755), 0);
	if (sh("truncate -s 32M '%s' && mkfs.ext4 -q -F '%s' >/dev/null 2>&1 "
	       "&& mount -o loop '%s' '%s'",
	       img, img, img, dir) != 0)
		return false;
	hv_strscpy(f->mnt, dir, sizeof(f->mnt));
	return true;
}

static void shut_down(struct fx *f)
{
	__u32 flags = EXT4_GOING_FLAGS_NOLOGFLUSH;
	int fd = open(f->mnt, O_RDONLY | O_DIRECTORY);

	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, EXT4_IOC_SHUTDOWN, &flags), 0);
	close(fd);
}

/*
 * EIO in the middle of a copy: the filesystem under the destination is
 * shut down after 512 KiB. The host gets HV_E_FAIL (at the WRITE that
 * fails, or at COMPLETE when only the final fsync sees it), the daemon
 * logs the EIO, survives, and the next copy elsewhere works.
 */
static void eio_copy(struct fx *f, bool hide_size)
{
	struct hvsim_fcopy_copy_opts o = { .progress = progress,
					   .userdata = f,
					   .hide_size = hide_size };
	struct hvsim_fcopy_result res;
	char text[256];
	int r;

	if (!mount_ext4(f, D(f, "disk"))) {
		print_message("# needs root, a mount namespace, loop devices "
			      "and mkfs.ext4\n");
		skip();
		return;
	}
	make_file(S(f, "e.bin"), 2 * MIB, 8);
	f->at = 512 * KIB;
	f->action = shut_down;
	r = hvsim_fcopy_copy_file(f->fc, S(f, "e.bin"), D(f, "disk/"), 0, &o,
				  &res);
	assert_true(f->fired);
	if (r != 0 || res.status != HV_E_FAIL)
		fail_msg("copy: %d, %s; log:\n%s", r,
			 hvsim_fcopy_result_text(&res, text, sizeof(text)),
			 fu_read_text(f->log));
	assert_true(res.stage == HVSIM_FCOPY_STAGE_WRITE ||
		    res.stage == HVSIM_FCOPY_STAGE_COMPLETE);
	wait_log(f, "Input/output error");
	{
		const char *line =
			strstr(fu_read_text(f->log), "warning: copy");

		print_message("# %s: %.*s\n",
			      res.stage == HVSIM_FCOPY_STAGE_WRITE ? "WRITE" :
								     "COMPLETE",
			      line ? (int)strcspn(line, "\n") : 0,
			      line ? line : "");
	}
	assert_int_equal(kill(f->pid, 0), 0);
	/* Nothing carries the name (the filesystem is gone: ask the kernel). */
	assert_false(exists(D(f, "disk/e.bin")) &&
		     same_content(S(f, "e.bin"), D(f, "disk/e.bin")));
	still_serving(f, "after.bin");
}

static void test_eio_announced(void **state)
{
	eio_copy(*state, false);
}

static void test_eio_unannounced(void **state)
{
	eio_copy(*state, true);
}

/* ---------------------------------------------------------------------- */

static int group_setup(void **state)
{
	hv_strscpy(work, "/tmp/hvis-ffcopy.XXXXXX", sizeof(work));
	assert_non_null(mkdtemp(work));
	if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mount("hvis-ffcopy", work, "tmpfs", 0, "size=512m,mode=0755") == 0)
		private_ns = true;
	else
		print_message("# not root or no mount namespace: the disk "
			      "cases are skipped\n");
	return 0;
}

static int group_teardown(void **state)
{
	if (private_ns)
		umount2(work, MNT_DETACH);
	return fu_rm_rf(work) == 0 ? 0 : -1;
}

#define BOTH(t)                                              \
	{ #t "_uio", t, setup_uio, teardown, NULL },         \
	{                                                    \
#t "_chardev", t, setup_cdev, teardown, NULL \
	}
#define UIO(t)                                   \
	{                                        \
#t, t, setup_uio, teardown, NULL \
	}
#define CDEV(t)                                   \
	{                                         \
#t, t, setup_cdev, teardown, NULL \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_transport_gone_mid_write),
		CDEV(test_cdev_timeout_then_late_reply),
		UIO(test_uio_timeout_then_late_reply),
		BOTH(test_busy),
		UIO(test_uio_rescind_mid_copy),
		UIO(test_uio_rings_full),
		BOTH(test_max_names),
		BOTH(test_enospc),
		BOTH(test_eio_announced),
		BOTH(test_eio_unannounced),
	};

	signal(SIGPIPE, SIG_IGN);
	if (getenv("FAULTS_TEST"))
		cmocka_set_test_filter(getenv("FAULTS_TEST"));
	return cmocka_run_group_tests_name("faults-fcopy", tests, group_setup,
					   group_teardown);
}
