#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The units and udev rules as installed: "make install DESTDIR=" of this
# build, then systemd-analyze verify --root= on that tree (so every Exec
# path is checked against our binaries, not the machine's, and every
# Documentation= man page against ours), each unit's exposure score from
# systemd-analyze security --offline against its target, and the udev
# rules parsed twice: by this script's own grammar check (keys, operators,
# quoting, SYSTEMD_WANTS naming a unit of this tree, TAG+="systemd") and,
# as root, by udevadm itself (udevadm verify is newer than systemd 252).
# Each check is shown to catch a broken input too. Prints TAP.
set -u
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
SRC=${HVIS_SRCDIR:-$PWD}
# Exposure targets, in tenths (systemd-analyze's --threshold scale).
declare -A TARGET=([hv-kvp-daemon]=30 [hv-shutdown-daemon]=30
	[hv-vss-daemon]=45 [hv-fcopy-daemon]=50)
UNITS="hv-kvp-daemon hv-vss-daemon hv-fcopy-daemon hv-shutdown-daemon"

T=$(mktemp -d /tmp/test-units-verify.XXXXXX)
trap 'rm -rf "$T"' EXIT
R=$T/root

n=0
ok() { echo "ok $((n += 1)) - $1"; }
nok() {
	echo "not ok $((n += 1)) - $1"
	[[ -s $T/out ]] && sed 's/^/# /' "$T/out" | head -15
	return 0
}
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}
skip() { echo "ok $((n += 1)) - $1 # SKIP $2"; }

for f in "$BUILD/hv_kvp_daemon" "$BUILD/hv_vss_daemon" "$BUILD/hv_fcopy_daemon" \
	"$BUILD/hv_shutdown_daemon" "$BUILD/tools/hv-vmbus-bind"; do
	if [[ ! -x $f ]]; then
		echo "ok 1 - units and udev rules # SKIP $f not built"
		echo "1..1"
		exit 0
	fi
done

# The build as it is: its own flavour, none of the flags of a make running
# this test, so that make never rebuilds it differently.
san=0
grep -q __asan_init "$BUILD/hv_kvp_daemon" && san=1
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$SRC" BUILD="$BUILD" SANITIZE=$san DESTDIR="$R" PREFIX=/usr install >"$T/out" 2>&1
check "make install DESTDIR=... PREFIX=/usr" [ $? -eq 0 ]

# ---- systemd-analyze verify ---------------------------------------------------

# verify_units ROOT UNIT...: quiet and status 0, or the complaints in $T/out.
verify_units() {
	local root=$1
	shift
	MANPATH=$root/usr/share/man systemd-analyze --root="$root" $man_opt \
		verify "$@" >"$T/out" 2>&1 && [[ ! -s $T/out ]]
}
if ! command -v systemd-analyze >/dev/null; then
	skip "systemd-analyze verify" "no systemd-analyze"
