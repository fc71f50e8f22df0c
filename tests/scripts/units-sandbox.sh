#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The four units, sandbox and all, still do their jobs. A Debian 12 rootfs
# gets "make install DESTDIR=" of this build and boots under
# systemd-nspawn (private network). "hvsim serve" runs on this side in a
# directory bound into the container at /hvsim. Each unit gets a drop-in
# that only empties its Condition*= and points ExecStart= at the
# simulator's devices; every hardening option stays as shipped (checked
# against an untouched copy loaded beside it). Then, from the host:
# KVP items both ways, intrinsic items and GET_IP_INFO (a veth inside the
# container); Copy-VMFile to /var/tmp and /root, and one the sandbox must
# refuse; a backup that freezes and thaws a zram ext4 this test creates
# (and nothing else: --only, checked with --list-targets first), with a
# hook that switches user; Stop-VM, which must reach logind and systemd
# and stop there (poweroff.target is masked in the container). Every
# unit: active, NRestarts=0, the sandbox visible in /proc, a journal
# without EPERM/EACCES/SIGSYS. Prints TAP.
set -u
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
SRC=${HVIS_SRCDIR:-$PWD}
HVSIM=$BUILD/hvsim
UNITS="hv-kvp-daemon hv-vss-daemon hv-fcopy-daemon hv-shutdown-daemon"
declare -A TARGET=([hv-kvp-daemon]=3.0 [hv-shutdown-daemon]=3.0
	[hv-vss-daemon]=4.5 [hv-fcopy-daemon]=5.0)

skip_all() {
	echo "ok 1 - the units under their sandbox # SKIP $1"
	echo "1..1"
	exit 0
}

# shellcheck source=../system/rootfs.sh
. "$SRC/tests/system/rootfs.sh"
why=$(hvis_rootfs_unavailable)
[[ -z $why ]] || skip_all "$why"
command -v systemd-nspawn >/dev/null || skip_all "no systemd-nspawn (systemd-container)"
command -v nsenter >/dev/null || skip_all "no nsenter"
for f in "$HVSIM" "$BUILD/hv_kvp_daemon" "$BUILD/hv_vss_daemon" \
	"$BUILD/hv_fcopy_daemon" "$BUILD/hv_shutdown_daemon" \
	"$BUILD/tools/hv-vmbus-bind"; do
	[[ -x $f ]] || skip_all "$f not built"
done
# ASan binaries need libasan inside the container, and LeakSanitizer's
# ptrace() at exit is exactly what the units' SystemCallFilter= refuses.
if grep -q __asan_init "$BUILD/hv_kvp_daemon"; then
	skip_all "sanitized build: the container has no libasan, and the units' seccomp filter refuses LeakSanitizer's ptrace"
fi

# Everything below mounts (a zram filesystem, nspawn's binds): in a mount
# namespace of our own, so nothing is left on this machine.
if [[ -z ${HVIS_UNITS_SANDBOX_NS:-} ]]; then
	HVIS_UNITS_SANDBOX_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi

T=$(mktemp -d /tmp/test-units-sandbox.XXXXXX)
R=$T/root
SIM=$T/sim
VFS=$T/vssfs
M=hvis-units-$$
NSPAWN='' HP='' CPID='' zid=''

n=0
ok() { echo "ok $((n += 1)) - $1"; }
nok() {
	echo "not ok $((n += 1)) - $1"
	local f
	for f in "$T/out" "$T/err"; do
		[[ -s $f ]] && sed "s/^/# ${f##*/}: /" "$f" | head -15
	done
	return 0
}
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}
skip() { echo "ok $((n += 1)) - $1 # SKIP $2"; }
# Before a check whose failure has nothing to show from $T/out, $T/err.
clean() { : >"$T/out" && : >"$T/err"; }

