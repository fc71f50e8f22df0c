#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every man page renders without warnings, and every option a program
# lists in --help is documented in its man page.
set -u
B=${BUILD:-build}
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; }

if ! command -v mandoc >/dev/null; then
	echo "ok 1 - man pages # SKIP mandoc not installed"
	echo "1..1"
	exit 0
fi

for page in man/*.[1-8]; do
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	if [[ -z $out ]]; then ok "lint $page"; else nok "lint $page"; echo "# $out"; fi
done

# program : man page
pairs="hv_kvp_daemon:man/hv_kvp_daemon.8 hv-kvp:man/hv-kvp.1
hv_vss_daemon:man/hv_vss_daemon.8 hv_fcopy_daemon:man/hv_fcopy_daemon.8
hv_shutdown_daemon:man/hv_shutdown_daemon.8
tools/hv-vmbus-bind:man/hv-vmbus-bind.8"
for pair in $pairs; do
	prog=$B/${pair%%:*} page=${pair#*:}
	[[ -x $prog && -e $page ]] || continue
	text=$(MANWIDTH=200 mandoc -T utf8 "$page" 2>/dev/null | col -b)
	missing=()
	for opt in $("$prog" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -q -- "$opt" <<<"$text" || missing+=("$opt")
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		ok "every --help option of ${pair%%:*} is in $page"
	else
		nok "every --help option of ${pair%%:*} is in $page"
		echo "# missing: ${missing[*]}"
	fi
done
echo "1..$n"
