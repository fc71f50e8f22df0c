/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GET_IP_INFO (protocol.md §3.5): the addresses, prefixes, gateways, DNS
 * servers and DHCP state of the interface whose MAC the host names, from
 * rtnetlink (libnl-route: one link, one address and one route dump per
 * request on a socket kept open) and netconf.c. No fork/exec.
 *
 * Rules, where the reference differs or says nothing:
 *  - Matching: the MAC text the host sends (upper-case colon form) is
 *    compared, ignoring case, with each link's hardware address written
 *    in the same form (loopback interfaces never match). No name
 *    prefixes are involved, so eth1 never answers for eth10.
 *  - Several interfaces with the MAC (SR-IOV: the VF enslaved to the
 *    synthetic NIC shares its MAC): the first, by ifindex, that has an
 *    address to report wins. If none has, the one without a master (the
 *    synthetic NIC) is reported, else the lowest ifindex: success with
 *    empty strings. No interface with the MAC: -ENODEV (HV_E_FAIL).
 *  - Addresses: only while the interface is up and running (IFF_UP and
 *    IFF_RUNNING, not loopback); a down interface still matches and
 *    reports nothing. Loopback, unspecified and multicast addresses are
 *    never reported; link-local ones (fe80::/10, 169.254/16) only with
 *    KVP_IPINFO_LINK_LOCAL, as for NetworkAddressIPv4/IPv6 (the shared
 *    rules of ifaddrs-list.h). The request's addr_family is ignored, as
 *    the reference does: both families are reported, IPv4 first, each in
 *    the kernel's order, and addr_family gets a bit per family reported.
 *  - sub_net: for each address, in lockstep, the IPv4 dotted netmask or
 *    the IPv6 "/<prefix length>", as the reference writes them.
 *  - gate_way: the gateways of the default routes of the main table that
 *    leave through THIS interface (multipath next hops included), IPv4
 *    first, by route metric; the reference lists every interface's
 *    default gateways. IPv6 gateways are often link-local (router
 *    advertisements) and are reported as such, without a zone.
 *  - dns_addr and dhcp_enabled: netconf.h.
 *  - With no address to report, ip_addr, sub_net, gate_way and dns_addr
 *    are all empty; dhcp_enabled still tells how the interface is
 *    configured (e.g. DHCP still waiting for a lease).
 *  - Every list is ';'-joined (no trailing ';') and bounded by its field
 *    (1023, 1023, 511 and 1023 bytes): whole entries are dropped, never
 *    cut; ip_addr and sub_net stay paired.
 */
#ifndef HVIS_KVP_IPINFO_H
#define HVIS_KVP_IPINFO_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvp-ipmsg.h"
#include "netconf.h"

enum {
	/* Report link-local addresses too (off, as the intrinsic lists). */
	KVP_IPINFO_LINK_LOCAL = 1u << 0,
};

struct kvp_ipinfo_config {
	const char *run_dir; /* NULL: hv_path_base(HV_PATH_RUN) */
	const char *conf_dir; /* NULL: hv_path_base(HV_PATH_CONF) */
	unsigned int flags; /* KVP_IPINFO_* */
};

/* What a request found, for the caller's log. */
struct kvp_ipinfo_result {
	char ifname[IFNAMSIZ];
	int ifindex;
	unsigned int matches; /* interfaces with the MAC */
	unsigned int addresses; /* reported */
	struct netconf_link conf;
};

struct kvp_ipinfo;

/* Copies cfg (may be NULL). Opens nothing yet. 0 or -ENOMEM. */
int kvp_ipinfo_new(const struct kvp_ipinfo_config *cfg,
		   struct kvp_ipinfo **ret);
/* Accepts NULL, returns NULL. */
struct kvp_ipinfo *kvp_ipinfo_free(struct kvp_ipinfo *ii);

/*
 * Answer GET_IP_INFO for mac into f: adapter_id = mac, the four lists,
 * addr_family and dhcp_enabled. Returns 0; -ENODEV when no interface has
 * the MAC (or mac is no MAC text); -E2BIG if mac does not fit adapter_id;
 * other -errno when the kernel could not be asked (f untouched then).
 * res (may be NULL) is filled on success.
 */
int kvp_ipinfo_get(struct kvp_ipinfo *ii, const char *mac,
		   struct kvp_ip_fields *f, struct kvp_ipinfo_result *res);

/*
 * The pure part, on a snapshot of the kernel's tables, for tests: what
 * kvp_ipinfo_get() builds from its three dumps.
 */
union ipinfo_inaddr {
	struct in_addr in;
	struct in6_addr in6;
};

struct ipinfo_link {
	int ifindex;
	int master; /* ifindex of the master, 0 if none */
	unsigned int flags; /* IFF_* */
	char name[IFNAMSIZ];
	char mac[96]; /* "00:15:5D:01:02:03"; "" without a hw address */
};

struct ipinfo_addr {
	int ifindex;
	int family; /* AF_INET or AF_INET6 */
	unsigned int prefixlen;
	union ipinfo_inaddr addr;
};

struct ipinfo_gateway {
	int ifindex;
	int family;
	uint32_t metric;
	union ipinfo_inaddr addr;
};

struct ipinfo_snapshot {
	struct ipinfo_link *links;
	size_t n_links;
	struct ipinfo_addr *addrs;
	size_t n_addrs;
	struct ipinfo_gateway *gws;
	size_t n_gws;
};

/* Hardware address bytes as upper-case colon text; -E2BIG if too long. */
int ipinfo_format_mac(const uint8_t *hw, size_t len, char *out, size_t size);

/*
 * The link to report for mac (index into s->links), by the rules above;
 * *ret_matches = how many links have the MAC. -ENODEV if none.
 */
int ipinfo_select(const struct ipinfo_snapshot *s, const char *mac,
		  unsigned int flags, unsigned int *ret_matches);

/*
 * Fill ip_addr, sub_net, gate_way and addr_family of f for link li
 * (dns_addr and dhcp_enabled untouched). Returns the number of
 * addresses reported.
 */
unsigned int ipinfo_fill(const struct ipinfo_snapshot *s, size_t li,
			 unsigned int flags, struct kvp_ip_fields *f);

#endif
