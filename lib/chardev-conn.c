/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvis/chardev-conn.h"
#include "hvis/loop.h"
#include "hvis/util.h"

int hv_chardev_conn_init(struct hv_chardev_conn *c, const char *path,
			 const void *reg, size_t reg_len)
{
	_cleanup_free_ uint8_t *copy = NULL;
	int fd, r;

	if (!reg || reg_len == 0)
		return -EINVAL;
	r = hv_strscpy(c->path, path, sizeof(c->path));
	if (r < 0)
		return r;
	copy = malloc(reg_len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, reg, reg_len);
	fd = hv_timerfd_open();
	if (fd < 0)
		return fd;
	c->dev.fd = -1;
	c->state = HV_CONN_CLOSED;
	c->announced = false;
	c->reg = TAKE_PTR(copy);
	c->reg_len = reg_len;
	c->timerfd = fd;
	c->retry_usec = 0;
	c->reconnects = 0;
	return 0;
}

void hv_chardev_conn_done(struct hv_chardev_conn *c)
{
	hv_chardev_conn_close(c);
	if (c->timerfd >= 0)
		close(c->timerfd);
	c->timerfd = -1;
	free(c->reg);
	c->reg = NULL;
	c->reg_len = 0;
}

int hv_chardev_conn_connect(struct hv_chardev_conn *c)
{
	int r;

	r = hv_chardev_open(&c->dev, c->path);
	if (r < 0)
		return r;
	r = hv_chardev_write(&c->dev, c->reg, c->reg_len);
	if (r < 0) {
		hv_chardev_close(&c->dev);
		return r;
	}
	c->state = HV_CONN_REGISTERING;
	c->retry_usec = 0;
	return 0;
}

bool hv_chardev_conn_close(struct hv_chardev_conn *c)
{
	bool was_open = c->state != HV_CONN_CLOSED;

	hv_chardev_close(&c->dev);
	c->state = HV_CONN_CLOSED;
	return was_open;
}

int hv_chardev_conn_reconnect(struct hv_chardev_conn *c)
{
	int r;

	c->reconnects++;
	r = hv_chardev_conn_connect(c);
	if (r < 0) {
		c->retry_usec =
			c->retry_usec ?
				HV_MIN(c->retry_usec * 2,
				       (uint64_t)HV_CONN_RETRY_MAX_USEC) :
				HV_CONN_RETRY_MIN_USEC;
		(void)hv_timerfd_arm(c->timerfd, c->retry_usec);
	}
	return r;
}

int hv_chardev_conn_lost(struct hv_chardev_conn *c, bool *ret_was_open)
{
	bool was_open = hv_chardev_conn_close(c);

	if (ret_was_open)
		*ret_was_open = was_open;
	return hv_chardev_conn_reconnect(c);
}

bool hv_chardev_conn_on_timer(struct hv_chardev_conn *c)
{
	return hv_timerfd_read(c->timerfd) > 0 && c->state == HV_CONN_CLOSED;
}

bool hv_chardev_conn_mark_registered(struct hv_chardev_conn *c)
{
	bool first = !c->announced;

	c->state = HV_CONN_READY;
	c->announced = true;
	return first;
}
