/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The file side of a copy in a private directory: where data lives while
 * it arrives, what COMPLETE, CANCEL and errors leave behind, the symlink
 * rules and the crash record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include "fcopy-file.h"
#include "hvis/util.h"
#include "hvis/wire.h"

#define NOBODY 65534

struct fx {
	char dir[64];
	char record[128];
	struct fcopy_file_opts opts;
	struct fcopy_copy c;
};

/* A path under the fixture; a few stay valid at once (two per call). */
static const char *P(struct fx *f, const char *rel)
{
	static char bufs[4][512];
	static unsigned int next;
	char *b = bufs[next++ % ARRAY_SIZE(bufs)];

	snprintf(b, sizeof(bufs[0]), "%s/%s", f->dir, rel);
	return b;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/hvis-fcopy-file.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->record, sizeof(f->record), "%s/record", f->dir);
	assert_int_equal(mkdir(P(f, "d"), 0755), 0);
	f->opts = (struct fcopy_file_opts){
		.file_mode = FCOPY_DEFAULT_FILE_MODE,
		.sync = true,
		.record_path = f->record,
	};
	fcopy_copy_init(&f->c, &f->opts);
	*state = f;
	return 0;
}

static int setup_named(void **state)
{
	struct fx *f;

	setup(state);
	f = *state;
	f->opts.named_temp = true;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	fcopy_file_abort(&f->c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Entries of dir other than "." and "..", and the first one's name. */
static int count_entries(const char *dir, char *first, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n++ == 0 && first)
			hv_strscpy(first, de->d_name, size);
	}
	closedir(d);
	return n;
}

static void read_file(const char *path, char *buf, size_t size, size_t *len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size);
	assert_true(n >= 0);
	*len = (size_t)n;
	close(fd);
}

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void copy_text(struct fx *f, const char *dir, const char *name,
		      uint32_t flags, const char *text)
{
	size_t len = strlen(text);

	assert_int_equal(fcopy_file_start(&f->c, dir, name, flags, len), 0);
	assert_int_equal(fcopy_file_write(&f->c, 0, text, len), 0);
	assert_int_equal(fcopy_file_complete(&f->c), 0);
}

