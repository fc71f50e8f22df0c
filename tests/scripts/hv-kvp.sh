#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# hv-kvp(1) end to end: the real binary against private pool directories
# (--state-dir/--run-dir), checked through its exit status, its output and
# the bytes it leaves in the pool files. Prints TAP. Needs python3 for the
# byte-level and JSON checks, root for the non-root checks (setpriv).
set -u
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
HVKVP=$BUILD/hv-kvp
MAN=${HVIS_SRCDIR:-$PWD}/man/hv-kvp.1

T=$(mktemp -d /tmp/test-hv-kvp.XXXXXX)
cleanup() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
S=$T/state
R=$T/run
mkdir -p "$R"

n=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
nok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	[[ -s $T/err ]] && sed 's/^/# stderr: /' "$T/err" | head -5
	return 0
}
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}

# run ARGS...: hv-kvp on the private pools; sets rc, out in $T/out, err in $T/err.
run() {
	"$HVKVP" --state-dir "$S" --run-dir "$R" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
# expect NAME STATUS ARGS...
expect() {
	local name=$1 want=$2
	shift 2
	run "$@"
	if [[ $rc -eq $want ]]; then
		ok "$name"
	else
		nok "$name (exit $rc, want $want)"
	fi
}
# expect_err NAME STATUS PATTERN ARGS...: also one "hv-kvp: " line matching.
expect_err() {
	local name=$1 want=$2 pat=$3
	shift 3
	run "$@"
	if [[ $rc -eq $want && $(wc -l <"$T/err") -ge 1 ]] &&
		grep -q "^hv-kvp: .*$pat" "$T/err"; then
		ok "$name"
	else
		nok "$name (exit $rc, want $want, stderr /$pat/)"
	fi
}
out_is() { [[ $(cat "$T/out"; echo .) == "$1"$'\n.' ]]; }
size_of() { stat -c %s "$1"; }
have_py() { command -v python3 >/dev/null; }
json_ok() { python3 -m json.tool "$1" >/dev/null; }
rep() { # rep STRING COUNT
	local s="" i
	for ((i = 0; i < $2; i++)); do s+=$1; done
	printf '%s' "$s"
}

if [[ ! -x $HVKVP ]]; then
	echo "not ok 1 - $HVKVP is not built"
	echo "1..1"
	exit 1
fi

# --- reading before any pool exists -------------------------------------
expect_err "get without pool files: other error" 6 "no KVP pool files" get k
expect_err "list without pool files: other error" 6 "no KVP pool files" list

# --- defaults: set writes pool 1, get reads pool 0 ----------------------
expect "set with the default pool" 0 set greeting hello
check "the pool files are created 0644" \
	test "$(stat -c %a "$S/.kvp_pool_1")" = 644
check "set wrote pool 1 only" test "$(size_of "$S/.kvp_pool_1")" = 2560 -a \
	"$(size_of "$S/.kvp_pool_0")" = 0
expect_err "get reads pool 0 by default: not found" 1 'not found in pool 0' \
	get greeting
expect "get --pool guest" 0 get --pool guest greeting
check "get prints the value and a newline" out_is hello
expect "set --pool 0" 0 set -p 0 host-said "from the host"
expect "get with the default pool" 0 get host-said
check "get reads pool 0" out_is "from the host"

# --- pool names and numbers ---------------------------------------------
i=0
for spec in external:0 guest:1 host:3 auto_external:3 AUTO-EXTERNAL:3 \
	internal:4 auto_internal:4 auto-internal:4 0:0 3:3; do
	name=${spec%:*} num=${spec#*:}
	i=$((i + 1))
	run set --pool "$name" "named-$i" "v$i"
	run get --pool "$num" "named-$i"
	if [[ $rc -eq 0 ]] && out_is "v$i"; then
		ok "--pool $name is pool $num"
	else
		nok "--pool $name is pool $num"
	fi
done
expect_err "unknown pool name: usage" 2 "unknown pool" get -p nosuch k
expect_err "pool number 5: usage" 2 "unknown pool" get -p 5 k
expect_err "pool number -1: usage" 2 "unknown pool" get --pool=-1 k

# --- set/get/delete round trips per pool ---------------------------------
for p in 0 1 3 4; do
	run set -p "$p" "rt-$p" "value $p"
	a=$rc
	run get -p "$p" "rt-$p"
	b=$rc
	out_is "value $p"
	c=$?
	run delete -p "$p" "rt-$p"
	d=$rc
	run get -p "$p" "rt-$p"
	e=$rc
	run delete -p "$p" "rt-$p"
	if [[ $a$b$c$d$e$rc == 000011 ]]; then
		ok "pool $p: set, get, delete, get and delete again"
	else
		nok "pool $p round trip (set $a get $b value $c delete $d get $e delete $rc)"
	fi
done
expect "delete uses pool 1 by default" 0 delete greeting
expect "... so the key is gone from pool 1" 1 get -p 1 greeting

before=$(size_of "$S/.kvp_pool_1")
run set ow one
run set ow two
expect "overwrite in place" 0 get -p 1 ow
check "... the new value" out_is two
check "... one record more, not two" \
	test "$(size_of "$S/.kvp_pool_1")" = $((before + 2560))

run set -p 1 multi $'line one\nline two\n'
check "get is raw: \$(hv-kvp get) gives the value back" \
	test "$("$HVKVP" --state-dir "$S" get -p 1 multi)" = $'line one\nline two'
expect "an empty value is allowed" 0 set empty ""
expect "get of an empty value" 0 get -p 1 empty
check "... prints an empty line" out_is ""

# --- the record on disk --------------------------------------------------
rm -f "$S"/.kvp_pool_4
expect "set into a fresh pool 4" 0 set -p internal diskkey diskvalue
if have_py; then
	check "the record is 2560 zero-padded bytes (512s2048s)" python3 - \
		"$S/.kvp_pool_4" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
assert len(d) == 2560, len(d)
k, v = struct.unpack("512s2048s", d)
assert k == b"diskkey" + b"\0" * (512 - 7), k[:16]
assert v == b"diskvalue" + b"\0" * (2048 - 9), v[:16]
EOF
else
	skip "the record is 2560 zero-padded bytes" "no python3"
fi

# --- pool 2 (auto) ---------------------------------------------------------
expect "get --pool auto ProcessorArchitecture" 0 get -p auto ProcessorArchitecture
check "... is uname -m" out_is "$(uname -m)"
expect "get --pool 2 OSBuildNumber" 0 get -p 2 OSBuildNumber
check "... is uname -r" out_is "$(uname -r)"
expect "get --pool 2 FullyQualifiedDomainName" 0 get -p 2 FullyQualifiedDomainName
check "... is not empty" test -s "$T/out"
expect "list --pool 2" 0 list -p 2
check "... has the ten intrinsic keys in order" test "$(cut -d= -f1 "$T/out" |
	tr '\n' ' ')" = "FullyQualifiedDomainName IntegrationServicesVersion \
NetworkAddressIPv4 NetworkAddressIPv6 OSBuildNumber OSName OSMajorVersion \
OSMinorVersion OSVersion ProcessorArchitecture "
expect_err "get of an unknown pool 2 key: not found" 1 "not found in pool 2" \
	get -p 2 NoSuchKey
expect_err "set on pool 2: read-only" 4 "read-only" set -p 2 OSName x
expect_err "delete on pool 2: read-only" 4 "read-only" delete -p auto OSName
check "pool 2's file stays empty" test "$(size_of "$S/.kvp_pool_2")" = 0
expect "wait on pool 2 for a key it has: at once" 0 wait -p 2 OSName
expect_err "wait on pool 2 for a key it never has: not found" 1 "fixed" \
	wait -p 2 NoSuchKey

# --- limits ----------------------------------------------------------------
k254=$(rep a 254) k255=$(rep a 255) k511=$(rep a 511) k512=$(rep a 512)
expect "a 254-unit key" 0 set "$k254" v
expect_err "a 255-unit key: refused for the host" 3 "UTF-16 units.*254" \
	set "$k255" v
expect "... unless --force" 0 set --force "$k255" v
expect "a 511-byte key with --force" 0 set -f "$k511" v
expect "... reads back" 0 get -p 1 "$k511"
before=$(size_of "$S/.kvp_pool_1")
expect_err "a 512-byte key: refused even with --force" 3 "at most 511" \
	set -f "$k512" v
expect_err "get of a 512-byte key: refused" 3 "at most 511" get "$k512"
e254=$(rep é 254) e255=$(rep é 255)
expect "254 two-byte characters (508 bytes)" 0 set "$e254" v
expect_err "255 two-byte characters: 255 units" 3 "255 UTF-16 units" \
	set "$e255" v
s127=$(rep $'\xf0\x9f\x98\x80' 127) s128=$(rep $'\xf0\x9f\x98\x80' 128)
expect "127 astral characters (254 units, 508 bytes)" 0 set "$s127" v
expect_err "128 astral characters (512 bytes)" 3 "at most 511" -f set "$s128" v

v1022=$(rep b 1022) v1023=$(rep b 1023) v2047=$(rep b 2047) v2048=$(rep b 2048)
expect "a 1022-unit value" 0 set val "$v1022"
expect_err "a 1023-unit value: refused for the host" 3 \
	"value is 1023 UTF-16 units.*1022" set val "$v1023"
expect "... unless --force" 0 set -f val "$v1023"
expect "a 2047-byte value with --force" 0 set -f val "$v2047"
expect "... reads back" 0 get -p 1 val
check "... whole" out_is "$v2047"
expect_err "a 2048-byte value: refused even with --force" 3 "at most 2047" \
	set -f val "$v2048"
a511=$(rep $'\xf0\x9f\x98\x80' 511) a512=$(rep $'\xf0\x9f\x98\x80' 512)
expect "511 astral characters (1022 units, 2044 bytes)" 0 set val "$a511"
expect_err "512 astral characters (2048 bytes)" 3 "at most 2047" \
	set -f val "$a512"
check "refused writes left pool 1 alone" \
	test "$(size_of "$S/.kvp_pool_1")" = $((before + 3 * 2560))

# --- UTF-8 -------------------------------------------------------------------
expect_err "a key with an invalid byte" 3 "key is not valid UTF-8" \
	set $'bad\xffkey' v
expect_err "an overlong value" 3 "value is not valid UTF-8" set k $'\xc0\x80'
expect_err "an encoded surrogate" 3 "not valid UTF-8" set k $'\xed\xa0\x80'
expect_err "a truncated sequence" 3 "not valid UTF-8" set k $'ab\xe2\x82'
expect_err "an empty key" 3 "must not be empty" set "" v
expect_err "get of an empty key" 3 "must not be empty" get ""

# --- foreign records, text and JSON output --------------------------------
if have_py; then
	python3 - "$S/.kvp_pool_0" <<'EOF'
import struct, sys
recs = [
    (b"ctl\x01\x1b[31m", b"tab\there\nnewline \"q\" \\ \x7f\xc2\x9b"),
    (b"bad\xff\xfeutf8", b"\xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 ok\xe2\x82"),
    (b"eq=key", b"caf\xc3\xa9 \xe2\x80\xa8"),
    (b"#hash", b"x"),
]
with open(sys.argv[1], "ab") as f:
    for k, v in recs:
        f.write(struct.pack("512s2048s", k, v))
    # Unterminated fields, garbage after a NUL elsewhere.
    f.write(b"K" * 512 + b"V" * 2048)
    f.write(struct.pack("512s2048s", b"garbage\0after", b"val\0trailing junk"))
EOF
	expect "list --json with hostile records" 0 list --json
	check "... is valid JSON (python3 -m json.tool)" json_ok "$T/out"
	check "... decodes as expected" python3 - "$T/out" <<'EOF'
import json, sys
recs = json.load(open(sys.argv[1]))
by = {(r["pool"], r["key"]): r for r in recs}
assert all(set(r) == {"pool", "pool_name", "key", "value"} for r in recs)
r = by[(0, "ctl\x01\x1b[31m")]
assert r["value"] == "tab\there\nnewline \"q\" \\ \x7f\x9b", r
assert r["pool_name"] == "external"
r = by[(0, "bad\ufffd\ufffdutf8")]
assert r["value"] == "\ufffd( " + "\ufffd" * 3 + " " + "\ufffd" * 4 + " ok" + "\ufffd" * 2, r
assert by[(0, "eq=key")]["value"] == "caf\u00e9 \u2028"
assert by[(0, "K" * 512)]["value"] == "V" * 2048
assert by[(0, "garbage")]["value"] == "val"
assert sum(1 for r in recs if r["pool"] == 2) == 10
assert {r["pool_name"] for r in recs} == {"external", "guest", "auto", "host", "internal"}
EOF
	check "... escapes every control byte" python3 - "$T/out" <<'EOF'
import sys
d = open(sys.argv[1], "rb").read()
d.decode("utf-8")
assert not any(b < 0x20 and b != 0x0a for b in d)
assert b"\x7f" not in d and "\u2028".encode() not in d and "\x9b".encode() not in d
EOF
	expect "list --json --pool 0" 0 list --json --pool 0
	check "... is a valid JSON array of pool 0 only" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert isinstance(r, list) and all(x["pool"] == 0 for x in r)
assert [x["key"] for x in r][-2:] == ["K" * 512, "garbage"], r
' "$T/out"
	expect "get --json of a hostile record" 0 get --json $'ctl\x01\x1b[31m'
	check "... is one valid JSON object" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["key"] == "ctl\x01\x1b[31m" and r["pool"] == 0
' "$T/out"
	expect "list --json --pool 4" 0 list --json -p 4
	check "... holds the one record" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert [(x["key"], x["value"]) for x in r] == [("diskkey", "diskvalue")], r
' "$T/out"
	expect "text list --pool 0" 0 list -p 0
	check "... escapes control bytes, invalid UTF-8, '=' and a leading '#'" \
		python3 - "$T/out" <<'EOF'
import sys
lines = open(sys.argv[1], "rb").read().decode("utf-8").split("\n")
assert lines[-1] == "", lines[-1]
lines = lines[:-1]
assert r'ctl\x01\x1b[31m=tab\there\nnewline "q" \\ \x7f\xc2\x9b' in lines, lines
assert r'bad\xff\xfeutf8=\xc3( \xed\xa0\x80 \xf4\x90\x80\x80 ok\xe2\x82' in lines
assert 'eq\\x3dkey=caf\u00e9 \u2028' in lines
assert r'\x23hash=x' in lines
assert "garbage=val" in lines
assert all(l.count("=") >= 1 for l in lines)
assert not any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for l in lines for c in l)
EOF
	expect "get of a record with garbage after the NUL" 0 get garbage
	check "... stops at the NUL" out_is val
