/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IC framing and negotiation. Packets are laid out byte by byte from
 * protocol.md §1.2/§1.3 here rather than with library helpers, so a wrong
 * offset in lib/icmsg.c cannot cancel out. Each packet lives in a heap
 * buffer of exactly its length so ASan catches any write past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hvis/icmsg.h"
#include "hvis/util.h"

/* §1.2 offsets within the payload */
#define P_ICVERFRAME 8
#define P_ICMSGTYPE 12
#define P_ICVERMSG 14
#define P_ICMSGSIZE 18
#define P_STATUS 20
#define P_TRANSID 24
#define P_ICFLAGS 25
#define P_RESERVED 26
/* §1.3 offsets */
#define P_FC 28
#define P_MC 30
#define P_NEG_RESERVED 32
#define P_SLOTS 36

#define V(maj, min) HV_IC_VERSION(maj, min)
#define SENTINEL 0xdeadbeefu

static const uint32_t kvp_fw[] = { V(3, 0), V(1, 0) };
static const uint32_t kvp_svc[] = { V(4, 0), V(3, 0), V(1, 0) };

static void w16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = (uint8_t)(v & 0xff);
	p[off + 1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, size_t off, uint32_t v)
{
	w16(p, off, (uint16_t)(v & 0xffff));
	w16(p, off + 2, (uint16_t)(v >> 16));
}

static uint16_t r16(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] | p[off + 1] << 8);
}

static uint32_t r32(const uint8_t *p, size_t off)
{
	return (uint32_t)r16(p, off) | (uint32_t)r16(p, off + 2) << 16;
}

/*
 * A host NEGOTIATE with counts fc/mc and the given versions (nver of them,
 * framework first), in an exact heap buffer of len bytes (len may cut the
 * packet short or leave it longer than its counts claim). Header fields
 * carry recognisable values so the tests can see what was rewritten.
 */
static uint8_t *host_negotiate(size_t len, uint16_t fc, uint16_t mc,
			       const uint32_t *ver, size_t nver)
{
	uint8_t full[28 + 8 + 4 * 400];
	uint8_t *buf;

	assert_true(len <= sizeof(full));
	memset(full, 0xa5, sizeof(full));
	w32(full, 0, 1); /* pipe flags */
	w32(full, 4, (uint32_t)len - 8); /* pipe msgsize */
	w16(full, P_ICVERFRAME, 1); /* framework 1.0 */
	w16(full, P_ICVERFRAME + 2, 0);
	w16(full, P_ICMSGTYPE, 0); /* NEGOTIATE */
	w16(full, P_ICVERMSG, 1);
	w16(full, P_ICVERMSG + 2, 0);
	w16(full, P_ICMSGSIZE, 0x7777); /* lies; must not matter */
	w32(full, P_STATUS, 0x12345678);
	full[P_TRANSID] = 0x42;
	full[P_ICFLAGS] = 3; /* TRANSACTION|REQUEST */
	full[P_RESERVED] = 0;
	full[P_RESERVED + 1] = 0;
	w16(full, P_FC, fc);
	w16(full, P_MC, mc);
	w32(full, P_NEG_RESERVED, 0);
	for (size_t i = 0; i < nver; i++) {
		w16(full, P_SLOTS + 4 * i, HV_IC_VERSION_MAJOR(ver[i]));
		w16(full, P_SLOTS + 4 * i + 2, HV_IC_VERSION_MINOR(ver[i]));
	}
	buf = malloc(len ? len : 1);
	assert_non_null(buf);
	memcpy(buf, full, len);
	return buf;
}

static size_t neg_len(size_t nver)
{
	return 28 + 8 + 4 * nver;
}

static void assert_slot(const uint8_t *p, size_t i, uint16_t maj, uint16_t min)
{
	assert_int_equal(r16(p, P_SLOTS + 4 * i), maj);
	assert_int_equal(r16(p, P_SLOTS + 4 * i + 2), min);
}

