/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvsim: the host simulator as a program. "hvsim serve" plays the kernel
 * side of the devices under a private root; the other commands act as the
 * Hyper-V host's tools against a running server through its control
 * socket (protocol in hvsim-server.c and hvsim.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvsim-fcopy.h"
#include "hvsim-internal.h"
#include "hvsim-kvp-ip.h"
#include "hvsim-shutdown.h"
#include "hvsim-vss.h"

#ifndef HVIS_VERSION
#define HVIS_VERSION "unknown"
#endif

/* Exit statuses. */
#define EXIT_STATUS 1 /* the host got a status other than success */
#define EXIT_USAGE 2
#define EXIT_SIM 3 /* the simulator or its control socket failed */

static const char *arg_root;

static const char *const main_help =
	"Usage: hvsim [--root DIR] COMMAND [ARGS]\n"
	"Simulate the Hyper-V host and the kernel side of the hv_utils\n"
	"devices for the hvis daemons.\n"
	"\n"
	"Commands:\n"
	"  serve     simulate the devices under DIR and serve host commands\n"
	"  status    show each simulated device's state and counters\n"
	"  kvp       act as the host on the KVP (data exchange) service\n"
	"  copy-file copy a file into the guest (Copy-VMFile)\n"
	"  backup    a live backup: FREEZE, hold, THAW (VSS)\n"
	"  vss       other VSS host requests (hot-backup)\n"
	"  stop-vm   ask the guest to power off, restart or hibernate\n"
	"  help      show help for a command\n"
	"\n"
	"Synopsis:\n"
	"  hvsim serve --root DIR [--kvp] [--vss] [--fcopy] [--fcopy-uio]\n"
	"              [--shutdown] [--timeout MS] [--nego-wait MS]\n"
	"              [--ready-fd N]\n"
	"  hvsim --root DIR status\n"
	"  hvsim --root DIR kvp add|modify KEY VALUE [--pool POOL]\n"
	"              [--type sz|u32|u64]\n"
	"  hvsim --root DIR kvp remove|get KEY [--pool POOL]\n"
	"  hvsim --root DIR kvp list [--pool POOL]\n"
	"  hvsim --root DIR kvp ip get MAC [--json]\n"
	"  hvsim --root DIR kvp ip set GUID --dhcp | --ip LIST --subnet LIST\n"
	"              [--gateway LIST] [--dns LIST]\n"
	"  hvsim --root DIR copy-file SRC DEST [--force] [--create-full-path]\n"
	"              [--transport uio|chardev]\n"
	"  hvsim --root DIR backup [--hold S]\n"
	"  hvsim --root DIR vss hot-backup\n"
	"  hvsim --root DIR stop-vm [--restart|--hibernate] [--force]\n"
	"              [--message TEXT]\n"
	"  hvsim help [COMMAND]\n"
	"\n"
	"Options:\n"
	"  -r, --root=DIR  the root the server runs in (also accepted after\n"
	"                  the command)\n"
	"  -h, --help      show this help\n"
	"  -V, --version   show the version\n"
	"\n"
	"Exit status: 0 success, 1 the host got a failure status, 2 bad\n"
	"usage, 3 simulator or control-socket failure.\n"
	"Run 'hvsim help COMMAND' for a command's options.\n";

static const char *const serve_help =
	"Usage: hvsim serve --root DIR [--kvp] [--vss] [--fcopy] [--fcopy-uio]\n"
	"                   [--shutdown] [--timeout MS] [--nego-wait MS]\n"
	"                   [--ready-fd N]\n"
	"Create DIR/dev/vmbus/hv_kvp, hv_vss, hv_fcopy, the file copy UIO\n"
	"channel and the shutdown UIO channel (all five unless some are\n"
	"named) as simulated devices, the host attached to each, and\n"
	"the control socket DIR/hvsim.sock, then serve until SIGTERM or\n"
	"SIGINT, removing the sockets on the way out. Prints \"ready\" once\n"
	"listening.\n"
	"\n"
	"  -r, --root=DIR       where to create dev/, sys/ and hvsim.sock\n"
	"      --kvp            simulate /dev/vmbus/hv_kvp\n"
	"      --vss            simulate /dev/vmbus/hv_vss\n"
	"      --fcopy          simulate /dev/vmbus/hv_fcopy (the legacy\n"
	"                       file copy device of Linux up to 6.9)\n"
	"      --fcopy-uio      simulate the file copy channel bound to\n"
	"                       uio_hv_generic (Linux 6.10 and later):\n"
	"                       DIR/dev/uio0 and DIR/sys/bus/vmbus/devices/\n"
	"                       eb765408-105f-49b6-b4aa-c123b64d17d4 (class\n"
	"                       34d14be3-dee4-41c8-9ae7-6b174977c192, rings\n"
	"                       of 0x5000 bytes; the sys/ tree stays)\n"
	"      --shutdown       simulate the shutdown channel bound to\n"
	"                       uio_hv_generic: DIR/dev/uio1 and DIR/sys/\n"
	"                       bus/vmbus/devices/" HVSIM_SHUTDOWN_INSTANCE "\n"
	"                       (class " HV_GUID_SHUTDOWN ")\n"
	"  -t, --timeout=MS     the kernel's daemon reply timeout (30000)\n"
	"      --nego-wait=MS   how long a host request waits for a daemon\n"
	"                       to register (55000)\n"
	"      --ready-fd=N     write \"ready\" to file descriptor N and close\n"
	"                       it, instead of printing it\n"
	"  -h, --help           show this help\n";

static const char *const status_help =
	"Usage: hvsim --root DIR status\n"
	"One line per simulated device: path, open, state (DEVICE_INIT,\n"
	"READY, USERSPACE_REQ, USERSPACE_RECV), the operation it registered\n"
	"with and its counters; for KVP also the host's negotiated versions\n"
	"and request counters.\n";

static const char *const kvp_help =
	"Usage: hvsim --root DIR kvp SUBCOMMAND [ARGS] [--pool POOL]\n"
	"Act as the host (Msvm_KvpExchangeComponent) on the KVP service.\n"
	"\n"
	"  add KEY VALUE [--type T]     AddKvpItems: SET (default pool 0)\n"
	"  modify KEY VALUE [--type T]  ModifyKvpItems: SET of an existing\n"
	"                               item (default pool 0)\n"
	"  remove KEY                   RemoveKvpItems: DELETE (pool 0)\n"
	"  get KEY                      GET (pool 0), as the host sees it\n"
	"  list                         ENUMERATE from 0 until the guest says\n"
	"                               no more (default pool 1, the host's\n"
	"                               GuestExchangeItems; --pool auto gives\n"
	"                               GuestIntrinsicExchangeItems)\n"
	"  ip get|set ...               GET_IP_INFO / SET_IP_INFO (see\n"
	"                               hvsim kvp ip --help)\n"
	"\n"
	"  -p, --pool=POOL  external (0), guest (1), auto (2), host (3),\n"
	"                   internal (4), or any number 0..255\n"
	"  -T, --type=T     sz (string, default), u32 or u64 (REG_U32/U64)\n"
	"  -h, --help       show this help\n"
	"Options may follow the arguments; put -- before a KEY or VALUE\n"
	"that starts with '-'.\n"
	"\n"
	"Output: \"KEY = VALUE\" lines (control characters and backslashes\n"
	"escaped as \\n, \\t, \\\\, \\xHH), then \"status: 0xXXXXXXXX NAME\".\n"
	"Exit status 0 for HV_S_OK (for list: the HV_S_CONT that ends it),\n"
	"1 with the status in hex otherwise.\n"
	"\n"
	"modify: the host refuses to modify an item the guest does not have\n"
	"(WMI error 32773, 32779 from build 10000); modelled by a GET first,\n"
	"and no SET when it fails.\n"
	"get: Linux gives the host a GET value read 4 bytes past where the\n"
	"daemon wrote it (protocol.md section 7 item 15), so the host's value\n"
	"is wrong; the daemon's own reply is shown on a '#' line.\n"
	"remove: the status is the guest's; real hosts from build 9600 report\n"
	"success for a missing key.\n";

static const char *const kvp_ip_help =
	"Usage: hvsim --root DIR kvp ip get MAC [--json]\n"
	"       hvsim --root DIR kvp ip set GUID --dhcp\n"
	"       hvsim --root DIR kvp ip set GUID --ip LIST --subnet LIST\n"
	"                                  [--gateway LIST] [--dns LIST]\n"
	"The host's view of a guest NIC's IP configuration.\n"
	"\n"
	"  get MAC   GET_IP_INFO for the adapter with that MAC (as\n"
	"            Get-VMNetworkAdapter fills IPAddresses): addresses,\n"
	"            subnets, gateways, DNS servers, DHCP and the status.\n"
	"            MAC as 00:15:5d:0a:0b:0c, 00-15-5D-0A-0B-0C or\n"
	"            00155D0A0B0C; the host sends it upper case with colons.\n"
	"  set GUID  SET_IP_INFO for the adapter with that VMBus instance\n"
	"            GUID (Msvm_GuestNetworkAdapterConfiguration), braces\n"
	"            optional; sent as {lower-case}.\n"
	"\n"
	"  -j, --json           get: one JSON object instead of lines\n"
	"      --dhcp           set: DHCP, no static addresses\n"
	"      --ip=LIST        set: addresses, ',' or ';' between them\n"
	"      --subnet=LIST    set: one subnet mask or IPv6 prefix length\n"
	"                       per address\n"
	"      --gateway=LIST   set: default gateways\n"
	"      --dns=LIST       set: DNS servers\n"
	"  -h, --help           show this help\n"
	"\n"
	"Output: get prints \"Name : value\" lines (lists in braces) or\n"
	"JSON; set prints \"status: 0xXXXXXXXX NAME\". Exit status 0 for\n"
	"HV_S_OK, 1 for any other status (a guest with no adapter of that\n"
	"MAC answers HV_E_FAIL; of that GUID, HV_GUID_NOTFOUND).\n";

static const char *const copy_file_help =
	"Usage: hvsim --root DIR copy-file SRC DEST [--force]\n"
	"                                  [--create-full-path]\n"
	"                                  [--transport uio|chardev]\n"
	"Copy-VMFile -SourcePath SRC -DestinationPath DEST -FileSource Host:\n"
	"the server reads SRC and sends it to the guest's file copy service\n"
	"(START, WRITE in 6144-byte chunks, COMPLETE; CANCEL after a failed\n"
	"WRITE). DEST is the guest's full path of the file; one ending in\n"
	"'/' names a directory and takes SRC's file name.\n"
	"\n"
	"  -f, --force             overwrite an existing DEST (-Force)\n"
	"  -p, --create-full-path  create DEST's missing directories\n"
	"                          (-CreateFullPath)\n"
	"  -t, --transport=T       uio (serve --fcopy-uio) or chardev (serve\n"
	"                          --fcopy); default: whichever a guest is\n"
	"                          on, UIO first\n"
	"  -h, --help              show this help\n"
	"\n"
	"Output: \"status: 0xXXXXXXXX NAME (...)\"; on failure also\n"
	"PowerShell's message on stderr, e.g. \"Failed to initiate copying\n"
	"files to the guest: The file exists. (0x80070050)\". Exit status\n"
	"0 when copied, 1 when the guest refused or failed (or none is\n"
	"there), 2 bad usage or an unreadable SRC, 3 simulator failure.\n";

static const char *const backup_help =
	"Usage: hvsim --root DIR backup [--hold S]\n"
	"A live backup (a production checkpoint) as the host's VSS runs it:\n"
	"FREEZE; if the guest froze, S seconds in which the host would take\n"
	"its snapshot; THAW (also after a failed FREEZE, as the host aborts\n"
	"the snapshot set). Waits for a VSS daemon to register first, as\n"
	"long as serve --nego-wait.\n"
	"\n"
	"  -H, --hold=S  the snapshot's time, seconds with up to three\n"
	"                decimals, 0..3600 (default 1)\n"
	"  -h, --help    show this help\n"
	"\n"
	"Output: \"freeze: status: 0xXXXXXXXX NAME (PATH)\", the same for\n"
	"thaw, and \"frozen: S s\" from the FREEZE's reply to the THAW's.\n"
	"PATH says who answered: daemon, kernel, no-daemon (HV_E_FAIL from\n"
	"the kernel: no daemon registered), timeout or reset. Exit status 0\n"
	"when both got HV_S_OK, 1 otherwise, 3 simulator failure.\n";

static const char *const vss_help =
	"Usage: hvsim --root DIR vss hot-backup\n"
	"Other requests of the host's VSS integration service.\n"
	"\n"
	"  hot-backup   HOT_BACKUP: can the guest take part in a live\n"
	"               backup? Prints the status and the flags the guest\n"
	"               returned.\n"
	"  -h, --help   show this help\n"
	"\n"
	"Exit status 0 for HV_S_OK, 1 otherwise, 3 simulator failure.\n";

static const char *const stop_vm_help =
	"Usage: hvsim --root DIR stop-vm [--restart|--hibernate] [--force]\n"
	"                                [--message TEXT]\n"
	"Stop-VM (or Restart-VM, or a hibernate request) through the shutdown\n"
	"integration service: a planned SHUTDOWN request, 30 s for the guest,\n"
	"after waiting (as long as serve --nego-wait) for a guest to open the\n"
	"channel. Prints the status the host got; the guest answers before\n"
	"it acts.\n"
	"\n"
	"  -R, --restart       restart instead of powering off\n"
	"  -H, --hibernate     hibernate instead of powering off\n"
	"  -f, --force         forced (Stop-VM -Force): applications may not\n"
	"                      block it\n"
	"  -m, --message=TEXT  the message the guest shows its users (UTF-8,\n"
	"                      sent as UTF-16, at most 1023 units)\n"
	"  -h, --help          show this help\n"
	"\n"
	"Output: \"status: 0xXXXXXXXX NAME\". Exit status 0 for HV_S_OK, 1\n"
	"for any other status or no answer in time, 2 bad usage (also a\n"
	"message too long), 3 simulator failure.\n";

static int usage_error(const char *fmt, ...) HV_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hvsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see hvsim --help)\n", stderr);
	return EXIT_USAGE;
}