else
	for t in "list --json" "text list" "get --json"; do
		skip "$t with hostile records" "no python3"
	done
fi
"$HVKVP" --state-dir "$T/empty" --run-dir "$R" set x y >/dev/null 2>&1
"$HVKVP" --state-dir "$T/empty" list --json -p 0 >"$T/out" 2>"$T/err"
check "list --json of an empty pool is []" test "$(cat "$T/out")" = "[]"
expect "list without --pool" 0 list
check "... groups all five pools under '# pool' headers" test \
	"$(grep '^# pool' "$T/out" | tr '\n' '|')" = \
	"# pool 0 (external)|# pool 1 (guest)|# pool 2 (auto)|# pool 3 (host)|# pool 4 (internal)|"

# --- wait ----------------------------------------------------------------------
expect "wait for a key already there: at once" 0 wait host-said
expect "wait --timeout 0 for a key already there" 0 wait --timeout 0 host-said
expect_err "wait --timeout 0 for a missing key: timeout" 5 "timed out" \
	wait --timeout 0 nothere
expect_err "wait --timeout 0.2 for a missing key: timeout" 5 "timed out" \
	wait nothere --timeout 0.2
expect_err "wait for a pool 1 key with -p: timeout" 5 "pool 1 (guest)" \
	wait -p guest nothere -t 0.1

