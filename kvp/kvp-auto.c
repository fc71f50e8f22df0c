/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "hvis/util.h"
#include "kvp-auto.h"
#include "osrelease.h"

/* §3.4: the index order is the host's enumeration order. */
static const char *const key_names[_KVP_AUTO_KEY_MAX] = {
	[KVP_AUTO_FQDN] = "FullyQualifiedDomainName",
	[KVP_AUTO_IC_VERSION] = "IntegrationServicesVersion",
	[KVP_AUTO_IPV4] = "NetworkAddressIPv4",
	[KVP_AUTO_IPV6] = "NetworkAddressIPv6",
	[KVP_AUTO_OS_BUILD] = "OSBuildNumber",
	[KVP_AUTO_OS_NAME] = "OSName",
	[KVP_AUTO_OS_MAJOR] = "OSMajorVersion",
	[KVP_AUTO_OS_MINOR] = "OSMinorVersion",
	[KVP_AUTO_OS_VERSION] = "OSVersion",
	[KVP_AUTO_ARCH] = "ProcessorArchitecture",
};

#define DEFAULT_TTL_SEC 300u
#define DEFAULT_RETRY_SEC 30u

/*
 * One resolution, shared by the daemon and the worker thread. Only the
 * worker writes r and fqdn, before it sets done; the daemon reads them
 * only after seeing done. Whoever drops the last reference frees it.
 */
struct fqdn_job {
	atomic_int refs;
	atomic_bool done;
	int wfd; /* our own dup of the pipe's write end */
	kvp_auto_resolve_t resolve;
	void *userdata;
	int r;
	char host[KVP_AUTO_STR_SIZE];
	char fqdn[KVP_AUTO_STR_SIZE];
};

struct kvp_auto {
	struct kvp_auto_config cfg; /* defaults filled, strings ours */
	char *conf_dir;
	char *usr_dir;
	char **exclude; /* NULL-terminated */
	int pipe[2];

	char ic_version[KVP_AUTO_STR_SIZE];
	char os_build[KVP_AUTO_STR_SIZE];
	char os_name[KVP_AUTO_STR_SIZE];
	char os_major[KVP_AUTO_STR_SIZE];
	char os_minor[KVP_AUTO_STR_SIZE];
	char os_version[KVP_AUTO_STR_SIZE];
	char arch[KVP_AUTO_STR_SIZE];

	char host[KVP_AUTO_STR_SIZE]; /* hostname as last read */
	char res_host[KVP_AUTO_STR_SIZE]; /* last resolution landed for */
	char res_fqdn[KVP_AUTO_STR_SIZE]; /* its last good answer, or "" */
	uint64_t res_at; /* when it landed (ms) */
	bool res_failed; /* the last attempt for res_host failed */
	struct fqdn_job *job; /* in flight */
};

/* Length of the valid UTF-8 sequence at NUL-terminated s, 0 if invalid. */
static size_t utf8_seq(const unsigned char *s)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	/* The NUL terminator fails this test, so we never read past it. */
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		return 0;
	if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
		return 0;
	return len;
}

/*
 * Copy src into dst[size > 0] as valid UTF-8 without control characters
 * (each bad byte becomes '?'), stopping before a character that would
 * not fit in size - 1 bytes or KVP_AUTO_VALUE_MAX_UNITS UTF-16 units, so
 * neither we nor the kernel cut a character in half. Returns the length.
 */
static int value_put(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t len = 0, units = 0;

	while (*s) {
		size_t n = utf8_seq(s);
		size_t out = n ? n : 1, u = n == 4 ? 2 : 1;

		if (out > size - 1 - len ||
		    units + u > KVP_AUTO_VALUE_MAX_UNITS)
			break;
		if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f))) {
			dst[len++] = '?';
			s++;
		} else {
			memcpy(dst + len, s, n);
			len += n;
			s += n;
		}
		units += u;
	}
	dst[len] = '\0';
	return (int)len;
}

