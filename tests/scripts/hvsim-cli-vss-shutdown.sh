#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# hvsim(1) as the host for VSS and the shutdown IC: "hvsim serve --vss
# --shutdown" with a real hv_shutdown_daemon (no D-Bus, so it takes its
# fallback, a script that only records what it was asked) and a real
# hv_vss_daemon restricted with --only to an empty directory of this test
# (nothing it could freeze). As root with zram, one real FREEZE/THAW of
# an ext4 the test creates on zram in a private mount namespace, after
# --list-targets proved it is the only target. Prints TAP.
set -u
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
HVSIM=$BUILD/hvsim
VSS=$BUILD/hv_vss_daemon
SD=$BUILD/hv_shutdown_daemon

T=$(mktemp -d /tmp/test-hvsim-cli-vss.XXXXXX)
D=$T/root
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[[ -n ${KEEP:-} ]] || rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$D/etc" "$D/run" "$T/empty"

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
file_has() { [[ -f $1 ]] && grep -qF -- "$2" "$1"; }
# Wait (up to 10 s) until FILE has TEXT: the daemons log asynchronously.
wait_has() {
	local i
	for ((i = 0; i < 200; i++)); do
		file_has "$1" "$2" && return 0
		sleep 0.05
	done
	return 1
}
serve() {
	local root=$1 ready
	shift
	mkdir -p "$root"
	mkfifo "$T/ready.$$"
	"$HVSIM" serve --root "$root" "$@" --ready-fd 3 3>"$T/ready.$$" \
		2>>"$T/serve.err" &
	pids+=($!)
	ready=
	read -r -t 20 ready <"$T/ready.$$"
	rm -f "$T/ready.$$"
	[[ $ready == ready ]]
}

for f in "$HVSIM" "$VSS" "$SD"; do
	if [[ ! -x $f ]]; then
		echo "1..0 # SKIP $f not built"
		exit 0
	fi
done

# ---- help and usage -------------------------------------------------------

expect "backup --help" 0 backup --help
check "backup --help documents --hold and the exit status" \
	eval 'out_has "--hold=S" && out_has "Exit status 0"'
expect "stop-vm --help" 0 stop-vm --help
check "stop-vm --help documents its options" \
	eval 'out_has "--restart" && out_has "--hibernate" && out_has "--force" && out_has "--message=TEXT"'
expect "vss --help" 0 vss --help
check "hvsim help vss names hot-backup" eval '"$HVSIM" help vss | grep -qF hot-backup'
check "serve --help names --shutdown and its class" \
	eval '"$HVSIM" serve --help | grep -qF -- "--shutdown" && "$HVSIM" serve --help | grep -qF 0e0b6031-5213-4934-818b-38d90ced39db'
expect "stop-vm --restart --hibernate: usage" 2 stop-vm --restart --hibernate
expect "backup --hold abc: usage" 2 backup --hold abc
expect "backup --hold 3601: usage" 2 backup --hold 3601
expect "backup --hold 1.2345: usage" 2 backup --hold 1.2345
expect "vss frobnicate: usage" 2 vss frobnicate
expect "stop-vm without a server: exit 3" 3 stop-vm
check "... and says so" err_has "no server at"

# ---- a server without the shutdown channel; no VSS daemon ------------------

V=$T/vssonly
if serve "$V" --vss --nego-wait 200; then ok "serve --vss"; else nok "serve --vss"; fi
R=$V expect "stop-vm on a server without --shutdown: exit 3" 3 stop-vm
check "... names the missing option" err_has "serve --shutdown"
R=$V expect "backup without a VSS daemon: exit 1" 1 backup --hold 0
check "... the kernel answered HV_E_FAIL for the missing daemon" \
	eval 'out_has "freeze: status: 0x80004005 HV_E_FAIL (no-daemon)" && err_has "no VSS daemon registered"'
check "... and no frozen time" eval '! out_has "frozen:"'

