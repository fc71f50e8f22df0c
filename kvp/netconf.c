/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <strings.h>

#include "hvis/util.h"
#include "netconf.h"

/* ---------------------------------------------------------------------- */
/* Text helpers.                                                           */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *trim(char *s)
{
	char *e;

	while (is_blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_blank(e[-1]))
		*--e = '\0';
	return s;
}

/* The next line of *p (NUL-terminated in place, trimmed), NULL at the end. */
static char *next_line(char **p)
{
	char *s = *p, *nl;

	if (!s || !*s)
		return NULL;
	nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = s + strlen(s);
	}
	return trim(s);
}

/* The next whitespace-separated word of *p, NULL at the end. */
static char *next_word(char **p)
{
	char *s = *p, *e;

	while (is_blank(*s) || *s == '\n')
		s++;
	if (!*s)
		return NULL;
	e = s;
	while (*e && !is_blank(*e) && *e != '\n')
		e++;
	if (*e)
		*e++ = '\0';
	*p = e;
	return s;
}

/* "key=value": split in place, both trimmed. False if no '='. */
static bool split_kv(char *line, char **key, char **value)
{
	char *eq = strchr(line, '=');

	if (!eq)
		return false;
	*eq = '\0';
	*key = trim(line);
	*value = trim(eq + 1);
	return true;
}

/* "[name]": the section name, or NULL if line is no section header. */
static char *section_of(char *line)
{
	size_t n = strlen(line);

	if (n < 2 || line[0] != '[' || line[n - 1] != ']')
		return NULL;
	line[n - 1] = '\0';
	return trim(line + 1);
}

static bool is_comment(const char *line)
{
	return line[0] == '#' || line[0] == ';';
}

/* Drop one pair of matching quotes around a value. */
static char *unquote(char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		return v + 1;
	}
	return v;
}

static bool is_true(const char *v)
{
	return !strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
	       !strcasecmp(v, "on") || !strcmp(v, "1");
}

/* ---------------------------------------------------------------------- */
/* DNS entries.                                                            */

int netconf_parse_dns_entry(const char *s, size_t len, char *out, size_t size)
{
	char a[INET6_ADDRSTRLEN + 1];
	const char *end = s + len, *p;
	union {
		struct in_addr in;
		struct in6_addr in6;
	} bin;
	size_t n;
	int family;

	/* "#server-name" (DNS over TLS) ends the address part. */
	p = memchr(s, '#', len);
	if (p)
		end = p;
	if (s < end && *s == '[') {
		/* "[addr%zone]:port" */
		p = memchr(s, ']', (size_t)(end - s));
		if (!p)
			return -EINVAL;
		s++;
		end = p;
	} else {
		/* An IPv4 address with ":port": one colon, after a dot. */
		const char *colon = memchr(s, ':', (size_t)(end - s));

		if (colon && memchr(s, '.', (size_t)(colon - s)) &&
		    !memchr(colon + 1, ':', (size_t)(end - colon - 1)))
			end = colon;
	}
	p = memchr(s, '%', (size_t)(end - s));
	if (p)
		end = p;
	n = (size_t)(end - s);
	if (n == 0 || n >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, n);
	a[n] = '\0';
	family = strchr(a, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, a, &bin) != 1)
		return -EINVAL;
	if (!inet_ntop(family, &bin, out, (socklen_t)HV_MIN(size, 256)))
		return -EINVAL;
	return 0;
}

/* Is the canonical address text a loopback (a local stub resolver)? */
static bool is_loopback(const char *a)
{
	return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0;
}

/* Add every entry of a list separated by any of seps; returns how many. */
static int add_dns_list(char *list, const char *seps, bool skip_loopback,
			struct iplist *dns)
{
	char addr[INET6_ADDRSTRLEN];
	int taken = 0;

	for (char *p = list; *p;) {
		size_t n = strcspn(p, seps);

		if (n &&
		    netconf_parse_dns_entry(p, n, addr, sizeof(addr)) == 0 &&
		    !(skip_loopback && is_loopback(addr)) &&
		    iplist_add_unique(dns, addr) == 0)
			taken++;
		p += n;
		if (*p)
			p++;
	}
	return taken;
}

/* ---------------------------------------------------------------------- */
/* The parsers.                                                            */

