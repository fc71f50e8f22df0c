/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Footprint benchmark: per daemon, startup to ready, idle memory and
 * idle wake-ups, ours against the reference (Debian's hyperv-daemons)
 * through the same host simulator:
 *
 *   kvp       chardev  ours, reference
 *   vss       chardev  ours, reference (only ever asked HOT_BACKUP)
 *   fcopy     chardev  ours, reference; uio ours (no reference speaks it)
 *   shutdown  uio      ours (hyperv-daemons has no shutdown daemon: the
 *                      kernel's hv_utils answers the host itself)
 *
 * Startup: exec to the moment the simulator has the daemon's registration
 * (char devices: the registration reply read by the daemon, as
 * hvsim_cdev_wait_ready() sees it) or negotiation (UIO: the reply to the
 * host's NEGOTIATE, sent once the daemon opened the channel), the same
 * yardstick for both daemons. Ours also says READY=1 on NOTIFY_SOCKET;
 * that datagram's kernel receive timestamp is reported too. Median and
 * minimum over --rounds runs, ours and the reference alternating who goes
 * first.
 *
 * Memory: after ready and one served request (lazily allocated buffers
 * count), once the daemon is quiet: VmRSS and RssAnon from status, Pss
 * from smaps_rollup. The reference carries our LD_PRELOAD shim; its
 * mappings' Rss/Pss are subtracted (and reported).
 *
 * Wake-ups: every configuration running at once, each ready and served
 * once, then for --idle seconds nobody talks to them (the simulator only
 * collects what a daemon might send; it never sends anything by itself).
 * Counted over all threads: scheduler run count (3rd field of
 * /proc/PID/task/TID/schedstat) and context switches (voluntary and not,
 * from .../status), at the start and end of the window.
 *
 * Both daemons run in a private mount namespace where /var/lib/hyperv is
 * a bind mount of the run's state directory (the reference knows no other
 * path) and /dev/vmbus, if the machine has it, is hidden by a tmpfs: a
 * reference whose open was not redirected finds no real device. Not root:
 * ours alone. CPU affinity is inherited (run.sh runs this unpinned).
 */
#include <dirent.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "bench.h"
#include "hvis/wire.h"
#include "hvsim/hvsim-fcopy.h"
#include "hvsim/hvsim-shutdown.h"
#include "hvsim/hvsim-vss.h"
#include "hvsim/hvsim.h"

#define MAX_ROUNDS 100
#define START_TIMEOUT_MS 30000
#define HOST_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 5000
#define SLICE_MS 100
#define CDEV_PASS_US 100
#define NOTIFY_TIMEOUT_MS 5000
/* Quiet: no thread but the main one, counters unchanged for this long. */
#define QUIET_MS 200
#define QUIET_TIMEOUT_MS 5000
#define PUMP_MS 250
#define FCOPY_NAME "footprint.bin"
/* hv_utils knows shutdown flags 0-5 only: this one is refused, not acted on. */
#define SHUTDOWN_BOGUS_FLAGS 0x40u

enum svc { S_KVP, S_VSS, S_FCOPY, S_SHUTDOWN, S_MAX };
static const char *const svc_names[S_MAX] = { "kvp", "vss", "fcopy",
					      "shutdown" };

enum cfg {
	C_KVP_OURS,
	C_KVP_REF,
	C_VSS_OURS,
	C_VSS_REF,
	C_FCOPY_OURS,
	C_FCOPY_UIO_OURS,
	C_FCOPY_REF,
	C_SHUTDOWN_OURS,
	C_MAX,
};

static const struct {
	const char *key; /* JSON and directory name */
	const char *transport;
	enum svc svc;
	bool ref, uio;
	enum cfg ref_cfg; /* what ours is compared with, C_MAX: nothing */
} cfgs[C_MAX] = {
	[C_KVP_OURS] = { "kvp_ours", "chardev", S_KVP, false, false,
			 C_KVP_REF },
	[C_KVP_REF] = { "kvp_reference", "chardev", S_KVP, true, false, C_MAX },
	[C_VSS_OURS] = { "vss_ours", "chardev", S_VSS, false, false,
			 C_VSS_REF },
	[C_VSS_REF] = { "vss_reference", "chardev", S_VSS, true, false, C_MAX },
	[C_FCOPY_OURS] = { "fcopy_ours", "chardev", S_FCOPY, false, false,
			   C_FCOPY_REF },
	[C_FCOPY_REF] = { "fcopy_reference", "chardev", S_FCOPY, true, false,
			  C_MAX },
	[C_FCOPY_UIO_OURS] = { "fcopy_uio_ours", "uio", S_FCOPY, false, true,
			       C_FCOPY_REF },
	[C_SHUTDOWN_OURS] = { "shutdown_ours", "uio", S_SHUTDOWN, false, true,
			      C_MAX },
};

/* Startup rounds: each group's members alternate who goes first. */
static const enum cfg groups[][2] = {
	{ C_KVP_OURS, C_KVP_REF },     { C_VSS_OURS, C_VSS_REF },
	{ C_FCOPY_OURS, C_FCOPY_REF }, { C_FCOPY_UIO_OURS, C_MAX },
	{ C_SHUTDOWN_OURS, C_MAX },
};

static const char *const served[S_MAX] = {
	[S_KVP] = "host SET in pool 0, then ENUMERATE of the auto pool "
		  "(pool 2) to its end",
	[S_VSS] = "HOT_BACKUP (no freeze)",
	[S_FCOPY] = "Copy-VMFile of 6144 bytes (START, WRITE, COMPLETE)",
	[S_SHUTDOWN] = "shutdown request with flags 0x40, which the daemon "
		       "refuses (HV_E_FAIL) without acting",
};

struct mem {
	long rss, anon, pss; /* KiB, shim excluded */
	long shim_rss, shim_pss;
};

struct counters {
	uint64_t runs; /* schedstat: times run on a CPU */
	uint64_t vol, nonvol; /* context switches */
	unsigned int threads;
};

/* One daemon with its simulated devices. */
struct inst {
	enum cfg c;
	char root[200], state[240], sock[260], notify[240], log[240], out[240];
	pid_t pid;
	int notify_fd;
	struct timespec t0_real;
	uint64_t t0;
	double ready_ms, notify_ms; /* notify_ms < 0: none */
	struct hvsim_cdev *cd;
	struct hvsim_uio *u;
	struct hvsim_kvp *kvp;
	struct hvsim_vss *vss;
	struct hvsim_fcopy *fc;
	struct hvsim_shutdown *sd;
};

struct run {
	bool done;
	double ready_ms, notify_ms;
	struct mem m;
};

struct idle {
	bool done, quiet; /* quiet: before the window began */
	struct counters start, end;
	struct mem m_start, m_end;
};

struct bench {
	const char *ours[S_MAX], *ref[S_MAX];
	const char *shim_arg, *login1, *json, *label;
	char shim[PATH_MAX];
	bool have[C_MAX], use_ns, keep, have_schedstat;
	unsigned int rounds, idle_s;
	char work[160];
	char affinity[128];
	int ncpus;
	/* logind stand-in on a private bus, for the shutdown daemon */
	pid_t dbus, login1_pid;
	char bus_addr[240];
	const char *logind_note;
	struct run runs[C_MAX][MAX_ROUNDS];
	struct idle idle[C_MAX];
	unsigned int failures;
};

static uint8_t chunk[DATA_FRAGMENT];

static int write_file(const char *path, const char *text, mode_t mode)
{
	_cleanup_close_ int fd =
		open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		return -EIO;
	return 0;
}

static double ms_since(uint64_t t0)
{
	return (double)(bench_now_ns() - t0) / 1e6;
}

/* Wait up to ms, waking early only if pid exits (not reaped here). */
static void pause_ms(pid_t pid, int ms)
{
	int pfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	poll(&p, pfd >= 0 ? 1 : 0, ms);
	if (pfd >= 0)
		close(pfd);
}

/* Rss and Pss of the mappings of path (the shim) in /proc/PID/smaps. */
static void shim_share(pid_t pid, const char *path, long *rss, long *pss)
{
	char p[64], line[PATH_MAX + 128];
	bool in = false;
	FILE *f;

	*rss = *pss = 0;
	hv_snprintf(p, sizeof(p), "/proc/%d/smaps", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line),
		       hex = strspn(line, "0123456789abcdef");
		char *name;

		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		/* A mapping's header: "start-end perms offset dev inode [path]". */
		if (hex && line[hex] == '-') {
			name = strchr(line, '/');
			in = name && strcmp(name, path) == 0;
			continue;
		}
		if (!in)
			continue;
		if (strncmp(line, "Rss:", 4) == 0)
			*rss += strtol(line + 4, NULL, 10);
		else if (strncmp(line, "Pss:", 4) == 0)
			*pss += strtol(line + 4, NULL, 10);
	}
	fclose(f);
}

static int read_mem(const struct bench *b, const struct inst *in, struct mem *m)
{
	char p[64];

	m->rss = bench_proc_status_kb(in->pid, "VmRSS");
	m->anon = bench_proc_status_kb(in->pid, "RssAnon");
	hv_snprintf(p, sizeof(p), "/proc/%d/smaps_rollup", (int)in->pid);
	m->pss = bench_proc_kb(p, "Pss");
	if (m->rss < 0 || m->anon < 0 || m->pss < 0)
		return -ESRCH;
	m->shim_rss = m->shim_pss = 0;
	if (cfgs[in->c].ref) {
		shim_share(in->pid, b->shim, &m->shim_rss, &m->shim_pss);
		m->rss -= m->shim_rss;
		m->pss -= m->shim_pss;
	}
	return 0;
}

static int read_counters(pid_t pid, struct counters *c)
{
	char dir[64], p[128];
	struct dirent *e;
	DIR *d;

	memset(c, 0, sizeof(*c));
	hv_snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		uint64_t run = 0;
		long v, nv;

		if (e->d_name[0] == '.')
			continue;
		hv_snprintf(p, sizeof(p), "%s/%s/schedstat", dir, e->d_name);
		if (bench_schedstat(p, NULL, &run) < 0)
			run = 0;
		hv_snprintf(p, sizeof(p), "%s/%s/status", dir, e->d_name);
		v = bench_proc_kb(p, "voluntary_ctxt_switches");
		nv = bench_proc_kb(p, "nonvoluntary_ctxt_switches");
		if (v < 0 || nv < 0)
			continue; /* the thread just ended */
		c->runs += run;
		c->vol += (uint64_t)v;
		c->nonvol += (uint64_t)nv;
		c->threads++;
	}
	closedir(d);
	return c->threads ? 0 : -ESRCH;
}

