/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * System test (root): GET_IP_INFO from the real hv_kvp_daemon running in
 * a private network namespace, asked by the simulated host through the
 * kernel model (hvsim_kvp: UTF-16 host messages, §3.2 conversions).
 *
 * The namespace "hvis-test-<pid>" holds veth and bridge interfaces with
 * known MACs, addresses and default routes (this kernel may lack the
 * dummy driver); the daemon runs there with `ip netns exec` and --root
 * pointing at a private tree, so its resolv.conf and the networkd and
 * NetworkManager state it reads are this test's files. Nothing outside
 * the namespace and the tree is touched; both are removed at exit, also
 * when a test fails. Without root or `ip netns` every test is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hvis/util.h"
#include "hvis/wire.h"
#include "hvsim/hvsim-kvp-ip.h"
#include "hvsim/hvsim.h"

#define TIMEOUT_MS 20000

extern char **environ;

struct fixture {
	bool ready;
	char why[256]; /* the reason for skipping */
	char ns[64];
	char root[64];
	char log[128];
	struct hvsim_cdev *cd;
	struct hvsim_kvp *k;
	pid_t pid;
	pid_t networkd; /* group 2: the real systemd-networkd */
};

/* One fixture per group; fx is the running group's. */
static struct fixture groups[2];
static struct fixture *cur = &groups[0];
#define fx (*cur)

static const char *build_dir(void)
{
	const char *b = getenv("BUILD");

	return b ? b : "build";
}

