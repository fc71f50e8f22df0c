/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host payloads into hv_ic_parse() and hv_ic_negotiate() for each IC's
 * version sets. Invariants: nothing outside the payload is touched (ASan,
 * exact heap copies), the reply keeps the request length, is flagged as a
 * response with a status matching the result, and a match names versions
 * we offered.
 */
#include <stdbool.h>

#include "hvis/icmsg.h"
#include "hvis/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct vset {
	const uint32_t *fw, *svc;
	size_t nfw, nsvc;
};

static const uint32_t fw_both[] = { HV_IC_VERSION(3, 0), HV_IC_VERSION(1, 0) };
static const uint32_t fw_3[] = { HV_IC_VERSION(3, 0) };
static const uint32_t svc_kvp[] = { HV_IC_VERSION(4, 0), HV_IC_VERSION(3, 0),
				    HV_IC_VERSION(1, 0) };
static const uint32_t svc_vss[] = { HV_IC_VERSION(5, 0) };
static const uint32_t svc_fcopy[] = { HV_IC_VERSION(1, 1) };

static const struct vset sets[] = {
	{ fw_both, svc_kvp, ARRAY_SIZE(fw_both), ARRAY_SIZE(svc_kvp) },
	{ fw_3, svc_vss, ARRAY_SIZE(fw_3), ARRAY_SIZE(svc_vss) },
	{ fw_3, svc_fcopy, ARRAY_SIZE(fw_3), ARRAY_SIZE(svc_fcopy) },
};

static bool offered(const uint32_t *v, size_t n, uint32_t want)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == want)
			return true;
	return false;
}

static void check_set(const uint8_t *data, size_t size, const struct vset *s)
{
	uint8_t *buf = malloc(size ? size : 1);
	uint32_t fw = 0, svc = 0;
	struct hv_ic_msg m;
	int r;

	if (!buf)
		return;
	memcpy(buf, data, size);

	r = hv_ic_parse(buf, size, &m);
	if (r < 0) {
		if (size >= ICMSG_HDR)
			abort();
		free(buf);
		return;
	}
	if (m.len != size || m.body != buf + ICMSG_HDR ||
	    m.body_len != size - ICMSG_HDR)
		abort();

	r = hv_ic_negotiate(&m, s->fw, s->nfw, s->svc, s->nsvc, &fw, &svc);
	if (m.len != size || buf[25] != 5 || m.hdr.icflags != 5)
		abort();
	/* The pipe header is the host's and is echoed unchanged. */
	if (memcmp(buf, data, 8) != 0)
		abort();
	if (hv_le32(buf + 20) != (r == 0 ? HV_S_OK : HV_E_FAIL))
		abort();
	if (r == 0) {
		if (!offered(s->fw, s->nfw, fw) ||
		    !offered(s->svc, s->nsvc, svc))
			abort();
		if (hv_le16(buf + 28) != 1 || hv_le16(buf + 30) != 1 ||
		    hv_le32(buf + 36) != (fw >> 16 | fw << 16) ||
		    hv_le32(buf + 40) != (svc >> 16 | svc << 16))
			abort();
	} else if (r == -ENOTSUP || r == -EBADMSG) {
		if (size >= 32 &&
		    (hv_le16(buf + 28) != 0 || hv_le16(buf + 30) != 0))
			abort();
	} else {
		abort();
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		check_set(data, size, &sets[i]);
	return 0;
}
