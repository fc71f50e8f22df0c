/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The UIO channel simulator against a guest written here from §1.1 and
 * §5.3 with raw socket and memory accesses (not libhvis).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvsim.h"

#define INSTANCE "1c5e8a22-93a0-4b1e-9d3f-0a1b2c3d4e5f"
#define TX 0
#define RX 1

struct fx {
	char root[64];
	struct hvsim_uio *u;
};

struct guest {
	int fd;
	uint8_t *mem;
	uint32_t R, D;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->root, "/tmp/hvsim-uio.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	*state = f;
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(p);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	hvsim_uio_free(f->u);
	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static struct hvsim_uio *make(struct fx *f, uint32_t ring_size)
{
	assert_int_equal(hvsim_uio_new(f->root, HV_GUID_FCOPY, INSTANCE, 3,
				       ring_size, &f->u),
			 0);
	return f->u;
}

/* ---- the test-local guest ---- */

static int g_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* The open status and the memfd, if one came along. */
static long g_status(int fd, int *memfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	uint8_t b[8];
	struct iovec iov = { .iov_base = b, .iov_len = sizeof(b) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *cm;
	ssize_t n;

	*memfd = -1;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n != 4)
		return -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(memfd, CMSG_DATA(cm), sizeof(int));
	return (long)(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24);
}

static void g_open(struct fx *f, struct guest *g)
{
	struct stat st;
	int memfd;

	g->fd = g_connect(hvsim_uio_dev_path(f->u));
	assert_int_equal(hvsim_uio_wait_open(f->u, 2000), 0);
	assert_int_equal(g_status(g->fd, &memfd), 0);
	assert_true(memfd >= 0);
	assert_int_equal(fstat(memfd, &st), 0);
	g->R = hvsim_uio_ring_size(f->u);
	g->D = g->R - 4096;
	assert_int_equal(st.st_size, 2 * (off_t)g->R);
	g->mem = mmap(NULL, 2 * (size_t)g->R, PROT_READ | PROT_WRITE,
		      MAP_SHARED, memfd, 0);
	assert_true(g->mem != MAP_FAILED);
	close(memfd);
}

static void g_close(struct guest *g)
{
	munmap(g->mem, 2 * (size_t)g->R);
	close(g->fd);
}

static uint8_t *g_ring(struct guest *g, int ring)
{
	return g->mem + (ring == TX ? 0 : g->R);
}

static uint32_t g_get(struct guest *g, int ring, unsigned off)
{
	uint32_t v;

	memcpy(&v, g_ring(g, ring) + off, 4);
	return v;
}

static void g_set(struct guest *g, int ring, unsigned off, uint32_t v)
{
	memcpy(g_ring(g, ring) + off, &v, 4);
}

#define WI 0
#define RI 4
#define IMASK 8
#define PENDING 12
#define FEAT 64

static void g_copy_out(struct guest *g, int ring, uint32_t pos, void *dst,
		       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		((uint8_t *)dst)[i] = g_ring(g, ring)[4096 + (pos + i) % g->D];
}

static void g_copy_in(struct guest *g, int ring, uint32_t pos, const void *src,
		      size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		g_ring(g, ring)[4096 + (pos + i) % g->D] =
			((const uint8_t *)src)[i];
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Read one packet from RX as §1.1 says; returns the payload length. */
static size_t g_rx_read(struct guest *g, uint8_t *desc, uint8_t *payload,
			size_t size)
{
	uint32_t r = g_get(g, RX, RI), w = g_get(g, RX, WI);
	uint8_t trailer[8];
	size_t len8, plen;

	assert_int_not_equal(r, w);
	g_copy_out(g, RX, r, desc, 16);
	assert_int_equal(desc[2] | desc[3] << 8, 2);
	len8 = desc[4] | desc[5] << 8;
	plen = len8 * 8 - 16;
	assert_true(plen <= size);
	g_copy_out(g, RX, r + 16, payload, plen);
	g_copy_out(g, RX, r + (uint32_t)len8 * 8, trailer, 8);
	assert_int_equal(le64(trailer), (uint64_t)r << 32);
	g_set(g, RX, RI, (r + (uint32_t)len8 * 8 + 8) % g->D);
	return plen;
}

/* Write raw bytes at TX write_index and publish n of them. */
static void g_tx_raw(struct guest *g, const void *bytes, size_t n,
		     uint32_t advance)
{
	uint32_t w = g_get(g, TX, WI);

	g_copy_in(g, TX, w, bytes, n);
	g_set(g, TX, WI, (w + advance) % g->D);
}

/* A well-formed guest packet; returns its total size in the ring. */
static size_t g_tx_write(struct guest *g, uint16_t type, uint16_t flags,
			 uint64_t tid, const void *payload, size_t len)
{
	uint8_t pkt[2048] = { 0 };
	size_t padded = (len + 7) & ~(size_t)7, total = 16 + padded + 8;
	uint32_t w = g_get(g, TX, WI);

	assert_true(total <= sizeof(pkt));
	pkt[0] = (uint8_t)type;
	pkt[1] = (uint8_t)(type >> 8);
	pkt[2] = 2;
	pkt[4] = (uint8_t)((16 + padded) / 8);
	pkt[5] = (uint8_t)((16 + padded) / 8 >> 8);
	pkt[6] = (uint8_t)flags;
	put64(pkt + 8, tid);
	memcpy(pkt + 16, payload, len);
	put64(pkt + 16 + padded, (uint64_t)w << 32);
	g_tx_raw(g, pkt, total, (uint32_t)total);
	return total;
}

static void g_write(struct guest *g, uint32_t v)
{
	assert_int_equal(send(g->fd, &v, sizeof(v), MSG_NOSIGNAL), 4);
}

/* An interrupt record: the count, -1 if none within timeout, 0 at EOF. */
static long g_irq(struct guest *g, int timeout_ms)
{
	struct pollfd p = { .fd = g->fd, .events = POLLIN };
	uint32_t v;
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	n = recv(g->fd, &v, sizeof(v), MSG_DONTWAIT);
	if (n == 0)
		return 0;
	assert_int_equal(n, 4);
	return v;
}

static void read_file(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "re");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, size - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

/* ---- tests ---- */

static void test_sysfs_tree(void **state)
{
	struct fx *f = *state;
	char p[512], buf[128];
	struct stat st;
	struct hvsim_uio *bad = NULL;

	make(f, 0x5000);
	snprintf(p, sizeof(p), "%s/sys/bus/vmbus/devices/%s/class_id", f->root,
		 INSTANCE);
	read_file(p, buf, sizeof(buf));
	assert_string_equal(buf, "{34d14be3-dee4-41c8-9ae7-6b174977c192}\n");
	snprintf(p, sizeof(p), "%s/sys/bus/vmbus/devices/%s/device_id", f->root,
		 INSTANCE);
	read_file(p, buf, sizeof(buf));
	assert_string_equal(buf, "{" INSTANCE "}\n");
	snprintf(p, sizeof(p),
		 "%s/sys/bus/vmbus/devices/%s/uio/uio3/maps/map0/size", f->root,
		 INSTANCE);
	read_file(p, buf, sizeof(buf));
	assert_string_equal(buf, "0xa000\n");
	snprintf(p, sizeof(p), "%s/sys/bus/vmbus/devices/%s/channels/%u/ring",
		 f->root, INSTANCE, hvsim_uio_relid(f->u));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 0xa000);
	snprintf(p, sizeof(p), "%s/dev/uio3", f->root);
	assert_string_equal(hvsim_uio_dev_path(f->u), p);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));

	assert_int_equal(hvsim_uio_new(f->root, "not-a-guid", INSTANCE, 4,
				       0x5000, &bad),
			 -EINVAL);
	assert_int_equal(hvsim_uio_new(f->root, HV_GUID_FCOPY, "../x", 4,
				       0x5000, &bad),
			 -EINVAL);
	assert_int_equal(hvsim_uio_new(f->root, HV_GUID_FCOPY, INSTANCE, 4,
				       0x1000, &bad),
			 -EINVAL);
	assert_int_equal(hvsim_uio_new(f->root, HV_GUID_FCOPY, INSTANCE, 4,
				       0x5008, &bad),
			 -EINVAL);
	assert_null(bad);
}

