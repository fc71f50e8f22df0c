/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of each ring is played by hand here: descriptors, padding
 * and trailers are laid out byte by byte from protocol.md §1.1, so a
 * misreading shared by hv_ring_write and hv_ring_read cannot hide. Only the
 * round-trip test feeds hv_ring_write output to hv_ring_read.
 * Regions are exact-size heap blocks so ASan sees any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hvis/ring.h"
#include "hvis/util.h"

/* §1.1 header offsets. */
#define OFF_WRITE 0
#define OFF_READ 4
#define OFF_IMASK 8
#define OFF_PENDING 12

struct tring {
	uint8_t *region;
	uint8_t *data;
	uint32_t size;
	struct hv_ring r;
};

static void tring_new(struct tring *t, uint32_t size)
{
	t->region = malloc(HV_RING_HDR_SIZE + (size_t)size);
	assert_non_null(t->region);
	memset(t->region, 0, HV_RING_HDR_SIZE);
	/* Not zero, so that padding the writer forgets to clear shows. */
	memset(t->region + HV_RING_HDR_SIZE, 0xcc, size);
	t->data = t->region + HV_RING_HDR_SIZE;
	t->size = size;
	assert_int_equal(hv_ring_init(&t->r, t->region,
				      HV_RING_HDR_SIZE + (size_t)size),
			 0);
	assert_int_equal(t->r.size, size);
}

static void tring_free(struct tring *t)
{
	free(t->region);
	t->region = NULL;
}

static uint32_t hdr_get(const struct tring *t, size_t off)
{
	return hv_le32(t->region + off);
}

static void hdr_set(struct tring *t, size_t off, uint32_t v)
{
	hv_put_le32(t->region + off, v);
}