static void test_copy(void **state)
{
	struct fx *f = *state;
	char buf[64], first[NAME_MAX + 1];
	struct stat st;
	size_t len;

	/* Before COMPLETE nothing has a name (or only our hidden one). */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "a.txt", 0, 10), 0);
	assert_int_equal(fcopy_file_write(&f->c, 0, "hello", 5), 0);
	assert_int_equal(fcopy_file_write(&f->c, 5, " you!", 5), 0);
	if (f->opts.named_temp) {
		assert_int_equal(count_entries(P(f, "d"), first, sizeof(first)),
				 1);
		assert_true(fcopy_is_temp_name(first));
		/* The record names it, for a daemon restarted after a crash. */
		read_file(f->record, buf, sizeof(buf), &len);
		assert_true(len > strlen(first));
		assert_memory_equal(buf + len - strlen(first) - 1, first,
				    strlen(first));
	} else {
		assert_int_equal(count_entries(P(f, "d"), NULL, 0), 0);
	}
	assert_int_equal(fcopy_file_complete(&f->c), 0);
	assert_false(f->c.active);
	read_file(P(f, "d/a.txt"), buf, sizeof(buf), &len);
	assert_int_equal(len, 10);
	assert_memory_equal(buf, "hello you!", 10);
	assert_int_equal(stat(P(f, "d/a.txt"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_nlink, 1);
	assert_int_equal(count_entries(P(f, "d"), NULL, 0), 1);
	assert_int_equal(access(f->record, F_OK), -1);
}

static void test_exists_and_overwrite(void **state)
{
	struct fx *f = *state;
	char buf[64];
	struct stat before, after;
	size_t len;

	write_text(P(f, "d/a.txt"), "old content, long");
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "a.txt", 0, 3),
			 -EEXIST);
	assert_false(f->c.active);
	assert_int_equal(stat(P(f, "d/a.txt"), &before), 0);

	/* The old file stays whole until COMPLETE, then is replaced. */
	assert_int_equal(
		fcopy_file_start(&f->c, P(f, "d"), "a.txt", OVER_WRITE, 3), 0);
	assert_int_equal(fcopy_file_write(&f->c, 0, "new", 3), 0);
	read_file(P(f, "d/a.txt"), buf, sizeof(buf), &len);
	assert_int_equal(len, 17);
	assert_int_equal(fcopy_file_complete(&f->c), 0);
	read_file(P(f, "d/a.txt"), buf, sizeof(buf), &len);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "new", 3);
	assert_int_equal(stat(P(f, "d/a.txt"), &after), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(count_entries(P(f, "d"), NULL, 0), 1);

	/* A name that appears during the copy is not replaced either. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "b.txt", 0, 1), 0);
	assert_int_equal(fcopy_file_write(&f->c, 0, "x", 1), 0);
	write_text(P(f, "d/b.txt"), "theirs");
	assert_int_equal(fcopy_file_complete(&f->c), -EEXIST);
	read_file(P(f, "d/b.txt"), buf, sizeof(buf), &len);
	assert_int_equal(len, 6);
	assert_int_equal(count_entries(P(f, "d"), NULL, 0), 2);
}

static void test_abort(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "a.txt", 0, 0), 0);
	assert_int_equal(fcopy_file_write(&f->c, 0, "partial", 7), 0);
	fcopy_file_abort(&f->c);
	assert_false(f->c.active);
	assert_int_equal(count_entries(P(f, "d"), NULL, 0), 0);
	assert_int_equal(access(f->record, F_OK), -1);
	/* Idle: nothing to abort, nothing to write or complete. */
	fcopy_file_abort(&f->c);
	assert_int_equal(fcopy_file_write(&f->c, 0, "x", 1), -EPROTO);
	assert_int_equal(fcopy_file_complete(&f->c), -EPROTO);

	/* A START while a copy runs drops the first one. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "a.txt", 0, 0), 0);
	assert_int_equal(fcopy_file_write(&f->c, 0, "one", 3), 0);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "b.txt", 0, 0), 0);
	assert_int_equal(fcopy_file_complete(&f->c), 0);
	assert_int_equal(access(P(f, "d/a.txt"), F_OK), -1);
	assert_int_equal(count_entries(P(f, "d"), NULL, 0), 1);
}

static void test_sizes(void **state)
{
	struct fx *f = *state;
	char buf[64];
	size_t len;

	/* Past the announced size: refused, and the copy is spoiled. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "a", 0, 4), 0);
	assert_int_equal(fcopy_file_write(&f->c, 2, "abc", 3), -EFBIG);
	assert_int_equal(fcopy_file_write(&f->c, 0, "ab", 2), -EIO);
	assert_int_equal(fcopy_file_complete(&f->c), -EIO);
	assert_int_equal(count_entries(P(f, "d"), NULL, 0), 0);

	/* Fewer bytes than announced: not the host's file. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "a", 0, 4), 0);
	assert_int_equal(fcopy_file_write(&f->c, 0, "abc", 3), 0);
	assert_int_equal(fcopy_file_complete(&f->c), -EIO);
	assert_int_equal(count_entries(P(f, "d"), NULL, 0), 0);

	/* Out of order and overlapping: the last write of a byte wins. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "a", 0, 8), 0);
	assert_int_equal(fcopy_file_write(&f->c, 4, "EFGH", 4), 0);
	assert_int_equal(fcopy_file_write(&f->c, 0, "abcd", 4), 0);
	assert_int_equal(fcopy_file_write(&f->c, 2, "CD", 2), 0);
	assert_int_equal(fcopy_file_write(&f->c, 8, "", 0), 0);
	assert_int_equal(fcopy_file_complete(&f->c), 0);
	read_file(P(f, "d/a"), buf, sizeof(buf), &len);
	assert_int_equal(len, 8);
	assert_memory_equal(buf, "abCDEFGH", 8);

	/* Size not announced: whatever was written, holes read as zero. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "b", 0, 0), 0);
	assert_int_equal(fcopy_file_write(&f->c, 3, "z", 1), 0);
	assert_int_equal(fcopy_file_complete(&f->c), 0);
	read_file(P(f, "d/b"), buf, sizeof(buf), &len);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "\0\0\0z", 4);

	/* An empty file. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "c", 0, 0), 0);
	assert_int_equal(fcopy_file_complete(&f->c), 0);
	read_file(P(f, "d/c"), buf, sizeof(buf), &len);
	assert_int_equal(len, 0);

	/* Offsets a file cannot have. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "e", 0, 0), 0);
	assert_int_equal(fcopy_file_write(&f->c, INT64_MAX, "x", 1), -EFBIG);
	fcopy_file_abort(&f->c);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "e", 0,
					  (uint64_t)INT64_MAX + 1),
			 -EFBIG);
}

static void test_create_path(void **state)
{
	struct fx *f = *state;
	struct stat st;
	mode_t old = umask(077);

	assert_int_equal(fcopy_file_start(&f->c, P(f, "d/x/y/z"), "a", 0, 0),
			 -ENOENT);
	assert_int_equal(access(P(f, "d/x"), F_OK), -1);
	/* Every missing component, the last included; mode despite umask. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d/x/y/z/"), "a",
					  CREATE_PATH, 0),
			 0);
	assert_int_equal(fcopy_file_complete(&f->c), 0);
	umask(old);
	assert_int_equal(stat(P(f, "d/x"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(P(f, "d/x/y/z"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(P(f, "d/x/y/z/a"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* A file where a directory should be. */
	write_text(P(f, "d/file"), "x");
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d/file/sub"), "a",
					  CREATE_PATH, 0),
			 -ENOTDIR);
	/* Names and paths the protocol refuses are refused here too. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d/../d"), "a", 0, 0),
			 -EINVAL);
	assert_int_equal(fcopy_file_start(&f->c, "relative", "a", 0, 0),
			 -EINVAL);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "..", 0, 0),
			 -EINVAL);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "a/b", 0, 0),
			 -EINVAL);
}

static void test_file_mode(void **state)
{
	struct fx *f = *state;
	struct stat st;
	mode_t old = umask(0);

	f->opts.file_mode = 0600;
	copy_text(f, P(f, "d"), "secret", 0, "s");
	umask(old);
	assert_int_equal(stat(P(f, "d/secret"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
}

static void test_symlink_at_name(void **state)
{
	struct fx *f = *state;
	char buf[64];
	size_t len;

	write_text(P(f, "victim"), "precious");
	assert_int_equal(symlink(P(f, "victim"), P(f, "d/link")), 0);
	assert_int_equal(symlink("/nonexistent", P(f, "d/dangling")), 0);
	/* It exists, as far as the host is concerned. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "link", 0, 0),
			 -EEXIST);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "dangling", 0, 0),
			 -EEXIST);
	/* Never replaced, never followed. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "link", OVER_WRITE,
					  0),
			 -ELOOP);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "dangling",
					  OVER_WRITE, 0),
			 -ELOOP);
	read_file(P(f, "victim"), buf, sizeof(buf), &len);
	assert_int_equal(len, 8);
	assert_int_equal(access("/nonexistent", F_OK), -1);
	/* A link planted during the copy is not replaced at COMPLETE. */
	assert_int_equal(
		fcopy_file_start(&f->c, P(f, "d"), "late", OVER_WRITE, 1), 0);
	assert_int_equal(fcopy_file_write(&f->c, 0, "x", 1), 0);
	assert_int_equal(symlink(P(f, "victim"), P(f, "d/late")), 0);
	assert_int_equal(fcopy_file_complete(&f->c), -ELOOP);
	read_file(P(f, "victim"), buf, sizeof(buf), &len);
	assert_int_equal(len, 8);
	/* Directories are not files to overwrite. */
	assert_int_equal(mkdir(P(f, "d/sub"), 0755), 0);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "sub", OVER_WRITE,
					  0),
			 -EISDIR);
	assert_int_equal(count_entries(P(f, "d"), NULL, 0), 4);
}

