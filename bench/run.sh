#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make bench: KVP daemon latency/RSS/startup against the reference daemon
# (Debian hyperv-daemons, when installed), UIO round trips, file copy
# throughput (bench/fcopy-bench.c) and VSS freeze timings (root only,
# bench/vss-bench.c, unpinned), each pinned
# to CPU 0 (taskset -c 0: driver, simulator and daemon together) and
# unpinned; then each daemon's footprint (bench/footprint-bench.c,
# unpinned, as the daemons run in production): startup to ready, idle
# RSS/Pss and wake-ups during an idle window. Builds nothing: the
# Makefile does. Prints tables and writes bench/results/$BENCH_NAME.json.
#
# Knobs (environment):
#   BENCH_ONLY            run only these parts, comma- or space-separated:
#                         kvp (with its on-disk run), uio, ip, fcopy, vss,
#                         footprint (default: all); the others are null
#                         in the results file
#   BENCH_NAME            results file name (default: UTC date and time)
#   BENCH_RESULTS_DIR     where it goes (default bench/results)
#   BENCH_ROUNDS          KVP rounds pinned (default 5)
#   BENCH_ROUNDS_UNPINNED KVP rounds unpinned (default 3)
#   BENCH_OPS             timed round trips per operation (default 2000)
#   BENCH_OPS_LARGE       the same for the reference at 10,000 records
#                         (default 100: each SET costs it ~20 ms)
#   BENCH_SIZES           pool sizes (default 10,1000,10000)
#   BENCH_UIO_MESSAGES    UIO round trips per round (default 20000)
#   BENCH_IP_ROUNDS       GET_IP_INFO rounds, 8 interfaces in a private
#                         network namespace (default 3; root only)
#   BENCH_IP_OPS_REF      timed GET_IP_INFO requests to the reference per
#                         round (default 50: each costs it ~100 ms)
#   BENCH_TMPDIR          where pools and sockets live (default /dev/shm,
#                         a tmpfs, if writable, else /tmp); the daemons see
#                         it as /var/lib/hyperv in a private mount namespace
#   BENCH_DISK_TMPDIR     the same for one more pinned KVP run with the
#                         pools on disk, as /var/lib/hyperv is in production
#                         (default /var/tmp; skipped if it is a tmpfs or
#                         BENCH_DISK=0)
#   BENCH_ROUNDS_DISK     KVP rounds on disk (default 3)
#   HV_KVP_REFERENCE      reference daemon (default /usr/sbin/hv_kvp_daemon)
#   BENCH_FCOPY           0: skip the file copy benchmark
#   BENCH_FCOPY_MIB       MiB per copy (default 1024)
#   BENCH_FCOPY_ROUNDS    copies per configuration and pinning (default 3)
#   HV_FCOPY_REFERENCE    reference (default /usr/sbin/hv_fcopy_daemon)
#   BENCH_VSS             0: skip the VSS benchmark (root and zram only)
#   BENCH_VSS_ROUNDS      backups and FIFREEZE loops (default 3)
#   BENCH_FOOTPRINT       0: skip the footprint part
#   BENCH_FOOTPRINT_ROUNDS startups per daemon (default 20)
#   BENCH_IDLE_SECONDS    idle window for the wake-up count, every daemon
#                         at once (default 60)
#   HV_VSS_REFERENCE      reference (default /usr/sbin/hv_vss_daemon; only
#                         ever asked HOT_BACKUP, never to freeze)
set -u

B=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cd "$top" || exit 1

name=${BENCH_NAME:-$(date -u +%Y%m%dT%H%M%SZ)}
rounds=${BENCH_ROUNDS:-5}
rounds_unpinned=${BENCH_ROUNDS_UNPINNED:-3}
rounds_disk=${BENCH_ROUNDS_DISK:-3}
ops=${BENCH_OPS:-2000}
ops_large=${BENCH_OPS_LARGE:-100}
sizes=${BENCH_SIZES:-10,1000,10000}
uio_messages=${BENCH_UIO_MESSAGES:-20000}
ref=${HV_KVP_REFERENCE:-/usr/sbin/hv_kvp_daemon}

