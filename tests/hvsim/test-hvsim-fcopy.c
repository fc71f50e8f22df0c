/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The file copy host and the legacy kernel model of hvsim, checked on
 * their own: packet layouts against protocol.md §1.5, and what the kernel
 * model hands a daemon (a scripted one in a thread, speaking raw socket).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvsim-fcopy.h"
#include "hvsim-internal.h"

#define TIMEOUT_MS 5000
#define MAX_MSGS 8

/* A legacy daemon that answers each message with the next status. */
struct fake {
	char path[128];
	pthread_t th;
	int served; /* messages to take before leaving */
	uint32_t status[MAX_MSGS];
	uint8_t msg[MAX_MSGS][HVSIM_FCOPY_RECV_MAX];
	size_t len[MAX_MSGS];
	int got;
};

struct fx {
	char dir[64];
	struct hvsim_cdev *cd;
	struct hvsim_fcopy *fc;
	struct fake fake;
	bool running;
};

static void *fake_main(void *arg)
{
	struct fake *fk = arg;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint32_t v = FCOPY_CURRENT_VERSION;
	uint8_t st[4];
	int fd;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	hv_strscpy(sa.sun_path, fk->path, sizeof(sa.sun_path));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return NULL;
	/* Open status, registration and the kernel's version reply. */
	if (recv(fd, st, sizeof(st), 0) != 4 ||
	    send(fd, &v, sizeof(v), 0) != 4 || recv(fd, st, sizeof(st), 0) != 4)
		goto out;
	while (fk->got < fk->served) {
		ssize_t n = recv(fd, fk->msg[fk->got], sizeof(fk->msg[0]), 0);

		if (n <= 0)
			break;
		/* Recorded before the reply that lets the test look. */
		fk->len[fk->got] = (size_t)n;
		fk->got++;
		if (send(fd, &fk->status[fk->got - 1], 4, 0) != 4)
			break;
	}
out:
	close(fd);
	return NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[128];

	assert_non_null(f);
	strcpy(f->dir, "/tmp/hvsim-fcopy.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/hv_fcopy", f->dir);
	assert_int_equal(hvsim_cdev_new(path, HVSIM_CDEV_FCOPY, &f->cd), 0);
	assert_int_equal(hvsim_fcopy_new_cdev(f->cd, &f->fc), 0);
	hvsim_fcopy_set_timeout(f->fc, TIMEOUT_MS);
	snprintf(f->fake.path, sizeof(f->fake.path), "%s", path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	f->fc = hvsim_fcopy_free(f->fc);
	f->cd = hvsim_cdev_free(f->cd);
	if (f->running)
		pthread_join(f->fake.th, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void run_fake(struct fx *f, int served)
{
	f->fake.served = served;
	assert_int_equal(pthread_create(&f->fake.th, NULL, fake_main, &f->fake),
			 0);
	f->running = true;
	assert_int_equal(hvsim_cdev_wait_ready(f->cd, TIMEOUT_MS), 0);
}

static void test_split_dest(void **state)
{
	char p[64], n[64];

	assert_int_equal(hvsim_fcopy_split_dest("/h/a.txt", "/tmp/", p,
						sizeof(p), n, sizeof(n)),
			 0);
	assert_string_equal(p, "/tmp");
	assert_string_equal(n, "a.txt");
	assert_int_equal(hvsim_fcopy_split_dest("/h/a.txt", "/tmp/b.txt", p,
						sizeof(p), n, sizeof(n)),
			 0);
	assert_string_equal(p, "/tmp");
	assert_string_equal(n, "b.txt");
	assert_int_equal(hvsim_fcopy_split_dest("/h/a.txt", "/", p, sizeof(p),
						n, sizeof(n)),
			 0);
	assert_string_equal(p, "/");
	assert_string_equal(n, "a.txt");
	assert_int_equal(hvsim_fcopy_split_dest("a.txt", "/x", p, sizeof(p), n,
						sizeof(n)),
			 0);
	assert_string_equal(p, "/");
	assert_string_equal(n, "x");
	assert_int_equal(hvsim_fcopy_split_dest("a.txt", "rel", p, sizeof(p), n,
						sizeof(n)),
			 0);
	assert_string_equal(p, "");
	assert_string_equal(n, "rel");
	assert_int_equal(hvsim_fcopy_split_dest("/h/", "/tmp/", p, sizeof(p), n,
						sizeof(n)),
			 -EINVAL);
	assert_int_equal(hvsim_fcopy_split_dest("/h/a", "", p, sizeof(p), n,
						sizeof(n)),
			 -EINVAL);
	assert_int_equal(hvsim_fcopy_split_dest("/h/a", "/tmp/long", p, 4, n,
						sizeof(n)),
			 -E2BIG);
}

static void test_builders(void **state)
{
	static const uint16_t name[] = { 'a', 0xd83d, 0xde00 };
	static const uint16_t path[] = { '/', 't' };
	uint8_t buf[HVSIM_FCOPY_PKT_MAX];
	ssize_t n;

	n = hvsim_fcopy_build_start(buf, sizeof(buf), 9, path, 2, name, 3,
				    OVER_WRITE, 0x1122334455ull);
	assert_int_equal(n, 1116);
	assert_int_equal(hv_le16(buf + 12), ICMSGTYPE_FCOPY);
	assert_int_equal(buf[24], 9);
	assert_int_equal(buf[25],
			 ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_REQUEST);
	assert_int_equal(hv_le32(buf + 28), START_FILE_COPY);
	assert_int_equal(hv_le16(buf + 28 + 36), 'a');
	assert_int_equal(hv_le16(buf + 28 + 38), 0xd83d);
	assert_int_equal(hv_le16(buf + 28 + 42), 0);
	assert_int_equal(hv_le16(buf + 28 + 556 + 2), 't');
	assert_int_equal(hv_le32(buf + 28 + 1076), OVER_WRITE);
	assert_int_equal(hv_le32(buf + 28 + 1080), 0x22334455);
	assert_int_equal(hv_le32(buf + 28 + 1084), 0x11);

	n = hvsim_fcopy_build_write(buf, sizeof(buf), 1, 0x100000002ull, "xyz",
				    3, 3);
	assert_int_equal(n, 6224);
	assert_int_equal(hv_le32(buf + 28), WRITE_TO_FILE);
	assert_int_equal(hv_le32(buf + 28 + 40), 2);
	assert_int_equal(hv_le32(buf + 28 + 44), 1);
	assert_int_equal(hv_le32(buf + 28 + 48), 3);
	assert_memory_equal(buf + 28 + 52, "xyz", 3);
	assert_int_equal(hvsim_fcopy_build_write(buf, sizeof(buf), 1, 0, buf,
						 DATA_FRAGMENT + 1, 0),
			 -EINVAL);

	n = hvsim_fcopy_build_hdr(buf, sizeof(buf), 1, COMPLETE_FCOPY);
	assert_int_equal(n, 64);
	assert_int_equal(hv_le32(buf + 28), COMPLETE_FCOPY);
	assert_int_equal(hvsim_fcopy_build_hdr(buf, 63, 1, COMPLETE_FCOPY),
			 -ENOBUFS);
}

/* Before a daemon registers the kernel refuses, but negotiates. */
static void test_kernel_no_daemon(void **state)
{
	struct fx *f = *state;
	uint32_t st = 0, fw = 0, svc = 0;

	assert_int_equal(hvsim_fcopy_start(f->fc, "/tmp", "a", 0, 1, &st), 0);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_fcopy_last_path(f->fc), HVSIM_FCOPY_PATH_KERNEL);
	assert_true(hvsim_fcopy_negotiated(f->fc, &fw, &svc));
	assert_int_equal(fw, HV_IC_VERSION(3, 0));
	assert_int_equal(svc, HV_IC_VERSION(1, 1));
	assert_int_equal(hvsim_fcopy_stats(f->fc)->kernel_failures, 1);
	assert_null(hvsim_fcopy_last_daemon_msg(f->fc, NULL));
	assert_int_equal(hvsim_fcopy_hibernate(f->fc), -EINVAL);
}

/* §5.2: START rebuilt in UTF-8, status passed back. */
static void test_kernel_start(void **state)
{
	struct fx *f = *state;
	const uint8_t *m;
	uint32_t st = 0;
	size_t len = 0;

	f->fake.status[0] = HV_ERROR_ALREADY_EXISTS;
	run_fake(f, 1);
	assert_int_equal(hvsim_fcopy_start(f->fc, "/tmp/\xc3\x9c",
					   "Gr\xc3\xbc\xc3\x9f"
					   "e-\xf0\x9f\x98\x80.txt",
					   CREATE_PATH, 77, &st),
			 0);
	assert_int_equal(st, HV_ERROR_ALREADY_EXISTS);
	assert_int_equal(hvsim_fcopy_last_path(f->fc), HVSIM_FCOPY_PATH_DAEMON);
	m = hvsim_fcopy_last_daemon_msg(f->fc, &len);
	assert_non_null(m);
	assert_int_equal(len, 1088);
	assert_int_equal(f->fake.len[0], 1088);
	assert_memory_equal(f->fake.msg[0], m, 1088);
	assert_int_equal(hv_le32(m), START_FILE_COPY);
	assert_string_equal((const char *)m + 36, "Gr\xc3\xbc\xc3\x9f"
						  "e-\xf0\x9f\x98\x80.txt");
	assert_string_equal((const char *)m + 556, "/tmp/\xc3\x9c");
	assert_int_equal(hv_le32(m + 1076), CREATE_PATH);
	assert_int_equal(hv_le32(m + 1080), 77);
}

/* utf16s_to_utf8s: at most 259 bytes, whole characters, lone halves gone. */
static void test_kernel_name_rules(void **state)
{
	struct fx *f = *state;
	uint16_t name[W_MAX_PATH], path[] = { '/', 't' };
	const uint8_t *m;
	uint32_t st;

	run_fake(f, 2);
	for (size_t i = 0; i < W_MAX_PATH - 1; i++)
		name[i] = 0xe9; /* 2 bytes each in UTF-8 */
	assert_int_equal(hvsim_fcopy_start_utf16(f->fc, path, 2, name,
						 W_MAX_PATH - 1, 0, 0, &st),
			 0);
	m = hvsim_fcopy_last_daemon_msg(f->fc, NULL);
	assert_int_equal(strlen((const char *)m + 36), 258);
	name[0] = 'a';
	name[1] = 0xd800;
	name[2] = 'b';
	name[3] = 0xdc00;
	name[4] = 'c';
	assert_int_equal(
		hvsim_fcopy_start_utf16(f->fc, path, 2, name, 5, 0, 0, &st), 0);
	m = hvsim_fcopy_last_daemon_msg(f->fc, NULL);
	assert_string_equal((const char *)m + 36, "abc");
}

/* WRITE verbatim; other operations recv_len bytes with stale ones. */
static void test_kernel_write_complete(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[HVSIM_FCOPY_PKT_MAX];
	uint32_t st;

	run_fake(f, 3);
	assert_int_equal(hvsim_fcopy_write(f->fc, 5, "hello", 5, &st), 0);
	assert_int_equal(hvsim_fcopy_complete(f->fc, &st), 0);
	assert_int_equal(hvsim_fcopy_op(f->fc, 42, &st), 0);
	assert_int_equal(f->fake.got, 3);
	assert_int_equal(f->fake.len[0], 6196);
	assert_int_equal(hvsim_fcopy_build_write(pkt, sizeof(pkt), 0, 5,
						 "hello", 5, 5),
			 6224);
	assert_memory_equal(f->fake.msg[0], pkt + 28, 6196);
	/* 64 bytes: the header, then what the WRITE left at 64..91. */
	assert_int_equal(f->fake.len[1], 64);
	assert_int_equal(hv_le32(f->fake.msg[1]), COMPLETE_FCOPY);
	assert_memory_equal(f->fake.msg[1] + 36, pkt + 64, 28);
	assert_int_equal(hv_le32(f->fake.msg[2]), 42);
}

static void test_kernel_drops(void **state)
{
	struct fx *f = *state;
	static uint8_t big[HVSIM_FCOPY_RECV_MAX + 8];
	const struct hvsim_ic_msg hb = { .msgtype = ICMSGTYPE_HEARTBEAT };
	const struct hvsim_ic_msg fc = { .msgtype = ICMSGTYPE_FCOPY };
	uint8_t pkt[128] = { 0 }, reply[256];
	ssize_t len;

	/* The kernel reads and drops these whether a daemon runs or not. */
	assert_int_equal(hvsim_fcopy_exchange(f->fc, pkt, 27, reply,
					      sizeof(reply)),
			 -ENOMSG);
	len = hvsim_ic_build(pkt, sizeof(pkt), &hb, "12345678", 8);
	assert_int_equal(hvsim_fcopy_exchange(f->fc, pkt, (size_t)len, reply,
					      sizeof(reply)),
			 -ENOMSG);
	len = hvsim_ic_build(pkt, sizeof(pkt), &fc, "\0\0\0\0", 4);
	assert_int_equal(hvsim_fcopy_exchange(f->fc, pkt, (size_t)len, reply,
					      sizeof(reply)),
			 -ENOMSG);
	assert_int_equal(hvsim_fcopy_exchange(f->fc, big, sizeof(big), big,
					      sizeof(big)),
			 -EMSGSIZE);
	assert_int_equal(hvsim_fcopy_stats(f->fc)->dropped, 3);
}

static void test_hibernate(void **state)
{
	struct fx *f = *state;

	run_fake(f, 1);
	assert_int_equal(hvsim_fcopy_hibernate(f->fc), 0);
	pthread_join(f->fake.th, NULL);
	f->running = false;
	assert_int_equal(f->fake.len[0], 36);
	assert_int_equal(hv_le32(f->fake.msg[0]), CANCEL_FCOPY);
}

static void test_uio_no_guest(void **state)
{
	struct fx *f = *state;
	struct hvsim_fcopy *host;
	struct hvsim_uio *u;
	uint32_t st = 0;

	assert_int_equal(hvsim_uio_new(f->dir, HV_GUID_FCOPY,
				       HV_GUID_FCOPY_INSTANCE, 0,
				       HVSIM_FCOPY_RING_SIZE, &u),
			 0);
	assert_int_equal(hvsim_fcopy_new_uio(u, &host), 0);
	assert_int_equal(hvsim_fcopy_start(host, "/tmp", "a", 0, 0, &st),
			 -ENOTCONN);
	assert_int_equal(st, HV_E_FAIL);
	assert_int_equal(hvsim_fcopy_hibernate(host), -EOPNOTSUPP);
	hvsim_fcopy_free(host);
	hvsim_uio_free(u);
}

static void test_result_text(void **state)
{
	struct hvsim_fcopy_result res = { .status = HV_ERROR_ALREADY_EXISTS,
					  .stage = HVSIM_FCOPY_STAGE_START };
	char buf[160];

	assert_string_equal(hvsim_fcopy_result_text(&res, buf, sizeof(buf)),
			    "Failed to initiate copying files to the guest: "
			    "The file exists. (0x80070050)");
	res.status = HV_ERROR_DISK_FULL;
	res.stage = HVSIM_FCOPY_STAGE_WRITE;
	assert_string_equal(hvsim_fcopy_result_text(&res, buf, sizeof(buf)),
			    "Failed to copy the source file to the guest: "
			    "There is not enough space on the disk. "
			    "(0x80070070)");
	res.status = HV_S_OK;
	assert_string_equal(hvsim_fcopy_result_text(&res, buf, sizeof(buf)),
			    "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_dest),
		cmocka_unit_test(test_builders),
		cmocka_unit_test_setup_teardown(test_kernel_no_daemon, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kernel_start, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kernel_name_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kernel_write_complete,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_drops, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hibernate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uio_no_guest, setup,
						teardown),
		cmocka_unit_test(test_result_text),
	};

	return cmocka_run_group_tests_name("hvsim-fcopy", tests, NULL, NULL);
}
