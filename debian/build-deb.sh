#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# debian/build-deb.sh [OUTDIR] - build the hvis binary package from a
# scratch copy of this source tree (committed and uncommitted files, not
# build output) with dpkg-buildpackage -us -uc -b, and put the .deb,
# .buildinfo and .changes into OUTDIR (default build/deb). The tree itself
# is never written to: dpkg-buildpackage writes debian/hvis, debian/build
# and ../*.deb.
# DEB_BUILD_OPTIONS passes through (nocheck skips the unit tests).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)

scratch=$(mktemp -d /tmp/pkgbuild-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
tree=$scratch/hvis-${version%-*}
mkdir "$tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	# Tracked and new files, as they are now; deleted ones are skipped.
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		tar --null -T - --ignore-failed-read -cf -) |
		tar -C "$tree" -xf -
else
	tar -C "$src" --exclude='./build*' --exclude=./debian/build \
		--exclude=./debian/hvis --exclude=./debian/.debhelper -cf - . |
		tar -C "$tree" -xf -
fi

# Variables of a calling make (SANITIZE=1, BUILD=, -j and its jobserver)
# are not the package's.
unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE BUILD CFLAGS LDFLAGS CPPFLAGS
start=$SECONDS
if ! (cd "$tree" && dpkg-buildpackage -us -uc -b --jobs-try=auto) \
	>"$scratch/build.log" 2>&1; then
	tail -40 "$scratch/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed" >&2
	exit 1
fi
for f in "$scratch"/*.deb "$scratch"/*.buildinfo "$scratch"/*.changes; do
	[[ -e $f ]] && cp "$f" "$out/"
done
for f in "$scratch"/*.deb; do
	echo "build-deb: $out/$(basename "$f") ($((SECONDS - start)) s)"
done