static void test_open(void **state)
{
	struct fx *f = *state;
	struct guest g;
	int fd2, memfd;

	make(f, 0x5000);
	g_open(f, &g);
	/* §5.3: first open masks the inbound ring; feature bit set. */
	assert_int_equal(g_get(&g, RX, IMASK), 1);
	assert_int_equal(g_get(&g, TX, IMASK), 0);
	assert_int_equal(g_get(&g, TX, FEAT) & 1, 1);
	assert_int_equal(g_get(&g, RX, FEAT) & 1, 1);
	assert_int_equal(g_get(&g, TX, WI), 0);
	assert_int_equal(g_get(&g, RX, RI), 0);
	assert_true(hvsim_uio_is_open(f->u));

	fd2 = g_connect(hvsim_uio_dev_path(f->u));
	assert_int_equal(hvsim_uio_run(f->u, 0), 0);
	assert_int_equal(g_status(fd2, &memfd), EBUSY);
	assert_int_equal(memfd, -1);
	assert_int_equal(hvsim_uio_stats(f->u)->rejected, 1);
	close(fd2);
	g_close(&g);
	assert_int_equal(hvsim_uio_wait_closed(f->u, 2000), 0);
	assert_int_equal(hvsim_uio_stats(f->u)->closes, 1);
}