static void assert_reply_hdr(const uint8_t *p, const struct hv_ic_msg *m,
			     size_t len, uint32_t status)
{
	assert_int_equal(m->len, len);
	assert_int_equal(r32(p, P_STATUS), status);
	assert_int_equal(m->hdr.status, status);
	assert_int_equal(p[P_ICFLAGS], 5);
	assert_int_equal(m->hdr.icflags, 5);
	/* What the host owns in the header is echoed unchanged. */
	assert_int_equal(r32(p, 0), 1);
	assert_int_equal(r32(p, 4), len - 8);
	assert_int_equal(r16(p, P_ICMSGTYPE), 0);
	assert_int_equal(p[P_TRANSID], 0x42);
}

/*
 * Parse and negotiate as the KVP guest; check the reply framing common to
 * every outcome and return the negotiate result.
 */
static int kvp_negotiate(uint8_t *p, size_t len, uint32_t *fw, uint32_t *svc)
{
	uint8_t *padded = malloc(len + 16);
	struct hv_ic_msg m;
	int r, r2;

	/*
	 * The same request in a larger buffer with a canary after it: without
	 * ASan this still shows a write past len.
	 */
	assert_non_null(padded);
	memcpy(padded, p, len);
	memset(padded + len, 0xc3, 16);
	assert_int_equal(hv_ic_parse(padded, len, &m), 0);
	r2 = hv_ic_negotiate(&m, kvp_fw, ARRAY_SIZE(kvp_fw), kvp_svc,
			     ARRAY_SIZE(kvp_svc), NULL, NULL);
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(padded[len + i], 0xc3);

	assert_int_equal(hv_ic_parse(p, len, &m), 0);
	r = hv_ic_negotiate(&m, kvp_fw, ARRAY_SIZE(kvp_fw), kvp_svc,
			    ARRAY_SIZE(kvp_svc), fw, svc);
	assert_int_equal(r, r2);
	assert_memory_equal(p, padded, len);
	free(padded);
	assert_reply_hdr(p, &m, len, r == 0 ? HV_S_OK : HV_E_FAIL);
	if (len >= 32) {
		assert_int_equal(r16(p, P_ICMSGSIZE), 0x10);
		assert_int_equal(m.hdr.icmsgsize, 0x10);
	}
	return r;
}

static void test_negotiate_kvp_prefers_newest(void **state)
{
	const uint32_t host[] = { V(1, 0), V(3, 0), V(3, 0), V(4, 0) };
	size_t len = neg_len(4);
	uint8_t *p = host_negotiate(len, 2, 2, host, 4);
	uint32_t fw = SENTINEL, svc = SENTINEL;

	assert_int_equal(kvp_negotiate(p, len, &fw, &svc), 0);
	assert_int_equal(fw, V(3, 0));
	assert_int_equal(svc, V(4, 0));
	assert_int_equal(r16(p, P_FC), 1);
	assert_int_equal(r16(p, P_MC), 1);
	assert_slot(p, 0, 3, 0);
	assert_slot(p, 1, 4, 0);
	/* The host's slots past the answer are left as they were. */
	assert_slot(p, 2, 3, 0);
	assert_slot(p, 3, 4, 0);
	free(p);
}

static void test_negotiate_old_host(void **state)
{
	const uint32_t host[] = { V(1, 0), V(1, 0) };
	size_t len = neg_len(2);
	uint8_t *p = host_negotiate(len, 1, 1, host, 2);
	uint32_t fw = SENTINEL, svc = SENTINEL;

	assert_int_equal(kvp_negotiate(p, len, &fw, &svc), 0);
	assert_int_equal(fw, V(1, 0));
	assert_int_equal(svc, V(1, 0));
	assert_int_equal(r16(p, P_FC), 1);
	assert_int_equal(r16(p, P_MC), 1);
	assert_slot(p, 0, 1, 0);
	assert_slot(p, 1, 1, 0);
	free(p);
}