static bool counters_equal(const struct counters *a, const struct counters *b)
{
	return a->runs == b->runs && a->vol == b->vol &&
	       a->nonvol == b->nonvol && a->threads == b->threads;
}

/* ---------------------------------------------------------------------- */

static int notify_open(struct inst *in)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int on = 1, fd;

	if (strlen(in->notify) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, in->notify, strlen(in->notify) + 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* The kernel's receive time, so we need not be waiting for it. */
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -errno;
	}
	in->notify_fd = fd;
	return 0;
}

static bool has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, line, len) == 0 &&
		    (p[len] == '\0' || p[len] == '\n'))
			return true;
	}
	return false;
}

/* Drain the notify socket; true once READY=1 was seen (time recorded). */
static bool notify_drain(struct inst *in)
{
	for (;;) {
		char text[600];
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(struct timespec))];
		} ctl;
		struct iovec iov = { text, sizeof(text) - 1 };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = &ctl,
				     .msg_controllen = sizeof(ctl) };
		struct timespec ts = { 0, 0 };
		ssize_t n = recvmsg(in->notify_fd, &mh, MSG_DONTWAIT);

		if (n < 0)
			return in->notify_ms >= 0;
		text[n] = '\0';
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
		     c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_TIMESTAMPNS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(ts)))
				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		if (in->notify_ms < 0 && has_line(text, "READY=1"))
			in->notify_ms =
				(double)(ts.tv_sec - in->t0_real.tv_sec) * 1e3 +
				(double)(ts.tv_nsec - in->t0_real.tv_nsec) /
					1e6;
	}
}

/* One pass of the simulator: collect whatever the daemon sent. */
static void pump(struct inst *in)
{
	if (in->cd)
		hvsim_cdev_run(in->cd, 0);
	if (in->u)
		hvsim_uio_run(in->u, 0);
}

static void inst_free(struct bench *b, struct inst *in)
{
	if (in->pid > 0)
		bench_stop(in->pid, STOP_TIMEOUT_MS);
	in->pid = -1;
	in->kvp = hvsim_kvp_free(in->kvp);
	in->vss = hvsim_vss_free(in->vss);
	in->fc = hvsim_fcopy_free(in->fc);
	in->sd = hvsim_shutdown_free(in->sd);
	in->cd = hvsim_cdev_free(in->cd);
	in->u = hvsim_uio_free(in->u);
	if (in->notify_fd >= 0)
		close(in->notify_fd);
	in->notify_fd = -1;
	if (!b->keep)
		bench_rm_tree(in->root);
}

static const char *const chardev_names[S_MAX] = {
	[S_KVP] = "hv_kvp",
	[S_VSS] = "hv_vss",
	[S_FCOPY] = "hv_fcopy",
};

