/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-kvp: read and write the KVP pools from the shell (hv-kvp(1)).
 *
 * Pools 0, 1, 3 and 4 go through the pool store, with the daemon's
 * locking and journal (kvp-pool.h), so hv-kvp, hv_kvp_daemon, cloud-init
 * and kvp_client can all work on the files at once. Pool 2 is not a file:
 * its values come from kvp-auto, as the daemon builds them for the host.
 *
 * Writes are refused unless the host can read them back whole: the kernel
 * converts keys to at most 254 UTF-16 units and values to at most 1022
 * (protocol.md §3.2), which a 511-byte key or a 2047-byte value can
 * exceed. --force writes them anyway (they fit the file).
 *
 * wait watches the state directory with inotify (a directory watch also
 * reports writes to the files in it), and, while that directory does not
 * exist yet, its nearest existing ancestor. The watch is set before each
 * look at the pool, so a key that arrives in between is not missed.
 */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>

#include "hvis/cmdline.h"
#include "hvis/log.h"
#include "hvis/paths.h"
#include "kvp-auto.h"
#include "kvp-pool.h"
#include "kvp-text.h"

/* Exit status; keep in step with help() and man/hv-kvp.1. */
enum {
	EXIT_OK = 0,
	EXIT_NOT_FOUND = 1,
	EXIT_USAGE = 2,
	EXIT_REFUSED = 3,
	EXIT_DENIED = 4,
	EXIT_TIMEOUT = 5,
	EXIT_FAILED = 6,
};

/* What the kernel passes on to the host (§3.2, ENUMERATE reply). */
#define HOST_KEY_UNITS 254
#define HOST_VALUE_UNITS 1022
/* How long pool 2 may wait for the FQDN lookup the daemon caches. */
#define FQDN_WAIT_MS 5000
#define SECONDS_MAX 100000000.0 /* over three years: "forever" */

enum command { CMD_GET, CMD_SET, CMD_DELETE, CMD_LIST, CMD_WAIT };

static const struct {
	const char *name;
	int nargs;
	unsigned int default_pool;
} commands[] = {
	[CMD_GET] = { "get", 1, KVP_POOL_EXTERNAL },
	[CMD_SET] = { "set", 2, KVP_POOL_GUEST },
	[CMD_DELETE] = { "delete", 1, KVP_POOL_GUEST },
	[CMD_LIST] = { "list", 0, KVP_POOL_EXTERNAL },
	[CMD_WAIT] = { "wait", 1, KVP_POOL_EXTERNAL },
};

/* The CLI's names; the store's own spellings are accepted too. */
static const char *const pool_names[KVP_POOL_NUM] = {
	"external", "guest", "auto", "host", "internal",
};

static int arg_pool = -1; /* -1: the command's default (list: all) */
static bool arg_json;
static bool arg_force;
static int64_t arg_timeout_ms = -1; /* wait: -1 forever */
static unsigned int arg_lock_timeout_ms = KVP_POOL_LOCK_TIMEOUT_MS;
static const char *arg_root;
static const char *arg_dirs[_HV_PATH_MAX];

static char state_dir[PATH_MAX];
static char run_dir[PATH_MAX];
static char conf_dir[PATH_MAX];