static void set_indexes(struct tring *t, uint32_t rd, uint32_t w)
{
	hdr_set(t, OFF_READ, rd);
	hdr_set(t, OFF_WRITE, w);
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

/* Host-side copy into the data area, wrapping at the end. */
static uint32_t host_put(struct tring *t, uint32_t off, const void *src,
			 size_t n)
{
	const uint8_t *s = src;

	for (size_t i = 0; i < n; i++) {
		t->data[off] = s[i];
		off = (off + 1) % t->size;
	}
	return off;
}

static void host_get(const struct tring *t, uint32_t off, void *dst, size_t n)
{
	uint8_t *d = dst;

	for (size_t i = 0; i < n; i++) {
		d[i] = t->data[off];
		off = (off + 1) % t->size;
	}
}

static void make_desc(uint8_t d[16], uint16_t type, uint16_t off8,
		      uint16_t len8, uint16_t flags, uint64_t trans_id)
{
	hv_put_le16(d, type);
	hv_put_le16(d + 2, off8);
	hv_put_le16(d + 4, len8);
	hv_put_le16(d + 6, flags);
	put_le64(d + 8, trans_id);
}

/*
 * Lay out one packet at off the way the host does: descriptor, header
 * bytes up to off8*8 (zero), payload, zero padding to len8*8, trailer.
 * Returns the write index after it; the caller publishes it.
 */
static uint32_t host_packet(struct tring *t, uint32_t off, uint16_t type,
			    uint16_t off8, uint16_t flags, uint64_t trans_id,
			    const void *payload, size_t len)
{
	static const uint8_t zeros[64];
	uint16_t len8 = (uint16_t)(off8 + HV_ALIGN8(len) / 8);
	uint8_t d[16], trailer[8];
	uint32_t start = off;

	make_desc(d, type, off8, len8, flags, trans_id);
	off = host_put(t, off, d, sizeof(d));
	off = host_put(t, off, zeros, (size_t)off8 * 8 - 16);
	off = host_put(t, off, payload, len);
	off = host_put(t, off, zeros, HV_ALIGN8(len) - len);
	put_le64(trailer, (uint64_t)start << 32);
	return host_put(t, off, trailer, sizeof(trailer));
}

static void test_init(void **state)
{
	uint8_t *region = malloc(HV_RING_HDR_SIZE + 64);
	struct hv_ring r;

	assert_non_null(region);
	assert_int_equal(hv_ring_init(&r, region, HV_RING_HDR_SIZE), -EINVAL);
	assert_int_equal(hv_ring_init(&r, region, HV_RING_HDR_SIZE - 8),
			 -EINVAL);
	assert_int_equal(hv_ring_init(&r, region, HV_RING_HDR_SIZE + 4),
			 -EINVAL);
	assert_int_equal(hv_ring_init(&r, region, HV_RING_HDR_SIZE + 60),
			 -EINVAL);
	assert_int_equal(hv_ring_init(&r, region + 4, HV_RING_HDR_SIZE + 56),
			 -EINVAL);
	assert_int_equal(hv_ring_init(&r, NULL, HV_RING_HDR_SIZE + 64),
			 -EINVAL);
	assert_int_equal(hv_ring_init(&r, region, HV_RING_HDR_SIZE + 8), 0);
	assert_int_equal(r.size, 8);
	assert_int_equal(hv_ring_init(&r, region, HV_RING_HDR_SIZE + 64), 0);
	assert_int_equal(r.size, 64);
	assert_ptr_equal((const void *)r.data, region + HV_RING_HDR_SIZE);
	free(region);
}

static void test_read_single(void **state)
{
	static const char msg[] = "hello world"; /* 12 bytes with NUL */
	struct tring t;
	uint8_t buf[64], d[16];
	struct hv_pkt pkt;
	uint32_t w;

	tring_new(&t, 256);
	w = host_packet(&t, 0, VM_PKT_DATA_INBAND, 2, 1, 0x1122334455667788ull,
			msg, 11);
	/* 16 descriptor + 16 padded payload + 8 trailer */
	assert_int_equal(w, 40);
	hdr_set(&t, OFF_WRITE, w);
	assert_int_equal(hv_ring_bytes_to_read(&t.r), 40);

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt), 32);
	assert_int_equal(pkt.desc.type, VM_PKT_DATA_INBAND);
	assert_int_equal(pkt.desc.offset8, 2);
	assert_int_equal(pkt.desc.len8, 4);
	assert_int_equal(pkt.desc.flags, 1);
	assert_true(pkt.desc.trans_id == 0x1122334455667788ull);
	assert_ptr_equal(pkt.payload, buf + 16);
	assert_int_equal(pkt.payload_len, 16);
	assert_memory_equal(pkt.payload, msg, 11);
	for (size_t i = 11; i < 16; i++)
		assert_int_equal(pkt.payload[i], 0);
	/* The whole packet is copied, its descriptor in wire order. */
	make_desc(d, VM_PKT_DATA_INBAND, 2, 4, 1, 0x1122334455667788ull);
	assert_memory_equal(buf, d, 16);
	/* Nothing beyond the packet is written. */
	assert_int_equal(buf[32], 0xee);

	assert_int_equal(hdr_get(&t, OFF_READ), 32 + 8);
	assert_int_equal(hdr_get(&t, OFF_WRITE), 40);
	assert_int_equal(hv_ring_bytes_to_read(&t.r), 0);
	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt), -EAGAIN);
	tring_free(&t);
}

static void test_read_two_packets(void **state)
{
	static const uint8_t a[24] = { 1, 2, 3 }, b[3] = { 7, 8, 9 };
	struct tring t;
	uint8_t buf[64];
	struct hv_pkt pkt;
	uint32_t w;

	tring_new(&t, 256);
	w = host_packet(&t, 0, VM_PKT_DATA_INBAND, 2, 0, 1, a, sizeof(a));
	w = host_packet(&t, w, VM_PKT_COMP, 2, 0, 2, b, sizeof(b));
	hdr_set(&t, OFF_WRITE, w);

	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt), 40);
	assert_int_equal(hdr_get(&t, OFF_READ), 48);
	assert_true(pkt.desc.trans_id == 1);
	assert_memory_equal(pkt.payload, a, sizeof(a));

	/* The reader landed on the second descriptor, not on the trailer. */
	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt), 24);
	assert_int_equal(pkt.desc.type, VM_PKT_COMP);
	assert_true(pkt.desc.trans_id == 2);
	assert_int_equal(pkt.payload_len, 8);
	assert_memory_equal(pkt.payload, b, sizeof(b));
	assert_int_equal(hdr_get(&t, OFF_READ), w);
	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt), -EAGAIN);
	tring_free(&t);
}

