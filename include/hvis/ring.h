/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One direction of a VMBus ring buffer as the guest sees it (protocol.md
 * §1.1). The memory is shared with the host, who may change any byte at
 * any time: every index and descriptor is copied once, validated, and
 * only the validated copy is used.
 */
#ifndef HVIS_RING_H
#define HVIS_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvis/wire.h"

struct hv_ring {
	volatile struct hv_ring_hdr *hdr;
	volatile uint8_t *data;
	uint32_t size; /* bytes in the data area */
};

/* A packet copied out of a ring: the validated descriptor and its payload. */
struct hv_pkt {
	struct hv_pkt_desc desc;
	uint8_t *payload; /* points into the caller's buffer */
	size_t payload_len; /* len8*8 - offset8*8 (includes padding) */
};

/*
 * Attach to a ring region of region_size bytes (4096-byte header + data).
 * -EINVAL if the region is too small, not 8-byte aligned, or the data size
 * is not a multiple of 8 (or does not fit a u32 index).
 */
int hv_ring_init(struct hv_ring *r, void *region, size_t region_size);

/*
 * Copy the next packet out of an inbound ring into buf and advance the
 * read index past it and its trailer. buf then holds the whole packet,
 * its first 16 bytes being the validated descriptor (wire order); ret is
 * filled only on success and its payload points into buf.
 * Returns the packet length (descriptor included), -EAGAIN if the ring is
 * empty, -EBADMSG if an index or the descriptor is corrupt (nothing is
 * consumed: the ring is unusable until reset), -EMSGSIZE if the packet is
 * valid but larger than size (the packet is skipped).
 */
int hv_ring_read(struct hv_ring *r, void *buf, size_t size, struct hv_pkt *ret);

/*
 * Append one packet (16-byte descriptor built from the arguments, payload,
 * zero padding to 8 bytes, trailer) to an outbound ring and publish it.
 * Returns 1 if the host must be signalled (the ring went from empty to
 * non-empty and the host has not masked interrupts), 0 if not, -EAGAIN if
 * it does not fit (the ring is never allowed to become completely full),
 * -EMSGSIZE if it can never fit, -EBADMSG if the indexes are corrupt.
 */
int hv_ring_write(struct hv_ring *r, uint16_t type, uint16_t flags,
		  uint64_t trans_id, const void *payload, size_t len);

/* Bytes a reader could consume now; 0 if the indexes are corrupt. */
uint32_t hv_ring_bytes_to_read(const struct hv_ring *r);

/*
 * Bytes a writer could add now (always < size); 0 if corrupt. A packet of
 * total length T (descriptor + padded payload + trailer) fits iff
 * T <= this value: it is size - bytes_to_read - 8, the 8 being the gap
 * that keeps the ring from ever becoming completely full.
 */
uint32_t hv_ring_bytes_to_write(const struct hv_ring *r);

/*
 * Our own interrupt mask on an inbound ring: true = don't interrupt me.
 * After unmasking, re-check hv_ring_bytes_to_read(): a packet that arrived
 * while masked raised no interrupt (a full fence orders that check).
 */
void hv_ring_set_interrupt_mask(struct hv_ring *r, bool masked);

/*
 * Producer flow control: ask the host to signal us once sz bytes are free
 * in our outbound ring (0 clears the request). Re-check free space after
 * setting it: the host may have drained the ring before seeing the request.
 */
void hv_ring_set_pending_send(struct hv_ring *r, uint32_t sz);

#endif
