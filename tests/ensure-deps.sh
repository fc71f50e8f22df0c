#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# ensure-deps.sh build   - check build dependencies; when one is missing,
#                          install it (root on Debian, unless
#                          HVIS_NO_AUTO_DEPS=1) or name the package and fail
# ensure-deps.sh install - install everything builds and tests use (Debian)
set -u

# pkg-config module : Debian package : Fedora package
build_deps=(
	"libnl-3.0:libnl-3-dev:libnl3-devel"
	"libnl-route-3.0:libnl-3-dev:libnl3-devel"
	"libsystemd:libsystemd-dev:systemd-devel"
	"cmocka:libcmocka-dev:libcmocka-devel"
)
# Everything the test suite, fuzzing and benchmarks use, Debian names.
test_pkgs=(build-essential pkg-config clang libnl-3-dev libnl-route-3-dev
	libsystemd-dev libcmocka-dev mandoc iproute2 dbus-daemon e2fsprogs
	xfsprogs btrfs-progs squashfs-tools util-linux kmod python3 cloud-init
	hyperv-daemons network-manager netplan.io ifupdown
	debootstrap systemd-container lintian debhelper dpkg-dev fakeroot valgrind)
fedora_pkgs="gcc make pkgconf clang libnl3-devel systemd-devel libcmocka-devel mandoc iproute dbus-daemon e2fsprogs xfsprogs btrfs-progs squashfs-tools util-linux python3 cloud-init hyperv-daemons NetworkManager netplan valgrind"

apt_install() {
	local guard=/usr/sbin/policy-rc.d rc
	echo "ensure-deps: installing with apt-get: $*" >&2
	# Test tools only: network-manager and ifupdown must not start and
	# take over this machine's network (policy-rc.d 101 = do not start).
	if [[ ! -e $guard ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$guard" && chmod 755 "$guard"
		apt_install_now "$@"
		rc=$?
		rm -f "$guard"
		return $rc
	fi
	apt_install_now "$@"
}

apt_install_now() {
	# A fresh machine has no package lists yet: update only if needed.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 2>/dev/null && return 0
	apt-get update -qq >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

can_auto_install() {
	[[ ${HVIS_NO_AUTO_DEPS:-0} != 1 && $(id -u) -eq 0 ]] && command -v apt-get >/dev/null
}

case ${1:-build} in
install)
	if ! command -v apt-get >/dev/null; then
		echo "Not a Debian system. On Fedora: dnf install $fedora_pkgs" >&2
		exit 1
	fi
	if [[ $(id -u) -ne 0 ]]; then
		echo "make deps needs root (apt-get install ${test_pkgs[*]})" >&2
		exit 1
	fi
	apt_install "${test_pkgs[@]}"
	;;
build)
	missing=() missing_fedora=()
	command -v pkg-config >/dev/null || missing+=(pkg-config)
	for d in "${build_deps[@]}"; do
		IFS=: read -r mod deb fed <<<"$d"
		if ! pkg-config --exists "$mod" 2>/dev/null; then
			missing+=("$deb") missing_fedora+=("$fed")
		fi
	done
	[[ ${#missing[@]} -eq 0 ]] && exit 0
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	if can_auto_install && apt_install "${missing[@]}"; then
		exit 0
	fi
	echo "hvis: missing build dependencies: install the Debian package(s) ${missing[*]}" \
		"(Fedora: ${missing_fedora[*]:-pkgconf}), or run 'make deps' as root" >&2
	exit 1
	;;
esac
