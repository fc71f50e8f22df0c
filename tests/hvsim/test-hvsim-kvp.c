/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The KVP host + kernel model against a fake daemon written here: a forked
 * child that speaks the daemon side of the char device with bytes placed
 * by hand at the §1.5 offsets (no libhvis). Every message the child
 * receives is copied to a pipe, so the conversions are checked on the
 * bytes the daemon actually got; host packets are built and checked by
 * hand too, so neither direction relies on the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hvsim.h"

#define MSG 7432u
#define PKT 7460u
#define H 28u /* host KVP message in the packet */

/* ---- what the fake daemon does, set before it is forked ---- */

struct fake {
	uint8_t reg_op; /* 100 (REGISTER1) or 4 (legacy REGISTER) */
	int delay_register_ms;
	uint32_t error; /* forced into every reply when non-zero */
	bool no_reply; /* read requests, never answer */
	bool close_on_request;
	bool stop_reading; /* after registering, read nothing more */
	const char *enum_keys[4];
	const char *enum_values[4];
	size_t n_enum;
	bool get_found;
	const char *get_value; /* written at get_offset if set */
	size_t get_offset;
};

static struct fake fk;

struct fx {
	char dir[64];
	char path[100];
	struct hvsim_cdev *cd;
	struct hvsim_kvp *k;
	pid_t pid;
	int rec_fd; /* parent's end: what the daemon received */
	int hold_fd; /* closing it releases a daemon that stopped reading */
	uint8_t req[MSG];
	uint8_t pkt[PKT], rep[PKT];
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static bool full_write(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* The daemon's side of one request, in place, as §3.1 describes. */
static void fake_answer(uint8_t *m)
{
	uint8_t op = m[0];
	uint32_t error = 0, idx;

	switch (op) {
	case 0: /* GET */
		if (!fk.get_found)
			error = 0x80070103;
		else if (fk.get_value)
			memcpy(m + fk.get_offset, fk.get_value,
			       strlen(fk.get_value) + 1);
		break;
	case 3: /* ENUMERATE: index @4, key @20, value @532 */
		idx = get32(m + 4);
		if (idx < fk.n_enum) {
			memcpy(m + 20, fk.enum_keys[idx],
			       strlen(fk.enum_keys[idx]) + 1);
			memcpy(m + 532, fk.enum_values[idx],
			       strlen(fk.enum_values[idx]) + 1);
		} else {
			error = 0x80070103;
		}
		break;
	case 4: /* GET_IP_INFO: ip_val @4 */
		memcpy(m + 4 + 258, "10.0.0.5;192.168.1.9", 21);
		memcpy(m + 4 + 2306, "255.255.255.0;255.255.0.0", 26);
		memcpy(m + 4 + 4354, "10.0.0.1", 9);
		memcpy(m + 4 + 5378, "10.0.0.2", 9);
		m[4 + 256] = 3; /* both families */
		m[4 + 257] = 1;
		break;
	default:
		break;
	}
	if (fk.error)
		error = fk.error;
	/* A legacy daemon signals errors only with an empty key. */
	put32(m, fk.reg_op == 4 ? 0 : error);
}

static void fake_daemon(const char *path, int rec_fd, int hold_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static uint8_t m[MSG], r[MSG];
	uint8_t st[8];
	int fd;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		_exit(10);
	if (recv(fd, st, sizeof(st), 0) != 4 || get32(st) != 0)
		_exit(11);
	if (fk.delay_register_ms)
		/* Nothing to wait for: the delay itself is under test. */
		poll(NULL, 0, fk.delay_register_ms);
	memset(m, 0, sizeof(m));
	m[0] = fk.reg_op;
	if (send(fd, m, MSG, MSG_NOSIGNAL) != MSG)
		_exit(12);
	if (recv(fd, r, sizeof(r), 0) != MSG || r[0] != fk.reg_op ||
	    memcmp(r + 4, "3.1", 4) != 0)
		_exit(13);
	if (fk.stop_reading) {
		while (read(hold_fd, st, 1) > 0)
			;
		_exit(0);
	}
	for (;;) {
		ssize_t n = recv(fd, m, sizeof(m), 0);

		if (n <= 0)
			_exit(0);
		if (!full_write(rec_fd, m, (size_t)n))
			_exit(14);
		if (fk.close_on_request)
			_exit(0);
		if (fk.no_reply)
			continue;
		fake_answer(m);
		if (send(fd, m, MSG, MSG_NOSIGNAL) != MSG)
			_exit(0);
	}
}

static void start_daemon(struct fx *f)
{
	int rec[2], hold[2];

	assert_int_equal(pipe2(rec, O_CLOEXEC), 0);
	assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
	/* Room for many requests: the parent reads them when it likes. */
	(void)fcntl(rec[1], F_SETPIPE_SZ, 1 << 20);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		close(rec[0]);
		close(hold[1]);
		fake_daemon(f->path, rec[1], hold[0]);
		_exit(0);
	}
	close(rec[1]);
	close(hold[0]);
	f->rec_fd = rec[0];
	f->hold_fd = hold[1];
}

/* The next message the daemon received; false if none within 2 s. */
static bool next_request(struct fx *f)
{
	size_t got = 0;

	while (got < MSG) {
		struct pollfd p = { .fd = f->rec_fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0)
			return false;
		n = read(f->rec_fd, f->req + got, MSG - got);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

static bool no_more_requests(struct fx *f)
{
	struct pollfd p = { .fd = f->rec_fd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	memset(&fk, 0, sizeof(fk));
	fk.reg_op = 100;
	fk.get_found = true;
	fk.get_offset = 528;
	f->pid = -1;
	f->rec_fd = f->hold_fd = -1;
	strcpy(f->dir, "/tmp/hvsim-kvp.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/hv_kvp", f->dir);
	if (hvsim_cdev_new(f->path, HVSIM_CDEV_KVP, &f->cd) < 0 ||
	    hvsim_kvp_new(f->cd, &f->k) < 0)
		return -1;
	hvsim_kvp_set_nego_wait(f->k, 5000);
	hvsim_cdev_set_reply_timeout(f->cd, 5000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int st = 0;

	hvsim_kvp_free(f->k);
	/* The daemon sees EOF and exits; a stopped one sees its pipe close. */
	hvsim_cdev_free(f->cd);
	if (f->hold_fd >= 0)
		close(f->hold_fd);
	if (f->pid > 0) {
		int pfd = (int)syscall(SYS_pidfd_open, f->pid, 0);
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		if (pfd < 0 || poll(&p, 1, 5000) <= 0)
			kill(f->pid, SIGKILL);
		if (pfd >= 0)
			close(pfd);
		waitpid(f->pid, &st, 0);
	}
	if (f->rec_fd >= 0)
		close(f->rec_fd);
	rmdir(f->dir);
	free(f);
	/* The fake daemon's exit codes >= 10 are its own failures. */
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* ---- host packets built by hand ---- */

/* IC header for a KVPEXCHANGE (§1.2) and a zeroed host message. */
static void host_pkt(struct fx *f, uint8_t op, uint8_t pool)
{
	memset(f->pkt, 0, sizeof(f->pkt));
	put32(f->pkt + 4, MSG + 20); /* pipe msgsize */
	put16(f->pkt + 8, 3); /* icverframe 3.0 */
	put16(f->pkt + 12, 2); /* KVPEXCHANGE */
	put16(f->pkt + 14, 4); /* icvermsg 4.0 */
	put16(f->pkt + 18, (uint16_t)MSG);
	f->pkt[24] = 7; /* transaction id */
	f->pkt[25] = 3; /* TRANSACTION | REQUEST */
	f->pkt[H + 0] = op;
	f->pkt[H + 1] = pool;
}

/* ASCII as UTF-16LE units at p, no terminator; returns the units. */
static size_t ascii16(uint8_t *p, const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		put16(p + 2 * i, (uint8_t)s[i]);
	return i;
}

static ssize_t xchg(struct fx *f, size_t len)
{
	return hvsim_kvp_exchange(f->k, f->pkt, len, f->rep, sizeof(f->rep));
}

/* The reply must be the request with status set and icflags 5. */
static void assert_ic_reply(struct fx *f, size_t len, uint32_t status)
{
	assert_memory_equal(f->rep, f->pkt, 20);
	assert_int_equal(get32(f->rep + 20), status);
	assert_int_equal(f->rep[24], f->pkt[24]);
	assert_int_equal(f->rep[25], 5);
	(void)len;
}

/* ---- SET: host UTF-16 to daemon UTF-8 ---- */

static void test_set_string(void **state)
{
	struct fx *f = *state;
	static uint8_t want[MSG];
	uint32_t st = 1;
	uint32_t fw = 0, svc = 0;

	start_daemon(f);
	assert_int_equal(hvsim_kvp_set(f->k, 3, "key1", "value1", &st), 0);
	assert_int_equal(st, 0);
	assert_int_equal(hvsim_kvp_last_path(f->k), HVSIM_KVP_PATH_DAEMON);
	assert_true(hvsim_kvp_negotiated(f->k, &fw, &svc));
	assert_int_equal(fw, 0x00030000);
	assert_int_equal(svc, 0x00040000);

	/* Everything but op, pool, sizes and strings is zero. */
	memset(want, 0, sizeof(want));
	want[0] = 1;
	want[1] = 3;
	put32(want + 8, 5);
	put32(want + 12, 7);
	memcpy(want + 16, "key1", 4);
	memcpy(want + 528, "value1", 6);
	assert_true(next_request(f));
	assert_memory_equal(f->req, want, MSG);
	/* The simulator's own record of it is the same bytes. */
	assert_memory_equal(hvsim_kvp_last_request(f->k), want, MSG);
	assert_non_null(hvsim_kvp_last_reply(f->k));
	assert_int_equal(hvsim_kvp_stats(f->k)->negotiations, 1);
	assert_int_equal(hvsim_kvp_stats(f->k)->daemon_replies, 1);
	assert_true(no_more_requests(f));
}

static void test_set_non_bmp(void **state)
{
	struct fx *f = *state;
	static const uint8_t key8[] = { 'k',  0xf0, 0x9f, 0x98,
					0x80, 0xc3, 0xa9, 0 };
	static const uint8_t val8[] = { 'v',  0xe2, 0x82, 0xac, 0xf0,
					0x9f, 0x98, 0x80, 0 };
	uint32_t st = 1;

	start_daemon(f);
	/* Through the host encoder... */
	assert_int_equal(hvsim_kvp_set(f->k, 0, "k\U0001F600\u00e9",
				       "v\u20ac\U0001F600", &st),
			 0);
	assert_int_equal(st, 0);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 8), 8);
	assert_memory_equal(f->req + 16, key8, sizeof(key8));
	assert_int_equal(get32(f->req + 12), 9);
	assert_memory_equal(f->req + 528, val8, sizeof(val8));

	/* ...and from units written by hand. */
	host_pkt(f, 1, 0);
	put32(f->pkt + H + 4, 1); /* REG_SZ */
	put16(f->pkt + H + 16, 'k');
	put16(f->pkt + H + 18, 0xd83d);
	put16(f->pkt + H + 20, 0xde00);
	put16(f->pkt + H + 22, 0x00e9);
	put32(f->pkt + H + 8, 10);
	put16(f->pkt + H + 528, 'v');
	put16(f->pkt + H + 530, 0x20ac);
	put16(f->pkt + H + 532, 0xd83d);
	put16(f->pkt + H + 534, 0xde00);
	put32(f->pkt + H + 12, 10);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_ic_reply(f, PKT, 0);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 8), 8);
	assert_memory_equal(f->req + 16, key8, sizeof(key8));
	assert_int_equal(get32(f->req + 12), 9);
	assert_memory_equal(f->req + 528, val8, sizeof(val8));
	/* value_type is not passed on: the daemon sees 0. */
	assert_int_equal(get32(f->req + 4), 0);
}

static void test_set_numbers(void **state)
{
	struct fx *f = *state;
	uint32_t st = 1;

	start_daemon(f);
	assert_int_equal(hvsim_kvp_set_u32(f->k, 0, "n", 4294967295u, &st), 0);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 12), 11);
	assert_memory_equal(f->req + 528, "4294967295", 11);
	assert_int_equal(get32(f->req + 8), 2);
	assert_memory_equal(f->req + 16, "n", 2);