# ---- shutdown against the real daemon --------------------------------------

if serve "$D" --vss --shutdown; then ok "serve --vss --shutdown"; else nok "serve --vss --shutdown"; fi
check "hvsim status shows the shutdown channel at dev/uio1" \
	eval '"$HVSIM" --root "$D" status | grep -qF "shutdown-uio path=$D/dev/uio1"'

# Recorded, never executed: what systemctl and hv-vmbus-bind were asked.
printf '#!/bin/sh\necho "$*" >> %s/fallback.log\n' "$T" >"$T/fallback.sh"
printf '#!/bin/sh\necho "$*" >> %s/helper.log\n' "$T" >"$T/helper.sh"
chmod +x "$T/fallback.sh" "$T/helper.sh"
"$SD" --root "$D" --log=stderr --no-wall --kernel-release=6.10.0 \
	--bus-address="unix:path=$T/no-bus" --fallback-command="$T/fallback.sh" \
	--bind-helper="$T/helper.sh" 2>"$T/sd.log" &
pids+=($!)

expect "stop-vm: exit 0" 0 stop-vm
check "... prints HV_S_OK" out_has "status: 0x00000000 HV_S_OK"
check "... the daemon powered off through the fallback" wait_has "$T/fallback.log" "--no-block poweroff"
expect "stop-vm --restart: exit 0" 0 stop-vm --restart
check "... recorded a reboot" wait_has "$T/fallback.log" "--no-block reboot"
expect "stop-vm --force: exit 0" 0 stop-vm --force
check "... recorded a forced power-off" wait_has "$T/fallback.log" "--no-block --check-inhibitors=no poweroff"
expect "stop-vm --restart --force: exit 0" 0 stop-vm --restart --force
check "... recorded a forced reboot" wait_has "$T/fallback.log" "--no-block --check-inhibitors=no reboot"
expect "stop-vm --message: exit 0" 0 stop-vm --message "Wartung: 5 Minuten ✓"
# The daemon logs host text escaped: U+2713 as its UTF-8 bytes.
check "... the daemon got the message (UTF-16 on the wire)" \
	wait_has "$T/sd.log" 'message "Wartung: 5 Minuten \xe2\x9c\x93"'
# Without a bus, sysfs decides; this root has no sys/power/state.
expect "stop-vm --hibernate where the guest cannot: exit 1" 1 stop-vm --hibernate
check "... the host got HV_E_FAIL" out_has "status: 0x80004005 HV_E_FAIL"
check "... and nothing hibernated" eval '! file_has "$T/fallback.log" hibernate'
check "five actions recorded, nothing else" \
	eval '[[ $(wc -l <"$T/fallback.log") -eq 5 ]]'
expect "stop-vm with a message too long: usage" 2 stop-vm --message "$(printf '%01100d' 0)"

# ---- VSS against the real daemon, nothing to freeze -----------------------

vss_args=(--root "$D" --log=stderr --thaw-timeout=30s --only "$T/empty")
"$VSS" "${vss_args[@]}" --list-targets >"$T/targets" 2>"$T/err"
check "--list-targets with --only an empty directory selects nothing" \
	eval '[[ $? -eq 0 ]] && ! grep -q "^freeze" "$T/targets"'
"$VSS" "${vss_args[@]}" 2>"$T/vss.log" &
VP=$!
pids+=($VP)
expect "backup with nothing to freeze: exit 0" 0 backup --hold 0.1
check "... FREEZE and THAW answered HV_S_OK by the daemon" \
	eval 'out_has "freeze: status: 0x00000000 HV_S_OK (daemon)" && out_has "thaw: status: 0x00000000 HV_S_OK (daemon)"'
