#!/usr/bin/env bash
# Release-build cost of a network declaration: a one-file program that
# builds a network, runs `forward`, `forward_batch` and one training step,
# built in release with no declaration, with LeNet-5's (the first
# edition's layers), with DS-CNN's and with MobileNetV1-0.25's
# (tests/small_cnns/mod.rs). lenet and the other
# dependencies are built once beforehand (in the repository's target
# directory, so a release build of lenet is reused); each figure is the
# median of ROUNDS rebuilds of the program alone, and the cost of a
# declaration is its figure minus the figure without one.
#
# Usage: bench/compile_cost.sh [ROUNDS]   (default 3)
set -euo pipefail

ROUNDS=${1:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

mkdir -p "$WORK/src"
cat >"$WORK/Cargo.toml" <<TOML
[package]
name = "compile-cost"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
lenet = { path = "$ROOT", default-features = false, features = ["std"] }
ndarray = "0.16"

[profile.release]
debug = false
codegen-units = 16

[workspace]
TOML
cp "$ROOT/Cargo.lock" "$WORK/Cargo.lock"

# The N-th `lenet::network! { … }` of tests/small_cnns/mod.rs.
declaration() {
    awk -v n="$1" '/^lenet::network! \{/ { k++ } k == n { print } k == n && /^\}/ { exit }' \
        "$ROOT/tests/small_cnns/mod.rs"
}

# A program over network $1, declared by the text on stdin.
program() {
    cat
    cat <<RUST

fn main() {
    let mut net = $1::new(0);
    let x = vec![0.5f32; $1::INPUT_LEN];
    let y = net.forward(x.as_slice().try_into().unwrap());
    let [c, h, w] = $1::INPUT_SHAPE;
    let images = ndarray::Array4::from_elem((4, c, h, w), 0.5f32);
    let batch = net.forward_batch(images.view()).unwrap();
    let (loss, grads) = net.loss_and_grad(images.view(), &[0, 1, 0, 1]).unwrap();
    lenet::optim::Sgd::new(0.01).step(&mut net, &grads);
    println!("{} {} {loss}", y[0], batch[[0, 0]]);
}
RUST
}

lenet5() {
    cat <<'RUST'
lenet::network! {
    struct LeNet5 {
        input: [1, 32, 32],
        conv1: Conv2d(1, 6, 5),
        relu,
        pool1: AvgPool2d(2, 2),
        conv2: Conv2d(6, 16, 5),
        relu,
        pool2: AvgPool2d(2, 2),
        flatten,
        fc1: Linear(16 * 5 * 5, 120),
        relu,
        fc2: Linear(120, 84),
        relu,
        fc3: Linear(84, 10),
    }
}
RUST
}

write_variant() {
    case $1 in
    none) printf 'fn main() {\n    println!("{}", std::hint::black_box(std::mem::size_of::<lenet::LayerInfo>()));\n}\n' ;;
    lenet5) lenet5 | program LeNet5 ;;
    ds_cnn) declaration 1 | program DsCnn ;;
    mobilenet_v1_025) declaration 2 | program MobileNetV1 ;;
    esac >"$WORK/src/main.rs"
}

seconds() {
    local start end
    touch "$WORK/src/main.rs"
    start=$(date +%s.%N)
    cargo build --release --quiet --manifest-path "$WORK/Cargo.toml"
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

write_variant mobilenet_v1_025
cargo build --release --quiet --manifest-path "$WORK/Cargo.toml"

declare -A MEDIAN
for variant in none lenet5 ds_cnn mobilenet_v1_025; do
    write_variant "$variant"
    times=()
    for _ in $(seq "$ROUNDS"); do
        times+=("$(seconds)")
    done
    MEDIAN[$variant]=$(printf '%s\n' "${times[@]}" | median)
    printf '%-17s release build of the program: median %6.2f s (rounds: %s)\n' \
        "$variant" "${MEDIAN[$variant]}" "${times[*]}"
done
for variant in lenet5 ds_cnn mobilenet_v1_025; do
    printf '%-17s declaration costs %.2f s of release build\n' "$variant" \
        "$(echo "${MEDIAN[$variant]} - ${MEDIAN[none]}" | bc)"
done
