#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build every libFuzzer target (clang, ASan+UBSan) and run each for
# FUZZ_SECONDS over a scratch copy of its seed corpus, FUZZ_JOBS at a
# time. A crash fails the run and leaves the reproducer in build-fuzz/.
# Called by 'make fuzz' with the module source lists in the environment.
set -u
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-$(nproc)}
out=build-fuzz
mkdir -p "$out"
cflags="-std=gnu11 -O1 -g -Iinclude -Itests -D_GNU_SOURCE $PKG_CFLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"

sources_for() {
	case $(dirname "$1") in
	lib) echo "$LIB_SRCS" ;;
	tests/hvsim) echo "$HVSIM_SRCS" ;;
	kvp) echo "$kvp_SRCS $LIB_SRCS" ;;
	fcopy) echo "$fcopy_SRCS $LIB_SRCS" ;;
	vss) echo "$vss_SRCS $LIB_SRCS" ;;
	shutdown) echo "$shutdown_SRCS $LIB_SRCS" ;;
	esac
}

targets=()
for f in $FUZZ_SRCS; do
	n=$(basename "$f" .c)
	# shellcheck disable=SC2046
	if ! clang $cflags -o "$out/$n" "$f" $(sources_for "$f") $PKG_LIBS -pthread; then
		echo "fuzz: $n does not build" >&2
		exit 1
	fi
	targets+=("$n")
done

run_one() {
	local n=$1 corpus=$out/corpus-$1
	rm -rf "$corpus" && mkdir -p "$corpus"
	cp tests/fuzz/corpus/"$n"/* "$corpus"/ 2>/dev/null
	(cd "$out" && "./$n" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$n-" "corpus-$n" >"$n.log" 2>&1)
	local rc=$?
	local execs
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$n.log")
	if [[ $rc -eq 0 ]]; then
		echo "fuzz: $n: ${execs:-?} executions in ${secs}s, no crash"
	else
		echo "fuzz: $n: FAILED (see $out/$n.log)"
		grep -E 'ERROR|SUMMARY' "$out/$n.log" | head -5
	fi
	return $rc
}
export -f run_one
export out secs

printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'
