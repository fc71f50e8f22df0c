/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "hvis/log.h"

/* Enough for a freeze window's worth of messages; older ones are dropped. */
#define HOLD_MAX_MSGS 1024
#define HOLD_MAX_BYTES (256 * 1024)
#define LINE_MAX_LEN 2048

struct held_msg {
	int level;
	char *text;
};

static char log_ident[64] = "hvis";
static enum hv_log_target log_target = HV_LOG_STDERR;
static int log_max_level = LOG_INFO;
static bool log_holding;
static struct held_msg held[HOLD_MAX_MSGS];
static size_t held_first, held_count, held_bytes, held_dropped;

static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void hv_log_open(const char *ident, enum hv_log_target target)
{
	hv_strscpy(log_ident, ident, sizeof(log_ident));
	if (target == HV_LOG_AUTO)
		target = stderr_is_journal() ? HV_LOG_JOURNAL : HV_LOG_STDERR;
	log_target = target;
}

void hv_log_set_max_level(int level)
{
	log_max_level = level;
}

int hv_log_get_max_level(void)
{
	return log_max_level;
}

/*
 * journald's native protocol (systemd.journal-fields(7), "native
 * protocol"): one datagram of fields; MESSAGE in the binary form
 * (name, newline, 64-bit little-endian length, data, newline) so any
 * byte is safe. Falls back to stderr when the journal is not there.
 */
static struct sockaddr_un journal_sa = {
	.sun_family = AF_UNIX,
	.sun_path = "/run/systemd/journal/socket",
};

int hv_log_set_journal_socket(const char *path)
{
	return hv_strscpy(journal_sa.sun_path, path,
			  sizeof(journal_sa.sun_path)) < 0 ?
		       -ENAMETOOLONG :
		       0;
}

static int journal_send(int level, const char *text)
{
	char head[128];
	uint8_t len[8];
	size_t tlen = strlen(text);
	struct iovec iov[4];
	struct msghdr mh = { .msg_name = &journal_sa,
			     .msg_namelen = sizeof(journal_sa),
			     .msg_iov = iov,
			     .msg_iovlen = 4 };
	int fd, n;
	ssize_t r;

	n = snprintf(head, sizeof(head),
		     "PRIORITY=%d\nSYSLOG_IDENTIFIER=%s\nMESSAGE\n", level,
		     log_ident);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -EINVAL;
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)((uint64_t)tlen >> (8 * i));
	iov[0] = (struct iovec){ head, (size_t)n };
	iov[1] = (struct iovec){ len, sizeof(len) };
	iov[2] = (struct iovec){ (void *)text, tlen };
	iov[3] = (struct iovec){ "\n", 1 };
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	close(fd);
	return r < 0 ? -errno : 0;
}

static void emit(int level, const char *text)
{
	static const char *const prefix[] = {
		[LOG_EMERG] = "emergency: ",
		[LOG_ALERT] = "alert: ",
		[LOG_CRIT] = "critical: ",
		[LOG_ERR] = "error: ",
		[LOG_WARNING] = "warning: ",
		[LOG_NOTICE] = "",
		[LOG_INFO] = "",
		[LOG_DEBUG] = "debug: ",
	};

	if (log_target == HV_LOG_JOURNAL && journal_send(level, text) == 0)
		return;
	fprintf(stderr, "%s: %s%s\n", log_ident, prefix[level & 7], text);
}

static void hold(int level, const char *text)
{
	size_t len = strlen(text) + 1;
	char *copy;

	while (held_count > 0 && (held_count == HOLD_MAX_MSGS ||
				  held_bytes + len > HOLD_MAX_BYTES)) {
		struct held_msg *old = &held[held_first];

		held_bytes -= strlen(old->text) + 1;
		free(old->text);
		held_first = (held_first + 1) % HOLD_MAX_MSGS;
		held_count--;
		held_dropped++;
	}
	copy = strdup(text);
	if (!copy) {
		held_dropped++;
		return;
	}
	held[(held_first + held_count) % HOLD_MAX_MSGS] =
		(struct held_msg){ .level = level, .text = copy };
	held_count++;
	held_bytes += len;
}

void hv_log_hold(bool on)
{
	log_holding = on;
}

void hv_log_release(void)
{
	size_t dropped = held_dropped;

	log_holding = false;
	while (held_count > 0) {
		struct held_msg *m = &held[held_first];

		emit(m->level, m->text);
		free(m->text);
		held_first = (held_first + 1) % HOLD_MAX_MSGS;
		held_count--;
	}
	held_bytes = 0;
	held_dropped = 0;
	if (dropped)
		hv_log_full(
			LOG_WARNING, 0,
			"%zu log messages were dropped while logging was held",
			dropped);
}

int hv_log_full(int level, int err, const char *fmt, ...)
{
	char text[LINE_MAX_LEN];
	int saved = errno;
	va_list ap;
	int n;

	if (err < 0)
		err = -err;
	if ((level & 7) > log_max_level) {
		errno = saved;
		return -err;
	}
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n >= 0 && err && (size_t)n < sizeof(text))
		snprintf(text + n, sizeof(text) - (size_t)n, ": %s",
			 strerror(err));
	if (log_holding)
		hold(level & 7, text);
	else
		emit(level & 7, text);
	errno = saved;
	return -err;
}

const char *hv_log_escape(const char *src, size_t src_len, char *dst,
			  size_t dst_size)
{
	size_t o = 0, i;

	if (dst_size == 0)
		return dst;
	for (i = 0; i < src_len; i++) {
		unsigned char c = (unsigned char)src[i];
		char tmp[5];
		size_t n;

		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			n = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			tmp[0] = (char)c;
			n = 1;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			n = 4;
		}
		/* Keep room for "..." and the NUL. */
		if (o + n + 4 > dst_size) {
			if (o + 4 <= dst_size) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(dst + o, tmp, n);
		o += n;
	}
	dst[o < dst_size ? o : dst_size - 1] = '\0';
	return dst;
}