	assert_int_equal(hvsim_kvp_set_u32(f->k, 0, "n", 0, &st), 0);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 12), 2);
	assert_memory_equal(f->req + 528, "0", 2);

	assert_int_equal(hvsim_kvp_set_u64(f->k, 0, "n", UINT64_MAX, &st), 0);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 12), 21);
	assert_memory_equal(f->req + 528, "18446744073709551615", 21);

	/* REG_U64 from hand-placed bytes: 0x0000000100000002. */
	host_pkt(f, 1, 0);
	put32(f->pkt + H + 4, 8);
	put32(f->pkt + H + 8, 2 * (uint32_t)ascii16(f->pkt + H + 16, "u") + 2);
	put32(f->pkt + H + 528, 2);
	put32(f->pkt + H + 532, 1);
	put32(f->pkt + H + 12, 8);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 12), 11);
	assert_memory_equal(f->req + 528, "4294967298", 11);

	/* Another type (REG_BINARY, 3): key converted, value left empty. */
	host_pkt(f, 1, 0);
	put32(f->pkt + H + 4, 3);
	put32(f->pkt + H + 8,
	      2 * (uint32_t)ascii16(f->pkt + H + 16, "bin") + 2);
	ascii16(f->pkt + H + 528, "data");
	put32(f->pkt + H + 12, 10);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 8), 4);
	assert_memory_equal(f->req + 16, "bin", 4);
	assert_int_equal(get32(f->req + 12), 0);
	assert_int_equal(f->req[528], 0);
}

