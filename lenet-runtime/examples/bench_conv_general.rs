//! Forward and backward time of the depthwise layers of MobileNetV1-0.25
//! (96×96×3) and DS-CNN (1×49×10), and of DS-CNN's first convolution, at
//! batch 1 and 64, and the depthwise inference of both as the networks run
//! it (batch norm and `relu` in the store, `forward_fused`): µs per call,
//! the median of 5 windows of 0.05 s each.
//!
//! ```text
//! cargo run --release -p lenet-runtime --example bench_conv_general [FILTER]
//! ```

use std::hint::black_box;
use std::time::Instant;

use lenet_runtime::ops::{Clamp, DepthwiseConv2dLayer, EvalNorm, GroupedConv2dLayer, Layer};

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

/// Median µs per call of `f` over 5 windows of 0.05 s.
fn time(f: &mut dyn FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let mut calls = 0u64;
            loop {
                f();
                calls += 1;
                let t = start.elapsed().as_secs_f64();
                if t >= 0.05 {
                    break t / calls as f64 * 1e6;
                }
            }
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[2]
}

/// Prints forward and backward µs of layer `L` at batch 1 and 64; returns
/// the forward µs at batch 1 and 64.
fn layer<L: Layer>(name: &str, filter: &str) -> (f64, f64) {
    if !name.contains(filter) {
        return (0.0, 0.0);
    }
    let mut fwd = [0.0; 2];
    for (k, n) in [1usize, 64].into_iter().enumerate() {
        let w = rng_vec(L::WEIGHTS, 1);
        let b = rng_vec(L::BIASES, 2);
        let x = rng_vec(n * L::IN, 3);
        let dy = rng_vec(n * L::OUT, 4);
        let mut y = vec![0.0; n * L::OUT];
        let mut dx = vec![0.0; n * L::IN];
        let (mut dw, mut db) = (vec![0.0; L::WEIGHTS], vec![0.0; L::BIASES]);
        let f = time(&mut || L::forward(black_box(&w), &b, black_box(&x), black_box(&mut y)));
        let bw = time(&mut || {
            L::backward(
                &w,
                black_box(&x),
                &y,
                black_box(&dy),
                Some(&mut dx),
                &mut dw,
                &mut db,
            )
        });
        println!("{name:<28} n={n:<3} forward {f:>10.2} µs  backward {bw:>10.2} µs");
        fwd[k] = f;
    }
    (fwd[0], fwd[1])
}

