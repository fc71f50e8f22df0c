/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <time.h>

#include "hvis/log.h"
#include "hvis/paths.h"
#include "hvis/spawn.h"
#include "hvis/util.h"
#include "ipconfig.h"

/* The kernel gives the daemon 30 s per request (§3.2); leave a margin. */
#define APPLY_TIMEOUT_USEC (25ULL * 1000000)

static const char *const backend_names[_KVP_IP_BACKEND_MAX] = {
	[KVP_IP_BACKEND_AUTO] = "auto",
	[KVP_IP_BACKEND_NM] = "networkmanager",
	[KVP_IP_BACKEND_NETWORKD] = "networkd",
	[KVP_IP_BACKEND_NETPLAN] = "netplan",
	[KVP_IP_BACKEND_IFUPDOWN] = "ifupdown",
	[KVP_IP_BACKEND_IFCFG] = "ifcfg",
	[KVP_IP_BACKEND_SCRIPT] = "script",
	[KVP_IP_BACKEND_OFF] = "off",
};

const char *kvp_ip_backend_to_string(enum kvp_ip_backend b)
{
	if ((unsigned int)b >= _KVP_IP_BACKEND_MAX)
		return "invalid";
	return backend_names[b];
}

int kvp_ip_backend_from_string(const char *s)
{
	for (int i = 0; i < _KVP_IP_BACKEND_MAX; i++)
		if (s && strcmp(s, backend_names[i]) == 0)
			return i;
	return -EINVAL;
}

/* ---- list parsing ------------------------------------------------------ */

/* Longer than any address or mask text: such an entry is garbage. */
#define ENTRY_MAX 64

struct list_iter {
	const char *p, *end;
	bool done;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void list_init(struct list_iter *it, const char *s, size_t size)
{
	it->p = s;
	it->end = s + strnlen(s, size);
	it->done = false;
}

/*
 * The next ';'-separated entry, blanks trimmed, into tok. Returns 1 with
 * an entry, 0 at the end (an empty last entry is a trailing ';'),
 * -EINVAL for an empty entry before the end or -E2BIG for one too long;
 * the raw entry is in *ret_raw / *ret_raw_len for an error message.
 */
static int list_next(struct list_iter *it, char tok[ENTRY_MAX],
		     const char **ret_raw, size_t *ret_raw_len)
{
	const char *s, *e, *semi;
	bool last;

	if (it->done)
		return 0;
	semi = memchr(it->p, ';', (size_t)(it->end - it->p));
	last = !semi;
	e = last ? it->end : semi;
	s = it->p;
	it->p = last ? it->end : semi + 1;
	if (last)
		it->done = true;
	*ret_raw = s;
	*ret_raw_len = (size_t)(e - s);
	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	if (s == e) {
		/* Only the entry after the last ';' may be empty. */
		return last ? 0 : -EINVAL;
	}
	if ((size_t)(e - s) >= ENTRY_MAX)
		return -E2BIG;
	memcpy(tok, s, (size_t)(e - s));
	tok[e - s] = '\0';
	return 1;
}

static int parse_ip(const char *tok, struct kvp_ip_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, tok, a->bytes) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, tok, a->bytes) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

enum ip_role { ROLE_ADDR, ROLE_GATEWAY, ROLE_DNS };

/* Why a (well-formed) address cannot play role, or NULL if it can. */
static const char *unusable(const struct kvp_ip_addr *a, enum ip_role role)
{
	static const uint8_t zero[16];

	if (a->family == AF_INET) {
		const uint8_t *b = a->bytes;

		if (memcmp(b, zero, 4) == 0)
			return "unspecified address";
		if (b[0] >= 224 && b[0] <= 239)
			return "multicast address";
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return "broadcast address";
		if (b[0] == 127 && role != ROLE_DNS)
			return "loopback address";
		return NULL;
	}
	if (memcmp(a->bytes, zero, 16) == 0)
		return "unspecified address";
	if (a->bytes[0] == 0xff)
		return "multicast address";
	if (memcmp(a->bytes, zero, 15) == 0 && a->bytes[15] == 1 &&
	    role != ROLE_DNS)
		return "loopback address";
	return NULL;
}

/*
 * A mask entry for an address of family: IPv4 a contiguous dotted mask,
 * IPv6 a prefix length ("64" or "/64"). Prefix 0 would make the address
 * a route to everything, so it is refused.
 */