static void test_set_limits(void **state)
{
	struct fx *f = *state;
	size_t i;

	start_daemon(f);

	/* The host byte count is used as a unit count: 6 "bytes" of
	 * "abcdef" convert six characters, not three. */
	host_pkt(f, 1, 0);
	put32(f->pkt + H + 4, 1);
	put32(f->pkt + H + 8, 4);
	ascii16(f->pkt + H + 16, "k");
	ascii16(f->pkt + H + 528, "abcdef");
	put32(f->pkt + H + 12, 6);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 12), 7);
	assert_memory_equal(f->req + 528, "abcdef", 7);
	/* 2 "bytes": two characters. */
	put32(f->pkt + H + 12, 2);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 12), 3);
	assert_memory_equal(f->req + 528, "ab", 3);

	/* An unterminated 256-unit key with key_size 512 runs on into the
	 * value that follows it (value_type, sizes come before the key). */
	host_pkt(f, 1, 0);
	put32(f->pkt + H + 4, 1);
	for (i = 0; i < 256; i++)
		put16(f->pkt + H + 16 + 2 * i, 'a');
	put32(f->pkt + H + 8, 512);
	ascii16(f->pkt + H + 528, "XYZ");
	put32(f->pkt + H + 12, 8);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 8), 260);
	for (i = 0; i < 256; i++)
		if (f->req[16 + i] != 'a')
			fail_msg("key byte %zu", i);
	assert_memory_equal(f->req + 16 + 256, "XYZ", 4);

	/* Key output stops at 511 bytes, on a character boundary: 256
	 * units of U+20AC (3 bytes each) give 170 characters. */
	for (i = 0; i < 256; i++)
		put16(f->pkt + H + 16 + 2 * i, 0x20ac);
	memset(f->pkt + H + 528, 0, 8);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 8), 511);
	assert_int_equal(f->req[16 + 510], 0);
	assert_memory_equal(f->req + 16 + 507, "\xe2\x82\xac", 3);

	/* Value output stops at 2047 bytes: 1024 units of U+00E9. */
	host_pkt(f, 1, 0);
	put32(f->pkt + H + 4, 1);
	put32(f->pkt + H + 8, 4);
	ascii16(f->pkt + H + 16, "k");
	for (i = 0; i < 1024; i++)
		put16(f->pkt + H + 528 + 2 * i, 0x00e9);
	put32(f->pkt + H + 12, 2048);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 12), 2047);
	assert_memory_equal(f->req + 528 + 2044, "\xc3\xa9\0", 3);

	/* Lone surrogates are dropped, the rest kept. */
	host_pkt(f, 1, 0);
	put32(f->pkt + H + 4, 1);
	put16(f->pkt + H + 16, 0xd800);
	put16(f->pkt + H + 18, 'x');
	put16(f->pkt + H + 20, 0xdc00);
	put16(f->pkt + H + 22, 'y');
	put32(f->pkt + H + 8, 10);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 8), 3);
	assert_memory_equal(f->req + 16, "xy", 3);

	/* The host encoder refuses what Hyper-V could not send. */
	{
		char big[300];
		uint32_t st = 0xdeadbeef;

		memset(big, 'b', 255);
		big[255] = '\0';
		assert_int_equal(hvsim_kvp_set(f->k, 0, big, "v", &st), 0);
		assert_true(next_request(f));
		assert_int_equal(get32(f->req + 8), 256);
		memset(big, 'b', 256);
		big[256] = '\0';
		st = 0xdeadbeef;
		assert_int_equal(hvsim_kvp_set(f->k, 0, big, "v", &st), -E2BIG);
		assert_int_equal(hvsim_kvp_set(f->k, 0, "k", "\xff", &st),
				 -EINVAL);
		assert_int_equal(st, 0xdeadbeef);
		assert_true(no_more_requests(f));
	}
}