/* Decimal 0..max, nothing else. */
static int parse_num(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!s[0] || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* serve                                                                   */

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "kvp", no_argument, NULL, 'k' },
		{ "vss", no_argument, NULL, 's' },
		{ "fcopy", no_argument, NULL, 'f' },
		{ "fcopy-uio", no_argument, NULL, 'u' },
		{ "shutdown", no_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 't' },
		{ "nego-wait", required_argument, NULL, 'n' },
		{ "ready-fd", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hvsim_server_config cfg = {
		.root = arg_root,
		.reply_timeout_ms = -1,
		.nego_wait_ms = -1,
	};
	struct hvsim_server *srv = NULL;
	unsigned long v;
	bool shutdown = false;
	int ready_fd = -1, c, r, sfd;
	sigset_t mask;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+r:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cfg.root = optarg;
			break;
		case 'k':
			cfg.kvp = true;
			break;
		case 's':
			cfg.vss = true;
			break;
		case 'f':
			cfg.fcopy = true;
			break;
		case 'u':
			cfg.fcopy_uio = true;
			break;
		case 'S':
			shutdown = true;
			break;
		case 't':
		case 'n':
			if (parse_num(optarg, INT_MAX, &v) < 0)
				return usage_error(
					"--%s: not a number of ms: %s",
					c == 't' ? "timeout" : "nego-wait",
					optarg);
			if (c == 't')
				cfg.reply_timeout_ms = (int)v;
			else
				cfg.nego_wait_ms = (int)v;
			break;
		case 'R':
			if (parse_num(optarg, INT_MAX, &v) < 0 ||
			    fcntl((int)v, F_GETFD) < 0)
				return usage_error("--ready-fd: no open fd %s",
						   optarg);
			ready_fd = (int)v;
			break;
		case 'h':
			fputs(serve_help, stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("serve: unexpected argument '%s'",
				   argv[optind]);
	if (!cfg.root)
		return usage_error("serve: --root is required");
	if (!cfg.kvp && !cfg.vss && !cfg.fcopy && !cfg.fcopy_uio && !shutdown)
		cfg.kvp = cfg.vss = cfg.fcopy = cfg.fcopy_uio = shutdown = true;

	/* Signals arrive on a signalfd, polled by the server's loop. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return EXIT_SIM;
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		fprintf(stderr, "hvsim: serve: signalfd: %m\n");
		return EXIT_SIM;
	}
	signal(SIGPIPE, SIG_IGN);

	r = hvsim_server_new(&cfg, &srv);
	if (r >= 0 && shutdown) {
		r = hvsim_server_add_shutdown(srv, cfg.root);
		if (r < 0)
			srv = hvsim_server_free(srv);
	}
	if (r < 0) {
		fprintf(stderr, "hvsim: serve: cannot set up under %s: %s\n",
			cfg.root, strerror(-r));
		close(sfd);
		return EXIT_SIM;
	}
	if (ready_fd >= 0) {
		static const char ready[] = "ready\n";

		if (write(ready_fd, ready, sizeof(ready) - 1) < 0)
			fprintf(stderr, "hvsim: serve: --ready-fd: %m\n");
		close(ready_fd);
	} else {
		printf("ready\n");
		fflush(stdout);
	}
	r = hvsim_server_run(srv, sfd);
	hvsim_server_free(srv);
	close(sfd);
	if (r < 0) {
		fprintf(stderr, "hvsim: serve: %s\n", strerror(-r));
		return EXIT_SIM;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* client side                                                             */

struct call {
	char req[HVSIM_CTL_MSG_MAX];
	char rep[HVSIM_CTL_MSG_MAX];
	const char *f[HVSIM_CTL_FIELDS_MAX];
	int nf;
	int result;
	uint32_t status;
};

/* One request; on success c->f/nf hold the reply (result, status, ...). */
static int call(struct call *c, const char *what, const char *const *fields,
		size_t n)
{
	char path[PATH_MAX];
	unsigned long st;
	ssize_t len;
	long res;
	char *end;

	if (!arg_root)
		return usage_error("%s: --root is required", what);
	if (hvsim_fmt(path, sizeof(path), "%s/%s", arg_root, HVSIM_CTL_SOCKET) <
	    0) {
		fprintf(stderr, "hvsim: %s: root path too long\n", what);
		return EXIT_SIM;
	}
	len = hvsim_ctl_pack(c->req, sizeof(c->req), fields, n);
	if (len < 0) {
		fprintf(stderr, "hvsim: %s: arguments too long\n", what);
		return EXIT_USAGE;
	}
	len = hvsim_ctl_call(path, c->req, (size_t)len, c->rep, sizeof(c->rep));
	if (len < 0) {
		fprintf(stderr, "hvsim: %s: no server at %s: %s\n", what, path,
			strerror((int)-len));
		return EXIT_SIM;
	}
	c->nf = hvsim_ctl_split(c->rep, (size_t)len, c->f, ARRAY_SIZE(c->f));
	if (c->nf < 2)
		goto bad;
	errno = 0;
	res = strtol(c->f[0], &end, 10);
	if (errno || *end || res > 0 || res < -4095)
		goto bad;
	if (strncmp(c->f[1], "0x", 2) != 0 || strlen(c->f[1]) != 10)
		goto bad;
	errno = 0;
	st = strtoul(c->f[1] + 2, &end, 16);
	if (errno || *end)
		goto bad;
	c->result = (int)res;
	c->status = (uint32_t)st;
	return 0;
bad:
	fprintf(stderr, "hvsim: %s: malformed reply from the server\n", what);
	return EXIT_SIM;
}

/* The message a failed request carries, if any. */
static const char *call_msg(const struct call *c)
{
	return c->nf > 2 ? c->f[2] : strerror(-c->result);
}

static void put_escaped(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		switch (*p) {
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				printf("\\x%02x", *p);
			else
				putchar(*p);
		}
	}
}

static void put_status(uint32_t status, const char *note)
{
	const char *name = hvsim_kvp_status_name(status);

	printf("status: 0x%08" PRIx32 " %s%s\n", status, name ? name : "?",
	       note ? note : "");
	/* Before any message on stderr, when both go to one pipe. */
	fflush(stdout);
}

/*
 * Exit status for a KVP request's outcome: simulator trouble, a kernel
 * failure the host saw as HV_E_FAIL, or the host status.
 */
static int kvp_outcome(const struct call *c, const char *what, bool ok)
{
	switch (c->result) {
	case 0:
		break;
	case -ETIMEDOUT:
		put_status(c->status, " (the daemon did not answer in time)");
		fprintf(stderr, "hvsim: %s: the kernel's timeout fired\n",
			what);
		return EXIT_STATUS;
	case -ECONNRESET:
	case -EFAULT:
		put_status(c->status, " (the daemon went away)");
		fprintf(stderr, "hvsim: %s: %s\n", what, strerror(-c->result));
		return EXIT_STATUS;
	default:
		fprintf(stderr, "hvsim: %s: %s\n", what, call_msg(c));
		return c->result == -EINVAL ? EXIT_USAGE : EXIT_SIM;
	}
	if (!ok) {
		put_status(c->status, NULL);
		fprintf(stderr,
			"hvsim: %s: the host got status 0x%08" PRIx32 "\n",
			what, c->status);
		return EXIT_STATUS;
	}
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const req[] = { "status" };
	static struct call c;
	int ch, r;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			arg_root = optarg;
			break;
		case 'h':
			fputs(status_help, stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("status: unexpected argument '%s'",
				   argv[optind]);
	r = call(&c, "status", req, 1);
	if (r)
		return r;
	if (c.result < 0 || c.nf != 3) {
		fprintf(stderr, "hvsim: status: %s\n", call_msg(&c));
		return EXIT_SIM;
	}
	fputs(c.f[2], stdout);
	return 0;
}

static const struct {
	const char *name;
	unsigned pool;
} pool_names[] = {
	{ "external", KVP_POOL_EXTERNAL },
	{ "guest", KVP_POOL_GUEST },
	{ "auto", KVP_POOL_AUTO },
	{ "host", KVP_POOL_AUTO_EXTERNAL },
	{ "internal", KVP_POOL_AUTO_INTERNAL },
};

static int parse_pool(const char *s, unsigned *ret)
{
	unsigned long v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pool_names); i++)
		if (strcmp(s, pool_names[i].name) == 0) {
			*ret = pool_names[i].pool;
			return 0;
		}
	if (parse_num(s, UINT8_MAX, &v) < 0)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

enum kvp_sub { SUB_ADD, SUB_MODIFY, SUB_REMOVE, SUB_GET, SUB_LIST };

static const struct {
	const char *name;
	enum kvp_sub sub;
	int nargs;
	unsigned default_pool;
} kvp_subs[] = {
	{ "add", SUB_ADD, 2, KVP_POOL_EXTERNAL },
	{ "modify", SUB_MODIFY, 2, KVP_POOL_EXTERNAL },
	{ "remove", SUB_REMOVE, 1, KVP_POOL_EXTERNAL },
	{ "get", SUB_GET, 1, KVP_POOL_EXTERNAL },
	{ "list", SUB_LIST, 0, KVP_POOL_GUEST },
};

static int kvp_list(struct call *c, const char *pool)
{
	char idx[16];
	const char *req[3] = { "kvp-enum", pool, idx };
	uint32_t i;
	int r;

	for (i = 0; i < HVSIM_KVP_LIST_MAX; i++) {
		(void)hvsim_fmt(idx, sizeof(idx), "%" PRIu32, i);
		r = call(c, "kvp list", req, 3);
		if (r)
			return r;
		if (c->result == 0 && c->status == HV_S_OK) {
			if (c->nf != 4)
				return kvp_outcome(c, "kvp list", false);
			put_escaped(c->f[2]);
			fputs(" = ", stdout);
			put_escaped(c->f[3]);
			putchar('\n');
			continue;
		}
		if (c->result == 0 && c->status == HV_S_CONT) {
			char note[64];

			(void)hvsim_fmt(note, sizeof(note),
					" (end of pool %s, %" PRIu32 " items)",
					pool, i);
			put_status(c->status, note);
			return 0;
		}
		return kvp_outcome(c, "kvp list", false);
	}
	fprintf(stderr, "hvsim: kvp list: more than %u items\n",
		HVSIM_KVP_LIST_MAX);
	return EXIT_STATUS;
}

/* A status the host got from GET_IP_INFO: fields -> *ip. */
static int ip_reply(const struct call *c, struct hvsim_kvp_ip *ip)
{
	if (c->nf != 2 + HVSIM_KVP_IP_FIELDS ||
	    hvsim_kvp_ip_from_fields(c->f + 2, HVSIM_KVP_IP_FIELDS, ip) < 0) {
		fprintf(stderr, "hvsim: kvp ip get: malformed reply from the"
				" server\n");
		return EXIT_SIM;
	}
	return 0;
}

static bool host_answered(int result)
{
	return result == 0 || result == -ETIMEDOUT || result == -ECONNRESET ||
	       result == -EFAULT;
}

static int kvp_ip_get(const char *mac, bool json)
{
	static const char what[] = "kvp ip get";
	static struct call c;
	static struct hvsim_kvp_ip ip;
	char m[HVSIM_KVP_IP_MAC_SIZE];
	const char *req[2] = { "kvp-ip-get", m };
	int r;

	if (hvsim_kvp_ip_mac(mac, m) < 0)
		return usage_error("%s: not a MAC address: '%s'", what, mac);
	r = call(&c, what, req, 2);
	if (r)
		return r;
	if (host_answered(c.result)) {
		r = ip_reply(&c, &ip);
		if (r)
			return r;
	}
	if (c.result == 0 && c.status == HV_S_OK)
		return hvsim_kvp_ip_print(stdout, m, &ip, c.status, json) < 0 ?
			       EXIT_SIM :
			       0;
	if (json && host_answered(c.result)) {
		/* The object carries the status; the reason goes to stderr. */
		(void)hvsim_kvp_ip_print(stdout, m, &ip, c.status, true);
		fflush(stdout);
		fprintf(stderr,
			"hvsim: %s: the host got status 0x%08" PRIx32 "\n",
			what, c.status);
		r = EXIT_STATUS;
	} else {
		r = kvp_outcome(&c, what, false);
	}
	if (c.result == 0 && c.status == HV_E_FAIL)
		fprintf(stderr,
			"hvsim: %s: does the guest have an adapter %s?\n", what,
			m);
	return r;
}

static int cmd_kvp_ip(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "dhcp", no_argument, NULL, 'D' },
		{ "ip", required_argument, NULL, 'i' },
		{ "subnet", required_argument, NULL, 's' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "dns", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct call c;
	static struct hvsim_kvp_ip ip;
	struct hvsim_kvp_ip_set_args a = { .family = -1 };
	const char *fields[HVSIM_KVP_IP_FIELDS], *req[2 + HVSIM_KVP_IP_FIELDS];
	char why[128], num[2][4];
	bool get, json = false, statics = false;
	int ch, r;

	if (argc < 2)
		return usage_error("kvp ip: missing subcommand (get or set)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(kvp_ip_help, stdout);
		return 0;
	}
	if (strcmp(argv[1], "get") != 0 && strcmp(argv[1], "set") != 0)
		return usage_error("kvp ip: unknown subcommand '%s'", argv[1]);
	get = argv[1][0] == 'g';

	optind = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "r:jh", opts, NULL)) !=
	       -1) {
		bool set_opt = ch == 'D' || ch == 'i' || ch == 's' ||
			       ch == 'g' || ch == 'n';

		if (get && set_opt)
			return usage_error("kvp ip get: --dhcp, --ip, --subnet,"
					   " --gateway and --dns are for kvp ip"
					   " set");
		if (!get && ch == 'j')
			return usage_error("kvp ip set: --json is for kvp ip"
					   " get");
		switch (ch) {
		case 'r':
			arg_root = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'D':
			a.dhcp = true;
			break;
		case 'i':
			a.ip = optarg;
			statics = true;
			break;
		case 's':
			a.subnet = optarg;
			statics = true;
			break;
		case 'g':
			a.gateway = optarg;
			statics = true;
			break;
		case 'n':
			a.dns = optarg;
			break;
		case 'h':
			fputs(kvp_ip_help, stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	argc--;
	argv++;
	if (argc - optind != 1)
		return usage_error("kvp ip %s: expected one %s", argv[0],
				   get ? "MAC" : "GUID");
	if (get)
		return kvp_ip_get(argv[optind], json);

	if (a.dhcp && (statics || a.dns))
		return usage_error("kvp ip set: --dhcp goes alone");
	if (!a.dhcp && (!a.ip || !a.subnet))
		return usage_error("kvp ip set: --dhcp, or --ip and --subnet");
	a.adapter = argv[optind];
	r = hvsim_kvp_ip_build_set(&a, &ip, why, sizeof(why));
	if (r < 0)
		return usage_error("kvp ip set: %s", why);
	hvsim_kvp_ip_to_fields(&ip, num, fields);
	req[0] = "kvp-ip-set";
	req[1] = ip.adapter_id;
	memcpy(req + 2, fields, sizeof(fields));
	r = call(&c, "kvp ip set", req, ARRAY_SIZE(req));
	if (r)
		return r;
	r = kvp_outcome(&c, "kvp ip set", c.status == HV_S_OK);
	if (r)
		return r;
	put_status(c.status, NULL);
	return 0;
}

static int cmd_kvp(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "pool", required_argument, NULL, 'p' },
		{ "type", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct call c;
	const char *type = "sz", *req[5], *what;
	char pool[8], whatbuf[32];
	bool have_pool = false, have_type = false;
	unsigned p = 0;
	size_t s;
	int ch, r;

	if (argc < 2)
		return usage_error("kvp: missing subcommand");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(kvp_help, stdout);
		return 0;
	}
	if (strcmp(argv[1], "ip") == 0)
		return cmd_kvp_ip(argc - 1, argv + 1);
	for (s = 0; s < ARRAY_SIZE(kvp_subs); s++)
		if (strcmp(argv[1], kvp_subs[s].name) == 0)
			break;
	if (s == ARRAY_SIZE(kvp_subs))
		return usage_error("kvp: unknown subcommand '%s'", argv[1]);
	(void)hvsim_fmt(whatbuf, sizeof(whatbuf), "kvp %s", kvp_subs[s].name);
	what = whatbuf;

	/* Options may follow the arguments; "--" ends them. */
	optind = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "r:p:T:h", opts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'r':
			arg_root = optarg;
			break;
		case 'p':
			if (parse_pool(optarg, &p) < 0)
				return usage_error("%s: unknown pool '%s'",
						   what, optarg);
			have_pool = true;
			break;
		case 'T':
			if (strcmp(optarg, "sz") != 0 &&
			    strcmp(optarg, "u32") != 0 &&
			    strcmp(optarg, "u64") != 0)
				return usage_error("%s: unknown type '%s'",
						   what, optarg);
			type = optarg;
			have_type = true;
			break;
		case 'h':
			fputs(kvp_help, stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	argc--;
	argv++;
	if (argc - optind != kvp_subs[s].nargs)
		return usage_error("%s: expected %d argument%s", what,
				   kvp_subs[s].nargs,
				   kvp_subs[s].nargs == 1 ? "" : "s");
	if (have_type && kvp_subs[s].nargs != 2)
		return usage_error("%s: --type is for add and modify", what);
	if (!have_pool)
		p = kvp_subs[s].default_pool;
	(void)hvsim_fmt(pool, sizeof(pool), "%u", p);

	switch (kvp_subs[s].sub) {
	case SUB_ADD:
	case SUB_MODIFY:
		req[0] = kvp_subs[s].sub == SUB_ADD ? "kvp-set" : "kvp-modify";
		req[1] = pool;
		req[2] = type;
		req[3] = argv[optind];
		req[4] = argv[optind + 1];
		r = call(&c, what, req, 5);
		if (r)
			return r;
		if (c.result == 0 && c.nf > 2 &&
		    strcmp(c.f[2], "missing") == 0) {
			put_status(c.status, " (from the GET)");
			fprintf(stderr,
				"hvsim: %s: no item '%s' in pool %u: the host's"
				" ModifyKvpItems fails (WMI 32773, or 32779 from"
				" build 10000)\n",
				what, argv[optind], p);
			return EXIT_STATUS;
		}
		break;
	case SUB_REMOVE:
	case SUB_GET:
		req[0] = kvp_subs[s].sub == SUB_GET ? "kvp-get" : "kvp-delete";
		req[1] = pool;
		req[2] = argv[optind];
		r = call(&c, what, req, 3);
		if (r)
			return r;
		if (kvp_subs[s].sub == SUB_GET && c.result == 0 &&
		    c.status == HV_S_OK) {
			if (c.nf != 4)
				return kvp_outcome(&c, what, false);
			put_escaped(argv[optind]);
			fputs(" = ", stdout);
			put_escaped(c.f[2]);
			fputs("\n# the daemon replied: ", stdout);
			put_escaped(c.f[3]);
			fputs(" (the kernel hands the host the value from 4"
			      " bytes further on: protocol.md section 7 item"
			      " 15)\n",
			      stdout);
		}
		break;
	case SUB_LIST:
		return kvp_list(&c, pool);
	}
	r = kvp_outcome(&c, what, c.status == HV_S_OK);
	if (r)
		return r;
	put_status(c.status, NULL);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* copy-file                                                               */

static const struct {
	const char *name;
	enum hvsim_fcopy_stage stage;
} stage_names[] = {
	{ "none", HVSIM_FCOPY_STAGE_NONE },
	{ "start", HVSIM_FCOPY_STAGE_START },
	{ "write", HVSIM_FCOPY_STAGE_WRITE },
	{ "complete", HVSIM_FCOPY_STAGE_COMPLETE },
	{ "cancel", HVSIM_FCOPY_STAGE_CANCEL },
};

static int parse_u64_field(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* RESULT STATUS TRANSPORT STAGE BYTES SIZE -> *res. */
static int copy_reply(const struct call *c, struct hvsim_fcopy_result *res)
{
	size_t i;

	if (c->nf != 6 || parse_u64_field(c->f[4], &res->bytes) < 0 ||
	    parse_u64_field(c->f[5], &res->size) < 0)
		return -EBADMSG;
	for (i = 0; i < ARRAY_SIZE(stage_names); i++)
		if (strcmp(c->f[3], stage_names[i].name) == 0)
			break;
	if (i == ARRAY_SIZE(stage_names))
		return -EBADMSG;
	res->stage = stage_names[i].stage;
	res->status = c->status;
	return 0;
}

static int copy_outcome(const struct call *c)
{
	static const char what[] = "copy-file";
	struct hvsim_fcopy_result res = { 0 };
	const char *name;
	char text[256], note[128];

	switch (c->result) {
	case 0:
	case -ETIMEDOUT:
	case -ECONNRESET:
	case -ENOTCONN:
		break;
	case -EINVAL:
	case -ENAMETOOLONG:
	case -E2BIG:
	case -ENOENT:
	case -EISDIR:
	case -EACCES:
		fprintf(stderr, "hvsim: %s: %s\n", what, call_msg(c));
		return EXIT_USAGE;
	default:
		fprintf(stderr, "hvsim: %s: %s\n", what, call_msg(c));
		return EXIT_SIM;
	}
	if (copy_reply(c, &res) < 0) {
		fprintf(stderr, "hvsim: %s: malformed reply from the server\n",
			what);
		return EXIT_SIM;
	}
	name = hvsim_kvp_status_name(res.status);
	if (c->result == 0 && res.status == HV_S_OK) {
		printf("status: 0x%08" PRIx32 " %s (%" PRIu64
		       " bytes over %s)\n",
		       res.status, name, res.bytes, c->f[2]);
		return 0;
	}
	(void)hvsim_fmt(note, sizeof(note),
			" (at %s, %" PRIu64 " of %" PRIu64 " bytes over %s)",
			c->f[3], res.bytes, res.size, c->f[2]);
	put_status(res.status, note);
	fprintf(stderr, "hvsim: %s: %s\n", what,
		hvsim_fcopy_result_text(&res, text, sizeof(text)));
	if (c->result == -ENOTCONN)
		fprintf(stderr,
			"hvsim: %s: no guest has the file copy channel open\n",
			what);
	else if (c->result == -ETIMEDOUT)
		fprintf(stderr, "hvsim: %s: the guest did not answer in time\n",
			what);
	else if (c->result == -ECONNRESET)
		fprintf(stderr, "hvsim: %s: the guest went away\n", what);
	return EXIT_STATUS;
}

static int cmd_copy_file(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "create-full-path", no_argument, NULL, 'p' },
		{ "transport", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct call c;
	static char src[PATH_MAX];
	const char *transport = "auto", *req[5];
	unsigned flags = 0;
	char fl[4];
	struct stat st;
	int ch, fd, r;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "r:fpt:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			arg_root = optarg;
			break;
		case 'f':
			flags |= HVSIM_FCOPY_FORCE;
			break;
		case 'p':
			flags |= HVSIM_FCOPY_CREATE_FULL_PATH;
			break;
		case 't':
			if (strcmp(optarg, "uio") != 0 &&
			    strcmp(optarg, "chardev") != 0)
				return usage_error(
					"copy-file: --transport is uio or"
					" chardev, not '%s'",
					optarg);
			transport = optarg;
			break;
		case 'h':
			fputs(copy_file_help, stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return usage_error("copy-file: expected SRC and DEST");
	if (!argv[optind + 1][0])
		return usage_error("copy-file: DEST is empty");
	/* The server reads SRC from wherever it runs: give it all of it. */
	fd = open(argv[optind], O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0 || !realpath(argv[optind], src)) {
		fprintf(stderr, "hvsim: copy-file: cannot read %s: %m\n",
			argv[optind]);
		if (fd >= 0)
			close(fd);
		return EXIT_USAGE;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "hvsim: copy-file: %s is not a regular file\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	(void)hvsim_fmt(fl, sizeof(fl), "%u", flags);
	req[0] = "fcopy-copy";
	req[1] = transport;
	req[2] = fl;
	req[3] = src;
	req[4] = argv[optind + 1];
	r = call(&c, "copy-file", req, ARRAY_SIZE(req));
	if (r)
		return r;
	return copy_outcome(&c);
}

/* ---------------------------------------------------------------------- */
/* backup, vss, stop-vm                                                    */

static int parse_path(const char *s, enum hvsim_vss_path *ret)
{
	int i;

	for (i = 0; i < HVSIM_VSS_PATH_MAX; i++)
		if (strcmp(s, hvsim_vss_path_name((enum hvsim_vss_path)i)) ==
		    0) {
			*ret = (enum hvsim_vss_path)i;
			return 0;
		}
	return -EINVAL;
}

static int parse_hex32(const char *s, uint32_t *ret)
{
	unsigned long v;
	char *end;

	if (strncmp(s, "0x", 2) != 0 || strlen(s) != 10)
		return -EINVAL;
	errno = 0;
	v = strtoul(s + 2, &end, 16);
	if (errno || *end)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int parse_result(const char *s, int *ret)
{
	long v;
	char *end;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v > 0 || v < -4095)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

/* An error the server reports instead of any host status. */
static int request_failed(const struct call *c, const char *what)
{
	fprintf(stderr, "hvsim: %s: %s\n", what, call_msg(c));
	return c->result == -EINVAL || c->result == -E2BIG ? EXIT_USAGE :
							     EXIT_SIM;
}

/* "freeze: status: ... (path)"; a simulator error instead if result < 0. */
static void put_step(const char *step, int result, uint32_t status,
		     enum hvsim_vss_path path)
{
	char note[64];

	if (result < 0 && path == HVSIM_VSS_PATH_NONE) {
		printf("%s: no reply (%s)\n", step, strerror(-result));
		fflush(stdout);
		return;
	}
	(void)hvsim_fmt(note, sizeof(note), " (%s)", hvsim_vss_path_name(path));
	printf("%s: ", step);
	put_status(status, note);
}

/* Seconds with up to three decimals, at most max_s, as ms. */
static int parse_seconds_ms(const char *s, unsigned long max_s,
			    unsigned long *ms)
{
	unsigned long whole = 0, frac = 0;
	size_t i = 0, d;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		whole = whole * 10 + (unsigned long)(s[i] - '0');
		if (whole > max_s)
			return -ERANGE;
	}
	if (s[i] == '.') {
		i++;
		for (d = 0; d < 3 && s[i] >= '0' && s[i] <= '9'; d++, i++)
			frac = frac * 10 + (unsigned long)(s[i] - '0');
		if (d == 0)
			return -EINVAL;
		for (; d < 3; d++)
			frac *= 10;
	}
	if (s[i])
		return -EINVAL;
	if (whole * 1000 + frac > max_s * 1000)
		return -ERANGE;
	*ms = whole * 1000 + frac;
	return 0;
}

static int cmd_backup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "hold", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char what[] = "backup";
	static struct call c;
	enum hvsim_vss_path fpath, tpath;
	const char *req[2];
	char hold[16];
	unsigned long ms = 1000;
	uint64_t frozen;
	uint32_t tst;
	int ch, r, fres, tres;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "r:H:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			arg_root = optarg;
			break;
		case 'H':
			if (parse_seconds_ms(optarg, 3600, &ms) < 0)
				return usage_error("backup: --hold: not 0..3600"
						   " seconds: %s",
						   optarg);
			break;
		case 'h':
			fputs(backup_help, stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("backup: unexpected argument '%s'",
				   argv[optind]);
	(void)hvsim_fmt(hold, sizeof(hold), "%lu", ms);
	req[0] = "vss-backup";
	req[1] = hold;
	r = call(&c, what, req, ARRAY_SIZE(req));
	if (r)
		return r;
	if (c.result < 0)
		return request_failed(&c, what);
	if (c.nf != 8 || parse_result(c.f[2], &fres) < 0 ||
	    parse_path(c.f[3], &fpath) < 0 || parse_result(c.f[4], &tres) < 0 ||
	    parse_hex32(c.f[5], &tst) < 0 || parse_path(c.f[6], &tpath) < 0 ||
	    parse_u64_field(c.f[7], &frozen) < 0) {
		fprintf(stderr, "hvsim: %s: malformed reply from the server\n",
			what);
		return EXIT_SIM;
	}
	put_step("freeze", fres, c.status, fpath);
	if (fres == 0 && c.status == HV_S_OK)
		printf("frozen: %" PRIu64 ".%03" PRIu64 " s\n",
		       frozen / 1000000, frozen / 1000 % 1000);
	put_step("thaw", tres, tst, tpath);
	if (fres == 0 && tres == 0 && c.status == HV_S_OK && tst == HV_S_OK)
		return 0;
	if ((fres < 0 && fpath == HVSIM_VSS_PATH_NONE) ||
	    (tres < 0 && tpath == HVSIM_VSS_PATH_NONE))
		return EXIT_SIM;
	fprintf(stderr, "hvsim: %s: the backup failed", what);
	if (fpath == HVSIM_VSS_PATH_NO_DAEMON)
		fputs(" (no VSS daemon registered)", stderr);
	fputc('\n', stderr);
	return EXIT_STATUS;
}

static int cmd_vss(int argc, char **argv)
{
	static const char what[] = "vss hot-backup";
	static const char *const req[] = { "vss-hot-backup" };
	static struct call c;
	enum hvsim_vss_path path;
	uint32_t flags;
	char note[64];
	int i;

	if (argc < 2)
		return usage_error("vss: missing subcommand (hot-backup)");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(vss_help, stdout);
			return 0;
		}
	}
	if (strcmp(argv[1], "hot-backup") != 0)
		return usage_error("vss: unknown subcommand '%s'", argv[1]);
	if (argc > 2)
		return usage_error("vss hot-backup: unexpected argument '%s'",
				   argv[2]);
	i = call(&c, what, req, ARRAY_SIZE(req));
	if (i)
		return i;
	if (c.result < 0)
		return request_failed(&c, what);
	if (c.nf != 4 || parse_hex32(c.f[2], &flags) < 0 ||
	    parse_path(c.f[3], &path) < 0) {
		fprintf(stderr, "hvsim: %s: malformed reply from the server\n",
			what);
		return EXIT_SIM;
	}
	(void)hvsim_fmt(note, sizeof(note), " (%s, flags 0x%08" PRIx32 ")",
			hvsim_vss_path_name(path), flags);
	put_status(c.status, note);
	if (c.status == HV_S_OK)
		return 0;
	fprintf(stderr, "hvsim: %s: the host got status 0x%08" PRIx32 "\n",
		what, c.status);
	return EXIT_STATUS;
}

static int cmd_stop_vm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "restart", no_argument, NULL, 'R' },
		{ "hibernate", no_argument, NULL, 'H' },
		{ "force", no_argument, NULL, 'f' },
		{ "message", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char what[] = "stop-vm";
	static struct call c;
	const char *kind = "poweroff", *msg = "", *req[4];
	bool force = false;
	int ch, r;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "r:RHfm:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			arg_root = optarg;
			break;
		case 'R':
		case 'H':
			if (strcmp(kind, "poweroff") != 0)
				return usage_error("stop-vm: --restart or"
						   " --hibernate, not both");
			kind = ch == 'R' ? "restart" : "hibernate";
			break;
		case 'f':
			force = true;
			break;
		case 'm':
			msg = optarg;
			break;
		case 'h':
			fputs(stop_vm_help, stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("stop-vm: unexpected argument '%s'",
				   argv[optind]);
	req[0] = "shutdown-stop";
	req[1] = kind;
	req[2] = force ? "1" : "0";
	req[3] = msg;
	r = call(&c, what, req, ARRAY_SIZE(req));
	if (r)
		return r;
	if (c.result == -ETIMEDOUT) {
		fprintf(stderr,
			"hvsim: %s: the guest did not answer in time (is a"
			" shutdown daemon on the channel?)\n",
			what);
		return EXIT_STATUS;
	}
	if (c.result < 0)
		return request_failed(&c, what);
	put_status(c.status, NULL);
	if (c.status == HV_S_OK)
		return 0;
	fprintf(stderr, "hvsim: %s: the host got status 0x%08" PRIx32 "\n",
		what, c.status);
	return EXIT_STATUS;
}

/* ---------------------------------------------------------------------- */

static int cmd_help(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (argc == 3 && strcmp(cmd, "kvp") == 0 &&
	    strcmp(argv[2], "ip") == 0) {
		fputs(kvp_ip_help, stdout);
		return 0;
	}
	if (argc > 2)
		return usage_error("help: one command at most");
	if (!cmd)
		fputs(main_help, stdout);
	else if (strcmp(cmd, "serve") == 0)
		fputs(serve_help, stdout);
	else if (strcmp(cmd, "status") == 0)
		fputs(status_help, stdout);
	else if (strcmp(cmd, "kvp") == 0)
		fputs(kvp_help, stdout);
	else if (strcmp(cmd, "copy-file") == 0)
		fputs(copy_file_help, stdout);
	else if (strcmp(cmd, "backup") == 0)
		fputs(backup_help, stdout);
	else if (strcmp(cmd, "vss") == 0)
		fputs(vss_help, stdout);
	else if (strcmp(cmd, "stop-vm") == 0)
		fputs(stop_vm_help, stdout);
	else if (strcmp(cmd, "help") == 0)
		fputs("Usage: hvsim help [COMMAND]\n"
		      "       hvsim help kvp ip\n",
		      stdout);
	else
		return usage_error("help: unknown command '%s'", cmd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "+r:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			arg_root = optarg;
			break;
		case 'h':
			fputs(main_help, stdout);
			return 0;
		case 'V':
			printf("hvsim %s\n", HVIS_VERSION);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("missing command");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc, argv);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(argc, argv);
	if (strcmp(cmd, "kvp") == 0)
		return cmd_kvp(argc, argv);
	if (strcmp(cmd, "copy-file") == 0)
		return cmd_copy_file(argc, argv);
	if (strcmp(cmd, "backup") == 0)
		return cmd_backup(argc, argv);
	if (strcmp(cmd, "vss") == 0)
		return cmd_vss(argc, argv);
	if (strcmp(cmd, "stop-vm") == 0)
		return cmd_stop_vm(argc, argv);
	if (strcmp(cmd, "help") == 0)
		return cmd_help(argc, argv);
	return usage_error("unknown command '%s'", cmd);
}