static const char *parse_mask(const char *tok, int family, uint8_t *ret)
{
	if (family == AF_INET) {
		uint8_t b[4];
		uint32_t m;
		unsigned int n = 0;

		if (inet_pton(AF_INET, tok, b) != 1)
			return "IPv4 subnet mask is not a dotted mask";
		m = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
		while (n < 32 && (m & (0x80000000u >> n)))
			n++;
		if (n < 32 && (m << n) != 0)
			return "IPv4 subnet mask is not contiguous";
		if (n == 0)
			return "prefix length 0";
		*ret = (uint8_t)n;
		return NULL;
	} else {
		unsigned int v = 0;
		size_t i = 0, len;

		if (tok[0] == '/')
			tok++;
		len = strlen(tok);
		if (len == 0 || len > 3)
			return "IPv6 prefix length is not a number 1-128";
		for (i = 0; i < len; i++) {
			if (tok[i] < '0' || tok[i] > '9')
				return "IPv6 prefix length is not a number 1-128";
			v = v * 10 + (unsigned int)(tok[i] - '0');
		}
		if (v == 0 || v > 128)
			return "IPv6 prefix length is not a number 1-128";
		*ret = (uint8_t)v;
		return NULL;
	}
}

static bool same_ip(const struct kvp_ip_addr *a, const struct kvp_ip_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

static size_t count_family(const struct kvp_ip_addr *a, size_t n, int family)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += a[i].family == family;
	return c;
}

static bool contains(const struct kvp_ip_addr *list, size_t n,
		     const struct kvp_ip_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (same_ip(&list[i], a))
			return true;
	return false;
}

static int fail(char *err, size_t err_size, const char *what, size_t index,
		const char *raw, size_t raw_len, const char *why)
{
	char esc[96];

	hv_log_escape(raw, raw_len, esc, sizeof(esc));
	if (err && err_size)
		(void)hv_snprintf(err, err_size, "%s entry %zu \"%s\": %s",
				  what, index + 1, esc, why);
	return -EINVAL;
}

/* Parse the ';'-list field of size bytes into out[max], role rules. */
static int parse_list(const char *field, size_t size, const char *what,
		      enum ip_role role, struct kvp_ip_addr *out, size_t max,
		      size_t *ret_n, char *err, size_t err_size)
{
	struct list_iter it;
	char tok[ENTRY_MAX];
	const char *raw;
	size_t raw_len, n = 0, index = 0;
	int r;

	list_init(&it, field, size);
	for (;; index++) {
		struct kvp_ip_addr a;
		const char *why;

		r = list_next(&it, tok, &raw, &raw_len);
		if (r == 0)
			break;
		if (r < 0)
			return fail(err, err_size, what, index, raw, raw_len,
				    r == -E2BIG ? "too long" : "empty entry");
		if (parse_ip(tok, &a) < 0)
			return fail(err, err_size, what, index, raw, raw_len,
				    "not an IPv4 or IPv6 address");
		why = unusable(&a, role);
		if (why)
			return fail(err, err_size, what, index, raw, raw_len,
				    why);
		if (contains(out, n, &a)) {
			if (role == ROLE_ADDR)
				return fail(err, err_size, what, index, raw,
					    raw_len, "listed twice");
			continue; /* a repeated server changes nothing */
		}
		if (n == max)
			return fail(err, err_size, what, index, raw, raw_len,
				    "too many entries");
		out[n++] = a;
	}
	*ret_n = n;
	return 0;
}

static int parse_masks(const struct kvp_ip_fields *f, struct kvp_ipconfig *cfg,
		       char *err, size_t err_size)
{
	struct list_iter it;
	char tok[ENTRY_MAX];
	const char *raw;
	size_t raw_len, n = 0;
	int r;

	list_init(&it, f->sub_net, sizeof(f->sub_net));
	for (;; n++) {
		const char *why;

		r = list_next(&it, tok, &raw, &raw_len);
		if (r == 0)
			break;
		if (r < 0)
			return fail(err, err_size, "subnet", n, raw, raw_len,
				    r == -E2BIG ? "too long" : "empty entry");
		if (n >= cfg->n_addrs)
			return fail(err, err_size, "subnet", n, raw, raw_len,
				    "more subnet masks than addresses");
		why = parse_mask(tok, cfg->addrs[n].family,
				 &cfg->addrs[n].prefix);
		if (why)
			return fail(err, err_size, "subnet", n, raw, raw_len,
				    why);
	}
	if (n < cfg->n_addrs) {
		if (err && err_size)
			(void)hv_snprintf(err, err_size,
					  "%zu addresses but %zu subnet masks",
					  cfg->n_addrs, n);
		return -EINVAL;
	}
	return 0;
}

