/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VMBus ring buffer logic (protocol.md §1.1). Pure memory operations on a
 * region shared with the host: no syscalls, no logging.
 *
 * The host is a concurrent, untrusted party. Indexes are loaded once with
 * atomic loads, the descriptor is fetched once with volatile loads, and
 * only those copies are validated and used. Ordering against the host uses
 * GCC __atomic builtins so the code is not tied to x86.
 */
#include <stddef.h>

#include "hvis/ring.h"
#include "hvis/util.h"

#define PKT_DESC_SIZE sizeof(struct hv_pkt_desc)
/* len8 is a u16: the largest packet a descriptor can describe. */
#define PKT_MAX_LEN ((size_t)UINT16_MAX * 8)

static uint32_t *hdr_field(const struct hv_ring *r, size_t off)
{
	/*
	 * Fields of the packed header are reached through a computed
	 * pointer: taking the address of a packed member would make it
	 * alignment 1, and hv_ring_init guarantees 8-byte alignment.
	 */
	return (uint32_t *)((uintptr_t)r->hdr + off);
}

#define HDR(r, field) hdr_field((r), offsetof(struct hv_ring_hdr, field))

/*
 * Both indexes, each loaded exactly once. The write index is loaded with
 * acquire semantics: it pairs with the producer's release store, so data
 * reads that follow see the bytes it published. The read index is loaded
 * with acquire semantics for the mirror reason: the consumer's loads of
 * the space we are about to overwrite happened before it published it.
 */
static int load_indexes(const struct hv_ring *r, uint32_t *ret_w,
			uint32_t *ret_r, uint32_t *ret_avail)
{
	uint32_t w = __atomic_load_n(HDR(r, write_index), __ATOMIC_ACQUIRE);
	uint32_t rd = __atomic_load_n(HDR(r, read_index), __ATOMIC_ACQUIRE);

	if (w >= r->size || rd >= r->size || (w & 7) || (rd & 7))
		return -EBADMSG;
	*ret_w = w;
	*ret_r = rd;
	*ret_avail = w >= rd ? w - rd : r->size - rd + w;
	return 0;
}

static uint32_t ring_advance(const struct hv_ring *r, uint32_t off, size_t n)
{
	return (uint32_t)(((uint64_t)off + n) % r->size);
}

/* Copy n (< size) bytes out of the data area starting at off, wrapping. */
static void ring_get(const struct hv_ring *r, uint32_t off, void *dst, size_t n)
{
	const uint8_t *data = (const uint8_t *)r->data;
	size_t first = HV_MIN(n, (size_t)(r->size - off));

	memcpy(dst, data + off, first);
	if (n > first)
		memcpy((uint8_t *)dst + first, data, n - first);
}

/* Copy n (< size) bytes into the data area at off, wrapping. */
static uint32_t ring_put(struct hv_ring *r, uint32_t off, const void *src,
			 size_t n)
{
	uint8_t *data = (uint8_t *)r->data;
	size_t first = HV_MIN(n, (size_t)(r->size - off));

	if (n == 0)
		return off;
	memcpy(data + off, src, first);
	if (n > first)
		memcpy(data, (const uint8_t *)src + first, n - first);
	return ring_advance(r, off, n);
}

/*
 * Fetch the 16-byte descriptor at off exactly once. Volatile 8-byte loads
 * stop the compiler from re-reading shared memory in place of the copy.
 * off and size are multiples of 8, so each half is aligned and the only
 * possible wrap point lies between the halves.
 */
static void fetch_desc(const struct hv_ring *r, uint32_t off,
		       uint8_t dst[PKT_DESC_SIZE])
{
	volatile const uint64_t *lo, *hi;
	uint64_t v;

	lo = (volatile const uint64_t *)(r->data + off);
	hi = (volatile const uint64_t *)(r->data + ring_advance(r, off, 8));
	v = *lo;
	memcpy(dst, &v, 8);
	v = *hi;
	memcpy(dst + 8, &v, 8);
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)hv_le32(p) | (uint64_t)hv_le32(p + 4) << 32;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	hv_put_le32(p, (uint32_t)v);
	hv_put_le32(p + 4, (uint32_t)(v >> 32));
}

int hv_ring_init(struct hv_ring *r, void *region, size_t region_size)
{
	size_t size;

	if (!r || !region || ((uintptr_t)region & 7))
		return -EINVAL;
	if (region_size <= HV_RING_HDR_SIZE)
		return -EINVAL;
	size = region_size - HV_RING_HDR_SIZE;
	/* Indexes are u32 byte offsets: the data area must fit in one. */
	if ((size & 7) || size > (UINT32_MAX & ~(size_t)7))
		return -EINVAL;
	r->hdr = region;
	r->data = (volatile uint8_t *)region + HV_RING_HDR_SIZE;
	r->size = (uint32_t)size;
	return 0;
}

