# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# A Debian 12 root filesystem with systemd, for tests that install our
# package (dpkg in a chroot) or boot systemd around our units
# (systemd-nspawn --boot). Sourced, not run. debootstrap runs once per
# machine: the result is kept as a tarball under HVIS_ROOTFS_CACHE and
# every test unpacks its own copy, which it removes itself.

HVIS_ROOTFS_CACHE=${HVIS_ROOTFS_CACHE:-/var/cache/hvis-test}
HVIS_ROOTFS_MIRROR=${HVIS_ROOTFS_MIRROR:-http://deb.debian.org/debian}
# What our daemons link against plus what boots: nothing of ours.
HVIS_ROOTFS_PACKAGES=systemd,systemd-sysv,dbus,udev,iproute2,libnl-3-200,libnl-route-3-200,libsystemd0

# Why a rootfs cannot be made here, or nothing: for "# SKIP" lines.
hvis_rootfs_unavailable() {
	if [[ $EUID -ne 0 ]]; then
		echo "needs root"
	elif ! command -v debootstrap >/dev/null; then
		echo "debootstrap is not installed"
	fi
}

# hvis_rootfs_make DIR: DIR (created, must not exist) gets a fresh copy.
hvis_rootfs_make() {
	local dir=$1 key tarball tmp
	key=$(echo "$HVIS_ROOTFS_PACKAGES" | md5sum | cut -c1-8)
	tarball=$HVIS_ROOTFS_CACHE/bookworm-$key.tar
	mkdir -p "$HVIS_ROOTFS_CACHE" || return 1
	if [[ ! -s $tarball ]]; then
		tmp=$(mktemp -d "$HVIS_ROOTFS_CACHE/debootstrap.XXXXXX") || return 1
		if ! debootstrap --variant=minbase \
			--include="$HVIS_ROOTFS_PACKAGES" bookworm "$tmp" \
			"$HVIS_ROOTFS_MIRROR" >"$tmp.log" 2>&1; then
			echo "debootstrap failed, see $tmp.log" >&2
			rm -rf "$tmp"
			return 1
		fi
		# Written under another name first: a test interrupted here
		# must not leave a half tarball the next one would trust.
		tar -C "$tmp" -cf "$tarball.new" . && mv "$tarball.new" "$tarball"
		rm -rf "$tmp" "$tmp.log"
		[[ -s $tarball ]] || return 1
	fi
	# The tarball's top directory came from mktemp (0700): a root
	# directory others cannot enter keeps dbus from starting.
	mkdir "$dir" && tar -C "$dir" -xf "$tarball" && chmod 0755 "$dir"
}
