#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run test programs (arguments) and the scripts under tests/scripts/,
# each printing TAP, and end with one line: "N passed, N failed[, N skipped]".
# A program that crashes or exits non-zero without reporting a failing
# case counts as one failure. TEST_FILTER=regex limits what runs.
set -u
export HVIS_SRCDIR=${HVIS_SRCDIR:-$(pwd)}
export BUILD=${BUILD:-build}
export CMOCKA_MESSAGE_OUTPUT=TAP
timeout_s=${TEST_TIMEOUT:-900}
passed=0 failed=0 skipped=0
failures=()
logdir=$(mktemp -d /tmp/hvis-tests.XXXXXX)

run_one() {
	local t=$1 name out rc p f s
	name=${t#./}
	out=$logdir/$(echo "$name" | tr '/' '_').log
	if [[ -x $t && $t != *.sh ]]; then
		timeout -k 10 "$timeout_s" "$t" >"$out" 2>&1
	else
		timeout -k 10 "$timeout_s" bash "$t" >"$out" 2>&1
	fi
	rc=$?
	# TAP: "# SKIP" marks a skipped case; cmocka prints it as "not ok".
	p=$(grep -E '^ok [0-9]+' "$out" | grep -cvE '# (SKIP|skip)')
	s=$(grep -cE '^(not )?ok [0-9]+.*# (SKIP|skip)' "$out")
	f=$(grep -E '^not ok [0-9]+' "$out" | grep -cvE '# (SKIP|skip)')
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		f=1
		echo "# $name exited with status $rc" >>"$out"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	if [[ $f -gt 0 ]]; then
		failures+=("$name")
		printf 'FAIL %-50s %d passed, %d failed\n' "$name" "$p" "$f"
		sed -e 's/^/    /' "$out" | grep -vE '^    ok ' | tail -40
	else
		printf 'ok   %-50s %d passed%s\n' "$name" "$p" \
			"$([[ $s -gt 0 ]] && echo ", $s skipped")"
	fi
}

for t in "$@" tests/scripts/*.sh; do
	[[ -e $t ]] || continue
	if [[ -n ${TEST_FILTER:-} && ! $t =~ $TEST_FILTER ]]; then
		continue
	fi
	run_one "$t"
done

if [[ ${#failures[@]} -gt 0 ]]; then
	echo "failed: ${failures[*]} (logs in $logdir)"
else
	rm -rf "$logdir"
fi
if [[ $skipped -gt 0 ]]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[[ $failed -eq 0 ]]
