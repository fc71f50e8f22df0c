/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <strings.h>

#include "hvis/paths.h"
#include "hvis/util.h"
#include "ifaddrs-list.h"
#include "iplist.h"
#include "ipinfo.h"

/* A dump the kernel reports as interrupted by a change is redone. */
#define DUMP_ATTEMPTS 3

struct kvp_ipinfo {
	char *run_dir, *conf_dir;
	unsigned int flags;
	struct nl_sock *sk;
	struct nl_cache *links, *addrs, *routes;
	struct ipinfo_snapshot snap;
	size_t cap_links, cap_addrs, cap_gws;
};

/* ---------------------------------------------------------------------- */
/* The pure part.                                                          */

int ipinfo_format_mac(const uint8_t *hw, size_t len, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (size == 0 || (len && 3 * len > size))
		return -E2BIG;
	for (size_t i = 0; i < len; i++) {
		if (i)
			out[o++] = ':';
		out[o++] = hex[hw[i] >> 4];
		out[o++] = hex[hw[i] & 0xf];
	}
	out[o] = '\0';
	return (int)o;
}

static unsigned int family_bit(int family)
{
	return family == AF_INET ? ADDR_FAMILY_IPV4 : ADDR_FAMILY_IPV6;
}

static bool addr_reported(const struct ipinfo_addr *a, int ifindex,
			  unsigned int flags)
{
	return a->ifindex == ifindex &&
	       (a->family == AF_INET || a->family == AF_INET6) &&
	       ifaddrs_list_keep_addr(a->family, &a->addr,
				      flags & KVP_IPINFO_LINK_LOCAL ?
					      IFADDRS_LIST_LINK_LOCAL :
					      0);
}

static bool has_addresses(const struct ipinfo_snapshot *s,
			  const struct ipinfo_link *l, unsigned int flags)
{
	if (!ifaddrs_list_link_usable(l->flags))
		return false;
	for (size_t i = 0; i < s->n_addrs; i++)
		if (addr_reported(&s->addrs[i], l->ifindex, flags))
			return true;
	return false;
}

/* Is candidate a better pick than best (index or -1) at this tier? */
static bool lower_index(const struct ipinfo_snapshot *s, int best, size_t cand)
{
	return best < 0 || s->links[cand].ifindex < s->links[best].ifindex;
}

int ipinfo_select(const struct ipinfo_snapshot *s, const char *mac,
		  unsigned int flags, unsigned int *ret_matches)
{
	int with_addr = -1, no_master = -1, any = -1;
	unsigned int matches = 0;

	if (!mac || !mac[0])
		return -ENODEV;
	for (size_t i = 0; i < s->n_links; i++) {
		const struct ipinfo_link *l = &s->links[i];

		/* lo's all-zero address is no adapter the host can name. */
		if (!l->mac[0] || (l->flags & IFF_LOOPBACK) ||
		    strcasecmp(l->mac, mac) != 0)
			continue;
		matches++;
		if (has_addresses(s, l, flags) && lower_index(s, with_addr, i))
			with_addr = (int)i;
		if (!l->master && lower_index(s, no_master, i))
			no_master = (int)i;
		if (lower_index(s, any, i))
			any = (int)i;
	}
	if (ret_matches)
		*ret_matches = matches;
	if (with_addr >= 0)
		return with_addr;
	if (no_master >= 0)
		return no_master;
	return any >= 0 ? any : -ENODEV;
}

static void subnet_text(int family, unsigned int plen, char *out, size_t size)
{
	struct in_addr mask;

	if (family == AF_INET6) {
		snprintf(out, size, "/%u", HV_MIN(plen, 128u));
		return;
	}
	plen = HV_MIN(plen, 32u);
	mask.s_addr = plen ? htonl(~0u << (32 - plen)) : 0;
	inet_ntop(AF_INET, &mask, out, (socklen_t)size);
}

static int gw_cmp(const void *a, const void *b)
{
	const struct ipinfo_gateway *x =
		*(const struct ipinfo_gateway *const *)a;
	const struct ipinfo_gateway *y =
		*(const struct ipinfo_gateway *const *)b;

	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	/* Stable: the kernel's order among equals. */
	return x < y ? -1 : x > y;
}

