/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VMBus channel driven through uio_hv_generic (protocol.md §5.3, §6.1),
 * or through the simulator's UNIX socket that stands in for /dev/uioN
 * (design.md §3). Everything read from sysfs or the socket is untrusted.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "hvis/uio.h"
#include "hvis/util.h"
#include "hvis/vmbus-bind.h"

/* Per-direction ring bounds: header page plus at least one data page. */
#define RING_SIZE_MIN (2 * 4096u)
#define RING_SIZE_MAX (64u * 1024 * 1024)
/* Room for the one fd we expect plus a few a hostile peer might add. */
#define OPEN_MAX_FDS 8

static int check_ring_size(uint64_t size)
{
	if (size < RING_SIZE_MIN || size > RING_SIZE_MAX || size % 4096)
		return -EBADMSG;
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

/* "<prefix><digits>" with a u32 number, e.g. uio3 or a relid. */
static bool numbered_name(const char *name, const char *prefix, uint32_t *ret)
{
	size_t plen = strlen(prefix);
	const char *digits = name + plen;
	uint32_t v;

	if (strncmp(name, prefix, plen) != 0 || strnlen(digits, 11) > 10)
		return false;
	if (hv_parse_u32(digits, &v) < 0)
		return false;
	if (ret)
		*ret = v;
	return true;
}

/* The uio<N> entry under <devdir>/uio/ with the lowest N. */
static int find_uio(const char *devdir, char *ret_name, size_t name_size)
{
	char path[PATH_MAX];
	struct dirent *de;
	uint32_t best = 0, n;
	bool found = false;
	DIR *d;
	int r;

	r = hv_snprintf(path, sizeof(path), "%s/uio", devdir);
	if (r < 0)
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? -ENODEV : -errno;
	while ((de = readdir(d))) {
		if (!name_ok(de->d_name, name_size) ||
		    !numbered_name(de->d_name, "uio", &n))
			continue;
		if (found && n >= best)
			continue;
		hv_strscpy(ret_name, de->d_name, name_size);
		best = n;
		found = true;
	}
	closedir(d);
	return found ? 0 : -ENODEV;
}

/* "0x..." as UIO prints a map size (%pa: up to 16 hex digits). */
static int parse_map_size(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	size_t n;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -EBADMSG;
	s += 2;
	n = strlen(s);
	if (n == 0 || n > 16)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!isxdigit(ch))
			return -EBADMSG;
		v = v << 4 |
		    (uint64_t)(isdigit(ch) ? ch - '0' : tolower(ch) - 'a' + 10);
	}
	*ret = v;
	return 0;
}

