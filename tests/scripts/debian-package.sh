#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The Debian package: debian/build-deb.sh (make deb) builds it from a
# scratch copy of the tree, lintian finds no error, and in a Debian 12
# chroot dpkg replaces hyperv-daemons with it, puts every file where the
# units, udev rules and man pages expect it, starts nothing anywhere but on
# a Hyper-V guest running systemd, and purges cleanly without touching the
# KVP pools or an admin's hooks. Root only; runs once per CI run (skipped
# under SANITIZE=1: the package is built with its own flags anyway).
# Prints TAP, with timings as comments.
set -u
SRC=${HVIS_SRCDIR:-$PWD}
n=0
ok() { echo "ok $((n += 1)) - $1"; }
nok() {
	echo "not ok $((n += 1)) - $1"
	[[ -s $T/err ]] && sed 's/^/# /' "$T/err" | head -20
	: >"$T/err"
	return 0
}
check() { # check DESCRIPTION: ok when $T/err is empty
	if [[ -s $T/err ]]; then nok "$1"; else ok "$1"; fi
}
skip_all() {
	echo "ok 1 - debian package # SKIP $1"
	echo "1..1"
	exit 0
}
timing() { echo "# $1: $((SECONDS - t0)) s"; }

[[ ${SANITIZE:-0} == 1 ]] && skip_all "runs in the non-sanitizer pass only"
# shellcheck source=tests/system/rootfs.sh
. "$SRC/tests/system/rootfs.sh"
why=$(hvis_rootfs_unavailable)
[[ -n $why ]] && skip_all "$why"
for tool in dpkg-buildpackage dh lintian chroot; do
	command -v $tool >/dev/null || skip_all "$tool is not installed"
done

T=$(mktemp -d /tmp/test-debian-package.XXXXXX)
trap 'rm -rf "$T"' EXIT
: >"$T/err"
R=$T/root
UNITS="hv-fcopy-daemon.service hv-kvp-daemon.service hv-shutdown-daemon.service hv-vss-daemon.service"

# --- build -------------------------------------------------------------
# nocheck: make check has just run the unit tests the package build would
# run; their selection is checked below without building.
t0=$SECONDS
if DEB_BUILD_OPTIONS=nocheck "$SRC/debian/build-deb.sh" "$T/out" \
	>"$T/build.log" 2>&1; then
	ok "debian/build-deb.sh builds the package (dpkg-buildpackage -b)"
else
	tail -20 "$T/build.log" >"$T/err"
	nok "debian/build-deb.sh builds the package (dpkg-buildpackage -b)"
	echo "1..$n"
	exit 1
fi
timing "build"
DEB=$(ls "$T"/out/hvis_*.deb)

# The unit tests the build runs: modules only, and none under nocheck.
rules() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL DEB_BUILD_OPTIONS="$1" \
		make -s -n -C "$SRC" -f debian/rules "$2"
}
tests=$(rules "" override_dh_auto_test | grep -oE 'debian/build/[^ ]*test-[^ ]*')
[[ -n $tests ]] || echo "no unit test selected" >"$T/err"
grep -vE '^(debian/build/(lib|kvp|vss|fcopy|shutdown)/test-[a-z0-9-]+)?$' \
	<<<"$tests" >>"$T/err"
rules nocheck override_dh_auto_test | grep -E 'run-tests|test-' >>"$T/err" &&
	echo "(nocheck still runs unit tests)" >>"$T/err"
rules nocheck override_dh_auto_build | grep -q 'test-' &&
	echo "nocheck still builds unit tests" >>"$T/err"
check "the build runs $(wc -w <<<"$tests") module unit tests, none with nocheck"

# --- lintian -----------------------------------------------------------
t0=$SECONDS
lintian -I "$DEB" >"$T/lintian" 2>&1
grep -v 'running with root privileges' "$T/lintian" | sed 's/^/# lintian: /'
grep '^E:' "$T/lintian" >"$T/err"
check "lintian reports no error"
timing "lintian"

f() { dpkg-deb -f "$DEB" "$1"; }
: >"$T/err"
for field in Conflicts Replaces Provides; do
	[[ $(f $field) == *hyperv-daemons* ]] ||
		echo "$field does not name hyperv-daemons" >>"$T/err"