# descendants PID: the processes below PID (the container's init among
# them: killing nspawn alone would leave the container running).
descendants() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}
cleanup() {
	local i
	if [[ -n $NSPAWN ]] && kill -0 "$NSPAWN" 2>/dev/null; then
		# nspawn turns SIGTERM into a halt of the container's systemd.
		kill -TERM "$NSPAWN" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$NSPAWN" 2>/dev/null || break
			sleep 0.1
		done
		# shellcheck disable=SC2046 # one PID per word
		kill -KILL $(descendants "$NSPAWN") "$NSPAWN" 2>/dev/null
		wait "$NSPAWN" 2>/dev/null
	fi
	[[ -n $HP ]] && kill "$HP" 2>/dev/null && wait "$HP" 2>/dev/null
	if mountpoint -q "$VFS" 2>/dev/null; then
		fsfreeze -u "$VFS" 2>/dev/null
		umount "$VFS" 2>/dev/null || umount -l "$VFS"
	fi
	# Busy until the last mount namespace holding the filesystem is gone.
	for ((i = 0; i < 50; i++)); do
		[[ -n $zid ]] || break
		echo "$zid" >/sys/class/zram-control/hot_remove 2>/dev/null && zid=
		[[ -n $zid ]] && sleep 0.1
	done
	[[ -z $zid ]] || echo "# warning: could not remove /dev/zram$zid"
	[[ -n ${KEEP:-} ]] || rm -rf "$T"
}
trap cleanup EXIT

