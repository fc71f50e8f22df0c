/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host end of a VMBus channel plus what uio_hv_generic does for the
 * guest (protocol.md §1.1, §5.3, §6.1). The rings live in a memfd shared
 * with the guest; the socket carries the 4-byte interrupt reads and writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvsim-internal.h"

#define PKT_DESC_SIZE 16u

struct hvsim_uio {
	char *dev_path;
	int listen_fd;
	int conn_fd;
	int mem_fd;
	uint8_t *mem;
	uint32_t ring_size; /* R, per direction incl. header */
	uint32_t data_size; /* R - 4096 */
	uint32_t relid;
	uint32_t start_index[HVSIM_RING_MAX];
	uint32_t tx_read; /* host's copy of the TX read_index it owns */
	uint32_t rx_write; /* host's copy of the RX write_index it owns */
	bool stale; /* guest closed: rings are reset on the next open */
	bool rescinded;
	bool busy; /* a phantom opener holds the device */
	bool empty_only;
	uint32_t event_count;
	enum hvsim_uio_error last_error;
	char last_error_str[256];
	struct hvsim_uio_stats stats;
};

static const char *const error_names[HVSIM_UIO_ERR_MAX] = {
	[HVSIM_UIO_ERR_NONE] = "none",
	[HVSIM_UIO_ERR_BAD_WRITE] = "bad-write",
	[HVSIM_UIO_ERR_BAD_INDEX] = "bad-index",
	[HVSIM_UIO_ERR_INDEX_CHANGED] = "index-changed",
	[HVSIM_UIO_ERR_SHORT_PACKET] = "short-packet",
	[HVSIM_UIO_ERR_BAD_OFFSET] = "bad-offset8",
	[HVSIM_UIO_ERR_BAD_LEN] = "bad-len8",
	[HVSIM_UIO_ERR_BAD_TYPE] = "bad-type",
	[HVSIM_UIO_ERR_BAD_FLAGS] = "bad-flags",
	[HVSIM_UIO_ERR_BAD_TRAILER] = "bad-trailer",
	[HVSIM_UIO_ERR_IO] = "io",
};

const char *hvsim_uio_error_name(enum hvsim_uio_error err)
{
	if ((unsigned)err >= HVSIM_UIO_ERR_MAX)
		return "?";
	return error_names[err];
}

