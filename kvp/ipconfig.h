/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host IP injection (SET_IP_INFO, protocol.md §3.6): the host's lists are
 * validated into a neutral model (struct kvp_ipconfig), the adapter is
 * found by its VMBus instance GUID, and the model is written in the
 * format of whatever manages the guest's network (NetworkManager keyfile,
 * systemd-networkd, netplan, ifupdown, ifcfg) or in the upstream layout
 * for an admin's hv_set_ifconfig script, then applied by that manager's
 * own commands, run with posix_spawn and argv only.
 *
 * Nothing the host sent reaches a file or a command line as text: every
 * address is parsed to binary and printed back with inet_ntop, the
 * interface name and MAC come from sysfs and are checked too.
 */
#ifndef HVIS_KVP_IPCONFIG_H
#define HVIS_KVP_IPCONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kvp-ipmsg.h"

enum kvp_ip_backend {
	KVP_IP_BACKEND_AUTO, /* detect what the guest runs */
	KVP_IP_BACKEND_NM, /* NetworkManager keyfile */
	KVP_IP_BACKEND_NETWORKD, /* systemd-networkd .network */
	KVP_IP_BACKEND_NETPLAN,
	KVP_IP_BACKEND_IFUPDOWN, /* /etc/network/interfaces.d */
	KVP_IP_BACKEND_IFCFG, /* /etc/sysconfig/network-scripts */
	KVP_IP_BACKEND_SCRIPT, /* upstream files + hv_set_ifconfig */
	KVP_IP_BACKEND_OFF, /* refuse every SET_IP_INFO */
	_KVP_IP_BACKEND_MAX,
};

/* "auto", "networkmanager", "networkd", ... and back; -EINVAL if unknown. */
const char *kvp_ip_backend_to_string(enum kvp_ip_backend b);
int kvp_ip_backend_from_string(const char *s);

/* Bounds that the field sizes of §3.2 can reach (8 bytes per entry). */
#define KVP_IPCONFIG_MAX_ADDRS 128
#define KVP_IPCONFIG_MAX_GATEWAYS 64
#define KVP_IPCONFIG_MAX_DNS 128

/*
 * Extra gateways of a family (after the first) become default routes
 * with these metrics and up: backups, as Windows treats them, never
 * competing with the first.
 */
#define KVP_IPCONFIG_EXTRA_GW_METRIC 1100

struct kvp_ip_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t prefix; /* addresses only */
	uint8_t bytes[16];
};

struct kvp_ipconfig {
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	bool dhcp4;
	/* In the host's order, both families mixed. */
	size_t n_addrs, n_gateways, n_dns;
	struct kvp_ip_addr addrs[KVP_IPCONFIG_MAX_ADDRS];
	struct kvp_ip_addr gateways[KVP_IPCONFIG_MAX_GATEWAYS];
	struct kvp_ip_addr dns[KVP_IPCONFIG_MAX_DNS];
};

/*
 * Validate the lists of f into cfg (all but ifname and mac): addresses
 * paired in order with sub_net entries (IPv4 dotted contiguous mask, IPv6
 * prefix number, "/64" accepted), gateways and DNS servers; ';'-separated,
 * blanks around entries and one trailing ';' tolerated. Duplicate
 * gateways and DNS servers are dropped, a duplicate address is an error.
 * Returns 0, or -EINVAL with the reason (naming the entry, escaped) in
 * err[err_size].
 */
int kvp_ipconfig_parse(const struct kvp_ip_fields *f, struct kvp_ipconfig *cfg,
		       char *err, size_t err_size);

/*
 * Parse a VMBus instance GUID, braces optional, any case, into the
 * canonical "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" lower-case form
 * (37 bytes). -EINVAL if malformed.
 */
int kvp_ipconfig_guid(const char *s, char out[static 37]);

/*
 * Find the network interface whose <sys>/class/net/NAME/device/device_id
 * is guid (canonical form), and fill cfg->ifname and cfg->mac. -ENOENT if
 * none, -EINVAL if it has a name that cannot go into a config file name
 * or an unreadable MAC, -errno on I/O errors.
 */
int kvp_ipconfig_find_adapter(const char *guid, struct kvp_ipconfig *cfg);

/*
 * What manages the network here: netplan when <conf>/netplan has a
 * *.yaml, else NetworkManager when <run>/NetworkManager exists, else
 * systemd-networkd when <run>/systemd/netif/state exists, else ifupdown
 * when <conf>/network/interfaces exists, else ifcfg when
 * <conf>/sysconfig/network-scripts is a directory. -ENOENT if none.
 */
int kvp_ipconfig_detect(void);

/* The files the backends write, pure text renderings of a model. */
enum kvp_ip_format {
	KVP_IP_FMT_NM,
	KVP_IP_FMT_NETWORKD,
	KVP_IP_FMT_NETPLAN,
	KVP_IP_FMT_IFUPDOWN,
	KVP_IP_FMT_IFCFG,
	KVP_IP_FMT_UPSTREAM_IFCFG, /* §3.6 layout, for hv_set_ifconfig */
	_KVP_IP_FMT_MAX,
};

/*
 * Render cfg in format fmt into a malloc'ed, NUL-terminated string in
 * *ret (the caller frees it). -ENOMEM, or -EINVAL for a bad format.
 */
int kvp_ipconfig_render(enum kvp_ip_format fmt, const struct kvp_ipconfig *cfg,
			char **ret);

/*
 * The connection UUID written into NetworkManager and ifcfg files:
 * derived from the interface name only, so a second request replaces the
 * first connection instead of adding one (RFC 9562 version 8).
 */
void kvp_ipconfig_uuid(const char *ifname, char out[static 37]);

/*
 * Write data to path atomically: a temporary file in the same directory
 * with mode, fsync, rename over path, fsync the directory. Missing
 * parent directories are created 0755. Returns 0 or -errno.
 */
int kvp_ipconfig_write_file(const char *path, const char *data, mode_t mode);

/*
 * Runs argv (argv[0] looked up in PATH when it has no '/') with at most
 * timeout_usec; returns its exit status (0-255) or -errno (-ETIME on
 * timeout, -ENOENT if it is not installed).
 */
typedef int (*kvp_ipconfig_run_fn)(void *userdata, char *const argv[],
				   uint64_t timeout_usec);

struct kvp_ipconfig_ctx {
	enum kvp_ip_backend backend; /* AUTO: script if set, else detect */
	const char *script; /* --ip-script: hv_set_ifconfig path */
	bool no_apply; /* --ip-apply=none: write files, run nothing */
	kvp_ipconfig_run_fn run; /* NULL: posix_spawn */
	void *userdata;
	uint64_t timeout_usec; /* all commands together; 0: 25 s */
};

/*
 * Handle one SET_IP_INFO request: HV_S_OK, HV_INVALIDARG (bad adapter id
 * or list entry), HV_GUID_NOTFOUND (no such adapter) or HV_E_FAIL (no
 * backend, a write failed, or an apply command failed). Logs why.
 */
uint32_t kvp_ipconfig_apply(const struct kvp_ipconfig_ctx *ctx,
			    const struct kvp_ip_fields *f);

#endif