/* ---- GET, DELETE ---- */

static void test_get_quirk(void **state)
{
	struct fx *f = *state;
	char v[HVSIM_KVP_VALUE_MAX], raw[HVSIM_KVP_VALUE_MAX];
	uint32_t st = 1;

	fk.get_value = "hello world";
	start_daemon(f);
	assert_int_equal(hvsim_kvp_get(f->k, 1, "name", v, sizeof(v), &st), 0);
	assert_int_equal(st, 0);
	/* The daemon answered at 528; the host is given 532 onwards. */
	assert_string_equal(v, "o world");
	assert_int_equal(hvsim_kvp_daemon_get_value(f->k, raw, sizeof(raw)), 0);
	assert_string_equal(raw, "hello world");
	assert_int_equal(hvsim_kvp_daemon_get_value(f->k, raw, 5), -ENOBUFS);
	/* Only the key reaches the daemon; value_size stays 0. */
	assert_true(next_request(f));
	assert_int_equal(f->req[0], 0);
	assert_int_equal(f->req[1], 1);
	assert_int_equal(get32(f->req + 8), 5);
	assert_memory_equal(f->req + 16, "name", 5);
	assert_int_equal(get32(f->req + 12), 0);

	/* The host's bytes: key untouched, value/size/type rewritten. */
	host_pkt(f, 0, 1);
	put32(f->pkt + H + 8,
	      2 * (uint32_t)ascii16(f->pkt + H + 16, "name") + 2);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_true(next_request(f));
	assert_ic_reply(f, PKT, 0);
	assert_memory_equal(f->rep + H + 16, f->pkt + H + 16, 512);
	assert_int_equal(get32(f->rep + H + 4), 1);
	assert_int_equal(get32(f->rep + H + 12), 16);
	assert_int_equal(get16(f->rep + H + 528), 'o');
	assert_int_equal(get16(f->rep + H + 530), ' ');
	assert_int_equal(get16(f->rep + H + 540), 'd');
	assert_int_equal(get16(f->rep + H + 542), 0);
	/* The daemon wrote "hello world" at 528 of its reply. */
	assert_memory_equal((const uint8_t *)hvsim_kvp_last_reply(f->k) + 528,
			    "hello world", 12);
}

/* What the kernel's own daemon does: copies value_size (0) bytes. */
static void test_get_nothing_copied(void **state)
{
	struct fx *f = *state;
	char v[64], raw[64];
	uint32_t st = 1;

	fk.get_value = NULL;
	start_daemon(f);
	assert_int_equal(hvsim_kvp_get(f->k, 0, "k", v, sizeof(v), &st), 0);
	assert_int_equal(st, 0);
	assert_string_equal(v, "");
	assert_int_equal(hvsim_kvp_daemon_get_value(f->k, raw, sizeof(raw)), 0);
	assert_string_equal(raw, "");
	assert_true(next_request(f));
}

/* Shorter than 4 bytes: the host gets nothing of it. */
static void test_get_short_value(void **state)
{
	struct fx *f = *state;
	char v[64], raw[64];
	uint32_t st = 1;

	fk.get_value = "abc";
	start_daemon(f);
	assert_int_equal(hvsim_kvp_get(f->k, 0, "k", v, sizeof(v), &st), 0);
	assert_int_equal(st, 0);
	assert_string_equal(v, "");
	assert_int_equal(hvsim_kvp_daemon_get_value(f->k, raw, sizeof(raw)), 0);
	assert_string_equal(raw, "abc");
	assert_true(next_request(f));
}

/* A daemon that put the value at 532 would be read intact. */
static void test_get_enumerate_offset(void **state)
{
	struct fx *f = *state;
	char v[64];
	uint32_t st = 1;

	fk.get_value = "abcdef";
	fk.get_offset = 532;
	start_daemon(f);
	assert_int_equal(hvsim_kvp_get(f->k, 0, "k", v, sizeof(v), &st), 0);
	assert_string_equal(v, "abcdef");
	assert_true(next_request(f));
}

static void test_get_missing(void **state)
{
	struct fx *f = *state;
	char v[64];
	uint32_t st = 1;

	fk.get_found = false;
	start_daemon(f);
	strcpy(v, "junk");
	assert_int_equal(hvsim_kvp_get(f->k, 0, "k", v, sizeof(v), &st), 0);
	assert_int_equal(st, HV_S_CONT);
	assert_string_equal(v, "");
	assert_true(next_request(f));
}