# in CMD...: run CMD inside the container (all its namespaces).
guest() { nsenter -t "$CPID" -m -u -i -n -p -r -w "$@"; }
# host ARGS...: hvsim as the host; status in rc, output in $T/out, $T/err.
host() {
	"$HVSIM" --root "$SIM" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
out_has() { grep -qF -- "$1" "$T/out"; }
journal() { guest journalctl -u "$1" --no-pager -o cat >"$T/out" 2>"$T/err"; }
# wait_journal UNIT TEXT: up to 10 s for TEXT in the unit's journal.
wait_journal() {
	local i
	for ((i = 0; i < 100; i++)); do
		journal "$1" && out_has "$2" && return 0
		sleep 0.1
	done
	return 1
}

# ---- the rootfs, installed as a package would be --------------------------

if ! hvis_rootfs_make "$R" >"$T/out" 2>"$T/err"; then
	skip_all "cannot make the Debian rootfs: $(tail -1 "$T/err")"
fi
# The cached tarball records its top directory as 0700 (mktemp -d):
# dbus-daemon, no longer root, could not reach anything.
chmod 0755 "$R"
# Not the flags of a make that runs this test: this build as it is.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$SRC" BUILD="$BUILD" SANITIZE=0 DESTDIR="$R" PREFIX=/usr install >"$T/out" 2>"$T/err"
check "make install DESTDIR=rootfs PREFIX=/usr" [ $? -eq 0 ]
missing=
for u in $UNITS; do
	f=$R/lib/systemd/system/$u.service
	[[ -f $f ]] || missing="$missing $f"
	# Every program a unit runs is where the unit says.
	for p in $(sed -n 's/^Exec[A-Za-z]*=[-+@!:]*\(\/[^ ]*\).*/\1/p' "$f" 2>/dev/null); do
		[[ -x $R$p ]] || missing="$missing $p($u)"
	done
done
for r in kvp vss fcopy shutdown; do
	[[ -f $R/lib/udev/rules.d/70-hv-$r.rules ]] || missing="$missing 70-hv-$r.rules"
done
clean
check "units, rules and every program the units run are installed${missing:+ (missing:$missing)}" \
	[ -z "$missing" ]

# ---- what the container gets -------------------------------------------

# Drop-ins: no conditions (not a Hyper-V guest, no /dev/vmbus), the
# simulator's devices; nothing else. --kernel-release as in the other
# tests: the simulated channel is bound however old this kernel is.
dropin() {
	local u=$1
	shift
	mkdir -p "$R/etc/systemd/system/$u.service.d"
	{
		echo "[Unit]"
		echo "ConditionVirtualization="
		echo "ConditionPathExists="
		echo "[Service]"
		printf '%s\n' "$@"
	} >"$R/etc/systemd/system/$u.service.d/50-hvsim.conf"
}
SIMARGS="--dev-dir=/hvsim/dev --sys-dir=/hvsim/sys"
dropin hv-kvp-daemon "ExecStart=" "ExecStart=/usr/sbin/hv_kvp_daemon $SIMARGS"
dropin hv-vss-daemon "ExecStart=" \
	"ExecStart=/usr/sbin/hv_vss_daemon $SIMARGS --only=/srv/hvis-vss --thaw-timeout=30s"
dropin hv-fcopy-daemon "ExecStart=" "ExecStart=/usr/sbin/hv_fcopy_daemon $SIMARGS"
# hv-vmbus-bind needs a real /sys/bus/vmbus (the simulated channel is
# already "bound"): its three lines are emptied, not replaced.
dropin hv-shutdown-daemon "ExecCondition=" "ExecStartPre=" "ExecStopPost=" "ExecStart=" \
	"ExecStart=/usr/sbin/hv_shutdown_daemon $SIMARGS --kernel-release=6.10.0"
# The only keys the drop-ins set.
bad=$(cat "$R"/etc/systemd/system/hv-*.service.d/50-hvsim.conf |
	grep -vE '^(\[Unit\]|\[Service\]|Condition(Virtualization|PathExists)=|Exec(Start|StartPre|StopPost|Condition)=.*)$')
check "the drop-ins touch only Condition*= and Exec*=" [ -z "$bad" ]

# The shipped units again, under other names, never started: what the
# running units' settings are compared with.
for u in $UNITS; do
	cp "$R/lib/systemd/system/$u.service" "$R/etc/systemd/system/hvis-ref-$u.service"
done
# Stop-VM must get as far as systemd and no further.
ln -s /dev/null "$R/etc/systemd/system/poweroff.target"
ln -s /dev/null "$R/etc/systemd/system/reboot.target"
# /usr/lib/modules for the refused copy (no kernel in this rootfs).
mkdir -p "$R/etc/hvis/vss-hooks.d" "$R/etc/hvis/shutdown.d" "$R/srv/hvis-vss" \
	"$R/usr/lib/modules"
# Hooks: what they were asked, as whom, and whether su (VSS) and the way
# out their man pages advise, systemd-run, work in the sandbox.
cat >"$R/etc/hvis/vss-hooks.d/10-sandbox" <<'EOF'
#!/bin/sh
echo "sandbox-hook $1 uid=$(id -u)"
su -s /bin/sh -c 'echo "sandbox-hook su uid=$(id -u)"' nobody
EOF
cat >"$R/etc/hvis/shutdown.d/10-sandbox" <<'EOF'
#!/bin/sh
echo "sandbox-hook $1 $HV_SHUTDOWN_ACTION force=$HV_SHUTDOWN_FORCE msg=$HV_SHUTDOWN_MESSAGE"
echo "sandbox-hook systemd-run uid=$(systemd-run --wait --pipe --quiet --uid=nobody id -u)"
EOF
chmod 0755 "$R/etc/hvis/vss-hooks.d/10-sandbox" "$R/etc/hvis/shutdown.d/10-sandbox"

# The filesystem a backup may freeze: ext4 on a new zram device, mounted
# here (in this test's mount namespace) and bound into the container.
mkdir -p "$VFS"
zram=
if [[ -d /sys/class/zram-control ]] || modprobe zram 2>/dev/null; then
	if command -v mkfs.ext4 >/dev/null && zid=$(cat /sys/class/zram-control/hot_add 2>/dev/null) &&
		echo 64M >"/sys/block/zram$zid/disksize" && mkfs.ext4 -q "/dev/zram$zid" &&
		mount -t ext4 "/dev/zram$zid" "$VFS"; then
		zram=1
		echo "before the backup" >"$VFS/data"
	fi
fi

# ---- the simulator and the container --------------------------------------

mkdir -p "$SIM"
mkfifo "$T/ready"
"$HVSIM" serve --root "$SIM" --kvp --vss --fcopy-uio --shutdown \
	--nego-wait 30000 --timeout 20000 --ready-fd 3 3>"$T/ready" 2>"$T/hvsim.log" &
HP=$!
ready=
read -r -t 20 ready <"$T/ready"
check "hvsim serve is ready" [ "$ready" = ready ]

systemd-nspawn -q -D "$R" --boot --register=no --keep-unit -M "$M" \
	--private-network --bind="$SIM:/hvsim" --bind="$VFS:/srv/hvis-vss" \
	>"$T/nspawn.log" 2>&1 </dev/null &
NSPAWN=$!
# The container's init is nspawn's child, once it has become systemd.
for ((i = 0; i < 600; i++)); do
	CPID=$(cat "/proc/$NSPAWN/task/$NSPAWN/children" 2>/dev/null | awk '{print $1}')
	[[ -n $CPID && $(cat "/proc/$CPID/comm" 2>/dev/null) == systemd ]] && break
	CPID=
	sleep 0.05
done
state=
for ((i = 0; i < 300; i++)); do
	[[ -n $CPID ]] || break
	# "offline" until its manager answers on the bus.
	state=$(guest timeout 90 systemctl is-system-running --wait 2>/dev/null)
	[[ $state == offline || -z $state ]] || break
	sleep 0.1
done
if [[ $state != running && $state != degraded ]]; then
	nok "the container boots (state '$state')"
	sed 's/^/# nspawn: /' "$T/nspawn.log" | tail -20
	echo "1..$n"
	exit 1
fi
ok "the container boots ($state)"

# ---- every unit starts and reaches READY under its sandbox ------------------

for u in $UNITS; do
	guest timeout 60 systemctl start "$u.service" >"$T/out" 2>"$T/err"
	st=$(guest systemctl is-active "$u.service")
	if [[ $st != active ]]; then
		guest journalctl -u "$u" --no-pager -o cat >"$T/out" 2>&1
		nok "$u starts and is active (Type=notify: READY=1 sent) ($st)"
		continue
	fi
	ok "$u starts and is active (Type=notify: READY=1 sent)"
	# Every [Service] setting of the shipped file but Exec*= and restart
	# policy has the same value in the running unit as in the untouched
	# copy (never started, no drop-in).
	keys=$(sed -n '/^\[Service\]/,$s/^\([A-Za-z]*\)=.*/\1/p' "$R/lib/systemd/system/$u.service" |
		grep -vE '^(Exec|Restart|Type$|Timeout)' | sort -u)
	diffs=
	for k in $keys; do
		a=$(guest systemctl show -p "$k" --value "$u.service")
		b=$(guest systemctl show -p "$k" --value "hvis-ref-$u.service")
		[[ $a == "$b" ]] || diffs="$diffs $k"
	done
	clean
	check "$u runs with the shipped value of all $(wc -w <<<"$keys") sandbox settings${diffs:+ (differ:$diffs)}" \
		eval '[[ -n $keys && -z $diffs ]]'
	# The running configuration, scored by systemd itself.
	score=$(guest systemd-analyze security "$u.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	want=${TARGET[$u]}
	check "$u: exposure of the running unit $score <= $want" \
		eval '[[ -n $score ]] && awk -v g="$score" -v w="$want" "BEGIN { exit !(g <= w) }"'
	# And the kernel says so about the running daemon.
	pid=$(guest systemctl show -p MainPID --value "$u.service")
	guest cat "/proc/$pid/status" >"$T/out" 2>"$T/err"
	check "$u runs with no_new_privs and a seccomp filter" \
		eval 'grep -qx "NoNewPrivs:[[:space:]]*1" "$T/out" && grep -qx "Seccomp:[[:space:]]*2" "$T/out"'
done
bnd() { guest cat "/proc/$(guest systemctl show -p MainPID --value "$1.service")/status" | sed -n 's/^CapBnd:[[:space:]]*//p'; }
check "kvp and shutdown have no capabilities at all" \
	eval '[[ $(bnd hv-kvp-daemon) == 0000000000000000 && $(bnd hv-shutdown-daemon) == 0000000000000000 ]]'
tty=$(guest getent group tty | cut -d: -f3)
groups=$(guest cat "/proc/$(guest systemctl show -p MainPID --value hv-shutdown-daemon.service)/status" |
	sed -n 's/^Groups:[[:space:]]*//p')
check "shutdown runs in group tty ($tty) for wall ($groups)" eval '[[ -n $tty && " $groups " == *" $tty "* ]]'

# ---- KVP ------------------------------------------------------------------------

host kvp add SandboxKey "sandboxed value" --pool external
check "KVP: the host adds an item (pool 0)" [ $rc -eq 0 ]
host kvp get SandboxKey --pool external
check "KVP: the host reads it back through the daemon" eval '[[ $rc -eq 0 ]] && out_has "sandboxed value"'
check "KVP: the pool file in /var/lib/hyperv (StateDirectory=) has it" \
	grep -qF SandboxKey "$R/var/lib/hyperv/.kvp_pool_0"
host kvp list --pool auto
check "KVP: intrinsic items from the sandbox (OSName of the container)" \
	eval '[[ $rc -eq 0 ]] && out_has "OSName = Debian GNU/Linux" && out_has FullyQualifiedDomainName'
MAC=00:15:5d:4a:7e:02
if nsenter -t "$CPID" -n ip link add gst0 address "$MAC" type veth peer name peer0 2>"$T/err" &&
	nsenter -t "$CPID" -n ip link set peer0 up &&
	nsenter -t "$CPID" -n ip link set gst0 up &&
	nsenter -t "$CPID" -n ip addr add 10.9.8.7/24 dev gst0; then
	host kvp ip get "$MAC"
	check "KVP: GET_IP_INFO (netlink in the sandbox) finds the container's NIC" \
		eval '[[ $rc -eq 0 ]] && out_has "Status        : HV_S_OK" && out_has "IPAddresses   : {10.9.8.7"'
else
	skip "KVP: GET_IP_INFO of the container's NIC" "cannot create a veth in the container"
fi

# ---- Copy-VMFile ----------------------------------------------------------

mkdir -p "$T/src"
head -c 50001 /dev/urandom >"$T/src/blob"
want=$(sha256sum <"$T/src/blob" | cut -d' ' -f1)
for dst in /var/tmp/hvis-sandbox/blob /root/hvis-sandbox/blob /tmp/blob; do
	host copy-file "$T/src/blob" "$dst" --create-full-path
	got=$(guest sha256sum "$dst" 2>/dev/null | cut -d' ' -f1)
	check "Copy-VMFile to $dst: HV_S_OK and the same bytes" \
		eval '[[ $rc -eq 0 && $got == "$want" ]]'
done

# ---- VSS --------------------------------------------------------------------

host vss hot-backup
check "VSS: HOT_BACKUP answered by the daemon" eval '[[ $rc -eq 0 ]] && out_has "HV_S_OK (daemon"'
if [[ -n $zram ]]; then
	# The guard: the daemon would freeze exactly the test's filesystem.
	guest /usr/sbin/hv_vss_daemon --only=/srv/hvis-vss --list-targets >"$T/out" 2>"$T/err"
	if [[ $(grep -c '^freeze' "$T/out") -eq 1 ]] && grep -q $'^freeze\t/srv/hvis-vss\text4\t' "$T/out"; then
		ok "VSS: --list-targets selects only the test's zram ext4"
		host backup --hold 0.3
		check "VSS: backup: FREEZE and THAW answered HV_S_OK by the daemon" \
			eval 'out_has "freeze: status: 0x00000000 HV_S_OK (daemon)" && out_has "thaw: status: 0x00000000 HV_S_OK (daemon)"'
		check "VSS: the daemon froze 1 filesystem (FIFREEZE under the sandbox)" \
			wait_journal hv-vss-daemon "froze 1 filesystems"
		check "VSS: and thawed it" wait_journal hv-vss-daemon "thawed 1 filesystems"
		clean
		check "VSS: the filesystem takes writes again" \
			timeout 5 sh -c "echo after >'$VFS/after'"
	else
		nok "VSS: --list-targets selects only the test's zram ext4 (no backup run)"
	fi
else
	skip "VSS: a real freeze of a zram ext4" "no zram or mkfs.ext4 here"
	# Nothing to freeze under --only: the protocol, the hooks, no FIFREEZE.
	host backup --hold 0.1
	check "VSS: backup with nothing to freeze: HV_S_OK both ways" \
		eval 'out_has "freeze: status: 0x00000000 HV_S_OK (daemon)" && out_has "thaw: status: 0x00000000 HV_S_OK (daemon)"'
fi
check "VSS: the freeze hook ran as root in the sandbox" wait_journal hv-vss-daemon "sandbox-hook freeze uid=0"
check "VSS: ... and su switched user there (CAP_SETUID, @setuid)" \
	wait_journal hv-vss-daemon "sandbox-hook su uid=65534"
check "VSS: the thaw hook ran" wait_journal hv-vss-daemon "sandbox-hook thaw uid=0"

# ---- shutdown (last) ------------------------------------------------------------

masked() { guest journalctl -u systemd-logind --no-pager -o cat | grep -c "poweroff.target is masked"; }
before=$(masked)
host stop-vm --message "units-sandbox"
check "Stop-VM: the daemon answered HV_S_OK" eval '[[ $rc -eq 0 ]] && out_has "HV_S_OK"'
check "Stop-VM: the pre-shutdown hook ran with the host's request" \
	wait_journal hv-shutdown-daemon "sandbox-hook poweroff poweroff force=0 msg=units-sandbox"
check "Stop-VM: ... and had systemd-run run a command outside the sandbox as another user" \
	wait_journal hv-shutdown-daemon "sandbox-hook systemd-run uid=65534"
check "Stop-VM: logind was asked (and refused: poweroff.target is masked)" \
	wait_journal hv-shutdown-daemon "logind refused"
for ((i = 0; i < 50; i++)); do
	[[ $(masked) -gt $before ]] && break
	sleep 0.1
done
clean
check "Stop-VM: logind authorized it and asked systemd (which found poweroff.target masked)" \
	[ "$(masked)" -gt "$before" ]
check "Stop-VM: the container is still running" \
	eval '[[ $(guest systemctl is-system-running) =~ ^(running|degraded)$ ]]'

# ---- every unit: still up, never restarted, nothing refused ------------------

for u in $UNITS; do
	st=$(guest systemctl show -p ActiveState --value "$u.service")
	nr=$(guest systemctl show -p NRestarts --value "$u.service")
	clean
	check "$u: still active, NRestarts=0 ($st, $nr)" eval '[[ $st == active && $nr == 0 ]]'
	journal "$u"
	# Except logind's answer to Stop-VM above, which is about the mask.
	grep -E "Permission denied|Operation not permitted|Bad system call|Read-only file system" "$T/out" |
		grep -vx "logind refused to power off: org.freedesktop.DBus.Error.AccessDenied: Permission denied" >"$T/err"
	: >"$T/out"
	check "$u: the journal has no EACCES, EPERM, EROFS or SIGSYS" [ ! -s "$T/err" ]
done

# Last, as it puts an error in fcopy's journal: ProtectKernelModules=
# makes the modules directory inaccessible to the daemon (not to root).
host copy-file "$T/src/blob" /usr/lib/modules/hvis-sandbox/blob --create-full-path
check "Copy-VMFile into /usr/lib/modules is refused by the sandbox (HV_E_FAIL)" \
	eval '[[ $rc -eq 1 ]] && out_has HV_E_FAIL && [[ ! -e $R/usr/lib/modules/hvis-sandbox ]]'

echo "1..$n"
