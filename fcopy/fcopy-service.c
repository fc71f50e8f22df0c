/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>

#include "fcopy-service.h"
#include "hvis/icmsg.h"
#include "hvis/log.h"

void fcopy_service_init(struct fcopy_service *s)
{
	fcopy_copy_init(&s->copy, &s->opts);
	s->target[0] = '\0';
}

static void set_target(struct fcopy_service *s, const struct fcopy_request *r)
{
	char joined[2 * FCOPY_NAME_SIZE + 2];
	size_t plen = strlen(r->path_name);
	int n;

	n = hv_snprintf(joined, sizeof(joined), "%s%s%s", r->path_name,
			plen && r->path_name[plen - 1] == '/' ? "" : "/",
			r->file_name);
	if (n < 0)
		n = (int)strnlen(joined, sizeof(joined));
	hv_log_escape(joined, (size_t)n, s->target, sizeof(s->target));
}

static void note_record(struct fcopy_service *s)
{
	int err = s->copy.record_err;

	/* The copy goes on; only crash clean-up is weakened. Say so once. */
	if (err && err != s->record_err_logged)
		log_warning_errno(err, "cannot keep the record %s",
				  s->opts.record_path);
	s->record_err_logged = err;
}

static uint32_t do_start(struct fcopy_service *s, const struct fcopy_request *r)
{
	int err;

	if (s->copy.active) {
		log_warning("copy to \"%s\" abandoned by a new START",
			    s->target);
		s->failed++;
	}
	set_target(s, r);
	s->write_error_logged = false;
	err = fcopy_file_start(&s->copy, r->path_name, r->file_name,
			       r->copy_flags, r->file_size);
	note_record(s);
	if (err < 0) {
		s->failed++;
		if (err == -EEXIST)
			log_info("copy to \"%s\" refused: the file exists and "
				 "the host did not ask to overwrite it",
				 s->target);
		else
			log_warning_errno(err, "copy to \"%s\" refused",
					  s->target);
		return hv_status_from_errno(err);
	}
	s->started++;
	log_info("copy to \"%s\" started (%" PRIu64 " bytes%s%s%s)", s->target,
		 r->file_size, r->file_size ? "" : ", size not announced",
		 r->copy_flags & OVER_WRITE ? ", overwrite" : "",
		 r->copy_flags & CREATE_PATH ? ", create path" : "");
	return HV_S_OK;
}

static uint32_t do_write(struct fcopy_service *s, const struct fcopy_request *r)
{
	int err;

	if (!s->copy.active) {
		log_warning("WRITE_TO_FILE at %" PRIu64 " with no copy in "
			    "progress refused",
			    r->offset);
		return HV_E_FAIL;
	}
	err = fcopy_file_write(&s->copy, r->offset, r->data, r->size);
	if (err < 0) {
		/* One line per copy: the host may keep sending. */
		if (!s->write_error_logged)
			log_warning_errno(err,
					  "copy to \"%s\": writing %" PRIu32
					  " bytes at %" PRIu64 " failed",
					  s->target, r->size, r->offset);
		s->write_error_logged = true;
		return hv_status_from_errno(err);
	}
	return HV_S_OK;
}

static uint32_t do_complete(struct fcopy_service *s)
{
	uint64_t bytes = s->copy.end, size = s->copy.size;
	bool write_failed = s->copy.failed;
	int err;

	if (!s->copy.active) {
		log_warning("COMPLETE_FCOPY with no copy in progress refused");
		return HV_E_FAIL;
	}
	err = fcopy_file_complete(&s->copy);
	note_record(s);
	if (err < 0) {
		s->failed++;
		if (err == -EIO && write_failed)
			log_warning("copy to \"%s\" failed: a write failed "
				    "earlier",
				    s->target);
		else if (err == -EIO && bytes != size)
			log_warning("copy to \"%s\" failed: %" PRIu64
				    " of %" PRIu64 " bytes arrived",
				    s->target, bytes, size);
		else
			log_warning_errno(err, "copy to \"%s\" failed",
					  s->target);
		return hv_status_from_errno(err);
	}
	s->completed++;
	log_info("copied \"%s\" (%" PRIu64 " bytes)", s->target, bytes);
	return HV_S_OK;
}

uint32_t fcopy_service_handle(struct fcopy_service *s, int decode_err,
			      const struct fcopy_request *req)
{
	if (decode_err < 0) {
		s->refused++;
		if (req->op == START_FILE_COPY)
			fcopy_service_abort(s, "a new START");
		else if (req->op == WRITE_TO_FILE && s->copy.active)
			s->copy.failed = true;
		if (decode_err == -EOPNOTSUPP)
			log_warning("unknown file copy operation %" PRIu32
				    " refused",
				    req->op);
		else
			log_warning_errno(decode_err, "malformed %s refused",
					  fcopy_proto_op_name(req->op));
		return HV_E_FAIL;
	}

	switch (req->op) {
	case START_FILE_COPY:
		return do_start(s, req);
	case WRITE_TO_FILE:
		return do_write(s, req);
	case COMPLETE_FCOPY:
		return do_complete(s);
	case CANCEL_FCOPY:
		/* Also the kernel's fake CANCEL on hibernation (§2). */
		if (s->copy.active) {
			s->cancelled++;
			log_info("copy to \"%s\" cancelled by the host",
				 s->target);
		}
		fcopy_file_abort(&s->copy);
		note_record(s);
		return HV_S_OK;
	default:
		return HV_E_FAIL;
	}
}

void fcopy_service_abort(struct fcopy_service *s, const char *why)
{
	if (!s->copy.active)
		return;
	s->failed++;
	log_warning("copy to \"%s\" abandoned: %s", s->target, why);
	fcopy_file_abort(&s->copy);
	note_record(s);
}
