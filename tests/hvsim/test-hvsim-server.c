/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control protocol's records, and the server's strict request
 * parsing, against a server running its loop in a forked child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvsim.h"

struct fx {
	char root[64];
	char sock[96];
	pid_t pid;
	int stop_fd; /* closing it stops the server */
	char rep[HVSIM_CTL_MSG_MAX];
	const char *f[HVSIM_CTL_FIELDS_MAX];
	int nf;
};

static void test_pack_split(void **state)
{
	const char *in[] = { "kvp-set", "0", "sz", "", "v\xc3\xa9" };
	const char *out[HVSIM_CTL_FIELDS_MAX];
	const char *nine[9] = { "a", "b", "c", "d", "e", "f", "g", "h", "i" };
	char buf[64];
	ssize_t len;

	len = hvsim_ctl_pack(buf, sizeof(buf), in, 5);
	assert_int_equal(len, 8 + 2 + 3 + 1 + 4);
	assert_memory_equal(buf,
			    "kvp-set\0"
			    "0\0"
			    "sz\0"
			    "\0"
			    "v\xc3\xa9",
			    18);
	assert_int_equal(hvsim_ctl_split(buf, (size_t)len, out, 8), 5);
	assert_string_equal(out[0], "kvp-set");
	assert_string_equal(out[3], "");
	assert_string_equal(out[4], "v\xc3\xa9");

	/* Strict: not empty, NUL-terminated, not too many fields. */
	assert_int_equal(hvsim_ctl_split(buf, 0, out, 8), -EBADMSG);
	assert_int_equal(hvsim_ctl_split(buf, (size_t)len - 1, out, 8),
			 -EBADMSG);
	assert_int_equal(hvsim_ctl_split(buf, (size_t)len, out, 4), -EBADMSG);
	assert_int_equal(hvsim_ctl_split("a\0b\0c\0d\0e\0f\0g\0h\0i", 18, out,
					 16),
			 -EBADMSG);
	assert_int_equal(hvsim_ctl_split("\0", 1, out, 8), 1);
	assert_string_equal(out[0], "");

	assert_int_equal(hvsim_ctl_pack(buf, sizeof(buf), in, 0), -EINVAL);
	assert_int_equal(hvsim_ctl_pack(buf, sizeof(buf), nine, 9), -EINVAL);
	assert_int_equal(hvsim_ctl_pack(buf, 17, in, 5), -ENOBUFS);
	in[2] = NULL;
	assert_int_equal(hvsim_ctl_pack(buf, sizeof(buf), in, 5), -EINVAL);
}

static int start(void **state, bool kvp)
{
	struct fx *f = calloc(1, sizeof(*f));
	int ready[2], stop[2];
	char c;

	if (!f)
		return -1;
	strcpy(f->root, "/tmp/hvsim-server.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/hvsim.sock", f->root);
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(stop, O_CLOEXEC) < 0)
		return -1;
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (f->pid == 0) {
		struct hvsim_server_config cfg = {
			.root = f->root,
			.kvp = kvp,
			.vss = true,
			.reply_timeout_ms = 100,
			.nego_wait_ms = 0,
		};
		struct hvsim_server *s;

		close(ready[0]);
		close(stop[1]);
		if (hvsim_server_new(&cfg, &s) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		close(ready[1]);
		if (hvsim_server_run(s, stop[0]) < 0)
			_exit(3);
		hvsim_server_free(s);
		_exit(0);
	}
	close(ready[1]);
	close(stop[0]);
	f->stop_fd = stop[1];
	*state = f;
	if (read(ready[0], &c, 1) != 1)
		return -1;
	close(ready[0]);
	return 0;
}

static int setup_kvp(void **state)
{
	return start(state, true);
}

static int setup_no_kvp(void **state)
{
	return start(state, false);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct stat st;
	int status = -1;
	bool gone;

	close(f->stop_fd);
	waitpid(f->pid, &status, 0);
	gone = stat(f->sock, &st) < 0 && errno == ENOENT;
	snprintf(f->rep, sizeof(f->rep), "%s/dev/vmbus", f->root);
	rmdir(f->rep);
	snprintf(f->rep, sizeof(f->rep), "%s/dev", f->root);
	rmdir(f->rep);
	rmdir(f->root);
	free(f);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && gone ? 0 : -1;
}

/* Send a raw record (any bytes), wait for the reply and split it. */
static void raw_call(struct fx *f, const void *req, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ssize_t n;

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	n = recv(fd, f->rep, sizeof(f->rep), 0);
	close(fd);
	assert_true(n > 0);
	f->nf = hvsim_ctl_split(f->rep, (size_t)n, f->f, HVSIM_CTL_FIELDS_MAX);
	assert_true(f->nf >= 2);
}

static void fields_call(struct fx *f, const char *const *fields, size_t n)
{
	char req[HVSIM_CTL_MSG_MAX];
	ssize_t len = hvsim_ctl_pack(req, sizeof(req), fields, n);
	ssize_t r;

	assert_true(len > 0);
	r = hvsim_ctl_call(f->sock, req, (size_t)len, f->rep, sizeof(f->rep));
	assert_true(r > 0);
	f->nf = hvsim_ctl_split(f->rep, (size_t)r, f->f, HVSIM_CTL_FIELDS_MAX);
	assert_true(f->nf >= 2);
}

#define CALL(f, ...)                                               \
	do {                                                       \
		const char *const fl_[] = { __VA_ARGS__ };         \
		fields_call(f, fl_, sizeof(fl_) / sizeof(fl_[0])); \
	} while (0)