static void test_packet_bytes(void **state)
{
	struct fx *f = *state;
	struct hvsim_ic_msg m = { .msgtype = ICMSGTYPE_HEARTBEAT,
				  .txid = 1,
				  .fw_version = HV_IC_VERSION(3, 0),
				  .msg_version = HV_IC_VERSION(3, 0) };
	uint8_t ic[64], *rx;
	struct guest g;
	ssize_t n;

	make(f, 0x5000);
	g_open(f, &g);
	rx = g.mem + g.R + 4096;
	/* Old contents: padding must be written, not left over. */
	memset(rx, 0xff, 256);
	n = hvsim_ic_build(ic, sizeof(ic), &m, "hello", 5);
	assert_int_equal(n, 33);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 1,
					0x1122334455667788ull, ic, 33),
			 0);

	/* Descriptor: type 6, offset8 2, len8 (16 + 40) / 8, flags 1. */
	static const uint8_t desc[16] = { 6,	0,    2,    0,	  7,	0,
					  1,	0,    0x88, 0x77, 0x66, 0x55,
					  0x44, 0x33, 0x22, 0x11 };
	assert_memory_equal(rx, desc, 16);
	assert_memory_equal(rx + 16, ic, 33);
	/* Zero padding to 8, then trailer = 0 << 32. */
	static const uint8_t zero[15] = { 0 };
	assert_memory_equal(rx + 49, zero, 7);
	assert_memory_equal(rx + 56, zero, 8);
	assert_int_equal(g_get(&g, RX, WI), 64);

	/* The next packet's trailer holds its start (64) in the high half. */
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 2, ic, 28),
			 0);
	static const uint8_t tr2[8] = { 0, 0, 0, 0, 64, 0, 0, 0 };
	assert_memory_equal(rx + 64 + 16 + 32, tr2, 8);
	assert_int_equal(g_get(&g, RX, WI), 64 + 56);
	assert_int_equal(hvsim_uio_ring_used(f->u, HVSIM_RING_RX), 120);
	assert_int_equal(hvsim_uio_stats(f->u)->pkts_to_guest, 2);
	g_close(&g);
}

