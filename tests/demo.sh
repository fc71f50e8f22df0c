#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make demo: the host simulator and the daemons as real processes, and a
# host session played against them, printed as a transcript. Everything
# lives in a temporary root; nothing on this machine is touched.
set -euo pipefail
B=${BUILD:-build}
root=$(mktemp -d /tmp/hvis-demo.XXXXXX)
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$root"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
# The demo root is long and random: the transcript calls it $DEMO.
show() {
	local s=$*
	printf '%s' "${s//"$root"/\$DEMO}"
}
indent() { sed -e "s|$root|\$DEMO|g" -e 's/^/      /'; }
# A failing command's exit status is shown (and returned: under set -e,
# only where the demo expects the failure, "host ... || true").
host() {
	local rc
	printf 'host$  %s\n' "$(show "$*")"
	"$B/hvsim" --root "$root" "$@" 2>&1 | indent
	rc=${PIPESTATUS[0]}
	[[ $rc -eq 0 ]] || printf '      (exit %d)\n' "$rc"
	return "$rc"
}
# A plain command on the host's side.
hostsh() {
	printf 'host$  %s\n' "$(show "$*")"
	"$@" 2>&1 | indent
}
guest() {
	printf 'guest# %s\n' "$(show "$*")"
	"$@" 2>&1 | indent
}
# The first interface of this machine with a MAC, not loopback: "NAME MAC".
first_nic() {
	local d a
	for d in /sys/class/net/*; do
		[[ -r $d/type && -r $d/address ]] || continue
		# ARPHRD_LOOPBACK
		[[ $(<"$d/type") == 772 ]] && continue
		a=$(<"$d/address")
		[[ $a =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ && $a != 00:00:00:00:00:00 ]] || continue
		printf '%s %s\n' "${d##*/}" "$a"
		return 0
	done
	return 1
}
# hv-kvp as the guest's admin runs it, pointed at the demo's root.
gkvp() {
	printf 'guest# hv-kvp %s\n' "$*"
	"$B/hv-kvp" --root "$root" "$@" 2>&1 | indent
}

mkdir -p "$root/etc" "$root/run" "$root/var/lib/hyperv"
cat >"$root/etc/os-release" <<'OS'
NAME="Debian GNU/Linux"
VERSION_ID="12"
OS

echo "hvis demo: host simulator and daemons under $root (\$DEMO below)"
mkfifo "$root/ready"
"$B/hvsim" serve --root "$root" --kvp --fcopy-uio --vss --shutdown --ready-fd 3 3>"$root/ready" \
	2>"$root/hvsim.log" &
pids+=($!)
read -r _ <"$root/ready"
"$B/hv_kvp_daemon" --root "$root" --log=stderr 2>"$root/kvp.log" &
pids+=($!)

step "KVP: the host administrator pushes an item (AddKvpItems, pool 0)"
host kvp add ProvisioningToken 'tok-3f9a' --pool external
gkvp get ProvisioningToken

step "KVP: the guest publishes an item; the host reads GuestExchangeItems"
gkvp set app/status 'ready ✓'
host kvp list --pool guest

step "KVP: the host modifies, then removes its item"
host kvp modify ProvisioningToken 'tok-4410'
gkvp get ProvisioningToken
host kvp remove ProvisioningToken
gkvp get ProvisioningToken || true

step "KVP: intrinsic items the guest reports (GuestIntrinsicExchangeItems)"
host kvp list --pool auto

# The daemon runs in this machine's own network namespace: GET_IP_INFO
# only reads it (nothing here sends a SET_IP_INFO).
if nic=$(first_nic); then
	step "KVP: guest IP info for ${nic%% *}'s MAC, as Get-VMNetworkAdapter shows it"
	host kvp ip get "${nic#* }"
else
	step "KVP: guest IP info"
	echo "(no network interface with a MAC on this machine: skipped)"
fi

step "Copy-VMFile: the host copies a file into the guest (UIO channel)"
"$B/hv_fcopy_daemon" --root "$root" --transport=uio --log=stderr \
	2>"$root/fcopy.log" &
pids+=($!)
name='Grüße-😀.txt'
mkdir -p "$root/host"
printf 'Grüße vom Host 😀\n' >"$root/host/$name"
host copy-file "$root/host/$name" "$root/guest/inbox/$name" --create-full-path
hostsh sha256sum "$root/host/$name"
guest sha256sum "$root/guest/inbox/$name"
host copy-file "$root/host/$name" "$root/guest/inbox/$name" || true