/* Both rings' size from the ring bin file of the lowest-numbered channel. */
static int ring_file_size(const char *devdir, uint64_t *ret)
{
	char path[PATH_MAX], best[16];
	struct dirent *de;
	struct stat st;
	uint32_t relid, best_relid = 0;
	bool found = false;
	DIR *d;
	int r;

	r = hv_snprintf(path, sizeof(path), "%s/channels", devdir);
	if (r < 0)
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? -ENODEV : -errno;
	while ((de = readdir(d))) {
		if (!name_ok(de->d_name, sizeof(best)) ||
		    !numbered_name(de->d_name, "", &relid))
			continue;
		if (found && relid >= best_relid)
			continue;
		r = hv_snprintf(path, sizeof(path), "%s/channels/%s/ring",
				devdir, de->d_name);
		if (r < 0 || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		hv_strscpy(best, de->d_name, sizeof(best));
		best_relid = relid;
		found = true;
	}
	closedir(d);
	if (!found)
		return -ENODEV;
	r = hv_snprintf(path, sizeof(path), "%s/channels/%s/ring", devdir,
			best);
	if (r < 0)
		return -ENAMETOOLONG;
	if (stat(path, &st) < 0)
		return -errno;
	if (st.st_size <= 0)
		return -EBADMSG;
	*ret = (uint64_t)st.st_size;
	return 0;
}

/*
 * Per-direction ring size. UIO's maps/map0/size is exact: map 0 is both
 * rings. The channel's sysfs "ring" file is only a fallback: before
 * kernel commit c7f864d34529 it reported a fixed 4 MiB whatever the real
 * ring size (protocol.md §5.3), which would make us map past the rings.
 */
static int ring_size(const char *devdir, const char *uio, uint32_t *ret)
{
	char path[PATH_MAX], buf[64];
	uint64_t both = 0;
	int r;

	r = hv_snprintf(path, sizeof(path), "%s/uio/%s/maps/map0/size", devdir,
			uio);
	if (r < 0)
		return -ENAMETOOLONG;
	r = hv_read_line_file(path, buf, sizeof(buf));
	if (r >= 0) {
		r = parse_map_size(buf, &both);
		if (r < 0)
			return r;
	} else if (r == -ENOENT) {
		r = ring_file_size(devdir, &both);
		if (r < 0)
			return r;
	} else {
		return r == -E2BIG ? -EBADMSG : r;
	}
	if (both % 2 || check_ring_size(both / 2) < 0)
		return -EBADMSG;
	*ret = (uint32_t)(both / 2);
	return 0;
}

int hv_uio_find(const char *sysfs_root, const char *class_guid,
		const char *instance, struct hv_uio_info *ret)
{
	struct hv_uio_info info = { 0 };
	char devdir[PATH_MAX];
	int r;

	if (!sysfs_root || !class_guid || !ret)
		return -EINVAL;
	r = hv_vmbus_find_device(sysfs_root, class_guid, instance,
				 info.instance, sizeof(info.instance));
	if (r < 0)
		return r;
	r = hv_snprintf(devdir, sizeof(devdir), "%s/bus/vmbus/devices/%s",
			sysfs_root, info.instance);
	if (r < 0)
		return -ENAMETOOLONG;
	r = find_uio(devdir, info.uio_name, sizeof(info.uio_name));
	if (r < 0)
		return r;
	r = ring_size(devdir, info.uio_name, &info.ring_size);
	if (r < 0)
		return r;
	*ret = info;
	return 0;
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * Simulator handshake: one message with a 4-byte little-endian status
 * and, on success, exactly one fd. Returns the fd or -errno.
 */
static int socket_receive_ring(int sock)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int) * OPEN_MAX_FDS)];
	} ctl;
	int fds[OPEN_MAX_FDS];
	size_t nfds = 0;
	uint8_t status[8];
	struct iovec iov = { .iov_base = status, .iov_len = sizeof(status) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	uint32_t st;
	ssize_t n;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0))
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		/* ctl only has room for OPEN_MAX_FDS; MSG_CTRUNC below. */
		k = HV_MIN(k, OPEN_MAX_FDS - nfds);
		memcpy(fds + nfds, CMSG_DATA(cm), k * sizeof(int));
		nfds += k;
	}

	if (n == 0 && nfds == 0)
		return -EIO; /* peer hung up: the device is gone */
	if (n != 4 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		close_fds(fds, nfds);
		return -EBADMSG;
	}
	st = hv_le32(status);
	if (st != 0) {
		close_fds(fds, nfds);
		/* Only a plausible errno may reach our caller. */
		return st < 4096 ? -(int)st : -EBADMSG;
	}
	if (nfds != 1) {
		close_fds(fds, nfds);
		return -EBADMSG;
	}
	return fds[0];
}

static int socket_open(const char *path, int *ret_sock, int *ret_mem)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int sock = -1;
	int mem;

	if (hv_strscpy(sa.sun_path, path, sizeof(sa.sun_path)) < 0)
		return -ENAMETOOLONG;
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	mem = socket_receive_ring(sock);
	if (mem < 0)
		return mem;
	*ret_sock = TAKE_FD(sock);
	*ret_mem = mem;
	return 0;
}

int hv_uio_open(struct hv_uio_chan *c, const char *dev_path, uint32_t ring_size)
{
	_cleanup_close_ int fd = -1, mem = -1;
	size_t map_size = (size_t)ring_size * 2;
	struct stat st;
	bool is_socket;
	void *map;
	int r;

	if (!c)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (!dev_path || check_ring_size(ring_size) < 0)
		return -EINVAL;

	if (stat(dev_path, &st) < 0)
		return -errno;
	is_socket = S_ISSOCK(st.st_mode);
	if (is_socket) {
		r = socket_open(dev_path, &fd, &mem);
		if (r < 0)
			return r;
		if (fstat(mem, &st) < 0)
			return -errno;
		if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
		    (uint64_t)st.st_size < map_size)
			return -EBADMSG;
	} else {
		fd = open(dev_path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) < 0)
			return -errno;
		/*
		 * A regular file stands in for the device in tests; mapping
		 * past its end would fault on first touch, so check it.
		 */
		if (S_ISREG(st.st_mode)) {
			if (st.st_size < 0 || (uint64_t)st.st_size < map_size)
				return -EBADMSG;
		} else if (!S_ISCHR(st.st_mode)) {
			return -ENODEV;
		}
	}

	/* UIO selects map N by offset N * page size: map 0 is both rings. */
	map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   is_socket ? mem : fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	if (hv_ring_init(&c->tx, map, ring_size) < 0 ||
	    hv_ring_init(&c->rx, (uint8_t *)map + ring_size, ring_size) < 0) {
		munmap(map, map_size);
		memset(c, 0, sizeof(*c));
		c->fd = -1;
		return -EINVAL;
	}
	c->map = map;
	c->map_size = map_size;
	c->ring_size = ring_size;
	c->is_socket = is_socket;
	c->fd = TAKE_FD(fd);
	hv_ring_set_interrupt_mask(&c->rx, false);
	return 0;
}

