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
#include <unistd.h>

#include "hvsim-internal.h"

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
	"  help      show help for a command\n"
	"\n"
	"Synopsis:\n"
	"  hvsim serve --root DIR [--kvp] [--vss] [--fcopy] [--timeout MS]\n"
	"              [--nego-wait MS] [--ready-fd N]\n"
	"  hvsim --root DIR status\n"
	"  hvsim --root DIR kvp add|modify KEY VALUE [--pool POOL]\n"
	"              [--type sz|u32|u64]\n"
	"  hvsim --root DIR kvp remove|get KEY [--pool POOL]\n"
	"  hvsim --root DIR kvp list [--pool POOL]\n"
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
	"Usage: hvsim serve --root DIR [--kvp] [--vss] [--fcopy]\n"
	"                   [--timeout MS] [--nego-wait MS] [--ready-fd N]\n"
	"Create DIR/dev/vmbus/hv_kvp, hv_vss and hv_fcopy (all three unless\n"
	"some are named) as simulated devices and the control socket\n"
	"DIR/hvsim.sock, then serve until SIGTERM or SIGINT, removing the\n"
	"sockets on the way out. Prints \"ready\" once listening.\n"
	"\n"
	"  -r, --root=DIR       where to create dev/ and hvsim.sock\n"
	"      --kvp            simulate /dev/vmbus/hv_kvp\n"
	"      --vss            simulate /dev/vmbus/hv_vss\n"
	"      --fcopy          simulate /dev/vmbus/hv_fcopy\n"
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
	if (!cfg.kvp && !cfg.vss && !cfg.fcopy)
		cfg.kvp = cfg.vss = cfg.fcopy = true;

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

static int cmd_help(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

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
	else if (strcmp(cmd, "help") == 0)
		fputs("Usage: hvsim help [COMMAND]\n", stdout);
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
	if (strcmp(cmd, "help") == 0)
		return cmd_help(argc, argv);
	return usage_error("unknown command '%s'", cmd);
}