done
[[ $(f Depends) == *libnl-route-3-200* && $(f Depends) == *libsystemd0* ]] ||
	echo "Depends lacks the shared libraries: $(f Depends)" >>"$T/err"
check "control: Conflicts/Replaces/Provides hyperv-daemons, shlibs Depends"

# --- a Debian 12 chroot ------------------------------------------------
t0=$SECONDS
if ! hvis_rootfs_make "$R" 2>"$T/err"; then
	nok "a Debian 12 rootfs"
	echo "1..$n"
	exit 1
fi
timing "rootfs"
cp "$DEB" "$R/tmp/hvis.deb"

# Recorders in front of everything a maintainer script could start
# services with; systemd-detect-virt answers $FAKE_VIRT.
mkdir "$R/shim"
for tool in systemctl deb-systemd-invoke udevadm invoke-rc.d service; do
	printf '#!/bin/sh\necho "%s $*" >>/shim/log\n' $tool >"$R/shim/$tool"
done
cat >"$R/shim/systemd-detect-virt" <<'EOF'
#!/bin/sh
echo "systemd-detect-virt $*" >>/shim/log
echo "${FAKE_VIRT:-none}"
[ "${FAKE_VIRT:-none}" != none ]
EOF
chmod 755 "$R"/shim/*
in_root() {
	chroot "$R" env -i PATH=/shim:/usr/sbin:/usr/bin:/sbin:/bin \
		FAKE_VIRT="${FAKE_VIRT:-}" LC_ALL=C "$@"
}
policy() { # policy DENY|ALLOW: policy-rc.d as in image builds, or none
	if [[ $1 == DENY ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
		chmod 755 "$R/usr/sbin/policy-rc.d"
	else
		rm -f "$R/usr/sbin/policy-rc.d"
	fi
}
install_deb() { # install_deb DESCRIPTION: dpkg -i, status checked
	: >"$R/shim/log"
	if in_root dpkg -i /tmp/hvis.deb >"$T/dpkg.log" 2>&1 &&
		[[ $(in_root dpkg-query -W -f='${Status}' hvis) == "install ok installed" ]]; then
		ok "$1"
	else
		cp "$T/dpkg.log" "$T/err"
		nok "$1"
	fi
}
# Only reloading systemd and asking what machine this is are not actions.
actions() { grep -vE '^(systemctl --system daemon-reload|systemd-detect-virt .*)$' "$R/shim/log"; }

# User data and an admin's hook, there before the package.
mkdir -p "$R/var/lib/hyperv" "$R/etc/hvis/vss-hooks.d"
for i in 0 1 2 3 4; do
	head -c 2560 /dev/urandom >"$R/var/lib/hyperv/.kvp_pool_$i"
done
printf '#!/bin/sh\nexit 0\n' >"$R/etc/hvis/vss-hooks.d/10-app"
(cd "$R" && md5sum var/lib/hyperv/.kvp_pool_* etc/hvis/vss-hooks.d/10-app) >"$T/data.md5"

# A stand-in for the distro's hyperv-daemons, holding the paths both ship.
t0=$SECONDS
H=$T/hyperv-daemons
mkdir -p "$H/DEBIAN" "$H/usr/sbin" "$H/lib/systemd/system" "$H/lib/udev/rules.d"
for d in kvp vss fcopy; do
	printf '#!/bin/sh\n' >"$H/usr/sbin/hv_${d}_daemon"
	chmod 755 "$H/usr/sbin/hv_${d}_daemon"
	printf '[Service]\nExecStart=/usr/sbin/hv_%s_daemon -n\n' $d \
		>"$H/lib/systemd/system/hv-$d-daemon.service"
done
echo '# reference rules' >"$H/lib/udev/rules.d/60-hyperv-daemons.rules"
printf 'Package: hyperv-daemons\nVersion: 6.1.0-1\nArchitecture: all\nMaintainer: test <test@example.org>\nDescription: stand-in\n' \
	>"$H/DEBIAN/control"
dpkg-deb -b --root-owner-group "$H" "$R/tmp/hyperv-daemons.deb" >/dev/null
if in_root dpkg -i /tmp/hyperv-daemons.deb >"$T/err" 2>&1; then
	: >"$T/err"
	ok "a stand-in hyperv-daemons with the same paths is installed"
else nok "a stand-in hyperv-daemons with the same paths is installed"; fi

# --- 1: with policy-rc.d, replacing hyperv-daemons ------------------------
policy DENY
install_deb "dpkg -i in the chroot (policy-rc.d 101) replaces hyperv-daemons"
st=$(in_root dpkg-query -W -f='${db:Status-Abbrev}' hyperv-daemons 2>/dev/null)
owner=$(in_root dpkg -S /usr/sbin/hv_kvp_daemon 2>/dev/null)
if [[ $st != ii* && $owner == "hvis: /usr/sbin/hv_kvp_daemon" &&
	! -e $R/lib/udev/rules.d/60-hyperv-daemons.rules ]]; then
	ok "hyperv-daemons is removed, its program paths are hvis's"
else
	echo "hyperv-daemons status '$st', hv_kvp_daemon: $owner" >"$T/err"
	nok "hyperv-daemons is removed, its program paths are hvis's"
fi
actions >"$T/err"
check "postinst starts, enables or triggers nothing (policy-rc.d, no systemd)"
timing "install"

in_root dpkg -L hvis >"$T/list"
while read -r p; do [[ -f $R$p ]] && echo "$p"; done <"$T/list" >"$T/files"
grep -vE '^/(lib/systemd/system/hv-[a-z]+-daemon\.service|lib/udev/rules\.d/[0-9]+-hv-[a-z]+\.rules|usr/(s?bin|libexec/hvis)/[a-z_-]+|usr/share/man/man[158]/[a-z_-]+\.[158]\.gz|usr/share/(doc|lintian/overrides)/hvis(/.*)?)$' \
	"$T/files" >"$T/err"
grep '^/usr/local' "$T/list" >>"$T/err"
check "dpkg -L: $(wc -l <"$T/files") files, all under FHS paths, none in /usr/local"

: >"$T/err"
for u in $UNITS; do
	grep -qx "/lib/systemd/system/$u" "$T/files" || echo "$u not shipped" >>"$T/err"
done
n_exec=0
for u in $(grep '^/lib/systemd/system/' "$T/files"); do
	while read -r prog; do
		n_exec=$((n_exec + 1))
		[[ -f $R$prog && -x $R$prog ]] || echo "$u: $prog missing" >>"$T/err"
		in_root dpkg -S "$prog" >/dev/null 2>&1 ||
			echo "$u: $prog belongs to no package" >>"$T/err"
	done < <(sed -nE 's/^Exec[A-Za-z]*=[-@:+!]*([^ ]+).*/\1/p' "$R$u")
