/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * os-release and legacy release-file parsing over arbitrary bytes: no
 * crash, no read past the input, and every reported pair obeys the
 * grammar osrelease.h promises.
 */
#include <stdint.h>
#include <stdlib.h>

#include "hvis/util.h"
#include "osrelease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_cb(const char *key, const char *value, void *ud)
{
	size_t *count = ud;
	size_t klen = strlen(key), vlen = strlen(value);

	if (klen == 0 || klen > OSRELEASE_LINE_MAX || vlen > OSRELEASE_LINE_MAX)
		abort();
	for (size_t i = 0; i < klen; i++) {
		char c = key[i];

		if (!(c == '_' || (c >= 'A' && c <= 'Z') ||
		      (c >= 'a' && c <= 'z') ||
		      (i > 0 && c >= '0' && c <= '9')))
			abort();
	}
	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			abort();
	}
	(*count)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char small[8], *big;
	size_t count = 0;
	int r;

	if (osrelease_parse(buf, size, check_cb, &count) != 0)
		abort();
	/* Every assignment sits on its own line. */
	if (count > size / 2 + 1)
		abort();

	big = malloc(OSRELEASE_VALUE_SIZE);
	if (!big)
		return 0;
	r = osrelease_get(buf, size, "NAME", big, OSRELEASE_VALUE_SIZE);
	if (r != -ENOENT && (r < 0 || (size_t)r != strlen(big)))
		abort();
	r = osrelease_get(buf, size, "VERSION_ID", small, sizeof(small));
	if (r != -ENOENT && r != -E2BIG &&
	    (r < 0 || (size_t)r != strlen(small)))
		abort();
	for (unsigned int n = 0; n < 4; n++) {
		r = osrelease_line(buf, size, n, big, OSRELEASE_VALUE_SIZE);
		if (r >= 0 && (size_t)r != strlen(big))
			abort();
		r = osrelease_line(buf, size, n, small, sizeof(small));
		if (r >= 0 && (size_t)r >= sizeof(small))
			abort();
	}
	free(big);
	return 0;
}
