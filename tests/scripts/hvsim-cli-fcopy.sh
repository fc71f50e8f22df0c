#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# hvsim(1) as the host for Copy-VMFile and the KVP IP operations:
# "hvsim serve" with the legacy hv_fcopy device and the fcopy UIO channel,
# a real hv_fcopy_daemon on each, and hvsim copy-file checked against the
# bytes that arrive (non-ASCII names, -Force, -CreateFullPath, PowerShell's
# messages, exit statuses). hvsim kvp ip get|set against a real
# hv_kvp_daemon, which runs in a private network namespace on a veth the
# test creates (so it only ever sees that). Prints TAP.
set -u
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
HVSIM=$BUILD/hvsim
FCOPY=$BUILD/hv_fcopy_daemon
KVP=$BUILD/hv_kvp_daemon

T=$(mktemp -d /tmp/test-hvsim-cli-fcopy.XXXXXX)
D=$T/root
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$D/etc" "$D/run" "$D/var/lib/hyperv" "$T/src" "$T/dst"

n=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
nok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	[[ -s $T/out ]] && sed 's/^/# stdout: /' "$T/out" | head -12
	[[ -s $T/err ]] && sed 's/^/# stderr: /' "$T/err" | head -5
	return 0
}
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}
# run [--root DIR] ARGS...: hvsim against $R (default: the server's root).
run() {
	"$HVSIM" --root "${R:-$D}" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
expect() {
	local name=$1 want=$2
	shift 2
	run "$@"
	if [[ $rc -eq $want ]]; then ok "$name"; else nok "$name (exit $rc, want $want)"; fi
}
out_has() { grep -qF -- "$1" "$T/out"; }
err_has() { grep -qF -- "$1" "$T/err"; }
sum() { sha256sum <"$1" | cut -d' ' -f1; }
same() { [[ -f $1 && -f $2 && $(sum "$1") == "$(sum "$2")" ]]; }
# serve ROOT ARGS...: start a server, wait for "ready" on a FIFO.
serve() {
	local root=$1 ready
	shift
	mkdir -p "$root"
	mkfifo "$T/ready.$$"
	"$HVSIM" serve --root "$root" "$@" --ready-fd 3 3>"$T/ready.$$" \
		2>>"$T/serve.err" &
	SP=$!
	pids+=("$SP")
	ready=
	read -r -t 20 ready <"$T/ready.$$"
	rm -f "$T/ready.$$"
	[[ $ready == ready ]]
}

for f in "$HVSIM" "$FCOPY" "$KVP"; do
	if [[ ! -x $f ]]; then
		echo "1..0 # SKIP $f not built"
		exit 0
	fi
done

# ---- help and usage, no server needed ----
"$HVSIM" --help >"$T/out" 2>&1
check "--help names copy-file and kvp ip" eval 'out_has copy-file && out_has "kvp ip get MAC" &&
	out_has "kvp ip set GUID" && out_has --fcopy-uio'
"$HVSIM" help serve >"$T/out" 2>&1
check "help serve lists --fcopy-uio and the channel's GUIDs" eval 'out_has --fcopy-uio &&
	out_has eb765408-105f-49b6-b4aa-c123b64d17d4 && out_has 34d14be3-dee4-41c8-9ae7-6b174977c192'
"$HVSIM" help copy-file >"$T/out" 2>&1
check "help copy-file lists every option" eval 'out_has --force && out_has --create-full-path &&
	out_has --transport && out_has 0x80070050'
"$HVSIM" kvp ip --help >"$T/out" 2>&1
check "kvp ip --help lists get, set and their options" eval 'out_has "get MAC" && out_has "set GUID" &&
	out_has --json && out_has --dhcp && out_has --subnet && out_has --gateway && out_has --dns'
"$HVSIM" help kvp ip >"$T/out" 2>&1
check "help kvp ip" out_has "Usage: hvsim --root DIR kvp ip get MAC"
expect "copy-file without a server: exit 3" 3 copy-file "$HVSIM" /tmp/x
echo data >"$T/src/plain.txt"
expect "copy-file with one argument: exit 2" 2 copy-file "$T/src/plain.txt"
expect "copy-file --transport bogus: exit 2" 2 copy-file "$T/src/plain.txt" /x --transport bogus
expect "copy-file of a missing SRC: exit 2" 2 copy-file "$T/src/none" /x
check "a missing SRC is named" err_has "$T/src/none"
expect "copy-file of a directory: exit 2" 2 copy-file "$T/src" /x
expect "kvp ip get of a malformed MAC: exit 2" 2 kvp ip get 00:11:22
expect "kvp ip get --dhcp: exit 2" 2 kvp ip get 00:15:5d:00:00:01 --dhcp
expect "kvp ip set --dhcp with --ip: exit 2" 2 kvp ip set \
	c3a2f1e0-0000-4000-8000-000000000001 --dhcp --ip 10.0.0.1
expect "kvp ip set with --ip but no --subnet: exit 2" 2 kvp ip set \
	c3a2f1e0-0000-4000-8000-000000000001 --ip 10.0.0.1
expect "kvp ip set with fewer subnets than addresses: exit 2" 2 kvp ip set \
	c3a2f1e0-0000-4000-8000-000000000001 --ip 10.0.0.1,10.0.0.2 --subnet 255.0.0.0
expect "kvp ip set of a malformed GUID: exit 2" 2 kvp ip set nope --dhcp

# ---- no guest: the host's copy fails at once (no registration wait) ----
L=$T/lonely
check "serve --fcopy --fcopy-uio (no daemons, no wait)" serve "$L" --fcopy --fcopy-uio --nego-wait 0
LONELY=$SP
R=$L expect "copy over UIO with no guest: exit 1" 1 copy-file "$T/src/plain.txt" /tmp/x --transport uio
check "no guest: HV_E_FAIL and the reason" eval 'out_has "status: 0x80004005 HV_E_FAIL (at start" &&
	err_has "Failed to initiate copying files to the guest: Unspecified error (0x80004005)" &&
	err_has "no guest has the file copy channel open"'
R=$L expect "copy over the char device with no daemon: exit 1" 1 copy-file "$T/src/plain.txt" \
	/tmp/x --transport chardev
check "the legacy kernel itself refuses START with HV_E_FAIL" \
	out_has "status: 0x80004005 HV_E_FAIL (at start, 0 of 5 bytes over chardev)"
R=$L expect "kvp ip get on a server without KVP: exit 3" 3 kvp ip get 00:15:5d:00:00:01
kill "$LONELY"
wait "$LONELY"
check "that server exits 0" [ $? -eq 0 ]

# ---- the server, the two file copy daemons ----
check "serve --kvp --fcopy --fcopy-uio" serve "$D" --kvp --fcopy --fcopy-uio \
	--nego-wait 20000 --timeout 10000
SYSDEV=$D/sys/bus/vmbus/devices/eb765408-105f-49b6-b4aa-c123b64d17d4
check "the UIO channel: sysfs tree with the fcopy class, dev/uio0, and hv_fcopy" \
	eval '[[ $(cat "$SYSDEV/class_id") == "{34d14be3-dee4-41c8-9ae7-6b174977c192}" &&
	-S $D/dev/uio0 && -S $D/dev/vmbus/hv_fcopy && -S $D/dev/vmbus/hv_kvp ]]'