only=$(printf '%s' "${BENCH_ONLY:-}" | tr ' ' ',')
for part in $(printf '%s' "$only" | tr ',' ' '); do
	case $part in
	kvp | uio | ip | fcopy | vss | footprint) ;;
	*)
		echo "bench: BENCH_ONLY: unknown part '$part' (kvp, uio, ip," \
			"fcopy, vss, footprint)" >&2
		exit 64
		;;
	esac
done
want() { # part: is it to run?
	case ",$only," in
	,,) return 0 ;;
	*",$1,"*) return 0 ;;
	*) return 1 ;;
	esac
}

if [ -z "${BENCH_TMPDIR:-}" ]; then
	if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
		[ -w /dev/shm ]; then
		BENCH_TMPDIR=/dev/shm
	else
		BENCH_TMPDIR=/tmp
	fi
fi
state_fs=$(stat -f -c %T "$BENCH_TMPDIR" 2>/dev/null || echo unknown)
disk_dir=${BENCH_DISK_TMPDIR:-/var/tmp}
disk_fs=$(stat -f -c %T "$disk_dir" 2>/dev/null || echo unknown)
if [ "${BENCH_DISK:-1}" = 0 ] || [ "$disk_fs" = tmpfs ] ||
	[ "$disk_fs" = unknown ] || [ ! -w "$disk_dir" ]; then
	disk_dir=""
fi

need() { # part file...: what the part runs, when it is to run
	part=$1
	shift
	want "$part" || return 0
	for f in "$@"; do
		if [ ! -e "$f" ]; then
			echo "bench: $f is missing (run 'make BUILD=$B bench')" >&2
			exit 1
		fi
	done
}
need kvp "$B/bench/kvp-bench" "$B/bench/preload-devshim.so" \
	"$B/hv_kvp_daemon" "$B/tests/helpers/echo-service"
need uio "$B/bench/uio-bench" "$B/tests/helpers/echo-service"
need ip "$B/bench/kvp-ip-bench" "$B/bench/preload-devshim.so" \
	"$B/hv_kvp_daemon"
need fcopy "$B/bench/fcopy-bench" "$B/bench/fcopy-sink" \
	"$B/bench/preload-devshim.so" "$B/hv_fcopy_daemon"
need vss "$B/bench/vss-bench" "$B/hv_vss_daemon"
need footprint "$B/bench/footprint-bench" "$B/bench/preload-devshim.so" \
	"$B/hv_kvp_daemon" "$B/hv_vss_daemon" "$B/hv_fcopy_daemon" \
	"$B/hv_shutdown_daemon" "$B/tests/helpers/login1-service"

results=${BENCH_RESULTS_DIR:-bench/results}
mkdir -p "$results"
tmp="$results/$name"
out="$results/$name.json"

pin=""
if command -v taskset >/dev/null 2>&1; then
	pin="taskset -c 0"
else
	echo "bench: taskset not found: unpinned runs only" >&2
fi

if [ -x "$ref" ]; then
	refver=$(dpkg-query -W -f '${Package} ${Version}' hyperv-daemons \
		2>/dev/null || echo unknown)
	echo "bench: reference daemon $ref ($refver)"
else
	refver=""
	echo "bench: reference daemon $ref not found: measuring ours alone"
fi
echo "bench: pools and sockets in $BENCH_TMPDIR ($state_fs), seen by" \
	"both daemons as /var/lib/hyperv in a private mount namespace"
if [ -n "$pin" ]; then
	echo "bench: pinned runs: driver, simulator and daemon all on CPU 0" \
		"($pin); unpinned runs follow"
fi

status=0
export TMPDIR="$BENCH_TMPDIR"

