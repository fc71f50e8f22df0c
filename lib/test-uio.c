/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Discovery runs against a fake sysfs tree in a temporary directory; the
 * transport against a forked child playing the simulator on a
 * SOCK_SEQPACKET socket, or a regular file standing in for /dev/uioN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "hvis/uio.h"
#include "hvis/util.h"

#define INST_FC HV_GUID_FCOPY_INSTANCE
#define INST_KVP "242ff919-07db-4180-9c2e-b86cb68c8c55"
#define FC_CLASS_FILE "{34D14BE3-DEE4-41C8-9AE7-6B174977C192}\n"
#define KVP_CLASS_FILE "{a9a0f4e7-5a45-4d96-b827-8a841e8c03e6}\n"
#define RING 0x8000u

struct fixture {
	char dir[64];
	char devs[256];
	char fc[320];
};

static void mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	assert_true(hv_strscpy(buf, path, sizeof(buf)) >= 0);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
}

static void write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(hv_write_full(fd, content, strlen(content)),
			 (ssize_t)strlen(content));
	close(fd);
}

static void sized_file(const char *path, off_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

/* Paths in tests are short; running out of room is a test bug. */
#define PATHF(buf, ...) \
	assert_true(hv_snprintf(buf, sizeof(buf), __VA_ARGS__) >= 0)

/* A channel directory as uio_hv_generic leaves it. */
static void add_device(const char *devs, const char *inst, const char *class,
		       const char *uio, const char *map0, off_t ring)
{
	char dev[PATH_MAX], p[PATH_MAX];

	PATHF(dev, "%s/%s", devs, inst);
	mkdir_p(dev);
	PATHF(p, "%s/%s", dev, "class_id");
	write_file(p, class);
	if (uio) {
		PATHF(p, "%s/uio/%s/maps/map0", dev, uio);
		mkdir_p(p);
		if (map0) {
			PATHF(p, "%s/uio/%s/maps/map0/size", dev, uio);
			write_file(p, map0);
		}
	}
	if (ring) {
		PATHF(p, "%s/%s", dev, "channels/17");
		mkdir_p(p);
		PATHF(p, "%s/%s", dev, "channels/17/ring");
		sized_file(p, ring);
	}
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	hv_strscpy(f->dir, "/tmp/hvis-uio.XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	PATHF(f->devs, "%s%s", f->dir, "/bus/vmbus/devices");
	PATHF(f->fc, "%s/%s", f->devs, INST_FC);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Standard tree: fcopy bound to uio3 with a 4 MiB legacy ring file. */
static void standard_tree(struct fixture *f)
{
	add_device(f->devs, INST_FC, FC_CLASS_FILE, "uio3",
		   "0x0000000000010000\n", 4 * 1024 * 1024);
	add_device(f->devs, INST_KVP, KVP_CLASS_FILE, "uio1", "0x4000\n", 0);
}

static void test_find_by_class(void **state)
{
	struct fixture *f = *state;
	struct hv_uio_info info;

	standard_tree(f);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info), 0);
	assert_string_equal(info.instance, INST_FC);
	assert_string_equal(info.uio_name, "uio3");
	/* map0 (both rings) wins over the 4 MiB ring file. */
	assert_int_equal(info.ring_size, RING);

	memset(&info, 0, sizeof(info));
	assert_int_equal(hv_uio_find(f->dir,
				     "{34D14BE3-DEE4-41C8-9AE7-6B174977C192}",
				     NULL, &info),
			 0);
	assert_string_equal(info.instance, INST_FC);

	assert_int_equal(hv_uio_find(f->dir, HV_GUID_KVP, NULL, &info), 0);
	assert_string_equal(info.instance, INST_KVP);
	assert_string_equal(info.uio_name, "uio1");
	assert_int_equal(info.ring_size, 0x2000);
}

static void test_find_first_instance(void **state)
{
	struct fixture *f = *state;
	struct hv_uio_info info;

	add_device(f->devs, "bbbbbbbb-0000-0000-0000-000000000000",
		   FC_CLASS_FILE, "uio5", "0x10000\n", 0);
	add_device(f->devs, "aaaaaaaa-0000-0000-0000-000000000000",
		   FC_CLASS_FILE, "uio6", "0x10000\n", 0);
	/* Not a channel: no class_id at all. */
	mkdir_p(f->fc);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info), 0);
	assert_string_equal(info.instance,
			    "aaaaaaaa-0000-0000-0000-000000000000");
	assert_string_equal(info.uio_name, "uio6");
}