"$FCOPY" --root "$D" --transport=uio --log=stderr 2>"$T/fcopy-uio.err" &
pids+=($!)
FU=$!
# The legacy daemon keeps its crash record apart from the UIO one's.
"$FCOPY" --root "$D" --state-dir="$T/state-chardev" --transport=chardev \
	--log=stderr 2>"$T/fcopy-chardev.err" &
pids+=($!)

NAME='Grüße-😀.txt'
# More than a ring's worth and not a multiple of 6144: several WRITEs, wrap.
head -c 50001 /dev/urandom >"$T/src/$NAME"
head -c 7000 /dev/urandom >"$T/src/other"
: >"$T/src/empty"
for t in uio chardev; do
	mkdir -p "$T/dst/$t"
	expect "$t: copy $NAME (waits for the daemon)" 0 copy-file "$T/src/$NAME" \
		"$T/dst/$t/$NAME" --transport "$t"
	check "$t: status line with the bytes and transport" \
		out_has "status: 0x00000000 HV_S_OK (50001 bytes over $t)"
	check "$t: the copy has the source's sha256" same "$T/src/$NAME" "$T/dst/$t/$NAME"
	expect "$t: the same copy again without --force: exit 1" 1 copy-file \
		"$T/src/other" "$T/dst/$t/$NAME" --transport "$t"
	check "$t: PowerShell's message, HV_ERROR_ALREADY_EXISTS at START" eval \
		'err_has "Failed to initiate copying files to the guest: The file exists. (0x80070050)" &&
		out_has "status: 0x80070050 HV_ERROR_ALREADY_EXISTS (at start, 0 of 7000 bytes over $t)"'
	check "$t: the existing file is untouched" same "$T/src/$NAME" "$T/dst/$t/$NAME"
	expect "$t: --force overwrites" 0 copy-file --force "$T/src/other" \
		"$T/dst/$t/$NAME" --transport "$t"
	check "$t: the file now has the new content" same "$T/src/other" "$T/dst/$t/$NAME"
	expect "$t: into a missing directory without --create-full-path: exit 1" 1 \
		copy-file "$T/src/other" "$T/dst/$t/new/sub/$NAME" --transport "$t"
	check "$t: HV_E_FAIL at START, nothing created" eval \
		'err_has "Unspecified error (0x80004005)" && [[ ! -e $T/dst/$t/new ]]'
	expect "$t: --create-full-path" 0 copy-file "$T/src/$NAME" \
		"$T/dst/$t/new/sub/$NAME" --create-full-path --transport "$t"
	check "$t: the directories were made and the copy is whole" \
		same "$T/src/$NAME" "$T/dst/$t/new/sub/$NAME"
	expect "$t: an empty file" 0 copy-file "$T/src/empty" "$T/dst/$t/" --transport "$t"
	check "$t: a DEST ending in '/' takes SRC's name; 0 bytes" \
		eval '[[ -f $T/dst/$t/empty && ! -s $T/dst/$t/empty ]] && out_has "(0 bytes over $t)"'