static void fill_gateways(const struct ipinfo_snapshot *s, int ifindex,
			  struct iplist *gl)
{
	_cleanup_free_ const struct ipinfo_gateway **v = NULL;
	char text[INET6_ADDRSTRLEN];
	size_t n = 0;

	for (size_t i = 0; i < s->n_gws; i++)
		if (s->gws[i].ifindex == ifindex)
			n++;
	if (n == 0)
		return;
	v = calloc(n, sizeof(*v));
	if (!v)
		return;
	n = 0;
	for (size_t i = 0; i < s->n_gws; i++)
		if (s->gws[i].ifindex == ifindex &&
		    (s->gws[i].family == AF_INET ||
		     s->gws[i].family == AF_INET6))
			v[n++] = &s->gws[i];
	qsort(v, n, sizeof(*v), gw_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!inet_ntop(v[i]->family, &v[i]->addr, text, sizeof(text)))
			continue;
		if (iplist_add_unique(gl, text) == -E2BIG)
			break;
	}
}

unsigned int ipinfo_fill(const struct ipinfo_snapshot *s, size_t li,
			 unsigned int flags, struct kvp_ip_fields *f)
{
	static const int families[] = { AF_INET, AF_INET6 };
	const struct ipinfo_link *l = &s->links[li];
	struct iplist ip, sn, gw;
	unsigned int count = 0;

	iplist_init(&ip, f->ip_addr, sizeof(f->ip_addr));
	iplist_init(&sn, f->sub_net, sizeof(f->sub_net));
	iplist_init(&gw, f->gate_way, sizeof(f->gate_way));
	f->addr_family = ADDR_FAMILY_NONE;
	if (!ifaddrs_list_link_usable(l->flags))
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(families); k++) {
		for (size_t i = 0; i < s->n_addrs; i++) {
			const struct ipinfo_addr *a = &s->addrs[i];
			char text[INET6_ADDRSTRLEN], mask[INET_ADDRSTRLEN];

			if (a->family != families[k] ||
			    !addr_reported(a, l->ifindex, flags))
				continue;
			if (!inet_ntop(a->family, &a->addr, text, sizeof(text)))
				continue;
			subnet_text(a->family, a->prefixlen, mask,
				    sizeof(mask));
			/* Both or neither: the lists stay paired. */
			if (!iplist_fits(&ip, text) || !iplist_fits(&sn, mask))
				goto gateways;
			iplist_add(&ip, text);
			iplist_add(&sn, mask);
			f->addr_family |= family_bit(a->family);
			count++;
		}
	}
gateways:
	if (count)
		fill_gateways(s, l->ifindex, &gw);
	return count;
}

/* ---------------------------------------------------------------------- */
/* The kernel's tables through libnl-route.                               */

static int nl_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_DUMP_INTR:
		return -EAGAIN;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOADDR:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_BAD_SOCK:
		return -EBADF;
	default:
		return -EIO;
	}
}

/* Make room for one more element of a reused array. */
static void *grow(void *v, size_t n, size_t *cap, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return v;
	ncap = *cap ? *cap * 2 : 16;
	p = reallocarray(v, ncap, elem);
	if (!p)
		return NULL;
	*cap = ncap;
	return p;
}

static int snap_links(struct kvp_ipinfo *ii)
{
	struct ipinfo_snapshot *s = &ii->snap;
	struct nl_object *o;

	s->n_links = 0;
	for (o = nl_cache_get_first(ii->links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l);
		struct nl_addr *hw = rtnl_link_get_addr(l);
		struct ipinfo_link *e;
		void *p;

		p = grow(s->links, s->n_links, &ii->cap_links, sizeof(*e));
		if (!p)
			return -ENOMEM;
		s->links = p;
		e = &s->links[s->n_links];
		memset(e, 0, sizeof(*e));
		e->ifindex = rtnl_link_get_ifindex(l);
		e->master = rtnl_link_get_master(l);
		e->flags = rtnl_link_get_flags(l);
		if (e->ifindex <= 0 || !name ||
		    hv_strscpy(e->name, name, sizeof(e->name)) < 0)
			continue;
		if (hw && nl_addr_get_len(hw) > 0 &&
		    ipinfo_format_mac(nl_addr_get_binary_addr(hw),
				      nl_addr_get_len(hw), e->mac,
				      sizeof(e->mac)) < 0)
			e->mac[0] = '\0';
		s->n_links++;
	}
	return 0;
}

