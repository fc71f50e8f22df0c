/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UIO benchmark: round trips of one packet between the host simulator
 * (hvsim_uio, playing the host and uio_hv_generic) and
 * tests/helpers/echo-service (libhvis' ring and interrupt code), on the
 * ring size fcopy uses. The default payload, 6,224 bytes, is a fcopy
 * WRITE_TO_FILE packet with its IC header: the largest message a UIO
 * daemon handles. Every reply is checked (trans_id, length, bytes).
 * CPU pinning is inherited: run under taskset.
 */
#include <getopt.h>
#include <sys/stat.h>

#include "bench.h"
#include "hvis/wire.h"
#include "hvsim/hvsim.h"

#define RING_SIZE 0x5000 /* fcopy: 16 KiB of data after the header page */
#define GUID "11111111-2222-3333-4444-555555555555"
#define INSTANCE "66666666-7777-8888-9999-aaaaaaaaaaaa"
#define TIMEOUT_MS 10000
#define MAX_ROUNDS 64
#define MAX_PAYLOAD 16000
#define WARMUP 200

struct bench {
	const char *echo, *json, *label;
	unsigned int rounds, messages, size, window;
	char affinity[128];
	int ncpus;
	double *lat;
	struct bench_stats runs[MAX_ROUNDS];
	bool done[MAX_ROUNDS];
};

static uint8_t msg[MAX_PAYLOAD], reply[MAX_PAYLOAD + 8];

static void fill(uint8_t *buf, size_t len, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 31 + i * 7);
	hv_put_le32(buf, seq);
}