static void test_read_offset8(void **state)
{
	static const uint8_t p[16] = { 0xa, 0xb, 0xc, 0xd, 0xe, 0xf };
	struct tring t;
	uint8_t buf[64];
	struct hv_pkt pkt;
	uint32_t w;

	/* A longer header (offset8 3) moves the payload, not the packet. */
	tring_new(&t, 256);
	w = host_packet(&t, 0, VM_PKT_DATA_INBAND, 3, 0, 9, p, sizeof(p));
	hdr_set(&t, OFF_WRITE, w);
	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt), 40);
	assert_int_equal(pkt.desc.offset8, 3);
	assert_int_equal(pkt.desc.len8, 5);
	assert_ptr_equal(pkt.payload, buf + 24);
	assert_int_equal(pkt.payload_len, 16);
	assert_memory_equal(pkt.payload, p, sizeof(p));
	assert_int_equal(hdr_get(&t, OFF_READ), 48);

	/* offset8 == len8: a valid packet with no payload at all. */
	w = host_packet(&t, w, VM_PKT_DATA_INBAND, 2, 0, 10, NULL, 0);
	hdr_set(&t, OFF_WRITE, w);
	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt), 16);
	assert_int_equal(pkt.payload_len, 0);
	assert_int_equal(hdr_get(&t, OFF_READ), 72);
	tring_free(&t);
}

static void test_read_empty(void **state)
{
	struct hv_pkt pkt, before;
	struct tring t;
	uint8_t buf[64];

	tring_new(&t, 256);
	set_indexes(&t, 128, 128);
	memset(&pkt, 0x5a, sizeof(pkt));
	before = pkt;
	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt), -EAGAIN);
	assert_memory_equal(&pkt, &before, sizeof(pkt));
	assert_int_equal(hdr_get(&t, OFF_READ), 128);
	tring_free(&t);
}

/* Write one packet starting at start, read it back, check everything. */
static void check_wrapped(uint32_t start, size_t len, uint32_t want_end)
{
	uint8_t payload[64], buf[128];
	struct tring t;
	struct hv_pkt pkt;
	uint32_t w;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0x40 + i);
	tring_new(&t, 256);
	set_indexes(&t, start, start);
	w = host_packet(&t, start, VM_PKT_DATA_INBAND, 2, 1,
			0xfeedfacecafebeefull, payload, len);
	assert_int_equal(w, want_end);
	hdr_set(&t, OFF_WRITE, w);
	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt),
			 (int)(16 + HV_ALIGN8(len)));
	assert_int_equal(pkt.desc.type, VM_PKT_DATA_INBAND);
	assert_int_equal(pkt.desc.offset8, 2);
	assert_int_equal(pkt.desc.len8, (16 + HV_ALIGN8(len)) / 8);
	assert_int_equal(pkt.desc.flags, 1);
	assert_true(pkt.desc.trans_id == 0xfeedfacecafebeefull);
	assert_int_equal(pkt.payload_len, HV_ALIGN8(len));
	assert_memory_equal(pkt.payload, payload, len);
	assert_int_equal(hdr_get(&t, OFF_READ), want_end);
	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt), -EAGAIN);
	tring_free(&t);
}

static void test_wrap_descriptor(void **state)
{
	/* Descriptor: 248..255 then 0..7; payload 8..23; trailer 24..31. */
	check_wrapped(248, 16, 32);
}