/* Copy a 4- or 16-byte address of the family; false if it is not one. */
static bool take_addr(struct nl_addr *a, int family, union ipinfo_inaddr *out)
{
	size_t want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;

	if (!a || !want || nl_addr_get_family(a) != family ||
	    nl_addr_get_len(a) != want)
		return false;
	memcpy(out, nl_addr_get_binary_addr(a), want);
	return true;
}

static int snap_addrs(struct kvp_ipinfo *ii)
{
	struct ipinfo_snapshot *s = &ii->snap;
	struct nl_object *o;

	s->n_addrs = 0;
	for (o = nl_cache_get_first(ii->addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct ipinfo_addr *e;
		void *p;

		p = grow(s->addrs, s->n_addrs, &ii->cap_addrs, sizeof(*e));
		if (!p)
			return -ENOMEM;
		s->addrs = p;
		e = &s->addrs[s->n_addrs];
		memset(e, 0, sizeof(*e));
		e->ifindex = rtnl_addr_get_ifindex(a);
		e->family = rtnl_addr_get_family(a);
		e->prefixlen = (unsigned int)rtnl_addr_get_prefixlen(a);
		if (take_addr(rtnl_addr_get_local(a), e->family, &e->addr))
			s->n_addrs++;
	}
	return 0;
}

static int snap_routes(struct kvp_ipinfo *ii)
{
	struct ipinfo_snapshot *s = &ii->snap;
	struct nl_object *o;

	s->n_gws = 0;
	for (o = nl_cache_get_first(ii->routes); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		struct nl_addr *dst = rtnl_route_get_dst(r);
		int family = rtnl_route_get_family(r);
		int nh = rtnl_route_get_nnexthops(r);

		if ((family != AF_INET && family != AF_INET6) ||
		    rtnl_route_get_table(r) != RT_TABLE_MAIN ||
		    rtnl_route_get_type(r) != RTN_UNICAST ||
		    (dst && nl_addr_get_prefixlen(dst) != 0))
			continue;
		for (int i = 0; i < nh; i++) {
			struct rtnl_nexthop *n = rtnl_route_nexthop_n(r, i);
			struct ipinfo_gateway *e;
			void *p;

			if (!n)
				continue;
			p = grow(s->gws, s->n_gws, &ii->cap_gws, sizeof(*e));
			if (!p)
				return -ENOMEM;
			s->gws = p;
			e = &s->gws[s->n_gws];
			memset(e, 0, sizeof(*e));
			e->ifindex = rtnl_route_nh_get_ifindex(n);
			e->family = family;
			e->metric = rtnl_route_get_priority(r);
			if (take_addr(rtnl_route_nh_get_gateway(n), family,
				      &e->addr))
				s->n_gws++;
		}
	}
	return 0;
}

static void disconnect(struct kvp_ipinfo *ii)
{
	if (ii->links)
		nl_cache_free(ii->links);
	if (ii->addrs)
		nl_cache_free(ii->addrs);
	if (ii->routes)
		nl_cache_free(ii->routes);
	if (ii->sk)
		nl_socket_free(ii->sk);
	ii->links = ii->addrs = ii->routes = NULL;
	ii->sk = NULL;
}

/* Dump the three tables: the first time fills new caches, then refills. */
static int dump(struct kvp_ipinfo *ii)
{
	int r;

	if (!ii->sk) {
		ii->sk = nl_socket_alloc();
		if (!ii->sk)
			return -ENOMEM;
		r = nl_connect(ii->sk, NETLINK_ROUTE);
		if (r < 0)
			return nl_to_errno(r);
		r = rtnl_link_alloc_cache(ii->sk, AF_UNSPEC, &ii->links);
		if (r >= 0)
			r = rtnl_addr_alloc_cache(ii->sk, &ii->addrs);
		if (r >= 0)
			r = rtnl_route_alloc_cache(ii->sk, AF_UNSPEC, 0,
						   &ii->routes);
	} else {
		r = nl_cache_refill(ii->sk, ii->links);
		if (r >= 0)
			r = nl_cache_refill(ii->sk, ii->addrs);
		if (r >= 0)
			r = nl_cache_refill(ii->sk, ii->routes);
	}
	return r < 0 ? nl_to_errno(r) : 0;
}

static int refresh(struct kvp_ipinfo *ii)
{
	int r = -EAGAIN;

	for (int i = 0; i < DUMP_ATTEMPTS && r == -EAGAIN; i++) {
		r = dump(ii);
		if (r < 0 && r != -EAGAIN)
			/* A socket in an unknown state: start afresh next time. */
			disconnect(ii);
	}
	if (r < 0)
		return r;
	r = snap_links(ii);
	if (r >= 0)
		r = snap_addrs(ii);
	if (r >= 0)
		r = snap_routes(ii);
	return r;
}

int kvp_ipinfo_new(const struct kvp_ipinfo_config *cfg, struct kvp_ipinfo **ret)
{
	struct kvp_ipinfo *ii = calloc(1, sizeof(*ii));
	const char *run = cfg && cfg->run_dir ? cfg->run_dir :
						hv_path_base(HV_PATH_RUN);
	const char *conf = cfg && cfg->conf_dir ? cfg->conf_dir :
						  hv_path_base(HV_PATH_CONF);

	if (!ii)
		return -ENOMEM;
	ii->run_dir = strdup(run);
	ii->conf_dir = strdup(conf);
	ii->flags = cfg ? cfg->flags : 0;
	if (!ii->run_dir || !ii->conf_dir) {
		kvp_ipinfo_free(ii);
		return -ENOMEM;
	}
	*ret = ii;
	return 0;
}

struct kvp_ipinfo *kvp_ipinfo_free(struct kvp_ipinfo *ii)
{
	if (!ii)
		return NULL;
	disconnect(ii);
	free(ii->snap.links);
	free(ii->snap.addrs);
	free(ii->snap.gws);
	free(ii->run_dir);
	free(ii->conf_dir);
	free(ii);
	return NULL;
}

int kvp_ipinfo_get(struct kvp_ipinfo *ii, const char *mac,
		   struct kvp_ip_fields *f, struct kvp_ipinfo_result *res)
{
	const struct netconf_config nc = { .run_dir = ii->run_dir,
					   .conf_dir = ii->conf_dir };
	char scratch[KVP_IP_ADDR_SIZE];
	struct kvp_ip_fields out;
	struct netconf_link conf;
	unsigned int matches, n;
	struct iplist dns;
	int li, r;

	if (strnlen(mac, KVP_IP_ADAPTER_SIZE) == KVP_IP_ADAPTER_SIZE)
		return -E2BIG;
	r = refresh(ii);
	if (r < 0)
		return r;
	li = ipinfo_select(&ii->snap, mac, ii->flags, &matches);
	if (li < 0)
		return li;
	memset(&out, 0, sizeof(out));
	hv_strscpy(out.adapter_id, mac, sizeof(out.adapter_id));
	n = ipinfo_fill(&ii->snap, (size_t)li, ii->flags, &out);
	/* Without addresses the DNS servers are left out (see ipinfo.h). */
	if (n)
		iplist_init(&dns, out.dns_addr, sizeof(out.dns_addr));
	else
		iplist_init(&dns, scratch, sizeof(scratch));
	r = netconf_query(&nc, ii->snap.links[li].ifindex,
			  ii->snap.links[li].name, &dns, &conf);
	if (r < 0)
		memset(&conf, 0, sizeof(conf));
	out.dhcp_enabled = conf.dhcp;
	memcpy(f, &out, sizeof(out));
	if (res) {
		memcpy(res->ifname, ii->snap.links[li].name,
		       sizeof(res->ifname));
		res->ifindex = ii->snap.links[li].ifindex;
		res->matches = matches;
		res->addresses = n;
		res->conf = conf;
	}
	return 0;
}
