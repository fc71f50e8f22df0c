#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The footprint part of make bench runs and reports sane figures:
# bench/run.sh with BENCH_ONLY=footprint, 2 startups per daemon and a 2 s
# idle window, into a results directory of our own. Checks the JSON's
# shape and that the numbers are plausible (no timing or size targets:
# this machine is shared and the build may be sanitized). The bench
# programs are not part of 'make all'; they are built here when missing.
# Prints TAP.
set -u
BUILD=${BUILD:-build}
FP=$BUILD/bench/footprint-bench
SHIM=$BUILD/bench/preload-devshim.so

T=$(mktemp -d /tmp/test-bench-footprint.XXXXXX)
trap 'rm -rf "$T"' EXIT

n=0
ok() { echo "ok $((n += 1)) - $1"; }
nok() {
	echo "not ok $((n += 1)) - $1"
	sed 's/^/# /' "$T/out" | tail -25
}
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}

if [[ ! -x $FP || ! -e $SHIM ]]; then
	make -s BUILD="$BUILD" "$FP" "$SHIM" >"$T/make.log" 2>&1
fi
for f in "$FP" "$SHIM" "$BUILD/hv_kvp_daemon" "$BUILD/hv_vss_daemon" \
	"$BUILD/hv_fcopy_daemon" "$BUILD/hv_shutdown_daemon" \
	"$BUILD/tests/helpers/login1-service"; do
	if [[ ! -e $f ]]; then
		echo "1..0 # SKIP $f not built"
		exit 0
	fi
done
if ! command -v python3 >/dev/null; then
	echo "1..0 # SKIP no python3 to read the JSON"
	exit 0
fi

BENCH_ONLY=bogus BENCH_RESULTS_DIR=$T bench/run.sh >"$T/out" 2>&1
check "BENCH_ONLY with an unknown part is a usage error" test $? -eq 64

BENCH_ONLY=footprint BENCH_FOOTPRINT_ROUNDS=2 BENCH_IDLE_SECONDS=2 \
	BENCH_RESULTS_DIR=$T BENCH_NAME=fp BENCH_TMPDIR=$T \
	bench/run.sh >"$T/out" 2>&1
check "run.sh BENCH_ONLY=footprint exits 0" test $? -eq 0
check "the table is printed, with the missing reference explained" \
	grep -q "shutdown: no reference" "$T/out"
results_alone() {
	[[ -s $T/fp.json && -z $(find "$T" -maxdepth 1 -name "fp.*.tmp") ]]
}
check "the results file is written, nothing left beside it" results_alone

# Reference rows only when run as root with Debian's daemons installed.
refs=0
[[ $(id -u) -eq 0 && -x /usr/sbin/hv_kvp_daemon && -x /usr/sbin/hv_vss_daemon &&
	-x /usr/sbin/hv_fcopy_daemon ]] && refs=1

python3 - "$T/fp.json" "$refs" >"$T/out" 2>&1 <<'EOF'
import json, sys

doc = json.load(open(sys.argv[1]))
refs = sys.argv[2] == "1"
bad = []


def need(cond, what):
    if not cond:
        bad.append(what)


for part in ("kvp", "uio", "get_ip_info", "fcopy"):
    need(all(v is None for v in doc[part].values()), part + " not run")
need(doc["vss"] is None, "vss not run")
fp = doc["footprint"]
need(fp["rounds"] == 2 and fp["idle_window_s"] == 2, "knobs passed")
need(fp["pinned"] is False, "unpinned")
rows = {r["key"]: r for r in fp["results"]}
want = ["kvp_ours", "vss_ours", "fcopy_ours", "fcopy_uio_ours",
        "shutdown_ours"]
if refs:
    want += ["kvp_reference", "vss_reference", "fcopy_reference"]
need(sorted(rows) == sorted(want), "rows %s" % sorted(rows))
for key, r in rows.items():
    ours = r["daemon"] == "ours"
    need(r["runs"] == 2, key + " runs")
    need(0 < r["startup_ms"] < 30000, key + " startup_ms")
    need(r["startup_ms_min"] <= r["startup_ms"] <= r["startup_ms_max"],
         key + " startup min/median/max")
    need(len(r["startup_ms_runs"]) == 2, key + " startup_ms_runs")
    if ours:
        need(r["ready_notify_ms"] is not None and
             0 < r["ready_notify_ms"] < 30000, key + " READY=1")
    else:
        need(r["ready_notify_ms"] is None, key + " no READY=1")
        need(r["shim_rss_kib"] > 0, key + " shim share measured")
        need("ratio_ref_over_ours" not in r, key + " no ratio")
    need(0 < r["pss_kib"] <= r["rss_kib"], key + " Pss <= RSS")
    need(0 < r["rss_anon_kib"] <= r["rss_kib"], key + " anon <= RSS")
    idle = r["idle"]
    need(idle is not None, key + " idle window")
    if idle:
        need(idle["window_s"] == 2, key + " window")
        for f in ("wakeups", "ctxt_switches", "voluntary",
                  "nonvoluntary"):
            need(isinstance(idle[f], int) and idle[f] >= 0, key + " " + f)
        need(idle["ctxt_switches"] ==
             idle["voluntary"] + idle["nonvoluntary"], key + " ctxsw sum")
        need(idle["threads"] >= 1, key + " threads")
        need(isinstance(idle["quiet_at_start"], bool), key + " quiet")
        need(idle["memory_end"]["rss_kib"] > 0, key + " memory_end")
    if refs and ours and key != "shutdown_ours":
        need(r["vs"] in rows and r["ratio_ref_over_ours"]["rss"] > 0,
             key + " ratio")
names = [t["name"] for t in fp["targets"]]
need(sum("wake-ups" in n for n in names) == 5, "a wake-up target per ours")
need(sum("RSS" in n for n in names) == (4 if refs else 0),
     "an RSS target per ours with a reference")
need(all(isinstance(t["pass"], bool) for t in fp["targets"]), "pass flags")
for b in bad:
    print("bad:", b)
sys.exit(1 if bad else 0)
EOF
check "footprint JSON: every daemon's rows and fields, sane numbers" test $? -eq 0
no_work_dir() { [[ -z $(find "$T" -maxdepth 1 -name "hvis-footprint.*") ]]; }
check "the bench left no work directory behind" no_work_dir

echo "1..$n"
