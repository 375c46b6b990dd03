//! LeNet-5 (32×32) throughput: every layer's kernels at the sizes LeNet-5
//! gives them, then the whole network on 1 and 2 threads: batch-1 latency,
//! batch-256 inference, training at batch 64 (forward, backward, SGD step).
//! Prints numbers; asserts nothing. `cargo bench --bench throughput`.

use std::hint::black_box;
use std::time::Instant;

use lenet_runtime::ops::{AvgPool2dLayer, Conv2dLayer, Layer, LinearLayer, ReluLayer};
use lenet_runtime::simd;

type C1 = Conv2dLayer<1, 6, 5, 1, 0, 32, 32, 28, 28>;
type R1 = ReluLayer<4704>;
type P1 = AvgPool2dLayer<6, 2, 2, 28, 28, 14, 14>;
type C2 = Conv2dLayer<6, 16, 5, 1, 0, 14, 14, 10, 10>;
type R2 = ReluLayer<1600>;
type P2 = AvgPool2dLayer<16, 2, 2, 10, 10, 5, 5>;
type L1 = LinearLayer<400, 120>;
type R3 = ReluLayer<120>;
type L2 = LinearLayer<120, 84>;
type R4 = ReluLayer<84>;
type L3 = LinearLayer<84, 10>;

/// Forward FLOPs of one image (multiply-adds count 2).
const FORWARD_FLOP: f64 =
    2.0 * (6.0 * 784.0 * 25.0 + 16.0 * 100.0 * 150.0 + 400.0 * 120.0 + 120.0 * 84.0 + 84.0 * 10.0);
/// Training FLOPs of one image: forward, the weight gradients, and the
/// input gradients of every layer but the first.
const TRAIN_FLOP: f64 = FORWARD_FLOP * 3.0 - 2.0 * 6.0 * 784.0 * 25.0;

/// Seconds per call of `f`: the best of seven rounds of at least 50 ms by
/// the wall clock (nanosecond resolution; the best round is the one least
/// disturbed by other processes).
fn time(f: &mut dyn FnMut()) -> f64 {
    let clock = Instant::now();
    let now = || clock.elapsed().as_secs_f64();
    f();
    let mut iters = 1u64;
    loop {
        let t = now();
        for _ in 0..iters {
            f();
        }
        if now() - t > 0.05 {
            break;
        }
        iters *= 2;
    }
    let mut best = f64::INFINITY;
    for _ in 0..7 {
        let t = now();
        for _ in 0..iters {
            f();
        }
        best = best.min((now() - t) / iters as f64);
    }
    best
}

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

/// One layer at LeNet-5's sizes: forward, and backward with `dx` when the
/// layer is not the first.
fn layer<L: Layer>(name: &str, n: usize, flop: f64, with_dx: bool) {
    let w = rng_vec(L::WEIGHTS, 1);
    let b = rng_vec(L::BIASES, 2);
    let x = rng_vec(n * L::IN, 3);
    let mut y = vec![0.0; n * L::OUT];
    let dy = rng_vec(n * L::OUT, 4);
    let (mut dw, mut db, mut dx) = (
        vec![0.0; L::WEIGHTS],
        vec![0.0; L::BIASES],
        vec![0.0; n * L::IN],
    );
    let f = time(&mut || L::forward(black_box(&w), &b, black_box(&x), &mut y));
    let bw = time(&mut || {
        let dx = with_dx.then_some(&mut dx[..]);
        L::backward(black_box(&w), &x, &y, black_box(&dy), dx, &mut dw, &mut db)
    });
    let bw_params = if L::WEIGHTS > 0 && with_dx {
        time(&mut || {
            L::backward(
                black_box(&w),
                &x,
                &y,
                black_box(&dy),
                None,
                &mut dw,
                &mut db,
            )
        })
    } else {
        f64::NAN
    };
    let gf = |secs: f64, flop: f64| {
        if flop > 0.0 {
            format!("{:6.1}", flop * n as f64 / secs / 1e9)
        } else {
            "     -".into()
        }
    };
    let back_flop = if L::WEIGHTS > 0 {
        flop * if with_dx { 2.0 } else { 1.0 }
    } else {
        0.0
    };
    println!(
        "  {name:<6} n={n:<3} forward {:8.3} µs/img {} GFLOP/s   backward {:8.3} µs/img {} GFLOP/s{}",
        f * 1e6 / n as f64,
        gf(f, flop),
        bw * 1e6 / n as f64,
        gf(bw, back_flop),
        if bw_params.is_nan() { String::new() } else { format!("   (dw, db alone {:8.3} µs/img)", bw_params * 1e6 / n as f64) },
    );
}

fn per_layer(n: usize) {
    layer::<C1>("conv1", n, 2.0 * 6.0 * 784.0 * 25.0, false);
    layer::<R1>("relu1", n, 0.0, true);
    layer::<P1>("pool1", n, 0.0, true);
    layer::<C2>("conv2", n, 2.0 * 16.0 * 100.0 * 150.0, true);
    layer::<R2>("relu2", n, 0.0, true);
    layer::<P2>("pool2", n, 0.0, true);
    layer::<L1>("fc1", n, 2.0 * 400.0 * 120.0, true);
    layer::<R3>("relu3", n, 0.0, true);
    layer::<L2>("fc2", n, 2.0 * 120.0 * 84.0, true);
    layer::<R4>("relu4", n, 0.0, true);
    layer::<L3>("fc3", n, 2.0 * 84.0 * 10.0, true);
}

mod generated;

fn main() {
    let level = simd::level();
    println!(
        "lenet throughput, LeNet-5 32×32, kernels at {level:?} (supported: {:?})",
        simd::supported()
    );
    println!("per layer, 1 thread (GFLOP/s: forward; backward counts dw and dx)");
    for n in [1, 64] {
        per_layer(n);
    }
    generated::whole_network(time);
}