static void test_interrupt_mask(void **state)
{
	struct fx *f = *state;
	uint8_t d[16], p[64];
	struct guest g;

	make(f, 0x5000);
	g_open(f, &g);

	/* Masked at open: no interrupt. */
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 1, "a", 1),
			 0);
	assert_int_equal(g_irq(&g, 0), -1);
	assert_int_equal(hvsim_uio_stats(f->u)->interrupts, 0);

	/* Unmasking signals the host but replays nothing: re-check rings. */
	g_write(&g, 1);
	assert_int_equal(hvsim_uio_wait_signal(f->u, 2000), 0);
	assert_int_equal(g_get(&g, RX, IMASK), 0);
	assert_int_equal(hvsim_uio_stats(f->u)->guest_signals, 1);
	assert_int_equal(g_irq(&g, 0), -1);

	/* Unmasked: one interrupt, and the ISR masks again. */
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 2, "b", 1),
			 0);
	assert_int_equal(g_irq(&g, 2000), 1);
	assert_int_equal(g_get(&g, RX, IMASK), 1);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 3, "c", 1),
			 0);
	assert_int_equal(g_irq(&g, 0), -1);
	assert_int_equal(hvsim_uio_stats(f->u)->interrupts, 1);

	assert_int_equal(g_rx_read(&g, d, p, sizeof(p)), 8);
	assert_int_equal(p[0], 'a');
	assert_int_equal(g_rx_read(&g, d, p, sizeof(p)), 8);
	assert_int_equal(p[0], 'b');
	assert_int_equal(g_rx_read(&g, d, p, sizeof(p)), 8);
	assert_int_equal(p[0], 'c');
	assert_int_equal(d[8], 3);

	/* Writing 0 masks. */
	g_write(&g, 1);
	assert_int_equal(hvsim_uio_wait_signal(f->u, 2000), 0);
	g_write(&g, 0);
	assert_int_equal(hvsim_uio_run(f->u, 50), 0);
	assert_int_equal(g_get(&g, RX, IMASK), 1);
	assert_int_equal(hvsim_uio_stats(f->u)->guest_masks, 1);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 4, "d", 1),
			 0);
	assert_int_equal(g_irq(&g, 0), -1);

	/* The host's own signal gets through whatever the mask. */
	assert_int_equal(hvsim_uio_signal_guest(f->u), 0);
	assert_int_equal(g_irq(&g, 2000), 2);
	g_close(&g);
}

static void test_signal_on_empty_only(void **state)
{
	struct fx *f = *state;
	struct guest g;

	make(f, 0x5000);
	hvsim_uio_set_signal_on_empty_only(f->u, true);
	g_open(f, &g);
	g_write(&g, 1);
	assert_int_equal(hvsim_uio_wait_signal(f->u, 2000), 0);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 1, "a", 1),
			 0);
	assert_int_equal(g_irq(&g, 2000), 1);
	/* Re-armed without draining: the ring never went empty. */
	g_write(&g, 1);
	assert_int_equal(hvsim_uio_wait_signal(f->u, 2000), 0);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 2, "b", 1),
			 0);
	assert_int_equal(g_irq(&g, 0), -1);

	/* The default policy interrupts on any packet while unmasked. */
	hvsim_uio_set_signal_on_empty_only(f->u, false);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 3, "c", 1),
			 0);
	assert_int_equal(g_irq(&g, 2000), 2);
	g_close(&g);
}

