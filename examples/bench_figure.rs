//! One speed figure of lenet's LeNet-5 (32×32, relu, `AvgPool2d`) per
//! process, measured as a user's program meets it: no warm-up, the first
//! call counts in the first window. `bench/peers.py` runs it beside PyTorch
//! and ONNX Runtime.
//!
//! ```text
//! cargo build --release --example bench_figure
//! target/release/examples/bench_figure latency1|infer256|train64 THREADS [WINDOWS]
//! target/release/examples/bench_figure fma-peak
//! ```
//!
//! Prints one line per window (`window <i> <figure>`): µs per image for
//! `latency1` (`forward`, one image), images/s for `infer256`
//! (`forward_batch`, 256 images) and `train64` (`loss_and_grad` and
//! `Sgd::step`, 64 images), then `median <figure>`. `THREADS` sizes rayon's
//! global pool. `fma-peak` prints the single-thread FMA peak in GFLOP/s.

// The FMA microbenchmark calls a `#[target_feature]` function, after
// detecting the feature at run time.
#![allow(unsafe_code)]

use std::hint::black_box;
use std::time::Instant;

use lenet::optim::Sgd;
use ndarray::Array4;

lenet::network! {
    /// LeNet-5 as in the SPEC.
    pub struct LeNet5 {
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

/// The shortest window, seconds.
const WINDOW: f64 = 0.2;

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

fn images(n: usize, seed: u64) -> Array4<f32> {
    Array4::from_shape_vec((n, 1, 32, 32), rng_vec(n * 1024, seed)).expect("n·1024 floats")
}

/// `windows` windows of at least `WINDOW` seconds each, calling `f` from
/// the very first call on; each window's seconds per call.
fn windows(windows: usize, f: &mut dyn FnMut()) -> Vec<f64> {
    (0..windows)
        .map(|_| {
            let start = Instant::now();
            let mut calls = 0u64;
            loop {
                f();
                calls += 1;
                let t = start.elapsed().as_secs_f64();
                if t >= WINDOW {
                    break t / calls as f64;
                }
            }
        })
        .collect()
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn figure(what: &str, n_windows: usize) -> Vec<f64> {
    let mut net = LeNet5::new(1);
    match what {
        "latency1" => {
            let x: [f32; 1024] = rng_vec(1024, 11).try_into().expect("1024 floats");
            windows(n_windows, &mut || {
                black_box(net.forward(black_box(&x)));
            })
            .into_iter()
            .map(|s| s * 1e6)
            .collect()
        }
        "infer256" => {
            let x = images(256, 12);
            windows(n_windows, &mut || {
                black_box(net.forward_batch(black_box(x.view())).expect("shape"));
            })
            .into_iter()
            .map(|s| 256.0 / s)
            .collect()
        }
        "train64" => {
            let x = images(64, 13);
            let labels: Vec<usize> = (0..64).map(|i| (i * 7) % 10).collect();
            let mut opt = Sgd::new(1e-4);
            windows(n_windows, &mut || {
                let (loss, grads) = net
                    .loss_and_grad(black_box(x.view()), &labels)
                    .expect("shape");
                opt.step(&mut net, &grads);
                black_box(loss);
            })
            .into_iter()
            .map(|s| 64.0 / s)
            .collect()
        }
        other => {
            eprintln!("unknown figure {other:?}: latency1, infer256, train64 or fma-peak");
            std::process::exit(2);
        }
    }
}

/// Independent accumulator chains: enough to cover the FMA latency (4
/// cycles) on two ports.
const CHAINS: usize = 16;
/// FMAs per chain per call.
const ROUNDS: usize = 1 << 16;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fma_avx512(a: f32, b: f32) -> f32 {
    use std::arch::x86_64::*;
    let (va, vb) = (_mm512_set1_ps(a), _mm512_set1_ps(b));
    let mut acc = [_mm512_set1_ps(1.0); CHAINS];
    for _ in 0..ROUNDS {
        for c in acc.iter_mut() {
            *c = _mm512_fmadd_ps(*c, va, vb);
        }
    }
    let mut s = _mm512_setzero_ps();
    for c in acc {
        s = _mm512_add_ps(s, c);
    }
    _mm512_reduce_add_ps(s)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma_avx2(a: f32, b: f32) -> f32 {
    use std::arch::x86_64::*;
    let (va, vb) = (_mm256_set1_ps(a), _mm256_set1_ps(b));
    let mut acc = [_mm256_set1_ps(1.0); CHAINS];
    for _ in 0..ROUNDS {
        for c in acc.iter_mut() {
            *c = _mm256_fmadd_ps(*c, va, vb);
        }
    }
    let mut s = _mm256_setzero_ps();
    for c in acc {
        s = _mm256_add_ps(s, c);
    }
    let s = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps::<1>(s));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
}

/// The single-thread FMA peak: (instruction set, GFLOP/s per window).
fn fma_peak(n_windows: usize) -> (&'static str, Vec<f64>) {
    #[cfg(target_arch = "x86_64")]
    {
        let (a, b) = (black_box(0.999_999_9f32), black_box(1e-7f32));
        let (name, lanes, f): (&str, f64, fn(f32, f32) -> f32) =
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: avx512f was detected at run time just above.
                ("AVX-512", 16.0, |a, b| unsafe { fma_avx512(a, b) })
            } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                // SAFETY: avx2 and fma were detected at run time just above.
                ("AVX2", 8.0, |a, b| unsafe { fma_avx2(a, b) })
            } else {
                return ("none", vec![f64::NAN]);
            };
        let flop = 2.0 * lanes * (CHAINS * ROUNDS) as f64;
        let per_call = windows(n_windows, &mut || {
            black_box(f(black_box(a), black_box(b)));
        });
        (name, per_call.into_iter().map(|s| flop / s / 1e9).collect())
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = n_windows;
        ("none", vec![f64::NAN])
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("");
    if what == "fma-peak" {
        let n_windows = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(7);
        let (isa, v) = fma_peak(n_windows);
        for (i, g) in v.iter().enumerate() {
            println!("window {i} {g:.3}");
        }
        println!("isa {isa}");
        println!("median {:.3}", median(&v));
        return;
    }
    let threads: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let n_windows: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(7);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .expect("rayon's global pool, built once");
    let v = figure(what, n_windows);
    for (i, x) in v.iter().enumerate() {
        println!("window {i} {x:.3}");
    }
    println!("median {:.3}", median(&v));
}