int netconf_parse_networkd_link(char *text, struct iplist *dns, bool *has_lease,
				char *network_file, size_t nf_size)
{
	char *p = text, *line, *key, *value;
	char *dns_value = NULL;
	bool managed = false;

	*has_lease = false;
	if (nf_size)
		network_file[0] = '\0';
	while ((line = next_line(&p))) {
		if (is_comment(line) || !split_kv(line, &key, &value))
			continue;
		if (!strcmp(key, "NETWORK_FILE") && value[0]) {
			managed = true;
			if (hv_strscpy(network_file, value, nf_size) < 0 &&
			    nf_size)
				network_file[0] = '\0';
		} else if (!strcmp(key, "DNS")) {
			dns_value = value;
		} else if (!strcmp(key, "DHCP_LEASE")) {
			*has_lease = value[0] != '\0';
		}
	}
	/* Servers only count for a link networkd manages. */
	if (managed && dns_value)
		add_dns_list(dns_value, " \t", false, dns);
	return managed ? 1 : 0;
}

int netconf_parse_networkd_dhcp(char *text)
{
	char *p = text, *line, *key, *value, *sec;
	bool in_network = false;
	int dhcp = 0;

	while ((line = next_line(&p))) {
		if (is_comment(line))
			continue;
		sec = section_of(line);
		if (sec) {
			in_network = !strcmp(sec, "Network");
			continue;
		}
		if (!in_network || !split_kv(line, &key, &value) ||
		    strcmp(key, "DHCP"))
			continue;
		/* systemd.network(5): yes, no, ipv4, ipv6 and booleans. */
		dhcp = is_true(value) || !strcasecmp(value, "ipv4") ||
		       !strcasecmp(value, "both");
	}
	return dhcp;
}

int netconf_parse_nm_device(char *text, char *uuid, size_t size)
{
	char *p = text, *line, *key, *value, *sec;
	bool in_device = false, managed = false;
	bool have_uuid = false;

	while ((line = next_line(&p))) {
		if (is_comment(line))
			continue;
		sec = section_of(line);
		if (sec) {
			in_device = !strcmp(sec, "device");
			continue;
		}
		if (!in_device || !split_kv(line, &key, &value))
			continue;
		if (!strcmp(key, "managed"))
			managed = is_true(value);
		else if (!strcmp(key, "connection-uuid") && value[0])
			have_uuid = hv_strscpy(uuid, value, size) >= 0;
	}
	return managed && have_uuid ? 1 : 0;
}

int netconf_parse_nm_profile(char *text, const char *uuid, struct iplist *dns,
			     bool *dhcp, bool *auto_dns)
{
	enum { S_OTHER, S_CONNECTION, S_IPV4, S_IPV6 } s = S_OTHER;
	char *p = text, *line, *key, *value, *sec;
	char *dns4 = NULL, *dns6 = NULL;
	bool match = false, v4_auto = false, ignore_auto = false;

	while ((line = next_line(&p))) {
		if (is_comment(line))
			continue;
		sec = section_of(line);
		if (sec) {
			s = !strcmp(sec, "connection") ? S_CONNECTION :
			    !strcmp(sec, "ipv4")       ? S_IPV4 :
			    !strcmp(sec, "ipv6")       ? S_IPV6 :
							 S_OTHER;
			continue;
		}
		if (s == S_OTHER || !split_kv(line, &key, &value))
			continue;
		if (s == S_CONNECTION && !strcmp(key, "uuid"))
			match = !strcasecmp(value, uuid);
		else if (s == S_IPV4 && !strcmp(key, "method"))
			v4_auto = !strcmp(value, "auto");
		else if (s == S_IPV4 && !strcmp(key, "ignore-auto-dns"))
			ignore_auto = is_true(value);
		else if (!strcmp(key, "dns"))
			*(s == S_IPV4 ? &dns4 : &dns6) = value;
	}
	if (!match)
		return 0;
	if (dns4)
		add_dns_list(dns4, ";, \t", false, dns);
	if (dns6)
		add_dns_list(dns6, ";, \t", false, dns);
	*dhcp = v4_auto;
	*auto_dns = v4_auto && !ignore_auto;
	return 1;
}

int netconf_parse_resolv(char *text, bool skip_loopback, struct iplist *dns)
{
	char *p = text, *line, *w;
	int taken = 0;

	while ((line = next_line(&p))) {
		w = next_word(&line);
		if (!w || strcmp(w, "nameserver"))
			continue;
		w = next_word(&line);
		if (w)
			taken += add_dns_list(w, "", skip_loopback, dns);
	}
	return taken;
}

