/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hvis/log.h"
#include "kvp-ipmsg.h"
#include "kvp-proto.h"
#include "kvp-service.h"

static const char *const op_names[] = {
	[KVP_OP_GET] = "GET",
	[KVP_OP_SET] = "SET",
	[KVP_OP_DELETE] = "DELETE",
	[KVP_OP_ENUMERATE] = "ENUMERATE",
	[KVP_OP_GET_IP_INFO] = "GET_IP_INFO",
	[KVP_OP_SET_IP_INFO] = "SET_IP_INFO",
};

static const char *op_name(uint8_t op)
{
	return op < ARRAY_SIZE(op_names) && op_names[op] ? op_names[op] : "?";
}

/*
 * A foreign record may fill its whole field with no NUL; the host field
 * holds one byte less. Cut at a UTF-8 character boundary.
 */
static void clip_utf8(char *s, size_t len, size_t max)
{
	if (len <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	s[max] = '\0';
}

static uint32_t status_of(int r)
{
	if (r >= 0)
		return HV_S_OK;
	/* §3.3: not found and the end of an enumeration are not errors. */
	if (r == -ENOENT)
		return HV_S_CONT;
	return HV_E_FAIL;
}

static int do_get(struct kvp_service *s, const struct kvp_request *req,
		  uint8_t *msg)
{
	char value[KVP_VALUE_MAX + 1];
	int r;

	if (req->pool == KVP_POOL_AUTO)
		r = kvp_auto_get(s->intrinsic, req->key, value, sizeof(value));
	else
		r = kvp_pool_get(s->store, req->pool, req->key, value,
				 sizeof(value));
	if (r < 0)
		return r;
	clip_utf8(value, strlen(value), KVP_VALUE_MAX - 1);
	return kvp_proto_reply_get(msg, value);
}

static int do_enumerate(struct kvp_service *s, const struct kvp_request *req,
			uint8_t *msg)
{
	struct kvp_pool_record rec;
	int r;

	if (req->pool == KVP_POOL_AUTO) {
		r = kvp_auto_enumerate(s->intrinsic, req->index, rec.key,
				       sizeof(rec.key), rec.value,
				       sizeof(rec.value));
		if (r < 0)
			return r;
		rec.key_len = strlen(rec.key);
		rec.value_len = strlen(rec.value);
	} else {
		r = kvp_pool_enumerate(s->store, req->pool, req->index, &rec);
		if (r < 0)
			return r;
	}
	clip_utf8(rec.key, rec.key_len, KVP_KEY_MAX - 1);
	clip_utf8(rec.value, rec.value_len, KVP_VALUE_MAX - 1);
	return kvp_proto_reply_enumerate(msg, rec.key, rec.value);
}

static int do_get_ip_info(struct kvp_service *s, uint8_t *msg)
{
	struct kvp_ipinfo_result res;
	struct kvp_ip_fields f;
	char esc[3 * KVP_IP_ADAPTER_SIZE];
	int r;

	if (!s->ipinfo)
		return -EOPNOTSUPP;
	r = kvp_ipmsg_decode(msg, KVP_MSG_SIZE, &f);
	if (r < 0)
		return r;
	hv_log_escape(f.adapter_id, strlen(f.adapter_id), esc, sizeof(esc));
	r = kvp_ipinfo_get(s->ipinfo, f.adapter_id, &f, &res);
	if (r == -ENODEV) {
		log_debug("GET_IP_INFO \"%s\": no interface has this MAC", esc);
		return r;
	}
	if (r < 0)
		return log_warning_errno(r,
					 "GET_IP_INFO \"%s\": cannot read "
					 "the interfaces",
					 esc);
	log_debug("GET_IP_INFO \"%s\": %s (%u with this MAC), %u "
		  "address(es), DHCP %s, DNS from %s, managed by %s",
		  esc, res.ifname, res.matches, res.addresses,
		  f.dhcp_enabled ? "on" : "off",
		  netconf_dns_source_name(res.conf.dns_source),
		  netconf_manager_name(res.conf.manager));
	return kvp_ipmsg_reply(msg, &f);
}

/* SET_IP_INFO answers with ipconfig's own status (§3.6). */
static uint32_t do_set_ip_info(struct kvp_service *s, const uint8_t *msg)
{
	static const struct kvp_ipconfig_ctx defaults = { 0 };
	struct kvp_ip_fields f;
	int r;

	r = kvp_ipmsg_decode(msg, KVP_MSG_SIZE, &f);
	if (r < 0) {
		log_warning_errno(r, "SET_IP_INFO: malformed message refused");
		return HV_E_FAIL;
	}
	return kvp_ipconfig_apply(s->ipconfig ? s->ipconfig : &defaults, &f);
}

static int dispatch(struct kvp_service *s, const struct kvp_request *req,
		    uint8_t *msg)
{
	switch (req->op) {
	case KVP_OP_GET:
		return do_get(s, req, msg);
	case KVP_OP_SET:
		/* Pool 2 is what the guest reports: the host cannot set it. */
		if (req->pool == KVP_POOL_AUTO)
			return -EPERM;
		return kvp_pool_set(s->store, req->pool, req->key, req->value);
	case KVP_OP_DELETE:
		if (req->pool == KVP_POOL_AUTO)
			return -EPERM;
		return kvp_pool_delete(s->store, req->pool, req->key);
	case KVP_OP_ENUMERATE:
		return do_enumerate(s, req, msg);
	case KVP_OP_GET_IP_INFO:
		return do_get_ip_info(s, msg);
	default:
		return -EOPNOTSUPP;
	}
}

int kvp_service_handle(struct kvp_service *s, uint8_t *msg, size_t len)
{
	struct kvp_request req;
	char esc[128];
	uint32_t status;
	int r;

	r = kvp_proto_decode(msg, len, &req);
	if (r == -EBADMSG)
		return log_debug_errno(r, "KVP message of %zu bytes ignored",
				       len);
	if (r == 0 && req.op == KVP_OP_REGISTER1) {
		hv_strscpy(s->ic_version, req.value, sizeof(s->ic_version));
		kvp_auto_set_ic_version(s->intrinsic, s->ic_version);
		return KVP_HANDLED_REGISTERED;
	}
	s->requests++;
	if (r < 0) {
		s->bad_requests++;
		log_debug_errno(r, "bad %s request (op %u, pool %u) refused",
				op_name(req.op), req.op, req.pool);
		kvp_proto_set_status(msg, HV_E_FAIL);
		return KVP_HANDLED_REPLY;
	}
	/* The status overwrites the header: handle first, then set it. */
	if (req.op == KVP_OP_SET_IP_INFO) {
		status = do_set_ip_info(s, msg);
		kvp_proto_set_status(msg, status);
		log_debug("SET_IP_INFO: 0x%08x", status);
		return KVP_HANDLED_REPLY;
	}
	r = dispatch(s, &req, msg);
	status = status_of(r);
	kvp_proto_set_status(msg, status);
	if (hv_log_get_max_level() >= LOG_DEBUG) {
		hv_log_escape(req.key, strlen(req.key), esc, sizeof(esc));
		if (req.op == KVP_OP_ENUMERATE)
			log_debug("ENUMERATE pool %u index %u: 0x%08x",
				  req.pool, req.index, status);
		else if (req.op == KVP_OP_GET_IP_INFO)
			log_debug("GET_IP_INFO: 0x%08x", status);
		else
			log_debug("%s pool %u key \"%s\": 0x%08x%s%s",
				  op_name(req.op), req.pool, esc, status,
				  r < 0 && r != -ENOENT ? " " : "",
				  r < 0 && r != -ENOENT ? strerror(-r) : "");
	}
	if (r < 0 && r != -ENOENT && r != -EOPNOTSUPP && r != -EPERM &&
	    req.op != KVP_OP_GET_IP_INFO)
		log_warning_errno(r, "%s on pool %u failed", op_name(req.op),
				  req.pool);
	return KVP_HANDLED_REPLY;
}