static void test_negotiate_no_common_service(void **state)
{
	const uint32_t host[] = { V(3, 0), V(2, 0), V(5, 0), V(4, 1) };
	size_t len = neg_len(4);
	uint8_t *p = host_negotiate(len, 1, 3, host, 4);
	uint32_t fw = SENTINEL, svc = SENTINEL;

	assert_int_equal(kvp_negotiate(p, len, &fw, &svc), -ENOTSUP);
	assert_int_equal(fw, SENTINEL);
	assert_int_equal(svc, SENTINEL);
	assert_int_equal(r16(p, P_FC), 0);
	assert_int_equal(r16(p, P_MC), 0);
	/* §1.3 quirk: matched framework kept, service slot = host's count */
	assert_slot(p, 0, 3, 0);
	assert_slot(p, 1, 3, 0);
	free(p);
}

static void test_negotiate_no_common_framework(void **state)
{
	const uint32_t host[] = { V(2, 0), V(3, 1), V(4, 0) };
	size_t len = neg_len(3);
	uint8_t *p = host_negotiate(len, 2, 1, host, 3);

	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -ENOTSUP);
	assert_int_equal(r16(p, P_FC), 0);
	assert_int_equal(r16(p, P_MC), 0);
	assert_slot(p, 0, 2, 0);
	assert_slot(p, 1, 1, 0);
	free(p);
}

/* Framework and service versions are looked up only in their own slice. */
static void test_negotiate_slices_separate(void **state)
{
	const uint32_t svc_in_fw[] = { V(3, 0), V(4, 0), V(9, 0) };
	const uint32_t fw_in_svc[] = { V(2, 0), V(3, 0), V(4, 0) };
	uint8_t *p;
	size_t len = neg_len(3);

	p = host_negotiate(len, 2, 1, svc_in_fw, 3);
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -ENOTSUP);
	free(p);

	p = host_negotiate(len, 1, 2, fw_in_svc, 3);
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -ENOTSUP);
	free(p);
}

static void test_negotiate_null_outputs(void **state)
{
	const uint32_t host[] = { V(3, 0), V(4, 0) };
	size_t len = neg_len(2);
	uint8_t *p = host_negotiate(len, 1, 1, host, 2);

	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), 0);
	assert_slot(p, 0, 3, 0);
	assert_slot(p, 1, 4, 0);
	free(p);
}

static void test_negotiate_count_101(void **state)
{
	uint32_t host[202];
	uint8_t *p;
	size_t len;

	for (size_t i = 0; i < ARRAY_SIZE(host); i++)
		host[i] = V(3, 0);

	len = neg_len(101 + 1);
	p = host_negotiate(len, 101, 1, host, 102);
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -EBADMSG);
	assert_int_equal(r16(p, P_FC), 0);
	assert_int_equal(r16(p, P_MC), 0);
	assert_slot(p, 0, 101, 0);
	assert_slot(p, 1, 1, 0);
	free(p);

	len = neg_len(1 + 101);
	p = host_negotiate(len, 1, 101, host, 102);
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -EBADMSG);
	assert_slot(p, 0, 1, 0);
	assert_slot(p, 1, 101, 0);
	free(p);

	/* Counts that would overflow 16-bit arithmetic in a careless sum. */
	len = neg_len(2);
	p = host_negotiate(len, 0xffff, 0xffff, host, 2);
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -EBADMSG);
	assert_slot(p, 0, 0xffff, 0);
	assert_slot(p, 1, 0xffff, 0);
	free(p);
}

static void test_negotiate_count_100(void **state)
{
	uint32_t host[200];
	size_t len = neg_len(200);
	uint32_t fw = 0, svc = 0;
	uint8_t *p;

	for (size_t i = 0; i < 100; i++) {
		host[i] = V(7, (uint16_t)i);
		host[100 + i] = V(8, (uint16_t)i);
	}
	host[99] = V(1, 0);
	host[199] = V(3, 0);
	p = host_negotiate(len, 100, 100, host, 200);
	assert_int_equal(kvp_negotiate(p, len, &fw, &svc), 0);
	assert_int_equal(fw, V(1, 0));
	assert_int_equal(svc, V(3, 0));
	assert_slot(p, 0, 1, 0);
	assert_slot(p, 1, 3, 0);
	free(p);
}