static void test_symlink_in_path(void **state)
{
	struct fx *f = *state;
	int fd = -1;

	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(mkdir(P(f, "real"), 0755), 0);
	assert_int_equal(mkdir(P(f, "pub"), 01777), 0);
	assert_int_equal(chmod(P(f, "pub"), 01777), 0);

	/* Someone else's link in a sticky world-writable directory. */
	assert_int_equal(symlink(P(f, "real"), P(f, "pub/evil")), 0);
	assert_int_equal(lchown(P(f, "pub/evil"), NOBODY, NOBODY), 0);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "pub/evil"), "a", 0, 0),
			 -ELOOP);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "pub/evil/x"), "a",
					  CREATE_PATH, 0),
			 -ELOOP);
	/* Root's own link there: the directory lets others replace it. */
	assert_int_equal(symlink(P(f, "real"), P(f, "pub/rootlink")), 0);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "pub/rootlink"), "a", 0,
					  0),
			 -ELOOP);
	assert_int_equal(count_entries(P(f, "real"), NULL, 0), 0);

	/* A link of someone else in root's directory. */
	assert_int_equal(symlink(P(f, "real"), P(f, "d/theirs")), 0);
	assert_int_equal(lchown(P(f, "d/theirs"), NOBODY, NOBODY), 0);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d/theirs"), "a", 0, 0),
			 -ELOOP);

	/* Root's link in a directory only root may write: followed. */
	assert_int_equal(symlink(P(f, "real"), P(f, "d/abs")), 0);
	assert_int_equal(symlink("../real/", P(f, "d/rel")), 0);
	copy_text(f, P(f, "d/abs"), "via-abs", 0, "1");
	copy_text(f, P(f, "d/rel/"), "via-rel", 0, "2");
	copy_text(f, P(f, "d/rel/new/dir"), "deep", CREATE_PATH, "3");
	assert_int_equal(access(P(f, "real/via-abs"), F_OK), 0);
	assert_int_equal(access(P(f, "real/via-rel"), F_OK), 0);
	assert_int_equal(access(P(f, "real/new/dir/deep"), F_OK), 0);
	/* A loop of trusted links ends. */
	assert_int_equal(symlink("loop2", P(f, "d/loop1")), 0);
	assert_int_equal(symlink("loop1", P(f, "d/loop2")), 0);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d/loop1"), "a", 0, 0),
			 -ELOOP);
	/* The walk alone. */
	assert_int_equal(fcopy_open_dir(P(f, "d/abs"), false, 0755, &fd), 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fcopy_open_dir("relative", false, 0755, &fd), -EINVAL);
}