int netconf_parse_ifupdown(char *text, const char *ifname)
{
	char *p = text, *line, *w[4];

	while ((line = next_line(&p))) {
		size_t n = 0;

		while (n < ARRAY_SIZE(w) && (w[n] = next_word(&line)))
			n++;
		if (n == 4 && !strcmp(w[0], "iface") && !strcmp(w[1], ifname) &&
		    !strcmp(w[2], "inet") && !strcmp(w[3], "dhcp"))
			return 1;
	}
	return 0;
}

int netconf_parse_ifcfg(char *text)
{
	char *p = text, *line, *key, *value;
	int dhcp = 0;

	while ((line = next_line(&p))) {
		if (is_comment(line) || !split_kv(line, &key, &value))
			continue;
		if (!strcmp(key, "BOOTPROTO"))
			dhcp = !strcasecmp(unquote(value), "dhcp");
	}
	return dhcp;
}

/* ---------------------------------------------------------------------- */
/* Files.                                                                  */

/*
 * The whole file, NUL-terminated, in a new buffer; NULL if it is missing,
 * not a regular file, unreadable or larger than NETCONF_FILE_MAX.
 */
static char *read_text_at(int dirfd, const char *path)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	ssize_t n;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > NETCONF_FILE_MAX)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return NULL;
	/* One byte more than the size: a file that grew meanwhile is refused. */
	n = hv_read_full(fd, buf, (size_t)st.st_size + 1);
	if (n < 0 || n > st.st_size)
		return NULL;
	buf[n] = '\0';
	return TAKE_PTR(buf);
}

static char *read_text(const char *path)
{
	return read_text_at(AT_FDCWD, path);
}

static char *read_textf(const char *fmt, ...) HV_PRINTF(1, 2);
static char *read_textf(const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(path))
		return NULL;
	return read_text(path);
}

static bool networkd(const struct netconf_config *cfg, int ifindex,
		     struct iplist *dns, struct netconf_link *ret)
{
	_cleanup_free_ char *text = NULL, *net = NULL;
	char network_file[PATH_MAX];
	bool lease;

	text = read_textf("%s/systemd/netif/links/%d", cfg->run_dir, ifindex);
	if (!text ||
	    netconf_parse_networkd_link(text, dns, &lease, network_file,
					sizeof(network_file)) != 1)
		return false;
	ret->manager = NETCONF_NETWORKD;
	ret->dhcp = lease;
	if (!lease && network_file[0] == '/') {
		/* networkd names it by its absolute path on this system. */
		net = read_text(network_file);
		ret->dhcp = net && netconf_parse_networkd_dhcp(net) == 1;
	}
	return true;
}

/* Look for the profile in one directory; true once found. */
static bool nm_profile_in(const char *dir, const char *uuid, struct iplist *dns,
			  bool *dhcp, bool *auto_dns)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned int seen = 0;
	bool found = false;

	if (!d)
		return false;
	while (!found && seen < NETCONF_NM_PROFILES_MAX && (de = readdir(d))) {
		_cleanup_free_ char *text = NULL;

		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		seen++;
		text = read_text_at(dirfd(d), de->d_name);
		found = text && netconf_parse_nm_profile(text, uuid, dns, dhcp,
							 auto_dns) == 1;
	}
	closedir(d);
	return found;
}

static bool networkmanager(const struct netconf_config *cfg, int ifindex,
			   struct iplist *dns, struct netconf_link *ret)
{
	_cleanup_free_ char *text = NULL, *resolv = NULL;
	char uuid[128], dir[PATH_MAX];
	bool dhcp = false, auto_dns = false, found = false;

	text = read_textf("%s/NetworkManager/devices/%d", cfg->run_dir,
			  ifindex);
	if (!text || netconf_parse_nm_device(text, uuid, sizeof(uuid)) != 1)
		return false;
	ret->manager = NETCONF_NETWORKMANAGER;
	if (hv_snprintf(dir, sizeof(dir),
			"%s/NetworkManager/system-connections",
			cfg->conf_dir) >= 0)
		found = nm_profile_in(dir, uuid, dns, &dhcp, &auto_dns);
	if (!found && hv_snprintf(dir, sizeof(dir),
				  "%s/NetworkManager/system-connections",
				  cfg->run_dir) >= 0)
		found = nm_profile_in(dir, uuid, dns, &dhcp, &auto_dns);
	ret->dhcp = dhcp;
	if (found && auto_dns) {
		resolv = read_textf("%s/NetworkManager/no-stub-resolv.conf",
				    cfg->run_dir);
		if (resolv)
			netconf_parse_resolv(resolv, true, dns);
	}
	return true;
}