# wait_for NAME STATE_DIR KEY SETUP...: start a waiter, wait until it says it
# is waiting (its --debug line through a FIFO), then run SETUP and the
# writer; the waiter must return 0.
wait_for() {
	local name=$1 sd=$2 key=$3 line seen=0 wpid wrc
	shift 3
	rm -f "$T/w.fifo"
	mkfifo "$T/w.fifo"
	"$HVKVP" --state-dir "$sd" --run-dir "$R" -d wait --timeout 60 "$key" \
		2>"$T/w.fifo" >/dev/null &
	wpid=$!
	exec 8<"$T/w.fifo"
	while IFS= read -r -u 8 line; do
		if [[ $line == *"waiting for key"* ]]; then
			seen=1
			break
		fi
	done
	"$@"
	"$HVKVP" --state-dir "$sd" --run-dir "$R" set -p 0 "$key" arrived \
		>/dev/null 2>&1
	wait "$wpid"
	wrc=$?
	exec 8<&-
	if [[ $seen -eq 1 && $wrc -eq 0 ]]; then
		ok "$name"
	else
		nok "$name (saw the waiter waiting: $seen, exit $wrc)"
	fi
}
wait_for "wait returns when a writer adds the key" "$S" late-key true
"$HVKVP" --state-dir "$S" get late-key >"$T/out" 2>"$T/err"
check "... and the key is there" out_is arrived
wait_for "wait while the state dir does not exist yet" "$T/late/a/state" \
	first-boot mkdir -p "$T/late/a"
