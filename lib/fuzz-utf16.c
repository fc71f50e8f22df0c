/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Both conversions over host bytes with small output buffers. The first
 * input byte picks the output size, the rest is the string. Invariants:
 * no access outside the buffers (ASan, exact heap copies), outputs always
 * terminated, lengths as reported, and a successful conversion converts
 * back to exactly the input.
 */
#include "hvis/utf16.h"
#include "hvis/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *dup_exact(const uint8_t *p, size_t n)
{
	void *b = malloc(n ? n : 1);

	if (b)
		memcpy(b, p, n);
	return b;
}

/* UTF-16 first; success must round-trip to the same units. */
static void from_utf16(const uint8_t *in, size_t len, size_t out_size)
{
	size_t units = len / 2;
	char *out = malloc(out_size ? out_size : 1);
	uint8_t *back = malloc(2 * (units + 1));
	ssize_t r, r2, n16;

	if (!out || !back)
		goto out;
	r = hv_utf16_to_utf8(in, units, out, out_size);
	n16 = hv_utf16_len(in, units);
	if (r < 0) {
		if (r != -E2BIG && r != -EILSEQ)
			abort();
		if (out_size > 0 && strnlen(out, out_size) == out_size)
			abort();
		goto out;
	}
	if ((size_t)r >= out_size || strlen(out) != (size_t)r)
		abort();

	r2 = hv_utf8_to_utf16(out, (size_t)r, back, units + 1);
	if (n16 < 0)
		n16 = (ssize_t)units;
	if (r2 != n16 || memcmp(back, in, 2 * (size_t)n16) != 0 ||
	    hv_le16(back + 2 * n16) != 0)
		abort();
out:
	free(out);
	free(back);
}

/* UTF-8 first; success must round-trip to the same bytes up to a NUL. */
static void from_utf8(const uint8_t *in, size_t len, size_t out_units)
{
	size_t n8 = strnlen((const char *)in, len);
	uint8_t *out = malloc(out_units ? 2 * out_units : 1);
	char *back = malloc(n8 + 1);
	ssize_t r, r2;

	if (!out || !back)
		goto out;
	r = hv_utf8_to_utf16((const char *)in, len, out, out_units);
	if (r < 0) {
		if (r != -E2BIG && r != -EILSEQ)
			abort();
		if (out_units > 0 && hv_utf16_len(out, out_units) < 0)
			abort();
		goto out;
	}
	if ((size_t)r >= out_units || hv_utf16_len(out, out_units) != r)
		abort();

	r2 = hv_utf16_to_utf8(out, (size_t)r, back, n8 + 1);
	if (r2 < 0 || (size_t)r2 != n8 || memcmp(back, in, n8) != 0)
		abort();
out:
	free(out);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t out_size;
	uint8_t *in;

	if (size < 1)
		return 0;
	out_size = data[0] % 64;
	in = dup_exact(data + 1, size - 1);
	if (!in)
		return 0;

	from_utf16(in, size - 1, out_size);
	from_utf16(in, size - 1, 4 * size + 1);
	from_utf8(in, size - 1, out_size);
	from_utf8(in, size - 1, size + 1);
	free(in);
	return 0;
}
