/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_shutdown_daemon: the host's shutdown requests (Stop-VM, Restart-VM,
 * hibernate) served from userspace over uio_hv_generic (protocol.md §6,
 * §6.1). The reply goes out and the host is signalled first; then the
 * users are told, the hooks run, and logind is asked for the action.
 *
 * One thread, one poll() over the channel, a signalfd and logind's bus
 * connection. No timer is armed while idle.
 */
#include <limits.h>
#include <poll.h>
#include <sys/wait.h>
#include <sysexits.h>

#include "hooks.h"
#include "hvis/cmdline.h"
#include "hvis/log.h"
#include "hvis/loop.h"
#include "hvis/notify.h"
#include "hvis/paths.h"
#include "hvis/spawn.h"
#include "hvis/uio.h"
#include "hvis/vmbus-bind.h"
#include "logind.h"
#include "shutdown-proto.h"
#include "wall.h"

#define PROG "hv_shutdown_daemon"
#define DEFAULT_BIND_HELPER "/usr/libexec/hvis/hv-vmbus-bind"
#define DEFAULT_HOOK_TIMEOUT_SEC 30u
/* After a (re)bind udev may still be creating /dev/uioN. */
#define OPEN_RETRY_USEC (5 * 1000000ull)
#define OPEN_RETRY_STEP_MS 50
#define HELPER_TIMEOUT_USEC (60 * 1000000ull)
#define SEND_RETRIES 5
#define SEND_RETRY_MS 1000
#define ESCAPED_MAX 1024
/* The host waits for our answer to a hibernation while logind is asked. */
#define LOGIND_TIMEOUT_USEC (10 * 1000000ull)

struct daemon {
	struct hv_uio_chan chan;
	int sigfd;
	struct logind_watch *watch;
	struct logind_config lcfg;
	char sys[PATH_MAX];
	char dev[PATH_MAX];
	char hooks_dir[PATH_MAX];
	char utmp[PATH_MAX];
	bool have_pending;
	struct shutdown_request pending;
	bool sleeping; /* channel handed back for a hibernation */
	bool stop; /* leave the loop (exit_code) */
	int exit_code;
	uint8_t pkt[SHUTDOWN_PKT_MAX];
};

static const char *arg_bus_address;
static const char *arg_fallback;
static const char *arg_bind_helper = DEFAULT_BIND_HELPER;
static const char *arg_hooks_dir;
static const char *arg_utmp;
static const char *arg_kernel_release;
static uint32_t arg_hook_timeout = DEFAULT_HOOK_TIMEOUT_SEC;
static bool arg_wall = true;

static void help(void)
{
	printf("Usage: " PROG " [OPTION]...\n"
	       "Power off, reboot or hibernate when the Hyper-V host asks.\n"
	       "\n"
	       "      --bus-address=ADDR   D-Bus address of logind's bus "
	       "(default: system bus)\n"
	       "      --fallback-command=PATH\n"
	       "                           run instead of systemctl when "
	       "logind is absent\n"
	       "      --bind-helper=PATH   hv-vmbus-bind (default " DEFAULT_BIND_HELPER
	       ")\n"
	       "      --hooks-dir=DIR      pre-shutdown hooks (default "
	       "<conf-dir>/hvis/shutdown.d)\n"
	       "      --hook-timeout=SEC   time for all hooks together "
	       "(default 30)\n"
	       "      --no-wall            do not write to users' "
	       "terminals\n"
	       "      --utmp=PATH          logged-in users (default "
	       "<run-dir>/utmp)\n"
	       "      --kernel-release=REL judge the kernel by REL "
	       "instead of uname -r\n" HV_COMMON_OPTIONS_HELP "\n"
	       "Exit status: 0 stopped by a signal, 10 this kernel cannot "
	       "run the\nshutdown channel from userspace (before 6.10), 64 "
	       "bad usage, 69 no\nshutdown channel or it is not bound to "
	       "uio_hv_generic, 1 other errors.\nSee hv_shutdown_daemon(8).\n");
}