static void test_wrap_payload(void **state)
{
	/* Descriptor 224..239; payload 240..255 then 0..15; trailer 16..23. */
	check_wrapped(224, 32, 24);
	/* Odd length: 240..255 then 0..4, padding 5..7, trailer 8..15. */
	check_wrapped(224, 21, 16);
}

static void test_wrap_trailer(void **state)
{
	/* Packet ends exactly at the end; the trailer is at 0..7. */
	check_wrapped(208, 32, 8);
	/* Packet plus trailer end exactly at the end: index wraps to 0. */
	check_wrapped(200, 32, 0);
}

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static uint8_t pattern(uint64_t seq, size_t i)
{
	return (uint8_t)(seq * 31 + i * 7 + (i >> 8));
}

static void test_round_trip(void **state)
{
	enum { SIZE = 1024, QMAX = 64, MAXLEN = 300 };
	struct {
		size_t len;
		uint64_t seq;
	} q[QMAX];
	size_t qhead = 0, qlen = 0;
	uint64_t seq = 0, written = 0;
	uint8_t payload[MAXLEN], buf[16 + MAXLEN + 8];
	unsigned eagain = 0, reads = 0;
	uint32_t rnd = 12345;
	struct tring t;
	struct hv_pkt pkt;

	tring_new(&t, SIZE);
	for (int iter = 0; iter < 20000; iter++) {
		if (xorshift32(&rnd) % 100 < 55) {
			size_t len = xorshift32(&rnd) % MAXLEN;
			size_t total = 16 + HV_ALIGN8(len) + 8;
			uint32_t free_before = hv_ring_bytes_to_write(&t.r);
			uint16_t flags = (uint16_t)(seq & 1);
			int rc;

			for (size_t i = 0; i < len; i++)
				payload[i] = pattern(seq, i);
			rc = hv_ring_write(&t.r, VM_PKT_DATA_INBAND, flags, seq,
					   payload, len);
			if (rc == -EAGAIN) {
				assert_true(total > free_before);
				eagain++;
				continue;
			}
			assert_true(total <= free_before);
			assert_true(qlen < QMAX);
			/* We are the only reader: empty before <=> signal. */
			assert_int_equal(rc, qlen == 0 ? 1 : 0);
			assert_int_equal(hv_ring_bytes_to_write(&t.r),
					 free_before - total);
			q[(qhead + qlen) % QMAX].len = len;
			q[(qhead + qlen) % QMAX].seq = seq;
			qlen++;
			seq++;
			written += total;
		} else {
			int rc = hv_ring_read(&t.r, buf, sizeof(buf), &pkt);
			size_t len;
			uint64_t s;

			if (qlen == 0) {
				assert_int_equal(rc, -EAGAIN);
				continue;
			}
			len = q[qhead].len;
			s = q[qhead].seq;
			assert_int_equal(rc, (int)(16 + HV_ALIGN8(len)));
			assert_true(pkt.desc.trans_id == s);
			assert_int_equal(pkt.desc.type, VM_PKT_DATA_INBAND);
			assert_int_equal(pkt.desc.flags, s & 1);
			assert_int_equal(pkt.payload_len, HV_ALIGN8(len));
			for (size_t i = 0; i < len; i++)
				assert_int_equal(pkt.payload[i], pattern(s, i));
			for (size_t i = len; i < HV_ALIGN8(len); i++)
				assert_int_equal(pkt.payload[i], 0);
			qhead = (qhead + 1) % QMAX;
			qlen--;
			reads++;
		}
	}
	/* The run must have wrapped many times and hit a full ring. */
	assert_true(written > 50 * SIZE);
	assert_true(eagain > 10);
	assert_true(reads > 1000);
	tring_free(&t);
}

