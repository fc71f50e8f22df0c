/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "hvis/util.h"
#include "kvp-auto.h"

#define WAIT_MS 10000

/* One test's private tree and the sources the object is given. */
struct fx {
	char dir[64];
	char etc[128];
	char usr[128];
	struct kvp_auto_config cfg;
	struct kvp_auto *a;

	char hostname[KVP_AUTO_STR_SIZE];
	int hostname_r;
	struct ifaddr_entry addrs[8];
	size_t naddrs;
	int addrs_r;
	struct utsname uts;
	int uname_r;
	uint64_t now;

	/*
	 * The resolver reads one byte from release[0] per lookup when
	 * blocking: 'a' answers <host>.example.org, 'b' <host>.example.net,
	 * 'f' fails; EOF counts as 'a'. Hosts starting "fail" always fail.
	 */
	bool blocking;
	int release[2];
	atomic_int calls;
};

static int stub_resolve(const char *host, char *fqdn, size_t size, void *ud)
{
	struct fx *f = ud;
	char c = 'a';

	atomic_fetch_add(&f->calls, 1);
	if (f->blocking && read(f->release[0], &c, 1) != 1)
		c = 'a';
	if (c == 'f' || strncmp(host, "fail", 4) == 0)
		return -EAGAIN;
	return hv_snprintf(fqdn, size, "%s.example.%s", host,
			   c == 'b' ? "net" : "org");
}

static int stub_hostname(char *buf, size_t size, void *ud)
{
	struct fx *f = ud;

	if (f->hostname_r < 0)
		return f->hostname_r;
	return hv_strscpy(buf, f->hostname, size);
}

static int stub_addresses(struct ifaddr_entry **ret, size_t *ret_n, void *ud)
{
	struct fx *f = ud;
	struct ifaddr_entry *e;

	if (f->addrs_r < 0)
		return f->addrs_r;
	e = calloc(f->naddrs ? f->naddrs : 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	memcpy(e, f->addrs, f->naddrs * sizeof(*e));
	*ret = e;
	*ret_n = f->naddrs;
	return 0;
}

static int stub_uname(struct utsname *u, void *ud)
{
	struct fx *f = ud;

	if (f->uname_r < 0)
		return f->uname_r;
	*u = f->uts;
	return 0;
}

static uint64_t stub_now(void *ud)
{
	return ((struct fx *)ud)->now;
}

static void add_addr(struct fx *f, const char *ifname, const char *addr)
{
	struct ifaddr_entry *e;

	assert_true(f->naddrs < ARRAY_SIZE(f->addrs));
	e = &f->addrs[f->naddrs++];
	memset(e, 0, sizeof(*e));
	hv_strscpy(e->ifname, ifname, sizeof(e->ifname));
	e->flags = IFF_UP | IFF_RUNNING;
	e->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(e->family, addr, &e->addr), 1);
}

