/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runs a libFuzzer target over its committed seed corpus and regression
 * inputs (tests/fuzz/corpus/<target>/), so every fuzz target is also a
 * test under gcc and the sanitizers. Prints TAP.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return -EIO;
	}
	/* An exact-size heap copy lets ASan catch reads past the input. */
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	char name[256], dir[512], path[1024];
	struct dirent *de;
	int n = 0, failed = 0;
	char *base, *dash;
	DIR *d;

	(void)argc;
	base = basename(argv[0]);
	snprintf(name, sizeof(name), "%s", base);
	dash = strstr(name, "-replay");
	if (dash)
		*dash = '\0';
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s",
		 getenv("HVIS_SRCDIR") ? getenv("HVIS_SRCDIR") : ".", name);

	/* The empty input is always a case worth surviving. */
	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
	printf("ok %d - %s empty input\n", ++n, name);

	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (run_file(path) < 0) {
				printf("not ok %d - %s %s unreadable\n", ++n,
				       name, de->d_name);
				failed++;
			} else {
				printf("ok %d - %s %s\n", ++n, name,
				       de->d_name);
			}
		}
		closedir(d);
	}
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
