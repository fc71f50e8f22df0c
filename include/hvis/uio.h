/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VMBus channel bound to uio_hv_generic (protocol.md §5.3, §6.1):
 * discovery under sysfs, both rings mapped, interrupts through 4-byte
 * read()/write() on /dev/uioN.
 *
 * Simulation: when the device path is a UNIX socket, opening it connects
 * with SOCK_SEQPACKET, receives a 4-byte open status (0 or a positive
 * errno) with the ring memory as a memfd (SCM_RIGHTS), and the socket
 * then carries the same 4-byte interrupt reads and writes as the device.
 */
#ifndef HVIS_UIO_H
#define HVIS_UIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvis/ring.h"

struct hv_uio_chan {
	int fd;
	bool is_socket;
	void *map;
	size_t map_size;
	uint32_t ring_size; /* per direction, header page included */
	struct hv_ring tx; /* guest -> host: first half of the mapping */
	struct hv_ring rx; /* host -> guest: second half */
};

struct hv_uio_info {
	char instance[64]; /* VMBus instance GUID, lower case, no braces */
	char uio_name[32]; /* "uio3" */
	uint32_t ring_size; /* per direction, header page included */
};

/*
 * Find the channel of class_guid (and of that instance, if instance is not
 * NULL) under sysfs_root (normally "/sys"): the device directory
 * <root>/bus/vmbus/devices/<instance>/ whose class_id is "{class_guid}"
 * (case and braces do not matter), its uio/uioN entry and its ring size:
 * uio/uioN/maps/map0/size / 2, else the channels/<relid>/ring file size / 2
 * (lowest relid). Without an instance, the lexically first match wins.
 * ret is written only on success.
 * Returns 0, -EINVAL for a malformed class_guid or instance name, -ENOENT
 * if no such device, -ENODEV if the device is not bound to uio_hv_generic
 * (no uio/uioN entry, or neither size source), -EBADMSG if the ring size
 * is unusable (not a multiple of 4096 in [8 KiB, 64 MiB]), another -errno
 * if sysfs cannot be read.
 */
int hv_uio_find(const char *sysfs_root, const char *class_guid,
		const char *instance, struct hv_uio_info *ret);

/*
 * Open dev_path (normally /dev/uioN) and map both rings of ring_size
 * bytes each (same bounds as hv_uio_find, else -EINVAL). The channel
 * starts with RX interrupts unmasked. A regular file of at least
 * 2 * ring_size bytes is accepted in place of the device (tests).
 * Socket: -errno from the simulator's status, -EBADMSG for a malformed
 * open message (wrong length, no fd or several, memfd too small), -EIO
 * if it hung up. On failure nothing is left open and c->fd is -1.
 */
int hv_uio_open(struct hv_uio_chan *c, const char *dev_path,
		uint32_t ring_size);

void hv_uio_close(struct hv_uio_chan *c);

/*
 * Consume one interrupt (4-byte read). With a blocking fd this waits;
 * returns the event count, or -errno (-EAGAIN on a non-blocking fd with
 * nothing pending, -EINTR not retried, -EIO when the channel was rescinded
 * or the simulator hung up, -EBADMSG for a message that is not 4 bytes).
 */
int64_t hv_uio_wait(struct hv_uio_chan *c);

/*
 * Unmask our RX interrupts and signal the host (4-byte write of 1). Drain
 * RX again afterwards: a packet that arrived while we were masked raised
 * no interrupt.
 */
int hv_uio_signal(struct hv_uio_chan *c);

/* hv_ring_read on the RX ring. */
int hv_uio_recv(struct hv_uio_chan *c, void *buf, size_t size,
		struct hv_pkt *ret);

/*
 * Write one INBAND packet (flags 0) to the TX ring, signalling the host if
 * the ring rules require it. -EAGAIN when the ring is full: the caller
 * waits for an interrupt (pending_send_sz has been set to the packet's
 * total size, and is cleared by the next successful send) and retries.
 * Other errors as hv_ring_write, or hv_uio_signal's.
 */
int hv_uio_send(struct hv_uio_chan *c, uint64_t trans_id, const void *payload,
		size_t len);

/*
 * Called for each packet hv_uio_process() reads; a negative return stops
 * processing and is passed back.
 */
typedef int (*hv_uio_packet_fn)(struct hv_uio_chan *c, struct hv_pkt *pkt,
				void *userdata);

/*
 * Serve everything the host has queued: read every packet into buf (size
 * bytes) and hand it to fn, then unmask interrupts and signal the host,
 * and repeat while packets are pending. Call it once right after
 * hv_uio_open() (the kernel's first open leaves RX interrupts masked, so
 * packets the host sent before then raised none) and after each
 * hv_uio_wait(). Packets larger than buf are skipped (counted in
 * *skipped if not NULL). Returns the number of packets handled or -errno.
 */
int hv_uio_process(struct hv_uio_chan *c, void *buf, size_t size,
		   hv_uio_packet_fn fn, void *userdata, unsigned int *skipped);

#endif