check "... frozen for the hold" eval 'grep -qE "^frozen: 0\.(09|1[0-9])[0-9] s$" "$T/out"'
check "... the daemon froze 0 filesystems" wait_has "$T/vss.log" "froze 0 filesystems"
expect "vss hot-backup: exit 0" 0 vss hot-backup
check "... HV_S_OK from the daemon" out_has "status: 0x00000000 HV_S_OK (daemon, flags "
kill "$VP"
wait "$VP" 2>/dev/null

# ---- one real freeze (root, zram) ------------------------------------------

# Globals, not locals: the EXIT trap runs after zram_test has returned.
zid=
zvp=
zundo() {
	local fs=$T/zmnt/fs
	if [[ -n $zvp ]]; then
		kill "$zvp" 2>/dev/null
		wait "$zvp" 2>/dev/null
	fi
	# Only this test's own mount point, and only if it is still there.
	if mountpoint -q "$fs"; then
		fsfreeze -u "$fs" 2>/dev/null
		umount "$fs" 2>/dev/null || umount -l "$fs"
	fi
	[[ -n $zid ]] && echo "$zid" >/sys/class/zram-control/hot_remove
	zid=
}
zram_test() {
	# Runs in its own mount namespace; everything it makes, it removes.
	local mnt=$T/zmnt fs=$T/zmnt/fs dev rc=0
	trap zundo EXIT
	mount --make-rprivate / || return 10
	zid=$(cat /sys/class/zram-control/hot_add) || return 10
	local id=$zid
	dev=/dev/zram$id
	echo 64M >"/sys/block/zram$id/disksize" || return 10
	mkfs.ext4 -q "$dev" || return 10
	mkdir -p "$fs"
	mount -t ext4 "$dev" "$fs" || return 10
	# The guard: exactly our filesystem, or no FREEZE at all.
	"$VSS" --root "$D" --only "$mnt" --list-targets >"$T/ztargets" || return 11
	[[ $(grep -c '^freeze' "$T/ztargets") -eq 1 ]] || return 11
	[[ $(grep '^freeze' "$T/ztargets" | cut -f2) == "$fs" ]] || return 11
	"$VSS" --root "$D" --log=stderr --thaw-timeout=30s --only "$mnt" \
		2>"$T/zvss.log" >/dev/null &
	zvp=$!
	"$HVSIM" --root "$D" backup --hold 0.3 >"$T/out" 2>"$T/err" || rc=12
	grep -qF "froze 1 filesystems" "$T/zvss.log" || rc=13
	# Thawed: a write goes through at once.
	timeout 5 sh -c "echo x >'$fs/after'" || rc=14
	zundo
	[[ -e /sys/block/zram$id ]] && rc=15
	return $rc
}

if [[ $(id -u) -ne 0 ]]; then
	ok "a real freeze of a zram ext4 # SKIP not root"
elif [[ ! -d /sys/class/zram-control ]] && ! modprobe zram 2>/dev/null; then
	ok "a real freeze of a zram ext4 # SKIP no zram"
elif [[ ! -d /sys/class/zram-control ]] || ! command -v mkfs.ext4 >/dev/null; then
	ok "a real freeze of a zram ext4 # SKIP no zram-control or mkfs.ext4"
else
	export -f zram_test zundo
	export T D VSS HVSIM
	unshare -m bash -c zram_test
	zrc=$?
	case $zrc in
	0) ok "a real freeze of a zram ext4: FREEZE 1 filesystem, THAW, writable again" ;;
	10) ok "a real freeze of a zram ext4 # SKIP cannot set up zram/ext4" ;;
	15) nok "a real freeze: the zram device was not removed" ;;
	11) nok "a real freeze: --list-targets did not list only the test's filesystem" ;;
	*) nok "a real freeze of a zram ext4 (step $zrc)" ;;
	esac
	check "... the backup printed both steps HV_S_OK" \
		eval '[[ $zrc -ne 0 ]] || { out_has "freeze: status: 0x00000000 HV_S_OK (daemon)" && out_has "thaw: status: 0x00000000 HV_S_OK (daemon)"; }'
fi

echo "1..$n"