static void test_recv(void **state)
{
	struct fx *f = *state;
	struct hv_pkt_desc d;
	uint8_t p[64];
	struct guest g;

	make(f, 0x5000);
	g_open(f, &g);
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, sizeof(p), 0), -EAGAIN);
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, sizeof(p), 20),
			 -ETIMEDOUT);

	g_tx_write(&g, VM_PKT_DATA_INBAND, 0, ~0ull, "0123456789", 10);
	g_write(&g, 1);
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, 8, 2000), -ENOBUFS);
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, sizeof(p), 2000), 16);
	assert_int_equal(d.type, VM_PKT_DATA_INBAND);
	assert_int_equal(d.offset8, 2);
	assert_int_equal(d.len8, 4);
	assert_int_equal(d.flags, 0);
	assert_true(d.trans_id == ~0ull);
	assert_memory_equal(p, "0123456789\0\0\0\0\0", 16);
	assert_int_equal(g_get(&g, TX, RI), 40);
	assert_int_equal(hvsim_uio_stats(f->u)->pkts_from_guest, 1);

	/* Two packets, one signal: both readable. */
	g_tx_write(&g, VM_PKT_DATA_INBAND, 1, 7, "x", 1);
	g_tx_write(&g, VM_PKT_DATA_INBAND, 0, 8, "y", 1);
	g_write(&g, 1);
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, sizeof(p), 2000), 8);
	assert_int_equal(d.flags, 1);
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, sizeof(p), 2000), 8);
	assert_true(d.trans_id == 8);
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, sizeof(p), 0), -EAGAIN);
	g_close(&g);
}

/* One malformed guest packet per fresh channel. */
static void bad_packet(struct fx *f, const uint8_t *bytes, size_t n,
		       uint32_t advance, enum hvsim_uio_error expect)
{
	struct hv_pkt_desc d;
	uint8_t p[256];
	struct guest g;

	make(f, 0x5000);
	g_open(f, &g);
	g_tx_raw(&g, bytes, n, advance);
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, sizeof(p), 0), -EBADMSG);
	assert_int_equal(hvsim_uio_last_error(f->u), expect);
	assert_true(strlen(hvsim_uio_last_error_str(f->u)) > 0);
	/* Nothing consumed. */
	assert_int_equal(g_get(&g, TX, RI), 0);
	g_close(&g);
	f->u = hvsim_uio_free(f->u);
}

static void test_recv_malformed(void **state)
{
	struct fx *f = *state;
	uint8_t good[32] = { 6, 0, 2, 0, 3, 0, 0, 0 }, b[32];
	struct hv_pkt_desc d;
	uint8_t p[64];
	struct guest g;

	/* Sanity: the base packet is accepted. */
	make(f, 0x5000);
	g_open(f, &g);
	g_tx_raw(&g, good, 32, 32);
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, sizeof(p), 0), 8);
	g_close(&g);
	f->u = hvsim_uio_free(f->u);

	memcpy(b, good, 32);
	b[2] = 3;
	bad_packet(f, b, 32, 32, HVSIM_UIO_ERR_BAD_OFFSET);
	memcpy(b, good, 32);
	b[4] = 4; /* 32 + 8 > 32 written */
	bad_packet(f, b, 32, 32, HVSIM_UIO_ERR_BAD_LEN);
	memcpy(b, good, 32);
	b[4] = 1; /* shorter than its own header */
	bad_packet(f, b, 32, 32, HVSIM_UIO_ERR_BAD_LEN);
	memcpy(b, good, 32);
	b[24] = 1; /* trailer */
	bad_packet(f, b, 32, 32, HVSIM_UIO_ERR_BAD_TRAILER);
	memcpy(b, good, 32);
	b[0] = VM_PKT_COMP;
	bad_packet(f, b, 32, 32, HVSIM_UIO_ERR_BAD_TYPE);
	memcpy(b, good, 32);
	b[6] = 2;
	bad_packet(f, b, 32, 32, HVSIM_UIO_ERR_BAD_FLAGS);
	bad_packet(f, good, 32, 28, HVSIM_UIO_ERR_BAD_INDEX);
	bad_packet(f, good, 16, 16, HVSIM_UIO_ERR_SHORT_PACKET);

	/* A write index outside the data area. */
	make(f, 0x5000);
	g_open(f, &g);
	g_set(&g, TX, WI, 0x4000);
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, sizeof(p), 0), -EBADMSG);
	assert_int_equal(hvsim_uio_last_error(f->u), HVSIM_UIO_ERR_BAD_INDEX);
	g_set(&g, TX, WI, 0);

	/* The guest must not move the host's read index. */
	g_set(&g, TX, RI, 8);
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, sizeof(p), 0), -EBADMSG);
	assert_int_equal(hvsim_uio_last_error(f->u),
			 HVSIM_UIO_ERR_INDEX_CHANGED);
	/* ...nor the host's write index, nor put its own out of range. */
	g_set(&g, RX, WI, 8);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 1, "a", 1),
			 -EBADMSG);
	assert_int_equal(hvsim_uio_last_error(f->u),
			 HVSIM_UIO_ERR_INDEX_CHANGED);
	g_set(&g, RX, WI, 0);
	g_set(&g, RX, RI, 0x4000);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 1, "a", 1),
			 -EBADMSG);
	assert_int_equal(hvsim_uio_last_error(f->u), HVSIM_UIO_ERR_BAD_INDEX);
	g_close(&g);
}

