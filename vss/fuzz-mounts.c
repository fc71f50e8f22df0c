/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Arbitrary text as mountinfo: parse, select twice (plain, then with
 * --only and exclude globs) against a sysfs root that does not exist, and
 * check what any result must satisfy.
 */
#include <limits.h>
#include <stdlib.h>

#include "hvis/util.h"
#include "mounts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Never touches the file system: a btrfs source maps by its name. */
static int fuzz_resolve(const char *source, unsigned int *ret_major,
			unsigned int *ret_minor, void *userdata)
{
	if (strncmp(source, "/dev/loop", 9) == 0) {
		*ret_major = 7;
		*ret_minor = 0;
		return 0;
	}
	if (strcmp(source, "/dev/denied") == 0)
		return -EACCES;
	return -ENOENT;
}

static size_t depth(const char *p)
{
	size_t d = 0;

	for (; *p; p++)
		if (p[0] == '/' && p[1] != '/' && p[1] != '\0')
			d++;
	return d;
}

static void check(const struct mount_list *l)
{
	size_t i, k, frozen = 0, bad = 0;

	for (i = 0; i < _MOUNTS_BAD_MAX; i++)
		bad += l->bad[i];
	if (bad != l->n_bad || l->n_entries > MOUNTS_MAX)
		abort();
	for (i = 0; i < l->n_entries; i++) {
		const struct mount_entry *e = &l->entries[i];

		if (!e->why || !e->mount_point || !e->source ||
		    e->mount_point[0] != '/' ||
		    strlen(e->mount_point) >= PATH_MAX ||
		    strlen(e->source) >= PATH_MAX ||
		    strnlen(e->fstype, sizeof(e->fstype)) == sizeof(e->fstype))
			abort();
		if ((e->decision == MOUNT_FREEZE) !=
		    (e->reason == MOUNT_SKIP_NONE))
			abort();
		if (e->decision == MOUNT_FREEZE)
			frozen++;
	}
	if (frozen != l->n_freeze)
		abort();
	for (k = 0; k < l->n_freeze; k++) {
		const struct mount_entry *e;

		if (l->freeze[k] >= l->n_entries)
			abort();
		e = &l->entries[l->freeze[k]];
		if (e->decision != MOUNT_FREEZE)
			abort();
		/* Never the same filesystem twice; deeper mounts first. */
		for (i = 0; i < k; i++) {
			const struct mount_entry *f = &l->entries[l->freeze[i]];

			if (f->major == e->major && f->minor == e->minor)
				abort();
			if (depth(f->mount_point) < depth(e->mount_point))
				abort();
		}
		if (mounts_thaw_index(l, k) != l->freeze[l->n_freeze - 1 - k])
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const exclude[] = { "/mnt/*", "*\\[x]*", NULL };
	static const char *const only[] = { "/a", "/mnt/", NULL };
	struct mounts_config cfg = {
		.sys_root = "/nonexistent/hvis-fuzz-sysfs",
		.resolve_source = fuzz_resolve,
	};
	_cleanup_(mounts_freep) struct mount_list *l = NULL;
	int r;

	if (mounts_parse((const char *)data, size, &l) < 0)
		return 0;
	r = mounts_select(l, &cfg);
	if (r < 0 && r != -EACCES && r != -ENOMEM)
		abort();
	if (r != -ENOMEM)
		check(l);

	cfg.exclude = exclude;
	cfg.only = only;
	r = mounts_select(l, &cfg);
	if (r < 0 && r != -EACCES && r != -ENOMEM)
		abort();
	if (r != -ENOMEM)
		check(l);
	return 0;
}
