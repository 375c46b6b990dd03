#!/usr/bin/env bash
# Runs the kernel tests (lenet-runtime's unit tests) and fails unless they
# exercised every instruction-set level this machine supports.
#
# Each kernel test suite prints, once per operation,
#   kernel levels exercised by OP: avx512f avx2+fma scalar
# with the levels from run-time CPU detection. The levels the machine has
# are read here independently from /proc/cpuinfo: `scalar` always,
# `avx2+fma` with the avx2 and fma flags, `avx512f` with the avx512f flag.
# A supported level missing from any operation's line (or an operation
# missing altogether) fails the check.
set -euo pipefail
cd "$(dirname "$0")/.."

ops=(conv2d linear relu avg_pool2d max_pool2d "conv2d + relu" "linear + relu" "conv2d + relu + pool" "every layer (finite differences)")

expected=(scalar)
if [[ -r /proc/cpuinfo ]]; then
    flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
    has() { [[ " $flags " == *" $1 "* ]]; }
    if has avx2 && has fma; then expected+=("avx2+fma"); fi
    if has avx512f; then expected+=("avx512f"); fi
fi
echo "levels this machine supports: ${expected[*]}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --test-threads=1 is not needed: each operation reports once, whatever the
# order. The output is kept for the failure message.
cargo test -p lenet-runtime --lib -- --nocapture "$@" 2>&1 | tee "$log" | grep '^kernel levels exercised' || true
if ! grep -q '^test result: ok' "$log"; then
    echo "check-isa-levels: the kernel tests failed" >&2
    tail -n 40 "$log" >&2
    exit 1
fi

status=0
for op in "${ops[@]}"; do
    line=$(grep -m1 -F "kernel levels exercised by $op: " "$log" || true)
    if [[ -z "$line" ]]; then
        echo "check-isa-levels: no levels reported for $op" >&2
        status=1
        continue
    fi
    ran=" ${line#*: } "
    for level in "${expected[@]}"; do
        if [[ "$ran" != *" $level "* ]]; then
            echo "check-isa-levels: $op did not run $level, which this machine supports" >&2
            status=1
        fi
    done
done
if [[ $status -eq 0 ]]; then
    echo "check-isa-levels: every operation ran every supported level (${expected[*]})"
fi
exit $status