/* Directories, the simulated device(s) and the notify socket. */
static int inst_setup(struct bench *b, struct inst *in, enum cfg c)
{
	enum svc s = cfgs[c].svc;
	char p[300];
	int r;

	memset(in, 0, sizeof(*in));
	in->c = c;
	in->pid = -1;
	in->notify_fd = -1;
	in->notify_ms = -1;
	if (hv_snprintf(in->root, sizeof(in->root), "%s/%s", b->work,
			cfgs[c].key) < 0 ||
	    hv_snprintf(in->state, sizeof(in->state), "%s/var/lib/hyperv",
			in->root) < 0 ||
	    hv_snprintf(in->notify, sizeof(in->notify), "%s/notify", in->root) <
		    0 ||
	    hv_snprintf(in->log, sizeof(in->log), "%s/%s.log", b->work,
			cfgs[c].key) < 0 ||
	    hv_snprintf(in->out, sizeof(in->out), "%s/out", in->root) < 0 ||
	    hv_snprintf(in->sock, sizeof(in->sock), "%s/dev/vmbus/%s", in->root,
			s == S_SHUTDOWN ? "-" : chardev_names[s]) < 0)
		return -ENAMETOOLONG;
	bench_rm_tree(in->root);
	for (const char *const *d =
		     (const char *const[]){ "var/lib/hyperv", "dev/vmbus",
					    "run", "etc/hvis", "out", "mnt",
					    NULL };
	     *d; d++) {
		hv_snprintf(p, sizeof(p), "%s/%s", in->root, *d);
		r = bench_mkdir_p(p);
		if (r < 0)
			return r;
	}
	if (s == S_SHUTDOWN) {
		/* Recorded, never a real poweroff or rebind. */
		hv_snprintf(p, sizeof(p), "%s/noop.sh", in->root);
		r = write_file(p, "#!/bin/sh\nexit 0\n", 0755);
		if (r < 0)
			return r;
	}
	if (cfgs[c].uio)
		r = s == S_FCOPY ?
			    hvsim_uio_new(in->root, HV_GUID_FCOPY,
					  HV_GUID_FCOPY_INSTANCE, 0,
					  HVSIM_FCOPY_RING_SIZE, &in->u) :
			    hvsim_uio_new(in->root, HV_GUID_SHUTDOWN,
					  HVSIM_SHUTDOWN_INSTANCE, 0,
					  HVSIM_SHUTDOWN_RING_SIZE, &in->u);
	else
		r = hvsim_cdev_new(in->sock,
				   s == S_KVP ? HVSIM_CDEV_KVP :
				   s == S_VSS ? HVSIM_CDEV_VSS :
						HVSIM_CDEV_FCOPY,
				   &in->cd);
	if (r < 0)
		return r;
	switch (s) {
	case S_KVP:
		r = hvsim_kvp_new(in->cd, &in->kvp);
		break;
	case S_VSS:
		r = hvsim_vss_new(in->cd, &in->vss);
		if (r == 0)
			hvsim_vss_set_timeouts(in->vss, HOST_TIMEOUT_MS,
					       HOST_TIMEOUT_MS);
		break;
	case S_FCOPY:
		r = in->u ? hvsim_fcopy_new_uio(in->u, &in->fc) :
			    hvsim_fcopy_new_cdev(in->cd, &in->fc);
		if (r == 0)
			hvsim_fcopy_set_timeout(in->fc, HOST_TIMEOUT_MS);
		break;
	case S_SHUTDOWN:
		r = hvsim_shutdown_new(in->u, &in->sd);
		if (r == 0)
			hvsim_shutdown_set_timeout(in->sd, HOST_TIMEOUT_MS);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0)
		return r;
	if (!cfgs[c].ref)
		return notify_open(in);
	return 0;
}

/* In the child: nothing under the machine's /dev/vmbus is reachable. */
static int hide_real_devices(void)
{
	if (access("/dev/vmbus", F_OK) < 0)
		return 0;
	return mount("tmpfs", "/dev/vmbus", "tmpfs", MS_NOSUID | MS_NOEXEC,
		     "mode=0755") < 0 ?
		       -errno :
		       0;
}

