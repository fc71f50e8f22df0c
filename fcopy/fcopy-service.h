/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What hv_fcopy_daemon answers to each file copy request, whichever
 * transport brought it: the file operations of fcopy-file.h and the
 * status the host receives (§1.4, §5): HV_S_OK, HV_ERROR_ALREADY_EXISTS
 * for an existing file without OVER_WRITE, HV_ERROR_DISK_FULL when the
 * space is not there, HV_E_FAIL for everything else.
 */
#ifndef HVIS_FCOPY_SERVICE_H
#define HVIS_FCOPY_SERVICE_H

#include <stdint.h>

#include "fcopy-file.h"
#include "fcopy-proto.h"

struct fcopy_service {
	struct fcopy_file_opts opts;
	struct fcopy_copy copy;
	char target[512]; /* escaped "path/name" of the current copy */
	bool write_error_logged;
	int record_err_logged;
	uint64_t started, completed, failed, cancelled, refused;
};

/* Set s->opts first; then this readies the (idle) copy. */
void fcopy_service_init(struct fcopy_service *s);

/*
 * One request: decode_err is fcopy_proto_decode()'s result for req (a
 * refused message still gets a status). Returns the status for the host.
 * A START (even a refused one) ends the copy in progress; a refused
 * WRITE spoils it (its data is lost, so COMPLETE must fail); CANCEL is
 * always HV_S_OK.
 */
uint32_t fcopy_service_handle(struct fcopy_service *s, int decode_err,
			      const struct fcopy_request *req);

/* The transport went away (or we stop): drop the copy in progress. */
void fcopy_service_abort(struct fcopy_service *s, const char *why);

#endif