static bool ifupdown_dhcp(const struct netconf_config *cfg, const char *ifname)
{
	_cleanup_free_ char *text = NULL;
	char dir[PATH_MAX];
	unsigned int seen = 0;
	struct dirent *de;
	bool dhcp = false;
	DIR *d;

	text = read_textf("%s/network/interfaces", cfg->conf_dir);
	if (text && netconf_parse_ifupdown(text, ifname) == 1)
		return true;
	if (hv_snprintf(dir, sizeof(dir), "%s/network/interfaces.d",
			cfg->conf_dir) < 0)
		return false;
	d = opendir(dir);
	if (!d)
		return false;
	while (!dhcp && seen < NETCONF_IFUPDOWN_FILES_MAX &&
	       (de = readdir(d))) {
		_cleanup_free_ char *t = NULL;

		if (de->d_name[0] == '.')
			continue;
		seen++;
		t = read_text_at(dirfd(d), de->d_name);
		dhcp = t && netconf_parse_ifupdown(t, ifname) == 1;
	}
	closedir(d);
	return dhcp;
}

static void other_dhcp(const struct netconf_config *cfg, const char *ifname,
		       struct netconf_link *ret)
{
	_cleanup_free_ char *text = NULL;

	if (ifupdown_dhcp(cfg, ifname)) {
		ret->manager = NETCONF_IFUPDOWN;
		ret->dhcp = true;
		return;
	}
	text = read_textf("%s/sysconfig/network-scripts/ifcfg-%s",
			  cfg->conf_dir, ifname);
	if (text) {
		ret->manager = NETCONF_IFCFG;
		ret->dhcp = netconf_parse_ifcfg(text) == 1;
	}
}

static void resolv_fallback(const struct netconf_config *cfg,
			    struct iplist *dns, struct netconf_link *ret)
{
	_cleanup_free_ char *text = NULL, *resolved = NULL;

	text = read_textf("%s/resolv.conf", cfg->conf_dir);
	if (text && netconf_parse_resolv(text, true, dns) > 0) {
		ret->dns_source = NETCONF_DNS_RESOLV_CONF;
		return;
	}
	resolved = read_textf("%s/systemd/resolve/resolv.conf", cfg->run_dir);
	if (resolved && netconf_parse_resolv(resolved, true, dns) > 0)
		ret->dns_source = NETCONF_DNS_RESOLVED;
}

int netconf_query(const struct netconf_config *cfg, int ifindex,
		  const char *ifname, struct iplist *dns,
		  struct netconf_link *ret)
{
	struct netconf_link l = { 0 };
	unsigned int before = dns->n;

	if (!cfg || !cfg->run_dir || !cfg->conf_dir || ifindex <= 0 ||
	    !ifname || !ifname[0] || strchr(ifname, '/') ||
	    !strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return -EINVAL;
	if (!networkd(cfg, ifindex, dns, &l) &&
	    !networkmanager(cfg, ifindex, dns, &l))
		other_dhcp(cfg, ifname, &l);
	if (dns->n > before)
		l.dns_source = NETCONF_DNS_MANAGER;
	else
		resolv_fallback(cfg, dns, &l);
	*ret = l;
	return 0;
}

const char *netconf_manager_name(enum netconf_manager m)
{
	static const char *const names[_NETCONF_MANAGER_MAX] = {
		[NETCONF_UNMANAGED] = "none",
		[NETCONF_NETWORKD] = "systemd-networkd",
		[NETCONF_NETWORKMANAGER] = "NetworkManager",
		[NETCONF_IFUPDOWN] = "ifupdown",
		[NETCONF_IFCFG] = "ifcfg",
	};

	return (unsigned int)m < _NETCONF_MANAGER_MAX ? names[m] : "?";
}

const char *netconf_dns_source_name(enum netconf_dns_source s)
{
	static const char *const names[_NETCONF_DNS_SOURCE_MAX] = {
		[NETCONF_DNS_NONE] = "none",
		[NETCONF_DNS_MANAGER] = "manager",
		[NETCONF_DNS_RESOLV_CONF] = "resolv.conf",
		[NETCONF_DNS_RESOLVED] = "systemd-resolved",
	};

	return (unsigned int)s < _NETCONF_DNS_SOURCE_MAX ? names[s] : "?";
}