static int HV_PRINTF(3, 4)
	uio_fail(struct hvsim_uio *u, enum hvsim_uio_error err, const char *fmt,
		 ...)
{
	va_list ap;

	u->last_error = err;
	va_start(ap, fmt);
	vsnprintf(u->last_error_str, sizeof(u->last_error_str), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/*
 * Header fields are reached by offset: the mapping is page aligned, so
 * each u32 is aligned, and the other side is another process, so every
 * access is atomic.
 */
#define OFF_WRITE_INDEX 0u
#define OFF_READ_INDEX 4u
#define OFF_INTERRUPT_MASK 8u
#define OFF_PENDING_SEND_SZ 12u
#define OFF_FEATURE_BITS 64u

static uint8_t *ring_base(const struct hvsim_uio *u, enum hvsim_ring ring)
{
	return u->mem + (ring == HVSIM_RING_TX ? 0 : u->ring_size);
}

static uint32_t *ring_field(const struct hvsim_uio *u, enum hvsim_ring ring,
			    unsigned off)
{
	return (uint32_t *)(void *)(ring_base(u, ring) + off);
}

static uint32_t ring_load(const struct hvsim_uio *u, enum hvsim_ring ring,
			  unsigned off)
{
	return __atomic_load_n(ring_field(u, ring, off), __ATOMIC_ACQUIRE);
}

static void ring_store(const struct hvsim_uio *u, enum hvsim_ring ring,
		       unsigned off, uint32_t v)
{
	__atomic_store_n(ring_field(u, ring, off), v, __ATOMIC_RELEASE);
}

static uint8_t *ring_data(const struct hvsim_uio *u, enum hvsim_ring ring)
{
	return ring_base(u, ring) + HV_RING_HDR_SIZE;
}

/* Copy into a ring's data area at pos, wrapping; returns the new pos. */
static uint32_t ring_put(const struct hvsim_uio *u, enum hvsim_ring ring,
			 uint32_t pos, const void *src, size_t len)
{
	uint8_t *data = ring_data(u, ring);
	size_t first = HV_MIN(len, (size_t)(u->data_size - pos));

	if (src) {
		memcpy(data + pos, src, first);
		memcpy(data, (const uint8_t *)src + first, len - first);
	} else {
		memset(data + pos, 0, first);
		memset(data, 0, len - first);
	}
	return (uint32_t)((pos + len) % u->data_size);
}

static uint32_t ring_get(const struct hvsim_uio *u, enum hvsim_ring ring,
			 uint32_t pos, void *dst, size_t len)
{
	const uint8_t *data = ring_data(u, ring);
	size_t first = HV_MIN(len, (size_t)(u->data_size - pos));

	memcpy(dst, data + pos, first);
	memcpy((uint8_t *)dst + first, data, len - first);
	return (uint32_t)((pos + len) % u->data_size);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	hv_put_le32(p, (uint32_t)v);
	hv_put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)hv_le32(p) | (uint64_t)hv_le32(p + 4) << 32;
}

static void ring_init(struct hvsim_uio *u, enum hvsim_ring ring)
{
	uint32_t start = u->start_index[ring];

	memset(ring_base(u, ring), 0, HV_RING_HDR_SIZE);
	ring_store(u, ring, OFF_WRITE_INDEX, start);
	ring_store(u, ring, OFF_READ_INDEX, start);
	ring_store(u, ring, OFF_FEATURE_BITS, HV_RING_FEAT_PENDING_SEND_SZ);
	if (ring == HVSIM_RING_TX)
		u->tx_read = start;
	else
		u->rx_write = start;
}

/* What the guest's ISR does: mask, count, wake the reader. */
static int uio_interrupt(struct hvsim_uio *u)
{
	uint32_t count;
	ssize_t n;

	if (u->conn_fd < 0)
		return -ENOTCONN;
	ring_store(u, HVSIM_RING_RX, OFF_INTERRUPT_MASK, 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	count = ++u->event_count;
	u->stats.interrupts++;
	n = send(u->conn_fd, &count, sizeof(count),
		 MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n != (ssize_t)sizeof(count))
		return n < 0 ? -errno : -EIO;
	return 0;
}

static void uio_disconnect(struct hvsim_uio *u)
{
	if (u->conn_fd < 0)
		return;
	close(u->conn_fd);
	u->conn_fd = -1;
	/* §5.3: the last close disconnects the ring. */
	u->stale = true;
}

/* The 4-byte write of uio_hv_generic (§5.3). */
static int uio_on_write(struct hvsim_uio *u, const uint8_t *buf, size_t len)
{
	uint32_t v;

	if (len != sizeof(v)) {
		uio_fail(u, HVSIM_UIO_ERR_BAD_WRITE,
			 "%zu-byte write to the uio device", len);
		return -EINVAL;
	}
	memcpy(&v, buf, sizeof(v));
	ring_store(u, HVSIM_RING_RX, OFF_INTERRUPT_MASK, v ? 0 : 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (v)
		u->stats.guest_signals++;
	else
		u->stats.guest_masks++;
	return 0;
}

static void uio_drain(struct hvsim_uio *u)
{
	uint8_t buf[64];

	while (u->conn_fd >= 0) {
		ssize_t n = recv(u->conn_fd, buf, sizeof(buf),
				 MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno != ECONNRESET)
				uio_fail(u, HVSIM_UIO_ERR_IO, "recv: %s",
					 strerror(errno));
			uio_disconnect(u);
			u->stats.closes++;
			return;
		}
		if (n == 0 && hvsim_peer_gone(u->conn_fd)) {
			uio_disconnect(u);
			u->stats.closes++;
			return;
		}
		/* A refused write cannot return EINVAL: drop the guest. */
		if (uio_on_write(u, buf, (size_t)n) < 0) {
			uio_disconnect(u);
			return;
		}
	}
}

static void uio_accept(struct hvsim_uio *u)
{
	for (;;) {
		int fd = hvsim_accept(u->listen_fd);

		if (fd < 0)
			return;
		if (u->conn_fd >= 0 || u->rescinded || u->busy) {
			(void)hvsim_send_status(
				fd, u->rescinded ? ENODEV : EBUSY, -1);
			close(fd);
			u->stats.rejected++;
			continue;
		}
		if (u->stale) {
			ring_init(u, HVSIM_RING_TX);
			ring_init(u, HVSIM_RING_RX);
			u->stale = false;
		}
		/* §5.3: the first open connects and masks the inbound ring. */
		ring_store(u, HVSIM_RING_RX, OFF_INTERRUPT_MASK, 1);
		if (hvsim_send_status(fd, 0, u->mem_fd) < 0) {
			close(fd);
			continue;
		}
		u->conn_fd = fd;
		u->stats.opens++;
	}
}

static int uio_step(struct hvsim_uio *u, int timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = u->listen_fd, .events = POLLIN },
		{ .fd = u->conn_fd, .events = POLLIN },
	};
	nfds_t n = u->conn_fd >= 0 ? 2 : 1;

	if (poll(p, n, timeout_ms) < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 2 && p[1].revents)
		uio_drain(u);
	if (p[0].revents & POLLIN)
		uio_accept(u);
	return 0;
}

