//! Inference time of the depthwise layers and of the convolutions that run
//! as a matrix product in
//! MobileNetV1-0.25 (96×96×3) and DS-CNN (1×49×10), at batch 1: µs per call
//! (the fastest of 25 windows of 0.01 s) and GFLOP/s (2 per multiply-add), to
//! compare with the machine's fused multiply-add peak.
//!
//! ```text
//! cargo run --release -p lenet-runtime --example bench_conv_gemm [FILTER]
//! ```
//!
//! With `FILTER`, only the layers whose name contains it.

use std::hint::black_box;
use std::time::Instant;

use lenet_runtime::ops::{Clamp, DepthwiseConv2dLayer, GemmConv2dLayer, Layer};

fn rng_vec(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect()
}

/// The fastest µs per call of `f` over 25 windows of 0.01 s: the kernel's
/// own speed, whatever else the machine runs meanwhile.
fn time(f: &mut dyn FnMut()) -> f64 {
    (0..25)
        .map(|_| {
            let start = Instant::now();
            let mut calls = 0u64;
            loop {
                f();
                calls += 1;
                let t = start.elapsed().as_secs_f64();
                if t >= 0.01 {
                    break t / calls as f64 * 1e6;
                }
            }
        })
        .fold(f64::INFINITY, f64::min)
}

fn layer<L: Layer>(name: &str, macs: usize) {
    if std::env::args().nth(1).is_some_and(|f| !name.contains(&f)) {
        return;
    }
    let (w, b, x) = (
        rng_vec(L::WEIGHTS, 1),
        rng_vec(L::BIASES, 2),
        rng_vec(L::IN, 3),
    );
    let mut y = vec![0.0; L::OUT];
    let us = time(&mut || L::forward(black_box(&w), &b, black_box(&x), &mut y));
    println!(
        "{name:<28} {us:>9.2} µs  {:>6.1} GFLOP/s",
        2.0 * macs as f64 / us / 1e3
    );
}

/// A depthwise layer's inference (`forward_fused`, with neither batch norm
/// nor clamp).
fn depthwise<const C: usize, const H: usize, const W: usize>(name: &str) {
    if std::env::args().nth(1).is_some_and(|f| !name.contains(&f)) {
        return;
    }
    type L<const C: usize, const H: usize, const W: usize> =
        DepthwiseConv2dLayer<C, 1, 3, 3, 1, 1, 1, 1, 1, 1, false, H, W, H, W>;
    let (w, x) = (rng_vec(C * 9, 1), rng_vec(C * H * W, 3));
    let mut y = vec![0.0; C * H * W];
    let us = time(&mut || {
        L::<C, H, W>::forward_fused(black_box(&w), &[], None, Clamp::None, black_box(&x), &mut y)
    });
    let macs = C * H * W * 9;
    println!(
        "{name:<28} {us:>9.2} µs  {:>6.1} GFLOP/s",
        2.0 * macs as f64 / us / 1e3
    );
}

fn main() {
    depthwise::<64, 25, 5>("ds-cnn dw 64 25×5");
    depthwise::<8, 48, 48>("mobilenet dw1 8 48×48");
    depthwise::<32, 24, 24>("mobilenet dw3 32 24×24");
    depthwise::<128, 6, 6>("mobilenet dw7 128 6×6");
    depthwise::<256, 3, 3>("mobilenet dw13 256 3×3");
    layer::<GemmConv2dLayer<3, 8, 3, 3, 2, 2, 1, 1, 1, 1, false, 96, 96, 48, 48>>(
        "mobilenet conv1 3→8 s2",
        8 * 27 * 48 * 48,
    );
    layer::<GemmConv2dLayer<8, 16, 1, 1, 1, 1, 0, 0, 1, 1, false, 48, 48, 48, 48>>(
        "mobilenet pw1 8→16 48×48",
        16 * 8 * 48 * 48,
    );
    layer::<GemmConv2dLayer<32, 32, 1, 1, 1, 1, 0, 0, 1, 1, false, 24, 24, 24, 24>>(
        "mobilenet pw3 32→32 24×24",
        32 * 32 * 24 * 24,
    );
    layer::<GemmConv2dLayer<64, 64, 1, 1, 1, 1, 0, 0, 1, 1, false, 12, 12, 12, 12>>(
        "mobilenet pw5 64→64 12×12",
        64 * 64 * 144,
    );
    layer::<GemmConv2dLayer<128, 128, 1, 1, 1, 1, 0, 0, 1, 1, false, 6, 6, 6, 6>>(
        "mobilenet pw7 128→128 6×6",
        128 * 128 * 36,
    );
    layer::<GemmConv2dLayer<256, 256, 1, 1, 1, 1, 0, 0, 1, 1, false, 3, 3, 3, 3>>(
        "mobilenet pw13 256→256 3×3",
        256 * 256 * 9,
    );
    layer::<GemmConv2dLayer<1, 64, 10, 4, 2, 2, 5, 1, 1, 1, true, 49, 10, 25, 5>>(
        "ds-cnn conv1 1→64 10×4 s2",
        64 * 40 * 125,
    );
    layer::<GemmConv2dLayer<64, 64, 1, 1, 1, 1, 0, 0, 1, 1, true, 25, 5, 25, 5>>(
        "ds-cnn pw 64→64 25×5",
        64 * 64 * 125,
    );
}