static void test_find_by_instance(void **state)
{
	struct fixture *f = *state;
	struct hv_uio_info info, before;

	standard_tree(f);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, INST_FC, &info), 0);
	assert_string_equal(info.instance, INST_FC);
	assert_string_equal(info.uio_name, "uio3");

	memset(&info, 0x5a, sizeof(info));
	before = info;
	/* The instance exists but has another class. */
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_KVP, INST_FC, &info),
			 -ENOENT);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY,
				     "00000000-0000-0000-0000-000000000000",
				     &info),
			 -ENOENT);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, "../devices",
				     &info),
			 -EINVAL);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, "a/b", &info),
			 -EINVAL);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, "", &info),
			 -EINVAL);
	assert_int_equal(hv_uio_find(f->dir, "not-a-guid", NULL, &info),
			 -EINVAL);
	assert_int_equal(hv_uio_find(f->dir,
				     "{34d14be3-dee4-41c8-9ae7-6b174977c192",
				     NULL, &info),
			 -EINVAL);
	/* ret is written only on success. */
	assert_memory_equal(&info, &before, sizeof(info));
}

static void test_find_not_found(void **state)
{
	struct fixture *f = *state;
	struct hv_uio_info info;

	/* No bus directory at all. */
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info),
			 -ENOENT);
	standard_tree(f);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_VSS, NULL, &info),
			 -ENOENT);
}

static void test_find_no_uio(void **state)
{
	struct fixture *f = *state;
	struct hv_uio_info info;
	char p[PATH_MAX];

	add_device(f->devs, INST_FC, FC_CLASS_FILE, NULL, NULL, 0x10000);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info),
			 -ENODEV);
	/* uio/ with nothing that is uio<digits> */
	PATHF(p, "%s/%s", f->fc, "uio/uio");
	mkdir_p(p);
	PATHF(p, "%s/%s", f->fc, "uio/uiox");
	mkdir_p(p);
	PATHF(p, "%s/%s", f->fc, "uio/foo3");
	mkdir_p(p);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, INST_FC, &info),
			 -ENODEV);
	/* The lowest number wins, whatever readdir says. */
	PATHF(p, "%s/%s", f->fc, "uio/uio12");
	mkdir_p(p);
	PATHF(p, "%s/%s", f->fc, "uio/uio7");
	mkdir_p(p);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, INST_FC, &info), 0);
	assert_string_equal(info.uio_name, "uio7");
	/* No map0 size: the ring file, halved. */
	assert_int_equal(info.ring_size, 0x8000);
}

static void test_find_ring_file(void **state)
{
	struct fixture *f = *state;
	struct hv_uio_info info;
	char p[PATH_MAX];

	add_device(f->devs, INST_FC, FC_CLASS_FILE, "uio3", NULL, 2 * 0x5000);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info), 0);
	assert_int_equal(info.ring_size, 0x5000);

	/* A second channel with a higher relid does not change the answer. */
	PATHF(p, "%s/%s", f->fc, "channels/20");
	mkdir_p(p);
	PATHF(p, "%s/%s", f->fc, "channels/20/ring");
	sized_file(p, 2 * 0x9000);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info), 0);
	assert_int_equal(info.ring_size, 0x5000);

	/* Neither map0 nor a ring file: not a usable uio channel. */
	PATHF(p, "%s/%s", f->fc, "channels/17/ring");
	assert_int_equal(unlink(p), 0);
	PATHF(p, "%s/%s", f->fc, "channels/20/ring");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info),
			 -ENODEV);
}

