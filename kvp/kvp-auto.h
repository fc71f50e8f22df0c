/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The KVP AUTO pool (pool 2): ten intrinsic keys synthesised on request
 * (protocol.md §3.4). The daemon answers the host's ENUMERATE and GET on
 * pool 2 from here, and polls kvp_auto_fd() so the FQDN can be resolved
 * off the request path.
 *
 * Every value is valid UTF-8 (bad bytes and control characters become
 * '?'), NUL-terminated, cut at a character boundary to fit the caller's
 * buffer and at most KVP_AUTO_VALUE_MAX_UNITS UTF-16 units, so the
 * kernel's conversion for the host never cuts it again. Values are never
 * errors: a source that fails gives its fallback (see each key), because
 * an error ends the host's enumeration of the whole pool.
 *
 * FullyQualifiedDomainName: the hostname is read on every request; the
 * reply is the last FQDN resolved for that hostname, else the hostname
 * itself. Resolution (getaddrinfo with AI_CANONNAME by default) runs on a
 * short-lived detached thread, at most one at a time, started when the
 * object is created, when the hostname differs from the last resolved
 * one, or when the result is older than ttl_sec (retry_sec after a
 * failure). The thread reports through a pipe; kvp_auto_process() takes
 * the result, drops it if the hostname changed meanwhile, and starts the
 * next resolution if one is due. A failed resolution keeps the last good
 * FQDN for the same hostname.
 *
 * Shutdown: a resolution job is a small refcounted object holding its
 * own copy of the host name, its result and a dup of the pipe's write
 * end; the thread never touches struct kvp_auto. kvp_auto_free() drops
 * its reference without waiting, and whichever side lets go last frees
 * the job and closes its fd. So freeing never blocks on DNS and leaks
 * nothing once the resolver returns. The resolve callback and userdata
 * must stay usable until it does.
 *
 * Not thread-safe: call everything from the daemon's thread.
 */
#ifndef HVIS_KVP_AUTO_H
#define HVIS_KVP_AUTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/utsname.h>

#include "ifaddrs-list.h"

enum kvp_auto_key {
	KVP_AUTO_FQDN,
	KVP_AUTO_IC_VERSION,
	KVP_AUTO_IPV4,
	KVP_AUTO_IPV6,
	KVP_AUTO_OS_BUILD,
	KVP_AUTO_OS_NAME,
	KVP_AUTO_OS_MAJOR,
	KVP_AUTO_OS_MINOR,
	KVP_AUTO_OS_VERSION,
	KVP_AUTO_ARCH,
	_KVP_AUTO_KEY_MAX,
};

/* What the kernel passes on to the host of a value (§3.2). */
#define KVP_AUTO_VALUE_MAX_UNITS 1022
/* Longest key name plus NUL. */
#define KVP_AUTO_KEY_SIZE 27
/* Storage for one OS value, hostname or FQDN (DNS names are <= 253). */
#define KVP_AUTO_STR_SIZE 256
/* IntegrationServicesVersion until kvp_auto_set_ic_version(). */
#define KVP_AUTO_IC_VERSION_DEFAULT "Unknown version"

/*
 * Resolve host to its canonical name in fqdn[size]. Runs on the worker
 * thread and may block. Returns >= 0 or -errno.
 */
typedef int (*kvp_auto_resolve_t)(const char *host, char *fqdn, size_t size,
				  void *ud);
/* Current hostname into buf[size]. Returns >= 0 or -errno. */
typedef int (*kvp_auto_hostname_t)(char *buf, size_t size, void *ud);
/* A new array (freed with free()) of the current addresses. */
typedef int (*kvp_auto_addresses_t)(struct ifaddr_entry **ret, size_t *ret_n,
				    void *ud);
typedef int (*kvp_auto_uname_t)(struct utsname *u, void *ud);
/* A monotonic clock in milliseconds. */
typedef uint64_t (*kvp_auto_now_t)(void *ud);

/* Every field may be left 0/NULL for the default shown. */
struct kvp_auto_config {
	const char *conf_dir; /* "/etc": os-release, legacy release files */
	const char *usr_dir; /* "/usr": <usr_dir>/lib/os-release */
	/* NULL: ifaddrs_list_default_exclude; an empty list: none. */
	const char *const *exclude_globs;
	bool link_local; /* report fe80::/10 and 169.254/16 (off) */
	unsigned int ttl_sec; /* re-resolve the FQDN after (300) */
	unsigned int retry_sec; /* ... or after a failure (30) */
	kvp_auto_resolve_t resolve; /* getaddrinfo(AI_CANONNAME) */
	kvp_auto_hostname_t hostname; /* gethostname(2) */
	kvp_auto_addresses_t addresses; /* ifaddrs_list_system() */
	kvp_auto_uname_t uname; /* uname(2) */
	kvp_auto_now_t now; /* CLOCK_MONOTONIC */
	void *userdata; /* passed to every callback */
};

struct kvp_auto;

/*
 * Create the pool; cfg may be NULL. Strings and the glob list are
 * copied. Reads the OS info and starts the first FQDN resolution.
 * Returns 0 or -errno (-ENOMEM, pipe errors).
 */
int kvp_auto_new(const struct kvp_auto_config *cfg, struct kvp_auto **ret);

/* Never blocks, even with a resolution in flight. Accepts NULL. */
struct kvp_auto *kvp_auto_free(struct kvp_auto *a);

/* Name of key index (0..9), NULL beyond. */
const char *kvp_auto_key_name(uint32_t index);

/*
 * ENUMERATE: the key at index into key[ksize] and its value into
 * value[vsize]. Returns the value's length; -ENOENT for index >= 10
 * (the host's end of enumeration); -E2BIG if the key does not fit;
 * -EINVAL for vsize 0.
 */
int kvp_auto_enumerate(struct kvp_auto *a, uint32_t index, char *key,
		       size_t ksize, char *value, size_t vsize);

/*
 * GET: the value of key (exact, case-sensitive match). Returns its
 * length, -ENOENT for an unknown key, -EINVAL for vsize 0.
 */
int kvp_auto_get(struct kvp_auto *a, const char *key, char *value,
		 size_t vsize);

/*
 * IntegrationServicesVersion, from the kernel's handshake reply. Stored
 * sanitised and cut to KVP_AUTO_STR_SIZE. Returns 0, -EINVAL for NULL.
 */
int kvp_auto_set_ic_version(struct kvp_auto *a, const char *version);

/*
 * Re-read the OS values: uname, then <conf>/os-release, else
 * <usr>/lib/os-release (NAME, VERSION_ID; no minor version), else the
 * first three lines of <conf>/SuSE-release or <conf>/redhat-release;
 * OSName falls back to uname's sysname, the versions to "". A few small
 * reads; safe to call on every request or on SIGHUP. Returns 0 (a
 * missing source is not an error), -EINVAL for NULL.
 */
int kvp_auto_refresh_os(struct kvp_auto *a);

/* Poll this for POLLIN; then call kvp_auto_process(). */
int kvp_auto_fd(const struct kvp_auto *a);

/*
 * Take a finished resolution, if any, and start the next one if due.
 * Never blocks. Returns 1 if a result was taken, 0 if none was ready.
 */
int kvp_auto_process(struct kvp_auto *a);

/* True while a resolution is in flight (for logs and tests). */
bool kvp_auto_resolving(const struct kvp_auto *a);

#endif
