#!/usr/bin/env bash
# Builds the fuzz targets of fuzz/ (cargo-fuzz, libFuzzer, nightly, with
# AddressSanitizer and debug assertions) and runs each for SECONDS (default
# 60), one after another, one libFuzzer job each. Prints, per target, the
# seconds run, the inputs executed, the corpus size and whether anything was
# found; exits non-zero if a target crashed, leaked, timed out or ran out of
# memory (the input is in fuzz/artifacts/<target>/, the log in fuzz/logs/).
#
#   scripts/fuzz.sh [SECONDS]          all targets
#   FUZZ_TARGETS="idx" scripts/fuzz.sh 600
#
# The corpus of each target lives in fuzz/corpus/<target>/ (not committed),
# seeded from fuzz/seeds/<target>/ (made by fuzz/make_seeds.py) and, for
# the safetensors loader, the LeNet-5 weights PyTorch wrote for the tests.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
targets=${FUZZ_TARGETS:-safetensors idx macro_entry}

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo +nightly install cargo-fuzz --locked" >&2
    exit 2
fi

# Per target: longest input, and anything else libFuzzer should know.
options() {
    case $1 in
        # The LeNet-5 seed is 247,560 bytes.
        safetensors) echo "-max_len=262144" ;;
        # A gzip file of 16 KiB may announce (and hold) 16 MiB: far below the cap.
        idx) echo "-max_len=16384 -malloc_limit_mb=256" ;;
        macro_entry) echo "-max_len=4096" ;;
        *) echo "no options for fuzz target $1" >&2; exit 2 ;;
    esac
}

echo "== building the fuzz targets"
cargo +nightly fuzz build -O -a || exit 2

mkdir -p fuzz/logs
status=0
printf '%-12s %8s %14s %8s  %s\n' target seconds executions corpus found
for t in $targets; do
    corpus=fuzz/corpus/$t
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    cp -n fuzz/seeds/"$t"/* "$corpus"/
    if [ "$t" = safetensors ]; then
        cp -n tests/fixtures/lenet5_avg.weights.safetensors "$corpus"/lenet5-pytorch
    fi
    log=fuzz/logs/$t.log
    before=$(find "fuzz/artifacts/$t" -type f | wc -l)
    start=$(date +%s)
    # shellcheck disable=SC2046
    cargo +nightly fuzz run -O -a "$t" "$corpus" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 $(options "$t") \
        >"$log" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    size=$(find "$corpus" -type f | wc -l)
    after=$(find "fuzz/artifacts/$t" -type f | wc -l)
    if [ "$rc" -eq 0 ] && [ "$after" -eq "$before" ]; then
        found=nothing
    else
        found="FOUND (exit $rc; see $log and fuzz/artifacts/$t/)"
        status=1
    fi
    printf '%-12s %8s %14s %8s  %s\n' "$t" "$took" "${execs:-?}" "$size" "$found"
done
exit $status
