#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# hvsim(1) as the host: "hvsim serve" under a private root, the real
# hv_kvp_daemon attached to its simulated /dev/vmbus/hv_kvp, and the
# hvsim kvp commands round-tripping through the kernel model (the
# LISA KVP-02..07 scenarios of peers.md). Checks exit statuses, output
# and the bytes the daemon leaves in its pool files. Prints TAP.
set -u
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
HVSIM=$BUILD/hvsim
DAEMON=$BUILD/hv_kvp_daemon
HVKVP=$BUILD/hv-kvp

T=$(mktemp -d /tmp/test-hvsim-cli.XXXXXX)
D=$T/root
SP= DP=
cleanup() {
	[[ -n $DP ]] && kill -CONT "$DP" 2>/dev/null
	[[ -n $DP ]] && kill "$DP" 2>/dev/null && wait "$DP" 2>/dev/null
	[[ -n $SP ]] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$D/etc" "$D/run" "$D/var/lib/hyperv"
printf 'NAME="hvsim Test OS"\nVERSION_ID="42"\n' >"$D/etc/os-release"

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
# run ARGS...: hvsim against the server's root; rc, $T/out, $T/err.
run() {
	"$HVSIM" --root "$D" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
# expect NAME STATUS ARGS...
expect() {
	local name=$1 want=$2
	shift 2
	run "$@"
	if [[ $rc -eq $want ]]; then ok "$name"; else nok "$name (exit $rc, want $want)"; fi
}
out_is() { [[ $(cat "$T/out"; echo .) == "$1"$'\n.' ]]; }
out_has() { grep -qF -- "$1" "$T/out"; }
err_has() { grep -qF -- "$1" "$T/err"; }
# Bytes of a pool record: FILE RECORD OFFSET LENGTH.
rec_bytes() { dd if="$1" bs=1 skip=$(($2 * 2560 + $3)) count="$4" status=none; }
# The NUL-terminated string there (what follows the NUL is undefined).
rec_str() {
	local s
	IFS= read -r -d '' s < <(rec_bytes "$@")
	printf '%s' "$s"
}

for f in "$HVSIM" "$DAEMON" "$HVKVP"; do
	if [[ ! -x $f ]]; then
		echo "1..0 # SKIP $f not built"
		exit 0
	fi
done

# ---- help and usage, no server needed ----
"$HVSIM" --help >"$T/out" 2>"$T/err"
rc=$?
check "--help exits 0 and names every command" \
	eval '[[ $rc -eq 0 ]] && out_has serve && out_has status && out_has kvp && out_has help && out_has --root'
"$HVSIM" help serve >"$T/out" 2>&1
check "help serve lists every option" eval 'out_has --root && out_has --kvp && out_has --vss &&
	out_has --fcopy && out_has --timeout && out_has --nego-wait && out_has --ready-fd'
"$HVSIM" kvp --help >"$T/out" 2>&1
check "kvp --help lists the subcommands and pools" eval 'out_has "add KEY VALUE" &&
	out_has modify && out_has remove && out_has "get KEY" && out_has list && out_has internal'
"$HVSIM" status --help >"$T/out" 2>&1
check "status --help" out_has "Usage: hvsim --root DIR status"
"$HVSIM" frobnicate >"$T/out" 2>"$T/err"
rc=$?
check "unknown command: exit 2" eval '[[ $rc -eq 2 ]] && err_has "unknown command"'
"$HVSIM" kvp list >"$T/out" 2>"$T/err"
rc=$?
check "no --root: exit 2" eval '[[ $rc -eq 2 ]] && err_has "--root is required"'
expect "no server: exit 3" 3 status
expect "kvp: unknown subcommand: exit 2" 2 kvp frob
expect "kvp get: missing key: exit 2" 2 kvp get
expect "kvp: unknown pool name: exit 2" 2 kvp list --pool nopool
expect "kvp: pool out of range: exit 2" 2 kvp list --pool 256
expect "kvp remove --type: exit 2" 2 kvp remove K --type u32
"$HVSIM" serve >"$T/out" 2>"$T/err"
rc=$?
check "serve without --root: exit 2" eval '[[ $rc -eq 2 ]] && err_has "--root is required"'

# ---- the server; readiness over a FIFO, no polling ----
mkfifo "$T/ready"
"$HVSIM" serve --root "$D" --kvp --nego-wait 20000 --timeout 1500 \
	--ready-fd 3 3>"$T/ready" 2>"$T/serve.err" &
SP=$!
ready=
read -r -t 20 ready <"$T/ready"
check "serve reports ready on --ready-fd" [ "$ready" = ready ]
check "serve creates the device and control sockets" \
	eval '[[ -S $D/dev/vmbus/hv_kvp && -S $D/hvsim.sock && ! -e $D/dev/vmbus/hv_vss ]]'
"$HVSIM" serve --root "$D" --kvp >"$T/out" 2>"$T/err"
rc=$?
check "a second server on the same root is refused (exit 3)" \
	eval '[[ $rc -eq 3 ]] && err_has "Address already in use" && [[ -S $D/hvsim.sock ]]'
expect "status before any daemon" 0 status
check "status: device closed, DEVICE_INIT" \
	eval 'out_has "kvp path=$D/dev/vmbus/hv_kvp open=no state=DEVICE_INIT" && out_has "kvp-host negotiated=no"'

# ---- the real daemon; requests wait for its registration ----
"$DAEMON" --root "$D" --log=stderr 2>"$T/daemon.err" &
DP=$!

# KVP-02: AddKvpItems on pool 0.
expect "add EEE 555 (waits for the registration)" 0 kvp add EEE 555
check "add prints the status" out_is "status: 0x00000000 HV_S_OK"
P0=$D/var/lib/hyperv/.kvp_pool_0
check "the daemon stored EEE=555 as a 2560-byte record" \
	eval '[[ $(stat -c %s "$P0") -eq 2560 && $(rec_bytes "$P0" 0 0 4 | od -An -tx1) == " 45 45 45 00" &&
	$(rec_bytes "$P0" 0 512 4 | od -An -tx1) == " 35 35 35 00" ]]'