static void assert_rejected(struct fx *f)
{
	assert_string_equal(f->f[0], "-22");
	assert_string_equal(f->f[1], "0x00000000");
	assert_int_equal(f->nf, 3);
	assert_true(strlen(f->f[2]) > 0);
}

static void test_status(void **state)
{
	struct fx *f = *state;
	char want[200];

	CALL(f, "status");
	assert_int_equal(f->nf, 3);
	assert_string_equal(f->f[0], "0");
	assert_string_equal(f->f[1], "0x00000000");
	snprintf(want, sizeof(want),
		 "kvp path=%s/dev/vmbus/hv_kvp open=no state=DEVICE_INIT ",
		 f->root);
	assert_non_null(strstr(f->f[2], want));
	assert_non_null(strstr(f->f[2], "\nkvp-host negotiated=no "));
	assert_non_null(strstr(f->f[2], "\nvss path="));
	assert_null(strstr(f->f[2], "fcopy"));
	assert_non_null(strstr(f->f[2], "reply-timeout-ms=100"));
	CALL(f, "status", "x");
	assert_rejected(f);
}

static void test_bad_requests(void **state)
{
	struct fx *f = *state;
	static char big[HVSIM_CTL_MSG_MAX + 1];

	CALL(f, "bogus");
	assert_rejected(f);
	CALL(f, "");
	assert_rejected(f);
	CALL(f, "kvp-get", "0");
	assert_rejected(f);
	CALL(f, "kvp-get", "0", "k", "extra");
	assert_rejected(f);
	CALL(f, "kvp-get", "01", "k");
	assert_rejected(f);
	CALL(f, "kvp-get", "-1", "k");
	assert_rejected(f);
	CALL(f, "kvp-get", "+1", "k");
	assert_rejected(f);
	CALL(f, "kvp-get", "256", "k");
	assert_rejected(f);
	CALL(f, "kvp-get", "", "k");
	assert_rejected(f);
	CALL(f, "kvp-set", "0", "str", "k", "v");
	assert_rejected(f);
	CALL(f, "kvp-set", "0", "u32", "k", "4294967296");
	assert_rejected(f);
	CALL(f, "kvp-set", "0", "u64", "k", "18446744073709551616");
	assert_rejected(f);
	CALL(f, "kvp-set", "0", "u32", "k", "12x");
	assert_rejected(f);
	CALL(f, "kvp-set", "0", "sz", "k");
	assert_rejected(f);
	CALL(f, "kvp-enum", "0", "4294967296");
	assert_rejected(f);
	CALL(f, "kvp-enum", "0", " 1");
	assert_rejected(f);

	/* Records that are not lists of fields. */
	raw_call(f, "status", 6);
	assert_rejected(f);
	raw_call(f, "", 0);
	assert_rejected(f);
	memset(big, 'a', sizeof(big));
	raw_call(f, big, sizeof(big));
	assert_string_equal(f->f[0], "-90");

	/* The server is still fine. */
	CALL(f, "status");
	assert_string_equal(f->f[0], "0");
}

static void test_kvp_without_daemon(void **state)
{
	struct fx *f = *state;

	/* Well-formed, but nobody registers within the (zero) wait. */
	CALL(f, "kvp-get", "255", "k");
	assert_int_equal(f->nf, 2);
	assert_string_equal(f->f[0], "-107");
	assert_string_equal(f->f[1], "0x00000000");
	CALL(f, "kvp-set", "0", "u64", "k", "18446744073709551615");
	assert_string_equal(f->f[0], "-107");
	CALL(f, "kvp-modify", "1", "sz", "k", "");
	assert_string_equal(f->f[0], "-107");
	CALL(f, "kvp-enum", "0", "4294967295");
	assert_string_equal(f->f[0], "-107");
	CALL(f, "kvp-delete", "4", "k\xc3\xa9");
	assert_string_equal(f->f[0], "-107");
	CALL(f, "status");
	assert_non_null(strstr(f->f[2], "waited=5 "));
}

static void test_no_kvp_device(void **state)
{
	struct fx *f = *state;

	CALL(f, "kvp-get", "0", "k");
	assert_string_equal(f->f[0], "-19");
	CALL(f, "status");
	assert_null(strstr(f->f[2], "kvp path="));
	assert_non_null(strstr(f->f[2], "vss path="));
}

static void test_new_errors(void **state)
{
	struct fx *f = *state;
	struct hvsim_server_config cfg = { .root = f->root, .kvp = true };
	struct hvsim_server *s = NULL;

	assert_int_equal(hvsim_server_new(NULL, &s), -EINVAL);
	cfg.root = "";
	assert_int_equal(hvsim_server_new(&cfg, &s), -EINVAL);
	/* A live server on that root keeps it. */
	cfg.root = f->root;
	assert_int_equal(hvsim_server_new(&cfg, &s), -EADDRINUSE);
	assert_null(s);
	assert_null(hvsim_server_free(NULL));
	assert_int_equal(hvsim_ctl_call(f->sock, NULL, 0, f->rep, 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_split),
		cmocka_unit_test_setup_teardown(test_status, setup_kvp,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup_kvp,
						teardown),
		cmocka_unit_test_setup_teardown(test_kvp_without_daemon,
						setup_kvp, teardown),
		cmocka_unit_test_setup_teardown(test_no_kvp_device,
						setup_no_kvp, teardown),
		cmocka_unit_test_setup_teardown(test_new_errors, setup_kvp,
						teardown),
	};

	return cmocka_run_group_tests_name("hvsim-server", tests, NULL, NULL);
}
