/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "hvis/util.h"
#include "osrelease.h"

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Tab is allowed: it is only a separator outside quotes. */
static bool is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool is_key_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_key_char(unsigned char c)
{
	return is_key_start(c) || (c >= '0' && c <= '9');
}

/* Inside double quotes the shell gives a backslash meaning only here. */
static bool dq_escapable(unsigned char c)
{
	return c == '$' || c == '`' || c == '"' || c == '\\';
}

/*
 * One line l[len] (no '\n') into key and value, each at least len + 1
 * bytes, which bounds every write below. Returns 1 for an assignment, 0
 * for a blank or comment line, -EINVAL for a line to skip.
 */
static int parse_line(const char *l, size_t len, char *key, char *value)
{
	size_t i = 0, k = 0, v = 0;
	unsigned char c;

	if (len > 0 && l[len - 1] == '\r')
		len--;
	while (i < len && is_blank(l[i]))
		i++;
	if (i == len || l[i] == '#')
		return 0;
	if (!is_key_start(l[i]))
		return -EINVAL;
	while (i < len && is_key_char(l[i]))
		key[k++] = l[i++];
	key[k] = '\0';
	if (i == len || l[i] != '=')
		return -EINVAL;
	i++;
	k = i;
	while (i < len && is_blank(l[i]))
		i++;
	/* "A= #x" is an empty value and a comment; "A=#x" is not. */
	if (i > k && i < len && l[i] == '#')
		i = len;

	while (i < len) {
		c = (unsigned char)l[i];
		if (is_blank(c)) {
			size_t j = i;

			while (j < len && is_blank(l[j]))
				j++;
			if (j == len || l[j] == '#')
				break;
			while (i < j)
				value[v++] = l[i++];
			continue;
		}
		if (is_ctl(c))
			return -EINVAL;
		i++;
		if (c == '\'') {
			for (;;) {
				if (i == len)
					return -EINVAL;
				c = (unsigned char)l[i++];
				if (c == '\'')
					break;
				if (is_ctl(c))
					return -EINVAL;
				value[v++] = (char)c;
			}
		} else if (c == '"') {
			for (;;) {
				if (i == len)
					return -EINVAL;
				c = (unsigned char)l[i++];
				if (c == '"')
					break;
				if (c == '\\' && i < len && dq_escapable(l[i]))
					c = (unsigned char)l[i++];
				if (is_ctl(c))
					return -EINVAL;
				value[v++] = (char)c;
			}
		} else if (c == '\\') {
			/* A trailing backslash would continue the line. */
			if (i == len)
				return -EINVAL;
			c = (unsigned char)l[i++];
			if (is_ctl(c))
				return -EINVAL;
			value[v++] = (char)c;
		} else {
			value[v++] = (char)c;
		}
	}
	value[v] = '\0';
	return 1;
}

int osrelease_parse(const char *buf, size_t len, osrelease_cb_t cb, void *ud)
{
	char key[OSRELEASE_VALUE_SIZE], value[OSRELEASE_VALUE_SIZE];
	size_t off = 0;
	int r;

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (buf + off)) : len - off;

		if (l <= OSRELEASE_LINE_MAX &&
		    parse_line(buf + off, l, key, value) > 0) {
			r = cb(key, value, ud);
			if (r != 0)
				return r < 0 ? r : 0;
		}
		off += l + (nl ? 1 : 0);
	}
	return 0;
}

struct get_ctx {
	const char *key;
	char *value;
	size_t size;
	int r;
};

static int get_cb(const char *key, const char *value, void *ud)
{
	struct get_ctx *c = ud;

	if (strcmp(key, c->key) == 0)
		c->r = hv_strscpy(c->value, value, c->size);
	return 0;
}

int osrelease_get(const char *buf, size_t len, const char *key, char *value,
		  size_t size)
{
	struct get_ctx c = {
		.key = key,
		.value = value,
		.size = size,
		.r = -ENOENT,
	};
	int r;

	if (size == 0)
		return -EINVAL;
	r = osrelease_parse(buf, len, get_cb, &c);
	if (r < 0)
		return r;
	return c.r;
}

int osrelease_line(const char *buf, size_t len, unsigned int n, char *dst,
		   size_t size)
{
	unsigned int i = 0;
	size_t off = 0;

	if (size == 0)
		return -EINVAL;
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (buf + off)) : len - off;

		if (i == n) {
			if (l > 0 && buf[off + l - 1] == '\r')
				l--;
			if (memchr(buf + off, '\0', l))
				return -EBADMSG;
			if (l >= size) {
				memcpy(dst, buf + off, size - 1);
				dst[size - 1] = '\0';
				return -E2BIG;
			}
			memcpy(dst, buf + off, l);
			dst[l] = '\0';
			return (int)l;
		}
		i++;
		off += l + (nl ? 1 : 0);
	}
	return -ENOENT;
}

int osrelease_read_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size > OSRELEASE_FILE_MAX)
		return -EFBIG;
	/* Read one byte more than allowed: the file may have grown. */
	buf = malloc(OSRELEASE_FILE_MAX + 2);
	if (!buf)
		return -ENOMEM;
	n = hv_read_full(fd, buf, OSRELEASE_FILE_MAX + 1);
	if (n < 0)
		return (int)n;
	if (n > OSRELEASE_FILE_MAX)
		return -EFBIG;
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = (size_t)n;
	return 0;
}
