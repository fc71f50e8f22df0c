/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GET_IP_INFO benchmark: our hv_kvp_daemon against the reference
 * (Debian's hyperv-daemons) in the same run, both inside one private
 * network namespace holding 8 interfaces (veth ends whose peers live in a
 * second namespace, so the measured one has exactly eth0..eth7 and lo),
 * each with an IPv4 and an IPv6 address, default routes for both
 * families on eth0. The host asks for eth0's MAC, as Get-VMNetworkAdapter
 * does, through the simulated device; each reply is checked.
 *
 * Each daemon runs in a private mount namespace with /var/lib/hyperv
 * bound to the run's state directory (the reference knows no other path)
 * and a sysfs of the network namespace on /sys (the reference finds the
 * MAC there), as `ip netns exec` gives. Both read the machine's /etc (the
 * reference's scripts read /etc/resolv.conf; so does our fallback).
 * Rounds alternate which daemon goes first. Needs root; the namespaces
 * are deleted at exit.
 */
#include <getopt.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "bench.h"
#include "hvis/wire.h"
#include "hvsim/hvsim.h"

#define MAC "00:15:5D:00:01:00"
#define REPLY_TIMEOUT_MS 120000
#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 5000
#define MAX_ROUNDS 64
#define NIFS 8

enum daemon_id { D_OURS, D_REF, D_MAX };
static const char *const daemon_names[D_MAX] = { "ours", "reference" };

struct bench {
	const char *ours, *ref, *shim, *json, *label;
	bool have_ref, keep;
	unsigned int rounds, ops[D_MAX];
	char ns[64], peer_ns[64];
	char work[256], dev_dir[300], sock[320], state[300], run_dir[300];
	char log[D_MAX][300];
	char reply_ip[D_MAX][256]; /* the ip_addr of the last good reply */
	double *lat;
	struct bench_stats st[D_MAX][MAX_ROUNDS];
	unsigned int bad[D_MAX][MAX_ROUNDS];
	unsigned int failures;
};

static struct bench bb;
static struct hv_kvp_msg msg, reply;

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

static void cleanup(void)
{
	if (bb.ns[0])
		sh("ip netns del %s 2>/dev/null", bb.ns);
	if (bb.peer_ns[0])
		sh("ip netns del %s 2>/dev/null", bb.peer_ns);
	bb.ns[0] = bb.peer_ns[0] = '\0';
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* eth0..eth7: veth ends with known MACs and addresses. */
static int network(struct bench *b)
{
	snprintf(b->ns, sizeof(b->ns), "hvis-bench-%d", (int)getpid());
	snprintf(b->peer_ns, sizeof(b->peer_ns), "hvis-bench-%d-peer",
		 (int)getpid());
	if (sh("ip netns add %s && ip netns add %s", b->ns, b->peer_ns))
		return -EPERM;
	if (sh("ip -n %s link set lo up", b->ns))
		return -EIO;
	for (int i = 0; i < NIFS; i++) {
		if (sh("ip -n %s link add eth%d type veth peer name p%d "
		       "netns %s",
		       b->ns, i, i, b->peer_ns) ||
		    sh("ip -n %s link set eth%d address 00:15:5d:00:01:%02x",
		       b->ns, i, i) ||
		    sh("ip -n %s link set p%d up", b->peer_ns, i) ||
		    sh("ip -n %s link set eth%d up", b->ns, i) ||
		    sh("ip -n %s addr add 10.%d.0.5/24 dev eth%d", b->ns, i,
		       i) ||
		    sh("ip -n %s addr add 2001:db8:%d::5/64 dev eth%d nodad",
		       b->ns, i, i))
			return -EIO;
	}
	if (sh("ip -n %s route add default via 10.0.0.1 dev eth0", b->ns) ||
	    sh("ip -n %s -6 route add default via 2001:db8:0::1 dev eth0",
	       b->ns))
		return -EIO;
	return 0;
}

static pid_t spawn(const struct bench *b, enum daemon_id d)
{
	struct bench_kvp_argv a;
	char **argv = d == D_OURS ?
			      bench_kvp_argv(&a, b->ours, b->dev_dir,
					     b->run_dir, BENCH_REF_STATE) :
			      bench_kvp_argv(&a, b->ref, NULL, NULL, NULL);
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid != 0)
		return pid;
	{
		int r;

		bench_redirect(b->log[d]);
		r = bench_private_state(b->state);
		if (r >= 0)
			r = bench_enter_netns(b->ns);
		if (r < 0) {
			fprintf(stderr, "kvp-ip-bench: namespaces: %s\n",
				strerror(-r));
			_exit(126);
		}
		if (d == D_REF) {
			setenv("LD_PRELOAD", b->shim, 1);
			setenv("HVIS_SHIM_SOCKET", b->sock, 1);
		}
		execv(argv[0], argv);
		fprintf(stderr, "kvp-ip-bench: exec %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
}

/* GET_IP_INFO as the kernel hands it over (§3.2): MAC and family. */
static void build(void)
{
	memset(&msg, 0, sizeof(msg));
	msg.kvp_hdr.operation = KVP_OP_GET_IP_INFO;
	memcpy(msg.body.kvp_ip_val.adapter_id, MAC, sizeof(MAC));
	msg.body.kvp_ip_val.addr_family = ADDR_FAMILY_IPV4 | ADDR_FAMILY_IPV6;
}

/* Success, and eth0's two addresses (the reference adds link-local). */
static bool reply_ok(struct bench *b, enum daemon_id d)
{
	char ip[sizeof(reply.body.kvp_ip_val.ip_addr) + 1];

	if (hv_le32(&reply) != HV_S_OK)
		return false;
	memcpy(ip, reply.body.kvp_ip_val.ip_addr, sizeof(ip) - 1);
	ip[sizeof(ip) - 1] = '\0';
	hv_strscpy(b->reply_ip[d], ip, sizeof(b->reply_ip[d]));
	return strstr(ip, "10.0.0.5") && strstr(ip, "2001:db8::5") &&
	       !strstr(ip, "10.1.0.5");
}

static int one_run(struct bench *b, enum daemon_id d, unsigned int round)
{
	struct hvsim_cdev *cd = NULL;
	unsigned int n = b->ops[d], warmup = HV_MAX(n / 20, 2u);
	uint64_t start = 0;
	int r;
	pid_t pid;

	r = hvsim_cdev_new(b->sock, HVSIM_CDEV_KVP, &cd);
	if (r < 0)
		return r;
	hvsim_cdev_set_reply_timeout(cd, REPLY_TIMEOUT_MS);
	pid = spawn(b, d);
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	r = bench_wait_cdev_ready(cd, &pid, START_TIMEOUT_MS);
	if (r < 0)
		goto out;
	for (unsigned int k = 0; k < warmup + n; k++) {
		uint64_t t0, t1;
		ssize_t len;

		build();
		if (k == warmup)
			start = bench_now_ns();
		t0 = bench_now_ns();
		len = hvsim_cdev_transact(cd, &msg, sizeof(msg), &reply,
					  sizeof(reply));
		t1 = bench_now_ns();
		if (len != (ssize_t)sizeof(reply)) {
			r = len < 0 ? (int)len : -EBADMSG;
			goto out;
		}
		if (!reply_ok(b, d))
			b->bad[d][round]++;
		if (k >= warmup)
			b->lat[k - warmup] = (double)(t1 - t0) / 1e6;
	}
	b->st[d][round] = bench_summarize(b->lat, n, bench_now_ns() - start);
	r = 0;
out:
	if (pid > 0)
		bench_stop(pid, STOP_TIMEOUT_MS);
	hvsim_cdev_free(cd);
	return r;
}

struct summary {
	unsigned int runs, bad;
	struct bench_stats s;
};

static void summarize(const struct bench *b, enum daemon_id d,
		      struct summary *sum)
{
	struct bench_stats st[MAX_ROUNDS];
	unsigned int n = 0;

	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < b->rounds; i++) {
		sum->bad += b->bad[d][i];
		if (b->st[d][i].n)
			st[n++] = b->st[d][i];
	}
	sum->runs = n;
	sum->s = bench_stats_median(st, n);
}

static int write_json(const struct bench *b, const struct summary *sum,
		      double ratio, const char *affinity, int ncpus)
{
	FILE *f = fopen(b->json, "we");

	if (!f)
		return -errno;
	bench_json_head(f, b->label, affinity, ncpus);
	fprintf(f, ",\n  \"rounds\": %u,\n", b->rounds);
	fprintf(f, "  \"interfaces\": %d,\n  \"mac\": \"%s\",\n", NIFS, MAC);
	fprintf(f, "  \"results\": [");
	for (int d = 0; d < D_MAX; d++) {
		if (!sum[d].runs)
			continue;
		fprintf(f, "%s\n    {\"daemon\": \"%s\", \"runs\": %u, ",
			d ? "," : "", daemon_names[d], sum[d].runs);
		fprintf(f, "\"bad_replies\": %u, \"ip_addr\": ", sum[d].bad);
		bench_json_str(f, b->reply_ip[d]);
		fprintf(f, ", ");
		bench_json_stats(f, &sum[d].s, "ops_per_s");
		fprintf(f, "}");
	}
	fprintf(f, "\n  ],\n  \"ratio_ref_over_ours\": ");
	bench_json_num(f, ratio);
	fprintf(f,
		",\n  \"target\": {\"name\": \"get_ip_info ref/ours, %d "
		"interfaces\", \"limit\": 50, \"pass\": %s}\n}\n",
		NIFS, ratio >= 50 ? "true" : "false");
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

static int setup_paths(struct bench *b)
{
	char vm[320];

	if (hv_snprintf(b->dev_dir, sizeof(b->dev_dir), "%s/dev", b->work) <
		    0 ||
	    hv_snprintf(b->sock, sizeof(b->sock), "%s/vmbus/hv_kvp",
			b->dev_dir) < 0 ||
	    hv_snprintf(vm, sizeof(vm), "%s/vmbus", b->dev_dir) < 0 ||
	    hv_snprintf(b->state, sizeof(b->state), "%s/state", b->work) < 0 ||
	    hv_snprintf(b->run_dir, sizeof(b->run_dir), "%s/run", b->work) < 0)
		return -ENAMETOOLONG;
	for (int d = 0; d < D_MAX; d++)
		if (hv_snprintf(b->log[d], sizeof(b->log[d]), "%s/%s.log",
				b->work, daemon_names[d]) < 0)
			return -ENAMETOOLONG;
	if (mkdir(b->dev_dir, 0755) < 0 || mkdir(vm, 0755) < 0 ||
	    mkdir(b->state, 0755) < 0 || mkdir(b->run_dir, 0755) < 0)
		return -errno;
	return 0;
}

static void usage(void)
{
	printf("Usage: kvp-ip-bench --ours=PATH [OPTION]...\n"
	       "  --ours=PATH      our hv_kvp_daemon\n"
	       "  --ref=PATH       reference daemon (default "
	       "/usr/sbin/hv_kvp_daemon)\n"
	       "  --shim=PATH      preload-devshim.so for the reference\n"
	       "  --rounds=N       alternating runs per daemon (default 3)\n"
	       "  --ops=N          timed requests to ours per run (default "
	       "2000)\n"
	       "  --ops-ref=N      timed requests to the reference per run "
	       "(default 50)\n"
	       "  --label=TEXT     name of this configuration\n"
	       "  --json=FILE      write the figures as JSON\n"
	       "  --keep           keep the work directory\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ours", required_argument, NULL, 'o' },
		{ "ref", required_argument, NULL, 'r' },
		{ "shim", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "ops", required_argument, NULL, 'n' },
		{ "ops-ref", required_argument, NULL, 'N' },
		{ "label", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct bench *b = &bb;
	struct summary sum[D_MAX];
	char affinity[128];
	double ratio = 0;
	int c, r = 0, ncpus = 0;

	b->ref = "/usr/sbin/hv_kvp_daemon";
	b->label = "default";
	b->rounds = 3;
	b->ops[D_OURS] = 2000;
	b->ops[D_REF] = 50;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			b->ours = optarg;
			break;
		case 'r':
			b->ref = optarg;
			break;
		case 's':
			b->shim = optarg;
			break;
		case 'R':
			r = bench_parse_uint(optarg, MAX_ROUNDS, &b->rounds);
			break;
		case 'n':
			r = bench_parse_uint(optarg, 10000000, &b->ops[D_OURS]);
			break;
		case 'N':
			r = bench_parse_uint(optarg, 10000000, &b->ops[D_REF]);
			break;
		case 'l':
			b->label = optarg;
			break;
		case 'j':
			b->json = optarg;
			break;
		case 'k':
			b->keep = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 64;
		}
		if (r < 0) {
			fprintf(stderr, "kvp-ip-bench: bad argument '%s'\n",
				optarg);
			return 64;
		}
	}
	if (!b->ours || optind < argc) {
		usage();
		return 64;
	}
	if (geteuid() != 0) {
		printf("kvp-ip-bench: needs root (network namespaces): "
		       "skipped\n");
		return 0;
	}
	if (bench_affinity(affinity, sizeof(affinity), &ncpus) < 0)
		return 1;
	b->have_ref = b->ref && *b->ref && access(b->ref, X_OK) == 0 &&
		      b->shim && access(b->shim, R_OK) == 0;
	if (!b->have_ref)
		printf("kvp-ip-bench: no reference daemon or device shim: "
		       "measuring ours alone\n");
	b->lat = calloc(HV_MAX(b->ops[D_OURS], b->ops[D_REF]), sizeof(*b->lat));
	if (!b->lat)
		return 1;
	snprintf(b->work, sizeof(b->work), "%s/hvis-kvp-ip-bench.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(b->work)) {
		perror("kvp-ip-bench: mkdtemp");
		return 1;
	}
	r = setup_paths(b);
	if (r < 0) {
		fprintf(stderr, "kvp-ip-bench: %s: %s\n", b->work,
			strerror(-r));
		return 1;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	r = network(b);
	if (r < 0) {
		fprintf(stderr, "kvp-ip-bench: cannot set up the network "
				"namespace (veth needed)\n");
		return 1;
	}

	for (unsigned int round = 0; round < b->rounds; round++) {
		for (int k = 0; k < D_MAX; k++) {
			enum daemon_id d = (enum daemon_id)((k + round) % 2);

			if (d == D_REF && !b->have_ref)
				continue;
			r = one_run(b, d, round);
			if (r < 0 || b->bad[d][round]) {
				fprintf(stderr,
					"kvp-ip-bench: %s, round %u: %s, %u "
					"bad replies (last ip_addr \"%s\"; "
					"log: %s)\n",
					daemon_names[d], round + 1,
					r < 0 ? strerror(-r) : "done",
					b->bad[d][round], b->reply_ip[d],
					b->log[d]);
				b->failures++;
				b->keep = true;
			}
		}
		fprintf(stderr, "kvp-ip-bench: %s: round %u/%u done\n",
			b->label, round + 1, b->rounds);
	}

	for (int d = 0; d < D_MAX; d++)
		summarize(b, (enum daemon_id)d, &sum[d]);
	if (sum[D_OURS].runs && sum[D_REF].runs && sum[D_OURS].s.median_ms > 0)
		ratio = sum[D_REF].s.median_ms / sum[D_OURS].s.median_ms;
	printf("\nGET_IP_INFO, %s: CPUs %s; %d interfaces in a private "
	       "netns, eth0 asked by MAC; medians over %u round(s)\n",
	       b->label, affinity, NIFS, b->rounds);
	printf("  %-10s %6s %10s %10s %10s  %s\n", "daemon", "n", "median ms",
	       "p99 ms", "ops/s", "ip_addr reported");
	for (int d = 0; d < D_MAX; d++) {
		if (!sum[d].runs)
			continue;
		printf("  %-10s %6u %10.4f %10.4f %10.1f  %s\n",
		       daemon_names[d], sum[d].s.n, sum[d].s.median_ms,
		       sum[d].s.p99_ms, sum[d].s.ops_per_s, b->reply_ip[d]);
	}
	if (ratio > 0)
		printf("  ref/ours (median): %.1fx  (target >= 50x: %s)\n",
		       ratio, ratio >= 50 ? "met" : "NOT MET");
	if (b->json) {
		r = write_json(b, sum, ratio, affinity, ncpus);
		if (r < 0) {
			fprintf(stderr, "kvp-ip-bench: %s: %s\n", b->json,
				strerror(-r));
			b->failures++;
		}
	}
	if (b->keep)
		fprintf(stderr, "kvp-ip-bench: work directory kept: %s\n",
			b->work);
	else
		sh("rm -rf %s", b->work);
	return b->failures ? 1 : 0;
}