void hv_uio_close(struct hv_uio_chan *c)
{
	if (!c)
		return;
	if (c->map)
		munmap(c->map, c->map_size);
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int64_t hv_uio_wait(struct hv_uio_chan *c)
{
	uint32_t count;
	ssize_t n;

	if (!c || c->fd < 0)
		return -EBADF;
	/* Not retried on EINTR: the caller's loop may have a signal to see. */
	if (c->is_socket)
		n = recv(c->fd, &count, sizeof(count), MSG_TRUNC);
	else
		n = read(c->fd, &count, sizeof(count));
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EIO;
	/* With MSG_TRUNC, n is the real length of a longer message. */
	if (n != sizeof(count))
		return -EBADMSG;
	return count;
}

int hv_uio_signal(struct hv_uio_chan *c)
{
	const uint32_t one = 1;
	ssize_t n;

	if (!c || c->fd < 0)
		return -EBADF;
	/*
	 * uio_hv_generic clears the mask itself on this write; doing it
	 * here as well keeps the simulator from having to.
	 */
	hv_ring_set_interrupt_mask(&c->rx, false);
	do {
		if (c->is_socket)
			n = send(c->fd, &one, sizeof(one), MSG_NOSIGNAL);
		else
			n = write(c->fd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(one) ? 0 : -EIO;
}

int hv_uio_recv(struct hv_uio_chan *c, void *buf, size_t size,
		struct hv_pkt *ret)
{
	if (!c || !c->map)
		return -EBADF;
	return hv_ring_read(&c->rx, buf, size, ret);
}

int hv_uio_send(struct hv_uio_chan *c, uint64_t trans_id, const void *payload,
		size_t len)
{
	/* Used only after -EAGAIN, which implies len is small: no wrap. */
	size_t total = sizeof(struct hv_pkt_desc) + HV_ALIGN8(len) +
		       HV_RING_TRAILER_SIZE;
	int r;

	if (!c || !c->map)
		return -EBADF;
	r = hv_ring_write(&c->tx, VM_PKT_DATA_INBAND, 0, trans_id, payload,
			  len);
	if (r == -EAGAIN) {
		/*
		 * Ask for a signal once the packet fits, then try once more:
		 * the host may have drained the ring before it could see
		 * the request, and would then never signal.
		 */
		hv_ring_set_pending_send(&c->tx, (uint32_t)total);
		r = hv_ring_write(&c->tx, VM_PKT_DATA_INBAND, 0, trans_id,
				  payload, len);
		if (r == -EAGAIN)
			return r;
	}
	if (r < 0)
		return r;
	/* Ours to clear, possibly left over from an earlier -EAGAIN. */
	if (c->tx.hdr->pending_send_sz)
		hv_ring_set_pending_send(&c->tx, 0);
	return r == 1 ? hv_uio_signal(c) : 0;
}

int hv_uio_process(struct hv_uio_chan *c, void *buf, size_t size,
		   hv_uio_packet_fn fn, void *userdata, unsigned int *skipped)
{
	struct hv_pkt pkt;
	int handled = 0, r;

	for (;;) {
		r = hv_uio_recv(c, buf, size, &pkt);
		if (r == -EMSGSIZE) {
			if (skipped)
				(*skipped)++;
			continue;
		}
		if (r == -EAGAIN) {
			/*
			 * Unmask, signal, then look again: a packet the host
			 * wrote while we were masked raised no interrupt.
			 */
			r = hv_uio_signal(c);
			if (r < 0)
				return r;
			if (hv_ring_bytes_to_read(&c->rx) == 0)
				return handled;
			continue;
		}
		if (r < 0)
			return r;
		r = fn(c, &pkt, userdata);
		if (r < 0)
			return r;
		handled++;
	}
}