typedef bool (*uio_cond)(const struct hvsim_uio *u, unsigned arg);

static int uio_wait(struct hvsim_uio *u, int timeout_ms, uio_cond done,
		    unsigned arg)
{
	int64_t deadline = hvsim_deadline(timeout_ms);

	for (;;) {
		int left, r;

		if (done && done(u, arg))
			return 0;
		left = hvsim_remaining(deadline);
		if (left == 0 && timeout_ms != 0)
			return done ? -ETIMEDOUT : 0;
		r = uio_step(u, left);
		if (r < 0)
			return r;
		if (timeout_ms == 0)
			return done && !done(u, arg) ? -ETIMEDOUT : 0;
	}
}

static bool is_guid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
			return false;
	}
	return true;
}

static int tree_file(const char *dir, const char *rel, const char *content)
{
	char p[4096];

	if (hvsim_fmt(p, sizeof(p), "%s/%s", dir, rel) < 0)
		return -ENAMETOOLONG;
	return hvsim_write_file(p, content);
}

static int uio_make_tree(struct hvsim_uio *u, const char *root,
			 const char *class_guid, const char *instance,
			 unsigned idx)
{
	static const struct {
		const char *leaf, *content;
	} maps[] = {
		{ "maps/map0/offset", "0x0\n" },
		{ "maps/map0/name", "txrx_rings\n" },
		{ "name", "uio_hv_generic\n" },
	};
	char dev[4096], uio[4096], p[4096], v[64];
	_cleanup_close_ int fd = -1;
	uint32_t both = 2 * u->ring_size;
	size_t i;
	int r;

	if (hvsim_fmt(dev, sizeof(dev), "%s/sys/bus/vmbus/devices/%s", root,
		      instance) < 0 ||
	    hvsim_fmt(uio, sizeof(uio), "%s/uio/uio%u", dev, idx) < 0 ||
	    hvsim_fmt(p, sizeof(p), "%s/maps/map0", uio) < 0)
		return -ENAMETOOLONG;
	r = hvsim_mkdir_p(p, 0755);
	if (r < 0)
		return r;
	hvsim_fmt(v, sizeof(v), "0x%x\n", both);
	r = tree_file(uio, "maps/map0/size", v);
	for (i = 0; r >= 0 && i < ARRAY_SIZE(maps); i++)
		r = tree_file(uio, maps[i].leaf, maps[i].content);
	if (r < 0)
		return r;
	hvsim_fmt(v, sizeof(v), "{%s}\n", class_guid);
	r = tree_file(dev, "class_id", v);
	if (r < 0)
		return r;
	hvsim_fmt(v, sizeof(v), "{%s}\n", instance);
	r = tree_file(dev, "device_id", v);
	if (r < 0)
		return r;

	if (hvsim_fmt(p, sizeof(p), "%s/channels/%u", dev, u->relid) < 0)
		return -ENAMETOOLONG;
	r = hvsim_mkdir_p(p, 0755);
	if (r < 0)
		return r;
	if (hvsim_fmt(p, sizeof(p), "%s/channels/%u/ring", dev, u->relid) < 0)
		return -ENAMETOOLONG;
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, both) < 0)
		return -errno;
	if (hvsim_fmt(p, sizeof(p), "%s/dev", root) < 0)
		return -ENAMETOOLONG;
	return hvsim_mkdir_p(p, 0755);
}