static void test_delete(void **state)
{
	struct fx *f = *state;
	static uint8_t want[MSG];
	uint32_t st = 1;

	start_daemon(f);
	assert_int_equal(hvsim_kvp_delete(f->k, 4, "gone\u00e9", &st), 0);
	assert_int_equal(st, 0);
	memset(want, 0, sizeof(want));
	want[0] = 2;
	want[1] = 4;
	put32(want + 4, 7);
	memcpy(want + 8, "gone\xc3\xa9", 6);
	assert_true(next_request(f));
	assert_memory_equal(f->req, want, MSG);
}

/* ---- ENUMERATE: daemon UTF-8 back to host UTF-16 ---- */

static void test_enumerate_conversion(void **state)
{
	struct fx *f = *state;
	static uint8_t want[MSG];
	char key[HVSIM_KVP_KEY_MAX], val[HVSIM_KVP_VALUE_MAX];
	uint32_t st = 1;

	fk.enum_keys[0] = "k\xf0\x9f\x98\x80";
	fk.enum_values[0] = "v\xe2\x82\xac";
	fk.n_enum = 1;
	start_daemon(f);

	host_pkt(f, 3, 2);
	put32(f->pkt + H + 4, 0);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_ic_reply(f, PKT, 0);
	/* Only op, pool and index reach the daemon. */
	memset(want, 0, sizeof(want));
	want[0] = 3;
	want[1] = 2;
	assert_true(next_request(f));
	assert_memory_equal(f->req, want, MSG);
	/* Host: value_type @8, key_size @12, value_size @16, key @20,
	 * value @532, all in the host message. */
	assert_int_equal(f->rep[H], 3);
	assert_int_equal(get32(f->rep + H + 4), 0);
	assert_int_equal(get32(f->rep + H + 8), 1);
	assert_int_equal(get32(f->rep + H + 12), 8);
	assert_int_equal(get16(f->rep + H + 20), 'k');
	assert_int_equal(get16(f->rep + H + 22), 0xd83d);
	assert_int_equal(get16(f->rep + H + 24), 0xde00);
	assert_int_equal(get32(f->rep + H + 16), 6);
	assert_int_equal(get16(f->rep + H + 532), 'v');
	assert_int_equal(get16(f->rep + H + 534), 0x20ac);

	/* The same through the host API, decoded. */
	assert_int_equal(hvsim_kvp_enumerate(f->k, 2, 0, key, sizeof(key), val,
					     sizeof(val), &st),
			 0);
	assert_int_equal(st, 0);
	assert_string_equal(key, "k\U0001F600");
	assert_string_equal(val, "v\u20ac");
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 4), 0);
	assert_int_equal(hvsim_kvp_enumerate(f->k, 2, 9, key, sizeof(key), val,
					     sizeof(val), &st),
			 0);
	assert_int_equal(st, HV_S_CONT);
	assert_string_equal(key, "");
	assert_true(next_request(f));
	assert_int_equal(get32(f->req + 4), 9);
}

static void test_enumerate_caps(void **state)
{
	struct fx *f = *state;
	static char k300[301], v2000[2001], k253[260], bad[4] = "\xff";
	char key[HVSIM_KVP_KEY_MAX], val[HVSIM_KVP_VALUE_MAX];
	uint32_t st = 1;
	size_t i;

	memset(k300, 'k', 300);
	memset(v2000, 'v', 2000);
	memset(k253, 'a', 253);
	memcpy(k253 + 253, "\xf0\x9f\x98\x80", 5);
	fk.enum_keys[0] = k300;
	fk.enum_values[0] = v2000;
	fk.enum_keys[1] = k253;
	fk.enum_values[1] = "x";
	fk.enum_keys[2] = bad;
	fk.enum_values[2] = "x";
	fk.n_enum = 3;
	start_daemon(f);

	/* 254 key units, 1022 value units at most. */
	host_pkt(f, 3, 1);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_true(next_request(f));
	assert_ic_reply(f, PKT, 0);
	assert_int_equal(get32(f->rep + H + 12), 510);
	for (i = 0; i < 254; i++)
		if (get16(f->rep + H + 20 + 2 * i) != 'k')
			fail_msg("key unit %zu", i);
	assert_int_equal(get16(f->rep + H + 20 + 508), 0);
	assert_int_equal(get32(f->rep + H + 16), 2046);
	assert_int_equal(get16(f->rep + H + 532 + 2042), 'v');
	assert_int_equal(get16(f->rep + H + 532 + 2044), 0);
	assert_int_equal(hvsim_kvp_enumerate(f->k, 1, 0, key, sizeof(key), val,
					     sizeof(val), &st),
			 0);
	assert_true(next_request(f));
	assert_int_equal(strlen(key), 254);
	assert_int_equal(strlen(val), 1022);

	/* A surrogate pair that does not fit whole is left out. */
	host_pkt(f, 3, 1);
	put32(f->pkt + H + 4, 1);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_true(next_request(f));
	assert_int_equal(get32(f->rep + H + 12), 508);
	assert_int_equal(get16(f->rep + H + 20 + 504), 'a');
	assert_int_equal(get16(f->rep + H + 20 + 506), 0);

	/* Invalid UTF-8 from the daemon: HV_E_FAIL. */
	assert_int_equal(hvsim_kvp_enumerate(f->k, 1, 2, key, sizeof(key), val,
					     sizeof(val), &st),
			 0);
	assert_true(next_request(f));
	assert_int_equal(st, HV_E_FAIL);
	assert_string_equal(key, "");
}