/// Prints the forward µs at batch 1 of depthwise layer `L` as a network runs
/// it, `run(w, norm, x, y)` being its `forward_fused` with the batch norm
/// and `relu` applied in the store.
fn fused<L: Layer>(
    name: &str,
    filter: &str,
    channels: usize,
    run: impl Fn(&[f32], EvalNorm<'_>, &[f32], &mut [f32]),
) {
    if !name.contains(filter) {
        return;
    }
    let (w, x) = (rng_vec(L::WEIGHTS, 1), rng_vec(L::IN, 3));
    let (gamma, beta, mean) = (
        rng_vec(channels, 5),
        rng_vec(channels, 6),
        rng_vec(channels, 7),
    );
    let var: Vec<f32> = rng_vec(channels, 8).iter().map(|v| v + 1.0).collect();
    let norm = EvalNorm {
        gamma: &gamma,
        beta: &beta,
        running_mean: &mean,
        running_var: &var,
        eps: 1e-5,
    };
    let mut y = vec![0.0; L::OUT];
    let t = time(&mut || run(&w, norm, black_box(&x), &mut y));
    println!("{name:<28} n=1   forward {t:>10.2} µs");
}

type Dw<const C: usize, const S: usize, const H: usize, const HO: usize> =
    DepthwiseConv2dLayer<C, 1, 3, 3, S, S, 1, 1, 1, 1, false, H, H, HO, HO>;

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let f = filter.as_str();
    let mut mb = (0.0, 0.0);
    let mut add = |t: (f64, f64), times: f64| {
        mb.0 += t.0 * times;
        mb.1 += t.1 * times;
    };
    add(
        layer::<Dw<8, 1, 48, 48>>("mobilenet dw1 8x48x48 s1", f),
        1.0,
    );
    add(
        layer::<Dw<16, 2, 48, 24>>("mobilenet dw2 16x48x48 s2", f),
        1.0,
    );
    add(
        layer::<Dw<32, 1, 24, 24>>("mobilenet dw3 32x24x24 s1", f),
        1.0,
    );
    add(
        layer::<Dw<32, 2, 24, 12>>("mobilenet dw4 32x24x24 s2", f),
        1.0,
    );
    add(
        layer::<Dw<64, 1, 12, 12>>("mobilenet dw5 64x12x12 s1", f),
        1.0,
    );
    add(
        layer::<Dw<64, 2, 12, 6>>("mobilenet dw6 64x12x12 s2", f),
        1.0,
    );
    add(
        layer::<Dw<128, 1, 6, 6>>("mobilenet dw7-11 128x6x6 s1", f),
        5.0,
    );
    add(
        layer::<Dw<128, 2, 6, 3>>("mobilenet dw12 128x6x6 s2", f),
        1.0,
    );
    add(
        layer::<Dw<256, 1, 3, 3>>("mobilenet dw13 256x3x3 s1", f),
        1.0,
    );
    let dw = layer::<DepthwiseConv2dLayer<64, 1, 3, 3, 1, 1, 1, 1, 1, 1, true, 25, 5, 25, 5>>(
        "ds-cnn dw1-4 64x25x5",
        f,
    );
    type DsDw = DepthwiseConv2dLayer<64, 1, 3, 3, 1, 1, 1, 1, 1, 1, false, 25, 5, 25, 5>;
    fused::<DsDw>("ds-cnn dw fused 64x25x5", f, 64, |w, n, x, y| {
        DsDw::forward_fused(w, &[], Some(n), Clamp::Relu, x, y)
    });
    fused::<Dw<8, 1, 48, 48>>("mobilenet dw1 fused 8x48x48", f, 8, |w, n, x, y| {
        Dw::<8, 1, 48, 48>::forward_fused(w, &[], Some(n), Clamp::Relu, x, y)
    });
    fused::<Dw<32, 1, 24, 24>>("mobilenet dw3 fused 32x24x24", f, 32, |w, n, x, y| {
        Dw::<32, 1, 24, 24>::forward_fused(w, &[], Some(n), Clamp::Relu, x, y)
    });
    fused::<Dw<128, 1, 6, 6>>("mobilenet dw7 fused 128x6x6", f, 128, |w, n, x, y| {
        Dw::<128, 1, 6, 6>::forward_fused(w, &[], Some(n), Clamp::Relu, x, y)
    });
    fused::<Dw<16, 2, 48, 24>>("mobilenet dw2 fused s2 16x48x48", f, 16, |w, n, x, y| {
        Dw::<16, 2, 48, 24>::forward_fused(w, &[], Some(n), Clamp::Relu, x, y)
    });
    fused::<Dw<32, 2, 24, 12>>("mobilenet dw4 fused s2 32x24x24", f, 32, |w, n, x, y| {
        Dw::<32, 2, 24, 12>::forward_fused(w, &[], Some(n), Clamp::Relu, x, y)
    });
    fused::<Dw<64, 2, 12, 6>>("mobilenet dw6 fused s2 64x12x12", f, 64, |w, n, x, y| {
        Dw::<64, 2, 12, 6>::forward_fused(w, &[], Some(n), Clamp::Relu, x, y)
    });
    fused::<Dw<128, 2, 6, 3>>("mobilenet dw12 fused s2 128x6x6", f, 128, |w, n, x, y| {
        Dw::<128, 2, 6, 3>::forward_fused(w, &[], Some(n), Clamp::Relu, x, y)
    });
    let c1 = layer::<GroupedConv2dLayer<1, 64, 10, 4, 2, 2, 5, 1, 1, 1, 1, true, 49, 10, 25, 5>>(
        "ds-cnn conv1 1->64 10x4 s2",
        f,
    );
    println!(
        "sum of forward µs: mobilenet depthwise {:.1} (n=1) {:.1} (n=64); ds-cnn conv1 + 4 dw {:.1} (n=1) {:.1} (n=64)",
        mb.0,
        mb.1,
        c1.0 + 4.0 * dw.0,
        c1.1 + 4.0 * dw.1
    );
}
