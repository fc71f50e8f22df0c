/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_kvp_daemon: answers the host's key/value exchange requests that the
 * kernel forwards over /dev/vmbus/hv_kvp (protocol.md §3).
 *
 * One thread, one poll() over the device, a signalfd, a retry timer, the
 * FQDN resolver's pipe and the pool store's inotify fd. The device is
 * reopened and re-registered after any error; when it disappears (the
 * host disabled the service) the daemon waits for it to come back.
 */
#include <limits.h>
#include <poll.h>
#include <sysexits.h>

#include "hvis/chardev-conn.h"
#include "hvis/cmdline.h"
#include "hvis/log.h"
#include "hvis/loop.h"
#include "hvis/notify.h"
#include "hvis/paths.h"
#include "ipconfig.h"
#include "kvp-proto.h"
#include "kvp-service.h"

struct daemon {
	struct hv_chardev_conn conn;
	int sigfd;
	struct kvp_service svc;
	uint8_t msg[KVP_MSG_SIZE];
};

static const char *arg_device;
static struct kvp_ipconfig_ctx arg_ip = { .backend = KVP_IP_BACKEND_AUTO };

static void help(void)
{
	printf("Usage: hv_kvp_daemon [OPTION]...\n"
	       "Answer Hyper-V key/value exchange (KVP) requests from the host.\n"
	       "\n"
	       "  -D, --device=PATH    KVP device (default <dev-dir>/vmbus/hv_kvp)\n"
	       "      --ip-backend=B   how host IP injection is applied: auto (default),\n"
	       "                       networkmanager, networkd, netplan, ifupdown,\n"
	       "                       ifcfg, script or off\n"
	       "      --ip-script=PATH an hv_set_ifconfig script (upstream interface)\n"
	       "      --ip-apply=none  write network configuration, run nothing\n" HV_COMMON_OPTIONS_HELP
	       "\n"
	       "Exit status: 0 stopped by a signal, 64 bad usage, 69 no KVP\n"
	       "device or another daemon has it, 73 pool files unusable,\n"
	       "1 other errors. See hv_kvp_daemon(8).\n");
}

enum { OPT_IP_BACKEND = 0x2000, OPT_IP_SCRIPT, OPT_IP_APPLY };

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		HV_COMMON_LONG_OPTIONS,
		{ "device", required_argument, NULL, 'D' },
		{ "ip-backend", required_argument, NULL, OPT_IP_BACKEND },
		{ "ip-script", required_argument, NULL, OPT_IP_SCRIPT },
		{ "ip-apply", required_argument, NULL, OPT_IP_APPLY },
		{},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, HV_COMMON_SHORT_OPTIONS "D:", opts,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			help();
			exit(0);
		case 'V':
			printf("hv_kvp_daemon (hvis) %s\n", HVIS_VERSION);
			exit(0);
		case 'D':
			arg_device = optarg;
			break;
		case OPT_IP_BACKEND:
			r = kvp_ip_backend_from_string(optarg);
			if (r < 0) {
				fprintf(stderr,
					"hv_kvp_daemon: unknown --ip-backend '%s'\n",
					optarg);
				return -EINVAL;
			}
			arg_ip.backend = r;
			break;
		case OPT_IP_SCRIPT:
			if (optarg[0] != '/') {
				fprintf(stderr,
					"hv_kvp_daemon: --ip-script needs "
					"an absolute path\n");
				return -EINVAL;
			}
			arg_ip.script = optarg;
			break;
		case OPT_IP_APPLY:
			if (strcmp(optarg, "none") != 0) {
				fprintf(stderr,
					"hv_kvp_daemon: --ip-apply takes "
					"only 'none'\n");
				return -EINVAL;
			}
			arg_ip.no_apply = true;
			break;
		default:
			r = hv_common_option_or_fail(c, optarg);
			if (r < 0)
				return r;
		}
	}
	return hv_cmdline_no_operands("hv_kvp_daemon", argc, argv);
}

static void device_lost(struct daemon *d, int err)
{
	bool was_open;
	int r;

	r = hv_chardev_conn_lost(&d->conn, &was_open);
	if (was_open)
		log_warning_errno(err, "lost %s, reopening",
				  hv_chardev_conn_path(&d->conn));
	/* Gone (service disabled) or busy: the retry timer is armed. */
	if (r < 0)
		log_debug_errno(r, "cannot open %s yet",
				hv_chardev_conn_path(&d->conn));
}

static void handle_device(struct daemon *d)
{
	ssize_t n;
	int r;

	n = hv_chardev_read(&d->conn.dev, d->msg, sizeof(d->msg));
	if (n == -EAGAIN)
		return;
	if (n < 0) {
		device_lost(d, (int)n);
		return;
	}
	r = kvp_service_handle(&d->svc, d->msg, (size_t)n);
	if (r == KVP_HANDLED_REGISTERED) {
		log_info("registered with the kernel, IC version %s",
			 d->svc.ic_version);
		if (hv_chardev_conn_mark_registered(&d->conn))
			hv_notify_ready();
		hv_notify_status("Serving KVP requests");
		return;
	}
	if (r < 0) {
		/* Not a KVP message: the stream is out of step. */
		device_lost(d, r);
		return;
	}
	r = hv_chardev_write(&d->conn.dev, d->msg, KVP_MSG_SIZE);
	if (r < 0)
		device_lost(d, r);
}