static void test_wrap_around(void **state)
{
	struct fx *f = *state;
	uint8_t d[16], p[512], msg[300];
	struct hv_pkt_desc desc;
	uint32_t start = 0x4000 - 24, pos;
	struct guest g;
	size_t i, k;

	make(f, 0x5000);
	/* Close to the end: the first descriptor itself wraps. */
	assert_int_equal(hvsim_uio_set_start_index(f->u, HVSIM_RING_RX, start),
			 0);
	assert_int_equal(
		hvsim_uio_set_start_index(f->u, HVSIM_RING_TX, 0x4000 - 8), 0);
	assert_int_equal(hvsim_uio_set_start_index(f->u, HVSIM_RING_TX, 3),
			 -EINVAL);
	assert_int_equal(hvsim_uio_set_start_index(f->u, HVSIM_RING_TX, 0x4000),
			 -EINVAL);
	g_open(f, &g);
	assert_int_equal(g_get(&g, RX, WI), start);
	assert_int_equal(g_get(&g, RX, RI), start);
	assert_int_equal(hvsim_uio_set_start_index(f->u, HVSIM_RING_RX, 0),
			 -EBUSY);

	pos = start;
	for (k = 0; k < 40; k++) {
		size_t len = 1 + (k * 37) % sizeof(msg);

		for (i = 0; i < len; i++)
			msg[i] = (uint8_t)(k + i);
		assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, k,
						msg, len),
				 0);
		/* g_rx_read checks the trailer against the start position. */
		assert_int_equal(g_rx_read(&g, d, p, sizeof(p)),
				 (len + 7) & ~(size_t)7);
		assert_memory_equal(p, msg, len);
		assert_int_equal(d[8], k);
		pos = (uint32_t)((pos + 16 + ((len + 7) & ~(size_t)7) + 8) %
				 g.D);
		assert_int_equal(g_get(&g, RX, WI), pos);

		g_tx_write(&g, VM_PKT_DATA_INBAND, 0, k, msg, len);
		g_write(&g, 1);
		assert_int_equal(hvsim_uio_recv(f->u, &desc, p, sizeof(p),
						2000),
				 (len + 7) & ~(size_t)7);
		assert_memory_equal(p, msg, len);
		assert_true(desc.trans_id == k);
	}
	assert_true(hvsim_uio_stats(f->u)->pkts_to_guest == 40);
	g_close(&g);
}

static void test_ring_full(void **state)
{
	struct fx *f = *state;
	static uint8_t big[4096];
	uint8_t d[16], p[1024];
	struct guest g;

	/* 4096 data bytes: three 1024-byte packets leave exactly 1024. */
	make(f, 8192);
	g_open(f, &g);
	assert_int_equal(
		hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 1, big, 1000), 0);
	assert_int_equal(
		hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 2, big, 1000), 0);
	assert_int_equal(
		hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 3, big, 1000), 0);
	assert_int_equal(hvsim_uio_ring_used(f->u, HVSIM_RING_RX), 3072);
	/* Free space equal to the packet is not enough: never full. */
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 4, big,
					1000),
			 -EAGAIN);
	assert_int_equal(g_get(&g, RX, PENDING), 1024);
	assert_int_equal(hvsim_uio_stats(f->u)->send_full, 1);
	assert_int_equal(
		hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 4, big, 992), 0);
	assert_int_equal(g_get(&g, RX, PENDING), 0);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 5, big, 1),
			 -EAGAIN);

	assert_int_equal(g_rx_read(&g, d, p, sizeof(p)), 1000);
	assert_int_equal(
		hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 5, big, 1000), 0);
	/* Too big for this ring at all. */
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 6, big,
					4096 - 24),
			 -EMSGSIZE);
	g_close(&g);
}