"$HVKVP" --root "$D" get EEE >"$T/out" 2>"$T/err"
check "the guest reads EEE back from pool 0" out_is "555"
expect "status after registration" 0 status
check "status: open, READY, REGISTER1, one registration, negotiated 3.0/4.0" \
	eval 'out_has "open=yes state=READY registered-as=100" && out_has "registrations=1" &&
	out_has "kvp-host negotiated=3.0/4.0"'

# The GET quirk: the host's value starts 4 bytes into the daemon's.
expect "add LONG 'hello world'" 0 kvp add LONG "hello world"
expect "get LONG" 0 kvp get LONG
check "get shows the host's view and the daemon's reply" \
	eval 'out_has "LONG = o world" && out_has "# the daemon replied: hello world" &&
	out_has "status: 0x00000000 HV_S_OK"'
expect "get of a 3-byte value" 0 kvp get EEE
check "a value shorter than 4 bytes reaches the host empty" \
	eval 'out_has "EEE = " && ! out_has "EEE = 5" && out_has "# the daemon replied: 555"'
expect "get of a missing key: exit 1" 1 kvp get NOPE
check "get of a missing key: HV_S_CONT, no value" \
	eval 'out_is "status: 0x80070103 HV_S_CONT" && err_has "0x80070103"'

# KVP-03, KVP-07: ModifyKvpItems.
expect "modify EEE 999" 0 kvp modify EEE 999
expect "modify of a missing key: exit 1" 1 kvp modify AAA 999
check "modify of a missing key: no SET, WMI error named" \
	eval 'err_has 32773 && out_has 0x80070103 && ! grep -q AAA "$P0"'
expect "list --pool external" 0 kvp list --pool external
check "list shows EEE = 999 and LONG, then the end status" \
	eval 'out_is "EEE = 999
LONG = hello world
status: 0x80070103 HV_S_CONT (end of pool 0, 2 items)"'

# KVP-04, KVP-06: RemoveKvpItems.
expect "remove EEE" 0 kvp remove EEE
expect "remove EEE again: exit 1" 1 kvp remove EEE
check "remove of a missing key reports the guest's status" err_has "0x80070103"
expect "list --pool 0 after the remove" 0 kvp list --pool 0
check "EEE is gone" eval 'out_is "LONG = hello world
status: 0x80070103 HV_S_CONT (end of pool 0, 1 items)"'

