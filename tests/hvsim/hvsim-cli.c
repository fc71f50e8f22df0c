/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvsim: the host simulator as a program. Commands that act like the
 * host's tools (kvp, copy-file, backup, stop-vm) come later.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "hvsim.h"

#ifndef HVIS_VERSION
#define HVIS_VERSION "unknown"
#endif

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTIONS]\n"
		"Simulate the Hyper-V host and the hv_utils/uio kernel side\n"
		"for the hvis daemons.\n"
		"\n"
		"  -h, --help     show this help\n"
		"  -V, --version  show the version\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argc > 0 ? argv[0] : "hvsim";
	int c;

	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, prog);
			return EXIT_SUCCESS;
		case 'V':
			printf("hvsim %s\n", HVIS_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr, prog);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unknown command '%s'\n", prog,
			argv[optind]);
		return 2;
	}
	usage(stderr, prog);
	return 2;
}