static void test_status_passthrough(void **state)
{
	struct fx *f = *state;
	char key[64], val[64];
	uint32_t st = 1;

	fk.error = HV_INVALIDARG;
	fk.enum_keys[0] = "k";
	fk.enum_values[0] = "v";
	fk.n_enum = 1;
	start_daemon(f);
	assert_int_equal(hvsim_kvp_set(f->k, 0, "k", "v", &st), 0);
	assert_int_equal(st, HV_INVALIDARG);
	assert_true(next_request(f));

	/* Non-zero status: the host's own request comes back as it was,
	 * although the daemon filled key and value. */
	host_pkt(f, 3, 1);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_true(next_request(f));
	assert_ic_reply(f, PKT, HV_INVALIDARG);
	assert_memory_equal(f->rep + H, f->pkt + H, MSG);
	assert_int_equal(hvsim_kvp_enumerate(f->k, 1, 0, key, sizeof(key), val,
					     sizeof(val), &st),
			 0);
	assert_int_equal(st, HV_INVALIDARG);
	assert_true(next_request(f));
}

struct listed {
	unsigned n;
	uint32_t idx[8];
	char key[8][32], val[8][32];
};

static int collect(uint32_t index, const char *key, const char *value,
		   void *userdata)
{
	struct listed *l = userdata;

	if (l->n >= 8)
		return -E2BIG;
	l->idx[l->n] = index;
	snprintf(l->key[l->n], sizeof(l->key[0]), "%s", key);
	snprintf(l->val[l->n], sizeof(l->val[0]), "%s", value);
	l->n++;
	return 0;
}

static int stop_at_two(uint32_t index, const char *key, const char *value,
		       void *userdata)
{
	return index == 1 ? -ECANCELED : 0;
}

static void test_list_until_cont(void **state)
{
	struct fx *f = *state;
	struct listed l = { 0 };
	uint32_t st = 1;
	uint32_t i;

	fk.enum_keys[0] = "a";
	fk.enum_values[0] = "1";
	fk.enum_keys[1] = "b\xc3\xa9";
	fk.enum_values[1] = "";
	fk.enum_keys[2] = "c";
	fk.enum_values[2] = "\xe6\x97\xa5\xe6\x9c\xac";
	fk.n_enum = 3;
	start_daemon(f);
	assert_int_equal(hvsim_kvp_list(f->k, 1, collect, &l, &st), 3);
	assert_int_equal(st, HV_S_CONT);
	assert_int_equal(l.n, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(l.idx[i], i);
	assert_string_equal(l.key[1], "b\u00e9");
	assert_string_equal(l.val[1], "");
	assert_string_equal(l.val[2], "\u65e5\u672c");
	for (i = 0; i < 4; i++) {
		assert_true(next_request(f));
		assert_int_equal(f->req[0], 3);
		assert_int_equal(f->req[1], 1);
		assert_int_equal(get32(f->req + 4), i);
	}
	assert_true(no_more_requests(f));

	/* A callback's error stops the listing. */
	assert_int_equal(hvsim_kvp_list(f->k, 1, stop_at_two, NULL, &st),
			 -ECANCELED);
	assert_true(next_request(f));
	assert_true(next_request(f));
	assert_true(no_more_requests(f));
}

/* ---- the kernel's own answers ---- */

static void test_timeout(void **state)
{
	struct fx *f = *state;
	uint32_t st = 0;

	fk.no_reply = true;
	start_daemon(f);
	hvsim_cdev_set_reply_timeout(f->cd, 100);
	assert_int_equal(hvsim_kvp_set(f->k, 0, "k", "v", &st), -ETIMEDOUT);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_kvp_last_path(f->k), HVSIM_KVP_PATH_TIMEOUT);
	assert_int_equal(hvsim_cdev_stats(f->cd)->timeouts, 1);
	assert_int_equal(hvsim_kvp_stats(f->k)->kernel_failures, 1);
	assert_null(hvsim_kvp_last_reply(f->k));
	assert_true(next_request(f));

	/* The host's packet comes back with HV_E_FAIL and nothing else. */
	host_pkt(f, 3, 0);
	assert_int_equal(xchg(f, PKT), PKT);
	assert_ic_reply(f, PKT, HV_E_FAIL);
	assert_memory_equal(f->rep + H, f->pkt + H, MSG);
	assert_true(next_request(f));
}

static void test_daemon_closes(void **state)
{
	struct fx *f = *state;
	uint32_t st = 0;

	fk.close_on_request = true;
	start_daemon(f);
	assert_int_equal(hvsim_kvp_delete(f->k, 0, "k", &st), -ECONNRESET);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_kvp_last_path(f->k), HVSIM_KVP_PATH_RESET);
	assert_true(next_request(f));
	/* Nobody registered now: the next request waits, then gives up. */
	hvsim_kvp_set_nego_wait(f->k, 50);
	st = 0xdeadbeef;
	assert_int_equal(hvsim_kvp_delete(f->k, 0, "k", &st), -ENOTCONN);
	assert_int_equal(st, 0xdeadbeef);
}