static void write_record(struct fx *f, const char *line)
{
	write_text(f->record, line);
}

static void test_recover(void **state)
{
	struct fx *f = *state;
	char line[256];

	assert_int_equal(fcopy_file_recover(&f->opts), 0);

	/* A leftover of ours, as a crash leaves it. */
	write_text(P(f, "d/.hv-fcopy-0123456789abcdef.part"), "partial");
	snprintf(line, sizeof(line), "%s/d/.hv-fcopy-0123456789abcdef.part\n",
		 f->dir);
	write_record(f, line);
	assert_int_equal(fcopy_file_recover(&f->opts), 1);
	assert_int_equal(count_entries(P(f, "d"), NULL, 0), 0);
	assert_int_equal(access(f->record, F_OK), -1);

	/* Anything else the record might name stays. */
	write_text(P(f, "d/important"), "keep");
	snprintf(line, sizeof(line), "%s/d/important\n", f->dir);
	write_record(f, line);
	assert_int_equal(fcopy_file_recover(&f->opts), 0);
	assert_int_equal(access(P(f, "d/important"), F_OK), 0);
	assert_int_equal(access(f->record, F_OK), -1);

	/* Our pattern, but a symlink (or a directory): stays. */
	assert_int_equal(symlink(P(f, "d/important"),
				 P(f, "d/.hv-fcopy-00000000000000aa.part")),
			 0);
	snprintf(line, sizeof(line), "%s/d/.hv-fcopy-00000000000000aa.part",
		 f->dir);
	write_record(f, line);
	assert_int_equal(fcopy_file_recover(&f->opts), 0);
	assert_int_equal(access(P(f, "d/important"), F_OK), 0);

	/* Torn or foreign records. */
	write_record(f, "garbage");
	assert_int_equal(fcopy_file_recover(&f->opts), 0);
	write_record(f, "/nonexistent-dir/.hv-fcopy-0123456789abcdef.part");
	assert_int_equal(fcopy_file_recover(&f->opts), 0);
	write_record(f, "relative/.hv-fcopy-0123456789abcdef.part");
	assert_int_equal(fcopy_file_recover(&f->opts), 0);
	assert_int_equal(access(f->record, F_OK), -1);
}

