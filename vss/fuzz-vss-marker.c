/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Arbitrary bytes as a frozen-state marker: whatever parses must format
 * back into text that parses to the same filesystems and hooks.
 */
#include <stdlib.h>

#include "hvis/util.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vss_marker *m = NULL, *m2 = NULL;
	struct freeze_set *s = NULL;
	char *text = NULL;
	size_t i, len;

	if (vss_marker_parse((const char *)data, size, &m) < 0)
		return 0;
	if (freeze_set_new(&s) < 0)
		abort();
	for (i = 0; i < m->n_fs; i++)
		if (freeze_set_add(s, m->fs[i].mount_point, m->fs[i].fstype,
				   m->fs[i].major, m->fs[i].minor,
				   m->fs[i].mnt_id, FREEZE_FS_FROZEN) < 0)
			abort();
	if (vss_marker_format(s, (const char *const *)m->hooks, m->n_hooks,
			      m->pid, m->since, &text, &len) < 0 ||
	    vss_marker_parse(text, len, &m2) < 0)
		abort();
	if (m2->n_fs != m->n_fs || m2->n_hooks != m->n_hooks ||
	    m2->pid != m->pid || m2->since != m->since)
		abort();
	for (i = 0; i < m->n_fs; i++)
		if (strcmp(m2->fs[i].mount_point, m->fs[i].mount_point) ||
		    strcmp(m2->fs[i].fstype, m->fs[i].fstype) ||
		    m2->fs[i].major != m->fs[i].major ||
		    m2->fs[i].minor != m->fs[i].minor ||
		    m2->fs[i].mnt_id != m->fs[i].mnt_id || !m2->fs[i].frozen)
			abort();
	for (i = 0; i < m->n_hooks; i++)
		if (strcmp(m2->hooks[i], m->hooks[i]))
			abort();
	free(text);
	freeze_set_free(s, NULL);
	vss_marker_free(m2);
	vss_marker_free(m);
	return 0;
}
