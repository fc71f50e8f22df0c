#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The files SET_IP_INFO writes, read by the programs that consume them.
# tests/ipconfig/<scenario>/ holds each backend's output for five host
# requests; kvp/test-ipconfig checks the renderer still produces exactly
# these bytes, and this script checks the real tools accept them and end
# up with every address, prefix, gateway and DNS server in them:
#   NetworkManager  nmcli --offline (NM's own keyfile reader and writer)
#   netplan         netplan generate --root-dir (a temporary root)
#   networkd        the real systemd-networkd, run in a private network
#                   and mount namespace on a veth named eth0
#   ifupdown        the real ifup in the same kind of namespace (--no-act
#                   for DHCP: no DHCP server here)
#   ifcfg           sourced by bash, as initscripts read it
# Nothing touches the machine's own configuration or interfaces: the
# namespaces get private tmpfs over /run, /etc/systemd/network,
# /lib/systemd/network and /etc/network, and a read-only sysfs of their
# own. A missing tool or kernel feature gives "# SKIP", not a failure.
set -u
cd "${HVIS_SRCDIR:-.}" || exit 1
G=$PWD/tests/ipconfig
SCENARIOS="static4 dhcp dual multi dhcp-static6"
n=0
tmp=$(mktemp -d /tmp/hvis-ipconfig.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
notok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	[[ -s $tmp/why ]] && sed 's/^/# /' "$tmp/why" | head -30
}
# check NAME CMD...: CMD's exit status decides; its output explains.
check() {
	local name=$1
	shift
	if "$@" >"$tmp/why" 2>&1; then ok "$name"; else notok "$name"; fi
}

# Every IP address in the files, normalised, one per line, sorted:
# "addr" or "addr/plen". Route destinations (0.0.0.0/0, ::/0) are not
# data. Upstream ifcfg puts IPv6 prefixes in separate keys: bare
# numbers are left out, and its expanded IPv6 form is normalised.
ips() {
	python3 -c '
import ipaddress, re, sys
out = set()
for path in sys.argv[1:]:
    for tok in re.split(r"[\s,;=\"\x27\[\]@]+", open(path).read()):
        try:
            if "/" in tok:
                i = ipaddress.ip_interface(tok)
                if i.network.prefixlen == 0:
                    continue
                out.add("%s/%d" % (i.ip, i.network.prefixlen))
            else:
                out.add(str(ipaddress.ip_address(tok)))
        except ValueError:
            pass
print("\n".join(sorted(out)))
' "$@"
}

same_ips() {
	diff <(ips "$1") <(ips "$2")
}

have() { command -v "$1" >/dev/null 2>&1; }

# ---- NetworkManager -------------------------------------------------------

nm_check() {
	local s=$1 out=$tmp/nm.out err=$tmp/nm.err
	# "modify" reads a keyfile on stdin, verifies and writes it back.
	nmcli --offline connection modify connection.autoconnect yes \
		<"$G/$s/nm.nmconnection" >"$out" 2>"$err" || {
		cat "$err"
		return 1
	}
	[[ ! -s $err ]] || { cat "$err"; return 1; }
	same_ips "$G/$s/nm.nmconnection" "$out" || return 1
	diff <(grep '^method=' "$G/$s/nm.nmconnection") <(grep '^method=' "$out") || return 1
	grep -q '^interface-name=eth0$' "$out" && grep -q '^mac-address=00:15:5D:01:02:03$' "$out"
}

if have nmcli && nmcli --offline connection add type ethernet ifname x >/dev/null 2>&1; then
	for s in $SCENARIOS; do
		check "nmcli --offline keeps every setting of $s" nm_check "$s"
	done
	# The check can fail: NM drops an address it cannot parse.
	sed 's/^address1=192.0.2.10/address1=192.0.2.300/' "$G/dual/nm.nmconnection" >"$tmp/bad.nmconnection"
	check "nmcli --offline check catches a bad address" \
		bash -c "! nmcli --offline connection modify connection.autoconnect yes <'$tmp/bad.nmconnection' >'$tmp/bad.out' 2>&1 || ! diff <(grep -c address '$tmp/bad.nmconnection') <(grep -c address '$tmp/bad.out')"
else
	for s in $SCENARIOS; do skip "nmcli --offline keeps every setting of $s" "nmcli (network-manager >= 1.40) not installed"; done
	skip "nmcli --offline check catches a bad address" "nmcli not installed"
fi

# ---- netplan --------------------------------------------------------------

