/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File copy benchmark: the throughput of one Copy-VMFile (1 GiB by
 * default, 6144-byte WRITEs as the host sends them) into a tmpfs, timed
 * by the host simulator from START to the reply to COMPLETE, over each
 * transport:
 *
 *   UIO      our hv_fcopy_daemon --transport=uio, with and without
 *            --no-sync, and the ceiling: bench/fcopy-sink answering
 *            every packet with status 0 without touching a file;
 *   chardev  the same with --transport=chardev, plus the reference
 *            (Debian's hv_fcopy_daemon -n, legacy device only, through
 *            bench/preload-devshim.so).
 *
 * Configurations alternate within each round (the starting one rotates),
 * so drift hits all of them alike. Every copied file is read back and
 * compared chunk by chunk (each chunk carries its offset). CPU pinning is
 * inherited: run under taskset.
 */
#include <ftw.h>
#include <getopt.h>
#include <sys/stat.h>

#include "bench.h"
#include "hvis/wire.h"
#include "hvsim/hvsim-fcopy.h"

#define START_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS 5000
#define HOST_TIMEOUT_MS 60000
#define MAX_ROUNDS 32
#define CHUNK DATA_FRAGMENT
#define FILE_NAME "bench.bin"

enum cfg {
	C_UIO_CEIL,
	C_UIO_SYNC,
	C_UIO_NOSYNC,
	C_CDEV_CEIL,
	C_CDEV_SYNC,
	C_CDEV_NOSYNC,
	C_CDEV_REF,
	C_MAX,
};

static const struct {
	const char *key, *transport, *who;
	bool uio, ceiling, nosync, ref;
} cfgs[C_MAX] = {
	[C_UIO_CEIL] = { "uio_ceiling", "uio", "ceiling (fcopy-sink)", true,
			 true, false, false },
	[C_UIO_SYNC] = { "uio_ours", "uio", "ours", true, false, false, false },
	[C_UIO_NOSYNC] = { "uio_ours_nosync", "uio", "ours --no-sync", true,
			   false, true, false },
	[C_CDEV_CEIL] = { "chardev_ceiling", "chardev", "ceiling (fcopy-sink)",
			  false, true, false, false },
	[C_CDEV_SYNC] = { "chardev_ours", "chardev", "ours", false, false,
			  false, false },
	[C_CDEV_NOSYNC] = { "chardev_ours_nosync", "chardev", "ours --no-sync",
			    false, false, true, false },
	[C_CDEV_REF] = { "chardev_reference", "chardev", "reference", false,
			 false, false, true },
};

struct bench {
	const char *ours, *ref, *shim, *sink, *json, *label, *only;
	bool have_ref, keep;
	unsigned int rounds;
	uint64_t size;
	char work[128], out[160];
	char affinity[128];
	int ncpus;
	double mbps[C_MAX][MAX_ROUNDS];
	/* CPU time per 6144-byte chunk, in microseconds: what load cannot skew. */
	double guest_us[C_MAX][MAX_ROUNDS], host_us[C_MAX][MAX_ROUNDS];
	unsigned int nruns[C_MAX];
	unsigned int failures;
};

/* Is configuration c in the comma-separated --only list (or no list)? */
static bool selected(const struct bench *b, enum cfg c)
{
	size_t n = strlen(cfgs[c].key);

	for (const char *p = b->only; p && *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, cfgs[c].key, n) == 0)
			return true;
		p += len + (p[len] == ',');
	}
	return !b->only;
}

static uint8_t chunk[CHUNK], readback[CHUNK];

/* The chunk at offset: a fixed pattern stamped with the offset. */
static void stamp(uint8_t *buf, uint64_t offset)
{
	hv_put_le32(buf, (uint32_t)offset);
	hv_put_le32(buf + 4, (uint32_t)(offset >> 32));
}

static unsigned int verify(const struct bench *b, const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t off;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size != b->size)
		return 1;
	for (off = 0; off < b->size; off += CHUNK) {
		size_t len = (size_t)HV_MIN((uint64_t)CHUNK, b->size - off);

		if (pread(fd, readback, len, (off_t)off) != (ssize_t)len)
			return 1;
		stamp(chunk, off);
		if (memcmp(chunk, readback, len) != 0)
			return 1;
	}
	return 0;
}

