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