kvp() { # label rounds tmpdir [taskset...]
	label=$1 r=$2 dir=$3
	shift 3
	TMPDIR=$dir "$@" "$B/bench/kvp-bench" --ours="$B/hv_kvp_daemon" \
		--echo="$B/tests/helpers/echo-service" --ref="$ref" \
		--shim="$B/bench/preload-devshim.so" --sizes="$sizes" \
		--rounds="$r" --ops="$ops" --ops-large="$ops_large" \
		--noop-ops="$ops" --label="$label" \
		--json="$tmp.kvp-$label.tmp" || status=1
}

ipinfo() { # label [taskset...]
	label=$1
	shift
	"$@" "$B/bench/kvp-ip-bench" --ours="$B/hv_kvp_daemon" --ref="$ref" \
		--shim="$B/bench/preload-devshim.so" \
		--rounds="${BENCH_IP_ROUNDS:-3}" --ops="$ops" \
		--ops-ref="${BENCH_IP_OPS_REF:-50}" --label="$label" \
		--json="$tmp.ip-$label.tmp" || status=1
}

uio() { # label [taskset...]
	label=$1
	shift
	"$@" "$B/bench/uio-bench" --echo="$B/tests/helpers/echo-service" \
		--messages="$uio_messages" --rounds=5 --label="$label" \
		--json="$tmp.uio-$label.tmp" || status=1
}

fcopy_ref=${HV_FCOPY_REFERENCE:-/usr/sbin/hv_fcopy_daemon}
fcopy() { # label [taskset...]
	label=$1
	shift
	"$@" "$B/bench/fcopy-bench" --ours="$B/hv_fcopy_daemon" \
		--sink="$B/bench/fcopy-sink" --ref="$fcopy_ref" \
		--shim="$B/bench/preload-devshim.so" \
		--size-mib="${BENCH_FCOPY_MIB:-1024}" \
		--rounds="${BENCH_FCOPY_ROUNDS:-3}" --label="$label" \
		--json="$tmp.fcopy-$label.tmp" || status=1
}

vss_ref=${HV_VSS_REFERENCE:-/usr/sbin/hv_vss_daemon}
footprint() {
	"$B/bench/footprint-bench" --kvp="$B/hv_kvp_daemon" \
		--vss="$B/hv_vss_daemon" --fcopy="$B/hv_fcopy_daemon" \
		--shutdown="$B/hv_shutdown_daemon" --ref-kvp="$ref" \
		--ref-vss="$vss_ref" --ref-fcopy="$fcopy_ref" \
		--shim="$B/bench/preload-devshim.so" \
		--login1="$B/tests/helpers/login1-service" \
		--rounds="${BENCH_FOOTPRINT_ROUNDS:-20}" \
		--idle="${BENCH_IDLE_SECONDS:-60}" --label=unpinned \
		--json="$tmp.footprint.tmp" || status=1
}

vss() {
	"$B/bench/vss-bench" --daemon="$B/hv_vss_daemon" \
		--rounds="${BENCH_VSS_ROUNDS:-3}" --label=unpinned \
		--json="$tmp.vss.tmp" || status=1
}

start=$(date +%s)
if [ -n "$pin" ]; then
	want kvp && kvp pinned "$rounds" "$BENCH_TMPDIR" $pin
	want uio && uio pinned $pin
	want ip && ipinfo pinned $pin
fi
want kvp && kvp unpinned "$rounds_unpinned" "$BENCH_TMPDIR"
want uio && uio unpinned
want ip && ipinfo unpinned
if want kvp && [ -n "$disk_dir" ]; then
	echo
	echo "bench: once more with the pools on disk: $disk_dir ($disk_fs)"
	kvp "${pin:+pinned-}disk" "$rounds_disk" "$disk_dir" $pin
fi

if ! want fcopy; then
	:
elif [ "${BENCH_FCOPY:-1}" = 0 ]; then
	echo
	echo "bench: file copy skipped (BENCH_FCOPY=0)"
