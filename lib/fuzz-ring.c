/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The input is a hostile host's ring: bytes 0-3 write_index, 4-7
 * read_index (little endian), 8-9 the reader's buffer size, then the data
 * area (its length rounded down to a multiple of 8). The region and the
 * buffer are exact-size heap blocks so a read past either is caught.
 * Besides memory safety, the invariants of hv_ring_read are checked, and
 * a packet written into a ring the reader found empty must read back.
 */
#include <stdlib.h>

#include "hvis/ring.h"
#include "hvis/util.h"

#define INPUT_HDR 10

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* Drain the ring; returns the error that stopped it. */
static int drain(struct hv_ring *r, uint8_t *buf, size_t bufsize)
{
	struct hv_pkt pkt;
	int rc = -EAGAIN;

	/* Every packet moves the reader forward by at least 24 bytes. */
	for (uint32_t i = 0; i <= r->size / 24; i++) {
		uint32_t before = hv_ring_bytes_to_read(r);

		rc = hv_ring_read(r, buf, bufsize, &pkt);
		if (rc == -EMSGSIZE)
			continue;
		if (rc < 0)
			return rc;
		check(rc >= 16 && (size_t)rc <= bufsize && rc % 8 == 0);
		check(pkt.desc.offset8 >= 2 && pkt.desc.len8 * 8 == rc);
		check(pkt.payload == buf + pkt.desc.offset8 * 8);
		check(pkt.payload_len == (size_t)rc - pkt.desc.offset8 * 8u);
		check(hv_ring_bytes_to_read(r) == before - (uint32_t)rc - 8);
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *region, *buf, out[16 + 64];
	size_t dsize, bufsize, len;
	struct hv_ring r;
	struct hv_pkt pkt;
	int rc;

	if (size < INPUT_HDR + 8)
		return 0;
	dsize = (size - INPUT_HDR) & ~(size_t)7;
	bufsize = hv_le16(data + 8);

	region = malloc(HV_RING_HDR_SIZE + dsize);
	buf = malloc(bufsize ? bufsize : 1);
	if (!region || !buf)
		abort();
	memset(region, 0, HV_RING_HDR_SIZE);
	memcpy(region, data, 8);
	memcpy(region + HV_RING_HDR_SIZE, data + INPUT_HDR, dsize);
	check(hv_ring_init(&r, region, HV_RING_HDR_SIZE + dsize) == 0);

	if (hv_ring_bytes_to_read(&r) || hv_ring_bytes_to_write(&r))
		check(hv_ring_bytes_to_read(&r) + hv_ring_bytes_to_write(&r) +
			      8 ==
		      dsize);

	rc = drain(&r, buf, bufsize);
	check(rc == -EAGAIN || rc == -EBADMSG);

	/* An empty, sane ring must carry one of our packets intact. */
	len = HV_MIN((size_t)data[8] % 64, dsize);
	rc = hv_ring_write(&r, VM_PKT_DATA_INBAND, 0, 7, data + INPUT_HDR, len);
	if (rc >= 0 && hv_ring_bytes_to_read(&r) == 16 + HV_ALIGN8(len) + 8) {
		check(hv_ring_read(&r, out, sizeof(out), &pkt) ==
		      (int)(16 + HV_ALIGN8(len)));
		check(pkt.desc.trans_id == 7 && pkt.payload_len >= len);
		check(memcmp(pkt.payload, data + INPUT_HDR, len) == 0);
	}

	free(buf);
	free(region);
	return 0;
}