/* Run a shell command line of our own making; its exit status. */
static int sh(const char *fmt, ...) HV_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* "ip -n NS ..." that must work. */
static void ipn(const char *fmt, ...) HV_PRINTF(1, 2);
static void ipn(const char *fmt, ...)
{
	char args[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	if (sh("ip -n %s %s", fx.ns, args) != 0)
		fail_msg("ip -n %s %s failed", fx.ns, args);
}

static void write_file(const char *rel, const char *text)
{
	char path[256], dir[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx.root, rel);
	hv_strscpy(dir, path, sizeof(dir));
	*strrchr(dir, '/') = '\0';
	assert_int_equal(hv_mkdir_parents(dir, 0755), 0);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int ifindex_of(const char *ifname)
{
	char cmd[256], line[32] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "ip netns exec %s cat /sys/class/net/%s/ifindex", fx.ns,
		 ifname);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	pclose(p);
	return atoi(line);
}

/* A veth whose peer stays in the namespace, so it has a carrier. */
static void veth(const char *name, const char *mac)
{
	ipn("link add %s type veth peer name p%s", name, name);
	ipn("link set %s address %s", name, mac);
	ipn("link set p%s up", name);
	ipn("link set %s up", name);
}

static void cleanup_one(struct fixture *g)
{
	if (g->pid > 0) {
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
		g->pid = 0;
	}
	if (g->networkd > 0) {
		/* Not our child (the daemon's shell started it): no wait. */
		kill(g->networkd, SIGKILL);
		g->networkd = 0;
	}
	if (g->ns[0]) {
		sh("ip netns del %s 2>/dev/null", g->ns);
		g->ns[0] = '\0';
	}
	if (g->root[0]) {
		sh("rm -rf %s", g->root);
		g->root[0] = '\0';
	}
}

static void cleanup(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
		cleanup_one(&groups[i]);
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void network(void)
{
	char text[512];

	ipn("link set lo up");
	/* eth0: both families, default routes for both. */
	veth("eth0", "00:15:5d:00:00:01");
	ipn("addr add 10.0.0.5/24 dev eth0");
	ipn("addr add 10.0.1.5/16 dev eth0");
	ipn("addr add 2001:db8::5/64 dev eth0 nodad");
	ipn("route add default via 10.0.0.1 dev eth0 metric 100");
	ipn("-6 route add default via 2001:db8::1 dev eth0 metric 100");
	/* eth1 and eth10: the reference's prefix match mixes them up. */
	veth("eth1", "00:15:5d:00:00:02");
	ipn("addr add 10.1.0.5/24 dev eth1");
	ipn("route add default via 10.1.0.1 dev eth1 metric 200");
	veth("eth10", "00:15:5d:00:00:10");
	ipn("addr add 10.10.0.5/24 dev eth10");
	ipn("route add default via 10.10.0.1 dev eth10 metric 300");
	/*
	 * SR-IOV: the VF, first by ifindex and without an address, is
	 * enslaved to the synthetic NIC (here a bridge) with its MAC.
	 */
	veth("vf2", "00:15:5d:00:00:03");
	ipn("link add eth2 type bridge");
	ipn("link set eth2 address 00:15:5d:00:00:03");
	ipn("link set vf2 master eth2");
	ipn("link set eth2 up");
	ipn("addr add 10.2.0.5/24 dev eth2");
	/* Up without an address (IPv6 link-local only). */
	veth("eth3", "00:15:5d:00:00:04");
	/* An address, but down. */
	veth("eth4", "00:15:5d:00:00:05");
	ipn("addr add 10.4.0.5/24 dev eth4");
	ipn("link set eth4 down");
	/* More addresses than the host's field holds. */
	veth("eth5", "00:15:5d:00:00:06");
	snprintf(text, sizeof(text), "%s/addrs.batch", fx.root);
	{
		FILE *f = fopen(text, "we");

		assert_non_null(f);
		for (int i = 0; i < 80; i++)
			fprintf(f,
				"addr add 2001:db8:5::%x/64 dev eth5 nodad\n",
				0x1000 + i);
		fclose(f);
	}
	ipn("-batch %s", text);

	/* The DNS fallback, with a stub resolver to skip. */
	write_file("etc/resolv.conf", "search example.com\n"
				      "nameserver 10.0.0.53\n"
				      "nameserver 127.0.0.53\n"
				      "nameserver 2001:db8::53\n");
	/* eth1 as systemd-networkd leaves it: DHCP and its own DNS. */
	snprintf(text, sizeof(text), "%s/etc/systemd/network/eth1.network",
		 fx.root);
	write_file("etc/systemd/network/eth1.network",
		   "[Match]\nName=eth1\n[Network]\nDHCP=yes\n");
	{
		char rel[64], state[1024];

		snprintf(rel, sizeof(rel), "run/systemd/netif/links/%d",
			 ifindex_of("eth1"));
		snprintf(state, sizeof(state),
			 "# This is private data. Do not parse.\n"
			 "ADMIN_STATE=configured\nOPER_STATE=routable\n"
			 "NETWORK_FILE=%s\nDNS=10.1.0.53\n",
			 text);
		write_file(rel, state);
		/* eth10 as NetworkManager leaves it: static, one server. */
		snprintf(rel, sizeof(rel), "run/NetworkManager/devices/%d",
			 ifindex_of("eth10"));
		write_file(rel, "[device]\nmanaged=true\n"
				"connection-uuid=0f1e2d3c-0000-4000-8000-"
				"000000000010\n");
		write_file("etc/NetworkManager/system-connections/"
			   "eth10.nmconnection",
			   "[connection]\nid=eth10\n"
			   "uuid=0f1e2d3c-0000-4000-8000-000000000010\n"
			   "[ipv4]\nmethod=manual\n"
			   "address1=10.10.0.5/24,10.10.0.1\n"
			   "dns=10.10.0.53;\n");
	}
}

/* The simulated device; then argv spawned with stderr to the log. */
static void start_daemon(char *const argv[])
{
	char dev[128];
	posix_spawn_file_actions_t fa;

	snprintf(dev, sizeof(dev), "%s/dev/vmbus", fx.root);
	assert_int_equal(hv_mkdir_parents(dev, 0755), 0);
	snprintf(dev, sizeof(dev), "%s/dev/vmbus/hv_kvp", fx.root);
	assert_int_equal(hvsim_cdev_new(dev, HVSIM_CDEV_KVP, &fx.cd), 0);
	hvsim_cdev_set_reply_timeout(fx.cd, TIMEOUT_MS);
	assert_int_equal(hvsim_kvp_new(fx.cd, &fx.k), 0);
	hvsim_kvp_set_nego_wait(fx.k, TIMEOUT_MS);
	write_file("etc/os-release", "NAME=\"Test Linux\"\nVERSION_ID=1\n");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, fx.log,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	assert_int_equal(
		posix_spawnp(&fx.pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(hvsim_cdev_wait_ready(fx.cd, TIMEOUT_MS), 0);
}

/*
 * The private tree and namespace of the current group; false with
 * fx.why set when this machine cannot have them.
 */
static bool netns_begin(const char *tag)
{
	static bool once;

	if (geteuid() != 0) {
		snprintf(fx.why, sizeof(fx.why), "needs root");
		return false;
	}
	if (sh("ip -V >/dev/null 2>&1") != 0) {
		snprintf(fx.why, sizeof(fx.why), "no ip(8)");
		return false;
	}
	if (!once) {
		atexit(cleanup);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		once = true;
	}
	hv_strscpy(fx.root, "/tmp/hvis-ipinfo.XXXXXX", sizeof(fx.root));
	if (!mkdtemp(fx.root)) {
		fx.root[0] = '\0';
		snprintf(fx.why, sizeof(fx.why), "mkdtemp: %m");
		return false;
	}
	snprintf(fx.log, sizeof(fx.log), "%s/daemon.log", fx.root);
	snprintf(fx.ns, sizeof(fx.ns), "hvis-test-%d-%s", (int)getpid(), tag);
	if (sh("ip netns add %s 2>/dev/null", fx.ns) != 0) {
		fx.ns[0] = '\0';
		snprintf(fx.why, sizeof(fx.why),
			 "cannot create a network namespace");
		return false;
	}
	if (sh("ip -n %s link add hvis-probe type veth peer name hvis-probe1 "
	       "2>/dev/null && ip -n %s link del hvis-probe",
	       fx.ns, fx.ns) != 0 ||
	    sh("ip -n %s link add hvis-probe type bridge 2>/dev/null && "
	       "ip -n %s link del hvis-probe",
	       fx.ns, fx.ns) != 0) {
		snprintf(fx.why, sizeof(fx.why),
			 "the kernel lacks veth or bridge interfaces");
		return false;
	}
	return true;
}

static int group_setup(void **state)
{
	char bin[256];
	char *argv[] = { "ip",	    "netns",  "exec",	       NULL /* ns */,
			 bin,	    "--root", NULL /* root */, "--log=stderr",
			 "--debug", NULL };

	cur = &groups[0];
	if (!netns_begin("a"))
		return 0;
	network();
	snprintf(bin, sizeof(bin), "%s/hv_kvp_daemon", build_dir());
	argv[3] = fx.ns;
	argv[6] = fx.root;
	start_daemon(argv);
	fx.ready = true;
	return 0;
}

static int group_teardown(void **state)
{
	int st = 0;

	if (fx.pid > 0) {
		kill(fx.pid, SIGTERM);
		for (int ms = 0; waitpid(fx.pid, &st, WNOHANG) == 0; ms += 10) {
			if (ms > TIMEOUT_MS)
				kill(fx.pid, SIGKILL);
			hvsim_cdev_run(fx.cd, 10);
		}
		fx.pid = 0;
		/* Under sanitizers a leak shows as a non-zero exit. */
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			sh("cat %s >&2", fx.log);
			fail_msg("daemon exit status %d", st);
		}
	}
	hvsim_kvp_free(fx.k);
	hvsim_cdev_free(fx.cd);
	fx.k = NULL;
	fx.cd = NULL;
	cleanup_one(cur);
	return 0;
}

#define NEED_NETNS()                                          \
	do {                                                  \
		if (!fx.ready) {                              \
			print_message("# SKIP %s\n", fx.why); \
			skip();                               \
		}                                             \
	} while (0)

static uint32_t get(const char *mac, struct hvsim_kvp_ip *ip)
{
	uint32_t status = 0xdeadbeef;
	int r;

	r = hvsim_kvp_get_ip_info(
		fx.k, mac, ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6, ip, &status);
	if (r < 0)
		fail_msg("GET_IP_INFO %s: %s (%s)", mac, strerror(-r),
			 hvsim_kvp_path_name(hvsim_kvp_last_path(fx.k)));
	return status;
}

static void test_both_families(void **state)
{
	static struct hvsim_kvp_ip ip;

	NEED_NETNS();
	assert_int_equal(get("00:15:5D:00:00:01", &ip), HV_S_OK);
	assert_string_equal(ip.adapter_id, "00:15:5D:00:00:01");
	assert_string_equal(ip.ip_addr, "10.0.0.5;10.0.1.5;2001:db8::5");
	assert_string_equal(ip.sub_net, "255.255.255.0;255.255.0.0;/64");
	assert_string_equal(ip.gate_way, "10.0.0.1;2001:db8::1");
	/* resolv.conf, the stub dropped. */
	assert_string_equal(ip.dns_addr, "10.0.0.53;2001:db8::53");
	assert_int_equal(ip.addr_family, ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6);
	assert_int_equal(ip.dhcp_enabled, 0);
	/* The MAC text is matched ignoring case. */
	assert_int_equal(get("00:15:5d:00:00:01", &ip), HV_S_OK);
	assert_string_equal(ip.ip_addr, "10.0.0.5;10.0.1.5;2001:db8::5");
}

static void test_eth1_eth10(void **state)
{
	static struct hvsim_kvp_ip ip;
	uint32_t status;

	NEED_NETNS();
	/* hvsim's host spelling helper, as `hvsim kvp ip get` uses it. */
	assert_int_equal(hvsim_kvp_ip_get(fx.k, "00155d000002", &ip, &status),
			 0);
	assert_int_equal(status, HV_S_OK);
	assert_string_equal(ip.ip_addr, "10.1.0.5");
	assert_string_equal(ip.sub_net, "255.255.255.0");
	/* Its own gateway only, not eth0's or eth10's. */
	assert_string_equal(ip.gate_way, "10.1.0.1");
	/* networkd's state: DHCP on, the link's DNS server. */
	assert_int_equal(ip.dhcp_enabled, 1);
	assert_string_equal(ip.dns_addr, "10.1.0.53");
	assert_int_equal(ip.addr_family, ADDR_FAMILY_IPV4);

	assert_int_equal(get("00:15:5D:00:00:10", &ip), HV_S_OK);
	assert_string_equal(ip.ip_addr, "10.10.0.5");
	assert_string_equal(ip.gate_way, "10.10.0.1");
	/* NetworkManager's profile: static, its DNS server. */
	assert_int_equal(ip.dhcp_enabled, 0);
	assert_string_equal(ip.dns_addr, "10.10.0.53");
}

static void test_sriov(void **state)
{
	static struct hvsim_kvp_ip ip;

	NEED_NETNS();
	assert_int_equal(get("00:15:5D:00:00:03", &ip), HV_S_OK);
	assert_string_equal(ip.ip_addr, "10.2.0.5");
	assert_string_equal(ip.sub_net, "255.255.255.0");
	assert_string_equal(ip.gate_way, "");
}

static void test_no_address_down(void **state)
{
	static struct hvsim_kvp_ip ip;

	NEED_NETNS();
	/* Up with only an IPv6 link-local address: nothing to report. */
	assert_int_equal(get("00:15:5D:00:00:04", &ip), HV_S_OK);
	assert_string_equal(ip.adapter_id, "00:15:5D:00:00:04");
	assert_string_equal(ip.ip_addr, "");
	assert_string_equal(ip.sub_net, "");
	assert_string_equal(ip.gate_way, "");
	assert_string_equal(ip.dns_addr, "");
	assert_int_equal(ip.addr_family, 0);
	/* Down, with an address: matched, nothing reported. */
	assert_int_equal(get("00:15:5D:00:00:05", &ip), HV_S_OK);
	assert_string_equal(ip.ip_addr, "");
	assert_string_equal(ip.dns_addr, "");
	assert_int_equal(ip.addr_family, 0);
}

static void test_unknown(void **state)
{
	static struct hvsim_kvp_ip ip;

	NEED_NETNS();
	assert_int_equal(get("00:15:5D:00:00:99", &ip), HV_E_FAIL);
	assert_string_equal(ip.ip_addr, "");
	/* The peer ends' MACs are random: other spellings never match. */
	assert_int_equal(get("00-15-5D-00-00-01", &ip), HV_E_FAIL);
	assert_int_equal(get("", &ip), HV_E_FAIL);
	/* lo has an all-zero MAC and is no adapter. */
	assert_int_equal(get("00:00:00:00:00:00", &ip), HV_E_FAIL);
}

static void test_bounded(void **state)
{
	static struct hvsim_kvp_ip ip;
	const char *items[128];
	char buf[2048];
	unsigned char bin[16];
	int n, m;

	NEED_NETNS();
	assert_int_equal(get("00:15:5D:00:00:06", &ip), HV_S_OK);
	assert_true(strlen(ip.ip_addr) <= 1023);
	assert_true(strlen(ip.ip_addr) > 1023 - 17);
	n = hvsim_kvp_ip_split(ip.ip_addr, buf, sizeof(buf), items, 128);
	/* 80 addresses of 16 bytes and a ';': 60 whole ones fit. */
	assert_int_equal(n, 1024 / 17);
	for (int i = 0; i < n; i++)
		assert_int_equal(inet_pton(AF_INET6, items[i], bin), 1);
	m = hvsim_kvp_ip_split(ip.sub_net, buf, sizeof(buf), items, 128);
	assert_int_equal(m, n);
	for (int i = 0; i < m; i++)
		assert_string_equal(items[i], "/64");
	assert_int_equal(ip.addr_family, ADDR_FAMILY_IPV6);
}

/* NetworkAddressIPv4/IPv6 (pool 2) agree with what GET_IP_INFO says. */
static void test_intrinsic_agrees(void **state)
{
	static char key[HVSIM_KVP_KEY_MAX], v4[HVSIM_KVP_VALUE_MAX],
		v6[HVSIM_KVP_VALUE_MAX];
	static const char *const in[] = { "10.0.0.5", "10.0.1.5", "10.1.0.5",
					  "10.10.0.5", "10.2.0.5" };
	uint32_t status;

	NEED_NETNS();
	assert_int_equal(hvsim_kvp_enumerate(fx.k, KVP_POOL_AUTO, 2, key,
					     sizeof(key), v4, sizeof(v4),
					     &status),
			 0);
	assert_int_equal(status, HV_S_OK);
	assert_string_equal(key, "NetworkAddressIPv4");
	assert_int_equal(hvsim_kvp_enumerate(fx.k, KVP_POOL_AUTO, 3, key,
					     sizeof(key), v6, sizeof(v6),
					     &status),
			 0);
	assert_string_equal(key, "NetworkAddressIPv6");
	for (size_t i = 0; i < ARRAY_SIZE(in); i++)
		if (!strstr(v4, in[i]))
			fail_msg("%s missing from NetworkAddressIPv4 \"%s\"",
				 in[i], v4);
	/* The down interface's address and link-local ones are in neither. */
	assert_null(strstr(v4, "10.4.0.5"));
	assert_null(strstr(v6, "fe80:"));
	assert_non_null(strstr(v6, "2001:db8::5"));
}

/* ---- group 2: a link managed by the real systemd-networkd ---- */

#define NETWORKD "/lib/systemd/systemd-networkd"

static bool is_networkd(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return strncmp(comm, "systemd-network", 15) == 0;
}

static int networkd_setup(void **state)
{
	char bin[PATH_MAX], script[PATH_MAX + 1024], dir[256], pidfile[128];
	char *argv[] = { "ip",	    "netns", "exec",	      NULL /* ns */,
			 "unshare", "-m",    "--propagation", "private",
			 "sh",	    "-c",    script,	      NULL };
	struct passwd *pw;
	FILE *f;
	int pid = 0;

	cur = &groups[1];
	pw = getpwnam("systemd-network");
	if (access(NETWORKD, X_OK) < 0 || !pw) {
		snprintf(fx.why, sizeof(fx.why),
			 "systemd-networkd (and its user) not installed");
		return 0;
	}
	if (access("/run/systemd", F_OK) < 0 ||
	    access("/etc/systemd/network", F_OK) < 0) {
		snprintf(
			fx.why, sizeof(fx.why),
			"no /run/systemd or /etc/systemd/network to mount over");
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/hv_kvp_daemon", build_dir());
	if (!realpath(dir, bin)) {
		snprintf(fx.why, sizeof(fx.why), "no %.200s", dir);
		return 0;
	}
	if (!netns_begin("nd"))
		return 0;
	veth("eth7", "00:15:5d:00:00:07");
	veth("eth8", "00:15:5d:00:00:08");
	write_file("conf/10-eth7.network",
		   "[Match]\nName=eth7\n[Network]\nAddress=10.7.0.5/24\n"
		   "Gateway=10.7.0.1\nDNS=10.7.0.53\nDHCP=ipv4\n");
	write_file("conf/10-eth8.network",
		   "[Match]\nName=eth8\n[Network]\nAddress=10.8.0.5/24\n"
		   "DNS=10.8.0.53\nDHCP=no\n");
	/* What must not be reported for these links. */
	write_file("etc/resolv.conf", "nameserver 10.99.0.53\n");
	snprintf(dir, sizeof(dir), "%s/run/systemd/netif", fx.root);
	assert_int_equal(hv_mkdir_parents(dir, 0755), 0);
	assert_int_equal(chown(dir, pw->pw_uid, pw->pw_gid), 0);
	snprintf(pidfile, sizeof(pidfile), "%s/networkd.pid", fx.root);
	/*
	 * networkd and the daemon share a private mount namespace: a
	 * read-only /sys (networkd then does not wait for udev, as in a
	 * container), this tree's run/systemd as /run/systemd (so networkd's
	 * state is the daemon's <run-dir>/systemd) and conf/ as
	 * /etc/systemd/network.
	 */
	snprintf(script, sizeof(script),
		 "mount -o remount,bind,ro /sys && "
		 "mount --bind %s/run/systemd /run/systemd && "
		 "mount --bind %s/conf /etc/systemd/network && "
		 "{ " NETWORKD " 2>>%s/networkd.log & echo $! >%s; } && "
		 "exec %s --root %s --log=stderr --debug",
		 fx.root, fx.root, fx.root, pidfile, bin, fx.root);
	argv[3] = fx.ns;
	start_daemon(argv);
	f = fopen(pidfile, "re");
	if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0)
		fail_msg("no networkd pid in %s", pidfile);
	fclose(f);
	if (is_networkd(pid))
		fx.networkd = pid;
	fx.ready = true;
	return 0;
}

/*
 * networkd configures a link in steps (address, routes, then its state
 * file): ask until everything expected is there, or the time is up.
 */
static uint32_t get_when(const char *mac, const char *want_ip,
			 const char *want_gw, const char *want_dns,
			 struct hvsim_kvp_ip *ip)
{
	uint32_t st = 0;

	for (int ms = 0; ms < TIMEOUT_MS; ms += 50) {
		st = get(mac, ip);
		if (st == HV_S_OK && !strcmp(ip->ip_addr, want_ip) &&
		    !strcmp(ip->gate_way, want_gw) &&
		    !strcmp(ip->dns_addr, want_dns))
			break;
		hvsim_cdev_run(fx.cd, 50);
	}
	return st;
}

static void test_networkd(void **state)
{
	static struct hvsim_kvp_ip ip;

	NEED_NETNS();
	assert_int_equal(get_when("00:15:5D:00:00:07", "10.7.0.5", "10.7.0.1",
				  "10.7.0.53", &ip),
			 HV_S_OK);
	assert_string_equal(ip.ip_addr, "10.7.0.5");
	assert_string_equal(ip.sub_net, "255.255.255.0");
	assert_string_equal(ip.gate_way, "10.7.0.1");
	/* networkd's own DNS for the link, not resolv.conf's. */
	assert_string_equal(ip.dns_addr, "10.7.0.53");
	/* DHCP=ipv4 with no server answering: configured, no lease. */
	assert_int_equal(ip.dhcp_enabled, 1);

	assert_int_equal(get_when("00:15:5D:00:00:08", "10.8.0.5", "",
				  "10.8.0.53", &ip),
			 HV_S_OK);
	assert_string_equal(ip.dns_addr, "10.8.0.53");
	assert_string_equal(ip.gate_way, "");
	assert_int_equal(ip.dhcp_enabled, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_families),
		cmocka_unit_test(test_eth1_eth10),
		cmocka_unit_test(test_sriov),
		cmocka_unit_test(test_no_address_down),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_intrinsic_agrees),
	};

	const struct CMUnitTest networkd[] = {
		cmocka_unit_test(test_networkd),
	};
	int failed;

	failed = cmocka_run_group_tests_name("kvp-ipinfo-netns", tests,
					     group_setup, group_teardown);
	failed += cmocka_run_group_tests_name("kvp-ipinfo-networkd", networkd,
					      networkd_setup, group_teardown);
	return failed;
}