done
expect "status" 0 status
check "status: both transports negotiated 3.0/1.1, the UIO channel open" eval \
	'out_has "fcopy-host negotiated=3.0/1.1" && out_has "fcopy-uio-host negotiated=3.0/1.1" &&
	out_has "fcopy-uio path=$D/dev/uio0 instance=eb765408-105f-49b6-b4aa-c123b64d17d4 open=yes" &&
	out_has "ring-size=0x5000 last-error=none"'
expect "copy-file picks the UIO guest without --transport" 0 copy-file --force \
	"$T/src/other" "$T/dst/uio/auto"
check "... over uio" out_has "(7000 bytes over uio)"

# ---- KVP IP: the daemon in its own network namespace on a veth ----
MAC=00:15:5d:4a:7e:01
netns_ok=
if [[ $(id -u) -eq 0 ]] && command -v unshare >/dev/null && command -v ip >/dev/null &&
	unshare -n sh -c 'ip link add g0 type veth peer name p0' 2>/dev/null; then
	netns_ok=1
fi
if [[ -n $netns_ok ]]; then
	unshare -n bash -c '
		set -e
		ip link add gst0 address '"$MAC"' type veth peer name peer0
		ip link set peer0 up
		ip link set gst0 up
		ip addr add 10.9.8.7/24 dev gst0
		ip -6 addr add fd42::7/64 dev gst0 nodad
		ip route add default via 10.9.8.1
		exec "$0" --root "$1" --log=stderr' "$KVP" "$D" 2>"$T/kvp.err" &
else
	# Still safe: GET only reads, and no SET below can match a NIC.
	"$KVP" --root "$D" --log=stderr 2>"$T/kvp.err" &
fi
pids+=($!)
if [[ -n $netns_ok ]]; then
	expect "kvp ip get of the guest's NIC (any MAC spelling)" 0 kvp ip get 00-15-5D-4A-7E-01
	check "addresses, subnets, gateway, DHCP, family" eval \
		'out_has "MacAddress    : 00:15:5D:4A:7E:01" && out_has "Status        : HV_S_OK" &&
		out_has "IPAddresses   : {10.9.8.7, fd42::7" && out_has "Subnets       : {255.255.255.0, /64" &&
		out_has "Gateways      : {10.9.8.1}" && out_has "DhcpEnabled   : False" && out_has "AddressFamily : IPv4, IPv6"'
	expect "kvp ip get --json" 0 kvp ip get 00155d4a7e01 --json
	check "one JSON object with the status" eval \
		'out_has "\"status\": \"HV_S_OK\"" && out_has "\"IPAddresses\": [\"10.9.8.7\", \"fd42::7\""'
else
	for c in 1 2 3 4; do ok "kvp ip get of a NIC # SKIP needs root, unshare and veth"; done
fi
# A MAC no NIC there has (in the namespace, or on this machine).
NOMAC=00:15:5D:FE:ED:42
if grep -qix "$NOMAC" /sys/class/net/*/address 2>/dev/null && [[ -z $netns_ok ]]; then
	NOMAC=00:15:5D:FE:ED:43
fi
expect "kvp ip get of an unknown MAC: exit 1" 1 kvp ip get "$NOMAC"
check "the guest's HV_E_FAIL, and a hint" eval \
	'out_has "status: 0x80004005 HV_E_FAIL" && err_has "0x80004005" && err_has "$NOMAC"'
expect "kvp ip get --json of an unknown MAC: exit 1" 1 kvp ip get "$NOMAC" --json
check "the JSON object carries the failure" out_has '"status": "HV_E_FAIL"'
expect "kvp ip set for an adapter the guest lacks: exit 1" 1 kvp ip set \
	'{C3A2F1E0-0000-4000-8000-000000000001}' --ip 10.0.0.5,fd00::5 --subnet 255.255.255.0,64 \
	--gateway 10.0.0.1 --dns 10.0.0.53
check "HV_GUID_NOTFOUND" out_has "status: 0x80041002 HV_GUID_NOTFOUND"

# ---- shutdown ----
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
st=0
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || st=$?; done
pids=()
check "server and daemons stop cleanly" [ "$st" -eq 0 ]
check "serve removed its sockets" eval '[[ ! -e $D/hvsim.sock && ! -e $D/dev/uio0 &&
	! -e $D/dev/vmbus/hv_fcopy ]]'
check "serve wrote nothing to stderr" [ ! -s "$T/serve.err" ]

echo "1..$n"