static void test_full(void **state)
{
	static const uint8_t p[232];
	struct tring t;
	uint8_t buf[256];
	struct hv_pkt pkt;

	tring_new(&t, 256);
	assert_int_equal(hv_ring_bytes_to_write(&t.r), 248);
	/* 16 + 40 + 8 = 64 */
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 1, p, 40), 1);
	assert_int_equal(hv_ring_bytes_to_read(&t.r), 64);
	assert_int_equal(hv_ring_bytes_to_write(&t.r), 256 - 64 - 8);

	/* 16 + 168 + 8 = 192 would leave 0 free: refused. */
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 2, p, 168), -EAGAIN);
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 2, p, 161), -EAGAIN);
	assert_int_equal(hdr_get(&t, OFF_WRITE), 64);
	/* 16 + 160 + 8 = 184 leaves 8 free: fits. */
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 2, p, 160), 0);
	assert_int_equal(hdr_get(&t, OFF_WRITE), 248);
	assert_int_equal(hv_ring_bytes_to_write(&t.r), 0);
	assert_int_equal(hv_ring_bytes_to_read(&t.r), 248);
	/* Even the smallest packet (24 bytes) is refused now. */
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 3, NULL, 0), -EAGAIN);
	assert_int_equal(hdr_get(&t, OFF_WRITE), 248);

	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt), 56);
	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt), 176);
	assert_true(pkt.desc.trans_id == 2);
	assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt), -EAGAIN);
	assert_int_equal(hv_ring_bytes_to_write(&t.r), 248);
	tring_free(&t);
}

static void test_never_fits(void **state)
{
	static uint8_t p[65535 * 8];
	const size_t maxlen = 65535 * 8 - 16;
	struct tring t;
	struct hv_pkt pkt;
	uint8_t *buf;

	tring_new(&t, 256);
	/* 16 + 232 + 8 = 256 = the whole ring: never. */
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, p, 232), -EMSGSIZE);
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, p, 225), -EMSGSIZE);
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, p, SIZE_MAX), -EMSGSIZE);
	assert_int_equal(hdr_get(&t, OFF_WRITE), 0);
	/* 16 + 224 + 8 = 248 fits an empty ring. */
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, p, 224), 1);
	tring_free(&t);

	/* In a big ring the limit is len8, a u16. */
	tring_new(&t, 1024 * 1024);
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, p, maxlen + 1),
			 -EMSGSIZE);
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, p, sizeof(p)), -EMSGSIZE);
	assert_int_equal(hdr_get(&t, OFF_WRITE), 0);
	for (size_t i = 0; i < maxlen; i++)
		p[i] = (uint8_t)i;
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, p, maxlen), 1);
	buf = malloc(65535 * 8);
	assert_non_null(buf);
	assert_int_equal(hv_ring_read(&t.r, buf, 65535 * 8, &pkt), 65535 * 8);
	assert_int_equal(pkt.desc.len8, 65535);
	assert_int_equal(pkt.payload_len, maxlen);
	assert_memory_equal(pkt.payload, p, maxlen);
	free(buf);
	tring_free(&t);
}

static void test_write_layout(void **state)
{
	uint8_t p[100], d[16], want[16], b[8];
	struct tring t;

	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)(0x80 + i);
	tring_new(&t, 256);
	set_indexes(&t, 96, 96);
	assert_int_equal(hv_ring_write(&t.r, VM_PKT_DATA_INBAND, 1,
				       0x0102030405060708ull, p, 10),
			 1);
	/* 16 + 16 + 8 */
	assert_int_equal(hdr_get(&t, OFF_WRITE), 136);
	host_get(&t, 96, d, 16);
	make_desc(want, VM_PKT_DATA_INBAND, 2, 4, 1, 0x0102030405060708ull);
	assert_memory_equal(d, want, 16);
	host_get(&t, 112, b, 8);
	assert_memory_equal(b, p, 8);
	host_get(&t, 120, b, 8);
	assert_memory_equal(b, p + 8, 2);
	for (int i = 2; i < 8; i++)
		assert_int_equal(b[i], 0); /* padding, was 0xcc */
	host_get(&t, 128, b, 8);
	assert_true(get_le64(b) == (uint64_t)96 << 32);

	/* Next packet: 16 + 104 + 8 = 128 from 136, trailer wraps to 0. */
	assert_int_equal(hv_ring_write(&t.r, VM_PKT_DATA_INBAND, 0, 5, p, 100),
			 0);
	assert_int_equal(hdr_get(&t, OFF_WRITE), 8);
	host_get(&t, 136 + 16, d, 16);
	assert_memory_equal(d, p, 16);
	host_get(&t, 136 + 16 + 100, b, 4);
	assert_int_equal(hv_le32(b), 0);
	host_get(&t, 0, b, 8);
	assert_true(get_le64(b) == (uint64_t)136 << 32);
	tring_free(&t);
}