static pid_t spawn_echo(const struct bench *b, const char *root)
{
	char sys[300], dev[300];
	pid_t pid;

	if (hv_snprintf(sys, sizeof(sys), "%s/sys", root) < 0 ||
	    hv_snprintf(dev, sizeof(dev), "%s/dev", root) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execl(b->echo, b->echo, "uio", sys, dev, GUID, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/*
 * Up to `window` packets in flight (1: strict round trips). The latency
 * of a packet runs from its send to its reply.
 */
static int one_round(struct bench *b, struct hvsim_uio *u,
		     struct bench_stats *ret)
{
	unsigned int total = WARMUP + b->messages;
	uint64_t sent_at[64], start = 0;
	uint32_t sent = 0, received = 0;

	while (received < total) {
		struct hv_pkt_desc desc;
		ssize_t n;
		uint64_t t;

		while (sent < total && sent - received < b->window) {
			int r;

			fill(msg, b->size, sent);
			if (sent == WARMUP)
				start = bench_now_ns();
			sent_at[sent % 64] = bench_now_ns();
			r = hvsim_uio_send(u, VM_PKT_DATA_INBAND, 0, sent, msg,
					   b->size);
			if (r == -EAGAIN)
				break; /* ring full: collect replies first */
			if (r < 0)
				return r;
			sent++;
		}
		n = hvsim_uio_recv(u, &desc, reply, sizeof(reply), TIMEOUT_MS);
		t = bench_now_ns();
		if (n < 0)
			return (int)n;
		fill(msg, b->size, received);
		if (desc.trans_id != received ||
		    (size_t)n != HV_ALIGN8(b->size) ||
		    memcmp(msg, reply, b->size) != 0)
			return -EBADMSG;
		if (received >= WARMUP)
			b->lat[received - WARMUP] =
				(double)(t - sent_at[received % 64]) / 1e6;
		received++;
	}
	*ret = bench_summarize(b->lat, b->messages, bench_now_ns() - start);
	return 0;
}

static int run_round(struct bench *b, struct bench_stats *ret)
{
	char root[256];
	struct hvsim_uio *u = NULL;
	pid_t pid = -1;
	int r;

	snprintf(root, sizeof(root), "%s/hvis-uio-bench.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		return -errno;
	r = hvsim_uio_new(root, GUID, INSTANCE, 3, RING_SIZE, &u);
	if (r < 0)
		goto out;
	pid = spawn_echo(b, root);
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	r = hvsim_uio_wait_open(u, TIMEOUT_MS);
	if (r < 0)
		goto out;
	r = one_round(b, u, ret);
	if (r == -EBADMSG || hvsim_uio_last_error(u) != HVSIM_UIO_ERR_NONE)
		fprintf(stderr, "uio-bench: bad reply (%s)\n",
			hvsim_uio_last_error_str(u));
out:
	if (pid > 0)
		bench_stop(pid, 5000);
	hvsim_uio_free(u);
	bench_rm_tree(root);
	return r;
}

static int write_json(const struct bench *b, const struct bench_stats *med)
{
	FILE *f = fopen(b->json, "we");
	unsigned int i, k = 0;

	if (!f)
		return -errno;
	bench_json_head(f, b->label, b->affinity, b->ncpus);
	fprintf(f,
		",\n  \"payload_bytes\": %u,\n"
		"  \"ring_size\": %u,\n  \"window\": %u,\n  \"rounds\": %u,\n",
		b->size, RING_SIZE, b->window, b->rounds);
	fprintf(f, "  \"median\": {");
	bench_json_stats(f, med, "msgs_per_s");
	fprintf(f, ", \"mbytes_per_s\": ");
	bench_json_num(f, med->ops_per_s * b->size / 1e6);
	fprintf(f, "},\n  \"runs\": [");
	for (i = 0; i < b->rounds; i++) {
		if (!b->done[i])
			continue;
		fprintf(f, "%s{", k++ ? ", " : "");
		bench_json_stats(f, &b->runs[i], "msgs_per_s");
		fprintf(f, "}");
	}
	fprintf(f, "]\n}\n");
	return fclose(f) == 0 ? 0 : -errno;
}

static void usage(void)
{
	printf("Usage: uio-bench --echo=PATH [OPTION]...\n"
	       "  --echo=PATH      tests/helpers/echo-service\n"
	       "  --size=BYTES     payload per packet (default 6224)\n"
	       "  --messages=N     timed round trips per round (default "
	       "20000)\n"
	       "  --rounds=N       rounds, each with a fresh channel "
	       "(default 5)\n"
	       "  --window=N       packets in flight (default 1)\n"
	       "  --label=TEXT     name of this configuration\n"
	       "  --json=FILE      write the figures as JSON\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "echo", required_argument, NULL, 'e' },
		{ "size", required_argument, NULL, 's' },
		{ "messages", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "window", required_argument, NULL, 'w' },
		{ "label", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static struct bench bb;
	struct bench *b = &bb;
	struct bench_stats med = { 0 };
	struct bench_stats v[MAX_ROUNDS];
	unsigned int i, n = 0, failures = 0;
	int c, r = 0;

	b->label = "default";
	b->rounds = 5;
	b->messages = 20000;
	b->size = 6224;
	b->window = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			b->echo = optarg;
			break;
		case 's':
			r = bench_parse_uint(optarg, MAX_PAYLOAD, &b->size);
			break;
		case 'n':
			r = bench_parse_uint(optarg, 100000000, &b->messages);
			break;
		case 'R':
			r = bench_parse_uint(optarg, MAX_ROUNDS, &b->rounds);
			break;
		case 'w':
			r = bench_parse_uint(optarg, 64, &b->window);
			break;
		case 'l':
			b->label = optarg;
			break;
		case 'j':
			b->json = optarg;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 64;
		}
		if (r < 0 || (c == 's' && b->size < 4)) {
			fprintf(stderr, "uio-bench: bad argument '%s'\n",
				optarg);
			return 64;
		}
	}
	if (!b->echo || optind < argc) {
		usage();
		return 64;
	}
	if (bench_affinity(b->affinity, sizeof(b->affinity), &b->ncpus) < 0)
		return 1;
	b->lat = calloc(b->messages, sizeof(*b->lat));
	if (!b->lat)
		return 1;

	for (i = 0; i < b->rounds; i++) {
		r = run_round(b, &b->runs[i]);
		if (r < 0) {
			fprintf(stderr, "uio-bench: round %u: %s\n", i + 1,
				strerror(-r));
			failures++;
			continue;
		}
		b->done[i] = true;
		v[n++] = b->runs[i];
	}
	med = bench_stats_median(v, n);
	printf("\nUIO, %s: %s (CPUs %s); %u-byte payload, window %u, "
	       "%u round(s) of %u messages, medians over rounds\n",
	       b->label,
	       b->ncpus == 1 ? "simulator and echo-service pinned together" :
			       "unpinned",
	       b->affinity, b->size, b->window, b->rounds, b->messages);
	printf("  round trip: %.4f ms median, %.4f ms p99, %.0f msgs/s "
	       "(%.1f MB/s each way)\n",
	       med.median_ms, med.p99_ms, med.ops_per_s,
	       med.ops_per_s * b->size / 1e6);
	fflush(stdout);
	if (b->json) {
		r = write_json(b, &med);
		if (r < 0) {
			fprintf(stderr, "uio-bench: %s: %s\n", b->json,
				strerror(-r));
			failures++;
		}
	}
	return failures ? 1 : 0;
}
