/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LD_PRELOAD shim for benchmarking a daemon we cannot rebuild (Debian's
 * hv_kvp_daemon, hv_fcopy_daemon) against the host simulator: an open() of the device path
 * becomes a connect() to the simulator's socket, exactly what libhvis does
 * for our daemons (design.md §3), so both sides run the same hvsim.
 *
 *   HVIS_SHIM_SOCKET  the simulator socket (required; unset: no redirect)
 *   HVIS_SHIM_DEVICE  the path to redirect (default: /dev/vmbus/hv_kvp
 *                     and /dev/vmbus/hv_fcopy; a daemon opens only its own)
 *
 * Every other open goes to libc untouched. The reference then read()s and
 * write()s the fd; SOCK_SEQPACKET keeps the device's message boundaries.
 * hv_fcopy_daemon uses pread()/pwrite() at offset 0, which the device
 * accepts (it ignores the offset) but a socket refuses with ESPIPE: on
 * the fds this shim opened they become read()/write().
 */

/*
 * The build defines _FILE_OFFSET_BITS=64, under which glibc renames open
 * to open64 in its headers; this file has to define both names itself.
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char *const default_devices[] = { "/dev/vmbus/hv_kvp",
					       "/dev/vmbus/hv_fcopy" };
#define STATUS_SIZE 4

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

#define MAX_FD 1024
/* Set when sim_open() returned the fd; checked with fstat on use. */
static unsigned char redirected[MAX_FD];
typedef int (*openat2_fn)(int, const char *, int);

/* glibc declares these only under _FORTIFY_SOURCE. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

static void *next_symbol(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	/* Without libc's own open there is nothing sensible left to do. */
	if (!p)
		abort();
	return p;
}

static const char *redirect_target(const char *path)
{
	const char *sock = getenv("HVIS_SHIM_SOCKET");
	const char *dev = getenv("HVIS_SHIM_DEVICE");

	size_t i;

	if (!path || !sock || !*sock)
		return NULL;
	if (dev && *dev)
		return strcmp(path, dev) == 0 ? sock : NULL;
	for (i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]);
	     i++)
		if (strcmp(path, default_devices[i]) == 0)
			return sock;
	return NULL;
}

static int fail(int fd, int err)
{
	if (fd >= 0)
		close(fd);
	errno = err;
	return -1;
}

/*
 * Connect and read the simulator's open status. The status read blocks
 * even for O_NONBLOCK: the real open() returns only once it has succeeded
 * or failed, so the flag is applied afterwards.
 */
static int sim_open(const char *sock, int flags)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t st[STATUS_SIZE];
	uint32_t status;
	ssize_t n;
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return fail(-1, ENAMETOOLONG);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX,
		    SOCK_SEQPACKET | ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0),
		    0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return fail(fd, errno);
	do
		n = recv(fd, st, sizeof(st), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(fd, errno);
	if (n != STATUS_SIZE)
		return fail(fd, EIO);
	status = (uint32_t)st[0] | (uint32_t)st[1] << 8 |
		 (uint32_t)st[2] << 16 | (uint32_t)st[3] << 24;
	if (status != 0)
		return fail(fd, status < 4096 ? (int)status : EIO);
	if ((flags & O_NONBLOCK) &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return fail(fd, errno);
	if (fd < MAX_FD)
		redirected[fd] = 1;
	return fd;
}

/* A closed and reused fd number is not a socket any more (usually). */
static int is_redirected(int fd)
{
	struct stat st;

	return fd >= 0 && fd < MAX_FD && redirected[fd] &&
	       fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset);
ssize_t pread64(int fd, void *buf, size_t count, off_t offset);
ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset);
ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset);

/*
 * The interposers below differ only in the libc name they stand for and
 * how that one is called: each keeps its own next definition in *real.
 */
static ssize_t shim_pread(int fd, void *buf, size_t count, off_t offset,
			  pread_fn *real, const char *name)
{
	if (is_redirected(fd))
		return read(fd, buf, count);
	if (!*real)
		*real = (pread_fn)next_symbol(name);
	return (*real)(fd, buf, count, offset);
}

static ssize_t shim_pwrite(int fd, const void *buf, size_t count, off_t offset,
			   pwrite_fn *real, const char *name)
{
	if (is_redirected(fd))
		return write(fd, buf, count);
	if (!*real)
		*real = (pwrite_fn)next_symbol(name);
	return (*real)(fd, buf, count, offset);
}

static mode_t open_mode(int flags, va_list ap)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return (mode_t)va_arg(ap, int);
	return 0;
}

/* dirfd for the open() forms, which take none. */
#define NO_DIRFD INT_MIN

/* open, open64, openat, openat64: ap holds the mode, if any. */
static int shim_open(int dirfd, const char *path, int flags, va_list ap,
		     void **real, const char *name)
{
	const char *sock = redirect_target(path);
	mode_t mode;

	if (sock)
		return sim_open(sock, flags);
	if (!*real)
		*real = next_symbol(name);
	mode = open_mode(flags, ap);
	if (dirfd == NO_DIRFD)
		return ((open_fn)*real)(path, flags, mode);
	return ((openat_fn)*real)(dirfd, path, flags, mode);
}

/* The _FORTIFY_SOURCE entry points, used when the mode is not needed. */
static int shim_open_2(int dirfd, const char *path, int flags, void **real,
		       const char *name)
{
	const char *sock = redirect_target(path);

	if (sock)
		return sim_open(sock, flags);
	if (!*real)
		*real = next_symbol(name);
	if (dirfd == NO_DIRFD)
		return ((open2_fn)*real)(path, flags);
	return ((openat2_fn)*real)(dirfd, path, flags);
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset)
{
	static pread_fn real;

	return shim_pread(fd, buf, count, offset, &real, "pread");
}

/* off_t is 64 bits on the 64-bit ABIs this shim is built for. */
ssize_t pread64(int fd, void *buf, size_t count, off_t offset)
{
	static pread_fn real;

	return shim_pread(fd, buf, count, offset, &real, "pread64");
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
	static pwrite_fn real;

	return shim_pwrite(fd, buf, count, offset, &real, "pwrite");
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset)
{
	static pwrite_fn real;

	return shim_pwrite(fd, buf, count, offset, &real, "pwrite64");
}

int open(const char *path, int flags, ...)
{
	static void *real;
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = shim_open(NO_DIRFD, path, flags, ap, &real, "open");
	va_end(ap);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	static void *real;
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = shim_open(NO_DIRFD, path, flags, ap, &real, "open64");
	va_end(ap);
	return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	static void *real;
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = shim_open(dirfd, path, flags, ap, &real, "openat");
	va_end(ap);
	return fd;
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	static void *real;
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = shim_open(dirfd, path, flags, ap, &real, "openat64");
	va_end(ap);
	return fd;
}

int __open_2(const char *path, int flags)
{
	static void *real;

	return shim_open_2(NO_DIRFD, path, flags, &real, "__open_2");
}

int __open64_2(const char *path, int flags)
{
	static void *real;

	return shim_open_2(NO_DIRFD, path, flags, &real, "__open64_2");
}

int __openat_2(int dirfd, const char *path, int flags)
{
	static void *real;

	return shim_open_2(dirfd, path, flags, &real, "__openat_2");
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	static void *real;

	return shim_open_2(dirfd, path, flags, &real, "__openat64_2");
}
