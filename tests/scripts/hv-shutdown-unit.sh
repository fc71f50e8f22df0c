#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# hv_shutdown_daemon's unit, udev rule and man page: the unit passes
# systemd-analyze verify (paths pointed at the build), runs the bind
# helper around the daemon, and every --help option is documented.
# Prints TAP.
set -u
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
SRC=${HVIS_SRCDIR:-$PWD}
UNIT=$SRC/shutdown/hv-shutdown-daemon.service
RULE=$SRC/shutdown/70-hv-shutdown.rules
MAN=$SRC/man/hv_shutdown_daemon.8
T=$(mktemp -d /tmp/test-hv-shutdown-unit.XXXXXX)
trap 'rm -rf "$T"' EXIT

n=0
ok() { echo "ok $((n += 1)) - $1"; }
nok() {
	echo "not ok $((n += 1)) - $1"
	[[ -s $T/err ]] && sed 's/^/# /' "$T/err" | head -10
	return 0
}
skip() { echo "ok $((n += 1)) - $1 # SKIP $2"; }

if command -v systemd-analyze >/dev/null; then
	sed -e "s|/usr/libexec/hvis/hv-vmbus-bind|$BUILD/tools/hv-vmbus-bind|" \
		-e "s|/usr/sbin/hv_shutdown_daemon|$BUILD/hv_shutdown_daemon|" \
		"$UNIT" >"$T/hv-shutdown-daemon.service"
	if systemd-analyze verify --man=no "$T/hv-shutdown-daemon.service" \
		>"$T/err" 2>&1 && [[ ! -s $T/err ]]; then
		ok "the unit passes systemd-analyze verify"
	else nok "the unit passes systemd-analyze verify"; fi
else
	skip "the unit passes systemd-analyze verify" "no systemd-analyze"
fi

if grep -qx 'Type=notify' "$UNIT" &&
	grep -qx 'ExecStartPre=/usr/libexec/hvis/hv-vmbus-bind bind shutdown' "$UNIT" &&
	grep -qx 'ExecStopPost=/usr/libexec/hvis/hv-vmbus-bind release shutdown' "$UNIT" &&
	grep -qx 'ExecCondition=/usr/libexec/hvis/hv-vmbus-bind --quiet check shutdown' "$UNIT" &&
	grep -qx 'RestartPreventExitStatus=10' "$UNIT" &&
	grep -qx 'ConditionVirtualization=microsoft' "$UNIT"; then
	ok "the unit binds before, releases after, skips on old kernels"
else nok "the unit binds before, releases after, skips on old kernels"; fi

if grep -q 'ATTR{class_id}=="{0e0b6031-5213-4934-818b-38d90ced39db}"' "$RULE" &&
	grep -q 'SYSTEMD_WANTS}+="hv-shutdown-daemon.service"' "$RULE" &&
	grep -q 'SUBSYSTEM=="vmbus"' "$RULE"; then
	ok "the udev rule starts the unit for the shutdown class"
else nok "the udev rule starts the unit for the shutdown class"; fi

sed 's/\\-/-/g' "$MAN" >"$T/man"
missing=
for o in $("$BUILD/hv_shutdown_daemon" --help | grep -oE -- '--[a-z-]+' | sort -u); do
	grep -qF -- "Fl ${o#-}" "$T/man" || missing="$missing $o"
done
: >"$T/err"
if [[ -z $missing ]]; then ok "every option in --help is in the man page"
else nok "options missing from the man page:$missing"; fi

if command -v mandoc >/dev/null; then
	mandoc -T lint -W warning "$MAN" >"$T/err" 2>&1
	if [[ ! -s $T/err ]]; then ok "man page lints clean"
	else nok "man page lints clean"; fi
else
	skip "man page lints clean" "no mandoc"
fi

echo "1..$n"