static void test_temp_names(void **state)
{
	assert_true(fcopy_is_temp_name(".hv-fcopy-0123456789abcdef.part"));
	assert_false(fcopy_is_temp_name(".hv-fcopy-0123456789ABCDEF.part"));
	assert_false(fcopy_is_temp_name(".hv-fcopy-0123456789abcde.part"));
	assert_false(fcopy_is_temp_name(".hv-fcopy-0123456789abcdefa.part"));
	assert_false(fcopy_is_temp_name(".hv-fcopy-0123456789abcdeg.part"));
	assert_false(fcopy_is_temp_name("hv-fcopy-0123456789abcdef.part"));
	assert_false(fcopy_is_temp_name(".hv-fcopy-0123456789abcdef.parx"));
	assert_false(fcopy_is_temp_name(""));
}

static void test_immutable_dir(void **state)
{
	struct fx *f = *state;
	int fd, flags = FS_IMMUTABLE_FL;

	fd = open(P(f, "d"), O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0) {
		close(fd);
		skip();
		return;
	}
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "a", 0, 0), -EPERM);
	flags = 0;
	assert_int_equal(ioctl(fd, FS_IOC_SETFLAGS, &flags), 0);
	close(fd);
	assert_int_equal(count_entries(P(f, "d"), NULL, 0), 0);
}

/*
 * Gathered chunks (FCOPY_STAGE_SIZE at a time) against a model of the
 * file: forwards across stage boundaries, a jump back that overlaps what
 * is gathered and what is written, a chunk too large to gather, and the
 * tail left for COMPLETE to write.
 */
static void test_staged_writes(void **state)
{
	const size_t size = 3 * FCOPY_STAGE_SIZE + 5000;
	struct fx *f = *state;
	uint8_t *model = calloc(1, size), *got = malloc(size + 1);
	uint8_t chunk[DATA_FRAGMENT];
	size_t len;
	int fd;

	assert_non_null(model);
	assert_non_null(got);
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "s", 0, size), 0);
#define PUT(off, n, seed)                                                    \
	do {                                                                 \
		for (size_t i_ = 0; i_ < (n); i_++)                          \
			chunk[i_] = (uint8_t)((seed)*31 + i_ * 7);           \
		assert_int_equal(fcopy_file_write(&f->c, (off), chunk, (n)), \
				 0);                                         \
		memcpy(model + (off), chunk, (n));                           \
	} while (0)
	for (size_t off = 0; off + DATA_FRAGMENT <= FCOPY_STAGE_SIZE + 20000;
	     off += DATA_FRAGMENT)
		PUT(off, DATA_FRAGMENT, off / DATA_FRAGMENT);
	/* Back over both the written part and the gathered part. */
	PUT(FCOPY_STAGE_SIZE - 3000, DATA_FRAGMENT, 1001);
	PUT(FCOPY_STAGE_SIZE + 10000, 100, 1002);
	{
		/* Larger than half a stage: written straight away. */
		size_t big = FCOPY_STAGE_SIZE;
		uint8_t *p = malloc(big);

		assert_non_null(p);
		for (size_t i = 0; i < big; i++)
			p[i] = (uint8_t)(i * 13 + 5);
		assert_int_equal(fcopy_file_write(&f->c,
						  FCOPY_STAGE_SIZE + 8000, p,
						  big),
				 0);
		memcpy(model + FCOPY_STAGE_SIZE + 8000, p, big);
		free(p);
	}
	for (size_t off = 2 * FCOPY_STAGE_SIZE + 8000; off < size;
	     off += DATA_FRAGMENT) {
		size_t n = size - off < DATA_FRAGMENT ? size - off :
							DATA_FRAGMENT;

		PUT(off, n, off);
	}
