/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hvis/util.h"
#include "iplist.h"

void iplist_init(struct iplist *l, char *buf, size_t size)
{
	*l = (struct iplist){ .buf = buf, .size = size };
	buf[0] = '\0';
}

static bool valid_item(const char *item)
{
	return item[0] && !strchr(item, ';');
}

bool iplist_fits(const struct iplist *l, const char *item)
{
	size_t need;

	if (l->full || !valid_item(item))
		return false;
	need = strlen(item) + (l->n ? 1 : 0);
	return need < l->size - l->len;
}

int iplist_add(struct iplist *l, const char *item)
{
	size_t il;

	if (!valid_item(item))
		return -EINVAL;
	if (!iplist_fits(l, item)) {
		l->full = true;
		return -E2BIG;
	}
	il = strlen(item);
	if (l->n)
		l->buf[l->len++] = ';';
	memcpy(l->buf + l->len, item, il);
	l->len += il;
	l->buf[l->len] = '\0';
	l->n++;
	return 0;
}

bool iplist_has(const struct iplist *l, const char *item)
{
	size_t il = strlen(item), off = 0;

	while (off < l->len) {
		const char *p = l->buf + off;
		const char *semi = memchr(p, ';', l->len - off);
		size_t n = semi ? (size_t)(semi - p) : l->len - off;

		if (n == il && memcmp(p, item, il) == 0)
			return true;
		off += n + 1;
	}
	return false;
}

int iplist_add_unique(struct iplist *l, const char *item)
{
	if (valid_item(item) && iplist_has(l, item))
		return 0;
	return iplist_add(l, item);
}
