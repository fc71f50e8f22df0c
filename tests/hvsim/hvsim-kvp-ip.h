/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's two IP operations as Hyper-V's tools present them, on top of
 * hvsim_kvp_get_ip_info() / hvsim_kvp_set_ip_info() (hvsim-kvp.c: the
 * host's UTF-16 hv_kvp_ip_msg and the kernel's §3.2 conversions):
 *  - GET_IP_INFO as Get-VMNetworkAdapter fills IPAddresses: asked by the
 *    adapter's MAC, which the host sends upper-case with colons (§3.5);
 *  - SET_IP_INFO as Msvm_GuestNetworkAdapterConfiguration injects a
 *    static or DHCP setting: addressed by the NIC's VMBus instance GUID,
 *    sent as "{lower-case}" like the guest's device_id (§3.6); lists
 *    joined with ';'.
 * Here: argument spellings, list building, the control-socket fields and
 * printing, so `hvsim kvp ip get|set` stays a thin CLI. Written from
 * protocol.md, not from kvp/.
 *
 * Proposed control requests (hvsim.h's record format):
 *   kvp-ip-get MAC
 *     -> RESULT STATUS FAMILY DHCP IP SUBNET GATEWAY DNS
 *   kvp-ip-set ADAPTER FAMILY DHCP IP SUBNET GATEWAY DNS
 *     -> RESULT STATUS
 * FAMILY and DHCP in decimal, lists as the host sends them.
 */
#ifndef HVSIM_KVP_IP_H
#define HVSIM_KVP_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hvsim.h"

/* "00:15:5D:0A:0B:0C" and its NUL. */
#define HVSIM_KVP_IP_MAC_SIZE 18
/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" and its NUL. */
#define HVSIM_KVP_IP_GUID_SIZE 39
/* Fields of a kvp-ip-get reply after RESULT STATUS, and of a request. */
#define HVSIM_KVP_IP_FIELDS 6

/*
 * A MAC as a user types it ("00:15:5d:0a:0b:0c", "00-15-5D-0A-0B-0C",
 * "00155D0A0B0C") in the host's form, upper case with colons. -EINVAL.
 */
int hvsim_kvp_ip_mac(const char *in, char out[HVSIM_KVP_IP_MAC_SIZE]);

/* A GUID, braces optional, any case, as "{lower-case}". -EINVAL. */
int hvsim_kvp_ip_guid(const char *in, char out[HVSIM_KVP_IP_GUID_SIZE]);

struct hvsim_kvp_ip_set_args {
	const char *adapter; /* the NIC's instance GUID, any spelling */
	bool raw_adapter; /* send adapter exactly as given */
	bool dhcp;
	/* Lists separated by ',' or ';' (NULL: empty). */
	const char *ip;
	const char *subnet;
	const char *gateway;
	const char *dns;
	/* ADDR_FAMILY_* bits; < 0: one bit per family among the addresses,
	 * gateways and DNS servers, IPv4 when there are none. */
	int family;
};

/*
 * The host's SET_IP_INFO strings for a: lists re-joined with ';',
 * entries trimmed. Entries are not checked as addresses (a guest must
 * refuse bad ones itself: HV_INVALIDARG). -EINVAL (an empty entry, a
 * subnet count different from the address count, a bad adapter), -E2BIG
 * (a list longer than its host field); the reason in why (may be NULL).
 */
int hvsim_kvp_ip_build_set(const struct hvsim_kvp_ip_set_args *a,
			   struct hvsim_kvp_ip *ret, char *why,
			   size_t why_size);

/*
 * GET_IP_INFO for mac (any spelling above) asking for both families.
 * Returns and *status as hvsim_kvp_get_ip_info(); -EINVAL for a bad MAC.
 */
int hvsim_kvp_ip_get(struct hvsim_kvp *k, const char *mac,
		     struct hvsim_kvp_ip *ret, uint32_t *status);

/* hvsim_kvp_ip_build_set() + hvsim_kvp_set_ip_info(). */
int hvsim_kvp_ip_set(struct hvsim_kvp *k, const struct hvsim_kvp_ip_set_args *a,
		     uint32_t *status, char *why, size_t why_size);

/*
 * Split a ';'-separated host list into items[max] pointing into
 * buf[size] (a copy); empty items are dropped. Returns the count, or
 * -E2BIG when buf or items are too small.
 */
int hvsim_kvp_ip_split(const char *list, char *buf, size_t size,
		       const char **items, size_t max);

/*
 * FAMILY DHCP IP SUBNET GATEWAY DNS of ip as control-record fields
 * (pointing into ip and num), and back. from_fields: -EINVAL for a bad
 * number or count, -E2BIG for a string longer than its member.
 */
void hvsim_kvp_ip_to_fields(const struct hvsim_kvp_ip *ip, char num[2][4],
			    const char *fields[HVSIM_KVP_IP_FIELDS]);
int hvsim_kvp_ip_from_fields(const char *const *fields, size_t n,
			     struct hvsim_kvp_ip *ret);

/*
 * Print the host's view: Get-VMNetworkAdapter-like "Name : value" lines,
 * lists in braces, or one JSON object. The strings are the guest's:
 * control characters are escaped. Returns 0 or -EIO.
 */
int hvsim_kvp_ip_print(FILE *f, const char *adapter,
		       const struct hvsim_kvp_ip *ip, uint32_t status,
		       bool json);

#endif