#undef PUT
	assert_int_equal(fcopy_file_complete(&f->c), 0);
	fd = open(P(f, "d/s"), O_RDONLY);
	assert_true(fd >= 0);
	len = (size_t)read(fd, got, size + 1);
	close(fd);
	assert_int_equal(len, size);
	assert_memory_equal(got, model, size);
	free(model);
	free(got);
}

/*
 * A write error while gathered chunks go out (here: the file size limit,
 * which needs no privileges) fails a later WRITE or COMPLETE with the
 * real errno, and nothing is published.
 */
static void test_staged_write_error(void **state)
{
	struct fx *f = *state;
	uint8_t chunk[DATA_FRAGMENT] = { 1 };
	struct rlimit old, lim;
	int r = 0;
	size_t off;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = FCOPY_STAGE_SIZE / 2;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

	/* The first full stage cannot be written: that WRITE fails. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "a", 0, 0), 0);
	for (off = 0; off < 2 * FCOPY_STAGE_SIZE; off += sizeof(chunk)) {
		r = fcopy_file_write(&f->c, off, chunk, sizeof(chunk));
		if (r < 0)
			break;
	}
	assert_int_equal(r, -EFBIG);
	assert_true(off > 0 && off < FCOPY_STAGE_SIZE);
	assert_int_equal(fcopy_file_write(&f->c, off, chunk, 1), -EIO);
	assert_int_equal(fcopy_file_complete(&f->c), -EIO);
	assert_int_equal(count_entries(P(f, "d"), NULL, 0), 0);

	/* All of it still gathered at COMPLETE: COMPLETE reports it. */
	assert_int_equal(fcopy_file_start(&f->c, P(f, "d"), "b", 0, 0), 0);
	for (off = 0; off < FCOPY_STAGE_SIZE / 2 + 2 * sizeof(chunk);
	     off += sizeof(chunk))
		assert_int_equal(
			fcopy_file_write(&f->c, off, chunk, sizeof(chunk)), 0);
	assert_int_equal(fcopy_file_complete(&f->c), -EFBIG);
	assert_int_equal(count_entries(P(f, "d"), NULL, 0), 0);

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
}

/* The same test with named temporary files instead of O_TMPFILE. */
#define NAMED(f)                                            \
	{                                                   \
#f "_named", f, setup_named, teardown, NULL \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		NAMED(test_copy),
		cmocka_unit_test_setup_teardown(test_exists_and_overwrite,
						setup, teardown),
		NAMED(test_exists_and_overwrite),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		NAMED(test_abort),
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		NAMED(test_sizes),
		cmocka_unit_test_setup_teardown(test_staged_writes, setup,
						teardown),
		NAMED(test_staged_writes),
		cmocka_unit_test_setup_teardown(test_staged_write_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_path, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_mode, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_symlink_at_name, setup,
						teardown),
		NAMED(test_symlink_at_name),
		cmocka_unit_test_setup_teardown(test_symlink_in_path, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
		cmocka_unit_test(test_temp_names),
		cmocka_unit_test_setup_teardown(test_immutable_dir, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("fcopy-file", tests, NULL, NULL);
}