netplan_check() {
	local s=$1 root=$tmp/np-$1 f
	mkdir -p "$root/etc/netplan"
	install -m 0600 "$G/$s/netplan.yaml" "$root/etc/netplan/90-hyperv-eth0.yaml"
	netplan generate --root-dir "$root" >"$tmp/np.err" 2>&1 || { cat "$tmp/np.err"; return 1; }
	[[ ! -s $tmp/np.err ]] || { cat "$tmp/np.err"; return 1; }
	f=$root/run/systemd/network/10-netplan-eth0.network
	[[ -f $f ]] || { echo "no $f"; ls -R "$root/run"; return 1; }
	grep -q '^Name=eth0$' "$f" || return 1
	if grep -q 'dhcp4: true' "$G/$s/netplan.yaml"; then
		grep -q '^DHCP=ipv4$' "$f" || { echo "DHCP lost"; cat "$f"; return 1; }
	fi
	same_ips "$G/$s/netplan.yaml" "$f"
}

# Our file is read after cloud-init's and merges into the same id: its
# settings win, and only one .network comes out for the NIC.
netplan_merge_check() {
	local root=$tmp/np-merge f
	mkdir -p "$root/etc/netplan"
	cat >"$root/etc/netplan/50-cloud-init.yaml" <<'EOF'
network:
  version: 2
  ethernets:
    eth0:
      match:
        macaddress: "00:15:5d:01:02:03"
        driver: hv_netvsc
      set-name: eth0
      dhcp4: true
EOF
	chmod 0600 "$root/etc/netplan/50-cloud-init.yaml"
	install -m 0600 "$G/static4/netplan.yaml" "$root/etc/netplan/90-hyperv-eth0.yaml"
	netplan generate --root-dir "$root" || return 1
	[[ $(ls "$root"/run/systemd/network/*.network | wc -l) -eq 1 ]] || return 1
	f=$root/run/systemd/network/10-netplan-eth0.network
	cat "$f"
	! grep -q '^DHCP=' "$f" && grep -q '^Address=192.0.2.10/24$' "$f"
}

if have netplan; then
	for s in $SCENARIOS; do
		check "netplan generate renders every setting of $s" netplan_check "$s"
	done
	check "netplan: our file overrides cloud-init's definition of the NIC" netplan_merge_check
else
	for s in $SCENARIOS; do skip "netplan generate renders every setting of $s" "netplan (netplan.io) not installed"; done
	skip "netplan: our file overrides cloud-init's definition of the NIC" "netplan not installed"
fi

# ---- namespaces for networkd and ifupdown ---------------------------------

ns_ok() {
	[[ $(id -u) -eq 0 ]] && have unshare && have ip &&
		unshare -mn --propagation private sh -c \
			'ip link add eth0 type veth peer name peer0' 2>/dev/null
}

# Inside the namespaces: private /run, sysfs, an eth0 with the MAC the
# golden files carry and a peer that gives it carrier.
NS_PRELUDE='
set -e
mount -t tmpfs tmpfs /run
ip link set lo up
ip link add eth0 address 00:15:5d:01:02:03 type veth peer name peer0
ip link set peer0 up
mount -t sysfs -o ro sysfs /sys
'

# Poll until a file matches a pattern (the daemons give no other signal).
NS_WAIT='
wait_for() {
	for _ in $(seq 1 200); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "timed out waiting for \"$2\" in $1"
	return 1
}
'

# What eth0 has now: addresses and default routes, as text for ips().
NS_STATE='
save_state() {
	ip -br addr show dev eth0 | tr " " "\n" | grep -v "^fe80::" > "$T/state"
	ip -4 route show default >> "$T/state"
	ip -6 route show default >> "$T/state"
}
'

networkd_check() {
	local s=$1 file=${2:-$G/$1/networkd.network}
	T=$tmp/nd-$s
	mkdir -p "$T"
	cp "$file" "$T/05-hyperv-eth0.network"
	T=$T unshare -mn --propagation private bash -c "$NS_PRELUDE$NS_WAIT$NS_STATE"'
mkdir -p /etc/systemd/network
mount -t tmpfs tmpfs /etc/systemd/network
mount -t tmpfs tmpfs /lib/systemd/network
cp "$T/05-hyperv-eth0.network" /etc/systemd/network/
mkdir -p /run/systemd/netif
chown systemd-network:systemd-network /run/systemd/netif
SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console \
	/lib/systemd/systemd-networkd >"$T/log" 2>&1 &
pid=$!
trap "kill $pid 2>/dev/null; wait $pid 2>/dev/null" EXIT
f=/etc/systemd/network/05-hyperv-eth0.network
wait_for "$T/log" "^eth0: State changed: initialized -> configuring"
! grep -q "^DHCP=ipv4" $f || wait_for "$T/log" "^eth0: DHCPv4 client: STARTED"
! grep -q "^Address=" $f || wait_for "$T/log" "^eth0: Addresses set"
! grep -q "^Gateway=" $f || wait_for "$T/log" "^eth0: Routes set"
eval "$(grep -o "^NETWORK_FILE=.*" /run/systemd/netif/links/* | cut -d: -f2-)"
echo "$NETWORK_FILE" > "$T/netfile"
grep -h "^DNS=" /run/systemd/netif/links/* > "$T/dns" || true
save_state
' || { cat "$T/log" 2>/dev/null | grep -v "^lo:\|^peer0:" | tail -20; return 1; }
	# A line networkd did not understand is logged as "file:line: ...".
	if grep '05-hyperv-eth0.network:' "$T/log"; then return 1; fi
	[[ $(cat "$T/netfile") == /etc/systemd/network/05-hyperv-eth0.network ]] ||
		{ echo "eth0 not matched by our file"; return 1; }
	# Everything static is on eth0 (DHCP and RAs may add to it).
	ips "$T/state" "$T/dns" >"$tmp/got"
	grep -h '^Address=\|^Gateway=\|^DNS=' "$file" >"$tmp/want.txt"
	comm -23 <(ips "$tmp/want.txt") "$tmp/got" >"$tmp/missing"
	[[ ! -s $tmp/missing ]] || { echo missing:; cat "$tmp/missing"; return 1; }
}

networkd_negative() {
	sed 's/^Address=192.0.2.10\/24$/Adress=192.0.2.10\/24/' "$G/dual/networkd.network" >"$tmp/typo.network"
	! networkd_check typo "$tmp/typo.network" >/dev/null 2>&1
}

if [[ -x /lib/systemd/systemd-networkd ]] && id systemd-network >/dev/null 2>&1 && ns_ok; then
	for s in $SCENARIOS; do
		check "systemd-networkd configures eth0 from $s" networkd_check "$s"
	done
	check "systemd-networkd check catches a misspelt key" networkd_negative
else
	why="systemd-networkd, root or veth in a network namespace not available"
	for s in $SCENARIOS; do skip "systemd-networkd configures eth0 from $s" "$why"; done
	skip "systemd-networkd check catches a misspelt key" "$why"
fi

# ---- ifupdown ------------------------------------------------------------

ifupdown_check() {
	local s=$1
	T=$tmp/ifup-$s
	mkdir -p "$T"
	cp "$G/$s/ifupdown" "$T/interfaces"
	T=$T unshare -mn --propagation private bash -c "$NS_PRELUDE$NS_STATE"'
# No hooks: they could reach daemons outside the namespace.
mkdir -p /etc/network
mount -t tmpfs tmpfs /etc/network
mkdir -p /etc/network/if-pre-up.d /etc/network/if-up.d /etc/network/if-down.d /etc/network/if-post-down.d
ifquery -i "$T/interfaces" --state-dir "$T" --list | grep -qx eth0
ifquery -i "$T/interfaces" --state-dir "$T" eth0 >/dev/null
if grep -q "inet dhcp" "$T/interfaces"; then
	ifup --no-act -i "$T/interfaces" --state-dir "$T" eth0 >"$T/out" 2>&1
	grep -q "dhclient" "$T/out"
	exit 0
fi
ifup -i "$T/interfaces" --state-dir "$T" eth0
save_state
' || return 1
	if ! grep -q 'inet dhcp' "$G/$s/ifupdown"; then
		# dns-nameservers is for resolvconf, not ifup itself.
		diff <(grep -v dns-nameservers "$G/$s/ifupdown" | ips /dev/stdin) <(ips "$T/state")
	fi
}

if have ifup && have ifquery && ns_ok; then
	for s in $SCENARIOS; do
		check "ifup configures eth0 from $s" ifupdown_check "$s"
	done
else
	for s in $SCENARIOS; do skip "ifup configures eth0 from $s" "ifupdown, root or veth in a network namespace not available"; done
fi

# ---- ifcfg ----------------------------------------------------------------

# bash must assign exactly the KEY=VALUE lines of the file, nothing else.
ifcfg_check() {
	local f=$1
	bash -n "$f" || return 1
	diff <(sed -n 's/^\([A-Z0-9_]*\)=\(.*\)$/\1=\2/p' "$f" | sed 's/="\(.*\)"$/=\1/') \
		<(env -i bash -c 'set -eu; . "$1"; for v in $(sed -n "s/^\([A-Z0-9_]*\)=.*/\1/p" "$1"); do printf "%s=%s\n" "$v" "${!v}"; done' _ "$f")
}

for s in $SCENARIOS; do
	check "bash reads ifcfg of $s as written" ifcfg_check "$G/$s/ifcfg"
	check "bash reads upstream ifcfg of $s as written" ifcfg_check "$G/$s/upstream-ifcfg"
done
# The three full-featured formats carry the same data.
agree() {
	same_ips "$G/$1/networkd.network" "$G/$1/netplan.yaml" &&
		same_ips "$G/$1/networkd.network" "$G/$1/nm.nmconnection"
}
for s in $SCENARIOS; do
	check "networkd, netplan and NM files of $s hold the same addresses" agree "$s"
done

echo "1..$n"