static int gai_errno(int e)
{
	switch (e) {
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_NONAME:
		return -ENOENT;
	case EAI_SYSTEM:
		return errno > 0 ? -errno : -EIO;
	default:
		return -EIO;
	}
}

static int default_resolve(const char *host, char *fqdn, size_t size, void *ud)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_CANONNAME,
	};
	struct addrinfo *res = NULL;
	int r;

	r = getaddrinfo(host, NULL, &hints, &res);
	if (r != 0)
		return gai_errno(r);
	if (res && res->ai_canonname && res->ai_canonname[0])
		r = hv_strscpy(fqdn, res->ai_canonname, size);
	else
		r = -ENOENT;
	freeaddrinfo(res);
	return r;
}

static int default_hostname(char *buf, size_t size, void *ud)
{
	if (gethostname(buf, size) < 0)
		return -errno;
	/* POSIX leaves a truncated name unterminated. */
	buf[size - 1] = '\0';
	return (int)strlen(buf);
}

static int default_addresses(struct ifaddr_entry **ret, size_t *ret_n, void *ud)
{
	return ifaddrs_list_system(ret, ret_n);
}

static int default_uname(struct utsname *u, void *ud)
{
	if (uname(u) < 0)
		return -errno;
	return 0;
}

static uint64_t default_now(void *ud)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void job_unref(struct fqdn_job *j)
{
	int fd;

	if (!j ||
	    atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) != 1)
		return;
	fd = j->wfd;
	free(j);
	/* Closed last, so a reader seeing EOF knows the job is gone. */
	if (fd >= 0)
		close(fd);
}

static void *job_run(void *p)
{
	struct fqdn_job *j = p;
	ssize_t n;

	j->r = j->resolve(j->host, j->fqdn, sizeof(j->fqdn), j->userdata);
	j->fqdn[sizeof(j->fqdn) - 1] = '\0';
	atomic_store_explicit(&j->done, true, memory_order_release);
	/*
	 * The byte only wakes the daemon's poll. If the daemon is gone the
	 * write fails with EPIPE; SIGPIPE is blocked in this thread.
	 */
	n = write(j->wfd, "", 1);
	(void)n;
	job_unref(j);
	return NULL;
}