int kvp_ipconfig_parse(const struct kvp_ip_fields *f, struct kvp_ipconfig *cfg,
		       char *err, size_t err_size)
{
	int r;

	if (err && err_size)
		err[0] = '\0';
	cfg->dhcp4 = f->dhcp_enabled;
	cfg->n_addrs = cfg->n_gateways = cfg->n_dns = 0;
	r = parse_list(f->ip_addr, sizeof(f->ip_addr), "address", ROLE_ADDR,
		       cfg->addrs, KVP_IPCONFIG_MAX_ADDRS, &cfg->n_addrs, err,
		       err_size);
	if (r < 0)
		return r;
	/* §3.6: addresses and masks are walked in lockstep. */
	r = parse_masks(f, cfg, err, err_size);
	if (r < 0)
		return r;
	r = parse_list(f->gate_way, sizeof(f->gate_way), "gateway",
		       ROLE_GATEWAY, cfg->gateways, KVP_IPCONFIG_MAX_GATEWAYS,
		       &cfg->n_gateways, err, err_size);
	if (r < 0)
		return r;
	r = parse_list(f->dns_addr, sizeof(f->dns_addr), "DNS server", ROLE_DNS,
		       cfg->dns, KVP_IPCONFIG_MAX_DNS, &cfg->n_dns, err,
		       err_size);
	if (r < 0)
		return r;
	/*
	 * IPv6 always has at least router advertisements; IPv4 without an
	 * address or DHCP is off, and its servers would be unreachable
	 * (NetworkManager refuses such a profile).
	 */
	if (!cfg->dhcp4 && !count_family(cfg->addrs, cfg->n_addrs, AF_INET) &&
	    (count_family(cfg->gateways, cfg->n_gateways, AF_INET) ||
	     count_family(cfg->dns, cfg->n_dns, AF_INET))) {
		if (err && err_size)
			(void)hv_snprintf(err, err_size,
					  "IPv4 gateway or DNS server without "
					  "an IPv4 address or DHCP");
		return -EINVAL;
	}
	return 0;
}

/* ---- adapter lookup ---------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int kvp_ipconfig_guid(const char *s, char out[static 37])
{
	size_t len = strnlen(s, 64), i;

	if (len == 38 && s[0] == '{' && s[37] == '}') {
		s++;
		len = 36;
	}
	if (len != 36)
		return -EINVAL;
	for (i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		int v;

		if (dash) {
			if (s[i] != '-')
				return -EINVAL;
			out[i] = '-';
			continue;
		}
		v = hexval(s[i]);
		if (v < 0)
			return -EINVAL;
		out[i] = "0123456789abcdef"[v];
	}
	out[36] = '\0';
	return 0;
}

/*
 * Names go into file names and config files unquoted: allow what udev
 * and admins use and nothing a parser could read as syntax.
 */