# KVP-01b: GuestIntrinsicExchangeItems, in the §3.4 order.
expect "list --pool auto" 0 kvp list --pool auto
check "pool 2 lists the ten intrinsic keys in order" \
	eval '[[ $(sed -n "s/ = .*//p" "$T/out" | tr "\n" " ") == "FullyQualifiedDomainName IntegrationServicesVersion NetworkAddressIPv4 NetworkAddressIPv6 OSBuildNumber OSName OSMajorVersion OSMinorVersion OSVersion ProcessorArchitecture " ]]'
check "pool 2 values come from the kernel handshake and DIR/etc" \
	eval 'out_has "IntegrationServicesVersion = 3.1" && out_has "OSName = hvsim Test OS" &&
	out_has "OSMajorVersion = 42" && out_has "ProcessorArchitecture = $(uname -m)" &&
	out_has "(end of pool 2, 10 items)"'

# KVP-05: a guest-written item in GuestExchangeItems (pool 1, default).
expect "list (pool 1) while empty" 0 kvp list
check "an empty pool 1 ends at once" out_is "status: 0x80070103 HV_S_CONT (end of pool 1, 0 items)"
"$HVKVP" --root "$D" set BBB 111 >"$T/out" 2>"$T/err"
check "the guest sets BBB in pool 1 (hv-kvp)" [ $? -eq 0 ]
expect "list (pool 1) after the guest set BBB" 0 kvp list
check "the host sees the guest's item" out_has "BBB = 111"

# Non-ASCII keys and values, UTF-16 on the host side, UTF-8 in the pool.
K='ключ😀' V='значение € 日本 😀'
expect "add a non-ASCII key and value" 0 kvp add "$K" "$V" --pool guest
expect "list pool 1 with the non-ASCII item" 0 kvp list --pool 1
check "the non-ASCII item comes back intact" out_has "$K = $V"
P1=$D/var/lib/hyperv/.kvp_pool_1
check "the pool holds the UTF-8 bytes" \
	eval '[[ $(rec_str "$P1" 1 0 512) == "$K" && $(rec_str "$P1" 1 512 2048) == "$V" ]]'
"$HVKVP" --root "$D" --pool guest get "$K" >"$T/out" 2>"$T/err"
check "the guest reads the non-ASCII value" out_is "$V"

# Values the host sends as numbers, and a value that needs escaping.
expect "add --type u32" 0 kvp add N32 4294967295 --type u32
expect "add --type u64" 0 kvp add N64 18446744073709551615 -T u64
expect "add --type u32 out of range: exit 2" 2 kvp add BAD 4294967296 --type u32
expect "add a value with a newline" 0 kvp add NL $'a\nb\\c'
expect "list pool 0" 0 kvp list --pool 0
check "numbers arrive as decimal text, control characters escaped" \
	eval 'out_has "N32 = 4294967295" && out_has "N64 = 18446744073709551615" &&
	out_has "NL = a\\nb\\\\c" && ! out_has BAD'
expect "-- lets a value start with '-'" 0 kvp add NEG -- -5
"$HVKVP" --root "$D" get NEG >"$T/out" 2>"$T/err"
check "the daemon stored -5" out_is "-5"

# A pool the daemon does not have: the guest's status, passed through.
expect "list --pool 9: exit 1" 1 kvp list --pool 9
check "an unknown pool fails with the daemon's status" out_has "status: 0x8"

# The kernel's reply timeout: a stopped daemon, HV_E_FAIL to the host.
kill -STOP "$DP"
expect "a request to a stopped daemon: exit 1" 1 kvp add SLOW 1
check "the host got HV_E_FAIL from the kernel's timeout" \
	eval 'out_has "status: 0x80004005 HV_E_FAIL" && err_has "timeout"'
expect "status counts the timeout" 0 status
check "status: timeouts=1" out_has "timeouts=1"
kill -CONT "$DP"

# Shutdown: the daemon first, then the server removes its sockets.
kill "$DP"
wait "$DP"
check "the daemon stops cleanly" [ $? -eq 0 ]
DP=
kill "$SP"
wait "$SP"
check "serve exits 0 on SIGTERM" [ $? -eq 0 ]
SP=
check "serve removed its sockets" eval '[[ ! -e $D/hvsim.sock && ! -e $D/dev/vmbus/hv_kvp ]]'
check "serve wrote nothing to stderr" [ ! -s "$T/serve.err" ]

echo "1..$n"