static pid_t spawn(const struct bench *b, struct inst *in)
{
	enum svc s = cfgs[in->c].svc;
	char rootopt[240], transport[32], bus[280], onlyopt[240], fb[240],
		helper[240];
	char *argv[16];
	int argc = 0;
	pid_t pid;

	if (cfgs[in->c].ref) {
		argv[argc++] = (char *)b->ref[s];
		argv[argc++] = "-n";
	} else {
		hv_snprintf(rootopt, sizeof(rootopt), "--root=%s", in->root);
		argv[argc++] = (char *)b->ours[s];
		argv[argc++] = "-n";
		argv[argc++] = rootopt;
		argv[argc++] = "--log=stderr";
		if (s == S_VSS) {
			/* Belt and braces: we never send FREEZE anyway. */
			hv_snprintf(onlyopt, sizeof(onlyopt), "--only=%s/mnt",
				    in->root);
			argv[argc++] = onlyopt;
		} else if (s == S_FCOPY) {
			hv_snprintf(transport, sizeof(transport),
				    "--transport=%s", cfgs[in->c].transport);
			argv[argc++] = transport;
		} else if (s == S_SHUTDOWN) {
			hv_snprintf(bus, sizeof(bus), "--bus-address=%s",
				    b->bus_addr);
			hv_snprintf(fb, sizeof(fb),
				    "--fallback-command=%s/noop.sh", in->root);
			hv_snprintf(helper, sizeof(helper),
				    "--bind-helper=%s/noop.sh", in->root);
			argv[argc++] = bus;
			argv[argc++] = fb;
			argv[argc++] = helper;
		}
	}
	argv[argc] = NULL;

	fflush(NULL);
	clock_gettime(CLOCK_REALTIME, &in->t0_real);
	in->t0 = bench_now_ns();
	pid = fork();
	if (pid != 0)
		return pid;

	/* Child. */
	{
		int r;

		bench_redirect(in->log);
		if (b->use_ns) {
			r = bench_private_state(in->state);
			if (r == 0)
				r = hide_real_devices();
			if (r < 0) {
				fprintf(stderr,
					"footprint-bench: namespace: %s\n",
					strerror(-r));
				_exit(126);
			}
		}
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
		unsetenv("LD_PRELOAD");
		if (cfgs[in->c].ref) {
			char dev[64];

			hv_snprintf(dev, sizeof(dev), "/dev/vmbus/%s",
				    chardev_names[s]);
			setenv("LD_PRELOAD", b->shim, 1);
			setenv("HVIS_SHIM_SOCKET", in->sock, 1);
			setenv("HVIS_SHIM_DEVICE", dev, 1);
		} else {
			setenv("NOTIFY_SOCKET", in->notify, 1);
		}
		execv(argv[0], argv);
		fprintf(stderr, "footprint-bench: exec %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
}

/* Spawn and wait for the simulator to see the registration/negotiation. */
static int inst_start(struct bench *b, struct inst *in)
{
	int r, status;

	in->pid = spawn(b, in);
	if (in->pid < 0)
		return -errno;
	/*
	 * The simulator has no event for the daemon reading its registration
	 * reply and polls the queue every 2 ms while it waits; single passes
	 * every CDEV_PASS_US make that 20 times finer, for both daemons.
	 * Exits are checked as we go, so a daemon dying at startup is noticed.
	 */
	for (unsigned int pass = 0;; pass++) {
		const struct timespec gap = { 0, CDEV_PASS_US * 1000 };

		r = in->cd ? hvsim_cdev_wait_ready(in->cd, 0) :
			     hvsim_uio_wait_open(in->u, SLICE_MS);
		if (r == 0)
			break;
		if (r != -ETIMEDOUT)
			return r;
		if ((!in->cd || pass % 256 == 0) &&
		    bench_exited(in->pid, &status)) {
			in->pid = -1;
			return -ECHILD;
		}
		if (ms_since(in->t0) > START_TIMEOUT_MS)
			return -ETIMEDOUT;
		if (in->cd)
			nanosleep(&gap, NULL);
	}
	/* The host sends NEGOTIATE as soon as the guest opens a channel. */
	if (in->fc && in->u)
		r = hvsim_fcopy_negotiate(in->fc);
	else if (in->sd)
		r = hvsim_shutdown_negotiate(in->sd, NULL);
	if (r < 0)
		return r;
	in->ready_ms = ms_since(in->t0);

	if (in->notify_fd < 0)
		return 0;
	/* READY=1 may come after what the simulator saw: keep serving it. */
	for (uint64_t t = bench_now_ns(); !notify_drain(in);) {
		struct pollfd p = { .fd = in->notify_fd, .events = POLLIN };

		if (ms_since(t) > NOTIFY_TIMEOUT_MS)
			return -ETIMEDOUT;
		pump(in);
		poll(&p, 1, 10);
	}
	return 0;
}

static int serve_fcopy(struct inst *in)
{
	char path[300];
	struct stat st;
	uint32_t status = 0;
	int r;

	memset(chunk, 'f', sizeof(chunk));
	r = hvsim_fcopy_start(in->fc, in->out, FCOPY_NAME, HVSIM_FCOPY_FORCE,
			      sizeof(chunk), &status);
	if (r == 0 && status == HV_S_OK)
		r = hvsim_fcopy_write(in->fc, 0, chunk, sizeof(chunk), &status);
	if (r == 0 && status == HV_S_OK)
		r = hvsim_fcopy_complete(in->fc, &status);
	if (r < 0)
		return r;
	if (status != HV_S_OK)
		return -EPROTO;
	hv_snprintf(path, sizeof(path), "%s/" FCOPY_NAME, in->out);
	if (stat(path, &st) < 0 || st.st_size != (off_t)sizeof(chunk))
		return -EBADMSG;
	return 0;
}

/* One request of the kind the daemon exists for (served[]). */
static int inst_serve(struct inst *in)
{
	struct hvsim_shutdown_req req = {
		.flags = SHUTDOWN_BOGUS_FLAGS,
		.reason_code = HVSIM_SHUTDOWN_REASON_PLANNED,
		.encoding = HVSIM_TEXT_UTF16,
	};
	uint32_t status = 0, flags = 0;
	int r;

	switch (cfgs[in->c].svc) {
	case S_KVP:
		r = hvsim_kvp_set(in->kvp, 0, "hvis-footprint", "idle",
				  &status);
		if (r < 0 || status != HV_S_OK)
			return r < 0 ? r : -EPROTO;
		r = hvsim_kvp_list(in->kvp, KVP_POOL_AUTO, NULL, NULL, &status);
		return r < 0 ? r : r == 0 ? -ENODATA : 0;
	case S_VSS:
		r = hvsim_vss_hot_backup(in->vss, &status, &flags);
		return r < 0 ? r : status == HV_S_OK ? 0 : -EPROTO;
	case S_FCOPY:
		return serve_fcopy(in);
	case S_SHUTDOWN:
		r = hvsim_shutdown_request(in->sd, &req, &status);
		return r < 0 ? r : status == HV_E_FAIL ? 0 : -EPROTO;
	default:
		return -EINVAL;
	}
}

/*
 * Until the daemon is quiet: one thread left (ours resolves its FQDN in a
 * short-lived thread) and no counter moving for QUIET_MS. A daemon that
 * never gets there is measured anyway (1): its wake-ups will show why.
 */
static int inst_quiet(struct inst *in)
{
	struct counters prev, now;
	uint64_t t0 = bench_now_ns();
	int r = read_counters(in->pid, &prev);

	while (r == 0) {
		pump(in);
		pause_ms(in->pid, QUIET_MS);
		r = read_counters(in->pid, &now);
		if (r < 0)
			break;
		if (now.threads == 1 && counters_equal(&prev, &now))
			return 0;
		if (ms_since(t0) > QUIET_TIMEOUT_MS) {
			fprintf(stderr,
				"footprint-bench: %s: not quiet after %d ms "
				"(%u threads), measured anyway\n",
				cfgs[in->c].key, QUIET_TIMEOUT_MS, now.threads);
			return 1;
		}
		prev = now;
	}
	return r;
}

static void report_failure(struct bench *b, const struct inst *in,
			   const char *what, int r)
{
	fprintf(stderr, "footprint-bench: %s %s: %s (log: %s)\n",
		cfgs[in->c].key, what, strerror(-r), in->log);
	b->failures++;
	b->keep = true;
}

static int one_run(struct bench *b, enum cfg c, unsigned int round)
{
	struct run *run = &b->runs[c][round];
	struct inst in;
	const char *what = "setup";
	int r;

	r = inst_setup(b, &in, c);
	if (r == 0) {
		what = "startup";
		r = inst_start(b, &in);
	}
	if (r == 0) {
		what = "request";
		r = inst_serve(&in);
	}
	if (r == 0) {
		what = "settling";
		r = inst_quiet(&in);
	}
	if (r >= 0) {
		what = "memory";
		r = read_mem(b, &in, &run->m);
	}
	if (r == 0) {
		run->ready_ms = in.ready_ms;
		run->notify_ms = in.notify_ms;
		run->done = true;
	} else {
		report_failure(b, &in, what, r);
	}
	inst_free(b, &in);
	return r;
}

/* All configurations at once, ready and served, then left alone. */
static void idle_window(struct bench *b)
{
	static struct inst all[C_MAX];
	const char *what[C_MAX] = { 0 };
	int r, status;
	uint64_t t0;
	int c;

	for (c = 0; c < C_MAX; c++) {
		all[c].pid = -1;
		all[c].notify_fd = -1;
		if (!b->have[c])
			continue;
		what[c] = "setup";
		r = inst_setup(b, &all[c], (enum cfg)c);
		if (r == 0) {
			what[c] = "startup";
			r = inst_start(b, &all[c]);
		}
		if (r == 0) {
			what[c] = "request";
			r = inst_serve(&all[c]);
		}
		if (r < 0) {
			report_failure(b, &all[c], what[c], r);
			what[c] = NULL;
			inst_free(b, &all[c]);
			continue;
		}
	}
	for (c = 0; c < C_MAX; c++) {
		struct idle *id = &b->idle[c];

		if (!what[c])
			continue;
		r = inst_quiet(&all[c]);
		id->quiet = r == 0;
		if (r >= 0)
			r = read_mem(b, &all[c], &id->m_start);
		if (r == 0)
			r = read_counters(all[c].pid, &id->start);
		if (r < 0) {
			report_failure(b, &all[c], "settling", r);
			what[c] = NULL;
			inst_free(b, &all[c]);
		}
	}

	fprintf(stderr, "footprint-bench: idle window of %u s\n", b->idle_s);
	t0 = bench_now_ns();
	while (ms_since(t0) < b->idle_s * 1000.0) {
		double left = b->idle_s * 1000.0 - ms_since(t0);

		for (c = 0; c < C_MAX; c++)
			if (what[c])
				pump(&all[c]);
		poll(NULL, 0, (int)HV_MIN(left + 1, (double)PUMP_MS));
	}

	for (c = 0; c < C_MAX; c++) {
		struct idle *id = &b->idle[c];

		if (!what[c])
			continue;
		if (bench_exited(all[c].pid, &status)) {
			all[c].pid = -1;
			report_failure(b, &all[c], "idle window (daemon died)",
				       -ECHILD);
		} else if (read_counters(all[c].pid, &id->end) == 0 &&
			   read_mem(b, &all[c], &id->m_end) == 0) {
			id->done = true;
		}
		inst_free(b, &all[c]);
	}
}

/* ---------------------------------------------------------------------- */
/* A private bus with the logind stand-in, for the shutdown daemon.        */

static pid_t spawn_helper(char **argv, const char *log, int ready_fd)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid != 0)
		return pid;
	{
		bench_redirect(log);
		if (ready_fd >= 0 && dup2(ready_fd, 3) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
}

/* The first line a helper writes to its ready pipe ("" on EOF/timeout). */
static void read_ready(int fd, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < size && poll(&p, 1, START_TIMEOUT_MS) > 0) {
		ssize_t k = read(fd, buf + n, size - 1 - n);

		if (k <= 0)
			break;
		n += (size_t)k;
		if (memchr(buf, '\n', n))
			break;
	}
	buf[n] = '\0';
}

static int start_bus(struct bench *b)
{
	char conf[240], log[240], sock[240], text[1200], line[300], arg[260];
	char *argv[] = { "/usr/bin/dbus-daemon", arg, "--nofork",
			 "--print-address=3", NULL };
	int p[2], r;

	if (access(argv[0], X_OK) < 0)
		return -ENOENT;
	hv_snprintf(conf, sizeof(conf), "%s/bus.conf", b->work);
	hv_snprintf(log, sizeof(log), "%s/bus.log", b->work);
	hv_snprintf(sock, sizeof(sock), "%s/bus.sock", b->work);
	hv_snprintf(
		text, sizeof(text),
		"<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus "
		"Configuration 1.0//EN\" \"http://www.freedesktop.org/"
		"standards/dbus/1.0/busconfig.dtd\">\n"
		"<busconfig><type>custom</type>"
		"<listen>unix:path=%s</listen><auth>EXTERNAL</auth>"
		"<policy context=\"default\"><allow user=\"*\"/>"
		"<allow own=\"*\"/><allow send_destination=\"*\"/>"
		"<allow receive_sender=\"*\"/></policy></busconfig>\n",
		sock);
	r = write_file(conf, text, 0644);
	if (r < 0)
		return r;
	hv_snprintf(arg, sizeof(arg), "--config-file=%s", conf);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	b->dbus = spawn_helper(argv, log, p[1]);
	close(p[1]);
	read_ready(p[0], line, sizeof(line));
	close(p[0]);
	if (b->dbus < 0 || !strstr(line, "unix:"))
		return -EIO;
	hv_snprintf(b->bus_addr, sizeof(b->bus_addr), "unix:path=%s", sock);
	return 0;
}

static int start_login1(struct bench *b)
{
	char log[240], rec[240], line[16];
	char *argv[] = {
		(char *)b->login1, "--address", b->bus_addr, "--record", rec,
		"--ready-fd=3",	   NULL
	};
	int p[2];

	hv_snprintf(log, sizeof(log), "%s/login1.log", b->work);
	hv_snprintf(rec, sizeof(rec), "%s/login1.calls", b->work);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	b->login1_pid = spawn_helper(argv, log, p[1]);
	close(p[1]);
	read_ready(p[0], line, sizeof(line));
	close(p[0]);
	return b->login1_pid > 0 && line[0] == '1' ? 0 : -EIO;
}

static void setup_logind(struct bench *b)
{
	b->dbus = b->login1_pid = -1;
	b->logind_note = "private D-Bus with tests/helpers/login1-service "
			 "as logind";
	if (!b->login1 || access(b->login1, X_OK) < 0 || start_bus(b) < 0 ||
	    start_login1(b) < 0) {
		/* An address nobody listens on: the daemon runs without. */
		hv_snprintf(b->bus_addr, sizeof(b->bus_addr),
			    "unix:path=%s/no-bus", b->work);
		b->logind_note = "no logind (no dbus-daemon or login1 "
				 "stand-in): the shutdown daemon runs without "
				 "its bus connection";
	}
}

static void stop_logind(struct bench *b)
{
	if (b->login1_pid > 0)
		bench_stop(b->login1_pid, STOP_TIMEOUT_MS);
	if (b->dbus > 0)
		bench_stop(b->dbus, STOP_TIMEOUT_MS);
}

/* ---------------------------------------------------------------------- */
/* Results.                                                                */

struct summary {
	unsigned int runs;
	double ready_ms, ready_min, ready_max, notify_ms;
	double rss, anon, pss, shim_rss, shim_pss;
	bool idle;
	uint64_t wakeups, ctxsw, vol, nonvol;
	unsigned int threads;
	struct mem m_end;
};

static void summarize(const struct bench *b, enum cfg c, struct summary *s)
{
	static double v[8][MAX_ROUNDS];
	unsigned int n = 0, nn = 0;
	const struct idle *id = &b->idle[c];

	memset(s, 0, sizeof(*s));
	s->notify_ms = -1;
	for (unsigned int i = 0; i < b->rounds; i++) {
		const struct run *r = &b->runs[c][i];

		if (!r->done)
			continue;
		v[0][n] = r->ready_ms;
		v[2][n] = (double)r->m.rss;
		v[3][n] = (double)r->m.anon;
		v[4][n] = (double)r->m.pss;
		v[5][n] = (double)r->m.shim_rss;
		v[6][n] = (double)r->m.shim_pss;
		if (r->notify_ms >= 0)
			v[1][nn++] = r->notify_ms;
		n++;
	}
	s->runs = n;
	if (n) {
		s->ready_ms = bench_median(v[0], n); /* sorts v[0] */
		s->ready_min = v[0][0];
		s->ready_max = v[0][n - 1];
		s->rss = bench_median(v[2], n);
		s->anon = bench_median(v[3], n);
		s->pss = bench_median(v[4], n);
		s->shim_rss = bench_median(v[5], n);
		s->shim_pss = bench_median(v[6], n);
	}
	if (nn)
		s->notify_ms = bench_median(v[1], nn);
	s->idle = id->done;
	if (id->done) {
		s->wakeups = id->end.runs - id->start.runs;
		s->vol = id->end.vol - id->start.vol;
		s->nonvol = id->end.nonvol - id->start.nonvol;
		s->ctxsw = s->vol + s->nonvol;
		s->threads = id->end.threads;
		s->m_end = id->m_end;
	}
}

static double ratio(double ref, double ours)
{
	return ours > 0 && ref > 0 ? ref / ours : 0;
}

struct target {
	char name[96];
	double value, limit;
	bool pass;
};

static unsigned int targets(const struct bench *b,
			    const struct summary sum[C_MAX], struct target *t)
{
	unsigned int n = 0;

	for (int c = 0; c < C_MAX; c++) {
		enum cfg rc = cfgs[c].ref_cfg;

		if (cfgs[c].ref)
			continue;
		if (rc != C_MAX && sum[c].runs && sum[rc].runs) {
			hv_snprintf(t[n].name, sizeof(t[n].name),
				    "%s %s idle RSS KiB, ours - reference",
				    svc_names[cfgs[c].svc], cfgs[c].transport);
			t[n].value = sum[c].rss - sum[rc].rss;
			t[n].limit = 1024;
			t[n].pass = t[n].value <= t[n].limit;
			n++;
		}
		if (sum[c].idle) {
			hv_snprintf(t[n].name, sizeof(t[n].name),
				    "%s %s wake-ups in %u s idle (ours)",
				    svc_names[cfgs[c].svc], cfgs[c].transport,
				    b->idle_s);
			t[n].value = (double)(b->have_schedstat ?
						      sum[c].wakeups :
						      sum[c].ctxsw);
			t[n].limit = 0;
			t[n].pass = t[n].value <= 0;
			n++;
		}
	}
	return n;
}

static void print_table(const struct bench *b, const struct summary sum[C_MAX],
			const struct target *t, unsigned int nt)
{
	printf("\nfootprint (%s, CPUs %s): startup = exec to the "
	       "simulator seeing the registration\n(char device) or "
	       "negotiation (UIO), median and minimum of %u runs alternating "
	       "ours and the\nreference; READY=1 = exec to ours' sd_notify datagram; "
	       "RSS/Pss (KiB) after one served request,\nmedian, the "
	       "reference's LD_PRELOAD shim excluded; wake-ups = times run "
	       "on a CPU\n(schedstat; all threads) during %u s with every "
	       "daemon idle at once; ctxsw = context switches\n",
	       b->label, b->affinity, b->rounds, b->idle_s);
	printf("  %-8s %-7s %-9s %9s %7s %9s %7s %7s %7s %9s %6s\n", "service",
	       "channel", "daemon", "startup", "min", "READY=1", "RSS", "anon",
	       "Pss", "wake-ups", "ctxsw");
	for (int c = 0; c < C_MAX; c++) {
		const struct summary *s = &sum[c];

		if (!s->runs && !s->idle)
			continue;
		printf("  %-8s %-7s %-9s", svc_names[cfgs[c].svc],
		       cfgs[c].transport, cfgs[c].ref ? "reference" : "ours");
		if (s->runs)
			printf(" %7.2fms %7.2f", s->ready_ms, s->ready_min);
		else
			printf(" %9s %7s", "-", "-");
		if (s->notify_ms >= 0)
			printf(" %7.2fms", s->notify_ms);
		else
			printf(" %9s", "-");
		if (s->runs)
			printf(" %7.0f %7.0f %7.0f", s->rss, s->anon, s->pss);
		else
			printf(" %7s %7s %7s", "-", "-", "-");
		if (s->idle)
			printf(" %9" PRIu64 " %6" PRIu64 "\n", s->wakeups,
			       s->ctxsw);
		else
			printf(" %9s %6s\n", "-", "-");
		/* Under the reference's row: how each of ours compares. */
		for (int o = 0; o < C_MAX && cfgs[c].ref && s->runs; o++) {
			const struct summary *so = &sum[o];

			if (cfgs[o].ref_cfg != (enum cfg)c || !so->runs)
				continue;
			printf("  %-8s %-7s %-9s %8.2fx %6.2fx %9s %6.2fx "
			       "%6.2fx %6.2fx\n",
			       "", cfgs[o].transport, "ref/ours",
			       ratio(s->ready_ms, so->ready_ms),
			       ratio(s->ready_min, so->ready_min), "",
			       ratio(s->rss, so->rss), ratio(s->anon, so->anon),
			       ratio(s->pss, so->pss));
		}
	}
	if (b->have[C_KVP_REF] && sum[C_KVP_REF].runs)
		printf("  reference RSS/Pss without the shim (its own share: "
		       "%.0f/%.0f KiB)\n",
		       sum[C_KVP_REF].shim_rss, sum[C_KVP_REF].shim_pss);
	printf("  shutdown: no reference: Debian's hyperv-daemons ships no "
	       "shutdown daemon\n  (the kernel's hv_utils answers the host "
	       "itself); fcopy uio: the reference speaks\n  only the char "
	       "device, so ours on UIO is compared with it there\n");
	printf("  served: kvp: %s; vss: %s; fcopy: %s; shutdown: %s\n",
	       served[S_KVP], served[S_VSS], served[S_FCOPY],
	       served[S_SHUTDOWN]);
	printf("  shutdown daemon's bus: %s\n", b->logind_note);
	if (nt)
		printf("\n  targets (issue 10):\n");
	for (unsigned int i = 0; i < nt; i++)
		printf("    %-48s %8.0f  <= %-5.0f %s\n", t[i].name, t[i].value,
		       t[i].limit, t[i].pass ? "met" : "NOT MET");
	fflush(stdout);
}

static void json_mem(FILE *f, const struct mem *m)
{
	fprintf(f,
		"{\"rss_kib\": %ld, \"rss_anon_kib\": %ld, \"pss_kib\": %ld, "
		"\"shim_rss_kib\": %ld, \"shim_pss_kib\": %ld}",
		m->rss, m->anon, m->pss, m->shim_rss, m->shim_pss);
}

static int write_json(const struct bench *b, const struct summary sum[C_MAX],
		      const struct target *t, unsigned int nt)
{
	FILE *f = fopen(b->json, "we");
	unsigned int k = 0;

	if (!f)
		return -errno;
	bench_json_head(f, b->label, b->affinity, b->ncpus);
	fprintf(f, ",\n  \"rounds\": %u,\n", b->rounds);
	fprintf(f, "  \"idle_window_s\": %u,\n", b->idle_s);
	fprintf(f, "  \"private_mount_namespace\": %s,\n",
		b->use_ns ? "true" : "false");
	fprintf(f, "  \"wakeup_counter\": \"%s\",\n",
		b->have_schedstat ? "schedstat run count, all threads" :
				    "context switches, all threads");
	fprintf(f, "  \"startup_yardstick\": \"exec to the simulator seeing "
		   "the registration (char device) or the NEGOTIATE reply "
		   "(UIO)\",\n");
	fprintf(f, "  \"reference_memory\": \"VmRSS and Pss minus the Rss and "
		   "Pss of the LD_PRELOAD shim's own mappings\",\n");
	fprintf(f, "  \"served_request\": {");
	for (int s = 0; s < S_MAX; s++) {
		fprintf(f, "%s\"%s\": ", s ? ", " : "", svc_names[s]);
		bench_json_str(f, served[s]);
	}
	fprintf(f, "},\n  \"shutdown_bus\": ");
	bench_json_str(f, b->logind_note);
	fprintf(f, ",\n  \"no_reference\": {\"shutdown\": \"Debian's "
		   "hyperv-daemons ships no shutdown daemon; the kernel's "
		   "hv_utils answers the host\", \"fcopy_uio\": \"the "
		   "reference speaks only the char device; ours on UIO is "
		   "compared with it\"},\n");
	fprintf(f, "  \"results\": [");
	for (int c = 0; c < C_MAX; c++) {
		const struct summary *s = &sum[c];
		enum cfg rc = cfgs[c].ref_cfg;

		if (!s->runs && !s->idle)
			continue;
		fprintf(f, "%s\n    {\"key\": \"%s\", \"service\": \"%s\", ",
			k++ ? "," : "", cfgs[c].key, svc_names[cfgs[c].svc]);
		fprintf(f, "\"transport\": \"%s\", \"daemon\": \"%s\", ",
			cfgs[c].transport, cfgs[c].ref ? "reference" : "ours");
		fprintf(f, "\"path\": ");
		bench_json_str(f, cfgs[c].ref ? b->ref[cfgs[c].svc] :
						b->ours[cfgs[c].svc]);
		fprintf(f, ", \"runs\": %u, \"startup_ms\": ", s->runs);
		bench_json_num(f, s->ready_ms);
		fprintf(f, ", \"startup_ms_min\": ");
		bench_json_num(f, s->ready_min);
		fprintf(f, ", \"startup_ms_max\": ");
		bench_json_num(f, s->ready_max);
		fprintf(f, ", \"ready_notify_ms\": ");
		if (s->notify_ms >= 0)
			bench_json_num(f, s->notify_ms);
		else
			fprintf(f, "null");
		fprintf(f,
			", \"rss_kib\": %.0f, \"rss_anon_kib\": %.0f, "
			"\"pss_kib\": %.0f, \"shim_rss_kib\": %.0f, "
			"\"shim_pss_kib\": %.0f",
			s->rss, s->anon, s->pss, s->shim_rss, s->shim_pss);
		fprintf(f, ", \"idle\": ");
		if (s->idle) {
			fprintf(f,
				"{\"window_s\": %u, \"wakeups\": %" PRIu64
				", \"ctxt_switches\": %" PRIu64
				", \"voluntary\": %" PRIu64
				", \"nonvoluntary\": %" PRIu64
				", \"threads\": %u, \"quiet_at_start\": %s, "
				"\"memory_start\": ",
				b->idle_s, s->wakeups, s->ctxsw, s->vol,
				s->nonvol, s->threads,
				b->idle[c].quiet ? "true" : "false");
			json_mem(f, &b->idle[c].m_start);
			fprintf(f, ", \"memory_end\": ");
			json_mem(f, &b->idle[c].m_end);
			fprintf(f, "}");
		} else {
			fprintf(f, "null");
		}
		if (rc != C_MAX && s->runs && sum[rc].runs) {
			fprintf(f,
				", \"vs\": \"%s\", \"ratio_ref_over_ours\": "
				"{\"startup\": ",
				cfgs[rc].key);
			bench_json_num(f, ratio(sum[rc].ready_ms, s->ready_ms));
			fprintf(f, ", \"startup_min\": ");
			bench_json_num(f,
				       ratio(sum[rc].ready_min, s->ready_min));
			fprintf(f, ", \"rss\": ");
			bench_json_num(f, ratio(sum[rc].rss, s->rss));
			fprintf(f, ", \"pss\": ");
			bench_json_num(f, ratio(sum[rc].pss, s->pss));
			fprintf(f, "}, \"rss_kib_ours_minus_ref\": %.0f",
				s->rss - sum[rc].rss);
		}
		fprintf(f, ", \"startup_ms_runs\": [");
		for (unsigned int i = 0, m = 0; i < b->rounds; i++) {
			if (!b->runs[c][i].done)
				continue;
			fprintf(f, "%s", m++ ? ", " : "");
			bench_json_num(f, b->runs[c][i].ready_ms);
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n  ],\n  \"targets\": [");
	for (unsigned int i = 0; i < nt; i++) {
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		bench_json_str(f, t[i].name);
		fprintf(f, ", \"value\": ");
		bench_json_num(f, t[i].value);
		fprintf(f, ", \"limit\": ");
		bench_json_num(f, t[i].limit);
		fprintf(f, ", \"pass\": %s}", t[i].pass ? "true" : "false");
	}
	fprintf(f, "\n  ]\n}\n");
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

/* ---------------------------------------------------------------------- */

static void usage(void)
{
	printf("Usage: footprint-bench --kvp=PATH --vss=PATH --fcopy=PATH "
	       "--shutdown=PATH [OPTION]...\n"
	       "  --kvp, --vss, --fcopy, --shutdown=PATH   our daemons\n"
	       "  --ref-kvp, --ref-vss, --ref-fcopy=PATH   the references "
	       "(default /usr/sbin/hv_*_daemon; \"\" for none)\n"
	       "  --shim=PATH        preload-devshim.so for the references\n"
	       "  --login1=PATH      tests/helpers/login1-service (logind on "
	       "a private bus)\n"
	       "  --rounds=N         startups per daemon (default 20)\n"
	       "  --idle=SECONDS     idle window (default 60)\n"
	       "  --label=TEXT       name of this configuration\n"
	       "  --json=FILE        write the figures as JSON\n"
	       "  --keep             keep the work directory\n");
}

int main(int argc, char **argv)
{
	enum {
		O_KVP = 0x100,
		O_VSS,
		O_FCOPY,
		O_SHUTDOWN,
		O_RKVP,
		O_RVSS,
		O_RFCOPY
	};
	static const struct option opts[] = {
		{ "kvp", required_argument, NULL, O_KVP },
		{ "vss", required_argument, NULL, O_VSS },
		{ "fcopy", required_argument, NULL, O_FCOPY },
		{ "shutdown", required_argument, NULL, O_SHUTDOWN },
		{ "ref-kvp", required_argument, NULL, O_RKVP },
		{ "ref-vss", required_argument, NULL, O_RVSS },
		{ "ref-fcopy", required_argument, NULL, O_RFCOPY },
		{ "shim", required_argument, NULL, 's' },
		{ "login1", required_argument, NULL, 'L' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "idle", required_argument, NULL, 'I' },
		{ "label", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static struct bench bb;
	static struct summary sum[C_MAX];
	struct target t[2 * C_MAX];
	struct bench *b = &bb;
	const char *tmp = getenv("TMPDIR");
	char tmpdir[PATH_MAX];
	unsigned int nt, round;
	int c, r = 0;

	b->ref[S_KVP] = "/usr/sbin/hv_kvp_daemon";
	b->ref[S_VSS] = "/usr/sbin/hv_vss_daemon";
	b->ref[S_FCOPY] = "/usr/sbin/hv_fcopy_daemon";
	b->label = "unpinned";
	b->rounds = 20;
	b->idle_s = 60;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_KVP:
		case O_VSS:
		case O_FCOPY:
		case O_SHUTDOWN:
			b->ours[c - O_KVP] = optarg;
			break;
		case O_RKVP:
		case O_RVSS:
		case O_RFCOPY:
			b->ref[c - O_RKVP] = optarg;
			break;
		case 's':
			b->shim_arg = optarg;
			break;
		case 'L':
			b->login1 = optarg;
			break;
		case 'R':
			r = bench_parse_uint(optarg, MAX_ROUNDS, &b->rounds);
			break;
		case 'I':
			r = bench_parse_uint(optarg, 3600, &b->idle_s);
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
			fprintf(stderr, "footprint-bench: bad argument '%s'\n",
				optarg);
			return 64;
		}
	}
	if (optind < argc || !b->ours[S_KVP] || !b->ours[S_VSS] ||
	    !b->ours[S_FCOPY] || !b->ours[S_SHUTDOWN]) {
		usage();
		return 64;
	}
	if (bench_affinity(b->affinity, sizeof(b->affinity), &b->ncpus) < 0)
		return 1;
	b->have_schedstat = access("/proc/self/schedstat", R_OK) == 0;
	b->use_ns = geteuid() == 0;

	for (c = 0; c < C_MAX; c++) {
		enum svc s = cfgs[c].svc;
		const char *p = cfgs[c].ref ? b->ref[s] : b->ours[s];

		b->have[c] = p && *p && access(p, X_OK) == 0;
		if (!cfgs[c].ref && !b->have[c]) {
			fprintf(stderr, "footprint-bench: %s: not found\n",
				p ? p : "(none)");
			return 1;
		}
	}
	if (!b->shim_arg || !realpath(b->shim_arg, b->shim)) {
		printf("footprint-bench: no device shim (--shim): ours "
		       "alone\n");
		b->have[C_KVP_REF] = b->have[C_VSS_REF] = b->have[C_FCOPY_REF] =
			false;
	} else if (!b->use_ns) {
		printf("footprint-bench: not root, so no private "
		       "/var/lib/hyperv for the references: ours alone\n");
		b->have[C_KVP_REF] = b->have[C_VSS_REF] = b->have[C_FCOPY_REF] =
			false;
	}
	for (c = 0; c < C_MAX; c++)
		if (cfgs[c].ref && !b->have[c] && b->shim[0] && b->use_ns)
			printf("footprint-bench: no reference %s: ours "
			       "alone\n",
			       b->ref[cfgs[c].svc]);

	/* Absolute: the sockets' paths are handed to other processes. */
	if (!realpath(tmp ? tmp : "/tmp", tmpdir) ||
	    hv_snprintf(b->work, sizeof(b->work), "%s/hvis-footprint.XXXXXX",
			tmpdir) < 0 ||
	    !mkdtemp(b->work)) {
		perror("footprint-bench: work directory");
		return 1;
	}
	setup_logind(b);

	for (round = 0; round < b->rounds; round++) {
		for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
			for (int k = 0; k < 2; k++) {
				/* Alternate who goes first. */
				enum cfg cc = groups[g][(k + round) % 2];

				if (cc != C_MAX && b->have[cc])
					one_run(b, cc, round);
			}
		}
		fprintf(stderr, "footprint-bench: startup round %u/%u done\n",
			round + 1, b->rounds);
	}
	idle_window(b);
	stop_logind(b);

	for (c = 0; c < C_MAX; c++)
		summarize(b, (enum cfg)c, &sum[c]);
	nt = targets(b, sum, t);
	print_table(b, sum, t, nt);
	if (b->json) {
		r = write_json(b, sum, t, nt);
		if (r < 0) {
			fprintf(stderr, "footprint-bench: %s: %s\n", b->json,
				strerror(-r));
			b->failures++;
		}
	}
	if (b->keep)
		fprintf(stderr, "footprint-bench: work directory kept: %s\n",
			b->work);
	else
		bench_rm_tree(b->work);
	return b->failures ? 1 : 0;
}