static bool ifname_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len >= IFNAMSIZ || n[0] == '.' || n[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = n[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return false;
	}
	return true;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int read_netfile(const char *ifname, const char *file, char *buf,
			size_t size)
{
	char rel[128], path[4096];
	int r;

	r = hv_snprintf(rel, sizeof(rel), "class/net/%s/%s", ifname, file);
	if (r < 0)
		return r;
	r = hv_path(HV_PATH_SYS, rel, path, sizeof(path));
	if (r < 0)
		return r;
	return hv_read_line_file(path, buf, size);
}

int kvp_ipconfig_find_adapter(const char *guid, struct kvp_ipconfig *cfg)
{
	char dir[4096], best[256] = "";
	struct dirent *de;
	DIR *d;
	int r;

	r = hv_path(HV_PATH_SYS, "class/net", dir, sizeof(dir));
	if (r < 0)
		return r;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char id[64], canon[37];

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(best))
			continue;
		if (read_netfile(de->d_name, "device/device_id", id,
				 sizeof(id)) < 0)
			continue; /* not a VMBus device (lo, a VF, ...) */
		if (kvp_ipconfig_guid(id, canon) < 0 ||
		    strcmp(canon, guid) != 0)
			continue;
		/* Two netdevs on one VMBus device: be deterministic. */
		if (best[0] == '\0' || strcmp(de->d_name, best) < 0)
			hv_strscpy(best, de->d_name, sizeof(best));
	}
	closedir(d);
	if (best[0] == '\0')
		return -ENOENT;
	if (!ifname_ok(best))
		return -EINVAL;
	{
		char mac[64];

		r = read_netfile(best, "address", mac, sizeof(mac));
		if (r < 0)
			return r;
		if (parse_mac(mac, cfg->mac) < 0)
			return -EINVAL;
	}
	hv_strscpy(cfg->ifname, best, sizeof(cfg->ifname));
	return 0;
}

/* ---- detection --------------------------------------------------------- */

static bool path_exists(enum hv_path_base base, const char *rel, bool dir)
{
	char path[4096];
	struct stat st;

	if (hv_path(base, rel, path, sizeof(path)) < 0)
		return false;
	if (stat(path, &st) < 0)
		return false;
	return dir ? S_ISDIR(st.st_mode) : true;
}

static bool netplan_present(void)
{
	char pattern[4096];
	glob_t g;
	bool found;

	if (hv_path(HV_PATH_CONF, "netplan/*.yaml", pattern, sizeof(pattern)) <
	    0)
		return false;
	found = glob(pattern, GLOB_NOSORT, NULL, &g) == 0 && g.gl_pathc > 0;
	globfree(&g);
	return found;
}

static bool nm_running(void)
{
	return path_exists(HV_PATH_RUN, "NetworkManager", true);
}

int kvp_ipconfig_detect(void)
{
	/* netplan owns the config wherever it is installed and used. */
	if (netplan_present())
		return KVP_IP_BACKEND_NETPLAN;
	if (nm_running())
		return KVP_IP_BACKEND_NM;
	if (path_exists(HV_PATH_RUN, "systemd/netif/state", false))
		return KVP_IP_BACKEND_NETWORKD;
	if (path_exists(HV_PATH_CONF, "network/interfaces", false))
		return KVP_IP_BACKEND_IFUPDOWN;
	if (path_exists(HV_PATH_CONF, "sysconfig/network-scripts", true))
		return KVP_IP_BACKEND_IFCFG;
	return -ENOENT;
}

/* ---- files ------------------------------------------------------------- */

void kvp_ipconfig_uuid(const char *ifname, char out[static 37])
{
	/* Two FNV-1a 64 passes with different seeds: stable, not secret. */
	uint64_t h[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };
	static const char ns[] = "hvis-kvp-ipconfig:";
	uint8_t b[16];

	for (int k = 0; k < 2; k++) {
		for (const char *p = ns; *p; p++)
			h[k] = (h[k] ^ (uint8_t)*p) * 0x100000001b3ULL;
		for (const char *p = ifname; *p; p++)
			h[k] = (h[k] ^ (uint8_t)*p) * 0x100000001b3ULL;
	}
	for (int i = 0; i < 8; i++) {
		b[i] = (uint8_t)(h[0] >> (56 - 8 * i));
		b[8 + i] = (uint8_t)(h[1] >> (56 - 8 * i));
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x80); /* version 8 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC variant */
	for (int i = 0, o = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = "0123456789abcdef"[b[i] >> 4];
		out[o++] = "0123456789abcdef"[b[i] & 0xf];
	}
	out[36] = '\0';
}

int kvp_ipconfig_write_file(const char *path, const char *data, mode_t mode)
{
	char dir[4096], tmp[4096];
	_cleanup_close_ int fd = -1, dfd = -1;
	const char *slash = strrchr(path, '/');
	size_t len = strlen(data);
	int r;

	if (!slash || slash == path || (size_t)(slash - path) >= sizeof(dir))
		return -EINVAL;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	r = hv_mkdir_parents(dir, 0755);
	if (r < 0)
		return r;
	r = hv_snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, slash + 1);
	if (r < 0)
		return r;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0 || hv_write_full(fd, data, len) < 0 ||
	    fsync(fd) < 0 || rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	/* The rename itself must survive a crash, not only the data. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	return 0;
}

/* ---- apply ------------------------------------------------------------- */