static int parse_args(int argc, char **argv)
{
	enum {
		OPT_BUS = 0x100,
		OPT_FALLBACK,
		OPT_HELPER,
		OPT_HOOKS,
		OPT_HOOK_TIMEOUT,
		OPT_NO_WALL,
		OPT_UTMP,
		OPT_KREL,
	};
	static const struct option opts[] = {
		HV_COMMON_LONG_OPTIONS,
		{ "bus-address", required_argument, NULL, OPT_BUS },
		{ "fallback-command", required_argument, NULL, OPT_FALLBACK },
		{ "bind-helper", required_argument, NULL, OPT_HELPER },
		{ "hooks-dir", required_argument, NULL, OPT_HOOKS },
		{ "hook-timeout", required_argument, NULL, OPT_HOOK_TIMEOUT },
		{ "no-wall", no_argument, NULL, OPT_NO_WALL },
		{ "utmp", required_argument, NULL, OPT_UTMP },
		{ "kernel-release", required_argument, NULL, OPT_KREL },
		{},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, HV_COMMON_SHORT_OPTIONS, opts,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			help();
			exit(0);
		case 'V':
			printf(PROG " (hvis) %s\n", HVIS_VERSION);
			exit(0);
		case OPT_BUS:
			arg_bus_address = optarg;
			break;
		case OPT_FALLBACK:
			arg_fallback = optarg;
			break;
		case OPT_HELPER:
			arg_bind_helper = optarg;
			break;
		case OPT_HOOKS:
			arg_hooks_dir = optarg;
			break;
		case OPT_HOOK_TIMEOUT:
			if (hv_parse_u32(optarg, &arg_hook_timeout) < 0 ||
			    arg_hook_timeout > 3600) {
				fprintf(stderr,
					PROG ": --hook-timeout wants 0 to "
					     "3600 seconds\n");
				return -EINVAL;
			}
			break;
		case OPT_NO_WALL:
			arg_wall = false;
			break;
		case OPT_UTMP:
			arg_utmp = optarg;
			break;
		case OPT_KREL:
			arg_kernel_release = optarg;
			break;
		case '?':
			return -EINVAL;
		default:
			r = hv_common_option(c, optarg);
			if (r <= 0)
				return r < 0 ? r : -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/*
 * Find and open the channel. Returns 0, or the exit status to stop with
 * (the reason logged).
 */
static int open_channel(struct daemon *d)
{
	struct hv_vmbus_ctx ctx = { .sysfs_root = d->sys,
				    .kernel_release = arg_kernel_release };
	uint64_t give_up = hv_now_usec() + OPEN_RETRY_USEC;
	struct hv_uio_info info;
	char path[PATH_MAX];
	int r, found, sig;

	for (;;) {
		r = found = hv_uio_find(d->sys, HV_GUID_SHUTDOWN, NULL, &info);
		if (r == 0) {
			r = hv_snprintf(path, sizeof(path), "%s/%s", d->dev,
					info.uio_name);
			if (r < 0)
				return log_error("device path too long"),
				       EX_USAGE;
			r = hv_uio_open(&d->chan, path, info.ring_size);
			if (r == 0) {
				log_info("shutdown channel %s on %s, rings "
					 "of %u bytes",
					 info.instance, path, info.ring_size);
				return 0;
			}
		}
		/* After a fresh bind udev may not have made the node yet. */
		if (found < 0 || r != -ENOENT || hv_now_usec() >= give_up)
			break;
		poll(&(struct pollfd){ .fd = d->sigfd, .events = POLLIN }, 1,
		     OPEN_RETRY_STEP_MS);
		while ((sig = hv_signalfd_read(d->sigfd)) > 0)
			if (sig == SIGTERM || sig == SIGINT)
				return log_info("stopping before the channel "
						"opened"),
				       0;
	}

	if (found == -ENODEV) {
		const struct hv_vmbus_service *svc =
			hv_vmbus_service_by_name("shutdown");

		if (hv_vmbus_kernel_supports(&ctx, svc) == 0) {
			log_error("this kernel cannot run the shutdown "
				  "channel on uio_hv_generic (needs %d.%d or "
				  "later); hv_utils keeps handling shutdown",
				  HV_UIO_UTIL_MIN_MAJOR, HV_UIO_UTIL_MIN_MINOR);
			return HV_EXIT_KERNEL_UNSUPPORTED;
		}
		log_error("the shutdown channel is not bound to "
			  "uio_hv_generic (the unit runs 'hv-vmbus-bind bind "
			  "shutdown' first)");
		return EX_UNAVAILABLE;
	}
	if (found == -ENOENT) {
		log_error("no shutdown channel under %s/bus/vmbus/devices (is "
			  "the shutdown integration service enabled for this "
			  "VM?)",
			  d->sys);
		return EX_UNAVAILABLE;
	}
	log_error_errno(r, "cannot open the shutdown channel");
	return r == -EBUSY ? EX_UNAVAILABLE : 1;
}

/* Send the reply, waiting a little for room if the host is slow. */
static int send_reply(struct hv_uio_chan *c, uint64_t trans_id, const void *buf,
		      size_t len)
{
	int r;

	for (int i = 0; i < SEND_RETRIES; i++) {
		r = hv_uio_send(c, trans_id, buf, len);
		if (r != -EAGAIN)
			return r;
		poll(&(struct pollfd){ .fd = c->fd, .events = POLLIN }, 1,
		     SEND_RETRY_MS);
	}
	return -EAGAIN;
}

static const char *action_verb(enum shutdown_action a)
{
	switch (a) {
	case SHUTDOWN_POWEROFF:
		return "power off";
	case SHUTDOWN_REBOOT:
		return "restart";
	case SHUTDOWN_HIBERNATE:
		return "hibernate";
	default:
		return "do something unknown";
	}
}

static const char *escaped_text(const struct shutdown_request *req, char *buf,
				size_t size)
{
	return hv_log_escape(req->text, strlen(req->text), buf, size);
}

static int on_packet(struct hv_uio_chan *c, struct hv_pkt *pkt, void *ud)
{
	struct daemon *d = ud;
	struct shutdown_request req;
	struct shutdown_msg msg;
	size_t len = pkt->payload_len;
	char esc[ESCAPED_MAX], why[128] = "";
	bool can_hibernate = false;
	uint32_t status;
	int r;

	shutdown_proto_handle(pkt->payload, len, &msg, &req);
	switch (msg.verdict) {
	case SHUTDOWN_DROP:
		log_warning("dropped a %zu-byte packet (type %u) too short to "
			    "answer",
			    len, msg.msgtype);
		return 0;
	case SHUTDOWN_REPLY:
		if (msg.msgtype == ICMSGTYPE_NEGOTIATE) {
			if (msg.negotiate_result == 0)
				log_info("negotiated framework %u.%u, "
					 "shutdown %u.%u",
					 HV_IC_VERSION_MAJOR(msg.fw),
					 HV_IC_VERSION_MINOR(msg.fw),
					 HV_IC_VERSION_MAJOR(msg.svc),
					 HV_IC_VERSION_MINOR(msg.svc));
			else
				log_warning_errno(msg.negotiate_result,
						  "no version in common with "
						  "the host's offer");
		} else {
			log_warning("message type %u is not for the shutdown "
				    "service, answered HV_E_FAIL",
				    msg.msgtype);
		}
		break;
	case SHUTDOWN_REQUEST:
		log_notice("host asks to %s%s: reason code 0x%08x, timeout "
			   "%u s, message \"%s\"",
			   action_verb(req.action),
			   req.force ? " (forced)" : "", req.reason_code,
			   req.timeout_seconds,
			   escaped_text(&req, esc, sizeof(esc)));
		if (req.action == SHUTDOWN_HIBERNATE) {
			r = logind_can_hibernate(&d->lcfg, why, sizeof(why));
			can_hibernate = r > 0;
			log_info("can hibernate: %s (%s)",
				 can_hibernate ? "yes" : "no", why);
		}
		status = shutdown_proto_status(&req, can_hibernate);
		shutdown_proto_answer(pkt->payload, len, status);
		if (req.action == _SHUTDOWN_ACTION_INVALID)
			log_warning("flags 0x%x are not a request we know, "
				    "answered HV_E_FAIL",
				    req.flags);
		else if (status != HV_S_OK)
			log_warning("cannot hibernate, answered HV_E_FAIL");
		else if (!d->have_pending) {
			d->pending = req;
			d->have_pending = true;
		}
		break;
	}
	r = send_reply(c, pkt->desc.trans_id, pkt->payload, len);
	if (r < 0)
		log_warning_errno(r, "could not send the reply");
	return 0;
}

static void wall_users(struct daemon *d, const struct shutdown_request *req)
{
	char esc[ESCAPED_MAX], text[2 * ESCAPED_MAX], limit[64] = "";
	int r;

	if (!arg_wall)
		return;
	if (req->timeout_seconds)
		hv_snprintf(limit, sizeof(limit), " within %u seconds",
			    req->timeout_seconds);
	hv_snprintf(text, sizeof(text),
		    "\r\n\aBroadcast message from " PROG ":\r\n\r\n"
		    "The Hyper-V host asked this machine to %s%s%s.\r\n"
		    "Reason code 0x%08x%s%s%s\r\n",
		    action_verb(req->action), req->force ? " (forced)" : "",
		    limit, req->reason_code, req->text[0] ? ": \"" : ".",
		    req->text[0] ? escaped_text(req, esc, sizeof(esc)) : "",
		    req->text[0] ? "\"" : "");
	r = shutdown_wall(d->utmp, d->dev, text);
	if (r < 0)
		log_warning_errno(r, "cannot read %s to tell the users",
				  d->utmp);
	else
		log_debug("told %d terminal(s)", r);
}

static void hook_report(const char *name, int result, void *ud)
{
	if (result == 0)
		log_info("hook %s done", name);
	else if (result > 0)
		log_warning("hook %s exited with %d", name, result);
	else if (result == -ETIME)
		log_warning("hook %s did not finish in time", name);
	else
		log_warning_errno(result, "hook %s not run", name);
}

static void run_hooks(struct daemon *d, const struct shutdown_request *req)
{
	char e_action[64], e_force[32], e_reason[48], e_timeout[48];
	char esc[ESCAPED_MAX], e_msg[ESCAPED_MAX + 32];
	char *env[] = { e_action, e_force, e_reason, e_timeout, e_msg, NULL };
	uint64_t budget = (uint64_t)arg_hook_timeout;

	/* Never past the host's deadline (0: the host gave none). */
	if (req->timeout_seconds && req->timeout_seconds < budget)
		budget = req->timeout_seconds;
	hv_snprintf(e_action, sizeof(e_action), "HV_SHUTDOWN_ACTION=%s",
		    shutdown_action_name(req->action));
	hv_snprintf(e_force, sizeof(e_force), "HV_SHUTDOWN_FORCE=%d",
		    req->force ? 1 : 0);
	hv_snprintf(e_reason, sizeof(e_reason), "HV_SHUTDOWN_REASON=0x%08x",
		    req->reason_code);
	hv_snprintf(e_timeout, sizeof(e_timeout), "HV_SHUTDOWN_TIMEOUT=%u",
		    req->timeout_seconds);
	hv_snprintf(e_msg, sizeof(e_msg), "HV_SHUTDOWN_MESSAGE=%s",
		    escaped_text(req, esc, sizeof(esc)));
	if (budget == 0)
		return;
	shutdown_hooks_run(d->hooks_dir, shutdown_action_name(req->action), env,
			   budget * 1000000, hook_report, NULL);
}

/* Run hv-vmbus-bind VERB shutdown; 0 or its exit status, or -errno. */
static int bind_helper(struct daemon *d, const char *verb)
{
	char *argv[] = { (char *)arg_bind_helper,
			 "--quiet",
			 "--sys-dir",
			 d->sys,
			 (char *)verb,
			 "shutdown",
			 NULL };
	struct hv_spawn_opts o = { .stdin_fd = -1,
				   .stdout_fd = STDERR_FILENO,
				   .stderr_fd = STDERR_FILENO };
	int r;

	r = hv_spawn_run(arg_bind_helper, argv, &o, HELPER_TIMEOUT_USEC);
	if (r != 0)
		log_error("%s %s shutdown: %s%d", arg_bind_helper, verb,
			  r < 0 ? "error " : "exit status ", r);
	return r;
}

static void act(struct daemon *d)
{
	struct shutdown_request req = d->pending;
	struct logind_result res;
	int r;

	d->have_pending = false;
	wall_users(d, &req);
	run_hooks(d, &req);

	if (req.action == SHUTDOWN_HIBERNATE && !d->watch) {
		/*
		 * Without logind nobody tells us about the resume: give
		 * the channel back for good (uio_hv_generic would stop the
		 * hibernation) and leave.
		 */
		hv_uio_close(&d->chan);
		bind_helper(d, "release");
		d->stop = true;
		d->exit_code = 0;
	}
	r = logind_act(&d->lcfg, req.action, req.force, &res);
	if (r < 0 && d->stop)
		d->exit_code = 1; /* let systemd restart us and rebind */
	if (r < 0 && r != -EBUSY && r != -EACCES && r != -EIO) {
		log_error_errno(r, "cannot start '%s %s'", res.method,
				shutdown_action_name(req.action));
		return;
	}
	if (r == -EBUSY) {
		log_error("logind refused to %s: an inhibitor lock blocks it "
			  "and the host did not ask for force (%s)",
			  action_verb(req.action), res.error);
		return;
	}
	if (r < 0) {
		log_error("logind refused to %s: %s", action_verb(req.action),
			  res.error);
		return;
	}
	if (res.path == LOGIND_PATH_FALLBACK)
		log_notice("logind is not there: started %s to %s (pid %d)",
			   res.method, shutdown_action_name(req.action),
			   (int)res.fallback_pid);
	else
		log_notice("asked %s to %s (%s, flags 0x%llx)",
			   logind_path_name(res.path), action_verb(req.action),
			   res.method, (unsigned long long)res.flags);
}

/* Serve everything queued, then act on the first accepted request. */
static int serve(struct daemon *d)
{
	int r;

	r = hv_uio_process(&d->chan, d->pkt, sizeof(d->pkt), on_packet, d,
			   NULL);
	if (r < 0)
		return r;
	/* The replies are in the ring and the host has been signalled. */
	if (d->have_pending)
		act(d);
	return 0;
}

static void reap_children(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			log_debug("child %d done", (int)pid);
		else
			log_warning("child %d failed (status 0x%x)", (int)pid,
				    status);
	}
}

static void on_sleep(struct daemon *d)
{
	if (d->sleeping)
		return;
	log_info("system going to sleep: giving the shutdown channel back "
		 "to hv_utils");
	hv_uio_close(&d->chan);
	d->sleeping = true;
	bind_helper(d, "release");
	logind_watch_release(d->watch);
}

static int on_resume(struct daemon *d)
{
	int r;

	if (!d->sleeping)
		return 0;
	log_info("system resumed: taking the shutdown channel again");
	r = bind_helper(d, "bind");
	if (r != 0) {
		d->stop = true;
		d->exit_code = r == HV_EXIT_KERNEL_UNSUPPORTED ? r : 1;
		return -EIO;
	}
	r = open_channel(d);
	if (r != 0 || d->chan.fd < 0) {
		d->stop = true;
		d->exit_code = r ? r : 0;
		return -EIO;
	}
	d->sleeping = false;
	r = logind_watch_inhibit(d->watch);
	if (r < 0)
		log_warning_errno(r, "cannot take the sleep inhibitor again");
	return serve(d);
}

static void watch_events(struct daemon *d)
{
	enum logind_event e;

	while ((e = logind_watch_process(d->watch)) != LOGIND_EVENT_NONE) {
		if (e == LOGIND_EVENT_SLEEP) {
			on_sleep(d);
		} else if (e == LOGIND_EVENT_RESUME) {
			on_resume(d);
		} else {
			log_warning("lost the connection to logind's bus");
			d->watch = logind_watch_free(d->watch);
			return;
		}
		if (d->stop)
			return;
	}
}

static int run(struct daemon *d)
{
	enum { PFD_SIGNAL, PFD_CHANNEL, PFD_BUS, _PFD_MAX };
	struct pollfd pfd[_PFD_MAX];
	int64_t ev;
	int sig, r;

	while (!d->stop) {
		pfd[PFD_SIGNAL] = (struct pollfd){ d->sigfd, POLLIN, 0 };
		pfd[PFD_CHANNEL] = (struct pollfd){ d->chan.fd, POLLIN, 0 };
		pfd[PFD_BUS] = (struct pollfd){ logind_watch_fd(d->watch),
						logind_watch_events(d->watch),
						0 };
		if (poll(pfd, _PFD_MAX, logind_watch_timeout_ms(d->watch)) <
		    0) {
			if (errno == EINTR)
				continue;
			return log_error_errno(errno, "poll");
		}
		if (pfd[PFD_SIGNAL].revents) {
			while ((sig = hv_signalfd_read(d->sigfd)) > 0) {
				if (sig == SIGCHLD) {
					reap_children();
					continue;
				}
				if (sig == SIGTERM || sig == SIGINT) {
					log_info("stopping on %s",
						 strsignal(sig));
					hv_notify_stopping();
					return 0;
				}
			}
		}
		if (pfd[PFD_CHANNEL].revents & (POLLIN | POLLERR | POLLHUP)) {
			ev = hv_uio_wait(&d->chan);
			if (ev == -EIO) {
				log_error("the host took the shutdown channel "
					  "away (rescinded)");
				d->exit_code = EX_UNAVAILABLE;
				return -EIO;
			}
			if (ev < 0 && ev != -EAGAIN && ev != -EINTR)
				return log_error_errno((int)ev,
						       "channel interrupt");
			r = serve(d);
			if (r < 0)
				return log_error_errno(r, "shutdown channel");
		}
		watch_events(d);
	}
	return 0;
}

static int setup_paths(struct daemon *d)
{
	int r = 0;

	r |= hv_path(HV_PATH_SYS, "", d->sys, sizeof(d->sys)) < 0;
	r |= hv_path(HV_PATH_DEV, "", d->dev, sizeof(d->dev)) < 0;
	if (arg_hooks_dir)
		r |= hv_snprintf(d->hooks_dir, sizeof(d->hooks_dir), "%s",
				 arg_hooks_dir) < 0;
	else
		r |= hv_path(HV_PATH_CONF, "hvis/shutdown.d", d->hooks_dir,
			     sizeof(d->hooks_dir)) < 0;
	if (arg_utmp)
		r |= hv_snprintf(d->utmp, sizeof(d->utmp), "%s", arg_utmp) < 0;
	else
		r |= hv_path(HV_PATH_RUN, "utmp", d->utmp, sizeof(d->utmp)) < 0;
	return r ? -ENAMETOOLONG : 0;
}

int main(int argc, char **argv)
{
	static struct daemon d = { .chan = { .fd = -1 }, .sigfd = -1 };
	int r;

	r = parse_args(argc, argv);
	if (r < 0) {
		fprintf(stderr, "Try '" PROG " --help'.\n");
		return EX_USAGE;
	}
	hv_log_open(PROG, hv_common_log_target());
	if (setup_paths(&d) < 0) {
		log_error("a path is too long");
		return EX_USAGE;
	}
	d.lcfg = (struct logind_config){ .bus_address = arg_bus_address,
					 .fallback_command = arg_fallback,
					 .sysfs_root = d.sys,
					 .call_timeout_usec =
						 LOGIND_TIMEOUT_USEC };
	d.sigfd = hv_signalfd_open();
	if (d.sigfd < 0) {
		log_error_errno(d.sigfd, "event loop setup");
		return 1;
	}

	r = open_channel(&d);
	if (r != 0 || d.chan.fd < 0) {
		close(d.sigfd);
		return r;
	}
	r = logind_watch_new(&d.lcfg, &d.watch);
	if (r < 0)
		log_info("no logind (%s): hibernation would fail while this "
			 "daemon holds the channel",
			 strerror(-r));

	hv_notify_ready();
	hv_notify_status("Serving shutdown requests");
	/* Packets sent before our first unmask raised no interrupt. */
	r = serve(&d);
	if (r < 0)
		log_error_errno(r, "shutdown channel");
	else
		r = run(&d);
	if (r < 0 && d.exit_code == 0)
		d.exit_code = 1;

	hv_uio_close(&d.chan);
	logind_watch_free(d.watch);
	close(d.sigfd);
	return d.exit_code;
}