else
	echo
	if [ "$(stat -f -c %T "$BENCH_TMPDIR" 2>/dev/null)" != tmpfs ]; then
		echo "bench: file copy into $BENCH_TMPDIR, which is not a tmpfs"
	fi
	[ -x "$fcopy_ref" ] ||
		echo "bench: file copy: no reference $fcopy_ref: ours alone"
	[ -n "$pin" ] && fcopy pinned $pin
	fcopy unpinned
fi

if ! want vss; then
	:
elif [ "${BENCH_VSS:-1}" = 0 ]; then
	echo
	echo "bench: VSS skipped (BENCH_VSS=0)"
elif [ "$(id -u)" != 0 ]; then
	echo
	echo "bench: VSS skipped: needs root (zram, mounts, FIFREEZE)"
else
	# vss-bench says itself when zram or mkfs.ext4 is missing.
	echo
	vss
fi

if ! want footprint; then
	:
elif [ "${BENCH_FOOTPRINT:-1}" = 0 ]; then
	echo
	echo "bench: footprint skipped (BENCH_FOOTPRINT=0)"
else
	echo
	echo "bench: footprint, unpinned (as the daemons run in production):" \
		"${BENCH_FOOTPRINT_ROUNDS:-20} startups per daemon, then" \
		"${BENCH_IDLE_SECONDS:-60} s with every daemon idle at once"
	footprint
fi

json_str() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}
fragment() {
	if [ -s "$1" ]; then cat "$1"; else echo null; fi
}

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then dirty=true; else dirty=false; fi
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
{
	printf '{\n"name": %s,\n' "$(json_str "$name")"
	printf '"date": %s,\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
	printf '"git_commit": %s,\n"git_dirty": %s,\n' \
		"$(json_str "$commit")" "$dirty"
	printf '"machine": {"nproc": %s, "cpu_model": %s, "kernel": %s},\n' \
		"$(nproc)" "$(json_str "$cpu")" "$(json_str "$(uname -r)")"
	printf '"pinning": %s,\n' "$(json_str "${pin:+pinned runs: $pin for driver, simulator and daemon; }unpinned runs on all CPUs")"
	if [ -n "$refver" ]; then
		printf '"reference": %s,\n' "$(json_str "$ref ($refver)")"
	else
		printf '"reference": null,\n'
	fi
	printf '"wall_seconds": %s,\n' "$(($(date +%s) - start))"
	printf '"kvp": {\n"pinned": '
	fragment "$tmp.kvp-pinned.tmp"
	printf ',\n"unpinned": '
	fragment "$tmp.kvp-unpinned.tmp"
	printf ',\n"disk": '
	fragment "$tmp.kvp-${pin:+pinned-}disk.tmp"
	printf '},\n"uio": {\n"pinned": '
	fragment "$tmp.uio-pinned.tmp"
	printf ',\n"unpinned": '
	fragment "$tmp.uio-unpinned.tmp"
	printf '},\n"get_ip_info": {\n"pinned": '
	fragment "$tmp.ip-pinned.tmp"
	printf ',\n"unpinned": '
	fragment "$tmp.ip-unpinned.tmp"
	printf '},\n"fcopy": {\n"pinned": '
	fragment "$tmp.fcopy-pinned.tmp"
	printf ',\n"unpinned": '
	fragment "$tmp.fcopy-unpinned.tmp"
	printf '},\n"vss": '
	fragment "$tmp.vss.tmp"
	printf ',\n"footprint": '
	fragment "$tmp.footprint.tmp"
	printf '\n}\n'
} >"$out.tmp" && mv "$out.tmp" "$out"
rm -f "$tmp".*.tmp

echo
echo "bench: results in $out ($(($(date +%s) - start)) s)"
[ $status -eq 0 ] || echo "bench: some measurements failed (see above)" >&2
exit $status