static void test_find_bad_sizes(void **state)
{
	static const struct {
		const char *map0;
		int want;
		uint32_t ring;
	} cases[] = {
		{ "0x4000\n", 0, 0x2000 }, /* smallest allowed */
		{ "0x8000000\n", 0, 64 * 1024 * 1024 }, /* largest */
		{ "0x0000000000022000\n", 0, 0x11000 },
		{ "0x2000\n", -EBADMSG, 0 }, /* 4 KiB per ring: no data */
		{ "0x1000\n", -EBADMSG, 0 },
		{ "0x0\n", -EBADMSG, 0 },
		{ "0x3000\n", -EBADMSG, 0 }, /* 6 KiB per ring */
		{ "0x6000\n", 0, 0x3000 }, /* 12 KiB: any page multiple */
		{ "0x8002000\n", -EBADMSG, 0 }, /* just over 64 MiB */
		{ "0x10000000000000000\n", -EBADMSG, 0 }, /* 17 digits */
		{ "0xffffffffffffffff\n", -EBADMSG, 0 },
		{ "65536\n", -EBADMSG, 0 },
		{ "0x\n", -EBADMSG, 0 },
		{ "0x10000 \n", -EBADMSG, 0 },
		{ "-0x10000\n", -EBADMSG, 0 },
		{ "\n", -EBADMSG, 0 },
	};
	struct fixture *f = *state;
	struct hv_uio_info info;
	char p[PATH_MAX];

	add_device(f->devs, INST_FC, FC_CLASS_FILE, "uio3", "0x10000\n",
		   0x10000);
	PATHF(p, "%s/%s", f->fc, "uio/uio3/maps/map0/size");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int want = cases[i].want;

		print_message("map0 %s", cases[i].map0);
		write_file(p, cases[i].map0);
		assert_int_equal(
			hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info), want);
		if (want == 0)
			assert_int_equal(info.ring_size, cases[i].ring);
	}

	/* Long garbage, or a size we cannot read: no fallback either. */
	write_file(p, "0x0000000000000000000000000000000000000000000000000000"
		      "0000000000000000010000\n");
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info),
			 -EBADMSG);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info),
			 -EISDIR);
	assert_int_equal(rmdir(p), 0);

	/* The fallback is validated the same way. */
	PATHF(p, "%s/%s", f->fc, "channels/17/ring");
	sized_file(p, 3 * 4096);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info),
			 -EBADMSG);
	sized_file(p, 0);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info),
			 -EBADMSG);
	sized_file(p, 256 * 1024 * 1024);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info),
			 -EBADMSG);
	sized_file(p, 2 * 0x6000);
	assert_int_equal(hv_uio_find(f->dir, HV_GUID_FCOPY, NULL, &info), 0);
	assert_int_equal(info.ring_size, 0x6000);
}

/* ---- transport ---- */

enum scenario {
	SRV_OK,
	SRV_EBUSY,
	SRV_NO_FD,
	SRV_TWO_FDS,
	SRV_SHORT_STATUS,
	SRV_LONG_STATUS,
	SRV_BAD_STATUS,
	SRV_SMALL_MEMFD,
	SRV_HANGUP,
};