# The backup freezes only a filesystem made for it: an ext4 on a new zram
# device, mounted in a private mount namespace, with hv_vss_daemon in that
# namespace restricted by --only to it, and --list-targets checked first.
zid=
zvp=
zundo() {
	local fs=$root/backup/data
	if [[ -n $zvp ]]; then
		kill "$zvp" 2>/dev/null || true
		wait "$zvp" 2>/dev/null || true
	fi
	if mountpoint -q "$fs"; then
		fsfreeze -u "$fs" 2>/dev/null || true
		umount "$fs" 2>/dev/null || umount -l "$fs" || true
	fi
	if [[ -n $zid ]]; then
		echo "$zid" >/sys/class/zram-control/hot_remove || true
	fi
	zid=
}
backup_demo() {
	local fs=$root/backup/data
	trap zundo EXIT
	mount --make-rprivate /
	zid=$(</sys/class/zram-control/hot_add)
	echo 64M >"/sys/block/zram$zid/disksize"
	mkfs.ext4 -q "/dev/zram$zid"
	mkdir -p "$fs"
	mount -t ext4 "/dev/zram$zid" "$fs"
	echo "guest data" >"$fs/file.txt"
	printf 'guest# (a private mount namespace: /dev/zram%s, ext4, on %s)\n' \
		"$zid" "$(show "$fs")"
	printf 'guest# %s | grep -v ^skip\n' "$(show "$B/hv_vss_daemon --root $root --only $root/backup --list-targets")"
	"$B/hv_vss_daemon" --root "$root" --only "$root/backup" --list-targets |
		grep -v '^skip' | indent
	# The guard: exactly this filesystem, or no daemon and no FREEZE.
	if [[ $("$B/hv_vss_daemon" --root "$root" --only "$root/backup" \
		--list-targets | grep -c '^freeze') -ne 1 ]]; then
		echo "(--list-targets selected something else: backup skipped)"
		return 0
	fi
	"$B/hv_vss_daemon" --root "$root" --only "$root/backup" \
		--thaw-timeout=30s --log=stderr 2>"$root/vss.log" >/dev/null &
	zvp=$!
	host vss hot-backup
	host backup --hold 1
	printf 'guest# (hv_vss_daemon log)\n'
	sed -e 's/^hv_vss_daemon: //' "$root/vss.log" | indent
	guest cat "$fs/file.txt"
}

step "Backup: a live backup freezes and thaws the guest's filesystem (VSS)"
if [[ $(id -u) -ne 0 ]]; then
	echo "(not root: a freeze needs root and a filesystem of its own; skipped)"
elif [[ ! -d /sys/class/zram-control ]] && ! modprobe zram 2>/dev/null; then
	echo "(no zram on this machine (modprobe zram failed): skipped)"
elif ! command -v mkfs.ext4 >/dev/null || ! command -v unshare >/dev/null ||
	[[ ! -d /sys/class/zram-control ]]; then
	echo "(no mkfs.ext4, unshare or zram-control: skipped)"
else
	export -f backup_demo zundo host show indent guest
	export B root
	unshare -m bash -c 'set -euo pipefail; backup_demo'
fi

step "Shutdown: Stop-VM through the shutdown integration service"
# Never a real power-off: without a bus the daemon runs its fallback
# command, which here only records what it was asked.
printf '#!/bin/sh\necho "$*" >>%s/poweroff.log\n' "$root" >"$root/record.sh"
printf '#!/bin/sh\nexit 0\n' >"$root/bind.sh"
chmod +x "$root/record.sh" "$root/bind.sh"
"$B/hv_shutdown_daemon" --root "$root" --log=stderr --no-wall \
	--kernel-release=6.10.0 --bus-address="unix:path=$root/no-bus" \
	--fallback-command="$root/record.sh" --bind-helper="$root/bind.sh" \
	2>"$root/shutdown.log" >/dev/null &
pids+=($!)
host stop-vm --message "Maintenance window"
for _ in $(seq 100); do [[ -s $root/poweroff.log ]] && break; sleep 0.05; done
printf 'guest# (hv_shutdown_daemon log)\n'
sed -e 's/^hv_shutdown_daemon: //' "$root/shutdown.log" | indent
printf 'guest# (what systemctl would have been asked)\n'
indent <"$root/poweroff.log"

step "done"
host status
