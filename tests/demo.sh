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
indent() { sed 's/^/      /'; }
host() {
	printf 'host$  %s\n' "$*"
	"$B/hvsim" --root "$root" "$@" 2>&1 | indent
}
guest() {
	printf 'guest# %s\n' "$*"
	"$@" 2>&1 | indent
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

echo "hvis demo: host simulator and daemons under $root"
mkfifo "$root/ready"
"$B/hvsim" serve --root "$root" --kvp --ready-fd 3 3>"$root/ready" \
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

step "done"
host status