struct apply {
	const struct kvp_ipconfig_ctx *ctx;
	uint64_t deadline; /* CLOCK_MONOTONIC usec */
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int default_run(void *userdata, char *const argv[],
		       uint64_t timeout_usec)
{
	/* The manager's complaints belong in our log, its chatter does not. */
	struct hv_spawn_opts opts = {
		.new_pgrp = true,
		.stdin_fd = -1,
		.stdout_fd = -1,
		.stderr_fd = STDERR_FILENO,
	};

	return hv_spawn_run(argv[0], argv, &opts, timeout_usec);
}

static void argv_text(char *const argv[], char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; argv[i] && o + 1 < size; i++) {
		int r = hv_snprintf(buf + o, size - o, "%s%s", i ? " " : "",
				    argv[i]);

		if (r < 0)
			break;
		o += (size_t)r;
	}
}

/*
 * Run one command of an apply step. must_succeed: a failure is the
 * request's failure (HV_E_FAIL); otherwise it is only logged at debug
 * (ifdown of an interface that was not up).
 */
static int run_cmd(struct apply *a, bool must_succeed, char *const argv[])
{
	kvp_ipconfig_run_fn run = a->ctx->run ? a->ctx->run : default_run;
	uint64_t now = now_usec();
	char text[512];
	int r;

	argv_text(argv, text, sizeof(text));
	if (a->ctx->no_apply) {
		log_debug("IP injection: not running \"%s\" (--ip-apply=none)",
			  text);
		return 0;
	}
	if (now >= a->deadline)
		r = -ETIME;
	else
		r = run(a->ctx->userdata, argv, a->deadline - now);
	if (r == 0) {
		log_debug("IP injection: ran \"%s\"", text);
		return 0;
	}
	if (!must_succeed) {
		log_debug("IP injection: \"%s\" failed (%d), ignored", text, r);
		return 0;
	}
	if (r > 0) {
		log_error("IP injection: \"%s\" exited with status %d", text,
			  r);
		return -EIO;
	}
	if (r == -ETIME)
		return log_error_errno(r,
				       "IP injection: \"%s\" did not "
				       "finish in time",
				       text);
	return log_error_errno(r, "IP injection: cannot run \"%s\"", text);
}

static int write_rendered(enum kvp_ip_format fmt,
			  const struct kvp_ipconfig *cfg,
			  enum hv_path_base base, const char *rel, mode_t mode,
			  char *path, size_t path_size)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = hv_path(base, rel, path, path_size);
	if (r < 0)
		return log_error_errno(r, "IP injection: path for %s", rel);
	r = kvp_ipconfig_render(fmt, cfg, &text);
	if (r < 0)
		return log_error_errno(r, "IP injection: cannot render %s",
				       path);
	r = kvp_ipconfig_write_file(path, text, mode);
	if (r < 0)
		return log_error_errno(r, "IP injection: cannot write %s",
				       path);
	log_info("IP injection: wrote %s", path);
	return 0;
}

/*
 * ifupdown reads interfaces.d only through a "source" line, and a stanza
 * for the same interface in the main file would be configured too.
 */
static int ifupdown_check(const char *ifname)
{
	char path[4096], line[1024];
	_cleanup_fclose_ FILE *f = NULL;
	bool sourced = false;
	int r;

	r = hv_path(HV_PATH_CONF, "network/interfaces", path, sizeof(path));
	if (r < 0)
		return r;
	f = fopen(path, "re");
	if (!f)
		return log_error_errno(errno, "IP injection: %s", path);
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *w1 = strtok_r(line, " \t\r\n", &save);
		char *w2 = w1 ? strtok_r(NULL, " \t\r\n", &save) : NULL;

		if (!w1 || !w2)
			continue;
		if ((strcmp(w1, "source") == 0 ||
		     strcmp(w1, "source-directory") == 0) &&
		    strstr(w2, "interfaces.d"))
			sourced = true;
		if (strcmp(w1, "iface") == 0 && strcmp(w2, ifname) == 0)
			return log_error_errno(EEXIST,
					       "IP injection: %s is configured "
					       "in %s; move its stanza out so "
					       "interfaces.d can configure it",
					       ifname, path);
	}
	if (!sourced)
		return log_error_errno(ENOENT,
				       "IP injection: %s does not source "
				       "interfaces.d",
				       path);
	return 0;
}

