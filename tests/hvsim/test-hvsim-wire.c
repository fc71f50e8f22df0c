/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Struct sizes and field positions, as listed in protocol.md §1.5, checked
 * against the headers both sides compile with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hvsim.h"

static void test_kvp_layout(void **state)
{
	assert_int_equal(sizeof(struct hv_kvp_msg), 7432);
	assert_int_equal(sizeof(struct hv_kvp_hdr), 4);
	assert_int_equal(sizeof(struct hv_kvp_exchg_msg_value), 2572);
	assert_int_equal(sizeof(struct hv_kvp_msg_enumerate), 2576);
	assert_int_equal(sizeof(struct hv_kvp_msg_delete), 516);
	assert_int_equal(sizeof(struct hv_kvp_register), 512);
	assert_int_equal(sizeof(struct hv_kvp_ipaddr_value), 7426);
	assert_int_equal(sizeof(struct hv_kvp_ip_msg), 7428);
	assert_int_equal(offsetof(struct hv_kvp_msg, body), 4);
	assert_int_equal(
		offsetof(struct hv_kvp_msg, body.kvp_enum_data.data.key), 20);
	assert_int_equal(offsetof(struct hv_kvp_msg,
				  body.kvp_enum_data.data.value),
			 532);
	assert_int_equal(offsetof(struct hv_kvp_msg, body.kvp_set.data.key),
			 16);
	assert_int_equal(offsetof(struct hv_kvp_msg, body.kvp_get.data.value),
			 528);
	assert_int_equal(offsetof(struct hv_kvp_msg, body.kvp_delete.key), 8);
	assert_int_equal(offsetof(struct hv_kvp_msg, body.kvp_ip_val), 4);
	assert_int_equal(offsetof(struct hv_kvp_msg, body.kvp_ip_val.ip_addr),
			 262);
	assert_int_equal(offsetof(struct hv_kvp_msg, body.kvp_register.version),
			 4);
	assert_int_equal(offsetof(struct hv_kvp_ip_msg, kvp_ip_val), 2);
	assert_int_equal(offsetof(struct hv_kvp_ipaddr_value, dns_addr), 5378);
}

static void test_vss_fcopy_layout(void **state)
{
	assert_int_equal(sizeof(struct hv_vss_msg), 12);
	assert_int_equal(offsetof(struct hv_vss_msg, vss_cf.flags), 8);
	assert_int_equal(sizeof(struct hv_fcopy_hdr), 36);
	assert_int_equal(sizeof(struct hv_start_fcopy), 1088);
	assert_int_equal(offsetof(struct hv_start_fcopy, file_name), 36);
	assert_int_equal(offsetof(struct hv_start_fcopy, path_name), 556);
	assert_int_equal(offsetof(struct hv_start_fcopy, copy_flags), 1076);
	assert_int_equal(offsetof(struct hv_start_fcopy, file_size), 1080);
	assert_int_equal(sizeof(struct hv_do_fcopy), 6196);
	assert_int_equal(offsetof(struct hv_do_fcopy, offset), 40);
	assert_int_equal(offsetof(struct hv_do_fcopy, size), 48);
	assert_int_equal(offsetof(struct hv_do_fcopy, data), 52);
	/* Full wire sizes with the 28-byte IC header (§1.5). */
	assert_int_equal(ICMSG_HDR + sizeof(struct hv_start_fcopy), 1116);
	assert_int_equal(ICMSG_HDR + sizeof(struct hv_do_fcopy), 6224);
	assert_int_equal(ICMSG_HDR + sizeof(struct hv_kvp_msg), 7460);
	assert_int_equal(ICMSG_HDR + sizeof(struct hv_shutdown_msg_data), 2088);
}

static void test_ring_layout(void **state)
{
	assert_int_equal(sizeof(struct hv_ring_hdr), 4096);
	assert_int_equal(offsetof(struct hv_ring_hdr, write_index), 0);
	assert_int_equal(offsetof(struct hv_ring_hdr, read_index), 4);
	assert_int_equal(offsetof(struct hv_ring_hdr, interrupt_mask), 8);
	assert_int_equal(offsetof(struct hv_ring_hdr, pending_send_sz), 12);
	assert_int_equal(offsetof(struct hv_ring_hdr, feature_bits), 64);
	assert_int_equal(sizeof(struct hv_pkt_desc), 16);
	assert_int_equal(offsetof(struct hv_pkt_desc, offset8), 2);
	assert_int_equal(offsetof(struct hv_pkt_desc, len8), 4);
	assert_int_equal(offsetof(struct hv_pkt_desc, flags), 6);
	assert_int_equal(offsetof(struct hv_pkt_desc, trans_id), 8);
	assert_int_equal(HV_RING_TRAILER_SIZE, 8);
}

static void test_ic_layout(void **state)
{
	assert_int_equal(ICMSG_HDR, 28);
	assert_int_equal(offsetof(struct hv_icmsg_hdr, icmsgtype), 4);
	assert_int_equal(offsetof(struct hv_icmsg_hdr, icvermsg), 6);
	assert_int_equal(offsetof(struct hv_icmsg_hdr, icmsgsize), 10);
	assert_int_equal(offsetof(struct hv_icmsg_hdr, status), 12);
	assert_int_equal(offsetof(struct hv_icmsg_hdr, ictransaction_id), 16);
	assert_int_equal(offsetof(struct hv_icmsg_hdr, icflags), 17);
	assert_int_equal(offsetof(struct hv_icmsg_negotiate, icversion_data),
			 8);
	assert_int_equal(sizeof(struct hv_shutdown_msg_data), 2060);
	assert_int_equal(offsetof(struct hv_shutdown_msg_data, display_message),
			 12);
	assert_int_equal(HV_IC_VERSION(3, 2), 0x00030002);
	assert_int_equal(UTIL_FW_VERSION, HV_IC_VERSION(3, 0));
}

static void test_status_codes(void **state)
{
	assert_int_equal(HV_S_OK, 0);
	assert_int_equal(HV_E_FAIL, 0x80004005u);
	assert_int_equal(HV_ERROR_ALREADY_EXISTS, 0x80070050u);
	assert_int_equal(HV_ERROR_DISK_FULL, 0x80070070u);
	assert_int_equal(KVP_OP_REGISTER1, 100);
	assert_int_equal(VSS_OP_REGISTER1, 129);
	assert_int_equal(FCOPY_CURRENT_VERSION, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kvp_layout),
		cmocka_unit_test(test_vss_fcopy_layout),
		cmocka_unit_test(test_ring_layout),
		cmocka_unit_test(test_ic_layout),
		cmocka_unit_test(test_status_codes),
	};

	return cmocka_run_group_tests_name("hvsim-wire", tests, NULL, NULL);
}