struct corrupt_case {
	const char *what;
	uint32_t rd, w;
	uint16_t off8, len8;
};

static void test_corrupt(void **state)
{
	static const struct corrupt_case cases[] = {
		{ "len8 beyond data", 0, 40, 2, 10 },
		{ "no room for the trailer", 0, 40, 2, 5 },
		{ "len8 beyond data, wrapped", 240, 32, 2, 6 },
		{ "offset8 0", 0, 40, 0, 4 },
		{ "offset8 1", 0, 40, 1, 4 },
		{ "offset8 > len8", 0, 40, 5, 4 },
		{ "len8 0", 0, 40, 2, 0 },
		{ "fewer bytes than a descriptor and trailer", 0, 16, 2, 2 },
		{ "read_index == size", 256, 40, 2, 4 },
		{ "read_index > size", 0x80000000u, 40, 2, 4 },
		{ "write_index == size", 0, 256, 2, 4 },
		{ "write_index unaligned", 0, 41, 2, 4 },
		{ "read_index unaligned", 4, 40, 2, 4 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct corrupt_case *c = &cases[i];
		struct hv_pkt pkt, before;
		uint8_t buf[512], bufbefore[512], d[16];
		struct tring t;

		print_message("case: %s\n", c->what);
		tring_new(&t, 256);
		make_desc(d, 6, c->off8, c->len8, 0, 77);
		host_put(&t, c->rd < 256 ? c->rd : 0, d, sizeof(d));
		set_indexes(&t, c->rd, c->w);
		memset(&pkt, 0x5a, sizeof(pkt));
		before = pkt;
		memset(buf, 0x3c, sizeof(buf));
		memcpy(bufbefore, buf, sizeof(buf));
		assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt),
				 -EBADMSG);
		assert_int_equal(hdr_get(&t, OFF_READ), c->rd);
		assert_int_equal(hdr_get(&t, OFF_WRITE), c->w);
		assert_memory_equal(&pkt, &before, sizeof(pkt));
		assert_memory_equal(buf, bufbefore, sizeof(buf));
		/* Not consumed: the same answer again. */
		assert_int_equal(hv_ring_read(&t.r, buf, sizeof(buf), &pkt),
				 -EBADMSG);
		tring_free(&t);
	}
}

static void test_corrupt_indexes_write(void **state)
{
	static const uint32_t bad[][2] = {
		{ 256, 0 }, { 0, 256 }, { 3, 0 }, { 0, 12 }, { UINT32_MAX, 8 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct tring t;

		tring_new(&t, 256);
		set_indexes(&t, bad[i][0], bad[i][1]);
		assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, "x", 1),
				 -EBADMSG);
		assert_int_equal(hdr_get(&t, OFF_READ), bad[i][0]);
		assert_int_equal(hdr_get(&t, OFF_WRITE), bad[i][1]);
		assert_int_equal(t.data[0], 0xcc);
		assert_int_equal(hv_ring_bytes_to_read(&t.r), 0);
		assert_int_equal(hv_ring_bytes_to_write(&t.r), 0);
		tring_free(&t);
	}
}