static void test_slot_busy(void **state)
{
	struct fx *f = *state;
	uint32_t st = 0;

	fk.stop_reading = true;
	start_daemon(f);
	assert_int_equal(hvsim_kvp_negotiate(f->k), 0);
	/* Something unread in the one outbound slot: the send fails. */
	assert_int_equal(hvsim_cdev_queue(f->cd, "x", 1), 0);
	assert_int_equal(hvsim_kvp_set(f->k, 0, "k", "v", &st), -EFAULT);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_kvp_last_path(f->k), HVSIM_KVP_PATH_SEND_FAILED);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_waits_for_registration(void **state)
{
	struct fx *f = *state;
	uint32_t st = 0xdeadbeef;
	double t0;

	/* No daemon at all: nothing is read, nothing answered. */
	hvsim_kvp_set_nego_wait(f->k, 100);
	t0 = now_ms();
	assert_int_equal(hvsim_kvp_set(f->k, 0, "k", "v", &st), -ENOTCONN);
	assert_true(now_ms() - t0 >= 90);
	assert_int_equal(st, 0xdeadbeef);
	assert_false(hvsim_kvp_negotiated(f->k, NULL, NULL));
	assert_int_equal(hvsim_kvp_stats(f->k)->requests, 0);
	assert_int_equal(hvsim_kvp_stats(f->k)->waited, 1);

	/* A daemon that registers late: the request waits, then works. */
	fk.delay_register_ms = 200;
	hvsim_kvp_set_nego_wait(f->k, 5000);
	start_daemon(f);
	t0 = now_ms();
	assert_int_equal(hvsim_kvp_set(f->k, 0, "k", "v", &st), 0);
	assert_int_equal(st, 0);
	assert_true(now_ms() - t0 >= 150);
	assert_int_equal(hvsim_kvp_stats(f->k)->waited, 2);
	assert_int_equal(hvsim_cdev_stats(f->cd)->registrations, 1);
	assert_true(next_request(f));
}

static void test_negotiate(void **state)
{
	struct fx *f = *state;
	static const uint32_t fw1[] = { 0x00010000 };
	static const uint32_t svc31[] = { 0x00030000, 0x00010000 };
	static const uint32_t fw3[] = { 0x00030000 };
	static const uint32_t svc9[] = { 0x00090000 };
	uint32_t fw, svc, many[101];
	struct hvsim_ic_nego nego;
	ssize_t len;
	size_t i;

	start_daemon(f);
	assert_int_equal(hvsim_kvp_set_offer(f->k, fw1, 1, svc31, 2), 0);
	assert_int_equal(hvsim_kvp_negotiate(f->k), 0);
	assert_true(hvsim_kvp_negotiated(f->k, &fw, &svc));
	assert_int_equal(fw, 0x00010000);
	assert_int_equal(svc, 0x00030000);
	assert_int_equal(hvsim_kvp_last_path(f->k), HVSIM_KVP_PATH_KERNEL);

	/* No common service version: counts 0/0, the framework that did
	 * match, and the host's service count as a major version. */
	assert_int_equal(hvsim_kvp_set_offer(f->k, fw3, 1, svc9, 1), 0);
	assert_false(hvsim_kvp_negotiated(f->k, NULL, NULL));
	assert_int_equal(hvsim_kvp_negotiate(f->k), -EPROTO);
	len = hvsim_ic_build_negotiate(f->pkt, sizeof(f->pkt), 9, fw3, 1, svc9,
				       1);
	assert_int_equal(len, H + 16);
	assert_int_equal(xchg(f, (size_t)len), len);
	assert_int_equal(hvsim_ic_check_negotiate(f->pkt, (size_t)len, f->rep,
						  (size_t)len, &nego, NULL, 0),
			 0);
	assert_false(nego.found);
	assert_int_equal(get16(f->rep + 18), 0x10);
	assert_int_equal(get32(f->rep + H + 8), 0x00000003);
	assert_int_equal(get32(f->rep + H + 12), 0x00000001);

	/* Too short for the counts: only icflags change. */
	assert_int_equal(xchg(f, H + 2), H + 2);
	assert_memory_equal(f->rep, f->pkt, 25);
	assert_int_equal(f->rep[25], 5);
	assert_memory_equal(f->rep + 26, f->pkt + 26, 4);

	/* More than 100 versions: refused. */
	for (i = 0; i < 101; i++)
		many[i] = 0x00030000;
	len = hvsim_ic_build_negotiate(f->pkt, sizeof(f->pkt), 9, many, 101,
				       svc31, 1);
	assert_true(len > 0);
	assert_int_equal(xchg(f, (size_t)len), len);
	assert_int_equal(get16(f->rep + H), 0);
	assert_int_equal(get16(f->rep + H + 2), 0);
	assert_int_equal(get32(f->rep + H + 8), 101);

	/* None of this reached the daemon. */
	assert_true(no_more_requests(f));
	assert_int_equal(hvsim_cdev_stats(f->cd)->sent, 1);
}

static void test_dropped_packets(void **state)
{
	struct fx *f = *state;
	static uint8_t big[HVSIM_KVP_RECV_MAX + 8];

	start_daemon(f);
	host_pkt(f, 3, 0);
	assert_int_equal(xchg(f, 27), -ENOMSG);
	put16(f->pkt + 12, 1); /* HEARTBEAT is not KVP's */
	assert_int_equal(xchg(f, PKT), -ENOMSG);
	assert_int_equal(hvsim_kvp_exchange(f->k, big, sizeof(big), big,
					    sizeof(big)),
			 -EMSGSIZE);
	assert_int_equal(hvsim_kvp_exchange(f->k, f->pkt, PKT, f->rep, 100),
			 -ENOBUFS);
	assert_int_equal(hvsim_kvp_stats(f->k)->dropped, 2);
	assert_true(no_more_requests(f));

	/* A short KVP packet is read as if zero-filled, and answered with
	 * its own length; an unchecked pool goes through as it is. */
	host_pkt(f, 3, 200);
	assert_int_equal(xchg(f, H + 2), H + 2);
	assert_true(next_request(f));
	assert_int_equal(f->req[0], 3);
	assert_int_equal(f->req[1], 200);
	assert_int_equal(get32(f->req + 4), 0);
}