done
[[ $n_exec -ge 4 ]] || echo "only $n_exec Exec lines found" >>"$T/err"
check "the four units are shipped; all $n_exec Exec*= programs are installed and executable"

: >"$T/err"
wanted=
for r in $(grep '^/lib/udev/rules.d/' "$T/files"); do
	for u in $(grep -oE 'SYSTEMD_WANTS\}\+?="[^"]+"' "$R$r" | sed -E 's/.*="([^"]+)"/\1/'); do
		wanted="$wanted $u"
		grep -qx "/lib/systemd/system/$u" "$T/files" ||
			echo "$r wants $u, which the package does not ship" >>"$T/err"
	done
done
for u in $UNITS; do
	[[ " $wanted " == *" $u "* ]] || echo "no udev rule starts $u" >>"$T/err"
done
check "every udev rule names a shipped unit, every unit has a rule"

: >"$T/err"
for p in $(grep -E '^/usr/(s?bin|libexec/hvis)/' "$T/files"); do
	b=${p##*/}
	ls "$R"/usr/share/man/man[18]/"$b".[18].gz >/dev/null 2>&1 ||
		echo "no man page for $p" >>"$T/err"
done
for u in $(grep '^/lib/systemd/system/' "$T/files"); do
	for m in $(grep -oE 'man:[A-Za-z0-9_.-]+\([0-9]\)' "$R$u"); do
		m=${m#man:} s=${m##*\(} s=${s%\)} m=${m%\(*}
		[[ -f $R/usr/share/man/man$s/$m.$s.gz ]] ||
			echo "$u: Documentation=man:$m($s) is not installed" >>"$T/err"
	done
done
check "every program and every unit's Documentation= has its man page"

: >"$T/err"
for p in $(grep -E '^/usr/(s?bin|libexec/hvis)/' "$T/files"); do
	in_root "$p" --help >/dev/null 2>&1 || echo "$p --help fails in the chroot" >>"$T/err"
done
check "every program runs in a plain Debian 12 (its Depends suffice)"

: >"$T/err"
ls -d "$R"/etc/systemd/system/*.wants/hv-* 2>/dev/null >>"$T/err"
ls "$R"/var/lib/systemd/deb-systemd-helper-enabled/*hv-* 2>/dev/null >>"$T/err"
check "no unit is enabled (udev starts them)"

# --- purge -------------------------------------------------------------
purge() { # purge DESCRIPTION
	: >"$R/shim/log"
	if ! in_root dpkg --purge hvis >"$T/err" 2>&1; then
		nok "$1"
		return
	fi
	: >"$T/err"
	while read -r p; do [[ -e $R$p ]] && echo "left: $p"; done <"$T/files" >>"$T/err"
	for d in /usr/libexec/hvis /usr/share/doc/hvis; do
		[[ -e $R$d ]] && echo "left: $d" >>"$T/err"
	done
	st=$(in_root dpkg-query -W -f='${Status}' hvis 2>/dev/null)
	[[ -z $st || $st == *not-installed ]] || echo "hvis is '$st'" >>"$T/err"
	(cd "$R" && md5sum --quiet -c "$T/data.md5") >>"$T/err" 2>&1
	check "$1"
}
t0=$SECONDS
purge "dpkg --purge removes every file; KVP pools and admin hooks stay"

# --- 2: no policy-rc.d, no systemd running --------------------------------
policy ALLOW
install_deb "dpkg -i without policy-rc.d"
actions >"$T/err"
check "postinst starts nothing without policy-rc.d either (no systemd running)"
purge "purged again"

# --- 3: systemd running (faked), not a Hyper-V guest ----------------------
mkdir -p "$R/run/systemd/system"
FAKE_VIRT=none install_deb "dpkg -i with systemd running on a machine that is not Hyper-V"
actions >"$T/err"
grep -q '^systemd-detect-virt' "$R/shim/log" ||
	echo "postinst never asked systemd-detect-virt" >>"$T/err"
check "postinst asks systemd-detect-virt and starts nothing when it is not microsoft"

FAKE_VIRT=none purge "purged with systemd running"
line=$(grep '^deb-systemd-invoke stop ' "$R/shim/log")
for u in $(grep '^/lib/systemd/system/' "$T/files"); do
	[[ " $line " == *" ${u##*/} "* ]] || echo "prerm did not stop ${u##*/}" >>"$T/err"
done
[[ -s $T/err ]] && sed 's/^/log: /' "$R/shim/log" >>"$T/err"
check "prerm stops all four units on removal (the shutdown channel goes back)"

# --- 4: a Hyper-V guest, but policy-rc.d forbids starting ----------------
policy DENY
FAKE_VIRT=microsoft install_deb "dpkg -i on Hyper-V with policy-rc.d 101"
actions >"$T/err"
check "postinst honours policy-rc.d on Hyper-V"
purge "purged"

# --- 5: a Hyper-V guest running systemd: udev starts what is offered ------
policy ALLOW
FAKE_VIRT=microsoft install_deb "dpkg -i on a Hyper-V guest running systemd"
: >"$T/err"
for want in "udevadm control --reload" \
	"udevadm trigger --action=add --subsystem-match=vmbus" \
	"udevadm trigger --action=add --subsystem-match=misc --sysname-match=vmbus[/!]hv_*" \
	"deb-systemd-invoke try-restart hv-kvp-daemon.service hv-vss-daemon.service hv-fcopy-daemon.service"; do
	grep -qxF "$want" "$R/shim/log" || echo "missing: $want" >>"$T/err"
done
actions | grep -vE '^(udevadm (control|trigger) |deb-systemd-invoke try-restart )' >>"$T/err"
[[ -s $T/err ]] && sed 's/^/log: /' "$R/shim/log" >>"$T/err"
check "postinst replays the udev add events only there (and takes over hyperv-daemons' units)"
FAKE_VIRT=microsoft purge "purged"
timing "install/purge scenarios"

echo "1..$n"
