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
"$B/hvsim" serve --root "$root" --kvp --fcopy-uio --ready-fd 3 3>"$root/ready" \
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

# ---- Backup (VSS): goes here, once hv_vss_daemon's host side is wired
# ---- into hvsim (serve --vss, a host backup command, the freeze/thaw).

# ---- Shutdown: goes here, once hv_shutdown_daemon's host side is wired
# ---- into hvsim (the shutdown request, the daemon's answer).

step "done"
host status