else
	# The units ours depend on (targets, modprobe@, dbus, logind), from
	# this machine, beside ours; never its hv-*-daemon units
	# (hyperv-daemons), which have our names.
	mkdir -p "$R/usr/lib/systemd/system"
	for f in /lib/systemd/system/* /usr/lib/systemd/system/*; do
		[[ -e $f ]] || continue
		case ${f##*/} in hv-*-daemon.service) continue ;; esac
		[[ -e $R/usr/lib/systemd/system/${f##*/} || -e $R/lib/systemd/system/${f##*/} ]] ||
			cp -a "$f" "$R/usr/lib/systemd/system/"
	done
	# Documentation=man:... is checked with man(1) against our pages.
	man_opt=--man=no
	command -v man >/dev/null && man_opt=--man=yes
	for u in $UNITS; do
		check "systemd-analyze verify $u.service (--root, $man_opt)" \
			verify_units "$R" "$u.service"
	done
	# The same check must see a program that is not installed and an
	# option systemd does not know.
	cp -a "$R" "$T/broken"
	rm -f "$T/broken/usr/sbin/hv_kvp_daemon"
	if verify_units "$T/broken" hv-kvp-daemon.service; then
		nok "verify notices a missing ExecStart= program"
	else
		check "verify notices a missing ExecStart= program" grep -q "hv_kvp_daemon" "$T/out"
	fi
	printf 'ProtectNothing=yes\n' >>"$T/broken/lib/systemd/system/hv-vss-daemon.service"
	if verify_units "$T/broken" hv-vss-daemon.service; then
		nok "verify notices an unknown option"
	else
		check "verify notices an unknown option" grep -q ProtectNothing "$T/out"
	fi
	rm -rf "$T/broken"
fi

# ---- exposure ------------------------------------------------------------------

for u in $UNITS; do
	f=$R/lib/systemd/system/$u.service
	t=${TARGET[$u]}
	want=$((t / 10)).$((t % 10))
	if ! command -v systemd-analyze >/dev/null; then
		skip "$u exposure <= $want" "no systemd-analyze"
		continue
	fi
	systemd-analyze security --offline=true --threshold="$t" "$f" >"$T/out" 2>&1
	rc=$?
	got=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$T/out")
	check "$u exposure $got <= $want" \
		eval '[[ $rc -eq 0 && -n $got ]] && awk -v g="$got" -v w="$want" "BEGIN { exit !(g <= w) }"'
done

# ---- udev rules -------------------------------------------------------------------

# rules_check FILE: the problems of a rules file, one per line, on stdout.
# Grammar: comments, blank lines, or KEY[{attr}] OP "value" pairs joined
# by commas; match keys take == or !=, assignment keys = += -= :=.
match_keys=" ACTION DEVPATH KERNEL KERNELS SUBSYSTEM SUBSYSTEMS DRIVER DRIVERS ATTRS TAGS CONST TEST PROGRAM RESULT "
assign_keys=" OWNER GROUP MODE RUN LABEL GOTO OPTIONS SECLABEL "
both_keys=" ENV TAG ATTR SYSCTL NAME SYMLINK IMPORT "
with_attr=" ATTR ATTRS ENV CONST SYSCTL SECLABEL IMPORT RUN TEST "
pair_re='^([A-Z_]+)(\{[^}]*\})?[[:space:]]*(==|!=|\+=|-=|:=|=)[[:space:]]*"(([^"\\]|\\.)*)"'
rules_check() {
	local file=$1 line rest key attr op val ln=0 wants
	while IFS= read -r line || [[ -n $line ]]; do
		ln=$((ln + 1))
		[[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
		if [[ $line == *\\ ]]; then
			echo "$file:$ln: line continuation"
			continue
		fi
		rest=${line#"${line%%[![:space:]]*}"}
		wants=
		local has_action='' has_subsystem='' has_tag=''
		while [[ -n $rest ]]; do
			if [[ ! $rest =~ $pair_re ]]; then
				echo "$file:$ln: not KEY OP \"value\": ${rest:0:40}"
				continue 2
			fi
			key=${BASH_REMATCH[1]} attr=${BASH_REMATCH[2]} op=${BASH_REMATCH[3]}
			val=${BASH_REMATCH[4]}
			rest=${rest:${#BASH_REMATCH[0]}}
			if [[ $match_keys$assign_keys$both_keys != *" $key "* ]]; then
				echo "$file:$ln: unknown key $key"
			elif [[ -n $attr && $with_attr != *" $key "* ]]; then
				echo "$file:$ln: $key takes no {attribute}"
			elif [[ $match_keys == *" $key "* && $op != "==" && $op != "!=" ]]; then
				echo "$file:$ln: $key is a match, $op assigns"
			elif [[ $assign_keys == *" $key "* && ($op == "==" || $op == "!=") ]]; then
				echo "$file:$ln: $key assigns, $op matches"
			fi
			[[ $key$op$val == 'ACTION==add' ]] && has_action=1
			[[ $key$op == 'SUBSYSTEM==' ]] && has_subsystem=1
			[[ $key$op$val == 'TAG+=systemd' ]] && has_tag=1
			[[ $key$attr == 'ENV{SYSTEMD_WANTS}' ]] && wants="$wants $val"
			# Separator: a comma and spaces, or the end of the line.
			if [[ $rest =~ ^,[[:space:]]*([^[:space:]].*)$ ]]; then
				rest=${BASH_REMATCH[1]}
			elif [[ $rest =~ ^[[:space:]]*$ ]]; then
				rest=
			else
				echo "$file:$ln: expected ',' before: ${rest:0:40}"
				continue 2
			fi
		done
		# Our rules: each starts a unit on a device's "add", and only
		# a device tagged for systemd gets a .device unit to do it.
		[[ -n $has_action ]] || echo "$file:$ln: no ACTION==\"add\""
		[[ -n $has_subsystem ]] || echo "$file:$ln: no SUBSYSTEM== match"
		[[ -z $wants || -n $has_tag ]] || echo "$file:$ln: SYSTEMD_WANTS without TAG+=\"systemd\""
		for w in $wants; do
			[[ -f $R/lib/systemd/system/$w ]] ||
				echo "$file:$ln: SYSTEMD_WANTS names $w, which is not a unit of this tree"
		done
	done <"$file"
}

rules=("$R"/lib/udev/rules.d/70-hv-*.rules)
check "four udev rules files installed" [ ${#rules[@]} -eq 4 ]
for f in "${rules[@]}"; do
	rules_check "$f" >"$T/out"
	check "${f##*/} parses: known keys, operators, quoting, units that exist" [ ! -s "$T/out" ]
	head -1 "$f" >"$T/out"
	check "${f##*/} starts with its SPDX line" \
		grep -qx '# SPDX-License-Identifier: GPL-2.0-or-later' "$T/out"
done

# The parser must reject what udev would reject or ignore.
bad() {
	local name=$1 text=$2
	printf '%s\n' "$text" >"$T/bad.rules"
	rules_check "$T/bad.rules" >"$T/out"
	check "the rules check rejects $name" [ -s "$T/out" ]
}
ok_line='ACTION=="add", SUBSYSTEM=="misc", KERNEL=="vmbus/hv_kvp", TAG+="systemd", ENV{SYSTEMD_WANTS}+="hv-kvp-daemon.service"'
printf '%s\n' "$ok_line" >"$T/good.rules"
rules_check "$T/good.rules" >"$T/out"
check "the rules check accepts a good line" [ ! -s "$T/out" ]
bad "an assignment to a match key" "${ok_line/KERNEL==/KERNEL=}"
bad "a match on an assignment key" "$ok_line, MODE==\"0600\""
bad "an unknown key" "$ok_line, FROB==\"1\""
bad "a missing comma" "${ok_line/, TAG/ TAG}"
bad "an unquoted value" "${ok_line/\"misc\"/misc}"
bad "an unterminated quote" "${ok_line%\"}"
bad "a unit that does not exist" "${ok_line/hv-kvp-daemon/hv-nope-daemon}"
bad "SYSTEMD_WANTS without TAG+=\"systemd\"" "${ok_line/TAG+=\"systemd\", /}"
bad "a rule for every action" "${ok_line/ACTION==\"add\", /}"

# udevadm's own parser: our files in a private /run/udev/rules.d, one
# simulated event, and whatever udev says about those files.
udev_says() {
	unshare -m sh -c '
		mount --make-rprivate / && mkdir -p /run/udev/rules.d &&
		mount -t tmpfs tmpfs /run/udev/rules.d && cp "$@" /run/udev/rules.d/ &&
		udevadm test --action=add /sys/class/net/lo' sh "$@" 2>&1 |
		grep -F /run/udev/rules.d/ | grep -v "^Reading rules file"
}
if [[ $EUID -ne 0 ]]; then
	skip "udevadm parses the rules without a complaint" "needs root (a private mount namespace)"
elif ! command -v udevadm >/dev/null || ! command -v unshare >/dev/null ||
	[[ ! -e /sys/class/net/lo ]]; then
	skip "udevadm parses the rules without a complaint" "no udevadm, unshare or /sys/class/net/lo"
else
	printf '%s\n' "${ok_line/KERNEL==/KERNEL=}" >"$T/71-hvis-bad.rules"
	udev_says "$T/71-hvis-bad.rules" >"$T/out"
	if [[ ! -s $T/out ]]; then
		skip "udevadm parses the rules without a complaint" \
			"this udevadm does not report a broken rule in test mode"
	else
		udev_says "${rules[@]}" >"$T/out"
		check "udevadm parses the rules without a complaint" [ ! -s "$T/out" ]
	fi
fi

echo "1..$n"