int hvsim_uio_new(const char *root, const char *class_guid,
		  const char *instance, unsigned uio_index, uint32_t ring_size,
		  struct hvsim_uio **ret)
{
	struct hvsim_uio *u;
	char path[4096];
	int r;

	if (!root || !class_guid || !instance || !ret)
		return -EINVAL;
	if (!is_guid(class_guid) || !is_guid(instance))
		return -EINVAL;
	if (ring_size < 2 * HV_RING_HDR_SIZE || ring_size % 4096 ||
	    ring_size > (1u << 30))
		return -EINVAL;
	if (hvsim_fmt(path, sizeof(path), "%s/dev/uio%u", root, uio_index) < 0)
		return -ENAMETOOLONG;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->listen_fd = -1;
	u->conn_fd = -1;
	u->mem_fd = -1;
	u->mem = MAP_FAILED;
	u->ring_size = ring_size;
	u->data_size = ring_size - HV_RING_HDR_SIZE;
	/* Any small number will do; the guest must read it from sysfs. */
	u->relid = 16 + uio_index;

	r = uio_make_tree(u, root, class_guid, instance, uio_index);
	if (r < 0)
		goto fail;
	u->mem_fd = memfd_create("hvsim-rings", MFD_CLOEXEC);
	if (u->mem_fd < 0) {
		r = -errno;
		goto fail;
	}
	if (ftruncate(u->mem_fd, 2 * (off_t)ring_size) < 0) {
		r = -errno;
		goto fail;
	}
	u->mem = mmap(NULL, 2 * (size_t)ring_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, u->mem_fd, 0);
	if (u->mem == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	ring_init(u, HVSIM_RING_TX);
	ring_init(u, HVSIM_RING_RX);
	r = hvsim_listen(path, &u->listen_fd);
	if (r < 0)
		goto fail;
	u->dev_path = strdup(path);
	if (!u->dev_path) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = u;
	return 0;
fail:
	if (u->listen_fd >= 0)
		unlink(path);
	hvsim_uio_free(u);
	return r;
}

struct hvsim_uio *hvsim_uio_free(struct hvsim_uio *u)
{
	if (!u)
		return NULL;
	if (u->conn_fd >= 0)
		close(u->conn_fd);
	if (u->listen_fd >= 0)
		close(u->listen_fd);
	if (u->dev_path)
		unlink(u->dev_path);
	if (u->mem != MAP_FAILED)
		munmap(u->mem, 2 * (size_t)u->ring_size);
	if (u->mem_fd >= 0)
		close(u->mem_fd);
	free(u->dev_path);
	free(u);
	return NULL;
}

uint32_t hvsim_uio_ring_used(const struct hvsim_uio *u, enum hvsim_ring ring)
{
	uint32_t w = ring_load(u, ring, OFF_WRITE_INDEX);
	uint32_t r = ring_load(u, ring, OFF_READ_INDEX);

	if (w >= u->data_size || r >= u->data_size)
		return 0;
	return (w + u->data_size - r) % u->data_size;
}

int hvsim_uio_set_start_index(struct hvsim_uio *u, enum hvsim_ring ring,
			      uint32_t index)
{
	if ((unsigned)ring >= HVSIM_RING_MAX || index >= u->data_size ||
	    index % 8)
		return -EINVAL;
	if (u->conn_fd >= 0 || hvsim_uio_ring_used(u, ring) != 0)
		return -EBUSY;
	u->start_index[ring] = index;
	ring_init(u, ring);
	return 0;
}

void hvsim_uio_set_signal_on_empty_only(struct hvsim_uio *u, bool on)
{
	u->empty_only = on;
}

int hvsim_uio_run(struct hvsim_uio *u, int timeout_ms)
{
	if (timeout_ms < 0)
		return -EINVAL;
	return uio_wait(u, timeout_ms, NULL, 0);
}

static bool cond_open(const struct hvsim_uio *u, unsigned arg)
{
	return u->conn_fd >= 0;
}

static bool cond_closed(const struct hvsim_uio *u, unsigned arg)
{
	return u->conn_fd < 0;
}

static bool cond_signal(const struct hvsim_uio *u, unsigned arg)
{
	return u->stats.guest_signals != arg;
}

int hvsim_uio_wait_open(struct hvsim_uio *u, int timeout_ms)
{
	return uio_wait(u, timeout_ms, cond_open, 0);
}

int hvsim_uio_wait_closed(struct hvsim_uio *u, int timeout_ms)
{
	return uio_wait(u, timeout_ms, cond_closed, 0);
}

int hvsim_uio_wait_signal(struct hvsim_uio *u, int timeout_ms)
{
	return uio_wait(u, timeout_ms, cond_signal, u->stats.guest_signals);
}

int hvsim_uio_rescind(struct hvsim_uio *u)
{
	u->rescinded = true;
	uio_disconnect(u);
	return 0;
}

void hvsim_uio_set_busy(struct hvsim_uio *u, bool busy)
{
	u->busy = busy;
}

int hvsim_uio_signal_guest(struct hvsim_uio *u)
{
	return uio_interrupt(u);
}

int hvsim_uio_send(struct hvsim_uio *u, uint16_t type, uint16_t flags,
		   uint64_t trans_id, const void *payload, size_t len)
{
	uint8_t desc[PKT_DESC_SIZE], trailer[HV_RING_TRAILER_SIZE];
	uint32_t r, w, used, pos;
	size_t padded, pkt, total;

	if (u->rescinded)
		return -ENODEV;
	if (u->stale)
		return -ENOTCONN;
	if (len > u->data_size || (len && !payload))
		return -EMSGSIZE;
	padded = HV_ALIGN8(len);
	pkt = PKT_DESC_SIZE + padded;
	total = pkt + HV_RING_TRAILER_SIZE;
	/* §1.1: free space must exceed the packet, so D is never enough. */
	if (pkt / 8 > UINT16_MAX || total >= u->data_size)
		return -EMSGSIZE;

	r = ring_load(u, HVSIM_RING_RX, OFF_READ_INDEX);
	if (r >= u->data_size || r % 8)
		return uio_fail(u, HVSIM_UIO_ERR_BAD_INDEX,
				"guest RX read_index %u (data size %u)", r,
				u->data_size);
	w = ring_load(u, HVSIM_RING_RX, OFF_WRITE_INDEX);
	if (w != u->rx_write)
		return uio_fail(u, HVSIM_UIO_ERR_INDEX_CHANGED,
				"RX write_index is %u, host wrote %u", w,
				u->rx_write);
	used = (w + u->data_size - r) % u->data_size;
	if (u->data_size - used <= total) {
		/* Ask the guest to signal once it has made room. */
		ring_store(u, HVSIM_RING_RX, OFF_PENDING_SEND_SZ,
			   (uint32_t)total);
		u->stats.send_full++;
		return -EAGAIN;
	}

	hv_put_le16(desc, type);
	hv_put_le16(desc + 2, PKT_DESC_SIZE / 8);
	hv_put_le16(desc + 4, (uint16_t)(pkt / 8));
	hv_put_le16(desc + 6, flags);
	put_le64(desc + 8, trans_id);
	put_le64(trailer, (uint64_t)w << 32);

	pos = ring_put(u, HVSIM_RING_RX, w, desc, sizeof(desc));
	pos = ring_put(u, HVSIM_RING_RX, pos, payload, len);
	pos = ring_put(u, HVSIM_RING_RX, pos, NULL, padded - len);
	pos = ring_put(u, HVSIM_RING_RX, pos, trailer, sizeof(trailer));
	ring_store(u, HVSIM_RING_RX, OFF_PENDING_SEND_SZ, 0);
	ring_store(u, HVSIM_RING_RX, OFF_WRITE_INDEX, pos);
	u->rx_write = pos;
	u->stats.pkts_to_guest++;

	/*
	 * The index must be visible before the mask is looked at. A real
	 * uio write() changes the mask before it returns; here it takes
	 * effect when we read the record, so read whatever the guest has
	 * written by now. An unmask after this point is safe: the guest
	 * re-checks the ring after unmasking and finds this packet.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uio_drain(u);
	if (ring_load(u, HVSIM_RING_RX, OFF_INTERRUPT_MASK) == 0 &&
	    (!u->empty_only || used == 0))
		(void)uio_interrupt(u);
	return 0;
}

/* One packet, or -EAGAIN when the TX ring is empty. */
static ssize_t uio_try_recv(struct hvsim_uio *u, struct hv_pkt_desc *ret,
			    void *payload, size_t size)
{
	uint8_t raw[PKT_DESC_SIZE], trailer[HV_RING_TRAILER_SIZE];
	uint32_t w, r, avail, pos, pkt, ps;
	struct hv_pkt_desc d;
	size_t plen;

	w = ring_load(u, HVSIM_RING_TX, OFF_WRITE_INDEX);
	if (w >= u->data_size || w % 8)
		return uio_fail(u, HVSIM_UIO_ERR_BAD_INDEX,
				"guest TX write_index %u (data size %u)", w,
				u->data_size);
	r = ring_load(u, HVSIM_RING_TX, OFF_READ_INDEX);
	if (r != u->tx_read)
		return uio_fail(u, HVSIM_UIO_ERR_INDEX_CHANGED,
				"TX read_index is %u, host wrote %u", r,
				u->tx_read);
	avail = (w + u->data_size - r) % u->data_size;
	if (avail == 0)
		return -EAGAIN;
	if (avail < PKT_DESC_SIZE + HV_RING_TRAILER_SIZE)
		return uio_fail(u, HVSIM_UIO_ERR_SHORT_PACKET,
				"only %u bytes written at %u", avail, r);

	/* Copied once; everything below looks at the copy. */
	pos = ring_get(u, HVSIM_RING_TX, r, raw, sizeof(raw));
	d.type = hv_le16(raw);
	d.offset8 = hv_le16(raw + 2);
	d.len8 = hv_le16(raw + 4);
	d.flags = hv_le16(raw + 6);
	d.trans_id = get_le64(raw + 8);

	if (d.offset8 != PKT_DESC_SIZE / 8)
		return uio_fail(u, HVSIM_UIO_ERR_BAD_OFFSET,
				"packet at %u: offset8 %u, expected 2", r,
				d.offset8);
	pkt = (uint32_t)d.len8 * 8;
	if (d.len8 < d.offset8 || pkt + HV_RING_TRAILER_SIZE > avail)
		return uio_fail(u, HVSIM_UIO_ERR_BAD_LEN,
				"packet at %u: len8 %u with %u bytes written",
				r, d.len8, avail);
	if (d.type != VM_PKT_DATA_INBAND)
		return uio_fail(u, HVSIM_UIO_ERR_BAD_TYPE,
				"packet at %u: type %u, expected %u", r, d.type,
				VM_PKT_DATA_INBAND);
	if (d.flags & ~HVSIM_UIO_ALLOWED_FLAGS)
		return uio_fail(u, HVSIM_UIO_ERR_BAD_FLAGS,
				"packet at %u: flags 0x%x", r, d.flags);
	plen = pkt - PKT_DESC_SIZE;
	if (plen > size)
		return -ENOBUFS;
	pos = ring_get(u, HVSIM_RING_TX, pos, payload, plen);
	pos = ring_get(u, HVSIM_RING_TX, pos, trailer, sizeof(trailer));
	if (get_le64(trailer) != (uint64_t)r << 32)
		return uio_fail(u, HVSIM_UIO_ERR_BAD_TRAILER,
				"packet at %u: trailer 0x%016llx, expected "
				"0x%016llx",
				r, (unsigned long long)get_le64(trailer),
				(unsigned long long)r << 32);

	ring_store(u, HVSIM_RING_TX, OFF_READ_INDEX, pos);
	u->tx_read = pos;
	u->stats.pkts_from_guest++;

	/*
	 * A guest waiting for room gets a signal when free space crosses its
	 * mark. Free space is computed from a fresh write index, after the
	 * fence: the guest may have written (and then failed and set its
	 * mark) since `avail` was read, and a stale figure would overstate
	 * the space before this read and miss the crossing for good.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ps = ring_load(u, HVSIM_RING_TX, OFF_PENDING_SEND_SZ);
	if (ps) {
		uint32_t wi = ring_load(u, HVSIM_RING_TX, OFF_WRITE_INDEX);
		uint32_t used = wi >= pos ? wi - pos : u->data_size - pos + wi;
		uint32_t after = u->data_size - used;
		uint32_t before = after - (pkt + HV_RING_TRAILER_SIZE);

		if (wi < u->data_size && before <= ps && after > ps)
			(void)uio_interrupt(u);
	}
	*ret = d;
	return (ssize_t)plen;
}

ssize_t hvsim_uio_recv(struct hvsim_uio *u, struct hv_pkt_desc *desc,
		       void *payload, size_t size, int timeout_ms)
{
	int64_t deadline = hvsim_deadline(timeout_ms);

	for (;;) {
		ssize_t n = uio_try_recv(u, desc, payload, size);
		int left, r;

		if (n != -EAGAIN)
			return n;
		if (timeout_ms == 0)
			return -EAGAIN;
		left = hvsim_remaining(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		r = uio_step(u, left);
		if (r < 0)
			return r;
	}
}

uint8_t *hvsim_uio_mem(const struct hvsim_uio *u)
{
	return u->mem;
}

uint32_t hvsim_uio_ring_size(const struct hvsim_uio *u)
{
	return u->ring_size;
}

uint32_t hvsim_uio_relid(const struct hvsim_uio *u)
{
	return u->relid;
}

const char *hvsim_uio_dev_path(const struct hvsim_uio *u)
{
	return u->dev_path;
}

bool hvsim_uio_is_open(const struct hvsim_uio *u)
{
	return u->conn_fd >= 0;
}

const struct hvsim_uio_stats *hvsim_uio_stats(const struct hvsim_uio *u)
{
	return &u->stats;
}

enum hvsim_uio_error hvsim_uio_last_error(const struct hvsim_uio *u)
{
	return u->last_error;
}

const char *hvsim_uio_last_error_str(const struct hvsim_uio *u)
{
	return u->last_error == HVSIM_UIO_ERR_NONE ? "" : u->last_error_str;
}
