#!/usr/bin/env bash
# LeNet-5 on a Cortex-M4F under QEMU, checked against the host.
#
# 1. Installs what is missing: Debian's rustc-web, cargo-web and
#    rust-web-src (a compiler that builds `core` for thumbv7em-none-eabihf
#    with -Zbuild-std), gcc-arm-none-eabi's binutils (GNU ld links) and
#    qemu-system-arm (MPS2-AN386, a Cortex-M4). Crates come from crates.io
#    through cargo, as pinned by examples/cortex-m4/Cargo.lock.
# 2. Builds the firmware (examples/cortex-m4/) and runs it under QEMU with
#    semihosting and -icount shift=0 (one instruction per virtual
#    nanosecond, which SysTick counts).
# 3. Checks that a weights blob with a NaN, or too short, is reported and
#    fails the run.
# 4. Classifies the same digits on the host (examples/cortex-m4-host.rs) and
#    compares: labels, predicted classes, logits within 1e-4 relative.
#
# Ends with one line:
#   cortex-m4: A/B digits agree with the host, accuracy X %, I instructions per inference, flash F bytes, RAM R bytes
# and exits non-zero if any digit disagrees.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FW=$ROOT/examples/cortex-m4
OUT=$FW/target/report
DIGITS=256

say() { echo "cortex-m4.sh: $*" >&2; }

# --- 1. tools -------------------------------------------------------------
PACKAGES=(rustc-web cargo-web rust-web-src gcc-arm-none-eabi binutils-arm-none-eabi qemu-system-arm)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    SUDO=()
    [[ $(id -u) == 0 ]] || SUDO=(sudo)
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's web toolchain, whatever rustup puts first on PATH.
RUSTC_WEB=$(dpkg -L rustc-web | grep -m1 '/bin/rustc$')
CARGO_WEB=$(dpkg -L cargo-web | grep -m1 '/bin/cargo$')
RUSTDOC_WEB=$(dpkg -L rustc-web | grep -m1 '/bin/rustdoc$')
say "firmware toolchain: $("$RUSTC_WEB" --version), $(qemu-system-arm --version | head -1)"

# --- 2. firmware ------------------------------------------------------------
build_firmware() { # [weights blob]
    (cd "$FW" && env RUSTC="$RUSTC_WEB" RUSTDOC="$RUSTDOC_WEB" RUSTC_BOOTSTRAP=1 \
        LENET_FW_WEIGHTS="${1:-}" \
        "$CARGO_WEB" build --release --locked --quiet)
}
run_firmware() { # elf log
    timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native -icount shift=0 -kernel "$1" >"$2"
}
ELF_BUILT=$FW/target/thumbv7em-none-eabihf/release/lenet-cortex-m4
mkdir -p "$OUT"

say "building the firmware"
build_firmware
cp "$ELF_BUILT" "$OUT/lenet-cortex-m4.elf"
ELF=$OUT/lenet-cortex-m4.elf

say "running it under QEMU (mps2-an386, -icount shift=0)"
if ! run_firmware "$ELF" "$OUT/firmware.txt"; then
    cat "$OUT/firmware.txt" >&2
    say "the firmware failed"
    exit 1
fi

# --- 3. a bad weights blob is a reported error and a failing exit ------------
refuse() { # blob, the report expected
    build_firmware "$1"
    if run_firmware "$ELF_BUILT" "$1.txt"; then
        cat "$1.txt" >&2
        say "the firmware accepted a bad weights blob ($1)"
        exit 1
    fi
    grep -q "^$2" "$1.txt" || {
        cat "$1.txt" >&2
        say "the firmware failed without the expected report: $2"
        exit 1
    }
    say "refused, as it should: $(grep '^error:' "$1.txt")"
}
say "checking that bad weights blobs are refused"
GOOD=$ROOT/examples/weights/lenet5-mnist10k.le
cp "$GOOD" "$OUT/nan.le"
printf '\x00\x00\xc0\x7f' | dd of="$OUT/nan.le" bs=4 seek=1000 conv=notrunc status=none # parameter 1000 := NaN
refuse "$OUT/nan.le" 'error: weights: parameter 1000 (conv2.weight) is not a finite number'
head -c 1000 "$GOOD" >"$OUT/short.le"
refuse "$OUT/short.le" 'error: weights: 1000 bytes, LeNet5 needs 246824'

# --- 4. sizes, the host's view, the comparison ---------------------------------
# Flash: what is loaded (vectors, code, read-only data, .data's initial
# values); RAM: .data, .bss and .uninit, plus the stack's high-water mark
# the firmware measures.
read -r FLASH STATICS < <(arm-none-eabi-size -A "$ELF" | awk '
    $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" { f += $2 }
    $1 == ".data" { f += $2; r += $2 }
    $1 == ".bss" || $1 == ".uninit" { r += $2 }
    END { print f, r }')
sym() { echo $((16#$(arm-none-eabi-nm -S -C "$ELF" | awk -v s="$1" '$4 == s { print $2 }'))); }
WEIGHTS=$(sym lenet_cortex_m4::WEIGHTS)
PIXELS=$(sym lenet_cortex_m4::digits::PIXELS)
LABELS=$(sym lenet_cortex_m4::digits::LABELS)
CODE=$(arm-none-eabi-size -A "$ELF" | awk '$1 == ".vector_table" || $1 == ".text" { c += $2 } END { print c }')
say "flash $FLASH bytes: weights $WEIGHTS, digits $((PIXELS + LABELS)), code $CODE (.vector_table + .text), other read-only data $((FLASH - WEIGHTS - PIXELS - LABELS - CODE)); statics in RAM $STATICS bytes"

say "classifying the same $DIGITS digits on the host"
host() { cargo run --quiet --profile test --example cortex-m4-host -- "$@"; }
LENET_FORCE_SCALAR=1 host predict "$DIGITS" >"$OUT/host-portable.txt"
host diff "$OUT/host-portable.txt" "$OUT/firmware.txt" || true # the target's own kernels, for information
host predict "$DIGITS" >"$OUT/host.txt"                         # the host's SIMD kernels: the check
host compare "$OUT/host.txt" "$OUT/firmware.txt" \
    --flash "$FLASH" --statics "$STATICS"