static void test_legacy_register(void **state)
{
	struct fx *f = *state;
	char key[64], val[64];
	uint32_t st = 1;

	fk.reg_op = 4;
	fk.enum_keys[0] = "k";
	fk.enum_values[0] = "v";
	fk.n_enum = 1;
	fk.error = HV_E_FAIL; /* ignored for a legacy daemon */
	start_daemon(f);
	assert_int_equal(hvsim_kvp_enumerate(f->k, 0, 0, key, sizeof(key), val,
					     sizeof(val), &st),
			 0);
	assert_int_equal(hvsim_cdev_registered_as(f->cd), 4);
	assert_int_equal(st, 0);
	assert_string_equal(key, "k");
	assert_int_equal(hvsim_kvp_enumerate(f->k, 0, 1, key, sizeof(key), val,
					     sizeof(val), &st),
			 0);
	assert_int_equal(st, HV_S_CONT);
	assert_true(next_request(f));
	assert_true(next_request(f));
}

static void test_ip_info(void **state)
{
	struct fx *f = *state;
	static struct hvsim_kvp_ip ip, set;
	uint32_t st = 1;

	start_daemon(f);
	assert_int_equal(
		hvsim_kvp_get_ip_info(f->k, "00155D0A0B0C", 2, &ip, &st), 0);
	assert_int_equal(st, 0);
	assert_true(next_request(f));
	/* Daemon: op 4, adapter as UTF-8 at 4, family at 260. */
	assert_int_equal(f->req[0], 4);
	assert_memory_equal(f->req + 4, "00155D0A0B0C", 13);
	assert_int_equal(f->req[260], 2);
	assert_int_equal(f->req[4 + 258], 0);
	/* Host: UTF-16 back, family and dhcp copied. */
	assert_string_equal(ip.ip_addr, "10.0.0.5;192.168.1.9");
	assert_string_equal(ip.sub_net, "255.255.255.0;255.255.0.0");
	assert_string_equal(ip.gate_way, "10.0.0.1");
	assert_string_equal(ip.dns_addr, "10.0.0.2");
	assert_string_equal(ip.adapter_id, "00155D0A0B0C");
	assert_int_equal(ip.addr_family, 3);
	assert_int_equal(ip.dhcp_enabled, 1);

	strcpy(set.adapter_id, "eth\u00e9");
	strcpy(set.ip_addr, "10.1.1.1");
	strcpy(set.sub_net, "255.0.0.0");
	strcpy(set.gate_way, "10.0.0.254");
	strcpy(set.dns_addr, "1.1.1.1;8.8.8.8");
	set.addr_family = 1;
	set.dhcp_enabled = 0;
	assert_int_equal(hvsim_kvp_set_ip_info(f->k, &set, &st), 0);
	assert_int_equal(st, 0);
	assert_true(next_request(f));
	assert_int_equal(f->req[0], 5);
	assert_memory_equal(f->req + 4, "eth\xc3\xa9", 6);
	assert_int_equal(f->req[260], 1);
	assert_int_equal(f->req[261], 0);
	assert_memory_equal(f->req + 4 + 258, "10.1.1.1", 9);
	assert_memory_equal(f->req + 4 + 2306, "255.0.0.0", 10);
	assert_memory_equal(f->req + 4 + 4354, "10.0.0.254", 11);
	assert_memory_equal(f->req + 4 + 5378, "1.1.1.1;8.8.8.8", 16);
}

static void test_args(void **state)
{
	struct fx *f = *state;
	uint32_t st;
	char v[8];

	assert_int_equal(hvsim_kvp_new(NULL, NULL), -EINVAL);
	assert_null(hvsim_kvp_free(NULL));
	assert_int_equal(hvsim_kvp_set(f->k, 0, NULL, "v", &st), -EINVAL);
	assert_int_equal(hvsim_kvp_get(f->k, 0, "k", v, 0, &st), -EINVAL);
	assert_int_equal(hvsim_kvp_list(f->k, 0, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(hvsim_kvp_set_offer(f->k, NULL, 1, NULL, 0), -EINVAL);
	assert_int_equal(hvsim_kvp_daemon_get_value(f->k, v, sizeof(v)),
			 -ENODATA);
	assert_null(hvsim_kvp_last_request(f->k));
	assert_string_equal(hvsim_kvp_status_name(HV_S_CONT), "HV_S_CONT");
	assert_null(hvsim_kvp_status_name(0x12345678));
	assert_string_equal(hvsim_kvp_path_name(HVSIM_KVP_PATH_TIMEOUT),
			    "timeout");
	assert_string_equal(hvsim_kvp_path_name(HVSIM_KVP_PATH_MAX), "?");
	assert_ptr_equal(hvsim_kvp_cdev(f->k), f->cd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_string, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_set_non_bmp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_set_numbers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_set_limits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_get_quirk, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_get_nothing_copied, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_get_short_value, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_get_enumerate_offset,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_missing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enumerate_conversion,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_enumerate_caps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_status_passthrough, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_until_cont, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_daemon_closes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slot_busy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_waits_for_registration,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_negotiate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dropped_packets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_legacy_register, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ip_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args, setup, teardown),
	};

	return cmocka_run_group_tests_name("hvsim-kvp", tests, NULL, NULL);
}
