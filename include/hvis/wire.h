/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * On-the-wire layouts that the kernel does not export to userspace:
 * VMBus ring header, packet descriptor and the IC framing (protocol.md
 * §1.1, §1.2, §1.5). Everything the kernel does export (KVP, VSS, FCOPY
 * messages, status codes) comes from <linux/hyperv.h>.
 *
 * These definitions are shared with the host simulator; the logic that
 * interprets them is not.
 */
#ifndef HVIS_WIRE_H
#define HVIS_WIRE_H

#include <stdint.h>
#include <linux/hyperv.h>

#define HV_PACKED __attribute__((__packed__))

/* §1.1: first page of each ring; the data area follows at offset 4096. */
#define HV_RING_HDR_SIZE 4096u

struct hv_ring_hdr {
	uint32_t write_index;
	uint32_t read_index;
	uint32_t interrupt_mask;
	uint32_t pending_send_sz;
	uint32_t reserved1[12];
	uint32_t feature_bits;
	uint8_t reserved2[4028];
} HV_PACKED;

#define HV_RING_FEAT_PENDING_SEND_SZ 0x1u

/* §1.1: the 8-byte trailer after each packet holds the old write index. */
#define HV_RING_TRAILER_SIZE 8u

struct hv_pkt_desc {
	uint16_t type;
	uint16_t offset8; /* header length / 8 */
	uint16_t len8; /* whole packet incl. padding / 8 */
	uint16_t flags;
	uint64_t trans_id;
} HV_PACKED;

#define VM_PKT_DATA_INBAND 6
#define VM_PKT_COMP 11
#define VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED 1

/* §1.2 */
struct hv_pipe_hdr {
	uint32_t flags;
	uint32_t msgsize;
} HV_PACKED;

struct hv_ic_version {
	uint16_t major;
	uint16_t minor;
} HV_PACKED;

struct hv_icmsg_hdr {
	struct hv_ic_version icverframe;
	uint16_t icmsgtype;
	struct hv_ic_version icvermsg;
	uint16_t icmsgsize;
	uint32_t status;
	uint8_t ictransaction_id;
	uint8_t icflags;
	uint8_t reserved[2];
} HV_PACKED;

/* Pipe header + IC header: where every IC message body starts. */
#define ICMSG_HDR (sizeof(struct hv_pipe_hdr) + sizeof(struct hv_icmsg_hdr))

#define ICMSGTYPE_NEGOTIATE 0
#define ICMSGTYPE_HEARTBEAT 1
#define ICMSGTYPE_KVPEXCHANGE 2
#define ICMSGTYPE_SHUTDOWN 3
#define ICMSGTYPE_TIMESYNC 4
#define ICMSGTYPE_VSS 5
#define ICMSGTYPE_FCOPY 7

#define ICMSGHDRFLAG_TRANSACTION 1
#define ICMSGHDRFLAG_REQUEST 2
#define ICMSGHDRFLAG_RESPONSE 4

/* §1.3 */
struct hv_icmsg_negotiate {
	uint16_t icframe_vercnt;
	uint16_t icmsg_vercnt;
	uint32_t reserved;
	struct hv_ic_version icversion_data[];
} HV_PACKED;

#define IC_VERSION_NEGOTIATION_MAX_VER_COUNT 100
#define HV_IC_VERSION(maj, min) ((uint32_t)(maj) << 16 | (uint32_t)(min))
#define HV_IC_VERSION_MAJOR(v) ((uint16_t)((v) >> 16))
#define HV_IC_VERSION_MINOR(v) ((uint16_t)((v)&0xffff))

/* §6 */
#define HV_SHUTDOWN_MSG_LEN 2048
struct hv_shutdown_msg_data {
	uint32_t reason_code;
	uint32_t timeout_seconds;
	uint32_t flags;
	uint8_t display_message[HV_SHUTDOWN_MSG_LEN];
} HV_PACKED;

#define HV_SHUTDOWN_FLAG_FORCE 0x1u
#define HV_SHUTDOWN_FLAG_REBOOT 0x2u
#define HV_SHUTDOWN_FLAG_HIBERNATE 0x4u

/* Class GUIDs of the IC channels (§1.3) and the fixed fcopy instance (§5.3). */
#define HV_GUID_SHUTDOWN "0e0b6031-5213-4934-818b-38d90ced39db"
#define HV_GUID_TIMESYNC "9527e630-d0ae-497b-adce-e80ab0175caf"
#define HV_GUID_HEARTBEAT "57164f39-9115-4e78-ab55-382f3bd5422d"
#define HV_GUID_KVP "a9a0f4e7-5a45-4d96-b827-8a841e8c03e6"
#define HV_GUID_VSS "35fa2e29-ea23-4236-96ae-3a6ebacba440"
#define HV_GUID_FCOPY "34d14be3-dee4-41c8-9ae7-6b174977c192"
#define HV_GUID_FCOPY_INSTANCE "eb765408-105f-49b6-b4aa-c123b64d17d4"

/* The daemon-side pool record (§3.3). */
struct hv_kvp_record {
	char key[HV_KVP_EXCHANGE_MAX_KEY_SIZE];
	char value[HV_KVP_EXCHANGE_MAX_VALUE_SIZE];
} HV_PACKED;

_Static_assert(sizeof(struct hv_ring_hdr) == HV_RING_HDR_SIZE, "ring hdr");
_Static_assert(sizeof(struct hv_pkt_desc) == 16, "pkt desc");
_Static_assert(sizeof(struct hv_pipe_hdr) == 8, "pipe hdr");
_Static_assert(sizeof(struct hv_icmsg_hdr) == 20, "icmsg hdr");
_Static_assert(ICMSG_HDR == 28, "IC header");
_Static_assert(sizeof(struct hv_icmsg_negotiate) == 8, "negotiate");
_Static_assert(sizeof(struct hv_shutdown_msg_data) == 2060, "shutdown");
_Static_assert(sizeof(struct hv_kvp_record) == 2560, "kvp record");
_Static_assert(sizeof(struct hv_kvp_msg) == 7432, "kvp msg");
_Static_assert(sizeof(struct hv_kvp_ip_msg) == 7428, "kvp ip msg");
_Static_assert(sizeof(struct hv_vss_msg) == 12, "vss msg");
_Static_assert(sizeof(struct hv_start_fcopy) == 1088, "start fcopy");
_Static_assert(sizeof(struct hv_do_fcopy) == 6196, "do fcopy");

#endif
