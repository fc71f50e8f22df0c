/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>

#include "hvis/paths.h"
#include "hvis/util.h"

static const char *const defaults[_HV_PATH_MAX] = {
	[HV_PATH_DEV] = "/dev",
	[HV_PATH_SYS] = "/sys",
	[HV_PATH_STATE] = "/var/lib/hyperv",
	[HV_PATH_RUN] = "/run",
	[HV_PATH_CONF] = "/etc",
};

static char bases[_HV_PATH_MAX][PATH_MAX];

const char *hv_path_base(enum hv_path_base base)
{
	if (base < 0 || base >= _HV_PATH_MAX)
		return "/";
	return bases[base][0] ? bases[base] : defaults[base];
}

int hv_path_set_base(enum hv_path_base base, const char *dir)
{
	size_t len;
	int r;

	if (base < 0 || base >= _HV_PATH_MAX || !dir || dir[0] == '\0')
		return -EINVAL;
	r = hv_strscpy(bases[base], dir, sizeof(bases[base]));
	if (r < 0) {
		bases[base][0] = '\0';
		return r;
	}
	/* "/x/" and "/x" name the same base; keep joins clean. */
	len = (size_t)r;
	while (len > 1 && bases[base][len - 1] == '/')
		bases[base][--len] = '\0';
	return 0;
}

int hv_path_set_root(const char *root)
{
	char dir[PATH_MAX];
	int b, r;

	for (b = 0; b < _HV_PATH_MAX; b++) {
		r = hv_snprintf(dir, sizeof(dir), "%s%s", root, defaults[b]);
		if (r < 0)
			return r;
		r = hv_path_set_base(b, dir);
		if (r < 0)
			return r;
	}
	return 0;
}

int hv_path(enum hv_path_base base, const char *rel, char *dst, size_t size)
{
	const char *b = hv_path_base(base);

	while (*rel == '/')
		rel++;
	if (*rel == '\0')
		return hv_snprintf(dst, size, "%s", b);
	return hv_snprintf(dst, size, "%s%s%s", b,
			   strcmp(b, "/") == 0 ? "" : "/", rel);
}
