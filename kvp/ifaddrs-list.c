/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <ifaddrs.h>
#include <sys/socket.h>

#include "hvis/util.h"
#include "ifaddrs-list.h"

const char *const ifaddrs_list_default_exclude[] = {
	/* open-vm-tools' exclude-nics default */
	"docker*",
	"veth*",
	"virbr*",
	"antrea-*",
	"cali*",
	/* Docker user-defined bridges: br- and a 12-digit network id */
	"br-????????????",
	/* Kubernetes network plugins */
	"cni*",
	"flannel*",
	"weave",
	"kube-ipvs*",
	"vxlan.calico",
	/* LXC, LXD and Podman bridges */
	"lxcbr*",
	"lxdbr*",
	"podman*",
	NULL,
};

bool ifaddrs_list_excluded(const char *ifname, const char *const *globs)
{
	if (!globs)
		return false;
	for (; *globs; globs++)
		if (fnmatch(*globs, ifname, 0) == 0)
			return true;
	return false;
}

static bool keep_in(const struct in_addr *a, unsigned int flags)
{
	uint32_t v = ntohl(a->s_addr);

	if (v == 0 || (v >> 24) == 127 || (v >> 28) == 0xe)
		return false;
	if ((v >> 16) == 0xa9fe)
		return flags & IFADDRS_LIST_LINK_LOCAL;
	return true;
}

static bool keep_in6(const struct in6_addr *a, unsigned int flags)
{
	if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) ||
	    IN6_IS_ADDR_MULTICAST(a))
		return false;
	if (IN6_IS_ADDR_LINKLOCAL(a))
		return flags & IFADDRS_LIST_LINK_LOCAL;
	return true;
}

bool ifaddrs_list_keep_addr(int family, const void *addr, unsigned int flags)
{
	if (family == AF_INET)
		return keep_in(addr, flags);
	if (family == AF_INET6)
		return keep_in6(addr, flags);
	return false;
}

bool ifaddrs_list_link_usable(unsigned int ifflags)
{
	return (ifflags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING) &&
	       !(ifflags & IFF_LOOPBACK);
}

/* Is s one of the ';'-separated items of list[len]? */
static bool listed(const char *list, size_t len, const char *s)
{
	size_t sl = strlen(s), off = 0;

	while (off < len) {
		const char *semi = memchr(list + off, ';', len - off);
		size_t l = semi ? (size_t)(semi - (list + off)) : len - off;

		if (l == sl && memcmp(list + off, s, sl) == 0)
			return true;
		off += l + 1;
	}
	return false;
}

int ifaddrs_list_format(const struct ifaddr_entry *entries, size_t n,
			int family, const char *const *exclude,
			unsigned int flags, char *buf, size_t size)
{
	char s[INET6_ADDRSTRLEN];
	size_t len = 0, max;

	if (size == 0 || (family != AF_INET && family != AF_INET6))
		return -EINVAL;
	max = HV_MIN(size - 1, (size_t)IFADDRS_LIST_MAX_LEN);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct ifaddr_entry *e = &entries[i];
		size_t sl, need;

		if (e->family != family)
			continue;
		if (!memchr(e->ifname, '\0', sizeof(e->ifname)))
			continue;
		if (!ifaddrs_list_link_usable(e->flags))
			continue;
		if (ifaddrs_list_excluded(e->ifname, exclude))
			continue;
		if (!ifaddrs_list_keep_addr(family, &e->addr, flags))
			continue;
		if (!inet_ntop(family, &e->addr, s, sizeof(s)))
			continue;
		if (listed(buf, len, s))
			continue;
		sl = strlen(s);
		need = sl + (len ? 1 : 0);
		/* Never half an address: the host would parse it. */
		if (need > max - len)
			break;
		if (len)
			buf[len++] = ';';
		memcpy(buf + len, s, sl);
		len += sl;
		buf[len] = '\0';
	}
	return (int)len;
}

int ifaddrs_list_system(struct ifaddr_entry **ret, size_t *ret_n)
{
	_cleanup_free_ struct ifaddr_entry *v = NULL;
	struct ifaddrs *ifa, *list = NULL;
	size_t n = 0, cap = 0;

	if (getifaddrs(&list) < 0)
		return -errno;
	for (ifa = list; ifa; ifa = ifa->ifa_next)
		if (ifa->ifa_addr && (ifa->ifa_addr->sa_family == AF_INET ||
				      ifa->ifa_addr->sa_family == AF_INET6))
			cap++;
	if (cap) {
		v = calloc(cap, sizeof(*v));
		if (!v) {
			freeifaddrs(list);
			return -ENOMEM;
		}
	}
	for (ifa = list; ifa && n < cap; ifa = ifa->ifa_next) {
		struct ifaddr_entry *e = &v[n];

		if (!ifa->ifa_addr || !ifa->ifa_name)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin =
				(const struct sockaddr_in *)ifa->ifa_addr;

			e->addr.in = sin->sin_addr;
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 =
				(const struct sockaddr_in6 *)ifa->ifa_addr;

			e->addr.in6 = sin6->sin6_addr;
		} else {
			continue;
		}
		if (hv_strscpy(e->ifname, ifa->ifa_name, sizeof(e->ifname)) < 0)
			continue;
		e->family = ifa->ifa_addr->sa_family;
		e->flags = ifa->ifa_flags;
		n++;
	}
	freeifaddrs(list);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}