static void test_negotiate_shorter_than_counts(void **state)
{
	const uint32_t host[] = { V(3, 0), V(1, 0), V(4, 0), V(3, 0) };
	size_t len = neg_len(3);
	uint8_t *p = host_negotiate(len, 2, 2, host, 3);

	/* One byte short of the claimed fourth slot still counts. */
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -EBADMSG);
	assert_int_equal(r16(p, P_FC), 0);
	assert_int_equal(r16(p, P_MC), 0);
	assert_slot(p, 0, 2, 0);
	assert_slot(p, 1, 2, 0);
	free(p);

	len = neg_len(4) - 1;
	p = host_negotiate(len, 2, 2, host, 4);
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -EBADMSG);
	free(p);

	/* Longer than the counts claim is fine. */
	len = neg_len(4) + 13;
	p = host_negotiate(len, 2, 2, host, 4);
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), 0);
	free(p);
}

/* 28..35 bytes: header present, counts (or the reserved word) missing. */
static void test_negotiate_truncated_body(void **state)
{
	for (size_t len = 28; len < 36; len++) {
		uint8_t *p = host_negotiate(len, 1, 1, NULL, 0);
		uint8_t before[36];

		memcpy(before, p, len);
		assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -EBADMSG);
		if (len < 32) {
			/* Only status and icflags change. */
			assert_memory_equal(p, before, 20);
			assert_memory_equal(p + 24, before + 24, 1);
			assert_memory_equal(p + 26, before + 26, len - 26);
		} else {
			assert_int_equal(r16(p, P_FC), 0);
			assert_int_equal(r16(p, P_MC), 0);
			assert_memory_equal(p + 32, before + 32, len - 32);
		}
		free(p);
	}
}

/* Shorter than the IC header: nothing to answer, nothing touched. */
static void test_negotiate_no_header(void **state)
{
	for (size_t len = 0; len < 28; len++) {
		uint8_t *p = host_negotiate(len, 1, 1, NULL, 0);
		uint8_t before[28];
		struct hv_ic_msg m = { .buf = p, .len = len };

		memcpy(before, p, len);
		assert_int_equal(hv_ic_negotiate(&m, kvp_fw, 2, kvp_svc, 3,
						 NULL, NULL),
				 -EBADMSG);
		assert_memory_equal(p, before, len);
		hv_ic_set_response(&m, HV_E_FAIL);
		assert_memory_equal(p, before, len);
		free(p);
	}
}

/*
 * A single version in total leaves room for one slot: the reply must not
 * write the second (ASan checks, the buffer is exactly 40 bytes).
 */
static void test_negotiate_one_slot(void **state)
{
	const uint32_t fw3[] = { V(3, 0) };
	const uint32_t svc4[] = { V(4, 0) };
	size_t len = neg_len(1);
	uint8_t *p;

	p = host_negotiate(len, 1, 0, fw3, 1);
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -ENOTSUP);
	assert_int_equal(r16(p, P_FC), 0);
	assert_int_equal(r16(p, P_MC), 0);
	assert_slot(p, 0, 3, 0);
	free(p);

	p = host_negotiate(len, 0, 1, svc4, 1);
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -ENOTSUP);
	assert_slot(p, 0, 0, 0);
	free(p);

	/* Claims two versions but has room for one. */
	p = host_negotiate(len, 1, 1, fw3, 1);
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -EBADMSG);
	assert_slot(p, 0, 1, 0);
	free(p);

	/* Empty offer, no slots at all. */
	len = neg_len(0);
	p = host_negotiate(len, 0, 0, NULL, 0);
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -ENOTSUP);
	free(p);
}