static void test_small_buffer(void **state)
{
	static const uint8_t a[32] = { 1 }, b[8] = { 2 };
	uint8_t buf[48], untouched[48];
	struct hv_pkt pkt;
	struct tring t;
	uint32_t w;

	tring_new(&t, 256);
	w = host_packet(&t, 0, 6, 2, 0, 1, a, sizeof(a)); /* 48 bytes */
	w = host_packet(&t, w, 6, 2, 0, 2, b, sizeof(b)); /* 24 bytes */
	hdr_set(&t, OFF_WRITE, w);

	memset(buf, 0x77, sizeof(buf));
	memcpy(untouched, buf, sizeof(buf));
	assert_int_equal(hv_ring_read(&t.r, buf, 47, &pkt), -EMSGSIZE);
	/* Skipped, trailer included. */
	assert_int_equal(hdr_get(&t, OFF_READ), 56);
	assert_memory_equal(buf, untouched, sizeof(buf));
	assert_int_equal(hv_ring_read(&t.r, buf, 24, &pkt), 24);
	assert_true(pkt.desc.trans_id == 2);
	assert_int_equal(hv_ring_read(&t.r, buf, 24, &pkt), -EAGAIN);

	/* A buffer of exactly len8*8 is enough. */
	set_indexes(&t, 0, w);
	assert_int_equal(hv_ring_read(&t.r, buf, 48, &pkt), 48);
	assert_true(pkt.desc.trans_id == 1);
	assert_memory_equal(pkt.payload, a, sizeof(a));
	tring_free(&t);
}

static void test_signal(void **state)
{
	struct tring t;

	tring_new(&t, 256);
	/* Empty -> non-empty, host listening: signal. */
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, "a", 1), 1);
	/* Host has not caught up: it will see this one without a signal. */
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, "b", 1), 0);
	/* Host drains everything, then we write again. */
	hdr_set(&t, OFF_READ, hdr_get(&t, OFF_WRITE));
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, "c", 1), 1);
	/* Host masked: no signal even on empty -> non-empty. */
	hdr_set(&t, OFF_READ, hdr_get(&t, OFF_WRITE));
	hdr_set(&t, OFF_IMASK, 1);
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, "d", 1), 0);
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, "e", 1), 0);
	hdr_set(&t, OFF_READ, hdr_get(&t, OFF_WRITE));
	hdr_set(&t, OFF_IMASK, 0);
	assert_int_equal(hv_ring_write(&t.r, 6, 0, 0, "f", 1), 1);
	tring_free(&t);
}

static void test_counts_and_flags(void **state)
{
	struct tring t;

	tring_new(&t, 256);
	set_indexes(&t, 200, 40);
	assert_int_equal(hv_ring_bytes_to_read(&t.r), 96);
	assert_int_equal(hv_ring_bytes_to_write(&t.r), 256 - 96 - 8);
	set_indexes(&t, 40, 200);
	assert_int_equal(hv_ring_bytes_to_read(&t.r), 160);
	assert_int_equal(hv_ring_bytes_to_write(&t.r), 256 - 160 - 8);

	hv_ring_set_interrupt_mask(&t.r, true);
	assert_int_equal(hdr_get(&t, OFF_IMASK), 1);
	hv_ring_set_interrupt_mask(&t.r, false);
	assert_int_equal(hdr_get(&t, OFF_IMASK), 0);
	hv_ring_set_pending_send(&t.r, 0x1234);
	assert_int_equal(hdr_get(&t, OFF_PENDING), 0x1234);
	hv_ring_set_pending_send(&t.r, 0);
	assert_int_equal(hdr_get(&t, OFF_PENDING), 0);
	/* Neither touched the indexes. */
	assert_int_equal(hdr_get(&t, OFF_READ), 40);
	assert_int_equal(hdr_get(&t, OFF_WRITE), 200);
	tring_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_read_single),
		cmocka_unit_test(test_read_two_packets),
		cmocka_unit_test(test_read_offset8),
		cmocka_unit_test(test_read_empty),
		cmocka_unit_test(test_wrap_descriptor),
		cmocka_unit_test(test_wrap_payload),
		cmocka_unit_test(test_wrap_trailer),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_never_fits),
		cmocka_unit_test(test_write_layout),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_corrupt_indexes_write),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_counts_and_flags),
	};

	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