static void HV_PRINTF(1, 2) errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("hv-kvp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void help(void)
{
	printf("Usage: hv-kvp [OPTION]... get KEY\n"
	       "       hv-kvp [OPTION]... set KEY VALUE\n"
	       "       hv-kvp [OPTION]... delete KEY\n"
	       "       hv-kvp [OPTION]... list\n"
	       "       hv-kvp [OPTION]... wait KEY\n"
	       "Read and write the Hyper-V key/value exchange (KVP) pools.\n"
	       "\n"
	       "Commands:\n"
	       "  get KEY        print the value of KEY (default pool: external)\n"
	       "  set KEY VALUE  add or replace KEY (default pool: guest, read by the host)\n"
	       "  delete KEY     remove KEY (default pool: guest)\n"
	       "  list           print the records as KEY=VALUE lines (default: all pools)\n"
	       "  wait KEY       wait until KEY exists (default pool: external)\n"
	       "\n"
	       "Options:\n"
	       "  -p, --pool=POOL          external (0), guest (1), auto (2), host (3)\n"
	       "                           or internal (4)\n"
	       "  -j, --json               print JSON (get, list)\n"
	       "  -t, --timeout=SECONDS    wait: give up after SECONDS (default: never)\n"
	       "  -f, --force              set: write a key or value longer than the\n"
	       "                           host can read\n"
	       "      --lock-timeout=SECONDS  give up on a pool locked by another\n"
	       "                           program after SECONDS (default 5)\n"
	       "  -d, --debug              print debug messages\n"
	       "      --root=DIR           prefix for the default directories below\n"
	       "      --state-dir=DIR      pool files (default /var/lib/hyperv)\n"
	       "      --run-dir=DIR        runtime state (default /run)\n"
	       "      --conf-dir=DIR       os-release for pool 2 (default /etc)\n"
	       "  -h, --help               show this help\n"
	       "  -V, --version            show the version\n"
	       "\n"
	       "Exit status: 0 success, 1 key not found, 2 usage error, 3 key or\n"
	       "value refused, 4 permission denied or read-only pool, 5 timed out,\n"
	       "6 other errors. See hv-kvp(1).\n");
}

static int parse_pool(const char *s)
{
	if (strcasecmp(s, "host") == 0)
		return KVP_POOL_AUTO_EXTERNAL;
	if (strcasecmp(s, "internal") == 0)
		return KVP_POOL_AUTO_INTERNAL;
	return kvp_pool_from_string(s);
}

/* Seconds, fractions allowed, into milliseconds (rounded up). */
static int parse_seconds(const char *s, uint64_t *ret_ms)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !(d >= 0.0) || d > SECONDS_MAX)
		return -EINVAL;
	*ret_ms = (uint64_t)(d * 1000.0);
	if ((double)*ret_ms < d * 1000.0)
		(*ret_ms)++;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	enum { OPT_LOCK_TIMEOUT = 0x100 };
	static const struct option opts[] = {
		{ "pool", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
		{ "debug", no_argument, NULL, 'd' },
		{ "root", required_argument, NULL, HV_OPT_ROOT },
		{ "state-dir", required_argument, NULL, HV_OPT_STATE_DIR },
		{ "run-dir", required_argument, NULL, HV_OPT_RUN_DIR },
		{ "conf-dir", required_argument, NULL, HV_OPT_CONF_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	uint64_t ms;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:jt:fdhV", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			arg_pool = parse_pool(optarg);
			if (arg_pool < 0) {
				errorf("unknown pool '%s' (external, guest, "
				       "auto, host, internal or 0-4)",
				       optarg);
				return -EINVAL;
			}
			break;
		case 'j':
			arg_json = true;
			break;
		case 't':
			if (parse_seconds(optarg, &ms) < 0) {
				errorf("invalid --timeout '%s' (seconds)",
				       optarg);
				return -EINVAL;
			}
			arg_timeout_ms = (int64_t)ms;
			break;
		case 'f':
			arg_force = true;
			break;
		case OPT_LOCK_TIMEOUT:
			if (parse_seconds(optarg, &ms) < 0 || ms > UINT_MAX) {
				errorf("invalid --lock-timeout '%s' (seconds)",
				       optarg);
				return -EINVAL;
			}
			/* The store reads 0 as its default. */
			arg_lock_timeout_ms = ms ? (unsigned int)ms : 1;
			break;
		case 'd':
			hv_log_set_max_level(LOG_DEBUG);
			break;
		case HV_OPT_ROOT:
			arg_root = optarg;
			break;
		case HV_OPT_STATE_DIR:
			arg_dirs[HV_PATH_STATE] = optarg;
			break;
		case HV_OPT_RUN_DIR:
			arg_dirs[HV_PATH_RUN] = optarg;
			break;
		case HV_OPT_CONF_DIR:
			arg_dirs[HV_PATH_CONF] = optarg;
			break;
		case 'h':
			help();
			exit(EXIT_OK);
		case 'V':
			printf("hv-kvp (hvis) %s\n", HVIS_VERSION);
			exit(EXIT_OK);
		case ':':
			errorf("option '%s' needs an argument",
			       argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt && optopt < 0x100)
				errorf("unknown option '-%c'", optopt);
			else
				errorf("unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
	}
	return 0;
}

/* --root first, whatever the order given, then the single directories. */
static int setup_paths(void)
{
	static const char *const names[_HV_PATH_MAX] = {
		[HV_PATH_STATE] = "state-dir",
		[HV_PATH_RUN] = "run-dir",
		[HV_PATH_CONF] = "conf-dir",
	};
	int b, r;

	if (arg_root && hv_path_set_root(arg_root) < 0) {
		errorf("invalid --root: too long");
		return -EINVAL;
	}
	for (b = 0; b < _HV_PATH_MAX; b++) {
		if (!arg_dirs[b])
			continue;
		r = hv_path_set_base(b, arg_dirs[b]);
		if (r < 0) {
			errorf("invalid --%s: %s", names[b],
			       r == -E2BIG ? "too long" : "empty");
			return r;
		}
	}
	if (hv_path(HV_PATH_STATE, "", state_dir, sizeof(state_dir)) < 0 ||
	    hv_path(HV_PATH_RUN, "", run_dir, sizeof(run_dir)) < 0 ||
	    hv_path(HV_PATH_CONF, "", conf_dir, sizeof(conf_dir)) < 0) {
		errorf("a directory path is too long");
		return -E2BIG;
	}
	return 0;
}

/* A key or value for a message, escaped; returns buf. */
static const char *quoted(const char *s, char *buf, size_t size)
{
	size_t n;

	if (kvp_text_escape(s, strlen(s), 0, buf, size) < 0 && size > 4) {
		n = HV_MIN(strlen(buf), size - 4);
		memcpy(buf + n, "...", 4);
	}
	return buf;
}

#define QUOTED(s) quoted((s), (char[128]){ 0 }, 128)

static const char *pool_label(unsigned int pool)
{
	static char buf[32];

	hv_snprintf(buf, sizeof(buf), "pool %u (%s)", pool, pool_names[pool]);
	return buf;
}

static int exit_status_of(int r)
{
	switch (-r) {
	case EACCES:
	case EPERM:
	case EROFS:
		return EXIT_DENIED;
	case ETIMEDOUT:
		return EXIT_TIMEOUT;
	default:
		return EXIT_FAILED;
	}
}

/* Report a failed store operation on pool; returns the exit status. */
static int store_error(int r, unsigned int pool, const char *what)
{
	if (r == -ETIMEDOUT)
		errorf("cannot %s %s: another program kept it locked for "
		       "%u ms",
		       what, pool_label(pool), arg_lock_timeout_ms);
	else if (r == -EACCES || r == -EPERM)
		errorf("cannot %s %s in %s: %s (are you root?)", what,
		       pool_label(pool), state_dir, strerror(-r));
	else
		errorf("cannot %s %s in %s: %s", what, pool_label(pool),
		       state_dir, strerror(-r));
	return exit_status_of(r);
}

/*
 * Open the store: read-only for readers (creates nothing, so it works
 * for any user who may read the files), read-write for writers (creates
 * the directory and files as the daemon would).
 */
static int open_store(bool write, struct kvp_pool_store **ret)
{
	struct kvp_pool_options o = {
		.state_dir = state_dir,
		.run_dir = run_dir,
		.lock_timeout_ms = arg_lock_timeout_ms,
		.flags = write ? 0 : KVP_POOL_OPEN_READ_ONLY,
	};

	return kvp_pool_open(&o, ret);
}

static int open_store_error(int r, bool write)
{
	if (r == -ENOENT && !write) {
		errorf("no KVP pool files in %s (has hv_kvp_daemon run?)",
		       state_dir);
		return EXIT_FAILED;
	}
	if (r == -EACCES || r == -EPERM)
		errorf("cannot open the pools in %s%s: %s%s", state_dir,
		       write ? " for writing" : "", strerror(-r),
		       write ? " (writing needs root)" : "");
	else if (write)
		errorf("cannot open the pools in %s (journals in %s/hvis): %s",
		       state_dir, run_dir, strerror(-r));
	else
		errorf("cannot open the pools in %s: %s", state_dir,
		       strerror(-r));
	return exit_status_of(r);
}

static int new_auto(struct kvp_auto **ret)
{
	struct kvp_auto_config cfg = { .conf_dir = conf_dir };
	int r;

	r = kvp_auto_new(&cfg, ret);
	if (r < 0) {
		errorf("cannot gather the pool 2 values: %s", strerror(-r));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The daemon answers with the FQDN it resolved in the background, so
 * give our own first lookup a moment to finish; without it we show the
 * host name, the daemon's fallback too.
 */
static void auto_settle(struct kvp_auto *a)
{
	int64_t deadline = now_ms() + FQDN_WAIT_MS, left;
	struct pollfd pfd;

	while (kvp_auto_resolving(a)) {
		left = deadline - now_ms();
		if (left <= 0)
			break;
		pfd = (struct pollfd){ kvp_auto_fd(a), POLLIN, 0 };
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			break;
		kvp_auto_process(a);
	}
	if (kvp_auto_resolving(a))
		log_debug("FQDN lookup still running, showing the host name");
}

/* Keys we look up: anything the file may hold, bytes as given. */
static int check_lookup_key(const char *key)
{
	size_t len = strlen(key);

	if (len == 0) {
		errorf("the key must not be empty");
		return EXIT_REFUSED;
	}
	if (len >= KVP_POOL_KEY_SIZE) {
		errorf("the key is %zu bytes; a pool record holds at most %d",
		       len, KVP_POOL_KEY_SIZE - 1);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

static int check_field(const char *what, const char *s, size_t max_bytes,
		       size_t max_units)
{
	size_t len = strlen(s);
	ssize_t units;

	if (len > max_bytes) {
		errorf("the %s is %zu bytes; a pool record holds at most %zu",
		       what, len, max_bytes);
		return EXIT_REFUSED;
	}
	units = kvp_utf16_units(s, len);
	if (units < 0) {
		errorf("the %s is not valid UTF-8", what);
		return EXIT_REFUSED;
	}
	if ((size_t)units > max_units && !arg_force) {
		errorf("the %s is %zd UTF-16 units; the host reads at most "
		       "%zu, so it would see it cut short (--force writes it "
		       "anyway)",
		       what, units, max_units);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

/* Keys and values we write: what the file and the host can hold. */
static int check_write(const char *key, const char *value)
{
	int r;

	r = check_lookup_key(key);
	if (r != EXIT_OK)
		return r;
	r = check_field("key", key, KVP_POOL_KEY_SIZE - 1, HOST_KEY_UNITS);
	if (r != EXIT_OK)
		return r;
	return check_field("value", value, KVP_POOL_VALUE_SIZE - 1,
			   HOST_VALUE_UNITS);
}

static int refuse_auto(void)
{
	errorf("%s is read-only: hv_kvp_daemon makes its values from the "
	       "system",
	       pool_label(KVP_POOL_AUTO));
	return EXIT_DENIED;
}

static void print_json_field(FILE *f, const char *name, const char *s,
			     size_t len)
{
	static char buf[KVP_JSON_SIZE(KVP_POOL_VALUE_SIZE)];

	/* Our buffer fits any field of a record. */
	if (kvp_json_string(s, HV_MIN(len, (size_t)KVP_POOL_VALUE_SIZE), buf,
			    sizeof(buf)) < 0)
		abort();
	fprintf(f, ",\"%s\":%s", name, buf);
}

static void print_record(FILE *f, unsigned int pool, const char *key,
			 size_t klen, const char *value, size_t vlen)
{
	static char kbuf[KVP_TEXT_SIZE(KVP_POOL_KEY_SIZE)];
	static char vbuf[KVP_TEXT_SIZE(KVP_POOL_VALUE_SIZE)];

	if (arg_json) {
		fprintf(f, "{\"pool\":%u,\"pool_name\":\"%s\"", pool,
			pool_names[pool]);
		print_json_field(f, "key", key, klen);
		print_json_field(f, "value", value, vlen);
		fputc('}', f);
		return;
	}
	if (kvp_text_escape(key, HV_MIN(klen, (size_t)KVP_POOL_KEY_SIZE),
			    KVP_TEXT_KEY, kbuf, sizeof(kbuf)) < 0 ||
	    kvp_text_escape(value, HV_MIN(vlen, (size_t)KVP_POOL_VALUE_SIZE), 0,
			    vbuf, sizeof(vbuf)) < 0)
		abort();
	fprintf(f, "%s=%s\n", kbuf, vbuf);
}

static int cmd_get(unsigned int pool, const char *key)
{
	_cleanup_kvp_pool_ struct kvp_pool_store *store = NULL;
	struct kvp_auto *a = NULL;
	char value[KVP_POOL_VALUE_SIZE + 1];
	int r;

	r = check_lookup_key(key);
	if (r != EXIT_OK)
		return r;
	if (pool == KVP_POOL_AUTO) {
		r = new_auto(&a);
		if (r != EXIT_OK)
			return r;
		if (strcmp(key, kvp_auto_key_name(KVP_AUTO_FQDN)) == 0)
			auto_settle(a);
		r = kvp_auto_get(a, key, value, sizeof(value));
		kvp_auto_free(a);
	} else {
		r = open_store(false, &store);
		if (r < 0)
			return open_store_error(r, false);
		r = kvp_pool_get(store, pool, key, value, sizeof(value));
	}
	if (r == -ENOENT) {
		errorf("key \"%s\" not found in %s", QUOTED(key),
		       pool_label(pool));
		return EXIT_NOT_FOUND;
	}
	if (r < 0)
		return store_error(r, pool, "read");
	if (arg_json) {
		print_record(stdout, pool, key, strlen(key), value, (size_t)r);
		putchar('\n');
	} else {
		/* Raw, so that $(hv-kvp get KEY) is the value. */
		fwrite(value, 1, (size_t)r, stdout);
		putchar('\n');
	}
	return EXIT_OK;
}

static int cmd_set(unsigned int pool, const char *key, const char *value)
{
	_cleanup_kvp_pool_ struct kvp_pool_store *store = NULL;
	int r;

	if (pool == KVP_POOL_AUTO)
		return refuse_auto();
	r = check_write(key, value);
	if (r != EXIT_OK)
		return r;
	r = open_store(true, &store);
	if (r < 0)
		return open_store_error(r, true);
	r = kvp_pool_set(store, pool, key, value);
	if (r < 0)
		return store_error(r, pool, "write");
	return EXIT_OK;
}

static int cmd_delete(unsigned int pool, const char *key)
{
	_cleanup_kvp_pool_ struct kvp_pool_store *store = NULL;
	int r;

	if (pool == KVP_POOL_AUTO)
		return refuse_auto();
	r = check_lookup_key(key);
	if (r != EXIT_OK)
		return r;
	r = open_store(true, &store);
	if (r < 0)
		return open_store_error(r, true);
	r = kvp_pool_delete(store, pool, key);
	if (r == -ENOENT) {
		errorf("key \"%s\" not found in %s", QUOTED(key),
		       pool_label(pool));
		return EXIT_NOT_FOUND;
	}
	if (r < 0)
		return store_error(r, pool, "write");
	return EXIT_OK;
}

/* Where list writes, and whether a record was written yet. */
struct lister {
	FILE *f;
	bool first;
};

static void list_separator(struct lister *l)
{
	if (arg_json)
		fputs(l->first ? "\n" : ",\n", l->f);
	l->first = false;
}

static int list_auto(struct lister *l, struct kvp_auto *a)
{
	char key[KVP_AUTO_KEY_SIZE], value[KVP_POOL_VALUE_SIZE + 1];
	uint32_t i;
	int r;

	for (i = 0;; i++) {
		r = kvp_auto_enumerate(a, i, key, sizeof(key), value,
				       sizeof(value));
		if (r == -ENOENT)
			return EXIT_OK;
		if (r < 0)
			return store_error(r, KVP_POOL_AUTO, "read");
		list_separator(l);
		print_record(l->f, KVP_POOL_AUTO, key, strlen(key), value,
			     (size_t)r);
	}
}

static int list_pool(struct lister *l, struct kvp_pool_store *store,
		     unsigned int pool)
{
	struct kvp_pool_record rec;
	uint32_t i;
	int r;

	/* Indexes in order: the store keeps our place if the file changes
	 * under us, as it does for the host. */
	for (i = 0;; i++) {
		r = kvp_pool_enumerate(store, pool, i, &rec);
		if (r == -ENOENT)
			return EXIT_OK;
		if (r < 0)
			return store_error(r, pool, "read");
		list_separator(l);
		print_record(l->f, pool, rec.key, rec.key_len, rec.value,
			     rec.value_len);
	}
}

/*
 * The listing is built in memory and printed only when complete, so a
 * failure half-way never leaves truncated JSON on stdout.
 */
static int cmd_list(int only)
{
	_cleanup_kvp_pool_ struct kvp_pool_store *store = NULL;
	unsigned int pool, lo = 0, hi = KVP_POOL_NUM - 1;
	struct lister l = { .first = true };
	_cleanup_free_ char *text = NULL;
	struct kvp_auto *a = NULL;
	size_t len = 0;
	int r;

	if (only >= 0)
		lo = hi = (unsigned int)only;
	if (only != KVP_POOL_AUTO) {
		r = open_store(false, &store);
		if (r < 0)
			return open_store_error(r, false);
	}
	if (lo <= KVP_POOL_AUTO && hi >= KVP_POOL_AUTO) {
		r = new_auto(&a);
		if (r != EXIT_OK)
			return r;
		auto_settle(a);
	}
	l.f = open_memstream(&text, &len);
	if (!l.f) {
		errorf("out of memory");
		kvp_auto_free(a);
		return EXIT_FAILED;
	}
	if (arg_json)
		fputc('[', l.f);
	r = EXIT_OK;
	for (pool = lo; pool <= hi && r == EXIT_OK; pool++) {
		if (only < 0 && !arg_json)
			fprintf(l.f, "%s# %s\n", pool == lo ? "" : "\n",
				pool_label(pool));
		if (pool == KVP_POOL_AUTO)
			r = list_auto(&l, a);
		else
			r = list_pool(&l, store, pool);
	}
	kvp_auto_free(a);
	if (arg_json)
		fputs(l.first ? "]\n" : "\n]\n", l.f);
	if (fclose(l.f) != 0 && r == EXIT_OK) {
		errorf("out of memory");
		r = EXIT_FAILED;
	}
	if (r == EXIT_OK)
		fwrite(text, 1, len, stdout);
	return r;
}

#define STATE_EVENTS                                                        \
	(IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define ANCESTOR_EVENTS                                                        \
	(IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | \
	 IN_ONLYDIR)

/*
 * Watch the state directory, or while it is missing the nearest existing
 * ancestor. Returns 1 (the directory), 0 (an ancestor) or -errno.
 */
static int watch_state_dir(int ifd)
{
	char dir[PATH_MAX], *slash;
	const char *parent;
	struct stat st;

	for (;;) {
		if (inotify_add_watch(ifd, state_dir, STATE_EVENTS) >= 0)
			return 1;
		if (errno != ENOENT)
			return -errno;
		/* Cut components off until a directory can be watched. */
		hv_strscpy(dir, state_dir, sizeof(dir));
		for (;;) {
			slash = strrchr(dir, '/');
			if (slash)
				*slash = '\0';
			parent = !slash ? "." : slash == dir ? "/" : dir;
			if (inotify_add_watch(ifd, parent, ANCESTOR_EVENTS) >=
			    0)
				break;
			if (errno != ENOENT || !slash)
				return -errno;
		}
		if (slash)
			*slash = '/';
		/* dir is now the first missing component. If it appeared
		 * before the watch was set, its IN_CREATE is lost: look
		 * again. */
		if (stat(dir, &st) < 0 && errno == ENOENT)
			return 0;
	}
}

/* 1: the key is there; 0: not yet; -errno. */
static int wait_check(struct kvp_pool_store **store, unsigned int pool,
		      const char *key, int64_t deadline)
{
	char value[KVP_POOL_VALUE_SIZE + 1];
	int64_t left;
	int r;

	if (!*store) {
		r = open_store(false, store);
		/* The daemon creates the files one after another. */
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
	}
	if (deadline >= 0) {
		left = HV_MAX(deadline - now_ms(), (int64_t)1);
		kvp_pool_set_lock_timeout(
			*store, (unsigned int)HV_MIN(
					left, (int64_t)arg_lock_timeout_ms));
	}
	r = kvp_pool_get(*store, pool, key, value, sizeof(value));
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}

/*
 * Read every queued event. Returns true when the watches must be set
 * again: the directory went away or moved, or we were only watching an
 * ancestor.
 */
static bool wait_drain(int ifd, bool on_state)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	bool rearm = !on_state;
	ssize_t n;
	size_t off;

	while ((n = read(ifd, buf, sizeof(buf))) > 0) {
		for (off = 0; off + sizeof(*ev) <= (size_t)n;
		     off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF |
					IN_MOVE_SELF | IN_Q_OVERFLOW))
				rearm = true;
		}
	}
	return rearm;
}

static int cmd_wait(unsigned int pool, const char *key)
{
	_cleanup_kvp_pool_ struct kvp_pool_store *store = NULL;
	_cleanup_close_ int ifd = -1;
	int64_t deadline = -1, left;
	bool armed = false, on_state = false, said = false;
	struct pollfd pfd;
	uint32_t i;
	int r;

	r = check_lookup_key(key);
	if (r != EXIT_OK)
		return r;
	if (pool == KVP_POOL_AUTO) {
		for (i = 0; kvp_auto_key_name(i); i++)
			if (strcmp(key, kvp_auto_key_name(i)) == 0)
				return EXIT_OK;
		errorf("%s never has key \"%s\": its keys are fixed",
		       pool_label(pool), QUOTED(key));
		return EXIT_NOT_FOUND;
	}
	if (arg_timeout_ms >= 0)
		deadline = now_ms() + arg_timeout_ms;

	for (;;) {
		if (!armed) {
			/* A fresh instance drops the old watches. */
			if (ifd >= 0)
				close(ifd);
			ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
			if (ifd < 0) {
				errorf("cannot watch %s: %s", state_dir,
				       strerror(errno));
				return EXIT_FAILED;
			}
			r = watch_state_dir(ifd);
			if (r < 0) {
				errorf("cannot watch %s: %s", state_dir,
				       strerror(-r));
				return exit_status_of(r);
			}
			on_state = r == 1;
			armed = true;
			/* The files may have been replaced: start over. */
			store = kvp_pool_close(store);
		}
		r = wait_check(&store, pool, key, deadline);
		if (r > 0)
			return EXIT_OK;
		if (r < 0 && r != -ETIMEDOUT)
			return store_error(r, pool, "read");
		left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left <= 0) {
			errorf("timed out waiting for key \"%s\" in %s%s",
			       QUOTED(key), pool_label(pool),
			       r == -ETIMEDOUT ? " (the pool stayed locked)" :
						 "");
			return EXIT_TIMEOUT;
		}
		/* Still locked by someone else: try the lock again. */
		if (r == -ETIMEDOUT)
			continue;
		if (!said) {
			log_debug("waiting for key \"%s\" in %s (watching %s)",
				  QUOTED(key), pool_label(pool),
				  on_state ? state_dir : "an ancestor");
			said = true;
		}
		pfd = (struct pollfd){ ifd, POLLIN, 0 };
		r = poll(&pfd, 1, left < 0 ? -1 : (int)HV_MIN(left, INT_MAX));
		if (r < 0 && errno != EINTR) {
			errorf("poll: %s", strerror(errno));
			return EXIT_FAILED;
		}
		if (r > 0 && wait_drain(ifd, on_state))
			armed = false;
	}
}

int main(int argc, char **argv)
{
	enum command cmd;
	const char *name;
	unsigned int pool;
	int nargs, r;

	hv_log_open("hv-kvp", HV_LOG_STDERR);
	if (parse_args(argc, argv) < 0)
		goto usage;
	if (optind >= argc) {
		errorf("missing command (get, set, delete, list or wait)");
		goto usage;
	}
	name = argv[optind++];
	for (cmd = 0; cmd < ARRAY_SIZE(commands); cmd++)
		if (strcmp(name, commands[cmd].name) == 0)
			break;
	if (cmd == ARRAY_SIZE(commands)) {
		errorf("unknown command '%s' (get, set, delete, list or wait)",
		       name);
		goto usage;
	}
	nargs = argc - optind;
	if (nargs != commands[cmd].nargs) {
		errorf("%s takes %d argument%s, not %d", name,
		       commands[cmd].nargs, commands[cmd].nargs == 1 ? "" : "s",
		       nargs);
		goto usage;
	}
	if (arg_json && cmd != CMD_GET && cmd != CMD_LIST) {
		errorf("--json applies to get and list only");
		goto usage;
	}
	if (arg_timeout_ms >= 0 && cmd != CMD_WAIT) {
		errorf("--timeout applies to wait only");
		goto usage;
	}
	if (arg_force && cmd != CMD_SET) {
		errorf("--force applies to set only");
		goto usage;
	}
	if (setup_paths() < 0)
		goto usage;
	pool = arg_pool >= 0 ? (unsigned int)arg_pool :
			       commands[cmd].default_pool;

	switch (cmd) {
	case CMD_GET:
		r = cmd_get(pool, argv[optind]);
		break;
	case CMD_SET:
		r = cmd_set(pool, argv[optind], argv[optind + 1]);
		break;
	case CMD_DELETE:
		r = cmd_delete(pool, argv[optind]);
		break;
	case CMD_LIST:
		r = cmd_list(arg_pool);
		break;
	case CMD_WAIT:
	default:
		r = cmd_wait(pool, argv[optind]);
		break;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		errorf("cannot write the output: %s", strerror(errno));
		if (r == EXIT_OK)
			r = EXIT_FAILED;
	}
	return r;

usage:
	fprintf(stderr, "Try 'hv-kvp --help'.\n");
	return EXIT_USAGE;
}
