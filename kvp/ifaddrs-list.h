/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The NetworkAddressIPv4/IPv6 values of the KVP AUTO pool (protocol.md
 * §3.4): the guest's addresses as one ';'-separated ASCII list. Filtering
 * and formatting work on a plain array so tests need no real interfaces;
 * ifaddrs_list_system() fills that array from getifaddrs(3).
 */
#ifndef HVIS_KVP_IFADDRS_LIST_H
#define HVIS_KVP_IFADDRS_LIST_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The kernel hands at most 1022 UTF-16 units of a value to the host
 * (§3.2); the list is ASCII, so this many bytes, and it is never cut
 * inside an address.
 */
#define IFADDRS_LIST_MAX_LEN 1022

struct ifaddr_entry {
	char ifname[IFNAMSIZ]; /* NUL-terminated, or the entry is ignored */
	unsigned int flags; /* IFF_* of the interface */
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr in;
		struct in6_addr in6;
	} addr;
};

enum {
	/* Report fe80::/10 and 169.254.0.0/16 too (the reference does). */
	IFADDRS_LIST_LINK_LOCAL = 1u << 0,
};

/*
 * Interfaces whose addresses mean nothing to the host: open-vm-tools'
 * exclude-nics default (docker*, veth*, virbr*, antrea-*, cali*) plus
 * Docker's user-defined bridges (br- and 12 hex digits), other container
 * network plugins (cni*, flannel*, weave, kube-ipvs*, vxlan.calico) and
 * LXC/LXD/Podman bridges. NULL-terminated.
 */
extern const char *const ifaddrs_list_default_exclude[];

/*
 * The rules GET_IP_INFO (ipinfo.c) shares with these lists, so the
 * host's per-adapter view and the intrinsic NetworkAddressIPv4/IPv6 agree
 * on which addresses exist. Both read the same kernel data: getifaddrs(3)
 * is glibc's RTM_GETLINK + RTM_GETADDR dump (address = IFA_LOCAL, else
 * IFA_ADDRESS; flags = the link's ifi_flags), ipinfo.c the same dumps
 * through libnl-route (rtnl_addr_get_local, rtnl_link_get_flags).
 * Neither looks at IFA_F_TENTATIVE/DADFAILED, which getifaddrs cannot
 * see. The exclude globs apply to these lists only: the host asks
 * GET_IP_INFO for one adapter by its MAC.
 */

/*
 * Keep an address (struct in_addr or in6_addr of family)? Not loopback,
 * unspecified or multicast; link-local (fe80::/10, 169.254/16) only with
 * IFADDRS_LIST_LINK_LOCAL in flags.
 */
bool ifaddrs_list_keep_addr(int family, const void *addr, unsigned int flags);

/* Are an interface's addresses reported: IFF_UP, IFF_RUNNING, no LOOPBACK. */
bool ifaddrs_list_link_usable(unsigned int ifflags);

/* True if ifname matches one of the NULL-terminated fnmatch(3) globs. */
bool ifaddrs_list_excluded(const char *ifname, const char *const *globs);

/*
 * Join the family's addresses among entries[n] into buf[size], in array
 * order, separated by ';'. Skipped: interfaces not both IFF_UP and
 * IFF_RUNNING, IFF_LOOPBACK interfaces, names matching an exclude glob
 * (NULL = no exclusion), loopback (127/8, ::1), unspecified and multicast
 * addresses, link-local ones unless IFADDRS_LIST_LINK_LOCAL, and repeats
 * of an address already listed. IPv6 is in inet_ntop's compressed form,
 * without a zone. The list stops before the first address that would
 * not fit in size - 1 bytes or IFADDRS_LIST_MAX_LEN. Returns the length
 * written (buf always terminated), -EINVAL for a bad family or size 0.
 */
int ifaddrs_list_format(const struct ifaddr_entry *entries, size_t n,
			int family, const char *const *exclude,
			unsigned int flags, char *buf, size_t size);

/*
 * The machine's IPv4 and IPv6 addresses from getifaddrs(3), as a new
 * array the caller frees (NULL when there are none). Returns 0 or -errno.
 */
int ifaddrs_list_system(struct ifaddr_entry **ret, size_t *ret_n);

#endif