static int apply_nm(struct apply *a, const struct kvp_ipconfig *cfg,
		    enum kvp_ip_format fmt, const char *rel, mode_t mode)
{
	char path[4096], uuid[37];
	int r;

	r = write_rendered(fmt, cfg, HV_PATH_CONF, rel, mode, path,
			   sizeof(path));
	if (r < 0)
		return r;
	kvp_ipconfig_uuid(cfg->ifname, uuid);
	r = run_cmd(a, true,
		    (char *const[]){ "nmcli", "connection", "load", path,
				     NULL });
	if (r < 0)
		return r;
	return run_cmd(a, true,
		       (char *const[]){ "nmcli", "--wait", "20", "connection",
					"up", "uuid", uuid, NULL });
}

static int apply_backend(struct apply *a, enum kvp_ip_backend b,
			 const struct kvp_ipconfig *cfg)
{
	char rel[256], path[4096], path2[4096];
	char *ifn = (char *)cfg->ifname;
	int r;

	switch (b) {
	case KVP_IP_BACKEND_NM:
		(void)hv_snprintf(rel, sizeof(rel),
				  "NetworkManager/system-connections/"
				  "hyperv-%s.nmconnection",
				  cfg->ifname);
		return apply_nm(a, cfg, KVP_IP_FMT_NM, rel, 0600);
	case KVP_IP_BACKEND_IFCFG:
		(void)hv_snprintf(rel, sizeof(rel),
				  "sysconfig/network-scripts/ifcfg-%s",
				  cfg->ifname);
		if (nm_running())
			return apply_nm(a, cfg, KVP_IP_FMT_IFCFG, rel, 0644);
		(void)run_cmd(a, false, (char *const[]){ "ifdown", ifn, NULL });
		r = write_rendered(KVP_IP_FMT_IFCFG, cfg, HV_PATH_CONF, rel,
				   0644, path, sizeof(path));
		if (r < 0)
			return r;
		return run_cmd(a, true, (char *const[]){ "ifup", ifn, NULL });
	case KVP_IP_BACKEND_NETWORKD:
		(void)hv_snprintf(rel, sizeof(rel),
				  "systemd/network/05-hyperv-%s.network",
				  cfg->ifname);
		r = write_rendered(KVP_IP_FMT_NETWORKD, cfg, HV_PATH_CONF, rel,
				   0644, path, sizeof(path));
		if (r < 0)
			return r;
		r = run_cmd(a, true,
			    (char *const[]){ "networkctl", "reload", NULL });
		if (r < 0)
			return r;
		return run_cmd(a, true,
			       (char *const[]){ "networkctl", "reconfigure",
						ifn, NULL });
	case KVP_IP_BACKEND_NETPLAN:
		(void)hv_snprintf(rel, sizeof(rel), "netplan/90-hyperv-%s.yaml",
				  cfg->ifname);
		r = write_rendered(KVP_IP_FMT_NETPLAN, cfg, HV_PATH_CONF, rel,
				   0600, path, sizeof(path));
		if (r < 0)
			return r;
		return run_cmd(a, true,
			       (char *const[]){ "netplan", "apply", NULL });
	case KVP_IP_BACKEND_IFUPDOWN:
		r = ifupdown_check(cfg->ifname);
		if (r < 0)
			return r;
		for (int fam = AF_INET; fam;
		     fam = fam == AF_INET ? AF_INET6 : 0) {
			size_t na = count_family(cfg->addrs, cfg->n_addrs, fam);
			size_t ng = count_family(cfg->gateways, cfg->n_gateways,
						 fam);

			if (ng > na)
				log_warning("IP injection: ifupdown takes one "
					    "gateway per static address; %zu "
					    "of the %zu IPv%d gateways are "
					    "left out",
					    ng - na, ng,
					    fam == AF_INET ? 4 : 6);
		}
		(void)hv_snprintf(rel, sizeof(rel),
				  "network/interfaces.d/hyperv-%s",
				  cfg->ifname);
		/* ifdown needs the old configuration to undo it. */
		(void)run_cmd(a, false,
			      (char *const[]){ "ifdown", "--force", ifn,
					       NULL });
		r = write_rendered(KVP_IP_FMT_IFUPDOWN, cfg, HV_PATH_CONF, rel,
				   0644, path, sizeof(path));
		if (r < 0)
			return r;
		return run_cmd(a, true, (char *const[]){ "ifup", ifn, NULL });
	case KVP_IP_BACKEND_SCRIPT: {
		/* §3.6: the upstream files in the state dir, then the script. */
		char *script = (char *)a->ctx->script;

		if (!script || script[0] != '/')
			return log_error_errno(
				EINVAL, "IP injection: the script backend "
					"needs --ip-script=/absolute/path");
		(void)hv_snprintf(rel, sizeof(rel), "ifcfg-%s", cfg->ifname);
		r = write_rendered(KVP_IP_FMT_UPSTREAM_IFCFG, cfg,
				   HV_PATH_STATE, rel, 0600, path,
				   sizeof(path));
		if (r < 0)
			return r;
		(void)hv_snprintf(rel, sizeof(rel), "%s.nmconnection",
				  cfg->ifname);
		r = write_rendered(KVP_IP_FMT_NM, cfg, HV_PATH_STATE, rel, 0600,
				   path2, sizeof(path2));
		if (r < 0)
			return r;
		return run_cmd(a, true,
			       (char *const[]){ script, path, path2, NULL });
	}
	default:
		return log_error_errno(EINVAL, "IP injection: backend %s",
				       kvp_ip_backend_to_string(b));
	}
}