static void test_pending_send_sz(void **state)
{
	struct fx *f = *state;
	static uint8_t big[1000];
	struct hv_pkt_desc d;
	static uint8_t p[1024];
	struct guest g;

	make(f, 8192);
	g_open(f, &g);
	g_tx_write(&g, VM_PKT_DATA_INBAND, 0, 1, big, 1000);
	g_tx_write(&g, VM_PKT_DATA_INBAND, 0, 2, big, 1000);
	g_tx_write(&g, VM_PKT_DATA_INBAND, 0, 3, big, 1000);
	/* The guest needs 1500 bytes and waits (masked). */
	g_set(&g, TX, PENDING, 1500);
	assert_int_equal(g_get(&g, RX, IMASK), 1);
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, sizeof(p), 0), 1000);
	assert_int_equal(g_irq(&g, 2000), 1);
	/* Already above the mark: no second interrupt. */
	assert_int_equal(hvsim_uio_recv(f->u, &d, p, sizeof(p), 0), 1000);
	assert_int_equal(g_irq(&g, 0), -1);
	assert_int_equal(hvsim_uio_stats(f->u)->interrupts, 1);
	g_close(&g);
}

static void test_rescind_and_reopen(void **state)
{
	struct fx *f = *state;
	struct guest g;
	int fd, memfd;

	make(f, 0x5000);
	g_open(f, &g);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 1, "a", 1),
			 0);
	g_set(&g, RX, IMASK, 0);
	g_close(&g);
	assert_int_equal(hvsim_uio_wait_closed(f->u, 2000), 0);
	/* The ring is disconnected until the next open. */
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 1, "a", 1),
			 -ENOTCONN);

	/* Reopen: fresh rings, masked again. */
	g_open(f, &g);
	assert_int_equal(g_get(&g, RX, WI), 0);
	assert_int_equal(g_get(&g, RX, IMASK), 1);
	assert_int_equal(hvsim_uio_stats(f->u)->opens, 2);

	assert_int_equal(hvsim_uio_rescind(f->u), 0);
	assert_int_equal(g_irq(&g, 2000), 0);
	assert_int_equal(hvsim_uio_send(f->u, VM_PKT_DATA_INBAND, 0, 1, "a", 1),
			 -ENODEV);
	fd = g_connect(hvsim_uio_dev_path(f->u));
	assert_int_equal(hvsim_uio_run(f->u, 0), 0);
	assert_int_equal(g_status(fd, &memfd), ENODEV);
	assert_int_equal(memfd, -1);
	close(fd);
	g_close(&g);
}

static void test_bad_write(void **state)
{
	struct fx *f = *state;
	struct guest g;

	make(f, 0x5000);
	g_open(f, &g);
	assert_int_equal(send(g.fd, "ab", 2, MSG_NOSIGNAL), 2);
	assert_int_equal(hvsim_uio_wait_closed(f->u, 2000), 0);
	assert_int_equal(hvsim_uio_last_error(f->u), HVSIM_UIO_ERR_BAD_WRITE);
	assert_int_equal(g_irq(&g, 2000), 0);
	g_close(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sysfs_tree, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packet_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_mask, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_signal_on_empty_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_recv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recv_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrap_around, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pending_send_sz, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rescind_and_reopen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_write, setup,
						teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("hvsim-uio", tests, NULL, NULL);
}