static pid_t spawn(const struct bench *b, enum cfg c, const char *root,
		   const char *sock, const char *log)
{
	char rootopt[256], transport[32], sys[256], dev[256];
	char *argv[12];
	int argc = 0;
	pid_t pid;

	snprintf(rootopt, sizeof(rootopt), "--root=%s", root);
	snprintf(transport, sizeof(transport), "--transport=%s",
		 cfgs[c].transport);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(dev, sizeof(dev), "%s/dev", root);
	if (cfgs[c].ceiling) {
		argv[argc++] = (char *)b->sink;
		argv[argc++] = cfgs[c].uio ? "uio" : "chardev";
		if (cfgs[c].uio) {
			argv[argc++] = sys;
			argv[argc++] = dev;
		} else {
			argv[argc++] = (char *)sock;
		}
	} else if (cfgs[c].ref) {
		argv[argc++] = (char *)b->ref;
		argv[argc++] = "-n";
	} else {
		argv[argc++] = (char *)b->ours;
		argv[argc++] = "-n";
		argv[argc++] = rootopt;
		argv[argc++] = transport;
		argv[argc++] = "--log=stderr";
		if (cfgs[c].nosync)
			argv[argc++] = "--no-sync";
	}
	argv[argc] = NULL;

	fflush(NULL);
	pid = fork();
	if (pid != 0)
		return pid;
	{
		bench_redirect(log);
		if (cfgs[c].ref) {
			setenv("LD_PRELOAD", b->shim, 1);
			setenv("HVIS_SHIM_SOCKET", sock, 1);
			setenv("HVIS_SHIM_DEVICE", "/dev/vmbus/hv_fcopy", 1);
		}
		execv(argv[0], argv);
		fprintf(stderr, "fcopy-bench: exec %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
}

/* Nanoseconds process pid has run on a CPU (its main thread), or 0. */
static uint64_t proc_cpu_ns(pid_t pid)
{
	char path[64];
	uint64_t ns = 0;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	return bench_schedstat(path, &ns, NULL) == 0 ? ns : 0;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* START, WRITEs in order, COMPLETE: the host's view of one copy. */
static int copy(struct bench *b, struct hvsim_fcopy *f, pid_t guest,
		double *mbps, double *guest_us, double *host_us)
{
	uint64_t t0, t1, off, g0, h0;
	const double chunks = (double)((b->size + CHUNK - 1) / CHUNK);
	uint32_t st = 0;
	int r;

	g0 = proc_cpu_ns(guest);
	h0 = thread_cpu_ns();
	t0 = bench_now_ns();
	r = hvsim_fcopy_start(f, b->out, FILE_NAME, HVSIM_FCOPY_FORCE, b->size,
			      &st);
	if (r < 0 || st != HV_S_OK)
		return r < 0 ? r : -EPROTO;
	for (off = 0; off < b->size; off += CHUNK) {
		uint32_t len = (uint32_t)HV_MIN((uint64_t)CHUNK, b->size - off);

		stamp(chunk, off);
		r = hvsim_fcopy_write(f, off, chunk, len, &st);
		if (r < 0 || st != HV_S_OK)
			return r < 0 ? r : -EPROTO;
	}
	r = hvsim_fcopy_complete(f, &st);
	if (r < 0 || st != HV_S_OK)
		return r < 0 ? r : -EPROTO;
	t1 = bench_now_ns();
	*mbps = (double)b->size / 1e6 / ((double)(t1 - t0) / 1e9);
	*guest_us = (double)(proc_cpu_ns(guest) - g0) / 1e3 / chunks;
	*host_us = (double)(thread_cpu_ns() - h0) / 1e3 / chunks;
	return 0;
}

static int one_run(struct bench *b, enum cfg c, unsigned int round)
{
	char root[192], sock[320], log[320], dest[320];
	struct hvsim_uio *u = NULL;
	struct hvsim_cdev *cd = NULL;
	struct hvsim_fcopy *f = NULL;
	pid_t pid = -1;
	double mbps = 0, guest_us = 0, host_us = 0;
	int r;

	snprintf(root, sizeof(root), "%s/root", b->work);
	snprintf(sock, sizeof(sock), "%s/dev/vmbus/hv_fcopy", root);
	snprintf(log, sizeof(log), "%s/%s.log", b->work, cfgs[c].key);
	snprintf(dest, sizeof(dest), "%s/" FILE_NAME, b->out);
	bench_rm_tree(root);
	unlink(dest);
	r = bench_mkdir_p(root);
	if (r < 0)
		return r;
	if (cfgs[c].uio) {
		r = hvsim_uio_new(root, HV_GUID_FCOPY, HV_GUID_FCOPY_INSTANCE,
				  0, HVSIM_FCOPY_RING_SIZE, &u);
		if (r == 0)
			r = hvsim_fcopy_new_uio(u, &f);
	} else {
		snprintf(dest, sizeof(dest), "%s/dev/vmbus", root);
		r = bench_mkdir_p(dest);
		if (r == 0)
			r = hvsim_cdev_new(sock, HVSIM_CDEV_FCOPY, &cd);
		if (r == 0)
			r = hvsim_fcopy_new_cdev(cd, &f);
		snprintf(dest, sizeof(dest), "%s/" FILE_NAME, b->out);
	}
	if (r < 0)
		goto out;
	hvsim_fcopy_set_timeout(f, HOST_TIMEOUT_MS);

	pid = spawn(b, c, root, sock, log);
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	r = u ? hvsim_uio_wait_open(u, START_TIMEOUT_MS) :
		hvsim_cdev_wait_ready(cd, START_TIMEOUT_MS);
	if (r < 0)
		goto out;
	r = copy(b, f, pid, &mbps, &guest_us, &host_us);
	if (r < 0)
		goto out;
	if (!cfgs[c].ceiling && verify(b, dest) != 0) {
		r = -EBADMSG;
		goto out;
	}
	b->mbps[c][round] = mbps;
	b->guest_us[c][round] = guest_us;
	b->host_us[c][round] = host_us;
	b->nruns[c]++;
out:
	if (pid > 0)
		bench_stop(pid, STOP_TIMEOUT_MS);
	hvsim_fcopy_free(f);
	hvsim_uio_free(u);
	hvsim_cdev_free(cd);
	unlink(dest);
	if (r < 0)
		fprintf(stderr, "fcopy-bench: %s %s, round %u: %s (log: %s)\n",
			cfgs[c].transport, cfgs[c].who, round + 1, strerror(-r),
			log);
	return r;
}

static double median_in(const struct bench *b, const double *runs, double *lo,
			double *hi)
{
	double v[MAX_ROUNDS];
	unsigned int i, n = 0;

	for (i = 0; i < b->rounds; i++)
		if (runs[i] > 0)
			v[n++] = runs[i];
	if (!n)
		return 0;
	qsort(v, n, sizeof(v[0]), bench_cmp_double);
	*lo = v[0];
	*hi = v[n - 1];
	return bench_median(v, n);
}

struct target {
	char name[96];
	double value, limit;
	bool pass;
};

static unsigned int targets(const struct bench *b, const double *med,
			    struct target *t)
{
	unsigned int n = 0;

	for (int c = 0; c < C_MAX; c++) {
		enum cfg ceil = cfgs[c].uio ? C_UIO_CEIL : C_CDEV_CEIL;

		if (cfgs[c].ceiling || cfgs[c].ref || !med[c] || !med[ceil])
			continue;
		snprintf(t[n].name, sizeof(t[n].name), "%s %s / ceiling",
			 cfgs[c].transport, cfgs[c].who);
		t[n].value = med[c] / med[ceil];
		t[n].limit = 0.9;
		t[n].pass = t[n].value >= t[n].limit;
		n++;
	}
	for (int c = C_CDEV_SYNC; c <= C_CDEV_NOSYNC; c++) {
		if (!med[c] || !med[C_CDEV_REF])
			continue;
		snprintf(t[n].name, sizeof(t[n].name), "chardev %s / reference",
			 cfgs[c].who);
		t[n].value = med[c] / med[C_CDEV_REF];
		t[n].limit = 1.3;
		t[n].pass = t[n].value >= t[n].limit;
		n++;
	}
	return n;
}

static int write_json(const struct bench *b, const double *med,
		      const double *gus, const double *hus,
		      const struct target *t, unsigned int nt)
{
	FILE *f = fopen(b->json, "we");
	unsigned int i;

	if (!f)
		return -errno;
	fprintf(f, "{\"label\": ");
	bench_json_str(f, b->label);
	fprintf(f, ", \"cpus\": ");
	bench_json_str(f, b->affinity);
	fprintf(f,
		", \"ncpus\": %d, \"bytes\": %llu, \"chunk\": %u, "
		"\"rounds\": %u, \"unit\": \"MB/s (1e6 bytes/s), START to "
		"COMPLETE reply\",\n \"configs\": {",
		b->ncpus, (unsigned long long)b->size, CHUNK, b->rounds);
	for (int c = 0, first = 1; c < C_MAX; c++) {
		if ((cfgs[c].ref && !b->have_ref) || !selected(b, (enum cfg)c))
			continue;
		fprintf(f, "%s\n  \"%s\": {\"median_mbps\": ", first ? "" : ",",
			cfgs[c].key);
		bench_json_num(f, med[c]);
		fprintf(f, ", \"guest_cpu_us_per_chunk\": ");
		bench_json_num(f, gus[c]);
		fprintf(f, ", \"host_cpu_us_per_chunk\": ");
		bench_json_num(f, hus[c]);
		fprintf(f, ", \"runs_mbps\": [");
		for (i = 0; i < b->rounds; i++) {
			fprintf(f, "%s", i ? ", " : "");
			bench_json_num(f, b->mbps[c][i]);
		}
		fprintf(f, "]}");
		first = 0;
	}
	fprintf(f, "},\n \"targets\": [");
	for (i = 0; i < nt; i++) {
		fprintf(f, "%s\n  {\"name\": ", i ? "," : "");
		bench_json_str(f, t[i].name);
		fprintf(f, ", \"value\": ");
		bench_json_num(f, t[i].value);
		fprintf(f, ", \"min\": ");
		bench_json_num(f, t[i].limit);
		fprintf(f, ", \"met\": %s}", t[i].pass ? "true" : "false");
	}
	fprintf(f, "]}\n");
	return fclose(f) == 0 ? 0 : -errno;
}

static void report(const struct bench *b)
{
	double med[C_MAX] = { 0 }, lo[C_MAX] = { 0 }, hi[C_MAX] = { 0 };
	struct target t[8];
	unsigned int nt, i;

	double gus[C_MAX] = { 0 }, hus[C_MAX] = { 0 }, x, y;

	for (int c = 0; c < C_MAX; c++) {
		med[c] = median_in(b, b->mbps[c], &lo[c], &hi[c]);
		gus[c] = median_in(b, b->guest_us[c], &x, &y);
		hus[c] = median_in(b, b->host_us[c], &x, &y);
	}
	printf("\nFile copy, %s: %s (CPUs %s); %.0f MiB in %u-byte WRITEs "
	       "into %s; MB/s, median of %u round(s)\n",
	       b->label,
	       b->ncpus == 1 ? "host simulator and daemon pinned together" :
			       "unpinned",
	       b->affinity, (double)b->size / (1 << 20), CHUNK, b->out,
	       b->rounds);
	printf("  timed from START to the reply to COMPLETE (ours fsyncs "
	       "there unless --no-sync;\n  the reference never fsyncs)\n");
	printf("  CPU us/chunk: time on a CPU per WRITE (guest: the daemon's "
	       "process; host:\n  the simulator's thread), which other load "
	       "on the machine cannot inflate\n");
	printf("  %-8s %-21s %9s %9s %9s %8s %8s %7s %7s\n", "path", "guest",
	       "MB/s", "min", "max", "/ceiling", "/ref", "guestus", "hostus");
	for (int c = 0; c < C_MAX; c++) {
		enum cfg ceil = cfgs[c].uio ? C_UIO_CEIL : C_CDEV_CEIL;

		if ((cfgs[c].ref && !b->have_ref) || !selected(b, (enum cfg)c))
			continue;
		printf("  %-8s %-21s", cfgs[c].transport, cfgs[c].who);
		if (!med[c]) {
			printf(" %9s\n", "failed");
			continue;
		}
		printf(" %9.0f %9.0f %9.0f", med[c], lo[c], hi[c]);
		if (!cfgs[c].ceiling && med[ceil])
			printf(" %7.0f%%", 100 * med[c] / med[ceil]);
		else
			printf(" %8s", "-");
		if (!cfgs[c].uio && !cfgs[c].ref && med[C_CDEV_REF])
			printf(" %7.2fx", med[c] / med[C_CDEV_REF]);
		else
			printf(" %8s", "-");
		printf(" %7.2f %7.2f\n", gus[c], hus[c]);
	}
	nt = targets(b, med, t);
	if (nt)
		printf("\n  targets (>= 90%% of the ceiling per transport, "
		       ">= 1.3x the reference on chardev):\n");
	for (i = 0; i < nt; i++)
		printf("    %-40s %6.2f  >= %.2f %s\n", t[i].name, t[i].value,
		       t[i].limit, t[i].pass ? "met" : "NOT MET");
	if (b->json && write_json(b, med, gus, hus, t, nt) < 0)
		fprintf(stderr, "fcopy-bench: %s: %s\n", b->json,
			strerror(errno));
}

static void usage(void)
{
	printf("Usage: fcopy-bench --ours=DAEMON --sink=FCOPY-SINK "
	       "[OPTION]...\n"
	       "  --ref=PATH       reference daemon (default "
	       "/usr/sbin/hv_fcopy_daemon)\n"
	       "  --shim=PATH      bench/preload-devshim.so (needed for "
	       "the reference)\n"
	       "  --size-mib=N     bytes per copy in MiB (default 1024)\n"
	       "  --rounds=N       rounds (default 3)\n"
	       "  --only=KEY,...   only these configurations (uio_ceiling, "
	       "uio_ours,\n"
	       "                   uio_ours_nosync, chardev_ceiling, "
	       "chardev_ours,\n"
	       "                   chardev_ours_nosync, chardev_reference)\n"
	       "  --label=NAME     --json=FILE  --keep\n"
	       "The copies go to $TMPDIR (a tmpfs, e.g. /dev/shm).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ours", required_argument, NULL, 'o' },
		{ "ref", required_argument, NULL, 'r' },
		{ "shim", required_argument, NULL, 's' },
		{ "sink", required_argument, NULL, 'S' },
		{ "size-mib", required_argument, NULL, 'z' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "label", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "keep", no_argument, NULL, 'k' },
		{ "only", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static struct bench bb;
	struct bench *b = &bb;
	unsigned long v;
	char *end;
	int c;

	b->ref = "/usr/sbin/hv_fcopy_daemon";
	b->label = "default";
	b->rounds = 3;
	b->size = 1024ull << 20;
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
		case 'S':
			b->sink = optarg;
			break;
		case 'z':
		case 'R':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !v ||
			    v > (c == 'R' ? MAX_ROUNDS : 65536)) {
				fprintf(stderr,
					"fcopy-bench: bad argument '%s'\n",
					optarg);
				return 64;
			}
			if (c == 'R')
				b->rounds = (unsigned int)v;
			else
				b->size = (uint64_t)v << 20;
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
		case 'O':
			b->only = optarg;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 64;
		}
	}
	if (!b->ours || !b->sink || optind < argc) {
		usage();
		return 64;
	}
	if (bench_affinity(b->affinity, sizeof(b->affinity), &b->ncpus) < 0)
		return 1;
	b->have_ref = b->ref && *b->ref && access(b->ref, X_OK) == 0;
	if (!b->have_ref)
		printf("fcopy-bench: reference daemon %s not found: no "
		       "reference column\n",
		       b->ref ? b->ref : "(none)");
	else if (!b->shim || access(b->shim, R_OK) < 0) {
		printf("fcopy-bench: no device shim (--shim): no reference "
		       "column\n");
		b->have_ref = false;
	}
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)(i * 131 + 7);

	snprintf(b->work, sizeof(b->work), "%s/hvis-fcopy-bench.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(b->work)) {
		perror("fcopy-bench: mkdtemp");
		return 1;
	}
	if (hv_snprintf(b->out, sizeof(b->out), "%s/out", b->work) < 0 ||
	    mkdir(b->out, 0755) < 0) {
		perror("fcopy-bench: mkdir");
		return 1;
	}

	for (unsigned int round = 0; round < b->rounds; round++) {
		for (int k = 0; k < C_MAX; k++) {
			enum cfg cf = (enum cfg)((k + round * 3) % C_MAX);

			if ((cfgs[cf].ref && !b->have_ref) || !selected(b, cf))
				continue;
			if (one_run(b, cf, round) < 0) {
				b->failures++;
				b->keep = true;
			}
		}
		fprintf(stderr, "fcopy-bench: %s: round %u/%u done\n", b->label,
			round + 1, b->rounds);
	}
	report(b);
	if (b->keep)
		fprintf(stderr, "fcopy-bench: work directory kept: %s\n",
			b->work);
	else
		bench_rm_tree(b->work);
	return b->failures ? 1 : 0;
}
