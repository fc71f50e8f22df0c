#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# hv-vmbus-bind(8) against a fake sysfs tree of plain files: exit codes,
# messages, and what it wrote where. Nothing plays the kernel here, so a
# bind or release that writes cannot take: the tool must say so, exit 1
# and put back what it added. The kernel's side effects are modelled in
# lib/test-vmbus-bind.c. Prints TAP.
set -u
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
BIND=$BUILD/tools/hv-vmbus-bind
MAN=${HVIS_SRCDIR:-$PWD}/man/hv-vmbus-bind.8

SD=0e0b6031-5213-4934-818b-38d90ced39db
INST=b6650ff7-33bc-4840-8048-e0676786f393
T=$(mktemp -d /tmp/test-hv-vmbus-bind.XXXXXX)
trap 'rm -rf "$T"' EXIT
SYS=$T/sys

n=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
nok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	[[ -s $T/out ]] && sed 's/^/# out: /' "$T/out" | head -5
	[[ -s $T/err ]] && sed 's/^/# err: /' "$T/err" | head -5
	return 0
}
# run EXPECTED_STATUS ARGS...: output in $T/out, $T/err
run() {
	local want=$1 got
	shift
	"$BIND" --sys-dir "$SYS" "$@" >"$T/out" 2>"$T/err"
	got=$?
	[[ $got -eq $want ]] || echo "# exit status $got, expected $want" >"$T/status"
	[[ $got -eq $want ]]
}
has() { grep -qF -- "$2" "$T/$1"; }
content() { [[ "$(cat "$SYS/bus/vmbus/drivers/$1")" == "$2" ]]; }

fresh() {
	rm -rf "$SYS"
	for d in uio_hv_generic hv_utils; do
		mkdir -p "$SYS/bus/vmbus/drivers/$d"
		for a in bind unbind new_id remove_id; do
			: >"$SYS/bus/vmbus/drivers/$d/$a"
		done
	done
	mkdir -p "$SYS/bus/vmbus/devices/$INST"
	echo "{$SD}" >"$SYS/bus/vmbus/devices/$INST/class_id"
	ln -s ../../drivers/${1:-hv_utils} "$SYS/bus/vmbus/devices/$INST/driver"
}
unwritten() {
	local f
	for f in "$SYS"/bus/vmbus/drivers/*/*; do
		[[ -s $f ]] && return 1
	done
	return 0
}

fresh
if run 64 && run 64 bind && run 64 frobnicate shutdown &&
	run 64 bind kvp && run 64 --instance=nope bind shutdown &&
	run 64 --kernel-driver=x bind shutdown; then
	ok "usage errors exit 64"
else nok "usage errors exit 64"; fi

if run 0 --help && has out "Exit status" && run 0 --version; then
	ok "--help documents the exit status"
else nok "--help documents the exit status"; fi

if run 0 status shutdown && has out "driver=hv_utils" &&
	has out "instance=$INST" && has out "class=$SD"; then
	ok "status names the device and its driver"
else nok "status names the device and its driver"; fi

if run 69 status fcopy && has err "no VMBus device of class fcopy"; then
	ok "status without a device: 69"
else nok "status without a device: 69"; fi

if run 10 --kernel-release=6.1.0-18-amd64 check shutdown &&
	has err "kernel 6.1.0-18-amd64 cannot run the shutdown channel" &&
	run 0 --kernel-release=6.10.0 check shutdown; then
	ok "check: 10 before 6.10, 0 from 6.10"
else nok "check: 10 before 6.10, 0 from 6.10"; fi

if run 10 --kernel-release=6.9.12 bind shutdown && unwritten &&
	[[ $(readlink "$SYS/bus/vmbus/devices/$INST/driver") == *hv_utils ]]; then
	ok "bind on an old kernel writes nothing, hv_utils keeps it"
else nok "bind on an old kernel writes nothing, hv_utils keeps it"; fi

if run 1 --kernel-release=6.10 bind shutdown && has err "did not take" &&
	content uio_hv_generic/new_id "$SD" &&
	content hv_utils/unbind "$INST" &&
	content uio_hv_generic/remove_id "$SD"; then
	ok "bind that does not take: 1, the added id taken out again"
else nok "bind that does not take: 1, the added id taken out again"; fi

fresh uio_hv_generic
if run 0 --kernel-release=6.10 bind shutdown && has out "already on" &&
	unwritten; then
	ok "bind when already on uio_hv_generic: nothing written"
else nok "bind when already on uio_hv_generic: nothing written"; fi

if run 1 release shutdown && content uio_hv_generic/remove_id "$SD" &&
	content uio_hv_generic/unbind "$INST" && has err "did not take"; then
	ok "release writes remove_id, then unbind"
else nok "release writes remove_id, then unbind"; fi

fresh
if run 0 release shutdown && has out "stays on hv_utils" &&
	content uio_hv_generic/remove_id "$SD" && content hv_utils/bind ""; then
	ok "release when hv_utils has it: only remove_id"
else nok "release when hv_utils has it: only remove_id"; fi

fresh hv_netvsc
if run 75 --kernel-release=6.10 bind shutdown && has err "bound to hv_netvsc" &&
	run 75 --kernel-release=6.10 check shutdown && unwritten; then
	ok "a foreign driver's channel is left alone: 75"
else nok "a foreign driver's channel is left alone: 75"; fi

fresh
rm -rf "$SYS/bus/vmbus/drivers/uio_hv_generic"
if run 69 --kernel-release=6.10 bind shutdown &&
	has err "uio_hv_generic is not available"; then
	ok "no uio_hv_generic under a test root: 69, no modprobe"
else nok "no uio_hv_generic under a test root: 69, no modprobe"; fi

fresh
if run 0 --instance="{${INST^^}}" --kernel-driver=hv_utils status "{${SD^^}}" &&
	has out "driver=hv_utils"; then
	ok "a class GUID and an instance in any case, with braces"
else nok "a class GUID and an instance in any case, with braces"; fi

if [[ -r $MAN ]]; then
	missing=
	sed 's/\\-/-/g' "$MAN" >"$T/man"
	for o in $("$BIND" --help | grep -oE -- '--[a-z-]+' | sort -u); do
		grep -qF -- "Fl ${o#-}" "$T/man" || missing="$missing $o"
	done
	if [[ -z $missing ]]; then
		ok "every option in --help is in the man page"
	else nok "options missing from the man page:$missing"; fi
	if command -v mandoc >/dev/null; then
		mandoc -T lint -W warning "$MAN" >"$T/err" 2>&1
		if [[ ! -s $T/err ]]; then ok "man page lints clean"
		else nok "man page lints clean"; fi
	else
		echo "ok $((n += 1)) - man page lint # SKIP no mandoc"
	fi
else
	echo "ok $((n += 1)) - man page # SKIP $MAN not found"
fi

echo "1..$n"
