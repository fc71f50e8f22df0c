/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS servers and DHCP state of one interface for GET_IP_INFO
 * (protocol.md §3.5), read from what the network manager in charge keeps
 * on disk: no D-Bus, no fork/exec, a handful of small reads per request.
 * The reference runs its hv_get_dns_info and hv_get_dhcp_info scripts
 * (nmcli, networkctl, grep) for every address instead.
 *
 * Who is in charge, in this order:
 *  1. systemd-networkd, when <run>/systemd/netif/links/<ifindex> names a
 *     NETWORK_FILE (a .network file matched the link; networkd writes
 *     this state for sd-network, whose API libsystemd does not export).
 *     DNS: its DNS= line, the link's static and DHCP/RA-learnt servers
 *     as networkd hands them to resolved. DHCP: on when DHCP_LEASE= is
 *     set (a DHCPv4 lease is held), else when the NETWORK_FILE's
 *     [Network] DHCP= enables IPv4 (yes, true, on, 1, ipv4; drop-ins are
 *     not read).
 *  2. NetworkManager, when <run>/NetworkManager/devices/<ifindex> says
 *     managed=true with a connection-uuid: the keyfile profile with that
 *     uuid in <conf>/NetworkManager/system-connections or
 *     <run>/NetworkManager/system-connections. DHCP: [ipv4] method=auto.
 *     DNS: the profile's [ipv4] and [ipv6] dns= lists, then, for
 *     method=auto without ignore-auto-dns=true, the servers of NM's own
 *     <run>/NetworkManager/no-stub-resolv.conf (the per-device DHCP list
 *     exists only on D-Bus; this is NM's merged list).
 *  3. Otherwise DHCP from ifupdown ("iface <if> inet dhcp" in
 *     <conf>/network/interfaces or interfaces.d/) or ifcfg (BOOTPROTO=dhcp
 *     in <conf>/sysconfig/network-scripts/ifcfg-<if>), and no DNS yet.
 * When 1 or 2 gave no DNS server: the nameserver lines of
 * <conf>/resolv.conf without loopback stubs (127/8, ::1), else those of
 * <run>/systemd/resolve/resolv.conf (resolved's upstream servers behind
 * its 127.0.0.53 stub).
 *
 * Every server is checked with inet_pton and written canonically
 * (inet_ntop; zone, port and DoT name suffixes dropped), once. Files are
 * hostile input: read whole up to NETCONF_FILE_MAX, lines of any length,
 * unknown keys ignored; a file that is missing, unreadable or too large
 * counts as absent.
 */
#ifndef HVIS_KVP_NETCONF_H
#define HVIS_KVP_NETCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "iplist.h"

#define NETCONF_FILE_MAX (64 * 1024)
/* NetworkManager profiles looked at per directory, at most. */
#define NETCONF_NM_PROFILES_MAX 256
/* ifupdown interfaces.d files read, at most. */
#define NETCONF_IFUPDOWN_FILES_MAX 64

enum netconf_manager {
	NETCONF_UNMANAGED,
	NETCONF_NETWORKD,
	NETCONF_NETWORKMANAGER,
	NETCONF_IFUPDOWN,
	NETCONF_IFCFG,
	_NETCONF_MANAGER_MAX,
};

enum netconf_dns_source {
	NETCONF_DNS_NONE,
	NETCONF_DNS_MANAGER, /* from the manager's own state */
	NETCONF_DNS_RESOLV_CONF, /* <conf>/resolv.conf */
	NETCONF_DNS_RESOLVED, /* <run>/systemd/resolve/resolv.conf */
	_NETCONF_DNS_SOURCE_MAX,
};

struct netconf_config {
	const char *run_dir; /* "/run" */
	const char *conf_dir; /* "/etc" */
};

struct netconf_link {
	bool dhcp; /* DHCPv4 enabled */
	enum netconf_manager manager;
	enum netconf_dns_source dns_source;
};

/*
 * Fill dns (servers appended, duplicates skipped, stops when full) and
 * *ret for interface ifindex/ifname. Returns 0; -EINVAL for a bad
 * ifindex, an empty or unsafe ifname ('/', "..") or missing paths.
 * Missing sources are not errors.
 */
int netconf_query(const struct netconf_config *cfg, int ifindex,
		  const char *ifname, struct iplist *dns,
		  struct netconf_link *ret);

const char *netconf_manager_name(enum netconf_manager m);
const char *netconf_dns_source_name(enum netconf_dns_source s);

/*
 * The parsers, pure, for tests and fuzzing. Each takes a NUL-terminated
 * text it may modify (it splits lines in place).
 */

/*
 * One DNS server as the sources write it: "1.2.3.4", "1.2.3.4:53",
 * "fe80::1%2", "[2001:db8::1]:853#dns.example", "8.8.8.8#dns.google".
 * Writes the canonical address into out[size]; -EINVAL if it is none.
 */
int netconf_parse_dns_entry(const char *s, size_t len, char *out, size_t size);

/*
 * networkd's link state file. Returns 1 if it names a NETWORK_FILE
 * (copied to network_file[nf_size], "" if it does not fit), 0 if not.
 * DNS= servers go to dns; *has_lease tells whether DHCP_LEASE= is set.
 */
int netconf_parse_networkd_link(char *text, struct iplist *dns, bool *has_lease,
				char *network_file, size_t nf_size);

/* A .network file: 1 if [Network] DHCP= (the last one) enables IPv4. */
int netconf_parse_networkd_dhcp(char *text);

/*
 * NetworkManager's device state: 1 and the uuid (uuid[size]) if
 * [device] managed=true with a connection-uuid, else 0.
 */
int netconf_parse_nm_device(char *text, char *uuid, size_t size);

/*
 * A NetworkManager keyfile profile: 1 if its [connection] uuid is uuid,
 * then *dhcp ([ipv4] method=auto), *auto_dns (method auto and not
 * ignore-auto-dns) and its dns= servers appended to dns; 0 otherwise
 * (nothing written).
 */
int netconf_parse_nm_profile(char *text, const char *uuid, struct iplist *dns,
			     bool *dhcp, bool *auto_dns);

/* resolv.conf: nameserver lines to dns; returns how many were taken. */
int netconf_parse_resolv(char *text, bool skip_loopback, struct iplist *dns);

/* ifupdown: 1 if an "iface <ifname> inet dhcp" stanza is there. */
int netconf_parse_ifupdown(char *text, const char *ifname);

/* ifcfg: 1 if BOOTPROTO is dhcp. */
int netconf_parse_ifcfg(char *text);

#endif
