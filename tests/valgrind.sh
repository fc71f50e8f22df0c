#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make valgrind: run the integration tests (the programs given) with every
# daemon they start under valgrind's memcheck (HVIS_DAEMON_WRAPPER, see
# tests/daemon-spawn.h), their timeouts scaled (HVIS_TIMEOUT_FACTOR), then
# go through memcheck's log of each daemon process: any error, or a leak
# that is definitely lost, fails the run. A daemon a test kills with
# SIGKILL leaves no leak summary; its errors up to then are still logged.
# TEST_FILTER narrows the programs as for make check.
set -u
if [[ ${SANITIZE:-0} == 1 ]]; then
	echo "valgrind: build without SANITIZE=1 (ASan and memcheck exclude each other)"
	exit 2
fi
if ! command -v valgrind >/dev/null; then
	echo "valgrind: not installed (make deps installs it)"
	exit 2
fi
BUILD=${BUILD:-build}
logs=$(mktemp -d /tmp/hvis-valgrind.XXXXXX)
export HVIS_DAEMON_WRAPPER="valgrind --tool=memcheck --leak-check=full \
--show-leak-kinds=definite --errors-for-leak-kinds=definite \
--error-exitcode=99 --child-silent-after-fork=yes \
--suppressions=$PWD/tests/valgrind.supp --log-file=$logs/vg.%p.log"
export HVIS_TIMEOUT_FACTOR=${HVIS_TIMEOUT_FACTOR:-20}
export TEST_TIMEOUT=${TEST_TIMEOUT:-7200}
export TEST_FILTER=${TEST_FILTER:-^$BUILD/tests/test-}

start=$(date +%s)
tests/run-tests.sh "$@"
rc=$?

bad=0 runs=0 unfinished=0
for log in "$logs"/vg.*.log; do
	[[ -e $log ]] || continue
	runs=$((runs + 1))
	cmd=$(sed -n 's/^==[0-9]*== Command: //p' "$log" | head -n 1)
	if ! grep -q 'ERROR SUMMARY:' "$log"; then
		unfinished=$((unfinished + 1))
	fi
	# Errors as they happened, and the summary when there is one.
	if grep -qE '== (Invalid|Conditional jump|Use of uninitialised|Syscall param|Mismatched|Source and destination overlap|Argument .* of function)' "$log" ||
		grep -qE 'ERROR SUMMARY: [1-9]' "$log" ||
		grep -qE 'definitely lost: [1-9]' "$log"; then
		bad=$((bad + 1))
		echo "memcheck: $cmd"
		sed -e 's/^/    /' "$log" | grep -vE '^    ==[0-9]+== *$' | head -60
	fi
done
where="logs in $logs"
if [[ $rc -eq 0 && $bad -eq 0 ]]; then
	rm -rf "$logs"
	where="logs removed"
fi
echo "valgrind: $runs daemon runs, $bad with errors or definite leaks," \
	"$unfinished killed before their summary; $(($(date +%s) - start)) s" \
	"($where)"
[[ $rc -eq 0 && $bad -eq 0 ]]