static void write_file(struct fx *f, const char *rel, const char *text)
{
	_cleanup_close_ int fd = -1;
	char path[256];

	assert_true(hv_snprintf(path, sizeof(path), "%s/%s", f->dir, rel) >= 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(hv_write_full(fd, text, strlen(text)),
			 (ssize_t)strlen(text));
}

static void remove_file(struct fx *f, const char *rel)
{
	char path[256];

	assert_true(hv_snprintf(path, sizeof(path), "%s/%s", f->dir, rel) >= 0);
	assert_int_equal(unlink(path), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[256];

	if (!f)
		return -1;
	hv_strscpy(f->dir, "/tmp/test-kvp-auto.XXXXXX", sizeof(f->dir));
	if (!mkdtemp(f->dir))
		return -1;
	hv_snprintf(f->etc, sizeof(f->etc), "%s/etc", f->dir);
	hv_snprintf(f->usr, sizeof(f->usr), "%s/usr", f->dir);
	hv_snprintf(path, sizeof(path), "%s/usr/lib", f->dir);
	if (mkdir(f->etc, 0755) < 0 || mkdir(f->usr, 0755) < 0 ||
	    mkdir(path, 0755) < 0)
		return -1;
	if (pipe2(f->release, O_CLOEXEC) < 0)
		return -1;

	hv_strscpy(f->hostname, "vm1", sizeof(f->hostname));
	hv_strscpy(f->uts.sysname, "Linux", sizeof(f->uts.sysname));
	hv_strscpy(f->uts.release, "6.1.0-18-amd64", sizeof(f->uts.release));
	hv_strscpy(f->uts.machine, "x86_64", sizeof(f->uts.machine));
	f->now = 1000000;

	f->cfg.conf_dir = f->etc;
	f->cfg.usr_dir = f->usr;
	f->cfg.resolve = stub_resolve;
	f->cfg.hostname = stub_hostname;
	f->cfg.addresses = stub_addresses;
	f->cfg.uname = stub_uname;
	f->cfg.now = stub_now;
	f->cfg.userdata = f;
	f->cfg.ttl_sec = 300;
	f->cfg.retry_sec = 30;
	*state = f;
	return 0;
}

/*
 * Free the object and wait until every resolution job is gone: our dup
 * of the pipe's read end sees EOF only once each job closed its write
 * end, which it does last, after freeing itself. Closing release[1]
 * lets a blocked stub return.
 */
static void finish(struct fx *f)
{
	struct pollfd p;
	char buf[64];
	ssize_t n;
	int fd;

	if (!f->a)
		return;
	fd = fcntl(kvp_auto_fd(f->a), F_DUPFD_CLOEXEC, 3);
	assert_true(fd >= 0);
	f->a = kvp_auto_free(f->a);
	assert_null(f->a);
	if (f->release[1] >= 0) {
		close(f->release[1]);
		f->release[1] = -1;
	}
	for (;;) {
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		assert_int_equal(poll(&p, 1, WAIT_MS), 1);
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			break;
		assert_true(n > 0 || errno == EAGAIN);
	}
	close(fd);
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	finish(f);
	if (f->release[1] >= 0)
		close(f->release[1]);
	close(f->release[0]);
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void release(struct fx *f, char c)
{
	assert_int_equal(write(f->release[1], &c, 1), 1);
}

/* Wait for the worker's report, then hand it to the object. */
static void wait_result(struct fx *f)
{
	struct pollfd p = { .fd = kvp_auto_fd(f->a), .events = POLLIN };

	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	assert_int_equal(kvp_auto_process(f->a), 1);
}

static const char *get(struct fx *f, const char *key)
{
	static char v[2048];
	int r;

	r = kvp_auto_get(f->a, key, v, sizeof(v));
	assert_true(r >= 0);
	assert_int_equal((size_t)r, strlen(v));
	return v;
}

#define FQDN "FullyQualifiedDomainName"

static void test_keys_in_order(void **state)
{
	static const char *const want[][2] = {
		{ "FullyQualifiedDomainName", "vm1.example.org" },
		{ "IntegrationServicesVersion", "Unknown version" },
		{ "NetworkAddressIPv4", "10.0.0.5;192.168.7.9" },
		{ "NetworkAddressIPv6", "2001:db8::5" },
		{ "OSBuildNumber", "6.1.0-18-amd64" },
		{ "OSName", "Debian GNU/Linux" },
		{ "OSMajorVersion", "12" },
		{ "OSMinorVersion", "" },
		{ "OSVersion", "6.1.0" },
		{ "ProcessorArchitecture", "x86_64" },
	};
	struct fx *f = *state;
	char key[KVP_AUTO_KEY_SIZE], value[2048];

	write_file(f, "etc/os-release",
		   "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
		   "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n");
	add_addr(f, "eth0", "10.0.0.5");
	add_addr(f, "eth0", "2001:db8::5");
	add_addr(f, "eth0", "fe80::1");
	add_addr(f, "docker0", "172.17.0.1");
	add_addr(f, "eth1", "192.168.7.9");
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	wait_result(f);

	for (uint32_t i = 0; i < ARRAY_SIZE(want); i++) {
		int r = kvp_auto_enumerate(f->a, i, key, sizeof(key), value,
					   sizeof(value));

		assert_int_equal(r, strlen(want[i][1]));
		assert_string_equal(key, want[i][0]);
		assert_string_equal(value, want[i][1]);
		assert_string_equal(kvp_auto_key_name(i), want[i][0]);
		assert_true(strlen(key) < KVP_AUTO_KEY_SIZE);
	}
	assert_int_equal(kvp_auto_enumerate(f->a, 10, key, sizeof(key), value,
					    sizeof(value)),
			 -ENOENT);
	assert_int_equal(kvp_auto_enumerate(f->a, UINT32_MAX, key, sizeof(key),
					    value, sizeof(value)),
			 -ENOENT);
	assert_null(kvp_auto_key_name(10));
	/* The longest key needs all of KVP_AUTO_KEY_SIZE. */
	assert_int_equal(kvp_auto_enumerate(f->a, 1, key, KVP_AUTO_KEY_SIZE - 1,
					    value, sizeof(value)),
			 -E2BIG);
	assert_int_equal(kvp_auto_enumerate(f->a, 0, key, sizeof(key), value,
					    0),
			 -EINVAL);
}

static void test_get(void **state)
{
	struct fx *f = *state;
	char v[64];

	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	assert_string_equal(get(f, "OSBuildNumber"), "6.1.0-18-amd64");
	assert_string_equal(get(f, "ProcessorArchitecture"), "x86_64");
	assert_string_equal(get(f, "IntegrationServicesVersion"),
			    "Unknown version");
	assert_int_equal(kvp_auto_get(f->a, "Nope", v, sizeof(v)), -ENOENT);
	assert_int_equal(kvp_auto_get(f->a, "osname", v, sizeof(v)), -ENOENT);
	assert_int_equal(kvp_auto_get(f->a, "OSName ", v, sizeof(v)), -ENOENT);
	assert_int_equal(kvp_auto_get(f->a, "OSNam", v, sizeof(v)), -ENOENT);
	assert_int_equal(kvp_auto_get(f->a, "", v, sizeof(v)), -ENOENT);
	assert_int_equal(kvp_auto_get(f->a, "OSName", v, 0), -EINVAL);
	assert_int_equal(kvp_auto_get(NULL, "OSName", v, sizeof(v)), -EINVAL);

	assert_int_equal(kvp_auto_set_ic_version(f->a, "3.1"), 0);
	assert_string_equal(get(f, "IntegrationServicesVersion"), "3.1");
}

static void test_os_release_sources(void **state)
{
	struct fx *f = *state;

	/* Only <usr>/lib/os-release. */
	write_file(f, "usr/lib/os-release", "NAME=Fedora\nVERSION_ID=40\n");
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	assert_string_equal(get(f, "OSName"), "Fedora");
	assert_string_equal(get(f, "OSMajorVersion"), "40");
	assert_string_equal(get(f, "OSMinorVersion"), "");

	/* <conf>/os-release wins, and a refresh picks up changes. */
	write_file(f, "etc/os-release",
		   "NAME='openSUSE Leap'\nVERSION_ID=\"15.5\"\n");
	assert_string_equal(get(f, "OSName"), "Fedora");
	assert_int_equal(kvp_auto_refresh_os(f->a), 0);
	assert_string_equal(get(f, "OSName"), "openSUSE Leap");
	assert_string_equal(get(f, "OSMajorVersion"), "15.5");

	/* No NAME: uname's sysname; no VERSION_ID: empty. */
	write_file(f, "etc/os-release", "ID=foo\n");
	hv_strscpy(f->uts.release, "6.8.0", sizeof(f->uts.release));
	assert_int_equal(kvp_auto_refresh_os(f->a), 0);
	assert_string_equal(get(f, "OSName"), "Linux");
	assert_string_equal(get(f, "OSMajorVersion"), "");
	/* No '-' in the release: OSVersion is all of it. */
	assert_string_equal(get(f, "OSVersion"), "6.8.0");
	assert_string_equal(get(f, "OSBuildNumber"), "6.8.0");

	/* An os-release that is a directory counts as missing. */
	remove_file(f, "etc/os-release");
	remove_file(f, "usr/lib/os-release");
	{
		char path[256];

		hv_snprintf(path, sizeof(path), "%s/os-release", f->etc);
		assert_int_equal(mkdir(path, 0755), 0);
	}
	write_file(f, "usr/lib/os-release", "NAME=Arch\n");
	assert_int_equal(kvp_auto_refresh_os(f->a), 0);
	assert_string_equal(get(f, "OSName"), "Arch");
}

static void test_legacy_release(void **state)
{
	struct fx *f = *state;

	write_file(f, "etc/redhat-release",
		   "CentOS release 6.10 (Final)\nsecond\nthird\nfourth\n");
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	assert_string_equal(get(f, "OSName"), "CentOS release 6.10 (Final)");
	assert_string_equal(get(f, "OSMajorVersion"), "second");
	assert_string_equal(get(f, "OSMinorVersion"), "third");

	/* SuSE-release is tried first. */
	write_file(f, "etc/SuSE-release",
		   "SUSE Linux Enterprise Server 11 (x86_64)\r\n"
		   "VERSION = 11\r\nPATCHLEVEL = 4\r\n");
	assert_int_equal(kvp_auto_refresh_os(f->a), 0);
	assert_string_equal(get(f, "OSName"),
			    "SUSE Linux Enterprise Server 11 (x86_64)");
	assert_string_equal(get(f, "OSMajorVersion"), "VERSION = 11");
	assert_string_equal(get(f, "OSMinorVersion"), "PATCHLEVEL = 4");

	/* One line only; an empty first line keeps sysname. */
	write_file(f, "etc/SuSE-release", "\n");
	assert_int_equal(kvp_auto_refresh_os(f->a), 0);
	assert_string_equal(get(f, "OSName"), "Linux");
	assert_string_equal(get(f, "OSMajorVersion"), "");
	assert_string_equal(get(f, "OSMinorVersion"), "");

	/* os-release, once there, beats both. */
	write_file(f, "usr/lib/os-release", "NAME=New\n");
	assert_int_equal(kvp_auto_refresh_os(f->a), 0);
	assert_string_equal(get(f, "OSName"), "New");
	assert_string_equal(get(f, "OSMinorVersion"), "");

	/* Nothing at all. */
	remove_file(f, "usr/lib/os-release");
	remove_file(f, "etc/SuSE-release");
	remove_file(f, "etc/redhat-release");
	f->uname_r = -EIO;
	assert_int_equal(kvp_auto_refresh_os(f->a), 0);
	assert_string_equal(get(f, "OSName"), "");
	assert_string_equal(get(f, "OSBuildNumber"), "");
	assert_string_equal(get(f, "ProcessorArchitecture"), "");
}

static void test_sanitise(void **state)
{
	struct fx *f = *state;
	char v[8];

	/* Invalid UTF-8 and control characters become '?'. */
	write_file(f, "etc/redhat-release",
		   "D\xc3\xa9"
		   "bian \xff\xc3(\x01x\x7f\n"
		   "\xed\xa0\x80\xf0\x9f\x98\x80\n");
	/* An unterminated uname field is cut, not read past. */
	memset(f->uts.machine, 'm', sizeof(f->uts.machine));
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	assert_string_equal(get(f, "OSName"), "D\xc3\xa9"
					      "bian ??"
					      "(?x?");
	/* A UTF-16 surrogate encoded in UTF-8 is invalid; an emoji is not. */
	assert_string_equal(get(f, "OSMajorVersion"), "???\xf0\x9f\x98\x80");
	assert_int_equal(strlen(get(f, "ProcessorArchitecture")),
			 sizeof(f->uts.machine) - 1);

	/* A small buffer cuts before a character, never inside it. */
	assert_int_equal(kvp_auto_get(f->a, "OSName", v, 3), 1);
	assert_string_equal(v, "D");
	assert_int_equal(kvp_auto_get(f->a, "OSName", v, 4), 3);
	assert_string_equal(v, "D\xc3\xa9");
	assert_int_equal(kvp_auto_get(f->a, "OSMajorVersion", v, 7), 3);
	assert_int_equal(kvp_auto_get(f->a, "OSMajorVersion", v, 8), 7);

	assert_int_equal(kvp_auto_set_ic_version(f->a, "3.1\n\x80"), 0);
	assert_string_equal(get(f, "IntegrationServicesVersion"), "3.1??");
}

static void test_addresses(void **state)
{
	static const char *const mine[] = { "eth1", NULL };
	static const char *const none[] = { NULL };
	struct fx *f = *state;

	add_addr(f, "eth0", "10.0.0.5");
	add_addr(f, "docker0", "172.17.0.1");
	add_addr(f, "eth1", "169.254.3.4");
	add_addr(f, "eth1", "fe80::1");
	add_addr(f, "eth1", "2001:db8::1");
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	assert_string_equal(get(f, "NetworkAddressIPv4"), "10.0.0.5");
	assert_string_equal(get(f, "NetworkAddressIPv6"), "2001:db8::1");

	/* Read at request time, not cached. */
	add_addr(f, "eth2", "10.0.0.6");
	assert_string_equal(get(f, "NetworkAddressIPv4"), "10.0.0.5;10.0.0.6");

	/* A failing source reports no addresses rather than an error. */
	f->addrs_r = -ENOMEM;
	assert_string_equal(get(f, "NetworkAddressIPv4"), "");
	f->addrs_r = 0;
	finish(f);

	f->cfg.exclude_globs = mine;
	f->cfg.link_local = true;
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	assert_string_equal(get(f, "NetworkAddressIPv4"),
			    "10.0.0.5;172.17.0.1;10.0.0.6");
	finish(f);

	f->cfg.exclude_globs = none;
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	assert_string_equal(get(f, "NetworkAddressIPv4"),
			    "10.0.0.5;172.17.0.1;169.254.3.4;10.0.0.6");
	assert_string_equal(get(f, "NetworkAddressIPv6"),
			    "fe80::1;2001:db8::1");
}

static void test_fqdn_never_blocks(void **state)
{
	struct fx *f = *state;

	f->blocking = true;
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	/* The resolver is stuck; the answer is the hostname, at once. */
	assert_true(kvp_auto_resolving(f->a));
	assert_string_equal(get(f, FQDN), "vm1");
	assert_string_equal(get(f, FQDN), "vm1");
	assert_int_equal(kvp_auto_process(f->a), 0);
	assert_string_equal(get(f, FQDN), "vm1");

	release(f, 'a');
	wait_result(f);
	assert_false(kvp_auto_resolving(f->a));
	assert_string_equal(get(f, FQDN), "vm1.example.org");
	assert_false(kvp_auto_resolving(f->a));
	assert_int_equal(atomic_load(&f->calls), 1);
	/* Nothing further to take. */
	assert_int_equal(kvp_auto_process(f->a), 0);
}

static void test_fqdn_hostname_change(void **state)
{
	struct fx *f = *state;

	f->blocking = true;
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	release(f, 'a');
	wait_result(f);
	assert_string_equal(get(f, FQDN), "vm1.example.org");

	/* Renamed: the old FQDN is wrong at once, a lookup starts. */
	hv_strscpy(f->hostname, "vm2", sizeof(f->hostname));
	assert_string_equal(get(f, FQDN), "vm2");
	assert_true(kvp_auto_resolving(f->a));

	/* Renamed again while vm2 is in flight: still one lookup. */
	hv_strscpy(f->hostname, "vm3", sizeof(f->hostname));
	assert_string_equal(get(f, FQDN), "vm3");
	assert_true(kvp_auto_resolving(f->a));

	/* vm2's answer lands stale: dropped, and vm3's lookup starts. */
	release(f, 'a');
	wait_result(f);
	assert_string_equal(get(f, FQDN), "vm3");
	assert_true(kvp_auto_resolving(f->a));
	release(f, 'b');
	wait_result(f);
	assert_false(kvp_auto_resolving(f->a));
	assert_string_equal(get(f, FQDN), "vm3.example.net");
	assert_int_equal(atomic_load(&f->calls), 3);

	/* Back to vm1: only vm3's answer is cached, so vm1 is asked anew. */
	hv_strscpy(f->hostname, "vm1", sizeof(f->hostname));
	assert_string_equal(get(f, FQDN), "vm1");
	assert_true(kvp_auto_resolving(f->a));
	release(f, 'a');
	wait_result(f);
	assert_string_equal(get(f, FQDN), "vm1.example.org");
}

static void test_fqdn_ttl_and_failure(void **state)
{
	struct fx *f = *state;

	f->blocking = true;
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	/* A failure answers with the hostname, never an error text. */
	release(f, 'f');
	wait_result(f);
	assert_string_equal(get(f, FQDN), "vm1");
	assert_false(kvp_auto_resolving(f->a));

	/* Retried after retry_sec, not on every request. */
	f->now += 29999;
	assert_string_equal(get(f, FQDN), "vm1");
	assert_false(kvp_auto_resolving(f->a));
	f->now += 1;
	assert_string_equal(get(f, FQDN), "vm1");
	assert_true(kvp_auto_resolving(f->a));
	release(f, 'a');
	wait_result(f);
	assert_string_equal(get(f, FQDN), "vm1.example.org");

	/* Fresh until ttl_sec; then the stale answer is served meanwhile. */
	f->now += 299999;
	assert_string_equal(get(f, FQDN), "vm1.example.org");
	assert_false(kvp_auto_resolving(f->a));
	f->now += 1;
	assert_string_equal(get(f, FQDN), "vm1.example.org");
	assert_true(kvp_auto_resolving(f->a));

	/* A failed refresh keeps the last good answer... */
	release(f, 'f');
	wait_result(f);
	assert_string_equal(get(f, FQDN), "vm1.example.org");
	assert_false(kvp_auto_resolving(f->a));
	/* ...and is retried after retry_sec. */
	f->now += 30000;
	assert_string_equal(get(f, FQDN), "vm1.example.org");
	assert_true(kvp_auto_resolving(f->a));
	release(f, 'b');
	wait_result(f);
	assert_string_equal(get(f, FQDN), "vm1.example.net");

	assert_int_equal(atomic_load(&f->calls), 4);

	/* A clock going backwards counts as expired. */
	f->now -= 1;
	assert_string_equal(get(f, FQDN), "vm1.example.net");
	assert_true(kvp_auto_resolving(f->a));
	release(f, 'a');
	wait_result(f);
	assert_string_equal(get(f, FQDN), "vm1.example.org");
	assert_int_equal(atomic_load(&f->calls), 5);
}

static void test_fqdn_hostname_source(void **state)
{
	struct fx *f = *state;

	/* A name that never resolves: the hostname, retried lazily. */
	hv_strscpy(f->hostname, "failing-host", sizeof(f->hostname));
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	wait_result(f);
	assert_string_equal(get(f, FQDN), "failing-host");
	finish(f);

	/* No hostname at all: empty, no lookup, no error. */
	hv_strscpy(f->hostname, "vm1", sizeof(f->hostname));
	f->hostname_r = -EIO;
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	assert_false(kvp_auto_resolving(f->a));
	assert_string_equal(get(f, FQDN), "");
	assert_false(kvp_auto_resolving(f->a));
	/* The source recovers. */
	f->hostname_r = 0;
	assert_string_equal(get(f, FQDN), "vm1");
	wait_result(f);
	assert_string_equal(get(f, FQDN), "vm1.example.org");
	/* It fails again: the last name seen is kept. */
	f->hostname_r = -EIO;
	assert_string_equal(get(f, FQDN), "vm1.example.org");
}

static void test_free_in_flight(void **state)
{
	struct fx *f = *state;
	struct pollfd p;
	char buf[8];
	ssize_t n;
	int fd;

	f->blocking = true;
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	assert_string_equal(get(f, FQDN), "vm1");
	assert_true(kvp_auto_resolving(f->a));

	/* Freeing returns with the resolver still stuck. */
	fd = fcntl(kvp_auto_fd(f->a), F_DUPFD_CLOEXEC, 3);
	assert_true(fd >= 0);
	f->a = kvp_auto_free(f->a);
	assert_null(f->a);

	/* Let it finish; the job frees itself, then closes its fd. */
	release(f, 'a');
	for (;;) {
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		assert_int_equal(poll(&p, 1, WAIT_MS), 1);
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			break;
		assert_true(n > 0 || errno == EAGAIN);
	}
	close(fd);
	assert_int_equal(atomic_load(&f->calls), 1);
}

static void test_free_unprocessed(void **state)
{
	struct fx *f = *state;
	struct pollfd p;

	/* The result is waiting but nobody took it: free drops it. */
	assert_int_equal(kvp_auto_new(&f->cfg, &f->a), 0);
	p = (struct pollfd){ .fd = kvp_auto_fd(f->a), .events = POLLIN };
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	assert_true(kvp_auto_resolving(f->a));
	finish(f);
	assert_null(kvp_auto_free(NULL));
}

static int localhost(char *buf, size_t size, void *ud)
{
	return hv_strscpy(buf, "localhost", size);
}

static void test_defaults(void **state)
{
	struct kvp_auto_config cfg = { .hostname = localhost };
	struct fx *f = *state;
	struct utsname u;
	char v[2048];

	/* The real uname, getifaddrs and getaddrinfo on "localhost". */
	assert_int_equal(uname(&u), 0);
	assert_int_equal(kvp_auto_new(&cfg, &f->a), 0);
	assert_string_equal(get(f, "ProcessorArchitecture"), u.machine);
	assert_string_equal(get(f, "OSBuildNumber"), u.release);
	assert_true(kvp_auto_get(f->a, "NetworkAddressIPv4", v, sizeof(v)) >=
		    0);
	assert_null(strstr(v, "127.0.0.1"));
	assert_true(kvp_auto_get(f->a, "NetworkAddressIPv6", v, sizeof(v)) >=
		    0);
	assert_true(kvp_auto_resolving(f->a));
	wait_result(f);
	assert_true(strlen(get(f, FQDN)) > 0);
	assert_int_equal(kvp_auto_new(&cfg, NULL), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_keys_in_order),
		T(test_get),
		T(test_os_release_sources),
		T(test_legacy_release),
		T(test_sanitise),
		T(test_addresses),
		T(test_fqdn_never_blocks),
		T(test_fqdn_hostname_change),
		T(test_fqdn_ttl_and_failure),
		T(test_fqdn_hostname_source),
		T(test_free_in_flight),
		T(test_free_unprocessed),
		T(test_defaults),
	};

	return cmocka_run_group_tests_name("kvp-auto", tests, NULL, NULL);
}