static void test_negotiate_exact_version_match(void **state)
{
	const uint32_t host[] = { V(3, 1), V(4, 0) };
	const uint32_t vss_fw[] = { V(3, 0) };
	const uint32_t vss_svc[] = { V(5, 0) };
	size_t len = neg_len(2);
	uint8_t *p = host_negotiate(len, 1, 1, host, 2);
	struct hv_ic_msg m;

	/* 3.1 is not 3.0: major alone does not match. */
	assert_int_equal(kvp_negotiate(p, len, NULL, NULL), -ENOTSUP);
	free(p);

	/* No versions of ours at all. */
	p = host_negotiate(len, 1, 1, (const uint32_t[]){ V(3, 0), V(5, 0) },
			   2);
	assert_int_equal(hv_ic_parse(p, len, &m), 0);
	assert_int_equal(hv_ic_negotiate(&m, NULL, 0, vss_svc, 1, NULL, NULL),
			 -ENOTSUP);
	free(p);

	p = host_negotiate(len, 1, 1, (const uint32_t[]){ V(3, 0), V(5, 0) },
			   2);
	assert_int_equal(hv_ic_parse(p, len, &m), 0);
	assert_int_equal(hv_ic_negotiate(&m, vss_fw, 1, vss_svc, 1, NULL, NULL),
			 0);
	assert_slot(p, 1, 5, 0);
	free(p);
}

/* The payload may sit at any address; fields are read byte-wise. */
static void test_negotiate_unaligned(void **state)
{
	const uint32_t host[] = { V(1, 0), V(3, 0), V(3, 0), V(4, 0) };
	size_t len = neg_len(4);
	uint8_t *src = host_negotiate(len, 2, 2, host, 4);
	uint8_t *raw = malloc(len + 3);
	uint32_t fw = 0, svc = 0;

	assert_non_null(raw);
	for (size_t shift = 1; shift < 4; shift++) {
		uint8_t *p = raw + shift;

		memcpy(p, src, len);
		assert_int_equal(kvp_negotiate(p, len, &fw, &svc), 0);
		assert_int_equal(fw, V(3, 0));
		assert_int_equal(svc, V(4, 0));
	}
	free(raw);
	free(src);
}

static void test_parse(void **state)
{
	size_t len = 28 + 5;
	uint8_t *p = host_negotiate(len, 0, 0, NULL, 0);
	struct hv_ic_msg m;

	p[P_ICMSGTYPE] = ICMSGTYPE_KVPEXCHANGE;
	w16(p, P_ICVERMSG, 4);
	w16(p, P_ICVERMSG + 2, 1);
	assert_int_equal(hv_ic_parse(p, len, &m), 0);
	assert_ptr_equal(m.buf, p);
	assert_int_equal(m.len, len);
	assert_ptr_equal(m.body, p + 28);
	/* icmsgsize says 0x7777; the body length comes from len alone. */
	assert_int_equal(m.body_len, 5);
	assert_int_equal(m.hdr.icmsgsize, 0x7777);
	assert_int_equal(m.hdr.icverframe.major, 1);
	assert_int_equal(m.hdr.icmsgtype, ICMSGTYPE_KVPEXCHANGE);
	assert_int_equal(m.hdr.icvermsg.major, 4);
	assert_int_equal(m.hdr.icvermsg.minor, 1);
	assert_int_equal(m.hdr.status, 0x12345678);
	assert_int_equal(m.hdr.ictransaction_id, 0x42);
	assert_int_equal(m.hdr.icflags, 3);
	/* The copy is independent of later changes to the buffer. */
	p[P_ICMSGTYPE] = 9;
	assert_int_equal(m.hdr.icmsgtype, ICMSGTYPE_KVPEXCHANGE);
	free(p);

	/* Exactly the header: an empty body. */
	p = host_negotiate(28, 0, 0, NULL, 0);
	assert_int_equal(hv_ic_parse(p, 28, &m), 0);
	assert_int_equal(m.body_len, 0);
	assert_ptr_equal(m.body, p + 28);
	free(p);
}

