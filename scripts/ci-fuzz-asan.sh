#!/usr/bin/env bash
# CI on nightly: every fuzz target for a bounded time, then the runtime's
# kernel and layer tests under AddressSanitizer. Called by .ci/run; about
# ten minutes on two cores once the build directories are warm.
#
#   FUZZ_SECONDS   seconds per fuzz target (default 45)
#
# The sanitizer build has a target directory of its own (target/asan), and
# names the host target explicitly so that RUSTFLAGS reach the tests but
# not the build scripts and proc macros. Nightly here has no rust-src, so
# the standard library is not rebuilt with the sanitizer (no -Zbuild-std):
# ASan checks lenet's own code and its dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds=${FUZZ_SECONDS:-45}
host=x86_64-unknown-linux-gnu

echo "== nightly toolchain"
cargo +nightly --version

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo +nightly install cargo-fuzz --locked
fi

echo "== fuzzing, ${fuzz_seconds} s per target"
scripts/fuzz.sh "$fuzz_seconds"

# The runtime's unit tests hold every operation's kernel and layer tests
# (lenet-runtime/src/ops/<op>/tests.rs, ops/gradcheck.rs); the new
# operations' PyTorch check is tests/newops.rs. They run at the SIMD level
# the CPU runs and on the scalar path.
kernel_tests=(--test newops)
asan() {
    RUSTFLAGS="-Zsanitizer=address" RUSTDOCFLAGS="-Zsanitizer=address" \
        ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" \
        CARGO_TARGET_DIR=target/asan \
        cargo +nightly test --target "$host" -p lenet-runtime --lib "${kernel_tests[@]}" "$@"
}
echo "== kernel and layer tests under AddressSanitizer (${kernel_tests[*]})"
asan
echo "== the same with the scalar kernels forced"
LENET_FORCE_SCALAR=1 asan