int hv_ring_read(struct hv_ring *r, void *buf, size_t size, struct hv_pkt *ret)
{
	uint8_t raw[PKT_DESC_SIZE];
	struct hv_pkt_desc desc;
	uint32_t w, rd, avail;
	size_t pkt_len;
	int e;

	e = load_indexes(r, &w, &rd, &avail);
	if (e < 0)
		return e;
	if (avail == 0)
		return -EAGAIN;
	if (avail < PKT_DESC_SIZE + HV_RING_TRAILER_SIZE)
		return -EBADMSG;

	fetch_desc(r, rd, raw);
	desc.type = hv_le16(raw);
	desc.offset8 = hv_le16(raw + 2);
	desc.len8 = hv_le16(raw + 4);
	desc.flags = hv_le16(raw + 6);
	desc.trans_id = le64(raw + 8);

	/* avail < size, so a packet that fits avail also fits the ring. */
	pkt_len = (size_t)desc.len8 * 8;
	if (desc.offset8 < 2 || desc.len8 < desc.offset8 ||
	    pkt_len + HV_RING_TRAILER_SIZE > avail)
		return -EBADMSG;

	if (pkt_len > size) {
		/*
		 * Only the descriptor was read; the release store keeps
		 * that load ahead of handing the space back.
		 */
		__atomic_store_n(HDR(r, read_index),
				 ring_advance(r, rd,
					      pkt_len + HV_RING_TRAILER_SIZE),
				 __ATOMIC_RELEASE);
		return -EMSGSIZE;
	}

	ring_get(r, rd, buf, pkt_len);
	/*
	 * The host may have rewritten the descriptor since we fetched it:
	 * callers must only ever see the copy we validated.
	 */
	memcpy(buf, raw, sizeof(raw));

	ret->desc = desc;
	ret->payload = (uint8_t *)buf + (size_t)desc.offset8 * 8;
	ret->payload_len = pkt_len - (size_t)desc.offset8 * 8;

	/*
	 * Every byte must be copied out before the host learns it may
	 * reuse the space; a full fence makes that explicit even for
	 * readers of this code who do not think in release semantics.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(HDR(r, read_index),
			 ring_advance(r, rd, pkt_len + HV_RING_TRAILER_SIZE),
			 __ATOMIC_RELEASE);
	return (int)pkt_len;
}

int hv_ring_write(struct hv_ring *r, uint16_t type, uint16_t flags,
		  uint64_t trans_id, const void *payload, size_t len)
{
	static const uint8_t zeros[8];
	uint8_t desc[PKT_DESC_SIZE], trailer[HV_RING_TRAILER_SIZE];
	uint32_t w, rd, avail, off;
	size_t pkt_len, total;
	int e;

	/* PKT_MAX_LEN is a multiple of 8: this also bounds the padding. */
	if (len > PKT_MAX_LEN - PKT_DESC_SIZE)
		return -EMSGSIZE;
	pkt_len = PKT_DESC_SIZE + HV_ALIGN8(len);
	total = pkt_len + HV_RING_TRAILER_SIZE;
	/* The ring may never be completely full, so size itself is out. */
	if (total >= r->size)
		return -EMSGSIZE;

	e = load_indexes(r, &w, &rd, &avail);
	if (e < 0)
		return e;
	/* Leaving 0 bytes free would make a full ring look empty. */
	if (total >= r->size - avail)
		return -EAGAIN;

	hv_put_le16(desc, type);
	hv_put_le16(desc + 2, PKT_DESC_SIZE / 8);
	hv_put_le16(desc + 4, (uint16_t)(pkt_len / 8));
	hv_put_le16(desc + 6, flags);
	put_le64(desc + 8, trans_id);
	put_le64(trailer, (uint64_t)w << 32);

	off = ring_put(r, w, desc, sizeof(desc));
	if (len)
		off = ring_put(r, off, payload, len);
	off = ring_put(r, off, zeros, HV_ALIGN8(len) - len);
	off = ring_put(r, off, trailer, sizeof(trailer));

	/* Release: the host must see the packet before the new index. */
	__atomic_store_n(HDR(r, write_index), off, __ATOMIC_RELEASE);

	/*
	 * The signalling decision reads read_index after storing
	 * write_index; only a full fence orders a load after a store. If
	 * the host's read_index still equals our old write index, it has
	 * consumed everything and may be idle waiting for a signal
	 * (protocol.md §1.1). Anything else means it is still draining and
	 * will find this packet without one.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(HDR(r, interrupt_mask), __ATOMIC_RELAXED))
		return 0;
	return __atomic_load_n(HDR(r, read_index), __ATOMIC_RELAXED) == w;
}

uint32_t hv_ring_bytes_to_read(const struct hv_ring *r)
{
	uint32_t w, rd, avail;

	if (load_indexes(r, &w, &rd, &avail) < 0)
		return 0;
	return avail;
}

uint32_t hv_ring_bytes_to_write(const struct hv_ring *r)
{
	uint32_t w, rd, avail;

	if (load_indexes(r, &w, &rd, &avail) < 0)
		return 0;
	/* Packets are multiples of 8 and must leave at least 8 free. */
	return r->size - avail - HV_RING_TRAILER_SIZE;
}

void hv_ring_set_interrupt_mask(struct hv_ring *r, bool masked)
{
	__atomic_store_n(HDR(r, interrupt_mask), masked ? 1u : 0u,
			 __ATOMIC_RELAXED);
	/*
	 * After unmasking, the caller re-checks the write index: a packet
	 * the host added while we were masked raised no interrupt. The full
	 * fence keeps that load from being satisfied before the host can
	 * see the unmask, which would lose the wake-up.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void hv_ring_set_pending_send(struct hv_ring *r, uint32_t sz)
{
	__atomic_store_n(HDR(r, pending_send_sz), sz, __ATOMIC_RELAXED);
	/*
	 * Same pattern as unmasking: the caller re-checks free space after
	 * asking for a signal, and that read must not move before the
	 * request becomes visible to the host.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