static void test_parse_short(void **state)
{
	struct hv_ic_msg m;

	for (size_t len = 0; len < 28; len++) {
		uint8_t *p = host_negotiate(len, 0, 0, NULL, 0);

		memset(&m, 0x5a, sizeof(m));
		assert_int_equal(hv_ic_parse(p, len, &m), -EBADMSG);
		/* ret_ is written only on success */
		assert_int_equal(m.len, (size_t)0x5a5a5a5a5a5a5a5aull);
		free(p);
	}
	assert_int_equal(hv_ic_parse(NULL, 100, &m), -EBADMSG);
}

static void test_set_response(void **state)
{
	size_t len = 40;
	uint8_t *p = host_negotiate(len, 0, 0, NULL, 0);
	uint8_t before[40];
	struct hv_ic_msg m;

	memcpy(before, p, len);
	assert_int_equal(hv_ic_parse(p, len, &m), 0);
	hv_ic_set_response(&m, HV_ERROR_DISK_FULL);
	assert_int_equal(p[P_STATUS], 0x70);
	assert_int_equal(p[P_STATUS + 1], 0x00);
	assert_int_equal(p[P_STATUS + 2], 0x07);
	assert_int_equal(p[P_STATUS + 3], 0x80);
	assert_int_equal(p[P_ICFLAGS], 5);
	assert_int_equal(m.hdr.status, HV_ERROR_DISK_FULL);
	assert_int_equal(m.hdr.icflags, 5);
	/* Nothing else changes. */
	assert_memory_equal(p, before, P_STATUS);
	assert_int_equal(p[P_TRANSID], before[P_TRANSID]);
	assert_memory_equal(p + P_RESERVED, before + P_RESERVED,
			    len - P_RESERVED);

	hv_ic_set_response(&m, HV_S_OK);
	assert_int_equal(r32(p, P_STATUS), 0);
	assert_int_equal(m.hdr.status, 0);
	free(p);
}

static void test_status_from_errno(void **state)
{
	assert_int_equal(hv_status_from_errno(0), HV_S_OK);
	assert_int_equal(hv_status_from_errno(-EEXIST),
			 HV_ERROR_ALREADY_EXISTS);
	assert_int_equal(hv_status_from_errno(-ENOSPC), HV_ERROR_DISK_FULL);
	assert_int_equal(hv_status_from_errno(-EDQUOT), HV_ERROR_DISK_FULL);
	assert_int_equal(hv_status_from_errno(-EINVAL), HV_E_FAIL);
	assert_int_equal(hv_status_from_errno(EEXIST), HV_ERROR_ALREADY_EXISTS);
	assert_int_equal(hv_status_from_errno(-ENODEV), HV_E_FAIL);
	assert_int_equal(hv_status_from_errno(-ENXIO), HV_E_FAIL);
	assert_int_equal(hv_status_from_errno(-ENOENT), HV_E_FAIL);
	assert_int_equal(hv_status_from_errno(-EIO), HV_E_FAIL);
	assert_int_equal(hv_status_from_errno(-EBADMSG), HV_E_FAIL);
	assert_int_equal(hv_status_from_errno(-12345), HV_E_FAIL);
	assert_int_equal(hv_status_from_errno(INT32_MIN), HV_E_FAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiate_kvp_prefers_newest),
		cmocka_unit_test(test_negotiate_old_host),
		cmocka_unit_test(test_negotiate_no_common_service),
		cmocka_unit_test(test_negotiate_no_common_framework),
		cmocka_unit_test(test_negotiate_slices_separate),
		cmocka_unit_test(test_negotiate_null_outputs),
		cmocka_unit_test(test_negotiate_count_101),
		cmocka_unit_test(test_negotiate_count_100),
		cmocka_unit_test(test_negotiate_shorter_than_counts),
		cmocka_unit_test(test_negotiate_truncated_body),
		cmocka_unit_test(test_negotiate_no_header),
		cmocka_unit_test(test_negotiate_one_slot),
		cmocka_unit_test(test_negotiate_exact_version_match),
		cmocka_unit_test(test_negotiate_unaligned),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_short),
		cmocka_unit_test(test_set_response),
		cmocka_unit_test(test_status_from_errno),
	};

	return cmocka_run_group_tests_name("icmsg", tests, NULL, NULL);
}