mkdir "$T/late2"
wait_for "wait while the pool files do not exist yet" "$T/late2" \
	files-later true

# --- locks ---------------------------------------------------------------------
# A cloud-init style flock, then a kvp_client style classic fcntl lock.
# flock alone is cloud-init's, which only appends: readers need not wait
# for it (kvp-pool.h), writers do.
coproc LOCKER { flock -x "$S/.kvp_pool_0" sh -c 'echo locked; read _'; }
# bash unsets LOCKER_PID once the coprocess is reaped: keep a copy.
locker_pid=$LOCKER_PID
read -r -u "${LOCKER[0]}" line
expect "get under a foreign flock: not blocked" 0 --lock-timeout 0.1 \
	get host-said
check "... and prints the value" out_is "from the host"
expect "wait under a foreign flock: not blocked" 0 --lock-timeout 0.1 \
	wait --timeout 0.3 host-said
expect_err "set under a foreign flock: timeout" 5 "locked" \
	--lock-timeout 0.1 set -p 0 host-said other
echo >&"${LOCKER[1]}"
wait "$locker_pid"
if have_py; then
	coproc LOCKER2 {
		python3 -c '
import fcntl, sys
f = open(sys.argv[1], "r+b")
fcntl.lockf(f, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.readline()
' "$S/.kvp_pool_1"
	}
	locker2_pid=$LOCKER2_PID
	read -r -u "${LOCKER2[0]}" line
	expect_err "set under a classic fcntl lock: timeout" 5 "locked" \
		--lock-timeout 0.1 set k v
	expect_err "get under a classic fcntl lock: timeout" 5 "locked" \
		--lock-timeout 0.1 get -p 1 greeting
	echo >&"${LOCKER2[1]}"
	wait "$locker2_pid"
else
	skip "set under a classic fcntl lock" "no python3"
fi
expect "the lock is gone: get works again" 0 get host-said

# --- permissions ----------------------------------------------------------------
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
	chmod 755 "$T" "$R"
	cp "$HVKVP" "$T/hv-kvp"
	asuser() {
		setpriv --reuid=65534 --regid=65534 --clear-groups "$T/hv-kvp" \
			--state-dir "$S" --run-dir "$R" "$@" >"$T/out" 2>"$T/err"
		rc=$?
	}
	asuser get host-said
	check "non-root: get works" test $rc -eq 0
	asuser list
	check "non-root: list works" test $rc -eq 0
	asuser set k v
	if [[ $rc -eq 4 ]] && grep -q "^hv-kvp: .*Permission denied" "$T/err"; then
		ok "non-root: set is permission denied"
	else
		nok "non-root: set is permission denied (exit $rc)"
	fi
	asuser delete host-said -p 0
	check "non-root: delete is permission denied" test $rc -eq 4
	chmod 600 "$S/.kvp_pool_3"
	asuser get -p 3 named-3
	check "non-root: unreadable pool is permission denied" test $rc -eq 4
	chmod 644 "$S/.kvp_pool_3"
else
	for t in get list set delete unreadable; do
		skip "non-root: $t" "needs root and setpriv"
	done
fi

# --- usage and other errors -------------------------------------------------------
expect_err "no command" 2 "missing command"
expect_err "unknown command" 2 "unknown command" frob
expect_err "unknown option" 2 "unknown option" --frob list
expect_err "missing option argument" 2 "needs an argument" list --pool
expect_err "get without a key" 2 "get takes 1 argument" get
expect_err "set without a value" 2 "set takes 2 arguments" set k
expect_err "list with an argument" 2 "list takes 0" list x
expect_err "--timeout outside wait" 2 "wait only" get k --timeout 1
expect_err "--force outside set" 2 "set only" get -f k
expect_err "--json outside get and list" 2 "get and list only" set -j k v
expect_err "bad --timeout" 2 "invalid --timeout" wait k --timeout soon
expect_err "negative --timeout" 2 "invalid --timeout" wait k --timeout=-1
expect_err "bad --lock-timeout" 2 "invalid --lock-timeout" \
	--lock-timeout x get k
expect "a value starting with '-' after --" 0 set -p 1 neg -- -1
expect "... reads back" 0 get -p 1 neg
check "... as given" out_is -1
: >"$T/notadir"
"$HVKVP" --state-dir "$T/notadir" --run-dir "$R" set k v >/dev/null \
	2>"$T/err"
check "a state dir that is a file: other error" test $? -eq 6

# --root puts every default directory under it, whatever the order.
mkdir -p "$T/root/run" "$T/root/var/lib"
"$HVKVP" --state-dir "$T/elsewhere" --root "$T/root" set rooted yes \
	>/dev/null 2>"$T/err"
check "--root then --state-dir wins" test $? -eq 0 -a -s "$T/elsewhere/.kvp_pool_1"
"$HVKVP" --root "$T/root" set rooted yes >/dev/null 2>"$T/err"
check "--root alone: <root>/var/lib/hyperv" \
	test $? -eq 0 -a -s "$T/root/var/lib/hyperv/.kvp_pool_1"

# --- help, version, man page ------------------------------------------------------
"$HVKVP" --help >"$T/help" 2>&1
check "--help exits 0" test $? -eq 0
"$HVKVP" -V >"$T/out" 2>&1
check "--version" grep -q '^hv-kvp (hvis) ' "$T/out"
if [[ -f $MAN ]]; then
	missing=""
	sed 's/\\-/-/g' "$MAN" >"$T/man"
	for o in $(grep -oE -- '--[a-z][a-z-]*' "$T/help" | sort -u); do
		grep -qE -- "^\.It .*Fl -${o#--}( |\$)" "$T/man" || missing+=" $o"
	done
	check "every option in --help has an entry in the man page${missing:+ (missing$missing)}" \
		test -z "$missing"
	missing=""
	for s in 0 1 2 3 4 5 6; do
		grep -qx "\.It $s" "$MAN" || missing+=" $s"
	done
	check "every exit status is in the man page${missing:+ (missing$missing)}" \
		test -z "$missing"
	if command -v mandoc >/dev/null; then
		mandoc -T lint -W warning "$MAN" >"$T/lint" 2>&1
		check "mandoc -T lint is clean" test ! -s "$T/lint"
	else
		skip "mandoc -T lint is clean" "no mandoc"
	fi
else
	nok "man/hv-kvp.1 exists"
fi

echo "1..$n"