static int job_start(struct kvp_auto *a, const char *host)
{
	_cleanup_free_ struct fqdn_job *j = NULL;
	_cleanup_close_ int wfd = -1;
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int r;

	wfd = fcntl(a->pipe[1], F_DUPFD_CLOEXEC, 3);
	if (wfd < 0)
		return -errno;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	atomic_init(&j->refs, 2);
	atomic_init(&j->done, false);
	j->resolve = a->cfg.resolve;
	j->userdata = a->cfg.userdata;
	r = hv_strscpy(j->host, host, sizeof(j->host));
	if (r < 0)
		return r;
	j->wfd = wfd;

	r = pthread_attr_init(&attr);
	if (r)
		return -r;
	r = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (r) {
		pthread_attr_destroy(&attr);
		return -r;
	}
	/* The daemon takes its signals through a signalfd, not here. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&t, &attr, job_run, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r)
		return -r;
	TAKE_FD(wfd);
	a->job = TAKE_PTR(j);
	return 0;
}

/* A resolution for host ended: fqdn, or NULL for a failure. */
static void fqdn_record(struct kvp_auto *a, const char *host, const char *fqdn,
			uint64_t now)
{
	if (strcmp(a->res_host, host) != 0) {
		hv_strscpy(a->res_host, host, sizeof(a->res_host));
		a->res_fqdn[0] = '\0';
	}
	/* A failure keeps the last good answer for the same name. */
	if (fqdn)
		hv_strscpy(a->res_fqdn, fqdn, sizeof(a->res_fqdn));
	a->res_failed = !fqdn;
	a->res_at = now;
}

/* Start resolving host unless one is in flight or the cache is fresh. */
static void fqdn_kick(struct kvp_auto *a, const char *host)
{
	uint64_t now, max_age;

	if (a->job || !host[0])
		return;
	now = a->cfg.now(a->cfg.userdata);
	if (strcmp(a->res_host, host) == 0) {
		max_age = (uint64_t)(a->res_failed ? a->cfg.retry_sec :
						     a->cfg.ttl_sec) *
			  1000;
		/* A clock going backwards counts as expired. */
		if (now >= a->res_at && now - a->res_at < max_age)
			return;
	}
	/* Without a thread, wait retry_sec as after a failed lookup. */
	if (job_start(a, host) < 0)
		fqdn_record(a, host, NULL, now);
}

/* Refresh a->host; a failing source leaves the last name seen. */
static void read_hostname(struct kvp_auto *a)
{
	char buf[KVP_AUTO_STR_SIZE];
	int r;

	buf[0] = '\0';
	r = a->cfg.hostname(buf, sizeof(buf), a->cfg.userdata);
	if (r >= 0 && memchr(buf, '\0', sizeof(buf)))
		hv_strscpy(a->host, buf, sizeof(a->host));
}

static int fqdn_value(struct kvp_auto *a, char *value, size_t vsize)
{
	const char *src = a->host;

	read_hostname(a);
	fqdn_kick(a, a->host);
	if (a->res_fqdn[0] && strcmp(a->res_host, a->host) == 0)
		src = a->res_fqdn;
	return value_put(value, vsize, src);
}

static int addr_value(struct kvp_auto *a, int family, char *value, size_t vsize)
{
	_cleanup_free_ struct ifaddr_entry *e = NULL;
	size_t n = 0;
	int r;

	/* No addresses is an answer too; an error would end enumeration. */
	r = a->cfg.addresses(&e, &n, a->cfg.userdata);
	if (r < 0)
		n = 0;
	r = ifaddrs_list_format(e, n, family, (const char *const *)a->exclude,
				a->cfg.link_local ? IFADDRS_LIST_LINK_LOCAL : 0,
				value, vsize);
	if (r < 0) {
		value[0] = '\0';
		return 0;
	}
	return r;
}

static int value_for(struct kvp_auto *a, enum kvp_auto_key k, char *value,
		     size_t vsize)
{
	switch (k) {
	case KVP_AUTO_FQDN:
		return fqdn_value(a, value, vsize);
	case KVP_AUTO_IC_VERSION:
		return value_put(value, vsize, a->ic_version);
	case KVP_AUTO_IPV4:
		return addr_value(a, AF_INET, value, vsize);
	case KVP_AUTO_IPV6:
		return addr_value(a, AF_INET6, value, vsize);
	case KVP_AUTO_OS_BUILD:
		return value_put(value, vsize, a->os_build);
	case KVP_AUTO_OS_NAME:
		return value_put(value, vsize, a->os_name);
	case KVP_AUTO_OS_MAJOR:
		return value_put(value, vsize, a->os_major);
	case KVP_AUTO_OS_MINOR:
		return value_put(value, vsize, a->os_minor);
	case KVP_AUTO_OS_VERSION:
		return value_put(value, vsize, a->os_version);
	case KVP_AUTO_ARCH:
		return value_put(value, vsize, a->arch);
	default:
		return -ENOENT;
	}
}

const char *kvp_auto_key_name(uint32_t index)
{
	return index < _KVP_AUTO_KEY_MAX ? key_names[index] : NULL;
}

int kvp_auto_enumerate(struct kvp_auto *a, uint32_t index, char *key,
		       size_t ksize, char *value, size_t vsize)
{
	int r;

	if (!a || !key || !value || vsize == 0)
		return -EINVAL;
	if (index >= _KVP_AUTO_KEY_MAX)
		return -ENOENT;
	r = hv_strscpy(key, key_names[index], ksize);
	if (r < 0)
		return r;
	return value_for(a, (enum kvp_auto_key)index, value, vsize);
}

int kvp_auto_get(struct kvp_auto *a, const char *key, char *value, size_t vsize)
{
	if (!a || !key || !value || vsize == 0)
		return -EINVAL;
	for (unsigned int i = 0; i < _KVP_AUTO_KEY_MAX; i++)
		if (strcmp(key, key_names[i]) == 0)
			return value_for(a, (enum kvp_auto_key)i, value, vsize);
	return -ENOENT;
}

int kvp_auto_set_ic_version(struct kvp_auto *a, const char *version)
{
	if (!a || !version)
		return -EINVAL;
	value_put(a->ic_version, sizeof(a->ic_version), version);
	return 0;
}

/* Read the first of <dir>/<name> pairs that exists; -ENOENT if none. */
static int read_first(char *const *paths, size_t n, char **ret, size_t *ret_len)
{
	for (size_t i = 0; i < n; i++)
		if (paths[i] &&
		    osrelease_read_file(paths[i], ret, ret_len) >= 0)
			return 0;
	return -ENOENT;
}

static char *path_join(const char *dir, const char *name, char *buf,
		       size_t size)
{
	return hv_snprintf(buf, size, "%s/%s", dir, name) < 0 ? NULL : buf;
}

/* Line n of a legacy release file; a line longer than v gives its start. */
static bool legacy_line(const char *buf, size_t len, unsigned int n, char *v,
			size_t size)
{
	int r = osrelease_line(buf, len, n, v, size);

	return r >= 0 || r == -E2BIG;
}

int kvp_auto_refresh_os(struct kvp_auto *a)
{
	char p1[PATH_MAX], p2[PATH_MAX], v[OSRELEASE_VALUE_SIZE];
	_cleanup_free_ char *buf = NULL;
	struct utsname u;
	char *paths[2];
	size_t len;
	char *dash;

	if (!a)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	if (a->cfg.uname(&u, a->cfg.userdata) < 0)
		memset(&u, 0, sizeof(u));
	u.sysname[sizeof(u.sysname) - 1] = '\0';
	u.release[sizeof(u.release) - 1] = '\0';
	u.machine[sizeof(u.machine) - 1] = '\0';
	value_put(a->os_build, sizeof(a->os_build), u.release);
	value_put(a->os_version, sizeof(a->os_version), u.release);
	dash = strchr(a->os_version, '-');
	if (dash)
		*dash = '\0';
	value_put(a->arch, sizeof(a->arch), u.machine);
	value_put(a->os_name, sizeof(a->os_name), u.sysname);
	a->os_major[0] = '\0';
	a->os_minor[0] = '\0';

	paths[0] = path_join(a->conf_dir, "os-release", p1, sizeof(p1));
	paths[1] = path_join(a->usr_dir, "lib/os-release", p2, sizeof(p2));
	if (read_first(paths, 2, &buf, &len) == 0) {
		if (osrelease_get(buf, len, "NAME", v, sizeof(v)) > 0)
			value_put(a->os_name, sizeof(a->os_name), v);
		if (osrelease_get(buf, len, "VERSION_ID", v, sizeof(v)) >= 0)
			value_put(a->os_major, sizeof(a->os_major), v);
		return 0;
	}

	paths[0] = path_join(a->conf_dir, "SuSE-release", p1, sizeof(p1));
	paths[1] = path_join(a->conf_dir, "redhat-release", p2, sizeof(p2));
	if (read_first(paths, 2, &buf, &len) == 0) {
		if (legacy_line(buf, len, 0, v, sizeof(v)) && v[0])
			value_put(a->os_name, sizeof(a->os_name), v);
		if (legacy_line(buf, len, 1, v, sizeof(v)))
			value_put(a->os_major, sizeof(a->os_major), v);
		if (legacy_line(buf, len, 2, v, sizeof(v)))
			value_put(a->os_minor, sizeof(a->os_minor), v);
	}
	return 0;
}

int kvp_auto_fd(const struct kvp_auto *a)
{
	return a ? a->pipe[0] : -EBADF;
}

bool kvp_auto_resolving(const struct kvp_auto *a)
{
	return a && a->job;
}

int kvp_auto_process(struct kvp_auto *a)
{
	struct fqdn_job *j;
	char drain[64];
	bool ok;

	if (!a)
		return -EINVAL;
	while (read(a->pipe[0], drain, sizeof(drain)) > 0)
		;
	if (!a->job ||
	    !atomic_load_explicit(&a->job->done, memory_order_acquire))
		return 0;
	j = TAKE_PTR(a->job);
	read_hostname(a);
	/* An answer for a name we no longer have is dropped. */
	if (strcmp(j->host, a->host) == 0) {
		ok = j->r >= 0 && j->fqdn[0];
		fqdn_record(a, j->host, ok ? j->fqdn : NULL,
			    a->cfg.now(a->cfg.userdata));
	}
	job_unref(j);
	/* The hostname may have changed while we waited. */
	fqdn_kick(a, a->host);
	return 1;
}

struct kvp_auto *kvp_auto_free(struct kvp_auto *a)
{
	if (!a)
		return NULL;
	/* The worker, if still running, frees the job when it returns. */
	job_unref(a->job);
	if (a->pipe[0] >= 0)
		close(a->pipe[0]);
	if (a->pipe[1] >= 0)
		close(a->pipe[1]);
	if (a->exclude)
		for (char **g = a->exclude; *g; g++)
			free(*g);
	free(a->exclude);
	free(a->conf_dir);
	free(a->usr_dir);
	free(a);
	return NULL;
}

static void kvp_auto_freep(struct kvp_auto **a)
{
	kvp_auto_free(*a);
}

int kvp_auto_new(const struct kvp_auto_config *cfg, struct kvp_auto **ret)
{
	_cleanup_(kvp_auto_freep) struct kvp_auto *a = NULL;
	const char *const *globs;
	size_t n = 0;

	if (!ret)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->pipe[0] = a->pipe[1] = -1;
	if (cfg)
		a->cfg = *cfg;
	if (!a->cfg.ttl_sec)
		a->cfg.ttl_sec = DEFAULT_TTL_SEC;
	if (!a->cfg.retry_sec)
		a->cfg.retry_sec = DEFAULT_RETRY_SEC;
	if (!a->cfg.resolve)
		a->cfg.resolve = default_resolve;
	if (!a->cfg.hostname)
		a->cfg.hostname = default_hostname;
	if (!a->cfg.addresses)
		a->cfg.addresses = default_addresses;
	if (!a->cfg.uname)
		a->cfg.uname = default_uname;
	if (!a->cfg.now)
		a->cfg.now = default_now;

	a->conf_dir = strdup(a->cfg.conf_dir ? a->cfg.conf_dir : "/etc");
	a->usr_dir = strdup(a->cfg.usr_dir ? a->cfg.usr_dir : "/usr");
	if (!a->conf_dir || !a->usr_dir)
		return -ENOMEM;
	a->cfg.conf_dir = a->conf_dir;
	a->cfg.usr_dir = a->usr_dir;

	globs = a->cfg.exclude_globs ? a->cfg.exclude_globs :
				       ifaddrs_list_default_exclude;
	while (globs[n])
		n++;
	a->exclude = calloc(n + 1, sizeof(*a->exclude));
	if (!a->exclude)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		a->exclude[i] = strdup(globs[i]);
		if (!a->exclude[i])
			return -ENOMEM;
	}
	a->cfg.exclude_globs = (const char *const *)a->exclude;

	if (pipe2(a->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	hv_strscpy(a->ic_version, KVP_AUTO_IC_VERSION_DEFAULT,
		   sizeof(a->ic_version));
	kvp_auto_refresh_os(a);
	read_hostname(a);
	fqdn_kick(a, a->host);
	*ret = TAKE_PTR(a);
	return 0;
}
