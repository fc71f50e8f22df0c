/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The server's kvp-ip-* and fcopy-copy requests: strict parsing, the
 * simulated UIO channel, and the host's view when no guest is there.
 * End to end with the real daemons: tests/scripts/hvsim-cli-fcopy.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvsim.h"

struct fx {
	char root[64];
	char sock[96];
	char src[96];
	pid_t pid;
	int stop_fd; /* closing it stops the server */
	char rep[HVSIM_CTL_MSG_MAX];
	const char *f[HVSIM_CTL_FIELDS_MAX];
	int nf;
};

static int start(void **state, bool kvp, bool fcopy)
{
	struct fx *f = calloc(1, sizeof(*f));
	int ready[2], stop[2], fd;
	char c;

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/hvsim-server-ops.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/hvsim.sock", f->root);
	snprintf(f->src, sizeof(f->src), "%s/src", f->root);
	fd = open(f->src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "12345", 5) != 5)
		return -1;
	close(fd);
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(stop, O_CLOEXEC) < 0)
		return -1;
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (f->pid == 0) {
		struct hvsim_server_config cfg = {
			.root = f->root,
			.kvp = kvp,
			.fcopy = fcopy,
			.fcopy_uio = fcopy,
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

static int setup_all(void **state)
{
	return start(state, true, true);
}

static int setup_kvp_only(void **state)
{
	return start(state, true, false);
}

static int setup_fcopy_only(void **state)
{
	return start(state, false, true);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
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
	/* The sysfs tree of the UIO channel stays behind by design. */
	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && gone ? 0 : -1;
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

static void assert_error(struct fx *f, const char *result)
{
	assert_string_equal(f->f[0], result);
	assert_string_equal(f->f[1], "0x00000000");
	assert_int_equal(f->nf, 3);
	assert_true(strlen(f->f[2]) > 0);
}

static void test_status_and_tree(void **state)
{
	struct fx *f = *state;
	char want[200], path[200], buf[64];
	ssize_t n;
	int fd;

	CALL(f, "status");
	assert_string_equal(f->f[0], "0");
	assert_non_null(strstr(f->f[2], "\nfcopy path="));
	assert_non_null(strstr(f->f[2], "\nfcopy-host negotiated=no "));
	snprintf(want, sizeof(want),
		 "\nfcopy-uio path=%s/dev/uio0 instance=%s open=no ", f->root,
		 HV_GUID_FCOPY_INSTANCE);
	assert_non_null(strstr(f->f[2], want));
	assert_non_null(strstr(f->f[2], " ring-size=0x5000 last-error=none"));
	assert_non_null(strstr(f->f[2], "\nfcopy-uio-host negotiated=no "));

	/* What a guest finds: the fcopy class on the fixed instance. */
	snprintf(path, sizeof(path), "%s/sys/bus/vmbus/devices/%s/class_id",
		 f->root, HV_GUID_FCOPY_INSTANCE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "{" HV_GUID_FCOPY "}\n");
}

static void test_fcopy_bad_requests(void **state)
{
	struct fx *f = *state;

	CALL(f, "fcopy-copy", "uio", "0", f->src);
	assert_error(f, "-22");
	CALL(f, "fcopy-copy", "uio", "0", f->src, "/d", "x");
	assert_error(f, "-22");
	CALL(f, "fcopy-copy", "uio", "4", f->src, "/d");
	assert_error(f, "-22");
	CALL(f, "fcopy-copy", "uio", "01", f->src, "/d");
	assert_error(f, "-22");
	CALL(f, "fcopy-copy", "uio", "-1", f->src, "/d");
	assert_error(f, "-22");
	CALL(f, "fcopy-copy", "uio", "", f->src, "/d");
	assert_error(f, "-22");
	CALL(f, "fcopy-copy", "tcp", "0", f->src, "/d");
	assert_error(f, "-22");
	CALL(f, "fcopy-copy", "uio", "0", "src", "/d");
	assert_error(f, "-22");
	CALL(f, "fcopy-frob", "uio", "0", f->src, "/d");
	assert_error(f, "-22");
	/* The source is the host's business, checked before any packet. */
	CALL(f, "fcopy-copy", "uio", "0", "/nonexistent/hvsim", "/d");
	assert_error(f, "-2");
	CALL(f, "fcopy-copy", "uio", "0", f->root, "/d");
	assert_error(f, "-21");
	CALL(f, "fcopy-copy", "chardev", "3", f->src, "");
	assert_error(f, "-22");
	CALL(f, "status");
	assert_non_null(strstr(f->f[2], "fcopy-uio-host negotiated=no "
					"requests=0 "));
}

static void test_fcopy_no_guest(void **state)
{
	struct fx *f = *state;

	/* UIO: nobody has the channel open; the host sees HV_E_FAIL. */
	CALL(f, "fcopy-copy", "uio", "3", f->src, "/tmp/hvsim-none/x");
	assert_int_equal(f->nf, 6);
	assert_string_equal(f->f[0], "-107");
	assert_string_equal(f->f[1], "0x80004005");
	assert_string_equal(f->f[2], "uio");
	assert_string_equal(f->f[3], "start");
	assert_string_equal(f->f[4], "0");
	assert_string_equal(f->f[5], "5");
	/* Neither guest there: auto takes UIO. */
	CALL(f, "fcopy-copy", "auto", "0", f->src, "/tmp/hvsim-none/x");
	assert_string_equal(f->f[0], "-107");
	assert_string_equal(f->f[2], "uio");
	/* Legacy: the kernel answers START itself until a daemon registers. */
	CALL(f, "fcopy-copy", "chardev", "0", f->src, "/tmp/hvsim-none/x");
	assert_int_equal(f->nf, 6);
	assert_string_equal(f->f[0], "0");
	assert_string_equal(f->f[1], "0x80004005");
	assert_string_equal(f->f[2], "chardev");
	assert_string_equal(f->f[3], "start");
	CALL(f, "status");
	assert_non_null(strstr(f->f[2], "fcopy-host negotiated=3.0/1.1 "));
}

static void test_not_simulated(void **state)
{
	struct fx *f = *state;

	CALL(f, "fcopy-copy", "uio", "0", f->src, "/d");
	assert_error(f, "-19");
	CALL(f, "fcopy-copy", "chardev", "0", f->src, "/d");
	assert_error(f, "-19");
	CALL(f, "fcopy-copy", "auto", "0", f->src, "/d");
	assert_error(f, "-19");
	CALL(f, "status");
	assert_null(strstr(f->f[2], "fcopy"));
}

static void test_no_kvp_for_ip(void **state)
{
	struct fx *f = *state;

	CALL(f, "kvp-ip-get", "00:15:5D:00:00:01");
	assert_error(f, "-19");
}

static void test_kvp_ip_requests(void **state)
{
	struct fx *f = *state;
	static char long_list[4096];

	CALL(f, "kvp-ip-get");
	assert_error(f, "-22");
	CALL(f, "kvp-ip-get", "00:15:5D:00:00:01", "x");
	assert_error(f, "-22");
	CALL(f, "kvp-ip-get", "00:15:5D:00:00");
	assert_error(f, "-22");
	CALL(f, "kvp-ip-get", "00:15:5D:00:00:0g");
	assert_error(f, "-22");
	/* Well-formed, but nobody registers within the (zero) wait. */
	CALL(f, "kvp-ip-get", "00-15-5d-00-00-01");
	assert_int_equal(f->nf, 2);
	assert_string_equal(f->f[0], "-107");

	CALL(f, "kvp-ip-set", "{a}", "1", "0", "10.0.0.1", "255.0.0.0", "");
	assert_error(f, "-22");
	CALL(f, "kvp-ip-set", "{a}", "256", "0", "", "", "", "");
	assert_error(f, "-22");
	CALL(f, "kvp-ip-set", "{a}", "1", "x", "", "", "", "");
	assert_error(f, "-22");
	memset(long_list, '1', sizeof(long_list) - 1);
	CALL(f, "kvp-ip-set", "{a}", "1", "0", long_list, "", "", "");
	assert_error(f, "-22");
	CALL(f, "kvp-ip-set", long_list, "1", "0", "", "", "", "");
	assert_error(f, "-22");
	CALL(f, "kvp-ip-set", "{a}", "1", "1", "", "", "", "");
	assert_int_equal(f->nf, 2);
	assert_string_equal(f->f[0], "-107");
	CALL(f, "status");
	assert_non_null(strstr(f->f[2], "waited=2 "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_and_tree, setup_all,
						teardown),
		cmocka_unit_test_setup_teardown(test_fcopy_bad_requests,
						setup_all, teardown),
		cmocka_unit_test_setup_teardown(test_fcopy_no_guest, setup_all,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_simulated,
						setup_kvp_only, teardown),
		cmocka_unit_test_setup_teardown(test_no_kvp_for_ip,
						setup_fcopy_only, teardown),
		cmocka_unit_test_setup_teardown(test_kvp_ip_requests, setup_all,
						teardown),
	};

	return cmocka_run_group_tests_name("hvsim-server-ops", tests, NULL,
					   NULL);
}