static int send_open(int conn, const void *status, size_t len, const int *fds,
		     size_t nfds)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = (void *)status, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	return sendmsg(conn, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/*
 * The simulator's side, in a child: no cmocka here, the exit status says
 * whether the guest behaved.
 */
static int serve(int lfd, enum scenario sc, int mem)
{
	uint8_t st[8] = { 0 };
	int fds[2] = { mem, mem };
	uint32_t v;
	int conn, small;
	ssize_t n;

	conn = accept(lfd, NULL, NULL);
	if (conn < 0)
		return 10;
	switch (sc) {
	case SRV_EBUSY:
		hv_put_le32(st, EBUSY);
		return send_open(conn, st, 4, NULL, 0) ? 11 : 0;
	case SRV_NO_FD:
		return send_open(conn, st, 4, NULL, 0) ? 11 : 0;
	case SRV_TWO_FDS:
		return send_open(conn, st, 4, fds, 2) ? 11 : 0;
	case SRV_SHORT_STATUS:
		return send_open(conn, st, 2, fds, 1) ? 11 : 0;
	case SRV_LONG_STATUS:
		return send_open(conn, st, 8, fds, 1) ? 11 : 0;
	case SRV_BAD_STATUS:
		hv_put_le32(st, 0x10000);
		return send_open(conn, st, 4, fds, 1) ? 11 : 0;
	case SRV_SMALL_MEMFD:
		small = memfd_create("small", MFD_CLOEXEC);
		if (small < 0 || ftruncate(small, 2 * RING - 4096) < 0)
			return 12;
		return send_open(conn, st, 4, &small, 1) ? 11 : 0;
	case SRV_HANGUP:
		return 0;
	case SRV_OK:
		break;
	}

	if (send_open(conn, st, 4, fds, 1))
		return 11;
	/*
	 * Exactly two signals, each a 4-byte 1: from the first send and
	 * from the explicit hv_uio_signal.
	 */
	for (int i = 0; i < 2; i++) {
		n = recv(conn, &v, sizeof(v), MSG_TRUNC);
		if (n != 4 || v != 1)
			return 20 + i;
	}
	v = 7;
	if (send(conn, &v, sizeof(v), MSG_NOSIGNAL) != 4)
		return 30;
	if (send(conn, "123456", 6, MSG_NOSIGNAL) != 6)
		return 31;
	/* EOF for the guest's reads; we keep reading until it closes. */
	if (shutdown(conn, SHUT_WR) < 0)
		return 32;
	n = recv(conn, &v, sizeof(v), MSG_TRUNC);
	if (n != 0)
		return 40;
	return 0;
}

struct server {
	char path[PATH_MAX];
	int lfd;
	pid_t pid;
};

static void server_start(struct server *s, const struct fixture *f,
			 enum scenario sc, int mem)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	PATHF(s->path, "%s/%s", f->dir, "uio.sock");
	unlink(s->path);
	assert_true(hv_strscpy(sa.sun_path, s->path, sizeof(sa.sun_path)) >= 0);
	s->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 1), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0)
		_exit(serve(s->lfd, sc, mem));
}