uint32_t kvp_ipconfig_apply(const struct kvp_ipconfig_ctx *ctx,
			    const struct kvp_ip_fields *f)
{
	_cleanup_free_ struct kvp_ipconfig *cfg = NULL;
	char guid[37], err[256], esc[300];
	enum kvp_ip_backend b = ctx->backend;
	struct apply a = { .ctx = ctx };
	int r;

	if (b == KVP_IP_BACKEND_OFF) {
		log_warning(
			"IP injection: refused, disabled by --ip-backend=off");
		return HV_E_FAIL;
	}
	if (kvp_ipconfig_guid(f->adapter_id, guid) < 0) {
		hv_log_escape(f->adapter_id,
			      strnlen(f->adapter_id, sizeof(f->adapter_id)),
			      esc, sizeof(esc));
		log_warning("IP injection: adapter id \"%s\" is not a GUID",
			    esc);
		return HV_INVALIDARG;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		log_error_errno(ENOMEM, "IP injection");
		return HV_E_FAIL;
	}
	r = kvp_ipconfig_find_adapter(guid, cfg);
	if (r == -ENOENT) {
		log_warning("IP injection: no network adapter with VMBus id %s",
			    guid);
		return HV_GUID_NOTFOUND;
	}
	if (r < 0) {
		log_error_errno(r, "IP injection: adapter %s unusable", guid);
		return HV_E_FAIL;
	}
	r = kvp_ipconfig_parse(f, cfg, err, sizeof(err));
	if (r < 0) {
		log_warning("IP injection for %s refused: %s", cfg->ifname,
			    err);
		return HV_INVALIDARG;
	}
	if (b == KVP_IP_BACKEND_AUTO) {
		if (ctx->script) {
			b = KVP_IP_BACKEND_SCRIPT;
		} else {
			r = kvp_ipconfig_detect();
			if (r < 0) {
				log_error(
					"IP injection for %s: no known network "
					"manager found (use --ip-backend)",
					cfg->ifname);
				return HV_E_FAIL;
			}
			b = (enum kvp_ip_backend)r;
		}
	}
	log_info("IP injection for %s (%zu addresses, %zu gateways, %zu DNS "
		 "servers, DHCP %s) with %s",
		 cfg->ifname, cfg->n_addrs, cfg->n_gateways, cfg->n_dns,
		 cfg->dhcp4 ? "on" : "off", kvp_ip_backend_to_string(b));
	a.deadline = now_usec() + (ctx->timeout_usec ? ctx->timeout_usec :
						       APPLY_TIMEOUT_USEC);
	r = apply_backend(&a, b, cfg);
	return r < 0 ? HV_E_FAIL : HV_S_OK;
}