static int run(struct daemon *d)
{
	enum { PFD_SIGNAL, PFD_TIMER, PFD_DEVICE, PFD_RESOLVER, PFD_POOLS };
	struct pollfd pfd[5];
	int sig;

	for (;;) {
		pfd[PFD_SIGNAL] = (struct pollfd){ d->sigfd, POLLIN, 0 };
		pfd[PFD_TIMER] =
			(struct pollfd){ hv_chardev_conn_timer_fd(&d->conn),
					 POLLIN, 0 };
		pfd[PFD_DEVICE] = (struct pollfd){ hv_chardev_conn_fd(&d->conn),
						   POLLIN, 0 };
		pfd[PFD_RESOLVER] =
			(struct pollfd){ kvp_auto_fd(d->svc.intrinsic), POLLIN,
					 0 };
		pfd[PFD_POOLS] =
			(struct pollfd){ kvp_pool_inotify_fd(d->svc.store),
					 POLLIN, 0 };
		if (poll(pfd, ARRAY_SIZE(pfd), -1) < 0) {
			if (errno == EINTR)
				continue;
			return log_error_errno(errno, "poll");
		}
		if (pfd[PFD_SIGNAL].revents) {
			sig = hv_signalfd_read(d->sigfd);
			if (sig == SIGTERM || sig == SIGINT) {
				log_info("stopping on %s", strsignal(sig));
				hv_notify_stopping();
				return 0;
			}
			if (sig == SIGHUP)
				kvp_auto_refresh_os(d->svc.intrinsic);
		}
		if (pfd[PFD_TIMER].revents &&
		    hv_chardev_conn_on_timer(&d->conn))
			device_lost(d, 0);
		if (pfd[PFD_RESOLVER].revents)
			kvp_auto_process(d->svc.intrinsic);
		if (pfd[PFD_POOLS].revents)
			kvp_pool_process_events(d->svc.store);
		if (pfd[PFD_DEVICE].revents & POLLIN)
			handle_device(d);
		else if (pfd[PFD_DEVICE].revents &
			 (POLLERR | POLLHUP | POLLNVAL))
			device_lost(d, -ECONNRESET);
	}
}

int main(int argc, char **argv)
{
	static struct daemon d = { .conn = HV_CHARDEV_CONN_NULL, .sigfd = -1 };
	char dev_path[PATH_MAX], state_dir[PATH_MAX], run_dir[PATH_MAX];
	struct kvp_auto_config acfg = { 0 };
	struct kvp_pool_options popts = { 0 };
	char conf_dir[PATH_MAX];
	int r;

	r = parse_args(argc, argv);
	if (r < 0) {
		fprintf(stderr, "Try 'hv_kvp_daemon --help'.\n");
		return EX_USAGE;
	}
	hv_log_open("hv_kvp_daemon", hv_common_log_target());

	if (arg_device)
		r = hv_snprintf(dev_path, sizeof(dev_path), "%s", arg_device);
	else
		r = hv_path(HV_PATH_DEV, "vmbus/hv_kvp", dev_path,
			    sizeof(dev_path));
	if (r < 0 ||
	    hv_path(HV_PATH_STATE, "", state_dir, sizeof(state_dir)) < 0 ||
	    hv_path(HV_PATH_RUN, "", run_dir, sizeof(run_dir)) < 0 ||
	    hv_path(HV_PATH_CONF, "", conf_dir, sizeof(conf_dir)) < 0) {
		log_error("a path is too long");
		return EX_USAGE;
	}

	popts.state_dir = state_dir;
	popts.run_dir = run_dir;
	r = kvp_pool_open(&popts, &d.svc.store);
	if (r < 0) {
		log_error_errno(r, "cannot open the pools in %s", state_dir);
		return EX_CANTCREAT;
	}
	for (unsigned int i = 0; i < KVP_POOL_NUM; i++) {
		struct kvp_pool_stats ps;

		/* Served without it; the next append overwrites it. */
		if (kvp_pool_get_stats(d.svc.store, i, &ps) == 0 &&
		    ps.partial_bytes)
			log_warning("pool %u: %llu bytes after its last whole "
				    "record are not a record, ignored",
				    i, (unsigned long long)ps.partial_bytes);
	}
	acfg.conf_dir = conf_dir;
	r = kvp_auto_new(&acfg, &d.svc.intrinsic);
	if (r < 0) {
		log_error_errno(r, "cannot gather guest information");
		return 1;
	}
	/* GET_IP_INFO reads <run-dir> and <conf-dir> state (ipinfo.h). */
	d.svc.ipconfig = &arg_ip;
	r = kvp_ipinfo_new(NULL, &d.svc.ipinfo);
	if (r < 0) {
		log_error_errno(r, "cannot set up IP reporting");
		return 1;
	}
	d.sigfd = hv_signalfd_open();
	if (d.sigfd < 0) {
		log_error_errno(d.sigfd, "event loop setup");
		return 1;
	}
	/* REGISTER1; the kernel's reply arrives as a message. */
	kvp_proto_build_register(d.msg);
	r = hv_chardev_conn_init(&d.conn, dev_path, d.msg, KVP_MSG_SIZE);
	if (r < 0) {
		log_error_errno(r, "event loop setup");
		return 1;
	}

	r = hv_chardev_conn_connect(&d.conn);
	if (r < 0) {
		if (r == -EBUSY)
			log_error("%s is busy: is another KVP daemon running?",
				  dev_path);
		else
			log_error_errno(
				r,
				"cannot open %s (is this a Hyper-V guest "
				"with hv_utils loaded?)",
				dev_path);
		r = EX_UNAVAILABLE;
	} else {
		r = run(&d) < 0 ? 1 : 0;
	}

	hv_chardev_conn_done(&d.conn);
	kvp_ipinfo_free(d.svc.ipinfo);
	kvp_auto_free(d.svc.intrinsic);
	kvp_pool_close(d.svc.store);
	close(d.sigfd);
	return r;
}