static void server_finish(struct server *s)
{
	int status;

	close(s->lfd);
	assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static uint8_t *host_rings(int *ret_mem)
{
	int mem = memfd_create("rings", MFD_CLOEXEC);
	uint8_t *m;

	assert_true(mem >= 0);
	assert_int_equal(ftruncate(mem, 2 * RING), 0);
	m = mmap(NULL, 2 * RING, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0);
	assert_true(m != MAP_FAILED);
	*ret_mem = mem;
	return m;
}

/* Host view of one ring: header fields and a hand-built packet. */
static uint32_t h32(const uint8_t *ring, size_t off)
{
	return hv_le32(ring + off);
}

static void hset32(uint8_t *ring, size_t off, uint32_t v)
{
	hv_put_le32(ring + off, v);
}

/* One packet at write index 0 of an empty ring, published. */
static void host_send(uint8_t *ring, uint64_t trans_id, const char *text)
{
	uint8_t *data = ring + HV_RING_HDR_SIZE;
	size_t len = strlen(text), plen = 16 + HV_ALIGN8(len);

	memset(data, 0, plen + 8);
	hv_put_le16(data, VM_PKT_DATA_INBAND);
	hv_put_le16(data + 2, 2);
	hv_put_le16(data + 4, (uint16_t)(plen / 8));
	hv_put_le32(data + 8, (uint32_t)trans_id);
	hv_put_le32(data + 12, (uint32_t)(trans_id >> 32));
	memcpy(data + 16, text, len);
	hv_put_le32(data + plen + 4, 0); /* trailer: old index 0 << 32 */
	hset32(ring, 0, (uint32_t)(plen + 8));
}

static void check_recv(struct hv_uio_chan *c, uint64_t trans_id,
		       const char *text)
{
	uint8_t buf[256];
	struct hv_pkt pkt;
	size_t len = strlen(text);

	assert_int_equal(hv_uio_recv(c, buf, sizeof(buf), &pkt),
			 (int)(16 + HV_ALIGN8(len)));
	assert_true(pkt.desc.trans_id == trans_id);
	assert_memory_equal(pkt.payload, text, len);
	assert_int_equal(hv_uio_recv(c, buf, sizeof(buf), &pkt), -EAGAIN);
}

static void test_open_socket(void **state)
{
	struct fixture *f = *state;
	uint8_t *host, *tx, *rx;
	struct hv_uio_chan c;
	struct server s;
	size_t total = 16 + 200 + 8;
	uint8_t big[200] = { 0 };
	int mem, r, fds;

	host = host_rings(&mem);
	tx = host;
	rx = host + RING;
	hset32(rx, 8, 1); /* as the kernel leaves it on open */
	server_start(&s, f, SRV_OK, mem);
	close(mem);

	fds = count_fds();
	assert_int_equal(hv_uio_open(&c, s.path, RING), 0);
	assert_int_equal(count_fds(), fds + 1);
	assert_true(c.is_socket);
	assert_true(c.fd >= 0);
	assert_int_equal(c.ring_size, RING);
	assert_int_equal(c.map_size, 2 * RING);
	assert_int_equal(h32(rx, 8), 0);

	/* RX is the second half of the memfd. */
	host_send(rx, 0xabcdef0123ull, "host says hi");
	check_recv(&c, 0xabcdef0123ull, "host says hi");
	assert_int_equal(h32(rx, 4), h32(rx, 0));

	/* TX is the first half; the first packet signals (#1). */
	assert_int_equal(hv_uio_send(&c, 42, "reply", 5), 0);
	assert_int_equal(h32(tx, 0), 16 + 8 + 8);
	assert_int_equal(hv_le16(tx + HV_RING_HDR_SIZE), VM_PKT_DATA_INBAND);
	assert_int_equal(hv_le16(tx + HV_RING_HDR_SIZE + 6), 0);
	assert_int_equal(hv_le32(tx + HV_RING_HDR_SIZE + 8), 42);
	assert_memory_equal(tx + HV_RING_HDR_SIZE + 16, "reply", 5);
	/* Not empty before: no signal. */
	assert_int_equal(hv_uio_send(&c, 43, "again", 5), 0);

	/* The host masks its interrupts and stops reading: fill up. */
	hset32(tx, 8, 1);
	do
		r = hv_uio_send(&c, 44, big, sizeof(big));
	while (r == 0);
	assert_int_equal(r, -EAGAIN);
	assert_int_equal(h32(tx, 12), total);
	/* The host drains; the next send clears the request. */
	hset32(tx, 4, h32(tx, 0));
	assert_int_equal(hv_uio_send(&c, 45, big, sizeof(big)), 0);
	assert_int_equal(h32(tx, 12), 0);

	/* Explicit signal (#2) also unmasks RX. */
	hset32(rx, 8, 1);
	assert_int_equal(hv_uio_signal(&c), 0);
	assert_int_equal(h32(rx, 8), 0);

	assert_int_equal(hv_uio_wait(&c), 7);
	assert_int_equal(hv_uio_wait(&c), -EBADMSG);
	assert_int_equal(hv_uio_wait(&c), -EIO);

	hv_uio_close(&c);
	assert_int_equal(c.fd, -1);
	assert_null(c.map);
	hv_uio_close(&c);
	assert_int_equal(count_fds(), fds);
	server_finish(&s);
	munmap(host, 2 * RING);
}

static void check_open_fails(struct fixture *f, enum scenario sc, int want)
{
	struct hv_uio_chan c;
	struct server s;
	uint8_t *host;
	int mem, fds;

	host = host_rings(&mem);
	server_start(&s, f, sc, mem);
	close(mem);
	fds = count_fds();
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(hv_uio_open(&c, s.path, RING), want);
	assert_int_equal(c.fd, -1);
	assert_null(c.map);
	assert_int_equal(count_fds(), fds);
	/* Closing a failed channel is harmless. */
	hv_uio_close(&c);
	server_finish(&s);
	munmap(host, 2 * RING);
}

static void test_open_socket_errors(void **state)
{
	struct fixture *f = *state;

	check_open_fails(f, SRV_EBUSY, -EBUSY);
	check_open_fails(f, SRV_NO_FD, -EBADMSG);
	check_open_fails(f, SRV_TWO_FDS, -EBADMSG);
	check_open_fails(f, SRV_SHORT_STATUS, -EBADMSG);
	check_open_fails(f, SRV_LONG_STATUS, -EBADMSG);
	check_open_fails(f, SRV_BAD_STATUS, -EBADMSG);
	check_open_fails(f, SRV_SMALL_MEMFD, -EBADMSG);
	check_open_fails(f, SRV_HANGUP, -EIO);
}

static void test_open_file(void **state)
{
	struct fixture *f = *state;
	struct hv_uio_chan c;
	char path[PATH_MAX];
	uint8_t *host;
	int fd, fds;

	PATHF(path, "%s/%s", f->dir, "uio0");
	fds = count_fds();
	assert_int_equal(hv_uio_open(&c, path, RING), -ENOENT);
	assert_int_equal(c.fd, -1);

	sized_file(path, 2 * RING - 8);
	assert_int_equal(hv_uio_open(&c, path, RING), -EBADMSG);
	assert_int_equal(c.fd, -1);
	assert_int_equal(count_fds(), fds);

	/* Ring sizes hv_uio_find would reject are refused here too. */
	sized_file(path, 2 * RING);
	assert_int_equal(hv_uio_open(&c, path, 4096), -EINVAL);
	assert_int_equal(hv_uio_open(&c, path, RING + 8), -EINVAL);
	assert_int_equal(hv_uio_open(&c, f->dir, RING), -EISDIR);

	assert_int_equal(hv_uio_open(&c, path, RING), 0);
	assert_false(c.is_socket);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	host = mmap(NULL, 2 * RING, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(host != MAP_FAILED);
	close(fd);

	host_send(host + RING, 9, "file-backed");
	check_recv(&c, 9, "file-backed");
	/* Host masked: a send must not try to signal the regular file. */
	hset32(host, 8, 1);
	assert_int_equal(hv_uio_send(&c, 9, "ok", 2), 0);
	assert_int_equal(h32(host, 0), 32);
	hv_uio_close(&c);
	assert_int_equal(count_fds(), fds);
	munmap(host, 2 * RING);
}

static void test_wait_device(void **state)
{
	uint8_t *region = calloc(1, 2 * 8192);
	struct hv_uio_chan c = { .fd = -1 };
	uint32_t v = 5, got;
	int p[2];

	assert_non_null(region);
	assert_int_equal(hv_ring_init(&c.rx, region + 8192, 8192), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);

	/* Device reads: exactly 4 bytes, native endian. */
	c.fd = p[0];
	assert_int_equal(hv_uio_wait(&c), -EAGAIN);
	assert_int_equal(write(p[1], &v, 4), 4);
	assert_int_equal(hv_uio_wait(&c), 5);
	assert_int_equal(write(p[1], &v, 2), 2);
	assert_int_equal(hv_uio_wait(&c), -EBADMSG);

	/* Device writes: 4 bytes of 1, RX unmasked first. */
	region[8192 + 8] = 1;
	c.fd = p[1];
	assert_int_equal(hv_uio_signal(&c), 0);
	assert_int_equal(region[8192 + 8], 0);
	assert_int_equal(read(p[0], &got, sizeof(got)), 4);
	assert_int_equal(got, 1);

	close(p[1]);
	c.fd = p[0];
	assert_int_equal(hv_uio_wait(&c), -EIO);
	close(p[0]);

	c.fd = -1;
	assert_int_equal(hv_uio_wait(&c), -EBADF);
	assert_int_equal(hv_uio_signal(&c), -EBADF);
	free(region);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_find_by_class),	    T(test_find_first_instance),
		T(test_find_by_instance),   T(test_find_not_found),
		T(test_find_no_uio),	    T(test_find_ring_file),
		T(test_find_bad_sizes),	    T(test_open_socket),
		T(test_open_socket_errors), T(test_open_file),
		T(test_wait_device),
	};
#undef T

	return cmocka_run_group_tests_name("uio", tests, NULL, NULL);
}
